/* SPDX-License-Identifier: ISC */
/*
 * The history of every group, kept on the server: a ring of samples per
 * group in one anonymous shared mapping made by the master before it forks,
 * so that it outlives any worker and the sampler.  Its size is fixed at
 * start: STREAMLAG_HISTORY_GROUPS groups of STREAMLAG_HISTORY_S * 1000 /
 * STREAMLAG_SAMPLE_MS samples (sl_history_bytes says how many bytes).
 *
 * One writer (the sampler) and any number of readers (the workers).  A
 * group's slot carries a sequence number, odd while it is written: a
 * reader copies the slot out and tries again when the number moved (a
 * seqlock), so neither side ever waits on the other for long, and no lock
 * is left held by a process that died.
 *
 * Groups are found by the 64-bit FNV-1a of their target's, stream's and
 * group's names (sl_group_key; target NULL: the stream and group alone)
 * with linear probing over the slots, so that every target's groups share
 * the STREAMLAG_HISTORY_GROUPS slots.  A group whose last
 * sample is older than the history span gives its slot to a new group;
 * beyond that, a group that finds no slot is not tracked, and the sampler
 * counts it (sl_history_set_untracked).
 */
#ifndef STREAMLAG_HISTORY_H
#define STREAMLAG_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "streamlag/err.h"
#include "streamlag/insight.h"
#include "streamlag/pel.h"

#define SL_HISTORY_BYTES_MAX	(16ULL << 30)	/* refused above 16 GiB */

struct sl_history;

/* The bytes of a history of `groups` groups of `samples` samples each; 0
 * when it overflows or passes SL_HISTORY_BYTES_MAX. */
size_t		sl_history_bytes(long long groups, long long samples);
/* Samples a group keeps: history_s * 1000 / sample_ms, at least 3. */
long long	sl_history_samples(long long history_s, long long sample_ms);

/* A history in shared memory: NULL with *why set (SL_EINPUT when too
 * large, SL_ESYS when mmap failed). */
struct sl_history *sl_history_create(long long groups, long long samples,
		    struct sl_error *why);
void		sl_history_destroy(struct sl_history *h);
long long	sl_history_capacity(const struct sl_history *h);
long long	sl_history_groups_max(const struct sl_history *h);

/* The sampler: appends s to the group's ring (taking a slot for a group
 * seen first).  A slot whose last sample is before stale_ms may be taken.
 * 1 when written, 0 when the group has no slot (not tracked). */
int		sl_history_add(struct sl_history *h, const char *target,
		    const char *stream,
		    size_t slen, const char *group, size_t glen,
		    const struct sl_sample *s, long long stale_ms);
/* How many groups the last round could not track, and how many it did. */
void		sl_history_set_round(struct sl_history *h, uint64_t untracked,
		    uint64_t tracked, long long at_ms);
uint64_t	sl_history_untracked(const struct sl_history *h);
uint64_t	sl_history_tracked(const struct sl_history *h);
long long	sl_history_last_round_ms(const struct sl_history *h);

/* The sampler: the group's latest pending-list answers (1 when the group
 * is tracked).  Readers: a copy of them, 1; 0 when there is none yet or
 * the sampler was writing them. */
int		sl_history_set_pel(struct sl_history *h, const char *target,
		    const char *stream,
		    size_t slen, const char *group, size_t glen,
		    const struct sl_pel_report *p);
int		sl_history_get_pel(struct sl_history *h, const char *target,
		    const char *stream,
		    size_t slen, const char *group, size_t glen,
		    struct sl_pel_report *out);

/* Readers: the group's samples with t_ms >= since_ms, oldest first, at
 * most max of them (the newest max), into out.  The count, or -1 when the
 * group is not tracked. */
ssize_t		sl_history_read(struct sl_history *h, const char *target,
		    const char *stream,
		    size_t slen, const char *group, size_t glen,
		    long long since_ms, struct sl_sample *out, size_t max);

/* The two readers above by the group's sl_group_key, for a caller that
 * asks both of one group. */
int		sl_history_get_pel_key(struct sl_history *h, uint64_t key,
		    struct sl_pel_report *out);
ssize_t		sl_history_read_key(struct sl_history *h, uint64_t key,
		    long long since_ms, struct sl_sample *out, size_t max);

#endif
