#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# make bench, the Redis Cluster part: the same N streams (10 000) on one
# redis-server and spread over a Redis Cluster of 3 masters, started side
# by side in this run, and consumer-lag measured on both, alternately:
#
# - `streamlag get` (a fresh process: connect, detect, CLUSTER SLOTS, SCAN
#   every master, collect);
# - `streamlag serve` (one warm worker) behind nginx, with the
#   round trips of the last request from its log line (redis_nodes), the
#   discovery answered from the shared cache as in production.
#
# Twice: every group caught up (no follow-up), then every group 1 behind
# with 1 pending (a follow-up batch).  A benchmark: it prints, asserts
# nothing.
set -uo pipefail
. "$(dirname "$0")/../integration/common.sh"

N=${BENCH_STREAMS:-10000}
[ -x "$SL_BIN" ] || sl_die "$SL_BIN is not built (run make)"

start_cluster 3 0 >/dev/null || exit 1
CLUSTER_URL=$REDIS_URL
ONE=$(sl_free_port)
sl_start_redis "$STATE" "$ONE" || exit 1
ONE_URL=$(sl_redis_url "$ONE")

# The same commands to both: on the cluster, redis-cli -c follows MOVED.
for ((i = 1; i <= N; i++)); do
	echo "XADD bench:$i 1-1 f v"
	echo "XGROUP CREATE bench:$i signalr-consumers 0"
	echo "XREADGROUP GROUP signalr-consumers c1 COUNT 1 STREAMS bench:$i >"
	echo "XACK bench:$i signalr-consumers 1-1"
done >"$STATE/load.txt"
redis-cli -p "$ONE" <"$STATE/load.txt" >/dev/null
"$CLUSTER_CLI" -c -p "${CLUSTER_MASTERS[0]}" <"$STATE/load.txt" >/dev/null
per_master=$(for p in "${CLUSTER_MASTERS[@]}"; do "$CLUSTER_CLI" -p "$p" DBSIZE; done | paste -sd/)

# serve's discovery stays cached through the run (get has no cache).
export STREAMLAG_STREAM_PATTERN='bench:*' STREAMLAG_REQUEST_TIMEOUT_MS=30000 \
	STREAMLAG_DISCOVERY_TTL_MS=3600000
ROUNDS=${BENCH_ROUNDS:-9}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
get_ms() {	# get_ms URL: one `streamlag get` consumer-lag, ms
	local t0
	t0=$(date +%s%N)
	REDIS_URL=$1 "$SL_BIN" get /api/v1/events/consumer-lag >/dev/null
	echo $(( ($(date +%s%N) - t0) / 1000000 ))
}

# One serve (1 worker) and one nginx per target.
serve_for() {	# serve_for NAME URL: sets PORT_<NAME>
	local dir=$STATE/$1 http
	mkdir -p "$dir/nginx-tmp" && chmod 0755 "$dir"
	REDIS_URL=$2 sl_start_serve "$dir/streamlag.sock" --workers 1 || exit 1
	http=$(sl_free_port)
	sl_start_nginx "$dir" "$http" "$dir/streamlag.sock" || exit 1
	printf -v "PORT_$1" '%s' "$http"
}
serve_for one "$ONE_URL"
serve_for cluster "$CLUSTER_URL"
TOKEN=$("$SL_BIN" token --ttl 600)
serve_ms() {	# serve_ms NAME: one request through nginx, ms
	local port=PORT_$1
	curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" \
		"http://127.0.0.1:${!port}/api/v1/events/consumer-lag" |
		awk '{ printf "%d\n", $1 * 1000 }'
}
trips() {	# trips NAME: the round trips of that serve's last request
	grep 'event=request .*consumer-lag' "$(sl_log_dir "$STATE/$1")/streamlag.log" |
		tail -1 | sed -n 's/.* redis_trips=\([0-9]*\) redis_nodes="\([^"]*\)".*/\1 (\2)/p'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# redis_ms URL PORT...: the usec of INFO commandstats on each port for one
# `streamlag get`, in ms: "sum" for one port, "sum (max m)" for several.
redis_ms() {
	local url=$1 p; shift
	for p in "$@"; do redis-cli -p "$p" CONFIG RESETSTAT >/dev/null; done
	REDIS_URL=$url "$SL_BIN" get /api/v1/events/consumer-lag >/dev/null
	for p in "$@"; do
		redis-cli -p "$p" INFO commandstats |
			awk -F'[=,]' '/^cmdstat_/ && !/cmdstat_(config|info)/ { s += $4 } END { print s + 0 }'
	done | awk -v n=$# '{ s += $1; if ($1 > m) m = $1 }
		END { if (n > 1) printf "%d (max %d)", s / 1000, m / 1000; else printf "%d", s / 1000 }'
}

# measure LABEL: ROUNDS rounds, each running the four one after the other
# (the machine's load then weighs on all four alike); the medians.
measure() {
	local i g1 gc s1 sc
	serve_ms one >/dev/null		# warm: connected, discovery cached
	serve_ms cluster >/dev/null
	: >"$STATE/times"
	for ((i = 0; i < ROUNDS; i++)); do
		echo "g1 $(get_ms "$ONE_URL")"
		echo "gc $(get_ms "$CLUSTER_URL")"
		echo "s1 $(serve_ms one)"
		echo "sc $(serve_ms cluster)"
	done >"$STATE/times"
	m() { awk -v k="$1" '$1 == k { print $2 }' "$STATE/times" | median; }
	g1=$(m g1) gc=$(m gc) s1=$(m s1) sc=$(m sc)
	printf '%-62s %8s\n' "consumer-lag, $N streams, $1, get: 1 node" "$g1 ms"
	printf '%-62s %8s\n' "  the same over 3 masters ($per_master keys)" "$gc ms = $(ratio "$gc" "$g1") x"
	printf '%-62s %8s\n' "  serve (warm worker, discovery cached): 1 node" "$s1 ms"
	printf '%-62s %8s\n' "  serve over 3 masters" "$sc ms = $(ratio "$sc" "$s1") x"
	echo "  round trips of one serve request: 1 node $(trips one); 3 masters $(trips cluster)"
	echo "  Redis's own time for one get: 1 node $(redis_ms "$ONE_URL" "$ONE") ms;" \
		"3 masters $(redis_ms "$CLUSTER_URL" "${CLUSTER_MASTERS[@]}") ms"
}

echo "Redis Cluster: the same $N streams on 1 node and over 3 masters, this run,"
echo "medians of $ROUNDS rounds ($(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg) at the start)"
measure "caught up"
# Every group 1 behind with 1 pending: the follow-up batch (XRANGE, XPENDING).
for ((i = 1; i <= N; i++)); do
	echo "XADD bench:$i 2-1 f v"
	echo "XADD bench:$i 3-1 f v"
	echo "XREADGROUP GROUP signalr-consumers c1 COUNT 1 STREAMS bench:$i >"
done >"$STATE/behind.txt"
redis-cli -p "$ONE" <"$STATE/behind.txt" >/dev/null
"$CLUSTER_CLI" -c -p "${CLUSTER_MASTERS[0]}" <"$STATE/behind.txt" >/dev/null
measure "each 1 behind, 1 pending"
