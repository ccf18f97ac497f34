/* SPDX-License-Identifier: ISC */
/* The Prometheus text exposition format 0.0.4 (docs/metrics.md). */
#ifndef STREAMLAG_PROM_H
#define STREAMLAG_PROM_H

#include "streamlag/err.h"
#include "streamlag/model.h"
#include "streamlag/out.h"
#include "streamlag/shared.h"

struct sl_prom_opts {
	int		 redis_up;	/* every node needed answered */
	int		 truncated;
	int		 consumers;	/* per-consumer series */
	double		 collect_seconds;
	const struct sl_counters *counters;	/* may be NULL */
	const char	*version;
	const char	*commit;
	int		 target_only;	/* ?target=: no counters, no build info */
	int		 history;	/* the sampler is on: insight families */
	unsigned long long untracked;	/* groups the history could not keep */
	size_t		 nnodes;	/* streamlag_redis_node_up */
	const char *const *node_name;	/* "host:port" */
	const signed char *node_up;	/* 1, 0, or -1: not asked yet */
	const char *const *node_role;	/* "master", "replica", or NULL
					   (no role label: not Sentinel) */
	size_t		 nreplicas;	/* streamlag_redis_replica_offset_lag */
	const char *const *replica_name;
	const long long	*replica_lag;	/* -1: not up */
};

/* The exposition of the report (all groups, with stream info) into out,
 * which may have a sink: SL_OK, or out's error (SL_ENOMEM, SL_ESYS when the
 * sink failed; what was written is then not a whole exposition). */
enum sl_err sl_render_prom_out(const struct sl_lag_report *r,
	    const struct sl_prom_opts *o, struct sl_out *out);
/* The same, whole, sl_malloc'd; NULL when out of memory. */
char	*sl_render_prom(const struct sl_lag_report *r,
	    const struct sl_prom_opts *o);

#endif
