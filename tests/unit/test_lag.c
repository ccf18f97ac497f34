/* SPDX-License-Identifier: ISC */
/* Lag truth on crafted replies: the seed's semantics (NOGROUP, per-stream
 * errors, totals), the exact lag where Redis gives none (nil, Redis 6.x) or
 * a wrong one (trimmed entries), time lag, pending age, stalls, trim risk. */
#include <stdio.h>

#include "sl_test.h"
#include "streamlag/lag.h"

#define G "signalr-consumers"
#define NOW 1800000000000LL	/* Redis's clock in the tests, ms */

static struct sl_thresholds T = { 100, 1000, 60000, 10000, 0 };

static redisReply *
groups_reply(const char *name, long long pending, const char *last,
    redisReply *lag)
{
	return t_arr(1, t_arr(12, t_str("name"), t_str(name), t_str("consumers"),
	    t_int(2), t_str("pending"), t_int(pending),
	    t_str("last-delivered-id"), t_str(last), t_str("entries-read"),
	    t_int(pending), t_str("lag"), lag));
}

static redisReply *
consumer(const char *name, long long pending, long long idle)
{
	return t_arr(6, t_str("name"), t_str(name), t_str("pending"),
	    t_int(pending), t_str("idle"), t_int(idle));
}

/* An XRANGE reply of n entries with ids (first_ms + i)-0. */
static redisReply *
range_reply(size_t n, long long first_ms)
{
	redisReply *r = t_arr(0);
	char id[48];

	free(r->element);
	r->element = calloc(n ? n : 1, sizeof(*r->element));
	r->elements = n;
	for (size_t i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%lld-0", first_ms + (long long)i);
		r->element[i] = t_arr(2, t_str(id), t_arr(2, t_str("f"),
		    t_str("v")));
	}
	return r;
}

static void
fill(struct sl_lag_entry *e, redisReply *groups, redisReply *consumers,
    const struct sl_thresholds *t)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(sl_lag_entry_fill(e, G, strlen(G), groups, consumers,
	    t), 0);
	freeReplyObject(groups);
	freeReplyObject(consumers);
}

static void
finish(struct sl_lag_entry *e, redisReply *range, redisReply *stream,
    redisReply *pending, const struct sl_thresholds *t)
{
	assert_int_equal(sl_lag_entry_finish(e, NULL, range, stream, pending,
	    NOW, t), 0);
	if (range != NULL)
		freeReplyObject(range);
	if (stream != NULL)
		freeReplyObject(stream);
	if (pending != NULL)
		freeReplyObject(pending);
}

static void
seed_chat(void **state)
{
	struct sl_lag_entry e;
	long long k;

	(void)state;
	fill(&e, groups_reply(G, 77, "1799999999000-0", t_int(123)),
	    t_arr(2, consumer("instance-1", 50, 10), consumer("instance-2", 27, 20)),
	    &T);
	assert_null(e.error);
	assert_int_equal(e.lag, 123);
	assert_int_equal(e.status, SL_STATUS_DEGRADED);
	assert_int_equal(e.nconsumers, 2);
	assert_string_equal(e.consumers[1].name.p, "instance-2");
	/* Follow-up: count up to Redis's lag, and the oldest pending entry. */
	assert_int_equal(sl_lag_followup(&e, 0, &T, &k),
	    SL_NEED_RANGE | SL_NEED_PENDING);
	assert_int_equal(k, 123);
	finish(&e, range_reply(123, NOW - 5120), NULL,
	    t_arr(1, t_arr(4, t_str("1799999991000-0"), t_str("instance-1"),
	    t_int(9000), t_int(1))), &T);
	assert_int_equal(e.lag, 123);
	assert_int_equal(e.lag_exact, 1);
	assert_int_equal(e.trimmed_unread, 0);
	assert_int_equal(e.has_time_lag, 1);
	assert_int_equal(e.time_lag_ms, 5120);
	assert_int_equal(e.has_oldest_pending, 1);
	assert_int_equal(e.oldest_pending_ms, 9000);
	assert_int_equal(e.has_trim_risk, 0);
	assert_int_equal(e.status, SL_STATUS_DEGRADED);
	sl_lag_entry_free(&e);
}

