/* SPDX-License-Identifier: ISC */
/* Collectors: one pipeline per request over the process's connection.  The
 * commands for every stream go out together (bounded batches, one round trip
 * each); each batch is built first over a plan of slots, and its replies are
 * consumed by slot, into facts (facts.c) and through the lag rules (lag.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/collect.h"
#include "streamlag/exec.h"
#include "streamlag/facts.h"
#include "streamlag/shared.h"

#define SL_TIME_NODES	SL_EXEC_MAX_NODES	/* masters asked TIME */
#define SL_COLLECT_CHUNK 2048			/* streams a chunk asks */
#define SL_STREAMS_FIRST 32	/* /streams' first chunk: its bytes size the next */
#define SL_COUNT_STEP_BYTES (8ULL << 20)	/* entries' bytes one count step asks */

/* What batch 2 learns about one entry, for its lag. */
struct sl_followup {
	size_t		 sidx;		/* its stream's facts, or SIZE_MAX */
	struct sl_lag_facts f;
	uint64_t	 gkey;		/* sl_group_key of its group */
	int		 has_last;	/* its last-delivered-id parsed: */
	unsigned long long last_ms, last_seq;
	int		 cand;		/* ns is to be checked, not XRANGE */
	int		 cached;	/* f.next came from ns */
	struct sl_nextkey nk;		/* the group's facts, for the cache */
	struct sl_nextslot ns;
};

/* One stream's facts in the follow-up, shared by its groups: XINFO STREAM
 * (batch 2, or batch 3 when XLEN did not settle a group), or XLEN. */
struct sl_sfacts {
	struct sl_stream_info si;
	int		 ok;		/* si answered */
	int		 asked;		/* XINFO STREAM asked */
	int		 has_length;	/* XLEN answered */
	int		 asked_length;	/* XLEN asked in batch 1 */
	long long	 length;
};

#define SL_NEED_FACTS	(SL_NEED_STREAM | SL_NEED_LENGTH)
/* Entries ahead whose lag cache buckets are fetched into the CPU's cache
 * while this one is worked on: 100 000 groups' buckets are spread over
 * 8 MiB, one memory latency each. */
#define SL_PREFETCH	8

/* A group whose lag is being counted in this request. */
struct sl_counting {
	size_t			 i;		/* its entry */
	struct sl_lagcount	 st;
	uint32_t		 version;
	long long		 step;		/* the entries it asked */
};

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* An entry per stream, each "Cannot connect to Redis" (report's entries
 * are replaced). */
static enum sl_err
fail_streams(struct sl_lag_report *report, char *const *streams, size_t n)
{
	if (n > 0 && (report->entries = sl_calloc(n,
	    sizeof(*report->entries))) == NULL)
		return SL_ENOMEM;
	report->n = n;
	for (size_t i = 0; i < n; i++) {
		struct sl_lag_entry *e = &report->entries[i];

		if (sl_bytes_set(&e->stream, streams[i], strlen(streams[i])) !=
		    SL_OK || (e->error = sl_strdup(SL_MSG_REDIS_DOWN)) == NULL)
			return SL_ENOMEM;
		e->lag = -1;
		e->status = SL_STATUS_ERROR;
	}
	return SL_OK;
}

/* Every stream of the request answers "Cannot connect to Redis". */
static enum sl_err
report_down(struct sl_lag_report *report, char *const *streams, size_t n)
{
	const char	*group = report->group;
	int		 all = report->all_groups;

	sl_lag_report_free(report);
	report->group = group;
	report->all_groups = all;
	if ((report->error = sl_strdup(SL_MSG_REDIS_DOWN)) == NULL ||
	    fail_streams(report, streams, n) != SL_OK)
		return SL_ENOMEM;
	return SL_EREDIS;
}

/* An entry slot, grown as groups are found (?group=*). */
static struct sl_lag_entry *
new_entry(struct sl_lag_report *r, size_t *cap)
{
	if (r->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct sl_lag_entry *e = sl_reallocarray(r->entries, ncap,
		    sizeof(*e));

		if (e == NULL)
			return NULL;
		r->entries = e;
		*cap = ncap;
	}
	memset(&r->entries[r->n], 0, sizeof(r->entries[0]));
	return &r->entries[r->n++];
}

static enum sl_err
plan_grow(struct sl_plan *pl)
{
	struct sl_plan_slot	*s;
	size_t			 ncap = pl->cap ? pl->cap * 2 : 64;

	if (pl->n < pl->cap)
		return SL_OK;
	if ((s = sl_reallocarray(pl->slot, ncap, sizeof(*s))) == NULL)
		return SL_ENOMEM;
	pl->slot = s;
	pl->cap = ncap;
	return SL_OK;
}

/* TIME of one node of a cluster (its index in aux). */
static enum sl_err
plan_time(struct sl_lag_run *run, struct sl_pipeline *p, size_t node)
{
	const char		*argv[] = { "TIME" };
	size_t			 lens[] = { 4 };
	struct sl_plan_slot	*s;

	if (plan_grow(&run->plan) != SL_OK ||
	    sl_pipeline_add_node(p, node, 1, argv, lens) != SL_OK)
		return SL_ENOMEM;
	s = &run->plan.slot[run->plan.n++];
	memset(s, 0, sizeof(*s));
	s->ask = SL_ASK_TIME;
	s->stream = s->entry = SIZE_MAX;
	s->aux = node;
	return SL_OK;
}

/* Adds a command to the batch and its slot to the plan; the key is the
 * third word for XINFO, the second for the others (argv[key_at]). */
static enum sl_err
plan_add(struct sl_lag_run *run, struct sl_pipeline *p, enum sl_ask ask,
    size_t stream, size_t entry, int argc, const char **argv,
    const size_t *lens, int key_at)
{
	struct sl_plan	*pl = &run->plan;
	struct sl_plan_slot	*s;

	if (plan_grow(pl) != SL_OK ||
	    sl_pipeline_add(p, argc, argv, lens) != SL_OK)
		return SL_ENOMEM;
	s = &pl->slot[pl->n++];
	memset(s, 0, sizeof(*s));
	s->ask = ask;
	s->stream = stream;
	s->entry = entry;
	if (key_at > 0) {
		s->key = argv[key_at];
		s->keylen = lens[key_at];
	}
	return SL_OK;
}

static void
plan_begin(struct sl_lag_run *run, const struct sl_pipeline *p)
{
	run->plan.n = 0;
	run->plan.first = p->n;
}

/* The request's budget: reply bytes read since the request began, commands
 * so far plus more. */
static int
over_bytes(const struct sl_lag_run *run)
{
	const struct sl_thresholds *t = run->q->t;

	return t->max_bytes > 0 && run->r->meter.bytes - run->bytes0 >
	    (unsigned long long)t->max_bytes;
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
		local = sl_calloc(1, sizeof(*local));
	return local;
}

static int
same_stream(const struct sl_lag_entry *a, const struct sl_lag_entry *b)
{
	return a->stream.len == b->stream.len &&
	    memcmp(a->stream.p, b->stream.p, a->stream.len) == 0;
}

enum sl_err
sl_lag_run_init(struct sl_lag_run *run, struct sl_redis *r,
    char *const *streams, size_t nstreams, const struct sl_lag_query *q,
    struct sl_lag_report *report)
{
	memset(run, 0, sizeof(*run));
	memset(report, 0, sizeof(*report));
	report->group = q->all_groups ? NULL : q->group;
	report->all_groups = q->all_groups;
	report->now_ms = -1;
	run->r = r;
	run->q = q;
	run->streams = streams;
	run->nstreams = nstreams;
	run->group = q->all_groups ? q->hint : q->group;
	run->glen = run->group != NULL ? strlen(run->group) : 0;
	run->hint_entry = SIZE_MAX;
	run->report = report;
	run->now_ms = -1;
	run->bytes0 = r->meter.bytes;
	run->mono_ms = sl_monotonic_ms();
	run->step = sl_lag_count_cap(q->t);
	return SL_OK;
}

/* The command budget: the streams batch 1 can cover; the rest are named
 * as not covered, never dropped silently. */
static void
budget_streams(struct sl_lag_run *run, size_t fixed, size_t per)
{
	struct sl_lag_report	*report = run->report;
	long long		 max = run->q->t->max_commands;
	size_t			 k;

	if (max <= 0 || (long long)(fixed + run->nstreams * per) <= max)
		return;
	k = max > (long long)fixed ? (size_t)(max - (long long)fixed) / per : 0;
	report->partial = 1;
	report->uncovered = run->streams + k;
	report->nuncovered = run->nstreams - k;
	report->not_covered = run->nstreams - k;
	run->nstreams = k;
}

/* A cluster: TIME of every master, so that a stream's ages are by the
 * clock of the node that holds it. */
static enum sl_err
build_times(struct sl_lag_run *run, struct sl_pipeline *p)
{
	size_t	 nodes[SL_TIME_NODES], k;

	if (run->r->cluster != 1 ||
	    (k = sl_redis_masters(run->r, nodes, SL_TIME_NODES)) == 0)
		return SL_OK;
	run->ntimes = run->r->x->nnodes;
	if ((run->times = sl_calloc(run->ntimes, sizeof(*run->times))) == NULL)
		return SL_ENOMEM;
	for (size_t i = 0; i < run->ntimes; i++)
		run->times[i] = -1;
	for (size_t i = 0; i < k; i++)
		if (plan_time(run, p, nodes[i]) != SL_OK)
			return SL_ENOMEM;
	return SL_OK;
}

