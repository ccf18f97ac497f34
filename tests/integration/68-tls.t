#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# rediss://: streamlag against Debian's redis-server with TLS only
# (--tls-port, --port 0) and certificates made here with openssl.  The
# seed bodies through `streamlag get` and through nginx + serve, as the
# least-privilege ACL user; `streamlag check` naming the session; mutual
# TLS; each failure a 503 redis_unavailable with its reason on stderr and
# in serve's log; a 3-master cluster with TLS on every node; and the
# certificate rotated on disk, then SIGHUP.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/lib/tlscerts.sh"

D=$STATE/tls
mkdir -p "$D"
sl_tls_certs "$D" || exit 1
GOOD=$(sl_free_port); sl_start_tls_redis "$D" "$GOOD" server || exit 1
MUTUAL=$(sl_free_port); sl_start_tls_redis "$D" "$MUTUAL" server yes || exit 1
EXPIRED=$(sl_free_port); sl_start_tls_redis "$D" "$EXPIRED" expired || exit 1
WRONG=$(sl_free_port); sl_start_tls_redis "$D" "$WRONG" wrong || exit 1
PLAIN=$(sl_free_port); sl_start_redis "$STATE" "$PLAIN" || exit 1
for p in "$GOOD" "$MUTUAL"; do
	sl_seed_commands | sl_tls_cli "$D" "$p" >/dev/null
done

url() { echo "rediss://$SL_REDIS_USER:$SL_REDIS_PASS@${2:-127.0.0.1}:$1/0"; }
export REDIS_URL STREAMLAG_REDIS_TLS_CA_FILE=$D/ca.crt
REDIS_URL=$(url "$GOOD")
# The seed's consumers never read again: no group is stalled however
# slow the machine (a sanitizer build, other tests beside this one), and
# no reply is late.
export STREAMLAG_STALL_MS=3600000 STREAMLAG_REDIS_TIMEOUT_MS=5000
numbers='[.total_lag, .stream_count, .streams["events:chat"].lag, .streams["events:ticket"].lag, .streams["events:remote"].lag, .streams["events:chat"].pending]'
SEED='[168,3,123,45,0,77]'

# get URL_HOST_PORT_ARGS... -- prints "rc|stdout numbers or code|stderr".
get() {
	local out err rc
	out=$(env "$@" "$SL_BIN" get /api/v1/events/consumer-lag 2>"$STATE/get.err")
	rc=$?
	err=$(cat "$STATE/get.err")
	if [ "$rc" -eq 0 ]; then
		printf '%s|%s|%s' "$rc" "$(jq -c "$numbers" <<<"$out")" "$err"
	else
		printf '%s|%s|%s' "$rc" "$(jq -r .code <<<"$out")" "$err"
	fi
}

# The seed bodies over TLS: the node by IP (IP SAN) and by name (DNS SAN).
is "$(get)" "0|$SEED|" "get over rediss:// by IP: the seed's numbers, nothing on stderr"
is "$(get REDIS_URL="$(url "$GOOD" localhost)")" "0|$SEED|" "get over rediss:// by name"
is "$(env REDIS_URL="$(url "$GOOD" localhost)" "$SL_BIN" get /api/v1/events/health | jq -c '[.status, .redis_connected, .max_lag]')" \
	'["degraded",true,123]' "health over rediss://"

# check: the session, the ACL user, every command allowed.
out=$("$SL_BIN" check 2>&1)
like "$(grep '^✔ TLS:' <<<"$out")" \
	"^✔ TLS: TLSv1\.3 TLS_[A-Z0-9_]+; certificate CN=server, serial 1001, expires 20[0-9-]+T[0-9:]+Z; verified for 127\.0\.0\.1$" \
	"check: protocol, cipher, subject, serial, expiry and the name verified"
n=$(grep -c '^✔ \(AUTH: as user streamlag\|command [A-Z ]*: allowed\)' <<<"$out")
# AUTH, and the 9 commands: TIME INFO SCAN, XINFO STREAM GROUPS CONSUMERS,
# XRANGE XLEN XPENDING; nothing failed but the listening socket (not made
# here).
is "$n:$(grep '^✘' <<<"$out" | grep -vc '^✘ listen socket')" 10:0 \
	"check over TLS: AUTH as the ACL user and every command allowed"
[ "$n" = 9 ] || sed 's/^/#   /' <<<"$out"
is "$(grep -c '^✔ stream events:' <<<"$out")" 3 "check over TLS: the three streams"

# Mutual TLS: with the client certificate it works; without, refused in
# words.  In TLS 1.3 the server checks the client's certificate after the
# client's handshake ended: its refusal may come to the first write or
# read.
is "$(get REDIS_URL="$(url "$MUTUAL")" STREAMLAG_REDIS_TLS_CERT_FILE="$D/client.crt" STREAMLAG_REDIS_TLS_KEY_FILE="$D/client.key")" \
	"0|$SEED|" "mutual TLS with the client certificate"
