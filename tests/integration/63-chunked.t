#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# consumer-lag goes out a chunk of 2048 streams at a time, each freed once
# written: across the chunk boundary the answer is whole and exact, a
# name made unique in the second chunk knows the keys of the first,
# ?group=* keeps each stream's groups together, and a budget spent in the
# second chunk names every stream it left out.
. "$(dirname "$0")/common.sh"

N=2100
PORT=$(sl_free_port)
sl_start_redis "$STATE" "$PORT" || exit 1
export REDIS_URL
REDIS_URL=$(sl_redis_url "$PORT")
R() { redis-cli -p "$PORT" "$@"; }
# ch:<U+1F600>:0001..2100 with i % 5 + 1 entries, group g at 0 (that many
# behind) and idle at $ (caught up); then "ch:<U+FFFD>" (valid UTF-8, 1
# behind) sorts first and "ch:\xff" (invalid: its key becomes "ch:<U+FFFD>",
# taken: it is answered as "ch:<U+FFFD><U+FFFD>#2") sorts last, in the second chunk, 2 behind.
R EVAL "local function mk(k, n)
	for j = 1, n do redis.call('XADD', k, '*', 'f', 'v') end
	redis.call('XGROUP', 'CREATE', k, 'g', '0')
	redis.call('XGROUP', 'CREATE', k, 'idle', '\$')
end
for i = 1, tonumber(ARGV[1]) do
	mk(string.format('ch:' .. string.char(240, 159, 152, 128) .. ':%04d', i), i % 5 + 1)
end
mk('ch:' .. string.char(239, 191, 189), 1)
mk('ch:' .. string.char(255), 2)
return 1" 0 "$N" >/dev/null
is "$(R DBSIZE)" "$((N + 2))" "$((N + 2)) streams"
unset STREAMLAG_STREAMS
export STREAMLAG_STREAM_PATTERN='ch:*' EVENT_TRANSPORT_CONSUMER_GROUP=g
want_total=$(( (N / 5) * 15 + 1 + 2 ))
serve_behind_nginx --workers 1
BASE="http://127.0.0.1:$HTTP"
TOKEN=$("$SL_BIN" token)
get() { curl -s -o "$STATE/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$@"; }

is "$(get "$BASE/api/v1/events/consumer-lag")" 200 "consumer-lag over $((N + 2)) streams, two chunks"
is "$(jq -c '[.stream_count, (.streams | length), .total_lag, .partial]' "$STATE/body")" \
	"[$((N + 2)),$((N + 2)),$want_total,null]" "whole: every stream once, total lag $want_total"
is "$(jq -c '[.streams["ch:\ufffd"].lag, .streams["ch:\ufffd\ufffd#2"].lag]' "$STATE/body")" "[1,2]" \
	"the name made unique in the second chunk steps aside for the first chunk's key"
is "$(jq -r '[.streams | to_entries[] | select(.key | test("^ch:\ud83d\ude00:")) | .value.lag] | add' "$STATE/body")" \
	"$(( (N / 5) * 15 ))" "every lag exact on both sides of the boundary"
first=$(jq -r '.streams | keys_unsorted[0]' "$STATE/body")
is "$first" "ch:"$'\xef\xbf\xbd' "in Redis's byte order: the valid U+FFFD name first"

is "$(get "$BASE/api/v1/events/consumer-lag?group=*")" 200 "?group=* over both chunks"
is "$(jq -c '[.stream_count, .total_lag, ([.streams[] | .groups | keys | join(",")] | unique)]' "$STATE/body")" \
	"[$((N + 2)),$want_total,[\"g,idle\"]]" "each stream holds its two groups, the total is the same"

# A budget that ends in the second chunk: the groups that are caught up
# cost three commands a stream (XINFO GROUPS, CONSUMERS, XLEN) and no
# follow-up, and each chunk one TIME.
sl_stop_pid "$SL_NGINX_PID"
sl_stop_pid "$MASTER"
export EVENT_TRANSPORT_CONSUMER_GROUP=idle STREAMLAG_REQUEST_MAX_COMMANDS=6207
serve_behind_nginx --workers 1
BASE="http://127.0.0.1:$HTTP"
is "$(get "$BASE/api/v1/events/consumer-lag")" 200 "a budget of 6207 commands: the first chunk (6146 with INFO) and 20 streams more"
R --scan --pattern 'ch:*' | LC_ALL=C sort >"$STATE/names"
jq -r '.streams | keys_unsorted[]' "$STATE/body" >"$STATE/answered"
answered=$(wc -l <"$STATE/answered")
ok "$( (( answered > 2048 && answered < N + 2 )); echo $?)" \
	"$answered streams answered: the second chunk was begun, not ended"
is "$(jq -c '[.partial, .code, .not_covered_count + (.streams | length), .stream_count == (.streams | length)]' "$STATE/body")" \
	"[true,\"budget_exceeded\",$((N + 2)),true]" "partial and budget_exceeded; answered and not covered make every stream"
is "$(jq -r '.not_covered[0]' "$STATE/body")" "$(sed -n "$((answered + 1))p" "$STATE/names" | iconv -f UTF-8 -t UTF-8 -c)" \
	"the first stream not covered is the one after the last answered"
is "$(head -n "$answered" "$STATE/names" | tail -n 1 | iconv -f UTF-8 -t UTF-8 -c)" \
	"$(tail -n 1 "$STATE/answered")" "the answered ones are the first, in order"

done_testing
