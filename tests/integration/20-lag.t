#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# consumer-lag, health and streams through `streamlag get`, against a real
# redis-server holding the seed's example and the states around it.
. "$(dirname "$0")/common.sh"

seeded_redis

get() { "$SL_BIN" get "$@"; }
# Values that move with the clock are checked apart.
noidle='del(.. | .idle_ms?, .time_lag_ms?, .oldest_pending_ms?)'

# Expected values from the data written above.
chat_len=$(R XLEN events:chat); ticket_len=$(R XLEN events:ticket)
remote_len=$(R XLEN events:remote)
# Delivered per consumer, as sl_seed_example reads them.
chat_i1=50 chat_i2=27 ticket_i1=55 remote_i1=10
chat_read=$((chat_i1 + chat_i2))
chat_lag=$((chat_len - chat_read)); ticket_lag=$((ticket_len - ticket_i1))
remote_lag=$((remote_len - remote_i1))
total=$((chat_lag + ticket_lag + remote_lag))
is "$chat_lag/$ticket_lag/$remote_lag/$total" "123/45/0/168" "the seed's example was built"

expected=$(cat <<JSON
{"streams":{
 "events:chat":{"lag":$chat_lag,"consumers":["instance-1","instance-2"],"group":"signalr-consumers","lag_exact":true,"lag_max":$chat_lag,"pending":$chat_read,"entries_read":$chat_read,"trimmed_unread":0,"status":"degraded",
  "consumer_details":[{"name":"instance-1","pending":$chat_i1,"inactive_ms":null},{"name":"instance-2","pending":$chat_i2,"inactive_ms":null}]},
 "events:ticket":{"lag":$ticket_lag,"consumers":["instance-1"],"group":"signalr-consumers","lag_exact":true,"lag_max":$ticket_lag,"pending":$ticket_i1,"entries_read":$ticket_i1,"trimmed_unread":0,"status":"healthy",
  "consumer_details":[{"name":"instance-1","pending":$ticket_i1,"inactive_ms":null}]},
 "events:remote":{"lag":$remote_lag,"consumers":["instance-1"],"group":"signalr-consumers","lag_exact":true,"lag_max":$remote_lag,"pending":$remote_i1,"entries_read":$remote_i1,"trimmed_unread":0,"status":"healthy",
  "consumer_details":[{"name":"instance-1","pending":$remote_i1,"inactive_ms":null}]}},
 "total_lag":$total,"stream_count":3,"consumer_group":"signalr-consumers"}
JSON
)
body=$(get /api/v1/events/consumer-lag); rc=$?
is "$rc" 0 "consumer-lag exits 0"
json_is "$(jq -c "$noidle" <<<"$body")" "$expected" "consumer-lag body (times aside)"
# time_lag_ms: age of the first undelivered entry, by Redis's clock; the
# entries were written moments ago, so it lies between 0 and a minute.
is "$(jq -c '[.streams[] | .time_lag_ms | type]' <<<"$body")" '["number","number","number"]' "time_lag_ms is a number"
is "$(jq '.streams["events:remote"].time_lag_ms' <<<"$body")" 0 "time_lag_ms is 0 when nothing is left"
ok "$(jq -e '[.streams["events:chat", "events:ticket"] | .time_lag_ms, .oldest_pending_ms] | all(. >= 0 and . < 60000)' <<<"$body" >/dev/null; echo $?)" \
	"time_lag_ms and oldest_pending_ms are ages in ms"
is "$(jq '[.. | .idle_ms? | select(. != null) | select(type == "number" and . >= 0 and . == floor)] | length' <<<"$body")" 4 \
	"idle_ms is a non-negative integer for each of the 4 consumers"

health=$(get /api/v1/events/health); rc=$?
json_is "$health" "{\"status\":\"degraded\",\"redis_connected\":true,\"transport_mode\":\"http\",\"streams\":{\"healthy\":2,\"degraded\":1,\"unhealthy\":0,\"stalled\":0,\"no_group\":0},\"max_lag\":$chat_lag,\"total_lag\":$total,\"consumer_group\":\"signalr-consumers\"}" \
	"health body"
is "$rc" 0 "health: degraded is 2xx"
for v in true yes TRUE 1 on; do
	is "$(EVENT_TRANSPORT_USE_REDIS_STREAMS=$v get /api/v1/events/health | jq -r .transport_mode)" \
		redis_streams "transport_mode with EVENT_TRANSPORT_USE_REDIS_STREAMS=$v"
done
is "$(EVENT_TRANSPORT_USE_REDIS_STREAMS=false get /api/v1/events/health | jq -r .transport_mode)" \
	http "transport_mode with EVENT_TRANSPORT_USE_REDIS_STREAMS=false"

# streams: each field against what Redis itself says.
streams=$(get /api/v1/events/streams)
for s in events:chat events:ticket events:remote; do
	info=$(R XINFO STREAM "$s")
	field() { awk -v f="$1" 'prev == f { print; exit } { prev = $0 }' <<<"$info"; }
	first=$(R XRANGE "$s" - + COUNT 1 | head -1)
	last=$(R XREVRANGE "$s" + - COUNT 1 | head -1)
	want=$(jq -cn --arg n "$s" --argjson len "$(R XLEN "$s")" --arg f "$first" \
		--arg l "$last" --arg g "$(field last-generated-id)" \
		--argjson a "$(field entries-added)" --arg m "$(field max-deleted-entry-id)" \
		--arg r "$(field recorded-first-entry-id)" \
		'{name:$n,length:$len,groups:1,first_entry_id:$f,last_entry_id:$l,
		  last_generated_id:$g,entries_added:$a,max_deleted_entry_id:$m,
		  recorded_first_entry_id:$r,group_names:["signalr-consumers"]}')
	got=$(jq -c --arg n "$s" '.streams[] | select(.name == $n) | del(.last_entry_age_ms)' <<<"$streams")
	json_is "$got" "$want" "streams: $s matches XINFO STREAM"
