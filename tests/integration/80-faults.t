#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Faults injected for real, and what a user sees (docs/reliability.md):
# Redis killed mid-pipeline, restarted with other data, refusing commands
# (NOPERM), busy with a script (BUSY), loading its dataset (LOADING); nginx
# reloaded under load; every worker killed at once; the master killed; a
# socket directory that cannot be written, and a full disk.
# (A frozen Redis and a stopped one: 40-redis-down.t.)
. "$(dirname "$0")/common.sh"

seeded_redis
export STREAMLAG_REDIS_TIMEOUT_MS=1000
# One worker first: its one Redis connection is the one every fault meets.
serve_behind_nginx --workers 1
FIRST_MASTER=$MASTER
BASE="http://127.0.0.1:$HTTP/api/v1/events"
TOKEN=$("$SL_BIN" token --ttl 3600)
LOG="$STATE/streamlag.log"

req() {	# req PATH: prints "status time_ms", body in $STATE/body
	curl -s -o "$STATE/body" -w '%{http_code} %{time_total}' --max-time 20 \
		-H "Authorization: Bearer $TOKEN" "$BASE/$1" |
		awk '{ printf "%s %d\n", $1, $2 * 1000 }'
}
body() { cat "$STATE/body"; }
lags() { jq -c '[.streams[] | .lag], .total_lag' "$STATE/body" | paste -sd' '; }
errors() { jq -r '[.streams[] | .error // "none"] | unique | join("|")' "$STATE/body"; }
worker_pids() { pgrep -P "$1" | sort | paste -sd' '; }

read -r st _ < <(req consumer-lag)
is "$st $(lags)" "200 [123,45,0] 168" "the seed example is answered"
W1=$(worker_pids "$MASTER")

# --- Redis killed mid-pipeline -------------------------------------------
# Redis is stopped (SIGSTOP), a request writes its pipeline into the open
# connection (seen as bytes waiting in Redis's receive queue), and Redis is
# killed with those commands unanswered.
redis_recvq() {	# bytes queued towards Redis on its connections
	ss -Htn state established "( sport = :$PORT )" | awk '{ s += $1 } END { print s + 0 }'
}
queued() { (( $(redis_recvq) > 0 )); }
kill -STOP "$SL_REDIS_PID"
t0=$(sl_now_ms)
req consumer-lag >"$STATE/midpipe" &
CURL=$!
sl_wait_for 10 "the pipeline written to the stopped Redis" queued
ok $? "the request's pipeline reached Redis ($(redis_recvq) bytes unanswered)"
kill -KILL "$SL_REDIS_PID"
kill -CONT "$SL_REDIS_PID" 2>/dev/null
wait "$CURL"
wait "$SL_REDIS_PID" 2>/dev/null
read -r st ms <"$STATE/midpipe"
is "$st:$(jq -r .code "$STATE/body")" "503:redis_unavailable" \
	"killed mid-pipeline: that request gets 503 redis_unavailable"
ok "$( (( $(sl_now_ms) - t0 < STREAMLAG_REDIS_TIMEOUT_MS + 10000 )); echo $?)" \
	"killed mid-pipeline: answered, not hung (${ms} ms)"
is "$(worker_pids "$MASTER")" "$W1" "killed mid-pipeline: the worker is the same"

# Back with the same data: answers are right again without a restart.
seeded_redis --same-port
lag_is() {	# lag_is "LAGS": the next 200 answer's lags (503s are retried)
	local st
	read -r st _ < <(req consumer-lag)
	[ "$st" = 200 ] && [ "$(lags)" = "$1" ]
}
sl_wait_for 5 "a right answer after the restart" lag_is "[123,45,0] 168"
ok $? "Redis back: the next answers are right ($(lags))"

# --- Redis paused longer than the timeout --------------------------------------
R CLIENT PAUSE 3000 ALL >/dev/null
t0=$(sl_now_ms)
read -r st ms < <(req consumer-lag)
is "$st:$(jq -r .code "$STATE/body")" "503:redis_unavailable" "paused past the timeout: 503"
ok "$( (( ms < STREAMLAG_REDIS_TIMEOUT_MS + 1000 )); echo $?)" \
	"paused past the timeout: answered within the timeout + 1 s (${ms} ms)"
sl_wait_for 10 "a right answer after the pause" lag_is "[123,45,0] 168"
ok $? "paused: right again once the pause is over ($(( $(sl_now_ms) - t0 )) ms after it began)"

