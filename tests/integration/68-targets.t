#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Named targets: two redis-servers and a Redis Cluster watched by one
# streamlag serve behind nginx.  Each ?target= answer is its own server's truth, /metrics?target=
# is that target's families alone, /api/v1/events/targets lists both, an
# unknown name is a 400; and a target frozen with SIGSTOP costs only the
# requests that ask for it.
. "$(dirname "$0")/common.sh"

# alpha: the seed's example, read through the plain settings (the global
# setting is each target's default).
mkdir -p "$STATE/alpha" "$STATE/beta"
APORT=$(sl_free_port)
sl_start_redis "$STATE/alpha" "$APORT" || exit 1
sl_seed_example "$APORT"
# beta: a stream and a group of its own, named only in beta's variables.
BPORT=$(sl_free_port)
sl_start_redis "$STATE/beta" "$BPORT" || exit 1
BETA_PID=$SL_REDIS_PID
{
	echo "XGROUP CREATE orders:eu billing 0 MKSTREAM"
	for i in $(seq 1 30); do echo "XADD orders:eu * n $i"; done
	echo "XREADGROUP GROUP billing w1 COUNT 12 STREAMS orders:eu >"
} | redis-cli -p "$BPORT" >/dev/null

# gamma: a Redis Cluster of 3 masters, two streams in different slots, 10
# entries each; w1 of g read 4 of cl:1 and all of cl:2 (lag 6 and 0).
start_cluster 3 0 || exit 1
for k in cl:1 cl:2; do
	"$CLUSTER_CLI" -c -p "${CLUSTER_PORTS[0]}" XGROUP CREATE "$k" g 0 MKSTREAM >/dev/null
	for i in $(seq 1 10); do "$CLUSTER_CLI" -c -p "${CLUSTER_PORTS[0]}" XADD "$k" '*' n "$i" >/dev/null; done
done
"$CLUSTER_CLI" -c -p "${CLUSTER_PORTS[0]}" XREADGROUP GROUP g w1 COUNT 4 STREAMS cl:1 '>' >/dev/null
"$CLUSTER_CLI" -c -p "${CLUSTER_PORTS[0]}" XREADGROUP GROUP g w1 COUNT 10 STREAMS cl:2 '>' >/dev/null
export STREAMLAG_TARGET_GAMMA_REDIS_URL=$REDIS_URL
export STREAMLAG_TARGET_GAMMA_STREAMS=cl:1,cl:2 STREAMLAG_TARGET_GAMMA_CONSUMER_GROUP=g
unset REDIS_URL

export STREAMLAG_TARGETS=alpha,beta,gamma
export STREAMLAG_TARGET_ALPHA_REDIS_URL
STREAMLAG_TARGET_ALPHA_REDIS_URL=$(sl_redis_url "$APORT")
export STREAMLAG_TARGET_BETA_REDIS_URL
STREAMLAG_TARGET_BETA_REDIS_URL=$(sl_redis_url "$BPORT")
export STREAMLAG_TARGET_BETA_STREAMS=orders:eu
export STREAMLAG_TARGET_BETA_CONSUMER_GROUP=billing
export STREAMLAG_REDIS_TIMEOUT_MS=300
# alpha and beta wait 1 s for a reply: two of them frozen at once cost the
# targets list 1 s (in parallel), not 2 s (one after the other).
export STREAMLAG_TARGET_ALPHA_REDIS_TIMEOUT_MS=1000 STREAMLAG_TARGET_BETA_REDIS_TIMEOUT_MS=1000
# No sampler: Redis's command counts below are the requests' alone.
export STREAMLAG_SAMPLE_MS=0
serve_behind_nginx --workers 2
BASE="http://127.0.0.1:$HTTP"
TOKEN=$("$SL_BIN" token --ttl 600)

req() {	# req PATH: prints "status time_ms", body in $STATE/body
	curl -s -o "$STATE/body" -w '%{http_code} %{time_total}' \
		-H "Authorization: Bearer $TOKEN" "$BASE$1" |
		awk '{ printf "%s %d\n", $1, $2 * 1000 }'
}
metric() { awk -v m="$1" 'index($0, m " ") == 1 { print $NF }' "$STATE/body"; }

read -r st _ < <(req /api/v1/events/consumer-lag?target=alpha)
is "$st:$(jq -c .total_lag "$STATE/body")" "200:168" "alpha: the seed's total lag"
read -r st _ < <(req /api/v1/events/consumer-lag?target=beta)
is "$st:$(jq -c '[.total_lag, .consumer_group, (.streams | keys)]' "$STATE/body")" \
	'200:[18,"billing",["orders:eu"]]' "beta: its own stream and group (30 added, 12 read)"
