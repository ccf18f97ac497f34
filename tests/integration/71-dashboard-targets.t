#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The dashboard with two named targets (two redis-servers) in headless
# Chromium: the strip of verdicts, switching targets with the selector and
# the strip, and a target frozen with SIGSTOP shown down while the chosen
# one keeps updating.  tests/e2e/targets.test.mjs does the browsing.
. "$(dirname "$0")/common.sh"

skip_all() { echo "1..0 # SKIP $*"; exit 0; }
[ -x /usr/bin/chromium ] ||
	skip_all "Debian's chromium is not installed (/usr/bin/chromium; tests/deps.sh installs it)"
command -v node >/dev/null && command -v npm >/dev/null ||
	skip_all "node and npm are not installed; the browser test needs them"
lock=$SL_ROOT/package-lock.json stamp=$SL_ROOT/node_modules/.package-lock.json
if [ ! -d "$SL_ROOT/node_modules/playwright-core" ] || [ "$lock" -nt "$stamp" ]; then
	(cd "$SL_ROOT" && npm ci --no-audit --no-fund --silent --prefer-offline) >"$STATE/npm.log" 2>&1 || {
		echo "Bail out! npm ci failed:"
		sed 's/^/# /' "$STATE/npm.log" | tail -5
		exit 1
	}
fi
CSP=$(sed -n 's/^add_header Content-Security-Policy "\(.*\)" always;$/\1/p' \
	"$SL_ROOT/nginx/snippets/security-headers.conf")
[ -n "$CSP" ] || { echo "Bail out! no Content-Security-Policy in nginx/snippets/security-headers.conf"; exit 1; }

# alpha: the seed's example; beta: orders:eu, 30 added, 12 read by billing.
mkdir -p "$STATE/alpha" "$STATE/beta"
APORT=$(sl_free_port)
sl_start_redis "$STATE/alpha" "$APORT" || exit 1
sl_seed_example "$APORT"
BPORT=$(sl_free_port)
sl_start_redis "$STATE/beta" "$BPORT" || exit 1
BETA_PID=$SL_REDIS_PID
{
	echo "XGROUP CREATE orders:eu billing 0 MKSTREAM"
	for i in $(seq 1 30); do echo "XADD orders:eu * n $i"; done
	echo "XREADGROUP GROUP billing w1 COUNT 12 STREAMS orders:eu >"
} | redis-cli -p "$BPORT" >/dev/null
export STREAMLAG_TARGETS=alpha,beta
export STREAMLAG_TARGET_ALPHA_REDIS_URL STREAMLAG_TARGET_BETA_REDIS_URL
STREAMLAG_TARGET_ALPHA_REDIS_URL=$(sl_redis_url "$APORT")
STREAMLAG_TARGET_BETA_REDIS_URL=$(sl_redis_url "$BPORT")
export STREAMLAG_TARGET_BETA_STREAMS=orders:eu STREAMLAG_TARGET_BETA_CONSUMER_GROUP=billing
export STREAMLAG_REDIS_TIMEOUT_MS=300
serve_behind_nginx --workers 2

export DASH_URL="http://127.0.0.1:$HTTP" DASH_CSP=$CSP
DASH_TOKEN=$("$SL_BIN" token --sub dashboard-test --ttl 600)
export DASH_TOKEN DASH_FREEZE_FILE="$STATE/freeze"
export DASH_SCREENSHOT="$SL_ROOT/build/dashboard-targets.png"
mkdir -p "$SL_ROOT/build"

# beta is frozen when the browser test asks for it (the file appears);
# thawed at the end so that the teardown can stop it.
( until [ -e "$STATE/freeze" ]; do sleep 0.1; done; kill -STOP "$BETA_PID" ) &
FREEZER=$!
(cd "$SL_ROOT" && node tests/e2e/targets.test.mjs) >"$STATE/e2e.out" 2>&1
rc=$?
kill "$FREEZER" 2>/dev/null; wait "$FREEZER" 2>/dev/null
kill -CONT "$BETA_PID"
while IFS= read -r line; do
	case $line in
	"ok - "*) ok 0 "${line#ok - }" ;;
	"not ok - "*) ok 1 "${line#not ok - }" ;;
	*) echo "# ${line#\# }" ;;
	esac
done <"$STATE/e2e.out"
is "$rc" 0 "the browser test exits 0"

done_testing
