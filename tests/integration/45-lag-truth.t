#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Lag truth against a real redis-server: every state where Redis's `lag` is
# nil or wrong is built for real, and each expected value is computed from
# the data written here.
. "$(dirname "$0")/common.sh"

seeded_redis --empty
# What is proved here is the counting, not the timeout: a loaded machine
# must not turn the 1000-stream discovery below into a timed-out request.
export STREAMLAG_REDIS_TIMEOUT_MS=10000
G=signalr-consumers
lag_of() {	# lag_of STREAM FIELD...: fields of the stream's entry, as JSON
	local s=$1; shift
	STREAMLAG_STREAMS=$s "$SL_BIN" get /api/v1/events/consumer-lag |
		jq -c --arg s "$s" "[.streams[\$s] | $*]"
}
redis_lag() { R XINFO GROUPS "$1" | awk -v g="$2" 'p == "name" { n = $0 } p == "lag" && n == g { print; exit } { p = $0 }'; }
# The server asked for (SL_REDIS_SERVER) is the one running.
srv=$(R INFO server | tr -d '\r' | awk -F: '$1 == "valkey_version" { v = "valkey" } END { print v ? v : "redis" }')
is "$srv" "${SL_REDIS_SERVER:-redis}" "running on ${SL_REDIS_SERVER:-redis} ($(R INFO server | tr -d '\r' | grep -E '^(redis|valkey)_version:' | tr '\n' ' '))"
# mkstream NAME N: entries with explicit ids 1-0 .. N-0 (not timestamps).
mkstream() { for ((i = 1; i <= $2; i++)); do echo "XADD $1 $i-0 f $i"; done | R >/dev/null; }

# XDEL after the group's last-delivered-id: Redis says nil.
mkstream t:xdel 20
R XGROUP CREATE t:xdel $G 0 >/dev/null
R XREADGROUP GROUP $G c1 COUNT 5 STREAMS t:xdel '>' >/dev/null
R XDEL t:xdel 10-0 >/dev/null
is "$(redis_lag t:xdel $G)" "" "XDEL: Redis reports lag nil"
want=$(R XRANGE t:xdel '(5-0' + | awk 'NR % 3 == 1' | wc -l)
is "$(lag_of t:xdel .lag, .lag_exact, .time_lag_ms, .status)" "[$want,true,null,\"healthy\"]" \
	"XDEL: lag counted ($want), exact; ids are not timestamps: time_lag_ms null"

# XGROUP SETID: nil.
mkstream t:setid 20
R XGROUP CREATE t:setid $G 0 >/dev/null
R XGROUP SETID t:setid $G 12-0 >/dev/null
is "$(redis_lag t:setid $G)" "" "SETID: Redis reports lag nil"
is "$(lag_of t:setid .lag, .lag_exact)" "[8,true]" "SETID to 12-0 of 20: lag 8"

# A group created at an arbitrary id: nil.
mkstream t:mid 20
R XGROUP CREATE t:mid $G 7-0 >/dev/null
is "$(redis_lag t:mid $G)" "" "group created mid-stream: Redis reports lag nil"
is "$(lag_of t:mid .lag, .consumers)" "[13,[]]" "created at 7-0 of 20: lag 13"

# A count beyond STREAMLAG_LAG_COUNT_CAP: a lower bound, lag_exact false.
is "$(STREAMLAG_LAG_COUNT_CAP=5 lag_of t:mid .lag, .lag_exact)" "[5,false]" \
	"count cap 5 hit: lag 5 as a lower bound, lag_exact false"
is "$(STREAMLAG_LAG_COUNT_CAP=13 lag_of t:mid .lag, .lag_exact)" "[13,true]" \
	"count cap equal to the lag: exact"

# Behind the first entry after a trim, with nothing deleted inside: the
# stream's length, with no count (Redis's own rule).
mkstream t:behind 30
R XGROUP CREATE t:behind $G 0 >/dev/null
R XGROUP SETID t:behind $G 3-0 >/dev/null
R XTRIM t:behind MAXLEN 20 >/dev/null
is "$(STREAMLAG_LAG_COUNT_CAP=5 lag_of t:behind .lag, .lag_exact)" "[20,true]" \
	"behind the first entry: lag is XLEN (20) even past the count cap"

