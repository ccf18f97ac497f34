#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The prefork master under load: a killed worker costs its one request, 10
# SIGHUP reloads cost none, a rotated JWT secret takes effect on SIGHUP,
# SIGTERM lets in-flight requests finish, deadlines, recycling, crash
# throttling, and the socket inherited on fd 0 or through LISTEN_FDS.
. "$(dirname "$0")/common.sh"

seeded_redis
LOG="$STATE/streamlag.log"
printf '%s\n' "first-secret-0123456789abcdef0123456789" >"$STATE/jwt.secret"
unset STREAMLAG_JWT_SECRET
export STREAMLAG_JWT_SECRET_FILE="$STATE/jwt.secret" STREAMLAG_REDIS_TIMEOUT_MS=5000
serve_behind_nginx --workers 3 --request-deadline-ms 2500
URL="http://127.0.0.1:$HTTP/api/v1/events/consumer-lag"
TOKEN=$("$SL_BIN" token --ttl 600)

workers() { pgrep -P "$MASTER" | wc -l; }
has_workers() { [ "$(workers)" -eq "$1" ]; }
log_count() { grep -c -- "$1" "$LOG"; }
log_grows() { [ "$(log_count "$1")" -gt "$2" ]; }

# wrk_start SECONDS: load in the background; wrk_result: "requests non2xx errors".
wrk_start() {
	wrk -t2 -c8 -d"$1"s -H "Authorization: Bearer $TOKEN" "$URL" >"$STATE/wrk.out" 2>&1 &
	WRK=$!
}
wrk_result() {
	awk '/requests in/ { r = $1 } /Non-2xx/ { n = $NF }
	     /Socket errors/ { gsub(/,/, ""); e = $4 + $6 + $8 + $10 }
	     END { printf "%d %d %d\n", r, n, e }' "$STATE/wrk.out"
}

is "$(workers)" 3 "three workers"
is "$(curl -s -H "Authorization: Bearer $TOKEN" "$URL" | jq .total_lag)" 168 "serving"

# A worker killed under load: replaced, and only its in-flight request lost.
wrk_start 4
sl_wait_for 5 "load" log_grows 'event=request' 20
victim=$(pgrep -P "$MASTER" | head -1)
kill -KILL "$victim"
wait "$WRK"; read -r reqs non2xx errs <<<"$(wrk_result)"
ok "$( (( reqs > 100 && non2xx <= 1 && errs == 0 )); echo $?)" \
	"SIGKILL under load: $reqs requests, $non2xx failed (at most the one in flight)"
sl_wait_for 5 "the replacement" has_workers 3
ok $? "the killed worker was replaced"
like "$(grep "event=worker_exit pid=$victim " "$LOG")" "reason=crashed status=-1 signal=9 uptime_ms=[0-9]+" \
	"its signal and uptime are logged"

# 10 reloads under load: no failed request.
wrk_start 8
for i in $(seq 10); do
	n=$(log_count 'event=reloaded')
	kill -HUP "$MASTER"
	sl_wait_for 5 "reload $i" log_grows 'event=reloaded' "$n" || break
	sl_wait_for 5 "workers after reload $i" has_workers 3
done
wait "$WRK"; read -r reqs non2xx errs <<<"$(wrk_result)"
is "$(log_count 'event=reloaded')" 10 "10 reloads done"
ok "$( (( reqs > 100 && non2xx == 0 && errs == 0 )); echo $?)" \
	"10 SIGHUP reloads under load: $reqs requests, $non2xx non-2xx, $errs socket errors"

# JWT secret rotation through SIGHUP.
printf '%s\n' "second-secret-0123456789abcdef0123456789" >"$STATE/jwt.secret"
NEW=$("$SL_BIN" token --ttl 600)
n=$(log_count 'event=reloaded')
kill -HUP "$MASTER"
sl_wait_for 5 "the rotation" log_grows 'event=reloaded' "$n"
sl_wait_for 5 "new workers" has_workers 3
gone() { [ "$(log_count 'reason=retired')" -ge 33 ]; }
sl_wait_for 10 "old workers gone" gone
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $NEW" "$URL")" 200 "rotated secret: a new token is valid"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL")" 401 "rotated secret: an old token is refused"
TOKEN=$NEW

# A bad config on SIGHUP keeps the old one.
printf 'short\n' >"$STATE/jwt.secret"
kill -HUP "$MASTER"
sl_wait_for 5 "the refused reload" log_grows 'event=reload_failed' 0
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL")" 200 "a bad reload keeps serving with the old config"
printf '%s\n' "second-secret-0123456789abcdef0123456789" >"$STATE/jwt.secret"

