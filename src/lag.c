/* SPDX-License-Identifier: ISC */
/* Lag and health rules.  Pure: replies and structs in, structs out.
 *
 * Redis's own `lag` is trusted only as far as it can be: it is nil after an
 * XDEL past the group, after XGROUP SETID, or for a group created at an
 * arbitrary id; absent before 7.0; and too large once MAXLEN/XTRIM removed
 * entries the group never read.  streamlag reports the entries actually left
 * to deliver, counted after the group's last-delivered-id when needed (at
 * most STREAMLAG_LAG_COUNT_CAP), and the difference as trimmed_unread. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/lag.h"
#include "streamlag/xinfo.h"

#define DEFAULT_COUNT_CAP	10000
#define TEN_YEARS_MS		(10LL * 366 * 24 * 3600 * 1000)
#define ONE_DAY_MS		(24LL * 3600 * 1000)
#define TIME_MAX_S		253402300799LL	/* 9999-12-31T23:59:59Z */

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

long long
sl_lag_count_cap(const struct sl_thresholds *t)
{
	return t->count_cap > 0 ? t->count_cap : DEFAULT_COUNT_CAP;
}

/* "x.y.z" at p (up to end) into three numbers; 0, or -1. */
static int
parse_version(const char *p, const char *end, int v[3])
{
	for (int i = 0; i < 3; i++) {
		long n = 0;
		const char *d = p;

		while (p < end && *p >= '0' && *p <= '9' && n < 100000)
			n = n * 10 + (*p++ - '0');
		if (p == d)
			return -1;
		v[i] = (int)n;
		if (i < 2) {
			if (p >= end || *p != '.')
				return -1;
			p++;
		}
	}
	return 0;
}

/* The value of "name:" at the start of a line of INFO text, or NULL. */
static const char *
info_field(const char *info, size_t len, const char *name, const char **vend)
{
	size_t		 nl = strlen(name);
	const char	*p = info, *end = info + len, *eol;

	while (p < end) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if ((size_t)(eol - p) > nl && memcmp(p, name, nl) == 0 &&
		    p[nl] == ':') {
			*vend = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
			return p + nl + 1;
		}
		p = eol + 1;
	}
	return NULL;
}

int
sl_server_parse(const char *info, size_t len, struct sl_server *s)
{
	const char	*v, *vend;
	int		 ver[3];

	memset(s, 0, sizeof(*s));
	s->kind = SL_SERVER_UNKNOWN;
	if (info == NULL)
		return -1;
	if ((v = info_field(info, len, "valkey_version", &vend)) != NULL &&
	    parse_version(v, vend, ver) == 0)
		s->kind = SL_SERVER_VALKEY;
	else if ((v = info_field(info, len, "redis_version", &vend)) != NULL &&
	    parse_version(v, vend, ver) == 0)
		s->kind = SL_SERVER_REDIS;
	else
		return -1;
	s->major = ver[0];
	s->minor = ver[1];
	s->patch = ver[2];
	return 0;
}

int
sl_server_lag_trusted(const struct sl_server *s)
{
	/* Redis re-estimates entries-read after a trim from 7.4.4 and 8.0
	 * (redis/redis#13958).  Valkey 8.0 keeps the 7.0 behaviour; no Valkey
	 * release is known to carry the fix, so none is trusted. */
	if (s->kind != SL_SERVER_REDIS)
		return 0;
	if (s->major != 7)
		return s->major > 7;
	return s->minor > 4 || (s->minor == 4 && s->patch >= 4);
}

