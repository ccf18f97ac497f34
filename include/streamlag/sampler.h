/* SPDX-License-Identifier: ISC */
/*
 * The sampler: one process next to the workers that, every
 * STREAMLAG_SAMPLE_MS, collects every stream and every group with the code
 * the workers use (sl_collect_lag with all groups, XINFO STREAM included),
 * reads each group's pending list (XPENDING <s> <g> - + STREAMLAG_PEL_SCAN)
 * and writes a sample and the pending-list answers into the history.  A
 * round obeys the request budget (STREAMLAG_REQUEST_MAX_COMMANDS and
 * _BYTES) like any request: the pending lists it cannot afford are left
 * for the next round.
 */
#ifndef STREAMLAG_SAMPLER_H
#define STREAMLAG_SAMPLER_H

#include <stdint.h>

#include "streamlag/config.h"
#include "streamlag/history.h"
#include "streamlag/redis.h"
#include "streamlag/shared.h"

#define SL_SAMPLER_NAMES_LOGGED	10	/* untracked groups named per line */

struct sl_sampler_round {
	long long	now_ms;		/* Redis's clock; -1 unknown */
	uint64_t	groups;		/* groups seen */
	uint64_t	tracked;	/* written into the history */
	uint64_t	untracked;	/* no slot left for them */
	uint64_t	pel_read;	/* pending lists read */
	uint64_t	pel_skipped;	/* left out by the budget */
	char		untracked_names[512];	/* "stream/group,..." (logfmt) */
};

/* One round.  SL_OK, SL_EREDIS (Redis unreachable: nothing written),
 * SL_ENOMEM. */
enum sl_err	sl_sampler_round(struct sl_redis *r, const struct sl_config *cfg,
		    struct sl_history *h, struct sl_sampler_round *out);

/* The sampler process's loop until SIGTERM: a round every sample_ms;
 * slot->busy_since_ms is set during a round so that the master can hold it
 * to STREAMLAG_REQUEST_DEADLINE_MS.  Returns the exit status. */
int		sl_sampler_run(const struct sl_config *cfg, struct sl_history *h,
		    struct sl_shared *sh, struct sl_slot *slot);

#endif
