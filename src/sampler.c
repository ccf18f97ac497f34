/* SPDX-License-Identifier: ISC */
/* The sampler (sampler.h): a round collects what a worker would for
 * ?group=* (XINFO STREAM included), writes one sample per group, then
 * reads the pending lists that hold entries, in chunks, while the budget
 * lasts. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "streamlag/alloc.h"
#include "streamlag/collect.h"
#include "streamlag/log.h"
#include "streamlag/pel.h"
#include "streamlag/sampler.h"
#include "streamlag/targets.h"

#define PEL_CHUNK	100	/* XPENDING commands per round trip */

struct pel_run {
	struct sl_history	*h;
	const char		*target;	/* the history's key */
	const struct sl_lag_report *rep;
	const struct sl_pel_limits *lim;
	size_t			*entry;		/* report entry of command i */
	size_t			 first;		/* pipeline index of entry[0] */
	struct sl_sampler_round	*o;
	enum sl_err		 err;
	long long		 used;		/* commands of the round so far */
	unsigned long long	 bytes0;	/* reply bytes before the round */
	int			 over;		/* the budget ran out */
};

static struct sl_thresholds *
thresholds(const struct sl_config *cfg, struct sl_thresholds *t)
{
	memset(t, 0, sizeof(*t));
	t->degraded = cfg->lag_degraded;
	t->unhealthy = cfg->lag_unhealthy;
	t->stall_ms = cfg->stall_ms;
	t->count_cap = cfg->lag_count_cap;
	t->max_len = cfg->stream_max_len;
	t->max_commands = cfg->request_max_commands;
	t->max_bytes = cfg->request_max_bytes;
	return t;
}

static void
limits(const struct sl_config *cfg, struct sl_pel_limits *lim)
{
	lim->scan = cfg->pel_scan;
	lim->poison_deliveries = cfg->poison_deliveries;
	lim->claim_idle_ms = cfg->claim_idle_ms;
	lim->dead_consumer_ms = cfg->dead_consumer_ms > 0 ?
	    cfg->dead_consumer_ms : cfg->stall_ms;
}

/* The ms part of an id, -1 when there is none. */
static long long
id_ms(const char *id)
{
	char		*end;
	long long	 v;

	if (id[0] < '0' || id[0] > '9')
		return -1;
	errno = 0;
	v = strtoll(id, &end, 10);
	return errno != 0 || (*end != '-' && *end != '\0') ? -1 : v;
}

/* The XINFO STREAM answer of e's stream; *k is where to look first. */
static const struct sl_stream_brief *
stream_of(const struct sl_lag_report *rep, const struct sl_lag_entry *e,
    size_t *k)
{
	for (size_t i = 0; i < rep->nsinfo; i++) {
		const struct sl_stream_brief *se =
		    &rep->sinfo[(*k + i) % rep->nsinfo];

		if (se->name.len == e->stream.len && (e->stream.len == 0 ||
		    memcmp(se->name.p, e->stream.p, e->stream.len) == 0)) {
			*k = (*k + i) % rep->nsinfo;
			return se->error == NULL ? se : NULL;
		}
	}
	return NULL;
}

static void
sample_of(const struct sl_lag_entry *e, const struct sl_stream_brief *se,
    long long now_ms, struct sl_sample *s)
{
	memset(s, 0, sizeof(*s));
	s->t_ms = now_ms;
	s->added = se != NULL && se->has_entries_added ?
	    se->entries_added : -1;
	s->read = e->group.has_entries_read ? e->group.entries_read : -1;
	s->lag = e->lag_exact ? e->lag : -1;
	s->pos_ms = id_ms(e->group.last_delivered_id);
	s->pending = e->group.pending;
	s->consumers = e->group.consumers > INT32_MAX ? INT32_MAX :
	    (int32_t)e->group.consumers;
}

static void
note_untracked(struct sl_sampler_round *o, const struct sl_lag_entry *e)
{
	size_t	 len = strlen(o->untracked_names);
	int	 w;

	o->untracked++;
	if (o->untracked > SL_SAMPLER_NAMES_LOGGED)
		return;
	w = snprintf(o->untracked_names + len, sizeof(o->untracked_names) -
	    len, "%s%.*s/%.*s", len > 0 ? "," : "", (int)(e->stream.len > 60 ?
	    60 : e->stream.len), e->stream.p, (int)(e->group.name.len > 60 ?
	    60 : e->group.name.len), e->group.name.p);
	if (w < 0 || (size_t)w >= sizeof(o->untracked_names) - len)
		o->untracked_names[len] = '\0';
}

