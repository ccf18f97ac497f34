/* SPDX-License-Identifier: ISC */
/* Replies into facts on crafted replies: the XINFO field sets of Redis
 * 6.x, 7.0 and 7.2, nil fields, malformed replies and Redis's refusals;
 * TIME, XRANGE, XPENDING, SCAN, and when an id is a timestamp. */
#include <stdio.h>

#include "sl_test.h"
#include "streamlag/alloc.h"
#include "streamlag/facts.h"

/* The parsers, with the detail copied into err: 0, or -1 when the reply
 * is malformed (SL_EPROTO). */
static int
check(enum sl_err rc, const struct sl_error *why, char *err, size_t errlen)
{
	assert_true(rc == SL_OK || rc == SL_EPROTO);
	if (rc == SL_OK)
		return 0;
	snprintf(err, errlen, "%.*s", (int)(errlen - 1), why->str);
	return -1;
}

static int
xgroups(const redisReply *r, struct sl_group **g, size_t *n, char *err,
    size_t errlen)
{
	struct sl_error why;

	return check(sl_facts_groups(r, g, n, &why), &why, err, errlen);
}

static int
xconsumers(const redisReply *r, struct sl_consumer **c, size_t *n, char *err,
    size_t errlen)
{
	struct sl_error why;

	return check(sl_facts_consumers(r, c, n, &why), &why, err, errlen);
}