read -r st _ < <(req /api/v1/events/consumer-lag)
is "$st:$(jq -c .total_lag "$STATE/body")" "200:168" "no ?target=: the first named target"
read -r st _ < <(req /api/v1/events/consumer-lag?target=BETA)
is "$st:$(jq -c .total_lag "$STATE/body")" "200:18" "names are case-insensitive"
read -r st _ < <(req "/api/v1/events/consumer-lag?group=w&target=beta")
is "$st:$(jq -c '[.consumer_group, .streams["orders:eu"].lag]' "$STATE/body")" '200:["w",0]' \
	"?group= applies to the target chosen, whatever the order (no such group: lag 0)"
read -r st _ < <(req /api/v1/events/health?target=beta)
is "$st:$(jq -r .status "$STATE/body")" "200:healthy" "health?target=beta: 18 is under the threshold"
read -r st _ < <(req /api/v1/events/streams?target=beta)
is "$st:$(jq -c '.streams | map(.length)' "$STATE/body" 2>/dev/null || cat "$STATE/body")" \
	"200:[30]" "streams?target=beta: XLEN of beta's stream"
read -r st _ < <(req /api/v1/events/consumer-lag?target=gamma)
is "$st:$(jq -c '[.total_lag, .streams["cl:1"].lag, .streams["cl:2"].lag]' "$STATE/body")" \
	'200:[6,6,0]' "gamma (a cluster): each stream from its own master"
read -r st _ < <(req /api/v1/events/consumer-lag?target=delta)
is "$st:$(cat "$STATE/body")" \
	'400:{"error":"target: \"delta\" is not a configured target","code":"bad_query"}' \
	"unknown target: 400 with the error shape"

read -r st _ < <(req /metrics?target=beta)
is "$st:$(metric 'event_consumer_lag{stream="orders:eu",consumer_group="billing"}')" 200:18 \
	"/metrics?target=beta: beta's seed gauge, same name and labels"
is "$(grep -c 'events:chat\|^streamlag_build_info\|^streamlag_http_requests_total' "$STATE/body")" 0 \
	"/metrics?target=beta: beta's families only"
if command -v promtool >/dev/null; then
	promtool check metrics <"$STATE/body" >"$STATE/promtool.out" 2>&1
	ok $? "promtool check metrics on /metrics?target=beta"
fi
read -r st _ < <(req /metrics?target=gamma)
is "$st:$(metric 'event_consumer_lag{stream="cl:1",consumer_group="g"}')" 200:6 \
	"/metrics?target=gamma: the cluster's seed gauge"
if command -v promtool >/dev/null; then
	promtool check metrics <"$STATE/body" >"$STATE/promtool.out" 2>&1
	ok $? "promtool check metrics on /metrics?target=gamma"
fi
read -r st _ < <(req /metrics?target=alpha)
is "$st:$(metric 'event_consumer_lag{stream="events:chat",consumer_group="signalr-consumers"}')" 200:123 \
	"/metrics?target=alpha: alpha's seed gauge"
if command -v promtool >/dev/null; then
	promtool check metrics <"$STATE/body" >"$STATE/promtool.out" 2>&1
	ok $? "promtool check metrics on /metrics?target=alpha"
fi
read -r st _ < <(req /metrics)
is "$st:$(metric 'event_consumer_lag{stream="events:chat",consumer_group="signalr-consumers"}'):$(grep -c '^streamlag_build_info' "$STATE/body")" \
	200:123:1 "/metrics: the default target's families and streamlag's own"

read -r st _ < <(req /api/v1/events/targets)
is "$st:$(jq -c '[.default, (.targets[] | [.name, .mode, .nodes, .up, .server, .status])]' "$STATE/body")" \
	'200:["alpha",["alpha","standalone",1,true,"redis","degraded"],["beta","standalone",1,true,"redis","healthy"],["gamma","cluster",3,true,"redis","healthy"]]' \
	"/api/v1/events/targets lists the three, gamma a cluster of 3 masters"
is "$(jq -r '.targets[1].version' "$STATE/body")" \
	"$(redis-cli -p "$BPORT" INFO server | tr -d '\r' | awk -F: '$1 == "redis_version" { print $2 }')" \
	"the version is INFO server's"

