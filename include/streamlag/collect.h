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
int	sl_collect_lag(struct sl_redis *r, char *const *streams, size_t nstreams,
	    const char *group, const struct sl_thresholds *t,
	    struct sl_lag_report *report, struct sl_collect_stats *stats);

int	sl_collect_streams(struct sl_redis *r, char *const *streams,
	    size_t nstreams, struct sl_streams_report *report,
	    struct sl_collect_stats *stats);

#endif
