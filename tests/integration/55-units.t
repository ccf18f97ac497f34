#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The shipped systemd units and example configuration are valid.
. "$(dirname "$0")/common.sh"

if ! command -v systemd-analyze >/dev/null; then
	echo "1..0 # SKIP systemd-analyze is not installed"
	exit 0
fi
sed "s|/usr/bin/streamlag|$SL_BIN|" "$SL_ROOT/docs/systemd/streamlag.service" \
	>"$STATE/streamlag.service"
cp "$SL_ROOT/docs/systemd/streamlag.socket" "$STATE/"
out=$(cd "$STATE" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no \
	./streamlag.socket ./streamlag.service 2>&1); rc=$?
is "$rc:$out" "0:" "systemd-analyze verify: streamlag.socket and streamlag.service"

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

done_testing
