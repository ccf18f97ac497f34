/* SPDX-License-Identifier: ISC */
/* Lag and health rules.  Pure: replies and structs in, structs out.
 *
 * Redis's own `lag` is trusted only as far as it can be: it is nil after an
 * XDEL past the group, after XGROUP SETID, or for a group created at an
 * arbitrary id; absent before 7.0; and too large once MAXLEN/XTRIM removed
 * entries the group never read.  streamlag reports the entries actually left
 * to deliver, counted after the group's last-delivered-id when needed (at
 * most STREAMLAG_LAG_COUNT_CAP), and the difference as trimmed_unread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/lag.h"
#include "streamlag/xinfo.h"

#define DEFAULT_COUNT_CAP	10000
#define TEN_YEARS_MS		(10LL * 366 * 24 * 3600 * 1000)
#define ONE_DAY_MS		(24LL * 3600 * 1000)

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

static long long
count_cap(const struct sl_thresholds *t)
{
	return t->count_cap > 0 ? t->count_cap : DEFAULT_COUNT_CAP;
}

int
sl_id_cmp(const char *a, const char *b)
{
	unsigned long long am, as, bm, bs;
	char *end;

	am = strtoull(a, &end, 10);
	if (end == a || *end != '-')
		return -2;
	as = strtoull(end + 1, &end, 10);
	if (*end != '\0')
		return -2;
	bm = strtoull(b, &end, 10);
	if (end == b || *end != '-')
		return -2;
	bs = strtoull(end + 1, &end, 10);
	if (*end != '\0')
		return -2;
	if (am != bm)
		return am < bm ? -1 : 1;
	if (as != bs)
		return as < bs ? -1 : 1;
	return 0;
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
	free(e->error);
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
	e->has_time_lag = 0;
	e->has_oldest_pending = 0;
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

/* A consumer's time since it last made progress: Redis 7.2's `inactive`
 * (since its last successful read) when known, else `idle`. */
static long long
quiet_ms(const struct sl_consumer *c)
{
	if (c->has_inactive && c->inactive_ms >= 0)
		return c->inactive_ms;
	return c->idle_ms;
}

/* stalled: work is waiting (lag or pending) and nobody is making progress:
 * no consumers, or every consumer quiet for longer than stall_ms. */
static int
is_stalled(const struct sl_lag_entry *e, const struct sl_thresholds *t)
{
	if (t->stall_ms <= 0 || (e->lag <= 0 && e->group.pending <= 0))
		return 0;
	for (size_t i = 0; i < e->nconsumers; i++)
		if (quiet_ms(&e->consumers[i]) <= t->stall_ms)
			return 0;
	return 1;
}

static void
classify(struct sl_lag_entry *e, const struct sl_thresholds *t)
{
	if (e->error != NULL)
		e->status = SL_STATUS_ERROR;
	else if (!e->has_group)
		e->status = SL_STATUS_NO_GROUP;
	else if (is_stalled(e, t))
		e->status = SL_STATUS_STALLED;
	else
		e->status = sl_status_for_lag(e->lag, t);
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
	/* Provisional until sl_lag_entry_finish: Redis's figure, when any. */
	e->lag = e->group.lag_state == SL_LAG_KNOWN ? e->group.lag : -1;
	e->lag_exact = e->group.lag_state == SL_LAG_KNOWN;
	if (e->lag == 0)
		e->has_time_lag = 1;	/* time_lag_ms 0 */
	classify(e, t);
out:
	sl_groups_free(gs, ng);
	return rc;
}

