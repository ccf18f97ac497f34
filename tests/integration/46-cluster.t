#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# streamlag on a Redis Cluster of 3 masters: streams spread over every
# master (hash-tagged names included) answer exactly what each owning node
# says, through `streamlag get` and serve behind nginx; every master is
# asked at once (CLIENT PAUSE on one does not hold the others); a slot
# holding monitored streams migrates while serve answers (ASK, then MOVED).
. "$(dirname "$0")/common.sh"

start_cluster 3 0 || exit 1
m0=${CLUSTER_MASTERS[0]}
# No stream is stalled however slow the machine: the counts stay exact.
export EVENT_TRANSPORT_CONSUMER_GROUP=g STREAMLAG_REDIS_TIMEOUT_MS=5000 STREAMLAG_STALL_MS=86400000

# 30 plain names, 3 hash-tagged, and 3 sharing the slot that migrates:
# stream i holds 2i + 1 entries, of which the group g read i (lag i + 1).
names=()
for i in $(seq 1 30); do names+=("events:$i"); done
names+=('{user1000}.following' '{user1000}.followers' 'foo{bar}{zap}'
	'{mig}:a' '{mig}:b' '{mig}:c')
# The truth, per stream from the node that holds it.
owner() {
	local slot
	slot=$("$CLUSTER_CLI" -p "$m0" CLUSTER KEYSLOT "$1")
	"$CLUSTER_CLI" -2 --json -p "$m0" CLUSTER SLOTS |
		jq -r --argjson s "$slot" '.[] | select(.[0] <= $s and $s <= .[1]) | .[2][1]'
}
i=0
for s in "${names[@]}"; do
	i=$((i + 1))
	for _ in $(seq 1 $((2 * i + 1))); do echo "XADD $s * f v"; done |
		"$CLUSTER_CLI" -p "$(owner "$s")" >/dev/null
	"$CLUSTER_CLI" -c -p "$m0" XGROUP CREATE "$s" g 0 >/dev/null
	"$CLUSTER_CLI" -c -p "$m0" XREADGROUP GROUP g c1 COUNT "$i" STREAMS "$s" '>' >/dev/null
done
export STREAMLAG_STREAMS
STREAMLAG_STREAMS=$(IFS=,; echo "${names[*]}")

# XINFO GROUPS on the owning node.
truth() {
	local s p lag
	for s in "${names[@]}"; do
		p=$(owner "$s")
		lag=$("$CLUSTER_CLI" -p "$p" XINFO GROUPS "$s" | awk 'prev == "lag" { print; exit } { prev = $0 }')
		printf '%s\t%s\t%s\n' "$s" "$lag" "$p"
	done
}
truth >"$STATE/truth.tsv"
total=$(awk -F'\t' '{ t += $2 } END { print t }' "$STATE/truth.tsv")
want_lags=$(awk -F'\t' '{ printf "%s%s=%s", (NR > 1 ? "," : ""), $1, $2 }' "$STATE/truth.tsv")
owners=$(cut -f3 "$STATE/truth.tsv" | sort -u | wc -l)
is "$owners" 3 "the ${#names[@]} streams are spread over the 3 masters"
is "$(grep -c '^{user1000}' "$STATE/truth.tsv" | tr -d ' ')/$(grep '^{user1000}' "$STATE/truth.tsv" | cut -f3 | sort -u | wc -l)" \
	"2/1" "the two {user1000} streams share one master"

lags_of() { jq -r '[.streams | to_entries[] | "\(.key)=\(.value.lag)"] | join(",")'; }
sorted() { tr ',' '\n' | sort | paste -sd, -; }
want=$(sorted <<<"$want_lags")

body=$("$SL_BIN" get /api/v1/events/consumer-lag); rc=$?
is "$rc" 0 "get consumer-lag exits 0 on the cluster"
is "$(jq -r '"\(.stream_count) \(.total_lag)"' <<<"$body")" "${#names[@]} $total" \
	"stream_count and total_lag over every master"
is "$(lags_of <<<"$body" | sorted)" "$want" "each stream's lag is its owning node's"
is "$(jq '[.streams[] | select(.error != null)] | length' <<<"$body")" 0 "no stream in error"
is "$("$SL_BIN" get '/api/v1/events/consumer-lag?stream={user1000}.followers' | jq -c '[.stream_count, .total_lag]')" \
	"[1,$(awk -F'\t' '$1 == "{user1000}.followers" { print $2 }' "$STATE/truth.tsv")]" \
	"?stream= with a hash-tagged name"
is "$("$SL_BIN" get '/api/v1/events/consumer-lag?group=*' | jq -r '"\(.total_lag) \(.streams | length)"')" \
	"$total ${#names[@]}" "?group=* over every master"