like "$(get REDIS_URL="$(url "$MUTUAL")")" \
	"^1\|redis_unavailable\|streamlag: redis 127\.0\.0\.1:$MUTUAL: TLS (handshake|write|read) with 127\.0\.0\.1: client certificate required: " \
	"mutual TLS without a client certificate: 503, client certificate required"
cp "$D/client.key" "$D/loose.key" && chmod 0644 "$D/loose.key"
like "$(get REDIS_URL="$(url "$MUTUAL")" STREAMLAG_REDIS_TLS_CERT_FILE="$D/client.crt" STREAMLAG_REDIS_TLS_KEY_FILE="$D/loose.key")" \
	"^2\|\|streamlag: STREAMLAG_REDIS_TLS_KEY_FILE $D/loose.key: mode 0644 lets other users read it" \
	"a key file others may read stops the start"

# Each failure: 503 redis_unavailable and the reason, with the address.
like "$(get STREAMLAG_REDIS_TLS_CA_FILE="$D/other-ca.crt")" \
	"^1\|redis_unavailable\|streamlag: redis 127\.0\.0\.1:$GOOD: TLS handshake with 127\.0\.0\.1: unknown CA: " \
	"wrong CA: unknown CA"
like "$(get REDIS_URL="$(url "$EXPIRED")")" \
	"^1\|redis_unavailable\|streamlag: redis 127\.0\.0\.1:$EXPIRED: TLS handshake with 127\.0\.0\.1: expired certificate: " \
	"expired certificate"
like "$(get REDIS_URL="$(url "$WRONG" localhost)")" \
	"^1\|redis_unavailable\|streamlag: redis localhost:$WRONG: TLS handshake with localhost: host-name mismatch: " \
	"host-name mismatch (by name)"
like "$(get STREAMLAG_REDIS_TLS_SERVER_NAME=other.example)" \
	"^1\|redis_unavailable\|streamlag: redis 127\.0\.0\.1:$GOOD: TLS handshake with 127\.0\.0\.1 as other\.example: host-name mismatch: " \
	"host-name mismatch (STREAMLAG_REDIS_TLS_SERVER_NAME)"
is "$(get REDIS_URL="$(url "$WRONG")" STREAMLAG_REDIS_TLS_SERVER_NAME=wrong.example)" "0|[0,0,-1,-1,-1,null]|streamlag: stream events:chat: no such key
streamlag: stream events:ticket: no such key
streamlag: stream events:remote: no such key" \
	"the server name checked instead of the URL's host: connected (an empty server)"
t0=$(sl_now_ms)
like "$(get REDIS_URL="$(url "$PLAIN")" STREAMLAG_REDIS_TIMEOUT_MS=300)" \
	"^1\|redis_unavailable\|streamlag: redis 127\.0\.0\.1:$PLAIN: TLS handshake with 127\.0\.0\.1: handshake timeout: no answer to the TLS hello in 300 ms, as from a plaintext server" \
	"plaintext server behind rediss://: handshake timeout, as from a plaintext server"
ok $(( $(sl_now_ms) - t0 < 3000 ? 0 : 1 )) "the handshake timeout is the connect timeout"
like "$(env REDIS_URL="$(url "$PLAIN")" STREAMLAG_REDIS_TIMEOUT_MS=300 "$SL_BIN" check 2>&1 | grep '^✘ TLS')" \
	"^✘ TLS: TLS handshake with 127\.0\.0\.1: handshake timeout: .*plaintext server" \
	"check names the plaintext server"

# Verification off: it connects, and says so at every start.
like "$(get STREAMLAG_REDIS_TLS_CA_FILE= STREAMLAG_REDIS_TLS_VERIFY=false)" \
	"^0\|$(sed 's/[][]/\\&/g' <<<"$SEED")\|.*level=warn .*event=tls_verify_off" \
	"STREAMLAG_REDIS_TLS_VERIFY=false connects and warns"

# Through nginx + serve, mutual TLS, the client key and CA re-read on
# SIGHUP.
cp "$D/ca.crt" "$D/trust.pem"
(umask 077 && cp "$D/client.key" "$D/me.key")
cp "$D/client.crt" "$D/me.crt"
export STREAMLAG_REDIS_TLS_CA_FILE=$D/trust.pem STREAMLAG_REDIS_TLS_CERT_FILE=$D/me.crt \
	STREAMLAG_REDIS_TLS_KEY_FILE=$D/me.key
