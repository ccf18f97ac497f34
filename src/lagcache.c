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

static struct sl_nextslot *
next_bucket(struct sl_lagcache *c, uint64_t key)
{
	return &c->next[((key ^ (key >> 32)) & (SL_LAGCACHE_NEXT - 1)) & ~1UL];
}

static void
next_lock(struct sl_nextslot *s)
{
	while (__atomic_exchange_n(&s->lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&s->lock, __ATOMIC_RELAXED))
			;
}

static void
next_unlock(struct sl_nextslot *s)
{
	__atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE);
}

int
sl_lagcache_next_get(struct sl_lagcache *c, uint64_t key,
    struct sl_nextentry *out)
{
	struct sl_nextslot *b = next_bucket(c, key);

	for (int w = 0; w < 2; w++) {
		/* Unlocked first look: most groups are not there. */
		if (__atomic_load_n(&b[w].e.key, __ATOMIC_RELAXED) != key)
			continue;
		next_lock(&b[w]);
		*out = b[w].e;
		next_unlock(&b[w]);
		if (out->key == key)
			return 1;
	}
	return 0;
}

void
sl_lagcache_next_put(struct sl_lagcache *c, const struct sl_nextentry *e)
{
	struct sl_nextslot *b = next_bucket(c, e->key), *s;
	uint64_t	 k0 = __atomic_load_n(&b[0].e.key, __ATOMIC_RELAXED);
	uint64_t	 k1 = __atomic_load_n(&b[1].e.key, __ATOMIC_RELAXED);

	/* Unlocked choice: at worst two workers write one slot in turn. */
	if (k0 == e->key || k0 == 0)
		s = &b[0];
	else if (k1 == e->key || k1 == 0)
		s = &b[1];
	else
		s = b[0].e.stamp_ms <= b[1].e.stamp_ms ? &b[0] : &b[1];
	next_lock(s);
	s->e = *e;
	next_unlock(s);
}
