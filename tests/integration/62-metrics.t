#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# GET /metrics through nginx: bearer auth, the exposition content type,
# values from the data written here, request counters summed over the
# workers and kept across a worker's restart, and Redis down answered 200.
. "$(dirname "$0")/common.sh"

seeded_redis
export STREAMLAG_REDIS_TIMEOUT_MS=300
serve_behind_nginx --workers 2
BASE="http://127.0.0.1:$HTTP"
TOKEN=$("$SL_BIN" token --sub prometheus --ttl 600)
scrape() { curl -s -o "$STATE/m.txt" -D "$STATE/h.txt" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE/metrics"; }
metric() { awk -v m="$1" 'index($0, m " ") == 1 { print $NF }' "$STATE/m.txt"; }

is "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/metrics")" 401 "/metrics needs the bearer token"
is "$(scrape)" 200 "/metrics with a token"
like "$(tr -d '\r' <"$STATE/h.txt" | grep -i '^content-type:')" 'text/plain; version=0.0.4; charset=utf-8' "exposition format 0.0.4"
is "$(metric 'event_consumer_lag{stream="events:chat",consumer_group="signalr-consumers"}')" 123 "seed gauge event_consumer_lag"
is "$(metric 'event_queue_depth{stream="events:ticket"}')" "$(R XLEN events:ticket)" "seed gauge event_queue_depth is XLEN"
is "$(metric 'streamlag_group_pending{stream="events:chat",group="signalr-consumers"}')" 77 "pending"
is "$(metric 'streamlag_consumer_pending{stream="events:chat",group="signalr-consumers",consumer="instance-2"}')" 27 "per-consumer pending"
is "$(metric 'streamlag_redis_up')" 1 "streamlag_redis_up 1"
if command -v promtool >/dev/null; then
	promtool check metrics <"$STATE/m.txt" >"$STATE/promtool.out" 2>&1
	ok $? "promtool check metrics on the live scrape"
fi

# "Unknown" means the same in both renderers: the JSON's null oldest-pending
# age is an absent sample, never a 0 (a group with nothing pending has none).
redis-cli -p "$PORT" XGROUP CREATE events:remote quiet '$' >/dev/null
json=$(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/events/consumer-lag?stream=events:remote&group=quiet")
scrape >/dev/null
is "$(metric 'streamlag_group_pending{stream="events:remote",group="quiet"}')" 0 "a group with nothing pending"
is "$(grep -c '^streamlag_group_oldest_pending_seconds{stream="events:remote",group="quiet"}' "$STATE/m.txt")" 0 \
	"has no oldest-pending sample (it was 0)"
is "$(jq -c '.streams["events:remote"].oldest_pending_ms' <<<"$json")" null "and null in the JSON"
age=$(metric 'streamlag_group_oldest_pending_seconds{stream="events:chat",group="signalr-consumers"}')
ok "$(awk -v a="$age" 'BEGIN { exit !(a != "" && a >= 0 && a < 600) }'; echo $?)" \
	"77 pending on events:chat: the oldest is $age s old"

# Requests counted across both workers: exactly the ones made here.
before=$(metric 'streamlag_http_requests_total{route="consumer_lag",code="200"}')
before=${before:-0}
for i in $(seq 20); do
	curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/events/consumer-lag"
done
scrape >/dev/null
is "$(metric 'streamlag_http_requests_total{route="consumer_lag",code="200"}')" $((before + 20)) \
	"20 requests over 2 workers: counted 20 more"
served=$(grep -c 'path="/api/v1/events/consumer-lag" status=200' "$STATE/streamlag.log")
workers_used=$(grep 'path="/api/v1/events/consumer-lag" status=200' "$STATE/streamlag.log" | grep -o 'pid=[0-9]*' | sort -u | wc -l)
# Which worker takes a connection is the kernel's choice; say how it went.
echo "# the $served requests were answered by $workers_used worker(s)"

# A worker's restart keeps the totals, and counts as a restart.
kill -KILL "$(pgrep -P "$MASTER" | head -1)"
two() { [ "$(pgrep -P "$MASTER" | wc -l)" -eq 2 ]; }
sl_wait_for 10 "the replacement" two
scrape >/dev/null
is "$(metric 'streamlag_http_requests_total{route="consumer_lag",code="200"}')" $((before + 20)) \
	"the counters survive a worker's restart"
is "$(metric 'streamlag_worker_restarts_total')" 1 "streamlag_worker_restarts_total 1"
is "$(metric 'streamlag_http_request_duration_seconds_count{route="consumer_lag"}')" \
	"$(metric 'streamlag_http_requests_total{route="consumer_lag",code="200"}')" \
	"histogram count equals the requests"

# Redis down: 200 at once, streamlag_redis_up 0.
sl_stop_redis "$PORT"
t0=$(sl_now_ms)
st=$(scrape)
ms=$(( $(sl_now_ms) - t0 ))
is "$st:$(metric 'streamlag_redis_up')" "200:0" "Redis down: 200 with streamlag_redis_up 0"
ok "$( (( ms < 2000 )); echo $?)" "Redis down: answered in ${ms} ms"
ok "$(grep -q '^streamlag_group_lag{' "$STATE/m.txt"; [ $? -eq 1 ]; echo $?)" "Redis down: no stale lag samples"
ok "$( (( $(metric 'streamlag_redis_errors_total') >= 1 )); echo $?)" "Redis errors counted"

done_testing
