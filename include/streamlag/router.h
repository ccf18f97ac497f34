/* SPDX-License-Identifier: ISC */
/* Routes are data: {path, handler, needs_auth}.  One place maps a request to
 * a handler and every failure to a status code and error body. */
#ifndef STREAMLAG_ROUTER_H
#define STREAMLAG_ROUTER_H

#include "streamlag/config.h"
#include "streamlag/history.h"
#include "streamlag/http.h"
#include "streamlag/model.h"
#include "streamlag/redis.h"
#include "streamlag/shared.h"

struct sl_ctx {
	const struct sl_config	*cfg;
	struct sl_redis		*redis;
	struct sl_counters	*counters;	/* shared by the workers; may be NULL */
	/* When set, consumer-lag and health hand their report here (the
	 * caller frees it) besides rendering it: `get --format`, `top`. */
	struct sl_lag_report	*lag_out;
	struct sl_history	*history;	/* the sampler's; NULL when off */
};

/* The route a path belongs to, for the request metrics. */
enum sl_route_id sl_route_id(const char *path);

void	sl_route(struct sl_ctx *ctx, const struct sl_request *req,
	    struct sl_response *resp);

#endif
