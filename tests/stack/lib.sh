# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# The streamlag stack on one machine: a throwaway redis-server, streamlag
# serve and nginx, each on a free loopback port or a socket inside one state
# directory.  Used by `make run` and by the integration tests.  Readiness is
# polled against a deadline, never slept for; everything started here is
# recorded in SL_PIDS and stopped by sl_teardown.
#
# SL_LOG_DIR (default: the state directory) is where the servers' logs go.

SL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SL_BIN=${STREAMLAG_BIN:-$SL_ROOT/build/streamlag}
SL_PIDS=()

sl_die() { echo "streamlag stack: $*" >&2; exit 1; }

sl_is_root() { [ "$(id -u)" -eq 0 ]; }

# A state directory others can traverse: CI runs as root, and nginx's
# workers then run as www-data, who must reach the socket inside it.
sl_state_dir() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/streamlag.XXXXXX") || sl_die "mktemp failed"
	chmod 0755 "$d"
	mkdir -p "$d/nginx-tmp"
	echo "$d"
}

# A port the kernel just handed out on 127.0.0.1 (free until someone binds it).
sl_free_port() {
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
		    LocalPort => 0, ReuseAddr => 1) or die "no free port: $!\n";
		print $s->sockport, "\n";'
}

sl_now_ms() { date +%s%3N; }

sl_pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# sl_wait_for SECONDS WHAT COMMAND...: polls COMMAND until it succeeds.
sl_wait_for() {
	local secs=$1 what=$2; shift 2
	local deadline=$(( $(sl_now_ms) + secs * 1000 ))
	until "$@" >/dev/null 2>&1; do
		if (( $(sl_now_ms) > deadline )); then
			echo "streamlag stack: timed out after ${secs}s waiting for $what" >&2
			return 1
		fi
		sleep 0.05
	done
}

# sl_wait_ready PID SECONDS WHAT COMMAND...: as sl_wait_for, but gives up at
# once when PID (the server being waited for) has exited.
sl_wait_ready() {
	local pid=$1 secs=$2 what=$3; shift 3
	local deadline=$(( $(sl_now_ms) + secs * 1000 ))
	until "$@" >/dev/null 2>&1; do
		if sl_pid_gone "$pid"; then
			echo "streamlag stack: $what: the process exited before it was ready" >&2
			return 1
		fi
		if (( $(sl_now_ms) > deadline )); then
			echo "streamlag stack: timed out after ${secs}s waiting for $what" >&2
			return 1
		fi
		sleep 0.05
	done
}

sl_log_dir() { echo "${SL_LOG_DIR:-$1}"; }

# sl_show_log FILE: the end of a log, for a failure message.
sl_show_log() {
	[ -s "$1" ] || return 0
	echo "streamlag stack: last lines of $1:" >&2
	tail -n 5 "$1" | sed 's/^/  /' >&2
}

# The least-privilege ACL user of docs/operations.md: read-only keys, only
# the commands streamlag sends.  Every redis-server started here has it, and
# streamlag connects as this user (sl_redis_url), so a command missing from
# the documented list fails the tests.
SL_REDIS_USER=streamlag
SL_REDIS_PASS=streamlag-test-password
SL_REDIS_ACL="on >$SL_REDIS_PASS resetkeys %R~* resetchannels -@all +xinfo|groups +xinfo|consumers +xinfo|stream +xrange +xlen +xpending +scan +time +select +info"

# sl_redis_url PORT: the URL streamlag uses, as the ACL user.
sl_redis_url() { echo "redis://$SL_REDIS_USER:$SL_REDIS_PASS@127.0.0.1:$1/0"; }

# sl_redis_server: the server binary the tests run.  SL_REDIS_SERVER=valkey
# picks Valkey 8 from Debian's backports (tests/servers/valkey.sh fetches it
# into build/servers/); unset or "redis", Debian's redis-server.
sl_redis_server() {
	case ${SL_REDIS_SERVER:-redis} in
	redis) command -v redis-server ;;
	valkey) "$SL_ROOT/tests/servers/valkey.sh" | sed 's|$|/valkey-server|' ;;
	*) sl_die "SL_REDIS_SERVER: expected redis or valkey, got ${SL_REDIS_SERVER}" ;;
	esac
}

# sl_start_redis DIR PORT: a redis-server without persistence, on 127.0.0.1,
# with the ACL user; sets SL_REDIS_PID.  redis-cli stays the default user.
sl_start_redis() {
	local dir=$1 port=$2 log server
	log=$(sl_log_dir "$dir")/redis.log
	server=$(sl_redis_server) && [ -x "$server" ] || sl_die "no server binary for SL_REDIS_SERVER=${SL_REDIS_SERVER:-redis}"
	# shellcheck disable=SC2086
	"$server" --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' \
		--appendonly no --daemonize no --logfile "$log" \
		--user "$SL_REDIS_USER" $SL_REDIS_ACL \
		>/dev/null 2>&1 &
	SL_REDIS_PID=$!
	SL_PIDS+=("$SL_REDIS_PID")
	sl_wait_ready "$SL_REDIS_PID" 10 "redis-server on port $port" \
		redis-cli -p "$port" PING || { sl_show_log "$log"; return 1; }
}

