#!/usr/bin/env bash
# A real nginx in front of `streamlag serve`: the same bodies as `streamlag
# get`, the headers, the error shapes, and every way a token is refused.
. "$(dirname "$0")/common.sh"

seeded_redis
export STREAMLAG_JWT_ISSUER=https://issuer.example STREAMLAG_JWT_AUDIENCE=streamlag
# The seeded consumers stay idle: an hour before they count as stalled, so
# health stays "degraded" however long the script runs on a busy machine.
export STREAMLAG_STALL_MS=3600000
serve_behind_nginx --workers 2
BASE="http://127.0.0.1:$HTTP"
KEY=$STREAMLAG_JWT_SECRET
NOW=$(date +%s)
HS='{"alg":"HS256","typ":"JWT"}'
claims() { jq -cn --argjson now "$NOW" "{sub:\"t\",iss:\"https://issuer.example\",aud:\"streamlag\",iat:\$now} + $1"; }
GOOD=$(jwt "$HS" "$(claims '{exp: ($now + 600)}')" "$KEY")

# curl_status URL [CURL ARGS...]: prints the status, body in $STATE/body,
# headers in $STATE/headers.
curl_status() {
	local url=$1; shift
	curl -s -o "$STATE/body" -D "$STATE/headers" -w '%{http_code}' "$@" "$url"
}
header() { tr -d '\r' <"$STATE/headers" | awk -v h="$1" 'BEGIN { IGNORECASE = 1 } tolower($0) ~ "^" tolower(h) ":" { sub(/^[^:]*: */, ""); print }'; }
noage='del(.. | .idle_ms?, .last_entry_age_ms?, .time_lag_ms?, .oldest_pending_ms?)'

for path in consumer-lag health streams; do
	st=$(curl_status "$BASE/api/v1/events/$path" -H "Authorization: Bearer $GOOD")
	is "$st" 200 "$path: 200 with a valid token"
	json_is "$(jq -c "$noage" "$STATE/body")" \
		"$("$SL_BIN" get "/api/v1/events/$path" | jq -c "$noage")" \
		"$path: the same body through nginx as through streamlag get"
	is "$(header Content-Type)" "application/json" "$path: Content-Type"
	is "$(header Cache-Control)" "no-store" "$path: Cache-Control: no-store"
done
st=$(curl_status "$BASE/api/v1/events/consumer-lag" -H "Authorization: Bearer $GOOD")
is "$(jq -c '[.total_lag, .stream_count, .streams["events:chat"].lag, .streams["events:ticket"].lag, .streams["events:remote"].lag]' "$STATE/body")" \
	"[168,3,123,45,0]" "consumer-lag numbers through nginx"

# The socket: mode 0660; group www-data (nginx's workers) as root, else the
# user's own group.
want_group=$(id -gn); sl_is_root && want_group=www-data
is "$(stat -c '%a %G' "$SOCK")" "660 $want_group" "the socket is mode 0660, group $want_group"

# The placeholder page and its stylesheet, with the security headers.
st=$(curl_status "$BASE/")
is "$st:$(header Content-Type)" "200:text/html" "/ serves www/index.html"
is "$(cat "$STATE/body")" "$(cat "$SL_ROOT/www/index.html")" "/ is the repository's page"
like "$(cat "$STATE/body")" 'src="app.js"' "the page loads the dashboard script"
st=$(curl_status "$BASE/vendor/uplot/uPlot.iife.min.js")
is "$st" 200 "the vendored chart library is served (no CDN)"
is "$(header X-Content-Type-Options):$(header X-Frame-Options)" "nosniff:DENY" "security headers on static files"
st=$(curl_status "$BASE/app.css")
is "$st:$(header Content-Type)" "200:text/css" "/app.css"
st=$(curl_status "$BASE/nope.html")
is "$st" 404 "a missing static file is a 404"

# Unauthenticated liveness.
st=$(curl_status "$BASE/healthz")
is "$st:$(cat "$STATE/body")" '200:{"status":"ok"}' "/healthz needs no token"

