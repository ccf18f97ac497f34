#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The monitoring kit (docs/prometheus, docs/grafana): the alert rules pass
# promtool's checks and their unit tests, the scrape config is valid, the
# Grafana dashboard is valid JSON, every metric name the rules and the
# dashboard use has samples in a live scrape, which promtool accepts; then a
# real Prometheus, configured from scrape.yml, scrapes streamlag behind nginx
# (scrape-targets.yml, the multi-target form, passes promtool check config)
# with the token file, evaluates alerts.yml, and every alert goes off on data
# built here for it, and only there.
. "$(dirname "$0")/common.sh"

KIT=$SL_ROOT/docs
if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
	echo "1..0 # SKIP promtool/prometheus are not installed (Debian package prometheus)"
	exit 0
fi
out=$(promtool check rules "$KIT/prometheus/alerts.yml" 2>&1); rc=$?
is "$rc" 0 "promtool check rules alerts.yml"
like "$out" 'SUCCESS: 14 rules found' "the fourteen alerts"
out=$(cd "$KIT/prometheus" && promtool test rules alerts_test.yml 2>&1); rc=$?
is "$rc" 0 "promtool test rules: every alert fires and stays quiet as its tests say"
[ "$rc" -eq 0 ] || sed 's/^/#   /' <<<"$out"
# Every alert of the rules has its unit tests.
alerts=$(grep -oE '^ *- alert: [A-Za-z]+' "$KIT/prometheus/alerts.yml" | awk '{ print $3 }' | sort -u)
tested=$(grep -oE '^ *alertname: [A-Za-z]+' "$KIT/prometheus/alerts_test.yml" | awk '{ print $2 }' | sort -u)
is "$tested" "$alerts" "every alert has unit tests"
jq -e . "$KIT/grafana/streamlag.json" >/dev/null
ok $? "the Grafana dashboard is valid JSON"
is "$(jq -c '[.templating.list[].name]' "$KIT/grafana/streamlag.json")" '["datasource","stream","group"]' \
	"dashboard variables: data source, stream, group"

# Names used by the rules (expr blocks, folded ones included) and by the
# dashboard (panel targets and template variable queries).
names=$( {
	awk '/^ *expr:/ { ind = match($0, /[^ ]/); print; cont = 1; next }
		cont && match($0, /[^ ]/) > ind { print; next } { cont = 0 }' "$KIT/prometheus/alerts.yml"
	jq -r '.. | objects | (.expr?, .definition?, (.query? | objects | .query?)) | strings' "$KIT/grafana/streamlag.json"
	} | grep -oE '\b(event|streamlag)_[a-z_]+' | sort -u)
like "$names" 'streamlag_group_lag_exact' "the names of the kit found ($(wc -w <<<"$names"))"

