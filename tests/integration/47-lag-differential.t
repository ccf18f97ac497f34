#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# consumer-lag against brute force over seeded random histories (see
# lib/differential.pl).  SL_DIFF_SEED replays a seed, SL_DIFF_STEPS sets the
# length; SL_REDIS_SERVER=valkey runs it on Valkey 8.  A small count step
# (STREAMLAG_LAG_COUNT_CAP=25) makes counts span requests.
. "$(dirname "$0")/common.sh"

seed=${SL_DIFF_SEED:-$(( $(date +%s) % 100000 ))}
steps=${SL_DIFF_STEPS:-1500}
seeded_redis --empty
export STREAMLAG_LAG_COUNT_CAP=25 STREAMLAG_STREAMS=diff:s0,diff:s1,diff:s2
serve_behind_nginx --workers 2
token=$("$SL_BIN" token --ttl 3600)
echo "# seed $seed, $steps steps, on ${SL_REDIS_SERVER:-redis}"
# The script's TAP lines become this file's (counted, failures kept).
while IFS= read -r line; do
	case $line in
	"ok "*) ok 0 "${line#ok [0-9]* - }" ;;
	"not ok "*) ok 1 "${line#not ok [0-9]* - }" ;;
	*) echo "$line" ;;
	esac
done < <(perl "$(dirname "$0")/lib/differential.pl" "$PORT" "$HTTP" "$token" "$seed" "$steps" "$STREAMLAG_LAG_COUNT_CAP" 2>&1)
done_testing
