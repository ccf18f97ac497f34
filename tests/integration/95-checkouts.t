#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The tests do not depend on where the checkout lives or who runs them: a
# clone of HEAD in a 0700 directory under /root, run as root (nginx's
# workers are www-data there and cannot enter it), and a clone run as an
# ordinary user (nobody).  Each builds and runs the tests whose servers read
# files of the checkout: nginx in front, the shipped site, the drop-in.
# Run by `make test-checkouts` (as root; minutes: two builds).
[ "${SL_TEST_CHECKOUTS:-}" = 1 ] || { echo "1..0 # SKIP runs with make test-checkouts"; exit 0; }
. "$(dirname "$0")/common.sh"
sl_is_root || { echo "1..0 # SKIP needs root (a clone under /root, and runuser)"; exit 0; }

TESTS="tests/integration/30-nginx.t tests/integration/60-nginx-prod.t tests/integration/64-nginx-dropin.t"

# As root, under /root (0700, as on Debian).
R=$(mktemp -d /root/streamlag-clone.XXXXXX)
chmod 0700 /root "$R"
trap 'rm -rf "$R"' EXIT
git clone -q "$SL_ROOT" "$R/streamlag"
ok $? "a clone of HEAD in $R (mode $(stat -c %a "$R"))"
runuser -u www-data -- test -r "$R/streamlag/www/index.html" 2>/dev/null
ok "$( [ $? -ne 0 ]; echo $?)" "www-data cannot read that checkout's www/"
(cd "$R/streamlag" && make -s -j2 all >"$STATE/root-build.log" 2>&1 &&
	prove $TESTS) >"$STATE/root-prove.log" 2>&1
ok $? "as root from /root: $TESTS pass"
tail -n 3 "$STATE/root-prove.log" | sed 's/^/# /'

# As an ordinary user, in a clone that user owns.
U=$(mktemp -d "${TMPDIR:-/tmp}/streamlag-user.XXXXXX")
chmod 0755 "$U"
git clone -q "$SL_ROOT" "$U/streamlag" && chown -R nobody "$U"
runuser -u nobody -- env HOME="$U" TMPDIR="$U" sh -c \
	"cd '$U/streamlag' && make -s -j2 all >'$U/build.log' 2>&1 && prove $TESTS" >"$STATE/user-prove.log" 2>&1
ok $? "as the ordinary user nobody: $TESTS pass"
tail -n 3 "$STATE/user-prove.log" | sed 's/^/# /'
rm -rf "$U"

done_testing
