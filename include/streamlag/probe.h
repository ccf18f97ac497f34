/* SPDX-License-Identifier: ISC */
/*
 * The cheap look at a target that GET /api/v1/events/targets takes: one
 * pipelined batch per target (INFO server when the connection does not
 * know the server yet, and XINFO GROUPS of each monitored stream), the
 * verdict from Redis's own lag per group against the target's thresholds,
 * and every target probed at once, each on its own connection and thread,
 * so that a frozen target costs its own deadline and never the others'.
 *
 * The verdict is cheaper than /api/v1/events/health's: no consumers (so no
 * stall), no count of what Redis's lag leaves unknown, no correction of
 * the trim error of Redis 7.0-7.4.3.  A group whose lag Redis does not
 * know makes the verdict "unknown" unless another is unhealthy.
 */
#ifndef STREAMLAG_PROBE_H
#define STREAMLAG_PROBE_H

#include <stddef.h>
#include <hiredis/hiredis.h>

#include "streamlag/err.h"
#include "streamlag/lag.h"
#include "streamlag/redis.h"
#include "streamlag/targets.h"

/* The groups of a target's streams, as their XINFO GROUPS replies say. */
struct sl_probe_tally {
	long long	 groups;	/* groups judged */
	long long	 healthy, degraded, unhealthy;
	long long	 lag_unknown;	/* Redis's lag nil or absent */
	long long	 no_group;	/* the configured group missing */
	long long	 errors;	/* a stream missing or failed */
};

/* One stream's XINFO GROUPS reply (NULL: no reply) into v: the group
 * named, or every group when group is NULL.  SL_OK or SL_ENOMEM. */
enum sl_err sl_probe_tally_add(struct sl_probe_tally *v, const redisReply *r,
	    const char *group, const struct sl_thresholds *t);
/* The verdict: 1 with *s set, or 0 when it is unknown (a lag Redis does
 * not know and nothing unhealthy). */
int	sl_probe_verdict(const struct sl_probe_tally *v, enum sl_status *s);

/* One target's probe: its connection, what to ask, and the answer. */
struct sl_probe {
	struct sl_redis		*r;
	char *const		*streams;	/* borrowed */
	size_t			 nstreams;
	int			 streams_known;	/* 0: discovery with no set yet */
	const char		*group;		/* NULL: every group */
	struct sl_thresholds	 t;
	struct sl_target_state	*st;		/* filled; name set by the caller */
	enum sl_err		 rc;		/* SL_OK, SL_EREDIS, SL_ENOMEM */
	unsigned		 round_trips;
};

/* One probe, in the calling thread. */
void	sl_probe_run(struct sl_probe *p);
/* Every probe at once, one thread each (the calling thread's signals
 * blocked in them; a probe whose thread could not start runs in the
 * calling thread).  Returns when all are done. */
void	sl_probe_all(struct sl_probe *p, size_t n);

#endif
