#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The docs, followed literally: every ```sh block of README.md and
# docs/*.md runs against a real stack, except those marked
# <!-- not-run: reason --> on the line before (each must give a reason).
# A block of "$ command" lines runs those commands, and its other lines are
# the output it must print; any other block runs whole.  Each block runs in
# bash with -e and pipefail, in the checkout, with build/ on PATH.
#
# What differs from the reader's machine, and only that:
#   https://127.0.0.1:8443  -> this test's nginx (make run's address)
#   127.0.0.1:6379          -> this test's Redis holding the seed's example
#   build/run/jwt.secret    -> the key this test's streamlag serve uses
#   /etc/...                -> $ROOT/etc/..., prepared as after installing
#   sudo [-u USER]          -> runs the command as this user
#   redis-cli               -> an administrative Redis started from a
#                              redis.conf, so that CONFIG REWRITE can persist
. "$(dirname "$0")/common.sh"

# The stack: the seed's example behind nginx over TLS.
seeded_redis
openssl rand -hex 32 >"$STATE/jwt.secret"
unset STREAMLAG_JWT_SECRET
export STREAMLAG_JWT_SECRET_FILE=$STATE/jwt.secret
# The seed's consumers never read again: after STREAMLAG_STALL_MS (60 s by
# default) every group is stalled and health answers 503; a busy machine
# can take that long to get through this script.
export STREAMLAG_STALL_MS=3600000
serve_on_socket --workers 2
nginx_in_front ssl
HTTPS=$HTTP

# The administrative Redis, from a configuration file.
ADMIN=$(sl_free_port)
mkdir -p "$STATE/admin"
printf 'port %s\nbind 127.0.0.1\ndir %s\nsave ""\nappendonly no\nlogfile %s\n' \
	"$ADMIN" "$STATE/admin" "$STATE/admin-redis.log" >"$STATE/admin/redis.conf"
start_admin() {
	redis-server "$STATE/admin/redis.conf" >/dev/null 2>&1 &
	ADMIN_PID=$!
	SL_PIDS+=("$ADMIN_PID")
	sl_wait_ready "$ADMIN_PID" 10 "the administrative redis-server" redis-cli -p "$ADMIN" PING
}
start_admin || exit 1

# /etc as after installing (docs/operations.md, "Installing").
ROOT=$STATE/root
mkdir -p "$ROOT/etc/streamlag" "$ROOT/etc/prometheus"
cp "$STATE/jwt.secret" "$ROOT/etc/streamlag/jwt.secret"
sed -e "s|^REDIS_URL=.*|REDIS_URL=$REDIS_URL|" -e "s|/etc/|$ROOT/etc/|" \
	-e '/^STREAMLAG_JWT_ISSUER=/d' -e '/^STREAMLAG_JWT_AUDIENCE=/d' \
	"$SL_ROOT/docs/systemd/streamlag.env.example" >"$ROOT/etc/streamlag/streamlag.env"

# The shims.
mkdir -p "$STATE/shims"
cat >"$STATE/shims/sudo" <<'SH'
#!/bin/sh
while [ $# -gt 0 ]; do
	case $1 in -u|-g) shift 2 ;; -E|-H|-n) shift ;; *) break ;; esac
done
exec "$@"
SH
printf '#!/bin/sh\nexec /usr/bin/redis-cli -p %s "$@"\n' "$ADMIN" >"$STATE/shims/redis-cli"
chmod +x "$STATE/shims/sudo" "$STATE/shims/redis-cli"

# blocks FILE: each runnable block as "LINE<TAB>base64 of its text"; a
# marked block as "LINE<TAB>-<TAB>reason".
blocks() {
	awk '
		function flush() { if (inb && !skip) { printf "%d\t%s\n", start, body } }
		!inb && /^```(sh|bash|shell)[ \t]*$/ {
			inb = 1; start = NR; body = ""; skip = 0
			if (prev ~ /^<!-- not-run:/) {
				skip = 1; r = prev; sub(/^<!-- not-run: */, "", r); sub(/ *-->.*$/, "", r)
				printf "%d\t-\t%s\n", NR, r
			}
			next
		}
		inb && /^```/ { flush(); inb = 0; next }
		inb { body = body $0 "\034"; next }
		NF { prev = $0 }
	' "$1"
}