static void
caught_up_needs_no_followup(void **state)
{
	struct sl_lag_entry e;
	long long k;

	(void)state;
	fill(&e, groups_reply(G, 0, "5-0", t_int(0)),
	    t_arr(1, consumer("c", 0, 999999)), &T);
	assert_int_equal(sl_lag_followup(&e, 0, &T, &k), 0);
	finish(&e, NULL, NULL, NULL, &T);
	assert_int_equal(e.lag, 0);
	assert_int_equal(e.time_lag_ms, 0);
	assert_int_equal(e.has_time_lag, 1);
	assert_int_equal(e.has_oldest_pending, 0);
	/* Idle for long, but nothing waits: not stalled. */
	assert_int_equal(e.status, SL_STATUS_HEALTHY);
	sl_lag_entry_free(&e);
}

static void
other_group_only_is_no_group(void **state)
{
	struct sl_lag_entry e;
	long long k;

	(void)state;
	fill(&e, groups_reply("audit", 5, "0-0", t_int(9)), t_err("NOGROUP No "
	    "such key 'events:chat' or consumer group 'signalr-consumers'"), &T);
	assert_null(e.error);
	assert_int_equal(e.has_group, 0);
	assert_int_equal(e.lag, 0);
	assert_int_equal(sl_lag_followup(&e, 0, &T, &k), 0);
	finish(&e, NULL, NULL, NULL, &T);
	assert_int_equal(e.status, SL_STATUS_NO_GROUP);
	sl_lag_entry_free(&e);
}

static void
missing_stream_is_error(void **state)
{
	struct sl_lag_entry e;

	(void)state;
	fill(&e, t_err("ERR no such key"), t_err("ERR no such key"), &T);
	assert_string_equal(e.error, "no such key");
	assert_int_equal(e.lag, -1);
	assert_int_equal(e.status, SL_STATUS_ERROR);
	sl_lag_entry_free(&e);
	fill(&e, t_err("WRONGTYPE Operation against a key holding the wrong "
	    "kind of value"), t_err("WRONGTYPE x"), &T);
	assert_string_equal(e.error, "WRONGTYPE Operation against a key holding "
	    "the wrong kind of value");
	sl_lag_entry_free(&e);
	fill(&e, t_str("junk"), t_arr(0), &T);
	assert_string_equal(e.error, "XINFO GROUPS: expected an array reply");
	sl_lag_entry_free(&e);
}

/* Redis's refusals of the whole server (OOM, LOADING, BUSY, NOPERM,
 * MASTERDOWN) are the stream's error, in Redis's words; a real Redis sends
 * OOM only to writes, so this crafted reply is its only test. */
static void
server_refusals_are_stream_errors(void **state)
{
	static const char *const refusals[] = {
		"OOM command not allowed when used memory > 'maxmemory'.",
		"LOADING Redis is loading the dataset in memory",
		"BUSY Redis is busy running a script. You can only call SCRIPT "
		    "KILL or SHUTDOWN NOSAVE.",
		"NOPERM this user has no permissions to run the 'xinfo|groups' "
		    "command",
		"MASTERDOWN Link with MASTER is down and replica-serve-stale-data "
		    "is set to 'no'.",
	};
	struct sl_lag_entry e;

	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		fill(&e, t_err(refusals[i]), t_err(refusals[i]), &T);
		assert_string_equal(e.error, refusals[i]);
		assert_int_equal(e.lag, -1);
		assert_int_equal(e.status, SL_STATUS_ERROR);
		sl_lag_entry_free(&e);
	}
	/* The groups answered, the consumers refused: still the error. */
	fill(&e, groups_reply(G, 0, "0-0", t_int(0)), t_err(refusals[0]), &T);
	assert_string_equal(e.error, refusals[0]);
	assert_int_equal(e.lag, -1);
	assert_int_equal(e.status, SL_STATUS_ERROR);
	sl_lag_entry_free(&e);
}

/* Redis 7.0 nil lag (XDEL, SETID, group at an arbitrary id): counted. */
static void
nil_lag_is_counted(void **state)
{
	struct sl_lag_entry e;
	long long k;
	redisReply *stream = t_arr(10, t_str("length"), t_int(20),
	    t_str("groups"), t_int(1), t_str("last-generated-id"),
	    t_str("1800000000019-0"), t_str("first-entry"),
	    t_arr(2, t_str("1800000000000-0"), t_arr(0)), t_str("last-entry"),
	    t_arr(2, t_str("1800000000019-0"), t_arr(0)));

	(void)state;
	fill(&e, groups_reply(G, 0, "1800000000009-0", t_nil()),
	    t_arr(1, consumer("c", 0, 1)), &T);
	assert_null(e.error);
	assert_int_equal(sl_lag_followup(&e, 0, &T, &k),
	    SL_NEED_RANGE | SL_NEED_STREAM);
	assert_int_equal(k, 10001);
	finish(&e, range_reply(10, NOW + 10), stream, NULL, &T);
	assert_null(e.error);
	assert_int_equal(e.lag, 10);
	assert_int_equal(e.lag_exact, 1);
	assert_int_equal(e.time_lag_ms, 0);	/* ids in the future: age 0 */
	assert_int_equal(e.status, SL_STATUS_HEALTHY);
	sl_lag_entry_free(&e);
}

