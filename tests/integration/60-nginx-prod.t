#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The shipped nginx configuration (nginx/streamlag.conf and its snippets),
# installed under a temporary root: nginx -t, TLS, headers, redirect, rate
# limit, and the auth offload with the micro-cache, end to end.
. "$(dirname "$0")/common.sh"

seeded_redis
# The seed's consumers never read again: after STREAMLAG_STALL_MS (60 s by
# default) every group is stalled and health answers 503; a busy machine
# can take that long to get through this script.
export STREAMLAG_STALL_MS=3600000
serve_on_socket --workers 2
sl_self_signed "$STATE"
TOKEN=$("$SL_BIN" token --ttl 600)

# install_site DIR HTTP HTTPS [offload]: make install into DIR/usr, then
# the site as docs/operations.md sets it up: a copy of streamlag.conf (the
# one file edited: certificate, ports) including the installed snippets.
# The installed streamlag-http.conf is pointed at this test's socket and
# cache directory.  Everything nginx's workers read is under DIR.
install_site() {
	local dir=$1 http=$2 https=$3 offload=${4:-} share
	share=$dir/usr/share/streamlag
	mkdir -p "$dir/etc" "$dir/cache" "$dir/tmp"
	chmod 0755 "$dir"
	make -s -C "$SL_ROOT" install PREFIX="$dir/usr" >"$dir/install.log" 2>&1 ||
		{ echo "# make install failed"; return 1; }
	sed -i -e "s|unix:/run/streamlag/streamlag.sock|unix:$SOCK|" \
	    -e "s|/var/lib/nginx/|$dir/cache/|g" "$share/nginx/streamlag-http.conf"
	sed -e "s|/etc/ssl/streamlag/fullchain.pem|$STATE/tls.crt|" \
	    -e "s|/etc/ssl/streamlag/privkey.pem|$STATE/tls.key|" \
	    -e "s|listen 443 ssl http2;|listen 127.0.0.1:$https ssl http2;|" \
	    -e "s|listen 80;|listen 127.0.0.1:$http;|" \
	    -e '/listen \[::\]/d' "$share/nginx/streamlag.conf" >"$dir/etc/streamlag.conf"
	if [ -n "$offload" ]; then	# what docs/operations.md says to uncomment
		sed -i -e 's|# include \(.*/snippets/auth-offload.conf;\)|include \1|' \
		    -e 's|# include \(.*/snippets/microcache.conf;\)|include \1|' \
		    "$dir/etc/streamlag.conf"
	fi
	local user=""
	[ "$(id -u)" -eq 0 ] && user="user www-data www-data;"
	cat >"$dir/nginx.conf" <<CONF
$user
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 512; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $dir/access.log;
    client_body_temp_path $dir/tmp/body;
    fastcgi_temp_path $dir/tmp/fastcgi;
    proxy_temp_path $dir/tmp/proxy;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    include $dir/etc/streamlag.conf;
}
CONF
	[ "$(id -u)" -eq 0 ] && chown -R www-data "$dir/cache" "$dir/tmp"
	nginx -t -q -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" 2>"$dir/t.err"
}

start_site() {
	local dir=$1 https=$2
	nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;' \
		>>"$dir/error.log" 2>&1 &
	SL_PIDS+=("$!")
	sl_wait_for 10 "nginx on $https" curl -fsk -o /dev/null "https://127.0.0.1:$https/healthz"
}

A="$STATE/site"; A_HTTP=$(sl_free_port); A_HTTPS=$(sl_free_port)
install_site "$A" "$A_HTTP" "$A_HTTPS"
ok $? "nginx -t passes on the shipped site configuration"
B="$STATE/offload"; B_HTTP=$(sl_free_port); B_HTTPS=$(sl_free_port)
install_site "$B" "$B_HTTP" "$B_HTTPS" offload
ok $? "nginx -t passes with auth offload and micro-cache enabled"
grep -q '^ *include .*/snippets/auth-offload.conf;' "$B/etc/streamlag.conf"
ok $? "the offload variant really enables the snippets"
start_site "$A" "$A_HTTPS" || exit 1
start_site "$B" "$B_HTTPS" || exit 1

c() { curl -sk -o "$STATE/body" -D "$STATE/headers" -w '%{http_code}' "$@"; }
header() { tr -d '\r' <"$STATE/headers" | awk -v h="$1" 'tolower($0) ~ "^" tolower(h) ":" { sub(/^[^:]*: */, ""); print; exit }'; }
AU="https://127.0.0.1:$A_HTTPS"
BU="https://127.0.0.1:$B_HTTPS"

