/* SPDX-License-Identifier: ISC */
/* Collectors: one pipeline per request over the process's connection.  The
 * commands for every stream go out together (bounded batches, one round trip
 * each), and the replies are turned into reports by the pure parsers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/collect.h"
#include "streamlag/xinfo.h"

#define TEN_YEARS_MS	(10LL * 366 * 24 * 3600 * 1000)
#define ONE_DAY_MS	(24LL * 3600 * 1000)

static int
add3(struct sl_pipeline *p, const char *a, const char *b, const char *s,
    size_t slen)
{
	const char	*argv[3] = { a, b, s };
	size_t		 lens[3] = { strlen(a), strlen(b), slen };

	return sl_pipeline_add(p, 3, argv, lens);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
stats_of(const struct sl_pipeline *p, struct sl_collect_stats *stats)
{
	if (stats != NULL) {
		stats->round_trips = p->round_trips;
		stats->commands = (unsigned)p->n;
	}
}

/* Every stream of the request answers "Cannot connect to Redis". */
static int
report_down(struct sl_lag_report *report, char *const *streams, size_t n)
{
	const char	*group = report->group;
	int		 all = report->all_groups;

	sl_lag_report_free(report);
	report->group = group;
	report->all_groups = all;
	if ((report->error = strdup(SL_MSG_REDIS_DOWN)) == NULL)
		return -2;
	if (n > 0 && (report->entries = calloc(n, sizeof(*report->entries))) == NULL)
		return -2;
	report->n = n;
	for (size_t i = 0; i < n; i++) {
		struct sl_lag_entry *e = &report->entries[i];
		if (sl_bytes_set(&e->stream, streams[i], strlen(streams[i])) == -1 ||
		    (e->error = strdup(SL_MSG_REDIS_DOWN)) == NULL)
			return -2;
		e->lag = -1;
		e->status = SL_STATUS_ERROR;
	}
	return -1;
}


/* An entry slot, grown as groups are found (?group=*). */
static struct sl_lag_entry *
new_entry(struct sl_lag_report *r, size_t *cap)
{
	if (r->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct sl_lag_entry *e = realloc(r->entries, ncap * sizeof(*e));
		if (e == NULL)
			return NULL;
		r->entries = e;
		*cap = ncap;
	}
	memset(&r->entries[r->n], 0, sizeof(r->entries[0]));
	return &r->entries[r->n++];
}

/* ?group=*: one entry per group of each stream; a stream without groups
 * or that failed gets one entry of its own. */
static int
entries_all_groups(struct sl_lag_report *report, size_t *cap,
    const char *stream, const redisReply *groups, const struct sl_thresholds *t)
{
	struct sl_group		*gs = NULL;
	struct sl_lag_entry	*e;
	size_t			 ng = 0, slen = strlen(stream);
	char			 err[256];
	redisReply		 none = { .type = REDIS_REPLY_ARRAY };

	if (groups->type == REDIS_REPLY_ERROR ||
	    sl_xinfo_groups(groups, &gs, &ng, err, sizeof(err)) == -1 || ng == 0) {
		/* The single-group rules give the error or no_group entry. */
		if ((e = new_entry(report, cap)) == NULL ||
		    sl_bytes_set(&e->stream, stream, slen) == -1)
			return -1;
		return sl_lag_entry_fill(e, "", 0, groups, &none, t);
	}
	for (size_t i = 0; i < ng; i++)
		if ((e = new_entry(report, cap)) == NULL ||
		    sl_lag_entry_from_group(e, stream, slen, &gs[i]) == -1) {
			sl_groups_free(gs, ng);
			return -1;
		}
	sl_groups_free(gs, ng);
	return 0;
}

struct followup {
	int		 idx[4];	/* reply index per SL_NEED_* bit, -1 = none */
	size_t		 sidx;		/* its stream's XINFO STREAM, or SIZE_MAX */
	struct sl_lag_facts f;
};

