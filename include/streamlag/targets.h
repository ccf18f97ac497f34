/* SPDX-License-Identifier: ISC */
/* A process's connections to its Redis targets: one struct sl_redis per
 * target (sl_config_target), each with its own timeout and back-off, so
 * that a target that is down or frozen costs only the requests that ask
 * for it. */
#ifndef STREAMLAG_TARGETS_H
#define STREAMLAG_TARGETS_H

#include <stddef.h>

#include "streamlag/config.h"
#include "streamlag/lag.h"
#include "streamlag/model.h"
#include "streamlag/redis.h"
#include "streamlag/shared.h"

/*
 * Returns an array of sl_config_ntargets(cfg) connections, not yet
 * connected (free with sl_targets_close), or NULL when out of memory.  The
 * shared lag cache, when given, serves every target (its keys carry the
 * target's name, r->target); discache, when given, is an array of
 * SL_SHARED_TARGETS caches, target i using discache[i].
 */
struct sl_redis *sl_targets_open(const struct sl_config *cfg,
	    struct sl_counters *counters, struct sl_lagcache *lagcache,
	    struct sl_discache *discache);
void	sl_targets_close(struct sl_redis *r, size_t n);

/* What GET /api/v1/events/targets says of one target. */
struct sl_target_state {
	const char	*name;
	const char	*mode;		/* "standalone" or "cluster" */
	int		 nodes;
	int		 up;		/* this request reached it */
	int		 server_known;
	struct sl_server server;	/* INFO server, when known */
	int		 status_known;	/* a verdict was reached */
	enum sl_status	 status;
	long long	 groups;	/* groups judged (reached only) */
	long long	 lag_unknown;	/* of which Redis's lag is not known */
	unsigned	 round_trips;	/* of the probe, over the nodes */
	long long	 elapsed_ms;	/* what asking it cost */
};

/* {"default":NAME,"targets":[...]}: the JSON text (sl_malloc'd), or NULL
 * when out of memory. */
char	*sl_render_targets(const struct sl_target_state *s, size_t n,
	    const char *default_name);

#endif
