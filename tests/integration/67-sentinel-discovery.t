#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Sentinel discovery (src/sentinel*.c, driven by c/it_sentinel.c) against a
# real master, its replica and three sentinels that want a password
# (lib/sentinel.sh), each check made twice: over blocking hiredis
# connections, and over the non-blocking executor (it_sentinel -x,
# sl_sentinel_exec_cmd).  The master they name is confirmed by ROLE; the replica
# is listed with its offset lag; after SENTINEL FAILOVER the new master is
# found; a stopped sentinel is passed over and named; the sentinel
# credentials are the ones used, and the documented least-privilege
# sentinel ACL is enough.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/lib/sentinel.sh"

bin=$(dirname "$SL_BIN")/tests/it_sentinel
[ -x "$bin" ] || { echo "1..0 # SKIP $bin is not built (make integration builds it)"; exit 0; }
sl_sentinel_setup "$STATE" 3 auth || exit 1
M=$SL_MASTER_PORT
R=$SL_REPLICA_PORT
S1=${SL_SENTINEL_PORTS[0]} S2=${SL_SENTINEL_PORTS[1]} S3=${SL_SENTINEL_PORTS[2]}
export REDIS_URL=$SL_SENTINEL_URL

# it_sentinel with the least-privilege sentinel user, or with what is given;
# $X is -x for the executor.
X=
t() {
	STREAMLAG_SENTINEL_USERNAME=${SU-$SL_SENTINEL_USER} \
	STREAMLAG_SENTINEL_PASSWORD=${SP-$SL_SENTINEL_PASS} \
		"$bin" ${X:+"$X"} "$@" 2>>"$STATE/it_sentinel.log"
}
# via: which path the check took, for its description.
via() { [ -n "$X" ] && echo "executor" || echo "hiredis"; }

# repl_offset PORT FIELD: master_repl_offset or slave_repl_offset.
repl_offset() {
	redis-cli -p "$1" INFO replication | tr -d '\r' | sed -n "s/^$2://p"
}
caught_up() {
	[ "$(repl_offset "$M" master_repl_offset)" = "$(repl_offset "$R" slave_repl_offset)" ]
}
# The replica's lag is 0 once it has everything; the sentinels' hello
# messages (a PUBLISH every 2 s, replicated) can land between the two
# ROLE reads, hence the polling.
lag_zero() { t | grep -qx "replica 127.0.0.1:$R up lag 0"; }

# Data the test wrote reaches the replica: the offsets compared are real.
redis-cli -p "$M" XADD events:chat '*' seq 1 >/dev/null
sl_wait_for 10 "the replica to catch up" caught_up
is "$(redis-cli -p "$R" ROLE | head -1)" "slave" "the other node is a replica"
for X in "" -x; do
	is "$(t -n)" "master 127.0.0.1:$M
answered 127.0.0.1:$S1" "3 sentinels: the master they name, confirmed by ROLE, from the first ($(via))"
	sl_wait_for 10 "lag 0 for the replica" lag_zero
	ok $? "the replica listed, up, with offset lag 0 once it has caught up ($(via))"

	# The sentinel credentials, not the URL's (which are Redis's).
	out=$(SU='' SP='' t -n)
	is "$(head -3 <<<"$out")" "refused 127.0.0.1:$S1: SENTINEL get-master-addr-by-name: NOAUTH Authentication required.
refused 127.0.0.1:$S2: SENTINEL get-master-addr-by-name: NOAUTH Authentication required.
refused 127.0.0.1:$S3: SENTINEL get-master-addr-by-name: NOAUTH Authentication required." \
		"no sentinel credentials: each sentinel refuses, each is named ($(via))"
	like "$(sed -n 4p <<<"$out")" \
		"^ERR: no sentinel gave a master for \"mymaster\": 127.0.0.1:$S1: SENTINEL get-master-addr-by-name: NOAUTH" \
		"and no master is given ($(via))"
	like "$(SP=wrong t -n | head -1)" \
		"^refused 127.0.0.1:$S1: (AUTH: )?WRONGPASS invalid username-password pair" \
		"a wrong sentinel password: AUTH refused, said so ($(via))"
done
is "$(SU='' SP=$SL_SENTINEL_ADMIN_PASS t -n | head -1)" "master 127.0.0.1:$M" \
	"a password alone logs in as the sentinels' default user"
like "$(REDISCLI_AUTH=$SL_SENTINEL_PASS redis-cli --user "$SL_SENTINEL_USER" -p "$S1" SENTINEL FAILOVER mymaster)" \
	"^NOPERM" "the sentinel ACL user may not fail over"
like "$(REDISCLI_AUTH=$SL_SENTINEL_PASS redis-cli --user "$SL_SENTINEL_USER" -p "$S1" SENTINEL masters)" \
	"^NOPERM" "nor list the masters: only what discovery sends"

# A failover: once the sentinels agree, the old replica is found and is
# master by its own ROLE.
is "$(sl_sentinel_failover "$S1")" "OK" "SENTINEL FAILOVER accepted"
sl_wait_sentinels_agree "$R" 30
ok $? "the three sentinels agree on the old replica within 30 s"
for X in "" -x; do
	is "$(t -n)" "master 127.0.0.1:$R
answered 127.0.0.1:$S1" "after the failover: the new master ($(via))"
done
is "$(redis-cli -p "$R" ROLE | head -1)" "master" "ROLE on it says master"

# The first sentinel stopped: the next one answers, the first is named.
sl_stop_sentinel 0
for X in "" -x; do
	is "$(t -n)" "master 127.0.0.1:$R
answered 127.0.0.1:$S2
refused 127.0.0.1:$S1: Connection refused" "first sentinel down: the second answers, the first is named ($(via))"
done

# The second one frozen (SIGSTOP): its 2 s timeout, then the third answers;
# nothing waits for it past that.
S2PID=${SL_SENTINEL_PIDS[1]}
kill -STOP "$S2PID"
for X in "" -x; do
	t0=$(sl_now_ms)
	out=$(t -n)
	ms=$(( $(sl_now_ms) - t0 ))
	why="timed out after 2000 ms"
	[ -z "$X" ] && why="AUTH: Resource temporarily unavailable"
	is "$out" "master 127.0.0.1:$R
answered 127.0.0.1:$S3
refused 127.0.0.1:$S1: Connection refused
refused 127.0.0.1:$S2: $why" "a frozen sentinel is timed out and named, the next answers ($(via))"
	ok $(( ms < 5000 ? 0 : 1 )) "... within 5 s, not hung ($(via): $ms ms)"
done
kill -CONT "$S2PID"

done_testing
