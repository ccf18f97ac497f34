/* SPDX-License-Identifier: ISC */
/* The FastCGI accept loop of one process. */
#ifndef STREAMLAG_WORKER_H
#define STREAMLAG_WORKER_H

#include "streamlag/router.h"
#include "streamlag/shared.h"

/* The deadline of each phase of a connection, in ms; 0 = none.  The request
 * itself (from the moment it is complete until its answer is written) is
 * bounded by the master (sl_serve_opts.deadline_ms). */
struct sl_conn_deadlines {
	int	 first_byte_ms;	/* accepted, nothing received yet */
	int	 read_ms;	/* from the first byte until the request is whole */
	int	 idle_ms;	/* a kept connection between requests */
};

#define SL_FIRST_BYTE_DEADLINE_MS	5000
#define SL_READ_DEADLINE_MS		10000
#define SL_IDLE_DEADLINE_MS		5000

struct sl_worker_opts {
	struct sl_slot	*slot;		/* shared with the master; may be NULL */
	unsigned long	 max_requests;	/* stop after this many; 0 = never */
	struct sl_conn_deadlines deadlines;
};

/* Serves requests on listen_fd until SIGTERM/SIGINT or max_requests; the
 * request in flight completes first.  Returns 0 on a graceful stop, -1 on a
 * fatal error. */
int	sl_worker_run(struct sl_ctx *ctx, int listen_fd,
	    const struct sl_worker_opts *o);

/* The serve path of one process, apart from accepting: the record guard,
 * the hand-off to libfcgi, the router.  Calls FCGX_Init(). */
struct sl_worker;
struct sl_worker *sl_worker_new(struct sl_ctx *ctx,
	    const struct sl_worker_opts *o);
/* Serves the connection fd (already accepted) until it ends: the client
 * closes it, a deadline passes, the guard refuses a record, or a request
 * without FCGI_KEEP_CONN is answered.  Closes fd.  Returns the number of
 * requests answered. */
unsigned long sl_worker_serve_conn(struct sl_worker *w, int fd);
void	sl_worker_free(struct sl_worker *w);

#endif
