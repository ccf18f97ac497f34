#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# A Redis Cluster of 3 masters with 1 replica each, behind one streamlag
# serve that is never restarted: after CLUSTER FAILOVER on a replica, and
# after a master is killed and its replica promoted (the harness's
# cluster-node-timeout is 2 s), every answer is right again within 5 s.
# During each failover no request outlives the request deadline: it ends
# fast with a 503 or with per-stream errors naming the node.
. "$(dirname "$0")/common.sh"

start_cluster 3 1 || exit 1
m0=${CLUSTER_MASTERS[0]}
DEADLINE_MS=3000
export EVENT_TRANSPORT_CONSUMER_GROUP=g STREAMLAG_STALL_MS=86400000 \
	STREAMLAG_REDIS_TIMEOUT_MS=2000 STREAMLAG_REQUEST_TIMEOUT_MS=$DEADLINE_MS

names=()
for i in $(seq 1 18); do names+=("events:$i"); done
owner() {
	local slot
	slot=$("$CLUSTER_CLI" -p "$m0" CLUSTER KEYSLOT "$1")
	"$CLUSTER_CLI" -2 --json -p "$m0" CLUSTER SLOTS |
		jq -r --argjson s "$slot" '.[] | select(.[0] <= $s and $s <= .[1]) | .[2][1]'
}
# Stream i holds 2i + 1 entries, of which the group g read i: lag i + 1,
# known before any failover and kept by the replicas (WAIT).
i=0
for s in "${names[@]}"; do
	i=$((i + 1))
	p=$(owner "$s")
	{
		for _ in $(seq 1 $((2 * i + 1))); do echo "XADD $s * f v"; done
		echo "XGROUP CREATE $s g 0"
		echo "XREADGROUP GROUP g c1 COUNT $i STREAMS $s >"
		echo "WAIT 1 5000"
	} | "$CLUSTER_CLI" -p "$p" >/dev/null
done
export STREAMLAG_STREAMS
STREAMLAG_STREAMS=$(IFS=,; echo "${names[*]}")
want=$(i=0; for s in "${names[@]}"; do i=$((i + 1)); echo "$s=$((i + 1))"; done | sort | paste -sd, -)
is "$(for s in "${names[@]}"; do owner "$s"; done | sort -u | wc -l)" 3 \
	"the ${#names[@]} streams are spread over the 3 masters"

check=$(STREAMLAG_LISTEN="unix:$STATE/check.sock" "$SL_BIN" check 2>&1)
is "$(grep -F '✔ mode' <<<"$check")" "✔ mode: cluster of 3 masters and 3 replicas, every slot served" \
	"check: 3 masters and 3 replicas"
is "$(grep -Ec '^✔ node 127.0.0.1:[0-9]+: replica of 127.0.0.1:[0-9]+; answered in' <<<"$check")" 3 \
	"check: each replica named with its master, answered"

serve_behind_nginx --workers 1
BASE="http://127.0.0.1:$HTTP"
TOKEN=$("$SL_BIN" token --sub failover --ttl 600)
api() { curl -s -H "Authorization: Bearer $TOKEN" "$BASE$1"; }
lags_of() { jq -r '[.streams | to_entries[] | select(.value.error == null) | "\(.key)=\(.value.lag)"] | sort | join(",")'; }
is "$(api /api/v1/events/consumer-lag | lags_of)" "$want" "every stream right before any failover"

# One request: "status ms errors" into $STATE/polls, 0 when it was right.
poll_once() {
	local out t0 ms code
	t0=$(sl_now_ms)
	code=$(curl -s -o "$STATE/poll.json" -w '%{http_code}' --max-time 30 \
		-H "Authorization: Bearer $TOKEN" "$BASE/api/v1/events/consumer-lag")
	ms=$(( $(sl_now_ms) - t0 ))
	out=$(lags_of <"$STATE/poll.json" 2>/dev/null)
	echo "$code $ms $(jq -r '[.streams[]? | select(.error != null) | .error] | unique | join(";")' "$STATE/poll.json" 2>/dev/null)" >>"$STATE/polls"
	[ "$code" = 200 ] && [ "$out" = "$want" ]
}
# Polls until right, at most SECS; prints the ms it took.
right_within() {
	local secs=$1 t0
	t0=$(sl_now_ms)
	until poll_once; do
		if (( $(sl_now_ms) - t0 > secs * 1000 )); then
			echo -1
			return 1
		fi
		sleep 0.1
	done
	echo $(( $(sl_now_ms) - t0 ))
}
# Every request logged in $STATE/polls ended by the deadline (plus a second
# for nginx, curl and a loaded machine), with 200 or 503.
bounded() {
	awk -v d="$DEADLINE_MS" '$2 > d + 1000 || ($1 != 200 && $1 != 503) { bad++ } END { exit bad > 0 }' "$STATE/polls"
}
slowest() { awk '$2 > m { m = $2 } END { print m + 0 }' "$STATE/polls"; }
replica_of() {
	local id
	id=$("$CLUSTER_CLI" -p "$1" CLUSTER MYID)
	"$CLUSTER_CLI" -p "$1" CLUSTER REPLICAS "$id" | awk '{ split($2, a, "[:@]"); print a[2]; exit }'
}
role() { "$CLUSTER_CLI" -p "$1" ROLE 2>/dev/null | head -1; }

