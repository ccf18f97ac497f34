#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The command line: help, version, exit codes, and one clear line naming the
# flag or variable for every bad value.
. "$(dirname "$0")/common.sh"

read -r VERSION COMMIT < <("$SL_ROOT/src/version.sh")
out=$("$SL_BIN" --version); rc=$?
is "$rc:$out" "0:streamlag $VERSION (commit $COMMIT)" "--version: the version and commit of the checkout"
out=$("$SL_BIN" --help); rc=$?
like "$rc:$out" '^0:usage: streamlag COMMAND' "--help prints usage and exits 0"

# expect_usage DESCRIPTION REGEX COMMAND...: exit 2, one stderr line matching.
expect_usage() {
	local desc=$1 re=$2 err rc lines; shift 2
	err=$("$@" 2>&1 >/dev/null); rc=$?
	lines=$(printf '%s\n' "$err" | wc -l)
	is "$rc:$lines" "2:1" "$desc: exit 2 with one line"
	like "$err" "$re" "$desc: names the problem"
}

expect_usage "no command" 'missing command' "$SL_BIN"
expect_usage "unknown command" 'unknown command frobnicate' "$SL_BIN" frobnicate
expect_usage "unknown flag" 'unknown option --bogus' "$SL_BIN" get --bogus /healthz
expect_usage "flag without value" '--listen: missing value' "$SL_BIN" serve --listen
expect_usage "get without path" 'get: expected PATH' "$SL_BIN" get
expect_usage "bad --ttl" '--ttl: expected seconds' "$SL_BIN" token --ttl 0

expect_usage "bad boolean" '^streamlag: EVENT_TRANSPORT_USE_REDIS_STREAMS: expected a boolean' \
	env EVENT_TRANSPORT_USE_REDIS_STREAMS=maybe "$SL_BIN" get /healthz
expect_usage "rediss with a CA file that is not there" \
	'STREAMLAG_REDIS_TLS_CA_FILE .*/nonexistent.pem' \
	env REDIS_URL=rediss://h:6379 STREAMLAG_REDIS_TLS_CA_FILE=/nonexistent.pem "$SL_BIN" get /healthz
expect_usage "bad scheme" 'REDIS_URL: expected redis://' \
	env REDIS_URL=http://h "$SL_BIN" get /healthz
expect_usage "bad integer" 'STREAMLAG_LAG_DEGRADED: expected an integer from 1 to' \
	env STREAMLAG_LAG_DEGRADED=lots "$SL_BIN" get /healthz
expect_usage "bad timeout" 'STREAMLAG_REDIS_TIMEOUT_MS: expected an integer from 10 to 60000, got "5"' \
	env STREAMLAG_REDIS_TIMEOUT_MS=5 "$SL_BIN" get /healthz
expect_usage "short secret" 'STREAMLAG_JWT_SECRET: expected at least 32 bytes \(got 5\)' \
	env STREAMLAG_JWT_SECRET=short "$SL_BIN" get /healthz
err=$(env STREAMLAG_JWT_SECRET=hunter2 "$SL_BIN" get /healthz 2>&1)
ok "$([[ $err != *hunter2* ]]; echo $?)" "the secret is never echoed"
expect_usage "password not echoed" 'REDIS_URL: expected a port' \
	env 'REDIS_URL=redis://u:topsecret@h:99999' "$SL_BIN" get /healthz
err=$(env 'REDIS_URL=redis://u:topsecret@h:99999' "$SL_BIN" get /healthz 2>&1)
ok "$([[ $err != *topsecret* ]]; echo $?)" "the Redis password is never echoed"
expect_usage "serve needs a key" 'STREAMLAG_JWT_SECRET: required to serve' \
	env -u STREAMLAG_JWT_SECRET "$SL_BIN" serve --listen "unix:$STATE/x.sock"

