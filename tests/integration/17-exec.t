#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The multi-node executor (c/it_exec.c) against three real redis-servers
# and a relay that drips a fourth one's replies one byte every 500 ms:
# pipelines to every node at once, a paused node holding only its own
# replies, the request deadline, back-off and reconnect per node.
# SL_EXEC_WRAP runs the program under a wrapper (valgrind ...).
. "$(dirname "$0")/common.sh"

bin=$(dirname "$SL_BIN")/tests/it_exec
[ -x "$bin" ] || { echo "1..0 # SKIP $bin is not built (make integration builds it)"; exit 0; }
ports=()
for i in 1 2 3 4; do
	p=$(sl_free_port)
	mkdir -p "$STATE/r$i"
	SL_LOG_DIR=$STATE/r$i sl_start_redis "$STATE/r$i" "$p" || exit 1
	ports+=("$p")
done
DRIP=$(sl_free_port)
perl "$(dirname "$0")/lib/drip-relay.pl" "$DRIP" "${ports[3]}" 500 >"$STATE/relay.out" 2>&1 &
SL_PIDS+=("$!")
sl_wait_for 10 "the drip relay" grep -q ready "$STATE/relay.out" || exit 1

SL_EXEC_PORTS="${ports[*]:0:3}" SL_EXEC_DRIP=$DRIP \
	SL_EXEC_USER=$SL_REDIS_USER SL_EXEC_PASS=$SL_REDIS_PASS ${SL_EXEC_WRAP:-} "$bin"
