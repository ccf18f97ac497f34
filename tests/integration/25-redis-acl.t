#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# streamlag as a least-privilege Redis ACL user: AUTH with user and password
# and SELECT from REDIS_URL, read-only keys, only the commands it sends.
. "$(dirname "$0")/common.sh"

# The seed's example in database 0, then two of its streams moved to
# database 2: only what is in database 2 may be read.
seeded_redis
R MOVE events:ticket 2 >/dev/null
R MOVE events:remote 2 >/dev/null
PASS='p@ss w:rd/%'	# needs percent-encoding in the URL
R ACL SETUSER streamlag on ">$PASS" resetkeys '%R~*' resetchannels -@all \
	'+xinfo|groups' '+xinfo|consumers' '+xinfo|stream' +xrange +xlen +xpending +scan +time +select >/dev/null

enc=$(perl -MURI::Escape -e 'print uri_escape($ARGV[0])' "$PASS" 2>/dev/null ||
	perl -e '($s = shift) =~ s/([^A-Za-z0-9._~-])/sprintf("%%%02X", ord $1)/ge; print $s' "$PASS")
export REDIS_URL="redis://streamlag:$enc@127.0.0.1:$PORT/2"

R ACL LOG RESET >/dev/null
body=$("$SL_BIN" get /api/v1/events/consumer-lag); rc=$?
json_is "$(jq -c '[.streams | map_values(if .error then .error else .lag end)]' <<<"$body")" \
	'[{"events:chat":"no such key","events:ticket":45,"events:remote":0}]' \
	"AUTH as the ACL user and SELECT 2: database 2 is read"
is "$rc" 0 "consumer-lag as the ACL user"
# INFO is left out of this list on purpose (optional: the server is then
# unknown, and Redis's lag checked, with XLEN); nothing else is refused.
is "$(R ACL LOG | awk 'p == "object" { print } { p = $0 }' | sort -u | tr '\n' ' ')" "info " \
	"the ACL user was refused nothing the list holds"
# XLEN goes with each stream's first batch (one group): the three streams'.
is "$(R INFO commandstats | tr -d '\r' | awk -F'[:=,]' '$1 == "cmdstat_xlen" { print $3 }')" 3 \
	"XLEN was sent (once per stream; events:ticket is 45 behind) and allowed"
out=$("$SL_BIN" get /api/v1/events/streams); rc=$?
is "$rc:$(jq -c '[.streams[] | .length]' <<<"$out")" "0:[0,100,10]" "streams as the ACL user (XINFO STREAM, TIME)"
is "$(R ACL DRYRUN streamlag XADD events:ticket '*' f v)" \
	"This user has no permissions to run the 'xadd' command" "the ACL user cannot write"

# A wrong password: 503, and neither password reaches the output or the log.
export REDIS_URL="redis://streamlag:wrong-secret@127.0.0.1:$PORT/2"
out=$("$SL_BIN" get /api/v1/events/health 2>"$STATE/get.err"); rc=$?
is "$rc:$out" '1:{"status":"unhealthy","redis_connected":false,"error":"Cannot connect to Redis","code":"redis_unavailable"}' \
	"wrong password: the unhealthy body"
serve_on_socket --workers 1
"$SL_BIN" get /api/v1/events/health >/dev/null 2>&1
ok "$(grep -rq 'wrong-secret\|p@ss' "$STATE"/*.log "$STATE/get.err"; [ $? -eq 1 ]; echo $?)" \
	"no password in any log"

# A Redis Cluster: the same user with exactly +cluster|slots and +asking
# more (SL_CLUSTER_ACL, what docs/operations.md says) on every node, and
# no +select needed; without +cluster|slots the slot map cannot be read.
start_cluster 3 0 || exit 1
CR() { "$CLUSTER_CLI" -c -p "${CLUSTER_MASTERS[0]}" "$@"; }
for s in events:chat events:ticket '{t}a'; do
	CR XADD "$s" '*' f v >/dev/null
	CR XGROUP CREATE "$s" signalr-consumers 0 >/dev/null
done
is "$(STREAMLAG_STREAMS='events:chat,events:ticket,{t}a' "$SL_BIN" get /api/v1/events/consumer-lag | jq -c '[.stream_count, .total_lag]')" \
	"[3,3]" "a cluster as the ACL user with +cluster|slots +asking"
for p in "${CLUSTER_MASTERS[@]}"; do
	"$CLUSTER_CLI" -p "$p" ACL SETUSER "$SL_REDIS_USER" '-cluster|slots' >/dev/null
done
STREAMLAG_STREAMS=events:chat "$SL_BIN" get /api/v1/events/consumer-lag >/dev/null 2>"$STATE/slots.err"
like "$(cat "$STATE/slots.err")" "NOPERM.*cluster\|slots" "without +cluster|slots: refused, in Redis's words"

# Sentinel: on the master and replica the same user with exactly +role
# more (a master is confirmed, and failover followed, by ROLE); on the
# sentinels a user of their own with only +sentinel|get-master-addr-by-name
# +sentinel|replicas (SL_SENTINEL_ACL, what docs/operations.md says).
. "$(dirname "$0")/lib/sentinel.sh"
sl_sentinel_setup "$STATE" 1 auth || exit 1
sl_seed_example "$SL_MASTER_PORT"
# Asked again at each poll (the seed reaches the replica a little later).
replica_has_seed() {
	[ "$(redis-cli -p "$SL_REPLICA_PORT" XLEN events:remote)" = 10 ]
}
sl_wait_for 10 "the replica to have the seed" replica_has_seed || exit 1
export REDIS_URL=$SL_SENTINEL_URL STREAMLAG_SENTINEL_USERNAME=$SL_SENTINEL_USER \
	STREAMLAG_SENTINEL_PASSWORD=$SL_SENTINEL_PASS
for rf in master replica; do
	is "$(STREAMLAG_READ_FROM=$rf "$SL_BIN" get /api/v1/events/consumer-lag | jq -c '[.stream_count, .total_lag]')" \
		"[3,168]" "Sentinel, READ_FROM=$rf, as the ACL users (+role on the nodes, two SENTINEL subcommands)"
done
for p in "$SL_MASTER_PORT" "$SL_REPLICA_PORT"; do
	redis-cli -p "$p" ACL SETUSER "$SL_REDIS_USER" -role >/dev/null
done
"$SL_BIN" get /api/v1/events/health >/dev/null 2>"$STATE/role.err"
like "$(cat "$STATE/role.err")" "NOPERM.*'role'" "without +role: refused, in Redis's words"
STREAMLAG_SENTINEL_PASSWORD='' "$SL_BIN" get /api/v1/events/health >/dev/null 2>"$STATE/sauth.err"
like "$(cat "$STATE/sauth.err")" "NOAUTH" "without the sentinel credentials: the sentinel refuses"

done_testing