static int
xstream(const redisReply *r, struct sl_stream_info *si, char *err,
    size_t errlen)
{
	struct sl_error why;

	return check(sl_facts_stream(r, si, &why), &why, err, errlen);
}

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
	assert_int_equal(xgroups(r, &g, &n, err, sizeof(err)), 0);
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
	assert_int_equal(xgroups(r, &g, &n, err, sizeof(err)), 0);
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
	assert_int_equal(xgroups(r, &g, &n, err, sizeof(err)), 0);
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
		assert_int_equal(xgroups(bad[i], &g, &n, err,
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
	assert_int_equal(xconsumers(r, &c, &n, err, sizeof(err)), 0);
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
	assert_int_equal(xconsumers(empty, &c, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_null(c);
	assert_int_equal(xconsumers(bad, &c, &n, err, sizeof(err)), -1);
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
	assert_int_equal(xstream(r, &si, err, sizeof(err)), 0);
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
	assert_int_equal(xstream(r, &si, err, sizeof(err)), 0);
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

/* Redis's refusals: its words, the generic "ERR " dropped, whole however
 * long (an entry's error is never cut to the size of struct sl_error). */
static void
refusals_in_redis_words(void **state)
{
	char		 long_words[1200];
	redisReply	*r;
	struct sl_lag_entry e;
	struct sl_group	*g;
	struct sl_error	 why;
	size_t		 n;

	(void)state;
	memset(long_words, 'k', sizeof(long_words) - 1);
	long_words[sizeof(long_words) - 1] = '\0';
	memcpy(long_words, "NOPERM ", 7);
	r = t_err(long_words);
	assert_int_equal(sl_facts_groups(r, &g, &n, &why), SL_EREDIS);
	assert_null(g);
	memset(&e, 0, sizeof(e));
	assert_int_equal(sl_facts_lag_fail(&e, r, "unused"), SL_OK);
	assert_int_equal(strlen(e.error), sizeof(long_words) - 1);
	assert_int_equal(e.status, SL_STATUS_ERROR);
	sl_lag_entry_free(&e);
	freeReplyObject(r);
	r = t_err("ERR no such key");
	assert_int_equal(sl_facts_lag_fail(&e, r, "unused"), SL_OK);
	assert_string_equal(e.error, "no such key");
	sl_lag_entry_free(&e);
	freeReplyObject(r);
	r = t_err("NOGROUP No such key 's' or consumer group 'g'");
	assert_int_equal(sl_facts_nogroup(r), 1);
	freeReplyObject(r);
}

/* An id is a timestamp within ten years before Redis's clock and a day
 * after; ids set by hand (1-1) are not. */
static void
id_age_rule(void **state)
{
	const long long now = 1800000000000LL;
	long long	 age = -7;

	(void)state;
	assert_int_equal(sl_facts_id_age("1799999999000-0", 15, now, &age), 1);
	assert_int_equal(age, 1000);
	assert_int_equal(sl_facts_id_age("1800000000500-0", 15, now, &age), 1);
	assert_int_equal(age, 0);		/* in the future: 0 */
	assert_int_equal(sl_facts_id_age("1-1", 3, now, &age), 0);
	assert_int_equal(sl_facts_id_age("1799999999000-0", 15, -1, &age), 0);
	assert_int_equal(sl_facts_id_age("1800086400001-0", 15, now, &age), 0);
	assert_int_equal(sl_facts_id_age("junk", 4, now, &age), 0);
}

static void
pending_range_and_scan(void **state)
{
	redisReply	*r;
	long long	 age;
	char		 last[SL_ID_MAX], cursor[SL_SCAN_CURSOR_MAX];
	char		**names = NULL;
	size_t		 k, n = 0, cap = 0;

	(void)state;
	r = t_arr(1, t_arr(4, t_str("1799999991000-0"), t_str("c"), t_int(9),
	    t_int(1)));
	assert_int_equal(sl_facts_oldest_pending(r, 1800000000000LL, &age), 1);
	assert_int_equal(age, 9000);
	freeReplyObject(r);
	r = t_arr(2, t_arr(2, t_str("5-0"), t_arr(0)), t_arr(2, t_str("7-1"),
	    t_arr(0)));
	assert_int_equal(sl_facts_range_tail(r, &k, last), SL_OK);
	assert_int_equal(k, 2);
	assert_string_equal(last, "7-1");
	freeReplyObject(r);
	r = t_err("ERR Invalid stream ID");
	assert_int_equal(sl_facts_range_tail(r, &k, last), SL_EPROTO);
	freeReplyObject(r);
	r = t_arr(2, t_str("17"), t_arr(3, t_str("b"), t_strn("n\0ul", 4),
	    t_str("a")));
	assert_int_equal(sl_facts_scan(r, cursor, &names, &n, &cap), SL_OK);
	assert_string_equal(cursor, "17");
	assert_int_equal(n, 2);		/* the name holding a NUL skipped */
	assert_string_equal(names[0], "b");
	assert_string_equal(names[1], "a");
	for (size_t i = 0; i < n; i++)
		sl_free(names[i]);
	sl_free(names);
	freeReplyObject(r);
	r = t_arr(1, t_str("0"));
	assert_int_equal(sl_facts_scan(r, cursor, &names, &n, &cap), SL_EPROTO);
	freeReplyObject(r);
}

/* XLEN: an integer of 0 or more; Redis's refusal (an ACL without +xlen)
 * and anything else are no length. */
static void
xlen_replies(void **state)
{
	redisReply	*r;
	long long	 len = -7;

	(void)state;
	r = t_int(200);
	assert_int_equal(sl_facts_length(r, &len), SL_OK);
	assert_int_equal(len, 200);
	freeReplyObject(r);
	r = t_int(0);
	assert_int_equal(sl_facts_length(r, &len), SL_OK);
	assert_int_equal(len, 0);
	freeReplyObject(r);
	len = -7;
	r = t_err("NOPERM this user has no permissions to run the 'xlen' "
	    "command");
	assert_int_equal(sl_facts_length(r, &len), SL_EREDIS);
	freeReplyObject(r);
	r = t_int(-1);
	assert_int_equal(sl_facts_length(r, &len), SL_EPROTO);
	freeReplyObject(r);
	r = t_str("200");
	assert_int_equal(sl_facts_length(r, &len), SL_EPROTO);
	freeReplyObject(r);
	assert_int_equal(sl_facts_length(NULL, &len), SL_EPROTO);
	assert_int_equal(len, -7);	/* untouched when not a length */
}

/* Out of memory at every allocation of a parse: SL_ENOMEM and nothing
 * kept, never a malformed-reply verdict; then the parse succeeds. */
static void
groups_out_of_memory(void **state)
{
	redisReply	*r = t_arr(2,
	    group70("signalr-consumers", 2, 77, "1-0", t_int(77), t_int(1)),
	    group70("audit", 0, 0, "0-0", t_nil(), t_nil()));
	struct sl_group	*g;
	struct sl_error	 why;
	size_t		 n;
	enum sl_err	 rc;
	long		 fail_at;

	(void)state;
	for (fail_at = 0;; fail_at++) {
		sl_alloc_fail_after(fail_at);
		rc = sl_facts_groups(r, &g, &n, &why);
		sl_alloc_reset();
		if (rc == SL_OK)
			break;
		assert_int_equal(rc, SL_ENOMEM);
		assert_null(g);
		assert_int_equal(n, 0);
	}
	assert_int_equal(fail_at, 3);	/* the array and two names */
	assert_int_equal(n, 2);
	assert_string_equal(g[1].name.p, "audit");
	sl_groups_free(g, n);
	freeReplyObject(r);
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
		cmocka_unit_test(refusals_in_redis_words),
		cmocka_unit_test(id_age_rule),
		cmocka_unit_test(pending_range_and_scan),
		cmocka_unit_test(xlen_replies),
		cmocka_unit_test(groups_out_of_memory),
	};
	return cmocka_run_group_tests_name("facts", tests, NULL, NULL);
}