/* The clock of the node holding a key (the first TIME when unknown). */
static long long
now_of(const struct sl_lag_run *run, const char *key, size_t len)
{
	size_t node;

	if (run->times == NULL)
		return run->now_ms;
	node = sl_redis_key_node(run->r, key, len);
	return node < run->ntimes && run->times[node] >= 0 ?
	    run->times[node] : run->now_ms;
}

/* All groups: whether batch 1 asks the hint group's consumers (see
 * sl_lag_query).  Not while the connection found the group missing, or
 * the command refused; nor where those commands would leave streams out
 * of the budget that batch 2 could still answer. */
static int
hint_fits(const struct sl_lag_run *run, size_t fixed, size_t per)
{
	const struct sl_lag_query *q = run->q;
	long long	 max = q->t->max_commands;

	if (!q->all_groups || q->hint == NULL || *q->hint == '\0' ||
	    run->r->hint_off != SL_HINT_ON)
		return 0;
	return max <= 0 ||
	    (long long)(fixed + run->nstreams * (per + 1)) <= max;
}

/* All groups, batch 1 read: whether the next chunks ask the hint group's
 * consumers, by how many of this chunk's streams have that group. */
static void
hint_settle(struct sl_lag_run *run)
{
	struct sl_redis *r = run->r;

	if (r->hint_off != SL_HINT_REFUSED && run->hint_streams > 0)
		r->hint_off = run->hint_seen * 10 < run->hint_streams * 9 ?
		    SL_HINT_MISSING : SL_HINT_ON;
}

/* Batch 1: INFO server (once per connection), TIME, and per stream its
 * XINFO STREAM (when asked), XINFO GROUPS, and XINFO CONSUMERS of the one
 * group (all groups: of the query's hint, see sl_lag_query).  For one
 * group without XINFO STREAM, XLEN too: a group behind needs the stream's
 * length (its kept first entry is checked by it, and Redis's lag on a
 * server with the trim error), and asking it here saves batch 2 where
 * nothing else is asked, at the cost of an XLEN (O(1)) for a stream whose
 * group is caught up. */
static enum sl_err
build_first(struct sl_lag_run *run, struct sl_pipeline *p)
{
	const struct sl_lag_query *q = run->q;
	int		 xlen = !q->with_streams && !q->all_groups;
	size_t		 fixed = run->r->server_known ? 1 : 2;
	size_t		 per = 1 + (q->with_streams != 0) + !q->all_groups +
			    (xlen != 0);
	int		 hint = hint_fits(run, fixed, per);
	const char	*iargv[] = { "INFO", "server" }, *targv[] = { "TIME" };
	size_t		 ilen[] = { 4, 6 }, tlen[] = { 4 };

	budget_streams(run, fixed, per + (hint != 0));
	if (q->with_streams && run->nstreams > 0 &&
	    (run->report->sinfo = sl_calloc(run->nstreams,
	    sizeof(*run->report->sinfo))) == NULL)
		return SL_ENOMEM;
	if (q->with_streams)
		run->report->nsinfo = run->nstreams;
	if ((q->with_streams || xlen) && run->nstreams > 0 &&
	    (run->s1 = sl_calloc(run->nstreams, sizeof(*run->s1))) == NULL)
		return SL_ENOMEM;
	if (!run->r->server_known && plan_add(run, p, SL_ASK_INFO, SIZE_MAX,
	    SIZE_MAX, 2, iargv, ilen, 0) != SL_OK)
		return SL_ENOMEM;
	if (build_times(run, p) != SL_OK || (run->times == NULL &&
	    plan_add(run, p, SL_ASK_TIME, SIZE_MAX, SIZE_MAX, 1, targv, tlen,
	    0) != SL_OK))
		return SL_ENOMEM;
	for (size_t i = 0; i < run->nstreams; i++) {
		const char *s = run->streams[i];
		const char *sargv[] = { "XINFO", "STREAM", s };
		const char *gargv[] = { "XINFO", "GROUPS", s };
		const char *cargv[] = { "XINFO", "CONSUMERS", s,
		    run->group };
		const char *largv[] = { "XLEN", s };
		size_t	 sl = strlen(s);
		size_t	 slens[] = { 5, 6, sl }, clens[] = { 5, 9, sl, run->glen };
		size_t	 llens[] = { 4, sl };

		if ((q->with_streams && plan_add(run, p, SL_ASK_STREAM, i,
		    SIZE_MAX, 3, sargv, slens, 2) != SL_OK) ||
		    plan_add(run, p, SL_ASK_GROUPS, i, SIZE_MAX, 3, gargv, slens,
		    2) != SL_OK ||
		    ((!q->all_groups || hint) && plan_add(run, p,
		    SL_ASK_CONSUMERS, i, SIZE_MAX, 4, cargv, clens, 2) !=
		    SL_OK) ||
		    (xlen && plan_add(run, p, SL_ASK_LENGTH, i, SIZE_MAX, 2,
		    largv, llens, 1) != SL_OK))
			return SL_ENOMEM;
	}
	return SL_OK;
}

/* XRANGE s (last-delivered-id + COUNT 1: the first entry after the group,
 * and only it. */
static enum sl_err
plan_next(struct sl_lag_run *run, struct sl_pipeline *p, size_t i)
{
	const struct sl_lag_entry *e = &run->report->entries[i];
	char		 from[SL_ID_MAX + 1];
	const char	*argv[] = { "XRANGE", e->stream.p, from, "+", "COUNT",
	    "1" };
	size_t		 lens[] = { 6, e->stream.len, 0, 1, 5, 1 };

	snprintf(from, sizeof(from), "(%s", e->group.last_delivered_id[0] ?
	    e->group.last_delivered_id : "0-0");
	lens[2] = strlen(from);
	return plan_add(run, p, SL_ASK_NEXT, SIZE_MAX, i, 6, argv, lens, 1);
}

/* The follow-up commands of one entry (see sl_lag_followup); XINFO STREAM
 * or XLEN once per stream, its groups being next to each other (fresh). */
static enum sl_err
build_followup(struct sl_lag_run *run, struct sl_pipeline *p, size_t i,
    unsigned need, int fresh)
{
	const struct sl_lag_entry *e = &run->report->entries[i];
	const char	*s = e->stream.p, *g = e->group.name.p;
	size_t		 sl = e->stream.len, gl = e->group.name.len;
	const char	*cargv[] = { "XINFO", "CONSUMERS", s, g };
	const char	*fargv[] = { "XINFO", "STREAM", s };
	const char	*largv[] = { "XLEN", s };
	const char	*pargv[] = { "XPENDING", s, g, "-", "+", "1" };
	size_t		 clens[] = { 5, 9, sl, gl }, flens[] = { 5, 6, sl };
	size_t		 llens[] = { 4, sl };
	size_t		 plens[] = { 8, sl, gl, 1, 1, 1 };
	int		 info = (need & SL_NEED_STREAM) != 0;

	if ((need & SL_NEED_FACTS) && fresh) {
		if ((info && plan_add(run, p, SL_ASK_FACTS, SIZE_MAX, i, 3,
		    fargv, flens, 2) != SL_OK) || (!info && plan_add(run, p,
		    SL_ASK_LENGTH, SIZE_MAX, i, 2, largv, llens, 1) != SL_OK))
			return SL_ENOMEM;
		run->plan.slot[run->plan.n - 1].aux = run->nsf;
		run->sf[run->nsf++].asked = info;
	}
	if (need & SL_NEED_FACTS)
		run->fu[i].sidx = run->nsf - 1;
	if (((need & SL_NEED_CONSUMERS) && plan_add(run, p, SL_ASK_CONSUMERS,
	    SIZE_MAX, i, 4, cargv, clens, 2) != SL_OK) ||
	    ((need & SL_NEED_RANGE) && plan_next(run, p, i) != SL_OK) ||
	    ((need & SL_NEED_PENDING) && plan_add(run, p, SL_ASK_PENDING,
	    SIZE_MAX, i, 6, pargv, plens, 1) != SL_OK))
		return SL_ENOMEM;
	return SL_OK;
}

/* Out of budget: entry i is not covered (counted once per stream). */
static enum sl_err
not_covered(struct sl_lag_report *report, size_t i)
{
	struct sl_lag_entry *e = &report->entries[i], *prev = e - 1;

	if (sl_lag_entry_fail(e, SL_MSG_BUDGET, strlen(SL_MSG_BUDGET)) != SL_OK)
		return SL_ENOMEM;
	report->partial = 1;
	if (i == 0 || !same_stream(prev, e) || prev->error == NULL ||
	    strcmp(prev->error, SL_MSG_BUDGET) != 0)
		report->not_covered++;
	return SL_OK;
}

/* What the groups of entry i's stream (next to each other) ask of it in
 * batch 2: XINFO STREAM when one of them needs it (the length comes with
 * it), else XLEN when one needs that. */
