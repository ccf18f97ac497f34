# shellcheck shell=bash
# The streamlag stack on one machine: a throwaway redis-server, streamlag
# serve and nginx, each on a free loopback port or a socket inside one state
# directory.  Used by `make run` and by the integration tests.  Readiness is
# polled, never slept for; everything started here is stopped by sl_teardown.

SL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SL_BIN=${STREAMLAG_BIN:-$SL_ROOT/build/streamlag}
SL_PIDS=()
SL_KEEP_STATE=${SL_KEEP_STATE:-0}

sl_die() { echo "streamlag stack: $*" >&2; exit 1; }

# A state directory others can traverse: CI runs as root, and nginx's
# workers run as www-data.
sl_state_dir() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/streamlag.XXXXXX") || sl_die "mktemp failed"
	chmod 0755 "$d"
	mkdir -p "$d/nginx-tmp"
	echo "$d"
}

sl_free_port() {
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
		    LocalPort => 0, ReuseAddr => 1) or die "no free port: $!\n";
		print $s->sockport, "\n";'
}

sl_now_ms() { date +%s%3N; }

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

# sl_start_redis DIR PORT: a redis-server with no persistence; sets SL_REDIS_PID.
sl_start_redis() {
	local dir=$1 port=$2
	redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' \
		--appendonly no --daemonize no --logfile "$dir/redis.log" \
		>/dev/null 2>&1 &
	SL_REDIS_PID=$!
	SL_PIDS+=("$SL_REDIS_PID")
	sl_wait_for 10 "redis-server on port $port" \
		redis-cli -p "$port" PING || return 1
}

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

# sl_seed_example PORT: the seed's example, built for real.
#   events:chat   200 entries, 77 delivered (instance-1: 50, instance-2: 27)
#   events:ticket 100 entries, 55 delivered (instance-1)
#   events:remote  10 entries, 10 delivered (instance-1)
sl_seed_example() {
	local port=$1 g=${EVENT_TRANSPORT_CONSUMER_GROUP:-signalr-consumers}
	{
		local s n
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
	} | redis-cli -p "$port" >/dev/null
}

# sl_start_serve SOCKET [ARGS...]: streamlag serve on a unix socket, with the
# environment as it is; sets SL_SERVE_PID.
sl_start_serve() {
	local sock=$1; shift
	if [ "$(id -u)" -eq 0 ]; then
		export STREAMLAG_SOCKET_GROUP=${STREAMLAG_SOCKET_GROUP-www-data}
	else
		export STREAMLAG_SOCKET_GROUP=${STREAMLAG_SOCKET_GROUP-}
	fi
	"$SL_BIN" serve --listen "unix:$sock" "$@" \
		>>"$(dirname "$sock")/streamlag.log" 2>&1 &
	SL_SERVE_PID=$!
	SL_PIDS+=("$SL_SERVE_PID")
	sl_wait_for 10 "streamlag socket $sock" test -S "$sock" || {
		tail -5 "$(dirname "$sock")/streamlag.log" >&2
		return 1
	}
}

# sl_stop_pid PID [SECONDS]: SIGTERM, then SIGKILL after the bound.
sl_stop_pid() {
	local pid=$1 secs=${2:-10}
	kill -TERM "$pid" 2>/dev/null || return 0
	sl_wait_for "$secs" "pid $pid to exit" sl_pid_gone "$pid" ||
		kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
}

sl_pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# sl_render_nginx STATE PORT SOCKET [ssl]: writes STATE/nginx.conf.
sl_render_nginx() {
	local state=$1 port=$2 sock=$3 ssl=${4:-} user="" sslflag="" cert="" key=""
	[ "$(id -u)" -eq 0 ] && user="user www-data www-data;"
	if [ -n "$ssl" ]; then
		sslflag="ssl"
		cert="ssl_certificate $state/tls.crt;"
		key="ssl_certificate_key $state/tls.key;"
	fi
	sed -e "s|@USER@|$user|" -e "s|@STATE@|$state|g" -e "s|@PORT@|$port|g" \
	    -e "s|@SOCKET@|$sock|g" -e "s|@WWW@|${SL_WWW:-$SL_ROOT/www}|g" \
	    -e "s|@NGINX@|$SL_ROOT/nginx|g" -e "s|@SSL@|$sslflag|" \
	    -e "s|@SSL_CERT@|$cert|" -e "s|@SSL_KEY@|$key|" \
	    "$SL_ROOT/nginx/dev.conf.in" >"$state/nginx.conf"
}

# sl_self_signed STATE: a certificate for 127.0.0.1 and localhost, made once.
sl_self_signed() {
	local state=$1
	[ -s "$state/tls.crt" ] && [ -s "$state/tls.key" ] && return 0
	openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=localhost \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$state/tls.key" -out "$state/tls.crt" >/dev/null 2>&1 ||
		sl_die "openssl could not make a certificate"
	chmod 0600 "$state/tls.key"
}

# sl_start_nginx STATE PORT SOCKET [ssl]: sets SL_NGINX_PID.
sl_start_nginx() {
	local state=$1 port=$2 sock=$3 ssl=${4:-} scheme=http
	[ -n "$ssl" ] && scheme=https
	mkdir -p "$state/nginx-tmp"
	sl_render_nginx "$state" "$port" "$sock" "$ssl"
	nginx -t -q -p "$state/" -c "$state/nginx.conf" -e "$state/nginx-error.log" ||
		sl_die "nginx -t failed for $state/nginx.conf"
	nginx -p "$state/" -c "$state/nginx.conf" -e "$state/nginx-error.log" \
		-g 'daemon off;' >>"$state/nginx-error.log" 2>&1 &
	SL_NGINX_PID=$!
	SL_PIDS+=("$SL_NGINX_PID")
	sl_wait_for 10 "nginx on port $port" \
		curl -fsk -o /dev/null "$scheme://127.0.0.1:$port/healthz"
}

# Stops everything this shell started, newest first.
sl_teardown() {
	local i
	for ((i = ${#SL_PIDS[@]} - 1; i >= 0; i--)); do
		sl_stop_pid "${SL_PIDS[$i]}" 10
	done
	SL_PIDS=()
}
