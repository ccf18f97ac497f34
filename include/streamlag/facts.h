/* SPDX-License-Identifier: ISC */
/*
 * Redis's replies into facts: the one module that reads a redisReply.
 * XINFO GROUPS/CONSUMERS/STREAM (RESP2 flat field/value arrays, found by
 * name, never by position, so that Redis 5, 6, 7.0 and 7.2 all parse),
 * TIME, XRANGE, XLEN, XPENDING, SCAN; Redis's refusals in its own words (the
 * generic "ERR " dropped, as redis-py does); and the rule for when an id
 * is a timestamp.  No sockets: unit-tested on crafted replies.
 *
 * Errors: SL_ENOMEM when an allocation failed (the request fails);
 * SL_EREDIS when the reply is Redis's refusal; SL_EPROTO when it is not
 * what the command returns.  Both of the latter are one stream's error,
 * with the detail in *why (when given).
 */
#ifndef STREAMLAG_FACTS_H
#define STREAMLAG_FACTS_H

#include <stddef.h>
#include <hiredis/hiredis.h>

#include "streamlag/err.h"
#include "streamlag/lag.h"
#include "streamlag/model.h"

#define SL_FACTS_MAX_ITEMS	100000	/* groups or consumers in one reply */
#define SL_SCAN_CURSOR_MAX	32	/* a SCAN cursor, NUL included */

/* Redis's words in an error reply, "ERR " dropped: 1 with *s and *len
 * set, 0 when r is not an error reply. */
int	sl_facts_words(const redisReply *r, const char **s, size_t *len);
/* A NOGROUP error reply. */
int	sl_facts_nogroup(const redisReply *r);

enum sl_err sl_facts_groups(const redisReply *r, struct sl_group **out,
	    size_t *n, struct sl_error *why);
enum sl_err sl_facts_consumers(const redisReply *r, struct sl_consumer **out,
	    size_t *n, struct sl_error *why);
enum sl_err sl_facts_stream(const redisReply *r, struct sl_stream_info *out,
	    struct sl_error *why);

/* Redis's clock from a TIME reply, in ms; -1 when malformed or out of
 * range (seconds past the year 9999, microseconds of a second or more). */
long long sl_facts_time_ms(const redisReply *r);

/* The age of an entry from its id, when the id looks like a timestamp:
 * its ms part within ten years before now_ms and a day after.  1 with
 * *age_ms set (0 for ids in the future), 0 when it is not one or now_ms
 * is unknown (< 0). */
int	sl_facts_id_age(const char *id, size_t len, long long now_ms,
	    long long *age_ms);

/* XRANGE s (last-delivered + COUNT 1: the first undelivered entry into
 * f->next, f->next_id and its age.  SL_OK, or SL_EPROTO (f->next -1). */
enum sl_err sl_facts_next(const redisReply *r, long long now_ms,
	    struct sl_lag_facts *f);
/* XLEN s: SL_OK with *len set; SL_EREDIS for Redis's refusal (an ACL
 * without +xlen), SL_EPROTO for what is not a length. */
enum sl_err sl_facts_length(const redisReply *r, long long *len);
/* XPENDING s g - + 1: 1 with the oldest pending entry's age, else 0. */
int	sl_facts_oldest_pending(const redisReply *r, long long now_ms,
	    long long *age_ms);
/* XPENDING s g - + 1 (or XRANGE): 1 with its first entry's id as two
 * numbers, else 0. */
int	sl_facts_first_id(const redisReply *r, unsigned long long *ms,
	    unsigned long long *seq);
/* A count step's XRANGE: the number of entries and the last one's id
 * (at most SL_ID_MAX bytes with the NUL).  SL_OK or SL_EPROTO. */
enum sl_err sl_facts_range_tail(const redisReply *r, size_t *k,
	    char last[SL_ID_MAX]);
/* SCAN ... TYPE stream: the next cursor, and the keys appended to
 * (*names, *n, *cap) (names holding a NUL are skipped: they cannot be
 * configured).  SL_OK, SL_EPROTO, or SL_ENOMEM (the names so far kept). */
enum sl_err sl_facts_scan(const redisReply *r, char cursor[SL_SCAN_CURSOR_MAX],
	    char ***names, size_t *n, size_t *cap);

/*
 * Replies applied to a lag entry through the pure rules of lag.c.
 * sl_facts_lag_entry: XINFO GROUPS <stream> and XINFO CONSUMERS <stream>
 * <group> (either NULL: "no reply from Redis").  sl_facts_lag_fail: the
 * entry fails with Redis's words when r is an error reply, else msg.
 * sl_facts_lag_consumers: the follow-up XINFO CONSUMERS (?group=*).
 * Each returns SL_OK (the entry may now hold an error) or SL_ENOMEM.
 */
enum sl_err sl_facts_lag_entry(struct sl_lag_entry *e, const char *group,
	    size_t group_len, const redisReply *groups,
	    const redisReply *consumers, const struct sl_thresholds *t);
enum sl_err sl_facts_lag_fail(struct sl_lag_entry *e, const redisReply *r,
	    const char *msg);
enum sl_err sl_facts_lag_consumers(struct sl_lag_entry *e,
	    const redisReply *r);
/* The count step's reply applied to st (a malformed one resets it). */
void	sl_facts_count_step(struct sl_lagcount *st, const redisReply *r,
	    long long step);

/* One stream of /api/v1/events/streams from XINFO STREAM and XINFO GROUPS
 * (groups NULL: /metrics, no group names); e->name already set.  SL_OK
 * (e->error set when the stream failed) or SL_ENOMEM. */
enum sl_err sl_facts_stream_entry(struct sl_stream_entry *e,
	    const redisReply *info, const redisReply *groups, long long now_ms);

#endif
