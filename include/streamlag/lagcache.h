/* SPDX-License-Identifier: ISC */
/* What streamlag learned about a group's lag across requests: a count in
 * progress (bounded steps, one per request) or its result, the trim error
 * delta of Redis's lag.  Kept in memory shared by the workers (mapped before
 * fork), a fixed table of slots; a hash of the stream and group names
 * picks a bucket of SL_LAGCACHE_WAYS of them.  A slot is copied out, worked on, and written back only if nobody
 * wrote it meanwhile (version check), so the lock is held for a memcpy. */
#ifndef STREAMLAG_LAGCACHE_H
#define STREAMLAG_LAGCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "streamlag/model.h"

#define SL_LAGCACHE_SLOTS	4096	/* groups remembered at once */
#define SL_LAGCACHE_WAYS	4	/* slots a group may take */

enum sl_lc_mode {
	SL_LC_NONE,		/* nothing known */
	SL_LC_COUNTING,		/* counting (from, end] in steps */
	SL_LC_DELTA,		/* Redis's lag minus the truth is delta */
	SL_LC_TOTAL		/* entries after from, when ea was entries-added */
};

/* One group's state.  Plain data: the rules in lag.c read and write it. */
struct sl_lagcount {
	uint64_t	 key;		/* sl_lagcache_key; 0 = empty slot */
	int		 mode;		/* enum sl_lc_mode */
	int		 rl_known;	/* counting began with a known Redis lag */
	char		 from[SL_ID_MAX];	/* the group's last-delivered-id then */
	char		 end[SL_ID_MAX];	/* the stream's last entry then */
	char		 cursor[SL_ID_MAX];	/* counted up to this id */
	char		 md[SL_ID_MAX];		/* max-deleted-entry-id then */
	long long	 removed;	/* entries-added - length then */
	long long	 ea;		/* entries-added then */
	long long	 rl;		/* Redis's lag then */
	long long	 counted;	/* entries in (from, cursor] */
	long long	 delta;		/* SL_LC_DELTA */
	long long	 total;		/* SL_LC_TOTAL */
};

struct sl_lagcache_slot {
	volatile int		lock;
	volatile uint32_t	version;
	struct sl_lagcount	st;
} __attribute__((aligned(64)));

/*
 * A group's first undelivered entry, as a request read it (XRANGE
 * (last-delivered + COUNT 1), with what shows at a later request that it
 * is still the first: the same last-delivered-id, entries-read and lag
 * (no entry added: the lag is entries-added - entries-read) and the same
 * length (none removed either, none being added).  No entry can come
 * between the group and it while it is in the stream: a new id is always
 * above the stream's last.  Kept SL_LAGCACHE_NEXT_TTL_MS from when it was
 * read: a stream deleted and made again with the same ids, lengths and
 * group state but other entries is the one change these facts cannot
 * see; its time lag is then that of the earlier entry for at most that
 * long.
 *
 * A slot holds 32 bytes, the facts as two fingerprints: fp1 (32 bits) of
 * the group's (key, last-delivered-id, entries-read, lag), checked before
 * the length is asked; fp2 (64 bits) of the same, the length and the
 * entry's id, checked once it is.  Slots are written and read field by
 * field without a lock: a slot read while it is written fails its
 * fingerprints, as a stale one does.  The whole table is 4 MiB, resident
 * as its pages are touched.  A group may take a slot of two buckets (the
 * one with more room): 100 000 groups keep more than 99 % of their entries
 * (a group whose two buckets are full waits for a slot to expire).
 */
#define SL_LAGCACHE_NEXT	131072	/* slots (a power of 2) */
#define SL_LAGCACHE_NEXT_WAYS	4	/* slots a group may take */
#define SL_LAGCACHE_NEXT_TTL_MS	60000

struct sl_nextslot {
	uint32_t	 tag;		/* of sl_group_key; 0 = empty */
	uint32_t	 fp1;
	uint64_t	 fp2;
	uint64_t	 next_ms;	/* the entry's id */
	uint32_t	 next_seq;
	uint32_t	 stamp_s;	/* sl_monotonic_ms() / 1000 when read */
};

