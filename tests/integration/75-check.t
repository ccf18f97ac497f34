#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# streamlag check against a real redis-server: a right setup passes every
# step; each broken setup fails at its own step with Redis's own words,
# which `get` prints on stderr and `serve` logs too.
. "$(dirname "$0")/common.sh"

seeded_redis
export STREAMLAG_LISTEN="unix:$STATE/streamlag.sock"
REDIS_VERSION=$(R INFO server | tr -d '\r' | sed -n 's/^redis_version://p')

# check [ENV...]: runs streamlag check; sets OUT and RC.
check() { OUT=$(env "$@" "$SL_BIN" check 2>&1); RC=$?; }
# line PREFIX: the one line of OUT starting with PREFIX.
line() { grep -F -- "$1" <<<"$OUT" | head -1; }

# A right setup: exit 0, every step ✔.
check
is "$RC" 0 "right setup: exit 0"
is "$(grep -vc '^✔ ' <<<"$OUT")" 1 "right setup: every line ✔ but the summary"
is "$(tail -1 <<<"$OUT")" "all 22 checks passed" "right setup: 22 steps, all passed"
is "$(line '✔ configuration')" \
	"✔ configuration: environment; Redis redis://streamlag:***@127.0.0.1:$PORT/0; group signalr-consumers; 3 streams" \
	"the configuration with the password hidden"
ok "$([[ $OUT != *"$SL_REDIS_PASS"* ]]; echo $?)" "the password is not shown"
is "$(line '✔ DNS')" "✔ DNS: 127.0.0.1 → 127.0.0.1" "DNS"
like "$(line '✔ TCP connect')" "^✔ TCP connect: 127.0.0.1:$PORT in [0-9]+ ms$" "TCP connect"
is "$(line '✔ AUTH')" "✔ AUTH: as user streamlag" "AUTH as the ACL user"
is "$(line '✔ server')" "✔ server: Redis $REDIS_VERSION" "the server and version, as INFO gives them"
is "$(line '✔ mode')" "✔ mode: standalone" "the mode"
is "$(grep -c '^✔ command ' <<<"$OUT")" 9 "nine commands tried"
is "$(line '✔ command XPENDING')" "✔ command XPENDING: allowed on events:chat" \
	"the commands run on a monitored stream with the group"
is "$(grep '^✔ stream ' <<<"$OUT")" "✔ stream events:chat: 200 entries, group signalr-consumers
✔ stream events:ticket: 100 entries, group signalr-consumers
✔ stream events:remote: 10 entries, group signalr-consumers" "each stream with its length and group"
is "$(line '✔ JWT key')" "✔ JWT key: HS256 secret of ${#STREAMLAG_JWT_SECRET} bytes" "the JWT key and its algorithm"
like "$(line '✔ listen socket')" "^✔ listen socket: $STATE/streamlag.sock: free; www-data can reach it" "the listen socket"

# A PEM key: loaded with its algorithm, or why not.
openssl genrsa -out "$STATE/rsa.key" 2048 2>/dev/null
openssl rsa -in "$STATE/rsa.key" -pubout -out "$STATE/rsa.pub" 2>/dev/null
printf -- '-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n' >"$STATE/bad.pub"
check -u STREAMLAG_JWT_SECRET STREAMLAG_JWT_ALG=RS256 STREAMLAG_JWT_PUBLIC_KEY_FILE="$STATE/rsa.pub"
is "$RC:$(line 'JWT key')" "0:✔ JWT key: RS256 public key, RSA 2048 bits" "an RS256 public key loads"
# A key that cannot serve is refused with the configuration itself (the
# line serve would stop with), before any other step.
check -u STREAMLAG_JWT_SECRET STREAMLAG_JWT_ALG=ES256 STREAMLAG_JWT_PUBLIC_KEY_FILE="$STATE/rsa.pub"
is "$RC:$(line 'configuration')" "1:✘ configuration: STREAMLAG_JWT_PUBLIC_KEY_FILE: holds an RSA key; STREAMLAG_JWT_ALG=ES256 needs an EC public key on P-256 ($STATE/rsa.pub)" \
	"an RSA key for ES256: refused"
check -u STREAMLAG_JWT_SECRET STREAMLAG_JWT_ALG=RS256 STREAMLAG_JWT_PUBLIC_KEY_FILE="$STATE/bad.pub"
like "$RC:$(line 'configuration')" "^1:✘ configuration: STREAMLAG_JWT_PUBLIC_KEY_FILE: expected a PEM public key" "a broken PEM: refused"

