#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# make bench: the figures of docs/performance.md, measured on this machine.
# A benchmark, not a test: it prints numbers and asserts nothing.
#
# BENCH picks the sections: "base" (the figures below), "scale"
# (bench_scale.sh: 10 000 and 100 000 discovered streams, peak memory),
# "tls" (bench_tls.sh: the seed's example over TLS next to plain TCP),
# "cluster" (bench_cluster.sh: the same streams on 1 node and over a Redis
# Cluster of 3 masters), or unset, all of them.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

case ${BENCH:-all} in
scale) exec "$(dirname "$0")/bench_scale.sh" ;;
tls) exec "$(dirname "$0")/bench_tls.sh" ;;
cluster) exec "$(dirname "$0")/bench_cluster.sh" ;;
base|all) ;;
*) sl_die "BENCH: expected base, scale, tls, cluster or unset, got $BENCH" ;;
esac

N=${BENCH_STREAMS:-10000}
STATE=$(sl_state_dir)
trap 'sl_teardown; rm -rf "$STATE"' EXIT
[ -x "$SL_BIN" ] || sl_die "$SL_BIN is not built (run make)"
PORT=$(sl_free_port)
sl_start_redis "$STATE" "$PORT" || exit 1
R() { redis-cli -p "$PORT" "$@"; }
export REDIS_URL=$(sl_redis_url "$PORT")
export STREAMLAG_JWT_SECRET=bench-secret-0123456789abcdef0123456789

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# get_ms PATH: wall time of one `streamlag get`, in ms (5 runs: the median).
get_ms() {
	local i t0 t1
	for i in 1 2 3 4 5; do
		t0=$(date +%s%N)
		"$SL_BIN" get "$1" >/dev/null
		t1=$(date +%s%N)
		echo $(( (t1 - t0) / 1000000 ))
	done | median
}
redis_usec() {	# Redis's own time for one request, from INFO commandstats
	R CONFIG RESETSTAT >/dev/null
	"$SL_BIN" get "$1" >/dev/null
	R INFO commandstats | awk -F'[=,]' '/^cmdstat_/ && !/cmdstat_(config|info)/ { s += $4 } END { print s + 0 }'
}

echo "streamlag bench on $(nproc) cores, $(date -u +%Y-%m-%d), Redis $(redis-server --version | awk '{print $3}' | cut -d= -f2)"
echo

# N streams, one group and one consumer each, caught up (the steady state).
R EVAL "for i = 1, tonumber(ARGV[1]) do
	local k = 'bench:' .. i
	redis.call('XADD', k, '*', 'f', 'v')
	redis.call('XGROUP', 'CREATE', k, 'signalr-consumers', '0')
	local r = redis.call('XREADGROUP', 'GROUP', 'signalr-consumers', 'c1',
	    'COUNT', 1, 'STREAMS', k, '>')
	redis.call('XACK', k, 'signalr-consumers', r[1][2][1][1])
end return 1" 0 "$N" >/dev/null
export STREAMLAG_STREAM_PATTERN='bench:*'
P=/api/v1/events/consumer-lag
printf '%-62s %8s\n' "consumer-lag, $N discovered streams, caught up (get, median of 5)" "$(get_ms $P) ms"
printf '%-62s %8s\n' "  of which Redis's own time for the commands" "$(( $(redis_usec $P) / 1000 )) ms"
printf '%-62s %8s\n' "health, same streams" "$(get_ms /api/v1/events/health) ms"
printf '%-62s %8s\n' "/metrics, same streams, every group and consumer" "$(get_ms /metrics) ms"

