#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Redis stopped, started again, and frozen: fast 503s in the seed's shapes,
# no hung worker, and recovery without restarting streamlag.
. "$(dirname "$0")/common.sh"

seeded_redis
export STREAMLAG_REDIS_TIMEOUT_MS=300
# One worker, so that the back-off it keeps is the one every request meets.
serve_behind_nginx --workers 1
BASE="http://127.0.0.1:$HTTP/api/v1/events"
TOKEN=$("$SL_BIN" token --ttl 600)

req() {	# req PATH: prints "status time_ms", body in $STATE/body
	curl -s -o "$STATE/body" -w '%{http_code} %{time_total}' \
		-H "Authorization: Bearer $TOKEN" "$BASE/$1" |
		awk '{ printf "%s %d\n", $1, $2 * 1000 }'
}

read -r st _ < <(req consumer-lag)
is "$st:$(jq -c '.total_lag' "$STATE/body")" "200:168" "Redis up: 200"

sl_stop_redis "$PORT"
read -r st ms < <(req consumer-lag)
is "$st" 503 "Redis stopped: consumer-lag 503"
json_is "$(cat "$STATE/body")" '{"streams":{"events:chat":{"lag":-1,"consumers":[],"error":"Cannot connect to Redis","group":"signalr-consumers","status":"error"},"events:ticket":{"lag":-1,"consumers":[],"error":"Cannot connect to Redis","group":"signalr-consumers","status":"error"},"events:remote":{"lag":-1,"consumers":[],"error":"Cannot connect to Redis","group":"signalr-consumers","status":"error"}},"total_lag":0,"stream_count":0,"consumer_group":"signalr-consumers","error":"Cannot connect to Redis","code":"redis_unavailable"}' \
	"Redis stopped: consumer-lag keeps the seed shape"
# Refused at once, not timed out: the log says which, whatever the load.
like "$(grep 'event=redis_error what=connect' "$STATE/streamlag.log" | tail -1)" ' timeout=0 backoff_ms=0 ' \
	"Redis stopped: the connection is refused, with no timeout and no back-off"
ok "$( (( ms < 3000 )); echo $?)" "Redis stopped: answered fast (${ms} ms)"
read -r st ms < <(req health)
is "$st:$(cat "$STATE/body")" '503:{"status":"unhealthy","redis_connected":false,"error":"Cannot connect to Redis","code":"redis_unavailable"}' \
	"Redis stopped: health is the seed's unhealthy body with 503"
read -r st ms < <(req streams)
is "$st:$(cat "$STATE/body")" '503:{"error":"Cannot connect to Redis","code":"redis_unavailable"}' \
	"Redis stopped: streams 503 with the error shape"

# Back on the same port: the very next request succeeds.
seeded_redis --same-port
read -r st _ < <(req consumer-lag)
is "$st:$(jq -c '.total_lag' "$STATE/body")" "200:168" "Redis restarted: the next request succeeds"
is "$(pgrep -c -P "$MASTER")" 1 "the same worker, not restarted"

# A connection that died between requests (restart, CLIENT KILL, idle
# timeout) costs no request: the next one reconnects and succeeds.
R CLIENT KILL TYPE normal >/dev/null
read -r st _ < <(req consumer-lag)
is "$st:$(jq -c '.total_lag' "$STATE/body")" "200:168" "connection killed between requests: the next request succeeds"
sl_stop_redis "$PORT"
seeded_redis --same-port
read -r st _ < <(req health)
is "$st:$(jq -r .status "$STATE/body")" "200:degraded" "Redis restarted while connected: the next request succeeds"

# Frozen Redis (SIGSTOP: it accepts connections and answers nothing, for
# as long as the test says): the answer comes after the 300 ms timeout,
# then streamlag fails fast for its 1 s back-off without asking Redis
# again, and the first request after the back-off succeeds.  What is
# proved does not hang on the machine's speed: a request that asked the
# frozen Redis leaves a timeout in the log; one that failed fast does not.
timeouts() { grep -c 'event=redis_error what=[a-z]* timeout=1 backoff_ms=1000' "$STATE/streamlag.log"; }
kill -STOP "$SL_REDIS_PID"
t0=$(sl_now_ms)
read -r st ms < <(req consumer-lag)
is "$st:$(jq -r .code "$STATE/body")" "503:redis_unavailable" "frozen Redis: 503"
ok "$( (( ms >= 250 && ms < 5000 )); echo $?)" "frozen Redis: answered after the 300 ms timeout (${ms} ms)"
grep -q 'event=redis_error what=pipeline timeout=1 backoff_ms=1000' "$STATE/streamlag.log"
ok $? "the timeout and its back-off are logged"
is "$(timeouts)" 1 "one timeout so far"
read -r st ms < <(req consumer-lag)
is "$st" 503 "during the back-off: 503"
is "$(timeouts)" 1 "during the back-off: failed fast, without asking Redis (${ms} ms)"
kill -CONT "$SL_REDIS_PID"

# Redis answers again; streamlag keeps failing fast until its 1 s back-off
# has passed, and the first request after it succeeds.
other=0 n503=0 first_ok=""
until [ -n "$first_ok" ] || (( $(sl_now_ms) - t0 > 15000 )); do
	read -r st ms < <(req consumer-lag)
	if [ "$st" = 200 ]; then
		first_ok=$(( $(sl_now_ms) - t0 ))
	elif [ "$st" = 503 ]; then
		n503=$((n503 + 1))
	else
		other=$((other + 1))
		echo "# during the back-off: $st in $ms ms"
	fi
	sleep 0.05
done
is "$other:$(timeouts)" 0:1 "until the back-off ends, every answer is a 503 that did not ask Redis ($n503 of them)"
# The back-off started after the request sent at t0 had waited its 300 ms
# timeout, so a 200 cannot be seen earlier than 1300 ms after t0 (50 ms
# spared for the timer).
ok "$( [ -n "$first_ok" ] && (( first_ok >= 1250 )); echo $?)" \
	"the first 200 comes once the 1 s back-off has passed (${first_ok:-never} ms after the frozen request was sent)"
is "$(jq -c '.total_lag' "$STATE/body")" 168 "the body after recovery is the full answer"
is "$(pgrep -c -P "$MASTER")" 1 "recovered without restarting the worker"
ok "$(grep -q 'topsecret\|Authorization' "$STATE/streamlag.log"; [ $? -eq 1 ]; echo $?)" "no secret in the log"

done_testing
