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