# --- Redis restarted with different data -----------------------------------
# Every answer after the restart that is a 200 must describe the new data:
# a stale 168 (the old data) is a failure, a 503 while reconnecting is not.
sl_stop_redis "$PORT"
seeded_redis --empty --same-port
g=signalr-consumers
declare -A added=([events:chat]=40 [events:ticket]=70 [events:remote]=25)
declare -A read_=([events:chat]=10 [events:ticket]=0 [events:remote]=25)
{
	for s in events:chat events:ticket events:remote; do
		echo "XGROUP CREATE $s $g 0 MKSTREAM"
		for ((i = 1; i <= added[$s]; i++)); do echo "XADD $s * n $i"; done
		(( read_[$s] > 0 )) &&
			echo "XREADGROUP GROUP $g c1 COUNT ${read_[$s]} STREAMS $s >"
	done
} | R >/dev/null
want="[$((40 - 10)),$((70 - 0)),$((25 - 25))] $((30 + 70 + 0))"
stale=0 right=0
for i in $(seq 40); do
	read -r st _ < <(req consumer-lag)
	if [ "$st" = 200 ]; then
		if [ "$(lags)" = "$want" ]; then right=$((right + 1)); else
			stale=$((stale + 1)); echo "# answer $i: $(lags)"; fi
	fi
	(( right >= 5 )) && break
	sleep 0.1
done
is "$stale" 0 "restarted with different data: no 200 answer describes the old data"
ok "$( (( right >= 5 )); echo $?)" "restarted with different data: the new lags $want ($right answers)"

# --- NOPERM ------------------------------------------------------------------
# ACL changes apply to open connections at once.
R ACL SETUSER "$SL_REDIS_USER" '-xinfo|consumers' >/dev/null
read -r st _ < <(req consumer-lag)
is "$st:$(errors)" "200:NOPERM this user has no permissions to run the 'xinfo|consumers' command" \
	"NOPERM: each stream carries Redis's refusal"
is "$(jq -c '[.total_lag, .stream_count, ([.streams[].status] | unique)]' "$STATE/body")" \
	'[0,0,["error"]]' "NOPERM: no stream counted, every status error"
read -r st _ < <(req health)
is "$st:$(jq -c '[.status, .redis_connected, .streams.unhealthy]' "$STATE/body")" \
	'503:["unhealthy",true,3]' "NOPERM: health 503, unhealthy, Redis connected"
R ACL SETUSER "$SL_REDIS_USER" '+xinfo|consumers' >/dev/null
read -r st _ < <(req consumer-lag)
is "$st $(lags)" "200 $want" "NOPERM lifted: right again"

# --- BUSY: a script that does not end ----------------------------------------
R CONFIG SET busy-reply-threshold 100 >/dev/null
R EVAL 'while true do end' 0 >/dev/null 2>&1 &
SCRIPT=$!
busy() { R PING 2>&1 | grep -q '^BUSY'; }
sl_wait_for 10 "Redis BUSY" busy
read -r st _ < <(req consumer-lag)
like "$st:$(errors)" '^200:BUSY Redis is busy running a script' "BUSY: each stream carries Redis's BUSY"
read -r st _ < <(req health)
is "$st:$(jq -r .status "$STATE/body")" "503:unhealthy" "BUSY: health 503"
R SCRIPT KILL >/dev/null
wait "$SCRIPT" 2>/dev/null
sl_wait_for 5 "right after SCRIPT KILL" lag_is "$want"
ok $? "BUSY over: right again"

# --- LOADING: a restart that loads a dataset slowly ----------------------------
# 20 000 filler keys saved with the streams; key-load-delay (µs per key)
# stretches the load over about 2 s, and Redis answers LOADING meanwhile.
R CONFIG SET busy-reply-threshold 5000 >/dev/null
for ((i = 0; i < 20000; i++)); do printf 'SET filler:%d x\r\n' "$i"; done |
	R --pipe >/dev/null
R SAVE >/dev/null
R SHUTDOWN NOSAVE >/dev/null 2>&1
wait "$SL_REDIS_PID" 2>/dev/null
sl_wait_for 10 "Redis stopped" sl_port_closed "$PORT"
# shellcheck disable=SC2086
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$STATE" --save '' \
	--dbfilename dump.rdb --appendonly no --logfile "$STATE/redis-loading.log" \
	--key-load-delay 100 --loading-process-events-interval-bytes 1024 \
	--user "$SL_REDIS_USER" $SL_REDIS_ACL >/dev/null 2>&1 &
SL_REDIS_PID=$!
SL_PIDS+=("$SL_REDIS_PID")
loading() { R INFO persistence 2>/dev/null | grep -q '^loading:1'; }
sl_wait_for 10 "Redis loading" loading
read -r st _ < <(req consumer-lag)
loading_now=$(loading && echo yes)
if [ "$st" = 200 ]; then
	like "$st:$(errors)" '^200:LOADING Redis is loading the dataset in memory$' \
		"LOADING: each stream carries Redis's LOADING"
