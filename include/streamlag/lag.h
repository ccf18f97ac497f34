/* SPDX-License-Identifier: ISC */
/* Lag and health rules: pure functions over the model. */
#ifndef STREAMLAG_LAG_H
#define STREAMLAG_LAG_H

#include <hiredis/hiredis.h>

#include "streamlag/model.h"

struct sl_thresholds {
	long long degraded;	/* lag >= degraded: degraded */
	long long unhealthy;	/* lag >= unhealthy: unhealthy */
	long long stall_ms;	/* consumers idle longer: stalled; 0 = never */
	long long count_cap;	/* most entries counted for one group; 0 = 10000 */
	long long max_len;	/* EVENT_TRANSPORT_STREAM_MAX_LEN; 0 = unset */
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

/* The entry of a group found in an XINFO GROUPS reply, before its
 * consumers are known (?group=*): copies the group, leaves the rest. */
int	sl_lag_entry_from_group(struct sl_lag_entry *e, const char *stream,
	    size_t stream_len, const struct sl_group *g);

/*
 * What the follow-up batch must ask for an answered entry (flags below), and
 * the COUNT of its XRANGE after the group's last-delivered-id.
 */
#define SL_NEED_CONSUMERS	0x1	/* XINFO CONSUMERS (all-groups mode) */
#define SL_NEED_RANGE		0x2	/* XRANGE s (last-delivered + COUNT k */
#define SL_NEED_STREAM		0x4	/* XINFO STREAM s (lag unknown) */
#define SL_NEED_PENDING		0x8	/* XPENDING s g - + 1 */
unsigned sl_lag_followup(const struct sl_lag_entry *e, int all_groups,
	    const struct sl_thresholds *t, long long *range_count);

/*
 * Completes an entry from the follow-up replies (NULL when not asked):
 * the exact lag where Redis gives none or a wrong one, time lag, oldest
 * pending age, trimmed-unread, trim risk and status.  now_ms is Redis's
 * clock (TIME), -1 when unknown.  Returns 0, or -1 when out of memory.
 */
int	sl_lag_entry_finish(struct sl_lag_entry *e, const redisReply *consumers,
	    const redisReply *range, const redisReply *stream,
	    const redisReply *pending, long long now_ms,
	    const struct sl_thresholds *t);

/* Compares two stream ids "ms-seq"; -2 when either is malformed. */
int	sl_id_cmp(const char *a, const char *b);

/* total_lag and stream_count over the entries answered without error. */
void	sl_lag_report_totals(struct sl_lag_report *r);

/* Health counts and overall status of a report (seed rules, plus stalled
 * counted as unhealthy and no_group as degraded for the overall status). */
void	sl_health_of(const struct sl_lag_report *r, struct sl_health *h);

#endif
