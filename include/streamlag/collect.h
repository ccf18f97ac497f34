/* SPDX-License-Identifier: ISC */
/* Collectors: pipeline the XINFO commands for a list of streams over one
 * connection and turn the replies into reports. */
#ifndef STREAMLAG_COLLECT_H
#define STREAMLAG_COLLECT_H

#include <stddef.h>

#include "streamlag/lag.h"
#include "streamlag/model.h"
#include "streamlag/redis.h"

/* The seed's words for an unreachable Redis, kept for its clients. */
#define SL_MSG_REDIS_DOWN "Cannot connect to Redis"

struct sl_collect_stats {
	unsigned round_trips;
	unsigned commands;
};

/* Each returns 0 with the report filled; -1 when Redis is unreachable
 * (report->error set; for lag, each entry still lists its stream); -2 when
 * out of memory.  The report is freed by its sl_*_report_free. */
struct sl_lag_query {
	const char	*group;		/* the group; ignored with all_groups */
	int		 all_groups;	/* every group of each stream */
	const struct sl_thresholds *t;
	int		 with_streams;	/* XINFO STREAM of each stream too (/metrics) */
};

/* One round trip for the XINFO batch, plus at most one follow-up batch for
 * the groups whose lag must be counted or dated, or that have pending
 * entries (see sl_lag_followup). */
int	sl_collect_lag(struct sl_redis *r, char *const *streams, size_t nstreams,
	    const struct sl_lag_query *q, struct sl_lag_report *report,
	    struct sl_collect_stats *stats);

/* SCAN ... MATCH pattern TYPE stream: the matching streams, sorted, at most
 * max (truncated set when more exist).  0, -1 when Redis failed, -2 when out
 * of memory.  Free with sl_names_free. */
int	sl_discover(struct sl_redis *r, const char *pattern, long long max,
	    char ***out, size_t *n, int *truncated,
	    struct sl_collect_stats *stats);
void	sl_names_free(char **names, size_t n);

int	sl_collect_streams(struct sl_redis *r, char *const *streams,
	    size_t nstreams, struct sl_streams_report *report,
	    struct sl_collect_stats *stats);

#endif
