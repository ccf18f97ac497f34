/* SPDX-License-Identifier: ISC */
/* The discovery cache in shared memory (see discache.h). */
#include <stdlib.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/discache.h"

static uint64_t
hash_of(const char *target, const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	/* The target's name first: a set never serves another target, even
	 * after a SIGHUP reordered STREAMLAG_TARGETS. */
	for (; target != NULL && *target != '\0'; target++)
		h = (h ^ (unsigned char)*target) * 1099511628211ULL;
	if (target != NULL)
		h = (h ^ 0) * 1099511628211ULL;
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Splits the n NUL-separated names of buf (used bytes) into names[].
 * SL_OK; SL_ENOMEM; SL_EPROTO when buf holds fewer names than n (a torn
 * copy: the caller treats it as a miss).  On failure names[] is empty. */
static enum sl_err
split_names(const char *buf, size_t used, size_t n, char **names)
{
	size_t	 i, off;

	for (i = 0, off = 0; i < n; i++) {
		if (off >= used || (names[i] = sl_strdup(buf + off)) == NULL) {
			while (i > 0)
				sl_free(names[--i]);
			return off >= used ? SL_EPROTO : SL_ENOMEM;
		}
		off += strlen(buf + off) + 1;
	}
	return SL_OK;
}

/* Reads under the sequence lock: a copy taken while a write began is
 * dropped, and the answer is a miss (*found stays 0). */
enum sl_err
sl_discache_get(struct sl_discache *c, const struct sl_discache_key *k,
    char ***out, size_t *nout, int *truncated, int *found)
{
	uint32_t	 s1;
	char		**names = NULL, *buf = NULL;
	size_t		 n, used;
	int		 trunc;
	enum sl_err	 rc;

	*out = NULL;
	*nout = 0;
	*found = 0;
	s1 = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
	if ((s1 & 1) || c->at_ms == 0 || c->pattern_hash != hash_of(k->target,
	    k->pattern) ||
	    c->max != k->max || (!k->stale && k->now_ms - c->at_ms >= k->ttl_ms))
		return SL_OK;
	n = c->n;
	used = c->used;
	trunc = c->truncated;
	if (used > SL_DISCACHE_BYTES)
		return SL_OK;
	if ((buf = sl_malloc(used + 1)) == NULL ||
	    (n > 0 && (names = sl_calloc(n, sizeof(*names))) == NULL)) {
		sl_free(buf);
		return SL_ENOMEM;
	}
	memcpy(buf, c->names, used);
	buf[used] = '\0';
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&c->seq, __ATOMIC_RELAXED) != s1)
		rc = SL_EPROTO;		/* written meanwhile: not this copy */
	else
		rc = split_names(buf, used, n, names);
	sl_free(buf);
	if (rc != SL_OK) {
		sl_free(names);
		return rc == SL_ENOMEM ? SL_ENOMEM : SL_OK;
	}
	*out = names;
	*nout = n;
	*truncated = trunc;
	*found = 1;
	return SL_OK;
}

int
sl_discache_begin(struct sl_discache *c, int64_t now_ms)
{
	if (__atomic_exchange_n(&c->refreshing, 1, __ATOMIC_ACQUIRE) == 0 ||
	    now_ms - c->refresh_at_ms > SL_DISCACHE_TAKEOVER_MS) {
		c->refresh_at_ms = now_ms;
		return 1;
	}
	return 0;
}

void
sl_discache_done(struct sl_discache *c, const char *target,
    const char *pattern, long long max, char *const *names, size_t n,
    int truncated, int64_t now_ms)
{
	size_t	 used = 0, i;

	for (i = 0; i < n; i++)
		used += strlen(names[i]) + 1;
	__atomic_add_fetch(&c->seq, 1, __ATOMIC_ACQ_REL);	/* odd */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (used <= SL_DISCACHE_BYTES) {
		size_t off = 0;

		for (i = 0; i < n; i++) {
			size_t len = strlen(names[i]) + 1;
			memcpy(c->names + off, names[i], len);
			off += len;
		}
		c->n = n;
		c->used = used;
		c->truncated = truncated;
		c->max = max;
		c->pattern_hash = hash_of(target, pattern);
		c->at_ms = now_ms > 0 ? now_ms : 1;
	} else
		c->at_ms = 0;	/* does not fit: every request scans */
	__atomic_add_fetch(&c->seq, 1, __ATOMIC_ACQ_REL);	/* even */
	__atomic_store_n(&c->refreshing, 0, __ATOMIC_RELEASE);
}
