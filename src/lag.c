/* Lag and health rules.  Pure: replies and structs in, structs out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/lag.h"
#include "streamlag/xinfo.h"

static const char *const status_names[] = {
	[SL_STATUS_HEALTHY] = "healthy",
	[SL_STATUS_DEGRADED] = "degraded",
	[SL_STATUS_UNHEALTHY] = "unhealthy",
	[SL_STATUS_STALLED] = "stalled",
	[SL_STATUS_NO_GROUP] = "no_group",
	[SL_STATUS_ERROR] = "error",
};

const char *
sl_status_name(enum sl_status s)
{
	if ((size_t)s >= sizeof(status_names) / sizeof(status_names[0]))
		return "error";
	return status_names[s];
}

/* The seed's thresholds: healthy < degraded <= lag < unhealthy <= lag. */
enum sl_status
sl_status_for_lag(long long lag, const struct sl_thresholds *t)
{
	if (lag >= t->unhealthy)
		return SL_STATUS_UNHEALTHY;
	if (lag >= t->degraded)
		return SL_STATUS_DEGRADED;
	return SL_STATUS_HEALTHY;
}

/* An error reply as the seed shows it: redis-py drops the generic "ERR "
 * prefix ("no such key") and keeps the others ("WRONGTYPE ..."). */
static int
set_error_reply(struct sl_lag_entry *e, const redisReply *r)
{
	const char	*s = r->str;
	size_t		 len = r->len;

	if (len >= 4 && memcmp(s, "ERR ", 4) == 0) {
		s += 4;
		len -= 4;
	}
	if ((e->error = strndup(s, len)) == NULL)
		return -1;
	return 0;
}

static int
set_error(struct sl_lag_entry *e, const char *msg)
{
	free(e->error);
	return (e->error = strdup(msg)) == NULL ? -1 : 0;
}

static int
is_nogroup(const redisReply *r)
{
	return r->type == REDIS_REPLY_ERROR && r->len >= 8 &&
	    memcmp(r->str, "NOGROUP ", 8) == 0;
}

static void
entry_failed(struct sl_lag_entry *e)
{
	sl_consumers_free(e->consumers, e->nconsumers);
	e->consumers = NULL;
	e->nconsumers = 0;
	e->lag = -1;
	e->lag_exact = 0;
	e->status = SL_STATUS_ERROR;
}

static void
entry_no_group(struct sl_lag_entry *e)
{
	e->has_group = 0;
	e->lag = 0;	/* the seed's answer for a missing group */
	e->lag_exact = 1;
	e->status = SL_STATUS_NO_GROUP;
}

int
sl_lag_entry_fill(struct sl_lag_entry *e, const char *group, size_t group_len,
    const redisReply *groups, const redisReply *consumers,
    const struct sl_thresholds *t)
{
	struct sl_group	*gs = NULL;
	size_t		 ng = 0, i;
	char		 err[256];
	int		 rc = 0;

	if (groups == NULL || consumers == NULL) {
		rc = set_error(e, "no reply from Redis");
		entry_failed(e);
		return rc;
	}
	if (groups->type == REDIS_REPLY_ERROR) {
		rc = set_error_reply(e, groups);
		entry_failed(e);
		return rc;
	}
	if (sl_xinfo_groups(groups, &gs, &ng, err, sizeof(err)) == -1) {
		rc = set_error(e, err);
		entry_failed(e);
		return rc;
	}
	for (i = 0; i < ng; i++)
		if (gs[i].name.len == group_len &&
		    memcmp(gs[i].name.p, group, group_len) == 0)
			break;
	if (i == ng || is_nogroup(consumers)) {
		entry_no_group(e);
		goto out;
	}
	e->has_group = 1;
	e->group = gs[i];
	memset(&gs[i].name, 0, sizeof(gs[i].name));	/* moved into e */

	if (consumers->type == REDIS_REPLY_ERROR) {
		rc = set_error_reply(e, consumers);
		entry_failed(e);
		goto out;
	}
	if (sl_xinfo_consumers(consumers, &e->consumers, &e->nconsumers, err,
	    sizeof(err)) == -1) {
		rc = set_error(e, err);
		entry_failed(e);
		goto out;
	}
	if (e->group.lag_state != SL_LAG_KNOWN) {
		/* Never read an unknown lag as 0 ("caught up"). */
		rc = set_error(e, e->group.lag_state == SL_LAG_NIL ?
		    "lag unknown: Redis reports no lag for this group "
		    "(entries deleted or last-delivered-id set)" :
		    "lag unknown: this Redis version reports no lag");
		entry_failed(e);
		goto out;
	}
	e->lag = e->group.lag;
	e->lag_exact = 1;
	e->status = sl_status_for_lag(e->lag, t);
out:
	sl_groups_free(gs, ng);
	return rc;
}

void
sl_lag_report_totals(struct sl_lag_report *r)
{
	r->total_lag = 0;
	r->stream_count = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (r->entries[i].error != NULL)
			continue;
		r->total_lag += r->entries[i].lag;
		r->stream_count++;
	}
}

void
sl_health_of(const struct sl_lag_report *r, struct sl_health *h)
{
	memset(h, 0, sizeof(*h));
	for (size_t i = 0; i < r->n; i++) {
		const struct sl_lag_entry *e = &r->entries[i];

		switch (e->status) {
		case SL_STATUS_HEALTHY:
			h->healthy++;
			break;
		case SL_STATUS_DEGRADED:
			h->degraded++;
			break;
		case SL_STATUS_STALLED:
			h->stalled++;
			break;
		case SL_STATUS_NO_GROUP:
			h->no_group++;
			break;
		case SL_STATUS_UNHEALTHY:
		case SL_STATUS_ERROR:	/* the seed counts a failed stream unhealthy */
			h->unhealthy++;
			break;
		}
		if (e->error != NULL)
			continue;
		h->total_lag += e->lag;
		if (e->lag > h->max_lag)
			h->max_lag = e->lag;
	}
	if (h->unhealthy > 0 || h->stalled > 0)
		h->status = SL_STATUS_UNHEALTHY;
	else if (h->degraded > 0 || h->no_group > 0)
		h->status = SL_STATUS_DEGRADED;
	else
		h->status = SL_STATUS_HEALTHY;
}