else
	is "$st:$(jq -r .code "$STATE/body")" "503:redis_unavailable" \
		"LOADING: the whole request is 503 redis_unavailable"
fi
is "$loading_now" yes "LOADING: Redis was still loading after the answer"
read -r st _ < <(req health)
is "$st:$(jq -r .status "$STATE/body")" "503:unhealthy" "LOADING: health 503"
sl_wait_for 30 "right after loading" lag_is "$want"
ok $? "loaded: right again"
is "$(worker_pids "$MASTER")" "$W1" "after every Redis fault: the same worker, never restarted"
grep -q 'topsecret\|Authorization\|streamlag-test-password' "$LOG"
is "$?" 1 "no secret in the log"

# --- nginx reloaded 10 times under load ----------------------------------------
# A new serve with three workers on the same socket, behind the same nginx.
sl_stop_pid "$FIRST_MASTER"
serve_on_socket --workers 3
URL="$BASE/consumer-lag"
has_workers() { [ "$(pgrep -c -P "$MASTER")" -eq "$1" ]; }
sl_wait_for 10 "three workers" has_workers 3
nginx_workers() { pgrep -P "$SL_NGINX_PID" | sort | paste -sd' '; }
# Connection: close, a new connection per request: a reload must lose no
# request and refuse no connection.  (A kept-alive connection that the old
# nginx worker closes while idle is the HTTP keep-alive race every client
# meets with any server, and retries: RFC 9112, 9.3.1.)
wrk -t2 -c8 -d8s -H "Connection: close" -H "Authorization: Bearer $TOKEN" "$URL" \
	>"$STATE/wrk.out" 2>&1 &
WRK=$!
reloads=0
for i in $(seq 10); do
	before=$(nginx_workers)
	nginx -p "$STATE/" -c "$STATE/nginx.conf" -e "$STATE/nginx-error.log" -s reload || break
	new_workers() { [ -n "$(comm -13 <(tr ' ' '\n' <<<"$before") <(nginx_workers | tr ' ' '\n'))" ]; }
	sl_wait_for 10 "nginx reload $i" new_workers || break
	reloads=$((reloads + 1))
done
wait "$WRK"
read -r reqs non2xx errs <<<"$(awk '/requests in/ { r = $1 } /Non-2xx/ { n = $NF }
	/Socket errors/ { gsub(/,/, ""); e = $4 + $6 + $8 + $10 }
	END { printf "%d %d %d\n", r, n, e }' "$STATE/wrk.out")"
is "$reloads" 10 "nginx reloaded 10 times"
ok "$( (( reqs > 100 && non2xx == 0 && errs == 0 )); echo $?)" \
	"10 nginx reloads under load: $reqs requests, $non2xx non-2xx, $errs socket errors"

# --- every worker killed at once --------------------------------------------------
# Four clients keep asking while every worker is SIGKILLed: each answer is
# 200 or nginx's 502, none hangs, and the master brings three workers back.
old=$(worker_pids "$MASTER")
clients() {
	local c i
	for c in 1 2 3 4; do
		for i in $(seq 30); do
			curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 10 \
				-H "Authorization: Bearer $TOKEN" "$URL"
			echo "exit $?" >&2
		done >"$STATE/clients.$c" 2>/dev/null &
	done
	wait
}
clients &
CLIENTS=$!
sl_wait_for 10 "the clients" test -s "$STATE/clients.1"
# shellcheck disable=SC2086
kill -KILL $old
wait "$CLIENTS"
codes=$(awk '{ print $1 }' "$STATE"/clients.* | sort | uniq -c | awk '{ print $2 "x" $1 }' | paste -sd' ')
slowest=$(awk '{ if ($2 > m) m = $2 } END { printf "%d", m * 1000 }' "$STATE"/clients.*)
is "$(awk '$1 != 200 && $1 != 502' "$STATE"/clients.* | wc -l)" 0 \
	"every worker killed: each answer is 200 or 502 ($codes)"
is "$(cat "$STATE"/clients.* | wc -l)" 120 "every worker killed: all 120 requests answered"
ok "$( (( slowest < 5000 )); echo $?)" "every worker killed: none hung (slowest ${slowest} ms)"
sl_wait_for 10 "three new workers" has_workers 3
ok $? "every worker killed: the master brought three back"
is "$(comm -12 <(tr ' ' '\n' <<<"$old") <(worker_pids "$MASTER" | tr ' ' '\n') | wc -l)" 0 \
	"every worker killed: the three are new processes"