# Data for every family and every alert:
#   kit:trim  15 entries trimmed before the group read them (trimmed_unread),
#             a consumer that goes quiet with 5 pending (stalled);
#   kit:high  1500 entries never delivered (lag > 1000, no consumer);
#   kit:far   a group created at the second entry (Redis has no lag), 1498
#             left, counted 5 per request (STREAMLAG_LAG_COUNT_CAP): its
#             lag stays a lower bound (lag_exact 0) for 300 requests;
#   kit:pend  550 delivered, not acknowledged (pending > 500);
#   kit:old   newest entry an hour old (stale);
#   kit:done  a group created at $, nobody reading: caught up, not stalled;
#   kit:missing  monitored, not there (stream_up 0);
#   a hostile name: a quote, a backslash, a newline, UTF-8, an invalid byte.
seeded_redis
xadd() { for ((i = 1; i <= $2; i++)); do echo "XADD $1 * f $i"; done | R >/dev/null; }
xadd kit:trim 30
R XGROUP CREATE kit:trim g 0 >/dev/null
R XREADGROUP GROUP g c1 COUNT 5 STREAMS kit:trim '>' >/dev/null
R XTRIM kit:trim MAXLEN 10 >/dev/null
xadd kit:high 1500
R XGROUP CREATE kit:high g 0 >/dev/null
xadd kit:far 1500
R XGROUP CREATE kit:far g "$(R XRANGE kit:far - + COUNT 2 | sed -n 4p)" >/dev/null
xadd kit:pend 600
R XGROUP CREATE kit:pend g 0 >/dev/null
R XREADGROUP GROUP g c1 COUNT 550 STREAMS kit:pend '>' >/dev/null
R XADD kit:old "$(( ($(date +%s) - 3600) * 1000 ))-0" f v >/dev/null
xadd kit:done 5
R XGROUP CREATE kit:done g '$' >/dev/null
printf 'XADD "k\\"w\\\\e\\nird \xc3\xa9\xff" * f v\nXGROUP CREATE "k\\"w\\\\e\\nird \xc3\xa9\xff" g 0\n' | R >/dev/null
hostile=$'k"w\\e\nird \xc3\xa9\xff'
export STREAMLAG_STALL_MS=300 STREAMLAG_LAG_COUNT_CAP=5
export STREAMLAG_STREAMS="events:chat,events:ticket,events:remote,kit:trim,kit:high,kit:far,kit:pend,kit:old,kit:done,kit:missing,$hostile"

# The in-process scrape, once kit:trim's consumer has been quiet for longer
# than STREAMLAG_STALL_MS.
scrape_get() { "$SL_BIN" get /metrics >"$STATE/scrape.txt"; }
stalled() { scrape_get && grep -q '^streamlag_group_status{stream="kit:trim",group="g",status="stalled"} 1$' "$STATE/scrape.txt"; }
sl_wait_for 10 "kit:trim's group to be stalled" stalled
ok $? "kit:trim's group is stalled once its consumer is quiet"
scrape_get
is "$?" 0 "streamlag get /metrics"
out=$(promtool check metrics <"$STATE/scrape.txt" 2>&1); rc=$?
is "$rc:$out" "0:" "promtool check metrics on the live scrape: no problem"
rl=$(R XINFO GROUPS kit:trim | awk 'p == "lag" { print; exit } { p = $0 }')
left=$(R XLEN kit:trim)
grep -q "^streamlag_group_trimmed_unread{stream=\"kit:trim\",group=\"g\"} $((rl - left))\$" "$STATE/scrape.txt"
ok $? "trimmed_unread of the trimmed group: $((rl - left)) (Redis counts $rl, $left are left)"
grep -q '^streamlag_group_lag_exact{stream="kit:far",group="g"} 0$' "$STATE/scrape.txt"
ok $? "kit:far: lag_exact 0 (more than STREAMLAG_LAG_COUNT_CAP left)"
grep -q '^streamlag_stream_up{stream="kit:missing"} 0$' "$STATE/scrape.txt"
ok $? "kit:missing: stream_up 0"
grep -qF 'streamlag_group_lag{stream="k\"w\\e\nird é'$'\xef\xbf\xbd''",group="g"} 1' "$STATE/scrape.txt"
ok $? "a hostile stream name is escaped (\\ \" \\n) and its invalid byte is U+FFFD"
ok "$(LC_ALL=C grep -q $'\xff' "$STATE/scrape.txt"; [ $? -eq 1 ]; echo $?)" "no invalid UTF-8 in the exposition"

# has_samples FILE: the names of the kit without a sample in FILE (histogram
# names carry their _bucket/_sum/_count suffix, as in the exposition).
has_samples() {
	local n missing=""
	for n in $names; do
		grep -qE "^$n(\{| )" "$1" || missing="$missing $n"
	done
	echo "${missing:-none}"
}
# `get` counts no request, not even its own: the request counter's family is
# there, without samples.  It has no history either: the families of the
# sampler's history (docs/history.md) are checked through nginx below.
history_name() {
	[[ $1 =~ ^streamlag_(group_(produce_rate|consume_rate|eta_seconds|poison_entries|claimable_entries|dangling_entries|dead_consumers|verdict)|history_untracked_groups)$ ]]
}
missing=""
for n in $names; do
	history_name "$n" && continue
	grep -qE "^($n(\{| )|# TYPE ${n%_bucket} )" "$STATE/scrape.txt" || missing="$missing $n"