/* What a group shows now, for the fingerprints; a table's facts it does
 * not use are 0. */
struct sl_nextkey {
	uint64_t	 key;		/* sl_group_key */
	unsigned long long last_ms, last_seq;	/* its last-delivered-id */
	long long	 entries_read, rl;	/* SL_KEPT_NEXT */
	long long	 pending;		/* SL_KEPT_PENDING */
};

/*
 * The same table, second kind: a group's oldest pending entry (XPENDING s g
 * - + 1), kept with the group's last-delivered-id and pending count.
 * Entries join the pending list only by a read (the last-delivered-id
 * moves) and leave it by XACK, XAUTOCLAIM or XGROUP DELCONSUMER (the count
 * falls); so with both the same, the list and its oldest entry are the
 * same.  The exceptions: XCLAIM ... FORCE of an entry that was not
 * pending, beside an XACK that keeps the count; XGROUP SETID back to an
 * earlier id, then reads up to the same last-delivered-id and
 * acknowledgements that bring the count back.  The age shown is then the
 * earlier oldest entry's for at most SL_LAGCACHE_NEXT_TTL_MS.
 */
enum sl_kept { SL_KEPT_NEXT, SL_KEPT_PENDING };

struct sl_lagcache {
	struct sl_lagcache_slot	slot[SL_LAGCACHE_SLOTS];
	/* Untouched pages of this table (as of the whole shared mapping)
	 * are never resident. */
	struct sl_nextslot	next[SL_LAGCACHE_NEXT];
	struct sl_nextslot	pend[SL_LAGCACHE_NEXT];
};

/* FNV-1a 64 of stream, a NUL, group; never 0. */
uint64_t sl_lagcache_key(const char *stream, size_t slen, const char *group,
	    size_t glen);
/* The key of a group of a named target: FNV-1a 64 of target, a NUL, then
 * as sl_lagcache_key (target NULL: sl_lagcache_key's), so that two targets'
 * groups of the same names never share a slot. */
uint64_t sl_group_key(const char *target, const char *stream, size_t slen,
	    const char *group, size_t glen);
/* A copy of the group's state (mode SL_LC_NONE when the slot holds another
 * group) and the slot's version, for sl_lagcache_put. */
void	sl_lagcache_get(struct sl_lagcache *c, uint64_t key,
	    struct sl_lagcount *out, uint32_t *version);
/* Writes st back unless the slot changed since the get; 1 written, 0 not. */
int	sl_lagcache_put(struct sl_lagcache *c, const struct sl_lagcount *st,
	    uint32_t version);

/* The entry kept for k, read at most SL_LAGCACHE_NEXT_TTL_MS before
 * now_ms from a group that showed the same facts: 1 (*out its slot, for
 * sl_lagcache_next_confirm), else 0. */
int	sl_lagcache_next_get(struct sl_lagcache *c, enum sl_kept kind,
	    const struct sl_nextkey *k, long long now_ms,
	    struct sl_nextslot *out);
/* The first slots of the two buckets of key (each SL_LAGCACHE_NEXT_WAYS
 * slots), in either table. */
void	sl_lagcache_next_buckets(uint64_t key, size_t *b0, size_t *b1);
/* Asks the CPU for key's buckets ahead of a get (no effect otherwise). */
void	sl_lagcache_next_prefetch(struct sl_lagcache *c, enum sl_kept kind,
	    uint64_t key);
/* The stream has the length it had (SL_KEPT_PENDING: length 0): 1 with
 * the entry's id, else 0. */
int	sl_lagcache_next_confirm(const struct sl_nextslot *s,
	    const struct sl_nextkey *k, long long length,
	    unsigned long long *next_ms, unsigned long long *next_seq);
/* Keeps the entry the group's XRANGE named, with the stream's length:
 * over the group's own slot, else an empty or expired one of the bucket
 * with more of them; with every slot of both fresh, not at all (no slot is
 * thrashed). */
void	sl_lagcache_next_put(struct sl_lagcache *c, enum sl_kept kind,
	    const struct sl_nextkey *k, long long length,
	    unsigned long long next_ms, unsigned long long next_seq,
	    long long now_ms);

#endif
