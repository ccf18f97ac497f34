#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The history kept on the server and what it says, from real traffic of a
# known shape: a producer at about 20 entries/s and a consumer at about
# 40/s on a backlog.  The rates are held to the truth the test measures
# itself from XINFO (entries-added and entries-read deltas, Redis's clock),
# the catch-up time to lag / (C - P); then the consumer stops (stopped),
# then XGROUP SETID goes back (rewound).  The pending list: a poison entry
# made with repeated XCLAIM, claimable entries, dead consumers and dangling
# entries built for real.  The history survives a worker's restart, keeps
# at most STREAMLAG_HISTORY_GROUPS groups (the others counted and named),
# and GET /history costs no Redis command (INFO commandstats).
. "$(dirname "$0")/common.sh"

seeded_redis --empty
export STREAMLAG_STREAMS=ins:a,ins:p,ins:b1,ins:b2,ins:b3 STREAMLAG_GROUPS='*'
export STREAMLAG_SAMPLE_MS=250 STREAMLAG_RATE_WINDOW_S=4 STREAMLAG_HISTORY_S=60
export STREAMLAG_HISTORY_GROUPS=4 STREAMLAG_CLAIM_IDLE_MS=1000
export STREAMLAG_DEAD_CONSUMER_MS=1500 STREAMLAG_POISON_DELIVERIES=10

# The backlog: 400 entries the group has not read.
{
	echo "XGROUP CREATE ins:a g 0 MKSTREAM"
	for i in $(seq 400); do echo "XADD ins:a * k $i"; done
	for s in b1 b2 b3; do echo "XGROUP CREATE ins:$s x 0 MKSTREAM"; done
	# The pending list: 1-1 delivered 12 times (poison), 1-2 and 1-3
	# held by c1, 1-1 by c2; nobody reads again.
	echo "XGROUP CREATE ins:p gp 0 MKSTREAM"
	for i in 1 2 3 4; do echo "XADD ins:p 1-$i k $i"; done
	echo "XREADGROUP GROUP gp c1 COUNT 3 STREAMS ins:p >"
	for i in $(seq 11); do echo "XCLAIM ins:p gp c2 0 1-1"; done
} | R >/dev/null

serve_behind_nginx --workers 2
BASE="http://127.0.0.1:$HTTP"
TOKEN=$("$SL_BIN" token --sub insight --ttl 600)
get() { curl -s -H "Authorization: Bearer $TOKEN" "$BASE$1"; }
hist() { get "/api/v1/events/history?stream=$1&group=$2${3:-}"; }

# The traffic (lib/traffic.pl): every 100 ms on a fixed schedule, 2 entries
# added and, while $STATE/consume holds a count, that many read: about
# 20/s and 40/s.  Its shape is measured below, not assumed.
echo 4 >"$STATE/consume"
perl "$SL_ROOT/tests/integration/lib/traffic.pl" "$PORT" ins:a g "$STATE/consume" &
TRAFFIC=$!
SL_PIDS+=("$TRAFFIC")

# (time ms, entries-added, entries-read, lag) from Redis itself.
truth() {
	local t added read lag
	t=$(R TIME | awk 'NR == 1 { s = $1 } NR == 2 { printf "%.0f", s * 1000 + int($1 / 1000) }')
	added=$(R XINFO STREAM ins:a | awk 'p { print; exit } /^entries-added$/ { p = 1 }')
	read -r read lag < <(R XINFO GROUPS ins:a | awk '/^entries-read$/ { getline r } /^lag$/ { getline l } END { print r, l }')
	echo "$t $added $read $lag"
}
window_full() { [ "$(hist ins:a g | jq '.window_samples')" -ge 12 ]; }
sl_wait_for 15 "a full window of samples" window_full
read -r t1 a1 r1 _ < <(truth)
past() { (( $(sl_now_ms) - $1 >= $2 )); }
sl_wait_for 10 "4 s of traffic" past "$(sl_now_ms)" 4000
read -r t2 a2 r2 lag2 < <(truth)
H=$(hist ins:a g)
P=$(echo "($a2 - $a1) * 1000 / ($t2 - $t1)" | bc -l)
C=$(echo "($r2 - $r1) * 1000 / ($t2 - $t1)" | bc -l)
echo "# truth: P=$P/s C=$C/s lag=$lag2; streamlag: $(echo "$H" | jq -c '{produce_rate, consume_rate, eta_s, trend, verdict}')"
within() { echo "d = $1 - $2; if (d < 0) d = -d; d <= $3 * $2" | bc -l; }
is "$(within "$(echo "$H" | jq .produce_rate)" "$P" 0.15)" 1 "produce_rate within 15 % of the entries-added delta"
is "$(within "$(echo "$H" | jq .consume_rate)" "$C" 0.15)" 1 "consume_rate within 15 % of the entries-read delta"
is "$(within "$(echo "$H" | jq .eta_s)" "$(echo "$lag2 / ($C - $P)" | bc -l)" 0.25)" 1 "eta_s within 25 % of lag / (C - P)"
is "$(echo "$H" | jq -c '[.catching_up, .trend, .verdict]')" '[true,"shrinking","ok"]' "catching up: shrinking, ok"
is "$(echo "$H" | jq '[.samples[] | .t] | (. == sort) and length > 12')" true "samples oldest first"

