/* The FastCGI accept loop of one process. */
#ifndef STREAMLAG_WORKER_H
#define STREAMLAG_WORKER_H

#include "streamlag/router.h"

/* Serves requests on listen_fd until SIGTERM/SIGINT; the request in flight
 * completes first.  Returns 0 on a graceful stop, -1 on a fatal error. */
int	sl_worker_run(struct sl_ctx *ctx, int listen_fd);

#endif