is "$("$SL_BIN" get /api/v1/events/streams | jq -r '[.streams[] | .length] | add')" \
	"$(awk -F'\t' '{ n += 2 * NR + 1 } END { print n }' "$STATE/truth.tsv")" \
	"streams: every XLEN, each from its master"
is "$(STREAMLAG_STREAM_PATTERN='*' "$SL_BIN" get /api/v1/events/consumer-lag | jq -r '"\(.stream_count) \(.total_lag) \(.truncated // false)"')" \
	"${#names[@]} $total false" "discovery SCANs every master"
is "$(STREAMLAG_STREAM_PATTERN='*' STREAMLAG_DISCOVERY_MAX=5 "$SL_BIN" get /api/v1/events/consumer-lag | jq -r '"\(.stream_count) \(.truncated)"')" \
	"5 true" "STREAMLAG_DISCOVERY_MAX over the whole cluster"
is "$(REDIS_URL="${REDIS_URL%/0}/1" "$SL_BIN" get /api/v1/events/health 2>/dev/null | jq -r .code)" \
	cluster_db "database 1 on a cluster (auto mode): code cluster_db"
REDIS_URL="${REDIS_URL%/0}/1" STREAMLAG_REDIS_MODE=cluster "$SL_BIN" get /api/v1/events/health >/dev/null 2>"$STATE/db.err"
like "$(cat "$STATE/db.err")" "STREAMLAG_REDIS_MODE=cluster" "database 1 with STREAMLAG_REDIS_MODE=cluster: refused at startup"

# streamlag check: the slot map, each node with its role and slot ranges
# (as CLUSTER SLOTS gives them), and whether it answered; then the streams.
ranges_of() {
	"$CLUSTER_CLI" -2 --json -p "$m0" CLUSTER SLOTS | jq -r --argjson p "$1" '
		[.[] | select(.[2][1] == $p)] | sort_by(.[0]) |
		"\(map(.[1] - .[0] + 1) | add) slots \(map(if .[0] == .[1] then "\(.[0])" else "\(.[0])-\(.[1])" end) | join(","))"'
}
cluster_check() { CHECK=$(STREAMLAG_LISTEN="unix:$STATE/check.sock" "$SL_BIN" check 2>&1); CHECK_RC=$?; }
cluster_check
is "$CHECK_RC" 0 "check on the cluster: exit 0"
is "$(grep -F '✔ mode' <<<"$CHECK")" "✔ mode: cluster of 3 masters and 0 replicas, every slot served" \
	"check: the cluster, every slot served"
for p in "${CLUSTER_MASTERS[@]}"; do
	like "$(grep -F "node 127.0.0.1:$p:" <<<"$CHECK")" \
		"^✔ node 127.0.0.1:$p: master, $(ranges_of "$p"); answered in [0-9]+ ms\$" \
		"check: master $p, its slots, answered"
done
is "$(grep -c '^✔ stream ' <<<"$CHECK")" 20 "check: the streams read from their masters (20 listed)"

# Through nginx, one worker (its counters are the ones read).
serve_behind_nginx --workers 1
BASE="http://127.0.0.1:$HTTP"
TOKEN=$("$SL_BIN" token --sub cluster --ttl 600)
api() { curl -s -H "Authorization: Bearer $TOKEN" "$BASE$1"; }
body=$(api /api/v1/events/consumer-lag)
is "$(lags_of <<<"$body" | sorted)" "$want" "serve: each stream's lag is its owning node's"
is "$(api /api/v1/events/health | jq -r '"\(.total_lag) \(.max_lag) \(.redis_connected) \(.streams.healthy + .streams.degraded + .streams.unhealthy)"')" \
	"$total $((${#names[@]} + 1)) true ${#names[@]}" "serve: health over every master"
api /metrics >"$STATE/m.txt"
metric() { awk -v m="$1" 'index($0, m " ") == 1 { print $NF }' "$STATE/m.txt"; }
is "$(metric 'event_consumer_lag{stream="events:7",consumer_group="g"}')" \
	"$(awk -F'\t' '$1 == "events:7" { print $2 }' "$STATE/truth.tsv")" "serve: /metrics lag of events:7"
is "$(metric streamlag_redis_up)" 1 "streamlag_redis_up 1"
# TIME is read on every master: a stream's ages use its own node's clock.
time_calls() { "$CLUSTER_CLI" -p "$1" INFO commandstats | tr -d '\r' | awk -F'[:=,]' '$1 == "cmdstat_time" { print $3 }'; }
declare -A t0
for p in "${CLUSTER_MASTERS[@]}"; do t0[$p]=$(time_calls "$p"); done
api /api/v1/events/consumer-lag >/dev/null
for p in "${CLUSTER_MASTERS[@]}"; do
	is "$(( $(time_calls "$p") - ${t0[$p]:-0} ))" 1 "one request: one TIME on master $p"
done
# The request log counts its round trips per node: every master asked, in
# 1 round trip.  Every group here is behind: XLEN comes with the first
# batch, and the first undelivered and oldest pending entries were kept by
# the requests above (seconds ago, within the lag cache's 60 s), so no
# follow-up is asked.
trips=$(grep 'event=request .*consumer-lag' "$STATE/streamlag.log" | tail -1 | sed -n 's/.* redis_nodes="\([^"]*\)".*/\1/p')
is "$(tr ',' '\n' <<<"$trips" | sort | paste -sd,)" \
	"$(for p in "${CLUSTER_MASTERS[@]}"; do echo "127.0.0.1:$p=1"; done | sort | paste -sd,)" \
	"the request log: 1 round trip on each master ($trips)"

# Parallel: while node A is paused, node B runs streamlag's XINFO.
A=$(owner events:1)
B=$(for p in "${CLUSTER_MASTERS[@]}"; do [ "$p" != "$A" ] && echo "$p"; done | head -1)
xinfo_calls() { "$CLUSTER_CLI" -p "$B" INFO commandstats | tr -d '\r' | awk -F'[:=,]' '$1 == "cmdstat_xinfo|groups" { print $3 }'; }
before=$(xinfo_calls)
"$CLUSTER_CLI" -p "$A" CLIENT PAUSE 2000 >/dev/null
paused_at=$(sl_now_ms)
api /api/v1/events/consumer-lag >"$STATE/paused.json" &
req=$!
sl_wait_for 5 "XINFO on node B" sh -c "[ \"\$(\"$CLUSTER_CLI\" -p $B INFO commandstats | tr -d '\r' | awk -F'[:=,]' '\$1 == \"cmdstat_xinfo|groups\" { print \$3 }')\" -gt ${before:-0} ]"
seen=$(( $(sl_now_ms) - paused_at ))
ok "$([ "$seen" -lt 2000 ]; echo $?)" "node B ran streamlag's XINFO ${seen} ms into node A's 2 s pause"
wait "$req"
is "$(lags_of <"$STATE/paused.json" | sorted)" "$want" "the answer after the pause is complete and right"

# Slot migration of {mig}: a request after each MIGRATE and after SETSLOT NODE.
slot=$("$CLUSTER_CLI" -p "$m0" CLUSTER KEYSLOT '{mig}:a')
SRC=$(owner '{mig}:a')
DST=$(for p in "${CLUSTER_MASTERS[@]}"; do [ "$p" != "$SRC" ] && echo "$p"; done | head -1)
id() { "$CLUSTER_CLI" -p "$1" CLUSTER MYID; }
"$CLUSTER_CLI" -p "$DST" CLUSTER SETSLOT "$slot" IMPORTING "$(id "$SRC")" >/dev/null
"$CLUSTER_CLI" -p "$SRC" CLUSTER SETSLOT "$slot" MIGRATING "$(id "$DST")" >/dev/null
for k in '{mig}:a' '{mig}:b' '{mig}:c'; do
	is "$("$CLUSTER_CLI" -p "$SRC" MIGRATE 127.0.0.1 "$DST" "$k" 0 5000)" OK "MIGRATE $k"
	is "$(api /api/v1/events/consumer-lag | lags_of | sorted)" "$want" "right after MIGRATE $k"
done
for p in "${CLUSTER_MASTERS[@]}"; do
	"$CLUSTER_CLI" -p "$p" CLUSTER SETSLOT "$slot" NODE "$(id "$DST")" >/dev/null
done
is "$(api /api/v1/events/consumer-lag | lags_of | sorted)" "$want" "right after SETSLOT NODE"
is "$(api /api/v1/events/consumer-lag | lags_of | sorted)" "$want" "right again with the map read again"
api /metrics >"$STATE/m.txt"
ok "$([ "$(metric 'streamlag_redis_redirects_total{kind="ask"}')" -ge 1 ]; echo $?)" \
	"ASK followed: $(metric 'streamlag_redis_redirects_total{kind="ask"}')"
ok "$([ "$(metric 'streamlag_redis_redirects_total{kind="moved"}')" -ge 1 ]; echo $?)" \
	"MOVED followed: $(metric 'streamlag_redis_redirects_total{kind="moved"}')"

# A master killed (the harness runs cluster-require-full-coverage no): its
# streams are errors naming it, the others right; health unhealthy;
# streamlag_redis_up 0 and its node_up 0.  Restarted with its streams
# written again: all right again, with no restart of streamlag.
K=$(for p in "${CLUSTER_MASTERS[@]}"; do [ "$p" != "$DST" ] && [ "$p" != "$SRC" ] && echo "$p"; done | head -1)
K=${K:-$SRC}
truth >"$STATE/truth.tsv"
on_k=$(awk -F'\t' -v k="$K" '$3 == k' "$STATE/truth.tsv" | wc -l)
"$CLUSTER_CLI" -p "$K" SHUTDOWN NOSAVE >/dev/null 2>&1
sl_wait_for 10 "node $K down" sh -c "! \"$CLUSTER_CLI\" -p $K PING >/dev/null 2>&1"
body=$(api /api/v1/events/consumer-lag)
is "$(jq -r --arg e "redis 127.0.0.1:$K: Connection refused" '[.streams[] | select(.error == $e and .lag == -1 and .consumers == [])] | length' <<<"$body")" \
	"$on_k" "the $on_k streams of the killed master: lag -1, no consumers, the error naming it"
is "$(jq -r '[.streams | to_entries[] | select(.value.error == null) | "\(.key)=\(.value.lag)"] | sort | join(",")' <<<"$body")" \
	"$(awk -F'\t' -v k="$K" '$3 != k { print $1 "=" $2 }' "$STATE/truth.tsv" | sort | paste -sd, -)" \
	"every other stream is right"
disc=$(STREAMLAG_STREAM_PATTERN='*' "$SL_BIN" get /api/v1/events/consumer-lag 2>/dev/null)
is "$(jq -c '[.partial, .errors, .stream_count]' <<<"$disc")" \
	"[true,[\"redis 127.0.0.1:$K: Connection refused\"],$(( ${#names[@]} - on_k ))]" \
	"discovery with a master down: partial, the master in errors, the others' streams"
is "$(STREAMLAG_STREAM_PATTERN='*' "$SL_BIN" get /api/v1/events/health 2>/dev/null | jq -c '[.status, .partial, .errors]')" \
	"[\"unhealthy\",true,[\"redis 127.0.0.1:$K: Connection refused\"]]" \
	"health with discovery and a master down: unhealthy, partial, the master in errors"
health=$(curl -s -o "$STATE/h.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/events/health")
is "$health:$(jq -c '[.status, .partial, .errors, .streams.unhealthy]' "$STATE/h.json")" \
	"503:[\"unhealthy\",null,[\"redis 127.0.0.1:$K: Connection refused\"],$on_k]" \
	"health is unhealthy, the reason naming the master"
cluster_check
is "$CHECK_RC" 1 "check with a master down: exit 1"
like "$(grep -F "node 127.0.0.1:$K:" <<<"$CHECK")" \
	"^✘ node 127.0.0.1:$K: master, [0-9]+ slots [0-9,-]+: Connection refused — is the node up" \
	"check: the master down, named with its slots"
is "$(grep -c '^✔ node ' <<<"$CHECK")" 2 "check: the two others answered"
api /metrics >"$STATE/m.txt"
is "$(metric streamlag_redis_up)" 0 "streamlag_redis_up 0 with a master down"
is "$(metric "streamlag_redis_node_up{node=\"127.0.0.1:$K\"}")" 0 "its streamlag_redis_node_up is 0"
is "$(metric "streamlag_redis_node_up{node=\"127.0.0.1:$DST\"}")" 1 "another master's is 1"
server=$(sl_redis_server)
# shellcheck disable=SC2086
"$server" --port "$K" --bind 127.0.0.1 --dir "$STATE/cluster/$K" --save '' \
	--appendonly no --daemonize no --logfile "$STATE/cluster/$K/redis.log" \
	--cluster-enabled yes --cluster-config-file nodes.conf \
	--cluster-require-full-coverage no --cluster-node-timeout 2000 \
	--user "$SL_REDIS_USER" $SL_REDIS_ACL $SL_CLUSTER_ACL >/dev/null 2>&1 &
SL_PIDS+=("$!")
sl_wait_for 20 "node $K back in the cluster" cluster_state_ok "$K"
i=0
for s in "${names[@]}"; do
	i=$((i + 1))
	[ "$(owner "$s")" = "$K" ] || continue
	for _ in $(seq 1 $((2 * i + 1))); do echo "XADD $s * f v"; done | "$CLUSTER_CLI" -p "$K" >/dev/null
	"$CLUSTER_CLI" -p "$K" XGROUP CREATE "$s" g 0 >/dev/null
	"$CLUSTER_CLI" -p "$K" XREADGROUP GROUP g c1 COUNT "$i" STREAMS "$s" '>' >/dev/null
done
back() { [ "$(api /api/v1/events/consumer-lag | lags_of | sorted)" = "$want" ]; }
sl_wait_for 10 "every stream right again" back
ok $? "restarted: every stream right again, streamlag not restarted"
api /metrics >"$STATE/m.txt"
is "$(metric streamlag_redis_up) $(metric "streamlag_redis_node_up{node=\"127.0.0.1:$K\"}")" "1 1" "streamlag_redis_up and its node_up 1 again"

done_testing
