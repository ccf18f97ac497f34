/* Lag and health rules on crafted replies: the seed's semantics (NOGROUP,
 * per-stream errors, totals) and an unknown lag never read as 0. */
#include <stdio.h>

#include "sl_test.h"
#include "streamlag/lag.h"

static const struct sl_thresholds T = { 100, 1000 };
#define G "signalr-consumers"

static redisReply *
groups_reply(const char *name, long long pending, redisReply *lag)
{
	return t_arr(1, t_arr(10, t_str("name"), t_str(name), t_str("consumers"),
	    t_int(2), t_str("pending"), t_int(pending), t_str("entries-read"),
	    t_int(pending), t_str("lag"), lag));
}

static redisReply *
consumer(const char *name, long long pending, long long idle)
{
	return t_arr(6, t_str("name"), t_str(name), t_str("pending"),
	    t_int(pending), t_str("idle"), t_int(idle));
}

static void
fill(struct sl_lag_entry *e, redisReply *groups, redisReply *consumers)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(sl_lag_entry_fill(e, G, strlen(G), groups, consumers,
	    &T), 0);
	freeReplyObject(groups);
	freeReplyObject(consumers);
}

static void
seed_chat(void **state)
{
	struct sl_lag_entry e;

	(void)state;
	fill(&e, groups_reply(G, 77, t_int(123)), t_arr(2,
	    consumer("instance-1", 50, 10), consumer("instance-2", 27, 20)));
	assert_null(e.error);
	assert_int_equal(e.has_group, 1);
	assert_int_equal(e.lag, 123);
	assert_int_equal(e.lag_exact, 1);
	assert_int_equal(e.status, SL_STATUS_DEGRADED);
	assert_int_equal(e.nconsumers, 2);
	assert_string_equal(e.consumers[0].name.p, "instance-1");
	assert_string_equal(e.consumers[1].name.p, "instance-2");
	assert_int_equal(e.group.pending, 77);
	assert_string_equal(e.group.name.p, G);
	sl_lag_entry_free(&e);
}

static void
other_group_only_is_no_group(void **state)
{
	struct sl_lag_entry e;

	(void)state;
	fill(&e, groups_reply("audit", 5, t_int(9)), t_err("NOGROUP No such "
	    "key 'events:chat' or consumer group 'signalr-consumers'"));
	assert_null(e.error);
	assert_int_equal(e.has_group, 0);
	assert_int_equal(e.lag, 0);
	assert_int_equal(e.nconsumers, 0);
	assert_int_equal(e.status, SL_STATUS_NO_GROUP);
	sl_lag_entry_free(&e);
}

static void
missing_stream_is_error(void **state)
{
	struct sl_lag_entry e;

	(void)state;
	fill(&e, t_err("ERR no such key"), t_err("ERR no such key"));
	assert_string_equal(e.error, "no such key");
	assert_int_equal(e.lag, -1);
	assert_int_equal(e.status, SL_STATUS_ERROR);
	sl_lag_entry_free(&e);

	fill(&e, t_err("WRONGTYPE Operation against a key holding the wrong "
	    "kind of value"), t_err("WRONGTYPE x"));
	assert_string_equal(e.error, "WRONGTYPE Operation against a key holding "
	    "the wrong kind of value");
	sl_lag_entry_free(&e);
}

static void
nil_lag_is_unknown_not_zero(void **state)
{
	struct sl_lag_entry e;

	(void)state;
	fill(&e, groups_reply(G, 3, t_nil()), t_arr(1, consumer("c", 3, 1)));
	assert_non_null(e.error);
	assert_true(strncmp(e.error, "lag unknown", 11) == 0);
	assert_int_equal(e.lag, -1);
	assert_int_equal(e.status, SL_STATUS_ERROR);
	assert_int_equal(e.nconsumers, 0);
	sl_lag_entry_free(&e);
}

