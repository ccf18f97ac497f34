#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# make bench BENCH=tls (and part of make bench): the seed's example over
# TLS (rediss://) next to plain TCP, in the same run, on the same machine.
# Two redis-servers hold the same data, one plain, one TLS only (--port 0,
# certificates from tests/integration/lib/tlscerts.sh, verified by
# streamlag).  Printed: `streamlag get` (a new process: connect, TLS
# handshake, AUTH, the request; median of 9), and nginx + serve (workers =
# cores, kept connections: the handshake once per worker) with wrk -t2
# -c16, 3 alternating rounds of 5 s each, the medians and TLS as a share of
# plain.  A benchmark, not a test: it asserts nothing.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$SL_ROOT/tests/integration/lib/tlscerts.sh"

STATE=$(sl_state_dir)
trap 'sl_teardown; rm -rf "$STATE"' EXIT
[ -x "$SL_BIN" ] || sl_die "$SL_BIN is not built (run make)"
export STREAMLAG_JWT_SECRET=bench-secret-0123456789abcdef0123456789
export STREAMLAG_STALL_MS=3600000 STREAMLAG_SAMPLE_MS=0
D=$STATE/tls
mkdir -p "$D" "$STATE/plain" "$STATE/tlsserve"
sl_tls_certs "$D" || exit 1
PLAIN=$(sl_free_port)
sl_start_redis "$STATE" "$PLAIN" || exit 1
sl_seed_example "$PLAIN"
TLS=$(sl_free_port)
sl_start_tls_redis "$D" "$TLS" server || exit 1
sl_seed_commands | sl_tls_cli "$D" "$TLS" >/dev/null
PLAIN_URL=$(sl_redis_url "$PLAIN")
TLS_URL="rediss://$SL_REDIS_USER:$SL_REDIS_PASS@127.0.0.1:$TLS/0"
export STREAMLAG_REDIS_TLS_CA_FILE=$D/ca.crt
P=/api/v1/events/consumer-lag

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# get_us URL: wall time of one `streamlag get` in µs, median of 9.
get_us() {
	local i t0 t1
	for i in 1 2 3 4 5 6 7 8 9; do
		t0=$(date +%s%N)
		REDIS_URL=$1 "$SL_BIN" get "$P" >/dev/null
		t1=$(date +%s%N)
		echo $(( (t1 - t0) / 1000 ))
	done | median
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

echo "streamlag over TLS vs plain TCP, seed example, $(nproc) cores, $(date -u +%Y-%m-%d), $(openssl version | cut -d' ' -f1-2)"
gp=$(get_us "$PLAIN_URL")
gt=$(get_us "$TLS_URL")
printf '%-62s %8s\n' "get consumer-lag, plain TCP (median of 9)" "$((gp / 1000)).$(printf '%03d' $((gp % 1000)) | cut -c1) ms"
printf '%-62s %8s\n' "get consumer-lag, TLS (handshake included)" "$((gt / 1000)).$(printf '%03d' $((gt % 1000)) | cut -c1) ms"
printf '%-62s %8s\n' "  TLS / plain" "$(ratio "$gt" "$gp")"

command -v wrk >/dev/null && command -v nginx >/dev/null || exit 0
REDIS_URL=$PLAIN_URL sl_start_serve "$STATE/plain/streamlag.sock" || exit 1
REDIS_URL=$TLS_URL sl_start_serve "$STATE/tlsserve/streamlag.sock" || exit 1
HP=$(sl_free_port)
sl_start_nginx "$STATE/plain" "$HP" "$STATE/plain/streamlag.sock" || exit 1
HT=$(sl_free_port)
sl_start_nginx "$STATE/tlsserve" "$HT" "$STATE/tlsserve/streamlag.sock" || exit 1
TOKEN=$("$SL_BIN" token --ttl 600)
for port in "$HP" "$HT"; do	# each worker's connection made before timing
	curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port$P"
done
rps() {	# rps PORT: requests per second of one 5 s wrk run
	wrk -t2 -c16 -d5s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$1$P" 2>&1 |
		awk '/Requests\/sec/ { printf "%d", $2 }'
}
s=() t=()
for i in 1 2 3; do
	s+=("$(rps "$HP")")
	t+=("$(rps "$HT")")
done
ms=$(printf '%s\n' "${s[@]}" | median)
mt=$(printf '%s\n' "${t[@]}" | median)
printf '%-62s %8s\n' "nginx + serve, consumer-lag, plain TCP: req/s (median of 3 x 5 s)" "$ms"
printf '%-62s %8s\n' "nginx + serve, consumer-lag, TLS: req/s" "$mt"
printf '%-62s %8s\n' "  TLS / plain" "$(ratio "$mt" "$ms")"
