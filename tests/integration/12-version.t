#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Where the version comes from: git describe on a v* tag, CHANGELOG.md
# without one, .version in a release tarball (make dist), and that the
# binary built from each says so in --version and streamlag_build_info.
. "$(dirname "$0")/common.sh"

# A clone of this checkout's HEAD, so that tags and commits made here stay
# here.
git clone -q "$SL_ROOT" "$STATE/src" 2>"$STATE/clone.err"
ok $? "a clone of HEAD"
cd "$STATE/src" || exit 1
git config user.email test@localhost; git config user.name test
head=$(git rev-parse --short=12 HEAD)
current=$(sed -n 's/^## \[\([0-9][0-9.]*[0-9]\)\].*/\1/p' CHANGELOG.md | head -n 1)
like "$current" '^[0-9]+\.[0-9]+\.[0-9]+$' "CHANGELOG.md names a current version"

is "$(src/version.sh)" "$current $head" "no v* tag: the CHANGELOG's version and the commit"
echo "# local change" >>README.md
is "$(src/version.sh)" "$current $head-dirty" "a changed tracked file marks the commit dirty"
git checkout -q README.md
git tag v7.8.9
is "$(src/version.sh)" "7.8.9 $head" "on tag v7.8.9: 7.8.9"
echo "# next" >>CHANGELOG.md && git commit -qam next
next=$(git rev-parse --short=12 HEAD)
is "$(src/version.sh)" "7.8.9-1-g$(git rev-parse --short HEAD) $next" "one commit past the tag: git describe's form"

# make dist: the tarball of HEAD with .version; it builds without git.
echo "# uncommitted" >>README.md
make -s dist >/dev/null 2>"$STATE/dist.err"
is "$?:$(head -n 1 "$STATE/dist.err")" "2:make dist: the tarball is HEAD; commit or stash the changes first" \
	"make dist refuses a changed checkout"
git checkout -q README.md
out=$(make -s dist 2>&1)
is "$out" "build/streamlag-7.8.9-1-g$(git rev-parse --short HEAD).tar.gz" "make dist names the tarball"
mkdir "$STATE/rel" && tar -xzf "$STATE/src/$out" -C "$STATE/rel"
rel=$STATE/rel/streamlag-7.8.9-1-g$(git rev-parse --short HEAD)
is "$(cat "$rel/.version")" "7.8.9-1-g$(git rev-parse --short HEAD) $next" "the tarball's .version"
is "$(cd "$rel" && git ls-files 2>/dev/null | wc -l)" 0 "the tarball is no git checkout"
diff <(git ls-files | sort) <(cd "$rel" && find . -type f ! -name .version | sed 's|^\./||' | sort) >"$STATE/files.diff"
ok $? "the tarball holds exactly the tracked files (and .version)"
make -s -C "$rel" -j2 >"$STATE/build.log" 2>&1
ok $? "the tarball builds"
is "$("$rel/build/streamlag" --version)" "streamlag 7.8.9-1-g$(git rev-parse --short HEAD) (commit $next)" \
	"--version of the tarball's build"
is "$(REDIS_URL=redis://127.0.0.1:1/0 "$rel/build/streamlag" get /metrics | grep '^streamlag_build_info')" \
	"streamlag_build_info{version=\"7.8.9-1-g$(git rev-parse --short HEAD)\",commit=\"$next\"} 1" \
	"streamlag_build_info carries both"

done_testing