# 404, 405 with Allow, 400: one error shape.
st=$(curl_status "$BASE/api/v1/events/nope" -H "Authorization: Bearer $GOOD")
is "$st:$(cat "$STATE/body")" '404:{"error":"No such endpoint","code":"not_found"}' "unknown path: 404"
for m in POST DELETE PUT PATCH; do
	st=$(curl_status "$BASE/api/v1/events/consumer-lag" -X "$m" -H "Authorization: Bearer $GOOD")
	is "$st:$(jq -r .code "$STATE/body")" "405:method_not_allowed" "$m: 405 method_not_allowed"
	allow=$(header Allow)
	like "$allow" '(^|, )GET(,|$)' "$m: Allow names GET ($allow)"
done
# Allow must not promise what is refused: each method it names is served.
for m in $(tr -d ' ' <<<"$allow" | tr ',' ' '); do
	if [ "$m" = HEAD ]; then
		st=$(curl_status "$BASE/api/v1/events/consumer-lag" -I -H "Authorization: Bearer $GOOD")
	else
		st=$(curl_status "$BASE/api/v1/events/consumer-lag" -X "$m" -H "Authorization: Bearer $GOOD")
	fi
	is "$st" 200 "$m, named in Allow, is served"
done
st=$(curl_status "$BASE/api/v1/events/consumer-lag?bogus=1" -H "Authorization: Bearer $GOOD")
is "$st:$(jq -r .code "$STATE/body")" "400:bad_query" "unknown query parameter: 400"
st=$(curl_status "$BASE/api/v1/events/consumer-lag?stream=%zz" -H "Authorization: Bearer $GOOD")
is "$st:$(jq -r .code "$STATE/body")" "400:bad_query" "bad escape: 400"

