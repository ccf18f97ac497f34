#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# make install PREFIX= DESTDIR= puts every file where docs/operations.md
# says, with the paths inside rewritten to PREFIX; make uninstall removes
# exactly that and leaves what was there before.
. "$(dirname "$0")/common.sh"

D="$STATE/dest"
# A DESTDIR with other software in the shared directories.
mkdir -p "$D/usr/bin" "$D/usr/share/man/man8" "$D/usr/share/doc/other" "$D/usr/lib/systemd/system"
touch "$D/usr/bin/other" "$D/usr/share/man/man8/other.8" "$D/usr/share/doc/other/README" \
	"$D/usr/lib/systemd/system/other.service"
snapshot() { (cd "$D" && find . | sort); }
before=$(snapshot)

make -s -C "$SL_ROOT" install PREFIX=/usr DESTDIR="$D" >"$STATE/install.out" 2>&1
ok $? "make install PREFIX=/usr DESTDIR=..."

# What must be installed, from the issue's list: the binary and its man
# page, the dashboard (every file of www/), the nginx files (never in
# /etc), the systemd units, the docs, the Prometheus and Grafana kit.
expected() {
	echo ./usr/bin/streamlag
	echo ./usr/share/man/man8/streamlag.8
	(cd "$SL_ROOT" && git ls-files www | sed 's|^|./usr/share/streamlag/|')
	(cd "$SL_ROOT" && git ls-files nginx | grep -v '\.in$' | sed 's|^|./usr/share/streamlag/|')
	for u in streamlag.service streamlag.socket streamlag-textfile.service streamlag-textfile.timer; do
		[ -f "$SL_ROOT/docs/systemd/$u" ] && echo "./usr/lib/systemd/system/$u"
	done
	(cd "$SL_ROOT" && git ls-files 'docs/prometheus/*' 'docs/grafana/*' | sed 's|^docs/|./usr/share/streamlag/|')
	(cd "$SL_ROOT" && git ls-files 'docs/*.md' 'docs/*.png' | sed 's|^docs/|./usr/share/doc/streamlag/|')
	for f in README.md CHANGELOG.md SECURITY.md LICENSE streamlag.env.example; do
		echo "./usr/share/doc/streamlag/$f"
	done
}
installed=$(cd "$D" && find . -type f | sort | grep -v -x -F -f <(printf '%s\n' "$before"))
diff <(expected | sort) <(echo "$installed") >"$STATE/list.diff"
ok $? "the installed files are exactly the expected $(expected | wc -l) (diff in list.diff)"
[ -s "$STATE/list.diff" ] && sed 's/^/# /' "$STATE/list.diff"
is "$(sed 's|^\(.*\)$|.\1|' "$STATE/install.out" | sed "s|^\.$D|.|" | sort)" "$(echo "$installed")" \
	"make install names every file it writes"
is "$(grep -c '/etc' <<<"$installed")" 0 "nothing is installed in /etc"

is "$(stat -c %a "$D/usr/bin/streamlag")" 755 "the binary is 0755"
is "$(grep -v -x ./usr/bin/streamlag <<<"$installed" | (cd "$D" && xargs stat -c %a) | sort -u)" 644 \
	"every other file is 0644"
cmp -s "$D/usr/bin/streamlag" "$SL_ROOT/build/streamlag"
ok $? "the binary is build/streamlag"
is "$("$D/usr/bin/streamlag" --version | cut -d' ' -f1)" streamlag "the installed binary runs"

# Paths inside: the Debian layout stays as it is for PREFIX=/usr ...
is "$(grep '^ExecStart=' "$D/usr/lib/systemd/system/streamlag.service")" \
	"ExecStart=/usr/bin/streamlag serve --config /etc/streamlag/streamlag.env" "PREFIX=/usr: ExecStart"
is "$(grep '^Documentation=' "$D/usr/lib/systemd/system/streamlag.service")" \
	"Documentation=man:streamlag(8) file:///usr/share/doc/streamlag/operations.md" "the unit's documentation is installed"
