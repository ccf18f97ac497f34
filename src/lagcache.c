/* The lag cache in shared memory (see lagcache.h).  Each slot has a spin
 * lock held only to copy the slot in or out: no system call, no Redis I/O
 * while it is held. */
#include <string.h>

#include "streamlag/lagcache.h"

uint64_t
sl_lagcache_key(const char *stream, size_t slen, const char *group,
    size_t glen)
{
	uint64_t	 h = 1469598103934665603ULL;
	size_t		 i;

	for (i = 0; i < slen; i++)
		h = (h ^ (unsigned char)stream[i]) * 1099511628211ULL;
	h = (h ^ 0) * 1099511628211ULL;
	for (i = 0; i < glen; i++)
		h = (h ^ (unsigned char)group[i]) * 1099511628211ULL;
	return h != 0 ? h : 1;
}

static struct sl_lagcache_slot *
slot_of(struct sl_lagcache *c, uint64_t key)
{
	return &c->slot[(key ^ (key >> 32)) % SL_LAGCACHE_SLOTS];
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
	struct sl_lagcache_slot *s = slot_of(c, key);

	lock(s);
	*out = s->st;
	*version = s->version;
	unlock(s);
	if (out->key != key) {
		memset(out, 0, sizeof(*out));
		out->key = key;
		out->mode = SL_LC_NONE;
	}
}

int
sl_lagcache_put(struct sl_lagcache *c, const struct sl_lagcount *st,
    uint32_t version)
{
	struct sl_lagcache_slot *s = slot_of(c, st->key);
	int	 written = 0;

	lock(s);
	if (s->version == version) {
		s->st = *st;
		s->version = version + 1;
		written = 1;
	}
	unlock(s);
	return written;
}