/* One stream's XINFO STREAM in the follow-up batch, shared by its groups. */
struct sfacts {
	struct sl_stream_info si;
	int		 ok;
};

static int
add_followup(struct sl_pipeline *p, const struct sl_lag_entry *e,
    unsigned need, struct followup *f, int new_stream, size_t *nsf)
{
	const char	*s = e->stream.p, *g = e->group.name.p;
	size_t		 sl = e->stream.len, gl = e->group.name.len;
	char		 from[SL_ID_MAX + 1];

	for (int k = 0; k < 4; k++)
		f->idx[k] = -1;
	f->f.next = -1;
	if (need & SL_NEED_CONSUMERS) {
		const char *argv[] = { "XINFO", "CONSUMERS", s, g };
		size_t lens[] = { 5, 9, sl, gl };
		f->idx[0] = (int)p->n;
		if (sl_pipeline_add(p, 4, argv, lens) == -1)
			return -1;
	}
	if (need & SL_NEED_RANGE) {
		/* The first entry after the last delivered one, and only it. */
		const char *argv[] = { "XRANGE", s, from, "+", "COUNT", "1" };
		size_t lens[6];
		snprintf(from, sizeof(from), "(%s", e->group.last_delivered_id[0] ?
		    e->group.last_delivered_id : "0-0");
		lens[0] = 6; lens[1] = sl; lens[2] = strlen(from);
		lens[3] = 1; lens[4] = 5; lens[5] = 1;
		f->idx[1] = (int)p->n;
		if (sl_pipeline_add(p, 6, argv, lens) == -1)
			return -1;
	}
	if (need & SL_NEED_STREAM) {
		/* Once per stream: its groups are next to each other. */
		if (new_stream) {
			const char *argv[] = { "XINFO", "STREAM", s };
			size_t lens[] = { 5, 6, sl };
			f->idx[2] = (int)p->n;
			if (sl_pipeline_add(p, 3, argv, lens) == -1)
				return -1;
			(*nsf)++;
		}
		f->sidx = *nsf - 1;
	}
	if (need & SL_NEED_PENDING) {
		const char *argv[] = { "XPENDING", s, g, "-", "+", "1" };
		size_t lens[] = { 8, sl, gl, 1, 1, 1 };
		f->idx[3] = (int)p->n;
		if (sl_pipeline_add(p, 6, argv, lens) == -1)
			return -1;
	}
	return 0;
}

static int stream_error(struct sl_stream_entry *e, const redisReply *r,
    const char *msg);

/* One stream's XINFO STREAM for /metrics: its facts, or why it failed. */
static int
stream_info(struct sl_stream_entry *e, const char *name, const redisReply *r,
    long long now_ms)
{
	char		 err[256];
	long long	 ms;

	e->last_entry_age_ms = -1;
	if (sl_bytes_set(&e->name, name, strlen(name)) == -1)
		return -1;
	if (r->type == REDIS_REPLY_ERROR)
		return stream_error(e, r, NULL);
	if (sl_xinfo_stream(r, &e->info, err, sizeof(err)) == -1)
		return stream_error(e, NULL, err);
	ms = sl_id_ms(e->info.last_entry_id);
	if (now_ms > 0 && ms >= 0 && ms >= now_ms - TEN_YEARS_MS &&
	    ms <= now_ms + ONE_DAY_MS)
		e->last_entry_age_ms = now_ms > ms ? now_ms - ms : 0;
	return 0;
}

/* Batch 1 as it arrives: TIME, then per stream XINFO GROUPS (and XINFO
 * CONSUMERS of the one group), each stream's entry made as soon as its
 * replies are in. */
struct batch1 {
	struct sl_lag_report	*report;
	const struct sl_lag_query *q;
	char *const		*streams;
	size_t			 cap;		/* entries allocated */
	size_t			 glen;
	redisReply		*groups;	/* waiting for its CONSUMERS reply */
	long long		 now_ms;
	size_t			 per;		/* commands per stream */
	size_t			 base;		/* index of the first stream's */
	struct sl_redis		*r;
	int			 oom;
};

