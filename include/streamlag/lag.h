/* Lag and health rules: pure functions over the model. */
#ifndef STREAMLAG_LAG_H
#define STREAMLAG_LAG_H

#include <hiredis/hiredis.h>

#include "streamlag/model.h"

struct sl_thresholds {
	long long degraded;	/* lag >= degraded: degraded */
	long long unhealthy;	/* lag >= unhealthy: unhealthy */
};

enum sl_status sl_status_for_lag(long long lag, const struct sl_thresholds *t);
const char *sl_status_name(enum sl_status s);

/*
 * Fill one consumer-lag entry from the replies to XINFO GROUPS <stream> and
 * XINFO CONSUMERS <stream> <group>, with the seed's semantics: NOGROUP gives
 * lag 0 and no consumers; a missing stream or any other failure gives lag -1
 * and an error; a lag Redis does not know is an error too (never 0).
 * Returns 0, or -1 when out of memory.
 */
int	sl_lag_entry_fill(struct sl_lag_entry *e, const char *group,
	    size_t group_len, const redisReply *groups,
	    const redisReply *consumers, const struct sl_thresholds *t);

/* total_lag and stream_count over the entries answered without error. */
void	sl_lag_report_totals(struct sl_lag_report *r);

/* Health counts and overall status of a report (seed rules, plus stalled
 * counted as unhealthy and no_group as degraded for the overall status). */
void	sl_health_of(const struct sl_lag_report *r, struct sl_health *h);

#endif
