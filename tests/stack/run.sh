#!/usr/bin/env bash
# make run: the whole product on this machine.  An embedded redis-server with
# demo traffic (unless REDIS_URL is set), streamlag serve with its workers,
# and nginx with a self-signed certificate serving the dashboard and the API.
# Ctrl-C stops everything.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

RUN_DIR=$SL_ROOT/build/run	# kept between runs: certificate, JWT secret
HTTP_PORT=${STREAMLAG_HTTP_PORT:-8443}
mkdir -p "$RUN_DIR"
[ -x "$SL_BIN" ] || sl_die "$SL_BIN is not built (run make)"
sl_port_in_use "$HTTP_PORT" &&
	sl_die "port $HTTP_PORT is in use; set STREAMLAG_HTTP_PORT to another port"

# Sockets, logs and the served copy of www/ live where nginx's workers
# (www-data when run as root) can reach them.
STATE=$(sl_state_dir)
cleanup() { sl_teardown; rm -rf "$STATE"; }
trap cleanup EXIT
trap 'echo "streamlag: stopping" >&2; exit 0' INT TERM
cp -R "$SL_ROOT/www" "$STATE/www"
chmod -R a+rX "$STATE/www"
export SL_WWW=$STATE/www

if [ -z "${REDIS_URL:-}" ]; then
	REDIS_PORT=$(sl_free_port)
	sl_start_redis "$STATE" "$REDIS_PORT" || exit 1
	export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
	export STREAMLAG_STREAMS=${STREAMLAG_STREAMS:-events:chat,events:ticket,events:remote,events:notification}
	"$SL_BIN" demo >>"$STATE/demo.log" 2>&1 &
	SL_PIDS+=("$!")
fi

if [ -z "${STREAMLAG_JWT_SECRET:-}" ] && [ -z "${STREAMLAG_JWT_SECRET_FILE:-}" ]; then
	if [ ! -s "$RUN_DIR/jwt.secret" ]; then
		(umask 077 && openssl rand -hex 32 >"$RUN_DIR/jwt.secret") ||
			sl_die "openssl could not make a secret"
	fi
	export STREAMLAG_JWT_SECRET_FILE=$RUN_DIR/jwt.secret
fi

sl_self_signed "$RUN_DIR"
cp "$RUN_DIR/tls.crt" "$RUN_DIR/tls.key" "$STATE/"
sl_start_serve "$STATE/streamlag.sock" || exit 1
sl_start_nginx "$STATE" "$HTTP_PORT" "$STATE/streamlag.sock" ssl || exit 1

TOKEN=$("$SL_BIN" token --sub dashboard --ttl 86400) || sl_die "no token"
echo "streamlag ready: https://127.0.0.1:$HTTP_PORT/"
echo "token: $TOKEN"
echo "streamlag: logs in $STATE (streamlag.log, nginx-error.log, redis.log, demo.log); Ctrl-C stops" >&2

# Until Ctrl-C, or until one of the servers dies.
wait -n "${SL_PIDS[@]}"
echo "streamlag: a server exited; stopping (logs follow)" >&2
tail -n 5 "$STATE"/*.log >&2
exit 1