static void
on_batch1(void *arg, size_t idx, redisReply *reply)
{
	struct batch1		*b = arg;
	const struct sl_lag_query *q = b->q;
	size_t			 s, k;
	struct sl_lag_entry	*e;

	if (b->base == 2 && idx == 0) {	/* INFO server */
		if (reply->type != REDIS_REPLY_STRING ||
		    sl_server_parse(reply->str, reply->len, &b->r->server) == -1)
			memset(&b->r->server, 0, sizeof(b->r->server));
		b->r->server_known = 1;
		goto done;
	}
	if (idx + 1 == b->base) {
		b->now_ms = sl_time_ms(reply);
		b->report->now_ms = b->now_ms;
		goto done;
	}
	if (b->oom)
		goto done;
	s = (idx - b->base) / b->per;
	k = (idx - b->base) % b->per;
	if (q->with_streams && k == 0) {
		if (stream_info(&b->report->sinfo[s], b->streams[s], reply,
		    b->now_ms) == -1)
			b->oom = 1;
		goto done;
	}
	k -= q->with_streams != 0;
	if (q->all_groups) {
		if (entries_all_groups(b->report, &b->cap, b->streams[s], reply,
		    q->t) == -1)
			b->oom = 1;
		goto done;
	}
	if (k == 0) {
		b->groups = reply;	/* kept until the CONSUMERS reply */
		return;
	}
	if ((e = new_entry(b->report, &b->cap)) == NULL ||
	    sl_bytes_set(&e->stream, b->streams[s], strlen(b->streams[s])) == -1 ||
	    sl_lag_entry_fill(e, q->group, b->glen, b->groups, reply, q->t) == -1)
		b->oom = 1;
	freeReplyObject(b->groups);
	b->groups = NULL;
done:
	freeReplyObject(reply);
}

struct batch2 {
	struct sl_lag_report	*report;
	struct followup		*fu;
	struct sfacts		*sf;
	size_t			*owner;		/* entry of each follow-up reply */
	size_t			 first;		/* index of the first one */
	long long		 now_ms;
	int			 oom;
};

/* Follow-up replies as they arrive: each is turned into facts of its entry
 * at once and freed, so memory stays bounded by the batches in flight. */
static void
on_batch2(void *arg, size_t idx, redisReply *reply)
{
	struct batch2	*b = arg;
	size_t		 i = b->owner[idx - b->first];
	struct followup	*f = &b->fu[i];
	struct sl_lag_entry *e = &b->report->entries[i];
	char		 err[128];
	int		 k;

	for (k = 0; k < 4 && f->idx[k] != (int)idx; k++)
		;
	if (b->oom || k == 4)
		goto done;
	switch (k) {
	case 0:
		if (sl_lag_entry_consumers(e, reply) == -1)
			b->oom = 1;
		break;
	case 1:
		if (reply->type == REDIS_REPLY_ERROR && e->error == NULL &&
		    sl_lag_entry_fail(e, reply, NULL) == -1)
			b->oom = 1;
		else
			(void)sl_lag_facts_next(&f->f, reply);
		break;
	case 2:
		b->sf[f->sidx].ok = reply->type == REDIS_REPLY_ARRAY &&
		    sl_xinfo_stream(reply, &b->sf[f->sidx].si, err,
		    sizeof(err)) == 0;
		break;
	case 3:
		/* A refused XPENDING (an ACL without it) fails the group as a
		 * refused XRANGE does: never a silent null oldest_pending_ms. */
		if (reply->type == REDIS_REPLY_ERROR && e->error == NULL) {
			if (sl_lag_entry_fail(e, reply, NULL) == -1)
				b->oom = 1;
		} else
			sl_lag_entry_pending(e, reply, b->now_ms);
		break;
	}
done:
	freeReplyObject(reply);
}

/* A group whose lag is being counted in this request. */
struct counting {
	size_t			 i;		/* its entry */
	struct sl_lagcount	 st;
	uint32_t		 version;
};

