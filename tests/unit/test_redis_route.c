/* SPDX-License-Identifier: ISC */
/* How a pipeline routes its commands, without a socket: which word of each
 * command streamlag sends is its key, the hash slot each command is given
 * (hash tags honoured), and every allocation failure while adding one. */
#include "sl_test.h"

#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/crc16.h"
#include "streamlag/exec.h"
#include "streamlag/redis.h"

#define KEY(...)	key_of((const char *[]){ __VA_ARGS__ }, \
	    (int)(sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(char *)))

static int
key_of(const char **argv, int argc)
{
	size_t lens[8];

	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	return sl_command_key(argc, argv, lens);
}

static void
test_command_keys(void **state)
{
	(void)state;
	/* What the collectors send, and where its key is. */
	assert_int_equal(KEY("XINFO", "GROUPS", "s"), 2);
	assert_int_equal(KEY("XINFO", "CONSUMERS", "s", "g"), 2);
	assert_int_equal(KEY("XINFO", "STREAM", "s"), 2);
	assert_int_equal(KEY("XRANGE", "s", "(0-0", "+", "COUNT", "1"), 1);
	assert_int_equal(KEY("XPENDING", "s", "g", "-", "+", "1"), 1);
	/* No key: to one node, or to every master (SCAN). */
	assert_int_equal(KEY("INFO", "server"), -1);
	assert_int_equal(KEY("TIME"), -1);
	assert_int_equal(KEY("time"), -1);
	assert_int_equal(KEY("SCAN", "0", "MATCH", "*"), -1);
	assert_int_equal(KEY("CLUSTER", "SLOTS"), -1);
	assert_int_equal(KEY("PING"), -1);
	assert_int_equal(KEY("XINFO", "HELP"), -1);
}

static void
test_pipeline_slots(void **state)
{
	struct sl_redis		 r;
	char			 host[] = "h";
	struct sl_redis_addr	 a = { .kind = SL_REDIS_TCP, .host = host,
	    .port = 1 };
	struct sl_pipeline	 p;
	const char *g1[] = { "XINFO", "GROUPS", "{user1000}.following" };
	const char *g2[] = { "XRANGE", "{user1000}.followers", "-", "+" };
	const char *t[] = { "TIME" };
	size_t	 l1[] = { 5, 6, 20 }, l2[] = { 6, 20, 1, 1 }, lt[] = { 4 };

	(void)state;
	sl_redis_init(&r, &a, 100);
	sl_pipeline_init(&p, &r);
	assert_int_equal(sl_pipeline_add(&p, 3, g1, l1), SL_OK);
	assert_int_equal(sl_pipeline_add(&p, 4, g2, l2), SL_OK);
	assert_int_equal(sl_pipeline_add(&p, 1, t, lt), SL_OK);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.slots[0], sl_key_slot("user1000", 8));
	assert_int_equal(p.slots[1], p.slots[0]);
	assert_int_equal(p.slots[2], -1);
	assert_int_equal(p.cmdlens[2], strlen("*1\r\n$4\r\nTIME\r\n"));
	assert_memory_equal(p.cmds[2], "*1\r\n$4\r\nTIME\r\n", p.cmdlens[2]);
	sl_pipeline_free(&p);
	sl_redis_close(&r);
}

/* The Nth allocation fails, for every N: SL_ENOMEM, nothing leaked (the
 * sanitizer and valgrind runs check), the commands before kept. */
static void
test_add_allocation_failures(void **state)
{
	struct sl_redis		 r;
	char			 host[] = "h";
	struct sl_redis_addr	 a = { .kind = SL_REDIS_TCP, .host = host,
	    .port = 1 };
	struct sl_pipeline	 p;
	const char *g[] = { "XINFO", "GROUPS", "s" };
	size_t	 l[] = { 5, 6, 1 };
	int	 failed;

	(void)state;
	sl_redis_init(&r, &a, 100);
	for (long n = 0; n < 8; n++) {
		sl_pipeline_init(&p, &r);
		sl_alloc_fail_after(n);
		failed = 0;
		for (int i = 0; i < 20 && !failed; i++)
			failed = sl_pipeline_add(&p, 3, g, l) == SL_ENOMEM;
		sl_alloc_fail_after(-1);
		assert_true(failed);
		for (size_t i = 0; i < p.n; i++)
			assert_int_equal(p.slots[i], sl_key_slot("s", 1));
		sl_pipeline_free(&p);
	}
	sl_redis_close(&r);
}

