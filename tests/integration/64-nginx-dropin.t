#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The nginx drop-in, installed by make install: streamlag-http.conf in the
# http context and streamlag-locations.conf inside a foreign server {} that
# has locations of its own.  nginx -t, everything under /streamlag/, the
# auth offload's refusals in streamlag's error shape, the other locations
# untouched, and the dashboard signing in under the prefix in Chromium.
. "$(dirname "$0")/common.sh"

seeded_redis
# The seed's consumers never read again: after STREAMLAG_STALL_MS (60 s by
# default) every group is stalled and health answers 503; a busy machine
# can take that long to get through this script.
export STREAMLAG_STALL_MS=3600000
export STREAMLAG_JWT_SCOPE=lag:read
serve_on_socket --workers 2
TOKEN=$("$SL_BIN" token --sub dropin-test --ttl 600)
NOSCOPE=$(jwt '{"alg":"HS256","typ":"JWT"}' "{\"sub\":\"t\",\"exp\":$(( $(date +%s) + 600 ))}" "$STREAMLAG_JWT_SECRET")

# Installed as documented, into a prefix inside the state directory: the
# paths in the installed files are that prefix's (nginx's workers can read
# it, wherever the checkout lives).
P="$STATE/usr"
make -s -C "$SL_ROOT" install PREFIX="$P" >"$STATE/install.log" 2>&1
ok $? "make install PREFIX=$P"
N="$P/share/streamlag/nginx"
grep -q "include $N/snippets/security-headers.conf;" "$N/streamlag-locations.conf"
ok $? "the installed drop-in names the installed snippets"

# On Debian the cache paths need nothing created: their parent is the
# nginx package's own state directory.
for d in $(sed -n 's/^fastcgi_cache_path \([^ ]*\) .*/\1/p' "$SL_ROOT/nginx/streamlag-http.conf"); do
	parent=${d%/*}
	owner=$(dpkg -S "$parent" 2>/dev/null | cut -d: -f1)
	is "$owner:$([ -d "$parent" ] && echo dir)" "nginx-common:dir" "cache $d: its parent $parent exists on stock Debian (nginx-common)"
done

# The documented way to another socket: a copy of the http part, edited.
# The cache goes under the state directory: this test must not write to
# /var/lib/nginx.
mkdir -p "$STATE/conf.d" "$STATE/cache" "$STATE/tmp" "$STATE/site"
sed -e "s|unix:/run/streamlag/streamlag.sock|unix:$SOCK|" -e "s|/var/lib/nginx/|$STATE/cache/|" \
	"$N/streamlag-http.conf" >"$STATE/conf.d/streamlag.conf"
echo '<!doctype html><title>foreign</title><p>the foreign site' >"$STATE/site/index.html"
echo 'foreign 404 page' >"$STATE/site/404.html"
echo 'console.log("foreign");' >"$STATE/site/foreign.js"
chmod -R a+rX "$STATE/site" "$P"
HTTP=$(sl_free_port)
user=""
sl_is_root && user="user www-data www-data;" && chown www-data "$STATE/cache" "$STATE/tmp"
cat >"$STATE/nginx.conf" <<CONF
$user
worker_processes 2;
pid $STATE/nginx.pid;
error_log $STATE/nginx-error.log warn;
events { worker_connections 512; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $STATE/nginx-access.log;
    client_body_temp_path $STATE/tmp/body;
    fastcgi_temp_path $STATE/tmp/fastcgi;
    proxy_temp_path $STATE/tmp/proxy;
    uwsgi_temp_path $STATE/tmp/uwsgi;
    scgi_temp_path $STATE/tmp/scgi;
    include $STATE/conf.d/*.conf;

    # Someone else's site, with an API, a /metrics, a regex location and
    # error pages of its own.
    server {
        listen 127.0.0.1:$HTTP;
        server_name foreign.test;
        root $STATE/site;
        error_page 404 /404.html;
        error_page 401 403 502 /404.html;
        location / { try_files \$uri \$uri/ =404; }
        location /api/ { return 200 "foreign api\n"; }
        location = /metrics { return 200 "foreign metrics\n"; }
        location ~ \.js\$ { add_header X-Foreign-JS yes; }

        include $N/streamlag-locations.conf;
    }
}
CONF
nginx -t -q -p "$STATE/" -c "$STATE/nginx.conf" -e "$STATE/nginx-error.log" 2>"$STATE/t.err"
ok $? "nginx -t: a foreign server {} with the drop-in included"
[ -s "$STATE/t.err" ] && sed 's/^/# /' "$STATE/t.err"
nginx -p "$STATE/" -c "$STATE/nginx.conf" -e "$STATE/nginx-error.log" -g 'daemon off;' \
	>>"$STATE/nginx-error.log" 2>&1 &
SL_PIDS+=("$!")
U="http://127.0.0.1:$HTTP"
sl_wait_for 10 "nginx on $HTTP" curl -fs -o /dev/null "$U/streamlag/healthz" || exit 1

c() { curl -s -o "$STATE/body" -D "$STATE/headers" -w '%{http_code}' "$@"; }
header() { tr -d '\r' <"$STATE/headers" | awk -v h="$1" 'tolower($0) ~ "^" tolower(h) ":" { sub(/^[^:]*: */, ""); print }'; }
body() { cat "$STATE/body"; }

