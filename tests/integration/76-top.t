#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# streamlag top in a real terminal (tmux): the seed's rows, a refresh that
# turns a stream degraded, sorting, filtering, pausing, resizing, colours
# and NO_COLOR, quitting by key with the terminal restored; and --once and
# get --format table|csv compared exactly with data the test wrote.
. "$(dirname "$0")/common.sh"

seeded_redis
unset NO_COLOR

TS="$STATE/tmux.sock"
T() { tmux -S "$TS" "$@"; }
T -f /dev/null new-session -d -s top -x 100 -y 30 "bash --norc --noprofile" || exit 1
SL_PIDS+=("$(T display -p '#{pid}')")
pane() { T capture-pane -p -t top; }
# pane_has REGEX: the screen shows it (the wait is polled, never slept).
pane_has() { pane | grep -qE -- "$1"; }
wait_pane() { sl_wait_for 20 "$2" pane_has "$1"; ok $? "$2"; }
# The rows as "stream lag pending consumers status", in screen order.
rows() { pane | awk '$1 ~ /^events:/ { print $1, $3, $5, $6, $7 }'; }

T send-keys -t top "stty -a >'$STATE/stty.before'; '$SL_BIN' top --interval 0.3; echo \"exit=\$?\" >'$STATE/top.exit'; stty -a >'$STATE/stty.after'" Enter
wait_pane '^events:remote ' "top draws the table"
is "$(rows)" "events:chat 123 77 2 degraded
events:ticket 45 55 1 healthy
events:remote 0 10 1 healthy" "the seed's example: 123/45/0, sorted by lag"
like "$(pane | grep '^health:')" '^health: degraded  streams 3  total lag 168  max lag 123  \| 2 healthy, 1 degraded$' \
	"the header: verdict and totals"
like "$(pane | sed -n 1p)" "^streamlag top  redis://streamlag:\*\*\*@127\.0\.0\.1:$PORT/0  group signalr-consumers  every 0\.3 s" \
	"the title: where, which group, how often; no password"
like "$(pane | tail -1)" '^sort: LAG  keys: ' "the key line at the bottom"

# Colours follow the status (tmux keeps them: capture-pane -e).
like "$(T capture-pane -p -e -t top | grep 'events:chat ')" $'\e\\[33mdegraded' "a degraded row is yellow"
like "$(T capture-pane -p -e -t top | grep 'events:ticket ')" $'\e\\[32mhealthy' "a healthy row is green"

# events:ticket past 100 (55 delivered of 160): the next refresh says so.
{ for i in $(seq 60); do echo "XADD events:ticket * event demo seq x$i"; done; } | R >/dev/null
wait_pane '^events:ticket +signalr-consumers +105 ' "after 60 more entries, the next refresh shows lag 105"
is "$(rows | grep ticket)" "events:ticket 105 55 1 degraded" "events:ticket is degraded"
like "$(pane | grep '^health:')" '^health: degraded  streams 3  total lag 228  max lag 123  \| 1 healthy, 2 degraded$' \
	"the header follows: total lag 228, two degraded"

# Sorting by key.
T send-keys -t top n
wait_pane '^sort: STREAM ' "n sorts by stream"
is "$(rows | cut -d' ' -f1 | tr '\n' ' ')" "events:chat events:remote events:ticket " "rows by stream name"
T send-keys -t top r
wait_pane '^sort: STREAM \(reversed\)' "r reverses"
is "$(rows | cut -d' ' -f1 | tr '\n' ' ')" "events:ticket events:remote events:chat " "rows by stream name, reversed"
T send-keys -t top c
wait_pane '^sort: CONSUMERS ' "c sorts by consumers"
is "$(rows | cut -d' ' -f1 | tr '\n' ' ')" "events:chat events:remote events:ticket " "by consumers (2, then ties by name)"
T send-keys -t top l
wait_pane '^sort: LAG ' "l sorts by lag again"
is "$(rows | cut -d' ' -f1 | tr '\n' ' ')" "events:chat events:ticket events:remote " "by lag"

# Filter.
T send-keys -t top / t i c Enter
wait_pane '^\[tic\]  sort: LAG' "/ filters"
is "$(rows | cut -d' ' -f1 | tr '\n' ' ')" "events:ticket " "only the matching row"
T send-keys -t top / Escape
sl_wait_for 20 "the filter cleared" bash -c "[ \$(tmux -S '$TS' capture-pane -p -t top | grep -c '^events:') = 3 ]"
ok $? "Esc clears the filter"

# Pause: the title says so; space resumes.
T send-keys -t top Space
wait_pane '^streamlag top  \[paused\]' "space pauses"
T send-keys -t top Space
sl_wait_for 20 "resume" bash -c "! tmux -S '$TS' capture-pane -p -t top | grep -q '\[paused\]'"
ok $? "space resumes"

# Resizing: the table is laid out again for the new size.
T resize-window -t top -x 70 -y 20
wait_pane '^events:chat +signalr-c… ' "after a resize to 70 columns, the group column gives way"
is "$(pane | perl -CS -ne 'chomp; $n++ if length > 70; END { print $n + 0 }')" 0 "no line wider than 70 columns"
is "$(pane | sed -n 20p | cut -c1-10)" "sort: LAG " "the key line on the new last row"

# Quit by key: exit 0, the terminal as it was.
T send-keys -t top q
sl_wait_for 20 "top to exit" test -s "$STATE/top.exit"
is "$(cat "$STATE/top.exit")" "exit=0" "q quits, exit 0"
sl_wait_for 20 "stty after" test -s "$STATE/stty.after"
is "$(sed 1d "$STATE/stty.after")" "$(sed 1d "$STATE/stty.before")" "the terminal modes are restored (the size aside)"
is "$(T display -p -t top '#{alternate_on} #{cursor_flag}')" "0 1" "off the alternate screen, cursor shown"