static unsigned
stream_ask(const struct sl_lag_run *run, size_t i)
{
	const struct sl_lag_report *report = run->report;
	unsigned	 any = 0;

	for (size_t j = i; j < report->n &&
	    same_stream(&report->entries[i], &report->entries[j]); j++)
		any |= sl_lag_followup(&report->entries[j], run->q->all_groups,
		    run->trusted);
	return (any & SL_NEED_STREAM) ? SL_NEED_STREAM : any & SL_NEED_LENGTH;
}

/* Entry e's stream facts from batch 1 (/metrics asks XINFO STREAM of
 * every stream there, one group XLEN), for what its groups ask (sask): a
 * slot of run->sf holding them, or SIZE_MAX.  An XLEN refused there is
 * known as well: XINFO STREAM follows in batch 3, as after a refused XLEN
 * of batch 2.  The entries come in the order of the streams. */
static size_t
facts_of_batch1(struct sl_lag_run *run, const struct sl_lag_entry *e,
    unsigned sask)
{
	for (; run->s1 != NULL && run->k1 < run->nstreams; run->k1++) {
		const char *s = run->streams[run->k1];

		if (strlen(s) != e->stream.len ||
		    memcmp(s, e->stream.p, e->stream.len) != 0)
			continue;
		if (!run->s1[run->k1].ok && (sask != SL_NEED_LENGTH ||
		    !run->s1[run->k1].asked_length))
			return SIZE_MAX;
		run->sf[run->nsf] = run->s1[run->k1];
		return run->nsf++;
	}
	return SIZE_MAX;
}

/* A group behind with Redis's lag and entries-read: its facts for the
 * lag cache's first undelivered entry (lagcache.h) in fu->nk.  1, or 0
 * when the cache has nothing to do with it.  Only in `serve`, whose
 * workers share the cache. */
static int
next_facts(struct sl_lag_run *run, const struct sl_lag_entry *e,
    struct sl_followup *fu)
{
	const struct sl_group *g = &e->group;

	if (run->r->lagcache == NULL || g->lag_state != SL_LAG_KNOWN ||
	    g->lag <= 0 || !g->has_entries_read || g->entries_read < 0 ||
	    !fu->has_last)
		return 0;
	fu->nk.key = fu->gkey;
	fu->nk.last_ms = fu->last_ms;
	fu->nk.last_seq = fu->last_seq;
	fu->nk.entries_read = g->entries_read;
	fu->nk.rl = g->lag;
	fu->nk.pending = 0;
	return 1;
}

/* A group with entries pending: its facts for the oldest pending entry
 * kept (lagcache.h, SL_KEPT_PENDING) in *k.  1, or 0 outside `serve`. */
static int
pending_facts(const struct sl_lag_run *run, const struct sl_lag_entry *e,
    const struct sl_followup *fu, struct sl_nextkey *k)
{
	const struct sl_group *g = &e->group;

	memset(k, 0, sizeof(*k));
	if (run->r->lagcache == NULL || g->pending <= 0 || !fu->has_last)
		return 0;
	k->key = fu->gkey;
	k->last_ms = fu->last_ms;
	k->last_seq = fu->last_seq;
	k->pending = g->pending;
	return 1;
}

/* The oldest pending entry kept for the group from the same
 * last-delivered-id and pending count: its age set, no XPENDING.  1, or
 * 0 when it must be asked. */
static int
pending_kept(struct sl_lag_run *run, struct sl_lag_entry *e,
    const struct sl_followup *fu)
{
	struct sl_nextkey	 k;
	struct sl_nextslot	 ns;
	unsigned long long	 ms, seq;
	char			 id[SL_ID_MAX];

	if (!pending_facts(run, e, fu, &k) || !sl_lagcache_next_get(
	    run->r->lagcache, SL_KEPT_PENDING, &k, run->mono_ms, &ns) ||
	    !sl_lagcache_next_confirm(&ns, &k, 0, &ms, &seq))
		return 0;
	snprintf(id, sizeof(id), "%llu-%llu", ms, seq);
	e->has_oldest_pending = sl_facts_id_age(id, strlen(id), now_of(run,
	    e->stream.p, e->stream.len), &e->oldest_pending_ms);
	return 1;
}

/* XPENDING's oldest entry, kept for the next request. */
static void
pending_keep(struct sl_lag_run *run, const struct sl_lag_entry *e,
    const struct sl_followup *fu, const redisReply *reply)
{
	struct sl_nextkey	 k;
	unsigned long long	 ms, seq;

	if (pending_facts(run, e, fu, &k) &&
	    sl_facts_first_id(reply, &ms, &seq))
		sl_lagcache_next_put(run->r->lagcache, SL_KEPT_PENDING, &k, 0,
		    ms, seq, run->mono_ms);
}

/* The first undelivered entry the lag cache keeps for the group, from
 * the same last-delivered-id, entries-read and lag: checked by its
 * stream's length instead of asked again.  1 (fu->ns set), or 0. */
static int
next_candidate(struct sl_lag_run *run, const struct sl_lag_entry *e,
    struct sl_followup *fu)
{
	return next_facts(run, e, fu) && sl_lagcache_next_get(run->r->lagcache,
	    SL_KEPT_NEXT, &fu->nk, run->mono_ms, &fu->ns);
}

/* The stream's length from XLEN, else from its XINFO STREAM: 1, or 0
 * when neither answered. */
static int
sf_length(const struct sl_sfacts *sf, long long *len)
{
	if (sf->has_length)
		*len = sf->length;
	else if (sf->ok)
		*len = sf->si.length;
	return sf->has_length || sf->ok;
}

/* The candidate's stream still has the length it had: nothing was added
 * or removed, the kept entry is still the first after the group (f set
 * as XRANGE would).  1, or 0 when it must be asked. */
static int
next_confirm(struct sl_lag_run *run, const struct sl_lag_entry *e,
    struct sl_followup *fu, const struct sl_sfacts *sf)
{
	unsigned long long ms, seq;
	long long	 len;

	if (!sf_length(sf, &len) || !sl_lagcache_next_confirm(&fu->ns,
	    &fu->nk, len, &ms, &seq))
		return 0;
	snprintf(fu->f.next_id, sizeof(fu->f.next_id), "%llu-%llu", ms, seq);
	fu->f.next = 1;
	fu->f.has_next_age = sl_facts_id_age(fu->f.next_id,
	    strlen(fu->f.next_id), now_of(run, e->stream.p, e->stream.len),
	    &fu->f.next_age_ms);
	fu->cached = 1;
	return 1;
}

/* The first undelivered entry this request read, kept with the facts
 * that will show it unchanged (see next_candidate). */
static void
next_keep(struct sl_lag_run *run, const struct sl_lag_entry *e,
    struct sl_followup *fu, const struct sl_sfacts *sf)
{
	unsigned long long ms, seq;
	long long	 len;

	if (fu->cached || fu->f.next != 1 || !sf_length(sf, &len) ||
	    !next_facts(run, e, fu) ||
	    sl_id_parse(fu->f.next_id, &ms, &seq) != SL_OK)
		return;
	sl_lagcache_next_put(run->r->lagcache, SL_KEPT_NEXT, &fu->nk, len, ms,
	    seq, run->mono_ms);
}

/* Each entry's sl_group_key and last-delivered-id as numbers, once: the
 * lag cache's tables are keyed and checked by them. */
static void
group_keys(struct sl_lag_run *run)
{
	for (size_t i = 0; i < run->report->n; i++) {
		const struct sl_lag_entry *e = &run->report->entries[i];
		struct sl_followup *fu = &run->fu[i];

		fu->gkey = sl_group_key(run->r->target, e->stream.p,
		    e->stream.len, e->group.name.p, e->group.name.len);
		fu->has_last = sl_id_parse(e->group.last_delivered_id[0] ?
		    e->group.last_delivered_id : "0-0", &fu->last_ms,
		    &fu->last_seq) == SL_OK;
	}
}

/* Batch 2, only for the groups that need it: the first undelivered entry,
 * XINFO STREAM or XLEN once per stream (unless batch 1 read it), the
 * oldest pending entry, consumers (?group=*). */