# 1. CLUSTER FAILOVER on the replica of the master holding events:1.
A=$(owner events:1)
RA=$(replica_of "$A")
: >"$STATE/polls"
is "$("$CLUSTER_CLI" -p "$RA" CLUSTER FAILOVER)" OK "CLUSTER FAILOVER on $RA (replica of $A)"
sl_wait_for 10 "$RA promoted" sh -c "[ \"\$(\"$CLUSTER_CLI\" -p $RA ROLE | head -1)\" = master ]"
ms=$(right_within 5); rc=$?
ok "$rc" "after CLUSTER FAILOVER: every answer right ${ms} ms after the promotion, no restart"
is "$(owner events:1)" "$RA" "events:1 is now served by the promoted replica"
ok "$(bounded; echo $?)" "during the failover every request ended by the deadline (slowest $(slowest) ms, statuses $(cut -d' ' -f1 "$STATE/polls" | sort | uniq -c | tr -s ' \n' ' '))"
is "$(api /api/v1/events/health | jq -c '[.status, .reason]')" "$("$SL_BIN" get /api/v1/events/health 2>/dev/null | jq -c '[.status, .reason]')" \
	"health through serve equals a fresh process's"

# 2. The master holding events:2 is killed; its replica is promoted after
# cluster-node-timeout.  Requests go on the whole time.
B=$(owner events:2)
RB=$(replica_of "$B")
: >"$STATE/polls"
"$CLUSTER_CLI" -p "$B" SHUTDOWN NOSAVE >/dev/null 2>&1
killed=$(sl_now_ms)
sl_wait_for 5 "$B down" sh -c "! \"$CLUSTER_CLI\" -p $B PING >/dev/null 2>&1"
# Until the replica is promoted: requests end fast, the streams of the
# killed master are errors naming it, the others right.
until [ "$(role "$RB")" = master ]; do
	poll_once
	if (( $(sl_now_ms) - killed > 20000 )); then break; fi
	sleep 0.2
done
promoted=$(( $(sl_now_ms) - killed ))
is "$(role "$RB")" master "replica $RB promoted ${promoted} ms after its master was killed"
like "$(cut -d' ' -f3- "$STATE/polls" | sort -u | paste -sd' ')" "redis 127.0.0.1:$B" \
	"meanwhile the killed master's streams were errors naming it"
ms=$(right_within 5); rc=$?
ok "$rc" "after the promotion: every answer right ${ms} ms later, no restart"
ok "$(bounded; echo $?)" "through the kill and the promotion every request ended by the deadline (slowest $(slowest) ms, $(wc -l <"$STATE/polls") requests)"
api /metrics >"$STATE/m.txt"
metric() { awk -v m="$1" 'index($0, m " ") == 1 { print $NF }' "$STATE/m.txt"; }
is "$(metric streamlag_redis_up)" 1 "streamlag_redis_up 1 once every slot has a live master"
is "$(metric "streamlag_redis_node_up{node=\"127.0.0.1:$RB\"}")" 1 "the promoted replica's node_up is 1"
is "$(api /api/v1/events/health | jq -c '[.status, .reason]')" "$("$SL_BIN" get /api/v1/events/health 2>/dev/null | jq -c '[.status, .reason]')" \
	"health after the promotion equals a fresh process's"
is "$(sl_pid_gone "$MASTER"; echo $?)" 1 "the same streamlag serve answered throughout"

done_testing