int
sl_lag_entry_from_group(struct sl_lag_entry *e, const char *stream,
    size_t stream_len, const struct sl_group *g)
{
	memset(e, 0, sizeof(*e));
	if (sl_bytes_set(&e->stream, stream, stream_len) == -1)
		return -1;
	e->has_group = 1;
	e->group = *g;
	memset(&e->group.name, 0, sizeof(e->group.name));
	if (sl_bytes_set(&e->group.name, g->name.p, g->name.len) == -1)
		return -1;
	e->lag = g->lag_state == SL_LAG_KNOWN ? g->lag : -1;
	e->lag_exact = g->lag_state == SL_LAG_KNOWN;
	e->status = SL_STATUS_HEALTHY;
	return 0;
}

unsigned
sl_lag_followup(const struct sl_lag_entry *e, int all_groups,
    const struct sl_thresholds *t, long long *range_count)
{
	unsigned	 need = 0;
	long long	 cap = count_cap(t);

	*range_count = 0;
	if (e->error != NULL || !e->has_group)
		return 0;
	if (all_groups)
		need |= SL_NEED_CONSUMERS;
	if (e->group.lag_state != SL_LAG_KNOWN) {
		/* Count, and see whether the group is behind the first entry. */
		need |= SL_NEED_RANGE | SL_NEED_STREAM;
		*range_count = cap + 1;
	} else if (e->group.lag > 0) {
		/* The entries left are at most Redis's lag: counting up to it
		 * gives the exact figure, trimmed entries excluded. */
		need |= SL_NEED_RANGE;
		*range_count = e->group.lag < cap + 1 ? e->group.lag : cap + 1;
		/* Beyond the cap only Redis's rule can still make it exact. */
		if (e->group.lag > cap)
			need |= SL_NEED_STREAM;
	}
	if (e->group.pending > 0)
		need |= SL_NEED_PENDING;
	return need;
}

/* now - the ms part of id, when the id looks like a timestamp. */
static int
age_of(const char *id, size_t len, long long now_ms, long long *out)
{
	char		 buf[SL_ID_MAX];
	long long	 ms;

	if (now_ms < 0 || len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, id, len);
	buf[len] = '\0';
	ms = sl_id_ms(buf);
	if (ms < 0 || ms < now_ms - TEN_YEARS_MS || ms > now_ms + ONE_DAY_MS)
		return 0;
	*out = now_ms > ms ? now_ms - ms : 0;
	return 1;
}

/* The id of element i of an XRANGE reply ([[id, [f, v, ...]], ...]). */
static const redisReply *
range_id(const redisReply *r, size_t i)
{
	const redisReply *e;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || i >= r->elements)
		return NULL;
	e = r->element[i];
	if (e->type != REDIS_REPLY_ARRAY || e->elements < 1 ||
	    e->element[0]->type != REDIS_REPLY_STRING)
		return NULL;
	return e->element[0];
}

/* The stream's length when the group is behind its first entry (every
 * entry is then left to deliver: Redis's own rule, no count needed), else
 * -1.  stream is the XINFO STREAM reply, or NULL. */
static long long
behind_first(const struct sl_lag_entry *e, const redisReply *stream)
{
	struct sl_stream_info	 si;
	char			 err[128];

	if (stream == NULL || stream->type == REDIS_REPLY_ERROR ||
	    sl_xinfo_stream(stream, &si, err, sizeof(err)) == -1)
		return -1;
	if (si.first_entry_id[0] == '\0' ||
	    sl_id_cmp(e->group.last_delivered_id, si.first_entry_id) < 0)
		return si.length;
	return -1;
}