static enum sl_err
build_second(struct sl_lag_run *run, struct sl_pipeline *p)
{
	struct sl_lag_report *report = run->report;
	unsigned	 sask = 0;
	int		 sfresh = 0;
	size_t		 known = SIZE_MAX;

	run->trusted = run->r->server_known &&
	    sl_server_lag_trusted(&run->r->server);
	hint_settle(run);
	if (report->n == 0)
		return SL_OK;
	if ((run->fu = sl_calloc(report->n, sizeof(*run->fu))) == NULL ||
	    (run->sf = sl_calloc(report->n, sizeof(*run->sf))) == NULL)
		return SL_ENOMEM;
	group_keys(run);
	for (size_t i = 0; i < report->n; i++) {
		struct sl_lag_entry *e = &report->entries[i];
		unsigned need = sl_lag_followup(e, run->q->all_groups,
		    run->trusted);
		int	 fresh;

		if (i + SL_PREFETCH < report->n && run->r->lagcache != NULL) {
			sl_lagcache_next_prefetch(run->r->lagcache,
			    SL_KEPT_NEXT, run->fu[i + SL_PREFETCH].gkey);
			sl_lagcache_next_prefetch(run->r->lagcache,
			    SL_KEPT_PENDING, run->fu[i + SL_PREFETCH].gkey);
		}

		if (i == 0 || !same_stream(&report->entries[i - 1], e)) {
			sask = stream_ask(run, i);
			sfresh = 1;
			known = sask != 0 ? facts_of_batch1(run, e, sask) :
			    SIZE_MAX;
		}
		run->fu[i].sidx = SIZE_MAX;
		if ((need & SL_NEED_FACTS) && known != SIZE_MAX) {
			run->fu[i].sidx = known;
			need &= ~SL_NEED_FACTS;
		}
		if (need & SL_NEED_FACTS)
			need = (need & ~SL_NEED_FACTS) | sask;
		if ((need & SL_NEED_RANGE) && ((need & SL_NEED_FACTS) ||
		    run->fu[i].sidx != SIZE_MAX) &&
		    next_candidate(run, e, &run->fu[i])) {
			/* Checked by the length in batch 3, asked there if
			 * it changed. */
			need &= ~SL_NEED_RANGE;
			run->fu[i].cand = 1;
		}
		if ((need & SL_NEED_PENDING) && pending_kept(run, e,
		    &run->fu[i]))
			need &= ~SL_NEED_PENDING;
		fresh = (need & SL_NEED_FACTS) && sfresh;
		run->fu[i].f.next = -1;
		run->fu[i].f.trusted = run->trusted;
		if (need != 0 && (over_bytes(run) || over_commands(p,
		    (size_t)__builtin_popcount(need & ~SL_NEED_FACTS) +
		    (fresh != 0), run->q->t))) {
			if (not_covered(report, i) != SL_OK)
				return SL_ENOMEM;
			need = 0;
			fresh = 0;
		}
		if (fresh)
			sfresh = 0;
		if (build_followup(run, p, i, need, fresh) != SL_OK)
			return SL_ENOMEM;
	}
	return SL_OK;
}

/* Batch 3's XRANGE for a candidate whose stream changed, as batch 2 asks
 * it; out of budget, the group is not covered. */
static enum sl_err
ask_next(struct sl_lag_run *run, struct sl_pipeline *p, size_t i)
{
	if (over_bytes(run) || over_commands(p, 1, run->q->t))
		return not_covered(run->report, i);
	return plan_next(run, p, i);
}

/*
 * Batch 3: XINFO STREAM, once per stream, for the groups whose lag XLEN
 * did not settle (sl_lag_needs_stream: the check failed, or XLEN was
 * refused); none at all when every check passed.  One that does not fit
 * the budget is not asked: the group keeps the bounds of Redis's figure
 * (lag_exact false).  With them, the XRANGE of each kept first entry whose
 * stream changed (ask_next).
 */
static enum sl_err
build_recheck(struct sl_lag_run *run, struct sl_pipeline *p)
{
	struct sl_lag_report *report = run->report;
	enum sl_err	 rc;

	for (size_t i = 0; i < report->n; i++) {
		const struct sl_lag_entry *e = &report->entries[i];
		struct sl_followup *fu = &run->fu[i];
		const char	*argv[] = { "XINFO", "STREAM", e->stream.p };
		size_t		 lens[] = { 5, 6, e->stream.len };
		struct sl_sfacts *sf;

		if (fu->sidx == SIZE_MAX)
			continue;
		sf = &run->sf[fu->sidx];
		fu->f.has_length = sf->has_length;
		fu->f.length = sf->length;
		if (fu->cand && e->error == NULL && !next_confirm(run, e, fu,
		    sf) && (rc = ask_next(run, p, i)) != SL_OK)
			return rc;
		if (sf->asked || !sl_lag_needs_stream(e, &fu->f) ||
		    over_bytes(run) || over_commands(p, 1, run->q->t))
			continue;
		if (plan_add(run, p, SL_ASK_FACTS, SIZE_MAX, i, 3, argv, lens,
		    2) != SL_OK)
			return SL_ENOMEM;
		run->plan.slot[run->plan.n - 1].aux = fu->sidx;
		sf->asked = 1;
	}
	return SL_OK;
}

/*
 * The entries one count step asks (XRANGE ... COUNT n): at most the cap
 * (STREAMLAG_LAG_COUNT_CAP), and at most what SL_COUNT_STEP_BYTES hold at
 * the stream's entry size (the larger of its first and last entries, as
 * Redis sent them), within what the request's byte budget has left after
 * the steps this batch asks already.  0: none fits; the count goes on at
 * the next request.
 */
static long long
count_step(struct sl_lag_run *run, const struct sl_stream_info *si)
{
	const struct sl_thresholds *t = run->q->t;
	unsigned long long	 eb = si != NULL ? si->entry_bytes : 0;
	unsigned long long	 room = SL_COUNT_STEP_BYTES, used, left;
	long long		 n = run->step;

	if (eb == 0)
		return n;
	if (t->max_bytes > 0) {
		used = run->r->meter.bytes - run->bytes0 + run->count_bytes;
		left = used < (unsigned long long)t->max_bytes ?
		    (unsigned long long)t->max_bytes - used : 0;
		room = left < room ? left : room;
	}
	if ((unsigned long long)n > room / eb)
		n = (long long)(room / eb);
	run->count_bytes += (unsigned long long)n * eb;
	return n;
}

/* One count step of entry i from the group's state st, of step entries. */
static enum sl_err
build_count(struct sl_lag_run *run, struct sl_pipeline *p, size_t i,
    const struct sl_lagcount *st, uint32_t version, long long step)
{
	const struct sl_lag_entry *e = &run->report->entries[i];
	char		 from[SL_ID_MAX + 1], n[24];
	const char	*argv[] = { "XRANGE", e->stream.p, from, st->end,
	    "COUNT", n };
	size_t		 lens[6];

	if (run->ncount == run->capcount) {
		size_t nc = run->capcount ? run->capcount * 2 : 16;
		struct sl_counting *g = sl_reallocarray(run->cnt, nc,
		    sizeof(*g));

		if (g == NULL)
			return SL_ENOMEM;
		run->cnt = g;
		run->capcount = nc;
	}
	snprintf(from, sizeof(from), "(%s", st->cursor);
	snprintf(n, sizeof(n), "%lld", step);
	lens[0] = 6; lens[1] = e->stream.len; lens[2] = strlen(from);
	lens[3] = strlen(st->end); lens[4] = 5; lens[5] = strlen(n);
	if (plan_add(run, p, SL_ASK_COUNT, SIZE_MAX, i, 6, argv, lens, 1) !=
	    SL_OK)
		return SL_ENOMEM;
	run->plan.slot[run->plan.n - 1].aux = run->ncount;
	run->cnt[run->ncount].i = i;
	run->cnt[run->ncount].st = *st;
	run->cnt[run->ncount].version = version;
	run->cnt[run->ncount].step = step;
	run->ncount++;
	return SL_OK;
}

/* Batch 4: the lag of each group from the facts and what was learnt before
 * (lagcache.h); one bounded count step for those still unsure. */
static enum sl_err
build_counts(struct sl_lag_run *run, struct sl_pipeline *p)
{
	struct sl_lag_report *report = run->report;

	if (report->n > 0 && (run->cache = lagcache_of(run->r)) == NULL)
		return SL_ENOMEM;
	run->count_bytes = 0;
	for (size_t i = 0; i < report->n; i++) {
		struct sl_lag_entry *e = &report->entries[i];
		struct sl_followup *fu = &run->fu[i];
		struct sl_lagcount st;
		uint32_t	 version;
		long long	 step = 0;

		fu->f.si = fu->sidx != SIZE_MAX && run->sf[fu->sidx].ok ?
		    &run->sf[fu->sidx].si : NULL;
		if (fu->sidx != SIZE_MAX && e->error == NULL)
			next_keep(run, e, fu, &run->sf[fu->sidx]);
		if (fu->sidx == SIZE_MAX) {
			/* Settled without the stream's facts: nothing to keep. */
			memset(&st, 0, sizeof(st));
			(void)sl_lag_resolve(e, &fu->f, &st);
			continue;
		}
		sl_lagcache_get(run->cache, fu->gkey, &st, &version);
		if (sl_lag_resolve(e, &fu->f, &st) == 1 || over_bytes(run) ||
		    over_commands(p, 1, run->q->t) ||
		    (step = count_step(run, fu->f.si)) == 0) {
			/* Settled, or no budget left for a count step: the
			 * bounds stand (lag_exact false), the count goes on at
			 * the next request. */
			(void)sl_lagcache_put(run->cache, &st, version);
			continue;
		}
		if (build_count(run, p, i, &st, version, step) != SL_OK)
			return SL_ENOMEM;
	}
	return SL_OK;
}

enum sl_err
sl_lag_run_build(struct sl_lag_run *run, struct sl_pipeline *p)
{
	plan_begin(run, p);
	if (run->err != SL_OK)
		return run->err;
	switch (++run->batch) {
	case 1:
		return build_first(run, p);
	case 2:
		return build_second(run, p);
	case 3:
		return build_recheck(run, p);
	case 4:
		return build_counts(run, p);
	default:
		run->done = 1;
		return SL_OK;
	}
}

