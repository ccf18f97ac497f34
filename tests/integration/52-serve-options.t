#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# serve's options: TCP beyond loopback refused without STREAMLAG_ALLOW_TCP,
# a TCP listener with an allow-list, --user (as root), and SIGTERM escalating
# to SIGKILL after the grace period.
. "$(dirname "$0")/common.sh"

seeded_redis

err=$("$SL_BIN" serve --listen 0.0.0.0:9 2>&1 >/dev/null); rc=$?
is "$rc:$err" "2:streamlag: STREAMLAG_LISTEN: 0.0.0.0:9 is not a loopback address (127.0.0.0/8 or [::1]; names are not resolved); set STREAMLAG_ALLOW_TCP to the nginx hosts allowed to connect" \
	"TCP beyond loopback without an allow-list: refused"
err=$(STREAMLAG_ALLOW_TCP=10.0.0.x "$SL_BIN" serve --listen 0.0.0.0:9 2>&1 >/dev/null); rc=$?
like "$rc:$err" '^2:streamlag: STREAMLAG_ALLOW_TCP: expected IPv4 addresses' "a bad allow-list: refused"

# A loopback TCP listener, spoken to with cgi-fcgi.
TP=$(sl_free_port)
"$SL_BIN" serve --listen "127.0.0.1:$TP" --workers 1 >>"$STATE/streamlag.log" 2>&1 &
SL_PIDS+=("$!")
fcgi() { env -i REQUEST_METHOD=GET DOCUMENT_URI=/healthz SCRIPT_NAME=/healthz QUERY_STRING= \
	cgi-fcgi -bind -connect "127.0.0.1:$TP" 2>/dev/null | tr -d '\r' | sed '1,/^$/d'; }
up() { [ "$(fcgi)" = '{"status":"ok"}' ]; }
sl_wait_for 10 "the TCP listener" up
ok $? "serve --listen 127.0.0.1:PORT answers FastCGI"
# The response head as streamlag writes it, without nginx in between.
raw=$(env -i REQUEST_METHOD=GET DOCUMENT_URI=/api/v1/events/health SCRIPT_NAME=/x \
	QUERY_STRING= cgi-fcgi -bind -connect "127.0.0.1:$TP" 2>/dev/null | tr -d '\r')
body=$(sed '1,/^$/d' <<<"$raw")
is "$(sed -n 's/^Content-Length: //p' <<<"$raw")" "${#body}" "Content-Length is the body's length"
is "$(sed -n 's/^X-Content-Type-Options: //p' <<<"$raw")" "nosniff" "X-Content-Type-Options: nosniff"
is "$(sed -n '1p' <<<"$raw")" "Status: 401 Unauthorized" "the Status line"
sl_stop_pid "${SL_PIDS[-1]}"

# --user: the workers run as that user, and root cannot be regained.
if [ "$(id -u)" -eq 0 ]; then
	S="$STATE/user.sock"
	sl_start_serve "$S" --workers 1 --user nobody || exit 1
	# The socket exists before the master has forked its worker.
	sl_wait_for 10 "the worker" pgrep -P "$SL_SERVE_PID"
	w=$(pgrep -P "$SL_SERVE_PID" | head -1)
	is "$(ps -o user= -p "$SL_SERVE_PID" | tr -d ' '):$(ps -o user= -p "$w" | tr -d ' ')" "nobody:nobody" \
		"--user nobody: master and workers run as nobody"
	like "$(grep 'event=privileges_dropped' "$STATE/streamlag.log")" 'uid=65534' "the drop is logged"
	is "$(stat -c %U "$(dirname "$S")")" root "the socket's directory is root's: nobody cannot unlink in it"
	sl_stop_pid "$SL_SERVE_PID"
	sl_wait_for 10 "the socket file to go" test ! -e "$S"
	ok $? "--user nobody: the socket file is removed at stop"
	# Stopped by SIGKILL too (the keeper waits for the workers as well).
	sl_start_serve "$S" --workers 1 --user nobody || exit 1
	mapfile -t kids < <(pgrep -P "$SL_SERVE_PID")
	{ kill -KILL "$SL_SERVE_PID" "${kids[@]}"; wait "$SL_SERVE_PID"; } 2>/dev/null
	sl_wait_for 10 "the socket file to go" test ! -e "$S"
	ok $? "--user nobody: the socket file is removed after a SIGKILL of master and workers"
else
	ok 0 "# SKIP --user needs root"
fi

# SIGHUP re-reads --config: thresholds from the file take effect.
C="$STATE/cfg.sock"
printf 'STREAMLAG_LAG_DEGRADED=500\nSTREAMLAG_LAG_UNHEALTHY=5000\n' >"$STATE/streamlag.env"
sl_start_serve "$C" --workers 1 --config "$STATE/streamlag.env" || exit 1
TOKEN=$("$SL_BIN" token --ttl 600)
health() { env -i REQUEST_METHOD=GET DOCUMENT_URI=/api/v1/events/health SCRIPT_NAME=/x \
	QUERY_STRING= HTTP_AUTHORIZATION="Bearer $TOKEN" cgi-fcgi -bind -connect "$C" 2>/dev/null |
	tr -d '\r' | sed '1,/^$/d' | jq -r .status; }
is "$(health)" healthy "--config: lag 123 is healthy with STREAMLAG_LAG_DEGRADED=500"
printf 'STREAMLAG_LAG_DEGRADED=50\nSTREAMLAG_LAG_UNHEALTHY=5000\n' >"$STATE/streamlag.env"
n=$(grep -c 'event=reloaded' "$STATE/streamlag.log")
kill -HUP "$SL_SERVE_PID"
reloaded() { [ "$(grep -c 'event=reloaded' "$STATE/streamlag.log")" -gt "$n" ] && [ "$(health)" = degraded ]; }
sl_wait_for 10 "the reload" reloaded
ok $? "SIGHUP re-read --config: the same lag is now degraded (threshold 50)"
sl_stop_pid "$SL_SERVE_PID"

# SIGTERM with a request stuck longer than --grace-ms: SIGKILL, bounded.
S="$STATE/grace.sock"
STREAMLAG_REDIS_TIMEOUT_MS=10000 sl_start_serve "$S" --workers 1 --grace-ms 500 || exit 1
M=$SL_SERVE_PID
R CLIENT PAUSE 5000 ALL >/dev/null
TOKEN=$("$SL_BIN" token --ttl 600)
env -i REQUEST_METHOD=GET DOCUMENT_URI=/api/v1/events/health SCRIPT_NAME=/api/v1/events/health \
	QUERY_STRING= HTTP_AUTHORIZATION="Bearer $TOKEN" cgi-fcgi -bind -connect "$S" >/dev/null 2>&1 &
# In flight: the worker is no longer waiting in accept(2) (43, accept4 288)
# but on Redis, which the pause holds.
W=$(pgrep -P "$M" | head -1)
busy() { local n; read -r n _ <"/proc/$W/syscall" && [ "$n" != 43 ] && [ "$n" != 288 ] && [ "$n" != running ]; }
sl_wait_for 5 "a request in flight" busy
t0=$(sl_now_ms)
kill -TERM "$M"
sl_wait_for 5 "the master to exit" sl_pid_gone "$M"
ok $? "stuck request: the master exits after the grace period ($(( $(sl_now_ms) - t0 )) ms)"
grep -q 'event=stop_escalated grace_ms=500' "$STATE/streamlag.log"
ok $? "the escalation to SIGKILL is logged"
ok "$( [ ! -e "$S" ]; echo $?)" "the socket file is removed"

done_testing
