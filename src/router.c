/* SPDX-License-Identifier: ISC */
/* Routes are data; this file is the one place where a request meets its
 * handler and where failures become status codes and error bodies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/auth.h"
#include "streamlag/collect.h"
#include "streamlag/history_api.h"
#include "streamlag/lag.h"
#include "streamlag/log.h"
#include "streamlag/probe.h"
#include "streamlag/prom.h"
#include "streamlag/render.h"
#include "streamlag/router.h"
#include "streamlag/targets.h"
#include "streamlag/version.h"

/* Query parameters a route accepts. */
#define Q_STREAM	0x1
#define Q_GROUP		0x2
#define Q_DISCOVER	0x4	/* no parameters, but the monitored streams */
#define Q_IGNORE	0x8	/* the query is not read: load balancers add
				 * cache-busting ones to liveness probes */
#define Q_OWN		0x10	/* the handler reads the query (sel.query) */
#define Q_TARGET	0x20	/* ?target=NAME */
#define Q_DETAIL	0x40	/* ?detail=pel */

/* What a request asks about: the streams (configured, discovered, or
 * chosen with ?stream=) and the group (or every group). */
struct sel {
	char		**streams;
	size_t		 n;
	const char	*group;
	int		 all_groups;
	int		 truncated;	/* discovery hit STREAMLAG_DISCOVERY_MAX */
	int		 redis_down;	/* discovery failed: answer 503 */
	const struct sl_target *tgt;	/* the target asked about */
	struct sl_redis	*r;		/* its connection */
	int		 named;		/* ?target= was given */
	const char	*query;		/* Q_OWN routes */
	const char *const *node_errors;	/* masters discovery missed */
	size_t		 nnode_errors;
	int		 detail_pel;	/* ?detail=pel: each group's pel */
};

/* Methods a route takes. */
#define M_GET		0x1
#define M_HEAD		0x2

typedef void (*handler_fn)(struct sl_ctx *, const struct sel *,
    struct sl_response *);

/* The one route table: a path is matched here and nowhere else (the
 * request counters take the id sl_route returns). */
struct route {
	const char		*path;
	enum sl_route_id	 id;
	unsigned		 methods;
	handler_fn		 handler;
	int			 needs_auth;
	unsigned		 params;
};

static void h_healthz(struct sl_ctx *, const struct sel *, struct sl_response *);
static void h_lag(struct sl_ctx *, const struct sel *, struct sl_response *);
static void h_streams(struct sl_ctx *, const struct sel *, struct sl_response *);
static void h_health(struct sl_ctx *, const struct sel *, struct sl_response *);
static void h_verify(struct sl_ctx *, const struct sel *, struct sl_response *);
static void h_metrics(struct sl_ctx *, const struct sel *, struct sl_response *);
static void h_targets(struct sl_ctx *, const struct sel *, struct sl_response *);
static void h_history(struct sl_ctx *, const struct sel *, struct sl_response *);

static const struct route routes[] = {
	{ "/metrics", SL_ROUTE_METRICS, M_GET | M_HEAD,
	    h_metrics, 1, Q_DISCOVER | Q_TARGET },
	{ "/healthz", SL_ROUTE_HEALTHZ, M_GET | M_HEAD,
	    h_healthz, 0, Q_IGNORE },
	{ "/auth/verify", SL_ROUTE_AUTH_VERIFY, M_GET | M_HEAD,
	    h_verify, 1, 0 },
	{ "/api/v1/events/consumer-lag", SL_ROUTE_CONSUMER_LAG, M_GET | M_HEAD,
	    h_lag, 1, Q_STREAM | Q_GROUP | Q_TARGET | Q_DETAIL },
	{ "/api/v1/events/streams", SL_ROUTE_STREAMS, M_GET | M_HEAD,
	    h_streams, 1, Q_STREAM | Q_TARGET },
	{ "/api/v1/events/health", SL_ROUTE_HEALTH, M_GET | M_HEAD,
	    h_health, 1, Q_STREAM | Q_GROUP | Q_TARGET },
	{ "/api/v1/events/targets", SL_ROUTE_TARGETS, M_GET | M_HEAD,
	    h_targets, 1, 0 },
	{ "/api/v1/events/history", SL_ROUTE_OTHER, M_GET | M_HEAD,
	    h_history, 1, Q_OWN },
};

static const struct { const char *name; unsigned bit; } method_names[] = {
	{ "GET", M_GET },
	{ "HEAD", M_HEAD },
};

static const char AUTH_MISSING[] = "Bearer realm=\"streamlag\"";
static const char AUTH_INVALID[] =
    "Bearer realm=\"streamlag\", error=\"invalid_token\"";
