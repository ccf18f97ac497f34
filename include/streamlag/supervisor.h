/* SPDX-License-Identifier: ISC */
/* The prefork master: one listening socket, N workers sharing it (the kernel
 * balances accept()), replaced when they die, rolled on SIGHUP, stopped
 * gracefully on SIGTERM.  The master never calls FCGX_Init (PITFALLS). */
#ifndef STREAMLAG_SUPERVISOR_H
#define STREAMLAG_SUPERVISOR_H

#include <stddef.h>

#include "streamlag/config.h"
#include "streamlag/worker.h"

struct sl_serve_opts {
	int		 workers;	/* 1 .. SL_MAX_WORKERS */
	unsigned long	 max_requests;	/* recycle a worker after this many; 0 = never */
	int		 deadline_ms;	/* kill a worker stuck in one request; 0 = never */
	int		 grace_ms;	/* SIGTERM, then SIGKILL after this long */
	struct sl_conn_deadlines deadlines;	/* the phases of a connection */
};

/* Re-reads the configuration (the --config file and every *_FILE secret).
 * Returns a new heap-allocated config, or NULL with err set. */
typedef struct sl_config *(*sl_reload_fn)(void *arg, char *err, size_t errlen);

/* The serving options of a configuration: STREAMLAG_WORKERS (0 = the
 * number of cores), STREAMLAG_MAX_REQUESTS and the deadlines. */
void	sl_serve_opts_from_config(const struct sl_config *cfg,
	    struct sl_serve_opts *o);

/* Runs until SIGTERM/SIGINT.  `*cfg` is owned by the supervisor from here
 * (a reload replaces and frees it); `*o` is copied, and a reload takes
 * new options from the new configuration: a changed STREAMLAG_WORKERS
 * resizes the pool, and the changed settings a reload cannot apply
 * (sl_config_restart_needed) are logged once.  Returns 0 after a graceful
 * stop. */
int	sl_supervise(int listen_fd, struct sl_config *cfg,
	    const struct sl_serve_opts *o, sl_reload_fn reload, void *arg);

#endif
