/* SPDX-License-Identifier: ISC */
/* Rates, catch-up time, trend and verdicts from a group's samples
 * (insight.h states the rules).  Pure arithmetic, no allocation. */
#include <math.h>
#include <string.h>

#include "streamlag/insight.h"

/* The slice of the series the rates and the trend look at. */
struct seg {
	const struct sl_sample	*s;
	size_t			 n;
	int			 rewound;
};

static int
moved_back(const struct sl_sample *a, const struct sl_sample *b)
{
	if (a->read >= 0 && b->read >= 0 && b->read < a->read)
		return 1;
	return a->pos_ms >= 0 && b->pos_ms >= 0 && b->pos_ms < a->pos_ms;
}

/* The window, from the last backward move on when there is one. */
static struct seg
window(const struct sl_sample *s, size_t n, long long window_ms)
{
	struct seg	g = { s, n, 0 };
	size_t		w = n - 1;

	while (w > 0 && s[w - 1].t_ms >= s[n - 1].t_ms - window_ms)
		w--;
	g.s = s + w;
	g.n = n - w;
	for (size_t i = w + 1; i < n; i++) {
		if (moved_back(&s[i - 1], &s[i])) {
			g.rewound = 1;
			g.s = s + i;
			g.n = n - i;
		}
	}
	return g;
}

static long long
span_ms(const struct seg *g)
{
	return g->s[g->n - 1].t_ms - g->s[0].t_ms;
}

static int
enough(const struct seg *g)
{
	return g->n >= SL_INSIGHT_MIN_SAMPLES &&
	    span_ms(g) >= SL_INSIGHT_MIN_SPAN_MS;
}

/* Entries consumed across the segment: 1 with *k set, 0 when unknown. */
static int
consumed(const struct seg *g, long long *k)
{
	const struct sl_sample *a = &g->s[0], *b = &g->s[g->n - 1];

	if (a->read >= 0 && b->read >= 0) {
		*k = b->read - a->read;
		return 1;
	}
	if (a->added >= 0 && b->added >= 0 && a->lag >= 0 && b->lag >= 0) {
		*k = (b->added - a->added) - (b->lag - a->lag);
		return 1;
	}
	return 0;
}

static void
rates(const struct seg *g, struct sl_insight *o)
{
	const struct sl_sample *a = &g->s[0], *b = &g->s[g->n - 1];
	double		 secs = (double)span_ms(g) / 1000.0;
	long long	 k;

	if (a->added >= 0 && b->added >= 0) {
		o->has_produce_rate = 1;
		o->produce_rate = (double)(b->added - a->added) / secs;
	}
	if (consumed(g, &k)) {
		o->has_consume_rate = 1;
		o->consume_rate = (double)k / secs;
	}
}

static void
eta(const struct sl_sample *last, struct sl_insight *o)
{
	double net;

	if (last->lag == 0) {
		o->has_eta = 1;
		o->eta_s = 0;
		o->catching_up = 1;
		return;
	}
	if (last->lag < 0 || !o->has_produce_rate || !o->has_consume_rate)
		return;
	net = o->consume_rate - o->produce_rate;
	if (net <= 0)
		return;
	o->has_eta = 1;
	o->eta_s = (double)last->lag / net;
	o->catching_up = 1;
}

/* Least-squares fit of lag over time, samples with a known lag only. */
static void
trend(const struct seg *g, struct sl_insight *o)
{
	double	 t0 = (double)g->s[0].t_ms, mt = 0, my = 0, sxx = 0, sxy = 0;
	double	 sse = 0, a, b, change, tmin = -1, tmax = -1;
	size_t	 m = 0;

	for (size_t i = 0; i < g->n; i++) {
		if (g->s[i].lag < 0)
			continue;
		mt += ((double)g->s[i].t_ms - t0) / 1000.0;
		my += (double)g->s[i].lag;
		m++;
	}
	if (m < SL_INSIGHT_MIN_SAMPLES)
		return;
	mt /= (double)m;
	my /= (double)m;
	for (size_t i = 0; i < g->n; i++) {
		double t = ((double)g->s[i].t_ms - t0) / 1000.0;

		if (g->s[i].lag < 0)
			continue;
		sxx += (t - mt) * (t - mt);
		sxy += (t - mt) * ((double)g->s[i].lag - my);
		if (tmin < 0)
			tmin = t;
		tmax = t;
	}
	if ((tmax - tmin) * 1000.0 < SL_INSIGHT_MIN_SPAN_MS || sxx <= 0)
		return;
	b = sxy / sxx;
	a = my - b * mt;
	for (size_t i = 0; i < g->n; i++) {
		double t = ((double)g->s[i].t_ms - t0) / 1000.0, r;

		if (g->s[i].lag < 0)
			continue;
		r = (double)g->s[i].lag - (a + b * t);
		sse += r * r;
	}
	o->slope = b;
	o->noise = sqrt(sse / (double)(m - 2));
	change = fabs(b) * (tmax - tmin);
	if (change > 1.0 && change > 2.0 * o->noise)
		o->trend = b > 0 ? SL_TREND_GROWING : SL_TREND_SHRINKING;
	else
		o->trend = SL_TREND_STABLE;
}

static enum sl_verdict
verdict(const struct seg *g, const struct sl_insight *o)
{
	const struct sl_sample *a = &g->s[0], *b = &g->s[g->n - 1];
	long long	 k;
	int		 known = consumed(g, &k);

	if (!known && a->pos_ms >= 0 && b->pos_ms >= 0) {
		known = 1;
		k = b->pos_ms - a->pos_ms;
	}
	if (!known)
		return SL_VERDICT_UNKNOWN;
	if (b->lag > 0 && k == 0)
		return SL_VERDICT_STOPPED;
	if (o->trend == SL_TREND_GROWING && k > 0)
		return SL_VERDICT_FALLING_BEHIND;
	return o->trend == SL_TREND_UNKNOWN ? SL_VERDICT_UNKNOWN :
	    SL_VERDICT_OK;
}

void
sl_insight_compute(const struct sl_sample *s, size_t n, long long window_ms,
    struct sl_insight *out)
{
	struct seg g;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return;
	g = window(s, n, window_ms < 0 ? 0 : window_ms);
	out->samples = g.n;
	if (enough(&g)) {
		rates(&g, out);
		eta(&g.s[g.n - 1], out);
		trend(&g, out);
		out->verdict = verdict(&g, out);
	}
	if (g.rewound)
		out->verdict = SL_VERDICT_REWOUND;
}

const char *
sl_trend_name(enum sl_trend t)
{
	switch (t) {
	case SL_TREND_SHRINKING:
		return "shrinking";
	case SL_TREND_STABLE:
		return "stable";
	case SL_TREND_GROWING:
		return "growing";
	default:
		return NULL;
	}
}

const char *
sl_verdict_name(enum sl_verdict v)
{
	switch (v) {
	case SL_VERDICT_OK:
		return "ok";
	case SL_VERDICT_FALLING_BEHIND:
		return "falling_behind";
	case SL_VERDICT_STOPPED:
		return "stopped";
	case SL_VERDICT_REWOUND:
		return "rewound";
	default:
		return NULL;
	}
}