done
is "${missing:-none}" "none" "every metric family of the rules and the dashboard is in the in-process scrape"

# Behind nginx, with the documented token, after some API traffic and with
# the sampler on: samples for every name, once the history holds a window.
STREAMLAG_SAMPLE_MS=250 serve_behind_nginx --workers 2
BASE="http://127.0.0.1:$HTTP"
"$SL_BIN" token --sub prometheus --ttl 600 >"$STATE/streamlag.token"
TOKEN=$(cat "$STATE/streamlag.token")
for path in api/v1/events/consumer-lag api/v1/events/health api/v1/events/streams metrics; do
	curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$BASE/$path"
done
rates_known() {
	curl -s -H "Authorization: Bearer $TOKEN" "$BASE/metrics" | grep -q '^streamlag_group_consume_rate{stream="kit:done"'
}
sl_wait_for 20 "the history's rates" rates_known
st=$(curl -s -o "$STATE/served.txt" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE/metrics")
is "$st" 200 "GET /metrics through nginx with the token"
out=$(promtool check metrics <"$STATE/served.txt" 2>&1); rc=$?
is "$rc:$out" "0:" "promtool check metrics on the scrape through nginx: no problem"
is "$(has_samples "$STATE/served.txt")" "none" \
	"every metric of the rules and the dashboard has samples in the scrape through nginx ($(wc -w <<<"$names") names)"

# A real Prometheus, with scrape.yml as documented but for the address (plain
# HTTP on loopback), the files' places and 1 s intervals.
PROM=$(sl_free_port)
sed -e "s/[[:space:]]*#.*//" -e "/^$/d" \
	-e "s#scheme: https#scheme: http#" \
	-e "s#streamlag.example.com:443#127.0.0.1:$HTTP#" \
	-e "s#/etc/prometheus/streamlag.token#$STATE/streamlag.token#" \
	-e "s#/usr/share/streamlag/prometheus/alerts.yml#$KIT/prometheus/alerts.yml#" \
	-e "s#scrape_interval: 15s#scrape_interval: 1s#" \
	-e "s#scrape_timeout: 10s#scrape_timeout: 1s#" \
	"$KIT/prometheus/scrape.yml" >"$STATE/scrape.yml"
{ printf 'global:\n  evaluation_interval: 1s\n'; cat "$STATE/scrape.yml"; } >"$STATE/prometheus.yml"
is "$(grep -cE "scheme: http$|127.0.0.1:$HTTP|$STATE/streamlag.token|$KIT/prometheus/alerts.yml|scrape_interval: 1s|scrape_timeout: 1s" "$STATE/prometheus.yml")" 6 \
	"scrape.yml adapted: address, token file, rules, intervals"
out=$(promtool check config "$STATE/prometheus.yml" 2>&1); rc=$?
is "$rc" 0 "promtool check config: scrape.yml with alerts.yml"
[ "$rc" -eq 0 ] || sed 's/^/#   /' <<<"$out"
# The multi-target form (STREAMLAG_TARGETS): the same adaptation; the
# scrapes it makes are those of 68-targets.t.
sed -e "s/[[:space:]]*#.*//" -e "/^$/d" \
	-e "s#/etc/prometheus/streamlag.token#$STATE/streamlag.token#" \
	-e "s#/usr/share/streamlag/prometheus/alerts.yml#$KIT/prometheus/alerts.yml#" \
	"$KIT/prometheus/scrape-targets.yml" >"$STATE/prometheus-targets.yml"
out=$(promtool check config "$STATE/prometheus-targets.yml" 2>&1); rc=$?
is "$rc" 0 "promtool check config: scrape-targets.yml (relabelled __param_target) with alerts.yml"
[ "$rc" -eq 0 ] || sed 's/^/#   /' <<<"$out"
is "$(grep -c '__param_target' "$KIT/prometheus/scrape-targets.yml")" 2 \
	"scrape-targets.yml: the target's name goes to ?target= and to instance"
prometheus --config.file="$STATE/prometheus.yml" --storage.tsdb.path="$STATE/prometheus" \
	--web.listen-address="127.0.0.1:$PROM" >"$STATE/prometheus.log" 2>&1 &
SL_PIDS+=("$!")
sl_wait_ready "$!" 20 "prometheus on port $PROM" curl -sf "http://127.0.0.1:$PROM/-/ready"
ok $? "Prometheus is ready"
PAPI="http://127.0.0.1:$PROM/api/v1"
query() { curl -s --data-urlencode "query=$1" "$PAPI/query" | jq -r '.data.result[].value[1]'; }
scraped() { [ "$(query "$1")" = "$2" ]; }
sl_wait_for 20 "a scrape of streamlag" scraped 'up{job="streamlag"}' 1
is "$(query 'up{job="streamlag"}')" 1 "Prometheus scrapes streamlag with the token from credentials_file"
# The name as a PromQL string (U+FFFD itself is refused there: escaped).
is "$(query 'streamlag_stream_up{stream="k\"w\\e\nird \u00e9\ufffd"}')" 1 \
	"Prometheus stored the hostile stream name's series"

