#!/bin/sh
# SPDX-License-Identifier: ISC
# Fetches valkey-server and valkey-tools from Debian's bookworm-backports
# suite into build/servers/valkey, without touching the machine's apt
# sources: a private apt configuration under build/ reuses the archive URI
# the machine already uses (deb822 *.sources or a one-line sources.list),
# with the backports suite added.  Idempotent: does nothing when the
# binaries are already there.  Prints the directory of valkey-server.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT="$ROOT/build/servers/valkey"
BIN="$OUT/usr/bin/valkey-server"
if [ -x "$BIN" ] && [ -x "$OUT/usr/bin/valkey-cli" ]; then
	echo "$OUT/usr/bin"
	exit 0
fi
APT="$ROOT/build/apt"
SUITE=${SL_BACKPORTS_SUITE:-bookworm-backports}

# The machine's Debian archive: the URI of the entry that carries the base
# suite (not -security), from deb822 files first, else sources.list.
base=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
uri=""
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	uri=$(awk -v base="$base" '
		/^[ \t]*$/ { if (u != "" && ok) { print u; exit } u = ""; ok = 0; next }
		tolower($1) == "uris:" { u = $2 }
		tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == base) ok = 1 }
		END { if (u != "" && ok) print u }' "$f" | head -1)
	[ -n "$uri" ] && break
done
if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
	uri=$(awk -v base="$base" '$1 == "deb" && $0 ~ " " base " " {
		for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
		/etc/apt/sources.list | head -1)
fi
if [ -z "$uri" ]; then
	echo "valkey.sh: no Debian archive URI for $base in /etc/apt/sources.list{,.d}" >&2
	exit 1
fi
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/debs"
printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
	"$uri" "$SUITE" "$keyring" >"$APT/backports.sources"
: >"$APT/empty.list"
set -- -o Dir::Etc::sourcelist="$APT/backports.sources" \
	-o Dir::Etc::sourceparts=- \
	-o Dir::State::Lists="$APT/lists" \
	-o Dir::Cache="$APT/cache" \
	-o Dir::State::status=/var/lib/dpkg/status \
	-o Debug::NoLocking=1 -o APT::Sandbox::User=root
# A sources.list given as Dir::Etc::sourcelist must be one-line format
# unless its name ends in .sources (apt >= 1.1 reads deb822 by suffix).
if ! apt-get "$@" update -qq >"$APT/update.log" 2>&1; then
	echo "valkey.sh: apt-get update of $SUITE failed:" >&2
	cat "$APT/update.log" >&2
	exit 1
fi
(cd "$APT/debs" && apt-get "$@" download -qq valkey-server valkey-tools) >"$APT/download.log" 2>&1 || {
	echo "valkey.sh: apt-get download valkey-server valkey-tools failed:" >&2
	cat "$APT/download.log" >&2
	exit 1
}
rm -rf "$OUT"
mkdir -p "$OUT"
for d in "$APT"/debs/valkey-*.deb; do
	dpkg -x "$d" "$OUT"
done
# The binaries must run with this machine's libraries.
for b in valkey-server valkey-cli; do
	if ldd "$OUT/usr/bin/$b" | grep -q 'not found'; then
		echo "valkey.sh: $b needs libraries this machine lacks:" >&2
		ldd "$OUT/usr/bin/$b" | grep 'not found' >&2
		exit 1
	fi
done
echo "$OUT/usr/bin"
