/* SPDX-License-Identifier: ISC */
/* Routes are data: {path, handler, needs_auth}.  One place maps a request to
 * a handler and every failure to a status code and error body. */
#ifndef STREAMLAG_ROUTER_H
#define STREAMLAG_ROUTER_H

#include "streamlag/config.h"
#include "streamlag/history.h"
#include "streamlag/http.h"
#include "streamlag/err.h"
#include "streamlag/model.h"
#include "streamlag/out.h"
#include "streamlag/redis.h"
#include "streamlag/shared.h"

/*
 * Where the large bodies (consumer-lag, /metrics) go while they are
 * rendered, instead of into resp->body: the worker's client.  The router
 * collects first, so the status is final when it calls head(); the body then
 * goes to body() in pieces of about flush_at bytes (0: SL_OUT_FLUSH_AT), and
 * no worker holds a whole answer.  Without Content-Length: nginx sends the
 * answer chunked.
 */
struct sl_stream {
	/* Sends resp's status and headers, without Content-Length; 0 or -1. */
	int		(*head)(void *arg, const struct sl_response *resp);
	sl_out_sink	 body;
	void		*arg;
	size_t		 flush_at;
	/* Set by the router. */
	int		 started;	/* head() was called: send nothing more */
	enum sl_err	 err;		/* SL_OK, or what cut the body short: the
					 * client must then see the answer cut
					 * (the connection is aborted) */
};

struct sl_ctx {
	const struct sl_config	*cfg;
	/* One connection per target, indexed like sl_config_target(cfg, i)
	 * (targets.h): a single struct when there is one target. */
	struct sl_redis		*redis;
	struct sl_counters	*counters;	/* shared by the workers; may be NULL */
	/* When set, consumer-lag and health hand their report here (the
	 * caller frees it) besides rendering it: `get --format`, `top`. */
	struct sl_lag_report	*lag_out;
	/* When set, large bodies are streamed there (see sl_stream). */
	struct sl_stream	*stream;
	struct sl_history	*history;	/* the sampler's; NULL when off */
};

/* The route a path belongs to (SL_ROUTE_OTHER for none), from the route
 * table. */
enum sl_route_id sl_route_id(const char *path);

/* Answers req into resp (or through ctx->stream); returns the route the
 * path matched, for the request metrics. */
enum sl_route_id sl_route(struct sl_ctx *ctx, const struct sl_request *req,
	    struct sl_response *resp);

#endif
