#!/bin/sh
# SPDX-License-Identifier: ISC
# make fuzz-check (part of make test): the FastCGI record fuzzer against the
# real serve path under ASan+UBSan, for a short fixed budget; prints TAP.
#   1. every committed input of tests/fuzz/corpus/fcgi passes;
#   2. SECONDS of new inputs, grown from that corpus, find nothing;
#   3. built without the guard (-DSL_FCGI_NO_GUARD), the harness crashes on
#      the shipped GET_VALUES input (FCGI_MAX_CONNS 4 times: libfcgi's stack
#      buffer overflow) and not on the same request naming it 3 times.
# A crash found in 2 is kept in build/fuzz/: add it to the corpus as a
# regression input once fixed.
set -u
secs=${1:-30}
B=build/fuzz
C=tests/fuzz/corpus/fcgi
work=$(mktemp -d "${TMPDIR:-/tmp}/streamlag-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
n=0 failed=0
tap() {	# STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
show() { tail -25 "$1" | sed 's/^/#   /'; }

inputs=$(ls "$C" | wc -l)
"$B/check_fcgi" "$C"/* >"$work/corpus.log" 2>&1
rc=$?
tap $rc "the $inputs committed inputs of $C pass the serve path"
[ $rc -eq 0 ] || show "$work/corpus.log"

mkdir "$work/corpus" && cp "$C"/* "$work/corpus/"
"$B/check_fcgi" -max_total_time="$secs" -max_len=16384 -timeout=10 \
	-artifact_prefix="$work/" -print_final_stats=1 "$work/corpus" >"$work/fuzz.log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log")
tap $rc "${secs} s of new inputs: ${runs:-?} runs, no crash, no sanitizer report"
if [ $rc -ne 0 ]; then
	show "$work/fuzz.log"
	for f in "$work"/crash-* "$work"/timeout-* "$work"/leak-*; do
		[ -e "$f" ] && cp "$f" "$B/" && echo "#   kept $B/$(basename "$f"): add it to $C once fixed"
	done
fi

"$B/check_fcgi_noguard" "$C/get-values-max-conns-4" >"$work/noguard4.log" 2>&1
rc=$?
grep -q -E 'stack smashing detected|deadly signal' "$work/noguard4.log"
found=$?
tap "$( [ $rc -ne 0 ] && [ $found -eq 0 ]; echo $?)" \
	"without the guard, get-values-max-conns-4 crashes libfcgi (exit $rc: $(grep -o -m1 -E 'stack smashing detected|deadly signal' "$work/noguard4.log"))"
[ $rc -ne 0 ] && [ $found -eq 0 ] || show "$work/noguard4.log"
"$B/check_fcgi_noguard" "$C/get-values-max-conns-3" >"$work/noguard3.log" 2>&1
rc=$?
tap $rc "without the guard, get-values-max-conns-3 does not (the crash is the overflow, not the harness)"
[ $rc -eq 0 ] || show "$work/noguard3.log"

echo "1..$n"
[ $failed -eq 0 ]
