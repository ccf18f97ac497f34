#!/bin/sh
# SPDX-License-Identifier: ISC
# Installs the Debian packages streamlag builds, tests and runs with.
# Idempotent and silent when everything is present.
set -eu
PKGS="build-essential pkg-config libfcgi-dev libhiredis-dev libjson-c-dev libjwt-dev
libcmocka-dev redis-server nginx-light curl jq openssl valgrind perl
wrk spawn-fcgi libfcgi-bin prometheus chromium"
# Tokens are parsed with jansson and checked with OpenSSL; check reads PEM
# keys with OpenSSL; top is tested in tmux.
PKGS="$PKGS libjansson-dev libssl-dev tmux"
# make test fuzzes the FastCGI record guard (libFuzzer).
PKGS="$PKGS clang libclang-rt-14-dev"
# Named packages instead (make fuzz: clang).
[ $# -gt 0 ] && PKGS="$*"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "streamlag: installing Debian packages:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt run (a second checkout testing beside this one).
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
# Packaged services must not start on install (redis-server, nginx): the
# project runs its own instances on free ports.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod 0755 /usr/sbin/policy-rc.d
	trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
# shellcheck disable=SC2086
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null