[ -f "$D/usr/share/doc/streamlag/operations.md" ]
ok $? "... /usr/share/doc/streamlag/operations.md exists"
# ... and another PREFIX is written into what nginx and systemd read.
L="$STATE/local"
make -s -C "$SL_ROOT" install PREFIX=/opt/sl DESTDIR="$L" >/dev/null 2>&1
is "$(grep '^ExecStart=' "$L/opt/sl/lib/systemd/system/streamlag.service")" \
	"ExecStart=/opt/sl/bin/streamlag serve --config /etc/streamlag/streamlag.env" "PREFIX=/opt/sl: ExecStart"
missing=""
for f in $(sed -n 's/^ *include \(.*\);$/\1/p' "$L/opt/sl/share/streamlag/nginx/streamlag-locations.conf"); do
	[[ $f == /opt/sl/share/streamlag/nginx/* && -f $L$f ]] || missing="$missing $f"
done
is "$missing" "" "PREFIX=/opt/sl: every file the drop-in includes is an installed one"
is "$(grep -rl '/usr/share/streamlag\|/usr/bin/streamlag' "$L/opt/sl/share/streamlag/nginx" "$L/opt/sl/lib/systemd/system" | wc -l)" 0 \
	"PREFIX=/opt/sl: no nginx file or unit names /usr's paths"
grep -q "alias /opt/sl/share/streamlag/www/;" "$L/opt/sl/share/streamlag/nginx/streamlag-locations.conf"
ok $? "PREFIX=/opt/sl: the drop-in serves the installed dashboard"

# The monitoring kit as installed: promtool accepts the scrape config, whose
# rule file is the installed alerts.yml.
cfg=$L/opt/sl/share/streamlag/prometheus/scrape.yml
is "$(sed -n 's/^  - \([^ ]*alerts.yml\).*/\1/p' "$cfg")" /opt/sl/share/streamlag/prometheus/alerts.yml \
	"scrape.yml names the installed rule file"
mkdir -p "$STATE/etc/prometheus" && "$SL_BIN" token --sub prometheus >"$STATE/etc/prometheus/streamlag.token"
sed -e "s|/opt/sl/share|$L/opt/sl/share|" -e "s|/etc/prometheus/|$STATE/etc/prometheus/|" "$cfg" >"$STATE/scrape.yml"
promtool check config "$STATE/scrape.yml" >"$STATE/promtool.out" 2>&1
ok $? "promtool check config: the installed scrape.yml"
[ $? -eq 0 ] || sed 's/^/# /' "$STATE/promtool.out"

# The man page: mdoc, lint-clean (mandoc's notes about this machine's
# outdated mandoc.db aside), and it renders.
mandoc -Tlint "$D/usr/share/man/man8/streamlag.8" >"$STATE/lint" 2>&1; rc=$?
is "$rc:$(grep -v 'outdated mandoc.db' "$STATE/lint")" "0:" "mandoc -Tlint: streamlag(8) is clean"
is "$(head -c 2 "$SL_ROOT/docs/streamlag.8"; grep -c '^\.Sh' "$SL_ROOT/docs/streamlag.8")" ".\\10" \
	"the man page is mdoc with its ten sections"
like "$(mandoc -Tascii "$D/usr/share/man/man8/streamlag.8" | col -b | sed -n 3,4p | tr -s ' ')" \
	'streamlag . consumer lag of Redis Streams' "it renders with its NAME line"
# Every flag the binary's --help names is in the man page.
missing=""
for f in $("$SL_BIN" --help | grep -o -- '--[a-z-]*' | sort -u); do
	grep -q "^\.\(Op \)\?Fl -${f#--}\b\|Fl -${f#--}\b" "$SL_ROOT/docs/streamlag.8" || missing="$missing $f"
done
is "$missing" "" "every flag of --help is in streamlag(8)"

# make uninstall: exactly back to before.
make -s -C "$SL_ROOT" uninstall PREFIX=/usr DESTDIR="$D" >/dev/null 2>&1
ok $? "make uninstall"
diff <(echo "$before") <(snapshot) >"$STATE/uninstall.diff"
ok $? "after make uninstall the tree is as before (other software's files and directories kept)"
[ -s "$STATE/uninstall.diff" ] && sed 's/^/# /' "$STATE/uninstall.diff"

done_testing
