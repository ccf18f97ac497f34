#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The cluster harness (start_cluster in common.sh): 3 masters with 1 replica
# each on free ports, all 16384 slots covered, as root and as an ordinary
# user; the slot map, key routing and MOVED of c/it_cluster.c on it; and which cluster commands streamlag's least-privilege ACL user can
# be granted (CLUSTER SLOTS and CLUSTER SHARDS are both subcommands that
# ACL SETUSER accepts on Redis 7.0 and Valkey 8).
. "$(dirname "$0")/common.sh"

# CLUSTER SLOTS (RESP2, as JSON) of node $1, asked as streamlag's user.
slots_json() {
	"$CLUSTER_CLI" -2 --json -p "$1" --user "$SL_REDIS_USER" --pass "$SL_REDIS_PASS" \
		--no-auth-warning CLUSTER SLOTS
}

# "covered masters replicas_per_master" from a CLUSTER SLOTS reply.
slots_summary() {
	jq -r '[ (map(.[1] - .[0] + 1) | add),
		(map(.[2][1]) | unique | length),
		(map(length - 3) | unique | map(tostring) | join(",")) ] | join(" ")'
}

if [ "${SL_CLUSTER_INNER:-}" = 1 ]; then
	# As an ordinary user: the harness alone, then a plain summary.
	start_cluster 3 0 || exit 1
	echo "summary $(id -un) $(slots_json "${CLUSTER_MASTERS[0]}" | slots_summary)"
	exit 0
fi

start_cluster 3 1 || exit 1
is "${#CLUSTER_PORTS[@]} ${#CLUSTER_MASTERS[@]}" "6 3" "6 nodes, 3 of them masters"
for p in "${CLUSTER_PORTS[@]}"; do
	is "$(slots_json "$p" | slots_summary)" "16384 3 1" \
		"node $p: CLUSTER SLOTS covers every slot, 3 masters with 1 replica each"
done
is "$(slots_json "${CLUSTER_MASTERS[0]}" | jq -c '[.[][2][1]] | sort | unique')" \
	"$(printf '%s\n' "${CLUSTER_MASTERS[@]}" | jq -sc 'sort')" \
	"the masters CLUSTER SLOTS names are CLUSTER_MASTERS"
like "$REDIS_URL" "^redis://$SL_REDIS_USER:.*@127\\.0\\.0\\.1:[0-9]+,127\\.0\\.0\\.1:[0-9]+,127\\.0\\.0\\.1:[0-9]+/0\$" \
	"REDIS_URL lists the three masters"

# Keys land by slot, {hash tags} included: a key written through any node
# (-c follows MOVED) is held by the master that CLUSTER SLOTS gives.
m0=${CLUSTER_MASTERS[0]}
for k in '{user1000}.following' '{user1000}.followers' 'events:chat' 'foo{bar}{zap}'; do
	"$CLUSTER_CLI" -c -p "$m0" XADD "$k" '*' f v >/dev/null
done
owner() {
	local slot
	slot=$("$CLUSTER_CLI" -p "$m0" CLUSTER KEYSLOT "$1")
	slots_json "$m0" | jq -r --argjson s "$slot" '.[] | select(.[0] <= $s and $s <= .[1]) | .[2][1]'
}
same=$(owner '{user1000}.following')
is "$(owner '{user1000}.followers')" "$same" "hash-tagged keys share a master"
is "$("$CLUSTER_CLI" -p "$same" EXISTS '{user1000}.following' '{user1000}.followers')" 2 \
	"that master holds both"
is "$("$CLUSTER_CLI" -p "$(owner 'events:chat')" XLEN events:chat)" 1 \
	"events:chat is on the master its slot names"

# The slot map, routing and MOVED against this cluster (c/it_cluster.c):
# streams on every master, hash-tagged names included.
keys=()
for i in $(seq 1 30); do keys+=("events:$i"); done
keys+=('{user1000}.following' '{user1000}.followers' 'foo{bar}{zap}')
for k in "${keys[@]}"; do "$CLUSTER_CLI" -c -p "$m0" XADD "$k" '*' f v >/dev/null; done
it=$(dirname "$SL_BIN")/tests/it_cluster
if [ -x "$it" ]; then
	while IFS= read -r line; do
		case $line in
		ok\ *) ok 0 "${line#ok [0-9]* - }" ;;
		not\ ok*) ok 1 "${line#not ok [0-9]* - }" ;;
		1..*|"exit 0") ;;
		exit\ *|Bail*) ok 1 "it_cluster: $line" ;;
		*) echo "# $line" ;;
		esac
	done < <(SL_SEEDS=$CLUSTER_SEEDS SL_EXEC_USER=$SL_REDIS_USER SL_EXEC_PASS=$SL_REDIS_PASS \
		${SL_EXEC_WRAP:-} "$it" "${keys[@]}" 2>&1; echo "exit $?")
else
	ok 0 "# SKIP $it is not built (make integration builds it)"
fi

# The least-privilege user: CLUSTER SLOTS and ASKING granted, nothing else
# of CLUSTER; CLUSTER SHARDS can be granted alone as well.
asu() { "$CLUSTER_CLI" -p "$m0" --user "$1" --pass "$2" --no-auth-warning "${@:3}" 2>&1; }
like "$(asu "$SL_REDIS_USER" "$SL_REDIS_PASS" ASKING)" '^OK$' "ASKING is granted"
like "$(asu "$SL_REDIS_USER" "$SL_REDIS_PASS" CLUSTER NODES)" 'NOPERM' "CLUSTER NODES is not"
like "$(asu "$SL_REDIS_USER" "$SL_REDIS_PASS" CLUSTER SHARDS)" 'NOPERM' "nor CLUSTER SHARDS"
"$CLUSTER_CLI" -p "$m0" ACL SETUSER shards on '>shards-pass' -@all '+cluster|shards' >/dev/null
like "$(asu shards shards-pass CLUSTER SHARDS)" 'slots' \
	"a user granted only +cluster|shards reads CLUSTER SHARDS"
like "$(asu shards shards-pass CLUSTER SLOTS)" 'NOPERM' "and not CLUSTER SLOTS"

# As an ordinary user too (CI runs as root): the same harness, its own
# state directory, its processes stopped by its own exit.
if sl_is_root; then
	out=$(cd / && SL_CLUSTER_INNER=1 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		--reset-env env PATH="$PATH" HOME=/ TMPDIR=/tmp SL_REDIS_SERVER="${SL_REDIS_SERVER:-}" \
		SL_CLUSTER_INNER=1 bash "$SL_ROOT/tests/integration/46-cluster-harness.t" 2>&1)
	is "$(grep '^summary' <<<"$out")" "summary nobody 16384 3 0" \
		"as nobody: a 3-master cluster covering every slot"
	grep -q '^summary' <<<"$out" || echo "$out" | sed 's/^/#   /'
else
	ok 0 "# SKIP as an ordinary user already (uid $(id -u)); as root the harness runs as nobody too"
fi
done_testing
