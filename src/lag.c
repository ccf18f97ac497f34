/* SPDX-License-Identifier: ISC */
/* Lag and health rules.  Pure: facts and structs in, structs out (facts.c
 * reads the facts out of Redis's replies).
 *
 * Redis's own `lag` is trusted only as far as it can be: it is nil after an
 * XDEL past the group, after XGROUP SETID, or for a group created at an
 * arbitrary id; absent before 7.0; and too large once MAXLEN/XTRIM removed
 * entries the group never read.  streamlag reports the entries actually left
 * to deliver, counted after the group's last-delivered-id when needed (at
 * most STREAMLAG_LAG_COUNT_CAP), and the difference as trimmed_unread. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/lag.h"

#define DEFAULT_COUNT_CAP	10000

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

/* Ids in order: a malformed id is never before or after another, so the
 * rules that need an order fall back to the cautious branch. */
static int
id_before(const char *a, const char *b)
{
	int c;

	return sl_id_cmp(a, b, &c) == SL_OK && c < 0;
}

static int
id_at_or_before(const char *a, const char *b)
{
	int c;

	return sl_id_cmp(a, b, &c) == SL_OK && c <= 0;
}

static int
is_id(const char *id)
{
	unsigned long long ms, seq;

	return sl_id_parse(id, &ms, &seq) == SL_OK;
}

enum sl_err
sl_lag_entry_fail(struct sl_lag_entry *e, const char *why, size_t len)
{
	char *copy = sl_strndup(why, len);

	entry_failed(e);
	if (copy == NULL)
		return SL_ENOMEM;
	sl_free(e->error);
	e->error = copy;
	return SL_OK;
}

void
sl_lag_entry_no_group(struct sl_lag_entry *e)
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
sl_lag_entry_take_group(struct sl_lag_entry *e, struct sl_group *gs,
    size_t ng, const char *group, size_t group_len)
{
	for (size_t i = 0; i < ng; i++)
		if (gs[i].name.len == group_len &&
		    memcmp(gs[i].name.p, group, group_len) == 0) {
			e->has_group = 1;
			e->group = gs[i];
			/* moved into e */
			memset(&gs[i].name, 0, sizeof(gs[i].name));
			return 1;
		}
	return 0;
}

void
sl_lag_entry_start(struct sl_lag_entry *e, const struct sl_thresholds *t)
{
	/* Provisional until sl_lag_resolve: Redis's figure, when any. */
	e->lag = e->group.lag_state == SL_LAG_KNOWN ? e->group.lag : -1;
	e->lag_exact = e->group.lag_state == SL_LAG_KNOWN;
	if (e->lag == 0)
		e->has_time_lag = 1;	/* time_lag_ms 0 */
	classify(e, t);
}

enum sl_err
sl_lag_entry_from_group(struct sl_lag_entry *e, const char *stream,
    size_t stream_len, const struct sl_group *g)
{
	memset(e, 0, sizeof(*e));
	if (sl_bytes_set(&e->stream, stream, stream_len) != SL_OK)
		return SL_ENOMEM;
	e->has_group = 1;
	e->group = *g;
	memset(&e->group.name, 0, sizeof(e->group.name));
	if (sl_bytes_set(&e->group.name, g->name.p, g->name.len) != SL_OK)
		return SL_ENOMEM;
	e->lag = g->lag_state == SL_LAG_KNOWN ? g->lag : -1;
	e->lag_exact = g->lag_state == SL_LAG_KNOWN;
	e->status = SL_STATUS_HEALTHY;
	return SL_OK;
}

