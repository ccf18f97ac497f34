# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# Redis Sentinel for the integration tests: a master, one replica
# (--replicaof) and 1 or 3 sentinels (the same server binary run with
# --sentinel, so SL_REDIS_SERVER=valkey gives Valkey's), each on a free
# loopback port with its own config file in the test's state directory
# (sentinels and, after a failover, the nodes rewrite theirs: the directory
# is the test's own, 0755, and the files are the server's to write).
# Readiness is polled, never slept for.  Sourced after common.sh.
#
# sl_sentinel_setup DIR NSENTINELS [auth] sets
#   SL_MASTER_PORT SL_REPLICA_PORT   the first master and its replica
#   SL_SENTINEL_PORTS=(...)          SL_SENTINEL_PIDS=(...)
#   SL_SENTINEL_URL                  redis-sentinel://streamlag:...@s1,s2,s3/mymaster/0
# With auth, the sentinels want a password: the default user's
# (SL_SENTINEL_ADMIN_PASS, used by the sentinels among themselves and by
# sl_sentinel_cli) and the least-privilege user SL_SENTINEL_USER /
# SL_SENTINEL_PASS that streamlag is meant to use (SL_SENTINEL_ACL).
#
# The nodes have streamlag's ACL user (SL_REDIS_ACL, with +role added, as
# discovery confirms a master with ROLE) and a user for the sentinels
# (SL_SENTINEL_MON_ACL, from Redis's Sentinel documentation), which the
# sentinels log in as (sentinel auth-user / auth-pass).
#
# With SL_SENTINEL_TLS=DIR (certificates of lib/tlscerts.sh's sl_tls_certs
# in DIR), every node and sentinel speaks TLS only (port 0, tls-port on
# the free port, DIR/server.crt, tls-replication yes, no client
# certificate asked for), sl_node_cli goes over TLS trusting DIR/ca.crt,
# and SL_SENTINEL_URL is rediss-sentinel://.

SL_SENTINEL_MASTER_NAME=mymaster
SL_SENTINEL_ADMIN_PASS=sentinel-admin-password
SL_SENTINEL_USER=streamlag
SL_SENTINEL_PASS=streamlag-sentinel-password
SL_SENTINEL_ACL="on >$SL_SENTINEL_PASS -@all +sentinel|get-master-addr-by-name +sentinel|replicas"
SL_SENTINEL_MON_USER=sentinel-mon
SL_SENTINEL_MON_PASS=sentinel-mon-password
SL_SENTINEL_MON_ACL="on >$SL_SENTINEL_MON_PASS allchannels +multi +slaveof +ping +exec +subscribe +config|rewrite +role +publish +info +client|setname +client|kill +script|kill"
SL_SENTINEL_PORTS=()
SL_SENTINEL_PIDS=()
SL_SENTINEL_AUTH=
SL_SENTINEL_TLS=${SL_SENTINEL_TLS:-}

# sl_node_cli PORT ARGS...: redis-cli to a node or a sentinel, over TLS
# with SL_SENTINEL_TLS.
sl_node_cli() {
	local port=$1; shift
	if [ -n "$SL_SENTINEL_TLS" ]; then
		redis-cli --tls --cacert "$SL_SENTINEL_TLS/ca.crt" -h 127.0.0.1 \
			-p "$port" "$@"
	else
		redis-cli -p "$port" "$@"
	fi
}

# _sl_listen_conf PORT: the listening lines of a config file.
_sl_listen_conf() {
	local d=$SL_SENTINEL_TLS
	if [ -z "$d" ]; then
		echo "port $1"
		return
	fi
	echo "port 0"
	echo "tls-port $1"
	echo "tls-cert-file $d/server.crt"
	echo "tls-key-file $d/server.key"
	echo "tls-ca-cert-file $d/ca.crt"
	echo "tls-auth-clients no"
	echo "tls-replication yes"
}

# sl_sentinel_cli PORT ARGS...: redis-cli to a sentinel (as its default
# user, with the admin password when the sentinels want one).
sl_sentinel_cli() {
	local port=$1; shift
	if [ -n "$SL_SENTINEL_AUTH" ]; then
		REDISCLI_AUTH=$SL_SENTINEL_ADMIN_PASS sl_node_cli "$port" "$@"
	else
		sl_node_cli "$port" "$@"
	fi
}