static const char AUTH_SCOPE[] =
    "Bearer realm=\"streamlag\", error=\"insufficient_scope\"";

/* The one place where an error of the layers below becomes a status:
 * Redis unreachable is 503, anything else the request cannot survive (out
 * of memory) is 500. */
static int
sl_err_status(enum sl_err e)
{
	switch (e) {
	case SL_OK:
		return 200;
	case SL_EREDIS:
	case SL_ETIMEOUT:
		return 503;
	default:
		return 500;
	}
}

/* The error body of a failed request, in the seed's words for Redis. */
static void
fail_request(struct sl_response *resp, enum sl_err e)
{
	int status = sl_err_status(e);

	if (status == 503)
		sl_http_error(resp, status, SL_CODE_REDIS_DOWN,
		    SL_MSG_REDIS_DOWN);
	else
		sl_http_error(resp, status, "internal", e == SL_ENOMEM ?
		    "Out of memory" : sl_err_name(e));
}
static const char CT_JSON[] = "application/json";
static const char CT_PROM[] = "text/plain; version=0.0.4; charset=utf-8";

/* A cluster asked for a database other than 0 (auto mode). */
static void
cluster_db(struct sl_response *resp)
{
	sl_http_error(resp, 503, "cluster_db", "REDIS_URL names a database "
	    "other than 0, and Redis is a Redis Cluster, which has only "
	    "database 0");
}

static void
set_json(struct sl_response *resp, int status, char *body)
{
	if (body == NULL) {
		fail_request(resp, SL_ENOMEM);
		return;
	}
	sl_response_free(resp);
	resp->status = status;
	resp->content_type = CT_JSON;
	resp->no_store = 1;
	resp->body = body;
	resp->body_len = strlen(body);
}

typedef enum sl_err (*render_fn)(const void *arg, struct sl_out *out);

static void
set_head(struct sl_response *resp, int status, const char *type)
{
	sl_response_free(resp);
	resp->status = status;
	resp->content_type = type;
	resp->no_store = type == CT_JSON;
}

/* A streamed body begins: resp's status and headers go out through
 * ctx->stream, and out hands its text on from now on.  SL_OK, or SL_ESYS
 * (st->err) when the head could not be sent. */
static enum sl_err
stream_start(struct sl_ctx *ctx, struct sl_response *resp, int status,
    const char *type, struct sl_out *out)
{
	struct sl_stream *st = ctx->stream;

	set_head(resp, status, type);
	st->started = 1;
	if (st->head(st->arg, resp) == -1)
		return st->err = SL_ESYS;
	sl_out_set_sink(out, st->body, st->arg, st->flush_at);
	return SL_OK;
}

/* A body that can be large: streamed through ctx->stream when the caller
 * gave one, else whole in resp->body.  Called once the report is collected:
 * status is final before the first byte goes out. */
static void
set_rendered(struct sl_ctx *ctx, struct sl_response *resp, int status,
    const char *type, render_fn render, const void *arg)
{
	struct sl_stream	*st = ctx->stream;
	struct sl_out		 out;
	size_t			 len;

	sl_out_init(&out);
	if (st == NULL) {
		set_head(resp, status, type);
		if (render(arg, &out) != SL_OK ||
		    (resp->body = sl_out_finish(&out, &len)) == NULL) {
			sl_out_free(&out);
			fail_request(resp, SL_ENOMEM);
			return;
		}
		resp->body_len = len;
		return;
	}
	if (stream_start(ctx, resp, status, type, &out) == SL_OK &&
	    (st->err = render(arg, &out)) == SL_OK)
		st->err = sl_out_flush(&out);
	sl_out_free(&out);
}

static enum sl_err
render_lag(const void *arg, struct sl_out *out)
{
	return sl_render_lag_out(arg, out);
}

static const struct sl_thresholds *
thresholds(const struct sl_ctx *ctx, const struct sl_target *tgt,
    struct sl_thresholds *t)
{
	t->degraded = tgt->lag_degraded;
	t->unhealthy = tgt->lag_unhealthy;
	t->stall_ms = tgt->stall_ms;
	t->count_cap = tgt->lag_count_cap;
	t->max_len = ctx->cfg->stream_max_len;
	t->max_commands = ctx->cfg->request_max_commands;
	t->max_bytes = ctx->cfg->request_max_bytes;
	return t;
}

static void
h_healthz(struct sl_ctx *ctx, const struct sel *sel, struct sl_response *resp)
{
	(void)ctx; (void)sel;
	set_json(resp, 200, strdup("{\"status\":\"ok\"}"));
}

