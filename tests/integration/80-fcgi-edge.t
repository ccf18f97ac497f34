#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The FastCGI edge, spoken to in raw records (c/it_fcgi.c): FCGI_GET_VALUES
# naming FCGI_MAX_CONNS 1, 3, 4 and 8 times (4 overflows libfcgi's buffer)
# over the unix socket and loopback TCP; other roles; stalled connections of
# every kind closed by their deadline while service comes back; a worker
# pinned during SIGHUP killed after the grace period; the fuzz corpus
# replayed against the live socket.
. "$(dirname "$0")/common.sh"

IT=${IT_FCGI:-$SL_ROOT/build/tests/it_fcgi}
[ -x "$IT" ] || { echo "Bail out! $IT is not built"; exit 1; }
LOG="$STATE/streamlag.log"
D=1000		# every connection deadline, ms
W=2		# workers
DEADLINES=(--first-byte-deadline-ms "$D" --read-deadline-ms "$D" --idle-deadline-ms "$D")
seeded_redis

SOCK="$STATE/edge.sock"
sl_start_serve "$SOCK" --workers "$W" "${DEADLINES[@]}" || exit 1
UMASTER=$SL_SERVE_PID
TP=$(sl_free_port)
"$SL_BIN" serve --listen "127.0.0.1:$TP" --workers "$W" "${DEADLINES[@]}" >>"$LOG" 2>&1 &
TMASTER=$!
SL_PIDS+=("$TMASTER")

# fcgi ADDR: GET /healthz on a new connection (cgi-fcgi), the body.
fcgi() { env -i REQUEST_METHOD=GET DOCUMENT_URI=/healthz SCRIPT_NAME=/healthz QUERY_STRING= \
	cgi-fcgi -bind -connect "$1" 2>/dev/null | tr -d '\r' | sed '1,/^$/d'; }
up() { [ "$(fcgi "$1")" = '{"status":"ok"}' ]; }
workers_of() { pgrep -P "$1" | sort | tr '\n' ' '; }
has_workers() { [ "$(pgrep -P "$1" | wc -l)" -eq "$2" ]; }
sl_wait_for 10 "the TCP listener" up "127.0.0.1:$TP" || exit 1
sl_wait_for 10 "unix workers" has_workers "$UMASTER" "$W"
sl_wait_for 10 "TCP workers" has_workers "$TMASTER" "$W"

# GET_VALUES: answered by streamlag, each name once; no worker dies.
for t in "unix $SOCK $UMASTER" "tcp 127.0.0.1:$TP $TMASTER"; do
	read -r kind addr master <<<"$t"
	before=$(workers_of "$master")
	for n in 1 3 4 8; do
		out=$("$IT" "$addr" getvalues "$n")
		is "$out" "type=10 id=0 FCGI_MAX_CONNS=1
