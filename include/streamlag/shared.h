/* Memory shared by the master and every worker, mapped before fork.  Each
 * worker slot sits on its own cache line; a slot is written by its worker and
 * read by the master (request deadline) and by any worker (metrics). */
#ifndef STREAMLAG_SHARED_H
#define STREAMLAG_SHARED_H

#include <stdint.h>
#include <sys/types.h>

#define SL_MAX_WORKERS	256
#define SL_MAX_SLOTS	(2 * SL_MAX_WORKERS)	/* room to roll every worker */

struct sl_slot {
	volatile pid_t		pid;		/* 0 = free */
	volatile int64_t	busy_since_ms;	/* CLOCK_MONOTONIC; 0 = idle */
	volatile uint64_t	requests;	/* handled by this process */
} __attribute__((aligned(64)));

struct sl_shared {
	struct sl_slot	slots[SL_MAX_SLOTS];
};

/* Anonymous shared mapping; NULL with errno set on failure. */
struct sl_shared *sl_shared_create(void);
void	sl_shared_destroy(struct sl_shared *sh);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t	sl_monotonic_ms(void);

#endif