# The same figures under the group in consumer-lag, seed fields kept.
L=$(get "/api/v1/events/consumer-lag?group=*")
is "$(echo "$L" | jq -c '.streams["ins:a"].groups.g | [has("lag"), has("pending"), .trend, .verdict, (.produce_rate > 0)]')" \
	'[true,true,"shrinking","ok",true]' "consumer-lag: the group's trend, verdict and rates"
L1=$(get "/api/v1/events/consumer-lag?stream=ins:a&group=g")
is "$(echo "$L1" | jq -c '.streams["ins:a"] | [.lag > 0, .trend, .verdict, .catching_up]')" \
	'[true,"shrinking","ok",true]' "consumer-lag for one group by name: the same fields"

# The pending list, read by the sampler.
pel() { hist ins:p gp | jq -c "$1"; }
claimable3() { [ "$(pel '.pel.claimable_entries')" = 3 ]; }
dead2() { [ "$(pel '.pel.dead_consumers')" = 2 ]; }
sl_wait_for 10 "1-1..1-3 idle past STREAMLAG_CLAIM_IDLE_MS" claimable3
sl_wait_for 10 "c1 and c2 quiet past STREAMLAG_DEAD_CONSUMER_MS" dead2
is "$(pel '.pel | [.max_deliveries, .poison_entries, .poison_ids, .claimable_entries, .dead_consumers, .dangling_entries, .truncated]')" \
	'[12,1,["1-1"],3,2,0,false]' "poison (XCLAIM x11), claimable, dead consumers; nothing dangling"
# consumer-lag gives the same pending-list answers with ?detail=pel only.
D=$(get "/api/v1/events/consumer-lag?stream=ins:p&group=gp&detail=pel")
is "$(echo "$D" | jq -c '.streams["ins:p"].pel | [.max_deliveries, .poison_entries, .poison_ids, .claimable_entries, .dead_consumers]')" \
	'[12,1,["1-1"],3,2]' "consumer-lag?detail=pel: the pending list's answers under the group"
N=$(get "/api/v1/events/consumer-lag?stream=ins:p&group=gp")
is "$(echo "$N" | jq -c '.streams["ins:p"] | [has("pel"), has("verdict")]')" \
	'[false,true]' "consumer-lag without ?detail=pel: no pel, the other insight fields kept"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	"$BASE/api/v1/events/consumer-lag?detail=all")" 400 "?detail= other than pel: 400"
# The dashboard: charts filled from the server's history on first load, and
# the pending-list panel with the poison entry (when node and playwright are
# there: tests/integration/70-dashboard.t installs them).
if command -v node >/dev/null && [ -d "$SL_ROOT/node_modules/playwright-core" ]; then
	(cd "$SL_ROOT" && HIST_URL=$BASE HIST_TOKEN=$TOKEN node tests/e2e/history.test.mjs) >"$STATE/e2e.out" 2>&1
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok 0 "${line#ok - }" ;;
		"not ok - "*) ok 1 "${line#not ok - }" ;;
		*) echo "# ${line#\# }" ;;
		esac
	done <"$STATE/e2e.out"
	is "$rc" 0 "the browser test exits 0"
fi

