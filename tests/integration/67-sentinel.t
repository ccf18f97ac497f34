#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# streamlag through Redis Sentinel (REDIS_URL=redis-sentinel://...): a
# master, its replica and one sentinel (lib/sentinel.sh, down-after 1 s).
# The seed's bodies through Sentinel, by get and behind nginx; replica
# reads that send nothing to the master; SENTINEL FAILOVER while a client
# keeps asking (an entry written to the new master alone shows within 5 s,
# no request waits past its deadline); the master killed outright (the
# sentinel promotes the replica, the answers follow); prefer-replica with
# no replica left falls back to the master and /metrics says so.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/lib/sentinel.sh"

sl_sentinel_setup "$STATE" 1 || exit 1
M=$SL_MASTER_PORT
R=$SL_REPLICA_PORT
sl_seed_example "$M"
repl_offset() {
	redis-cli -p "$1" INFO replication | tr -d '\r' | sed -n "s/^$2://p"
}
# caught_up MASTER REPLICA: the replica has all the master wrote.
caught_up() {
	[ "$(repl_offset "$1" master_repl_offset)" = "$(repl_offset "$2" slave_repl_offset)" ]
}
sl_wait_for 10 "the replica to catch up" caught_up "$M" "$R"
export STREAMLAG_STALL_MS=3600000 STREAMLAG_REQUEST_TIMEOUT_MS=3000
DIRECT=$(sl_redis_url "$M")
export REDIS_URL=$SL_SENTINEL_URL
noage='del(.. | .idle_ms?, .last_entry_age_ms?, .time_lag_ms?, .oldest_pending_ms?) | del(.replica_lag)'

# The seed's bodies, the same through Sentinel as from the master itself.
for path in consumer-lag health streams; do
	body=$("$SL_BIN" get "/api/v1/events/$path"); rc=$?
	is "$rc" 0 "$path through Sentinel: exit 0"
	json_is "$(jq -c "$noage" <<<"$body")" \
		"$(REDIS_URL=$DIRECT "$SL_BIN" get "/api/v1/events/$path" | jq -c "$noage")" \
		"$path through Sentinel: the master's own body"
done
is "$("$SL_BIN" get /api/v1/events/consumer-lag | jq -c '[.total_lag, .streams["events:chat"].lag, .streams["events:ticket"].lag, .streams["events:remote"].lag]')" \
	"[168,123,45,0]" "the seed's lags through Sentinel"
is "$("$SL_BIN" get /api/v1/events/consumer-lag | jq -c '.replica_lag | keys')" \
	"[\"127.0.0.1:$R\"]" "replica_lag names the replica"
is "$("$SL_BIN" get /api/v1/events/consumer-lag | jq -r ".replica_lag[\"127.0.0.1:$R\"] | type")" \
	"number" "... with its offset lag in bytes"
like "$(REDIS_URL=${SL_SENTINEL_URL/mymaster/nosuch} "$SL_BIN" get /api/v1/events/health 2>&1 >/dev/null)" \
	'no master named \\"nosuch\\"|no master named "nosuch"' "an unknown master name: the sentinel says so"

# streamlag check: the sentinel, the master it names, the replica, the
# node read; then that node's own steps.
S=${SL_SENTINEL_PORTS[0]}
out=$("$SL_BIN" check 2>&1)
like "$out" "✔ sentinel 127.0.0.1:$S: names 127.0.0.1:$M" "check: what the sentinel names"
like "$out" "✔ master: \"mymaster\" at 127.0.0.1:$M, confirmed by its ROLE; 1 of 1 sentinels name it" \
	"check: the master they agree on"
like "$out" "✔ replica 127.0.0.1:$R: up, [0-9]+ bytes of replication behind the master" "check: the replica"
like "$out" "✔ read from: 127.0.0.1:$M \(STREAMLAG_READ_FROM=master\)" "check: the master is read"
like "$out" "✔ command XPENDING: allowed" "check: the commands on the node read"
like "$(STREAMLAG_READ_FROM=replica "$SL_BIN" check 2>&1)" "✔ read from: 127.0.0.1:$R \(STREAMLAG_READ_FROM=replica\)" \
	"check: READ_FROM=replica reads the replica"

