/* SPDX-License-Identifier: ISC */
/* Removing the unix socket file at stop when the master no longer may. */
#ifndef STREAMLAG_SOCKCLEAN_H
#define STREAMLAG_SOCKCLEAN_H

#include <stddef.h>

/*
 * Called before dropping privileges (--user) for a unix socket streamlag
 * created: if `user` will not be able to unlink `spec` (its directory is not
 * writable by that user), a small process keeps root's right to do it.  It
 * holds nothing but the read end of a pipe whose write end stays with the
 * master and its workers; when the last of them exits it removes the socket
 * file, if it is still the one bound here, and exits.  0, or -1 with err.
 */
int	sl_sockclean_arm(const char *spec, const char *user, char *err,
	    size_t errlen);

#endif
