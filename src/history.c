/* SPDX-License-Identifier: ISC */
/* The history ring in shared memory (history.h).
 *
 * Appending needs no lock: the sampler writes the sample at head % len and
 * then publishes head + 1 (release).  A reader copies what head says is
 * there and reads head again: a sample the writer may have been
 * overwriting meanwhile (index <= head2 - len) is dropped; the ring holds
 * one sample more than it serves (len = cap + 1) so that none is dropped
 * while the writer rests.  A slot handed
 * to another group bumps gen, odd while the hand-over is under way; a
 * reader that sees gen odd or moved answers "not tracked" rather than
 * waiting, so a sampler killed mid-write never blocks a worker. */
#include <sys/mman.h>

#include <errno.h>
#include <string.h>

#include "streamlag/history.h"
#include "streamlag/lagcache.h"

#define MAGIC	0x736c686973743031ULL	/* "slhist01" */

struct hist_slot {
	volatile uint64_t	key;		/* 0 = never used */
	volatile uint32_t	gen;		/* odd: being handed over */
	uint32_t		pad;
	volatile uint64_t	head;		/* samples written, ever */
	volatile int64_t	last_ms;	/* t_ms of the newest sample */
	volatile uint32_t	pel_seq;	/* 0: none yet; odd: being written */
	struct sl_pel_report	pel;		/* the latest pending-list answers */
} __attribute__((aligned(64)));

struct sl_history {
	uint64_t		magic;
	long long		groups;
	long long		cap;		/* samples per group */
	long long		len;		/* ring length: cap + 1 */
	size_t			bytes;
	volatile uint64_t	untracked;
	volatile uint64_t	tracked;
	volatile int64_t	round_ms;
	struct hist_slot	slot[];		/* then groups * cap samples */
};

long long
sl_history_samples(long long history_s, long long sample_ms)
{
	long long n;

	if (history_s <= 0 || sample_ms <= 0)
		return SL_INSIGHT_MIN_SAMPLES;
	n = history_s * 1000 / sample_ms;
	return n < SL_INSIGHT_MIN_SAMPLES ? SL_INSIGHT_MIN_SAMPLES : n;
}

static size_t
samples_off(long long groups)
{
	return sizeof(struct sl_history) + (size_t)groups *
	    sizeof(struct hist_slot);
}

size_t
sl_history_bytes(long long groups, long long samples)
{
	unsigned long long n;

	if (groups <= 0 || samples <= 0 || groups > 100000000LL ||
	    samples > 100000000LL)
		return 0;
	n = (unsigned long long)groups * (unsigned long long)(samples + 1);
	if (n > SL_HISTORY_BYTES_MAX / sizeof(struct sl_sample))
		return 0;
	n = n * sizeof(struct sl_sample) + samples_off(groups);
	return n > SL_HISTORY_BYTES_MAX ? 0 : (size_t)n;
}

struct sl_history *
sl_history_create(long long groups, long long samples, struct sl_error *why)
{
	struct sl_history	*h;
	size_t			 n = sl_history_bytes(groups, samples);

	if (n == 0) {
		sl_seterr(why, SL_EINPUT, "history of %lld groups of %lld "
		    "samples is over %llu bytes", groups, samples,
		    (unsigned long long)SL_HISTORY_BYTES_MAX);
		return NULL;
	}
	h = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (h == MAP_FAILED) {
		sl_seterr(why, SL_ESYS, NULL);
		return NULL;
	}
	h->magic = MAGIC;
	h->groups = groups;
	h->cap = samples;
	h->len = samples + 1;
	h->bytes = n;
	return h;
}

void
sl_history_destroy(struct sl_history *h)
{
	if (h != NULL)
		munmap(h, h->bytes);
}

long long
sl_history_capacity(const struct sl_history *h)
{
	return h->cap;
}

long long
sl_history_groups_max(const struct sl_history *h)
{
	return h->groups;
}

static struct sl_sample *
ring(struct sl_history *h, size_t i)
{
	return (struct sl_sample *)((char *)h + samples_off(h->groups)) +
	    i * (size_t)h->len;
}

/* The group's slot; with take, a free or stale one for a new group.
 * NULL when there is none.  A group lives within PROBE slots of its home
 * slot: a full table (more groups than STREAMLAG_HISTORY_GROUPS) costs a
 * lookup PROBE slots, not the whole table, for every group it does not
 * hold. */
#define PROBE	32

static struct hist_slot *
find(struct sl_history *h, uint64_t key, int take, long long stale_ms)
{
	struct hist_slot *cand = NULL;
	size_t		  g = (size_t)h->groups, j = key % g;

	for (size_t k = 0; k < g && k < PROBE; k++, j = (j + 1) % g) {
		struct hist_slot *s = &h->slot[j];
		uint64_t	  sk = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);

		if (sk == key)
			return s;
		if (sk == 0) {
			/* Slots never empty again: the group is not further
			 * on. */
			return take ? (cand != NULL ? cand : s) : NULL;
		}
		if (take && cand == NULL && s->last_ms < stale_ms)
			cand = s;
	}
	return take ? cand : NULL;
}

/* Hands s over to the group key (the sampler only). */
static void
hand_over(struct hist_slot *s, uint64_t key)
{
	__atomic_store_n(&s->gen, s->gen + 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&s->head, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->pel_seq, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->key, key, __ATOMIC_RELAXED);
	__atomic_store_n(&s->gen, s->gen + 1, __ATOMIC_RELEASE);
}

