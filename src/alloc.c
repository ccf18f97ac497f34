/* SPDX-License-Identifier: ISC */
/* The allocation wrappers (alloc.h) and the countdown that tests use. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/alloc.h"

static long	fail_after = -1;	/* -1: never fail */
static long	count;
static int	counting;	/* a test called sl_alloc_reset or _fail_after */

/* Atomic: the targets' probes allocate from threads of their own.  Only
 * tests count: the binary never calls the two, and pays no atomic add per
 * allocation. */
static int
refuse(void)
{
	long c;

	if (!__atomic_load_n(&counting, __ATOMIC_RELAXED))
		return 0;
	c = __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);

	if (fail_after >= 0 && c > fail_after) {
		errno = ENOMEM;
		return 1;
	}
	return 0;
}

void *
sl_malloc(size_t n)
{
	return refuse() ? NULL : malloc(n);
}

void *
sl_calloc(size_t nmemb, size_t size)
{
	return refuse() ? NULL : calloc(nmemb, size);
}

void *
sl_realloc(void *p, size_t n)
{
	return refuse() ? NULL : realloc(p, n);
}

void *
sl_reallocarray(void *p, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return sl_realloc(p, nmemb * size);
}

char *
sl_strdup(const char *s)
{
	return sl_strndup(s, strlen(s));
}

char *
sl_strndup(const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX || (p = sl_malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
sl_free(void *p)
{
	free(p);
}

void
sl_alloc_fail_after(long n)
{
	fail_after = n;
	count = 0;
	counting = 1;
}

void
sl_alloc_reset(void)
{
	fail_after = -1;
	count = 0;
	counting = 1;
}

long
sl_alloc_count(void)
{
	return count;
}
