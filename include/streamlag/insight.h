/* SPDX-License-Identifier: ISC */
/*
 * What a group's history says beyond its lag: produce and consume rates,
 * the time to catch up, the trend of the lag, and Burrow-style verdicts.
 * Pure: a series of samples in, numbers out; nothing is invented, so every
 * answer is "unknown" until the window holds enough samples (at least
 * SL_INSIGHT_MIN_SAMPLES spanning SL_INSIGHT_MIN_SPAN_MS).
 *
 * The rules (docs/api.md says the same):
 * - The window is the samples with t_ms >= last.t_ms - window_ms.  When
 *   the group's position moved backwards inside it, only the samples from
 *   the backward move on are used for the rates and the trend.
 * - produce_rate = entries-added delta / time delta (entries/s).
 *   consume_rate = entries-read delta / time delta; when entries-read is
 *   unknown (nil, Redis < 7.0) it is (added delta - lag delta) / time
 *   delta, when both are known.  Never from lag alone.
 * - eta_s = lag / (consume_rate - produce_rate) when that net rate is > 0
 *   and lag > 0 (catching_up 1); 0 when lag is 0 (caught up, catching_up
 *   1); unknown with catching_up 0 otherwise.
 * - trend: the least-squares slope b (entries/s) of lag over time, and the
 *   residual standard deviation s = sqrt(SSE / (n - 2)).  The fitted change
 *   across the window is |b| * span.  It is growing (b > 0) or shrinking
 *   (b < 0) when that change exceeds both 1 entry and 2 * s; else stable.
 * - verdict, first that holds: rewound (the position, entries-read or the
 *   last-delivered id's ms part, moved backwards between two samples of
 *   the window); stopped (lag > 0 now and nothing consumed across the
 *   window); falling_behind (trend growing and something consumed); ok.
 */
#ifndef STREAMLAG_INSIGHT_H
#define STREAMLAG_INSIGHT_H

#include <stddef.h>
#include <stdint.h>

#define SL_INSIGHT_MIN_SAMPLES	3
#define SL_INSIGHT_MIN_SPAN_MS	2000

/* One sample of one group; -1 in a field means Redis did not say. */
struct sl_sample {
	long long	t_ms;		/* Redis's clock */
	long long	added;		/* the stream's entries-added */
	long long	read;		/* the group's entries-read */
	long long	lag;		/* the group's lag (streamlag's answer) */
	long long	pos_ms;		/* last-delivered-id, ms part */
	long long	pending;
	int32_t		consumers;
	uint32_t	flags;		/* reserved, 0 */
};

enum sl_trend {
	SL_TREND_UNKNOWN,
	SL_TREND_SHRINKING,
	SL_TREND_STABLE,
	SL_TREND_GROWING
};

enum sl_verdict {
	SL_VERDICT_UNKNOWN,
	SL_VERDICT_OK,
	SL_VERDICT_FALLING_BEHIND,
	SL_VERDICT_STOPPED,
	SL_VERDICT_REWOUND
};
#define SL_VERDICT_COUNT	5

struct sl_insight {
	int		has_produce_rate;
	double		produce_rate;	/* entries/s */
	int		has_consume_rate;
	double		consume_rate;
	int		has_eta;
	double		eta_s;
	int		catching_up;
	enum sl_trend	trend;
	double		slope;		/* entries/s, when trend is known */
	double		noise;		/* residual standard deviation */
	enum sl_verdict	verdict;
	size_t		samples;	/* in the window (after a rewind) */
};

/* Computes *out from s[0..n) (oldest first, t_ms not decreasing) over
 * the last window_ms. */
void		 sl_insight_compute(const struct sl_sample *s, size_t n,
		    long long window_ms, struct sl_insight *out);
const char	*sl_trend_name(enum sl_trend t);	/* NULL when unknown */
const char	*sl_verdict_name(enum sl_verdict v);	/* NULL when unknown */

#endif
