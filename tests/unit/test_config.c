/* SPDX-License-Identifier: ISC */
/* Configuration: defaults, every parser at its limits, and errors that name
 * the variable without echoing a secret. */
#include <sys/stat.h>

#include <stdio.h>
#include <unistd.h>

#include "sl_test.h"
#include "streamlag/alloc.h"
#include "streamlag/auth.h"
#include "streamlag/config.h"
#include "streamlag/sentinel.h"
#include "streamlag/tls.h"

/* A lookup over a NULL-terminated list of "NAME=VALUE". */
static const char *
table_lookup(void *ctx, const char *name)
{
	const char *const *kv = ctx;
	size_t n = strlen(name);

	for (; *kv != NULL; kv++)
		if (strncmp(*kv, name, n) == 0 && (*kv)[n] == '=')
			return *kv + n + 1;
	return NULL;
}

static int
load(struct sl_config *cfg, const char **kv, char *err, size_t errlen)
{
	return sl_config_load(cfg, table_lookup, (void *)kv, err, errlen);
}

/* Expects a load error starting with `prefix`. */
static void
load_fails(const char **kv, const char *prefix)
{
	struct sl_config cfg;
	char err[512];

	assert_int_equal(load(&cfg, kv, err, sizeof(err)), -1);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("error \"%s\" does not start with \"%s\"", err, prefix);
	sl_config_free(&cfg);	/* harmless after a failed load */
}

static void
defaults(void **state)
{
	const char *kv[] = { NULL };
	struct sl_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(load(&cfg, kv, err, sizeof(err)), 0);
	assert_int_equal(cfg.redis.kind, SL_REDIS_TCP);
	assert_string_equal(cfg.redis.host, "localhost");
	assert_int_equal(cfg.redis.port, 6380);
	assert_int_equal(cfg.redis.db, 0);
	assert_null(cfg.redis.password);
	assert_string_equal(cfg.consumer_group, "signalr-consumers");
	assert_int_equal(cfg.use_redis_streams, 0);
	assert_int_equal(cfg.stream_max_len, 0);
	assert_int_equal(cfg.nstreams, 3);
	assert_string_equal(cfg.streams[0], "events:chat");
	assert_string_equal(cfg.streams[1], "events:ticket");
	assert_string_equal(cfg.streams[2], "events:remote");
	assert_int_equal(cfg.lag_degraded, 100);
	assert_int_equal(cfg.lag_unhealthy, 1000);
	assert_int_equal(cfg.stall_ms, 60000);
	assert_int_equal(cfg.redis_timeout_ms, 1000);
	assert_string_equal(cfg.jwt_alg, "HS256");
	assert_null(cfg.jwt_key);
	assert_null(cfg.jwt_issuer);
	assert_null(cfg.jwt_audience);
	assert_int_equal(cfg.jwt_leeway_s, 30);
	assert_string_equal(cfg.listen, "unix:/run/streamlag/streamlag.sock");
	assert_int_equal(cfg.workers, 0);
	assert_int_equal(cfg.socket_mode, 0660);
	assert_string_equal(cfg.socket_group, "www-data");
	sl_config_free(&cfg);
	sl_config_free(&cfg);	/* twice is harmless */
}

static void
booleans_like_pydantic(void **state)
{
	const char *yes[] = { "1", "on", "t", "true", "y", "yes", "TRUE", " Yes ",
	    "On" };
	const char *no[] = { "0", "off", "f", "false", "n", "no", "FALSE", "No" };
	const char *bad[] = { "maybe", "", "2", "tru", "yes please", "enable" };
	int v;

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		v = -1;
		assert_int_equal(sl_parse_bool(yes[i], &v), 0);
		assert_int_equal(v, 1);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		v = -1;
		assert_int_equal(sl_parse_bool(no[i], &v), 0);
		assert_int_equal(v, 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sl_parse_bool(bad[i], &v), -1);
	{
		const char *kv[] = { "EVENT_TRANSPORT_USE_REDIS_STREAMS=maybe", NULL };
		load_fails(kv, "EVENT_TRANSPORT_USE_REDIS_STREAMS: expected a "
		    "boolean (true/false, 1/0, yes/no, on/off), got \"maybe\"");
	}
}

static void
integers_at_their_limits(void **state)
{
	struct { const char *ok, *bad, *msg; } cases[] = {
		{ .ok = "STREAMLAG_REDIS_TIMEOUT_MS=10",
		  .bad = "STREAMLAG_REDIS_TIMEOUT_MS=9",
		  .msg = "STREAMLAG_REDIS_TIMEOUT_MS: expected an integer "
		      "from 10 to 60000" },
		{ .ok = "STREAMLAG_REDIS_TIMEOUT_MS=60000",
		  .bad = "STREAMLAG_REDIS_TIMEOUT_MS=60001",
		  .msg = "STREAMLAG_REDIS_TIMEOUT_MS: expected an integer" },
		{ .ok = "STREAMLAG_JWT_LEEWAY_S=60",
		  .bad = "STREAMLAG_JWT_LEEWAY_S=61",
		  .msg = "STREAMLAG_JWT_LEEWAY_S: expected an integer "
		      "from 0 to 60" },
		{ .ok = "STREAMLAG_JWT_LEEWAY_S=0",
		  .bad = "STREAMLAG_JWT_LEEWAY_S=-1",
		  .msg = "STREAMLAG_JWT_LEEWAY_S: expected" },
		{ .ok = "STREAMLAG_STALL_MS=1",
		  .bad = "STREAMLAG_STALL_MS=0",
		  .msg = "STREAMLAG_STALL_MS: expected an integer from 1" },
		{ .ok = "STREAMLAG_WORKERS=256",
		  .bad = "STREAMLAG_WORKERS=257",
		  .msg = "STREAMLAG_WORKERS: expected an integer from 0 to 256" },
		{ .ok = "STREAMLAG_LAG_DEGRADED=1",
		  .bad = "STREAMLAG_LAG_DEGRADED=0",
		  .msg = "STREAMLAG_LAG_DEGRADED: expected an integer from 1" },
		{ .ok = "EVENT_TRANSPORT_STREAM_MAX_LEN=1",
		  .bad = "EVENT_TRANSPORT_STREAM_MAX_LEN=0",
		  .msg = "EVENT_TRANSPORT_STREAM_MAX_LEN: expected an integer "
		      "from 1" },
		{ .ok = "STREAMLAG_LAG_UNHEALTHY= 5000 ",
		  .bad = "STREAMLAG_LAG_UNHEALTHY=5k",
		  .msg = "STREAMLAG_LAG_UNHEALTHY: expected an integer" },
		{ .ok = "STREAMLAG_SOCKET_MODE=0777",
		  .bad = "STREAMLAG_SOCKET_MODE=0778",
		  .msg = "STREAMLAG_SOCKET_MODE: expected an octal mode" },
	};
	long long v;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *good[] = { cases[i].ok, NULL };
		const char *bad[] = { cases[i].bad, NULL };
		struct sl_config cfg;
		char err[512];

		if (load(&cfg, good, err, sizeof(err)) != 0)
			fail_msg("%s: %s", cases[i].ok, err);
		sl_config_free(&cfg);
		load_fails(bad, cases[i].msg);
	}
	assert_int_equal(sl_parse_ll("9223372036854775808", 0, 1, &v), -1);
	assert_int_equal(sl_parse_ll("", 0, 1, &v), -1);
	assert_int_equal(sl_parse_ll("12x", 0, 100, &v), -1);
	assert_int_equal(sl_parse_ll(" 42 ", 0, 100, &v), 0);
	assert_int_equal(v, 42);
}

static void
thresholds_in_order(void **state)
{
	const char *kv[] = { "STREAMLAG_LAG_DEGRADED=500",
	    "STREAMLAG_LAG_UNHEALTHY=400", NULL };

	(void)state;
	load_fails(kv, "STREAMLAG_LAG_DEGRADED: expected at most "
	    "STREAMLAG_LAG_UNHEALTHY (400), got 500");
}

