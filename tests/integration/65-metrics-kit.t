#!/usr/bin/env bash
# The monitoring kit: the alert rules pass promtool's checks and their unit
# tests, the Grafana dashboard is valid JSON, and every metric name the rules
# and the dashboard use exists in a live scrape, which promtool accepts.
. "$(dirname "$0")/common.sh"

KIT=$SL_ROOT/docs
if ! command -v promtool >/dev/null; then
	echo "1..0 # SKIP promtool is not installed (Debian package prometheus)"
	exit 0
fi
out=$(promtool check rules "$KIT/prometheus/alerts.yml" 2>&1); rc=$?
is "$rc" 0 "promtool check rules alerts.yml"
like "$out" 'SUCCESS: 7 rules found' "the seven alerts"
out=$(cd "$KIT/prometheus" && promtool test rules alerts_test.yml 2>&1); rc=$?
is "$rc" 0 "promtool test rules: every alert fires and stays quiet as its tests say"
jq -e . "$KIT/grafana/streamlag.json" >/dev/null
ok $? "the Grafana dashboard is valid JSON"

# A live scrape with every family present: a trimmed-unread group, a stalled
# one, pending entries, timestamps.
PORT=$(sl_free_port)
sl_start_redis "$STATE" "$PORT" || exit 1
sl_seed_example "$PORT"
R() { redis-cli -p "$PORT" "$@"; }
for i in $(seq 30); do echo "XADD kit:trim * f $i"; done | R >/dev/null
R XGROUP CREATE kit:trim g 0 >/dev/null
R XREADGROUP GROUP g c1 COUNT 5 STREAMS kit:trim '>' >/dev/null
R XTRIM kit:trim MAXLEN 10 >/dev/null
# A hostile name: a quote, a backslash, a newline, UTF-8 and an invalid byte.
printf 'XADD "k\\"w\\\\e\\nird \xc3\xa9\xff" * f v\nXGROUP CREATE "k\\"w\\\\e\\nird \xc3\xa9\xff" g 0\n' | R >/dev/null
hostile=$'k"w\\e\nird \xc3\xa9\xff'
export REDIS_URL=$(sl_redis_url "$PORT") STREAMLAG_STALL_MS=1
export STREAMLAG_STREAMS="events:chat,events:ticket,events:remote,kit:trim,$hostile"
"$SL_BIN" get /metrics >"$STATE/scrape.txt"
is "$?" 0 "streamlag get /metrics"
out=$(promtool check metrics <"$STATE/scrape.txt" 2>&1); rc=$?
is "$rc:$out" "0:" "promtool check metrics on the live scrape: no problem"
rl=$(R XINFO GROUPS kit:trim | awk 'p == "lag" { print; exit } { p = $0 }')
left=$(R XLEN kit:trim)
grep -q "^streamlag_group_trimmed_unread{stream=\"kit:trim\",group=\"g\"} $((rl - left))\$" "$STATE/scrape.txt"
ok $? "trimmed_unread of the trimmed group: $((rl - left)) (Redis counts $rl, $left are left)"
grep -qF 'streamlag_group_lag{stream="k\"w\\e\nird é'$'\xef\xbf\xbd''",group="g"} 1' "$STATE/scrape.txt"
ok $? "a hostile stream name is escaped (\\ \" \\n) and its invalid byte is U+FFFD"
ok "$(LC_ALL=C grep -q $'\xff' "$STATE/scrape.txt"; [ $? -eq 1 ]; echo $?)" "no invalid UTF-8 in the exposition"

# Every name the kit uses, in the scrape.
names=$( { grep -o 'expr: .*' "$KIT/prometheus/alerts.yml"; sed -n '/expr: >/,/for:/p' "$KIT/prometheus/alerts.yml";
	jq -r '.. | .expr? // empty' "$KIT/grafana/streamlag.json"; } |
	grep -oE '\b(event|streamlag)_[a-z_]+' | sort -u)
missing=""
for n in $names; do
	# A sample, or the family's TYPE line (a counter with no request yet).
	grep -qE "^($n(\{| )|# TYPE $n )" "$STATE/scrape.txt" || missing="$missing $n"
done
is "${missing:-none}" "none" "every metric of the rules and the dashboard is in the scrape ($(wc -w <<<"$names") names)"

done_testing