/* nginx auth_request: reaching here means the token passed.  No body. */
static void
h_verify(struct sl_ctx *ctx, const struct sel *sel, struct sl_response *resp)
{
	(void)ctx; (void)sel;
	resp->status = 204;
	resp->content_type = CT_JSON;
	resp->no_store = 1;
}

/* The report goes to the caller when it asked for it (see sl_ctx). */
static void
report_done(struct sl_ctx *ctx, struct sl_lag_report *rep)
{
	if (ctx->lag_out != NULL) {
		/* The report outlives the request, whose ?group= the report's
		 * group points into: each entry gets its own copy. */
		for (size_t i = 0; rep->group != NULL && i < rep->n; i++)
			if (rep->entries[i].group.name.len == 0)
				(void)sl_bytes_set(&rep->entries[i].group.name,
				    rep->group, strlen(rep->group));
		rep->group = NULL;
		sl_lag_report_free(ctx->lag_out);
		*ctx->lag_out = *rep;
		memset(rep, 0, sizeof(*rep));
	}
	sl_lag_report_free(rep);
}

/* The sampler records every target, each group keyed by its target's
 * name (sel->r->target) too. */
static struct sl_history *
history_of(const struct sl_ctx *ctx, const struct sel *sel)
{
	(void)sel;
	return ctx->history;
}

/* A consumer-lag answer written as it is collected (see lag_chunk). */
struct lag_stream {
	struct sl_ctx		*ctx;
	const struct sel	*sel;
	struct sl_response	*resp;
	struct sl_out		 out;
	struct sl_lag_render	 lr;
};

/* One chunk of the consumer-lag answer: the first sends the status (200:
 * Redis answered) and the head, then each writes its entries with their
 * insight.  A failure cuts the answer (the connection is aborted). */
static enum sl_err
lag_chunk(void *arg, struct sl_lag_report *chunk)
{
	struct lag_stream	*ls = arg;
	struct sl_stream	*st = ls->ctx->stream;
	struct sl_group_insight	*gi = NULL;

	if (!st->started) {
		if (stream_start(ls->ctx, ls->resp, 200, CT_JSON, &ls->out) !=
		    SL_OK)
			return SL_ESYS;
		sl_render_lag_begin(&ls->lr, &ls->out, chunk, ls->sel->streams,
		    ls->sel->n);
	}
	if (sl_history_insight_attach(history_of(ls->ctx, ls->sel),
	    ls->ctx->cfg, ls->sel->r->target, chunk, &gi) != SL_OK)
		return st->err = SL_ENOMEM;
	for (size_t i = 0; gi != NULL && i < chunk->n; i++)
		gi[i].show_pel = ls->sel->detail_pel;
	sl_render_lag_entries(&ls->lr, chunk, 0);
	sl_history_insight_detach(chunk, gi);
	return st->err = ls->out.err;
}

/* The end of a streamed answer: totals and what was left out. */
static void
lag_stream_end(struct lag_stream *ls, const struct sl_lag_report *rep,
    enum sl_err rc)
{
	struct sl_stream *st = ls->ctx->stream;

	if (st->err != SL_OK)
		sl_render_lag_abandon(&ls->lr);
	else if (rc != SL_OK) {
		sl_render_lag_abandon(&ls->lr);
		st->err = rc;
	} else if ((st->err = sl_render_lag_end(&ls->lr, rep)) == SL_OK)
		st->err = sl_out_flush(&ls->out);
}

/* SL_OK, SL_EREDIS when Redis is unreachable (report->error set), or
 * SL_ENOMEM.  With ls, the entries go to it a chunk at a time. */
static enum sl_err
collect(struct sl_ctx *ctx, const struct sel *sel, struct sl_lag_report *rep,
    struct lag_stream *ls)
{
	struct sl_thresholds	 t;
	struct sl_lag_query	 q = { .group = sel->group,
	    .all_groups = sel->all_groups, .t = thresholds(ctx, sel->tgt, &t),
	    .hint = sel->tgt->consumer_group,
	    .on_chunk = ls != NULL ? lag_chunk : NULL, .chunk_arg = ls };
	enum sl_err		 rc;

	if (sel->redis_down) {
		memset(rep, 0, sizeof(*rep));
		rep->group = sel->all_groups ? NULL : sel->group;
		rep->all_groups = sel->all_groups;
		return (rep->error = strdup(SL_MSG_REDIS_DOWN)) == NULL ?
		    SL_ENOMEM : SL_EREDIS;
	}
	rc = sl_collect_lag(sel->r, sel->streams, sel->n, &q, rep, NULL);
	rep->truncated = sel->truncated;
	rep->node_errors = sel->node_errors;
	rep->nnode_errors = sel->nnode_errors;
	rep->replica_node = sel->r->replica_name;
	rep->replica_lag = sel->r->replica_lagv;
	rep->nreplica_lag = sel->r->nreplicas;
	return rc;
}