# The shipped site.
st=$(c -H "Authorization: Bearer $TOKEN" "$AU/api/v1/events/consumer-lag")
is "$st:$(jq -c '[.total_lag, .stream_count]' "$STATE/body")" "200:[168,3]" "TLS site: consumer-lag"
is "$(header Strict-Transport-Security)" "max-age=63072000" "HSTS"
like "$(header Content-Security-Policy)" "^default-src 'none'; script-src 'self'" "Content-Security-Policy"
is "$(header X-Frame-Options)" "DENY" "X-Frame-Options"
is "$(tr -d '\r' <"$STATE/headers" | grep -ci '^X-Content-Type-Options: nosniff$')" 1 \
	"X-Content-Type-Options: nosniff, once (streamlag's own copy hidden)"
is "$(header Server)" "nginx" "server_tokens off"
st=$(c "$AU/api/v1/events/health")
is "$st:$(header Strict-Transport-Security)" "401:max-age=63072000" "security headers on errors too (always)"
st=$(c "http://127.0.0.1:$A_HTTP/api/v1/events/health")
is "$st:$(header Location)" "301:https://127.0.0.1/api/v1/events/health" "http redirects to https"
st=$(c "http://127.0.0.1:$A_HTTP/healthz")
is "$st" 200 "plain-http /healthz for load balancers"
st=$(c "$AU/")
is "$st:$(header Cache-Control)" "200:max-age=300" "the dashboard is static, with caching headers"
proto=$(curl -sk -o /dev/null -w '%{ssl_version}' --tls-max 1.1 "$AU/healthz" 2>/dev/null; echo ":$?")
like "$proto" ':[1-9]' "TLS 1.1 is refused"
st=$(c -X POST -H 'Content-Type: text/plain' --data-binary "@$SL_ROOT/README.md" "$AU/api/v1/events/health")
is "$st" 413 "request bodies are limited"

# limit_req: a burst far beyond a dashboard's polling (120 at once over one
# curl, the burst allows 40) answers 429, in streamlag's error shape.
mkdir -p "$STATE/burst"
curl -sk --parallel --parallel-max 60 --no-progress-meter -H "Authorization: Bearer $TOKEN" \
	-o "$STATE/burst/#1" -w '%{http_code} %{filename_effective}\n' \
	"$AU/api/v1/events/health#[1-120]" >"$STATE/burst.codes" 2>/dev/null
like "$(grep -c '^429 ' "$STATE/burst.codes")" '^[1-9]' "120 requests at once: the excess answers 429"
like "$(grep -c '^200 ' "$STATE/burst.codes")" '^[1-9]' "... and the first ones were served"
is "$(grep '^429 ' "$STATE/burst.codes" | while read -r _ f; do cat "$f"; echo; done | sort -u)" \
	'{"error":"Too many requests","code":"rate_limited"}' "... every 429 with streamlag's error shape"

# Auth offload + micro-cache.
st=$(c "$BU/api/v1/events/consumer-lag")
is "$st:$(cat "$STATE/body")" '401:{"error":"Missing bearer token","code":"unauthorized"}' \
	"offload: no token, 401 from the auth subrequest, in streamlag's error shape"
is "$(header WWW-Authenticate)" 'Bearer realm="streamlag"' "offload: WWW-Authenticate passed on, once"
is "$(header Content-Type):$(header Cache-Control):$(header Strict-Transport-Security)" \
	"application/json:no-store:max-age=63072000" "offload: JSON, no-store, the security headers"
st=$(c -H "Authorization: Bearer ${TOKEN%?}x" "$BU/api/v1/events/consumer-lag")
is "$st:$(cat "$STATE/body")" '401:{"error":"Invalid or expired token","code":"invalid_token"}' "offload: bad token, 401 invalid_token"
is "$(header WWW-Authenticate)" 'Bearer realm="streamlag", error="invalid_token"' "offload: ... with error=\"invalid_token\""
before=$(grep -c 'path="/api/v1/events/consumer-lag" status=200' "$STATE/streamlag.log")
seq 16 | xargs -P 16 -I{} curl -sk -o "$STATE/par.{}" -w '%{http_code}\n' \
	-H "Authorization: Bearer $TOKEN" "$BU/api/v1/events/consumer-lag" >"$STATE/codes"
is "$(sort -u "$STATE/codes")" 200 "offload: 16 concurrent requests with a token, all 200"
is "$(cat "$STATE"/par.* | jq -c .total_lag | sort -u)" 168 "... with the right body"
after=$(grep -c 'path="/api/v1/events/consumer-lag" status=200' "$STATE/streamlag.log")
ok "$( (( after - before >= 1 && after - before <= 2 )); echo $?)" \
	"micro-cache: 16 concurrent misses reached streamlag $((after - before)) time(s)"
st=$(c "$BU/api/v1/events/consumer-lag")
is "$st" 401 "micro-cache warm: still 401 without a token"
st=$(c -H "Authorization: Bearer $TOKEN" "$BU/api/v1/events/streams")
is "$st:$(jq -r '.streams | length' "$STATE/body")" "200:3" "offload: other endpoints pass through"
st=$(c "$BU/healthz")
is "$st" 200 "offload: /healthz stays public"
st=$(c "$BU/")
is "$st" 200 "offload: the dashboard stays public"

done_testing
