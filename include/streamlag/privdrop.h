/* SPDX-License-Identifier: ISC */
/* Dropping root for a named user, after the socket is open. */
#ifndef STREAMLAG_PRIVDROP_H
#define STREAMLAG_PRIVDROP_H

#include <stddef.h>

/* No-op when user is NULL or empty.  Sets supplementary groups, then gid,
 * then uid, and proves the drop by failing to regain root.  0, or -1 with
 * err set. */
int	sl_privdrop(const char *user, char *err, size_t errlen);

#endif