REDIS_URL=$(url "$MUTUAL")
serve_behind_nginx --workers 1
LOG=$STATE/streamlag.log
TOKEN=$(jwt '{"alg":"HS256","typ":"JWT"}' "{\"sub\":\"t\",\"exp\":$(($(date +%s) + 600))}" "$STREAMLAG_JWT_SECRET")
lag() {
	curl -s -o "$STATE/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
		"http://127.0.0.1:$HTTP/api/v1/events/consumer-lag"
}
st=$(lag)
is "$st|$(jq -c "$numbers" "$STATE/body")" "200|$SEED" "nginx + serve over mutual TLS: the seed's numbers"
log_count() { grep -c -- "$1" "$LOG"; }
log_grows() { [ "$(log_count "$1")" -gt "$2" ]; }

# Redis rotates to a certificate of another CA; connections made after it
# fail until streamlag trusts that CA: the file alone is not enough, SIGHUP
# re-reads it.
sl_tls_cli "$D" "$MUTUAL" CONFIG SET tls-cert-file "$D/server2.crt" tls-key-file "$D/server2.key" >/dev/null
sl_tls_cli "$D" "$MUTUAL" --insecure CLIENT KILL USER "$SL_REDIS_USER" >/dev/null
st=$(lag)
is "$st|$(jq -r .code "$STATE/body")" "503|redis_unavailable" "rotated on Redis, not trusted yet: 503 redis_unavailable"
like "$(grep 'event=redis_error' "$LOG" | tail -1)" \
	"redis=\"127\.0\.0\.1:$MUTUAL\" error=\"TLS handshake with 127\.0\.0\.1: unknown CA: " \
	"serve's log says why, with the address"
cat "$D/ca.crt" "$D/other-ca.crt" >"$D/trust.pem"
st=$(lag)
is "$st" 503 "the new CA on disk, no SIGHUP: still the old context"
# A reload that cannot read the key keeps the running configuration.
chmod 0644 "$D/me.key"
n=$(log_count 'event=reload_failed')
kill -HUP "$MASTER"
sl_wait_for 10 "the refused reload" log_grows 'event=reload_failed' "$n"
like "$(grep 'event=reload_failed' "$LOG" | tail -1)" "STREAMLAG_REDIS_TLS_KEY_FILE $D/me.key: mode 0644" \
	"SIGHUP with a key others may read: refused, the log says why"
chmod 0600 "$D/me.key"
n=$(log_count 'event=reloaded')
kill -HUP "$MASTER"
sl_wait_for 10 "the reload" log_grows 'event=reloaded' "$n"
sl_wait_for 10 "a worker on the new context" sh -c '[ "$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer '"$TOKEN"'" "http://127.0.0.1:'"$HTTP"'/api/v1/events/consumer-lag")" = 200 ]'
st=$(lag)
is "$st|$(jq -c "$numbers" "$STATE/body")" "200|$SEED" "after SIGHUP new connections use the new files: 200"
like "$(grep -c 'event=tls_verify_off' "$LOG")" "^0$" "verification on: no warning in serve's log"
sl_stop_pid "$MASTER"

# A 3-master cluster with TLS on every node (client, bus, replication):
# the seeds by IP, and the masters CLUSTER SLOTS names, all verified.
unset STREAMLAG_REDIS_TLS_CERT_FILE STREAMLAG_REDIS_TLS_KEY_FILE
export STREAMLAG_REDIS_TLS_CA_FILE=$D/ca.crt
CLUSTER_TLS=$D start_cluster 3 0 || exit 1
m0=${CLUSTER_MASTERS[0]}
for s in events:chat events:ticket events:remote; do
	sl_seed_commands | grep -F " $s " | "$CLUSTER_CLI" -c -p "$m0" >/dev/null
done
owners=$(for s in events:chat events:ticket events:remote; do
	"$CLUSTER_CLI" -p "$m0" CLUSTER KEYSLOT "$s"; done | sort -u | wc -l)
# Only the first master as a seed: the others come from CLUSTER SLOTS.
is "$(get REDIS_URL="rediss://$SL_REDIS_USER:$SL_REDIS_PASS@127.0.0.1:$m0")" "0|$SEED|" \
	"a TLS cluster (streams on $owners slots): the seed's numbers"
is "$("$CLUSTER_CLI" -p "$m0" CLUSTER INFO | tr -d '\r' | grep '^cluster_known_nodes')" \
	"cluster_known_nodes:3" "three TLS masters"
like "$(get REDIS_URL="rediss://$SL_REDIS_USER:$SL_REDIS_PASS@127.0.0.1:$m0" STREAMLAG_REDIS_TLS_CA_FILE="$D/other-ca.crt")" \
	"^1\|redis_unavailable\|streamlag: redis 127\.0\.0\.1:$m0: TLS handshake with 127\.0\.0\.1: unknown CA" \
	"a TLS cluster with the wrong CA: 503, unknown CA"

done_testing
