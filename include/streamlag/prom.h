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
/*
 * The same exposition over a report that comes a chunk at a time (the
 * collector's on_chunk): each family's lines of a chunk go to that
 * family's own buffer.  Once the buffers hold mem_max bytes or more,
 * each goes on in an unlinked temporary file ($TMPDIR, else /tmp), past
 * SL_OUT_FLUSH_AT bytes at a time.  sl_prom_stage_out then
 * writes the families in their order, with r (whose entries are gone: its
 * totals and what was not covered) for the rest.  A worker holds a buffer
 * per family, however many streams.  o's consumers and history must be the
 * same for every call.  SL_OK, SL_ENOMEM, or SL_ESYS (a temporary file).
 */
#define SL_PROM_STAGED	32	/* families of streams and groups, at most */
#define SL_PROM_STAGE_MEM (16u << 20)	/* STREAMLAG_METRICS_MEMORY_MB's
					 * default */
struct sl_prom_spill {
	int		 fd;	/* -1 until the family first spills */
};
struct sl_prom_stage {
	struct sl_out		 fam[SL_PROM_STAGED];
	struct sl_prom_spill	 spill[SL_PROM_STAGED];
	int			 spilling;	/* the files are in use */
	size_t			 mem_max;	/* SL_PROM_STAGE_MEM after init */
};
void	sl_prom_stage_init(struct sl_prom_stage *st);
enum sl_err sl_prom_stage_add(struct sl_prom_stage *st,
	    const struct sl_lag_report *chunk, const struct sl_prom_opts *o);
enum sl_err sl_prom_stage_out(struct sl_prom_stage *st,
	    const struct sl_lag_report *r, const struct sl_prom_opts *o,
	    struct sl_out *out);
void	sl_prom_stage_free(struct sl_prom_stage *st);

/* The same, whole, sl_malloc'd; NULL when out of memory. */
char	*sl_render_prom(const struct sl_lag_report *r,
	    const struct sl_prom_opts *o);

#endif