static int
answered(const struct sl_lag_entry *e)
{
	return e->error == NULL && e->has_group && e->group.name.len > 0;
}

/* One sample per answered group; tracked[i] says which got a slot. */
static void
record(struct sl_history *h, const char *target, long long history_s,
    const struct sl_lag_report *rep, unsigned char *tracked,
    struct sl_sampler_round *o)
{
	struct sl_sample s;
	size_t		 k = 0;

	for (size_t i = 0; i < rep->n; i++) {
		const struct sl_lag_entry *e = &rep->entries[i];

		tracked[i] = 0;
		if (!answered(e))
			continue;
		o->groups++;
		sample_of(e, stream_of(rep, e, &k), o->now_ms, &s);
		if (sl_history_add(h, target, e->stream.p, e->stream.len,
		    e->group.name.p, e->group.name.len, &s,
		    o->now_ms - history_s * 1000)) {
			tracked[i] = 1;
			o->tracked++;
		} else
			note_untracked(o, e);
	}
}

/* The answers of entry i from its XPENDING reply (NULL: nothing pending). */
static enum sl_err
pel_answer(struct pel_run *pr, size_t i, const redisReply *reply)
{
	const struct sl_lag_entry *e = &pr->rep->entries[i];
	const struct sl_stream_brief *se;
	struct sl_pel_item *it = NULL;
	struct sl_pel_report rp;
	struct sl_error	 why;
	size_t		 n = 0, k = 0;
	enum sl_err	 rc = SL_OK;
	ssize_t		 nc = (ssize_t)e->nconsumers;

	if (reply != NULL && (rc = sl_facts_pel(reply, &it, &n, &why)) != SL_OK)
		return rc == SL_ENOMEM ? rc : SL_OK;	/* that group's error */
	se = stream_of(pr->rep, e, &k);
	if (e->group.consumers > 0 && e->nconsumers == 0)
		nc = -1;		/* not asked */
	sl_pel_analyze(it, n, e->group.pending, se != NULL ?
	    se->first_entry_id : NULL, e->consumers, nc, pr->lim, &rp);
	sl_history_set_pel(pr->h, pr->target, e->stream.p, e->stream.len,
	    e->group.name.p, e->group.name.len, &rp);
	sl_pel_items_free(it, n);
	return SL_OK;
}

static void
pel_reply(void *arg, size_t idx, redisReply *reply)
{
	struct pel_run	*pr = arg;
	enum sl_err	 rc = pel_answer(pr, pr->entry[idx - pr->first], reply);

	if (rc != SL_OK && pr->err == SL_OK)
		pr->err = rc;
	pr->o->pel_read++;
	sl_reply_free(reply);
}

/* XPENDING for entries[idx[0..n)], one round trip. */
static enum sl_err
pel_chunk(struct sl_redis *r, struct pel_run *pr, size_t *idx, size_t n)
{
	struct sl_pipeline p;
	enum sl_err	 rc = SL_OK;
	char		 count[24];
	const char	*argv[6];
	size_t		 lens[6];

	snprintf(count, sizeof(count), "%lld", pr->lim->scan);
	sl_pipeline_init(&p, r);
	for (size_t i = 0; i < n && rc == SL_OK; i++) {
		const struct sl_lag_entry *e = &pr->rep->entries[idx[i]];

		argv[0] = "XPENDING"; argv[1] = e->stream.p;
		argv[2] = e->group.name.p; argv[3] = "-"; argv[4] = "+";
		argv[5] = count;
		lens[0] = 8; lens[1] = e->stream.len; lens[2] = e->group.name.len;
		lens[3] = lens[4] = 1; lens[5] = strlen(count);
		rc = sl_pipeline_add(&p, 6, argv, lens);
	}
	pr->entry = idx;
	pr->first = 0;
	p.on_reply = pel_reply;
	p.arg = pr;
	if (rc == SL_OK && (rc = sl_pipeline_exec(&p)) == SL_OK)
		rc = pr->err;
	sl_pipeline_free(&p);
	return rc;
}

/* The budget left after pr->used commands and the bytes since bytes0. */
static int
afford(const struct sl_redis *r, const struct sl_config *cfg,
    const struct pel_run *pr, size_t more)
{
	if (cfg->request_max_commands > 0 &&
	    pr->used + (long long)more > cfg->request_max_commands)
		return 0;
	return cfg->request_max_bytes <= 0 || r->meter.bytes - pr->bytes0 <=
	    (unsigned long long)cfg->request_max_bytes;
}