is "$(curl -s -H "Authorization: Bearer $TOKEN" "$URL" | jq .total_lag)" 100 "and serving"

# --- a second serve on the live socket ---------------------------------------------
STREAMLAG_SOCKET_GROUP= "$SL_BIN" serve --workers 1 --listen "unix:$SOCK" >"$STATE/dup.out" 2>&1 </dev/null
rc=$?
is "$rc:$(wc -l <"$STATE/dup.out"):$(cat "$STATE/dup.out")" \
	"1:1:streamlag: --listen: $SOCK is in use by another process" \
	"a second serve on a live socket: one line, exit 1"
is "$(curl -s -H "Authorization: Bearer $TOKEN" "$URL" | jq .total_lag)" 100 \
	"and the first one still serves on it"

# --- the master killed with SIGKILL ---------------------------------------------------
old=$(worker_pids "$MASTER")
kill -KILL "$MASTER"
t0=$(sl_now_ms)
# Exited: no such process, or a zombie waiting for its new parent to reap it.
all_gone() {
	local p st
	for p in $old; do
		st=$(ps -o stat= -p "$p") || continue
		[[ $st == Z* ]] || return 1
	done
}
sl_wait_for 5 "the workers to exit" all_gone
gone_ms=$(( $(sl_now_ms) - t0 ))
ok "$( all_gone && (( gone_ms < 2000 )); echo $?)" \
	"master SIGKILLed: every worker exited (${gone_ms} ms)"
sock_refuses() {
	perl -MIO::Socket::UNIX -e 'exit(IO::Socket::UNIX->new(Peer => $ARGV[0]) ? 1 : 0)' "$SOCK"
}
sock_refuses
ok $? "master SIGKILLed: no orphan accepts on the socket"
# The left socket file is there before the new serve replaces it: poll for
# an answer through it rather than for the file.
serve_on_socket --workers 2
serving() { [ "$(curl -s -H "Authorization: Bearer $TOKEN" "$URL" | jq .total_lag 2>/dev/null)" = 100 ]; }
sl_wait_for 10 "the new serve to answer" serving
ok $? "a new serve takes over the left socket path"

# --- a socket directory that cannot be written, and a full disk ---------------------
mkdir -p "$STATE/ro"
cp "$SL_BIN" "$STATE/streamlag-bin" && chmod 0755 "$STATE/streamlag-bin"
if sl_is_root; then
	chmod 0755 "$STATE/ro"	# root's; nobody cannot write it
	as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
else
	chmod 0555 "$STATE/ro"
	as_user=()
fi
"${as_user[@]}" env STREAMLAG_SOCKET_GROUP= "$STATE/streamlag-bin" serve --workers 1 \
	--listen "unix:$STATE/ro/s.sock" >"$STATE/ro.out" 2>&1 </dev/null &
p=$!
sl_wait_for 10 "serve to give up" sl_pid_gone "$p"
wait "$p"; rc=$?
ok "$( (( rc != 0 )); echo $?)" "unwritable socket directory: non-zero exit ($rc)"
is "$(wc -l <"$STATE/ro.out"):$(cat "$STATE/ro.out")" \
	"1:streamlag: --listen: unix:$STATE/ro/s.sock: Permission denied" \
	"unwritable socket directory: one clear line"

# A tmpfs with no free inode, in a mount namespace of its own.
full_serve() {
	mount -t tmpfs -o size=64k,nr_inodes=2 tmpfs "$1" && : >"$1/fill" &&
		exec "$2" serve --workers 1 --listen "unix:$1/s.sock"
}
mkdir -p "$STATE/full"
unshare_cmd=()
if unshare -m true 2>/dev/null; then unshare_cmd=(unshare -m)
elif unshare -rm true 2>/dev/null; then unshare_cmd=(unshare -rm); fi
if [ ${#unshare_cmd[@]} -gt 0 ]; then
	STREAMLAG_SOCKET_GROUP= "${unshare_cmd[@]}" bash -c "$(declare -f full_serve); full_serve \"\$@\"" _ \
		"$STATE/full" "$SL_BIN" >"$STATE/full.out" 2>&1 </dev/null
	rc=$?
	ok "$( (( rc != 0 )); echo $?)" "full disk: non-zero exit ($rc)"
	is "$(wc -l <"$STATE/full.out"):$(cat "$STATE/full.out")" \
		"1:streamlag: --listen: unix:$STATE/full/s.sock: No space left on device" \
		"full disk: one clear line"
else
	echo "ok $((TAP_N += 1)) # skip full disk: no mount namespace here"
	echo "ok $((TAP_N += 1)) # skip full disk: no mount namespace here"
fi

done_testing
