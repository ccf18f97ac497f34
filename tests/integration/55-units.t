#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The shipped systemd units and example configuration are valid.
. "$(dirname "$0")/common.sh"

if ! command -v systemd-analyze >/dev/null; then
	echo "1..0 # SKIP systemd-analyze is not installed"
	exit 0
fi
for u in streamlag.service streamlag.socket streamlag-textfile.service streamlag-textfile.timer; do
	sed "s|/usr/bin/streamlag|$SL_BIN|" "$SL_ROOT/docs/systemd/$u" >"$STATE/$u"
done
out=$(cd "$STATE" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no \
	./streamlag.socket ./streamlag.service 2>&1); rc=$?
is "$rc:$out" "0:" "systemd-analyze verify: streamlag.socket and streamlag.service"
out=$(cd "$STATE" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no \
	./streamlag-textfile.timer ./streamlag-textfile.service 2>&1); rc=$?
is "$rc:$out" "0:" "systemd-analyze verify: streamlag-textfile.timer and its service"
is "$(sed -n 's/^OnUnitActiveSec=//p' "$STATE/streamlag-textfile.timer")" 15s \
	"the textfile is refreshed every 15 s"

# The example configuration loads (with a real secret file).
printf '%s\n' "0123456789abcdef0123456789abcdef" >"$STATE/jwt.secret"
sed "s|/etc/streamlag/jwt.secret|$STATE/jwt.secret|" \
	"$SL_ROOT/docs/systemd/streamlag.env.example" >"$STATE/streamlag.env"
out=$(env -u STREAMLAG_STREAMS -u STREAMLAG_JWT_SECRET "$SL_BIN" get --config "$STATE/streamlag.env" /healthz); rc=$?
is "$rc:$out" '0:{"status":"ok"}' "the example configuration loads"
tok=$(env -u STREAMLAG_JWT_SECRET "$SL_BIN" token --config "$STATE/streamlag.env" --sub prometheus --ttl 31536000); rc=$?
is "$rc:$(cut -d. -f2 <<<"$tok" | tr '_-' '/+' | { read -r p; while [ $(( ${#p} % 4 )) -ne 0 ]; do p="$p="; done; openssl base64 -d -A <<<"$p"; } | jq -c '[.sub, .iss, .aud, .exp - .iat]')" \
	'0:["prometheus","https://auth.example.com","streamlag",31536000]' \
	"a long-lived service token carries iss and aud from the configuration"

# Metrics without nginx: the textfile service's ExecStart, run as systemd
# would run it (the $$ of the unit is a $ for the shell; TEXTFILE from its
# Environment=, pointed into this test's directory), against a real Redis.
seeded_redis
tf="$STATE/node-exporter/streamlag.prom"
mkdir -p "$STATE/node-exporter"
cat >"$STATE/textfile.env" <<ENV
REDIS_URL=$REDIS_URL
STREAMLAG_STREAMS=events:chat,events:ticket,events:remote
ENV
unit_env=$(sed -n 's/^Environment=TEXTFILE=//p' "$SL_ROOT/docs/systemd/streamlag-textfile.service")
is "$unit_env" /var/lib/prometheus/node-exporter/streamlag.prom "the unit writes into Debian's node_exporter textfile directory"
cmd=$(sed -n 's/^ExecStart=\/bin\/sh -c //p' "$STATE/streamlag-textfile.service" | sed -e "s/^'//" -e "s/'\$//" \
	-e 's/\$\$/$/g' -e "s|/etc/streamlag/streamlag.env|$STATE/textfile.env|")
like "$cmd" "^umask 022; $SL_BIN get /metrics --config " "ExecStart runs streamlag get /metrics"
run_execstart() { env -i PATH=/usr/bin:/bin TEXTFILE="$tf" /bin/sh -c "$cmd"; }
run_execstart
ok $? "ExecStart exits 0"
is "$(grep -c '^event_consumer_lag{stream="events:chat",consumer_group="signalr-consumers"} 123$' "$tf"):$(grep -c '^streamlag_redis_up 1$' "$tf")" "1:1" \
	"the textfile holds the live lag of events:chat (123) and streamlag_redis_up 1"
is "$(stat -c %a "$tf"):$(ls "$STATE/node-exporter")" "644:streamlag.prom" "mode 0644, no temporary file left"
promtool check metrics <"$tf" >"$STATE/promtool.out" 2>&1
ok $? "promtool check metrics accepts the textfile"
# The rename is atomic: a failing run leaves the last good file whole.
cp "$tf" "$STATE/good.prom"
echo "STREAMLAG_LAG_DEGRADED=not-a-number" >>"$STATE/textfile.env"
run_execstart 2>"$STATE/textfile.err"
ok "$( [ $? -ne 0 ]; echo $?)" "a failing run exits non-zero"
cmp -s "$tf" "$STATE/good.prom"
ok $? "... and the last good textfile stays as it was"

done_testing
