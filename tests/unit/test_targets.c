/* SPDX-License-Identifier: ISC */
/* Named targets: STREAMLAG_TARGETS parsed at its limits, each target's
 * settings defaulting to the plain ones, variable names case-insensitive,
 * --target picking one, every allocation failure of a load, and the JSON
 * of /api/v1/events/targets. */
#include <stdio.h>

#include "sl_test.h"
#include "streamlag/alloc.h"
#include "streamlag/config.h"
#include "streamlag/targets.h"

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

static void
load_fails(const char **kv, const char *prefix)
{
	struct sl_config cfg;
	char err[512];

	assert_int_equal(load(&cfg, kv, err, sizeof(err)), -1);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("error \"%s\" does not start with \"%s\"", err, prefix);
	sl_config_free(&cfg);
}

static void
no_targets_is_default(void **state)
{
	const char *kv[] = { "REDIS_URL=redis://h:1/0", NULL };
	struct sl_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(load(&cfg, kv, err, sizeof(err)), 0);
	assert_int_equal(sl_config_ntargets(&cfg), 1);
	assert_string_equal(sl_config_target_name(&cfg, 0), "default");
	assert_ptr_equal(sl_config_target(&cfg, 0), &cfg.target);
	assert_int_equal(sl_config_target_find(&cfg, "default", 7), 0);
	assert_int_equal(sl_config_target_find(&cfg, "DEFAULT", 7), 0);
	assert_int_equal(sl_config_target_find(&cfg, "alpha", 5), -1);
	assert_int_equal(sl_config_pick_target(&cfg, "default"), 0);
	assert_int_equal(sl_config_pick_target(&cfg, "alpha"), -1);
	sl_config_free(&cfg);
}

static void
global_is_the_default(void **state)
{
	const char *kv[] = {
		"STREAMLAG_TARGETS=Alpha,beta-2",
		"REDIS_URL=redis://g:1/0",
		"STREAMLAG_STREAMS=s1,s2",
		"STREAMLAG_LAG_DEGRADED=7",
		"STREAMLAG_TARGET_ALPHA_REDIS_URL=redis://a:2/0",
		"STREAMLAG_TARGET_BETA-2_STREAMS=b",
		"STREAMLAG_TARGET_BETA-2_CONSUMER_GROUP=billing",
		"STREAMLAG_TARGET_BETA-2_REDIS_TIMEOUT_MS=50",
		NULL };
	struct sl_config cfg;
	const struct sl_target *a, *b;
	char err[256];

	(void)state;
	assert_int_equal(load(&cfg, kv, err, sizeof(err)), 0);
	assert_int_equal(sl_config_ntargets(&cfg), 2);
	assert_string_equal(sl_config_target_name(&cfg, 0), "alpha");
	assert_string_equal(sl_config_target_name(&cfg, 1), "beta-2");
	a = sl_config_target(&cfg, 0);
	b = sl_config_target(&cfg, 1);
	assert_string_equal(a->redis.host, "a");
	/* The default target is the plain fields, which the sampler, check
	 * and top read. */
	assert_ptr_equal(a, &cfg.target);
	assert_string_equal(cfg.redis.host, "a");
	assert_string_equal(b->redis.host, "g");	/* the plain REDIS_URL */
	assert_int_equal(a->nstreams, 2);
	assert_string_equal(a->streams[1], "s2");
	assert_int_equal(b->nstreams, 1);
	assert_string_equal(b->streams[0], "b");
	assert_string_equal(a->consumer_group, "signalr-consumers");
	assert_string_equal(b->consumer_group, "billing");
	assert_int_equal(a->lag_degraded, 7);
	assert_int_equal(b->lag_degraded, 7);
	assert_int_equal(a->redis_timeout_ms, 1000);	/* the table's */
	assert_int_equal(b->redis_timeout_ms, 50);
	assert_int_equal(sl_config_target_find(&cfg, "BETA-2", 6), 1);
	assert_int_equal(sl_config_target_find(&cfg, "beta", 4), -1);
	sl_config_free(&cfg);
}