/* One chunk, when the budget affords it; once it does not, none more. */
static enum sl_err
flush(struct sl_redis *r, const struct sl_config *cfg, struct pel_run *pr,
    size_t *idx, size_t n)
{
	if (pr->over || !afford(r, cfg, pr, n)) {
		pr->over = 1;
		pr->o->pel_skipped += n;
		return SL_OK;
	}
	pr->used += (long long)n;
	return pel_chunk(r, pr, idx, n);
}

static enum sl_err
pel_round(struct sl_redis *r, const struct sl_config *cfg, struct pel_run *pr,
    const unsigned char *tracked)
{
	size_t		 idx[PEL_CHUNK], n = 0;
	enum sl_err	 rc = SL_OK;

	for (size_t i = 0; i < pr->rep->n && rc == SL_OK; i++) {
		const struct sl_lag_entry *e = &pr->rep->entries[i];

		if (!tracked[i] || !answered(e))
			continue;
		if (e->group.pending <= 0) {
			rc = pel_answer(pr, i, NULL);
			continue;
		}
		idx[n++] = i;
		if (n == PEL_CHUNK) {
			rc = flush(r, cfg, pr, idx, n);
			n = 0;
		}
	}
	if (rc == SL_OK && n > 0)
		rc = flush(r, cfg, pr, idx, n);
	return rc;
}

/* The monitored streams: the configured list, or the discovered set
 * (*own then holds it, for sl_names_free). */
static enum sl_err
streams_of(struct sl_redis *r, const struct sl_config *cfg, char ***own,
    size_t *nown, char *const **streams, size_t *n)
{
	int		 truncated = 0;
	enum sl_err	 rc;

	*own = NULL;
	*nown = 0;
	if (cfg->stream_pattern == NULL) {
		*streams = cfg->streams;
		*n = cfg->nstreams;
		return SL_OK;
	}
	rc = sl_discover(r, cfg->stream_pattern, cfg->discovery_max, own, nown,
	    &truncated, NULL);
	*streams = *own;
	*n = *nown;
	return rc;
}

enum sl_err
sl_sampler_round(struct sl_redis *r, const struct sl_config *cfg,
    struct sl_history *h, struct sl_sampler_round *o)
{
	struct sl_thresholds	 t;
	struct sl_lag_query	 q = { .group = NULL, .all_groups = 1,
	    .t = thresholds(cfg, &t), .with_streams = 1,
	    .hint = cfg->consumer_group };
	struct sl_lag_report	 rep;
	struct sl_collect_stats	 st = { 0, 0 };
	struct sl_pel_limits	 lim;
	struct pel_run		 pr;
	unsigned char		*tracked = NULL;
	char			**own, *const *streams;
	size_t			 nown, n;
	enum sl_err		 rc;

	memset(o, 0, sizeof(*o));
	o->now_ms = -1;
	memset(&pr, 0, sizeof(pr));
	pr.bytes0 = r->meter.bytes;
	if ((rc = streams_of(r, cfg, &own, &nown, &streams, &n)) != SL_OK)
		return rc;
	if ((rc = sl_collect_lag(r, streams, n, &q, &rep, &st)) == SL_ENOMEM)
		goto out;		/* no report */
	o->now_ms = rep.now_ms;
	if (rc != SL_OK || rep.error != NULL || rep.now_ms < 0) {
		rc = SL_EREDIS;
		goto done;
	}
	if (rep.n > 0 && (tracked = sl_calloc(rep.n, 1)) == NULL) {
		rc = SL_ENOMEM;
		goto done;
	}
	record(h, r->target, cfg->history_s, &rep, tracked, o);
	limits(cfg, &lim);
	pr.h = h;
	pr.target = r->target;
	pr.rep = &rep;
	pr.lim = &lim;
	pr.o = o;
	pr.used = st.commands;
	rc = pel_round(r, cfg, &pr, tracked);
done:
	sl_free(tracked);
	sl_lag_report_free(&rep);
out:
	sl_names_free(own, nown);
	return rc;
}

static void
sleep_until(int64_t at_ms)
{
	int64_t		 left;
	struct timespec	 ts;

	while ((left = at_ms - sl_monotonic_ms()) > 0) {
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (long)(left % 1000) * 1000000L;
		if (nanosleep(&ts, NULL) == -1 && errno != EINTR)
			return;
	}
}

