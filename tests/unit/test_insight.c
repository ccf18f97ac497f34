/* SPDX-License-Identifier: ISC */
/* Rates, catch-up time, trend and verdicts on constructed series: every
 * expected value is computed here from the series the test built. */
#include <math.h>

#include "sl_test.h"
#include "streamlag/insight.h"

#define N_MAX 64

/* This cmocka has no assert_double_equal. */
static void
near(double got, double want, double eps, int line)
{
	if (fabs(got - want) > eps)
		fail_msg("line %d: %.12g, expected %.12g", line, got, want);
}
#define assert_double_equal(a, b, eps) near((a), (b), (eps), __LINE__)

/* A producer at p entries/s and a consumer at c entries/s, lag0 behind at
 * the start, one sample every step_ms. */
static size_t
series(struct sl_sample *s, size_t n, long long step_ms, long long p,
    long long c, long long lag0)
{
	for (size_t i = 0; i < n; i++) {
		long long secs_x1000 = (long long)i * step_ms;

		s[i].t_ms = 1700000000000LL + secs_x1000;
		s[i].added = 1000 + p * secs_x1000 / 1000;
		s[i].read = 1000 - lag0 + c * secs_x1000 / 1000;
		s[i].lag = s[i].added - s[i].read;
		s[i].pos_ms = s[i].t_ms - 1000 * (s[i].lag > 0);
		s[i].pending = 3;
		s[i].consumers = 1;
		s[i].flags = 0;
	}
	return n;
}

static double
rate(long long d, long long ms)
{
	return (double)d * 1000.0 / (double)ms;
}

static void
catching_up(void **state)
{
	struct sl_sample s[N_MAX];
	struct sl_insight o;
	size_t n = series(s, 20, 1000, 10, 15, 500);
	long long span = s[n - 1].t_ms - s[0].t_ms;
	double p = rate(s[n - 1].added - s[0].added, span);
	double c = rate(s[n - 1].read - s[0].read, span);

	(void)state;
	sl_insight_compute(s, n, 60000, &o);
	assert_int_equal(o.samples, 20);
	assert_true(o.has_produce_rate && o.has_consume_rate);
	assert_double_equal(o.produce_rate, p, 1e-9);
	assert_double_equal(o.consume_rate, c, 1e-9);
	assert_double_equal(o.produce_rate, 10.0, 1e-9);
	assert_true(o.has_eta && o.catching_up);
	assert_double_equal(o.eta_s, (double)s[n - 1].lag / (c - p), 1e-9);
	assert_int_equal(o.trend, SL_TREND_SHRINKING);
	assert_double_equal(o.slope, p - c, 1e-9);
	assert_double_equal(o.noise, 0.0, 1e-6);
	assert_int_equal(o.verdict, SL_VERDICT_OK);
	assert_string_equal(sl_trend_name(o.trend), "shrinking");
	assert_string_equal(sl_verdict_name(o.verdict), "ok");
}

static void
falling_behind(void **state)
{
	struct sl_sample s[N_MAX];
	struct sl_insight o;
	size_t n = series(s, 10, 500, 20, 10, 5);

	(void)state;
	sl_insight_compute(s, n, 60000, &o);
	assert_int_equal(o.trend, SL_TREND_GROWING);
	assert_int_equal(o.verdict, SL_VERDICT_FALLING_BEHIND);
	assert_false(o.has_eta);
	assert_false(o.catching_up);
	assert_string_equal(sl_verdict_name(o.verdict), "falling_behind");
}

static void
stopped(void **state)
{
	struct sl_sample s[N_MAX];
	struct sl_insight o;
	size_t n = series(s, 6, 1000, 0, 0, 42);

	(void)state;
	for (size_t i = 0; i < n; i++)
		s[i].pos_ms = 1700000000000LL;
	sl_insight_compute(s, n, 60000, &o);
	assert_double_equal(o.consume_rate, 0.0, 0);
	assert_int_equal(o.trend, SL_TREND_STABLE);
	assert_int_equal(o.verdict, SL_VERDICT_STOPPED);
	assert_false(o.catching_up);
	/* Stopped while the producer goes on: growing, but still stopped. */
	n = series(s, 6, 1000, 5, 0, 42);
	sl_insight_compute(s, n, 60000, &o);
	assert_int_equal(o.trend, SL_TREND_GROWING);
	assert_int_equal(o.verdict, SL_VERDICT_STOPPED);
}

/* Too few samples, or too short a span: nothing is invented. */
static void
not_enough(void **state)
{
	struct sl_sample s[N_MAX];
	struct sl_insight o;

	(void)state;
	series(s, 3, 1000, 10, 15, 500);
	sl_insight_compute(s, 2, 60000, &o);
	assert_false(o.has_produce_rate || o.has_consume_rate || o.has_eta);
	assert_int_equal(o.trend, SL_TREND_UNKNOWN);
	assert_int_equal(o.verdict, SL_VERDICT_UNKNOWN);
	assert_null(sl_trend_name(o.trend));
	assert_null(sl_verdict_name(o.verdict));
	series(s, 3, 999, 10, 15, 500);		/* 1998 ms */
	sl_insight_compute(s, 3, 60000, &o);
	assert_false(o.has_produce_rate);
	series(s, 3, 1000, 10, 15, 500);	/* 2000 ms: the limit */
	sl_insight_compute(s, 3, 60000, &o);
	assert_true(o.has_produce_rate);
	sl_insight_compute(s, 0, 60000, &o);
	assert_int_equal(o.samples, 0);
}

