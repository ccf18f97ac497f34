#!/usr/bin/env bash
# The dashboard in headless Chromium (playwright-core from the npm lockfile,
# Debian's chromium) against a real stack: Redis with the seed's example and
# 1000 more streams, streamlag serve, nginx serving www/ and the API.
. "$(dirname "$0")/common.sh"

if [ ! -x /usr/bin/chromium ]; then
	echo "1..0 # SKIP /usr/bin/chromium is not installed (Debian package chromium)"
	exit 0
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "1..0 # SKIP node and npm are needed for the browser test"
	exit 0
fi
if [ ! -d "$SL_ROOT/node_modules/playwright-core" ]; then
	(cd "$SL_ROOT" && npm ci --no-audit --no-fund --silent) >"$STATE/npm.log" 2>&1 ||
		{ echo "Bail out! npm ci failed: $(tail -3 "$STATE/npm.log")"; exit 1; }
fi

PORT=$(sl_free_port)
HTTP=$(sl_free_port)
SOCK="$STATE/streamlag.sock"
sl_start_redis "$STATE" "$PORT" || exit 1
sl_seed_example "$PORT"
redis-cli -p "$PORT" EVAL "for i = 1, 1000 do local k = 'events:bulk:' .. i
	redis.call('XADD', k, '*', 'f', 'v')
	redis.call('XGROUP', 'CREATE', k, 'signalr-consumers', '0') end return 1" 0 >/dev/null
export REDIS_URL=$(sl_redis_url "$PORT") STREAMLAG_STREAM_PATTERN='events:*'
sl_start_serve "$SOCK" --workers 2 || exit 1
sl_start_nginx "$STATE" "$HTTP" "$SOCK" || exit 1

# Expected lags from the data: entries minus those delivered.
R() { redis-cli -p "$PORT" "$@"; }
chat=$(( $(R XLEN events:chat) - 77 )); ticket=$(( $(R XLEN events:ticket) - 55 ))
remote=$(( $(R XLEN events:remote) - 10 ))
# events:ticket pushed to the degraded threshold plus one.
push=$(( 100 - ticket + 1 ))

export DASH_URL="http://127.0.0.1:$HTTP" DASH_TOKEN=$("$SL_BIN" token --ttl 600)
export DASH_REDIS_PORT=$PORT DASH_PUSH_STREAM=events:ticket DASH_PUSH_N=$push
export DASH_EXPECT="{\"events:chat\":$chat,\"events:ticket\":$ticket,\"events:remote\":$remote}"
export DASH_SCREENSHOT="$SL_ROOT/build/dashboard.png"
mkdir -p "$SL_ROOT/build"
while IFS= read -r line; do
	case $line in
	"ok - "*) ok 0 "${line#ok - }" ;;
	"not ok - "*) ok 1 "${line#not ok - }" ;;
	*) echo "$line" ;;
	esac
done < <(cd "$SL_ROOT" && node tests/e2e/dashboard.mjs 2>&1)
[ -s "$DASH_SCREENSHOT" ]
ok $? "a screenshot was saved ($DASH_SCREENSHOT)"

done_testing
