#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Bodies larger than the worker's output buffer (64 KiB) go to the client as
# they are rendered: through nginx they arrive whole and chunked, the same as
# `streamlag get` builds them whole; HEAD keeps its Content-Length; a client
# that goes away mid-body cuts the answer (no whole-looking end) and the
# worker serves the next request.
. "$(dirname "$0")/common.sh"

N=3000
PORT=$(sl_free_port)
sl_start_redis "$STATE" "$PORT" || exit 1
export REDIS_URL
REDIS_URL=$(sl_redis_url "$PORT")
R() { redis-cli -p "$PORT" "$@"; }
# N streams, a group each, i entries behind on big:i.
R EVAL "for i = 1, tonumber(ARGV[1]) do
	local k = 'big:' .. i
	for j = 1, i % 5 + 1 do redis.call('XADD', k, '*', 'f', 'v') end
	redis.call('XGROUP', 'CREATE', k, 'g', '0')
end return 1" 0 "$N" >/dev/null
unset STREAMLAG_STREAMS
export STREAMLAG_STREAM_PATTERN='big:*' EVENT_TRANSPORT_CONSUMER_GROUP=g
want_total=$(( (N / 5) * 15 ))	# i % 5 + 1 over i = 1..N, N a multiple of 5
serve_behind_nginx --workers 1
BASE="http://127.0.0.1:$HTTP"
TOKEN=$("$SL_BIN" token)
get() { curl -s -o "$STATE/body" -D "$STATE/headers" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$@"; }
header() { tr -d '\r' <"$STATE/headers" | awk -v h="$1" 'tolower($0) ~ "^" h ":" { sub(/^[^:]*: */, ""); print }'; }

is "$(get "$BASE/api/v1/events/consumer-lag")" 200 "consumer-lag over $N discovered streams"
size=$(wc -c <"$STATE/body")
ok "$( (( size > 4 * 65536 )); echo $?)" "the body ($size bytes) is several output buffers"
is "$(header transfer-encoding)" chunked "sent as it was rendered: chunked, no Content-Length"
is "$(header content-length)" "" "no Content-Length"
is "$(jq -c '[.stream_count, (.streams | length), .total_lag]' "$STATE/body")" "[$N,$N,$want_total]" \
	"whole: $N streams, total lag $want_total"
noage='del(.. | .idle_ms?, .time_lag_ms?, .oldest_pending_ms?)'
is "$(jq -cS "$noage" "$STATE/body" | sha256sum)" \
	"$("$SL_BIN" get /api/v1/events/consumer-lag | jq -cS "$noage" | sha256sum)" \
	"the same answer as streamlag get, which builds it whole"

is "$(get "$BASE/metrics")" 200 "/metrics over $N streams"
is "$(grep -c '^streamlag_group_lag{' "$STATE/body")" "$N" "one lag sample per group"
is "$(tail -1 "$STATE/body" | cut -d'{' -f1)" streamlag_build_info "whole, to its last family"
is "$(header transfer-encoding)" chunked "chunked"
if command -v promtool >/dev/null; then
	promtool check metrics <"$STATE/body" >"$STATE/promtool.out" 2>&1
	ok $? "promtool accepts the streamed exposition"
fi

# Past STREAMLAG_METRICS_MEMORY_MB (0: at once) each family's lines go on
# in a temporary file: with none to be had, a 500 that says so, never a
# short exposition.  In memory (the default 16 MB), the same exposition.
# (The ages, *_seconds, move between the two.)
noage() { grep -v -E '^[a-z_]+_seconds(\{| )'; }
is "$(STREAMLAG_METRICS_MEMORY_MB=0 "$SL_BIN" get /metrics | noage | sha256sum)" \
	"$("$SL_BIN" get /metrics | noage | sha256sum)" \
	"staged in files or in memory: the same exposition, ages aside"
out=$(TMPDIR=/nonexistent/streamlag STREAMLAG_METRICS_MEMORY_MB=0 "$SL_BIN" get /metrics 2>"$STATE/stage.err"); rc=$?
is "$rc:$out" '1:{"error":"system error","code":"internal"}' "/metrics with no temporary file: 500 internal, exit 1"
like "$(cat "$STATE/stage.err")" 'event=metrics_stage_failed tmpdir="/nonexistent/streamlag"' "logged with the directory"

# HEAD is rendered whole (its Content-Length needs the body), and sent empty.
is "$(get -I "$BASE/metrics")" 200 "HEAD /metrics"
ok "$( (( $(header content-length) > 65536 )); echo $?)" "HEAD: Content-Length $(header content-length)"

# A client that leaves mid-body, straight on FastCGI (a unix socket, whose
# buffers hold less than the body): the worker's write fails, the answer is
# cut (never ended as if whole), and the worker goes on.
sl_stop_pid "$SL_NGINX_PID"
sl_stop_pid "$MASTER"
S="$STATE/direct.sock"
"$SL_BIN" serve --listen "unix:$S" --workers 1 >>"$STATE/serve-direct.log" 2>&1 &
SL_PIDS+=("$!")
fcgi() { env -i REQUEST_METHOD=GET DOCUMENT_URI="$1" SCRIPT_NAME=/x QUERY_STRING= \
	HTTP_AUTHORIZATION="Bearer $TOKEN" cgi-fcgi -bind -connect "$S" 2>/dev/null; }
up() { fcgi /healthz | grep -q '"ok"'; }
sl_wait_for 10 "the socket" up
# The client reads the head and a little, then stops reading (the pipe and
# the socket fill up, the worker waits) and goes away.
mkfifo "$STATE/slow"
env -i REQUEST_METHOD=GET DOCUMENT_URI=/api/v1/events/consumer-lag SCRIPT_NAME=/x QUERY_STRING= \
	HTTP_AUTHORIZATION="Bearer $TOKEN" cgi-fcgi -bind -connect "$S" >"$STATE/slow" 2>/dev/null &
client=$!
exec 9<"$STATE/slow"
head -c 1000 <&9 >/dev/null
kill -KILL "$client"	# libfcgi makes SIGTERM a flag (PITFALLS)
wait "$client" 2>/dev/null
exec 9<&-
cut_logged() { grep -q 'path="/api/v1/events/consumer-lag" status=200 .*body=cut' "$STATE/serve-direct.log"; }
sl_wait_for 10 "the cut body in the log" cut_logged
ok $? "the worker saw the client go and logged the body as cut"
is "$(fcgi /api/v1/events/consumer-lag | tr -d '\r' | sed '1,/^$/d' | jq -c '.stream_count')" "$N" \
	"and answers the next request whole"

done_testing
