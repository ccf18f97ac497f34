/* Shared memory mapped before fork (see shared.h). */
#include <sys/mman.h>

#include <string.h>
#include <time.h>

#include "streamlag/shared.h"

struct sl_shared *
sl_shared_create(void)
{
	void *p = mmap(NULL, sizeof(struct sl_shared), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, sizeof(struct sl_shared));
	return p;
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