/* Behind the first entry: every entry is left; Redis's rule, no count. */
static void
behind_first_entry_is_length(void **state)
{
	struct sl_lag_entry e;
	redisReply *stream = t_arr(8, t_str("length"), t_int(50000),
	    t_str("groups"), t_int(1), t_str("first-entry"),
	    t_arr(2, t_str("1799999990000-0"), t_arr(0)), t_str("last-entry"),
	    t_arr(2, t_str("1799999999999-0"), t_arr(0)));

	(void)state;
	fill(&e, groups_reply(G, 0, "1700000000000-0", t_nil()),
	    t_arr(1, consumer("c", 0, 1)), &T);
	finish(&e, range_reply(10001, 1799999990000LL), stream, NULL, &T);
	assert_int_equal(e.lag, 50000);
	assert_int_equal(e.lag_exact, 1);
	assert_int_equal(e.time_lag_ms, 10000);
	assert_int_equal(e.status, SL_STATUS_UNHEALTHY);
	sl_lag_entry_free(&e);
}

static void
count_cap_gives_lower_bound(void **state)
{
	struct sl_thresholds t = T;
	struct sl_lag_entry e;
	long long k;

	(void)state;
	t.count_cap = 5;
	fill(&e, groups_reply(G, 0, "1799999999000-0", t_nil()),
	    t_arr(1, consumer("c", 0, 1)), &t);
	assert_int_equal(sl_lag_followup(&e, 0, &t, &k),
	    SL_NEED_RANGE | SL_NEED_STREAM);
	assert_int_equal(k, 6);
	finish(&e, range_reply(6, NOW - 1000), t_err("ERR no such key"), NULL, &t);
	assert_int_equal(e.lag, 5);
	assert_int_equal(e.lag_exact, 0);
	sl_lag_entry_free(&e);

	/* A known lag beyond the cap stays Redis's, marked unverified... */
	fill(&e, groups_reply(G, 0, "1799999999000-0", t_int(20)),
	    t_arr(1, consumer("c", 0, 1)), &t);
	assert_int_equal(sl_lag_followup(&e, 0, &t, &k),
	    SL_NEED_RANGE | SL_NEED_STREAM);
	assert_int_equal(k, 6);
	finish(&e, range_reply(6, NOW - 1000), t_arr(4, t_str("length"),
	    t_int(30), t_str("first-entry"), t_arr(2, t_str("1799999998000-0"),
	    t_arr(0))), NULL, &t);
	assert_int_equal(e.lag, 20);
	assert_int_equal(e.lag_exact, 0);
	sl_lag_entry_free(&e);
	/* ... unless the group is behind the first entry: then XLEN. */
	fill(&e, groups_reply(G, 0, "1799999999000-0", t_int(20)),
	    t_arr(1, consumer("c", 0, 1)), &t);
	finish(&e, range_reply(6, NOW - 1000), t_arr(4, t_str("length"),
	    t_int(12), t_str("first-entry"), t_arr(2, t_str("1799999999500-0"),
	    t_arr(0))), NULL, &t);
	assert_int_equal(e.lag, 12);
	assert_int_equal(e.lag_exact, 1);
	assert_int_equal(e.trimmed_unread, 8);
	sl_lag_entry_free(&e);
	/* ... unless fewer are left than the cap: then it is exact. */
	fill(&e, groups_reply(G, 0, "1799999999000-0", t_int(20)),
	    t_arr(1, consumer("c", 0, 1)), &t);
	finish(&e, range_reply(3, NOW - 1000), NULL, NULL, &t);
	assert_int_equal(e.lag, 3);
	assert_int_equal(e.lag_exact, 1);
	assert_int_equal(e.trimmed_unread, 17);
	sl_lag_entry_free(&e);
}