# _sl_node_conf FILE PORT [MASTER_PORT]: a node's config file.
_sl_node_conf() {
	local file=$1 port=$2 master=${3:-} dir
	dir=$(dirname "$file")
	{
		_sl_listen_conf "$port"
		echo "bind 127.0.0.1"
		echo "dir $dir"
		echo "save \"\""
		echo "appendonly no"
		# A full sync starts at once, not after the default 5 s wait
		# for more replicas.
		echo "repl-diskless-sync-delay 0"
		echo "logfile $(sl_log_dir "$dir")/redis-$port.log"
		echo "user $SL_REDIS_USER $SL_REDIS_ACL +role"
		echo "user $SL_SENTINEL_MON_USER $SL_SENTINEL_MON_ACL"
		[ -n "$master" ] && echo "replicaof 127.0.0.1 $master"
	} >"$file"
}

# _sl_start_node DIR PORT [MASTER_PORT]: a redis-server from its config
# file; its pid is added to SL_PIDS.
_sl_start_node() {
	local dir=$1 port=$2 master=${3:-} server conf pid
	server=$(sl_redis_server) || return 1
	[ -x "$server" ] ||
		sl_die "no server binary for SL_REDIS_SERVER=${SL_REDIS_SERVER:-redis}"
	conf=$dir/redis-$port.conf
	(umask 077 && _sl_node_conf "$conf" "$port" "$master")
	"$server" "$conf" >/dev/null 2>&1 &
	pid=$!
	SL_PIDS+=("$pid")
	sl_wait_ready "$pid" 10 "redis-server on port $port" \
		sl_node_cli "$port" PING ||
		{ sl_show_log "$(sl_log_dir "$dir")/redis-$port.log"; return 1; }
}

# sl_replica_synced PORT: the replica on PORT has its link to the master up.
sl_replica_synced() {
	sl_node_cli "$1" INFO replication | grep -q '^master_link_status:up'
}

# _sl_sentinel_conf FILE PORT MASTER_PORT QUORUM
_sl_sentinel_conf() {
	local file=$1 port=$2 mport=$3 quorum=$4 dir m=$SL_SENTINEL_MASTER_NAME
	dir=$(dirname "$file")
	{
		_sl_listen_conf "$port"
		echo "bind 127.0.0.1"
		echo "dir $dir"
		echo "logfile $(sl_log_dir "$dir")/sentinel-$port.log"
		echo "sentinel monitor $m 127.0.0.1 $mport $quorum"
		echo "sentinel down-after-milliseconds $m 1000"
		echo "sentinel failover-timeout $m 5000"
		echo "sentinel auth-user $m $SL_SENTINEL_MON_USER"
		echo "sentinel auth-pass $m $SL_SENTINEL_MON_PASS"
		if [ -n "$SL_SENTINEL_AUTH" ]; then
			echo "requirepass $SL_SENTINEL_ADMIN_PASS"
			echo "sentinel sentinel-pass $SL_SENTINEL_ADMIN_PASS"
			echo "user $SL_SENTINEL_USER $SL_SENTINEL_ACL"
		fi
	} >"$file"
}

# sl_sentinel_master_port PORT: the port a sentinel gives for the master.
sl_sentinel_master_port() {
	sl_sentinel_cli "$1" SENTINEL get-master-addr-by-name \
		"$SL_SENTINEL_MASTER_NAME" 2>/dev/null | sed -n 2p
}

# sl_sentinel_knows PORT MASTER_PORT REPLICA_PORT NSENTINELS: the sentinel
# names that master, lists that replica, and knows the other sentinels.
sl_sentinel_knows() {
	local port=$1 mport=$2 rport=$3 n=$4 others
	[ "$(sl_sentinel_master_port "$port")" = "$mport" ] || return 1
	sl_sentinel_cli "$port" SENTINEL replicas "$SL_SENTINEL_MASTER_NAME" |
		grep -qx "127.0.0.1:$rport" || return 1
	others=$(sl_sentinel_cli "$port" SENTINEL sentinels \
		"$SL_SENTINEL_MASTER_NAME" | grep -c '^name$')
	[ "$others" -eq $((n - 1)) ]
}

