/* SPDX-License-Identifier: ISC */
/* One error contract for streamlag.  A function that can fail returns an
 * enum sl_err and, when the caller gave one, writes the detail into the
 * struct sl_error of the object that failed (as hiredis's __redisSetError
 * does): bounded, with strerror(3) text for system errors.  The router maps
 * an sl_err to an HTTP status in one place (sl_err_status). */
#ifndef STREAMLAG_ERR_H
#define STREAMLAG_ERR_H

#include <stddef.h>

enum sl_err {
	SL_OK = 0,
	SL_ENOMEM,	/* an allocation failed: 500, from the router only */
	SL_EREDIS,	/* Redis unreachable, refused or timed out: 503 */
	SL_EPROTO,	/* a reply that is not what the command returns */
	SL_EINPUT,	/* the caller's input: 400 */
	SL_ESYS,	/* a system call failed: errno in the detail */
	SL_EBUDGET,	/* the request's budget ran out */
	SL_ETIMEOUT	/* a deadline passed */
};

#define SL_ERRSTR_MAX 256

struct sl_error {
	enum sl_err	code;
	char		str[SL_ERRSTR_MAX];
};

/* Sets e (when not NULL) and returns code.  A NULL fmt with SL_ESYS takes
 * strerror(errno); with SL_ENOMEM, "out of memory". */
enum sl_err	sl_seterr(struct sl_error *e, enum sl_err code,
		    const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* "out of memory", "redis unavailable"...: the name of a code. */
const char	*sl_err_name(enum sl_err code);
void		 sl_error_clear(struct sl_error *e);

#endif
