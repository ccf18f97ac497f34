#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# What one consumer-lag request costs Redis, from INFO stats and INFO
# commandstats deltas (never timings), on 1 KB entries: bytes grow with the
# number of groups, not with their lag.  Requests go to `streamlag serve`
# behind nginx, so what one request learns serves the next.
. "$(dirname "$0")/common.sh"

seeded_redis --empty
export STREAMLAG_STREAMS=cost:a,cost:b,cost:c,cost:d,cost:e,cost:f,cost:g,cost:h
kb=$(head -c 1024 /dev/zero | tr '\0' 'x')
# fill NAME N: N entries of 1 KB with ids 1-0 .. N-0.
fill() { for ((i = 1; i <= $2; i++)); do echo "XADD $1 $i-0 f $kb"; done | R >/dev/null; }
# trim_error S READ MAXLEN MORE WANT WHAT: the group on S reads READ
# entries, S is trimmed to MAXLEN, the group reads MORE; asserts that
# Redis's lag / XLEN is WANT.
trim_error() {
	R XGROUP CREATE "$1" signalr-consumers 0 >/dev/null
	R XREADGROUP GROUP signalr-consumers c1 COUNT "$2" STREAMS "$1" '>' >/dev/null
	R XTRIM "$1" MAXLEN "$3" >/dev/null
	R XREADGROUP GROUP signalr-consumers c1 COUNT "$4" STREAMS "$1" '>' >/dev/null
	is "$(R XINFO GROUPS "$1" | awk 'p == "lag" { print } { p = $0 }')/$(R XLEN "$1")" "$5" "$6"
}

# a: 10 000 behind, never trimmed.  b: 40 groups, 5 000 behind each.
# c: the trim error: 10 000 added, 1 000 read, trimmed to 8 000 (1 000
# unread entries gone), 2 000 more read: Redis says 7 000, 6 000 are left.
# d: never trimmed, 100 of 1 000 read: entries-read 100 beside Redis's 900.
fill cost:a 10000
R XGROUP CREATE cost:a signalr-consumers 0 >/dev/null
fill cost:b 5000
for ((g = 0; g < 40; g++)); do R XGROUP CREATE cost:b "g$g" 0 >/dev/null; done
fill cost:d 1000
R XGROUP CREATE cost:d signalr-consumers 0 >/dev/null
R XREADGROUP GROUP signalr-consumers c1 COUNT 100 STREAMS cost:d '>' >/dev/null
fill cost:c 10000
trim_error cost:c 1000 8000 2000 7000/8000 "the trim error is there: Redis says 7000, 6000 left of 8000"

