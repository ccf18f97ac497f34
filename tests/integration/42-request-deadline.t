#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# STREAMLAG_REQUEST_TIMEOUT_MS bounds a whole HTTP request, through serve
# and nginx: a TCP relay in front of a real redis-server passes streamlag's
# commands at once and drips the replies one byte at a time.  Each byte is
# progress, so the per-reply timeout never fires; the request deadline ends
# the request with a 503.  Discovery and collection share that one
# deadline.  Once the Redis answers at full speed again, the next request
# is right, from the same worker.
. "$(dirname "$0")/common.sh"

seeded_redis
DEADLINE_MS=3000
DRIP=$(sl_free_port)
relay() {	# relay MS: the relay on DRIP, dripping every MS ms (0: at once)
	perl "$(dirname "$0")/lib/drip-relay.pl" "$DRIP" "$PORT" "$1" >"$STATE/relay.out" 2>&1 &
	RELAY=$!
	SL_PIDS+=("$RELAY")
	sl_wait_ready "$RELAY" 10 "the drip relay" grep -q ready "$STATE/relay.out" || exit 1
}
relay 500
export REDIS_URL STREAMLAG_REDIS_MODE=standalone STREAMLAG_REDIS_TIMEOUT_MS=10000 \
	STREAMLAG_REQUEST_TIMEOUT_MS=$DEADLINE_MS STREAMLAG_DISCOVERY_TTL_MS=0
REDIS_URL=$(sl_redis_url "$DRIP")
serve_behind_nginx --workers 1
TOKEN=$("$SL_BIN" token --ttl 600)
req() {	# req PATH: prints "status time_ms", body in $STATE/body
	curl -s -o "$STATE/body" -w '%{http_code} %{time_total}' --max-time 60 \
		-H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HTTP/api/v1/events/$1" |
		awk '{ printf "%s %d\n", $1, $2 * 1000 }'
}

# One byte every 500 ms: the handshake alone (+OK) takes 2.5 s.  The
# per-reply timeout (10 s) is longer than the request deadline (3 s).
read -r st ms < <(req consumer-lag)
is "$st:$(jq -r .code "$STATE/body")" "503:redis_unavailable" "a Redis dripping 1 byte / 500 ms: 503"
ok "$( (( ms >= DEADLINE_MS - 200 && ms <= DEADLINE_MS + 1000 )); echo $?)" \
	"it ended by the request deadline: ${ms} ms for ${DEADLINE_MS} ms"
like "$(grep 'event=redis_error' "$STATE/streamlag.log" | tail -1)" "127.0.0.1:$DRIP" \
	"the log names the node"
like "$(grep 'event=redis_error' "$STATE/streamlag.log" | tail -1)" "deadline" \
	"the log says the request deadline passed"

# Discovery, then collection: 20 ms a byte makes the SCAN reply take about
# half of the deadline and the XINFO replies far more than the rest.  One
# deadline for both: the request ends by it, not by twice it.
sl_stop_pid "$RELAY"
relay 20
sl_stop_pid "$MASTER"
STREAMLAG_STREAM_PATTERN='events:*' serve_on_socket --workers 1
read -r st ms < <(req consumer-lag)
is "$st" 503 "discovery + collection over a dripping Redis: 503"
ok "$( (( ms >= DEADLINE_MS - 200 && ms <= DEADLINE_MS + 1000 )); echo $?)" \
	"discovery and collection ended by one deadline: ${ms} ms for ${DEADLINE_MS} ms"
like "$(grep -c 'event=redis_error' "$STATE/streamlag.log")" '^[1-9]' "the failure is logged"

# The Redis at full speed again: the next requests are right (after the
# node's 1 s back-off at most), the worker the same.
sl_stop_pid "$RELAY"
relay 0
worker=$(pgrep -P "$MASTER")
right() { read -r st _ < <(req consumer-lag); [ "$st:$(jq -c .total_lag "$STATE/body")" = "200:168" ]; }
sl_wait_for 5 "a right answer" right
ok $? "the Redis healthy again: the next request is right (total_lag 168)"
read -r st ms < <(req consumer-lag)
is "$st:$(jq -c .total_lag "$STATE/body")" "200:168" "and the one after it, in ${ms} ms"
is "$(pgrep -P "$MASTER")" "$worker" "the same worker, not restarted"

done_testing
