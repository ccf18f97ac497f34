#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# make soak: streamlag under full load for SOAK_S seconds (default 1800),
# with Redis restarted every SOAK_RESTART_S (300) and a SIGHUP every
# SOAK_HUP_S (60), while a checker writes to the streams and compares every
# consumer-lag answer with what it wrote.  Reports errors, p99 and RSS; exits
# 0 when every checked answer was right (or a 503 while Redis was down) and no
# process grew by more than SOAK_RSS_KB (1024) over its life.  Not a part of
# make test (docs/reliability.md).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

SOAK_S=${SOAK_S:-1800}
RESTART_S=${SOAK_RESTART_S:-300}
HUP_S=${SOAK_HUP_S:-60}
RSS_KB=${SOAK_RSS_KB:-1024}
WORKERS=${SOAK_WORKERS:-2}
WARM_S=10	# a worker's RSS is first taken once it has served this long
[[ $SOAK_S =~ ^[0-9]+$ ]] && (( SOAK_S >= 30 )) || sl_die "SOAK_S: seconds, at least 30"
[ -x "$SL_BIN" ] || sl_die "$SL_BIN is not built (run make)"

STATE=$(sl_state_dir)
trap 'sl_teardown; [ "${KEEP:-0}" = 1 ] || rm -rf "$STATE"' EXIT
trap 'exit 130' INT TERM
PORT=$(sl_free_port)
HTTP=$(sl_free_port)
SOCK="$STATE/streamlag.sock"
G=soak-consumers
STREAMS=(soak:0 soak:1 soak:2 soak:3)
export REDIS_URL STREAMLAG_JWT_SECRET=soak-secret-0123456789abcdef0123456789
export STREAMLAG_STREAMS
STREAMLAG_STREAMS=$(IFS=,; echo "${STREAMS[*]}")
export EVENT_TRANSPORT_CONSUMER_GROUP=$G STREAMLAG_REDIS_TIMEOUT_MS=1000
REDIS_URL=$(sl_redis_url "$PORT")
R() { redis-cli -p "$PORT" "$@"; }

sl_start_redis "$STATE" "$PORT" || exit 1
declare -A added delivered acked
for s in "${STREAMS[@]}"; do
	R XGROUP CREATE "$s" "$G" '$' MKSTREAM >/dev/null
	# Consumers from the start: a group with entries and none is stalled.
	R XGROUP CREATECONSUMER "$s" "$G" c0 >/dev/null
	R XGROUP CREATECONSUMER "$s" "$G" c1 >/dev/null
	added[$s]=0 delivered[$s]=0 acked[$s]=0
done
sl_start_serve "$SOCK" --workers "$WORKERS" || exit 1
MASTER=$SL_SERVE_PID
sl_start_nginx "$STATE" "$HTTP" "$SOCK" || exit 1
TOKEN=$("$SL_BIN" token --ttl $((SOAK_S + 3600)))
BASE="http://127.0.0.1:$HTTP"

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# Per process: the RSS once warm, and the last one seen.
declare -A first_rss last_rss born
sample_rss() {
	local p now kb
	now=$(date +%s)
	for p in "$MASTER" $(pgrep -P "$MASTER"); do
		kb=$(rss_kb "$p") || continue
		[ -n "$kb" ] || continue
		[ -n "${born[$p]:-}" ] || born[$p]=$now
		if [ -z "${first_rss[$p]:-}" ]; then
			if [ "$p" = "$MASTER" ] || (( now - born[$p] >= WARM_S )); then
				first_rss[$p]=$kb
			fi
		fi
		last_rss[$p]=$kb
	done
}

