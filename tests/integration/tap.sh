# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# Minimal TAP for the integration tests: every assertion is one "ok" line,
# with the got/expected values as diagnostics when it fails.

TAP_N=0
TAP_FAILED=0

ok() {
	local cond=$1; shift
	TAP_N=$((TAP_N + 1))
	if [ "$cond" -eq 0 ]; then
		echo "ok $TAP_N - $*"
	else
		echo "not ok $TAP_N - $*"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

# is GOT EXPECTED DESCRIPTION
is() {
	local got=$1 want=$2; shift 2
	if [ "$got" == "$want" ]; then
		ok 0 "$@"
	else
		ok 1 "$@"
		printf '#   got:      %s\n#   expected: %s\n' "$got" "$want"
	fi
}

# like GOT REGEX DESCRIPTION
like() {
	local got=$1 re=$2; shift 2
	if [[ $got =~ $re ]]; then
		ok 0 "$@"
	else
		ok 1 "$@"
		printf '#   got:      %s\n#   expected to match: %s\n' "$got" "$re"
	fi
}

# json_is GOT_JSON EXPECTED_JSON DESCRIPTION: equal as JSON (key order kept).
json_is() {
	local got want
	got=$(jq -c . <<<"$1" 2>&1) || got="(not JSON) $1"
	want=$(jq -c . <<<"$2")
	is "$got" "$want" "${@:3}"
}

# A script may define tap_before_plan to add last assertions (run once).
done_testing() {
	if declare -F tap_before_plan >/dev/null; then
		tap_before_plan
		unset -f tap_before_plan
	fi
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}