# Growth between two scrapes: 20 more pending on kit:pend, 10 more entries of
# kit:trim trimmed unread.
sl_wait_for 20 "kit:trim in Prometheus" scraped 'streamlag_group_trimmed_unread{stream="kit:trim"}' $((rl - left))
R XREADGROUP GROUP g c2 COUNT 20 STREAMS kit:pend '>' >/dev/null
xadd kit:trim 10
R XTRIM kit:trim MAXLEN 10 >/dev/null

# active ALERTNAME: the alert's active instances (pending or firing), sorted,
# space-separated: stream/group, stream, or the instance for the others.
active() {
	curl -s "$PAPI/alerts" | jq -r --arg a "$1" \
		'[.data.alerts[] | select(.labels.alertname == $a) | .labels
		  | if .stream then .stream + (if .group then "/" + .group else "" end) else .instance end]
		 | sort | join(" ")'
}
want_active() { [ "$(active "$1")" = "$2" ]; }
expect() {
	local alert=$1 want=$2
	sl_wait_for 20 "$alert on $want" want_active "$alert" "$want"
	is "$(active "$alert")" "$want" "$alert active on exactly: ${want:-nothing}"
}
expect HighConsumerLag "kit:high/g"
expect PendingMessagesGrowing "kit:pend/g"
expect StreamStale "kit:old"
expect LagUnknown "kit:far/g"
expect EntriesTrimmedBeforeDelivery "kit:trim/g"
# Every group with entries waiting is stalled here (STREAMLAG_STALL_MS 300).
stalled_now=" $(active ConsumerGroupStalled) "
ok "$([[ $stalled_now == *" kit:high/g "* && $stalled_now == *" kit:trim/g "* ]]; echo $?)" \
	"ConsumerGroupStalled active on kit:trim/g (quiet consumer) and kit:high/g (no consumer)"
ok "$([[ $stalled_now != *" kit:done/g "* ]]; echo $?)" "ConsumerGroupStalled not active on a caught-up group"
expect StreamlagRedisDown ""
expect StreamlagScrapeFailing ""

# Redis down: streamlag still answers, with streamlag_redis_up 0.
sl_stop_redis "$PORT"
expect StreamlagRedisDown "127.0.0.1:$HTTP"
# A revoked token: 401, the scrape fails. The file is read at every scrape.
echo "revoked" >"$STATE/streamlag.token"
expect StreamlagScrapeFailing "127.0.0.1:$HTTP"

done_testing