# --json: the same results for scripts.
json=$("$SL_BIN" check --json); rc=$?
is "$rc:$(jq -c '[.ok, .passed, .failed, (.checks | length), ([.checks[].status] | unique)]' <<<"$json")" \
	'0:[true,22,0,22,["ok"]]' "--json parses: 22 checks, all ok"
is "$(jq -r '.checks[] | select(.title == "AUTH") | .detail' <<<"$json")" "as user streamlag" \
	"--json carries the details"

# A wrong password: the AUTH line with Redis's words, the rest not tried.
want=$(R AUTH streamlag wrong-secret 2>&1 | tr -d '\r')
[ -n "$want" ] || want="WRONGPASS invalid username-password pair or user is disabled."
WANT_AUTH=$want
BAD="redis://streamlag:wrong-secret@127.0.0.1:$PORT/0"
check REDIS_URL="$BAD"
is "$RC" 1 "wrong password: exit 1"
like "$(line '✘ AUTH')" "^✘ AUTH: ${want//./\\.} — " "wrong password: the AUTH line with Redis's text"
is "$(line '- SELECT')" "- SELECT: not tried after the failure above" "wrong password: later steps not tried"
ok "$([[ $OUT != *wrong-secret* ]]; echo $?)" "wrong password: not shown"
body=$(REDIS_URL="$BAD" "$SL_BIN" get /api/v1/events/health 2>"$STATE/err"); rc=$?
is "$rc:$body" '1:{"status":"unhealthy","redis_connected":false,"error":"Cannot connect to Redis","code":"redis_unavailable"}' \
	"get, wrong password: the body and exit code kept"
is "$(cat "$STATE/err")" "streamlag: redis 127.0.0.1:$PORT: $want" "get, wrong password: the cause on stderr"

# A wrong database.
want=$(R SELECT 99 | tr -d '\r')
check REDIS_URL="redis://streamlag:$SL_REDIS_PASS@127.0.0.1:$PORT/99"
is "$RC" 1 "wrong db: exit 1"
like "$(line '✘ SELECT')" "^✘ SELECT: 99: $want — " "wrong db: the SELECT line with Redis's text ($want)"
REDIS_URL="redis://streamlag:$SL_REDIS_PASS@127.0.0.1:$PORT/99" "$SL_BIN" get /api/v1/events/consumer-lag \
	>/dev/null 2>"$STATE/err"; rc=$?
is "$rc:$(cat "$STATE/err")" "1:streamlag: redis 127.0.0.1:$PORT: $want" "get, wrong db: exit 1, the cause on stderr"

# A refused port.
closed=$(sl_free_port)
check REDIS_URL="redis://127.0.0.1:$closed/0"
is "$RC" 1 "refused port: exit 1"
is "$(line '✘ TCP connect')" \
	"✘ TCP connect: 127.0.0.1:$closed: Connection refused — is Redis running and listening there (bind, port, firewall)?" \
	"refused port: the connect line"
REDIS_URL="redis://127.0.0.1:$closed/0" "$SL_BIN" get /api/v1/events/streams >/dev/null 2>"$STATE/err"; rc=$?
is "$rc:$(cat "$STATE/err")" "1:streamlag: redis 127.0.0.1:$closed: Connection refused" \
	"get, refused port: the cause on stderr"

# A host that does not resolve (.invalid never does, RFC 6761).
check REDIS_URL="redis://nosuchhost.invalid:6379/0"
is "$RC" 1 "unresolvable host: exit 1"
like "$(line '✘ DNS')" '^✘ DNS: cannot resolve nosuchhost\.invalid: ' "unresolvable host: the DNS line"

# A missing stream, and a stream without the group.
R XADD events:nogroup '*' f v >/dev/null
check STREAMLAG_STREAMS=events:chat,events:gone,events:nogroup
is "$RC" 1 "missing stream and group: exit 1"
is "$(line '✘ stream events:gone')" \
	"✘ stream events:gone: no such key — check STREAMLAG_STREAMS and the database in REDIS_URL" \
	"missing stream: its line"
is "$(line '✘ stream events:nogroup')" \
	"✘ stream events:nogroup: 1 entries, no group signalr-consumers (groups: none) — XGROUP CREATE events:nogroup signalr-consumers \$, or set EVENT_TRANSPORT_CONSUMER_GROUP" \
	"missing group: its line"