/* Several seed nodes: the first is host:port too; each keeps its own
 * port or 6379; an empty one, a bad port or one too many is refused. */
static void
redis_url_seeds(void **state)
{
	struct sl_redis_addr a;
	char	 err[256], many[64 * 12 + 32];
	size_t	 o;

	(void)state;
	assert_int_equal(sl_parse_redis_url("redis://u:p@h1:7001,[::1]:7002,h3/0",
	    &a, err, sizeof(err)), 0);
	assert_string_equal(a.host, "h1");
	assert_int_equal(a.port, 7001);
	assert_int_equal(a.nseeds, 3);
	assert_string_equal(a.seeds[1].host, "::1");
	assert_int_equal(a.seeds[1].port, 7002);
	assert_string_equal(a.seeds[2].host, "h3");
	assert_int_equal(a.seeds[2].port, 6379);
	assert_string_equal(a.user, "u");
	assert_int_equal(a.db, 0);
	sl_redis_addr_free(&a);
	assert_int_equal(sl_parse_redis_url("redis://h1:7001,,h2", &a, err,
	    sizeof(err)), -1);
	assert_int_equal(sl_parse_redis_url("redis://h1:7001,h2:0", &a, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "REDIS_URL: expected a port from 1 to 65535");
	/* 64 seeds at most: 64 pass, 65 do not. */
	o = (size_t)snprintf(many, sizeof(many), "redis://h");
	for (int i = 1; i < 64; i++)
		o += (size_t)snprintf(many + o, sizeof(many) - o, ",h%d", i);
	assert_int_equal(sl_parse_redis_url(many, &a, err, sizeof(err)), 0);
	assert_int_equal(a.nseeds, 64);
	sl_redis_addr_free(&a);
	snprintf(many + o, sizeof(many) - o, ",h64");
	assert_int_equal(sl_parse_redis_url(many, &a, err, sizeof(err)), -1);
	assert_string_equal(err, "REDIS_URL: more than 64 seed nodes");
}

/* STREAMLAG_REDIS_MODE; a database other than 0 with mode cluster is
 * refused at load. */
static void
redis_modes(void **state)
{
	struct sl_config cfg;
	char	 err[256];
	const char *clus[] = { "STREAMLAG_REDIS_MODE=cluster", NULL };
	const char *bad[] = { "STREAMLAG_REDIS_MODE=sentinel", NULL };
	const char *db[] = { "STREAMLAG_REDIS_MODE=cluster",
	    "REDIS_URL=redis://h/2", NULL };

	(void)state;
	assert_int_equal(load(&cfg, clus, err, sizeof(err)), 0);
	assert_int_equal(cfg.redis_mode, SL_MODE_CLUSTER);
	assert_int_equal(cfg.request_timeout_ms, 10000);
	sl_config_free(&cfg);
	assert_int_equal(load(&cfg, bad, err, sizeof(err)), -1);
	assert_string_equal(err, "STREAMLAG_REDIS_MODE: expected auto, "
	    "standalone or cluster, got \"sentinel\"");
	assert_int_equal(load(&cfg, db, err, sizeof(err)), -1);
	assert_string_equal(err, "REDIS_URL: database 2 with "
	    "STREAMLAG_REDIS_MODE=cluster: a Redis Cluster has only database 0");
}

/* redis-sentinel://: the nodes' credentials and database, the first
 * sentinel as host:port; the sentinel rows; READ_FROM; rediss-sentinel://
 * with its TLS context; cluster mode refused. */
static void
sentinel_urls(void **state)
{
	struct sl_config cfg;
	char	 err[512], *safe;
	const char *kv[] = { "REDIS_URL=redis-sentinel://u:p%40ss@s1:26380,"
	    "[::1]/mymaster/3", "STREAMLAG_SENTINEL_USERNAME=su",
	    "STREAMLAG_SENTINEL_PASSWORD=sp", "STREAMLAG_READ_FROM=replica",
	    "STREAMLAG_ROLE_CHECK_MS=0", NULL };
	const char *dflt[] = { "REDIS_URL=redis-sentinel://s1/m", NULL };
	const char *tls[] = { "REDIS_URL=rediss-sentinel://s1/m", NULL };
	const char *tlsnoca[] = { "REDIS_URL=rediss-sentinel://s1/m",
	    "STREAMLAG_REDIS_TLS_CA_FILE=/nonexistent/ca.pem", NULL };
	const char *clus[] = { "REDIS_URL=redis-sentinel://s1/m",
	    "STREAMLAG_REDIS_MODE=cluster", NULL };
	const char *noname[] = { "REDIS_URL=redis-sentinel://s1", NULL };
	const char *rf[] = { "STREAMLAG_READ_FROM=slave", NULL };

	(void)state;
	assert_int_equal(load(&cfg, kv, err, sizeof(err)), 0);
	assert_int_equal(cfg.redis.kind, SL_REDIS_SENTINEL);
	assert_string_equal(cfg.redis.host, "s1");
	assert_int_equal(cfg.redis.port, 26380);
	assert_int_equal(cfg.redis.db, 3);
	assert_string_equal(cfg.redis.user, "u");
	assert_string_equal(cfg.redis.password, "p@ss");
	assert_string_equal(cfg.redis.sentinel_user, "su");
	assert_string_equal(cfg.redis.sentinel_password, "sp");
	assert_int_equal(cfg.redis.read_from, SL_READ_REPLICA);
	assert_int_equal(cfg.redis.role_check_ms, 0);
	assert_string_equal(cfg.redis_url_safe,
	    "redis-sentinel://u:***@s1:26380,[::1]/mymaster/3");
	safe = strstr(cfg.redis_url_safe, "p%40ss");
	assert_null(safe);
	sl_config_free(&cfg);
	assert_int_equal(load(&cfg, dflt, err, sizeof(err)), 0);
	assert_int_equal(cfg.redis.port, 26379);
	assert_int_equal(cfg.redis.read_from, SL_READ_MASTER);
	assert_int_equal(cfg.redis.role_check_ms, 1000);
	assert_null(cfg.redis.sentinel_user);
	assert_null(cfg.redis.password);
	sl_config_free(&cfg);
	/* rediss-sentinel://: TLS to the sentinels and the nodes, from one
	 * context built at load (its CA file read then). */
	assert_int_equal(load(&cfg, tls, err, sizeof(err)), 0);
	assert_int_equal(cfg.redis.kind, SL_REDIS_SENTINEL);
	assert_int_equal(cfg.redis.tls, 1);
	assert_non_null(cfg.redis.tls_ctx);
	assert_int_equal(sl_tls_ctx_verifies(cfg.redis.tls_ctx), 1);
	assert_int_equal(cfg.redis.sentinel->tls, 1);
	assert_string_equal(cfg.redis_url_safe, "rediss-sentinel://s1/m");
	sl_config_free(&cfg);
	load_fails(tlsnoca, "STREAMLAG_REDIS_TLS_CA_FILE /nonexistent/ca.pem: ");
	load_fails(clus, "REDIS_URL: a redis-sentinel:// URL with "
	    "STREAMLAG_REDIS_MODE=cluster");
	load_fails(noname, "REDIS_URL: expected the master name");
	load_fails(rf, "STREAMLAG_READ_FROM: expected master, replica or "
	    "prefer-replica, got \"slave\"");
}

static void
redis_urls(void **state)
{
	struct sl_redis_addr a;
	char err[256];

	(void)state;
	assert_int_equal(sl_parse_redis_url("redis://app:p%40ss%3Aw@10.0.0.5:6390/3",
	    &a, err, sizeof(err)), 0);
	assert_string_equal(a.host, "10.0.0.5");
	assert_int_equal(a.port, 6390);
	assert_string_equal(a.user, "app");
	assert_string_equal(a.password, "p@ss:w");
	assert_int_equal(a.db, 3);
	sl_redis_addr_free(&a);

	assert_int_equal(sl_parse_redis_url("redis://:only@h", &a, err,
	    sizeof(err)), 0);
	assert_null(a.user);
	assert_string_equal(a.password, "only");
	assert_int_equal(a.port, 6379);
	sl_redis_addr_free(&a);

	assert_int_equal(sl_parse_redis_url("redis://[::1]:7000?db=9", &a, err,
	    sizeof(err)), 0);
	assert_string_equal(a.host, "::1");
	assert_int_equal(a.port, 7000);
	assert_int_equal(a.db, 9);
	sl_redis_addr_free(&a);

	assert_int_equal(sl_parse_redis_url("unix:///run/redis/redis.sock?db=2",
	    &a, err, sizeof(err)), 0);
	assert_int_equal(a.kind, SL_REDIS_UNIX);
	assert_string_equal(a.path, "/run/redis/redis.sock");
	assert_int_equal(a.db, 2);
	sl_redis_addr_free(&a);

	/* rediss:// is redis:// over TLS: the same forms, tls set. */
	assert_int_equal(sl_parse_redis_url("rediss://u:p%40ss@h1:6380,h2/0", &a,
	    err, sizeof(err)), 0);
	assert_int_equal(a.tls, 1);
	assert_int_equal(a.kind, SL_REDIS_TCP);
	assert_string_equal(a.host, "h1");
	assert_int_equal(a.port, 6380);
	assert_int_equal(a.nseeds, 2);
	assert_string_equal(a.password, "p@ss");
	assert_null(a.tls_ctx);
	sl_redis_addr_free(&a);
	assert_int_equal(sl_parse_redis_url("redis://h", &a, err, sizeof(err)),
	    0);
	assert_int_equal(a.tls, 0);
	sl_redis_addr_free(&a);
	assert_int_equal(sl_parse_redis_url("redissx://h", &a, err,
	    sizeof(err)), -1);
	assert_int_equal(sl_parse_redis_url("http://h", &a, err, sizeof(err)), -1);
	assert_true(strncmp(err, "REDIS_URL: expected redis://", 28) == 0);
	assert_int_equal(sl_parse_redis_url("redis://u:secret@h:0", &a, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "REDIS_URL: expected a port from 1 to 65535");
	assert_int_equal(sl_parse_redis_url("redis://u:secret@h:65536", &a, err,
	    sizeof(err)), -1);
	assert_int_equal(sl_parse_redis_url("redis://h/x", &a, err, sizeof(err)), -1);
	assert_string_equal(err, "REDIS_URL: expected a database number from 0 "
	    "to 100000");
	assert_int_equal(sl_parse_redis_url("redis://u:%zz@h", &a, err,
	    sizeof(err)), -1);
	assert_null(strstr(err, "%zz"));
	assert_int_equal(sl_parse_redis_url("redis://", &a, err, sizeof(err)), -1);
	assert_int_equal(sl_parse_redis_url("unix://relative", &a, err,
	    sizeof(err)), -1);
}

static void
password_masked_for_logs(void **state)
{
	const char *kv[] = { "REDIS_URL=redis://app:s3cr3t@h:6390/1", NULL };
	const char *kv2[] = { "REDIS_URL=redis://s3cr3t@h", NULL };
	const char *bad[] = { "REDIS_URL=redis://app:s3cr3t@h:0/1", NULL };
	struct sl_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(load(&cfg, kv, err, sizeof(err)), 0);
	assert_string_equal(cfg.redis_url_safe, "redis://app:***@h:6390/1");
	sl_config_free(&cfg);
	assert_int_equal(load(&cfg, kv2, err, sizeof(err)), 0);
	assert_string_equal(cfg.redis_url_safe, "redis://***@h");
	assert_string_equal(cfg.redis.password, "s3cr3t");
	sl_config_free(&cfg);
	assert_int_equal(load(&cfg, bad, err, sizeof(err)), -1);
	assert_null(strstr(err, "s3cr3t"));
}

static void
stream_lists(void **state)
{
	const char *kv[] = { "STREAMLAG_STREAMS= a , b\t,a,we\"ird\nname\xff ", NULL };
	const char *empty[] = { "STREAMLAG_STREAMS=a,,b", NULL };
	struct sl_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(load(&cfg, kv, err, sizeof(err)), 0);
	assert_int_equal(cfg.nstreams, 3);
	assert_string_equal(cfg.streams[0], "a");
	assert_string_equal(cfg.streams[1], "b");
	assert_string_equal(cfg.streams[2], "we\"ird\nname\xff");
	sl_config_free(&cfg);
	load_fails(empty, "STREAMLAG_STREAMS: expected a comma-separated list");
}

static char *
temp_file(const char *content)
{
	char *path = strdup("/tmp/streamlag-test-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)),
	    (ssize_t)strlen(content));
	close(fd);
	return path;
}

static void
jwt_keys(void **state)
{
	char *f = temp_file("0123456789abcdef0123456789abcdef\n");
	char *shortf = temp_file("short\n");
	char line[600], line2[600];
	const char *fromfile[] = { line, NULL };
	const char *both[] = { line, "STREAMLAG_JWT_SECRET="
	    "0123456789abcdef0123456789abcdef", NULL };
	const char *tooshort[] = { "STREAMLAG_JWT_SECRET=hunter2", NULL };
	const char *shortfile[] = { line2, NULL };
	const char *rs[] = { "STREAMLAG_JWT_ALG=RS256", NULL };
	const char *badalg[] = { "STREAMLAG_JWT_ALG=none", NULL };
	const char *secret[] = { "STREAMLAG_JWT_SECRET="
	    "0123456789abcdef0123456789abcdef", "STREAMLAG_JWT_ISSUER=iss",
	    "STREAMLAG_JWT_AUDIENCE=aud", NULL };
	struct sl_config cfg;
	char err[512];

	(void)state;
	snprintf(line, sizeof(line), "STREAMLAG_JWT_SECRET_FILE=%s", f);
	snprintf(line2, sizeof(line2), "STREAMLAG_JWT_SECRET_FILE=%s", shortf);
	assert_int_equal(load(&cfg, fromfile, err, sizeof(err)), 0);
	assert_int_equal(cfg.jwt_key_len, 32);	/* trailing newline removed */
	assert_memory_equal(cfg.jwt_key, "0123456789abcdef0123456789abcdef", 32);
	sl_config_free(&cfg);
	assert_int_equal(load(&cfg, secret, err, sizeof(err)), 0);
	assert_string_equal(cfg.jwt_issuer, "iss");
	assert_string_equal(cfg.jwt_audience, "aud");
	sl_config_free(&cfg);
	load_fails(both, "STREAMLAG_JWT_SECRET: set either it or "
	    "STREAMLAG_JWT_SECRET_FILE, not both");
	load_fails(tooshort, "STREAMLAG_JWT_SECRET: expected at least 32 bytes "
	    "(got 7)");
	assert_int_equal(load(&cfg, tooshort, err, sizeof(err)), -1);
	assert_null(strstr(err, "hunter2"));
	load_fails(shortfile, "STREAMLAG_JWT_SECRET_FILE: expected at least 32");
	load_fails(rs, "STREAMLAG_JWT_PUBLIC_KEY_FILE: required with "
	    "STREAMLAG_JWT_ALG=RS256");
	load_fails(badalg, "STREAMLAG_JWT_ALG: expected one of HS256");
	unlink(f);
	unlink(shortf);
	free(f);
	free(shortf);
}

static void
listen_specs(void **state)
{
	const char *good[] = { "unix:/run/x.sock", "127.0.0.1:9000", "[::1]:9000",
	    "127.255.255.254:1" };
	const char *bad[] = { "unix:relative", "9000", "host:0", "host:65536",
	    "host:http" };
	struct sl_config cfg;
	char line[128], err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *kv[] = { line, NULL };
		snprintf(line, sizeof(line), "STREAMLAG_LISTEN=%s", good[i]);
		if (load(&cfg, kv, err, sizeof(err)) != 0)
			fail_msg("%s: %s", good[i], err);
		assert_string_equal(cfg.listen, good[i]);
		sl_config_free(&cfg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *kv[] = { line, NULL };
		snprintf(line, sizeof(line), "STREAMLAG_LISTEN=%s", bad[i]);
		load_fails(kv, "STREAMLAG_LISTEN: expected unix:/absolute/path");
	}
}

static void
loopback_parsed(void **state)
{
	const char *yes[] = { "unix:/x", "127.0.0.1:9000", "127.8.9.10:1",
	    "127.255.255.255:65535", "[::1]:9000", "[0:0:0:0:0:0:0:1]:9000" };
	const char *no[] = { "127.0.0.1.evil.com:9000", "localhost:9000",
	    "128.0.0.1:9000", "10.0.0.1:9000", "0.0.0.0:9000", "127.1:9000",
	    "[::2]:9000", "[::]:9000", "[::ffff:127.0.0.1]:9000", "::1:9000",
	    "[127.0.0.1]:9000", "127.0.0.1", "[::1:9000", "127.0.0.01:9000",
	    "127.0.0.1 :9000" };
	const char *kv[] = { "STREAMLAG_LISTEN=127.0.0.1.evil.com:9000", NULL };
	const char *allowed[] = { "STREAMLAG_LISTEN=10.0.0.5:9000",
	    "STREAMLAG_ALLOW_TCP=10.0.0.7", NULL };
	struct sl_config cfg;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!sl_listen_is_loopback(yes[i]))
			fail_msg("%s: not taken for loopback", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (sl_listen_is_loopback(no[i]))
			fail_msg("%s: taken for loopback", no[i]);
	assert_int_equal(load(&cfg, kv, err, sizeof(err)), -1);
	assert_string_equal(err, "STREAMLAG_LISTEN: 127.0.0.1.evil.com:9000 is "
	    "not a loopback address (127.0.0.0/8 or [::1]; names are not "
	    "resolved); set STREAMLAG_ALLOW_TCP to the nginx hosts allowed to "
	    "connect");
	assert_int_equal(load(&cfg, allowed, err, sizeof(err)), 0);
	sl_config_free(&cfg);
}

/* The error of a load with one setting. */
static const char *
load_err(const char *name, const char *value, char *err, size_t errlen)
{
	char line[600];
	const char *kv[] = { line, NULL };
	struct sl_config cfg;

	snprintf(line, sizeof(line), "%s=%s", name, value);
	if (load(&cfg, kv, err, errlen) == 0) {
		sl_config_free(&cfg);
		snprintf(err, errlen, "(loaded)");
	}
	return err;
}

static void
secret_files_regular_only(void **state)
{
	char dir[] = "/tmp/sl_test_config.XXXXXX", fifo[64], want[256];
	char err[512];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* A FIFO without a writer: refused at once, never waited on. */
	snprintf(want, sizeof(want), "STREAMLAG_JWT_SECRET_FILE: %s is a FIFO; "
	    "expected a regular file", fifo);
	assert_string_equal(load_err("STREAMLAG_JWT_SECRET_FILE", fifo, err,
	    sizeof(err)), want);
	assert_string_equal(load_err("STREAMLAG_JWT_SECRET_FILE", "/dev/zero",
	    err, sizeof(err)), "STREAMLAG_JWT_SECRET_FILE: /dev/zero is a "
	    "character device; expected a regular file");
	snprintf(want, sizeof(want), "STREAMLAG_JWT_SECRET_FILE: %s is a "
	    "directory; expected a regular file", dir);
	assert_string_equal(load_err("STREAMLAG_JWT_SECRET_FILE", dir, err,
	    sizeof(err)), want);
	{
		const char *kv[] = { "STREAMLAG_JWT_ALG=ES256",
		    "STREAMLAG_JWT_PUBLIC_KEY_FILE=/dev/null", NULL };
		struct sl_config cfg;

		assert_int_equal(load(&cfg, kv, err, sizeof(err)), -1);
		assert_string_equal(err, "STREAMLAG_JWT_PUBLIC_KEY_FILE: /dev/null "
		    "is a character device; expected a regular file");
	}
	assert_null(sl_env_file_read(fifo, err, sizeof(err)));
	snprintf(want, sizeof(want), "--config: %s is a FIFO; expected a "
	    "regular file", fifo);
	assert_string_equal(err, want);
	unlink(fifo);
	rmdir(dir);
}

static char *load_stderr(const char **kv, int *rc);

static void
public_key_checked_at_load(void **state)
{
	char dir[] = "/tmp/sl_test_config.XXXXXX", cmd[512], line[300];
	char want[600], err[600], *out;
	int rc;
	const char *kv[] = { "STREAMLAG_JWT_ALG=RS256", line, NULL };
	struct sl_config cfg;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "openssl genpkey -algorithm EC -pkeyopt "
	    "ec_paramgen_curve:P-256 -out %s/ec.pem 2>/dev/null && openssl pkey "
	    "-in %s/ec.pem -pubout -out %s/ec.pub 2>/dev/null", dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(line, sizeof(line), "STREAMLAG_JWT_PUBLIC_KEY_FILE=%s/ec.pem", dir);
	assert_int_equal(load(&cfg, kv, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "STREAMLAG_JWT_PUBLIC_KEY_FILE: holds a "
	    "private key; give streamlag the public key only (openssl pkey -in "
	    "KEY -pubout) (%s/ec.pem)", dir);
	assert_string_equal(err, want);
	snprintf(line, sizeof(line), "STREAMLAG_JWT_PUBLIC_KEY_FILE=%s/ec.pub", dir);
	assert_int_equal(load(&cfg, kv, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "STREAMLAG_JWT_PUBLIC_KEY_FILE: holds an EC "
	    "key; STREAMLAG_JWT_ALG=RS256 needs an RSA public key (%s/ec.pub)",
	    dir);
	assert_string_equal(err, want);
	kv[0] = "STREAMLAG_JWT_ALG=ES256";
	assert_int_equal(load(&cfg, kv, err, sizeof(err)), 0);
	assert_non_null(cfg.jwt_pkey);
	sl_config_free(&cfg);
	assert_null(cfg.jwt_pkey);
	/* A public key others may read is fine; one they may change is not. */
	snprintf(cmd, sizeof(cmd), "%s/ec.pub", dir);
	assert_int_equal(chmod(cmd, 0644), 0);
	out = load_stderr(kv, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(chmod(cmd, 0646), 0);
	out = load_stderr(kv, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "event=secret_file_exposed "
	    "setting=STREAMLAG_JWT_PUBLIC_KEY_FILE "));
	assert_non_null(strstr(out, "mode=0646 hint=\"other users can change "
	    "it; chmod o-rwx\""));
	free(out);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* Runs a load with stderr captured; returns what was written. */
static char *
load_stderr(const char **kv, int *rc)
{
	char path[] = "/tmp/sl_test_stderr.XXXXXX", err[512];
	int fd = mkstemp(path), saved = dup(2);
	struct sl_config cfg;
	char *out = calloc(1, 4096);
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0 && out != NULL);
	assert_int_equal(dup2(fd, 2), 2);
	*rc = load(&cfg, kv, err, sizeof(err));
	if (*rc == 0)
		sl_config_free(&cfg);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	n = pread(fd, out, 4095, 0);
	assert_true(n >= 0);
	close(fd);
	unlink(path);
	return out;
}

static void
exposed_secret_warned(void **state)
{
	char *f = temp_file("0123456789abcdef0123456789abcdef\n");
	char line[300], want[400], *out;
	const char *kv[] = { line, NULL };
	int rc;

	(void)state;
	snprintf(line, sizeof(line), "STREAMLAG_JWT_SECRET_FILE=%s", f);
	assert_int_equal(chmod(f, 0640), 0);	/* the package's mode: quiet */
	out = load_stderr(kv, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(chmod(f, 0644), 0);
	out = load_stderr(kv, &rc);
	assert_int_equal(rc, 0);
	snprintf(want, sizeof(want), " level=warn pid=%ld "
	    "event=secret_file_exposed setting=STREAMLAG_JWT_SECRET_FILE "
	    "path=\"%s\" mode=0644 hint=\"other users can read it; chmod "
	    "o-rwx\"\n", (long)getpid(), f);
	if (strstr(out, want) == NULL || strchr(out, '\n') != strrchr(out, '\n'))
		fail_msg("stderr: %s", out);
	free(out);
	assert_int_equal(chmod(f, 0602), 0);
	out = load_stderr(kv, &rc);
	assert_non_null(strstr(out, "mode=0602 hint=\"other users can change "
	    "it; chmod o-rwx\""));
	free(out);
	unlink(f);
	free(f);
}

/* sl_env_file_read with stderr captured. */
static char *
read_stderr(const char *path)
{
	char tmp[] = "/tmp/sl_test_stderr.XXXXXX", err[512], **env;
	int fd = mkstemp(tmp), saved = dup(2);
	char *out = calloc(1, 4096);
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0 && out != NULL);
	assert_int_equal(dup2(fd, 2), 2);
	env = sl_env_file_read(path, err, sizeof(err));
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	assert_non_null(env);
	sl_env_free(env);
	n = pread(fd, out, 4095, 0);
	assert_true(n >= 0);
	close(fd);
	unlink(tmp);
	return out;
}

static void
exposed_config_warned(void **state)
{
	char *plain = temp_file("STREAMLAG_STREAMS=a\n");
	char *secret = temp_file("STREAMLAG_JWT_SECRET=0123456789abcdef0123456789abcdef\n");
	char *url = temp_file("REDIS_URL=redis://app:pw@h:6379/0\n");
	char *out;

	(void)state;
	assert_int_equal(chmod(plain, 0644), 0);
	assert_int_equal(chmod(secret, 0644), 0);
	assert_int_equal(chmod(url, 0644), 0);
	out = read_stderr(plain);	/* no secret in it: no warning */
	assert_string_equal(out, "");
	free(out);
	out = read_stderr(secret);
	assert_non_null(strstr(out, "event=secret_file_exposed setting=--config "));
	assert_non_null(strstr(out, " mode=0644 "));
	free(out);
	out = read_stderr(url);
	assert_non_null(strstr(out, "event=secret_file_exposed setting=--config "));
	free(out);
	assert_int_equal(chmod(url, 0640), 0);
	out = read_stderr(url);
	assert_string_equal(out, "");
	free(out);
	unlink(plain);
	unlink(secret);
	unlink(url);
	free(plain);
	free(secret);
	free(url);
}

static void
env_file_nul(void **state)
{
	char path[] = "/tmp/sl_test_env.XXXXXX", want[300], err[300];
	static const char text[] = "REDIS_URL=redis://a\n# two\nSTREAMLAG_STREAMS=x"
	    "\0\nSTREAMLAG_JWT_AUDIENCE=streamlag\n";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1),
	    (ssize_t)sizeof(text) - 1);
	close(fd);
	assert_null(sl_env_file_read(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "--config: %s:3: a NUL byte; expected text "
	    "KEY=VALUE lines", path);
	assert_string_equal(err, want);
	unlink(path);
}

static void
redis_url_last_at(void **state)
{
	struct sl_redis_addr a;
	char err[256];
	const char *kv[] = { "REDIS_URL=redis://u:p@h@i:6379/0", NULL };
	struct sl_config cfg;

	(void)state;
	/* As redis-py (urllib.parse) reads it: host after the last '@'. */
	assert_int_equal(sl_parse_redis_url("redis://u:p@h@i:6379/0", &a, err,
	    sizeof(err)), 0);
	assert_string_equal(a.user, "u");
	assert_string_equal(a.password, "p@h");
	assert_string_equal(a.host, "i");
	assert_int_equal(a.port, 6379);
	assert_int_equal(a.db, 0);
	sl_redis_addr_free(&a);
	assert_int_equal(sl_parse_redis_url("redis://u:a:b@@h", &a, err,
	    sizeof(err)), 0);
	assert_string_equal(a.password, "a:b@");
	assert_string_equal(a.host, "h");
	sl_redis_addr_free(&a);
	assert_int_equal(load(&cfg, kv, err, sizeof(err)), 0);
	assert_string_equal(cfg.redis_url_safe, "redis://u:***@i:6379/0");
	sl_config_free(&cfg);
}

static void
env_files(void **state)
{
	char *f = temp_file("# comment\n\n  export REDIS_URL=redis://a\n"
	    "STREAMLAG_STREAMS='x,y'\nEVENT_TRANSPORT_CONSUMER_GROUP=\"g\"\r\n"
	    "REDIS_URL=redis://b\n");
	char *bad = temp_file("OK=1\nthis line has no equals\n");
	char **env, err[256];

	(void)state;
	env = sl_env_file_read(f, err, sizeof(err));
	assert_non_null(env);
	assert_string_equal(sl_env_get(env, "REDIS_URL"), "redis://b");
	assert_string_equal(sl_env_get(env, "STREAMLAG_STREAMS"), "x,y");
	assert_string_equal(sl_env_get(env, "EVENT_TRANSPORT_CONSUMER_GROUP"), "g");
	assert_null(sl_env_get(env, "REDIS"));
	/* The line of the assignment in force, for error messages. */
	assert_int_equal(sl_env_line(env, "REDIS_URL"), 6);
	assert_int_equal(sl_env_line(env, "STREAMLAG_STREAMS"), 4);
	assert_int_equal(sl_env_line(env, "EVENT_TRANSPORT_CONSUMER_GROUP"), 5);
	assert_int_equal(sl_env_entry_line(env[0]), 3);
	assert_int_equal(sl_env_line(env, "REDIS"), 0);
	sl_env_free(env);
	assert_null(sl_env_file_read(bad, err, sizeof(err)));
	assert_non_null(strstr(err, ":2: expected KEY=VALUE"));
	assert_null(sl_env_file_read("/nonexistent/streamlag.env", err,
	    sizeof(err)));
	assert_true(sl_config_known("STREAMLAG_STREAMS"));
	assert_true(sl_config_known("EVENT_TRANSPORT_FALLBACK_TO_HTTP"));
	assert_false(sl_config_known("STREAMLAG_STREAM"));
	unlink(f);
	unlink(bad);
	free(f);
	free(bad);
}

/* Loads name=value (with thresholds that let either be at any limit) and
 * returns 0, or -1 with err set. */
static int
load_one(const char *name, const char *value, char *err, size_t errlen)
{
	static char line[SL_NAME_MAX + 256];
	const char *kv[] = { line, "STREAMLAG_LAG_DEGRADED=1",
	    "STREAMLAG_LAG_UNHEALTHY=1000000000000", NULL };
	struct sl_config cfg;

	snprintf(line, sizeof(line), "%s=%s", name, value);
	if (load(&cfg, kv, err, errlen) == -1)
		return -1;
	sl_config_free(&cfg);
	return 0;
}

static void
one_ok(const char *name, const char *value)
{
	char err[512];

	if (load_one(name, value, err, sizeof(err)) != 0)
		fail_msg("%s=%s: %s", name, value, err);
}

static void
one_fails(const char *name, const char *value, const char *want)
{
	char err[512];

	if (load_one(name, value, err, sizeof(err)) == 0)
		fail_msg("%s=%s: loaded", name, value);
	if (strcmp(err, want) != 0)
		fail_msg("%s=%s: \"%s\", expected \"%s\"", name, value, err, want);
}

/* Every numeric row of the table at min, max, min - 1 and max + 1; every
 * bounded string at max bytes and max + 1.  The kind of a row is found by
 * the error a non-number gets. */
static void
every_row_at_its_limits(void **state)
{
	const struct sl_setting *tab;
	size_t n, numbers = 0, modes = 0, strings = 0;
	char err[512], v[64], want[600];
	int rc;

	(void)state;
	tab = sl_settings(&n);
	for (size_t i = 0; i < n; i++) {
		const struct sl_setting *s = &tab[i];
		char *big;

		if (s->parse == NULL || strcmp(s->name, "STREAMLAG_STREAMS") == 0)
			continue;
		snprintf(want, sizeof(want), "%s: expected an integer from %lld "
		    "to %lld, got \"x\"", s->name, s->min, s->max);
		rc = load_one(s->name, "x", err, sizeof(err));
		if (rc == -1 && strcmp(err, want) == 0) {
			numbers++;
			snprintf(v, sizeof(v), "%lld", s->min);
			one_ok(s->name, v);
			snprintf(v, sizeof(v), "%lld", s->max);
			one_ok(s->name, v);
			snprintf(v, sizeof(v), "%lld", s->min - 1);
			snprintf(want, sizeof(want), "%s: expected an integer from "
			    "%lld to %lld, got \"%s\"", s->name, s->min, s->max, v);
			one_fails(s->name, v, want);
			snprintf(v, sizeof(v), "%lld", s->max + 1);
			snprintf(want, sizeof(want), "%s: expected an integer from "
			    "%lld to %lld, got \"%s\"", s->name, s->min, s->max, v);
			one_fails(s->name, v, want);
			continue;
		}
		if (rc == -1 && strstr(err, ": expected an octal mode from ")) {
			modes++;
			snprintf(v, sizeof(v), "0%llo", (unsigned long long)s->max);
			one_ok(s->name, v);
			snprintf(v, sizeof(v), "%llo", (unsigned long long)s->min);
			one_ok(s->name, v);
			snprintf(v, sizeof(v), "0%llo", (unsigned long long)s->max + 1);
			snprintf(want, sizeof(want), "%s: expected an octal mode from "
			    "0 to 0777 (e.g. 0660), got \"%s\"", s->name, v);
			one_fails(s->name, v, want);
			continue;
		}
		if (rc == -1 || s->max <= 0)
			continue;
		strings++;
		big = malloc((size_t)s->max + 2);
		assert_non_null(big);
		memset(big, 'a', (size_t)s->max + 1);
		big[s->max] = '\0';
		one_ok(s->name, big);
		big[s->max] = 'a';
		big[s->max + 1] = '\0';
		snprintf(want, sizeof(want), "%s: expected at most %lld bytes",
		    s->name, s->max);
		one_fails(s->name, big, want);
		free(big);
	}
	/* Not vacuous: the rows this test knows of today. */
	assert_true(numbers >= 18);
	assert_int_equal(modes, 1);
	assert_int_equal(strings, 5);	/* 2, the sentinel credentials, the TLS
					 * server name */
}

static void
streams_at_their_limits(void **state)
{
	size_t len = SL_MAX_STREAMS * 8 + 16;
	char *list = malloc(len), *p = list, *name = malloc(SL_NAME_MAX + 2);
	char err[512];
	const char *kv[] = { list, NULL };
	struct sl_config cfg;

	(void)state;
	assert_non_null(list);
	assert_non_null(name);
	p += sprintf(p, "STREAMLAG_STREAMS=");
	for (int i = 0; i < SL_MAX_STREAMS; i++)
		p += sprintf(p, "%ss%d", i > 0 ? "," : "", i);
	assert_int_equal(load(&cfg, kv, err, sizeof(err)), 0);
	assert_int_equal(cfg.nstreams, SL_MAX_STREAMS);
	assert_string_equal(cfg.streams[SL_MAX_STREAMS - 1], "s9999");
	sl_config_free(&cfg);
	sprintf(p, ",s%d", SL_MAX_STREAMS);
	load_fails(kv, "STREAMLAG_STREAMS: more than 10000 streams");
	sprintf(p, ",s0");	/* a duplicate is not one more */
	assert_int_equal(load(&cfg, kv, err, sizeof(err)), 0);
	sl_config_free(&cfg);

	memset(name, 'n', SL_NAME_MAX + 1);
	name[SL_NAME_MAX] = '\0';
	one_ok("STREAMLAG_STREAMS", name);
	name[SL_NAME_MAX] = 'n';
	name[SL_NAME_MAX + 1] = '\0';
	one_fails("STREAMLAG_STREAMS", name, "STREAMLAG_STREAMS: a stream name "
	    "is longer than 4096 bytes");
	free(list);
	free(name);
}

static void
jwt_secret_at_its_limit(void **state)
{
	char key[SL_JWT_SECRET_MIN + 1];

	(void)state;
	memset(key, 'k', sizeof(key));
	key[SL_JWT_SECRET_MIN] = '\0';
	one_ok("STREAMLAG_JWT_SECRET", key);
	key[SL_JWT_SECRET_MIN - 1] = '\0';
	one_fails("STREAMLAG_JWT_SECRET", key, "STREAMLAG_JWT_SECRET: expected "
	    "at least 32 bytes (got 31); make one with: openssl rand -hex 32");
}

static void
token_ttl_at_its_limit(void **state)
{
	const char *kv[] = { "STREAMLAG_JWT_SECRET="
	    "0123456789abcdef0123456789abcdef", NULL };
	struct sl_config cfg;
	char err[256], *tok;

	(void)state;
	assert_int_equal(SL_TOKEN_TTL_MAX, 315619200);	/* as documented */
	assert_int_equal(load(&cfg, kv, err, sizeof(err)), 0);
	tok = sl_token_mint(&cfg, "s", SL_TOKEN_TTL_MAX, NULL, 1700000000, err,
	    sizeof(err));
	assert_non_null(tok);
	free(tok);
	tok = sl_token_mint(&cfg, "s", 1, NULL, 1700000000, err, sizeof(err));
	assert_non_null(tok);
	free(tok);
	assert_null(sl_token_mint(&cfg, "s", SL_TOKEN_TTL_MAX + 1, NULL,
	    1700000000, err, sizeof(err)));
	assert_string_equal(err, "token: --ttl must be 1 to 315619200 seconds");
	assert_null(sl_token_mint(&cfg, "s", 0, NULL, 1700000000, err,
	    sizeof(err)));
	sl_config_free(&cfg);
}

/* The table is the one list of names: unique, known, and the ones only
 * `make run` reads are accepted but not read. */
static void
table_is_the_list(void **state)
{
	const struct sl_setting *tab, *s;
	const char *kv[] = { "STREAMLAG_HTTP_PORT=not a port",
	    "STREAMLAG_RUN_DATA=whatever", NULL };
	struct sl_config cfg;
	char err[256];
	size_t n;

	(void)state;
	tab = sl_settings(&n);
	for (size_t i = 0; i < n; i++) {
		assert_true(sl_config_known(tab[i].name));
		assert_ptr_equal(sl_setting_find(tab[i].name), &tab[i]);
		for (size_t j = i + 1; j < n; j++)
			assert_string_not_equal(tab[i].name, tab[j].name);
		assert_true(tab[i].scope == SL_SCOPE_RUN || tab[i].parse != NULL ||
		    strcmp(tab[i].name, "STREAMLAG_CONFIG") == 0);
	}
	for (size_t i = 0; i < 2; i++) {
		s = sl_setting_find(i == 0 ? "STREAMLAG_HTTP_PORT" :
		    "STREAMLAG_RUN_DATA");
		assert_non_null(s);
		assert_int_equal(s->scope, SL_SCOPE_RUN);
		assert_null(s->parse);
	}
	assert_int_equal(load(&cfg, kv, err, sizeof(err)), 0);
	sl_config_free(&cfg);
	assert_int_equal(sl_setting_find("REDIS_URL")->scope, SL_SCOPE_TARGET);
	assert_int_equal(sl_setting_find("STREAMLAG_STREAMS")->scope,
	    SL_SCOPE_TARGET);
	assert_int_equal(sl_setting_find("STREAMLAG_WORKERS")->scope,
	    SL_SCOPE_PROCESS);
	assert_int_equal(sl_setting_find("STREAMLAG_WORKERS")->reload, 1);
	assert_int_equal(sl_setting_find("STREAMLAG_LISTEN")->reload, 0);
	assert_int_equal(sl_setting_find("STREAMLAG_USER")->reload, 0);
	assert_false(sl_config_known("STREAMLAG_NOPE"));
	assert_null(sl_setting_find("STREAMLAG_NOPE"));
}

/* The per-target rows, read under a target's prefix into a struct
 * sl_target: what named targets (STREAMLAG_TARGET_<NAME>_*) will use. */
static void
target_under_a_prefix(void **state)
{
	const char *kv[] = { "STREAMLAG_TARGET_ALPHA_REDIS_URL=redis://:pw@alpha:7000/2",
	    "STREAMLAG_TARGET_ALPHA_STREAMS=a, b,a",
	    "STREAMLAG_TARGET_ALPHA_LAG_DEGRADED=5",
	    "STREAMLAG_TARGET_ALPHA_GROUPS=*",
	    "REDIS_URL=redis://other:1", "STREAMLAG_LAG_DEGRADED=7", NULL };
	const char *badurl[] = { "STREAMLAG_TARGET_ALPHA_REDIS_URL=http://x", NULL };
	const char *badms[] = { "STREAMLAG_TARGET_ALPHA_STALL_MS=0", NULL };
	const char *order[] = { "STREAMLAG_TARGET_ALPHA_LAG_DEGRADED=50",
	    "STREAMLAG_TARGET_ALPHA_LAG_UNHEALTHY=40", NULL };
	struct sl_target t;
	struct sl_config cfg;
	char err[512];

	(void)state;
	assert_int_equal(sl_target_load(&t, "STREAMLAG_TARGET_ALPHA_",
	    table_lookup, (void *)kv, err, sizeof(err)), 0);
	assert_string_equal(t.redis.host, "alpha");
	assert_int_equal(t.redis.port, 7000);
	assert_int_equal(t.redis.db, 2);
	assert_string_equal(t.redis_url_safe, "redis://:***@alpha:7000/2");
	assert_int_equal(t.nstreams, 2);
	assert_string_equal(t.streams[1], "b");
	assert_int_equal(t.lag_degraded, 5);
	assert_int_equal(t.lag_unhealthy, 1000);	/* the row's default */
	assert_int_equal(t.all_groups, 1);
	assert_string_equal(t.consumer_group, "signalr-consumers");
	sl_target_free(&t);
	sl_target_free(&t);	/* twice is harmless */

	/* The plain names are the configuration's own target, the same
	 * fields under their old names. */
	assert_int_equal(load(&cfg, kv, err, sizeof(err)), 0);
	assert_ptr_equal(&cfg.target.redis, &cfg.redis);
	assert_ptr_equal(&cfg.target.discovery_ttl_ms, &cfg.discovery_ttl_ms);
	assert_string_equal(cfg.redis.host, "other");
	assert_int_equal(cfg.lag_degraded, 7);
	assert_int_equal(cfg.all_groups, 0);
	sl_config_free(&cfg);

	assert_int_equal(sl_target_load(&t, "STREAMLAG_TARGET_ALPHA_",
	    table_lookup, (void *)badurl, err, sizeof(err)), -1);
	assert_string_equal(err, "STREAMLAG_TARGET_ALPHA_REDIS_URL: expected "
	    "redis://[user:password@]host[:port][,host[:port]...][/db] "
	    "(rediss:// for TLS), unix:///path[?db=N] or "
	    "redis-sentinel://[user:password@]s1[:port][,s2[:port]...]"
	    "/master-name[/db]");
	assert_int_equal(sl_target_load(&t, "STREAMLAG_TARGET_ALPHA_",
	    table_lookup, (void *)badms, err, sizeof(err)), -1);
	assert_string_equal(err, "STREAMLAG_TARGET_ALPHA_STALL_MS: expected an "
	    "integer from 1 to 86400000, got \"0\"");
	assert_int_equal(sl_target_load(&t, "STREAMLAG_TARGET_ALPHA_",
	    table_lookup, (void *)order, err, sizeof(err)), -1);
	assert_string_equal(err, "STREAMLAG_TARGET_ALPHA_LAG_DEGRADED: expected "
	    "at most STREAMLAG_TARGET_ALPHA_LAG_UNHEALTHY (40), got 50");
}

/* What SIGHUP cannot apply: the changed rows with reload 0, compared with
 * the values in effect, so every SIGHUP names them again. */
static void
restart_needed(void **state)
{
	const char *a[] = { "STREAMLAG_LISTEN=unix:/a", "STREAMLAG_WORKERS=2",
	    NULL };
	const char *b[] = { "STREAMLAG_LISTEN=unix:/b", "STREAMLAG_WORKERS=4",
	    "STREAMLAG_SOCKET_MODE=0600", "STREAMLAG_LAG_DEGRADED=5", NULL };
	const char *names[4];
	struct sl_config old, cur, next;
	char err[256];

	(void)state;
	assert_int_equal(load(&old, a, err, sizeof(err)), 0);
	assert_int_equal(load(&cur, b, err, sizeof(err)), 0);
	assert_int_equal(load(&next, b, err, sizeof(err)), 0);
	assert_int_equal(sl_config_restart_needed(&old, &old, names, 4), 0);
	assert_int_equal(sl_config_restart_needed(&old, &cur, names, 4), 2);
	assert_string_equal(names[0], "STREAMLAG_LISTEN");
	assert_string_equal(names[1], "STREAMLAG_SOCKET_MODE");
	assert_int_equal(sl_config_restart_needed(&old, &cur, names, 1), 2);
	sl_config_keep_running(&old, &cur);
	/* cur now carries the values in effect: the next SIGHUP with the
	 * same file names them again. */
	assert_int_equal(sl_config_restart_needed(&cur, &next, names, 4), 2);
	assert_string_equal(names[0], "STREAMLAG_LISTEN");
	sl_config_free(&old);
	sl_config_free(&cur);
	sl_config_free(&next);
}

/* STREAMLAG_REDIS_TLS_*: checked whatever the URL; the context is built
 * at load for rediss:// only, its files read then. */
static void
tls_settings(void **state)
{
	const char *plain[] = { "REDIS_URL=redis://h", NULL };
	const char *tls[] = { "REDIS_URL=rediss://u:p@h:6380,10.0.0.2/0", NULL };
	const char *noca[] = { "REDIS_URL=rediss://h",
	    "STREAMLAG_REDIS_TLS_CA_FILE=/nonexistent/ca.pem", NULL };
	const char *nocheck[] = { "REDIS_URL=redis://h",
	    "STREAMLAG_REDIS_TLS_CA_FILE=/nonexistent/ca.pem", NULL };
	const char *certonly[] = { "REDIS_URL=redis://h",
	    "STREAMLAG_REDIS_TLS_CERT_FILE=/c.pem", NULL };
	const char *tls11[] = { "STREAMLAG_REDIS_TLS_PROTOCOLS=TLSv1.1", NULL };
	const char *name[] = { "STREAMLAG_REDIS_TLS_SERVER_NAME=a b", NULL };
	const char *ciphers[] = { "REDIS_URL=rediss://h",
	    "STREAMLAG_REDIS_TLS_CIPHERS=NOPE-NOT-A-CIPHER", NULL };
	const char *off[] = { "REDIS_URL=rediss://h",
	    "STREAMLAG_REDIS_TLS_VERIFY=false", NULL };
	struct sl_config cfg;
	char err[512];

	(void)state;
	assert_int_equal(load(&cfg, plain, err, sizeof(err)), 0);
	assert_int_equal(cfg.redis.tls, 0);
	assert_null(cfg.redis.tls_ctx);
	assert_int_equal(cfg.tls_verify, 1);
	assert_string_equal(cfg.tls_protocols, "TLSv1.2 TLSv1.3");
	assert_string_equal(cfg.tls_ciphers, "ECDHE+AESGCM:ECDHE+CHACHA20");
	assert_null(cfg.tls_ca_file);
	assert_null(cfg.tls_server_name);
	sl_config_free(&cfg);

	/* The system store when no CA is named. */
	assert_int_equal(load(&cfg, tls, err, sizeof(err)), 0);
	assert_int_equal(cfg.redis.tls, 1);
	assert_non_null(cfg.redis.tls_ctx);
	assert_int_equal(sl_tls_ctx_verifies(cfg.redis.tls_ctx), 1);
	assert_int_equal(cfg.redis.nseeds, 2);
	sl_config_free(&cfg);
	assert_int_equal(load(&cfg, off, err, sizeof(err)), 0);
	assert_int_equal(sl_tls_ctx_verifies(cfg.redis.tls_ctx), 0);
	sl_config_free(&cfg);

	load_fails(noca, "STREAMLAG_REDIS_TLS_CA_FILE /nonexistent/ca.pem: ");
	/* Files are read for rediss:// only. */
	assert_int_equal(load(&cfg, nocheck, err, sizeof(err)), 0);
	sl_config_free(&cfg);
	load_fails(certonly, "STREAMLAG_REDIS_TLS_CERT_FILE is set without "
	    "STREAMLAG_REDIS_TLS_KEY_FILE: a client certificate needs both");
	load_fails(tls11, "STREAMLAG_REDIS_TLS_PROTOCOLS: ");
	load_fails(name, "STREAMLAG_REDIS_TLS_SERVER_NAME: not a host name");
	load_fails(ciphers, "STREAMLAG_REDIS_TLS_CIPHERS");
	/* Named targets: each its own URL and its own context. */
	{
		const char *named[] = { "STREAMLAG_TARGETS=a,b",
		    "STREAMLAG_TARGET_B_REDIS_URL=rediss://h2:6380",
		    "STREAMLAG_TARGET_B_REDIS_TLS_SERVER_NAME=cache.example",
		    NULL };

		assert_int_equal(load(&cfg, named, err, sizeof(err)), 0);
		assert_int_equal(sl_config_ntargets(&cfg), 2);
		assert_null(sl_config_target(&cfg, 0)->redis.tls_ctx);
		assert_non_null(sl_config_target(&cfg, 1)->redis.tls_ctx);
		assert_string_equal(sl_config_target(&cfg, 1)->tls_server_name,
		    "cache.example");
		assert_null(sl_config_target(&cfg, 0)->tls_server_name);
		sl_config_free(&cfg);
	}
	assert_int_equal(sl_setting_find("STREAMLAG_REDIS_TLS_CA_FILE")->scope,
	    SL_SCOPE_TARGET);
	assert_int_equal(sl_setting_find("STREAMLAG_REDIS_TLS_VERIFY")->reload,
	    1);
}

/* Every allocation of a load may fail: the load then fails with "out of
 * memory" and frees what it holds (ASan and valgrind check the rest). */
static void
allocation_failures(void **state)
{
	char *f = temp_file("0123456789abcdef0123456789abcdef\n");
	char *envf = temp_file("REDIS_URL=redis://a\n# c\nSTREAMLAG_STREAMS=x\n");
	char line[300], err[512];
	const char *kv[] = { "REDIS_URL=redis://u:p%40w@h:7/1",
	    "STREAMLAG_STREAMS=a,b,c,d,e,f,g,h,i,j", "STREAMLAG_STREAM_PATTERN=x*",
	    "STREAMLAG_JWT_ISSUER=i", "STREAMLAG_USER=nobody", line, NULL };
	struct sl_config cfg;
	char **env;
	long k;
	int rc;

	(void)state;
	snprintf(line, sizeof(line), "STREAMLAG_JWT_SECRET_FILE=%s", f);
	for (k = 0; ; k++) {
		sl_alloc_fail_after(k);
		rc = load(&cfg, kv, err, sizeof(err));
		sl_alloc_reset();
		if (rc == 0)
			break;
		if (strstr(err, "out of memory") == NULL)
			fail_msg("allocation %ld: \"%s\"", k, err);
	}
	assert_true(k > 20);
	assert_int_equal(cfg.nstreams, 10);
	sl_config_free(&cfg);
	kv[0] = "REDIS_URL=redis-sentinel://u:p%40w@s1,[::1]:26380/m/1";
	kv[3] = "STREAMLAG_SENTINEL_USERNAME=su";
	kv[4] = "STREAMLAG_SENTINEL_PASSWORD=sp";
	for (k = 0; ; k++) {
		sl_alloc_fail_after(k);
		rc = load(&cfg, kv, err, sizeof(err));
		sl_alloc_reset();
		if (rc == 0)
			break;
		if (strstr(err, "out of memory") == NULL)
			fail_msg("sentinel, allocation %ld: \"%s\"", k, err);
	}
	assert_string_equal(cfg.redis.password, "p@w");
	assert_string_equal(cfg.redis.sentinel_password, "sp");
	sl_config_free(&cfg);
	for (k = 0; ; k++) {
		sl_alloc_fail_after(k);
		env = sl_env_file_read(envf, err, sizeof(err));
		sl_alloc_reset();
		if (env != NULL)
			break;
		if (strstr(err, "out of memory") == NULL)
			fail_msg("allocation %ld: \"%s\"", k, err);
	}
	assert_string_equal(sl_env_get(env, "STREAMLAG_STREAMS"), "x");
	sl_env_free(env);
	unlink(f);
	unlink(envf);
	free(f);
	free(envf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(booleans_like_pydantic),
		cmocka_unit_test(integers_at_their_limits),
		cmocka_unit_test(thresholds_in_order),
		cmocka_unit_test(redis_urls),
		cmocka_unit_test(redis_url_seeds),
		cmocka_unit_test(redis_modes),
		cmocka_unit_test(password_masked_for_logs),
		cmocka_unit_test(stream_lists),
		cmocka_unit_test(jwt_keys),
		cmocka_unit_test(listen_specs),
		cmocka_unit_test(env_files),
		cmocka_unit_test(loopback_parsed),
		cmocka_unit_test(secret_files_regular_only),
		cmocka_unit_test(public_key_checked_at_load),
		cmocka_unit_test(exposed_secret_warned),
		cmocka_unit_test(env_file_nul),
		cmocka_unit_test(exposed_config_warned),
		cmocka_unit_test(redis_url_last_at),
		cmocka_unit_test(every_row_at_its_limits),
		cmocka_unit_test(streams_at_their_limits),
		cmocka_unit_test(jwt_secret_at_its_limit),
		cmocka_unit_test(token_ttl_at_its_limit),
		cmocka_unit_test(table_is_the_list),
		cmocka_unit_test(sentinel_urls),
		cmocka_unit_test(target_under_a_prefix),
		cmocka_unit_test(restart_needed),
		cmocka_unit_test(tls_settings),
		cmocka_unit_test(allocation_failures),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
