#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# serve's options: TCP beyond loopback refused without STREAMLAG_ALLOW_TCP,
# a TCP listener with an allow-list, --user (as root), SIGHUP resizing the
# pool and naming what needs a restart, and SIGTERM escalating to SIGKILL
# after the grace period.
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

# SIGHUP applies STREAMLAG_WORKERS from the file: 2, then 4, then 1 worker,
# each of them answering; a changed listen address needs a restart and the
# log names it.
R="$STATE/resize.sock"
E="$STATE/resize.env"
RLOG="$STATE/resize.log"
printf 'STREAMLAG_LISTEN=unix:%s\nSTREAMLAG_WORKERS=2\n' "$R" >"$E"
"$SL_BIN" serve --config "$E" >>"$RLOG" 2>&1 &
M=$!
SL_PIDS+=("$M")
sl_wait_for 10 "the socket" test -S "$R"
kids() { pgrep -P "$M" | sort; }
has_kids() { [ "$(kids | wc -l)" -eq "$1" ]; }
# new_kids N OLD...: N workers, none of them one from before the reload (a
# reload starts the new workers before the old ones have left).
new_kids() {
	local n=$1 p; shift
	has_kids "$n" || return 1
	for p in "$@"; do kids | grep -qx "$p" && return 1; done
	return 0
}
hz() { env -i REQUEST_METHOD=GET DOCUMENT_URI=/healthz SCRIPT_NAME=/healthz QUERY_STRING= \
	cgi-fcgi -bind -connect "$R" 2>/dev/null | tr -d '\r' | sed '1,/^$/d'; }
# every_answers FROM_LINE: one request more, then 0 when every worker has
# answered one (its pid on an event=request line) since that log line.
every_answers() {
	local p
	[ "$(hz)" = '{"status":"ok"}' ] || return 1
	for p in $(kids); do
		tail -n +"$1" "$RLOG" | grep -q "pid=$p event=request " || return 1
	done
}
reloads() { grep -c 'event=reloaded' "$RLOG"; }
resize() {	# resize N: the file says N workers; SIGHUP; wait for N
	local n old
	n=$(reloads)
	old=$(kids)
	sed -i "s/^STREAMLAG_WORKERS=.*/STREAMLAG_WORKERS=$1/" "$E"
	kill -HUP "$M"
	sl_wait_for 10 "the reload" eval '[ "$(reloads)" -gt '"$n"' ]'
	# shellcheck disable=SC2086
	sl_wait_for 15 "$1 workers" new_kids "$1" $old
}
sl_wait_for 10 "2 workers" has_kids 2
ok $? "serve --config: STREAMLAG_WORKERS=2 from the file, 2 workers"
for n in 4 1; do
	resize "$n"
	ok $? "SIGHUP with STREAMLAG_WORKERS=$n: $n workers are children of the master"
	from=$(( $(wc -l <"$RLOG") + 1 ))
	sl_wait_for 10 "every worker to answer" every_answers "$from"
	ok $? "each of the $n workers answers"
done
like "$(grep 'event=reloaded' "$RLOG" | tail -1)" 'workers=1 workers_before=4' "the reload logs the new size"
ok "$(! grep -q 'event=reload_needs_restart' "$RLOG"; echo $?)" "no restart needed for STREAMLAG_WORKERS"
R2="$STATE/resize2.sock"
sed -i "s|^STREAMLAG_LISTEN=.*|STREAMLAG_LISTEN=unix:$R2|" "$E"
kill -HUP "$M"
sl_wait_for 10 "the restart notice" grep -q 'event=reload_needs_restart' "$RLOG"
like "$(grep 'event=reload_needs_restart' "$RLOG")" \
	'level=warn .*settings=STREAMLAG_LISTEN count=1 msg="changed, needs a restart; the running values stay"' \
	"a changed listen address: the log names STREAMLAG_LISTEN as needing a restart"
[ "$(hz)" = '{"status":"ok"}' ] && [ ! -e "$R2" ]
ok $? "serving goes on at the old address"
n=$(grep -c 'event=reload_needs_restart' "$RLOG")
kill -HUP "$M"
sl_wait_for 10 "a second notice" eval '[ "$(grep -c event=reload_needs_restart "$RLOG")" -gt '"$n"' ]'
ok $? "one line per SIGHUP while the change waits for a restart"
sl_stop_pid "$M"

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