is "$(line '✔ stream events:chat')" "✔ stream events:chat: 200 entries, group signalr-consumers" \
	"the other streams still pass"
is "$(tail -1 <<<"$OUT")" "2 of 22 checks failed" "two of the steps failed"
R SET events:plain text >/dev/null
want=$(R XINFO STREAM events:plain | tr -d '\r')
check STREAMLAG_STREAMS=events:chat,events:plain
is "$RC:$(line '✘ stream events:plain')" "1:✘ stream events:plain: not a stream ($want)" \
	"a key that is not a stream: its line, with Redis's text"
out=$(STREAMLAG_STREAMS=events:chat,events:gone,events:nogroup "$SL_BIN" get /api/v1/events/consumer-lag \
	2>"$STATE/err"); rc=$?
is "$rc:$(jq -c '[.streams[] | .status]' <<<"$out")" '0:["degraded","error","no_group"]' \
	"get, missing stream and group: the seed's body and exit 0"
is "$(cat "$STATE/err")" "streamlag: stream events:gone: no such key
streamlag: stream events:nogroup: no consumer group signalr-consumers" "get: each cause on stderr"

# Many failing streams: ten lines, then a count.
STREAMLAG_STREAMS=$(seq -s, -f 'gone:%g' 1 12) "$SL_BIN" get /api/v1/events/consumer-lag >/dev/null 2>"$STATE/err"
is "$(wc -l <"$STATE/err"):$(sed -n 10p "$STATE/err"):$(tail -1 "$STATE/err")" \
	"11:streamlag: stream gone:10: no such key:streamlag: 2 more streams failed or lack the group" \
	"get: at most ten stream causes, then how many more"

# An ACL user without XPENDING: the command, Redis's words and the rule.
R ACL SETUSER nopending on '>np-pass' resetkeys '%R~*' resetchannels -@all '+xinfo|groups' \
	'+xinfo|consumers' '+xinfo|stream' +xrange +xlen +scan +time +select +info >/dev/null
want=$(R --user nopending --pass np-pass --no-auth-warning \
	XPENDING events:chat signalr-consumers - + 1 | tr -d '\r')
check REDIS_URL="redis://nopending:np-pass@127.0.0.1:$PORT/0"
is "$RC" 1 "ACL without XPENDING: exit 1"
is "$(line '✘ command')" "✘ command XPENDING: $want — add to the ACL user: +xpending" \
	"ACL without XPENDING: the command, Redis's text and the rule to add"
is "$(grep -c '^✘' <<<"$OUT")" 1 "ACL without XPENDING: the only failure"
# get, and serve's answer, fail each group that has pending entries, in
# Redis's words: never a silent null oldest_pending_ms.
REDIS_URL="redis://nopending:np-pass@127.0.0.1:$PORT/0" STREAMLAG_STREAMS=events:chat \
	"$SL_BIN" get /api/v1/events/consumer-lag >"$STATE/out" 2>"$STATE/err"
is "$(cat "$STATE/err")" "streamlag: stream events:chat: $want" "get, ACL without XPENDING: the cause on stderr"
is "$(jq -c '.streams["events:chat"] | [.lag, .status, .error]' "$STATE/out")" \
	"[-1,\"error\",$(jq -Rc . <<<"$want")]" "get, ACL without XPENDING: the group's error"
# Without XINFO CONSUMERS, every row fails: get names the cause per stream.
R ACL SETUSER noconsumers on '>nc-pass' resetkeys '%R~*' resetchannels -@all '+xinfo|groups' \
	'+xinfo|stream' +xrange +xlen +xpending +scan +time +select +info >/dev/null
want=$(R --user noconsumers --pass nc-pass --no-auth-warning \
	XINFO CONSUMERS events:chat signalr-consumers | tr -d '\r')
REDIS_URL="redis://noconsumers:nc-pass@127.0.0.1:$PORT/0" STREAMLAG_STREAMS=events:chat \
	"$SL_BIN" get /api/v1/events/consumer-lag >/dev/null 2>"$STATE/err"
is "$(cat "$STATE/err")" "streamlag: stream events:chat: $want" "get, ACL without XINFO CONSUMERS: the cause on stderr"
check REDIS_URL="redis://noconsumers:nc-pass@127.0.0.1:$PORT/0"
is "$(line '✘ command')" "✘ command XINFO CONSUMERS: $want — add to the ACL user: +xinfo|consumers" \
	"ACL without XINFO CONSUMERS: the subcommand rule"

