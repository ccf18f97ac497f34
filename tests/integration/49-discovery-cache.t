#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Discovery (STREAMLAG_STREAM_PATTERN) cached in memory shared by the
# workers for STREAMLAG_DISCOVERY_TTL_MS: within it no request scans again,
# whichever worker answers; after it the new set is seen.
. "$(dirname "$0")/common.sh"

seeded_redis --empty
for i in 1 2 3; do R XADD "dc:s$i" 1-0 f v >/dev/null; done
export STREAMLAG_STREAM_PATTERN='dc:*' STREAMLAG_DISCOVERY_TTL_MS=8000
serve_behind_nginx --workers 2
token=$("$SL_BIN" token)
n_streams() {
	curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$HTTP/api/v1/events/consumer-lag" |
		jq '.streams | length'
}
scans() { R INFO commandstats | tr -d '\r' | awk -F'[:=,]' '$1 == "cmdstat_scan" { print $3 }'; }

# The first request scans and caches; the cache is written after t0, so it
# cannot expire before t0 + TTL.
t0=$(sl_now_ms)
is "$(n_streams)" 3 "the three dc:* streams"
s0=$(scans)
R XADD dc:s4 1-0 f v >/dev/null
got=""
for i in 1 2 3 4 5 6; do got="$got$(n_streams)"; done
s1=$(scans)
is "$got/$((s1 - s0))" "333333/0" "six requests within the TTL, both workers: the cached set, no SCAN"
four() { [ "$(n_streams)" = 4 ]; }
sl_wait_for 40 "the fourth stream after the TTL" four
ok $? "after the TTL the new set: four streams"
waited=$(( $(sl_now_ms) - t0 ))
[ "$waited" -ge 8000 ]
ok $? "not before the TTL: seen ${waited} ms after the first request (>= 8000)"
is "$(n_streams)" 4 "and it stays four"
# The targets list reads the cached set and never scans: no group in the
# dc:* streams, so four streams each without the configured group.
xg() { R INFO commandstats | tr -d '\r' | awk -F'[:=,]' '$1 == "cmdstat_xinfo|groups" { print $3 }'; }
s2=$(scans) x2=$(xg)
T=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$HTTP/api/v1/events/targets")
is "$(jq -c '.targets[0] | [.up, .status, .groups, .round_trips]' <<<"$T"):$(( $(scans) - s2 )):$(( $(xg) - x2 ))" \
	'[true,"degraded",0,1]:0:4' "/targets: the cached four streams (4 XINFO GROUPS) in one round trip (no group: degraded), no SCAN"
out=$(STREAMLAG_DISCOVERY_TTL_MS=x "$SL_BIN" get /healthz 2>&1); rc=$?
like "$rc:$out" '^2:streamlag: STREAMLAG_DISCOVERY_TTL_MS: expected an integer from 0 to 3600000' \
	"a bad TTL: one line naming the variable, exit 2"

done_testing