/* ?group=*: one entry per group of the stream; a stream without groups
 * or that failed gets one entry of its own. */
static enum sl_err
entries_all_groups(struct sl_lag_run *run, size_t s, const redisReply *groups)
{
	struct sl_group		*gs = NULL;
	struct sl_lag_entry	*e;
	struct sl_error		 why;
	const char		*stream = run->streams[s];
	size_t			 ng = 0, slen = strlen(stream);
	redisReply		 none = { .type = REDIS_REPLY_ARRAY };
	enum sl_err		 rc;

	rc = sl_facts_groups(groups, &gs, &ng, &why);
	if (rc == SL_ENOMEM)
		return rc;
	if (rc != SL_OK || ng == 0) {
		/* The single-group rules give the error or no_group entry. */
		if ((e = new_entry(run->report, &run->cap)) == NULL ||
		    sl_bytes_set(&e->stream, stream, slen) != SL_OK)
			return SL_ENOMEM;
		return sl_facts_lag_entry(e, "", 0, groups, &none, run->q->t);
	}
	for (size_t i = 0; i < ng && rc == SL_OK; i++)
		if ((e = new_entry(run->report, &run->cap)) == NULL)
			rc = SL_ENOMEM;
		else
			rc = sl_lag_entry_from_group(e, stream, slen, &gs[i]);
	sl_groups_free(gs, ng);
	return rc;
}

/* All groups: entries [from, n) are stream s's, as its XINFO GROUPS
 * listed them; which of them is the query's hint group, counted for
 * hint_settle. */
static void
hint_find(struct sl_lag_run *run, size_t from, size_t s)
{
	const struct sl_lag_report *report = run->report;

	run->hint_stream = s;
	run->hint_streams++;
	for (size_t i = from; i < report->n; i++) {
		const struct sl_lag_entry *e = &report->entries[i];

		if (e->error == NULL && e->has_group &&
		    e->group.name.len == run->glen &&
		    memcmp(e->group.name.p, run->group, run->glen) == 0) {
			run->hint_entry = i;
			run->hint_seen++;
			return;
		}
	}
}

/* All groups: batch 1's XINFO CONSUMERS of the hint group, for its entry
 * when stream s has it.  Refused, or the group gone meanwhile: batch 2
 * asks again, as for any other group; refused by the ACL, the connection
 * asks it no more. */
static enum sl_err
hint_consumers(struct sl_lag_run *run, size_t s, const redisReply *reply)
{
	struct sl_lag_entry	*e;
	size_t			 i = run->hint_entry;

	run->hint_entry = SIZE_MAX;
	if (reply->type == REDIS_REPLY_ERROR && reply->str != NULL &&
	    strncmp(reply->str, "NOPERM", 6) == 0)
		run->r->hint_off = SL_HINT_REFUSED;
	if (i == SIZE_MAX || s != run->hint_stream ||
	    reply->type == REDIS_REPLY_ERROR)
		return SL_OK;
	e = &run->report->entries[i];
	e->consumers_read = 1;
	return sl_facts_lag_consumers(e, reply);
}

/* Batch 1's XINFO CONSUMERS: the stream's entry, from it and the XINFO
 * GROUPS held until now. */
static enum sl_err
first_consumers(struct sl_lag_run *run, size_t s, const redisReply *reply)
{
	struct sl_lag_entry	*e;
	const char		*stream = run->streams[s];
	enum sl_err		 rc;

	if ((e = new_entry(run->report, &run->cap)) == NULL ||
	    sl_bytes_set(&e->stream, stream, strlen(stream)) != SL_OK)
		rc = SL_ENOMEM;
	else
		rc = sl_facts_lag_entry(e, run->q->group, run->glen, run->held,
		    reply, run->q->t);
	if (run->held != NULL)
		sl_reply_free(run->held);
	run->held = NULL;
	return rc;
}

/* XINFO STREAM of stream i, kept as its brief. */
static enum sl_err
stream_brief(struct sl_lag_run *run, size_t i, const redisReply *reply)
{
	struct sl_stream_brief	*b = &run->report->sinfo[i];
	struct sl_stream_entry	 se;
	const char		*name = run->streams[i];
	enum sl_err		 rc;

	memset(&se, 0, sizeof(se));
	if (sl_bytes_set(&b->name, name, strlen(name)) != SL_OK)
		return SL_ENOMEM;
	rc = sl_facts_stream_entry(&se, reply, NULL, now_of(run, name,
	    strlen(name)));
	b->error = se.error;
	se.error = NULL;
	b->length = se.info.length;
	b->groups = se.info.groups;
	b->entries_added = se.info.entries_added;
	b->has_entries_added = se.info.has_entries_added;
	b->last_entry_ms = se.last_entry_age_ms < 0 ? -1 :
	    sl_id_ms(se.info.last_entry_id);
	memcpy(b->first_entry_id, se.info.first_entry_id,
	    sizeof(b->first_entry_id));
	if (run->s1 != NULL && rc == SL_OK && b->error == NULL) {
		/* The follow-up's facts of this stream, already known. */
		run->s1[i].si = se.info;
		run->s1[i].ok = run->s1[i].asked = run->s1[i].has_length = 1;
		run->s1[i].length = se.info.length;
	}
	sl_stream_entry_free(&se);
	return rc;
}

static enum sl_err
consume_first(struct sl_lag_run *run, const struct sl_plan_slot *s,
    redisReply **reply)
{
	struct sl_redis		*r = run->r;
	long long		 t;

	switch (s->ask) {
	case SL_ASK_INFO:
		if ((*reply)->type != REDIS_REPLY_STRING || sl_server_parse(
		    (*reply)->str, (*reply)->len, &r->server) == -1)
			memset(&r->server, 0, sizeof(r->server));
		r->server_known = 1;
		return SL_OK;
	case SL_ASK_TIME:
		t = sl_facts_time_ms(*reply);
		if (run->times != NULL && s->aux < run->ntimes)
			run->times[s->aux] = t;
		if (run->times == NULL || run->now_ms < 0)
			run->now_ms = run->report->now_ms = t;
		return SL_OK;
	case SL_ASK_STREAM:
		return stream_brief(run, s->stream, *reply);
	case SL_ASK_LENGTH:
		if (run->s1 != NULL && s->stream < run->nstreams) {
			struct sl_sfacts *sf = &run->s1[s->stream];

			sf->asked_length = 1;
			sf->has_length = sl_facts_length(*reply,
			    &sf->length) == SL_OK;
		}
		return SL_OK;
	case SL_ASK_GROUPS:
		if (run->q->all_groups) {
			size_t		 from = run->report->n;
			enum sl_err	 rc;

			rc = entries_all_groups(run, s->stream, *reply);
			run->hint_entry = SIZE_MAX;
			if (rc == SL_OK && run->q->hint != NULL &&
			    (*reply)->type != REDIS_REPLY_ERROR)
				hint_find(run, from, s->stream);
			return rc;
		}
		run->held = *reply;	/* kept until the CONSUMERS reply */
		*reply = NULL;
		return SL_OK;
	default:
		if (run->q->all_groups)
			return hint_consumers(run, s->stream, *reply);
		return first_consumers(run, s->stream, *reply);
	}
}

static enum sl_err
consume_later(struct sl_lag_run *run, const struct sl_plan_slot *s,
    const redisReply *reply)
{
	struct sl_lag_entry	*e = &run->report->entries[s->entry];
	struct sl_followup	*fu = &run->fu[s->entry];
	struct sl_counting	*c;

	switch (s->ask) {
	case SL_ASK_CONSUMERS:
		return sl_facts_lag_consumers(e, reply);
	case SL_ASK_NEXT:
		if (reply->type == REDIS_REPLY_ERROR && e->error == NULL)
			return sl_facts_lag_fail(e, reply, NULL);
		(void)sl_facts_next(reply, now_of(run, e->stream.p,
		    e->stream.len), &fu->f);
		return SL_OK;
	case SL_ASK_FACTS:
		run->sf[s->aux].ok = sl_facts_stream(reply, &run->sf[s->aux].si,
		    NULL) == SL_OK;
		return SL_OK;
	case SL_ASK_LENGTH:
		/* Refused or malformed: XINFO STREAM next, as without XLEN. */
		run->sf[s->aux].has_length = sl_facts_length(reply,
		    &run->sf[s->aux].length) == SL_OK;
		return SL_OK;
	case SL_ASK_PENDING:
		/* A refused XPENDING (an ACL without it) fails the group as a
		 * refused XRANGE does: never a silent null oldest_pending_ms. */
		if (reply->type == REDIS_REPLY_ERROR && e->error == NULL)
			return sl_facts_lag_fail(e, reply, NULL);
		e->has_oldest_pending = sl_facts_oldest_pending(reply,
		    now_of(run, e->stream.p, e->stream.len),
		    &e->oldest_pending_ms);
		if (e->error == NULL)
			pending_keep(run, e, fu, reply);
		return SL_OK;
	default:
		c = &run->cnt[s->aux];
		sl_facts_count_step(&c->st, reply, c->step);
		(void)sl_lag_resolve(e, &fu->f, &c->st);
		(void)sl_lagcache_put(run->cache, &c->st, c->version);
		return SL_OK;
	}
}

