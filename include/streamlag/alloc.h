/* SPDX-License-Identifier: ISC */
/* streamlag's own allocations all go through these wrappers, so that a test
 * can fail the Nth one (sl_alloc_fail_after) and prove that every path over
 * a request turns an allocation failure into SL_ENOMEM, never into a wrong
 * answer.  In the binary they are malloc(3) and friends. */
#ifndef STREAMLAG_ALLOC_H
#define STREAMLAG_ALLOC_H

#include <stddef.h>

void	*sl_malloc(size_t n);
void	*sl_calloc(size_t nmemb, size_t size);
void	*sl_realloc(void *p, size_t n);
/* realloc(p, nmemb * size), NULL on overflow (as reallocarray(3)). */
void	*sl_reallocarray(void *p, size_t nmemb, size_t size);
char	*sl_strdup(const char *s);
/* Exactly n bytes of s (which may hold NULs), NUL-terminated. */
char	*sl_strndup(const char *s, size_t n);
void	 sl_free(void *p);

/* Tests only: the next n allocations succeed, every later one fails,
 * until sl_alloc_reset().  sl_alloc_count() is the number of allocations
 * since the last reset, for walking N over a path. */
void	 sl_alloc_fail_after(long n);
void	 sl_alloc_reset(void);
long	 sl_alloc_count(void);

#endif