struct batch3 {
	struct sl_lag_report	*report;
	struct followup		*fu;
	struct counting		*c;
	size_t			 first;
	long long		 step;
	struct sl_lagcache	*cache;
};

static void
on_batch3(void *arg, size_t idx, redisReply *reply)
{
	struct batch3	*b = arg;
	struct counting	*c = &b->c[idx - b->first];

	(void)sl_lag_count_step(&c->st, reply, b->step);
	(void)sl_lag_resolve(&b->report->entries[c->i], &b->fu[c->i].f, &c->st);
	(void)sl_lagcache_put(b->cache, &c->st, c->version);
	freeReplyObject(reply);
}

/* The request's budget: reply bytes read since bytes0, commands so far
 * plus more. */
static int
over_bytes(const struct sl_redis *r, unsigned long long bytes0,
    const struct sl_thresholds *t)
{
	return t->max_bytes > 0 &&
	    r->meter.bytes - bytes0 > (unsigned long long)t->max_bytes;
}

static int
over_commands(const struct sl_pipeline *p, size_t more,
    const struct sl_thresholds *t)
{
	return t->max_commands > 0 &&
	    (long long)(p->n + more) > t->max_commands;
}

static struct sl_lagcache *
lagcache_of(struct sl_redis *r)
{
	static struct sl_lagcache *local;	/* `streamlag get`: this process */

	if (r->lagcache != NULL)
		return r->lagcache;
	if (local == NULL)
		local = calloc(1, sizeof(*local));
	return local;
}

static int
same_stream(const struct sl_lag_entry *a, const struct sl_lag_entry *b)
{
	return a->stream.len == b->stream.len &&
	    memcmp(a->stream.p, b->stream.p, a->stream.len) == 0;
}

int
sl_collect_lag(struct sl_redis *r, char *const *streams, size_t nstreams,
    const struct sl_lag_query *q, struct sl_lag_report *report,
    struct sl_collect_stats *stats)
{
	struct sl_pipeline	 p;
	struct followup		*fu = NULL;
	struct batch1		 b1;
	const char		*targv[1] = { "TIME" };
	size_t			 tlen[1] = { 4 }, i, first2, first3, nsf = 0;
	size_t			 last_sf = 0, ncount = 0, capcount = 0;
	unsigned long long	 bytes0;
	struct sfacts		*sf = NULL;
	struct counting		*cnt = NULL;
	struct sl_lagcache	*cache;
	long long		 step;
	int			 rc = -2, rc2, trusted;

	memset(report, 0, sizeof(*report));
	report->group = q->all_groups ? NULL : q->group;
	report->all_groups = q->all_groups;
	sl_pipeline_init(&p, r);
	memset(&b1, 0, sizeof(b1));
	b1.report = report;
	b1.q = q;
	b1.streams = streams;
	b1.glen = q->group != NULL ? strlen(q->group) : 0;
	b1.now_ms = -1;

	b1.per = 1 + (q->with_streams != 0) + !q->all_groups;
	b1.r = r;
	b1.base = r->server_known ? 1 : 2;
	bytes0 = r->meter.bytes;
	/* The command budget: the streams batch 1 can cover; the rest are
	 * named as not covered, never dropped silently. */
	if (q->t->max_commands > 0 && (long long)(b1.base +
	    nstreams * b1.per) > q->t->max_commands) {
		size_t k = q->t->max_commands > (long long)b1.base ?
		    (size_t)(q->t->max_commands - (long long)b1.base) / b1.per : 0;

		report->partial = 1;
		report->uncovered = streams + k;
		report->nuncovered = nstreams - k;
		report->not_covered = nstreams - k;
		nstreams = k;
	}
	report->now_ms = -1;
	if (q->with_streams && nstreams > 0) {
		if ((report->sinfo = calloc(nstreams, sizeof(*report->sinfo))) == NULL)
			goto out;
		report->nsinfo = nstreams;
	}

