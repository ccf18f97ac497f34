#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# make deb: the package builds, lintian finds no error, it holds the files
# of make install in Debian's places; as root it installs (system user,
# conffile 0640 group streamlag, units disabled), works, is removed, and
# purged: then every file outside the user database is as before.
# It takes minutes (a package build and lintian) and, as root, installs a
# package on this machine: `make test-deb` runs it; plain `make test` and
# `prove tests/integration/` skip it.
[ "${SL_TEST_DEB:-}" = 1 ] || { echo "1..0 # SKIP the package test runs with make test-deb"; exit 0; }
. "$(dirname "$0")/common.sh"

make -s -C "$SL_ROOT" deb >"$STATE/deb.out" 2>&1
ok $? "make deb"
deb=$(tail -n 1 "$STATE/deb.out")
like "$deb" '^build/deb/streamlag_[0-9][^_]*-1_[a-z0-9]+\.deb$' "it names the package ($deb)"
deb=$SL_ROOT/$deb
is "$(grep -c '^E: ' "$SL_ROOT/build/deb/lintian.txt")" 0 "lintian: no error"
grep '^[EW]: ' "$SL_ROOT/build/deb/lintian.txt" | sed 's/^/# lintian: /'
read -r VERSION _ < <("$SL_ROOT/src/version.sh")
is "$(dpkg-deb -f "$deb" Version)" "${VERSION//-/+}-1" "the package's version is the build's"

# The files: make install's, in Debian's places and names.
make -s -C "$SL_ROOT" install PREFIX=/usr SYSTEMDUNITDIR=/lib/systemd/system DESTDIR="$STATE/inst" >/dev/null 2>&1
expected() {
	(cd "$STATE/inst" && find . -type f | sed 's|^\.||') | sed \
		-e '\|^/usr/share/doc/streamlag/LICENSE$|d' \
		-e 's|^/usr/share/doc/streamlag/CHANGELOG.md$|/usr/share/doc/streamlag/changelog.gz|' \
		-e 's|^\(/usr/share/man/.*\)$|\1.gz|'
	echo /usr/share/doc/streamlag/changelog.Debian.gz
	echo /usr/share/doc/streamlag/copyright
	echo /usr/share/lintian/overrides/streamlag
	echo /etc/streamlag/streamlag.env
}
diff <(expected | sort) <(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print substr($6, 2) }' | sort) >"$STATE/files.diff"
ok $? "the package holds make install's files (+ copyright, changelogs, the conffile)"
sed 's/^/# /' "$STATE/files.diff"
is "$(dpkg-deb -c "$deb" | awk '$6 == "./etc/streamlag/streamlag.env" { print $1 }')" "-rw-r-----" "streamlag.env is 0640 in the package"
is "$(dpkg-deb -I "$deb" conffiles)" /etc/streamlag/streamlag.env "streamlag.env is a conffile"
cmp -s <(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./etc/streamlag/streamlag.env) "$SL_ROOT/docs/systemd/streamlag.env.example"
ok $? "... holding the example configuration"
is "$(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./lib/systemd/system/streamlag.service | grep '^ExecStart=')" \
	"ExecStart=/usr/bin/streamlag serve --config /etc/streamlag/streamlag.env" "the service runs the packaged binary"

if ! sl_is_root; then
	echo "# skipped installing the package: not root"
	done_testing
	exit $?
fi

# As root: install, verify, remove, purge.  apt-get waits for the dpkg
# lock of another apt run; nothing is fetched (the dependencies are there).
APT=(apt-get -o DPkg::Lock::Timeout=600 -y -q --no-install-recommends)
export DEBIAN_FRONTEND=noninteractive
dpkg-query -W -f='${Status}' streamlag 2>/dev/null | grep -q 'ok installed' &&
	"${APT[@]}" purge streamlag >/dev/null 2>&1
had_user=$(getent passwd streamlag >/dev/null && echo yes || echo no)
# What must be as before: every file's type, mode, owner and size under
# these trees; the user database (passwd, group, shadow, gshadow and
# their backups) aside, and dpkg's and apt's own records.
snapshot() {
	find /etc /usr/bin /usr/sbin /usr/share/streamlag /usr/share/doc /usr/share/man/man8 \
		/lib/systemd /var/lib/nginx /var/lib/systemd -xdev \
		! -regex '/etc/\(passwd\|group\|shadow\|gshadow\|subuid\|subgid\)-?' \
		! -path '/etc/ld.so.cache' \
		-printf '%p %y %m %u %g %s\n' 2>/dev/null | sort
}
snapshot >"$STATE/before"

