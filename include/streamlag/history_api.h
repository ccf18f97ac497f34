/* SPDX-License-Identifier: ISC */
/*
 * What the history says, for the answers: GET /api/v1/events/history (the
 * samples of one group and what they say), and the rates, catch-up time,
 * trend, verdict and pending-list answers that consumer-lag and /metrics
 * add to each group.  All of it is read from the shared history: no Redis
 * round trip.  docs/api.md documents the shapes.
 */
#ifndef STREAMLAG_HISTORY_API_H
#define STREAMLAG_HISTORY_API_H

#include <stddef.h>

#include "streamlag/config.h"
#include "streamlag/err.h"
#include "streamlag/history.h"
#include "streamlag/http.h"
#include "streamlag/insight.h"
#include "streamlag/jsonw.h"
#include "streamlag/model.h"
#include "streamlag/pel.h"

#define SL_HISTORY_ANSWER_MAX	10000	/* samples in one /history answer */

struct sl_history_query {
	const char	*target;	/* ?target= (its name), the default one */
	const char	*stream;
	size_t		 slen;
	const char	*group;
	size_t		 glen;
	long long	 since_ms;	/* ?since= (ms since the epoch), 0 */
	long long	 window_s;	/* ?window=, STREAMLAG_RATE_WINDOW_S */
	long long	 limit;		/* ?limit=, SL_HISTORY_ANSWER_MAX */
	int		 group_given;	/* ?group= was given */
};

/*
 * The pending-list answers as an insight keeps them: sl_pel_report's
 * numbers, its poison ids out of line (NULL when there are none, as for
 * most groups).  The report itself stays whole: the sampler writes it into
 * the shared history, where a pointer would mean nothing to a worker; an
 * insight is kept per consumer-lag entry, 100 000 of them in one answer.
 */
struct sl_group_pel {
	long long	scanned;
	long long	max_deliveries;
	long long	poison;
	long long	claimable;
	long long	unowned;
	long long	dangling;
	long long	dead_consumers;
	char		(*poison_ids)[SL_ID_MAX];	/* npoison_ids, owned */
	size_t		npoison_ids;
	int		truncated;
};

/* What the history says about one group (consumer-lag, /metrics); what it
 * holds is freed by sl_group_insight_free. */
struct sl_group_insight {
	struct sl_insight	in;
	struct sl_group_pel	pel;		/* when has_pel */
	int			tracked;	/* 0: the history has no such group */
	int			has_pel;
	int			show_pel;	/* JSON: write "pel" (?detail=pel) */
};

/* ?target= (a configured target, the default one when absent), ?stream=
 * (required), ?group= (the target's group when absent), ?since=,
 * ?window= (2..604800 s), ?limit= (1..SL_HISTORY_ANSWER_MAX).  SL_OK, or
 * SL_EINPUT with the words for a 400 in *why; SL_ENOMEM.  q points into
 * *params: free them after. */
enum sl_err	sl_history_query_parse(const char *query,
		    const struct sl_config *cfg, struct sl_history_query *q,
		    struct sl_query_param **params, size_t *np,
		    struct sl_error *why);
/* The /history answer, malloc'd; NULL when out of memory. */
char		*sl_history_render(struct sl_history *h,
		    const struct sl_config *cfg, const struct sl_history_query *q);
/* The group's insight over window_s (samples read: the window's, no
 * more).  SL_OK (free *out with sl_group_insight_free) or SL_ENOMEM (*out
 * holds nothing). */
enum sl_err	sl_history_insight(struct sl_history *h,
		    const struct sl_config *cfg, const char *target,
		    const char *stream, size_t slen,
		    const char *group, size_t glen, long long window_s,
		    struct sl_group_insight *out);
/* What *gi holds (its poison ids), not gi itself; gi is left empty. */
void		sl_group_insight_free(struct sl_group_insight *gi);

/* The group's fields in consumer-lag: produce_rate, consume_rate, eta_s,
 * catching_up, trend, verdict, pel (docs/api.md). */
void		sl_history_insight_jw(struct sl_jw *w,
		    const struct sl_group_insight *gi);
/* Every answered group of rep (target's) gets its insight (e->insight)
 * from h (NULL: none, *out NULL); detach (which frees *out and what it
 * holds) before the report outlives *out.  SL_OK or SL_ENOMEM (nothing
 * attached, nothing kept). */
enum sl_err	sl_history_insight_attach(struct sl_history *h,
		    const struct sl_config *cfg, const char *target,
		    struct sl_lag_report *rep,
		    struct sl_group_insight **out);
void		sl_history_insight_detach(struct sl_lag_report *rep,
		    struct sl_group_insight *gi);

#endif
