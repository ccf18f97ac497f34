/* SPDX-License-Identifier: ISC */
/* The targets' cheap probe (probe.h): one batch per target, all at once. */
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/facts.h"
#include "streamlag/probe.h"

static void
tally_group(struct sl_probe_tally *v, const struct sl_group *g,
    const struct sl_thresholds *t)
{
	v->groups++;
	if (g->lag_state != SL_LAG_KNOWN || g->lag < 0) {
		v->lag_unknown++;
		return;
	}
	switch (sl_status_for_lag(g->lag, t)) {
	case SL_STATUS_UNHEALTHY:
		v->unhealthy++;
		break;
	case SL_STATUS_DEGRADED:
		v->degraded++;
		break;
	default:
		v->healthy++;
		break;
	}
}

enum sl_err
sl_probe_tally_add(struct sl_probe_tally *v, const redisReply *r,
    const char *group, const struct sl_thresholds *t)
{
	struct sl_group	*g;
	struct sl_error	 why;
	size_t		 n, i, glen;
	enum sl_err	 rc;

	if (r == NULL) {
		v->errors++;
		return SL_OK;
	}
	if ((rc = sl_facts_groups(r, &g, &n, &why)) != SL_OK) {
		if (rc == SL_ENOMEM)
			return rc;
		v->errors++;	/* no such key, or not what XINFO answers */
		return SL_OK;
	}
	if (group == NULL) {
		for (i = 0; i < n; i++)
			tally_group(v, &g[i], t);
	} else {
		glen = strlen(group);
		for (i = 0; i < n; i++)
			if (g[i].name.len == glen &&
			    memcmp(g[i].name.p, group, glen) == 0)
				break;
		if (i < n)
			tally_group(v, &g[i], t);
		else
			v->no_group++;
	}
	sl_groups_free(g, n);
	return SL_OK;
}

/* As sl_health_of: a failed stream counts unhealthy, a missing group
 * degraded; a lag Redis does not know leaves the verdict open unless
 * something is unhealthy already. */
int
sl_probe_verdict(const struct sl_probe_tally *v, enum sl_status *s)
{
	if (v->unhealthy > 0 || v->errors > 0)
		*s = SL_STATUS_UNHEALTHY;
	else if (v->lag_unknown > 0)
		return 0;
	else if (v->degraded > 0 || v->no_group > 0)
		*s = SL_STATUS_DEGRADED;
	else
		*s = SL_STATUS_HEALTHY;
	return 1;
}

static int
masters(const struct sl_slotmap *m)
{
	int n = 0;

	for (size_t i = 0; i < m->nnodes; i++)
		n += m->nodes[i].master == -1;
	return n;
}

/* The batch: INFO server first when not known, then one XINFO GROUPS per
 * stream.  SL_OK, SL_EREDIS, SL_ENOMEM; the tally in *v. */
static enum sl_err
probe_batch(struct sl_probe *p, struct sl_pipeline *pl,
    struct sl_probe_tally *v)
{
	const char	*iargv[] = { "INFO", "server" };
	size_t		 ilen[] = { 4, 6 }, first;
	int		 info = !p->r->server_known;
	enum sl_err	 rc;

	const char	*pargv[] = { "PING" };
	size_t		 plen[] = { 4 };

	if (info && sl_pipeline_add(pl, 2, iargv, ilen) != SL_OK)
		return SL_ENOMEM;
	/* Nothing else to ask (no streams known): PING says it is up. */
	if (!info && p->nstreams == 0 && sl_pipeline_add(pl, 1, pargv,
	    plen) != SL_OK)
		return SL_ENOMEM;
	first = pl->n;
	for (size_t i = 0; i < p->nstreams; i++) {
		const char *argv[] = { "XINFO", "GROUPS", p->streams[i] };
		size_t	 lens[] = { 5, 6, strlen(p->streams[i]) };

		if (sl_pipeline_add(pl, 3, argv, lens) != SL_OK)
			return SL_ENOMEM;
	}
	if ((rc = sl_pipeline_exec(pl)) != SL_OK)
		return rc;
	p->round_trips = pl->round_trips;
	if (info && pl->replies[0] != NULL) {
		const redisReply *ir = pl->replies[0];

		if (ir->type != REDIS_REPLY_STRING || sl_server_parse(ir->str,
		    ir->len, &p->r->server) == -1)
			memset(&p->r->server, 0, sizeof(p->r->server));
		p->r->server_known = 1;
	}
	for (size_t i = first; i < pl->n && p->nstreams > 0; i++)
		if (sl_probe_tally_add(v, pl->replies[i], p->group, &p->t) !=
		    SL_OK)
			return SL_ENOMEM;
	return SL_OK;
}

void
sl_probe_run(struct sl_probe *p)
{
	struct sl_target_state	*st = p->st;
	struct sl_redis		*r = p->r;
	struct sl_pipeline	 pl;
	struct sl_probe_tally	 v;
	int64_t			 t0 = sl_monotonic_us();

	memset(&v, 0, sizeof(v));
	sl_pipeline_init(&pl, r);
	r->failures = 0;
	p->rc = probe_batch(p, &pl, &v);
	sl_pipeline_free(&pl);
	if (p->rc == SL_OK) {
		st->up = 1;
		st->groups = v.groups;
		st->lag_unknown = v.lag_unknown;
		st->status_known = p->streams_known &&
		    sl_probe_verdict(&v, &st->status);
	}
	/* Known once connected: a cluster counts its masters (the slot
	 * map), a standalone Redis is one node. */
	st->mode = r->cluster == 1 ? "cluster" : "standalone";
	st->nodes = r->cluster == 1 ? masters(&r->map) : 1;
	st->server_known = r->server_known;
	st->server = r->server;
	st->round_trips = p->round_trips;
	st->elapsed_ms = (sl_monotonic_us() - t0) / 1000;
}

static void *
probe_thread(void *arg)
{
	sl_probe_run(arg);
	return NULL;
}

void
sl_probe_all(struct sl_probe *p, size_t n)
{
	pthread_t	*tid = NULL;
	unsigned char	*started = NULL;
	sigset_t	 all, old;

	if (n <= 1 || (tid = sl_calloc(n, sizeof(*tid))) == NULL ||
	    (started = sl_calloc(n, 1)) == NULL) {
		sl_free(tid);	/* one alone, or no memory: one after another */
		for (size_t i = 0; i < n; i++)
			sl_probe_run(&p[i]);
		return;
	}
	/* Signals stay with the calling thread (libfcgi's SIGTERM flag, the
	 * worker's own): the probes inherit a mask that blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (size_t i = 0; i < n; i++)
		started[i] = pthread_create(&tid[i], NULL, probe_thread,
		    &p[i]) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (size_t i = 0; i < n; i++)
		if (!started[i])
			sl_probe_run(&p[i]);
	for (size_t i = 0; i < n; i++)
		if (started[i])
			pthread_join(tid[i], NULL);
	sl_free(started);
	sl_free(tid);
}
