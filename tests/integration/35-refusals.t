#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The refusal catalogue: every misconfiguration stops startup with one line
# naming the setting (and the line, for files) and exit status 2; on SIGHUP
# the old configuration is kept and the reason logged.  Every refused token
# and query gets its exact status, body and logged reason.  Run with the
# ASan build by `make integration-asan`: afterwards every worker is the one
# that started, and the service still answers.
. "$(dirname "$0")/common.sh"

seeded_redis
LOG="$STATE/streamlag.log"

# expect_refusal DESC "LINE" COMMAND...: exit status 2 and exactly LINE on
# stderr.  timeout: a FIFO must never be waited on.
expect_refusal() {
	local desc=$1 want=$2 err rc; shift 2
	err=$(timeout 20 "$@" 2>&1 >/dev/null); rc=$?
	is "$rc:$err" "2:$want" "$desc"
}

# --- Startup ------------------------------------------------------------
mkfifo "$STATE/fifo"
printf 'REDIS_URL=%s\n# comment\nSTREAMLAG_STREAMS=events:chat\0\nSTREAMLAG_JWT_AUDIENCE=streamlag\n' \
	"$REDIS_URL" >"$STATE/nul.env"
expect_refusal "a NUL byte in --config: refused with its line" \
	"streamlag: --config: $STATE/nul.env:3: a NUL byte; expected text KEY=VALUE lines" \
	"$SL_BIN" token --config "$STATE/nul.env"
printf '# thresholds\nSTREAMLAG_LAG_DEGRADED=many\n' >"$STATE/value.env"
expect_refusal "a bad value in --config: the setting and its line" \
	"streamlag: STREAMLAG_LAG_DEGRADED: expected an integer from 1 to 1000000000000, got \"many\" ($STATE/value.env:2)" \
	"$SL_BIN" token --config "$STATE/value.env"
printf 'STREAMLAG_STREAMS=a\n\nSTREAMLAG_JWT_AUDIENC=streamlag\n' >"$STATE/typo.env"
expect_refusal "a misspelt setting in --config: its line" \
	"streamlag: --config: $STATE/typo.env:3: unknown setting STREAMLAG_JWT_AUDIENC" \
	"$SL_BIN" token --config "$STATE/typo.env"
expect_refusal "--config naming a FIFO: refused at once" \
	"streamlag: --config: $STATE/fifo is a FIFO; expected a regular file" \
	"$SL_BIN" token --config "$STATE/fifo"
expect_refusal "a FIFO as STREAMLAG_JWT_SECRET_FILE: refused at once" \
	"streamlag: STREAMLAG_JWT_SECRET_FILE: $STATE/fifo is a FIFO; expected a regular file" \
	env -u STREAMLAG_JWT_SECRET STREAMLAG_JWT_SECRET_FILE="$STATE/fifo" "$SL_BIN" token
expect_refusal "a device as STREAMLAG_JWT_SECRET_FILE: refused" \
	"streamlag: STREAMLAG_JWT_SECRET_FILE: /dev/urandom is a character device; expected a regular file" \
	env -u STREAMLAG_JWT_SECRET STREAMLAG_JWT_SECRET_FILE=/dev/urandom "$SL_BIN" token

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$STATE/rsa.key" 2>/dev/null
openssl pkey -in "$STATE/rsa.key" -pubout -out "$STATE/rsa.pub" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null |
	openssl pkey -pubout -out "$STATE/ec.pub" 2>/dev/null
rs() {	# rs ALG KEYFILE: the command line of a serve with that key
	RS=(env -u STREAMLAG_JWT_SECRET STREAMLAG_JWT_ALG="$1" STREAMLAG_JWT_PUBLIC_KEY_FILE="$2"
	    "$SL_BIN" serve --workers 1 --listen "unix:$STATE/never.sock")
}
rs RS256 "$STATE/rsa.key"
expect_refusal "a private key as STREAMLAG_JWT_PUBLIC_KEY_FILE: refused at startup" \
	"streamlag: STREAMLAG_JWT_PUBLIC_KEY_FILE: holds a private key; give streamlag the public key only (openssl pkey -in KEY -pubout) ($STATE/rsa.key)" \
	"${RS[@]}"