# The targets list costs one batch per target: each Redis's own command
# counts (INFO commandstats) move by one XINFO GROUPS per monitored stream
# and nothing else.  INFO (server, once per connection; cluster, the mode)
# and CLUSTER SLOTS are a connection's setup, counted apart; the requests
# before this one have set both workers' connections up.
calls() {	# calls PORT...: "xinfo_groups other" calls so far on those Redis
	for p in "$@"; do redis-cli -p "$p" INFO commandstats; done | tr -d '\r' |
		awk -F'[:=,]' '/^cmdstat_(info|cluster)/ { next }
			/^cmdstat_xinfo\|groups:/ { x += $3; next }
			/^cmdstat_/ { o += $3 }
			END { printf "%d %d\n", x, o }'
}
for i in 1 2 3 4; do req /api/v1/events/targets >/dev/null; done
a0=$(calls "$APORT") b0=$(calls "$BPORT") g0=$(calls "${CLUSTER_PORTS[@]}")
read -r st _ < <(req /api/v1/events/targets)
a1=$(calls "$APORT") b1=$(calls "$BPORT") g1=$(calls "${CLUSTER_PORTS[@]}")
delta() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%d %d", y[1] - x[1], y[2] - x[2] }'; }
is "$st:$(delta "$a0" "$a1"):$(delta "$b0" "$b1"):$(delta "$g0" "$g1")" "200:3 0:1 0:2 0" \
	"/targets: alpha 3 XINFO GROUPS (its 3 streams), beta 1, gamma 2, nothing else"
is "$(jq -c '[.targets[] | [.name, .round_trips, .groups, .lag_unknown]]' "$STATE/body")" \
	'[["alpha",1,3,0],["beta",1,1,0],["gamma",'"$(jq '.targets[2].round_trips' "$STATE/body")"',2,0]]' \
	"/targets: one round trip for each standalone target; each of gamma's masters at most once"
ok "$( (( $(jq '.targets[2].round_trips' "$STATE/body") <= 2 )); echo $?)" \
	"/targets: gamma's two streams cost at most one round trip on each master holding one"

# The command line: --target picks one.
out=$("$SL_BIN" get --target beta /api/v1/events/consumer-lag)
is "$?:$(jq -c .total_lag <<<"$out")" 0:18 "streamlag get --target beta"
"$SL_BIN" get --target delta /healthz >/dev/null 2>&1
is "$?" 2 "streamlag get --target delta: usage error"
# A --config file names per-target settings too (and they pass its
# unknown-key check): beta's threshold lowered under its lag of 18.
printf 'STREAMLAG_TARGET_BETA_LAG_DEGRADED=10\n' >"$STATE/targets.env"
out=$("$SL_BIN" get --config "$STATE/targets.env" --target beta /api/v1/events/health)
is "$?:$(jq -r .status <<<"$out")" 0:degraded "--config file: STREAMLAG_TARGET_BETA_LAG_DEGRADED applies"
out=$("$SL_BIN" get --config "$STATE/targets.env" /api/v1/events/health?target=beta)
is "$?:$(jq -r .status <<<"$out")" 0:degraded "--config file: and so through ?target="
printf 'STREAMLAG_TARGET_BETA_WORKERS=2\n' >"$STATE/bad.env"
out=$("$SL_BIN" get --config "$STATE/bad.env" /healthz 2>&1)
is "$?" 2 "--config file: a process-wide setting under a target's prefix is an unknown key"
out=$("$SL_BIN" top --target beta --once 2>&1)
like "$out" 'orders:eu' "streamlag top --target beta --once"

# A real Prometheus with docs/prometheus/scrape-targets.yml (plain HTTP on
# loopback, 1 s intervals): one job scrapes /metrics?target= per name, the
# instance label is the name; the plain job keeps streamlag's own families.
if command -v prometheus >/dev/null; then
	"$SL_BIN" token --sub prometheus --ttl 600 >"$STATE/streamlag.token"
	PROM=$(sl_free_port)
	{
		printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n'
		sed -e "s/[[:space:]]*#.*//" -e "/^$/d" -e "/scrape_interval\|scrape_timeout\|ca_file\|tls_config/d" \
			-e "s#scheme: https#scheme: http#" \
			-e "s#streamlag.example.com:443#127.0.0.1:$HTTP#" \
			-e 's#\["orders", "chat", "cache"\]#["alpha", "beta"]#' \
			-e "s#/etc/prometheus/streamlag.token#$STATE/streamlag.token#" \
			-e "/^rule_files/,\$d" \
			"$SL_ROOT/docs/prometheus/scrape-targets.yml"
	} >"$STATE/prometheus.yml"
	prometheus --config.file="$STATE/prometheus.yml" --storage.tsdb.path="$STATE/prometheus" \
		--web.listen-address="127.0.0.1:$PROM" >"$STATE/prometheus.log" 2>&1 &
	PROM_PID=$!
	SL_PIDS+=("$PROM_PID")
	sl_wait_ready "$PROM_PID" 20 "prometheus on port $PROM" curl -sf "http://127.0.0.1:$PROM/-/ready"
	query() { curl -s --data-urlencode "query=$1" "http://127.0.0.1:$PROM/api/v1/query" | jq -r '[.data.result[].value[1]] | join(",")'; }
	scraped() { [ "$(query "$1")" = "$2" ]; }
	sl_wait_for 20 "beta's lag in Prometheus" scraped 'event_consumer_lag{job="streamlag-targets",instance="beta"}' 18
	is "$(query 'event_consumer_lag{job="streamlag-targets",instance="beta",stream="orders:eu",consumer_group="billing"}')" 18 \
		"Prometheus: beta's seed series under instance=\"beta\""
	sl_wait_for 20 "alpha's lag in Prometheus" scraped 'event_consumer_lag{instance="alpha",stream="events:chat"}' 123
	is "$(query 'event_consumer_lag{instance="alpha",stream="events:chat"}')" 123 \
		"Prometheus: alpha's seed series under instance=\"alpha\""
	sl_wait_for 20 "streamlag's own families" scraped 'count(streamlag_build_info)' 1
	is "$(query 'count(streamlag_build_info)'):$(query 'count(event_consumer_lag{job="streamlag"})')" "1:" \
		"Prometheus: streamlag's own families once, no target series from the plain job"
	sl_stop_pid "$PROM_PID"