unsigned
sl_lag_followup(const struct sl_lag_entry *e, int all_groups, int trusted)
{
	unsigned	 need = 0;
	int		 known = e->group.lag_state == SL_LAG_KNOWN &&
			    e->group.lag >= 0;

	if (e->error != NULL || !e->has_group)
		return 0;
	if (all_groups && !e->consumers_read)
		need |= SL_NEED_CONSUMERS;
	if (!known || e->group.lag > 0) {
		/* The first undelivered entry: time lag, and whether any is
		 * left at all. */
		need |= SL_NEED_RANGE;
		/* No figure: the stream's facts.  A figure the server may
		 * have wrong: XLEN first (sl_lag_needs_stream). */
		if (!known)
			need |= SL_NEED_STREAM;
		else if (!trusted)
			need |= SL_NEED_LENGTH;
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

void
sl_total_add(long long *total, long long v, int *saturated)
{
	if (v > 0 && *total > LLONG_MAX - v)
		*saturated = 1;
	*total = sl_sat_add(*total, v);
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
	return md[0] == '\0' || strcmp(md, "0-0") == 0 || id_at_or_before(md, id);
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
	return id_at_or_before(si->first_entry_id, st->from) &&
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

/*
 * What an earlier request learnt (st), when it still holds for the group
 * at last within the bounds [lo, hi]: 1 with the entry exact.  Else 0, st
 * kept when a count in progress can go on, forgotten otherwise.
 */
static int
from_memory(struct sl_lag_entry *e, struct sl_lagcount *st,
    const struct sl_stream_info *si, const char *last, long long rl,
    long long lo, long long hi)
{
	int		 known = rl >= 0;
	long long	 v;

	switch (st->mode) {
	case SL_LC_DELTA:
		/* The trim error stays while nothing after the group went. */
		if (known && intact(st, si) && id_at_or_before(st->from, last) &&
		    (v = rl - st->delta) >= lo && v <= hi) {
			snprintf(st->from, sizeof(st->from), "%s", last);
			return exact(e, v, st->delta);
		}
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
		break;
	case SL_LC_COUNTING:
		if (st->rl_known == known && intact(st, si) &&
		    (known ? id_at_or_before(st->from, last) :
		    strcmp(last, st->from) == 0))
			return 0;
		break;
	default:
		break;
	}
	forget(st);
	return 0;
}

/*
 * What was learnt no longer describes the group once it moved back (XGROUP
 * SETID) or once Redis stopped knowing its lag or its entries-read: Redis then estimates
 * entries-read again, so a trim error kept from before would be taken off
 * a figure that no longer holds it.  Checked first, whichever rule answers.
 */
static void
stale(struct sl_lagcount *st, const struct sl_group *g, const char *last,
    int known)
{
	if (st->mode == SL_LC_NONE)
		return;
	if (id_before(last, st->from) || (st->mode == SL_LC_DELTA &&
	    (!known || !g->has_entries_read)))
		forget(st);
}

/* Exact without a count, from the facts alone: 1 with the entry set;
 * else 0 with the bounds [*lo, *hi] the facts give. */
static int
from_facts(struct sl_lag_entry *e, const struct sl_lag_facts *f,
    const char *last, long long rl, long long *lo, long long *hi)
{
	const struct sl_stream_info *si = f->si;
	int		 known = rl >= 0;
	long long	 n = si->length, removed = -1;

	if (n == 0)
		return exact(e, 0, known ? rl : 0);
	/* Behind the first entry: every entry is left (Redis's own rule).
	 * A malformed id is not "behind": it goes on to the bounds. */
	if (si->first_entry_id[0] == '\0' || id_before(last, si->first_entry_id))
		return exact(e, n, known && rl > n ? rl - n : 0);
	if (si->has_entries_added && si->entries_added >= n)
		removed = si->entries_added - n;
	/* Nothing ever removed: Redis's figure cannot hold trimmed entries. */
	if (known && removed == 0)
		return exact(e, rl, 0);
	/* Bounds: at least the first undelivered entry, and at most Redis's
	 * figure less every entry ever removed; at most the length less the
	 * first entry (delivered: it is at or before the group). */
	*lo = f->next == 1;
	if (known && removed > 0 && rl - removed > *lo)
		*lo = rl - removed;
	*hi = n - 1;
	if (known && rl < *hi)
		*hi = rl;
	if (*lo == *hi)
		return exact(e, *hi, known ? rl - *hi : 0);
	return 0;
}

/*
 * XLEN = entries-read + lag.  With entries-read valid, Redis 7.x and Valkey
 * 8 give lag = entries-added - entries-read (t_stream.c,
 * streamReplyWithCGLag), or else an estimate they only give where it is
 * exact.  The sum is then entries-added: every entry ever added is still
 * there, and the figure holds no trimmed one.  An XSETID ... ENTRIESADDED
 * set too large only fails the check; one set too small is refused below
 * the length; a false one otherwise is out of scope, as a false
 * ENTRIESREAD is.  A sum that saturates never matches.
 */
static int
length_settles(const struct sl_group *g, long long rl,
    const struct sl_lag_facts *f)
{
	long long sum;

	if (rl < 0 || !g->has_entries_read || g->entries_read < 0 ||
	    !f->has_length)
		return 0;
	sum = sl_sat_add(g->entries_read, rl);
	return sum != LLONG_MAX && sum == f->length;
}

/* The rules that need no stream facts, in order: 1 with the lag and the
 * trimmed entries, else 0. */
static int
without_stream(const struct sl_lag_entry *e, const struct sl_lag_facts *f,
    long long *lag, long long *trimmed)
{
	const struct sl_group	*g = &e->group;
	int		 known = g->lag_state == SL_LAG_KNOWN && g->lag >= 0;
	long long	 rl = known ? g->lag : -1;

	*lag = known ? rl : 0;
	*trimmed = 0;
	if (known && rl == 0)
		return 1;
	/* A lag beside a nil entries-read is Redis's own estimate, given only
	 * where it is exact (the group at the stream's first or last entry,
	 * or before the first with nothing deleted ahead). */
	if (known && !g->has_entries_read)
		return 1;
	/* Nothing after the group: Redis's surplus was trimmed unread. */
	if (f->next == 0) {
		*lag = 0;
		*trimmed = known ? rl : 0;
		return 1;
	}
	return known && (f->trusted || length_settles(g, rl, f));
}

int
sl_lag_needs_stream(const struct sl_lag_entry *e, const struct sl_lag_facts *f)
{
	long long lag, trimmed;

	return e->error == NULL && e->has_group &&
	    !without_stream(e, f, &lag, &trimmed);
}

int
sl_lag_resolve(struct sl_lag_entry *e, const struct sl_lag_facts *f,
    struct sl_lagcount *st)
{
	const struct sl_group	*g = &e->group;
	const char	*last = g->last_delivered_id[0] ? g->last_delivered_id : "0-0";
	int		 known = g->lag_state == SL_LAG_KNOWN && g->lag >= 0;
	long long	 rl = known ? g->lag : -1, lo, hi, lag, trimmed;

	if (e->error != NULL || !e->has_group)
		return 1;
	stale(st, g, last, known);
	if (without_stream(e, f, &lag, &trimmed))
		return exact(e, lag, trimmed);
	if (f->si == NULL)	/* XINFO STREAM failed: bounds only */
		return bounded(e, f->next == 1, rl, 1);
	if (from_facts(e, f, last, rl, &lo, &hi) ||
	    from_memory(e, st, f->si, last, rl, lo, hi))
		return 1;
	if (st->mode == SL_LC_NONE)
		count_start(st, last, f->si, known, rl);
	/* Entries counted after the group's own last-delivered-id are left. */
	if (strcmp(last, st->from) == 0 && st->counted > lo)
		lo = st->counted < hi ? st->counted : hi;
	return bounded(e, lo, hi, 0);
}

void
sl_lag_count_step(struct sl_lagcount *st, size_t k, const char *last,
    long long step)
{
	if (st->mode != SL_LC_COUNTING)
		return;
	if (k > 0) {
		if (last == NULL || !is_id(last) ||
		    strlen(last) >= sizeof(st->cursor)) {
			forget(st);	/* not an id: count again */
			return;
		}
		snprintf(st->cursor, sizeof(st->cursor), "%s", last);
	}
	st->counted = sl_sat_add(st->counted, (long long)k);
	if ((long long)k == step && id_before(st->cursor, st->end))
		return;			/* more to count next time */
	if (st->rl_known) {
		if (st->counted > st->rl) {	/* not one snapshot: again */
			forget(st);
			return;
		}
		st->delta = st->rl - st->counted;
		st->mode = SL_LC_DELTA;
	} else {
		st->total = st->counted;
		st->mode = SL_LC_TOTAL;
	}
}

void
sl_lag_entry_done(struct sl_lag_entry *e, const struct sl_lag_facts *f,
    const struct sl_thresholds *t)
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
	} else if (f != NULL && f->next == 1 && f->has_next_age) {
		e->time_lag_ms = f->next_age_ms;
		e->has_time_lag = 1;
	}
	e->has_trim_risk = t->max_len > 0;
	e->trim_risk = t->max_len > 0 &&
	    (__int128)e->lag * 5 > (__int128)t->max_len * 4;
	classify(e, t);
}

void
sl_lag_report_totals(struct sl_lag_report *r)
{
	r->total_lag = 0;
	r->total_saturated = 0;
	r->stream_count = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct sl_lag_entry *e = &r->entries[i];

		if (e->error != NULL)
			continue;
		sl_total_add(&r->total_lag, e->lag, &r->total_saturated);
		/* A stream counts once, however many of its groups answered. */
		if (i > 0 && r->entries[i - 1].stream.len == e->stream.len &&
		    memcmp(r->entries[i - 1].stream.p, e->stream.p,
		    e->stream.len) == 0 && r->entries[i - 1].error == NULL)
			continue;
		r->stream_count++;
	}
}