# The foreign server's own locations are untouched.
is "$(c "$U/"):$(body)" "200:$(cat "$STATE/site/index.html")" "foreign: its own index page"
is "$(c "$U/api/v1/events/health"):$(body)" "200:foreign api" "foreign: its /api/ is its own"
is "$(c "$U/metrics"):$(body)" "200:foreign metrics" "foreign: its /metrics is its own"
is "$(c "$U/foreign.js"):$(header X-Foreign-JS)" "200:yes" "foreign: its regex location still applies to its files"
is "$(c "$U/nothing-here"):$(body)" "404:foreign 404 page" "foreign: its own 404 page"

# The dashboard under the prefix.
is "$(c "$U/streamlag"):$(header Location)" "301:http://127.0.0.1:$HTTP/streamlag/" "/streamlag redirects to /streamlag/"
st=$(c "$U/streamlag/")
cmp -s "$STATE/body" "$SL_ROOT/www/index.html"
ok $? "/streamlag/ serves the dashboard's index.html (status $st)"
like "$(header Content-Security-Policy)" "^default-src 'none'; script-src 'self'" "... under the shipped Content-Security-Policy"
st=$(c "$U/streamlag/app.js")
is "$st:$(cmp -s "$STATE/body" "$SL_ROOT/www/app.js" && echo same):$(header X-Foreign-JS)" "200:same:" \
	"/streamlag/app.js is the dashboard's, not taken by the server's regex location"
st=$(c "$U/streamlag/vendor/uplot/uPlot.iife.min.js")
is "$st:$(header Cache-Control)" "200:max-age=604800" "/streamlag/vendor/: the vendored library, cached 7 days"

# The API, metrics and liveness under the prefix.
st=$(c -H "Authorization: Bearer $TOKEN" "$U/streamlag/api/v1/events/consumer-lag")
is "$st:$(jq -c '[.streams["events:chat"].lag, .total_lag, .stream_count]' "$STATE/body")" "200:[123,168,3]" \
	"/streamlag/api/v1/events/consumer-lag with a token"
is "$(header Content-Type):$(header Cache-Control)" "application/json:no-store" "... JSON, no-store"
st=$(c -H "Authorization: Bearer $TOKEN" "$U/streamlag/metrics")
is "$st:$(grep -c '^event_consumer_lag{stream="events:chat",consumer_group="signalr-consumers"} 123$' "$STATE/body")" "200:1" \
	"/streamlag/metrics from loopback with a token"
is "$(c "$U/streamlag/healthz"):$(body)" '200:{"status":"ok"}' "/streamlag/healthz without a token"
is "$(c "$U/streamlag/_auth")" 404 "the auth subrequest's location is internal"

