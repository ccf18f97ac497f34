#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# rediss-sentinel://: a master, its replica and one sentinel, all TLS only
# (lib/sentinel.sh with SL_SENTINEL_TLS, certificates of lib/tlscerts.sh,
# tls-replication yes).  streamlag asks the sentinel over TLS, then reads
# the master it names over TLS: the seed's lags by get and behind nginx;
# `streamlag check` through it; the wrong CA refused at the sentinel with
# "unknown CA".
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/lib/tlscerts.sh"
. "$(dirname "$0")/lib/sentinel.sh"

D=$STATE/tls
mkdir -p "$D"
sl_tls_certs "$D" || exit 1
# shellcheck disable=SC2034  # lib/sentinel.sh reads it
SL_SENTINEL_TLS=$D
sl_sentinel_setup "$STATE" 1 || exit 1
M=$SL_MASTER_PORT
R=$SL_REPLICA_PORT
S=${SL_SENTINEL_PORTS[0]}
sl_seed_commands | sl_node_cli "$M" >/dev/null
export REDIS_URL=$SL_SENTINEL_URL STREAMLAG_REDIS_TLS_CA_FILE=$D/ca.crt
export STREAMLAG_STALL_MS=3600000 STREAMLAG_REDIS_TIMEOUT_MS=5000

like "$REDIS_URL" "^rediss-sentinel://.*@127\.0\.0\.1:$S/mymaster/0$" \
	"the URL names the sentinel's TLS port"

numbers='[.total_lag, .streams["events:chat"].lag, .streams["events:ticket"].lag, .streams["events:remote"].lag, .streams["events:chat"].pending]'
out=$("$SL_BIN" get /api/v1/events/consumer-lag 2>"$STATE/get.err"); rc=$?
is "$rc|$(jq -c "$numbers" <<<"$out")|$(cat "$STATE/get.err")" \
	"0|[168,123,45,0,77]|" "get through rediss-sentinel://: the seed's lags, nothing on stderr"
is "$(jq -c '.replica_lag | keys' <<<"$out")" "[\"127.0.0.1:$R\"]" \
	"replica_lag names the replica the sentinel lists"

# serve behind nginx: each worker asks the sentinel and reads the master
# over TLS.
serve_behind_nginx --workers 2
TOKEN=$("$SL_BIN" token --ttl 600)
code=$(curl -s -o "$STATE/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	"http://127.0.0.1:$HTTP/api/v1/events/consumer-lag")
is "$code|$(jq -c "$numbers" "$STATE/body")" "200|[168,123,45,0,77]" \
	"behind nginx through rediss-sentinel://: 200, the seed's lags"

out=$("$SL_BIN" check 2>&1)
like "$out" "✔ sentinel 127\.0\.0\.1:$S: names 127\.0\.0\.1:$M" "check: the sentinel, over TLS"
like "$out" "✔ read from: 127\.0\.0\.1:$M \(STREAMLAG_READ_FROM=master\)" "check: the master is read"
like "$out" "✔ TLS: TLSv1\.3 [^;]*; certificate CN=server, serial 1001, [^;]*; verified for 127\.0\.0\.1" \
	"check: the node read over TLS, its certificate verified"
like "$out" "✔ command XPENDING: allowed" "check: the commands on the node read"

err=$(STREAMLAG_REDIS_TLS_CA_FILE=$D/other-ca.crt "$SL_BIN" get /api/v1/events/consumer-lag 2>&1 >/dev/null); rc=$?
ok "$((rc == 0))" "the wrong CA: a non-zero exit ($rc)"
like "$err" "^streamlag: redis 127\.0\.0\.1:$S: no sentinel gave a master for \"mymaster\": 127\.0\.0\.1:$S: TLS handshake with 127\.0\.0\.1: unknown CA: " \
	"the wrong CA: \"unknown CA\" from the sentinel's handshake"

done_testing