# wrk over consumer-lag, health and /metrics in turn.
cat >"$STATE/paths.lua" <<'EOF'
local paths = { "/api/v1/events/consumer-lag", "/api/v1/events/health", "/metrics" }
local n = 0
request = function()
	n = n + 1
	return wrk.format("GET", paths[(n % #paths) + 1])
end
-- Statuses counted per thread, summed at the end.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) codes = {} end
function response(status, headers, body)
	codes[status] = (codes[status] or 0) + 1
end
function done(summary, latency, requests)
	local total = {}
	for _, t in ipairs(threads) do
		for k, v in pairs(t:get("codes")) do total[k] = (total[k] or 0) + v end
	end
	for k, v in pairs(total) do io.write(string.format("status %d: %d\n", k, v)) end
end
EOF
wrk -t2 -c8 -d"${SOAK_S}s" --latency -s "$STATE/paths.lua" \
	-H "Authorization: Bearer $TOKEN" "$BASE" >"$STATE/wrk.out" 2>&1 &
WRK=$!

# The checker: writes, reads and acknowledges on the streams, keeping every
# lag under the degraded threshold so that health stays 200 unless Redis is
# down, then asks consumer-lag and compares.
checks=0 right=0 wrong=0 down503=0 other=0 restarts=0 hups=0
check() {
	local st want got s
	st=$(curl -s -o "$STATE/answer" -w '%{http_code}' --max-time 10 \
		-H "Authorization: Bearer $TOKEN" "$BASE/api/v1/events/consumer-lag")
	checks=$((checks + 1))
	if [ "$st" = 200 ]; then
		want=""
		for s in "${STREAMS[@]}"; do
			want+="$((added[$s] - delivered[$s])):$((delivered[$s] - acked[$s])) "
		done
		got=$(jq -r '[.streams[] | "\(.lag):\(.pending)"] | join(" ")' "$STATE/answer")
		if [ "$got " = "$want" ]; then right=$((right + 1)); else
			wrong=$((wrong + 1))
			echo "wrong answer: got '$got' want '$want'" >>"$STATE/wrong.log"
		fi
	elif [ "$st" = 503 ] && [ "$1" = down ]; then
		down503=$((down503 + 1))
	else
		other=$((other + 1))
		echo "status $st while Redis was $1" >>"$STATE/wrong.log"
	fi
}
step() {	# one random change, applied to the model only once Redis said OK
	local s=${STREAMS[RANDOM % ${#STREAMS[@]}]} n lag out
	lag=$((added[$s] - delivered[$s]))
	# Reads come often enough that no group looks stalled (every consumer
	# idle past STREAMLAG_STALL_MS), which would turn health to 503.
	if (( lag < 10 )); then
		n=$((RANDOM % 5 + 1))
		out=$(for ((i = 0; i < n; i++)); do echo "XADD $s * n $i"; done | R 2>&1)
		[ "$(grep -c -- '-' <<<"$out")" -eq "$n" ] && added[$s]=$((added[$s] + n))
	else
		n=$((RANDOM % lag + 1))
		out=$(R XREADGROUP GROUP "$G" "c$((RANDOM % 2))" COUNT "$n" STREAMS "$s" '>' 2>&1)
		[ "$(grep -c -- '^[0-9]*-[0-9]*$' <<<"$out")" -eq "$n" ] &&
			delivered[$s]=$((delivered[$s] + n))
	fi
	# Acknowledge everything delivered now and then: pending stays small.
	if (( RANDOM % 4 == 0 && delivered[$s] > acked[$s] )); then
		out=$(R XPENDING "$s" "$G" - + 1000000 2>&1 |
			grep -- '^[0-9]*-[0-9]*$' | paste -sd' ')
		# shellcheck disable=SC2086
		[ -n "$out" ] && [ "$(R XACK "$s" "$G" $out)" -eq "$((delivered[$s] - acked[$s]))" ] &&
			acked[$s]=${delivered[$s]}
	fi
}

echo "soak: ${SOAK_S}s, $WORKERS workers, Redis restarted every ${RESTART_S}s, SIGHUP every ${HUP_S}s"
t_start=$(date +%s)
next_restart=$((t_start + RESTART_S)) next_hup=$((t_start + HUP_S)) next_rss=0
sample_rss
master_rss0=$(rss_kb "$MASTER")
while (( $(date +%s) < t_start + SOAK_S - 2 )); do
	now=$(date +%s)
	if (( now >= next_rss )); then sample_rss; next_rss=$((now + 5)); fi
	if (( now >= next_hup )); then
		kill -HUP "$MASTER"; hups=$((hups + 1)); next_hup=$((now + HUP_S))
	fi
	if (( now >= next_restart )); then
		R SHUTDOWN SAVE >/dev/null 2>&1
		wait "$SL_REDIS_PID" 2>/dev/null
		sl_wait_for 10 "Redis to stop" sl_port_closed "$PORT"
		check down
		check down
		sl_start_redis "$STATE" "$PORT" || exit 1
		restarts=$((restarts + 1)); next_restart=$((now + RESTART_S))
		sl_wait_for 10 "Redis loaded" sh -c "redis-cli -p $PORT INFO persistence | grep -q '^loading:0'"
	fi
	step
	check up
done
wait "$WRK"
sample_rss
master_rss1=$(rss_kb "$MASTER")

read -r reqs non2xx errs p99 <<<"$(awk '/requests in/ { r = $1 } /Non-2xx/ { n = $NF }
	/Socket errors/ { gsub(/,/, ""); e = $4 + $6 + $8 + $10 }
	/^ +99%/ { p = $2 }
	END { printf "%d %d %d %s\n", r, n, e, p }' "$STATE/wrk.out")"
echo "wrk: $reqs requests, $non2xx non-2xx, $errs socket errors, p99 $p99; by status: $(awk '/^status/ { printf "%s %s ", $2, $3 }' "$STATE/wrk.out")"
echo "  (Redis restarted $restarts times: consumer-lag and health answer 503 while it is down)"
grep 'Socket errors' "$STATE/wrk.out"
echo "checker: $checks answers checked: $right right, $wrong wrong, $down503 503 while Redis was down, $other other"
echo "SIGHUP reloads: $hups"
grown=0
echo "RSS in KB (once warm -> last seen), per process:"
for p in "${!last_rss[@]}"; do
	[ -n "${first_rss[$p]:-}" ] || continue
	d=$((last_rss[$p] - first_rss[$p]))
	role=worker; [ "$p" = "$MASTER" ] && role=master
	printf '  %-6s %7d: %6d -> %6d (%+d)\n' "$role" "$p" "${first_rss[$p]}" "${last_rss[$p]}" "$d"
	(( d > RSS_KB )) && grown=$((grown + 1))
done | sort -k2 -n
for p in "${!last_rss[@]}"; do
	[ -n "${first_rss[$p]:-}" ] || continue
	(( last_rss[$p] - first_rss[$p] > RSS_KB )) && grown=$((grown + 1))
done
echo "master RSS: ${master_rss0:-?} KB at start, ${master_rss1:-?} KB at end"
[ -s "$STATE/wrong.log" ] && head -20 "$STATE/wrong.log"
if (( wrong == 0 && other == 0 && grown == 0 && right > 0 )); then
	echo "soak: holds (no wrong answer, no process grew more than $RSS_KB KB)"
else
	echo "soak: FAILED ($wrong wrong, $other unexpected statuses, $grown processes grew more than $RSS_KB KB)"
	KEEP=1
	echo "state kept in $STATE"
	exit 1
fi
