/* SPDX-License-Identifier: ISC */
/* The output buffer of every answer body (out.h). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/out.h"

void
sl_out_init(struct sl_out *o)
{
	memset(o, 0, sizeof(*o));
}

void
sl_out_set_sink(struct sl_out *o, sl_out_sink fn, void *arg, size_t flush_at)
{
	o->sink = fn;
	o->sink_arg = arg;
	o->flush_at = flush_at != 0 ? flush_at : SL_OUT_FLUSH_AT;
}

void
sl_out_fail(struct sl_out *o, enum sl_err code)
{
	if (o->err == SL_OK)
		o->err = code;
}

void
sl_out_presize(struct sl_out *o, size_t n)
{
	char *p;

	if (o->buf != NULL || n == 0 || n == SIZE_MAX ||
	    (p = sl_malloc(n + 1)) == NULL)
		return;
	o->buf = p;
	o->cap = n + 1;
}

/* The one overflow guard: len + n + 1 and every doubling are checked. */
int
sl_out_reserve(struct sl_out *o, size_t n)
{
	size_t	 need, cap;
	char	*p;

	if (o->err != SL_OK)
		return 0;
	if (n > SIZE_MAX - 1 - o->len) {
		sl_out_fail(o, SL_ENOMEM);
		return 0;
	}
	need = o->len + n + 1;
	if (need <= o->cap)
		return 1;
	for (cap = o->cap != 0 ? o->cap : SL_OUT_FIRST; cap < need; cap *= 2)
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
	if ((p = sl_realloc(o->buf, cap)) == NULL) {
		sl_out_fail(o, SL_ENOMEM);
		return 0;
	}
	o->buf = p;
	o->cap = cap;
	return 1;
}

enum sl_err
sl_out_flush(struct sl_out *o)
{
	if (o->err != SL_OK || o->sink == NULL || o->len == 0)
		return o->err;
	if (o->sink(o->sink_arg, o->buf, o->len) == -1)
		sl_out_fail(o, SL_ESYS);
	else
		o->flushed += o->len;
	o->len = 0;
	return o->err;
}

static void
maybe_flush(struct sl_out *o)
{
	if (o->sink != NULL && o->len >= o->flush_at)
		(void)sl_out_flush(o);
}

void
sl_out_put(struct sl_out *o, const char *p, size_t n)
{
	/* A block as large as a piece goes to the sink as it is, after what
	 * is buffered: one copy less. */
	if (o->sink != NULL && n >= o->flush_at && o->err == SL_OK) {
		if (sl_out_flush(o) != SL_OK)
			return;
		if (o->sink(o->sink_arg, p, n) == -1)
			sl_out_fail(o, SL_ESYS);
		else
			o->flushed += n;
		return;
	}
	if (!sl_out_reserve(o, n))
		return;
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	maybe_flush(o);
}

char *
sl_out_room(struct sl_out *o, size_t n)
{
	return sl_out_reserve(o, n) ? o->buf + o->len : NULL;
}

void
sl_out_advance(struct sl_out *o, size_t n)
{
	o->len += n;
	maybe_flush(o);
}

void
sl_out_puts(struct sl_out *o, const char *s)
{
	sl_out_put(o, s, strlen(s));
}

void
sl_out_putc(struct sl_out *o, char c)
{
	if (!sl_out_reserve(o, 1))
		return;
	o->buf[o->len++] = c;
	maybe_flush(o);
}

size_t
sl_fmt_uint(char *buf, unsigned long long v)
{
	char	 tmp[SL_INT_DIGITS];
	size_t	 k = 0, n = 0;

	do {
		tmp[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (k > 0)
		buf[n++] = tmp[--k];
	buf[n] = '\0';
	return n;
}

size_t
sl_fmt_int(char *buf, long long v)
{
	if (v >= 0)
		return sl_fmt_uint(buf, (unsigned long long)v);
	buf[0] = '-';
	/* 0 - (unsigned)v: LLONG_MIN too, without overflow. */
	return 1 + sl_fmt_uint(buf + 1, 0ULL - (unsigned long long)v);
}

void
sl_out_int(struct sl_out *o, long long v)
{
	char tmp[SL_INT_DIGITS];

	sl_out_put(o, tmp, sl_fmt_int(tmp, v));
}

void
sl_out_uint(struct sl_out *o, unsigned long long v)
{
	char tmp[SL_INT_DIGITS];

	sl_out_put(o, tmp, sl_fmt_uint(tmp, v));
}

void
sl_out_printf(struct sl_out *o, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sl_out_fail(o, SL_EINPUT);
		return;
	}
	if (!sl_out_reserve(o, (size_t)n))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	o->len += (size_t)n;
	maybe_flush(o);
}

char *
sl_out_finish(struct sl_out *o, size_t *len)
{
	char *text;

	if (o->err != SL_OK || o->flushed > 0 || !sl_out_reserve(o, 0)) {
		sl_out_free(o);
		return NULL;
	}
	o->buf[o->len] = '\0';
	text = o->buf;
	if (len != NULL)
		*len = o->len;
	o->buf = NULL;
	sl_out_free(o);
	return text;
}

void
sl_out_free(struct sl_out *o)
{
	sl_free(o->buf);
	memset(o, 0, sizeof(*o));
}