/* The history of one group: read from shared memory, no Redis. */
static void
h_history(struct sl_ctx *ctx, const struct sel *sel, struct sl_response *resp)
{
	struct sl_history_query	 q;
	struct sl_query_param	*p = NULL;
	struct sl_error		 why;
	size_t			 np = 0;
	enum sl_err		 rc;

	rc = sl_history_query_parse(sel->query, ctx->cfg, &q, &p, &np, &why);
	if (rc == SL_EINPUT)
		sl_http_error(resp, 400, "bad_query", why.str);
	else if (rc != SL_OK)
		fail_request(resp, rc);
	else
		set_json(resp, 200, sl_history_render(ctx->history, ctx->cfg,
		    &q));
	sl_query_free(p, np);
}

static void
h_lag(struct sl_ctx *ctx, const struct sel *sel, struct sl_response *resp)
{
	struct sl_lag_report	 rep;
	struct sl_group_insight	*gi = NULL;
	struct lag_stream	 ls = { .ctx = ctx, .sel = sel, .resp = resp };
	int			 streamed = ctx->stream != NULL &&
	    ctx->lag_out == NULL;
	enum sl_err		 rc;

	/* Streamed: each chunk of streams is written once collected, and
	 * freed; what is held stays a chunk's whatever the streams' number. */
	sl_out_init(&ls.out);
	rc = collect(ctx, sel, &rep, streamed ? &ls : NULL);
	if (streamed && ctx->stream->started) {
		lag_stream_end(&ls, &rep, rc);
		sl_out_free(&ls.out);
		sl_lag_report_free(&rep);
		return;
	}
	sl_out_free(&ls.out);

	if (rc == SL_ENOMEM || (rc == SL_OK && sl_history_insight_attach(
	    history_of(ctx, sel), ctx->cfg, sel->r->target, &rep, &gi) !=
	    SL_OK)) {
		if (rc == SL_OK)
			sl_lag_report_free(&rep);
		fail_request(resp, SL_ENOMEM);
		return;
	}
	if (rc == SL_EREDIS && sel->r->cluster_db) {
		cluster_db(resp);	/* before a streamed body could start */
		report_done(ctx, &rep);
		return;
	}
	/* The pending list's answers only when asked: they are most of what
	 * the history adds to an answer (docs/api.md). */
	for (size_t i = 0; gi != NULL && i < rep.n; i++)
		gi[i].show_pel = sel->detail_pel;
	/* Redis down keeps the seed shape, with 503 (report->error set). */
	set_rendered(ctx, resp, sl_err_status(rc), CT_JSON, render_lag, &rep);
	sl_history_insight_detach(&rep, gi);
	report_done(ctx, &rep);
}

static void
h_health(struct sl_ctx *ctx, const struct sel *sel, struct sl_response *resp)
{
	struct sl_lag_report	 rep;
	struct sl_health	 h;
	struct sl_render_opts	 o;
	enum sl_err		 rc = collect(ctx, sel, &rep, NULL);

	if (rc == SL_ENOMEM) {
		fail_request(resp, rc);
		return;
	}
	if (rc != SL_OK) {
		set_json(resp, 503, sl_render_health_down(SL_MSG_REDIS_DOWN));
	} else {
		sl_health_of(&rep, &h);
		o.transport_redis_streams = ctx->cfg->use_redis_streams;
		o.consumer_group = sel->all_groups ? "*" : sel->group;
		set_json(resp, h.status == SL_STATUS_UNHEALTHY ? 503 : 200,
		    sl_render_health(&h, &o));
	}
	report_done(ctx, &rep);
}

/* /metrics a chunk at a time: each chunk's lines staged per family (see
 * sl_prom_stage_add), with the chunk's insight. */
struct metrics_stage {
	struct sl_ctx		*ctx;
	const struct sel	*sel;
	const struct sl_prom_opts *o;
	struct sl_prom_stage	 stage;
};

static enum sl_err
metrics_chunk(void *arg, struct sl_lag_report *chunk)
{
	struct metrics_stage	*ms = arg;
	struct sl_group_insight	*gi = NULL;
	enum sl_err		 rc;

	if (sl_history_insight_attach(history_of(ms->ctx, ms->sel),
	    ms->ctx->cfg, ms->sel->r->target, chunk, &gi) != SL_OK)
		return SL_ENOMEM;
	rc = sl_prom_stage_add(&ms->stage, chunk, ms->o);
	sl_history_insight_detach(chunk, gi);
	return rc;
}

struct prom_args {
	const struct sl_lag_report	*rep;	/* NULL: Redis was not read */
	const struct sl_prom_opts	*o;
	struct sl_prom_stage		*stage;
};

