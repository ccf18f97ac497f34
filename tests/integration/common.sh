# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# Shared by the integration tests: the stack library, TAP, a state directory
# removed on success (kept and pointed to on failure), and JWT crafting with
# openssl so that tokens are made independently of the code under test.
. "$(dirname "${BASH_SOURCE[0]}")/../stack/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

STATE=$(sl_state_dir)
# Everything started is stopped on any exit, Ctrl-C and SIGTERM included;
# the state directory stays for a look when anything went wrong.
on_exit() {
	local rc=$?
	trap - INT TERM
	sl_teardown
	if [ "$rc" -eq 0 ] && [ "$TAP_FAILED" -eq 0 ]; then
		rm -rf "$STATE"
	else
		echo "# state kept in $STATE"
		for f in "$STATE"/*.log; do
			[ -f "$f" ] || continue
			echo "# --- $f"
			tail -20 "$f" | sed 's/^/#   /'
		done
	fi
}
trap on_exit EXIT
trap "exit 130" INT
trap "exit 143" TERM

# Hermetic: no setting of the caller's environment leaks in (STREAMLAG_BIN
# aside, which picks the binary under test).
while IFS= read -r v; do
	case $v in
	STREAMLAG_BIN) ;;
	STREAMLAG_*|EVENT_TRANSPORT_*) unset "$v" ;;
	esac
done < <(compgen -e)
unset REDIS_URL SL_LOG_DIR SL_WWW
# What nginx's workers read is copied into the state directory (0755), so
# that the tests pass wherever the checkout lives (a 0700 /root included).
export SL_WWW_COPY=1
export STREAMLAG_JWT_SECRET=integration-secret-0123456789abcdef0123456789
export STREAMLAG_STREAMS=events:chat,events:ticket,events:remote
# The sampler (a process next to the workers, on by default) is off unless
# a test turns it on: tests count the master's children as its workers.
export STREAMLAG_SAMPLE_MS=0

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# jwt HEADER_JSON PAYLOAD_JSON KEY [DIGEST]
jwt() {
	local h p sig digest=${4:-sha256}
	h=$(printf '%s' "$1" | b64url)
	p=$(printf '%s' "$2" | b64url)
	sig=$(printf '%s' "$h.$p" | openssl dgst "-$digest" -hmac "$3" -binary | b64url)
	printf '%s.%s.%s' "$h" "$p" "$sig"
}

# Milliseconds a command takes.
elapsed_ms() {
	local t0 t1
	t0=$(sl_now_ms)
	"$@" >/dev/null 2>&1
	t1=$(sl_now_ms)
	echo $((t1 - t0))
}

# Last assertion of every script: with a sanitizer build (STREAMLAG_BIN=
# build/asan/streamlag), no server log holds a report.  The servers are
# stopped first, since leak reports are written at exit.
tap_before_plan() {
	local hits
	sl_teardown
	hits=$(grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		"$STATE"/*.log 2>/dev/null)
	is "$hits" "" "no sanitizer report in the server logs"
}

# R ARGS...: redis-cli against the test's redis-server (PORT), as the
# default user (streamlag itself connects as the ACL user of REDIS_URL).
R() { redis-cli -p "$PORT" "$@"; }

# seeded_redis [--empty] [--same-port]: a redis-server holding the seed's
# example (none with --empty); sets PORT and exports REDIS_URL (streamlag's
# least-privilege user).  --same-port starts it again on PORT, after
# sl_stop_redis, as a restarted server would be.
seeded_redis() {
	local seed=1 same=0
	while [ $# -gt 0 ]; do
		case $1 in
		--empty) seed=0 ;;
		--same-port) same=1 ;;
		*) echo "seeded_redis: unknown option $1" >&2; exit 1 ;;
		esac
		shift
	done
	if [ "$same" -eq 0 ] || [ -z "${PORT:-}" ]; then
		PORT=$(sl_free_port)
	fi
	sl_start_redis "$STATE" "$PORT" || exit 1
	[ "$seed" -eq 0 ] || sl_seed_example "$PORT"
	export REDIS_URL
	REDIS_URL=$(sl_redis_url "$PORT")
}

# serve_on_socket [SERVE ARGS...]: streamlag serve on STATE's unix socket
# (again, after the last one stopped); sets SOCK and MASTER.
serve_on_socket() {
	SOCK="$STATE/streamlag.sock"
	sl_start_serve "$SOCK" "$@" || exit 1
	MASTER=$SL_SERVE_PID
}

# nginx_in_front [ssl]: nginx (nginx/dev.conf.in) in front of SOCK; sets
# HTTP (nginx's port).  With ssl it speaks TLS, with a self-signed
# certificate for 127.0.0.1 in STATE (tls.crt).
nginx_in_front() {
	HTTP=$(sl_free_port)
	[ "${1:-}" != ssl ] || sl_self_signed "$STATE"
	sl_start_nginx "$STATE" "$HTTP" "$SOCK" "${1:-}" || exit 1
}

# serve_behind_nginx [SERVE ARGS...]: both of the above; sets SOCK, MASTER
# and HTTP.
serve_behind_nginx() {
	serve_on_socket "$@"
	nginx_in_front
}

# The client of the server the tests run: redis-cli, or valkey-cli next to
# valkey-server for SL_REDIS_SERVER=valkey.
sl_redis_cli() {
	case ${SL_REDIS_SERVER:-redis} in
	valkey) echo "$(dirname "$(sl_redis_server)")/valkey-cli" ;;
	*) command -v redis-cli ;;
	esac
}

# A port P on 127.0.0.1 with P + 10000 (a cluster node's bus port) free too.
cluster_free_port() {
	perl -MIO::Socket::INET -e '
		for (1 .. 200) {
			my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
			    LocalPort => 0, ReuseAddr => 1) or die "no free port: $!\n";
			my $p = $s->sockport;
			next if $p + 10000 > 65535;
			my $b = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
			    LocalPort => $p + 10000, ReuseAddr => 1) or next;
			print "$p\n";
			exit 0;
		}
		die "no free port pair\n";'
}

# What cluster mode adds to streamlag's ACL user on every node.
SL_CLUSTER_ACL="+cluster|slots +asking"

cluster_state_ok() {
	"$CLUSTER_CLI" -p "$1" CLUSTER INFO 2>/dev/null | grep -q '^cluster_state:ok'
}

# Every node says cluster_state:ok, knows every other node, lists REPLICAS
# replicas with every slot range in CLUSTER SLOTS, and every replica has its
# master's data (master_link_status:up).
cluster_settled() {
	local replicas=$1 p nodes
	for p in "${CLUSTER_PORTS[@]}"; do
		cluster_state_ok "$p" || return 1
		nodes=$("$CLUSTER_CLI" -p "$p" CLUSTER NODES 2>/dev/null) || return 1
		[ "$(grep -vc 'handshake\|noaddr\|fail' <<<"$nodes")" -eq "${#CLUSTER_PORTS[@]}" ] || return 1
		"$CLUSTER_CLI" -2 --json -p "$p" CLUSTER SLOTS 2>/dev/null |
			jq -e --argjson r "$replicas" 'length > 0 and all(length == 3 + $r)' >/dev/null || return 1
		if "$CLUSTER_CLI" -p "$p" ROLE 2>/dev/null | head -1 | grep -q slave; then
			"$CLUSTER_CLI" -p "$p" INFO replication | grep -q '^master_link_status:up' || return 1
		fi
	done
}

# start_cluster NMASTERS NREPLICAS: a Redis Cluster of NMASTERS masters with
# NREPLICAS replicas each on free loopback ports, in $STATE/cluster/PORT/,
# without persistence, cluster-require-full-coverage no and a 2 s node
# timeout, streamlag's ACL user (with SL_CLUSTER_ACL) on every node.  Waits
# until every node says cluster_state:ok and knows every other.  Sets
# CLUSTER_PORTS (every node), CLUSTER_MASTERS (the masters' ports, sorted),
# CLUSTER_CLI and CLUSTER_SEEDS ("127.0.0.1:p1,..."),
# exported; REDIS_URL names every master.  Stopped with the rest at exit.
# With CLUSTER_TLS set to a directory of lib/tlscerts.sh's certificates,
# every node speaks TLS only (client, bus and replication links; --port 0)
# with server.crt (client.crt towards the other nodes, which verify it;
# other clients need none), CLUSTER_CLI is a redis-cli over TLS, and
# REDIS_URL is rediss://.
start_cluster() {
	local masters=$1 replicas=$2 total i p dir server addrs=() seeds=() tls=()
	total=$((masters * (1 + replicas)))
	server=$(sl_redis_server) && [ -x "$server" ] || sl_die "no server binary for SL_REDIS_SERVER=${SL_REDIS_SERVER:-redis}"
	CLUSTER_CLI=$(sl_redis_cli)
	if [ -n "${CLUSTER_TLS:-}" ]; then
		tls=(--tls-cert-file "$CLUSTER_TLS/server.crt"
			--tls-key-file "$CLUSTER_TLS/server.key"
			--tls-ca-cert-file "$CLUSTER_TLS/ca.crt"
			--tls-client-cert-file "$CLUSTER_TLS/client.crt"
			--tls-client-key-file "$CLUSTER_TLS/client.key"
			--tls-auth-clients optional
			--tls-cluster yes --tls-replication yes --port 0)
		mkdir -p "$STATE/cluster"
		printf '#!/bin/sh\nexec %s --tls --cacert %s --cert %s --key %s "$@"\n' \
			"$CLUSTER_CLI" "$CLUSTER_TLS/ca.crt" "$CLUSTER_TLS/client.crt" \
			"$CLUSTER_TLS/client.key" >"$STATE/cluster/cli"
		chmod 0755 "$STATE/cluster/cli"
		CLUSTER_CLI=$STATE/cluster/cli
	fi
	CLUSTER_PORTS=()
	for ((i = 0; i < total; i++)); do
		p=$(cluster_free_port) || exit 1
		dir=$STATE/cluster/$p
		mkdir -p "$dir"
		# shellcheck disable=SC2086
		"$server" --port "$p" ${tls[@]+"${tls[@]}"} \
			${tls[@]+--tls-port "$p"} --bind 127.0.0.1 --dir "$dir" --save '' \
			--appendonly no --daemonize no --logfile "$dir/redis.log" \
			--cluster-enabled yes --cluster-config-file nodes.conf \
			--cluster-require-full-coverage no --cluster-node-timeout 2000 \
			--user "$SL_REDIS_USER" $SL_REDIS_ACL $SL_CLUSTER_ACL \
			>/dev/null 2>&1 &
		SL_PIDS+=("$!")
		sl_wait_ready "$!" 10 "cluster node on port $p" \
			"$CLUSTER_CLI" -p "$p" PING || { sl_show_log "$dir/redis.log"; return 1; }
		CLUSTER_PORTS+=("$p")
		addrs+=("127.0.0.1:$p")
	done
	"$CLUSTER_CLI" --cluster create "${addrs[@]}" --cluster-replicas "$replicas" \
		--cluster-yes >"$STATE/cluster/create.log" 2>&1 ||
		{ sl_show_log "$STATE/cluster/create.log"; return 1; }
	sl_wait_for 30 "cluster_state:ok on every node" \
		cluster_settled "$replicas" ||
		{ sl_show_log "$STATE/cluster/create.log"; return 1; }
	# The masters as the cluster says (redis-cli chose them).
	mapfile -t CLUSTER_MASTERS < <("$CLUSTER_CLI" -p "${CLUSTER_PORTS[0]}" CLUSTER NODES |
		awk '$3 ~ /master/ { split($2, a, "[:@]"); print a[2] }' | sort -n)
	[ "${#CLUSTER_MASTERS[@]}" -eq "$masters" ] ||
		{ echo "start_cluster: ${#CLUSTER_MASTERS[@]} masters, expected $masters" >&2; return 1; }
	for p in "${CLUSTER_MASTERS[@]}"; do seeds+=("127.0.0.1:$p"); done
	CLUSTER_SEEDS=$(IFS=,; echo "${seeds[*]}")
	REDIS_URL="redis${tls[@]+s}://$SL_REDIS_USER:$SL_REDIS_PASS@$CLUSTER_SEEDS/0"
	export CLUSTER_CLI CLUSTER_SEEDS REDIS_URL
}