const char *
sl_server_name(const struct sl_server *s)
{
	switch (s->kind) {
	case SL_SERVER_REDIS:
		return "redis";
	case SL_SERVER_VALKEY:
		return "valkey";
	default:
		return "unknown";
	}
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
sl_lag_followup(const struct sl_lag_entry *e, int all_groups, int trusted)
{
	unsigned	 need = 0;
	int		 known = e->group.lag_state == SL_LAG_KNOWN &&
			    e->group.lag >= 0;

	if (e->error != NULL || !e->has_group)
		return 0;
	if (all_groups)
		need |= SL_NEED_CONSUMERS;
	if (!known || e->group.lag > 0) {
		/* The first undelivered entry: time lag, and whether any is
		 * left at all. */
		need |= SL_NEED_RANGE;
		/* Redis's figure needs the stream's facts to be trusted. */
		if (!known || !trusted)
			need |= SL_NEED_STREAM;
	}
	if (e->group.pending > 0)
		need |= SL_NEED_PENDING;
	return need;
}

long long
sl_sat_add(long long a, long long b)
{
	long long r;

	if (__builtin_add_overflow(a, b, &r))
		return a > 0 ? LLONG_MAX : LLONG_MIN;
	return r;
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

int
sl_lag_entry_fail(struct sl_lag_entry *e, const redisReply *r, const char *msg)
{
	int rc = r != NULL && r->type == REDIS_REPLY_ERROR ?
	    set_error_reply(e, r) : set_error(e, msg);

	entry_failed(e);
	return rc;
}

int
sl_lag_entry_consumers(struct sl_lag_entry *e, const redisReply *r)
{
	char	 err[256];

	if (e->error != NULL || !e->has_group || r == NULL)
		return 0;
	if (is_nogroup(r)) {		/* destroyed meanwhile */
		entry_no_group(e);
		return 0;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		if (set_error_reply(e, r) == -1)
			return -1;
		entry_failed(e);
		return 0;
	}
	if (sl_xinfo_consumers(r, &e->consumers, &e->nconsumers, err,
	    sizeof(err)) == -1) {
		if (set_error(e, err) == -1)
			return -1;
		entry_failed(e);
	}
	return 0;
}

/* XPENDING s g - + 1: [[id, consumer, idle, deliveries]]. */
void
sl_lag_entry_pending(struct sl_lag_entry *e, const redisReply *r,
    long long now_ms)
{
	const redisReply *first;

	e->has_oldest_pending = 0;
	if ((first = range_id(r, 0)) != NULL)
		e->has_oldest_pending = age_of(first->str, first->len, now_ms,
		    &e->oldest_pending_ms);
}

int
sl_lag_facts_next(struct sl_lag_facts *f, const redisReply *r)
{
	const redisReply *id;

	f->next = -1;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return -1;
	if (r->elements == 0) {
		f->next = 0;
		return 0;
	}
	if ((id = range_id(r, 0)) == NULL || id->len >= sizeof(f->next_id))
		return -1;
	memcpy(f->next_id, id->str, id->len);
	f->next_id[id->len] = '\0';
	f->next = 1;
	return 0;
}

static int
exact(struct sl_lag_entry *e, long long lag, long long trimmed)
{
	e->lag = lag;
	e->lag_exact = 1;
	e->lag_max = lag;
	e->has_lag_max = 1;
	e->trimmed_unread = trimmed > 0 ? trimmed : 0;
	return 1;
}

static int
bounded(struct sl_lag_entry *e, long long lo, long long hi, int rc)
{
	e->lag = lo;
	e->lag_exact = 0;
	e->has_lag_max = hi >= 0;
	e->lag_max = hi >= 0 ? hi : 0;
	e->trimmed_unread = 0;
	return rc;
}

/* max-deleted-entry-id at or before id ("" and 0-0: nothing deleted). */
static int
md_at_or_before(const char *md, const char *id)
{
	return md[0] == '\0' || strcmp(md, "0-0") == 0 || sl_id_cmp(md, id) <= 0;
}

/*
 * Nothing after st->from was removed since st was recorded: no entry
 * removed at all (entries-added - length unchanged), or every removal was
 * at or before st->from (the first entry is still at or before it, and no
 * XDEL past it: XDEL after max-deleted-entry-id moves that id).
 */
static int
intact(const struct sl_lagcount *st, const struct sl_stream_info *si)
{
	if (strcmp(si->max_deleted_entry_id, st->md) != 0)
		return 0;
	if (si->has_entries_added && st->removed >= 0 &&
	    si->entries_added - si->length == st->removed)
		return 1;
	return sl_id_cmp(si->first_entry_id, st->from) <= 0 &&
	    md_at_or_before(st->md, st->from);
}

static void
count_start(struct sl_lagcount *st, const char *from,
    const struct sl_stream_info *si, int known, long long rl)
{
	uint64_t key = st->key;

	memset(st, 0, sizeof(*st));
	st->key = key;
	st->mode = SL_LC_COUNTING;
	st->rl_known = known;
	st->rl = known ? rl : -1;
	snprintf(st->from, sizeof(st->from), "%s", from);
	snprintf(st->cursor, sizeof(st->cursor), "%s", from);
	snprintf(st->end, sizeof(st->end), "%s", si->last_entry_id);
	snprintf(st->md, sizeof(st->md), "%s", si->max_deleted_entry_id);
	st->removed = si->has_entries_added ? si->entries_added - si->length : -1;
	st->ea = si->has_entries_added ? si->entries_added : -1;
}

static void
forget(struct sl_lagcount *st)
{
	uint64_t key = st->key;

	memset(st, 0, sizeof(*st));
	st->key = key;
	st->mode = SL_LC_NONE;
}

int
sl_lag_resolve(struct sl_lag_entry *e, const struct sl_lag_facts *f,
    struct sl_lagcount *st)
{
	const struct sl_group	*g = &e->group;
	const struct sl_stream_info *si = f->si;
	const char	*last = g->last_delivered_id[0] ? g->last_delivered_id : "0-0";
	int		 known = g->lag_state == SL_LAG_KNOWN && g->lag >= 0;
	long long	 rl = g->lag, n, removed = -1, lo, hi, v;

	if (e->error != NULL || !e->has_group)
		return 1;
	if (known && rl == 0)
		return exact(e, 0, 0);
	/* Nothing after the group: Redis's surplus was trimmed unread. */
	if (f->next == 0)
		return exact(e, 0, known ? rl : 0);
	if (known && f->trusted)
		return exact(e, rl, 0);
	if (si == NULL)		/* XINFO STREAM failed: bounds only */
		return bounded(e, f->next == 1, known ? rl : -1, 1);
	n = si->length;
	if (n == 0)
		return exact(e, 0, known ? rl : 0);
	/* Behind the first entry: every entry is left (Redis's own rule). */
	if (si->first_entry_id[0] == '\0' ||
	    sl_id_cmp(last, si->first_entry_id) < 0)
		return exact(e, n, known && rl > n ? rl - n : 0);
	if (si->has_entries_added && si->entries_added >= n)
		removed = si->entries_added - n;
	/* Nothing ever removed: Redis's figure cannot hold trimmed entries. */
	if (known && removed == 0)
		return exact(e, rl, 0);
	/* Bounds: at least the first undelivered entry, and at most Redis's
	 * figure less every entry ever removed; at most the length less the
	 * first entry (delivered: it is at or before the group). */
	lo = f->next == 1;
	if (known && removed > 0 && rl - removed > lo)
		lo = rl - removed;
	hi = n - 1;
	if (known && rl < hi)
		hi = rl;
	if (lo == hi)
		return exact(e, hi, known ? rl - hi : 0);

	switch (st->mode) {
	case SL_LC_DELTA:
		/* The trim error stays while nothing after the group went. */
		if (known && intact(st, si) && sl_id_cmp(last, st->from) >= 0 &&
		    (v = rl - st->delta) >= lo && v <= hi) {
			snprintf(st->from, sizeof(st->from), "%s", last);
			return exact(e, v, st->delta);
		}
		forget(st);
		break;
	case SL_LC_TOTAL:
		/* A count of (from, end]; every entry added since is after. */
		if (!known && intact(st, si) && strcmp(last, st->from) == 0) {
			/* Added since: entries-added moved (Redis 7+), or,
			 * without it (6.x), only when the last entry is the
			 * same. */
			v = -1;
			if (si->has_entries_added && st->ea >= 0 &&
			    si->entries_added >= st->ea)
				v = sl_sat_add(st->total, si->entries_added - st->ea);
			else if (strcmp(si->last_entry_id, st->end) == 0)
				v = st->total;
			if (v >= lo && v <= hi)
				return exact(e, v, 0);
		}
		forget(st);
		break;
	case SL_LC_COUNTING:
		if (st->rl_known == known && intact(st, si) &&
		    (known ? sl_id_cmp(last, st->from) >= 0 :
		    strcmp(last, st->from) == 0))
			break;
		forget(st);
		break;
	default:
		forget(st);
		break;
	}
	if (st->mode == SL_LC_NONE)
		count_start(st, last, si, known, rl);
	/* Entries counted after the group's own last-delivered-id are left. */
	if (strcmp(last, st->from) == 0 && st->counted > lo)
		lo = st->counted < hi ? st->counted : hi;
	return bounded(e, lo, hi, 0);
}

int
sl_lag_count_step(struct sl_lagcount *st, const redisReply *r, long long step)
{
	const redisReply *id;
	size_t		 k;

	if (st->mode != SL_LC_COUNTING)
		return 0;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		forget(st);
		return -1;
	}
	k = r->elements;
	if (k > 0) {
		if ((id = range_id(r, k - 1)) == NULL ||
		    id->len >= sizeof(st->cursor)) {
			forget(st);
			return -1;
		}
		memcpy(st->cursor, id->str, id->len);
		st->cursor[id->len] = '\0';
	}
	st->counted = sl_sat_add(st->counted, (long long)k);
	if ((long long)k == step && sl_id_cmp(st->cursor, st->end) < 0)
		return 0;		/* more to count next time */
	if (st->rl_known) {
		if (st->counted > st->rl) {	/* not one snapshot: again */
			forget(st);
			return 0;
		}
		st->delta = st->rl - st->counted;
		st->mode = SL_LC_DELTA;
	} else {
		st->total = st->counted;
		st->mode = SL_LC_TOTAL;
	}
	return 0;
}

void
sl_lag_entry_done(struct sl_lag_entry *e, const struct sl_lag_facts *f,
    long long now_ms, const struct sl_thresholds *t)
{
	if (e->error != NULL || !e->has_group) {
		classify(e, t);
		return;
	}
	/* The oldest entry not yet delivered is the first after the group. */
	e->has_time_lag = 0;
	if (e->lag == 0 && e->lag_exact) {
		e->time_lag_ms = 0;
		e->has_time_lag = 1;
	} else if (f != NULL && f->next == 1)
		e->has_time_lag = age_of(f->next_id, strlen(f->next_id), now_ms,
		    &e->time_lag_ms);
	e->has_trim_risk = t->max_len > 0;
	e->trim_risk = t->max_len > 0 &&
	    (__int128)e->lag * 5 > (__int128)t->max_len * 4;
	classify(e, t);
}

/* Redis's clock from a TIME reply, in ms; -1 when malformed. */
long long
sl_time_ms(const redisReply *r)
{
	long long	 v[2];
	char		*end;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
		return -1;
	for (int i = 0; i < 2; i++) {
		if (r->element[i]->type != REDIS_REPLY_STRING)
			return -1;
		errno = 0;
		v[i] = strtoll(r->element[i]->str, &end, 10);
		if (errno != 0 || end == r->element[i]->str || *end != '\0' ||
		    v[i] < 0)
			return -1;
	}
	/* Seconds up to the year 9999 and microseconds below one second:
	 * anything else is not a clock, and would overflow in ms. */
	if (v[0] > TIME_MAX_S || v[1] >= 1000000)
		return -1;
	return v[0] * 1000 + v[1] / 1000;
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
		r->total_lag = sl_sat_add(r->total_lag, e->lag);
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
		h->total_lag = sl_sat_add(h->total_lag, e->lag);
		if (e->lag > h->max_lag)
			h->max_lag = e->lag;
	}
	if (h->unhealthy > 0 || h->stalled > 0)
		h->status = SL_STATUS_UNHEALTHY;
	else if (h->degraded > 0 || h->no_group > 0 || r->partial)
		/* A partial answer is never healthy: part was not looked at. */
		h->status = SL_STATUS_DEGRADED;
	else
		h->status = SL_STATUS_HEALTHY;
}
