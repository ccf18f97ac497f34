/* SPDX-License-Identifier: ISC */
/* The discovered set of streams (STREAMLAG_STREAM_PATTERN), kept in memory
 * shared by the workers for STREAMLAG_DISCOVERY_TTL_MS, so that a
 * million-key keyspace is not rescanned on every request.  One worker at a
 * time refreshes it; the others keep answering from the previous set
 * meanwhile.  Writers and readers meet through a sequence lock: a reader
 * copies the names out and keeps the copy only if no write began. */
#ifndef STREAMLAG_DISCACHE_H
#define STREAMLAG_DISCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "streamlag/err.h"

#define SL_DISCACHE_BYTES	(8u << 20)	/* names held, NUL-separated */

struct sl_discache {
	volatile uint32_t	 seq;		/* odd while being written */
	volatile int		 refreshing;	/* a worker is scanning */
	volatile int64_t	 refresh_at_ms;	/* since when */
	int64_t			 at_ms;		/* CLOCK_MONOTONIC; 0 = empty */
	uint64_t		 pattern_hash;
	long long		 max;
	int			 truncated;
	size_t			 n, used;
	char			 names[SL_DISCACHE_BYTES];
};

/* What a reader asks for: the set stored for pattern and max less than
 * ttl_ms before now_ms (any age with stale). */
struct sl_discache_key {
	const char	*target;	/* the target's name; NULL: none */
	const char	*pattern;
	long long	 max;
	int64_t		 now_ms;
	long long	 ttl_ms;
	int		 stale;
};

/* A copy of the cached set for k.  SL_OK with *found 1 and out/n/truncated
 * set (free the names with sl_names_free), or *found 0 and *out NULL when
 * there is none (also when a refresh wrote while it was copied);
 * SL_ENOMEM with *found 0 and nothing to free. */
enum sl_err	sl_discache_get(struct sl_discache *c,
		    const struct sl_discache_key *k, char ***out, size_t *n,
		    int *truncated, int *found);
/* 1 when this process may refresh (then sl_discache_done), 0 when another
 * one is at it (for less than SL_DISCACHE_TAKEOVER_MS: a worker that died
 * while scanning does not stop refreshes for ever). */
#define SL_DISCACHE_TAKEOVER_MS	30000
int	sl_discache_begin(struct sl_discache *c, int64_t now_ms);
/* Stores the set of target's pattern (unless it does not fit) and ends
 * the refresh. */
void	sl_discache_done(struct sl_discache *c, const char *target,
	    const char *pattern, long long max, char *const *names, size_t n,
	    int truncated, int64_t now_ms);

#endif
