/* SPDX-License-Identifier: ISC */
/* One line per event on stderr, logfmt: ts=… level=… event=… key=value.
 * Never pass a token, a password or a secret. */
#ifndef STREAMLAG_LOG_H
#define STREAMLAG_LOG_H

#include <stddef.h>

enum sl_log_level { SL_LOG_DEBUG, SL_LOG_INFO, SL_LOG_WARN, SL_LOG_ERROR };

void	sl_log_set_level(enum sl_log_level min);
/* `fmt` continues the line after "event=<event>", e.g. "stream=%s". */
void	sl_log(enum sl_log_level lvl, const char *event, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* `s` as a logfmt value: quoted, with quotes, backslashes and control or
 * non-ASCII bytes escaped (\xHH), truncated to fit `buf`.  `s` may be
 * `buf` itself (e.g. an error message logged in place).  Returns buf. */
const char *sl_log_str(const char *s, char *buf, size_t len);

#endif