	/* Batch 1: TIME, and XINFO GROUPS (+ CONSUMERS of the one group) of
	 * every stream, after its XINFO STREAM when asked. */
	if (b1.base == 2) {	/* the server's kind and version, once */
		const char *iargv[] = { "INFO", "server" };
		size_t ilen[] = { 4, 6 };
		if (sl_pipeline_add(&p, 2, iargv, ilen) == -1)
			goto out;
	}
	if (sl_pipeline_add(&p, 1, targv, tlen) == -1)
		goto out;
	for (i = 0; i < nstreams; i++) {
		size_t slen = strlen(streams[i]);
		const char *sargv[] = { "XINFO", "STREAM", streams[i] };
		size_t slens[] = { 5, 6, slen };
		const char *gargv[] = { "XINFO", "GROUPS", streams[i] };
		size_t glens[] = { 5, 6, slen };
		const char *cargv[] = { "XINFO", "CONSUMERS", streams[i], q->group };
		size_t clens[] = { 5, 9, slen, b1.glen };

		if ((q->with_streams && sl_pipeline_add(&p, 3, sargv, slens) == -1) ||
		    sl_pipeline_add(&p, 3, gargv, glens) == -1 ||
		    (!q->all_groups && sl_pipeline_add(&p, 4, cargv, clens) == -1))
			goto out;
	}
	p.on_reply = on_batch1;
	p.arg = &b1;
	if (sl_pipeline_exec(&p) == -1) {
		if (b1.groups != NULL)
			freeReplyObject(b1.groups);
		rc = report_down(report, streams, nstreams);
		goto out;
	}
	p.on_reply = NULL;
	if (b1.oom)
		goto out;

	/* Batch 2, only for the groups that need it: the first undelivered
	 * entry, XINFO STREAM once per stream, the oldest pending entry,
	 * consumers (?group=*). */
	if (report->n > 0 && (fu = calloc(report->n, sizeof(*fu))) == NULL)
		goto out;
	trusted = r->server_known && sl_server_lag_trusted(&r->server);
	first2 = p.n;
	for (i = 0; i < report->n; i++) {
		struct sl_lag_entry *e = &report->entries[i];
		unsigned need = sl_lag_followup(e, q->all_groups, trusted);
		int fresh = (need & SL_NEED_STREAM) && (nsf == 0 ||
		    !same_stream(&report->entries[last_sf], e));

		if (need != 0 && (over_bytes(r, bytes0, q->t) ||
		    over_commands(&p, (size_t)__builtin_popcount(need &
		    ~SL_NEED_STREAM) + (fresh != 0), q->t))) {
			/* Out of budget: this group is not covered. */
			if (sl_lag_entry_fail(e, NULL, SL_MSG_BUDGET) == -1)
				goto out;
			report->partial = 1;
			if (i == 0 || !same_stream(&report->entries[i - 1], e) ||
			    report->entries[i - 1].error == NULL ||
			    strcmp(report->entries[i - 1].error, SL_MSG_BUDGET) != 0)
				report->not_covered++;
			need = 0;
			fresh = 0;
		}

		fu[i].sidx = SIZE_MAX;
		fu[i].f.trusted = trusted;
		if (fresh)
			last_sf = i;
		if (add_followup(&p, e, need, &fu[i], fresh, &nsf) == -1)
			goto out;
	}
	if (p.n > first2) {
		struct batch2 b2 = { report, fu, NULL, NULL, first2, b1.now_ms, 0 };

		if ((nsf > 0 && (sf = calloc(nsf, sizeof(*sf))) == NULL) ||
		    (b2.owner = calloc(p.n - first2, sizeof(*b2.owner))) == NULL)
			goto out;
		b2.sf = sf;
		for (i = 0; i < report->n; i++)
			for (int k = 0; k < 4; k++)
				if (fu[i].idx[k] >= 0)
					b2.owner[(size_t)fu[i].idx[k] - first2] = i;
		p.on_reply = on_batch2;
		p.arg = &b2;
		rc2 = sl_pipeline_exec(&p);
		free(b2.owner);
		if (rc2 == -1) {
			rc = report_down(report, streams, nstreams);
			goto out;
		}
		if (b2.oom)
			goto out;
	}