# Replica reads: INFO commandstats on the master shows none of streamlag's
# reads; the answers are the same.
cmdstats() {
	redis-cli -p "$1" INFO commandstats | tr -d '\r' |
		grep -E '^cmdstat_(xinfo|xrange|xrevrange|xpending|scan|xlen|time)' | cut -d: -f1 | sort | paste -sd, -
}
redis-cli -p "$M" CONFIG RESETSTAT >/dev/null
redis-cli -p "$R" CONFIG RESETSTAT >/dev/null
export STREAMLAG_READ_FROM=replica
# A replica's XINFO GROUPS has entries-read and lag nil where the master
# has numbers (Redis 7.0: XREADGROUP reaches replicas as XCLAIM and XGROUP
# SETID, without ENTRIESREAD); streamlag then counts the lag itself, and
# entries_read is what the node says.
field() { awk -v f="$3" 'prev == f { print; exit } { prev = $0 }' < <(redis-cli -p "$1" XINFO GROUPS "$2"); }
is "$(field "$M" events:chat entries-read)/$(field "$R" events:chat entries-read)/$(field "$R" events:chat lag)" \
	"77//" "the replica's own XINFO GROUPS: entries-read and lag nil"
noread="$noage | del(.. | .entries_read?)"
body=$("$SL_BIN" get /api/v1/events/consumer-lag)
json_is "$(jq -c "$noread" <<<"$body")" \
	"$(REDIS_URL=$DIRECT STREAMLAG_READ_FROM=master "$SL_BIN" get /api/v1/events/consumer-lag | jq -c "$noread")" \
	"READ_FROM=replica: the same consumer-lag, entries_read aside"
is "$(jq -c '[.streams[].entries_read]' <<<"$body")" "[null,null,null]" \
	"READ_FROM=replica: entries_read as the replica says (null)"
redis-cli -p "$M" CONFIG RESETSTAT >/dev/null
"$SL_BIN" get /api/v1/events/consumer-lag >/dev/null
"$SL_BIN" get /api/v1/events/streams >/dev/null
STREAMLAG_STREAM_PATTERN='events:*' "$SL_BIN" get /api/v1/events/consumer-lag >"$STATE/scan.json"
is "$(jq -r .total_lag "$STATE/scan.json")" 168 "READ_FROM=replica: discovery SCANs the replica"
is "$(cmdstats "$M")" "" "READ_FROM=replica: no XINFO, XRANGE, XPENDING, SCAN or TIME on the master"
like "$(cmdstats "$R")" "cmdstat_scan" "... they all went to the replica (SCAN)"
like "$(cmdstats "$R")" "cmdstat_xinfo" "... (XINFO)"
unset STREAMLAG_READ_FROM

# serve behind nginx, a client asking every 100 ms during a failover.
serve_behind_nginx --workers 2
BASE="http://127.0.0.1:$HTTP/api/v1/events"
TOKEN=$("$SL_BIN" token --ttl 600)
req() {	# req PATH: "status time_ms chat_lag"
	curl -s -o "$STATE/body" -w '%{http_code} %{time_total}' \
		-H "Authorization: Bearer $TOKEN" "$BASE/$1" |
		awk '{ printf "%s %d ", $1, $2 * 1000 }'
	jq -r '.streams["events:chat"].lag // "none"' "$STATE/body" 2>/dev/null || echo none
}
read -r st _ lag < <(req consumer-lag)
is "$st:$lag" "200:123" "behind nginx through Sentinel: 200, the seed's lag"
json_is "$(jq -c "$noage" "$STATE/body")" \
	"$(REDIS_URL=$DIRECT "$SL_BIN" get /api/v1/events/consumer-lag | jq -c "$noage")" \
	"behind nginx: the master's own body"

# client LOG: asks until $STATE/stop exists, one line per answer.
client() {
	while [ ! -e "$STATE/stop" ]; do
		echo "$(sl_now_ms) $(req consumer-lag)" >>"$1"
		sleep 0.1
	done
}
# seen_lag LOG LAG: an answer with that chat lag after the log's mark.
seen_lag() { awk -v l="$2" '$4 == l { f = 1 } END { exit !f }' "$1"; }