# Refusals made by nginx's auth offload, in streamlag's own shape.  They
# are nginx's: streamlag logs them on /auth/verify, never on the API path.
verify_before=$(grep -c 'path="/auth/verify"' "$STATE/streamlag.log")
st=$(c "$U/streamlag/api/v1/events/health")
is "$st:$(body)" '401:{"error":"Missing bearer token","code":"unauthorized"}' "no token: 401, streamlag's body"
is "$(header Content-Type):$(header Cache-Control)" "application/json:no-store" "... JSON, no-store"
is "$(header WWW-Authenticate)" 'Bearer realm="streamlag"' "... one WWW-Authenticate, streamlag's"
is "$(header X-Content-Type-Options)" nosniff "... nosniff"
st=$(c -H "Authorization: Bearer ${TOKEN%?}x" "$U/streamlag/api/v1/events/health")
is "$st:$(body)" '401:{"error":"Invalid or expired token","code":"invalid_token"}' "bad signature: 401 invalid_token"
is "$(header WWW-Authenticate)" 'Bearer realm="streamlag", error="invalid_token"' "... with error=\"invalid_token\""
st=$(c -H "Authorization: Bearer $NOSCOPE" "$U/streamlag/api/v1/events/health")
is "$st:$(body)" '403:{"error":"Token lacks the required scope","code":"insufficient_scope"}' "no scope: 403 insufficient_scope"
is "$(header WWW-Authenticate):$(header Cache-Control)" 'Bearer realm="streamlag", error="insufficient_scope":no-store' \
	"... with error=\"insufficient_scope\", no-store"
st=$(c "$U/streamlag/metrics")
is "$st:$(body)" '401:{"error":"Missing bearer token","code":"unauthorized"}' "/streamlag/metrics without a token: 401, streamlag's body"
verify_after=$(grep -c 'path="/auth/verify"' "$STATE/streamlag.log")
is "$((verify_after - verify_before))" 4 "the four refusals were the auth subrequest's"
is "$(grep -c 'path="/api/v1/events/health" status=40' "$STATE/streamlag.log")" 0 "... none reached the API"

# limit_req: a burst far beyond a dashboard's polling (120 at once, the
# burst allows 40) answers 429, as JSON.
mkdir -p "$STATE/burst"
curl -s --parallel --parallel-max 60 --no-progress-meter -H "Authorization: Bearer $TOKEN" \
	-o "$STATE/burst/#1" -w '%{http_code} %{filename_effective}\n' \
	"$U/streamlag/api/v1/events/health#[1-120]" >"$STATE/burst.codes" 2>/dev/null
like "$(grep -c '^429 ' "$STATE/burst.codes")" '^[1-9]' "120 requests at once: the excess answers 429"
like "$(grep -c '^200 ' "$STATE/burst.codes")" '^[1-9]' "... and the first ones were served"
is "$(grep '^429 ' "$STATE/burst.codes" | while read -r _ f; do cat "$f"; echo; done | sort -u)" \
	'{"error":"Too many requests","code":"rate_limited"}' "... every 429 with streamlag's error shape"

# The dashboard, signed in under /streamlag/, in headless Chromium.
if [ -x /usr/bin/chromium ] && command -v node >/dev/null && [ -d "$SL_ROOT/node_modules/playwright-core" ]; then
	lag() { echo $(( $(R XLEN "$1") - $(R XPENDING "$1" signalr-consumers | head -1) )); }
	export DROPIN_URL="$U/streamlag/" DROPIN_TOKEN=$TOKEN
	DROPIN_EXPECT=$(jq -cn --arg c "$(lag events:chat)" --arg t "$(lag events:ticket)" --arg r "$(lag events:remote)" \
		'{"events:chat":$c, "events:ticket":$t, "events:remote":$r}')
	export DROPIN_EXPECT
	# The limit_req burst above drains (10 r/s) before the page polls.
	sl_wait_for 10 "the rate limit to drain" curl -fs -o /dev/null \
		-H "Authorization: Bearer $TOKEN" "$U/streamlag/api/v1/events/health"
	(cd "$SL_ROOT" && node tests/e2e/dropin.test.mjs) >"$STATE/e2e.out" 2>&1
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok 0 "browser: ${line#ok - }" ;;
		"not ok - "*) ok 1 "browser: ${line#not ok - }" ;;
		*) echo "# ${line#\# }" ;;
		esac
	done <"$STATE/e2e.out"
	is "$rc" 0 "the browser test exits 0"
else
	echo "# skipped the browser part: chromium, node or playwright-core (npm ci) missing"
fi

# streamlag gone: nginx's 502 in the same shape.
sl_stop_pid "$SL_SERVE_PID" 10
st=$(c "$U/streamlag/healthz")
is "$st:$(body)" '502:{"error":"streamlag is not reachable","code":"upstream_unavailable"}' "streamlag stopped: 502 as JSON"
is "$(header Content-Type)" application/json "... application/json"

done_testing