/* A reason named once in h->errors, while there is room. */
static void
health_error(struct sl_health *h, const char *why)
{
	for (size_t i = 0; i < h->nerrors; i++)
		if (strcmp(h->errors[i], why) == 0)
			return;
	if (h->nerrors < SL_HEALTH_ERRORS)
		h->errors[h->nerrors++] = why;
}

/* The masters discovery missed, then each failed stream's error; the
 * budget's are said by partial. */
static void
health_errors(const struct sl_lag_report *r, struct sl_health *h)
{
	h->partial = r->partial || r->nnode_errors > 0;
	for (size_t i = 0; i < r->nnode_errors; i++)
		health_error(h, r->node_errors[i]);
	for (size_t i = 0; i < r->n; i++)
		if (r->entries[i].error != NULL &&
		    strcmp(r->entries[i].error, SL_MSG_BUDGET) != 0)
			health_error(h, r->entries[i].error);
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
		sl_total_add(&h->total_lag, e->lag, &h->total_saturated);
		if (e->lag > h->max_lag)
			h->max_lag = e->lag;
	}
	health_errors(r, h);
	if (h->unhealthy > 0 || h->stalled > 0 || r->nnode_errors > 0)
		/* A master discovery could not reach: its streams unknown. */
		h->status = SL_STATUS_UNHEALTHY;
	else if (h->degraded > 0 || h->no_group > 0 || r->partial)
		/* A partial answer is never healthy: part was not looked at. */
		h->status = SL_STATUS_DEGRADED;
	else
		h->status = SL_STATUS_HEALTHY;
}
