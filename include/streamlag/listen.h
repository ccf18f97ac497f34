/* SPDX-License-Identifier: ISC */
/* The FastCGI listening socket: unix:PATH or HOST:PORT. */
#ifndef STREAMLAG_LISTEN_H
#define STREAMLAG_LISTEN_H

#include <stddef.h>

#define SL_LISTEN_BACKLOG 511

/* Opens, binds and listens.  A unix socket gets `mode` and, when `group` is
 * not NULL, that group.  Returns the fd, or -1 with err set. */
int	sl_listen_open(const char *spec, unsigned mode, const char *group,
	    char *err, size_t errlen);
/* Removes a unix socket file opened by sl_listen_open (no-op for TCP). */
void	sl_listen_cleanup(const char *spec);

#endif