# Sentinel and Cluster: detected and named; streamlag reads one standalone
# server for now, so the commands and streams are not tried there.
SP=$(sl_free_port)
printf 'port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor mymaster 127.0.0.1 %s 1\n' \
	"$SP" "$STATE" "$PORT" >"$STATE/sentinel.conf"
redis-server "$STATE/sentinel.conf" --sentinel --logfile "$STATE/sentinel.log" >/dev/null 2>&1 &
SL_PIDS+=("$!")
sl_wait_ready "$!" 10 "redis-sentinel on port $SP" redis-cli -p "$SP" PING
check REDIS_URL="redis://127.0.0.1:$SP/0"
is "$RC:$(line '✘ mode')" \
	"1:✘ mode: this is a Sentinel; master mymaster at 127.0.0.1:$PORT — name the sentinels and the master in REDIS_URL: redis-sentinel://[user:password@]HOST:PORT/MASTER" \
	"a Sentinel: named, with its master"
is "$(line '- commands')" "- commands: not tried: not a standalone server" "a Sentinel: commands not tried"
CP=$(sl_free_port)
redis-server --port "$CP" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "$STATE/nodes.conf" \
	--dir "$STATE" --save '' --appendonly no --logfile "$STATE/cluster.log" >/dev/null 2>&1 &
SL_PIDS+=("$!")
sl_wait_ready "$!" 10 "a cluster node on port $CP" redis-cli -p "$CP" PING
check REDIS_URL="redis://127.0.0.1:$CP/0"
is "$RC:$(line '✘ mode')" \
	"1:✘ mode: cluster, but no slot is served yet (CLUSTER SLOTS is empty) — create the cluster (redis-cli --cluster create)" \
	"a Cluster node serving no slot: said so, with the fix"

# A bad configuration is the first failed step, not a usage error.
check REDIS_URL=http://x
like "$RC:$(head -1 <<<"$OUT")" "^1:✘ configuration: REDIS_URL: expected redis://" \
	"bad configuration: exit 1, its line"
# A socket directory nginx's user cannot enter.
mkdir -m 0700 "$STATE/private"
check STREAMLAG_LISTEN="unix:$STATE/private/s.sock"
is "$RC:$(line '✘ listen socket')" \
	"1:✘ listen socket: $STATE/private/s.sock: free, but www-data cannot enter $STATE/private (mode 0700) — let nginx's user through (chmod o+x, or the group)" \
	"a socket nginx cannot reach: exit 1"
err=$("$SL_BIN" check --target eu 2>&1); rc=$?
is "$rc:$err" "2:streamlag: --target: no target \"eu\" (STREAMLAG_TARGETS names them; without it the one target is \"default\") (see streamlag --help)" \
	"--target: without STREAMLAG_TARGETS only default exists"
check_default=$("$SL_BIN" check --target default >/dev/null; echo $?)
is "$check_default" 0 "--target default is the configuration"

# serve logs the same cause as get prints.
TP=$(sl_free_port)
REDIS_URL="$BAD" "$SL_BIN" serve --listen "127.0.0.1:$TP" --workers 1 >>"$STATE/streamlag.log" 2>&1 &
SL_PIDS+=("$!")
TOKEN=$("$SL_BIN" token --ttl 600)
fcgi() { env -i REQUEST_METHOD=GET DOCUMENT_URI="$1" SCRIPT_NAME=/x QUERY_STRING= \
	HTTP_AUTHORIZATION="Bearer $TOKEN" cgi-fcgi -bind -connect "127.0.0.1:$TP" 2>/dev/null; }
logged() { fcgi /api/v1/events/health >/dev/null; grep -q 'event=redis_error what=AUTH' "$STATE/streamlag.log"; }
sl_wait_for 15 "serve to log the Redis error" logged
ok $? "serve answered and logged the failure"
is "$(grep -m1 -o 'event=redis_error what=AUTH.*' "$STATE/streamlag.log")" \
	"event=redis_error what=AUTH timeout=0 backoff_ms=0 redis=\"127.0.0.1:$PORT\" error=\"$WANT_AUTH\"" \
	"serve logs the step, the address and Redis's words"
done_testing
