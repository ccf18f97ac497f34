/* SPDX-License-Identifier: ISC */
/* logfmt lines on stderr, one write(2) each so lines from several processes
 * never interleave. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "streamlag/log.h"

static enum sl_log_level min_level = SL_LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void
sl_log_set_level(enum sl_log_level min)
{
	min_level = min;
}

void
sl_log(enum sl_log_level lvl, const char *event, const char *fmt, ...)
{
	char		 line[2048], ts[32];
	struct timespec	 now;
	struct tm	 tm;
	va_list		 ap;
	int		 n, m;
	int		 saved = errno;

	if (lvl < min_level)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "ts=%s.%03ldZ level=%s pid=%ld event=%s",
	    ts, now.tv_nsec / 1000000, level_names[lvl], (long)getpid(), event);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		goto out;
	if (fmt != NULL && *fmt != '\0') {
		line[n++] = ' ';
		va_start(ap, fmt);
		m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
		va_end(ap);
		if (m < 0)
			goto out;
		n += m;
		if ((size_t)n > sizeof(line) - 2)
			n = sizeof(line) - 2;	/* truncated line, still one line */
	}
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
out:
	errno = saved;
}

const char *
sl_log_str(const char *s, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char	 copy[4096];
	size_t	 o = 0;

	if (len < 3) {
		if (len > 0)
			buf[0] = '\0';
		return buf;
	}
	/* Escaping into the buffer being read (sl_log_str(err, err, ...))
	 * would read back its own backslashes: read a copy instead.  At most
	 * len - 3 input bytes can fit, so the copy needs no more. */
	if (s != NULL && s + strnlen(s, len) >= buf && s < buf + len) {
		size_t n = strnlen(s, len < sizeof(copy) ? len : sizeof(copy));

		if (n >= sizeof(copy))
			n = sizeof(copy) - 1;
		memcpy(copy, s, n);
		copy[n] = '\0';
		s = copy;
	}
	buf[o++] = '"';
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			if (o + 3 >= len)
				break;
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			if (o + 5 >= len)
				break;
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else {
			if (o + 2 >= len)
				break;
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}