int
sl_lag_entry_finish(struct sl_lag_entry *e, const redisReply *consumers,
    const redisReply *range, const redisReply *stream,
    const redisReply *pending, long long now_ms,
    const struct sl_thresholds *t)
{
	long long	 cap = count_cap(t), cnt, redis_lag = e->group.lag, behind;
	int		 known = e->group.lag_state == SL_LAG_KNOWN;
	char		 err[256];
	const redisReply *first;

	if (e->error != NULL || !e->has_group) {
		classify(e, t);
		return 0;
	}
	if (consumers != NULL) {
		if (is_nogroup(consumers)) {	/* destroyed meanwhile */
			entry_no_group(e);
			return 0;
		}
		if (consumers->type == REDIS_REPLY_ERROR) {
			if (set_error_reply(e, consumers) == -1)
				return -1;
			entry_failed(e);
			return 0;
		}
		if (sl_xinfo_consumers(consumers, &e->consumers, &e->nconsumers,
		    err, sizeof(err)) == -1) {
			if (set_error(e, err) == -1)
				return -1;
			entry_failed(e);
			return 0;
		}
	}
	if (range != NULL && range->type != REDIS_REPLY_ARRAY) {
		int rc = range->type == REDIS_REPLY_ERROR ?
		    set_error_reply(e, range) :
		    set_error(e, "XRANGE: expected an array reply");
		if (rc == -1)
			return -1;
		entry_failed(e);
		return 0;
	}
	cnt = range != NULL ? (long long)range->elements : 0;
	e->trimmed_unread = 0;
	if (known && redis_lag == 0) {
		e->lag = 0;
		e->lag_exact = 1;
	} else if (known) {
		long long asked = redis_lag < cap + 1 ? redis_lag : cap + 1;

		if (range == NULL) {		/* not asked: Redis's figure */
			e->lag = redis_lag;
			e->lag_exact = 1;
		} else if (cnt < asked) {
			/* Fewer entries left than Redis counts: the rest were
			 * trimmed before the group read them. */
			e->lag = cnt;
			e->lag_exact = 1;
			e->trimmed_unread = redis_lag - cnt;
		} else if (asked == redis_lag) {
			e->lag = redis_lag;
			e->lag_exact = 1;
		} else if ((behind = behind_first(e, stream)) >= 0) {
			e->lag = behind;
			e->lag_exact = 1;
			e->trimmed_unread = redis_lag > behind ? redis_lag - behind : 0;
		} else {
			/* More than the cap are left: Redis's figure, unverified. */
			e->lag = redis_lag;
			e->lag_exact = 0;
		}
	} else {
		e->lag_exact = 1;
		if ((behind = behind_first(e, stream)) >= 0) {
			e->lag = behind;
		} else if (range == NULL) {
			if (set_error(e, "lag unknown: no reply to count "
			    "entries") == -1)
				return -1;
			entry_failed(e);
			return 0;
		} else if (cnt <= cap) {
			e->lag = cnt;
		} else {
			e->lag = cap;		/* at least: a lower bound */
			e->lag_exact = 0;
		}
	}
	/* The oldest entry not yet delivered is the first after the group. */
	e->has_time_lag = 0;
	if (e->lag == 0) {
		e->time_lag_ms = 0;
		e->has_time_lag = 1;
	} else if ((first = range_id(range, 0)) != NULL)
		e->has_time_lag = age_of(first->str, first->len, now_ms,
		    &e->time_lag_ms);
	/* XPENDING s g - + 1: [[id, consumer, idle, deliveries]]. */
	e->has_oldest_pending = 0;
	if (pending != NULL && (first = range_id(pending, 0)) != NULL)
		e->has_oldest_pending = age_of(first->str, first->len, now_ms,
		    &e->oldest_pending_ms);
	e->has_trim_risk = t->max_len > 0;
	e->trim_risk = t->max_len > 0 && e->lag * 5 > t->max_len * 4;
	classify(e, t);
	return 0;
}

void
sl_lag_report_totals(struct sl_lag_report *r)
{
	r->total_lag = 0;
	r->stream_count = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct sl_lag_entry *e = &r->entries[i];

		if (e->error != NULL)
			continue;
		r->total_lag += e->lag;
		/* A stream counts once, however many of its groups answered. */
		if (i > 0 && r->entries[i - 1].stream.len == e->stream.len &&
		    memcmp(r->entries[i - 1].stream.p, e->stream.p,
		    e->stream.len) == 0 && r->entries[i - 1].error == NULL)
			continue;
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
