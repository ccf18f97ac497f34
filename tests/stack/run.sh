#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# make run: the whole product on this machine.  An embedded redis-server on
# a free port (unless REDIS_URL is set: then that one, untouched) holding
# demo traffic, or the seed's example with STREAMLAG_RUN_DATA=seed;
# streamlag serve on a unix socket; nginx with a self-signed certificate
# serving the dashboard and the API on https://127.0.0.1:$STREAMLAG_HTTP_PORT.
# Prints the URL and a token on stdout; Ctrl-C (or SIGTERM) stops everything.
#
# build/run/ keeps what outlives a run (certificate, JWT secret) and the logs
# of the last run.  Sockets and the rendered nginx.conf live in a temporary
# directory that nginx's workers (www-data, when run as root) can traverse.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

RUN_DIR=$SL_ROOT/build/run
HTTP_PORT=${STREAMLAG_HTTP_PORT:-8443}
DATA=${STREAMLAG_RUN_DATA:-demo}

[[ $HTTP_PORT =~ ^[1-9][0-9]{0,4}$ ]] && (( HTTP_PORT <= 65535 )) ||
	sl_die "STREAMLAG_HTTP_PORT: expected a port from 1 to 65535, got \"$HTTP_PORT\""
case $DATA in demo|seed) ;; *)
	sl_die "STREAMLAG_RUN_DATA: expected demo or seed, got \"$DATA\"" ;;
esac
[ -x "$SL_BIN" ] || sl_die "$SL_BIN is not built (run make)"
sl_port_in_use "$HTTP_PORT" &&
	sl_die "port $HTTP_PORT on 127.0.0.1 is in use; set STREAMLAG_HTTP_PORT to a free port"

mkdir -p "$RUN_DIR" || sl_die "cannot create $RUN_DIR"
export SL_LOG_DIR=$RUN_DIR
for f in streamlag.log nginx-error.log nginx-access.log redis.log demo.log; do
	: >"$RUN_DIR/$f"
done
STATE=$(sl_state_dir)
cleanup() {
	trap - INT TERM
	sl_teardown
	rm -rf "$STATE"
}
trap cleanup EXIT
trap 'echo "streamlag: stopping" >&2; exit 0' INT TERM

if [ -z "${REDIS_URL:-}" ]; then
	REDIS_PORT=$(sl_free_port)
	sl_start_redis "$STATE" "$REDIS_PORT" || exit 1
	export REDIS_URL=$(sl_redis_url "$REDIS_PORT")
	if [ "$DATA" = seed ]; then
		sl_seed_example "$REDIS_PORT"
	else
		export STREAMLAG_STREAMS=${STREAMLAG_STREAMS:-events:chat,events:ticket,events:remote,events:notification}
		# The producers and consumers write: the default user, not
		# streamlag's read-only one.
		REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" "$SL_BIN" demo \
			>>"$RUN_DIR/demo.log" 2>&1 &
		SL_PIDS+=("$!")
	fi
fi

if [ -z "${STREAMLAG_JWT_SECRET:-}" ] && [ -z "${STREAMLAG_JWT_SECRET_FILE:-}" ]; then
	if [ ! -s "$RUN_DIR/jwt.secret" ]; then
		(umask 077 && openssl rand -hex 32 >"$RUN_DIR/jwt.secret.new" &&
			mv "$RUN_DIR/jwt.secret.new" "$RUN_DIR/jwt.secret") ||
			sl_die "openssl could not make a secret"
	fi
	chmod 0600 "$RUN_DIR/jwt.secret"
	export STREAMLAG_JWT_SECRET_FILE=$RUN_DIR/jwt.secret
fi

sl_self_signed "$RUN_DIR"
cp "$RUN_DIR/tls.crt" "$RUN_DIR/tls.key" "$STATE/" || sl_die "cannot copy the certificate"
sl_start_serve "$STATE/streamlag.sock" || exit 1
sl_start_nginx "$STATE" "$HTTP_PORT" "$STATE/streamlag.sock" ssl || exit 1

TOKEN=$("$SL_BIN" token --sub dashboard --ttl 86400) || sl_die "streamlag token failed"
echo "streamlag ready: https://127.0.0.1:$HTTP_PORT/"
echo "token: $TOKEN"
echo "streamlag: logs in $RUN_DIR/*.log; Ctrl-C stops" >&2

# Until Ctrl-C, or until one of the servers dies.
wait -n "${SL_PIDS[@]}"
echo "streamlag: a server exited; stopping" >&2
for f in "$RUN_DIR"/*.log; do sl_show_log "$f"; done
exit 1
