#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Round trips against a real redis-server: the XINFO batch of a configured
# stream list is one round trip, and batches are bounded; streams go in
# chunks, each handed on as it is done.
. "$(dirname "$0")/common.sh"

bin=$(dirname "$SL_BIN")/tests/it_pipeline
[ -x "$bin" ] || { echo "1..0 # SKIP $bin is not built (make integration builds it)"; exit 0; }
seeded_redis
PORT=$PORT "$bin"