rs RS256 "$STATE/ec.pub"
expect_refusal "an EC key for RS256: refused at startup" \
	"streamlag: STREAMLAG_JWT_PUBLIC_KEY_FILE: holds an EC key; STREAMLAG_JWT_ALG=RS256 needs an RSA public key ($STATE/ec.pub)" \
	"${RS[@]}"
rs ES256 "$STATE/rsa.pub"
expect_refusal "an RSA key for ES256: refused at startup" \
	"streamlag: STREAMLAG_JWT_PUBLIC_KEY_FILE: holds an RSA key; STREAMLAG_JWT_ALG=ES256 needs an EC public key on P-256 ($STATE/rsa.pub)" \
	"${RS[@]}"
ok "$( [ ! -e "$STATE/never.sock" ]; echo $?)" "no socket was made by a refused start"

for l in 127.0.0.1.evil.com:9000 localhost:9000 '[::ffff:127.0.0.1]:9000' 128.0.0.1:9000; do
	expect_refusal "STREAMLAG_LISTEN=$l: not loopback" \
		"streamlag: STREAMLAG_LISTEN: $l is not a loopback address (127.0.0.0/8 or [::1]; names are not resolved); set STREAMLAG_ALLOW_TCP to the nginx hosts allowed to connect" \
		"$SL_BIN" serve --listen "$l"
done

# A secret file other users can read: one warning; group-readable: none.
printf '%s\n' "$STREAMLAG_JWT_SECRET" >"$STATE/secret"
chmod 0644 "$STATE/secret"
err=$(env -u STREAMLAG_JWT_SECRET STREAMLAG_JWT_SECRET_FILE="$STATE/secret" "$SL_BIN" token 2>&1 >/dev/null); rc=$?
like "$rc:$err" "^0:ts=[^ ]+ level=warn pid=[0-9]+ event=secret_file_exposed setting=STREAMLAG_JWT_SECRET_FILE path=\"$STATE/secret\" mode=0644 hint=\"other users can read it; chmod o-rwx\"\$" \
	"a world-readable secret file: one warning line, and it still works"
chmod 0640 "$STATE/secret"
err=$(env -u STREAMLAG_JWT_SECRET STREAMLAG_JWT_SECRET_FILE="$STATE/secret" "$SL_BIN" token 2>&1 >/dev/null); rc=$?
is "$rc:$err" "0:" "a group-readable secret file (0640): no warning"

# A password holding '@', unescaped: split at the last '@' as redis-py does.
R ACL SETUSER atuser on '>p@h' '~*' '+@all' >/dev/null
got=$(REDIS_URL="redis://atuser:p@h@127.0.0.1:$PORT/0" "$SL_BIN" get /api/v1/events/consumer-lag | jq -c '[.total_lag, .stream_count]')
is "$got" "[168,3]" "REDIS_URL=redis://atuser:p@h@127.0.0.1:PORT/0 logs in as atuser with password p@h"