serve_behind_nginx --workers 2
token=$("$SL_BIN" token)
get() { curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$HTTP$1"; }
stat() { R INFO "$1" | tr -d '\r' | awk -F'[:=,]' -v k="$2" '$1 == k { print $2 }'; }
out_bytes() { stat stats total_net_output_bytes; }
# calls: "xrange xlen xinfo|stream xpending" calls so far (INFO
# commandstats).
calls() {
	R INFO commandstats | tr -d '\r' | awk -F'[:=,]' '
		{ n[$1] = $3 }
		END { printf "%d %d %d %d\n", n["cmdstat_xrange"], n["cmdstat_xlen"], n["cmdstat_xinfo|stream"], n["cmdstat_xpending"] }'
}
# The INFO replies that measure are Redis output too: their own share.
b0=$(out_bytes); b1=$(out_bytes); self=$((b1 - b0))
# cost PATH: sets BODY, BYTES (Redis output for the request), and the calls
# it made of XRANGE (XR), XLEN (XL), XINFO STREAM (XS) and XPENDING (XP).
cost() {
	local b0 b1 c0 c1
	c0=($(calls)); b0=$(out_bytes)
	BODY=$(get "$1")
	b1=$(out_bytes); c1=($(calls))
	BYTES=$((b1 - b0 - self))
	XR=$((c1[0] - c0[0])); XL=$((c1[1] - c0[1])); XS=$((c1[2] - c0[2]))
	XP=$((c1[3] - c0[3]))
}

cost '/api/v1/events/consumer-lag?stream=cost:a'
is "$(jq -c '.streams["cost:a"] | [.lag, .lag_exact, .lag_max]' <<<"$BODY")" '[10000,true,10000]' \
	"a group 10 000 behind on a never-trimmed stream: exact"
ok "$( ((BYTES <= 4096)); echo $?)" "and Redis sent $BYTES bytes for it (<= 4 KB)"
is "$XR" 1 "one XRANGE (COUNT 1), the first undelivered entry"
is "$XL/$XS" 1/0 "Redis's own estimate (entries-read nil): XLEN, no XINFO STREAM"

# Redis 7.0's lag is checked: XLEN 1000 = entries-read 100 + lag 900, so
# nothing was ever removed and the figure is exact without the stream's
# facts (XINFO STREAM, its first and last entries).
cost '/api/v1/events/consumer-lag?stream=cost:d'
is "$(jq -c '.streams["cost:d"] | [.lag, .lag_exact, .lag_max, .trimmed_unread, .entries_read]' <<<"$BODY")" \
	'[900,true,900,0,100]' "a never-trimmed group 900 behind, entries-read 100: exact"
is "$XL/$XS/$XR" 1/0/1 "XLEN settles it: no XINFO STREAM, one XRANGE (COUNT 1)"
ok "$( ((BYTES <= 4096)); echo $?)" "and Redis sent $BYTES bytes for it (<= 4 KB)"

cost '/api/v1/events/consumer-lag?stream=cost:b&group=*'
is "$(jq -c '[.streams["cost:b"].groups[] | select(.lag == 5000 and .lag_exact)] | length' <<<"$BODY")" 40 \
	"?group=*: 40 groups, each 5000 behind, exact"
ok "$( ((BYTES <= 98304)); echo $?)" "and Redis sent $BYTES bytes for them (<= 96 KB)"
is "$XR" 40 "one XRANGE per group"
is "$XL/$XS" 1/0 "one XLEN for the stream's 40 groups, no XINFO STREAM"

# The trim error: counted once (6 000 entries in one step of 10 000), then
# kept; a warm request reads no more than the first undelivered entry.
cost '/api/v1/events/consumer-lag?stream=cost:c'
is "$(jq -c '.streams["cost:c"] | [.lag, .lag_exact, .trimmed_unread]' <<<"$BODY")" '[6000,true,1000]' \
	"trim error: counted once, exact 6000, trimmed_unread 1000"
ok "$( ((BYTES > 6000 * 1024)); echo $?)" "the count read the 6000 entries once ($BYTES bytes)"
is "$XL/$XS" 1/1 "XLEN 8000 is not 3000 + 7000: XINFO STREAM after it"
for i in 1 2 3; do
	cost '/api/v1/events/consumer-lag?stream=cost:c'
	is "$(jq -c '.streams["cost:c"] | [.lag, .lag_exact, .trimmed_unread]' <<<"$BODY")" '[6000,true,1000]' \
		"warm request $i: exact 6000 without a count"
	ok "$( ((BYTES <= 16384)); echo $?)" "warm request $i: Redis sent $BYTES bytes (<= 16 KB)"
	# The first undelivered entry is kept too (lagcache.h): XLEN shows
	# the stream unchanged, so it is not asked again.
	is "$XR/$XL/$XS" 0/1/1 "warm request $i: XLEN, XINFO STREAM, no XRANGE (the first undelivered entry kept)"
done
# The group reads 500 more, 100 are added: still exact without a count.
R XREADGROUP GROUP signalr-consumers c1 COUNT 500 STREAMS cost:c '>' >/dev/null
for ((i = 10001; i <= 10100; i++)); do echo "XADD cost:c $i-0 f $kb"; done | R >/dev/null
cost '/api/v1/events/consumer-lag?stream=cost:c'
is "$(jq -c '.streams["cost:c"] | [.lag, .lag_exact]' <<<"$BODY")" '[5600,true]' \
	"after 500 read and 100 added: 5600, exact, kept"
ok "$( ((BYTES <= 16384)); echo $?)" "and still $BYTES bytes (<= 16 KB)"
is "$XR" 1 "the group moved: its first undelivered entry asked again (one XRANGE)"

# The first undelivered entry kept between requests: asked once, then
# checked by the stream's length beside the same last-delivered-id,
# entries-read and lag; an entry added or removed asks it again.  The time
# lag is Redis's clock (TIME before and after the request) minus the ms of
# the entry it names; the entries are a second apart, so that no other
# entry fits the bounds.  e: 10 entries from 100 s ago, the group 3 in.
rtime() { R TIME | awk 'NR == 1 { s = $1 } NR == 2 { printf "%.0f\n", s * 1000 + int($1 / 1000) }'; }
# spaced NAME MS N READ: N entries a second apart from ms MS (ids MS-0,
# MS+1000-0, ...), the group created at 0 and READ of them read.
spaced() {
	for ((i = 0; i < $3; i++)); do echo "XADD $1 $(($2 + 1000 * i))-0 f v"; done | R >/dev/null
	R XGROUP CREATE "$1" signalr-consumers 0 >/dev/null
	R XREADGROUP GROUP signalr-consumers c1 COUNT "$4" STREAMS "$1" '>' >/dev/null
}
# aged STREAM FIELD MS WHAT: one request of STREAM (cost: XR, XP...); its
# FIELD is the age of the entry of ms MS by Redis's clock.
aged() {
	local t0 t1 age
	t0=$(rtime)
	cost "/api/v1/events/consumer-lag?stream=$1"
	t1=$(rtime)
	age=$(jq ".streams[\"$1\"].$2" <<<"$BODY")
	ok "$( ((age >= t0 - $3 && age <= t1 - $3)); echo $?)" \
		"$4: $2 $age, of entry $3-0 (Redis's clock $t0..$t1)"
}
timed() { aged "$1" time_lag_ms "$2" "$3"; }
E=$(( $(rtime) - 100000 ))
spaced cost:e "$E" 10 3
timed cost:e $((E + 3000)) "first request"
is "$XR/$(jq -c '.streams["cost:e"] | [.lag, .lag_exact]' <<<"$BODY")" '1/[7,true]' \
	"first request: one XRANGE, lag 7"
timed cost:e $((E + 3000)) "second request"
is "$XR/$XL" 0/1 "second request: XLEN unchanged, no XRANGE"
# Trimmed past the group: Redis 7.0 and Valkey 8 keep lag 7, the length
# (5) shows the change.
R XTRIM cost:e MINID "$((E + 5000))-0" >/dev/null
timed cost:e $((E + 5000)) "after XTRIM MINID to the 6th"
is "$XR/$(jq -c '.streams["cost:e"] | [.lag, .lag_exact, .trimmed_unread]' <<<"$BODY")" '1/[5,true,2]' \
	"after the trim: the first entry asked again; lag 5, 2 trimmed unread"
timed cost:e $((E + 5000)) "the request after"
is "$XR" 0 "the request after: kept again"
# The first undelivered entry deleted: one entry fewer shows it.
R XDEL cost:e "$((E + 5000))-0" >/dev/null
timed cost:e $((E + 6000)) "after XDEL of the first undelivered entry"
is "$XR" 1 "after XDEL: asked again"

# A capped stream: as many entries added as trimmed keep the length, and
# the lag (entries-added - entries-read) shows the change.  f: 10 entries
# capped at 10, the group 3 in; 1 added, then 4 more push the 2nd to 5th
# out (the 4th and 5th unread).
F=$((E + 20000))
spaced cost:f "$F" 10 3
get '/api/v1/events/consumer-lag?stream=cost:f' >/dev/null
R XADD cost:f MAXLEN 10 "$((F + 10000))-0" f v >/dev/null
get '/api/v1/events/consumer-lag?stream=cost:f' >/dev/null
for ((i = 11; i <= 14; i++)); do R XADD cost:f MAXLEN 10 "$((F + 1000 * i))-0" f v >/dev/null; done
is "$(R XLEN cost:f)" 10 "cost:f: still 10 entries, from the 6th"
timed cost:f $((F + 5000)) "capped stream, same length"
is "$XR" 1 "capped stream: the first undelivered entry asked (one XRANGE), the lag changed"

# The oldest pending entry kept the same way, by the group's
# last-delivered-id and pending count: g, 6 entries a second apart, 4 read
# and not acknowledged.
G=$((E + 40000))
spaced cost:g "$G" 6 4
# pend MS WHAT N: one request of cost:g; its oldest_pending_ms is that of
# the entry of ms MS, and it asked N XPENDING.
pend() {
	aged cost:g oldest_pending_ms "$1" "$2"
	is "$XP" "$3" "$2: $3 XPENDING"
}
pend "$G" "first request" 1
pend "$G" "second request, nothing changed" 0
R XACK cost:g signalr-consumers "$G-0" >/dev/null
pend $((G + 1000)) "after XACK of the oldest" 1
pend $((G + 1000)) "the request after" 0
R XREADGROUP GROUP signalr-consumers c1 COUNT 1 STREAMS cost:g '>' >/dev/null
pend $((G + 1000)) "after one more read" 1

# The command budget: INFO and TIME, then XINFO GROUPS, CONSUMERS and XLEN
# per stream: 2 + 3 x 6 = 20 commands cover six caught-up streams; 19 leave
# the sixth out, named, and the answer says so.
for ((i = 1; i <= 6; i++)); do
	R XADD "budget:s$i" 1-0 f v >/dev/null
	R XGROUP CREATE "budget:s$i" signalr-consumers '$' >/dev/null
done
six=budget:s1,budget:s2,budget:s3,budget:s4,budget:s5,budget:s6
body=$(STREAMLAG_STREAMS=$six STREAMLAG_REQUEST_MAX_COMMANDS=20 "$SL_BIN" get /api/v1/events/consumer-lag)
is "$(jq -c '[(.streams | length), .partial, .code]' <<<"$body")" '[6,null,null]' \
	"STREAMLAG_REQUEST_MAX_COMMANDS=20 (the limit): six streams, not partial"
body=$(STREAMLAG_STREAMS=$six STREAMLAG_REQUEST_MAX_COMMANDS=19 "$SL_BIN" get /api/v1/events/consumer-lag)
is "$(jq -c '[(.streams | keys), .partial, .code, .not_covered_count, .not_covered, .stream_count]' <<<"$body")" \
	'[["budget:s1","budget:s2","budget:s3","budget:s4","budget:s5"],true,"budget_exceeded",1,["budget:s6"],5]' \
	"19 (the limit - 1): five streams, partial, budget_exceeded, the sixth named"
st=$(STREAMLAG_STREAMS=$six STREAMLAG_REQUEST_MAX_COMMANDS=19 "$SL_BIN" get /api/v1/events/health | jq -r .status)
is "$st" degraded "health of a partial answer is not healthy (every covered group is)"
# The XINFO STREAM after a failed XLEN check counts too.  cost:c now:
# Redis says 6600, 8100 long, 10 100 added, 5600 left.  After three
# caught-up streams, 16 commands (INFO, TIME, XINFO GROUPS, CONSUMERS and
# XLEN of four streams, then XRANGE and XPENDING) leave it out: the bounds
# of Redis's figure.  17 ask it: the bounds of the stream's facts (6600
# less the 2000 removed); the count step would be an eighteenth.
for n in 16 17; do
	body=$(STREAMLAG_STREAMS=budget:s1,budget:s2,budget:s3,cost:c STREAMLAG_REQUEST_MAX_COMMANDS=$n \
		"$SL_BIN" get /api/v1/events/consumer-lag)
	got[$n]=$(jq -c '[.partial, (.streams["cost:c"] | [.lag, .lag_exact, .lag_max])]' <<<"$body")
done
is "${got[16]}/${got[17]}" '[null,[1,false,6600]]/[null,[4600,false,6600]]' \
	"a budget of 16: no XINFO STREAM, Redis's bounds; of 17: the stream's bounds, no count"
# /metrics asks XINFO STREAM, XINFO GROUPS and the configured group's XINFO
# CONSUMERS per stream: 2 + 3 x 6 = 20 cover the six streams at once.
# Where that would leave streams out, the first batch asks no XINFO
# CONSUMERS (2 + 2 x 6 = 14), and the second asks each group's: with 17,
# three groups get theirs.
for n in 20 17; do
	nc[$n]=$(STREAMLAG_STREAMS=$six STREAMLAG_REQUEST_MAX_COMMANDS=$n "$SL_BIN" get /metrics | grep '^streamlag_streams_not_covered ')
done
is "${nc[20]}/${nc[17]}" "streamlag_streams_not_covered 0/streamlag_streams_not_covered 3" \
	"/metrics counts the streams left out"
# /streams asks TIME, then XINFO STREAM and XINFO GROUPS per stream:
# 1 + 2 x 6 = 13 cover the six; 12 cover five and name the sixth, and
# Redis was asked for five streams, no more.
body=$(STREAMLAG_STREAMS=$six STREAMLAG_REQUEST_MAX_COMMANDS=13 "$SL_BIN" get /api/v1/events/streams)
is "$(jq -c '[(.streams | length), .partial, .code]' <<<"$body")" '[6,null,null]' \
	"/streams, STREAMLAG_REQUEST_MAX_COMMANDS=13 (1 + 2 x 6): six streams, not partial"
c0=($(calls))
body=$(STREAMLAG_STREAMS=$six STREAMLAG_REQUEST_MAX_COMMANDS=12 "$SL_BIN" get /api/v1/events/streams)
c1=($(calls))
is "$(jq -c '[(.streams | map(.name)), .partial, .code, .not_covered_count, .not_covered]' <<<"$body")" \
	'[["budget:s1","budget:s2","budget:s3","budget:s4","budget:s5"],true,"budget_exceeded",1,["budget:s6"]]' \
	"/streams, 12: five streams, partial, budget_exceeded, the sixth named"
is "$((c1[2] - c0[2]))" 5 "... and XINFO STREAM asked of the five only"
out=$(STREAMLAG_REQUEST_MAX_COMMANDS=abc "$SL_BIN" get /healthz 2>&1); rc=$?
like "$rc:$out" '^2:streamlag: STREAMLAG_REQUEST_MAX_COMMANDS: ' "a bad budget: one line naming the variable, exit 2"

# ?group=* and /metrics ask the configured group's XINFO CONSUMERS beside
# each stream's XINFO GROUPS.  hint:s1..3 have it and the group "other":
# i + 1 entries, of which c<i> read i and o<i> one.  Batch 1 answers the
# configured group of each, batch 2 the other: 6 XINFO CONSUMERS, each
# group with its own consumer.
for ((i = 1; i <= 3; i++)); do
	{
		for ((j = 1; j <= i + 1; j++)); do echo "XADD hint:s$i $j-0 f v"; done
		echo "XGROUP CREATE hint:s$i signalr-consumers 0"
		echo "XGROUP CREATE hint:s$i other 0"
		echo "XREADGROUP GROUP signalr-consumers c$i COUNT $i STREAMS hint:s$i >"
		echo "XREADGROUP GROUP other o$i COUNT 1 STREAMS hint:s$i >"
	} | R >/dev/null
done
consumers_calls() { R INFO commandstats | tr -d '\r' | awk -F'[:=,]' '$1 == "cmdstat_xinfo|consumers" { print $3 + 0 }'; }
# errors CODE: the error replies of that code so far (INFO errorstats).
errors() { R INFO errorstats | tr -d '\r' | awk -F'[:=,]' -v k="errorstat_$1" '$1 == k { n = $3 } END { print n + 0 }'; }
# one_group PREFIX N GROUP: streams PREFIXs1..N, one entry and GROUP each.
one_group() {
	for ((i = 1; i <= $2; i++)); do
		echo "XADD $1s$i 1-0 f v"
		echo "XGROUP CREATE $1s$i $3 0"
	done | R >/dev/null
}
c0=$(consumers_calls)
body=$(STREAMLAG_STREAMS=hint:s1,hint:s2,hint:s3 "$SL_BIN" get '/api/v1/events/consumer-lag?group=*')
c1=$(consumers_calls)
is "$(jq -c '[.streams[] | .groups[] | [.group, (.consumer_details[] | [.name, .pending])]]' <<<"$body")" \
	'[["other",["o1",1]],["signalr-consumers",["c1",1]],["other",["o2",1]],["signalr-consumers",["c2",2]],["other",["o3",1]],["signalr-consumers",["c3",3]]]' \
	"?group=*: each group's own consumers, the configured group's from batch 1"
is "$((c1 - c0))" 6 "... from 6 XINFO CONSUMERS: one per group"
# A stream without the configured group answers that XINFO CONSUMERS with a
# NOGROUP error, counted by Redis (INFO errorstats).  A connection stops
# asking once a chunk (2048 streams) found it in fewer than 9 of 10: over
# 4500 streams with only the group "other", the first chunk asks, and the
# next ones, built once its first batch is read, do not.
one_group other: 4500 other
e0=$(errors NOGROUP)
out=$(STREAMLAG_STREAM_PATTERN='other:*' STREAMLAG_DISCOVERY_MAX=10000 "$SL_BIN" get /metrics)
e1=$(errors NOGROUP)
is "$(grep -c '^streamlag_group_lag{stream="other:s[0-9]*",group="other"} 1$' <<<"$out")" 4500 \
	"/metrics over 4500 streams without the configured group: every group's lag"
is "$((e1 - e0))" 2048 "... and 2048 NOGROUP errors: only the first chunk asked"
# Refused by the ACL (a user without XINFO CONSUMERS), it is not asked
# again on that connection: over 2100 streams that have the configured
# group, ?group=*'s first chunk asks it in both batches (2048 x 2), the
# second only in its second batch (52): 4148 NOPERM errors, not 4200.
one_group own: 2100 signalr-consumers
R ACL SETUSER nocons on '>nocons-pw' '~*' '+@all' '-xinfo|consumers' >/dev/null
p0=$(errors NOPERM)
out=$(REDIS_URL="redis://nocons:nocons-pw@127.0.0.1:$PORT" STREAMLAG_STREAM_PATTERN='own:*' \
	STREAMLAG_DISCOVERY_MAX=10000 "$SL_BIN" get '/api/v1/events/consumer-lag?group=*' 2>/dev/null)
p1=$(errors NOPERM)
is "$((p1 - p0))" 4148 "XINFO CONSUMERS refused: asked once per group after the first refusal (4148 NOPERM)"
is "$(jq '[.streams[] | select(.error | test("^NOPERM .*xinfo.consumers"))] | length' <<<"$out")" 2100 \
	"... and each of the 2100 streams names the refusal"

# The byte budget, checked between batches: 400 streams 1 behind on 1 KB
# entries; their XINFO replies alone pass 64 KiB, so no follow-up is sent
# and every group says why.
for ((i = 1; i <= 400; i++)); do
	echo "XADD bytes:s$i 1-0 f $kb"
	echo "XGROUP CREATE bytes:s$i signalr-consumers 0"
done | R >/dev/null
body=$(STREAMLAG_STREAM_PATTERN='bytes:*' STREAMLAG_REQUEST_MAX_BYTES=65536 "$SL_BIN" get /api/v1/events/consumer-lag)
is "$(jq -c '[.partial, .code, .not_covered_count, (.not_covered | length), ([.streams[] | select(.error == "request budget exceeded")] | length)]' <<<"$body")" \
	'[true,"budget_exceeded",400,100,400]' \
	"STREAMLAG_REQUEST_MAX_BYTES=65536: partial, 400 counted, 100 named, each says why"
body=$(STREAMLAG_STREAM_PATTERN='bytes:*' "$SL_BIN" get /api/v1/events/consumer-lag)
is "$(jq -c '[.partial, .total_lag, .stream_count]' <<<"$body")" '[null,400,400]' \
	"the default 64 MiB covers them: 400 streams, 1 behind each"
# /streams reads a chunk at a time, the first of 32 streams; each of these
# streams' XINFO STREAM holds its 1 KB entry twice (first and last), so the
# first chunk alone passes 64 KiB: 32 streams answered, 368 named or
# counted, the rest never asked.
body=$(STREAMLAG_STREAM_PATTERN='bytes:*' STREAMLAG_REQUEST_MAX_BYTES=65536 "$SL_BIN" get /api/v1/events/streams)
is "$(jq -c '[(.streams | length), ([.streams[] | select(.length == 1 and .groups == 1)] | length), .partial, .code, .not_covered_count, (.not_covered | length), .not_covered[0]]' <<<"$body")" \
	"[32,32,true,\"budget_exceeded\",368,100,\"$(R --scan --pattern 'bytes:*' | LC_ALL=C sort | sed -n 33p)\"]" \
	"/streams, STREAMLAG_REQUEST_MAX_BYTES=65536: the first chunk's 32 streams, 368 left out, from the 33rd name on"
body=$(STREAMLAG_STREAM_PATTERN='bytes:*' "$SL_BIN" get /api/v1/events/streams)
is "$(jq -c '[(.streams | length), .partial]' <<<"$body")" '[400,null]' \
	"/streams, the default 64 MiB: all 400, in chunks of 32, 64, 128 and 176"

# A count on 100 KB entries goes in steps of at most 8 MiB
# (SL_COUNT_STEP_BYTES at the stream's entry size), not in one XRANGE of
# every entry.  cost:h: 150 entries added, 10 read, trimmed to 100 (40
# unread entries gone), 10 more read: Redis says 130, 90 are left, 9 MB
# of them.
big=$(head -c 102400 /dev/zero | tr '\0' 'y')
for ((i = 1; i <= 150; i++)); do echo "XADD cost:h $i-0 f $big"; done | R >/dev/null
trim_error cost:h 10 100 10 130/100 "cost:h in the trim error: Redis says 130, 90 left of 100"
cost '/api/v1/events/consumer-lag?stream=cost:h'
h1=$(jq -c '.streams["cost:h"] | [.lag_exact, .lag <= 90, .lag_max >= 90]' <<<"$BODY")
is "$h1" '[false,true,true]' "first request: a step of the count, not exact, 90 within its bounds"
ok "$( ((BYTES > 8000000 && BYTES <= 8 * 1048576 + 3 * 110000)); echo $?)" \
	"... and Redis sent $BYTES bytes: 8 MiB of entries, the stream's first, last and next entry, not the 9 MB of all 90"
b1=$BYTES
cost '/api/v1/events/consumer-lag?stream=cost:h'
is "$(jq -c '.streams["cost:h"] | [.lag, .lag_exact, .trimmed_unread]' <<<"$BODY")" '[90,true,40]' \
	"second request: the count's last step, exact 90, trimmed_unread 40"
ok "$( ((b1 + BYTES >= 90 * 102400 && b1 + BYTES < 96 * 102400)); echo $?)" \
	"the two sent each of the 90 entries once, and no more than 5 more (first, last, next): $((b1 + BYTES)) bytes"

# Names longer than 4096 bytes: shortened while parsed, marked, unique.
long=$(head -c 100000 /dev/zero | tr '\0' n)
R XADD "long:${long}1" 1-0 f v >/dev/null
R XADD "long:${long}2" 1-0 f v >/dev/null
keys=$(STREAMLAG_STREAM_PATTERN='long:*' "$SL_BIN" get /api/v1/events/consumer-lag | jq -r '.streams | keys[]')
is "$(awk '{ print length($0), substr($0, 4065, 4) }' <<<"$keys" | sort -u | tr '\n' ' ')" "4084 ...~ " \
	"two 100 005-byte names: 4064 bytes kept, then ...~ and 16 hex digits"
is "$(sort -u <<<"$keys" | wc -l)" 2 "and they stay two distinct keys"

done_testing