	/* The lag of each group from those facts and what was learnt before
	 * (lagcache.h); one bounded count step for those still unsure. */
	cache = lagcache_of(r);
	step = sl_lag_count_cap(q->t);
	first3 = p.n;
	for (i = 0; i < report->n; i++) {
		struct sl_lag_entry *e = &report->entries[i];
		struct sl_lagcount st;
		uint32_t version;

		fu[i].f.si = fu[i].sidx != SIZE_MAX && sf[fu[i].sidx].ok ?
		    &sf[fu[i].sidx].si : NULL;
		if (fu[i].sidx == SIZE_MAX || cache == NULL) {
			/* Settled without the stream's facts: nothing to keep. */
			memset(&st, 0, sizeof(st));
			(void)sl_lag_resolve(e, &fu[i].f, &st);
			continue;
		}
		sl_lagcache_get(cache, sl_lagcache_key(e->stream.p, e->stream.len,
		    e->group.name.p, e->group.name.len), &st, &version);
		if (sl_lag_resolve(e, &fu[i].f, &st) == 1 ||
		    over_bytes(r, bytes0, q->t) || over_commands(&p, 1, q->t)) {
			/* Settled, or no budget left for a count step: the
			 * bounds stand (lag_exact false), the count goes on at
			 * the next request. */
			(void)sl_lagcache_put(cache, &st, version);
			continue;
		}
		if (ncount == capcount) {
			size_t nc = capcount ? capcount * 2 : 16;
			struct counting *g = realloc(cnt, nc * sizeof(*g));
			if (g == NULL)
				goto out;
			cnt = g;
			capcount = nc;
		}
		cnt[ncount].i = i;
		cnt[ncount].st = st;
		cnt[ncount].version = version;
		{
			char from[SL_ID_MAX + 1], n[24];
			const char *argv[] = { "XRANGE", e->stream.p, from, st.end,
			    "COUNT", n };
			size_t lens[6];

			snprintf(from, sizeof(from), "(%s", st.cursor);
			snprintf(n, sizeof(n), "%lld", step);
			lens[0] = 6; lens[1] = e->stream.len; lens[2] = strlen(from);
			lens[3] = strlen(st.end); lens[4] = 5; lens[5] = strlen(n);
			if (sl_pipeline_add(&p, 6, argv, lens) == -1)
				goto out;
		}
		ncount++;
	}
	if (ncount > 0) {
		struct batch3 b3 = { report, fu, cnt, first3, step, cache };

		p.on_reply = on_batch3;
		p.arg = &b3;
		if (sl_pipeline_exec(&p) == -1) {
			rc = report_down(report, streams, nstreams);
			goto out;
		}
	}
	for (i = 0; i < report->n; i++)
		sl_lag_entry_done(&report->entries[i], &fu[i].f, b1.now_ms, q->t);
	sl_lag_report_totals(report);
	rc = 0;
out:
	free(fu);
	free(sf);
	free(cnt);
	stats_of(&p, stats);
	sl_pipeline_free(&p);
	if (rc == -2)
		sl_lag_report_free(report);	/* out of memory: no report */
	return rc;
}

static int discover_scan(struct sl_redis *r, const char *pattern,
    long long max, char ***out, size_t *nout, int *truncated,
    struct sl_collect_stats *stats);

/* From the shared cache while it is fresh; else one worker scans and
 * stores, and the others answer from the previous set meanwhile. */