/* 100 added, 10 read, trimmed to 50: Redis says 90, 50 are left. */
static void
trimmed_unread(void **state)
{
	struct sl_lag_entry e;

	(void)state;
	fill(&e, groups_reply(G, 10, "1800000000009-0", t_int(90)),
	    t_arr(1, consumer("c", 10, 1)), &T);
	finish(&e, range_reply(50, NOW - 60000), NULL, NULL, &T);
	assert_int_equal(e.lag, 50);
	assert_int_equal(e.lag_exact, 1);
	assert_int_equal(e.trimmed_unread, 40);
	assert_int_equal(e.time_lag_ms, 60000);
	sl_lag_entry_free(&e);
	/* Caught up afterwards: Redis says 40 for ever, nothing is left. */
	fill(&e, groups_reply(G, 0, "1800000000099-0", t_int(40)),
	    t_arr(1, consumer("c", 0, 1)), &T);
	finish(&e, t_arr(0), NULL, NULL, &T);
	assert_int_equal(e.lag, 0);
	assert_int_equal(e.trimmed_unread, 40);
	assert_int_equal(e.time_lag_ms, 0);
	assert_int_equal(e.status, SL_STATUS_HEALTHY);
	sl_lag_entry_free(&e);
}

static void
absent_lag_redis6_is_counted(void **state)
{
	struct sl_lag_entry e;
	long long k;
	redisReply *g = t_arr(1, t_arr(8, t_str("name"), t_str(G),
	    t_str("consumers"), t_int(1), t_str("pending"), t_int(0),
	    t_str("last-delivered-id"), t_str("3-0")));

	(void)state;
	fill(&e, g, t_arr(1, consumer("c", 0, 1)), &T);
	assert_int_equal(sl_lag_followup(&e, 0, &T, &k),
	    SL_NEED_RANGE | SL_NEED_STREAM);
	finish(&e, range_reply(4, 4), NULL, NULL, &T);
	assert_int_equal(e.lag, 4);
	assert_int_equal(e.lag_exact, 1);
	assert_int_equal(e.has_time_lag, 0);	/* ids are not timestamps */
	sl_lag_entry_free(&e);
}

static void
stalls(void **state)
{
	struct sl_thresholds t = T;
	struct sl_lag_entry e;
	redisReply *c72;

	(void)state;
	t.stall_ms = 1000;
	/* Work waits, every consumer quiet for longer: stalled. */
	fill(&e, groups_reply(G, 3, "1799999999000-0", t_int(5)),
	    t_arr(2, consumer("a", 1, 1500), consumer("b", 2, 2000)), &t);
	finish(&e, range_reply(5, NOW - 100), NULL, NULL, &t);
	assert_int_equal(e.status, SL_STATUS_STALLED);
	sl_lag_entry_free(&e);
	/* One consumer active: not stalled. */
	fill(&e, groups_reply(G, 3, "1799999999000-0", t_int(5)),
	    t_arr(2, consumer("a", 1, 1500), consumer("b", 2, 10)), &t);
	finish(&e, range_reply(5, NOW - 100), NULL, NULL, &t);
	assert_int_equal(e.status, SL_STATUS_HEALTHY);
	sl_lag_entry_free(&e);
	/* No consumers and lag: stalled.  Pending only: stalled too. */
	fill(&e, groups_reply(G, 0, "1799999999000-0", t_int(2)), t_arr(0), &t);
	finish(&e, range_reply(2, NOW - 100), NULL, NULL, &t);
	assert_int_equal(e.status, SL_STATUS_STALLED);
	sl_lag_entry_free(&e);
	fill(&e, groups_reply(G, 4, "1799999999000-0", t_int(0)),
	    t_arr(1, consumer("a", 4, 5000)), &t);
	finish(&e, NULL, NULL, NULL, &t);
	assert_int_equal(e.status, SL_STATUS_STALLED);
	sl_lag_entry_free(&e);
	/* Redis 7.2: `inactive` (last successful read) wins over `idle`. */
	c72 = t_arr(1, t_arr(8, t_str("name"), t_str("a"), t_str("pending"),
	    t_int(0), t_str("idle"), t_int(5), t_str("inactive"), t_int(9000)));
	fill(&e, groups_reply(G, 0, "1799999999000-0", t_int(7)), c72, &t);
	finish(&e, range_reply(7, NOW - 100), NULL, NULL, &t);
	assert_int_equal(e.status, SL_STATUS_STALLED);
	sl_lag_entry_free(&e);
}

static void
trim_risk(void **state)
{
	struct sl_thresholds t = T;
	struct sl_lag_entry e;

	(void)state;
	t.max_len = 100;
	fill(&e, groups_reply(G, 0, "1799999999000-0", t_int(81)),
	    t_arr(1, consumer("a", 0, 1)), &t);
	finish(&e, range_reply(81, NOW - 100), NULL, NULL, &t);
	assert_int_equal(e.has_trim_risk, 1);
	assert_int_equal(e.trim_risk, 1);
	sl_lag_entry_free(&e);
	fill(&e, groups_reply(G, 0, "1799999999000-0", t_int(80)),
	    t_arr(1, consumer("a", 0, 1)), &t);
	finish(&e, range_reply(80, NOW - 100), NULL, NULL, &t);
	assert_int_equal(e.trim_risk, 0);
	sl_lag_entry_free(&e);
}