/* Only the last window counts: a stop long ago is forgotten. */
static void
window_only(void **state)
{
	struct sl_sample s[N_MAX];
	struct sl_insight o;
	size_t n = series(s, 30, 1000, 10, 15, 500);

	(void)state;
	for (size_t i = 0; i < 10; i++)	/* stopped before */
		s[i].read = s[10].read - 50 + (long long)i;
	sl_insight_compute(s, n, 10000, &o);
	assert_int_equal(o.samples, 11);
	assert_double_equal(o.consume_rate,
	    rate(s[29].read - s[19].read, s[29].t_ms - s[19].t_ms), 1e-9);
	assert_double_equal(o.consume_rate, 15.0, 1e-9);
}

/* XGROUP SETID back: entries-read turns nil, the position goes back. */
static void
rewound(void **state)
{
	struct sl_sample s[N_MAX];
	struct sl_insight o;
	size_t n = series(s, 12, 1000, 10, 15, 500);

	(void)state;
	for (size_t i = 8; i < n; i++) {
		s[i].read = -1;
		s[i].pos_ms -= 3600000;
	}
	sl_insight_compute(s, n, 60000, &o);
	assert_int_equal(o.verdict, SL_VERDICT_REWOUND);
	assert_int_equal(o.samples, 4);
	/* The rates come from the samples after the move only. */
	assert_double_equal(o.produce_rate,
	    rate(s[11].added - s[8].added, s[11].t_ms - s[8].t_ms), 1e-9);
	assert_string_equal(sl_verdict_name(o.verdict), "rewound");
	/* A rewind too recent for rates is still reported. */
	sl_insight_compute(s, 9, 60000, &o);
	assert_int_equal(o.verdict, SL_VERDICT_REWOUND);
	assert_false(o.has_produce_rate);
	/* entries-read moving back is a rewind too. */
	series(s, 6, 1000, 10, 15, 500);
	s[5].read = s[4].read - 1;
	sl_insight_compute(s, 6, 60000, &o);
	assert_int_equal(o.verdict, SL_VERDICT_REWOUND);
}

/* Redis < 7.0 or a nil entries-read: consumed = added delta - lag delta. */
static void
consume_without_entries_read(void **state)
{
	struct sl_sample s[N_MAX];
	struct sl_insight o;
	size_t n = series(s, 8, 1000, 10, 15, 500);
	long long span = s[n - 1].t_ms - s[0].t_ms;

	(void)state;
	for (size_t i = 0; i < n; i++)
		s[i].read = -1;
	sl_insight_compute(s, n, 60000, &o);
	assert_true(o.has_consume_rate);
	assert_double_equal(o.consume_rate, rate((s[n - 1].added -
	    s[0].added) - (s[n - 1].lag - s[0].lag), span), 1e-9);
	/* Neither entries-read nor entries-added: unknown. */
	for (size_t i = 0; i < n; i++)
		s[i].added = -1;
	sl_insight_compute(s, n, 60000, &o);
	assert_false(o.has_consume_rate || o.has_produce_rate || o.has_eta);
}

/* Three points by hand: t 0, 1, 2 s; lag 10, 12, 11.  mean t 1, mean lag
 * 11, Sxx 2, Sxy 1: slope 0.5, residuals -0.5, 1, -0.5, SSE 1.5, noise
 * sqrt(1.5).  Fitted change 0.5 * 2 = 1 entry: not more than 1, stable. */
static void
trend_rule(void **state)
{
	struct sl_sample s[N_MAX];
	struct sl_insight o;
	long long lag[] = { 10, 12, 11 };

	(void)state;
	series(s, 3, 1000, 0, 0, 0);
	for (size_t i = 0; i < 3; i++)
		s[i].lag = lag[i];
	sl_insight_compute(s, 3, 60000, &o);
	assert_double_equal(o.slope, 0.5, 1e-12);
	assert_double_equal(o.noise, sqrt(1.5), 1e-12);
	assert_int_equal(o.trend, SL_TREND_STABLE);
	/* 10, 14, 12: slope 1, change 2 > 1 but noise sqrt(6) * 2 > 2. */
	s[1].lag = 14;
	s[2].lag = 12;
	sl_insight_compute(s, 3, 60000, &o);
	assert_double_equal(o.slope, 1.0, 1e-12);
	assert_double_equal(o.noise, sqrt(6.0), 1e-12);
	assert_int_equal(o.trend, SL_TREND_STABLE);
	/* 10, 12, 14: change 4, no noise: growing. */
	s[2].lag = 14;
	s[1].lag = 12;
	sl_insight_compute(s, 3, 60000, &o);
	assert_int_equal(o.trend, SL_TREND_GROWING);
	assert_string_equal(sl_trend_name(o.trend), "growing");
}

static void
caught_up(void **state)
{
	struct sl_sample s[N_MAX];
	struct sl_insight o;
	size_t n = series(s, 5, 1000, 10, 10, 0);

	(void)state;
	sl_insight_compute(s, n, 60000, &o);
	assert_true(o.has_eta && o.catching_up);
	assert_double_equal(o.eta_s, 0.0, 0);
	assert_int_equal(o.trend, SL_TREND_STABLE);
	assert_int_equal(o.verdict, SL_VERDICT_OK);
	assert_string_equal(sl_trend_name(o.trend), "stable");
	/* Lag unknown now: no ETA, no trend from too few known lags. */
	for (size_t i = 2; i < n; i++)
		s[i].lag = -1;
	sl_insight_compute(s, n, 60000, &o);
	assert_false(o.has_eta);
	assert_int_equal(o.trend, SL_TREND_UNKNOWN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(catching_up),
		cmocka_unit_test(falling_behind),
		cmocka_unit_test(stopped),
		cmocka_unit_test(not_enough),
		cmocka_unit_test(window_only),
		cmocka_unit_test(rewound),
		cmocka_unit_test(consume_without_entries_read),
		cmocka_unit_test(trend_rule),
		cmocka_unit_test(caught_up),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