# Every refusal: 401, WWW-Authenticate, no detail, and the worker serves on.
REFUSED=0
refused() {
	local desc=$1 token=$2 st
	REFUSED=$((REFUSED + 1))
	if [ -n "$token" ]; then
		st=$(curl_status "$BASE/api/v1/events/consumer-lag" -H "Authorization: Bearer $token")
	else
		st=$(curl_status "$BASE/api/v1/events/consumer-lag")
	fi
	is "$st" 401 "$desc: 401"
	like "$(header WWW-Authenticate)" '^Bearer realm="streamlag"' "$desc: WWW-Authenticate: Bearer"
	like "$(jq -r .error "$STATE/body")" '^(Missing bearer token|Invalid or expired token)$' "$desc: no detail in the body"
}
refused "no token" ""
is "$(jq -r .code "$STATE/body")" unauthorized "no token: code unauthorized"
refused "bad signature" "${GOOD%?}$( [ "${GOOD: -1}" = A ] && echo B || echo A)"
is "$(header WWW-Authenticate)" 'Bearer realm="streamlag", error="invalid_token"' "refused token: error=\"invalid_token\""
is "$(jq -r .code "$STATE/body")" invalid_token "refused token: code invalid_token"
none_h=$(printf '%s' '{"alg":"none","typ":"JWT"}' | b64url)
none_p=$(claims '{exp: ($now + 600)}' | tr -d '\n' | b64url)
refused "alg none" "$none_h.$none_p."
refused "alg none with a signature" "$none_h.$none_p.$(jwt "$HS" '{}' "$KEY" | cut -d. -f3)"
refused "HS256 with another key" "$(jwt "$HS" "$(claims '{exp: ($now + 600)}')" other-key-0123456789abcdef0123456789)"
refused "HS512 when HS256 is pinned" "$(jwt '{"alg":"HS512","typ":"JWT"}' "$(claims '{exp: ($now + 600)}')" "$KEY" sha512)"
refused "expired" "$(jwt "$HS" "$(claims '{exp: ($now - 3600)}')" "$KEY")"
refused "missing exp" "$(jwt "$HS" "$(claims '{}')" "$KEY")"
refused "exp as a string" "$(jwt "$HS" "$(claims '{exp: "9999999999"}')" "$KEY")"
refused "future nbf" "$(jwt "$HS" "$(claims '{exp: ($now + 600), nbf: ($now + 300)}')" "$KEY")"
refused "wrong iss" "$(jwt "$HS" "$(claims '{exp: ($now + 600), iss: "https://evil.example"}')" "$KEY")"
refused "wrong aud" "$(jwt "$HS" "$(claims '{exp: ($now + 600), aud: "someone-else"}')" "$KEY")"
# sized_token LENGTH: a valid token of exactly LENGTH bytes, through a
# padding claim (base64url lengths are never 1 mod 4, so a kid in the header
# shifts the total when needed).
sized_token() {
	local want=$1 pad tok h kid base json0
	json0=$(claims '{exp: ($now + 600), pad: ""}')
	for kid in "" k kk kkk; do
		h='{"alg":"HS256","typ":"JWT"'${kid:+",\"kid\":\"$kid\""}'}'
		tok=$(jwt "$h" "$json0" "$KEY")
		# unpadded base64 of n bytes has (4n + 2) / 3 characters
		base=$(( ${#tok} - (4 * ${#json0} + 2) / 3 ))
		for ((pad = 0; base + (4 * (${#json0} + pad) + 2) / 3 < want; pad++)); do :; done
		(( base + (4 * (${#json0} + pad) + 2) / 3 == want )) || continue
		tok=$(jwt "$h" "$(claims "{exp: (\$now + 600), pad: \"$(head -c "$pad" /dev/zero | tr '\0' p)\"}")" "$KEY")
		printf '%s' "$tok"
		return 0
	done
	return 1
}
at_limit=$(sized_token 8192); past_limit=$(sized_token 8193)
is "${#at_limit}:${#past_limit}" "8192:8193" "valid tokens of 8192 and 8193 bytes made"
st=$(curl_status "$BASE/api/v1/events/health" -H "Authorization: Bearer $at_limit")
is "$st" 200 "a valid token of 8192 bytes (the limit) is accepted"
refused "a valid token of 8193 bytes (the limit + 1)" "$past_limit"
big=$(head -c 3000 /dev/zero | tr '\0' a)
refused "oversized (9002 bytes)" "$big.$big.$big"
refused "garbage" "not-a-jwt"

# Within the leeway (30 s) and with aud as an array: accepted.
# (10 s before now, not before $NOW: on a busy machine the test may have
# run for longer than the leeway by then.)
st=$(curl_status "$BASE/api/v1/events/health" -H "Authorization: Bearer $(jwt "$HS" "$(claims "{exp: ($(date +%s) - 10), aud: [\"x\", \"streamlag\"]}")" "$KEY")")
is "$st" 200 "expired 10 s ago (within the leeway), aud array: accepted"
st=$(curl_status "$BASE/api/v1/events/health" -H "Authorization: Bearer $("$SL_BIN" token --ttl 60)")
is "$st" 200 "a token from streamlag token is accepted"
is "$(jq -r .status "$STATE/body")" degraded "health through nginx: degraded"

# After all of that, both workers still serve.
fails=0
for i in $(seq 20); do
	st=$(curl_status "$BASE/api/v1/events/consumer-lag" -H "Authorization: Bearer $GOOD")
	[ "$st" = 200 ] || fails=$((fails + 1))
done
is "$fails" 0 "20 more requests after the refusals: all 200"
# The request without any token is not a refused token.
is "$(grep -c 'event=auth_refused' "$STATE/streamlag.log")" "$((REFUSED - 1))" "each refused token logged once"
is "$(grep -c 'event=auth_refused reason="too long"' "$STATE/streamlag.log")" 2 "both oversized tokens were refused for their size"
ok "$(grep -q "$GOOD" "$STATE/streamlag.log"; [ $? -eq 1 ]; echo $?)" "no token in the log"

done_testing