/* Replies as they arrive: each is turned into facts at once and freed, so
 * memory stays bounded by the batches in flight.  After a failure the
 * rest are only freed. */
void
sl_lag_run_reply(void *arg, size_t idx, redisReply *reply)
{
	struct sl_lag_run	*run = arg;
	const struct sl_plan_slot	*s;

	if (reply == NULL)
		return;
	if (run->err == SL_OK && idx >= run->plan.first &&
	    idx - run->plan.first < run->plan.n) {
		s = &run->plan.slot[idx - run->plan.first];
		if (s->entry == SIZE_MAX)
			run->err = consume_first(run, s, &reply);
		else
			run->err = consume_later(run, s, reply);
	}
	if (reply != NULL)
		sl_reply_free(reply);
}

enum sl_err
sl_lag_run_finish(struct sl_lag_run *run)
{
	struct sl_lag_report *report = run->report;

	if (run->err != SL_OK)
		return run->err;
	for (size_t i = 0; i < report->n; i++)
		sl_lag_entry_done(&report->entries[i], run->fu != NULL ?
		    &run->fu[i].f : NULL, run->q->t);
	sl_lag_report_totals(report);
	return SL_OK;
}

void
sl_lag_run_free(struct sl_lag_run *run)
{
	if (run->held != NULL)
		sl_reply_free(run->held);
	sl_free(run->plan.slot);
	sl_free(run->fu);
	sl_free(run->sf);
	sl_free(run->s1);
	sl_free(run->cnt);
	sl_free(run->times);
	memset(run, 0, sizeof(*run));
}

/* The commands the request has left: a chunk gets that as its budget
 * (0 stays "no budget"; spent is 1, the chunk then covers nothing). */
static void
chunk_budget(const struct sl_lag_query *q, struct sl_thresholds *t,
    struct sl_lag_query *cq, unsigned used)
{
	*t = *q->t;
	*cq = *q;
	cq->t = t;
	if (t->max_commands > 0)
		t->max_commands = (long long)used >= q->t->max_commands ? 1 :
		    q->t->max_commands - (long long)used;
}

/* One chunk of the request's streams in flight: its run, its pipeline,
 * its part of the report and its budget (what the request had left). */
struct chunk {
	struct sl_pipeline	 p;
	struct sl_lag_run	 run;
	struct sl_lag_report	 part;
	struct sl_thresholds	 t;
	struct sl_lag_query	 q;
	size_t			 off, n;	/* its streams */
	enum sl_err		 rc;
	int			 sent;		/* its first batch is out */
};

/* Chunk c of streams [off, off + n): its first batch built and sent, not
 * waited for, so that Redis answers it while the previous chunk is being
 * written to the client. */
static void
chunk_begin(struct chunk *c, struct sl_redis *r, char *const *streams,
    size_t off, size_t n, const struct sl_lag_query *q, unsigned used,
    unsigned long long bytes0)
{
	memset(c, 0, sizeof(*c));
	chunk_budget(q, &c->t, &c->q, used);
	c->off = off;
	c->n = n;
	sl_pipeline_init(&c->p, r);
	c->rc = sl_lag_run_init(&c->run, r, streams + off, n, &c->q, &c->part);
	c->run.bytes0 = bytes0;
	c->p.on_reply = sl_lag_run_reply;
	c->p.arg = &c->run;
	if (c->rc == SL_OK && (c->rc = sl_lag_run_build(&c->run, &c->p)) ==
	    SL_OK && !c->run.done && c->run.plan.n > 0 &&
	    (c->rc = sl_pipeline_send(&c->p)) == SL_OK)
		c->sent = 1;
}

/* Chunk c's batch on the wire read, and its next one with commands built
 * and sent, not read: Redis works on it while the next chunk's first batch
 * is built.  The error is kept in c->rc for chunk_end. */
static enum sl_err
chunk_advance(struct chunk *c)
{
	enum sl_err rc = c->rc;

	if (rc == SL_OK && c->sent && (rc = sl_pipeline_exec(&c->p)) ==
	    SL_OK)
		rc = c->run.err;
	c->sent = 0;
	while (rc == SL_OK && (rc = sl_lag_run_build(&c->run, &c->p)) ==
	    SL_OK && !c->run.done) {
		if (c->run.plan.n == 0)
			continue;
		if ((rc = sl_pipeline_send(&c->p)) == SL_OK)
			c->sent = 1;
		break;
	}
	return c->rc = rc;
}

/* Chunk c's commands counted into used, and its run and pipeline freed
 * (its part stays). */
static void
chunk_close(struct chunk *c, struct sl_collect_stats *used)
{
	used->round_trips += c->p.round_trips;
	used->commands += (unsigned)c->p.n;
	sl_lag_run_free(&c->run);
	sl_pipeline_free(&c->p);
}

/* Chunk c's batches to the end, the one on the wire read first; its part
 * then holds its entries. */
static enum sl_err
chunk_end(struct chunk *c, struct sl_collect_stats *used)
{
	enum sl_err rc = c->rc;

	if (rc == SL_OK && c->sent && (rc = sl_pipeline_exec(&c->p)) ==
	    SL_OK)
		rc = c->run.err;
	while (rc == SL_OK && (rc = sl_lag_run_build(&c->run, &c->p)) ==
	    SL_OK && !c->run.done) {
		if (c->run.plan.n == 0)
			continue;
		if ((rc = sl_pipeline_exec(&c->p)) == SL_OK)
			rc = c->run.err;
	}
	if (rc == SL_OK)
		rc = sl_lag_run_finish(&c->run);
	chunk_close(c, used);
	return rc;
}

/* A chunk on the wire that is not wanted (the request ended before it):
 * the batch sent is read, and nothing more is asked. */
static void
chunk_drop(struct chunk *c, struct sl_collect_stats *used)
{
	if (c->rc == SL_OK && c->sent)
		(void)sl_pipeline_exec(&c->p);
	chunk_close(c, used);
	sl_lag_report_free(&c->part);
}

/* Room for need items of size in the array *pp of *cap (doubled from 64).
 * SL_OK or SL_ENOMEM (the array unchanged). */
static enum sl_err
room_for(void **pp, size_t *cap, size_t need, size_t size)
{
	size_t	 ncap = *cap ? *cap : 64;
	void	*a;

	if (need <= *cap)
		return SL_OK;
	while (ncap < need)
		ncap *= 2;
	if ((a = sl_reallocarray(*pp, ncap, size)) == NULL)
		return SL_ENOMEM;
	*pp = a;
	*cap = ncap;
	return SL_OK;
}

/* Appends a chunk's entries and stream facts to the request's report
 * (the part keeps nothing).  SL_OK or SL_ENOMEM. */
static enum sl_err
report_append(struct sl_lag_report *report, size_t *cap, size_t *scap,
    struct sl_lag_report *part)
{
	void	*e = report->entries, *si = report->sinfo;

	if (room_for(&e, cap, report->n + part->n,
	    sizeof(*report->entries)) != SL_OK)
		return SL_ENOMEM;
	report->entries = e;
	if (room_for(&si, scap, report->nsinfo + part->nsinfo,
	    sizeof(*report->sinfo)) != SL_OK)
		return SL_ENOMEM;
	report->sinfo = si;
	if (part->n > 0)
		memcpy(report->entries + report->n, part->entries, part->n *
		    sizeof(*part->entries));
	if (part->nsinfo > 0)
		memcpy(report->sinfo + report->nsinfo, part->sinfo,
		    part->nsinfo * sizeof(*part->sinfo));
	report->n += part->n;
	report->nsinfo += part->nsinfo;
	if (report->now_ms < 0)
		report->now_ms = part->now_ms;
	report->partial |= part->partial;
	report->not_covered += part->not_covered;
	sl_free(part->entries);
	sl_free(part->sinfo);
	part->entries = NULL;
	part->sinfo = NULL;
	part->n = part->nsinfo = 0;
	return SL_OK;
}

struct sl_drain {
	size_t		 from;		/* the first entry not handed on */
	long long	 total_lag, stream_count;
	int		 saturated;	/* total_lag stopped at LLONG_MAX */
	int		 started;	/* on_chunk was called */
};

/* The new entries and stream facts to on_chunk, then freed; the entries
 * the budget left out stay for their names.  The totals are counted
 * before. */
static enum sl_err
drain(const struct sl_lag_query *q, struct sl_lag_report *report,
    struct sl_drain *d)
{
	struct sl_lag_report	 view = *report;
	size_t			 w = d->from;
	enum sl_err		 rc;

	view.entries += d->from;
	view.n -= d->from;
	sl_lag_report_totals(&view);
	sl_total_add(&d->total_lag, view.total_lag, &d->saturated);
	d->saturated |= view.total_saturated;
	d->stream_count += view.stream_count;
	d->started = 1;
	rc = q->on_chunk(q->chunk_arg, &view);
	for (size_t i = 0; i < report->nsinfo; i++)
		sl_stream_brief_free(&report->sinfo[i]);
	report->nsinfo = 0;
	for (size_t i = d->from; i < report->n; i++) {
		struct sl_lag_entry *e = &report->entries[i];

		if (e->error != NULL && strcmp(e->error, SL_MSG_BUDGET) == 0)
			report->entries[w++] = *e;
		else
			sl_lag_entry_free(e);
	}
	report->n = d->from = w;
	return rc;
}