# Redis refusing the connection, in its own words and with the address
# (never the password): `get` keeps its body and exit code and names the
# cause on stderr; `serve` logs it (event=redis_error) when a request
# meets it.  One worker per case, spoken to straight over its socket.
TOKEN=$("$SL_BIN" token --ttl 600)
DOWN_BODY='1:{"status":"unhealthy","redis_connected":false,"error":"Cannot connect to Redis","code":"redis_unavailable"}'
CLOSED=$(sl_free_port)
fcgi_health() {	# fcgi_health SOCK: GET /api/v1/events/health, no nginx
	env -i PATH="$PATH" DOCUMENT_URI=/api/v1/events/health \
		REQUEST_METHOD=GET QUERY_STRING= HTTP_AUTHORIZATION="Bearer $TOKEN" \
		cgi-fcgi -bind -connect "$1" >/dev/null 2>&1
}
redis_refusal() {	# redis_refusal N DESC URL WHAT WORDS
	local n=$1 desc=$2 url=$3 what=$4 words=$5 where sock log line out rc
	where=${url##*@}
	where=${where%/*}
	out=$(REDIS_URL="$url" "$SL_BIN" get /api/v1/events/health 2>"$STATE/refusal.err"); rc=$?
	is "$rc:$out" "$DOWN_BODY" "$desc: get keeps the unhealthy body and exit 1"
	is "$(cat "$STATE/refusal.err")" "streamlag: redis $where: $words" \
		"$desc: get says why on stderr"
	mkdir -p "$STATE/r$n"
	sock="$STATE/r$n/streamlag.sock"
	log=$(sl_log_dir "$STATE/r$n")/streamlag.log
	line="what=$what timeout=0 backoff_ms=0 redis=\"$where\" error=\"$words\""
	REDIS_URL="$url" sl_start_serve "$sock" --workers 1 || exit 1
	fcgi_health "$sock"
	sl_wait_for 10 "$desc in the log" grep -qF "event=redis_error $line" "$log"
	ok $? "$desc: serve logs event=redis_error $line"
	ok "$(grep -q "$SL_REDIS_PASS\|wrong-pass" "$log" "$STATE/refusal.err"; [ $? -eq 1 ]; echo $?)" \
		"$desc: no password in the log or on stderr"
	sl_stop_pid "$SL_SERVE_PID" 10
}
redis_refusal 1 "a wrong password" "redis://$SL_REDIS_USER:wrong-pass@127.0.0.1:$PORT/0" AUTH \
	"WRONGPASS invalid username-password pair or user is disabled."
redis_refusal 2 "a database past the last" "redis://$SL_REDIS_USER:$SL_REDIS_PASS@127.0.0.1:$PORT/99" SELECT \
	"ERR DB index is out of range"
redis_refusal 3 "nothing listening" "redis://$SL_REDIS_USER:$SL_REDIS_PASS@127.0.0.1:$CLOSED/0" connect \
	"Connection refused"

# --- Serving --------------------------------------------------------------
unset STREAMLAG_JWT_SECRET
chmod 0640 "$STATE/secret"
CONF="$STATE/streamlag.env"
write_conf() {
	printf 'STREAMLAG_JWT_SECRET_FILE=%s\nSTREAMLAG_JWT_AUDIENCE=streamlag\n' "$STATE/secret" >"$CONF"
}
write_conf
serve_behind_nginx --workers 2 --config "$CONF"
BASE="http://127.0.0.1:$HTTP"
KEY=$(cat "$STATE/secret")
NOW=$(date +%s)
has_workers() { [ "$(pgrep -P "$MASTER" | wc -l)" -eq "$1" ]; }
sl_wait_for 10 "two workers" has_workers 2
WORKERS=$(pgrep -P "$MASTER" | sort | tr '\n' ' ')

# hs HEADER PAYLOAD [sha512]: as common.sh's jwt, in one process (the
# machine may be busy: a catalogue of tokens should not cost seconds each).
hs() {
	perl -MDigest::SHA=hmac_sha256,hmac_sha512 -MMIME::Base64 -e '
		sub b { my $s = encode_base64($_[0], ""); $s =~ tr{+/}{-_}; $s =~ s/=+$//; $s }
		my ($h, $p, $k, $d) = @ARGV;
		my $in = b($h) . "." . b($p);
		print $in, ".", b($d eq "sha512" ? hmac_sha512($in, $k) : hmac_sha256($in, $k));
	' "$1" "$2" "$KEY" "${3:-sha256}"
}
exp=$((NOW + 600))
HS='{"alg":"HS256","typ":"JWT"}'
P="{\"sub\":\"t\",\"aud\":\"streamlag\",\"exp\":$exp}"

curl_status() {
	local url=$1; shift
	curl -s -o "$STATE/body" -D "$STATE/headers" -w '%{http_code}' "$@" "$url"
}
# Headers of the last answer, read without a process per question.
header_count() {
	local l n=0
	while IFS= read -r l; do
		[[ ${l,,} == "${1,,}:"* ]] && n=$((n + 1))
	done <"$STATE/headers"
	echo "$n"
}
header() {
	local l
	while IFS= read -r l; do
		l=${l%$'\r'}
		[[ ${l,,} == "${1,,}: "* ]] && { echo "${l#*: }"; return; }
	done <"$STATE/headers"
}
grew() { [ "$(grep -c -- "$1" "$LOG")" -gt "$2" ]; }
# How many refusals are logged, and the last one's reason.
refusals() {
	awk '/event=auth_refused/ { n++; r = $0 }
	     END { sub(/.*reason="/, "", r); sub(/"$/, "", r); print n + 0 " " r }' "$LOG"
}

# accepted DESC TOKEN
accepted() {
	local st
	st=$(curl_status "$BASE/api/v1/events/consumer-lag" -H "Authorization: Bearer $2")
	is "$st:$(jq -c '[.total_lag, .stream_count]' "$STATE/body")" "200:[168,3]" "$1: 200"
}
# refused DESC TOKEN REASON: 401, the one body, WWW-Authenticate, the reason
# in the log (never in the body).
# The reason is logged before the answer is written: no wait needed.
refused() {
	local st n
	read -r n _ <<<"$(refusals)"
	st=$(curl_status "$BASE/api/v1/events/consumer-lag" -H "Authorization: Bearer $2")
	is "$st:$(<"$STATE/body"):$(header WWW-Authenticate)" \
		'401:{"error":"Invalid or expired token","code":"invalid_token"}:Bearer realm="streamlag", error="invalid_token"' \
		"$1: 401 invalid_token"
	is "$(refusals)" "$((n + 1)) $3" "$1: one refusal logged, reason \"$3\""
}

accepted "typ JWT" "$(hs "$HS" "$P")"
accepted "no typ" "$(hs '{"alg":"HS256"}' "$P")"
accepted "typ at+jwt (RFC 9068)" "$(hs '{"alg":"HS256","typ":"at+jwt"}' "$P")"
accepted "typ application/at+jwt" "$(hs '{"alg":"HS256","typ":"application/at+jwt"}' "$P")"
is "$(header_count X-Content-Type-Options)" 1 "X-Content-Type-Options sent once through nginx"
nest() {	# nest N: claims with N levels of objects, the outer one included
	local s="{\"aud\":\"streamlag\",\"exp\":$exp,\"a\":" i
	for ((i = 2; i < $1; i++)); do s+='{"a":'; done
	s+='{}'
	for ((i = 2; i <= $1; i++)); do s+='}'; done
	printf '%s' "$s"
}
accepted "claims nested 32 levels deep" "$(hs "$HS" "$(nest 32)")"

st=$(curl_status "$BASE/api/v1/events/consumer-lag")
is "$st:$(cat "$STATE/body"):$(header WWW-Authenticate)" \
	'401:{"error":"Missing bearer token","code":"unauthorized"}:Bearer realm="streamlag"' "no token: 401 unauthorized"
refused "alg hs256 (case differs)" "$(hs '{"alg":"hs256","typ":"JWT"}' "$P")" "algorithm not allowed"
refused "alg HS512 when HS256 is pinned" "$(hs '{"alg":"HS512"}' "$P" sha512)" "algorithm not allowed"
refused "alg none with a signature" "$(printf '%s' '{"alg":"none"}' | b64url).$(printf '%s' "$P" | b64url).c2ln" "algorithm not allowed"
refused "crit naming an extension" "$(hs '{"alg":"HS256","crit":["exp"],"exp":1}' "$P")" "crit names an unsupported extension"
refused "typ logout+jwt" "$(hs '{"alg":"HS256","typ":"logout+jwt"}' "$P")" "typ not accepted"
refused "duplicate header alg" "$(hs '{"alg":"none","alg":"HS256"}' "$P")" "duplicate header name"
refused "duplicate claim aud, the last one right" \
	"$(hs "$HS" "{\"aud\":\"other\",\"aud\":\"streamlag\",\"exp\":$exp}")" "duplicate claim name"
refused "duplicate claim exp, the last one in the future" \
	"$(hs "$HS" "{\"aud\":\"streamlag\",\"exp\":1,\"exp\":$exp}")" "duplicate claim name"
refused '\u0000 in a claim string' "$(hs "$HS" "{\"aud\":\"streamlag\",\"exp\":$exp,\"sub\":\"ad\\u0000min\"}")" \
	'NUL (\u0000) in a claim'
refused "claims nested 33 levels deep" "$(hs "$HS" "$(nest 33)")" "claims nested deeper than 32 levels"
refused "claims as an array" "$(hs "$HS" "[$P]")" "claims not a JSON object"
refused "bad signature" "$(hs "$HS" "$P" | cut -d. -f1,2).$(hs "$HS" '{}' | cut -d. -f3)" "bad signature"
refused "no aud (STREAMLAG_JWT_AUDIENCE from --config)" "$(hs "$HS" "{\"exp\":$exp}")" "wrong audience"
refused "expired" "$(hs "$HS" "{\"aud\":\"streamlag\",\"exp\":$((NOW - 3600))}")" "expired"
refused "missing exp" "$(hs "$HS" '{"aud":"streamlag"}')" "missing exp"
refused "malformed" "a.b" "malformed"

# Queries.
query() {	# query DESC PATH WANT_STATUS WANT_BODY [AUTH]
	local st
	if [ -n "${5:-}" ]; then
		st=$(curl_status "$BASE$2" -H "Authorization: Bearer $5")
	else
		st=$(curl_status "$BASE$2")
	fi
	is "$st:$(<"$STATE/body")" "$3:$4" "$1"
}
GOOD=$(hs "$HS" "$P")
query "/healthz?x=1: the query is ignored" "/healthz?x=1" 200 '{"status":"ok"}'
is "$(header_count X-Content-Type-Options)" 1 "/healthz: X-Content-Type-Options once"
query "/healthz?%zz&x=1&x=2: ignored too" "/healthz?%zz&x=1&x=2" 200 '{"status":"ok"}'
query "?stream= twice: 400" "/api/v1/events/consumer-lag?stream=events:chat&stream=events:ticket" 400 \
	'{"error":"query parameter \"stream\" given more than once","code":"bad_query"}' "$GOOD"
query "?group= twice: 400" "/api/v1/events/health?group=a&group=signalr-consumers" 400 \
	'{"error":"query parameter \"group\" given more than once","code":"bad_query"}' "$GOOD"
st=$(curl_status "$BASE/api/v1/events/streams?stream=events:chat,events:ticket" -H "Authorization: Bearer $GOOD")
is "$st:$(jq -c '[.streams[].name]' "$STATE/body")" '200:["events:chat","events:ticket"]' "?stream=a,b once: 200, both selected"
query "unknown parameter: 400" "/api/v1/events/consumer-lag?bogus=1" 400 \
	'{"error":"unknown query parameter \"bogus\"","code":"bad_query"}' "$GOOD"
query "bad escape: 400" "/api/v1/events/consumer-lag?stream=%zz" 400 \
	'{"error":"query parameter \"stream\": bad percent-escape","code":"bad_query"}' "$GOOD"
query "a stream not monitored: 400" "/api/v1/events/consumer-lag?stream=nope" 400 \
	'{"error":"stream: \"nope\" is not a monitored stream","code":"bad_query"}' "$GOOD"
query "unknown path: 404" "/api/v1/events/nope" 404 '{"error":"No such endpoint","code":"not_found"}' "$GOOD"

# --- SIGHUP with a bad configuration: the old one is kept, the reason logged.
# reload_refused DESC "REASON": SIGHUP, one more reload_failed line carrying
# exactly REASON, and the old configuration still in force.
reload_refused() {
	local n
	n=$(grep -c 'event=reload_failed' "$LOG")
	kill -HUP "$MASTER"
	sl_wait_for 10 "the refused reload" grew 'event=reload_failed' "$n"
	is "$(grep 'event=reload_failed' "$LOG" | tail -1 | sed 's/.* event=reload_failed //')" "error=\"$2\"" \
		"SIGHUP, $1: refused, the reason logged"
	accepted "after $1: the old key" "$GOOD"
	refused "after $1: the old STREAMLAG_JWT_AUDIENCE" "$(hs "$HS" "{\"exp\":$exp}")" "wrong audience"
}
printf 'STREAMLAG_JWT_SECRET_FILE=%s\n\0STREAMLAG_JWT_AUDIENCE=streamlag\n' "$STATE/secret" >"$CONF"
reload_refused "a NUL byte in --config" "--config: $CONF:2: a NUL byte; expected text KEY=VALUE lines"
printf 'STREAMLAG_JWT_SECRET_FILE=%s\nSTREAMLAG_JWT_AUDIENCE=streamlag\n' "$STATE/fifo" >"$CONF"
reload_refused "a FIFO as the secret file" "STREAMLAG_JWT_SECRET_FILE: $STATE/fifo is a FIFO; expected a regular file ($CONF:1)"
# (STREAMLAG_LISTEN and STREAMLAG_WORKERS come from the flags here, which
# win over the file.)
printf 'STREAMLAG_JWT_SECRET_FILE=%s\nSTREAMLAG_JWT_AUDIENCE=streamlag\nSTREAMLAG_JWT_ALG=hs256\n' "$STATE/secret" >"$CONF"
reload_refused "an algorithm named in lower case" \
	"STREAMLAG_JWT_ALG: expected one of HS256 HS384 HS512 RS256 RS384 RS512 ES256 ES384 ES512, got \\\"hs256\\\" ($CONF:3)"
printf 'STREAMLAG_JWT_SECRET_FILE=%s\nSTREAMLAG_JWT_AUDIENCE=streamlag\nSTREAMLAG_LAG_DEGRADED=many\n' "$STATE/secret" >"$CONF"
reload_refused "a bad number" "STREAMLAG_LAG_DEGRADED: expected an integer from 1 to 1000000000000, got \\\"many\\\" ($CONF:3)"

# --- Afterwards: the same workers, still answering.
is "$(pgrep -P "$MASTER" | sort | tr '\n' ' ')" "$WORKERS" "every worker PID is unchanged after the catalogue"
accepted "the service still answers" "$GOOD"
query "/healthz still answers" "/healthz" 200 '{"status":"ok"}'

# A FIFO reload does not block the master: a killed worker is replaced.
printf 'STREAMLAG_JWT_SECRET_FILE=%s\n' "$STATE/fifo" >"$CONF"
n=$(grep -c 'event=reload_failed' "$LOG")
kill -HUP "$MASTER"
sl_wait_for 10 "the refused reload" grew 'event=reload_failed' "$n"
victim=$(pgrep -P "$MASTER" | head -1)
kill -KILL "$victim"
replaced() { has_workers 2 && ! kill -0 "$victim" 2>/dev/null; }
sl_wait_for 10 "the replacement" replaced
ok $? "after a SIGHUP naming a FIFO, the master still replaces a killed worker"
write_conf
accepted "and serves" "$GOOD"

done_testing
