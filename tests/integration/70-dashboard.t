#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The dashboard in headless Chromium (Debian's chromium, driven by
# playwright-core installed from the npm lockfile) against a real stack:
# Redis with the seed's example and 1000 more streams, streamlag serve, and
# nginx serving www/ and the API.  tests/e2e/dashboard.test.mjs does the
# browsing; its checks are numbered here.
. "$(dirname "$0")/common.sh"

skip_all() { echo "1..0 # SKIP $*"; exit 0; }
[ -x /usr/bin/chromium ] ||
	skip_all "Debian's chromium is not installed (/usr/bin/chromium; tests/deps.sh installs it)"
command -v node >/dev/null && command -v npm >/dev/null ||
	skip_all "node and npm are not installed; the browser test needs them"

# playwright-core as package-lock.json pins it: npm ci when node_modules is
# missing or older than the lockfile.
lock=$SL_ROOT/package-lock.json stamp=$SL_ROOT/node_modules/.package-lock.json
if [ ! -d "$SL_ROOT/node_modules/playwright-core" ] || [ "$lock" -nt "$stamp" ]; then
	(cd "$SL_ROOT" && npm ci --no-audit --no-fund --silent --prefer-offline) >"$STATE/npm.log" 2>&1 || {
		echo "Bail out! npm ci failed:"
		sed 's/^/# /' "$STATE/npm.log" | tail -5
		exit 1
	}
fi

# The Content-Security-Policy production nginx sends; the page is tested
# under it.
CSP=$(sed -n 's/^add_header Content-Security-Policy "\(.*\)" always;$/\1/p' \
	"$SL_ROOT/nginx/snippets/security-headers.conf")
[ -n "$CSP" ] || { echo "Bail out! no Content-Security-Policy in nginx/snippets/security-headers.conf"; exit 1; }

seeded_redis
# 1000 more streams, load:0001 to load:1000: 1 + i % 7 entries each, one of
# them delivered to a worker, so lag i % 7 and one pending.
R EVAL "for i = 1, 1000 do
	local k = string.format('load:%04d', i)
	for j = 1, 1 + i % 7 do redis.call('XADD', k, '*', 'seq', j) end
	redis.call('XGROUP', 'CREATE', k, 'signalr-consumers', '0')
	redis.call('XREADGROUP', 'GROUP', 'signalr-consumers', 'worker-' .. (i % 4 + 1), 'COUNT', 1, 'STREAMS', k, '>')
end return 1" 0 >/dev/null
# events:capped: after an XDEL of an entry the group has not read, Redis has
# no lag figure; streamlag counts CAP entries per request, and 200 times
# more are left, so the lag shown stays a lower bound (at least CAP, growing
# by CAP with each request) for the whole test.
CAP=500
R EVAL "for i = 1, $((CAP * 200)) do redis.call('XADD', KEYS[1], '*', 'seq', i) end
	redis.call('XGROUP', 'CREATE', KEYS[1], 'signalr-consumers', '0')
	redis.call('XREADGROUP', 'GROUP', 'signalr-consumers', 'instance-1', 'COUNT', 1, 'STREAMS', KEYS[1], '>')
	local tenth = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 10)
	redis.call('XDEL', KEYS[1], tenth[10][1]) return 1" 1 events:capped >/dev/null
# events:lonely has no group; events:missing does not exist.
R XADD events:lonely '*' seq 1 >/dev/null

STREAMS=events:chat,events:ticket,events:remote,events:capped,events:lonely,events:missing
STREAMS+=$(printf ',load:%04d' $(seq 1 1000))
DEGRADED=100
# Unhealthy far above what events:capped's lower bound reaches in the test.
export STREAMLAG_STREAMS=$STREAMS STREAMLAG_LAG_COUNT_CAP=$CAP STREAMLAG_LAG_DEGRADED=$DEGRADED \
	STREAMLAG_LAG_UNHEALTHY=$((CAP * 1000)) \
	STREAMLAG_STALL_MS=600000 STREAMLAG_JWT_SCOPE=lag:read
serve_behind_nginx --workers 2

# What the rows must say, from the data written above: nothing was
# acknowledged, so lag = entries - pending.
lag() { echo $(( $(R XLEN "$1") - $(R XPENDING "$1" signalr-consumers | head -1) )); }
ticket=$(lag events:ticket)
EXPECT=$(jq -cn --arg chat "$(lag events:chat)" --arg ticket "$ticket" --arg remote "$(lag events:remote)" \
	--arg l1 "$(lag load:0001)" --arg l6 "$(lag load:0006)" --arg capped "≥ $CAP" \
	'{"events:chat":$chat, "events:ticket":$ticket, "events:remote":$remote,
	  "load:0001":$l1, "load:0006":$l6, "events:capped":$capped, "events:missing":"—"}')
STATUS='{"events:chat":"degraded","events:ticket":"healthy","events:remote":"healthy",
	"events:capped":"degraded","events:lonely":"no group","events:missing":"error"}'
ERRORS='{"events:missing":"no such key"}'

export DASH_URL="http://127.0.0.1:$HTTP" DASH_REDIS_PORT=$PORT DASH_CSP=$CSP
DASH_TOKEN=$("$SL_BIN" token --sub dashboard-test --ttl 600 --scope lag:read)
# streamlag token adds the configured scope: this one is made by hand.
DASH_TOKEN_NOSCOPE=$(jwt '{"alg":"HS256","typ":"JWT"}' \
	"{\"sub\":\"dashboard-test\",\"exp\":$(( $(date +%s) + 600 ))}" "$STREAMLAG_JWT_SECRET")
# The banner must say what /health says (events:missing makes it unhealthy).
DASH_HEALTH=$(curl -s -H "Authorization: Bearer $DASH_TOKEN" "$DASH_URL/api/v1/events/health?group=*" | jq -r .status)
export DASH_TOKEN DASH_TOKEN_NOSCOPE DASH_HEALTH DASH_EXPECT=$EXPECT DASH_STATUS=$STATUS DASH_ERRORS=$ERRORS
# events:ticket pushed to 5 past the degraded threshold.
export DASH_PUSH_STREAM=events:ticket DASH_PUSH_N=$(( DEGRADED - ticket + 5 ))
export DASH_ROWS=$(( 6 + 1000 ))
export DASH_SCREENSHOT="$SL_ROOT/build/dashboard.png"
mkdir -p "$SL_ROOT/build"
rm -f "$DASH_SCREENSHOT"

(cd "$SL_ROOT" && node tests/e2e/dashboard.test.mjs) >"$STATE/e2e.out" 2>&1
rc=$?
while IFS= read -r line; do
	case $line in
	"ok - "*) ok 0 "${line#ok - }" ;;
	"not ok - "*) ok 1 "${line#not ok - }" ;;
	*) echo "# ${line#\# }" ;;
	esac
done <"$STATE/e2e.out"
is "$rc" 0 "the browser test exits 0"
[ -s "$DASH_SCREENSHOT" ]
ok $? "a screenshot was saved ($DASH_SCREENSHOT)"

done_testing
