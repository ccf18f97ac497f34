# shellcheck shell=bash
# Shared by the integration tests: the stack library, TAP, a state directory
# removed on success (kept and pointed to on failure), and JWT crafting with
# openssl so that tokens are made independently of the code under test.
. "$(dirname "${BASH_SOURCE[0]}")/../stack/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

STATE=$(sl_state_dir)
on_exit() {
	sl_teardown
	if [ "$TAP_FAILED" -eq 0 ]; then
		rm -rf "$STATE"
	else
		echo "# state kept in $STATE"
		for f in "$STATE"/*.log; do
			[ -f "$f" ] || continue
			echo "# --- $f"
			tail -20 "$f" | sed 's/^/#   /'
		done
	fi
}
trap on_exit EXIT

export STREAMLAG_JWT_SECRET=integration-secret-0123456789abcdef0123456789
export STREAMLAG_STREAMS=events:chat,events:ticket,events:remote
unset REDIS_URL STREAMLAG_CONFIG EVENT_TRANSPORT_CONSUMER_GROUP \
	EVENT_TRANSPORT_USE_REDIS_STREAMS STREAMLAG_JWT_SECRET_FILE

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# jwt HEADER_JSON PAYLOAD_JSON KEY [DIGEST]
jwt() {
	local h p sig digest=${4:-sha256}
	h=$(printf '%s' "$1" | b64url)
	p=$(printf '%s' "$2" | b64url)
	sig=$(printf '%s' "$h.$p" | openssl dgst "-$digest" -hmac "$3" -binary | b64url)
	printf '%s.%s.%s' "$h" "$p" "$sig"
}

# Milliseconds a command takes.
elapsed_ms() {
	local t0 t1
	t0=$(sl_now_ms)
	"$@" >/dev/null 2>&1
	t1=$(sl_now_ms)
	echo $((t1 - t0))
}