client "$STATE/failover.log" &
CLIENT=$!
is "$(sl_sentinel_failover "${SL_SENTINEL_PORTS[0]}")" "OK" "SENTINEL FAILOVER accepted"
sl_wait_sentinels_agree "$R" 30
ok $? "the sentinel names the old replica"
sl_wait_for 20 "the old master to follow the new one" sl_replica_synced "$M"
# An entry written to the new master alone (the old one gets it only by
# replication from it, now that it is a replica).
t0=$(sl_now_ms)
redis-cli -p "$R" XADD events:chat '*' event after-failover >/dev/null
sl_wait_for 5 "the new entry in the answers" seen_lag "$STATE/failover.log" 124
ok $? "an entry written to the new master shows within 5 s ($(( $(sl_now_ms) - t0 )) ms)"
touch "$STATE/stop"; wait "$CLIENT"; rm -f "$STATE/stop"
slow=$(awk '$3 > 3500' "$STATE/failover.log" | wc -l)
is "$slow" 0 "no request waited past the 3 s request deadline ($(wc -l <"$STATE/failover.log") asked, slowest $(sort -k3n "$STATE/failover.log" | tail -1 | cut -d' ' -f3) ms)"
is "$(awk '$2 != 200 && $2 != 503' "$STATE/failover.log" | wc -l)" 0 "every answer during the failover is 200 or 503"
# The old master, now a replica, has the entry too (replicated): the move
# is logged at a worker's next ROLE check (STREAMLAG_ROLE_CHECK_MS), which
# a request makes; so each poll asks once.
moved() {
	req consumer-lag >/dev/null
	grep -q "event=sentinel_master master=127.0.0.1:$R previous=127.0.0.1:$M" "$STATE/streamlag.log"
}
sl_wait_for 10 "a worker's move to the new master in the log" moved
ok $? "the workers moved to the new master (logged)"
read -r st _ lag < <(req consumer-lag)
is "$st:$lag" "200:124" "after the failover: 200 with the new entry"

# The master (now $R) killed outright: the sentinel promotes $M.  First $M
# must have the entry: replication is asynchronous, and a replica whose
# link is up may not have been sent it yet (Redis 7.0 starts the stream
# after a full sync at the replica's next REPLCONF ACK, up to a second
# later); killed before, $R would take it along.
sl_wait_for 10 "$M to have the entry written to $R" caught_up "$R" "$M"
ok $? "the old master, now a replica, has the new entry before the kill"
client "$STATE/kill.log" &
CLIENT=$!
kill -KILL "$(pgrep -f -- "-server 127.0.0.1:$R\$")" 2>/dev/null ||
	redis-cli -p "$R" SHUTDOWN NOSAVE >/dev/null 2>&1
sl_wait_sentinels_agree "$M" 30
ok $? "the sentinel promotes the replica after the master was killed"
sl_wait_for 10 "$M to be master" test "$(sl_role "$M")" = master
# The entry written once $M takes writes (a refused XADD adds nothing; its
# reply is then not an id, and it is tried again).
add_after_kill() {
	[[ $(redis-cli -p "$M" XADD events:chat '*' event after-kill) =~ ^[0-9]+-[0-9]+$ ]]
}
sl_wait_for 10 "$M to take the new entry" add_after_kill || exit 1
t0=$(sl_now_ms)
# 10 s: a killed master costs its connection's timeout and back-off before
# the sentinels are asked again, on top of the promotion.
sl_wait_for 10 "the new entry in the answers" seen_lag "$STATE/kill.log" 125
ok $? "the answers follow the promoted replica within 10 s ($(( $(sl_now_ms) - t0 )) ms)"
touch "$STATE/stop"; wait "$CLIENT"; rm -f "$STATE/stop"
is "$(awk '$3 > 3500' "$STATE/kill.log" | wc -l)" 0 \
	"no request waited past the deadline while the master was dead ($(wc -l <"$STATE/kill.log") asked)"

# prefer-replica with no replica up: the master answers, and /metrics says
# which node (and role) answered and that the replica is down.
out=$(STREAMLAG_READ_FROM=prefer-replica "$SL_BIN" get /api/v1/events/consumer-lag)
is "$(jq -r '.streams["events:chat"].lag' <<<"$out")" 125 "prefer-replica, replica gone: the master answers"
is "$(STREAMLAG_READ_FROM=replica "$SL_BIN" get /api/v1/events/consumer-lag 2>/dev/null | jq -r .code)" \
	redis_unavailable "replica, replica gone: 503, nothing read from the master"
metrics=$(STREAMLAG_READ_FROM=prefer-replica "$SL_BIN" get /metrics)
like "$metrics" "streamlag_redis_node_up\\{node=\"127.0.0.1:$M\",role=\"master\"\\} 1" \
	"prefer-replica fallback: node_up{role=master} 1"
like "$metrics" "streamlag_redis_node_up\\{node=\"127.0.0.1:$R\",role=\"replica\"\\} 0" \
	"... and the replica's node_up 0"

done_testing