# --config FILE: the same names, KEY=VALUE; unknown keys are refused.
printf 'STREAMLAG_LAG_DEGRADED=500\nSTREAMLAG_LAG_UNHEALTHY=400\n' >"$STATE/bad.env"
expect_usage "config file value" 'STREAMLAG_LAG_DEGRADED: expected at most STREAMLAG_LAG_UNHEALTHY \(400\), got 500' \
	"$SL_BIN" get --config "$STATE/bad.env" /healthz
printf 'STREAMLAG_TYPO=1\n' >"$STATE/typo.env"
expect_usage "config file typo" 'unknown setting STREAMLAG_TYPO' \
	"$SL_BIN" get --config "$STATE/typo.env" /healthz

# get: in-process, no Redis needed for /healthz; 1 for non-2xx.
out=$("$SL_BIN" get /healthz); rc=$?
is "$rc:$out" '0:{"status":"ok"}' "get /healthz"
out=$("$SL_BIN" get /api/v1/events/nope); rc=$?
is "$rc:$out" '1:{"error":"No such endpoint","code":"not_found"}' "get unknown path: 404 body, exit 1"
out=$("$SL_BIN" get '/api/v1/events/consumer-lag?bogus=1'); rc=$?
is "$rc:$out" '1:{"error":"unknown query parameter \"bogus\"","code":"bad_query"}' "get bad query: 400 body, exit 1"

# get with nothing listening where REDIS_URL points: exit 1, the seed's
# unhealthy body, and no usage line on stderr.
closed=$(sl_free_port)
out=$(REDIS_URL="redis://127.0.0.1:$closed/0" "$SL_BIN" get /api/v1/events/health 2>"$STATE/down.err"); rc=$?
is "$rc:$out" '1:{"status":"unhealthy","redis_connected":false,"error":"Cannot connect to Redis","code":"redis_unavailable"}' \
	"get with Redis down: exit 1 and the unhealthy body"
out=$(REDIS_URL="redis://127.0.0.1:$closed/0" "$SL_BIN" get /api/v1/events/streams 2>/dev/null); rc=$?
is "$rc:$out" '1:{"error":"Cannot connect to Redis","code":"redis_unavailable"}' \
	"get streams with Redis down: exit 1 and the error shape"

# token: an HS256 JWT with sub, iat and exp = iat + ttl.
tok=$("$SL_BIN" token --sub prometheus --ttl 600); rc=$?
payload=$(cut -d. -f2 <<<"$tok" | tr '_-' '/+')
while [ $(( ${#payload} % 4 )) -ne 0 ]; do payload="$payload="; done
claims=$(openssl base64 -d -A <<<"$payload")
is "$rc:$(jq -c '[.sub, .exp - .iat]' <<<"$claims")" '0:["prometheus",600]' "token claims"
is "$(cut -d. -f1 <<<"$tok" | tr '_-' '/+' | { read -r h; while [ $(( ${#h} % 4 )) -ne 0 ]; do h="$h="; done; openssl base64 -d -A <<<"$h"; } | jq -r .alg)" "HS256" "token alg"
openssl genrsa 2048 2>/dev/null | openssl rsa -pubout -out "$STATE/pub.pem" 2>/dev/null
expect_usage "token without HS key" 'token: minting needs an HS\* key' \
	env STREAMLAG_JWT_ALG=RS256 STREAMLAG_JWT_SECRET= \
	STREAMLAG_JWT_PUBLIC_KEY_FILE="$STATE/pub.pem" "$SL_BIN" token
expect_usage "RS256 without key file" 'STREAMLAG_JWT_PUBLIC_KEY_FILE: required with STREAMLAG_JWT_ALG=RS256' \
	env STREAMLAG_JWT_ALG=RS256 STREAMLAG_JWT_SECRET= "$SL_BIN" get /healthz

# make install honours PREFIX and DESTDIR.
make -s -C "$SL_ROOT" install PREFIX=/usr DESTDIR="$STATE/root" >/dev/null 2>&1
is "$("$STATE/root/usr/bin/streamlag" --version 2>&1)" "streamlag $VERSION (commit $COMMIT)" "make install PREFIX=/usr DESTDIR=..."

done_testing