static void
bad_lists(void **state)
{
	char many[SL_TARGETS_MAX * 4 + 64], name[SL_TARGET_NAME_MAX + 2];
	size_t off = 0;
	const char *kv[] = { many, NULL };

	(void)state;
	load_fails((const char *[]){ "STREAMLAG_TARGETS=a,,b", NULL },
	    "STREAMLAG_TARGETS: expected names");
	load_fails((const char *[]){ "STREAMLAG_TARGETS=a b", NULL },
	    "STREAMLAG_TARGETS: expected names");
	load_fails((const char *[]){ "STREAMLAG_TARGETS=a,", NULL },
	    "STREAMLAG_TARGETS: expected names");
	load_fails((const char *[]){ "STREAMLAG_TARGETS=a,b,A", NULL },
	    "STREAMLAG_TARGETS: \"A\" named twice");
	load_fails((const char *[]){ "STREAMLAG_TARGETS=a",
	    "STREAMLAG_TARGET_A_LAG_DEGRADED=0", NULL },
	    "STREAMLAG_TARGET_A_LAG_DEGRADED: expected");
	load_fails((const char *[]){ "STREAMLAG_TARGETS=a",
	    "STREAMLAG_TARGET_A_LAG_DEGRADED=9",
	    "STREAMLAG_TARGET_A_LAG_UNHEALTHY=8",
	    NULL }, "STREAMLAG_TARGET_A_LAG_DEGRADED: expected at most "
	    "STREAMLAG_TARGET_A_LAG_UNHEALTHY");
	/* Names: SL_TARGET_NAME_MAX bytes pass, one more fails. */
	memset(name, 'n', sizeof(name));
	name[SL_TARGET_NAME_MAX] = '\0';
	assert_int_equal(sl_target_name_valid(name, SL_TARGET_NAME_MAX), 1);
	assert_int_equal(sl_target_name_valid(name, SL_TARGET_NAME_MAX + 1), 0);
	assert_int_equal(sl_target_name_valid("a.b", 3), 0);
	assert_int_equal(sl_target_name_valid("a\xc3\xa9", 3), 0);
	/* SL_TARGETS_MAX targets pass, one more fails. */
	off = (size_t)snprintf(many, sizeof(many), "STREAMLAG_TARGETS=");
	for (int i = 0; i < SL_TARGETS_MAX; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off, "%st%d",
		    i ? "," : "", i);
	{
		struct sl_config cfg;
		char err[256];

		assert_int_equal(load(&cfg, kv, err, sizeof(err)), 0);
		assert_int_equal(sl_config_ntargets(&cfg), SL_TARGETS_MAX);
		sl_config_free(&cfg);
	}
	snprintf(many + off, sizeof(many) - off, ",extra");
	load_fails(kv, "STREAMLAG_TARGETS: at most");
}

static void
known_names(void **state)
{
	(void)state;
	assert_int_equal(sl_config_known("STREAMLAG_TARGETS"), 1);
	assert_int_equal(sl_config_known("STREAMLAG_TARGET_ALPHA_REDIS_URL"), 1);
	assert_int_equal(sl_config_known("STREAMLAG_TARGET_A_B_STREAMS"), 1);
	assert_int_equal(sl_config_known(
	    "STREAMLAG_TARGET_ALPHA_CONSUMER_GROUP"), 1);
	assert_int_equal(sl_config_known("STREAMLAG_TARGET_ALPHA_GROUPS"), 1);
	/* Process-wide settings are not per target. */
	assert_int_equal(sl_config_known("STREAMLAG_TARGET_ALPHA_WORKERS"), 0);
	assert_int_equal(sl_config_known("STREAMLAG_TARGET__REDIS_URL"), 0);
	assert_int_equal(sl_config_known("STREAMLAG_TARGET_REDIS_URL"), 0);
	assert_int_equal(sl_config_known("STREAMLAG_TARGET_A.B_REDIS_URL"), 0);
}