done
age=$(jq '.streams[0].last_entry_age_ms' <<<"$streams")
ok "$( (( age >= 0 && age < 600000 )); echo $?)" "last_entry_age_ms is an age in ms ($age)"

# ?stream= selects, in order; ?group= asks for another group.
json_is "$(get '/api/v1/events/consumer-lag?stream=events:remote,events:ticket' | jq -c '[(.streams | keys_unsorted), .total_lag, .stream_count]')" \
	'[["events:remote","events:ticket"],45,2]' "?stream= selects streams in order"
json_is "$(get '/api/v1/events/consumer-lag?group=audit' | jq -c "[.streams[\"events:chat\"], .consumer_group]")" \
	'[{"lag":0,"consumers":[],"group":"audit","lag_exact":true,"pending":0,"status":"no_group"},"audit"]' \
	"?group= names another group (missing here: no_group)"
out=$(get '/api/v1/events/consumer-lag?stream=events:secret'); rc=$?
is "$rc:$out" '1:{"error":"stream: \"events:secret\" is not a monitored stream","code":"bad_query"}' \
	"?stream= outside the monitored list is a 400"

# NOGROUP (lag 0, counted), a missing stream (lag -1, not counted), a nil lag
# after XGROUP SETID (never read as 0), in one request beside a good stream.
R XADD events:nogroup '*' f v >/dev/null
for i in $(seq 20); do echo "XADD events:setid * f $i"; done | R >/dev/null
R XGROUP CREATE events:setid signalr-consumers 0 >/dev/null
R XREADGROUP GROUP signalr-consumers c1 COUNT 5 STREAMS events:setid '>' >/dev/null
mid=$(R XRANGE events:setid - + COUNT 10 | awk 'NR % 3 == 1' | tail -1)
R XGROUP SETID events:setid signalr-consumers "$mid" >/dev/null
is "$(R XINFO GROUPS events:setid | awk 'prev == "lag" { print; exit } { prev = $0 }')" "" \
	"Redis reports a nil lag after SETID"
body=$(STREAMLAG_STREAMS=events:remote,events:nogroup,events:missing,events:setid get /api/v1/events/consumer-lag)
json_is "$(jq -c '.streams["events:nogroup"]' <<<"$body")" \
	'{"lag":0,"consumers":[],"group":"signalr-consumers","lag_exact":true,"pending":0,"status":"no_group"}' "NOGROUP: lag 0, no consumers"
json_is "$(jq -c '.streams["events:missing"]' <<<"$body")" \
	'{"lag":-1,"consumers":[],"error":"no such key","group":"signalr-consumers","status":"error"}' "missing stream: lag -1 with error"
left=$(R XRANGE events:setid "($mid" + | awk 'NR % 3 == 1' | wc -l)
json_is "$(jq -c '.streams["events:setid"] | [.lag, .lag_exact, .consumers, .status]' <<<"$body")" \
	"[$left,true,[\"c1\"],\"healthy\"]" "nil lag: counted ($left entries after the SETID id), never 0"
json_is "$(jq -c '[.total_lag, .stream_count, .streams["events:remote"].lag]' <<<"$body")" \
	"[$left,3,0]" "totals count only streams answered without error"
health=$(STREAMLAG_STREAMS=events:remote,events:nogroup,events:missing,events:setid get /api/v1/events/health); rc=$?
json_is "$(jq -c '[.status, .streams]' <<<"$health")" \
	'["unhealthy",{"healthy":2,"degraded":0,"unhealthy":1,"stalled":0,"no_group":1}]' \
	"health counts failed streams unhealthy and NOGROUP as no_group"
is "$rc" 1 "health: unhealthy is non-2xx (503)"

# Names are bytes: a quote, a newline and an invalid UTF-8 byte.
printf 'XADD "we\\"ird\\nname\\xff" * f v\nXGROUP CREATE "we\\"ird\\nname\\xff" signalr-consumers 0\n' | R >/dev/null
weird=$'we"ird\nname\xff'
body=$(STREAMLAG_STREAMS="events:remote,$weird" get /api/v1/events/consumer-lag); rc=$?
is "$rc" 0 "hostile stream name answered"
ok "$(jq -e . >/dev/null <<<"$body"; echo $?)" "hostile stream name: the body is valid JSON"
is "$(jq -c --arg k $'we"ird\nname\xef\xbf\xbd' '[.streams[$k].lag, .stream_count]' <<<"$body")" "[1,2]" \
	"the invalid byte became U+FFFD in the key; lag counted"
ok "$(LC_ALL=C grep -q $'\xff' <<<"$body"; [ $? -eq 1 ]; echo $?)" "no invalid UTF-8 byte in the body"

# Redis unreachable: get still answers, with 503 and the seed shape.
sl_stop_redis "$PORT"
body=$(get /api/v1/events/consumer-lag); rc=$?
is "$rc" 1 "Redis down: exit 1"
json_is "$body" '{"streams":{"events:chat":{"lag":-1,"consumers":[],"error":"Cannot connect to Redis","group":"signalr-consumers","status":"error"},"events:ticket":{"lag":-1,"consumers":[],"error":"Cannot connect to Redis","group":"signalr-consumers","status":"error"},"events:remote":{"lag":-1,"consumers":[],"error":"Cannot connect to Redis","group":"signalr-consumers","status":"error"}},"total_lag":0,"stream_count":0,"consumer_group":"signalr-consumers","error":"Cannot connect to Redis","code":"redis_unavailable"}' \
	"Redis down: consumer-lag keeps the seed shape"

done_testing