/* Redis lost after a first chunk was handed on: the streams left are
 * entries with the error, handed on too. */
static enum sl_err
drain_down(const struct sl_lag_query *q, struct sl_lag_report *report,
    size_t *cap, size_t *scap, char *const *streams, size_t n,
    struct sl_drain *d)
{
	struct sl_lag_report	 part;
	enum sl_err		 rc;

	memset(&part, 0, sizeof(part));
	if ((rc = fail_streams(&part, streams, n)) == SL_OK &&
	    (rc = report_append(report, cap, scap, &part)) == SL_OK)
		rc = drain(q, report, d);
	sl_lag_report_free(&part);
	return rc;
}

/* What ahead_fits and early_fits share: one connection, c sent and whole,
 * half the byte budget left, and c's reserve with the next chunk's first
 * batch within the command budget. */
static int
ahead_ok(const struct chunk *c, const struct sl_redis *r,
    const struct sl_thresholds *t, size_t nnext, unsigned long long bytes0,
    long long reserve)
{
	unsigned long long	 got = r->meter.bytes - bytes0;
	long long		 first = 2 + 3 * (long long)nnext;

	if (r->cluster != 0 || r->addr == NULL ||
	    r->addr->kind == SL_REDIS_SENTINEL || c->rc != SL_OK ||
	    !c->sent || c->part.nuncovered > 0)
		return 0;
	if (t->max_bytes > 0 && got > (unsigned long long)t->max_bytes / 2)
		return 0;
	return t->max_commands <= 0 || reserve + first <= t->max_commands;
}

/*
 * Whether the chunk after c may go out before c has its last replies
 * (chunk_advance), and the commands to count as used for its budget then.
 * Only on one connection (standalone): a cluster's or Sentinel's topology
 * may change between two batches, and a cluster spreads its chunks over
 * its masters already.  Never where the budget could differ from the one
 * the chunk would get after c: the commands c may still send (one
 * XINFO STREAM per stream; per group, the XRANGE of a kept entry whose
 * stream changed and one count step) are reserved, and the next chunk's
 * whole first batch must fit beside them; half the byte
 * budget must be left, the replies of that batch being counted as they
 * arrive.
 */
static int
ahead_fits(const struct chunk *c, const struct sl_redis *r,
    const struct sl_thresholds *t, unsigned used, size_t nnext,
    unsigned long long bytes0, long long *reserve)
{
	*reserve = (long long)used + (long long)c->p.n +
	    (long long)c->run.nstreams + 2 * (long long)c->part.n;
	return ahead_ok(c, r, t, nnext, bytes0, *reserve);
}

/*
 * Whether the chunk after c may go out before c's first batch is read
 * (chunk_ahead), and the commands to count as used for its budget then: as
 * ahead_fits, with c's groups not known yet.  Only for one group per
 * stream (a stream's groups are known after its XINFO GROUPS); every
 * command c may still send is reserved: per stream, its XINFO STREAM or
 * XLEN, XRANGE and XPENDING in batch 2, XINFO STREAM and XRANGE in batch
 * 3, a count step in batch 4.
 */
static int
early_fits(const struct chunk *c, const struct sl_redis *r,
    const struct sl_thresholds *t, unsigned used, size_t nnext,
    unsigned long long bytes0, long long *reserve)
{
	*reserve = (long long)used + (long long)c->p.n +
	    6 * (long long)c->run.nstreams;
	if (!r->server_known || c->run.batch != 1 || c->q.all_groups ||
	    c->run.nstreams != c->n)
		return 0;
	return ahead_ok(c, r, t, nnext, bytes0, *reserve);
}

/* The request's budget is spent: no chunk after this one. */
static int
spent(const struct sl_redis *r, const struct sl_thresholds *t,
    const struct sl_collect_stats *used, unsigned long long bytes0)
{
	return (t->max_commands > 0 && (long long)used->commands >=
	    t->max_commands) || (t->max_bytes > 0 && r->meter.bytes - bytes0 >
	    (unsigned long long)t->max_bytes);
}


/* One request's collection: its streams, its report, the budget used. */
struct collection {
	struct sl_redis			*r;
	char *const			*streams;
	size_t				 nstreams;
	const struct sl_lag_query	*q;
	struct sl_lag_report		*report;
	struct sl_collect_stats		 used;
	unsigned long long		 bytes0;
};

/* The streams of the chunk from stream next. */
static size_t
span(const struct collection *k, size_t next)
{
	return k->nstreams - next < SL_COLLECT_CHUNK ? k->nstreams - next :
	    SL_COLLECT_CHUNK;
}

/* The next chunk's first batch sent behind c's: before c's first batch
 * is read when early_fits (Redis answers it while c's replies are read and
 * written to the client), else after c's last batch when ahead_fits.  1
 * when the next chunk went out. */
static int
chunk_ahead(struct collection *k, struct chunk *c, struct chunk *nx)
{
	size_t		 next = c->off + c->n;
	long long	 reserve;
	int		 early;

	if (next >= k->nstreams)
		return 0;
	early = early_fits(c, k->r, k->q->t, k->used.commands, span(k, next),
	    k->bytes0, &reserve);
	if (!early && (chunk_advance(c) != SL_OK || !ahead_fits(c, k->r,
	    k->q->t, k->used.commands, span(k, next), k->bytes0, &reserve)))
		return 0;
	chunk_begin(nx, k->r, k->streams, next, span(k, next), k->q,
	    (unsigned)reserve, k->bytes0);
	if (early)
		(void)chunk_advance(c);	/* its error is c->rc's */
	return 1;
}

/* Chunk c ended with rc: the streams the budget left out named, and the
 * next chunk sent (gone ahead: given the budget c left) when there is one.
 * 1 when there is. */
static int
chunk_next(struct collection *k, struct chunk *c, struct chunk *nx,
    enum sl_err rc, int ahead)
{
	struct sl_lag_report	*report = k->report;
	size_t			 next = c->off + c->n;
	int			 have = 0;

	if (rc == SL_OK && c->part.nuncovered > 0) {
		/* Out of budget: this chunk's rest and every later stream. */
		report->uncovered = c->part.uncovered;
		report->nuncovered = k->nstreams -
		    (size_t)(c->part.uncovered - k->streams);
		report->not_covered += report->nuncovered - c->part.nuncovered;
		next = k->nstreams;
	}
	if (rc == SL_OK && next < k->nstreams && spent(k->r, k->q->t,
	    &k->used, k->bytes0)) {
		report->partial = 1;
		report->uncovered = k->streams + next;
		report->nuncovered = k->nstreams - next;
		report->not_covered += k->nstreams - next;
	} else if (rc == SL_OK && next < k->nstreams) {
		/* The next chunk goes out before this one is handed on:
		 * Redis works on it meanwhile. */
		if (ahead)
			chunk_budget(k->q, &nx->t, &nx->q, k->used.commands);
		else
			chunk_begin(nx, k->r, k->streams, next, span(k, next),
			    k->q, k->used.commands, k->bytes0);
		have = 1;
	}
	if (ahead && !have) {
		/* Gone ahead, and not wanted: read and dropped. */
		chunk_drop(nx, &k->used);
	}
	return have;
}

/*
 * The streams go in chunks of SL_COLLECT_CHUNK, each with all its batches
 * before the next: what a request holds besides its answer (commands,
 * plan, facts) is bounded by a chunk, however many streams it names, and
 * Redis never holds more than a chunk's replies for it.  The budget is the
 * request's: a chunk the budget stops ends the request, and every stream
 * after it is named as not covered.
 */
enum sl_err
sl_collect_lag(struct sl_redis *r, char *const *streams, size_t nstreams,
    const struct sl_lag_query *q, struct sl_lag_report *report,
    struct sl_collect_stats *stats)
{
	struct collection	 k = { r, streams, nstreams, q, report, { 0, 0 },
				    r->meter.bytes };
	struct chunk		 ch[2];
	struct sl_drain		 d = { 0, 0, 0, 0, 0 };
	size_t			 cap = 0, scap = 0;
	int			 cur = 0, have = 0, ahead;
	enum sl_err		 rc, pre;