static void
absent_lag_redis6_is_unknown(void **state)
{
	struct sl_lag_entry e;
	redisReply *g = t_arr(1, t_arr(4, t_str("name"), t_str(G),
	    t_str("pending"), t_int(0)));

	(void)state;
	fill(&e, g, t_arr(0));
	assert_non_null(e.error);
	assert_string_equal(e.error, "lag unknown: this Redis version reports "
	    "no lag");
	assert_int_equal(e.lag, -1);
	sl_lag_entry_free(&e);
}

static void
malformed_reply_is_error(void **state)
{
	struct sl_lag_entry e;

	(void)state;
	fill(&e, t_str("junk"), t_arr(0));
	assert_string_equal(e.error, "XINFO GROUPS: expected an array reply");
	assert_int_equal(e.lag, -1);
	sl_lag_entry_free(&e);
}

static void
thresholds(void **state)
{
	(void)state;
	assert_int_equal(sl_status_for_lag(0, &T), SL_STATUS_HEALTHY);
	assert_int_equal(sl_status_for_lag(99, &T), SL_STATUS_HEALTHY);
	assert_int_equal(sl_status_for_lag(100, &T), SL_STATUS_DEGRADED);
	assert_int_equal(sl_status_for_lag(999, &T), SL_STATUS_DEGRADED);
	assert_int_equal(sl_status_for_lag(1000, &T), SL_STATUS_UNHEALTHY);
	assert_string_equal(sl_status_name(SL_STATUS_NO_GROUP), "no_group");
	assert_string_equal(sl_status_name(SL_STATUS_STALLED), "stalled");
}

static struct sl_lag_entry
answered(long long lag, enum sl_status st)
{
	struct sl_lag_entry e;

	memset(&e, 0, sizeof(e));
	e.lag = lag;
	e.status = st;
	return e;
}

static void
totals_and_health(void **state)
{
	struct sl_lag_entry es[5];
	struct sl_lag_report r;
	struct sl_health h;
	char err[] = "no such key";

	(void)state;
	es[0] = answered(123, SL_STATUS_DEGRADED);
	es[1] = answered(45, SL_STATUS_HEALTHY);
	es[2] = answered(0, SL_STATUS_HEALTHY);
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
	assert_int_equal(h.unhealthy, 0);
	assert_int_equal(h.max_lag, 123);
	assert_int_equal(h.total_lag, 168);

	/* A failed stream: not in the totals, unhealthy in health. */
	es[3] = answered(-1, SL_STATUS_ERROR);
	es[3].error = err;
	es[4] = answered(0, SL_STATUS_NO_GROUP);
	r.n = 5;
	sl_lag_report_totals(&r);
	assert_int_equal(r.total_lag, 168);
	assert_int_equal(r.stream_count, 4);
	sl_health_of(&r, &h);
	assert_int_equal(h.unhealthy, 1);
	assert_int_equal(h.no_group, 1);
	assert_int_equal(h.max_lag, 123);
	assert_int_equal(h.status, SL_STATUS_UNHEALTHY);

	/* no_group alone makes the whole degraded; stalled makes it unhealthy. */
	es[0] = answered(0, SL_STATUS_NO_GROUP);
	r.n = 1;
	sl_health_of(&r, &h);
	assert_int_equal(h.status, SL_STATUS_DEGRADED);
	es[0] = answered(5, SL_STATUS_STALLED);
	sl_health_of(&r, &h);
	assert_int_equal(h.stalled, 1);
	assert_int_equal(h.status, SL_STATUS_UNHEALTHY);
	r.n = 0;
	sl_health_of(&r, &h);
	assert_int_equal(h.status, SL_STATUS_HEALTHY);
	assert_int_equal(h.max_lag, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seed_chat),
		cmocka_unit_test(other_group_only_is_no_group),
		cmocka_unit_test(missing_stream_is_error),
		cmocka_unit_test(nil_lag_is_unknown_not_zero),
		cmocka_unit_test(absent_lag_redis6_is_unknown),
		cmocka_unit_test(malformed_reply_is_error),
		cmocka_unit_test(thresholds),
		cmocka_unit_test(totals_and_health),
	};
	return cmocka_run_group_tests_name("lag", tests, NULL, NULL);
}