int
sl_discover(struct sl_redis *r, const char *pattern, long long max,
    char ***out, size_t *nout, int *truncated, struct sl_collect_stats *stats)
{
	struct sl_discache *c = r->discache;
	int64_t		 now = sl_monotonic_ms();
	int		 rc;

	if (stats != NULL)
		stats->round_trips = 0;
	if (c == NULL || r->discovery_ttl_ms <= 0)
		return discover_scan(r, pattern, max, out, nout, truncated, stats);
	if ((rc = sl_discache_load(c, pattern, max, now, r->discovery_ttl_ms, 0,
	    out, nout, truncated)) != 0)
		return rc == 1 ? 0 : -2;
	if (!sl_discache_begin(c, now)) {
		if ((rc = sl_discache_load(c, pattern, max, now, 0, 1, out, nout,
		    truncated)) != 0)
			return rc == 1 ? 0 : -2;
		return discover_scan(r, pattern, max, out, nout, truncated, stats);
	}
	rc = discover_scan(r, pattern, max, out, nout, truncated, stats);
	if (rc == 0)
		sl_discache_done(c, pattern, max, *out, *nout, *truncated,
		    sl_monotonic_ms());
	else
		__atomic_store_n(&c->refreshing, 0, __ATOMIC_RELEASE);
	return rc;
}

static int
discover_scan(struct sl_redis *r, const char *pattern, long long max,
    char ***out, size_t *nout, int *truncated, struct sl_collect_stats *stats)
{
	char		**names = NULL, cursor[32] = "0";
	size_t		 n = 0, cap = 0;
	unsigned	 trips = 0;
	int		 rc = -2;

	*out = NULL;
	*nout = 0;
	*truncated = 0;
	do {
		struct sl_pipeline p;
		const char *argv[] = { "SCAN", cursor, "MATCH", pattern, "COUNT",
		    "1000", "TYPE", "stream" };
		size_t lens[] = { 4, strlen(cursor), 5, strlen(pattern), 5, 4, 4, 6 };
		const redisReply *rep, *keys;

		sl_pipeline_init(&p, r);
		if (sl_pipeline_add(&p, 8, argv, lens) == -1) {
			sl_pipeline_free(&p);
			goto fail;
		}
		if (sl_pipeline_exec(&p) == -1) {
			sl_pipeline_free(&p);
			rc = -1;
			goto fail;
		}
		trips++;
		rep = p.replies[0];
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
		    rep->element[0]->type != REDIS_REPLY_STRING ||
		    rep->element[0]->len >= sizeof(cursor) ||
		    (keys = rep->element[1])->type != REDIS_REPLY_ARRAY) {
			sl_pipeline_free(&p);
			rc = -1;	/* an unusable answer: treat as Redis failing */
			goto fail;
		}
		memcpy(cursor, rep->element[0]->str, rep->element[0]->len);
		cursor[rep->element[0]->len] = '\0';
		for (size_t i = 0; i < keys->elements; i++) {
			const redisReply *k = keys->element[i];
			if (k->type != REDIS_REPLY_STRING ||
			    memchr(k->str, '\0', k->len) != NULL)
				continue;	/* names with NUL cannot be configured */
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 256;
				char **g = realloc(names, ncap * sizeof(*g));
				if (g == NULL) {
					sl_pipeline_free(&p);
					goto fail;
				}
				names = g;
				cap = ncap;
			}
			if ((names[n] = strndup(k->str, k->len)) == NULL) {
				sl_pipeline_free(&p);
				goto fail;
			}
			n++;
		}
		sl_pipeline_free(&p);
	} while (strcmp(cursor, "0") != 0 && (long long)n <= max);
	/* SCAN may return a key twice: sort, then drop repeats. */
	qsort(names, n, sizeof(*names), cmp_names);
	{
		size_t w = 0;
		for (size_t i = 0; i < n; i++) {
			if (w > 0 && strcmp(names[w - 1], names[i]) == 0)
				free(names[i]);
			else
				names[w++] = names[i];
		}
		n = w;
	}
	if ((long long)n > max || strcmp(cursor, "0") != 0) {
		*truncated = (long long)n > max || strcmp(cursor, "0") != 0;
		while ((long long)n > max)
			free(names[--n]);
	}
	*out = names;
	*nout = n;
	if (stats != NULL)
		stats->round_trips = trips;
	return 0;