static void
pick(void **state)
{
	const char *kv[] = { "STREAMLAG_TARGETS=a,b",
	    "STREAMLAG_TARGET_B_STREAMS=only", NULL };
	struct sl_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(load(&cfg, kv, err, sizeof(err)), 0);
	assert_int_equal(sl_config_pick_target(&cfg, "c"), -1);
	assert_int_equal(sl_config_ntargets(&cfg), 2);
	assert_int_equal(sl_config_pick_target(&cfg, "B"), 0);
	assert_int_equal(sl_config_ntargets(&cfg), 1);
	assert_int_equal(cfg.nstreams, 1);
	assert_string_equal(cfg.streams[0], "only");
	sl_config_free(&cfg);
}

/* Every allocation of a load with targets failing in turn: an error, never
 * a crash or a leak (valgrind, ASan). */
static void
load_oom(void **state)
{
	const char *kv[] = { "STREAMLAG_TARGETS=a,b",
	    "STREAMLAG_TARGET_B_STREAMS=x,y", NULL };
	struct sl_config cfg;
	char err[256];
	int n, rc;

	(void)state;
	for (n = 0; n < 1000; n++) {
		sl_alloc_fail_after(n);
		rc = load(&cfg, kv, err, sizeof(err));
		sl_alloc_fail_after(-1);
		if (rc == 0)
			break;
		assert_non_null(strstr(err, "out of memory"));
	}
	assert_int_equal(rc, 0);
	assert_int_equal(sl_config_ntargets(&cfg), 2);
	sl_config_free(&cfg);
}

static void
render(void **state)
{
	struct sl_target_state st[3];
	char *j;

	(void)state;
	memset(st, 0, sizeof(st));
	st[0].name = "alpha";
	st[0].mode = "standalone";
	st[0].nodes = 1;
	st[0].up = 1;
	st[0].server_known = 1;
	st[0].server.kind = SL_SERVER_VALKEY;
	st[0].server.major = 8;
	st[0].server.patch = 1;
	st[0].status_known = 1;
	st[0].status = SL_STATUS_DEGRADED;
	st[0].elapsed_ms = 3;
	st[0].groups = 2;
	st[0].round_trips = 1;
	st[1].name = "b\"";
	st[1].mode = "standalone";
	st[1].nodes = 1;
	/* Reached, but a lag Redis does not know: no verdict, and not down. */
	st[2].name = "c";
	st[2].mode = "cluster";
	st[2].nodes = 3;
	st[2].up = 1;
	st[2].groups = 4;
	st[2].lag_unknown = 1;
	st[2].round_trips = 3;
	j = sl_render_targets(st, 3, "alpha");
	assert_non_null(j);
	assert_string_equal(j, "{\"default\":\"alpha\",\"targets\":["
	    "{\"name\":\"alpha\",\"mode\":\"standalone\",\"nodes\":1,"
	    "\"up\":true,\"server\":\"valkey\",\"version\":\"8.0.1\","
	    "\"status\":\"degraded\",\"groups\":2,\"lag_unknown\":0,"
	    "\"round_trips\":1,\"elapsed_ms\":3},"
	    "{\"name\":\"b\\\"\",\"mode\":\"standalone\",\"nodes\":1,"
	    "\"up\":false,\"server\":null,\"version\":null,"
	    "\"status\":\"unhealthy\",\"groups\":0,\"lag_unknown\":0,"
	    "\"round_trips\":0,\"elapsed_ms\":0},"
	    "{\"name\":\"c\",\"mode\":\"cluster\",\"nodes\":3,"
	    "\"up\":true,\"server\":null,\"version\":null,"
	    "\"status\":\"unknown\",\"groups\":4,\"lag_unknown\":1,"
	    "\"round_trips\":3,\"elapsed_ms\":0}]}");
	sl_free(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_targets_is_default),
		cmocka_unit_test(global_is_the_default),
		cmocka_unit_test(bad_lists),
		cmocka_unit_test(known_names),
		cmocka_unit_test(pick),
		cmocka_unit_test(load_oom),
		cmocka_unit_test(render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
