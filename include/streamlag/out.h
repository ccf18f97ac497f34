/* SPDX-License-Identifier: ISC */
/* One growable output buffer for every answer body (JSON in jsonw.c,
 * Prometheus text in prom.c), with one overflow guard and one integer
 * formatter.  Errors stick: a writer checks once, at the end.
 *
 * With a sink (sl_out_set_sink), the buffer is handed to the sink each
 * time it passes `flush_at` bytes and is then reused, so an answer of any
 * size costs one buffer of about that size: the worker writes a 28 MB
 * consumer-lag answer to its client while it is rendered.  A sink that
 * fails (the client went away) makes every later write a no-op. */
#ifndef STREAMLAG_OUT_H
#define STREAMLAG_OUT_H

#include <stddef.h>

#include "streamlag/err.h"

/* Hands n bytes on; 0, or -1 when they could not be written. */
typedef int	(*sl_out_sink)(void *arg, const char *p, size_t n);

#define SL_OUT_FLUSH_AT	(64 * 1024)	/* a sink's default threshold */
#define SL_OUT_FIRST	4096		/* the first allocation */
/* Room for any long long in decimal, its sign and a NUL. */
#define SL_INT_DIGITS	24

struct sl_out {
	char		*buf;		/* sl_malloc'd; NUL-terminated room */
	size_t		 len, cap;
	enum sl_err	 err;		/* SL_OK, SL_ENOMEM, or SL_ESYS (sink) */
	sl_out_sink	 sink;		/* NULL: the whole text stays in buf */
	void		*sink_arg;
	size_t		 flush_at;
	size_t		 flushed;	/* bytes handed to the sink so far */
};

void	sl_out_init(struct sl_out *o);
/* From now on, hand the text to fn(arg, ...) past flush_at bytes
 * (0: SL_OUT_FLUSH_AT). */
void	sl_out_set_sink(struct sl_out *o, sl_out_sink fn, void *arg,
	    size_t flush_at);
/* Allocates room for n bytes at once for a buffer not allocated yet, so
 * that it does not grow by doubling and copying; when that fails nothing
 * changes (the buffer grows as it is written). */
void	sl_out_presize(struct sl_out *o, size_t n);
/* Room for n more bytes and a NUL: 1, or 0 (err set). */
int	sl_out_reserve(struct sl_out *o, size_t n);
void	sl_out_put(struct sl_out *o, const char *p, size_t n);
/* Room for n bytes written in place (then sl_out_advance by what was
 * written, at most n): one check for a line of many pieces.  NULL (err
 * set) when there is none. */
char	*sl_out_room(struct sl_out *o, size_t n);
void	sl_out_advance(struct sl_out *o, size_t n);
void	sl_out_puts(struct sl_out *o, const char *s);
void	sl_out_putc(struct sl_out *o, char c);
void	sl_out_int(struct sl_out *o, long long v);
void	sl_out_uint(struct sl_out *o, unsigned long long v);
void	sl_out_printf(struct sl_out *o, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Sets err to code (SL_ENOMEM...) unless an error is already there. */
void	sl_out_fail(struct sl_out *o, enum sl_err code);
/* Hands what is buffered to the sink (nothing without one); the error
 * that stuck, or SL_OK. */
enum sl_err sl_out_flush(struct sl_out *o);
/* The whole text (owned by the caller; sl_free) and its length, or NULL
 * when anything failed or a sink took part of it.  Frees the buffer. */
char	*sl_out_finish(struct sl_out *o, size_t *len);
void	sl_out_free(struct sl_out *o);

/* The integer formatter: v in decimal into buf[SL_INT_DIGITS], NUL-
 * terminated; returns the length.  Bodies hold up to millions of numbers:
 * no printf. */
size_t	sl_fmt_int(char *buf, long long v);
size_t	sl_fmt_uint(char *buf, unsigned long long v);

#endif
