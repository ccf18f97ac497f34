#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# STREAMLAG_READ_FROM=replica on a Redis Cluster of 3 masters with one
# replica each: every replica connection sends READONLY (the user needs
# +readonly more), INFO commandstats on every master shows no XINFO,
# XRANGE, XPENDING or SCAN from streamlag, and the answers are the
# masters' own.
. "$(dirname "$0")/common.sh"

start_cluster 3 1 || exit 1
m0=${CLUSTER_MASTERS[0]}
export EVENT_TRANSPORT_CONSUMER_GROUP=g STREAMLAG_STALL_MS=86400000
CC() { "$CLUSTER_CLI" -c -p "$m0" "$@"; }

# Stream i holds 2i + 1 entries, of which g read i (lag i + 1).
names=()
for i in $(seq 1 9); do
	s="events:$i"
	names+=("$s")
	for _ in $(seq 1 $((2 * i + 1))); do CC XADD "$s" '*' f v >/dev/null; done
	CC XGROUP CREATE "$s" g 0 >/dev/null
	CC XREADGROUP GROUP g c1 COUNT "$i" STREAMS "$s" '>' >/dev/null
done
export STREAMLAG_STREAMS
STREAMLAG_STREAMS=$(IFS=,; echo "${names[*]}")
total=0
for i in $(seq 1 9); do total=$((total + i + 1)); done

# Every replica has its master's writes.
synced() {
	local p
	for p in "${CLUSTER_PORTS[@]}"; do
		"$CLUSTER_CLI" -p "$p" ROLE | head -1 | grep -q slave || continue
		[ "$("$CLUSTER_CLI" -p "$p" INFO replication | tr -d '\r' | sed -n 's/^slave_repl_offset://p')" = \
			"$("$CLUSTER_CLI" -p "$p" INFO replication | tr -d '\r' | sed -n 's/^master_repl_offset://p')" ] || return 1
		"$CLUSTER_CLI" -p "$p" INFO replication | grep -q '^master_link_status:up' || return 1
	done
}
sl_wait_for 10 "the replicas to catch up" synced
want=$("$SL_BIN" get /api/v1/events/consumer-lag | jq -c '[.stream_count, .total_lag]')
is "$want" "[9,$total]" "read from the masters: every stream, lag i + 1 each"

for p in "${CLUSTER_PORTS[@]}"; do
	"$CLUSTER_CLI" -p "$p" ACL SETUSER "$SL_REDIS_USER" +readonly >/dev/null
	"$CLUSTER_CLI" -p "$p" CONFIG RESETSTAT >/dev/null
done
cmdstats() {
	"$CLUSTER_CLI" -p "$1" INFO commandstats | tr -d '\r' |
		grep -E '^cmdstat_(xinfo|xrange|xpending|scan)' | cut -d: -f1 | sort | paste -sd, -
}
export STREAMLAG_READ_FROM=replica
is "$("$SL_BIN" get /api/v1/events/consumer-lag | jq -c '[.stream_count, .total_lag]')" "[9,$total]" \
	"READ_FROM=replica: the same lags"
is "$(STREAMLAG_STREAM_PATTERN='events:*' "$SL_BIN" get /api/v1/events/consumer-lag | jq -c '[.stream_count, .total_lag]')" \
	"[9,$total]" "READ_FROM=replica: discovery SCANs the replicas"
"$SL_BIN" get /api/v1/events/streams >/dev/null
for p in "${CLUSTER_MASTERS[@]}"; do
	is "$(cmdstats "$p")" "" "master $p: no XINFO, XRANGE, XPENDING or SCAN"
done
n=0
for p in "${CLUSTER_PORTS[@]}"; do
	case " ${CLUSTER_MASTERS[*]} " in *" $p "*) continue ;; esac
	[[ $(cmdstats "$p") == *cmdstat_xinfo* ]] && n=$((n + 1))
done
is "$n" 3 "every replica answered XINFO"
like "$(STREAMLAG_STREAM_PATTERN='events:*' "$SL_BIN" get /metrics | grep '^streamlag_redis_node_up')" \
	'role="replica"} 1' "/metrics: the replicas read, with their role"

# Without +readonly a replica answers MOVED to every read: the command is
# sent on to its master; READONLY refused is said in Redis's words.
"$CLUSTER_CLI" -p "${CLUSTER_PORTS[0]}" ACL SETUSER "$SL_REDIS_USER" -readonly >/dev/null
for p in "${CLUSTER_PORTS[@]}"; do
	"$CLUSTER_CLI" -p "$p" ACL SETUSER "$SL_REDIS_USER" -readonly >/dev/null
done
"$SL_BIN" get /api/v1/events/consumer-lag >"$STATE/noro.json" 2>"$STATE/noro.err"
like "$(cat "$STATE/noro.json" "$STATE/noro.err")" "NOPERM.*'readonly'" \
	"without +readonly: refused, in Redis's words"

done_testing