# Trimmed before delivery: 100 added, 10 read, trimmed to 50.
mkstream t:trim 100
R XGROUP CREATE t:trim $G 0 >/dev/null
R XREADGROUP GROUP $G c1 COUNT 10 STREAMS t:trim '>' >/dev/null
R XTRIM t:trim MAXLEN 50 >/dev/null
rl=$(redis_lag t:trim $G); len=$(R XLEN t:trim)
is "$rl/$len" "90/50" "trimmed: Redis reports 90 with 50 entries left"
is "$(lag_of t:trim .lag, .lag_exact, .trimmed_unread)" "[$len,true,$((rl - len))]" \
	"trimmed: lag $len, trimmed_unread $((rl - len))"
is "$(EVENT_TRANSPORT_STREAM_MAX_LEN=60 lag_of t:trim .trim_risk)" "[true]" \
	"lag 50 > 80% of EVENT_TRANSPORT_STREAM_MAX_LEN=60: at risk"
is "$(EVENT_TRANSPORT_STREAM_MAX_LEN=100 lag_of t:trim .trim_risk)" "[false]" \
	"lag 50 <= 80% of 100: not at risk"
R XREADGROUP GROUP $G c1 COUNT 1000 STREAMS t:trim '>' >/dev/null
is "$(redis_lag t:trim $G)" 40 "caught up: Redis still reports 40"
is "$(lag_of t:trim .lag, .trimmed_unread, .time_lag_ms)" "[0,40,0]" \
	"caught up: lag 0, trimmed_unread 40"

# Timestamp ids of a known age: time_lag_ms by Redis's clock.  The ages
# are bounded by Redis's clock read before the entries were written and
# after streamlag answered, however long the machine took in between.
redis_ms() { R TIME | { read -r s; read -r us; echo $((s * 1000 + us / 1000)); }; }
now_ms=$(redis_ms)
R XADD t:aged "$((now_ms - 60000))-0" f old >/dev/null
R XADD t:aged "$((now_ms - 30000))-0" f newer >/dev/null
R XGROUP CREATE t:aged $G 0 >/dev/null
R XREADGROUP GROUP $G c1 COUNT 1 STREAMS t:aged '>' >/dev/null
read -r tl op < <(lag_of t:aged .time_lag_ms, .oldest_pending_ms | jq -r '@tsv')
spent=$(( $(redis_ms) - now_ms + 1 ))
ok "$( (( tl >= 30000 && tl <= 30000 + spent )); echo $?)" "time_lag_ms of an entry written 30 s ago: $tl (30000 to $((30000 + spent)))"
ok "$( (( op >= 60000 && op <= 60000 + spent )); echo $?)" "oldest_pending_ms of an entry written 60 s ago: $op (60000 to $((60000 + spent)))"

# No consumers and entries waiting: stalled.
mkstream t:nocons 5
R XGROUP CREATE t:nocons $G 0 >/dev/null
is "$(lag_of t:nocons .lag, .consumers, .status)" '[5,[],"stalled"]' "a group without consumers and lag: stalled"

# Idle consumers with work waiting: stalled; a caught-up idle one: not.
mkstream t:idle 10
R XGROUP CREATE t:idle $G 0 >/dev/null
R XREADGROUP GROUP $G c1 COUNT 4 STREAMS t:idle '>' >/dev/null
mkstream t:done 3
R XGROUP CREATE t:done $G 0 >/dev/null
R XREADGROUP GROUP $G c1 COUNT 3 STREAMS t:done '>' >/dev/null
R XACK t:done $G 1-0 2-0 3-0 >/dev/null
idle_enough() { [ "$(R XINFO CONSUMERS t:idle $G | awk 'p == "idle" { print; exit } { p = $0 }')" -gt 300 ]; }
sl_wait_for 10 "the consumer to idle" idle_enough
is "$(STREAMLAG_STALL_MS=300 lag_of t:idle .lag, .pending, .status)" '[6,4,"stalled"]' \
	"idle consumers longer than STREAMLAG_STALL_MS with lag: stalled"