# Trimmed before they were acknowledged: 1-1 and 1-2 are older than the
# stream's first entry now.
R XTRIM ins:p MAXLEN 2 >/dev/null
dangling2() { [ "$(pel '.pel.dangling_entries')" = 2 ]; }
sl_wait_for 5 "the trimmed pending entries" dangling2
ok $? "XTRIM MAXLEN 2: 2 dangling entries"

# The consumer stops: stopped, the lag growing.
echo 0 >"$STATE/consume"
stopped() { [ "$(hist ins:a g | jq -r .verdict)" = stopped ]; }
sl_wait_for 10 "the stopped verdict" stopped
ok $? "consumer stopped: verdict stopped"
is "$(hist ins:a g | jq -c '[.consume_rate, .trend, .catching_up, .eta_s]')" '[0,"growing",false,null]' \
	"stopped: consume_rate 0, growing, not catching up, no ETA"

# /metrics: the families, promtool-clean.
M=$(get /metrics)
metric() { echo "$M" | awk -v m="$1" 'index($0, m " ") == 1 { print $NF }'; }
is "$(metric 'streamlag_group_verdict{stream="ins:a",group="g",verdict="stopped"}')" 1 "streamlag_group_verdict stopped 1"
is "$(metric 'streamlag_group_poison_entries{stream="ins:p",group="gp"}')" 1 "streamlag_group_poison_entries 1"
is "$(metric 'streamlag_group_dangling_entries{stream="ins:p",group="gp"}')" 2 "streamlag_group_dangling_entries 2"
is "$(metric 'streamlag_group_dead_consumers{stream="ins:p",group="gp"}')" 2 "streamlag_group_dead_consumers 2"
is "$(metric 'streamlag_group_consume_rate{stream="ins:a",group="g"}')" 0.000 "streamlag_group_consume_rate 0"
is "$(echo "$M" | grep -c '^streamlag_group_eta_seconds{stream="ins:a"')" 0 "no ETA series while not catching up"
if command -v promtool >/dev/null; then
	echo "$M" | promtool check metrics >"$STATE/promtool.out" 2>&1
	ok $? "promtool check metrics"
fi

# The history is bounded: 5 groups, 4 kept; the fifth counted and named.
is "$(metric streamlag_history_untracked_groups)" 1 "streamlag_history_untracked_groups 1"
like "$(grep 'event=history_untracked' "$STATE/streamlag.log" | head -1)" 'count=1 .*groups="ins:b3/x"' \
	"the untracked group named in the log"
is "$(hist ins:b3 x | jq -c '[.tracked, (.samples | length)]')" '[false,0]' "the fifth group is not tracked"

# XGROUP SETID back: rewound.
R XGROUP SETID ins:a g 0 >/dev/null
rewound() { [ "$(hist ins:a g | jq -r .verdict)" = rewound ]; }
sl_wait_for 5 "the rewound verdict" rewound
ok $? "XGROUP SETID 0: verdict rewound"
rm -f "$STATE/consume"
wait "$TRAFFIC" 2>/dev/null

# A worker's restart keeps the history: it lives in the master's memory.
first=$(hist ins:a g | jq '.samples[0].t')
worker=$(grep -o 'event=worker_start pid=[0-9]*' "$STATE/streamlag.log" | head -1 | cut -d= -f3)
kill -KILL "$worker"
restarted() { [ "$(grep -c 'event=worker_start' "$STATE/streamlag.log")" -ge 3 ]; }
sl_wait_for 10 "the replacement worker" restarted
is "$(hist ins:a g | jq '.samples[0].t')" "$first" "the history survives a worker's restart"

# The sampler is supervised like a worker: killed, it is started again, and
# the history goes on growing.
sampler=$(grep -o 'event=sampler_start pid=[0-9]*' "$STATE/streamlag.log" | tail -1 | cut -d= -f3)
t0=$(hist ins:a g | jq '.samples[-1].t')
kill -KILL "$sampler"
respawned() { [ "$(grep -c 'event=sampler_start' "$STATE/streamlag.log")" -ge 2 ]; }
sl_wait_for 10 "the sampler started again" respawned
ok $? "a killed sampler is started again"
grows() { [ "$(hist ins:a g | jq '.samples[-1].t')" -gt "$t0" ]; }
sl_wait_for 10 "new samples" grows
ok $? "the new sampler adds to the same history"
like "$(grep 'event=sampler_exit' "$STATE/streamlag.log" | head -1)" 'reason=crashed .*signal=9' "the sampler's death is logged"