# run_block FILE LINE TEXT: the commands, substituted; checks the output of
# a transcript.
run_block() {
	local f=$1 line=$2 text=$3 script want got
	text=$(sed -e "s|https://127\.0\.0\.1:8443|https://127.0.0.1:$HTTPS|g" \
		-e "s|127\.0\.0\.1:6379|127.0.0.1:$PORT|g" \
		-e "s|build/run/jwt\.secret|$STATE/jwt.secret|g" \
		-e "s|/etc/|$ROOT/etc/|g" <<<"$text")
	if grep -q '^\$ ' <<<"$text"; then
		script=$(sed -n 's/^\$ //p' <<<"$text")
		want=$(grep -v '^\$ ' <<<"$text")
	else
		script=$text want=""
	fi
	got=$(cd "$SL_ROOT" && env PATH="$STATE/shims:$SL_ROOT/build:$PATH" \
		bash -e -o pipefail -c "$script" 2>"$STATE/block.err")
	local rc=$?
	ok "$rc" "$f:$line runs (exit $rc)"
	if [ "$rc" -ne 0 ]; then
		sed 's/^/#   /' <<<"$script"
		sed 's/^/#   stderr: /' "$STATE/block.err"
	fi
	if [ -n "$want" ]; then
		is "$got" "$want" "$f:$line prints what the doc shows"
	fi
}

ran=0 marked=0
for f in "$SL_ROOT/README.md" "$SL_ROOT"/docs/*.md; do
	rel=${f#"$SL_ROOT"/}
	while IFS=$'\t' read -r line body reason; do
		if [ "$body" = - ]; then
			marked=$((marked + 1))
			ok "$( [ -n "$reason" ]; echo $?)" "$rel:$line not run: $reason"
			continue
		fi
		run_block "$rel" "$line" "$(tr '\034' '\n' <<<"$body")"
		ran=$((ran + 1))
	done < <(blocks "$f")
done
ok "$( (( ran >= 5 )); echo $?)" "$ran blocks ran, $marked marked not-run"

# What the blocks left, checked.
# The Prometheus token file: 0640, group prometheus, and it opens /metrics.
tf=$ROOT/etc/prometheus/streamlag.token
is "$(stat -c '%a %G' "$tf" 2>&1)" "640 $(sl_is_root && echo prometheus || id -gn)" \
	"the token file is 0640, group prometheus (as root; else the caller's group)"
st=$(curl -sk -o "$STATE/metrics" -w '%{http_code}' -H "Authorization: Bearer $(cat "$tf")" "https://127.0.0.1:$HTTPS/metrics")
is "$st:$(grep -c '^event_consumer_lag{stream="events:chat",consumer_group="signalr-consumers"} 123$' "$STATE/metrics")" "200:1" \
	"the token in it opens /metrics"
# The Redis user survives a restart (CONFIG REWRITE), and streamlag reads
# the seed's example with it and nothing more.
sl_stop_pid "$ADMIN_PID" 10
start_admin || exit 1
is "$(/usr/bin/redis-cli -p "$ADMIN" --user streamlag --pass CHANGE-ME --no-auth-warning TIME | wc -l)" 2 \
	"after a restart the user streamlag still logs in (persisted by CONFIG REWRITE)"
sl_seed_example "$ADMIN"
out=$(env -u STREAMLAG_JWT_SECRET_FILE REDIS_URL="redis://streamlag:CHANGE-ME@127.0.0.1:$ADMIN/0" \
	STREAMLAG_STREAMS=events:chat,events:ticket,events:remote "$SL_BIN" get /api/v1/events/consumer-lag | jq -c '[.total_lag, .stream_count]')
is "$out" "[168,3]" "streamlag reads as that user"
is "$(/usr/bin/redis-cli -p "$ADMIN" --user streamlag --pass CHANGE-ME --no-auth-warning SET x 1 2>&1)" \
	"NOPERM this user has no permissions to run the 'set' command" "... and cannot write"
# The aclfile form: the line of docs/operations.md, as the file a Redis
# with `aclfile` loads.
grep '^user streamlag on ' "$SL_ROOT/docs/operations.md" >"$STATE/users.acl"
is "$(wc -l <"$STATE/users.acl")" 1 "operations.md gives the aclfile line"
AP=$(sl_free_port)
redis-server --port "$AP" --bind 127.0.0.1 --save '' --appendonly no --aclfile "$STATE/users.acl" \
	--logfile "$STATE/acl-redis.log" >/dev/null 2>&1 &
SL_PIDS+=("$!")
sl_wait_for 10 "redis-server with the aclfile" redis-cli -p "$AP" PING
sl_seed_example "$AP"
out=$(env -u STREAMLAG_JWT_SECRET_FILE REDIS_URL="redis://streamlag:CHANGE-ME@127.0.0.1:$AP/0" \
	STREAMLAG_STREAMS=events:chat,events:ticket,events:remote "$SL_BIN" get /api/v1/events/consumer-lag | jq -c '[.total_lag, .stream_count]')
is "$out" "[168,3]" "with the aclfile line, streamlag reads as user streamlag"

done_testing