is "$(STREAMLAG_STALL_MS=300 lag_of t:done .lag, .pending, .status)" '[0,0,"healthy"]' \
	"an idle consumer that caught up: not stalled"
is "$(STREAMLAG_STALL_MS=300 STREAMLAG_STREAMS=t:idle,t:done "$SL_BIN" get /api/v1/events/health | jq -c .streams)" \
	'{"healthy":1,"degraded":0,"unhealthy":0,"stalled":1,"no_group":0}' "health counts the stalled group"

# All groups of a stream with three groups.
mkstream t:three 30
for g in a:10 b:20 c:30; do
	R XGROUP CREATE t:three "${g%:*}" 0 >/dev/null
	R XREADGROUP GROUP "${g%:*}" "w-${g%:*}" COUNT "${g#*:}" STREAMS t:three '>' >/dev/null
done
body=$(STREAMLAG_STREAMS=t:three,t:nocons "$SL_BIN" get '/api/v1/events/consumer-lag?group=*')
is "$(jq -c '.streams["t:three"] | [.lag, .status, (.groups | map_values(.lag)), .consumers]' <<<"$body")" \
	'[20,"healthy",{"a":20,"b":10,"c":0},["w-a","w-b","w-c"]]' "?group=*: every group, the stream's lag is the largest"
is "$(jq -c '[.total_lag, .stream_count, .consumer_group]' <<<"$body")" '[35,2,"*"]' \
	"?group=*: total_lag sums every group (20+10+0+5)"
is "$(STREAMLAG_GROUPS='*' STREAMLAG_STREAMS=t:three "$SL_BIN" get /api/v1/events/health | jq -c '[.streams.healthy, .total_lag, .consumer_group]')" \
	'[3,30,"*"]' "STREAMLAG_GROUPS=*: health counts every group"
out=$(STREAMLAG_GROUPS=some "$SL_BIN" get /healthz 2>&1); rc=$?
like "$rc:$out" '^2:streamlag: STREAMLAG_GROUPS: expected "\*"' "STREAMLAG_GROUPS accepts only *"

# Discovery: 1000 streams among other keys; and the bound.
{
	for ((i = 0; i < 1000; i++)); do echo "XADD disc:s$i 1-0 f v"; done
	for ((i = 0; i < 200; i++)); do echo "SET disc:k$i v"; echo "HSET disc:h$i f v"; done
} | R >/dev/null
R XGROUP CREATE disc:s7 $G 0 >/dev/null
body=$(STREAMLAG_STREAM_PATTERN='disc:*' "$SL_BIN" get /api/v1/events/consumer-lag)
is "$(jq -c '[(.streams | length), .stream_count, .total_lag, .truncated, .streams["disc:s7"].lag]' <<<"$body")" \
	'[1000,1000,1,null,1]' "discovery: the 1000 streams, no other key"
body=$(STREAMLAG_STREAM_PATTERN='disc:*' STREAMLAG_DISCOVERY_MAX=100 "$SL_BIN" get /api/v1/events/consumer-lag)
is "$(jq -c '[(.streams | length), .truncated]' <<<"$body")" '[100,true]' "discovery bound: 100 streams, truncated"
out=$(STREAMLAG_STREAM_PATTERN='disc:*' "$SL_BIN" get '/api/v1/events/consumer-lag?stream=disc:s7,disc:s9')
is "$(jq -c '[(.streams | keys_unsorted), .total_lag]' <<<"$out")" '[["disc:s7","disc:s9"],1]' "?stream= among discovered streams"
out=$(STREAMLAG_STREAM_PATTERN='disc:*' "$SL_BIN" get '/api/v1/events/consumer-lag?stream=disc:k1'); rc=$?
is "$rc:$(jq -r .code <<<"$out")" "1:bad_query" "?stream= of a key that is not a discovered stream: 400"
is "$(STREAMLAG_STREAM_PATTERN='disc:s1*' "$SL_BIN" get /api/v1/events/streams | jq '.streams | length')" 111 \
	"streams follows discovery too (disc:s1*: 111 streams)"

done_testing