int
sl_history_add(struct sl_history *h, const char *target,
    const char *stream, size_t slen,
    const char *group, size_t glen, const struct sl_sample *x,
    long long stale_ms)
{
	uint64_t	  key = sl_group_key(target, stream, slen, group, glen);
	struct hist_slot *s = find(h, key, 1, stale_ms);
	uint64_t	  head;

	if (s == NULL)
		return 0;
	if (s->key != key)
		hand_over(s, key);
	head = s->head;
	ring(h, (size_t)(s - h->slot))[head % (uint64_t)h->len] = *x;
	s->last_ms = x->t_ms;
	__atomic_store_n(&s->head, head + 1, __ATOMIC_RELEASE);
	return 1;
}

void
sl_history_set_round(struct sl_history *h, uint64_t untracked,
    uint64_t tracked, long long at_ms)
{
	__atomic_store_n(&h->untracked, untracked, __ATOMIC_RELAXED);
	__atomic_store_n(&h->tracked, tracked, __ATOMIC_RELAXED);
	__atomic_store_n(&h->round_ms, at_ms, __ATOMIC_RELAXED);
}

uint64_t
sl_history_untracked(const struct sl_history *h)
{
	return __atomic_load_n(&h->untracked, __ATOMIC_RELAXED);
}

uint64_t
sl_history_tracked(const struct sl_history *h)
{
	return __atomic_load_n(&h->tracked, __ATOMIC_RELAXED);
}

long long
sl_history_last_round_ms(const struct sl_history *h)
{
	return __atomic_load_n(&h->round_ms, __ATOMIC_RELAXED);
}

/* Copies samples [lo, hi) of the slot's ring into out. */
static void
copy_out(struct sl_history *h, struct hist_slot *s, uint64_t lo, uint64_t hi,
    struct sl_sample *out)
{
	const struct sl_sample *r = ring(h, (size_t)(s - h->slot));
	uint64_t len = (uint64_t)h->len;

	for (uint64_t i = lo; i < hi; i++)
		out[i - lo] = r[i % len];
}

ssize_t
sl_history_read(struct sl_history *h, const char *target,
    const char *stream, size_t slen,
    const char *group, size_t glen, long long since_ms,
    struct sl_sample *out, size_t max)
{
	return sl_history_read_key(h, sl_group_key(target, stream, slen,
	    group, glen), since_ms, out, max);
}

ssize_t
sl_history_read_key(struct sl_history *h, uint64_t key, long long since_ms,
    struct sl_sample *out, size_t max)
{
	struct hist_slot *s = find(h, key, 0, 0);
	uint64_t	  gen, h1, h2, lo, cap = (uint64_t)h->cap;
	uint64_t	  len = (uint64_t)h->len;
	size_t		  drop = 0, n;

	if (s == NULL)
		return -1;
	gen = __atomic_load_n(&s->gen, __ATOMIC_ACQUIRE);
	h1 = __atomic_load_n(&s->head, __ATOMIC_ACQUIRE);
	if (gen % 2 != 0 || __atomic_load_n(&s->key, __ATOMIC_ACQUIRE) != key)
		return -1;
	lo = h1 > cap ? h1 - cap : 0;
	if (h1 - lo > max)
		lo = h1 - max;
	copy_out(h, s, lo, h1, out);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	h2 = __atomic_load_n(&s->head, __ATOMIC_ACQUIRE);
	if (__atomic_load_n(&s->gen, __ATOMIC_ACQUIRE) != gen)
		return -1;
	n = (size_t)(h1 - lo);
	/* Samples the writer may have overwritten during the copy: it
	 * writes index h2 before it publishes h2 + 1. */
	if (h2 >= len && h2 - len + 1 > lo)
		drop = (size_t)(h2 - len + 1 - lo);
	while (drop < n && out[drop].t_ms < since_ms)
		drop++;
	if (drop > n)
		drop = n;
	memmove(out, out + drop, (n - drop) * sizeof(*out));
	return (ssize_t)(n - drop);
}

int
sl_history_set_pel(struct sl_history *h, const char *target,
    const char *stream, size_t slen,
    const char *group, size_t glen, const struct sl_pel_report *p)
{
	uint64_t	  key = sl_group_key(target, stream, slen, group, glen);
	struct hist_slot *s = find(h, key, 0, 0);

	if (s == NULL)
		return 0;
	__atomic_store_n(&s->pel_seq, s->pel_seq | 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	s->pel = *p;
	__atomic_store_n(&s->pel_seq, (s->pel_seq | 1) + 1, __ATOMIC_RELEASE);
	return 1;
}

int
sl_history_get_pel(struct sl_history *h, const char *target,
    const char *stream, size_t slen,
    const char *group, size_t glen, struct sl_pel_report *out)
{
	return sl_history_get_pel_key(h, sl_group_key(target, stream, slen,
	    group, glen), out);
}

int
sl_history_get_pel_key(struct sl_history *h, uint64_t key,
    struct sl_pel_report *out)
{
	struct hist_slot *s = find(h, key, 0, 0);

	/* A few tries: the sampler writes a slot's answers once a round. */
	for (int i = 0; s != NULL && i < 4; i++) {
		uint32_t q = __atomic_load_n(&s->pel_seq, __ATOMIC_ACQUIRE);

		if (q == 0)
			return 0;
		if (q % 2 != 0)
			continue;
		*out = s->pel;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->pel_seq, __ATOMIC_ACQUIRE) == q &&
		    __atomic_load_n(&s->key, __ATOMIC_ACQUIRE) == key)
			return 1;
	}
	return 0;
}