# GET /history costs no Redis command: a sampler that sleeps for an hour
# after its first round, and INFO commandstats around 10 requests.
sl_stop_pid "$MASTER" 10
STREAMLAG_SAMPLE_MS=3600000 serve_on_socket --workers 1
tracked() { [ "$(hist ins:a g | jq .tracked)" = true ]; }
sl_wait_for 10 "the first round" tracked
stats() { R INFO commandstats | grep -v '^cmdstat_info:' | tr -d '\r' | sed 's/,usec=.*//'; }
before=$(stats)
for i in $(seq 10); do hist ins:a g >/dev/null; done
is "$(stats)" "$before" "10 /history requests: no Redis command"
is "$(hist ins:a g '&limit=1' | jq '.samples | length')" 1 "?limit= bounds the answer"
is "$(get '/api/v1/events/history?group=g' | jq -r .code)" bad_query "?stream= is required"

# Every target has its history.  A second Redis whose ins:a/g (the same
# names as the first target's) is 7 behind, sampled next to the first:
# its samples, insight and /metrics under ?target=second, its groups apart
# from the first target's in the ring (STREAMLAG_HISTORY_GROUPS counts over
# both).
sl_stop_pid "$MASTER" 10
mkdir -p "$STATE/second"
P2=$(sl_free_port)
sl_start_redis "$STATE/second" "$P2" || exit 1
{
	echo "XGROUP CREATE ins:a g 0 MKSTREAM"
	for i in $(seq 10); do echo "XADD ins:a * k $i"; done
	echo "XREADGROUP GROUP g w COUNT 3 STREAMS ins:a >"
} | redis-cli -p "$P2" >/dev/null
export STREAMLAG_TARGETS=main,second STREAMLAG_TARGET_MAIN_REDIS_URL=$REDIS_URL
export STREAMLAG_TARGET_SECOND_REDIS_URL STREAMLAG_TARGET_SECOND_STREAMS=ins:a
STREAMLAG_TARGET_SECOND_REDIS_URL=$(sl_redis_url "$P2")
STREAMLAG_SAMPLE_MS=250 STREAMLAG_HISTORY_GROUPS=16 serve_on_socket --workers 1
rated() { [ "$(hist ins:a g '&target=second' | jq '.produce_rate != null')" = true ]; }
sl_wait_for 15 "a window of the second target's samples" rated
ok $? "the sampler samples the second target"
H2=$(hist ins:a g '&target=second')
is "$(echo "$H2" | jq -c '[.tracked, (.samples | map(.lag) | unique), (.samples | map(.entries_added) | unique), .produce_rate, .consume_rate]')" \
	'[true,[7],[10],0,0]' "?target=second: its own ins:a/g, 7 behind, 10 added, no traffic"
is "$(hist ins:a g '&target=main' | jq -c '[.tracked, ((.samples | map(.entries_added) | unique) != [10])]')" \
	'[true,true]' "?target=main: the first target's ins:a/g, apart"
is "$(hist ins:p gp '&target=second' | jq -c .tracked)" false "a group only the first target has: not tracked for the second"
is "$(get '/api/v1/events/history?stream=ins:a&target=third' | jq -r .code)" bad_query "?target= names a configured target"
L2=$(get "/api/v1/events/consumer-lag?target=second")
is "$(echo "$L2" | jq -c '.streams["ins:a"].groups.g | [.lag, has("trend"), has("verdict"), .produce_rate, .consume_rate]')" \
	'[7,true,true,0,0]' "consumer-lag?target=second: the insight fields from the second target's history"
M2=$(get "/metrics?target=second")
is "$(echo "$M2" | awk 'index($0, "streamlag_group_consume_rate{stream=\"ins:a\",group=\"g\"} ") == 1 { print $NF }')" 0.000 \
	"/metrics?target=second: the history families for its group"
is "$(echo "$M2" | grep '^streamlag_group_verdict{stream="ins:a",group="g"' | awk '$NF == 1' | wc -l)" 1 \
	"/metrics?target=second: one verdict for its ins:a/g"

tap_before_plan
done_testing
