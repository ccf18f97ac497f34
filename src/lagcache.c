/* SPDX-License-Identifier: ISC */
/* The lag cache in shared memory (see lagcache.h).  Each slot has a spin
 * lock held only to copy the slot in or out: no system call, no Redis I/O
 * while it is held. */
#include <string.h>

#include "streamlag/lagcache.h"

static uint64_t
fnv(uint64_t h, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

uint64_t
sl_lagcache_key(const char *stream, size_t slen, const char *group,
    size_t glen)
{
	return sl_group_key(NULL, stream, slen, group, glen);
}

uint64_t
sl_group_key(const char *target, const char *stream, size_t slen,
    const char *group, size_t glen)
{
	uint64_t	 h = 1469598103934665603ULL;

	if (target != NULL) {
		h = fnv(h, target, strlen(target));
		h = (h ^ 0) * 1099511628211ULL;
	}
	h = fnv(h, stream, slen);
	h = (h ^ 0) * 1099511628211ULL;
	h = fnv(h, group, glen);
	return h != 0 ? h : 1;
}

/* Groups map to a bucket of SL_LAGCACHE_WAYS slots: two groups whose
 * hashes share a bucket both keep their state. */
static struct sl_lagcache_slot *
bucket_of(struct sl_lagcache *c, uint64_t key)
{
	size_t nb = SL_LAGCACHE_SLOTS / SL_LAGCACHE_WAYS;

	return &c->slot[((key ^ (key >> 32)) % nb) * SL_LAGCACHE_WAYS];
}

static void
lock(struct sl_lagcache_slot *s)
{
	while (__atomic_exchange_n(&s->lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&s->lock, __ATOMIC_RELAXED))
			;
}

static void
unlock(struct sl_lagcache_slot *s)
{
	__atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE);
}

void
sl_lagcache_get(struct sl_lagcache *c, uint64_t key, struct sl_lagcount *out,
    uint32_t *version)
{
	struct sl_lagcache_slot *b = bucket_of(c, key);

	for (int w = 0; w < SL_LAGCACHE_WAYS; w++) {
		/* Only the group's own slot is locked (and its key checked
		 * again): a bucket's other slots are read, not written. */
		if (__atomic_load_n(&b[w].st.key, __ATOMIC_RELAXED) != key)
			continue;
		lock(&b[w]);
		if (b[w].st.key == key) {
			*out = b[w].st;
			*version = b[w].version;
			unlock(&b[w]);
			return;
		}
		unlock(&b[w]);
	}
	memset(out, 0, sizeof(*out));
	out->key = key;
	out->mode = SL_LC_NONE;
	*version = 0;		/* not held: any free or reused slot */
}

int
sl_lagcache_put(struct sl_lagcache *c, const struct sl_lagcount *st,
    uint32_t version)
{
	struct sl_lagcache_slot *b = bucket_of(c, st->key), *s = NULL;
	int	 written = 0, w;

	/* The group's own slot; else a free one; else the slot its hash
	 * picks in the bucket (the oldest state is not tracked: a group seen
	 * again counts again). */
	for (w = 0; w < SL_LAGCACHE_WAYS && s == NULL; w++)
		if (b[w].st.key == st->key)
			s = &b[w];
	if (s == NULL) {
		if (version != 0)
			return 0;	/* evicted meanwhile */
		for (w = 0; w < SL_LAGCACHE_WAYS && s == NULL; w++)
			if (b[w].st.key == 0)
				s = &b[w];
		if (s == NULL)
			s = &b[st->key % SL_LAGCACHE_WAYS];
		lock(s);
		s->st = *st;
		s->version++;
		unlock(s);
		return 1;
	}
	lock(s);
	if (s->st.key == st->key && s->version == version) {
		s->st = *st;
		s->version = version + 1;
		written = 1;
	}
	unlock(s);
	return written;
}

/* A group may take a slot in either of two buckets, the first from its
 * key's halves, the second from a mix of them: a bucket's fifth group goes
 * to its other bucket, so that nearly every group fits while the table is
 * less than about nine tenths full. */
void
sl_lagcache_next_buckets(uint64_t key, size_t *b0, size_t *b1)
{
	size_t		 nb = SL_LAGCACHE_NEXT / SL_LAGCACHE_NEXT_WAYS;
	uint64_t	 h = (key ^ (key >> 29)) * 0xbf58476d1ce4e5b9ULL;

	*b0 = (size_t)((key ^ (key >> 32)) % nb) * SL_LAGCACHE_NEXT_WAYS;
	*b1 = (size_t)((h ^ (h >> 32)) % nb) * SL_LAGCACHE_NEXT_WAYS;
}

/* The two buckets of key in kind's table. */
static void
next_buckets_of(struct sl_lagcache *c, enum sl_kept kind, uint64_t key,
    struct sl_nextslot *b[2])
{
	struct sl_nextslot	*t = kind == SL_KEPT_PENDING ? c->pend : c->next;
	size_t			 b0, b1;

	sl_lagcache_next_buckets(key, &b0, &b1);
	b[0] = &t[b0];
	b[1] = &t[b1];
}