/* One line when the set of untracked groups changes in size, naming the
 * first of them; one when Redis stops or starts answering. */
static void
log_round(const struct sl_sampler_round *o, enum sl_err rc,
    uint64_t *last_untracked, int *last_rc)
{
	char	 buf[600];

	if ((int)rc != *last_rc)
		sl_log(rc == SL_OK ? SL_LOG_INFO : SL_LOG_WARN, "sampler_round",
		    "result=%s groups=%llu tracked=%llu", rc == SL_OK ? "ok" :
		    sl_err_name(rc), (unsigned long long)o->groups,
		    (unsigned long long)o->tracked);
	*last_rc = (int)rc;
	if (rc != SL_OK || o->untracked == *last_untracked)
		return;
	*last_untracked = o->untracked;
	if (o->untracked == 0) {
		sl_log(SL_LOG_INFO, "history_untracked", "count=0");
		return;
	}
	sl_log(SL_LOG_WARN, "history_untracked", "count=%llu limit=%s "
	    "groups=%s", (unsigned long long)o->untracked,
	    "STREAMLAG_HISTORY_GROUPS",
	    sl_log_str(o->untracked_names, buf, sizeof(buf)));
}

/* One round's totals over the targets into all. */
static void
add_round(struct sl_sampler_round *all, const struct sl_sampler_round *o)
{
	size_t	 len = strlen(all->untracked_names);
	int	 w;

	if (o->now_ms > all->now_ms)
		all->now_ms = o->now_ms;
	all->groups += o->groups;
	all->tracked += o->tracked;
	all->untracked += o->untracked;
	all->pel_read += o->pel_read;
	all->pel_skipped += o->pel_skipped;
	if (o->untracked_names[0] == '\0')
		return;
	/* The first names that fit, as note_untracked keeps them. */
	w = snprintf(all->untracked_names + len, sizeof(all->untracked_names) -
	    len, "%s%.*s", len > 0 ? "," : "", (int)(sizeof(o->untracked_names)
	    - 1), o->untracked_names);
	if (w < 0 || (size_t)w >= sizeof(all->untracked_names) - len)
		all->untracked_names[len] = '\0';
}

/* A round of every target, one after another, each with its own
 * settings (its streams, group, thresholds, discovery) and its own
 * budget; one set of totals for the history.  SL_OK when every target
 * answered, else the first target's error; SL_ENOMEM at once. */
static enum sl_err
round_all(struct sl_redis *r, const struct sl_config *cfg,
    struct sl_history *h, struct sl_sampler_round *all)
{
	struct sl_sampler_round	 o;
	struct sl_config	 view = *cfg;
	enum sl_err		 rc = SL_OK, one;

	memset(all, 0, sizeof(*all));
	all->now_ms = -1;
	for (size_t i = 0; i < sl_config_ntargets(cfg); i++) {
		view.target = *sl_config_target(cfg, i);
		if ((one = sl_sampler_round(&r[i], &view, h, &o)) == SL_ENOMEM)
			return one;
		if (rc == SL_OK)
			rc = one;
		add_round(all, &o);
	}
	if (all->now_ms >= 0)
		sl_history_set_round(h, all->untracked, all->tracked,
		    all->now_ms);
	return rc;
}

int
sl_sampler_run(const struct sl_config *cfg, struct sl_history *h,
    struct sl_shared *sh, struct sl_slot *slot)
{
	struct sl_redis		*redis;
	struct sl_sampler_round	 o;
	uint64_t		 last_untracked = 0;
	enum sl_err		 rc = SL_ENOMEM;
	int			 last_rc = -1;	/* the first round is logged */
	int64_t			 next;

	/* Every target, on connections of its own (targets.h). */
	if ((redis = sl_targets_open(cfg, &sh->counters, &sh->lagcache,
	    sh->discache)) == NULL)
		goto out;
	slot->pid = getpid();
	for (;;) {
		next = sl_monotonic_ms() + cfg->sample_ms;
		slot->busy_since_ms = sl_monotonic_ms();
		rc = round_all(redis, cfg, h, &o);
		slot->busy_since_ms = 0;
		slot->requests++;
		if (rc == SL_ENOMEM)
			break;
		log_round(&o, rc, &last_untracked, &last_rc);
		sleep_until(next);
	}
	sl_targets_close(redis, sl_config_ntargets(cfg));
out:
	sl_log(SL_LOG_ERROR, "sampler_stopped", "error=%s", sl_err_name(rc));
	return 1;
}
