#!/bin/sh
# SPDX-License-Identifier: ISC
# Prints "VERSION COMMIT" for the build.
#   A release tarball (make dist) carries them in the file .version.
#   In a git checkout: `git describe` against the v* tags; without a tag,
#   the current version of CHANGELOG.md.  COMMIT is the abbreviated hash,
#   with "-dirty" when tracked files were changed.
#   Neither: the CHANGELOG's version and "unknown".
set -eu
cd "$(dirname "$0")/.."
if [ -f .version ]; then
	read -r version commit <.version || [ -n "${commit:-}" ] ||
		{ echo "version.sh: .version must hold \"VERSION COMMIT\"" >&2; exit 1; }
	echo "$version $commit"
	exit 0
fi
changelog=$(sed -n 's/^## \[\([0-9][0-9.]*[0-9]\)\].*/\1/p' CHANGELOG.md | head -n 1)
[ -n "$changelog" ] || { echo "version.sh: no version in CHANGELOG.md" >&2; exit 1; }
if git rev-parse --git-dir >/dev/null 2>&1; then
	commit=$(git rev-parse --short=12 HEAD)
	git diff-index --quiet HEAD -- 2>/dev/null || commit="$commit-dirty"
	if tag=$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null); then
		echo "${tag#v} $commit"
	else
		echo "$changelog $commit"
	fi
else
	echo "$changelog unknown"
fi