# sl_start_sentinel DIR PORT MASTER_PORT QUORUM
sl_start_sentinel() {
	local dir=$1 port=$2 mport=$3 quorum=$4 server conf pid
	server=$(sl_redis_server) || return 1
	conf=$dir/sentinel-$port.conf
	(umask 077 && _sl_sentinel_conf "$conf" "$port" "$mport" "$quorum")
	"$server" "$conf" --sentinel >/dev/null 2>&1 &
	pid=$!
	SL_PIDS+=("$pid")
	SL_SENTINEL_PIDS+=("$pid")
	SL_SENTINEL_PORTS+=("$port")
	sl_wait_ready "$pid" 10 "sentinel on port $port" \
		sl_sentinel_cli "$port" PING ||
		{ sl_show_log "$(sl_log_dir "$dir")/sentinel-$port.log"; return 1; }
}

sl_sentinel_setup() {
	local dir=$1 n=$2 quorum i p hosts=
	[ "${3:-}" = auth ] && SL_SENTINEL_AUTH=1
	quorum=$(( n / 2 + 1 ))
	SL_MASTER_PORT=$(sl_free_port)
	SL_REPLICA_PORT=$(sl_free_port)
	_sl_start_node "$dir" "$SL_MASTER_PORT" || return 1
	_sl_start_node "$dir" "$SL_REPLICA_PORT" "$SL_MASTER_PORT" || return 1
	sl_wait_for 30 "replica on $SL_REPLICA_PORT to sync" \
		sl_replica_synced "$SL_REPLICA_PORT" || return 1
	for ((i = 0; i < n; i++)); do
		p=$(sl_free_port)
		sl_start_sentinel "$dir" "$p" "$SL_MASTER_PORT" "$quorum" || return 1
		hosts=${hosts:+$hosts,}127.0.0.1:$p
	done
	for p in "${SL_SENTINEL_PORTS[@]}"; do
		sl_wait_for 30 "sentinel $p to know the master, replica and sentinels" \
			sl_sentinel_knows "$p" "$SL_MASTER_PORT" "$SL_REPLICA_PORT" "$n" ||
			return 1
	done
	# shellcheck disable=SC2034  # the sourcing test's
	SL_SENTINEL_URL="redis${SL_SENTINEL_TLS:+s}-sentinel://$SL_REDIS_USER:$SL_REDIS_PASS@$hosts/$SL_SENTINEL_MASTER_NAME/0"
}

# sl_sentinels_agree PORT: every running sentinel names 127.0.0.1:PORT.
sl_sentinels_agree() {
	local i
	for i in "${!SL_SENTINEL_PORTS[@]}"; do
		sl_pid_gone "${SL_SENTINEL_PIDS[$i]}" && continue
		[ "$(sl_sentinel_master_port "${SL_SENTINEL_PORTS[$i]}")" = "$1" ] ||
			return 1
	done
}

# sl_wait_sentinels_agree PORT [SECONDS]
sl_wait_sentinels_agree() {
	sl_wait_for "${2:-30}" "the sentinels to agree on 127.0.0.1:$1" \
		sl_sentinels_agree "$1"
}

# sl_sentinel_failover [SENTINEL_PORT]: SENTINEL FAILOVER on one sentinel
# (the first by default); prints its answer.
sl_sentinel_failover() {
	sl_sentinel_cli "${1:-${SL_SENTINEL_PORTS[0]}}" SENTINEL FAILOVER \
		"$SL_SENTINEL_MASTER_NAME"
}

# sl_role PORT: the first word of ROLE on a node ("master", "slave").
sl_role() { sl_node_cli "$1" ROLE 2>/dev/null | head -1; }

# sl_stop_sentinel INDEX: stops that sentinel and waits until it is gone.
sl_stop_sentinel() {
	sl_stop_pid "${SL_SENTINEL_PIDS[$1]}" 10
}