static void
ids_and_thresholds(void **state)
{
	(void)state;
	assert_int_equal(sl_id_cmp("1-0", "1-1"), -1);
	assert_int_equal(sl_id_cmp("2-0", "10-0"), -1);
	assert_int_equal(sl_id_cmp("10-5", "10-5"), 0);
	assert_int_equal(sl_id_cmp("11-0", "10-9"), 1);
	assert_int_equal(sl_id_cmp("x", "1-0"), -2);
	assert_int_equal(sl_status_for_lag(99, &T), SL_STATUS_HEALTHY);
	assert_int_equal(sl_status_for_lag(100, &T), SL_STATUS_DEGRADED);
	assert_int_equal(sl_status_for_lag(999, &T), SL_STATUS_DEGRADED);
	assert_int_equal(sl_status_for_lag(1000, &T), SL_STATUS_UNHEALTHY);
	assert_string_equal(sl_status_name(SL_STATUS_NO_GROUP), "no_group");
}

static struct sl_lag_entry
answered(const char *stream, long long lag, enum sl_status st)
{
	struct sl_lag_entry e;

	memset(&e, 0, sizeof(e));
	e.stream.p = (char *)stream;
	e.stream.len = strlen(stream);
	e.lag = lag;
	e.status = st;
	return e;
}

static void
totals_and_health(void **state)
{
	struct sl_lag_entry es[6];
	struct sl_lag_report r;
	struct sl_health h;
	char err[] = "no such key";

	(void)state;
	es[0] = answered("chat", 123, SL_STATUS_DEGRADED);
	es[1] = answered("ticket", 45, SL_STATUS_HEALTHY);
	es[2] = answered("remote", 0, SL_STATUS_HEALTHY);
	memset(&r, 0, sizeof(r));
	r.entries = es;
	r.n = 3;
	sl_lag_report_totals(&r);
	assert_int_equal(r.total_lag, 168);
	assert_int_equal(r.stream_count, 3);
	sl_health_of(&r, &h);
	assert_int_equal(h.status, SL_STATUS_DEGRADED);
	assert_int_equal(h.healthy, 2);
	assert_int_equal(h.degraded, 1);
	assert_int_equal(h.max_lag, 123);
	/* A failed stream: not in the totals, unhealthy in health. */
	es[3] = answered("gone", -1, SL_STATUS_ERROR);
	es[3].error = err;
	es[4] = answered("other", 0, SL_STATUS_NO_GROUP);
	r.n = 5;
	sl_lag_report_totals(&r);
	assert_int_equal(r.total_lag, 168);
	assert_int_equal(r.stream_count, 4);
	sl_health_of(&r, &h);
	assert_int_equal(h.unhealthy, 1);
	assert_int_equal(h.no_group, 1);
	assert_int_equal(h.status, SL_STATUS_UNHEALTHY);
	/* ?group=*: two groups of one stream count one stream, both lags. */
	es[5] = answered("other", 7, SL_STATUS_STALLED);
	r.n = 6;
	sl_lag_report_totals(&r);
	assert_int_equal(r.total_lag, 175);
	assert_int_equal(r.stream_count, 4);
	sl_health_of(&r, &h);
	assert_int_equal(h.stalled, 1);
	es[0] = answered("x", 0, SL_STATUS_NO_GROUP);
	r.n = 1;
	sl_health_of(&r, &h);
	assert_int_equal(h.status, SL_STATUS_DEGRADED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seed_chat),
		cmocka_unit_test(caught_up_needs_no_followup),
		cmocka_unit_test(other_group_only_is_no_group),
		cmocka_unit_test(missing_stream_is_error),
		cmocka_unit_test(server_refusals_are_stream_errors),
		cmocka_unit_test(nil_lag_is_counted),
		cmocka_unit_test(behind_first_entry_is_length),
		cmocka_unit_test(count_cap_gives_lower_bound),
		cmocka_unit_test(trimmed_unread),
		cmocka_unit_test(absent_lag_redis6_is_counted),
		cmocka_unit_test(stalls),
		cmocka_unit_test(trim_risk),
		cmocka_unit_test(ids_and_thresholds),
		cmocka_unit_test(totals_and_health),
	};
	return cmocka_run_group_tests_name("lag", tests, NULL, NULL);
}