status=200 body={\"status\":\"ok\"} end=0" \
			"$kind: GET_VALUES naming FCGI_MAX_CONNS $n times: one answer, then a request on the same connection"
		is "$(fcgi "$addr")" '{"status":"ok"}' "$kind: ... and a request on a new connection"
	done
	is "$(workers_of "$master")" "$before" "$kind: the worker PIDs are unchanged ($before)"
done
is "$(grep -c 'event=worker_exit' "$LOG")" 0 "no worker exited"

# Roles other than RESPONDER.
is "$("$IT" "$SOCK" role 2)" "end_request id=1 protocol_status=3" "AUTHORIZER: FCGI_END_REQUEST with FCGI_UNKNOWN_ROLE"
is "$("$IT" "$SOCK" role 3)" "end_request id=1 protocol_status=3" "FILTER: FCGI_END_REQUEST with FCGI_UNKNOWN_ROLE"
is "$("$IT" "127.0.0.1:$TP" role 2)" "end_request id=1 protocol_status=3" "tcp: AUTHORIZER: FCGI_UNKNOWN_ROLE"

# Stalled connections: 2 (= workers), then workers + 1.  Each is closed by
# its deadline: the first W at D after they were accepted, the one queued
# behind them at 2 D; a request sent after them is answered once the first
# W are closed, within D + 1 s.
check_stall() {	# ADDR KIND N LABEL
	local out line c ms served ok bad=""
	out=$("$IT" "$1" stall "$2" "$3" 20)
	for ((c = 0; c < $3; c++)); do
		line=$(grep "^conn=$c " <<<"$out")
		ms=${line##*closed_ms=}
		local lo=$((D - 5)) hi=$((D + 1000))
		(( c >= W )) && lo=$((2 * D - 5)) hi=$((2 * D + 1500))
		(( ms >= lo && ms <= hi )) || bad="$bad conn$c=${ms}ms(want $lo..$hi)"
		[ "$2" != idle ] || [[ $line == *answered=1* ]] || bad="$bad conn$c-not-answered"
	done
	line=$(grep '^probe ' <<<"$out")
	served=${line#*served_ms=}; served=${served%% *}
	ok=${line##*ok=}
	(( ok == 1 && served >= D - 5 && served <= D + 1000 )) || bad="$bad probe=${served}ms,ok=$ok"
	is "$bad" "" "$4: $3 $2 connections closed at $(grep -o 'closed_ms=[0-9-]*' <<<"$out" | cut -d= -f2 | tr '\n' ' ')ms; a new request answered at ${served} ms"
}
before=$(workers_of "$UMASTER")$(workers_of "$TMASTER")
for k in silent bytes3 begin idle; do
	check_stall "$SOCK" "$k" "$W" "unix"
	check_stall "$SOCK" "$k" $((W + 1)) "unix"
done
for k in bytes3 idle; do
	check_stall "127.0.0.1:$TP" "$k" $((W + 1)) "tcp"
done
is "$(grep -c 'event=conn_deadline phase=first_byte' "$LOG")" 5 "accepted but silent: logged as phase=first_byte"
like "$(grep 'event=conn_deadline phase=read' "$LOG" | head -1)" "waited_ms=(9[0-9][0-9]|1[0-9]{3}) requests=0" "reading: logged with the time waited"
like "$(grep 'event=conn_deadline phase=idle' "$LOG" | head -1)" "level=info .*requests=1" "idle kept connection: logged at info, after its request"
is "$(workers_of "$UMASTER")$(workers_of "$TMASTER")" "$before" "the stalls cost no worker: PIDs unchanged"
is "$(grep -c 'event=worker_exit' "$LOG")" 0 "no worker exited"

# The fuzz corpus against the live socket: no worker dies.
before=$(workers_of "$UMASTER")
n=0
for f in "$SL_ROOT"/tests/fuzz/corpus/fcgi/*; do
	"$IT" "$SOCK" send "$f" >/dev/null || echo "# it_fcgi failed on $f"
	n=$((n + 1))
done
is "$(workers_of "$UMASTER")" "$before" "the $n inputs of tests/fuzz/corpus/fcgi over the socket: worker PIDs unchanged"
is "$(fcgi "$SOCK")" '{"status":"ok"}' "... and still serving"

# A bad deadline setting: one line naming it.
err=$("$SL_BIN" serve --listen "unix:$STATE/x.sock" --read-deadline-ms 2s 2>&1 >/dev/null); rc=$?
is "$rc:$err" '2:streamlag: STREAMLAG_READ_DEADLINE_MS: expected an integer from 0 to 3600000, got "2s"' \
	"a bad --read-deadline-ms: refused with the variable's name"
sl_stop_pid "$TMASTER"
sl_stop_pid "$UMASTER"

# STREAMLAG_ALLOW_TCP, now enforced by streamlag's own accept: a peer not
# on the list is closed at once, one on it is served.
for allow in 127.0.0.2 127.0.0.2,127.0.0.1; do
	AP=$(sl_free_port)
	STREAMLAG_ALLOW_TCP=$allow "$SL_BIN" serve --listen "127.0.0.1:$AP" --workers 1 >>"$LOG" 2>&1 &
	A=$!
	SL_PIDS+=("$A")
	sl_wait_for 10 "the allow-list listener" sl_port_in_use "$AP"
	sl_wait_for 10 "its worker" has_workers "$A" 1
	got=$(fcgi "127.0.0.1:$AP")
	if [ "$allow" = 127.0.0.2 ]; then
		is "$got" "" "STREAMLAG_ALLOW_TCP=$allow: a request from 127.0.0.1 is refused"
		sl_wait_for 5 "the refusal to be logged" grep -q 'event=peer_refused peer=127.0.0.1' "$LOG"
		ok $? "... and logged (event=peer_refused)"
	else
		is "$got" '{"status":"ok"}' "STREAMLAG_ALLOW_TCP=$allow: a request from 127.0.0.1 is served"
	fi
	sl_stop_pid "$A"
done

# SIGHUP while the only worker is pinned (3 bytes, read deadline 60 s): the
# new worker serves; the pinned one is killed after --grace-ms.
S="$STATE/hup.sock"
G=1000
sl_start_serve "$S" --workers 1 --read-deadline-ms 60000 --grace-ms "$G" || exit 1
M=$SL_SERVE_PID
sl_wait_for 10 "a worker" has_workers "$M" 1
PINNED=$(pgrep -P "$M")
"$IT" "$S" stall bytes3 1 30 >"$STATE/pin.out" &
PIN=$!
reading() { local n; read -r n _ <"/proc/$PINNED/syscall" && [ "$n" = 271 ]; }	# ppoll
sl_wait_for 10 "the worker to wait on the stalled connection" reading
t0=$(sl_now_ms)
kill -HUP "$M"
sl_wait_for 15 "the pinned worker to go" sl_pid_gone "$PINNED"
took=$(( $(sl_now_ms) - t0 ))
ok "$( (( took >= G - 50 && took <= G + 2000 )); echo $?)" "the pinned worker is gone after the grace period ($took ms, grace $G ms)"
like "$(grep "event=retire_escalated pid=$PINNED " "$LOG")" "grace_ms=$G" "the kill is logged"
like "$(grep "event=worker_exit pid=$PINNED " "$LOG")" "reason=retired .*signal=9" "... and the exit, as retired by SIGKILL"
is "$(fcgi "$S")" '{"status":"ok"}' "the new worker serves"
wait "$PIN"
like "$(cat "$STATE/pin.out")" "conn=0 answered=0 closed_ms=[0-9]+" "the stalled client saw its connection closed"
sl_stop_pid "$M"

done_testing