fi

# beta frozen: alpha keeps answering fast; beta gives its 503 by its own
# 300 ms timeout (then fails fast during its back-off).
kill -STOP "$BETA_PID"
read -r st ms < <(req /api/v1/events/consumer-lag?target=beta)
is "$st:$(jq -r .code "$STATE/body")" "503:redis_unavailable" "beta frozen: 503"
ok "$( (( ms >= 250 && ms < 3000 )); echo $?)" "beta frozen: the 503 comes by beta's deadline (${ms} ms)"
slow=0
for i in 1 2 3 4 5 6; do
	read -r st ms < <(req /api/v1/events/consumer-lag?target=alpha)
	[ "$st" = 200 ] && (( ms < 500 )) || { slow=$((slow + 1)); echo "# alpha: $st in $ms ms"; }
	read -r st ms < <(req /metrics?target=alpha)
	[ "$st" = 200 ] && (( ms < 500 )) || { slow=$((slow + 1)); echo "# alpha metrics: $st in $ms ms"; }
	read -r st ms < <(req /api/v1/events/consumer-lag?target=gamma)
	[ "$st" = 200 ] && (( ms < 500 )) || { slow=$((slow + 1)); echo "# gamma: $st in $ms ms"; }
done
is "$slow" 0 "beta frozen: every alpha and gamma answer is a 200 within 500 ms (both workers)"
read -r st _ < <(req /api/v1/events/targets)
is "$st:$(jq -c '[.targets[] | [.name, .up]]' "$STATE/body")" '200:[["alpha",true],["beta",false],["gamma",true]]' \
	"beta frozen: /targets says it is down"
kill -CONT "$BETA_PID"

# After SIGCONT: polled until beta answers again (its back-off passes).
t0=$(sl_now_ms) st=0
until [ "$st" = 200 ] || (( $(sl_now_ms) - t0 > 10000 )); do
	read -r st _ < <(req /api/v1/events/consumer-lag?target=beta)
	[ "$st" = 200 ] || sleep 0.05
done
is "$st:$(jq -c .total_lag "$STATE/body")" "200:18" "beta thawed: right again"
# Each worker keeps its own back-off: polled until the one that saw beta
# frozen in /targets has passed it too.
t0=$(sl_now_ms) got=""
want='[["alpha",true],["beta",true],["gamma",true]]'
until [ "$got" = "$want" ] || (( $(sl_now_ms) - t0 > 10000 )); do
	read -r st _ < <(req /api/v1/events/targets)
	got=$(jq -c '[.targets[] | [.name, .up]]' "$STATE/body")
	[ "$got" = "$want" ] || sleep 0.05
done
is "$st:$got" "200:$want" "beta thawed: /targets says all are up"

# alpha and beta frozen together: the targets list answers by one target's
# deadline (1 s), not by the sum of the two (2 s); gamma is up meanwhile.
APID=$(redis-cli -p "$APORT" INFO server | tr -d '\r' | awk -F: '$1 == "process_id" { print $2 }')
kill -STOP "$APID" "$BETA_PID"
read -r st ms < <(req /api/v1/events/targets)
kill -CONT "$APID" "$BETA_PID"
is "$st:$(jq -c '[.targets[] | [.name, .up]]' "$STATE/body")" \
	'200:[["alpha",false],["beta",false],["gamma",true]]' "alpha and beta frozen: both down, gamma up"
ok "$( (( ms >= 900 && ms < 1800 )); echo $?)" \
	"alpha and beta frozen: the answer comes by one 1 s deadline, not two (${ms} ms)"
ok "$( (( $(jq '[.targets[0].elapsed_ms, .targets[1].elapsed_ms] | max' "$STATE/body") < 1500 )); echo $?)" \
	"each frozen target cost its own deadline ($(jq -c '[.targets[].elapsed_ms]' "$STATE/body") ms)"

done_testing