	memset(report, 0, sizeof(*report));
	report->group = q->all_groups ? NULL : q->group;
	report->all_groups = q->all_groups;
	report->now_ms = -1;
	pre = sl_redis_ensure(r);	/* the mode and masters, for TIME */
	rc = pre == SL_OK ? SL_OK : pre == SL_ENOMEM ? SL_ENOMEM : SL_EREDIS;
	if (rc == SL_OK) {
		chunk_begin(&ch[0], r, streams, 0, span(&k, 0), q, 0,
		    k.bytes0);
		have = 1;
	}
	while (have) {
		struct chunk	*c = &ch[cur];

		ahead = chunk_ahead(&k, c, &ch[cur ^ 1]);
		rc = chunk_end(c, &k.used);
		have = chunk_next(&k, c, &ch[cur ^ 1], rc, ahead);
		if (rc == SL_OK)
			rc = report_append(report, &cap, &scap, &c->part);
		sl_lag_report_free(&c->part);
		if (rc == SL_OK && q->on_chunk != NULL)
			rc = drain(q, report, &d);
		else if (rc == SL_EREDIS && d.started)
			rc = drain_down(q, report, &cap, &scap, streams + c->off,
			    nstreams - c->off, &d);
		cur ^= 1;
		if (rc != SL_OK && have) {
			/* The next chunk is on the wire: read and dropped. */
			chunk_drop(&ch[cur], &k.used);
			have = 0;
		}
	}
	if (rc == SL_OK && q->on_chunk == NULL)
		sl_lag_report_totals(report);
	else if (rc == SL_OK) {
		report->total_lag = d.total_lag;
		report->total_saturated = d.saturated;
		report->stream_count = d.stream_count;
	} else if (rc == SL_EREDIS)
		rc = report_down(report, streams, nstreams);
	if (stats != NULL)
		*stats = k.used;
	if (rc == SL_ENOMEM)
		sl_lag_report_free(report);	/* out of memory: no report */
	return rc;
}

/* SCAN may return a key twice: sorted, repeats dropped, at most max. */
static void
names_settle(char **names, size_t *n, long long max, int more,
    int *truncated)
{
	size_t w = 0;

	if (*n > 0)
		qsort(names, *n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < *n; i++) {
		if (w > 0 && strcmp(names[w - 1], names[i]) == 0)
			sl_free(names[i]);
		else
			names[w++] = names[i];
	}
	*n = w;
	*truncated = (long long)*n > max || more;
	while ((long long)*n > max)
		sl_free(names[--*n]);
}

static enum sl_err
discover_scan(struct sl_redis *r, const char *pattern, long long max,
    char ***out, size_t *nout, int *truncated, struct sl_collect_stats *stats)
{
	char		**names = NULL;
	size_t		 n = 0, cap = 0;
	unsigned	 trips = 0;
	int		 more = 0;
	enum sl_err	 rc;

	*out = NULL;
	*nout = 0;
	*truncated = 0;
	rc = sl_redis_scan(r, pattern, max, &names, &n, &cap, &more, &trips);
	if (stats != NULL)
		stats->round_trips = trips;
	if (rc != SL_OK) {
		sl_names_free(names, n);
		return rc;
	}
	names_settle(names, &n, max, more, truncated);
	*out = names;
	*nout = n;
	return SL_OK;
}

/* From the shared cache while it is fresh; else one worker scans and
 * stores, and the others answer from the previous set meanwhile. */
enum sl_err
sl_discover(struct sl_redis *r, const char *pattern, long long max,
    char ***out, size_t *nout, int *truncated, struct sl_collect_stats *stats)
{
	struct sl_discache *c = r->discache;
	struct sl_discache_key k = { .target = r->target, .pattern = pattern,
	    .max = max,
	    .now_ms = sl_monotonic_ms(), .ttl_ms = r->discovery_ttl_ms };
	enum sl_err	 rc;
	int		 found;

	if (stats != NULL)
		stats->round_trips = 0;
	if (c == NULL || r->discovery_ttl_ms <= 0)
		return discover_scan(r, pattern, max, out, nout, truncated, stats);
	if ((rc = sl_discache_get(c, &k, out, nout, truncated, &found)) !=
	    SL_OK || found)
		return rc;
	if (!sl_discache_begin(c, k.now_ms)) {
		/* Another worker refreshes: the previous set meanwhile. */
		k.ttl_ms = 0;
		k.stale = 1;
		if ((rc = sl_discache_get(c, &k, out, nout, truncated,
		    &found)) != SL_OK || found)
			return rc;
		return discover_scan(r, pattern, max, out, nout, truncated, stats);
	}
	rc = discover_scan(r, pattern, max, out, nout, truncated, stats);
	if (rc == SL_OK && r->nscan_err == 0)	/* a partial set is not kept */
		sl_discache_done(c, r->target, pattern, max, *out, *nout,
		    *truncated, sl_monotonic_ms());
	else
		__atomic_store_n(&c->refreshing, 0, __ATOMIC_RELEASE);
	return rc;
}

void
sl_names_free(char **names, size_t n)
{
	for (size_t i = 0; names != NULL && i < n; i++)
		sl_free(names[i]);
	sl_free(names);
}

/* TIME, then XINFO STREAM and XINFO GROUPS of each of n streams, whose
 * entries are e. */
static enum sl_err
streams_build(struct sl_pipeline *p, char *const *streams, size_t n,
    struct sl_stream_entry *e)
{
	const char	*targv[1] = { "TIME" };
	size_t		 tlen[1] = { 4 };

	if (sl_pipeline_add(p, 1, targv, tlen) != SL_OK)
		return SL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *s = streams[i];
		const char *sargv[] = { "XINFO", "STREAM", s };
		const char *gargv[] = { "XINFO", "GROUPS", s };
		size_t	 lens[] = { 5, 6, strlen(s) };

		if (sl_bytes_set(&e[i].name, s, lens[2]) != SL_OK ||
		    sl_pipeline_add(p, 3, sargv, lens) != SL_OK ||
		    sl_pipeline_add(p, 3, gargv, lens) != SL_OK)
			return SL_ENOMEM;
	}
	return SL_OK;
}

/*
 * The streams the next chunk of /streams asks, from off on: at most want,
 * and what the request's budget leaves.  A chunk costs 1 + 2 per stream
 * commands; its bytes are those of the streams read so far, on average
 * (the first chunk, small, is where that is learnt).  0: the budget is
 * spent.
 */
static size_t
streams_fit(const struct sl_thresholds *t, size_t want, size_t left,
    unsigned long long used_commands, unsigned long long used_bytes,
    size_t done)
{
	size_t	 n = want < left ? want : left;

	if (t != NULL && t->max_commands > 0) {
		unsigned long long max = (unsigned long long)t->max_commands;
		size_t	 k = used_commands + 1 < max ?
		    (size_t)((max - used_commands - 1) / 2) : 0;

		n = n < k ? n : k;
	}
	if (t != NULL && t->max_bytes > 0 && done > 0) {
		unsigned long long max = (unsigned long long)t->max_bytes;
		unsigned long long per = used_bytes / done + 1;
		size_t	 k = used_bytes < max ?
		    (size_t)((max - used_bytes) / per) : 0;

		n = n < k ? n : k;
	}
	return n;
}

/*
 * /streams a chunk at a time: each chunk's replies are read, made entries
 * and freed before the next is sent, and the chunks grow from
 * SL_STREAMS_FIRST to SL_COLLECT_CHUNK streams.  With t, the request's
 * budget: the streams it cannot cover are named (report->uncovered), never
 * dropped silently.
 */
enum sl_err
sl_collect_streams(struct sl_redis *r, char *const *streams, size_t nstreams,
    const struct sl_thresholds *t, struct sl_streams_report *report,
    struct sl_collect_stats *stats)
{
	struct sl_pipeline	 p;
	unsigned long long	 bytes0 = r->meter.bytes, commands = 0;
	size_t			 want = SL_STREAMS_FIRST, n, off;
	unsigned		 trips = 0;
	long long		 now_ms;
	enum sl_err		 rc = SL_OK;

	memset(report, 0, sizeof(*report));
	if (nstreams > 0 && (report->entries = sl_calloc(nstreams,
	    sizeof(*report->entries))) == NULL)
		return SL_ENOMEM;
	for (off = 0; off < nstreams && rc == SL_OK; off += n) {
		n = streams_fit(t, want, nstreams - off, commands,
		    r->meter.bytes - bytes0, off);
		if (n == 0)
			break;
		sl_pipeline_init(&p, r);
		if ((rc = streams_build(&p, streams + off, n,
		    report->entries + off)) == SL_OK &&
		    (rc = sl_pipeline_exec(&p)) != SL_OK && rc == SL_EREDIS &&
		    (report->error = sl_strdup(SL_MSG_REDIS_DOWN)) == NULL)
			rc = SL_ENOMEM;
		report->n = off + n;
		if (rc == SL_OK) {
			now_ms = sl_facts_time_ms(p.replies[0]);
			for (size_t i = 0; i < n && rc == SL_OK; i++)
				rc = sl_facts_stream_entry(
				    &report->entries[off + i],
				    p.replies[1 + 2 * i], p.replies[2 + 2 * i],
				    now_ms);
		}
		commands += p.n;
		trips += p.round_trips;
		sl_pipeline_free(&p);
		want = want * 2 < SL_COLLECT_CHUNK ? want * 2 : SL_COLLECT_CHUNK;
	}
	if (rc == SL_OK && off < nstreams) {
		report->partial = 1;
		report->uncovered = streams + off;
		report->nuncovered = nstreams - off;
	}
	if (stats != NULL) {
		stats->round_trips = trips;
		stats->commands = (unsigned)commands;
	}
	if (rc == SL_ENOMEM)
		sl_streams_report_free(report);
	return rc;
}
