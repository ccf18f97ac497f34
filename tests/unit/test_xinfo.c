/* SPDX-License-Identifier: ISC */
/* XINFO reply parsing on crafted replies: the field sets of Redis 6.x, 7.0
 * and 7.2, nil fields, and malformed replies. */
#include <stdio.h>

#include "sl_test.h"
#include "streamlag/xinfo.h"

static redisReply *
group70(const char *name, long long consumers, long long pending,
    const char *last, redisReply *entries_read, redisReply *lag)
{
	return t_arr(12, t_str("name"), t_str(name), t_str("consumers"),
	    t_int(consumers), t_str("pending"), t_int(pending),
	    t_str("last-delivered-id"), t_str(last), t_str("entries-read"),
	    entries_read, t_str("lag"), lag);
}

static void
groups_redis70(void **state)
{
	redisReply *r = t_arr(2,
	    group70("signalr-consumers", 2, 77, "1700000000077-0", t_int(77),
		t_int(123)),
	    group70("audit", 0, 0, "0-0", t_nil(), t_nil()));
	struct sl_group *g;
	size_t n;
	char err[128];

	(void)state;
	assert_int_equal(sl_xinfo_groups(r, &g, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(g[0].name.len, 17);
	assert_memory_equal(g[0].name.p, "signalr-consumers", 17);
	assert_int_equal(g[0].consumers, 2);
	assert_int_equal(g[0].pending, 77);
	assert_string_equal(g[0].last_delivered_id, "1700000000077-0");
	assert_int_equal(g[0].has_entries_read, 1);
	assert_int_equal(g[0].entries_read, 77);
	assert_int_equal(g[0].lag_state, SL_LAG_KNOWN);
	assert_int_equal(g[0].lag, 123);
	assert_int_equal(g[1].has_entries_read, 0);
	assert_int_equal(g[1].lag_state, SL_LAG_NIL);
	sl_groups_free(g, n);
	freeReplyObject(r);
}

static void
groups_redis6_has_no_lag(void **state)
{
	/* Redis 6.2: no entries-read, no lag. */
	redisReply *r = t_arr(1, t_arr(8, t_str("name"), t_str("g"),
	    t_str("consumers"), t_int(1), t_str("pending"), t_int(3),
	    t_str("last-delivered-id"), t_str("5-1")));
	struct sl_group *g;
	size_t n;
	char err[128];

	(void)state;
	assert_int_equal(sl_xinfo_groups(r, &g, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(g[0].lag_state, SL_LAG_ABSENT);
	assert_int_equal(g[0].has_entries_read, 0);
	assert_int_equal(g[0].pending, 3);
	assert_string_equal(g[0].last_delivered_id, "5-1");
	sl_groups_free(g, n);
	freeReplyObject(r);
}

static void
groups_fields_in_any_order(void **state)
{
	redisReply *r = t_arr(1, t_arr(8, t_str("lag"), t_int(9),
	    t_str("future-field"), t_arr(0), t_str("pending"), t_int(1),
	    t_str("name"), t_str("g")));
	struct sl_group *g;
	size_t n;
	char err[128];

	(void)state;
	assert_int_equal(sl_xinfo_groups(r, &g, &n, err, sizeof(err)), 0);
	assert_int_equal(g[0].lag, 9);
	assert_int_equal(g[0].pending, 1);
	assert_string_equal(g[0].name.p, "g");
	assert_string_equal(g[0].last_delivered_id, "");
	sl_groups_free(g, n);
	freeReplyObject(r);
}

static void
groups_malformed(void **state)
{
	struct sl_group *g;
	size_t n;
	char err[128];
	redisReply *bad[] = {
		t_str("not an array"),
		t_arr(1, t_arr(3, t_str("name"), t_str("g"), t_str("lag"))),
		t_arr(1, t_arr(2, t_str("pending"), t_int(1))),	/* no name */
		t_arr(1, t_arr(4, t_str("name"), t_str("g"), t_str("lag"),
		    t_str("many"))),
		t_arr(1, t_arr(4, t_str("name"), t_str("g"), t_str("lag"),
		    t_int(-1))),
		t_arr(2, t_arr(2, t_str("name"), t_str("ok")), t_int(5)),
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(sl_xinfo_groups(bad[i], &g, &n, err,
		    sizeof(err)), -1);
		assert_null(g);
		assert_int_equal(n, 0);
		assert_true(strncmp(err, "XINFO GROUPS", 12) == 0);
		freeReplyObject(bad[i]);
	}
}

static void
consumers_70_and_72(void **state)
{
	redisReply *r = t_arr(2,
	    t_arr(6, t_str("name"), t_str("instance-1"), t_str("pending"),
		t_int(50), t_str("idle"), t_int(1234)),
	    t_arr(8, t_str("name"), t_strn("in\0st", 5), t_str("pending"),
		t_int(0), t_str("idle"), t_int(7), t_str("inactive"), t_int(-1)));
	struct sl_consumer *c;
	size_t n;
	char err[128];

	(void)state;
	assert_int_equal(sl_xinfo_consumers(r, &c, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(c[0].name.p, "instance-1");
	assert_int_equal(c[0].pending, 50);
	assert_int_equal(c[0].idle_ms, 1234);
	assert_int_equal(c[0].has_inactive, 0);
	assert_int_equal(c[1].name.len, 5);
	assert_memory_equal(c[1].name.p, "in\0st", 5);
	assert_int_equal(c[1].has_inactive, 1);
	assert_int_equal(c[1].inactive_ms, -1);
	sl_consumers_free(c, n);
	freeReplyObject(r);
}

static void
consumers_empty_and_malformed(void **state)
{
	redisReply *empty = t_arr(0);
	redisReply *bad = t_arr(1, t_arr(4, t_str("name"), t_str("x"),
	    t_str("idle"), t_str("soon")));
	struct sl_consumer *c;
	size_t n;
	char err[128];

	(void)state;
	assert_int_equal(sl_xinfo_consumers(empty, &c, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_null(c);
	assert_int_equal(sl_xinfo_consumers(bad, &c, &n, err, sizeof(err)), -1);
	assert_string_equal(err, "XINFO CONSUMERS: bad pending or idle");
	freeReplyObject(empty);
	freeReplyObject(bad);
}

static void
stream_70(void **state)
{
	redisReply *r = t_arr(20,
	    t_str("length"), t_int(200),
	    t_str("radix-tree-keys"), t_int(3),
	    t_str("radix-tree-nodes"), t_int(7),
	    t_str("last-generated-id"), t_str("1700000000199-0"),
	    t_str("max-deleted-entry-id"), t_str("0-0"),
	    t_str("entries-added"), t_int(200),
	    t_str("recorded-first-entry-id"), t_str("1700000000000-0"),
	    t_str("groups"), t_int(1),
	    t_str("first-entry"), t_arr(2, t_str("1700000000000-0"),
		t_arr(2, t_str("f"), t_str("v"))),
	    t_str("last-entry"), t_arr(2, t_str("1700000000199-0"),
		t_arr(2, t_str("f"), t_str("v"))));
	struct sl_stream_info si;
	char err[128];

	(void)state;
	assert_int_equal(sl_xinfo_stream(r, &si, err, sizeof(err)), 0);
	assert_int_equal(si.length, 200);
	assert_int_equal(si.groups, 1);
	assert_string_equal(si.first_entry_id, "1700000000000-0");
	assert_string_equal(si.last_entry_id, "1700000000199-0");
	assert_string_equal(si.last_generated_id, "1700000000199-0");
	assert_string_equal(si.max_deleted_entry_id, "0-0");
	assert_string_equal(si.recorded_first_entry_id, "1700000000000-0");
	assert_int_equal(si.has_entries_added, 1);
	assert_int_equal(si.entries_added, 200);
	freeReplyObject(r);
}

static void
stream_empty_redis6(void **state)
{
	/* 6.x: no entries-added or max-deleted-entry-id; empty: nil entries. */
	redisReply *r = t_arr(10, t_str("length"), t_int(0),
	    t_str("last-generated-id"), t_str("0-0"), t_str("groups"), t_int(0),
	    t_str("first-entry"), t_nil(), t_str("last-entry"), t_nil());
	struct sl_stream_info si;
	char err[128];

	(void)state;
	assert_int_equal(sl_xinfo_stream(r, &si, err, sizeof(err)), 0);
	assert_int_equal(si.length, 0);
	assert_string_equal(si.first_entry_id, "");
	assert_string_equal(si.last_entry_id, "");
	assert_string_equal(si.max_deleted_entry_id, "");
	assert_int_equal(si.has_entries_added, 0);
	freeReplyObject(r);
}

static void
id_ms(void **state)
{
	(void)state;
	assert_int_equal(sl_id_ms("1700000000123-4"), 1700000000123LL);
	assert_int_equal(sl_id_ms("0-1"), 0);
	assert_int_equal(sl_id_ms("5"), -1);
	assert_int_equal(sl_id_ms("-1-0"), -1);
	assert_int_equal(sl_id_ms(""), -1);
	assert_int_equal(sl_id_ms("99999999999999999999-0"), -1);
	assert_int_equal(sl_id_ms(NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(groups_redis70),
		cmocka_unit_test(groups_redis6_has_no_lag),
		cmocka_unit_test(groups_fields_in_any_order),
		cmocka_unit_test(groups_malformed),
		cmocka_unit_test(consumers_70_and_72),
		cmocka_unit_test(consumers_empty_and_malformed),
		cmocka_unit_test(stream_70),
		cmocka_unit_test(stream_empty_redis6),
		cmocka_unit_test(id_ms),
	};
	return cmocka_run_group_tests_name("xinfo", tests, NULL, NULL);
}