# redis_exporter (Debian's prometheus-redis-exporter) on the same streams,
# one scrape of its /metrics (median of 3), for comparison.
if ! command -v prometheus-redis-exporter >/dev/null && [ "$(id -u)" -eq 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		prometheus-redis-exporter >/dev/null 2>&1 || true
fi
if command -v prometheus-redis-exporter >/dev/null; then
	EP=$(sl_free_port)
	prometheus-redis-exporter -redis.addr "redis://127.0.0.1:$PORT" \
		-check-streams 'bench:*' -web.listen-address "127.0.0.1:$EP" \
		>"$STATE/redis_exporter.log" 2>&1 &
	SL_PIDS+=("$!")
	if sl_wait_for 10 "redis_exporter" curl -fs -o /dev/null "http://127.0.0.1:$EP/"; then
		v=$(dpkg-query -W -f '${Version}' prometheus-redis-exporter 2>/dev/null | cut -d- -f1)
		ms=$(for i in 1 2 3; do curl -s -o /dev/null -w '%{time_total}\n' \
			"http://127.0.0.1:$EP/metrics"; done | median | awk '{ printf "%d", $1 * 1000 }')
		printf '%-62s %8s\n' "redis_exporter $v, -check-streams 'bench:*', one scrape" "$ms ms"
	fi
fi

# The same streams, each group 1 behind with 1 pending: a follow-up batch
# (XRANGE and XPENDING) for every group.
R EVAL "for i = 1, tonumber(ARGV[1]) do
	local k = 'bench:' .. i
	redis.call('XADD', k, '*', 'f', 'v')
	redis.call('XADD', k, '*', 'f', 'v')
	redis.call('XREADGROUP', 'GROUP', 'signalr-consumers', 'c1', 'COUNT', 1,
	    'STREAMS', k, '>')
end return 1" 0 "$N" >/dev/null
printf '%-62s %8s\n' "consumer-lag, $N streams, each 1 behind, 1 pending" "$(get_ms $P) ms"
printf '%-62s %8s\n' "  of which Redis's own time for the commands" "$(( $(redis_usec $P) / 1000 )) ms"
unset STREAMLAG_STREAM_PATTERN

# Through nginx: the seed's example, workers = cores, wrk for 10 s.
if command -v wrk >/dev/null && command -v nginx >/dev/null; then
	R FLUSHALL >/dev/null
	sl_seed_example "$PORT"
	HTTP=$(sl_free_port)
	sl_start_serve "$STATE/streamlag.sock" || exit 1
	sl_start_nginx "$STATE" "$HTTP" "$STATE/streamlag.sock" || exit 1
	TOKEN=$("$SL_BIN" token --ttl 600)
	wrk -t2 -c16 -d10s --latency -H "Authorization: Bearer $TOKEN" \
		"http://127.0.0.1:$HTTP$P" >"$STATE/wrk.out" 2>&1
	awk '/Requests\/sec/ { printf "%-62s %8s\n", "nginx + serve, consumer-lag (3 streams), wrk -t2 -c16: req/s", $2 }
	     /^ +50%/ { printf "%-62s %8s\n", "  latency p50", $2 }
	     /^ +99%/ { printf "%-62s %8s\n", "  latency p99", $2 }
	     /Non-2xx/ { printf "%-62s %8s\n", "  non-2xx responses", $NF }' "$STATE/wrk.out"
	# /healthz never calls Redis: what nginx and streamlag's FastCGI edge
	# (accept, record guard, hand-off to libfcgi) cost per request.
	wrk -t2 -c16 -d10s --latency "http://127.0.0.1:$HTTP/healthz" >"$STATE/wrk-healthz.out" 2>&1
	awk '/Requests\/sec/ { printf "%-62s %8s\n", "nginx + serve, /healthz (no Redis), wrk -t2 -c16: req/s", $2 }
	     /^ +99%/ { printf "%-62s %8s\n", "  latency p99", $2 }' "$STATE/wrk-healthz.out"
fi

# Against the least a FastCGI responder can do: tests/stack/hello_fcgi.c (a
# fixed 200 JSON body, libfcgi, as many prefork processes as streamlag's
# workers, spawn-fcgi -F) behind a second nginx of the same configuration.
# wrk runs alternately on the two, 3 rounds of 5 s each; the medians are
# printed, and streamlag's as a share of the baseline.
if command -v wrk >/dev/null && command -v nginx >/dev/null && command -v spawn-fcgi >/dev/null; then
	mkdir -p "$SL_ROOT/build/bench"
	cc -O2 $(pkg-config --cflags fcgi 2>/dev/null) -o "$SL_ROOT/build/bench/hello_fcgi" \
		"$SL_ROOT/tests/stack/hello_fcgi.c" -lfcgi || sl_die "cannot build hello_fcgi"
	HSTATE="$STATE/hello"
	mkdir -p "$HSTATE/nginx-tmp" && chmod 0755 "$HSTATE"
	group=()
	sl_is_root && group=(-U www-data -G www-data)
	spawn-fcgi -s "$HSTATE/hello.sock" -M 0660 "${group[@]}" -F "$(nproc)" \
		-P "$HSTATE/hello.pids" -- "$SL_ROOT/build/bench/hello_fcgi" >/dev/null ||
		sl_die "spawn-fcgi failed"
	trap 'xargs -r kill <"$HSTATE/hello.pids" 2>/dev/null; sl_teardown; rm -rf "$STATE"' EXIT
	HHTTP=$(sl_free_port)
	sl_start_nginx "$HSTATE" "$HHTTP" "$HSTATE/hello.sock" || exit 1
	rps() {	# rps URL: requests per second of one 5 s wrk run
		wrk -t2 -c16 -d5s -H "Authorization: Bearer $TOKEN" "$1" 2>&1 |
			awk '/Requests\/sec/ { printf "%d", $2 }'
	}
	# versus LABEL: 3 alternating rounds, streamlag then the baseline.
	versus() {
		local i s=() h=() ms mh
		for i in 1 2 3; do
			s+=("$(rps "http://127.0.0.1:$HTTP$P")")
			h+=("$(rps "http://127.0.0.1:$HHTTP$P")")
		done
		ms=$(printf '%s\n' "${s[@]}" | median)
		mh=$(printf '%s\n' "${h[@]}" | median)
		printf '%-62s %8s\n' "$1: req/s (hello-world $mh)" \
			"$ms = $(( ms * 100 / (mh > 0 ? mh : 1) )) %"
	}
	echo
	echo "against a hello-world FastCGI behind the same nginx, $(nproc) workers, wrk -t2 -c16, median of 3 x 5 s:"
	R FLUSHALL >/dev/null
	sl_seed_example "$PORT"
	versus "seed example, groups behind"
	for s in events:chat events:ticket; do
		R XREADGROUP GROUP signalr-consumers instance-1 COUNT 1000 STREAMS "$s" '>' >/dev/null
	done
	versus "the same data, every group caught up"
	# Live traffic: 5 entries added to each stream and 5 read and
	# acknowledged, 100 times a second, while wrk runs.
	redis-cli -p "$PORT" -r -1 -i 0.01 EVAL "for _, k in ipairs(KEYS) do
		for i = 1, 5 do redis.call('XADD', k, 'MAXLEN', '~', 1000, '*', 'f', 'v') end
		local r = redis.call('XREADGROUP', 'GROUP', 'signalr-consumers', 'c1',
		    'COUNT', 5, 'STREAMS', k, '>')
		if r then for _, e in ipairs(r[1][2]) do
			redis.call('XACK', k, 'signalr-consumers', e[1]) end end
	end return 1" 3 events:chat events:ticket events:remote >/dev/null 2>&1 &
	live=$!
	versus "under live traffic (producers and consumers running)"
	kill "$live" 2>/dev/null; wait "$live" 2>/dev/null || true
fi

if [ "${BENCH:-all}" = all ]; then
	sl_teardown
	echo
	"$(dirname "$0")/bench_scale.sh"
	echo
	"$(dirname "$0")/bench_tls.sh"
	echo
	"$(dirname "$0")/bench_cluster.sh"
fi