"${APT[@]}" install "$deb" >"$STATE/apt-install.log" 2>&1
ok $? "apt-get install the package"
is "$(dpkg-query -W -f='${Status}' streamlag)" "install ok installed" "... installed"
is "$(getent passwd streamlag | cut -d: -f6,7)" "/nonexistent:/usr/sbin/nologin" "the streamlag system user, no home, no shell"
uid=$(id -u streamlag)
ok "$( (( uid < 1000 )); echo $?)" "... a system uid ($uid)"
is "$(stat -c '%a %U %G' /etc/streamlag /etc/streamlag/streamlag.env /etc/streamlag/jwt.secret | tr '\n' ,)" \
	"750 root streamlag,640 root streamlag,640 root streamlag," "/etc/streamlag 0750, streamlag.env and jwt.secret 0640, group streamlag"
like "$(cat /etc/streamlag/jwt.secret)" '^[0-9a-f]{64}$' "a random 32-byte key"
is "$(find /etc/systemd/system -name 'streamlag*' | wc -l)" 0 "the units are not enabled (no links in /etc/systemd/system)"
is "$(/usr/bin/streamlag --version | cut -d' ' -f1-2)" "streamlag $VERSION" "/usr/bin/streamlag runs"
# The packaged configuration, with this test's Redis, answers as the
# streamlag user (group read of the 0640 files).
seeded_redis
sed -i "s|^REDIS_URL=.*|REDIS_URL=$REDIS_URL|" /etc/streamlag/streamlag.env
unset STREAMLAG_JWT_SECRET STREAMLAG_STREAMS	# the packaged configuration only
out=$(runuser -u streamlag -- /usr/bin/streamlag get --config /etc/streamlag/streamlag.env \
	'/api/v1/events/consumer-lag?stream=events:chat' 2>&1 | jq -c '.streams["events:chat"].lag'); rc=$?
is "$rc:$out" "0:123" "as user streamlag, with the packaged configuration: the seed's lag"
tok=$(runuser -u streamlag -- /usr/bin/streamlag token --config /etc/streamlag/streamlag.env --sub t 2>&1)
like "$tok" '^ey[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "... and mints a token with the generated key"
is "$(runuser -u nobody -- cat /etc/streamlag/streamlag.env 2>&1 >/dev/null | grep -c 'Permission denied')" 1 \
	"other users cannot read the configuration"
mkdir -p /var/lib/nginx/streamlag-auth	# as nginx makes it with the snippets

"${APT[@]}" remove streamlag >"$STATE/apt-remove.log" 2>&1
ok $? "apt-get remove"
is "$([ -e /usr/bin/streamlag ] && echo present || echo gone):$([ -e /etc/streamlag/streamlag.env ] && echo kept)" "gone:kept" \
	"remove: the program goes, the (edited) configuration stays"
is "$(dpkg-query -W -f='${Status}' streamlag)" "deinstall ok config-files" "... config-files left"

"${APT[@]}" purge streamlag >"$STATE/apt-purge.log" 2>&1
ok $? "apt-get purge"
is "$([ -e /etc/streamlag ] && echo present || echo gone):$([ -e /var/lib/nginx/streamlag-auth ] && echo present || echo gone)" "gone:gone" \
	"purge: /etc/streamlag and the nginx cache are gone"
is "$(getent passwd streamlag >/dev/null && echo kept)" kept "purge keeps the system user (Debian practice)"
snapshot >"$STATE/after"
diff "$STATE/before" "$STATE/after" >"$STATE/fs.diff"
ok $? "after purge every file outside the user database is as before"
head -20 "$STATE/fs.diff" | sed 's/^/# /'
# The user this test created goes too, so the next run starts clean.
[ "$had_user" = no ] && { deluser --quiet --system streamlag >/dev/null 2>&1 || userdel streamlag; }

done_testing