# NO_COLOR: no colour at all.
rm -f "$STATE/top.exit"
T send-keys -t top "NO_COLOR=1 '$SL_BIN' top --interval 0.3; echo \"exit=\$?\" >'$STATE/top.exit'" Enter
wait_pane '^events:remote ' "top with NO_COLOR draws"
is "$(T capture-pane -p -e -t top | grep -c $'\e\\[[0-9;]*[1-9][0-9;]*m')" 0 "NO_COLOR: no colour or attribute"
T send-keys -t top C-c
sl_wait_for 20 "top to exit on Ctrl-C" test -s "$STATE/top.exit"
is "$(cat "$STATE/top.exit")" "exit=0" "Ctrl-C quits cleanly too"
is "$(T display -p -t top '#{alternate_on} #{cursor_flag}')" "0 1" "Ctrl-C: the terminal restored"

# Not a terminal, without --once: a clear refusal.
err=$("$SL_BIN" top </dev/null 2>&1 >/dev/null); rc=$?
is "$rc:$err" "2:streamlag: top: needs a terminal on stdin and stdout (--once prints one table)" \
	"top without a terminal: exit 2"
err=$("$SL_BIN" top --interval 0 2>&1); rc=$?
is "$rc:$err" '2:streamlag: --interval: expected seconds from 0.1 to 3600, got "0" (see streamlag --help)' \
	"a bad --interval"

# --once, exactly: streams whose entries are 2 h 00 min 30 s old (by
# Redis's clock), so that every cell is known in advance.
now=$(R TIME | head -1)
base=$(( (now - 7230) * 1000 ))
{
	echo "XGROUP CREATE once:a g1 0 MKSTREAM"
	for i in $(seq 1 150); do echo "XADD once:a $base-$i f v"; done
	echo "XREADGROUP GROUP g1 c1 COUNT 20 STREAMS once:a >"
	echo "XREADGROUP GROUP g1 c2 COUNT 10 STREAMS once:a >"
	echo "XGROUP CREATE once:b g1 0 MKSTREAM"
	for i in $(seq 1 5); do echo "XADD once:b $base-$i f v"; done
	echo "XREADGROUP GROUP g1 c1 COUNT 5 STREAMS once:b >"
	echo "XADD once:nogroup $base-1 f v"
} | R >/dev/null
export STREAMLAG_STREAMS=once:b,once:nogroup,once:a,once:missing EVENT_TRANSPORT_CONSUMER_GROUP=g1
want="health: unhealthy  streams 3  total lag 120  max lag 120  | 1 healthy, 1 degraded, 1 unhealthy, 1 no group
STREAM        GROUP  LAG  TIME LAG  PENDING  CONSUMERS  STATUS
once:a        g1     120     2h00m       30          2  degraded
once:b        g1       0       0ms        5          1  healthy
once:nogroup  g1       0         -        -          -  no_group
once:missing  g1       -         -        -          -  error: no such key"
out=$("$SL_BIN" top --once); rc=$?
is "$rc:$out" "0:$want" "top --once: one table, exactly the data"
out=$("$SL_BIN" get --format table /api/v1/events/consumer-lag 2>/dev/null); rc=$?
is "$rc:$out" "0:$want" "get --format table prints the same table"
csv=$("$SL_BIN" get --format csv /api/v1/events/consumer-lag 2>/dev/null | tr -d '\r')
t_ms=$(awk -F, '$1 == "once:a" { print $5 }' <<<"$csv")
now2=$(R TIME | head -1)
ok "$(( t_ms >= 7230000 && t_ms <= (now2 - now + 7231) * 1000 ? 0 : 1 ))" \
	"csv: time_lag_ms of once:a is the age of entry 31 ($t_ms ms)"
is "$(sed "s/,$t_ms,/,T,/" <<<"$csv")" "stream,group,lag,lag_exact,time_lag_ms,pending,consumers,status,error
once:b,g1,0,true,0,5,1,healthy,
once:nogroup,g1,0,true,,0,0,no_group,
once:a,g1,120,true,T,30,2,degraded,
once:missing,g1,-1,false,,0,0,error,no such key" "get --format csv: every row, in the configured order"
csv=$("$SL_BIN" get --format csv '/api/v1/events/consumer-lag?group=other&stream=once:a,once:b' 2>"$STATE/err" | tr -d '\r')
is "$(sed 1d <<<"$csv")" "once:a,other,0,true,,0,0,no_group,
once:b,other,0,true,,0,0,no_group," "get --format csv with ?group= and ?stream=: the group asked"
is "$(cat "$STATE/err")" "streamlag: stream once:a: no consumer group other
streamlag: stream once:b: no consumer group other" "get: the missing group on stderr"
out=$("$SL_BIN" get --format json /api/v1/events/consumer-lag 2>/dev/null)
is "$(jq -c '[.total_lag, .stream_count, .streams["once:a"].lag]' <<<"$out")" "[120,3,120]" "--format json is the body"
err=$("$SL_BIN" get --format yaml /healthz 2>&1); rc=$?
is "$rc:$err" '2:streamlag: --format: expected json, table or csv, got "yaml" (see streamlag --help)' "a bad --format"

# Redis unreachable: --once says why, exit 1.
closed=$(sl_free_port)
out=$(REDIS_URL="redis://127.0.0.1:$closed/0" "$SL_BIN" top --once); rc=$?
is "$rc:$(sed -n 2p <<<"$out")" "1:redis 127.0.0.1:$closed: Connection refused" "top --once with Redis down: the cause, exit 1"
done_testing
