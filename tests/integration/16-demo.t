#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# streamlag demo (make run's traffic): the first screen moves.  Within its
# first 5 seconds events:chat's lag has grown, reading after reading.
. "$(dirname "$0")/common.sh"

seeded_redis --empty
# The demo writes, so it connects as Redis's default user; streamlag get
# reads as the least-privilege one.
REDIS_URL="redis://127.0.0.1:$PORT/0" "$SL_BIN" demo >"$STATE/demo.log" 2>&1 &
DEMO=$!
SL_PIDS+=("$DEMO")
demo_group() { R XINFO GROUPS events:chat | grep -q signalr-consumers; }
sl_wait_ready "$DEMO" 10 "the demo's group on events:chat" demo_group || exit 1
t0=$(sl_now_ms)
lags=()
# A reading every ~0.5 s for the first 5 s after the demo's groups exist.
while (( $(sl_now_ms) - t0 < 5000 )); do
	lags+=("$("$SL_BIN" get /api/v1/events/consumer-lag?stream=events:chat | jq '.streams["events:chat"].lag')")
	sleep 0.5
done
echo "# events:chat lag, every 0.5 s: ${lags[*]}"
rises=0
for ((i = 1; i < ${#lags[@]}; i++)); do
	(( lags[i] > lags[i - 1] )) && rises=$((rises + 1))
done
ok "$( (( ${#lags[@]} >= 3 && rises >= ${#lags[@]} / 2 )); echo $?)" \
	"events:chat's lag rises from the start ($rises rises in ${#lags[@]} readings)"
ok "$( (( lags[-1] >= 20 )); echo $?)" "after 5 s it is well above 0 (${lags[-1]}; 12 a second is the design)"
sl_stop_pid "$DEMO" 10

done_testing
