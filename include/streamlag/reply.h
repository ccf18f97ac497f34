/* SPDX-License-Identifier: ISC */
/* Reply objects for hiredis's reader: long names shortened while parsed,
 * reply bytes counted (see reply.c). */
#ifndef STREAMLAG_REPLY_H
#define STREAMLAG_REPLY_H

#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>

#include "streamlag/err.h"

#define SL_REPLY_NAME_MAX	4096	/* longest name kept whole (SL_NAME_MAX) */
#define SL_REPLY_NAME_KEEP	4064	/* bytes kept of a longer one */
#define SL_REPLY_NAME_MARK	"...~"	/* then 16 hex digits of its hash */

/* Under AddressSanitizer each reply object is an allocation of its own
 * (reply.c), so that one used after it was freed is caught. */
#if defined(__SANITIZE_ADDRESS__)
#define SL_REPLY_ONE_PER_BLOCK	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SL_REPLY_ONE_PER_BLOCK	1
#endif
#endif
#ifndef SL_REPLY_ONE_PER_BLOCK
#define SL_REPLY_ONE_PER_BLOCK	0
#endif

struct sl_reply_meter {
	unsigned long long bytes;	/* reply bytes parsed (about) */
};

/* Makes c's reader build replies with these functions, counting into m. */
void	sl_reply_install(redisContext *c, struct sl_reply_meter *m);
/* A reader (for sockets of streamlag's own) that builds replies with the
 * same functions, counting into m.  NULL on ENOMEM; redisReaderFree. */
redisReader *sl_reply_reader(struct sl_reply_meter *m);
uint64_t sl_reply_hash(const char *p, size_t len);
/* About the bytes Redis sent for r: each string at its length before any
 * shortening (these functions keep it in the string's integer field), and
 * a few bytes of framing per element. */
unsigned long long sl_reply_wire_bytes(const redisReply *r);
/* Frees a reply of these functions, or any other (freeReplyObject). */
void	sl_reply_free(void *reply);
/* From now on this thread builds replies in shared blocks (reply.c); other
 * threads, and every thread under AddressSanitizer, one allocation each.
 * main() asks it before any fork: the workers inherit it. */
void	sl_reply_blocks_enable(void);
/* Frees this thread's current block when no reply holds a piece of it
 * (the next reply takes a new one). */
void	sl_reply_blocks_release(void);
/* The next reply parsed from rd's input: SL_OK with *reply set (NULL while
 * it is incomplete; free it with sl_reply_free); SL_ENOMEM when building
 * it ran out of memory, never taken for a protocol error; SL_EPROTO when
 * the bytes are not RESP, with the reader's text in e.  After an error the
 * reader is dead (hiredis): free it. */
enum sl_err sl_reply_next(redisReader *rd, void **reply, struct sl_error *e);

#endif
