/* SPDX-License-Identifier: ISC */
/* The slot map of a Redis Cluster: which master serves each of the 16384
 * slots, and its replicas.  Filled from a CLUSTER SLOTS reply, corrected one
 * slot at a time by MOVED redirections.  Pure: no sockets here. */
#ifndef STREAMLAG_SLOTMAP_H
#define STREAMLAG_SLOTMAP_H

#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>

#include "streamlag/crc16.h"
#include "streamlag/err.h"

#define SL_SLOT_NONE		0xffff	/* a slot no master serves */
#define SL_SLOTMAP_MAX_NODES	1000	/* Redis's own advice is ≤ 1000 */
#define SL_HOST_MAX		255	/* longest host name kept */

struct sl_slotnode {
	char	*host;		/* owned; an IPv6 address has no brackets */
	int	 port;
	int	 master;	/* index of its master, or -1 for a master */
};

struct sl_slotmap {
	struct sl_slotnode *nodes;	/* owned, each host unique with port */
	size_t		 nnodes, cap;
	uint16_t	 slot[SL_CLUSTER_SLOTS];	/* node index or SL_SLOT_NONE */
	unsigned long	 version;	/* bumped by every change */
};

void	sl_slotmap_init(struct sl_slotmap *m);
void	sl_slotmap_free(struct sl_slotmap *m);
/*
 * Replaces m with the map of a CLUSTER SLOTS reply (RESP2: an array of
 * [start, end, [host, port, id...], replicas...]).  A master's host given
 * as "" or nil means the node that answered: origin.  Nodes whose endpoint
 * is unknown ("?") are left out.  On failure m is unchanged: SL_EPROTO for a
 * malformed reply (e says where), SL_ENOMEM.
 */
enum sl_err sl_slotmap_parse_slots(struct sl_slotmap *m, const redisReply *r,
	    const char *origin, struct sl_error *e);
/* The index of the master serving slot, or -1. */
int	sl_slotmap_lookup(const struct sl_slotmap *m, unsigned slot);
/* The index of host:port, or -1. */
int	sl_slotmap_find(const struct sl_slotmap *m, const char *host, int port);
/* After "MOVED slot host:port": slot is served by host:port, a master from
 * now on (added when new).  SL_OK, SL_EINPUT, SL_ENOMEM. */
enum sl_err sl_slotmap_moved(struct sl_slotmap *m, unsigned slot,
	    const char *host, int port, struct sl_error *e);

enum sl_redirect_kind { SL_REDIRECT_NONE, SL_REDIRECT_MOVED, SL_REDIRECT_ASK };

struct sl_redirect {
	enum sl_redirect_kind kind;
	unsigned	 slot;
	char		 host[SL_HOST_MAX + 1];
	int		 port;
};

/*
 * An error reply's text: "MOVED 3999 127.0.0.1:6381", "ASK 3999 ::1:6381"
 * (Redis writes IPv6 without brackets; "[::1]:6381" is read too) or
 * "MOVED 3999 :6381", whose empty host means the node that answered
 * (answered).  SL_OK with kind SL_REDIRECT_NONE for any other error;
 * SL_EPROTO for a MOVED or ASK that cannot be read.
 */
enum sl_err sl_redirect_parse(const char *s, size_t len, const char *answered,
	    struct sl_redirect *out, struct sl_error *e);

#endif