static enum sl_err
render_prom(const void *arg, struct sl_out *out)
{
	const struct prom_args *a = arg;

	if (a->rep == NULL)
		return sl_render_prom_out(NULL, a->o, out);
	return sl_prom_stage_out(a->stage, a->rep, a->o, out);
}

/* What the families depend on, known before collecting. */
static void
metrics_opts(const struct sl_ctx *ctx, const struct sel *sel,
    struct sl_prom_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->history = history_of(ctx, sel) != NULL;
	o->truncated = sel->truncated;
	o->consumers = ctx->cfg->metrics_consumers;
	o->version = sl_version;
	o->commit = sl_commit;
	o->target_only = sel->named;
}

/* The nodes and the history as collecting left them. */
static void
metrics_after(const struct sl_ctx *ctx, const struct sel *sel,
    struct sl_prom_opts *o)
{
	o->untracked = o->history ? sl_history_untracked(ctx->history) : 0;
	o->nnodes = sel->r->nnode_up;
	o->node_name = sel->r->node_name;
	o->node_up = sel->r->node_up;
	o->node_role = sel->r->node_role;
	o->nreplicas = sel->r->nreplicas;
	o->replica_name = sel->r->replica_name;
	o->replica_lag = sel->r->replica_lagv;
}

/* Prometheus: every group of every monitored stream, with the streams'
 * facts; Redis down still answers 200 (streamlag_redis_up 0), as exporters
 * do, so that the scrape itself never fails.  The lines are staged a chunk
 * of streams at a time, so a worker holds no more than a chunk's entries. */