# Deadline: a request stuck past --request-deadline-ms is killed by the master.
R CLIENT PAUSE 4000 WRITE >/dev/null	# lets XINFO run
R CLIENT PAUSE 4000 ALL >/dev/null
st=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL")
R CLIENT UNPAUSE >/dev/null
is "$st" 502 "stuck request: the worker is killed at the deadline (nginx: 502)"
like "$(grep 'event=request_deadline' "$LOG" | tail -1)" 'busy_ms=2[5-9][0-9][0-9]' "the deadline kill is logged"
sl_wait_for 5 "the replacement" has_workers 3
ok $? "a worker killed at its deadline is replaced"

# Crash throttling: workers that die at once are respawned ever more slowly.
for i in 1 2 3 4; do
	sl_wait_for 10 "a worker to kill" has_workers 3
	kill -KILL "$(pgrep -P "$MASTER" | tail -1)"
done
sl_wait_for 10 "throttle" log_grows 'event=respawn_throttled' 1
like "$(grep 'event=respawn_throttled' "$LOG" | tail -1)" 'delay_ms=(200|400|800) streak=[2-9]' \
	"repeated crashes are throttled with a growing delay"
sl_wait_for 15 "recovery" has_workers 3
ok $? "all workers back after the throttle"

# SIGTERM with a request in flight: it completes, then a bounded exit.
R CLIENT PAUSE 1500 ALL >/dev/null
curl -s -o "$STATE/inflight" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL" >"$STATE/inflight.code" &
CURL=$!
# nginx holds one connection to the socket per request in flight.
in_flight() { ss -xn | grep -q -- "$SOCK"; }
sl_wait_for 5 "a request in flight" in_flight
t0=$(sl_now_ms)
kill -TERM "$MASTER"
wait "$CURL"
is "$(cat "$STATE/inflight.code"):$(jq .total_lag "$STATE/inflight")" "200:168" "SIGTERM: the request in flight completed"
sl_wait_for 10 "the master to exit" sl_pid_gone "$MASTER"
ok $? "SIGTERM: the master exited within 10 s ($(( $(sl_now_ms) - t0 )) ms, the request took ~1.5 s)"
ok "$( [ ! -e "$SOCK" ]; echo $?)" "SIGTERM: the socket file is removed"
ok "$(pgrep -f "serve --listen unix:$SOCK" >/dev/null; [ $? -eq 1 ]; echo $?)" "no worker left behind"

# --max-requests: workers are recycled, requests keep succeeding.
serve_on_socket --workers 2 --max-requests 5
fails=0
for i in $(seq 30); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL")" = 200 ] ||
		fails=$((fails + 1))
done
is "$fails" 0 "--max-requests 5: 30 requests, all 200"
ok "$( (( $(log_count 'reason=recycled') >= 4 )); echo $?)" "workers recycled after 5 requests each"
sl_stop_pid "$MASTER"

# The socket on fd 0 (spawn-fcgi), and through LISTEN_FDS (systemd).
fcgi_get() {	# fcgi_get SOCKET PATH: one FastCGI request, no nginx
	env -i REQUEST_METHOD=GET DOCUMENT_URI="$2" SCRIPT_NAME="$2" QUERY_STRING= \
		cgi-fcgi -bind -connect "$1" 2>/dev/null | tr -d '\r' | sed '1,/^$/d'
}
S0="$STATE/spawn.sock"
spawn-fcgi -s "$S0" -M 0600 -P "$STATE/spawn.pid" -- "$SL_BIN" serve --workers 1 >/dev/null 2>>"$LOG"
SL_PIDS+=("$(cat "$STATE/spawn.pid")")
is "$(fcgi_get "$S0" /healthz)" '{"status":"ok"}' "spawn-fcgi: the socket on fd 0 is served"
S3="$STATE/activated.sock"
perl -MSocket -MPOSIX -e '
	$^F = 100;	# no close-on-exec: fd 3 must survive the exec
	socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
	bind($s, pack_sockaddr_un($ARGV[0])) or die "bind: $!";
	listen($s, 16) or die "listen: $!";
	POSIX::dup2(fileno($s), 3) or die "dup2: $!";
	$ENV{LISTEN_FDS} = 1; $ENV{LISTEN_PID} = $$;
	exec { $ARGV[1] } @ARGV[1 .. $#ARGV] or die "exec: $!";
' "$S3" "$SL_BIN" serve --workers 1 2>>"$LOG" &
SL_PIDS+=("$!")
got() { [ "$(fcgi_get "$S3" /healthz)" = '{"status":"ok"}' ]; }
sl_wait_for 5 "the activated socket" got
ok $? "LISTEN_FDS: the socket on fd 3 is served"
is "$(grep -c 'event=socket_inherited from=systemd fd=3' "$LOG")" 1 "... and logged as inherited"

done_testing