# sl_stop_redis PORT: SHUTDOWN NOSAVE, and wait until the port is closed.
sl_stop_redis() {
	local port=$1
	redis-cli -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
	if [ -n "${SL_REDIS_PID:-}" ]; then
		wait "$SL_REDIS_PID" 2>/dev/null || true
	fi
	sl_wait_for 10 "redis-server on port $port to stop" \
		sl_port_closed "$port"
}

sl_port_closed() { ! redis-cli -p "$1" PING >/dev/null 2>&1; }

# sl_port_in_use PORT: something listens on 127.0.0.1:PORT.
sl_port_in_use() {
	perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new(
		PeerAddr => "127.0.0.1:$ARGV[0]", Timeout => 1) ? 0 : 1)' "$1"
}

# sl_seed_commands: the seed's example as redis-cli input.
#   events:chat   200 entries, 77 delivered (instance-1: 50, instance-2: 27)
#   events:ticket 100 entries, 55 delivered (instance-1)
#   events:remote  10 entries, 10 delivered (instance-1)
# The group is created at 0 before the entries; nothing is acknowledged.
sl_seed_commands() {
	local g=${EVENT_TRANSPORT_CONSUMER_GROUP:-signalr-consumers} s n i
	for s in events:chat:200 events:ticket:100 events:remote:10; do
		n=${s##*:}; s=${s%:*}
		echo "DEL $s"
		echo "XGROUP CREATE $s $g 0 MKSTREAM"
		for ((i = 1; i <= n; i++)); do
			echo "XADD $s * event demo seq $i"
		done
	done
	echo "XREADGROUP GROUP $g instance-1 COUNT 50 STREAMS events:chat >"
	echo "XREADGROUP GROUP $g instance-2 COUNT 27 STREAMS events:chat >"
	echo "XREADGROUP GROUP $g instance-1 COUNT 55 STREAMS events:ticket >"
	echo "XREADGROUP GROUP $g instance-1 COUNT 10 STREAMS events:remote >"
}

# sl_seed_example PORT: the seed's example, built for real.
sl_seed_example() {
	sl_seed_commands | redis-cli -p "$1" >/dev/null
}

# sl_start_serve SOCKET [ARGS...]: streamlag serve on a unix socket, with the
# environment as it is; sets SL_SERVE_PID.  As root the socket's group is
# www-data (nginx's workers); otherwise nginx runs as this user and the
# group is left alone.
sl_start_serve() {
	local sock=$1 log; shift
	log=$(sl_log_dir "$(dirname "$sock")")/streamlag.log
	# sun_path holds 108 bytes with its NUL.
	(( ${#sock} <= 107 )) || sl_die "socket path too long for a unix socket: $sock"
	if sl_is_root; then
		export STREAMLAG_SOCKET_GROUP=${STREAMLAG_SOCKET_GROUP-www-data}
	else
		export STREAMLAG_SOCKET_GROUP=${STREAMLAG_SOCKET_GROUP-}
	fi
	export STREAMLAG_SOCKET_MODE=${STREAMLAG_SOCKET_MODE:-0660}
	"$SL_BIN" serve --listen "unix:$sock" "$@" >>"$log" 2>&1 &
	SL_SERVE_PID=$!
	SL_PIDS+=("$SL_SERVE_PID")
	sl_wait_ready "$SL_SERVE_PID" 10 "streamlag socket $sock" test -S "$sock" ||
		{ sl_show_log "$log"; return 1; }
}

# sl_stop_pid PID [SECONDS]: SIGTERM, then SIGKILL (with the children it
# left, such as prefork workers) once the bound has passed.
sl_stop_pid() {
	local pid=$1 secs=${2:-10} kids=()
	kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	if ! sl_wait_for "$secs" "pid $pid to exit" sl_pid_gone "$pid"; then
		mapfile -t kids < <(pgrep -P "$pid")
		kill -KILL "$pid" "${kids[@]}" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null || true
}

# sl_sed_escape VALUE: VALUE as the replacement of an s/// command.
sl_sed_escape() {
	[[ $1 != *$'\n'* ]] || sl_die "a newline in a configuration value: $1"
	printf '%s' "$1" | sed -e 's/[\/&\\]/\\&/g'
}

# sl_www_root STATE: the static root nginx serves.  SL_WWW if set; else the
# repository's www/ if nginx's workers can read it (make run: edits show at
# once); else, and always with SL_WWW_COPY=1 (the tests: independent of
# where the checkout lives), a world-readable copy in STATE.
sl_www_root() {
	local state=$1 www=$SL_ROOT/www
	if [ -n "${SL_WWW:-}" ]; then
		echo "$SL_WWW"
	elif [ "${SL_WWW_COPY:-}" != 1 ] &&
	    { ! sl_is_root || runuser -u www-data -- test -r "$www/index.html" 2>/dev/null; }; then
		echo "$www"
	else
		rm -rf "$state/www"
		cp -R "$www" "$state/www" && chmod -R a+rX "$state/www"
		echo "$state/www"
	fi
}

# sl_render_nginx STATE PORT SOCKET [ssl]: writes STATE/nginx.conf from
# nginx/dev.conf.in.  Lines marked @IF_ROOT@ / @IF_SSL@ are kept (without the
# marker) only as root / with ssl.
sl_render_nginx() {
	local state=$1 port=$2 sock=$3 ssl=${4:-} if_root="/@IF_ROOT@/d" if_ssl="/@IF_SSL@/d"
	local logs www
	logs=$(sl_log_dir "$state")
	www=$(sl_www_root "$state") || sl_die "cannot prepare the www root"
	sl_is_root && if_root="s/@IF_ROOT@//"
	[ -n "$ssl" ] && if_ssl="s/@IF_SSL@//"
	{
		echo "# Rendered from $SL_ROOT/nginx/dev.conf.in by tests/stack/lib.sh."
		# The template's leading comment names the markers: dropped.
		sed -e "1,/^[^#]/{/^#/d}" -e "$if_root" -e "$if_ssl" \
		    -e "s/@STATE@/$(sl_sed_escape "$state")/g" \
		    -e "s/@LOGS@/$(sl_sed_escape "$logs")/g" \
		    -e "s/@PORT@/$(sl_sed_escape "$port")/g" \
		    -e "s/@SOCKET@/$(sl_sed_escape "$sock")/g" \
		    -e "s/@WWW@/$(sl_sed_escape "$www")/g" \
		    -e "s/@NGINX@/$(sl_sed_escape "$SL_ROOT/nginx")/g" \
		    -e "s/@SSL@/${ssl:+ssl}/g" \
		    "$SL_ROOT/nginx/dev.conf.in"
	} >"$state/nginx.conf" ||
		sl_die "cannot write $state/nginx.conf"
	! grep -n '@[A-Z_]*@' "$state/nginx.conf" >&2 ||
		sl_die "placeholders left in $state/nginx.conf (above)"
}

# sl_self_signed DIR: a certificate for 127.0.0.1 and localhost, made once.
sl_self_signed() {
	local dir=$1
	[ -s "$dir/tls.crt" ] && [ -s "$dir/tls.key" ] && return 0
	(umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days 365 \
		-subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$dir/tls.key" -out "$dir/tls.crt" >/dev/null 2>&1) ||
		sl_die "openssl could not make a certificate in $dir"
	chmod 0644 "$dir/tls.crt"
}

# sl_start_nginx STATE PORT SOCKET [ssl]: nginx in the foreground of a
# background job, ready once its pid file exists and /healthz answers 200
# through it (which proves the path to streamlag's socket); sets
# SL_NGINX_PID.  With ssl, STATE holds tls.crt and tls.key.
sl_start_nginx() {
	local state=$1 port=$2 sock=$3 ssl=${4:-} scheme=http logs
	[ -n "$ssl" ] && scheme=https
	logs=$(sl_log_dir "$state")
	mkdir -p "$state/nginx-tmp"
	sl_render_nginx "$state" "$port" "$sock" "$ssl"
	nginx -t -q -p "$state/" -c "$state/nginx.conf" -e "$logs/nginx-error.log" ||
		sl_die "nginx -t failed for $state/nginx.conf"
	nginx -p "$state/" -c "$state/nginx.conf" -e "$logs/nginx-error.log" \
		-g 'daemon off;' >>"$logs/nginx-error.log" 2>&1 &
	SL_NGINX_PID=$!
	SL_PIDS+=("$SL_NGINX_PID")
	sl_wait_ready "$SL_NGINX_PID" 10 "nginx pid file $state/nginx.pid" \
		test -s "$state/nginx.pid" &&
	sl_wait_ready "$SL_NGINX_PID" 10 "$scheme://127.0.0.1:$port/healthz through nginx" \
		curl -fsk -o /dev/null "$scheme://127.0.0.1:$port/healthz" || {
		sl_show_log "$logs/nginx-error.log"
		return 1
	}
}

# Stops everything this shell started, newest first: nginx, then streamlag,
# then Redis.
sl_teardown() {
	local i
	for ((i = ${#SL_PIDS[@]} - 1; i >= 0; i--)); do
		sl_stop_pid "${SL_PIDS[$i]}" 10
	done
	SL_PIDS=()
}
