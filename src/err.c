/* SPDX-License-Identifier: ISC */
/* The error contract (err.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "streamlag/err.h"

enum sl_err
sl_seterr(struct sl_error *e, enum sl_err code, const char *fmt, ...)
{
	va_list ap;
	int	saved = errno;

	if (e == NULL)
		return code;
	e->code = code;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(e->str, sizeof(e->str), fmt, ap);
		va_end(ap);
	} else if (code == SL_ESYS) {
		snprintf(e->str, sizeof(e->str), "%s", strerror(saved));
	} else {
		snprintf(e->str, sizeof(e->str), "%s", sl_err_name(code));
	}
	errno = saved;
	return code;
}

const char *
sl_err_name(enum sl_err code)
{
	switch (code) {
	case SL_OK:		return "ok";
	case SL_ENOMEM:		return "out of memory";
	case SL_EREDIS:		return "redis unavailable";
	case SL_EPROTO:		return "malformed reply";
	case SL_EINPUT:		return "invalid input";
	case SL_ESYS:		return "system error";
	case SL_EBUDGET:	return "request budget exceeded";
	case SL_ETIMEOUT:	return "deadline passed";
	}
	return "unknown error";
}

void
sl_error_clear(struct sl_error *e)
{
	if (e != NULL) {
		e->code = SL_OK;
		e->str[0] = '\0';
	}
}
