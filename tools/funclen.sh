#!/bin/sh
# SPDX-License-Identifier: ISC
# Fails when a function in src/ is longer than 80 lines (from its opening
# brace to its closing one, both at column 0, as style(9) writes them),
# unless the comment just above it gives the reason with "Long: ...".
# Usage: tools/funclen.sh [max] [files...]
max=${1:-80}
[ $# -gt 0 ] && shift
[ $# -eq 0 ] && set -- src/*.c
awk -v max="$max" '
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
	if (len > max && !reason) {
		printf "%s:%d: %s is %d lines (more than %d, and no \"Long:\" reason above it)\n", FILENAME, start, name, len, max
		bad = 1
	}
	inbody = 0; name = ""; reason = 0
	next
}
!inbody && /^$/ && name == "" { reason = reason }
END { exit bad }
' "$@"