/* One deadline per request: begun, it stays put however many calls are
 * made; once it has passed, a pipeline fails with the deadline's words and
 * no node is connected, failed or backed off for it. */
static void
test_request_deadline(void **state)
{
	struct sl_redis		 r;
	char			 host[] = "h";
	struct sl_redis_addr	 a = { .kind = SL_REDIS_TCP, .host = host,
	    .port = 1 };
	struct sl_pipeline	 p;
	const char *t[] = { "TIME" };
	size_t	 lt[] = { 4 };
	long long now, d;

	(void)state;
	sl_redis_init(&r, &a, 100);
	r.mode = SL_MODE_STANDALONE;
	r.request_timeout_ms = 5000;
	now = sl_mono_ms();
	d = sl_redis_deadline(&r);	/* outside a request: each call's own */
	assert_true(d >= now + 5000 && d <= sl_mono_ms() + 5000);
	sl_redis_begin(&r);
	d = r.deadline;
	assert_true(d >= now + 5000);
	assert_true(sl_redis_deadline(&r) == d);
	assert_false(sl_redis_late(&r));
	r.deadline = sl_mono_ms() - 1;	/* spent by an earlier call */
	sl_pipeline_init(&p, &r);
	assert_int_equal(sl_pipeline_add(&p, 1, t, lt), SL_OK);
	assert_int_equal(sl_pipeline_exec(&p), SL_EREDIS);
	assert_non_null(strstr(r.errstr, "request deadline passed"));
	assert_string_equal(r.errwhat, "deadline");
	assert_non_null(r.x);
	assert_int_equal(r.x->nnodes, 1);
	assert_int_equal(r.x->nodes[0]->state, SL_NODE_DOWN);
	assert_int_equal(r.x->nodes[0]->connects + r.x->nodes[0]->errors, 0);
	assert_int_equal(r.x->nodes[0]->retry_after, 0);
	sl_pipeline_free(&p);
	sl_redis_end(&r);
	assert_int_equal(r.deadline, 0);
	assert_false(sl_redis_late(&r));
	sl_redis_close(&r);
}

/* The request log's round trips: counted from the mark, per node,
 * nodes asked nothing left out, a node added during the request counted
 * from 0, and a buffer too short cut at a whole entry. */
static void
test_round_trips(void **state)
{
	struct sl_redis		 r;
	char			 host[] = "10.0.0.1";
	struct sl_redis_addr	 a = { .kind = SL_REDIS_TCP, .host = host,
	    .port = 6379 };
	struct sl_error		 e;
	size_t			 i0, i1, i2;
	char			 buf[64];

	(void)state;
	sl_redis_init(&r, &a, 100);
	assert_int_equal(sl_redis_trips(&r, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	r.mode = SL_MODE_STANDALONE;
	assert_int_equal(sl_redis_ensure(&r), SL_OK);	/* nothing connected */
	assert_int_equal(sl_exec_node(r.x, "10.0.0.1", 6379, NULL, &i0, &e),
	    SL_OK);
	assert_int_equal(sl_exec_node(r.x, "10.0.0.2", 6379, NULL, &i1, &e),
	    SL_OK);
	r.x->nodes[i0]->round_trips = 7;	/* earlier requests */
	sl_redis_trips_mark(&r);
	r.x->nodes[i0]->round_trips += 2;
	assert_int_equal(sl_exec_node(r.x, "10.0.0.3", 6379, NULL, &i2, &e),
	    SL_OK);
	r.x->nodes[i2]->round_trips = 1;
	assert_int_equal(sl_redis_trips(&r, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "10.0.0.1:6379=2,10.0.0.3:6379=1");
	assert_int_equal(sl_redis_trips(&r, buf, 20), 3);
	assert_string_equal(buf, "10.0.0.1:6379=2");
	sl_redis_trips_mark(&r);
	assert_int_equal(sl_redis_trips(&r, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	(void)i1;
	sl_redis_close(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command_keys),
		cmocka_unit_test(test_pipeline_slots),
		cmocka_unit_test(test_add_allocation_failures),
		cmocka_unit_test(test_request_deadline),
		cmocka_unit_test(test_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
