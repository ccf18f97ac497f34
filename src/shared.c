/* SPDX-License-Identifier: ISC */
/* Shared memory mapped before fork (see shared.h). */
#include <sys/mman.h>

#include <time.h>

#include "streamlag/shared.h"

struct sl_shared *
sl_shared_create(void)
{
	void *p = mmap(NULL, sizeof(struct sl_shared), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	/* Anonymous pages come zeroed: no memset, which would make every
	 * target's discovery cache resident. */
	return p == MAP_FAILED ? NULL : p;
}

void
sl_shared_destroy(struct sl_shared *sh)
{
	if (sh != NULL)
		munmap(sh, sizeof(*sh));
}

int64_t
sl_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
sl_monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *const sl_route_names[SL_ROUTES] = {
	"consumer_lag", "streams", "health", "metrics", "healthz", "auth_verify",
	"targets",
	"other",
};
const int sl_codes[SL_CODES - 1] = {
	200, 204, 400, 401, 403, 404, 405, 429, 500, 503,
};
const double sl_buckets[SL_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
};

void
sl_count(struct sl_counters *c, uint64_t *field)
{
	if (c != NULL && field != NULL)
		__atomic_fetch_add(field, 1, __ATOMIC_RELAXED);
}

void
sl_count_request(struct sl_counters *c, enum sl_route_id route, int status,
    int64_t duration_us)
{
	size_t	 code, b;
	double	 secs = (double)duration_us / 1e6;

	if (c == NULL || (unsigned)route >= SL_ROUTES)
		return;
	for (code = 0; code < SL_CODES - 1 && sl_codes[code] != status; code++)
		;
	for (b = 0; b < SL_BUCKETS && secs > sl_buckets[b]; b++)
		;
	__atomic_fetch_add(&c->requests[route][code], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->duration_bucket[route][b], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->duration_sum_us[route],
	    (uint64_t)(duration_us > 0 ? duration_us : 0), __ATOMIC_RELAXED);
}