static void
h_metrics(struct sl_ctx *ctx, const struct sel *sel, struct sl_response *resp)
{
	static struct sl_counters	 local;	/* `streamlag get`: this process */
	struct sl_thresholds		 t;
	struct sl_prom_opts		 o;
	struct metrics_stage		 ms = { .ctx = ctx, .sel = sel,
	    .o = &o };
	struct sl_lag_query		 q = { .group = NULL, .all_groups = 1,
	    .t = thresholds(ctx, sel->tgt, &t), .with_streams = 1,
	    .hint = sel->tgt->consumer_group,
	    .on_chunk = metrics_chunk, .chunk_arg = &ms };
	struct sl_lag_report		 rep;
	int64_t				 t0 = sl_monotonic_us();
	struct prom_args		 args = { &rep, &o, &ms.stage };
	enum sl_err			 rc = SL_EREDIS;

	memset(&rep, 0, sizeof(rep));
	metrics_opts(ctx, sel, &o);
	sl_prom_stage_init(&ms.stage);
	ms.stage.mem_max = (size_t)ctx->cfg->metrics_memory_mb << 20;
	sel->r->failures = 0;
	if (!sel->redis_down)
		rc = sl_collect_lag(sel->r, sel->streams, sel->n, &q, &rep,
		    NULL);
	if (rc == SL_ESYS)	/* no temporary file for a family's lines */
		sl_log(SL_LOG_ERROR, "metrics_stage_failed", "tmpdir=\"%s\"",
		    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (rc == SL_ENOMEM || rc == SL_ESYS) {
		sl_prom_stage_free(&ms.stage);
		fail_request(resp, rc);
		return;
	}
	if (rc != SL_OK)
		args.rep = NULL;	/* nothing to say about streams */
	metrics_after(ctx, sel, &o);
	o.redis_up = rc == SL_OK && sel->r->failures == 0;
	o.collect_seconds = (double)(sl_monotonic_us() - t0) / 1e6;
	o.counters = ctx->counters != NULL ? ctx->counters : &local;
	set_rendered(ctx, resp, 200, CT_PROM, render_prom, &args);
	sl_prom_stage_free(&ms.stage);
	sl_lag_report_free(&rep);
}

static void
h_streams(struct sl_ctx *ctx, const struct sel *sel, struct sl_response *resp)
{
	struct sl_streams_report rep;
	struct sl_thresholds	 t;
	enum sl_err		 rc = SL_EREDIS;

	memset(&rep, 0, sizeof(rep));
	if (!sel->redis_down)
		rc = sl_collect_streams(sel->r, sel->streams, sel->n,
		    thresholds(ctx, sel->tgt, &t), &rep, NULL);
	if (rc != SL_OK)
		fail_request(resp, rc);
	else
		set_json(resp, 200, sl_render_streams(&rep));
	sl_streams_report_free(&rep);
}

/* The streams a target's probe asks about: its configured ones, or the
 * last set discovery left in the shared cache, whatever its age (*own,
 * to free); none when there is no such set (the verdict is then
 * "unknown": the targets list never scans).  SL_OK or SL_ENOMEM. */
static enum sl_err
probe_streams(const struct sl_target *tgt, struct sl_redis *r,
    struct sl_probe *p, char ***own, size_t *nown)
{
	struct sl_discache_key k = { .target = r->target,
	    .pattern = tgt->stream_pattern,
	    .max = tgt->discovery_max, .now_ms = sl_monotonic_ms(),
	    .ttl_ms = 0, .stale = 1 };
	int	 found = 0, truncated;

	*own = NULL;
	*nown = 0;
	p->streams_known = 1;
	if (tgt->stream_pattern == NULL) {
		p->streams = tgt->streams;
		p->nstreams = tgt->nstreams;
		return SL_OK;
	}
	if (r->discache != NULL && sl_discache_get(r->discache, &k, own, nown,
	    &truncated, &found) != SL_OK)
		return SL_ENOMEM;
	p->streams = *own;
	p->nstreams = *nown;
	p->streams_known = found;
	return SL_OK;
}

/* Every target at once, each with one batch on its own connection and
 * thread (probe.h): a frozen target costs its own timeout
 * (STREAMLAG_TARGET_<NAME>_REDIS_TIMEOUT_MS) and the answer comes by the
 * slowest target's deadline, not by their sum.  Always 200: the body says
 * which are down. */
static void
h_targets(struct sl_ctx *ctx, const struct sel *sel, struct sl_response *resp)
{
	size_t			 n = sl_config_ntargets(ctx->cfg), i;
	struct sl_target_state	*st = sl_calloc(n, sizeof(*st));
	struct sl_probe		*p = sl_calloc(n, sizeof(*p));
	char			***own = sl_calloc(n, sizeof(*own));
	size_t			*nown = sl_calloc(n, sizeof(*nown));
	struct sl_thresholds	 t;

	(void)sel;
	for (i = 0; st != NULL && p != NULL && own != NULL && nown != NULL &&
	    i < n; i++) {
		const struct sl_target *tgt = sl_config_target(ctx->cfg, i);

		p[i].r = &ctx->redis[i];
		p[i].st = &st[i];
		p[i].group = tgt->all_groups ? NULL : tgt->consumer_group;
		p[i].t = *thresholds(ctx, tgt, &t);
		st[i].name = sl_config_target_name(ctx->cfg, i);
		if (probe_streams(tgt, p[i].r, &p[i], &own[i], &nown[i]) !=
		    SL_OK)
			break;
	}
	if (i == n) {
		sl_probe_all(p, n);
		for (i = 0; i < n && p[i].rc != SL_ENOMEM; i++)
			;
	}
	if (i == n)
		set_json(resp, 200, sl_render_targets(st, n,
		    sl_config_target_name(ctx->cfg, 0)));
	else
		fail_request(resp, SL_ENOMEM);
	for (i = 0; own != NULL && nown != NULL && i < n; i++)
		sl_names_free(own[i], nown[i]);
	sl_free(nown);
	sl_free(own);
	sl_free(p);
	sl_free(st);
}

/* ?stream=a,b: a subset of the monitored streams, in the order asked.
 * SL_OK, SL_EINPUT (err set), or SL_ENOMEM. */
static enum sl_err
select_streams(char **all, size_t nall, const struct sl_query_param *q,
    char ***out, size_t *nout, char *err, size_t errlen)
{
	char		**chosen;
	size_t		 n = 0;
	const char	*p = q->value, *end = q->value + q->value_len;

	if ((chosen = calloc(nall > 0 ? nall : 1, sizeof(*chosen))) == NULL)
		return SL_ENOMEM;
	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t len = (size_t)((comma ? comma : end) - p), i, j;

		for (i = 0; i < nall; i++)
			if (strlen(all[i]) == len && memcmp(all[i], p, len) == 0)
				break;
		if (i == nall) {
			snprintf(err, errlen, "stream: \"%.*s\" is not a monitored "
			    "stream", (int)(len > 64 ? 64 : len), p);
			free(chosen);
			return SL_EINPUT;
		}
		for (j = 0; j < n && chosen[j] != all[i]; j++)
			;
		if (j == n)
			chosen[n++] = all[i];
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	*out = chosen;
	*nout = n;
	return SL_OK;
}

static int
valid_group(const struct sl_query_param *q)
{
	return q->value_len > 0 && q->value_len <= SL_NAME_MAX;
}

/* The streams matching the target's STREAMLAG_STREAM_PATTERN into sel
 * (owned by *disc); a Redis failure marks sel->redis_down.  SL_OK or
 * SL_ENOMEM. */
static enum sl_err
discover(struct sel *sel, char ***disc, size_t *ndisc)
{
	enum sl_err rc;

	sel->r->nscan_err = 0;
	rc = sl_discover(sel->r, sel->tgt->stream_pattern,
	    sel->tgt->discovery_max, disc, ndisc, &sel->truncated, NULL);
	if (rc == SL_ENOMEM)
		return rc;
	sel->redis_down = rc != SL_OK;
	sel->node_errors = sel->r->scan_errp;
	sel->nnode_errors = sel->r->nscan_err;
	sel->streams = *disc;
	sel->n = *ndisc;
	return SL_OK;
}

/* The target a request asks about: ?target=NAME, else target 0 (the
 * default one, or the first named).  0, or -1 with resp the 400. */
static int
select_target(struct sl_ctx *ctx, const struct sl_query_param *tq,
    struct sel *sel, struct sl_response *resp)
{
	char	 msg[200];
	long	 i = 0;

	if (tq != NULL && (i = sl_config_target_find(ctx->cfg, tq->value,
	    tq->value_len)) == -1) {
		snprintf(msg, sizeof(msg), "target: \"%.*s\" is not a "
		    "configured target", (int)(tq->value_len > 64 ? 64 :
		    tq->value_len), tq->value);
		sl_http_error(resp, 400, "bad_query", msg);
		return -1;
	}
	sel->tgt = sl_config_target(ctx->cfg, (size_t)i);
	sel->r = &ctx->redis[i];
	/* Discovery, collection and their follow-up batches: one deadline
	 * (ended in dispatch). */
	sl_redis_begin(sel->r);
	sel->named = tq != NULL;
	sel->streams = sel->tgt->streams;
	sel->n = sel->tgt->nstreams;
	sel->group = sel->tgt->consumer_group;
	sel->all_groups = sel->tgt->all_groups;
	return 0;
}

/* Checks the query against the route: each parameter known and given once;
 * ?stream= and ?target= handed back, ?group= kept for after the target is
 * chosen.  0, or -1 with resp the 400. */
static int
read_params(const struct route *rt, const struct sl_query_param *q,
    size_t nq, const struct sl_query_param **stream_q,
    const struct sl_query_param **group_q,
    const struct sl_query_param **target_q, int *detail,
    struct sl_response *resp)
{
	char msg[200];

	for (size_t i = 0; i < nq; i++) {
		/* Twice is ambiguous (which one wins differs between
		 * frameworks and proxies): refused, never guessed. */
		for (size_t j = 0; j < i; j++)
			if (strcmp(q[i].name, q[j].name) == 0) {
				snprintf(msg, sizeof(msg), "query parameter "
				    "\"%.40s\" given more than once",
				    q[i].name);
				sl_http_error(resp, 400, "bad_query", msg);
				return -1;
			}
		if ((rt->params & Q_STREAM) && strcmp(q[i].name, "stream") == 0)
			*stream_q = &q[i];
		else if ((rt->params & Q_DETAIL) &&
		    strcmp(q[i].name, "detail") == 0) {
			if (strcmp(q[i].value, "pel") != 0) {
				sl_http_error(resp, 400, "bad_query",
				    "detail: expected pel");
				return -1;
			}
			*detail = 1;
		}
		else if ((rt->params & Q_TARGET) &&
		    strcmp(q[i].name, "target") == 0)
			*target_q = &q[i];
		else if ((rt->params & Q_GROUP) &&
		    strcmp(q[i].name, "group") == 0) {
			if (!valid_group(&q[i])) {
				sl_http_error(resp, 400, "bad_query",
				    "group: expected a consumer group name "
				    "(1 to 4096 bytes) or *");
				return -1;
			}
			*group_q = &q[i];
		} else {
			snprintf(msg, sizeof(msg), "unknown query parameter "
			    "\"%.40s\"", q[i].name);
			sl_http_error(resp, 400, "bad_query", msg);
			return -1;
		}
	}
	return 0;
}

static void
dispatch(struct sl_ctx *ctx, const struct route *rt,
    const struct sl_request *req, struct sl_response *resp)
{
	struct sl_query_param	*q = NULL;
	const struct sl_query_param *stream_q = NULL, *group_q = NULL,
				*target_q = NULL;
	struct sel		 sel;
	size_t			 nq = 0, ndisc = 0;
	char			**disc = NULL, **chosen = NULL;
	char			 err[160];
	enum sl_err		 rc;

	memset(&sel, 0, sizeof(sel));
	if (rt->params & Q_IGNORE) {
		(void)select_target(ctx, NULL, &sel, resp);
		rt->handler(ctx, &sel, resp);
		sl_redis_end(sel.r);
		return;
	}
	if (sl_query_parse(req->query, &q, &nq, err, sizeof(err)) == -1) {
		sl_http_error(resp, 400, "bad_query", err);
		return;
	}
	if (read_params(rt, q, nq, &stream_q, &group_q, &target_q,
	    &sel.detail_pel, resp) == -1 ||
	    select_target(ctx, target_q, &sel, resp) == -1)
		goto out;
	if (group_q != NULL) {
		sel.all_groups = strcmp(group_q->value, "*") == 0;
		sel.group = group_q->value;
	}
	/* Discovery: the monitored streams are those matching the pattern. */
	if (sel.tgt->stream_pattern != NULL && rt->params != 0 &&
	    discover(&sel, &disc, &ndisc) == SL_ENOMEM) {
		fail_request(resp, SL_ENOMEM);
		goto out;
	}
	if (stream_q != NULL && !sel.redis_down) {
		if ((rc = select_streams(sel.streams, sel.n, stream_q, &chosen,
		    &sel.n, err, sizeof(err))) == SL_ENOMEM) {
			fail_request(resp, rc);
			goto out;
		}
		if (rc != SL_OK) {
			sl_http_error(resp, 400, "bad_query", err);
			goto out;
		}
		sel.streams = chosen;
	}
	rt->handler(ctx, &sel, resp);
	/* A cluster asked for a database other than 0 (auto mode): said as
	 * such, not as an unreachable Redis (unless the body went already). */
	if (resp->status == 503 && sel.r->cluster_db &&
	    (ctx->stream == NULL || !ctx->stream->started))
		cluster_db(resp);
out:
	if (sel.r != NULL)
		sl_redis_end(sel.r);
	free(chosen);
	sl_names_free(disc, ndisc);
	sl_query_free(q, nq);
}

static const struct route *
route_of(const char *path)
{
	for (size_t i = 0; path != NULL && i < sizeof(routes) / sizeof(routes[0]);
	    i++)
		if (strcmp(path, routes[i].path) == 0)
			return &routes[i];
	return NULL;
}

enum sl_route_id
sl_route_id(const char *path)
{
	const struct route *rt = route_of(path);

	return rt != NULL ? rt->id : SL_ROUTE_OTHER;
}

static unsigned
method_bit(const char *method)
{
	for (size_t i = 0; method != NULL &&
	    i < sizeof(method_names) / sizeof(method_names[0]); i++)
		if (strcmp(method, method_names[i].name) == 0)
			return method_names[i].bit;
	return 0;
}

/* The Allow header of a route (a static string: every route takes GET and
 * HEAD today). */
static const char *
allow_of(const struct route *rt)
{
	return rt->methods == (M_GET | M_HEAD) ? "GET, HEAD" : "GET";
}

/* 0 when the request may go on; else resp is the refusal. */
static int
authorize(struct sl_ctx *ctx, const struct sl_request *req,
    struct sl_response *resp)
{
	const char *why = NULL;

	switch (sl_auth_check(ctx->cfg, req->authorization, req->now, &why)) {
	case SL_AUTH_OK:
		return 0;
	case SL_AUTH_MISSING:
		sl_http_error(resp, 401, "unauthorized", "Missing bearer token");
		resp->www_authenticate = AUTH_MISSING;
		break;
	case SL_AUTH_INVALID:
		sl_log(SL_LOG_INFO, "auth_refused", "reason=\"%s\"",
		    why != NULL ? why : "invalid");
		sl_http_error(resp, 401, "invalid_token",
		    "Invalid or expired token");
		resp->www_authenticate = AUTH_INVALID;
		break;
	case SL_AUTH_SCOPE:
		sl_http_error(resp, 403, "insufficient_scope",
		    "Token lacks the required scope");
		resp->www_authenticate = AUTH_SCOPE;
		break;
	}
	return -1;
}

enum sl_route_id
sl_route(struct sl_ctx *ctx, const struct sl_request *req,
    struct sl_response *resp)
{
	const struct route *rt = route_of(req->path);

	memset(resp, 0, sizeof(*resp));
	if (rt == NULL) {
		sl_http_error(resp, 404, "not_found", "No such endpoint");
		return SL_ROUTE_OTHER;
	}
	if ((method_bit(req->method) & rt->methods) == 0) {
		sl_http_error(resp, 405, "method_not_allowed",
		    "Method not allowed; use GET");
		resp->allow = allow_of(rt);
		return rt->id;
	}
	if (rt->needs_auth && !req->skip_auth && authorize(ctx, req, resp) == -1)
		return rt->id;
	if (rt->params & Q_OWN)
		rt->handler(ctx, &(struct sel){ .query = req->query }, resp);
	else
		dispatch(ctx, rt, req, resp);
	return rt->id;
}