void
sl_lagcache_next_prefetch(struct sl_lagcache *c, enum sl_kept kind,
    uint64_t key)
{
	struct sl_nextslot *b[2];

	next_buckets_of(c, kind, key, b);
	for (int which = 0; which < 2; which++) {
		__builtin_prefetch(b[which]);
		__builtin_prefetch((const char *)b[which] +
		    sizeof(struct sl_nextslot) * SL_LAGCACHE_NEXT_WAYS - 1);
	}
}

static uint64_t
mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 31);
}

/* The slot's name for a group: the key's high half (the bucket comes from
 * both), never 0. */
static uint32_t
tag_of(uint64_t key)
{
	uint32_t t = (uint32_t)(key >> 32);

	return t != 0 ? t : 1;
}

static uint64_t
fp1_of(const struct sl_nextkey *k)
{
	uint64_t h = mix(0x6e657874ULL, k->key);

	h = mix(h, k->last_ms);
	h = mix(h, k->last_seq);
	h = mix(h, (uint64_t)k->entries_read);
	h = mix(h, (uint64_t)k->rl);
	return mix(h, (uint64_t)k->pending);
}

/* Over the stamp too: a slot read while it is written never pairs an
 * entry with another's time. */
static uint64_t
fp2_of(uint64_t fp1, long long length, uint64_t next_ms, uint32_t next_seq,
    uint32_t stamp_s)
{
	return mix(mix(mix(mix(fp1, (uint64_t)length), next_ms), next_seq),
	    stamp_s);
}

#define LOAD(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* A slot stamped at stamp_s is past SL_LAGCACHE_NEXT_TTL_MS at now_s (or
 * from a clock ahead of this one). */
static int
expired(uint32_t stamp_s, uint32_t now_s)
{
	return stamp_s > now_s ||
	    (long long)(now_s - stamp_s) * 1000 > SL_LAGCACHE_NEXT_TTL_MS;
}

/* The slot of the group named by key in one of its buckets b, else NULL. */
static struct sl_nextslot *
next_own(struct sl_nextslot *b[2], uint64_t key)
{
	for (int which = 0; which < 2; which++)
		for (int w = 0; w < SL_LAGCACHE_NEXT_WAYS; w++)
			if (LOAD(b[which][w].tag) == tag_of(key))
				return &b[which][w];
	return NULL;
}

int
sl_lagcache_next_get(struct sl_lagcache *c, enum sl_kept kind,
    const struct sl_nextkey *k, long long now_ms, struct sl_nextslot *out)
{
	struct sl_nextslot *b[2], *s;

	next_buckets_of(c, kind, k->key, b);
	if ((s = next_own(b, k->key)) == NULL)
		return 0;
	out->tag = tag_of(k->key);
	out->fp1 = LOAD(s->fp1);
	out->fp2 = LOAD(s->fp2);
	out->next_ms = LOAD(s->next_ms);
	out->next_seq = LOAD(s->next_seq);
	out->stamp_s = LOAD(s->stamp_s);
	return out->fp1 == (uint32_t)fp1_of(k) &&
	    !expired(out->stamp_s, (uint32_t)(now_ms / 1000));
}

int
sl_lagcache_next_confirm(const struct sl_nextslot *s,
    const struct sl_nextkey *k, long long length,
    unsigned long long *next_ms, unsigned long long *next_seq)
{
	if (s->fp2 != fp2_of(fp1_of(k), length, s->next_ms, s->next_seq,
	    s->stamp_s))
		return 0;
	*next_ms = s->next_ms;
	*next_seq = s->next_seq;
	return 1;
}

/* A slot of b that is empty or expired, else NULL; *n the number of them. */
static struct sl_nextslot *
next_free(struct sl_nextslot *b, uint32_t now_s, int *n)
{
	struct sl_nextslot *s = NULL;

	*n = 0;
	for (int w = 0; w < SL_LAGCACHE_NEXT_WAYS; w++) {
		if (LOAD(b[w].tag) == 0 || expired(LOAD(b[w].stamp_s), now_s)) {
			if (s == NULL)
				s = &b[w];
			(*n)++;
		}
	}
	return s;
}

void
sl_lagcache_next_put(struct sl_lagcache *c, enum sl_kept kind,
    const struct sl_nextkey *k, long long length, unsigned long long next_ms,
    unsigned long long next_seq, long long now_ms)
{
	struct sl_nextslot *b[2], *s;
	uint32_t	 now_s = (uint32_t)(now_ms / 1000);
	uint64_t	 fp1 = fp1_of(k);

	if (next_seq > UINT32_MAX)
		return;		/* not kept: asked each time */
	next_buckets_of(c, kind, k->key, b);
	if ((s = next_own(b, k->key)) == NULL) {
		/* The bucket with more room, the first on a tie. */
		int		 n0, n1;
		struct sl_nextslot *s0 = next_free(b[0], now_s, &n0);
		struct sl_nextslot *s1 = next_free(b[1], now_s, &n1);

		s = n1 > n0 ? s1 : s0;
	}
	if (s == NULL)
		return;
	STORE(s->tag, tag_of(k->key));
	STORE(s->fp1, (uint32_t)fp1);
	STORE(s->fp2, fp2_of(fp1, length, next_ms, (uint32_t)next_seq, now_s));
	STORE(s->next_ms, (uint64_t)next_ms);
	STORE(s->next_seq, (uint32_t)next_seq);
	STORE(s->stamp_s, now_s);
}
