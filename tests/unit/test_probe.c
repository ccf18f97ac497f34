/* SPDX-License-Identifier: ISC */
/* The targets list's cheap verdict from XINFO GROUPS replies alone:
 * Redis's lag against the thresholds, a nil or absent lag left unknown,
 * a missing group or stream, and allocation failures. */
#include "sl_test.h"
#include "streamlag/alloc.h"
#include "streamlag/probe.h"

static const struct sl_thresholds T = { .degraded = 100, .unhealthy = 1000 };

static redisReply *
group70(const char *name, redisReply *lag)
{
	return t_arr(12, t_str("name"), t_str(name), t_str("consumers"),
	    t_int(1), t_str("pending"), t_int(0), t_str("last-delivered-id"),
	    t_str("1-0"), t_str("entries-read"), t_int(1), t_str("lag"), lag);
}

static void
one_group_by_name(void **state)
{
	redisReply		*r = t_arr(3, group70("a", t_int(5)),
	    group70("b", t_int(150)), group70("c", t_int(5000)));
	struct sl_probe_tally	 v;
	enum sl_status		 s;

	(void)state;
	memset(&v, 0, sizeof(v));
	assert_int_equal(sl_probe_tally_add(&v, r, "b", &T), SL_OK);
	assert_int_equal(v.groups, 1);
	assert_int_equal(v.degraded, 1);
	assert_int_equal(sl_probe_verdict(&v, &s), 1);
	assert_int_equal(s, SL_STATUS_DEGRADED);
	/* Every group: c's 5000 is over the unhealthy threshold. */
	memset(&v, 0, sizeof(v));
	assert_int_equal(sl_probe_tally_add(&v, r, NULL, &T), SL_OK);
	assert_int_equal(v.groups, 3);
	assert_int_equal(v.healthy, 1);
	assert_int_equal(v.unhealthy, 1);
	assert_int_equal(sl_probe_verdict(&v, &s), 1);
	assert_int_equal(s, SL_STATUS_UNHEALTHY);
	freeReplyObject(r);
}

static void
limits(void **state)
{
	redisReply		*r = t_arr(2, group70("a", t_int(99)),
	    group70("b", t_int(100)));
	struct sl_probe_tally	 v;
	enum sl_status		 s;

	(void)state;
	memset(&v, 0, sizeof(v));
	assert_int_equal(sl_probe_tally_add(&v, r, "a", &T), SL_OK);
	assert_int_equal(sl_probe_verdict(&v, &s), 1);
	assert_int_equal(s, SL_STATUS_HEALTHY);	/* 99: under */
	memset(&v, 0, sizeof(v));
	assert_int_equal(sl_probe_tally_add(&v, r, "b", &T), SL_OK);
	assert_int_equal(sl_probe_verdict(&v, &s), 1);
	assert_int_equal(s, SL_STATUS_DEGRADED);	/* 100: at the threshold */
	freeReplyObject(r);
}

static void
unknown_lag(void **state)
{
	redisReply		*r = t_arr(2, group70("a", t_nil()),
	    group70("b", t_int(150)));
	redisReply		*r6 = t_arr(1, t_arr(8, t_str("name"), t_str("g"),
	    t_str("consumers"), t_int(1), t_str("pending"), t_int(3),
	    t_str("last-delivered-id"), t_str("5-1")));
	redisReply		*bad = t_arr(1, group70("z", t_int(5000)));
	struct sl_probe_tally	 v;
	enum sl_status		 s = SL_STATUS_HEALTHY;

	(void)state;
	memset(&v, 0, sizeof(v));
	assert_int_equal(sl_probe_tally_add(&v, r, NULL, &T), SL_OK);
	assert_int_equal(v.lag_unknown, 1);
	/* nil: never 0, never healthy; the degraded one does not decide. */
	assert_int_equal(sl_probe_verdict(&v, &s), 0);
	/* Redis 6: no lag field at all. */
	memset(&v, 0, sizeof(v));
	assert_int_equal(sl_probe_tally_add(&v, r6, "g", &T), SL_OK);
	assert_int_equal(v.lag_unknown, 1);
	assert_int_equal(sl_probe_verdict(&v, &s), 0);
	/* Something unhealthy is known whatever the rest. */
	assert_int_equal(sl_probe_tally_add(&v, bad, "z", &T), SL_OK);
	assert_int_equal(sl_probe_verdict(&v, &s), 1);
	assert_int_equal(s, SL_STATUS_UNHEALTHY);
	freeReplyObject(r);
	freeReplyObject(r6);
	freeReplyObject(bad);
}

static void
missing(void **state)
{
	redisReply		*r = t_arr(1, group70("a", t_int(0)));
	redisReply		*nokey = t_err("ERR no such key");
	redisReply		*junk = t_int(7);
	struct sl_probe_tally	 v;
	enum sl_status		 s;

	(void)state;
	memset(&v, 0, sizeof(v));
	assert_int_equal(sl_probe_tally_add(&v, r, "nope", &T), SL_OK);
	assert_int_equal(v.no_group, 1);
	assert_int_equal(v.groups, 0);
	assert_int_equal(sl_probe_verdict(&v, &s), 1);
	assert_int_equal(s, SL_STATUS_DEGRADED);	/* as health says */
	assert_int_equal(sl_probe_tally_add(&v, nokey, "a", &T), SL_OK);
	assert_int_equal(sl_probe_tally_add(&v, junk, "a", &T), SL_OK);
	assert_int_equal(sl_probe_tally_add(&v, NULL, "a", &T), SL_OK);
	assert_int_equal(v.errors, 3);
	assert_int_equal(sl_probe_verdict(&v, &s), 1);
	assert_int_equal(s, SL_STATUS_UNHEALTHY);
	freeReplyObject(r);
	freeReplyObject(nokey);
	freeReplyObject(junk);
}

static void
oom(void **state)
{
	redisReply		*r = t_arr(2, group70("a", t_int(1)),
	    group70("b", t_int(2)));
	struct sl_probe_tally	 v;
	enum sl_err		 rc = SL_ENOMEM;

	(void)state;
	for (long n = 0; rc == SL_ENOMEM && n < 64; n++) {
		memset(&v, 0, sizeof(v));
		sl_alloc_fail_after(n);
		rc = sl_probe_tally_add(&v, r, NULL, &T);
		sl_alloc_fail_after(-1);
		assert_true(rc == SL_OK || rc == SL_ENOMEM);
	}
	assert_int_equal(rc, SL_OK);
	assert_int_equal(v.groups, 2);
	freeReplyObject(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_group_by_name),
		cmocka_unit_test(limits),
		cmocka_unit_test(unknown_lag),
		cmocka_unit_test(missing),
		cmocka_unit_test(oom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
