#!/bin/sh
# SPDX-License-Identifier: ISC
# Fails when a function in src/ is longer than 80 lines (from its opening
# brace to its closing one, both at column 0, as style(9) writes them),
# unless the comment just above it gives the reason with "Long: ...".
# With -a FILE, the functions FILE names (one "file:function" a line, "#"
# comments) are let through while they are being split; an entry that no
# longer needs it is reported, so that the list only shrinks.
# Usage: tools/funclen.sh [-a allowfile] [max] [files...] (default: src/*.c)
allow=/dev/null
if [ "${1:-}" = "-a" ]; then
	allow=$2
	shift 2
fi
max=80
case ${1:-} in
''|*[!0-9]*) ;;
*) max=$1; shift ;;
esac
[ $# -eq 0 ] && set -- src/*.c
awk -v max="$max" -v allowfile="$allow" '
BEGIN {
	while ((getline line < allowfile) > 0) {
		sub(/#.*/, "", line); gsub(/[ \t]/, "", line)
		if (line != "") allowed[line] = 1
	}
}
FNR == 1 { name = ""; reason = 0; comment = 0; inbody = 0 }
!inbody && /^[A-Za-z_][A-Za-z0-9_]*\(/ {
	name = $0; sub(/\(.*/, "", name)
}
!inbody && /^\/\*/ { comment = 1; reason = 0 }
!inbody && comment && /Long: / { reason = 1 }
!inbody && /\*\// { comment = 0 }
!inbody && /^\{/ && name != "" { inbody = 1; start = FNR; next }
inbody && /^\}/ {
	len = FNR - start - 1
	key = FILENAME ":" name
	if (len > max && !reason) {
		if (key in allowed)
			used[key] = 1
		else {
			printf "%s:%d: %s is %d lines (more than %d, and no \"Long:\" reason above it)\n", FILENAME, start, name, len, max
			bad = 1
		}
	}
	inbody = 0; name = ""; reason = 0
	next
}
{ seen[FILENAME] = 1 }
END {
	for (k in allowed) {
		f = k; sub(/:[^:]*$/, "", f)
		if ((f in seen) && !(k in used))
			printf "%s: within %d lines now: remove it from %s\n", k, max, allowfile > "/dev/stderr"
	}
	exit bad
}
' "$@"
