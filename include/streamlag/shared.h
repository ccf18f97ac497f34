/* SPDX-License-Identifier: ISC */
/* Memory shared by the master and every worker, mapped before fork.  Each
 * worker slot sits on its own cache line; a slot is written by its worker and
 * read by the master (request deadline) and by any worker (metrics). */
#ifndef STREAMLAG_SHARED_H
#define STREAMLAG_SHARED_H

#include <stdint.h>
#include <sys/types.h>

#include "streamlag/discache.h"
#include "streamlag/lagcache.h"

#define SL_MAX_WORKERS	256
#define SL_MAX_SLOTS	(2 * SL_MAX_WORKERS)	/* room to roll every worker */
#define SL_SHARED_TARGETS 32	/* SL_TARGETS_MAX: a discovery cache each */

struct sl_slot {
	volatile pid_t		pid;		/* 0 = free */
	volatile int64_t	busy_since_ms;	/* CLOCK_MONOTONIC; 0 = idle */
	volatile uint64_t	requests;	/* handled by this process */
} __attribute__((aligned(64)));

/* The responder's own counters, added to atomically by every process. */
enum sl_route_id {
	SL_ROUTE_CONSUMER_LAG, SL_ROUTE_STREAMS, SL_ROUTE_HEALTH,
	SL_ROUTE_METRICS, SL_ROUTE_HEALTHZ, SL_ROUTE_AUTH_VERIFY, SL_ROUTE_TARGETS,
	SL_ROUTE_OTHER,
	SL_ROUTES
};
#define SL_CODES	11	/* 200 204 400 401 403 404 405 429 500 503, other */
#define SL_BUCKETS	11	/* request duration histogram, +Inf aside */

struct sl_counters {
	uint64_t	requests[SL_ROUTES][SL_CODES];
	uint64_t	duration_bucket[SL_ROUTES][SL_BUCKETS + 1];	/* not cumulative */
	uint64_t	duration_sum_us[SL_ROUTES];
	uint64_t	redis_errors;
	uint64_t	redis_connects;
	uint64_t	redis_redirects_moved;	/* MOVED followed */
	uint64_t	redis_redirects_ask;	/* ASK followed */
	uint64_t	worker_restarts;
	uint64_t	sampler_restarts;
} __attribute__((aligned(64)));

struct sl_shared {
	struct sl_slot		slots[SL_MAX_SLOTS];
	struct sl_counters	counters;
	struct sl_lagcache	lagcache;	/* counts and trim errors per group
						   (keyed by target, stream, group) */
	/* The discovered streams, one cache per target (by index): 8 MiB
	 * each of address space, but only the pages a set was written to
	 * are memory. */
	struct sl_discache	discache[SL_SHARED_TARGETS];
	struct sl_slot		sampler;	/* the sampler process (sampler.h) */
};

extern const char *const sl_route_names[SL_ROUTES];
extern const int sl_codes[SL_CODES - 1];
extern const double sl_buckets[SL_BUCKETS];	/* upper bounds, seconds */

/* Records one answered request. */
void	sl_count_request(struct sl_counters *c, enum sl_route_id route,
	    int status, int64_t duration_us);
/* Adds 1 to a counter, atomically (NULL counters: nothing). */
void	sl_count(struct sl_counters *c, uint64_t *field);

/* Anonymous shared mapping; NULL with errno set on failure. */
struct sl_shared *sl_shared_create(void);
void	sl_shared_destroy(struct sl_shared *sh);

/* CLOCK_MONOTONIC in milliseconds, and in microseconds. */
int64_t	sl_monotonic_ms(void);
int64_t	sl_monotonic_us(void);

#endif
