/* SPDX-License-Identifier: ISC */
/* XINFO replies (RESP2 flat field/value arrays) into plain structs.  Fields
 * are found by name, never by position; unknown fields are ignored, so the
 * Redis 5, 6, 7.0 and 7.2 field sets all parse.  No sockets: unit-tested on
 * crafted replies. */
#ifndef STREAMLAG_XINFO_H
#define STREAMLAG_XINFO_H

#include <stddef.h>
#include <hiredis/hiredis.h>

#include "streamlag/model.h"

#define SL_XINFO_MAX_ITEMS 100000	/* groups or consumers in one reply */

/* Each returns 0, or -1 with err set (malformed reply or out of memory). */
int	sl_xinfo_groups(const redisReply *r, struct sl_group **out, size_t *n,
	    char *err, size_t errlen);
int	sl_xinfo_consumers(const redisReply *r, struct sl_consumer **out,
	    size_t *n, char *err, size_t errlen);
int	sl_xinfo_stream(const redisReply *r, struct sl_stream_info *out,
	    char *err, size_t errlen);

void	sl_groups_free(struct sl_group *g, size_t n);
void	sl_consumers_free(struct sl_consumer *c, size_t n);

/* Milliseconds part of a stream id "ms-seq"; -1 when it is not one. */
long long sl_id_ms(const char *id);

#endif
