/* SPDX-License-Identifier: ISC */
/* The FastCGI accept loop of one process. */
#ifndef STREAMLAG_WORKER_H
#define STREAMLAG_WORKER_H

#include "streamlag/router.h"
#include "streamlag/shared.h"

struct sl_worker_opts {
	struct sl_slot	*slot;		/* shared with the master; may be NULL */
	unsigned long	 max_requests;	/* stop after this many; 0 = never */
};

/* Serves requests on listen_fd until SIGTERM/SIGINT or max_requests; the
 * request in flight completes first.  Returns 0 on a graceful stop, -1 on a
 * fatal error. */
int	sl_worker_run(struct sl_ctx *ctx, int listen_fd,
	    const struct sl_worker_opts *o);

#endif