fail:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (stats != NULL)
		stats->round_trips = trips;
	return rc;
}

void
sl_names_free(char **names, size_t n)
{
	for (size_t i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
}

static int
stream_error(struct sl_stream_entry *e, const redisReply *r, const char *msg)
{
	if (r != NULL && r->type == REDIS_REPLY_ERROR) {
		const char *s = r->str;
		size_t len = r->len;
		if (len >= 4 && memcmp(s, "ERR ", 4) == 0) {
			s += 4;
			len -= 4;
		}
		e->error = strndup(s, len);
	} else
		e->error = strdup(msg);
	return e->error == NULL ? -1 : 0;
}

static int
fill_stream(struct sl_stream_entry *e, const redisReply *info,
    const redisReply *groups, long long now_ms)
{
	struct sl_group	*gs = NULL;
	size_t		 ng = 0;
	char		 err[256];
	long long	 ms;

	e->last_entry_age_ms = -1;
	if (info == NULL || info->type == REDIS_REPLY_ERROR)
		return stream_error(e, info, "no reply from Redis");
	if (sl_xinfo_stream(info, &e->info, err, sizeof(err)) == -1)
		return stream_error(e, NULL, err);
	if (groups == NULL || groups->type == REDIS_REPLY_ERROR)
		return stream_error(e, groups, "no reply from Redis");
	if (sl_xinfo_groups(groups, &gs, &ng, err, sizeof(err)) == -1)
		return stream_error(e, NULL, err);
	if (ng > 0 && (e->group_names = calloc(ng, sizeof(*e->group_names))) == NULL) {
		sl_groups_free(gs, ng);
		return -1;
	}
	for (size_t i = 0; i < ng; i++) {
		e->group_names[i] = gs[i].name;	/* moved */
		memset(&gs[i].name, 0, sizeof(gs[i].name));
	}
	e->ngroup_names = ng;
	sl_groups_free(gs, ng);
	ms = sl_id_ms(e->info.last_entry_id);
	/* Only ids that look like timestamps give an age. */
	if (now_ms > 0 && ms >= 0 && ms >= now_ms - TEN_YEARS_MS &&
	    ms <= now_ms + ONE_DAY_MS)
		e->last_entry_age_ms = now_ms > ms ? now_ms - ms : 0;
	return 0;
}

int
sl_collect_streams(struct sl_redis *r, char *const *streams, size_t nstreams,
    struct sl_streams_report *report, struct sl_collect_stats *stats)
{
	struct sl_pipeline p;
	const char	*targv[1] = { "TIME" };
	size_t		 tlen[1] = { 4 }, i;
	long long	 now_ms;
	int		 rc = -2;

	memset(report, 0, sizeof(*report));
	sl_pipeline_init(&p, r);
	if (nstreams > 0 &&
	    (report->entries = calloc(nstreams, sizeof(*report->entries))) == NULL)
		goto out;
	report->n = nstreams;
	if (sl_pipeline_add(&p, 1, targv, tlen) == -1)
		goto out;
	for (i = 0; i < nstreams; i++) {
		size_t len = strlen(streams[i]);
		if (sl_bytes_set(&report->entries[i].name, streams[i], len) == -1 ||
		    add3(&p, "XINFO", "STREAM", streams[i], len) == -1 ||
		    add3(&p, "XINFO", "GROUPS", streams[i], len) == -1)
			goto out;
	}
	if (sl_pipeline_exec(&p) == -1) {
		rc = -1;
		if ((report->error = strdup(SL_MSG_REDIS_DOWN)) == NULL)
			rc = -2;
		goto out;
	}
	now_ms = sl_time_ms(p.replies[0]);
	for (i = 0; i < nstreams; i++)
		if (fill_stream(&report->entries[i], p.replies[1 + 2 * i],
		    p.replies[2 + 2 * i], now_ms) == -1)
			goto out;
	rc = 0;
out:
	stats_of(&p, stats);
	sl_pipeline_free(&p);
	return rc;
}
