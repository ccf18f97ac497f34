/* SPDX-License-Identifier: ISC */
/*
 * A group's pending entries list turned into answers: the highest
 * delivery count, poison entries, claimable entries, dead consumers and
 * dangling entries.  The reply of the extended XPENDING form
 * (XPENDING <stream> <group> - + <count>: [[id, consumer, idle, deliveries],
 * ...]) is read into items by sl_facts_pel (src/facts_pel.c, next to the
 * other reply readers); sl_pel_analyze is pure.
 *
 * Redis 8.8's XNACK leaves entries unowned: idle -1 (and a nil or empty
 * consumer), and a delivery count up to LLONG_MAX.  Those are facts, not
 * malformed replies: an unowned entry is counted in `unowned`, never as
 * claimable (no one holds it), and its delivery count counts like any.
 */
#ifndef STREAMLAG_PEL_H
#define STREAMLAG_PEL_H

#include <stddef.h>
#include <sys/types.h>
#include <hiredis/hiredis.h>

#include "streamlag/err.h"
#include "streamlag/model.h"

#define SL_PEL_IDS_LISTED	10	/* poison ids named in an answer */
#define SL_PEL_SCAN_MAX		100000	/* STREAMLAG_PEL_SCAN's upper limit */

/* One entry of the extended XPENDING reply. */
struct sl_pel_item {
	char		id[SL_ID_MAX];
	struct sl_bytes	consumer;	/* p NULL: unowned (XNACK) */
	long long	idle_ms;	/* -1: unowned (XNACK) */
	long long	deliveries;	/* 0 .. LLONG_MAX */
};

struct sl_pel_limits {
	long long	scan;			/* STREAMLAG_PEL_SCAN */
	long long	poison_deliveries;	/* STREAMLAG_POISON_DELIVERIES */
	long long	claim_idle_ms;		/* STREAMLAG_CLAIM_IDLE_MS */
	long long	dead_consumer_ms;	/* STREAMLAG_DEAD_CONSUMER_MS */
};

struct sl_pel_report {
	long long	scanned;	/* pending entries read */
	int		truncated;	/* more pending than scanned */
	long long	max_deliveries;	/* -1 when nothing is pending */
	long long	poison;		/* deliveries >= poison_deliveries */
	size_t		npoison_ids;
	char		poison_ids[SL_PEL_IDS_LISTED][SL_ID_MAX];
	long long	claimable;	/* owned, idle >= claim_idle_ms */
	long long	unowned;	/* idle -1 (XNACK) */
	long long	dangling;	/* older than the first entry; -1 unknown */
	long long	dead_consumers;	/* -1 when the consumers are unknown */
};

/* The extended XPENDING reply into (*out, *n), at most SL_PEL_SCAN_MAX
 * items.  SL_OK; SL_EREDIS (Redis's refusal) or SL_EPROTO with the detail
 * in *why; SL_ENOMEM.  Free with sl_pel_items_free. */
enum sl_err	sl_facts_pel(const redisReply *r, struct sl_pel_item **out,
		    size_t *n, struct sl_error *why);
void		sl_pel_items_free(struct sl_pel_item *it, size_t n);

/* -1, 0 or 1 as id a is before, equal to or after id b ("ms-seq"; a bare
 * "ms" is "ms-0").  Ids that do not parse compare as 0 and set *bad. */
int		sl_pel_idcmp(const char *a, const char *b, int *bad);

/*
 * The answers over it[0..n): group_pending is XINFO GROUPS' pending (-1
 * unknown), first_id the stream's first entry ("" when the stream is
 * empty, NULL when unknown), c[0..nc) XINFO CONSUMERS (nc < 0: unknown).
 * A consumer is dead when it holds pending entries and has not read for
 * dead_consumer_ms: Redis 7.2's inactive (-1, never read, is dead) when
 * given, else idle.
 */
void		sl_pel_analyze(const struct sl_pel_item *it, size_t n,
		    long long group_pending, const char *first_id,
		    const struct sl_consumer *c, ssize_t nc,
		    const struct sl_pel_limits *lim, struct sl_pel_report *out);

#endif
