/* SPDX-License-Identifier: ISC */
/* Streaming JSON writer (see jsonw.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/jsonw.h"

static const char replacement[] = "\xEF\xBF\xBD";	/* U+FFFD */

/*
 * Length of the well-formed UTF-8 sequence at p (1 to 4), or 0 when it is
 * ill-formed, with *skip set to the length of its maximal subpart: the
 * longest prefix that could still have begun a valid sequence.  Replacing
 * each maximal subpart by one U+FFFD is the practice Unicode (chapter 3,
 * "U+FFFD Substitution of Maximal Subparts") and WHATWG recommend, so our
 * output matches what browsers and Python's decoder show.
 */
static size_t
utf8_seq(const unsigned char *p, size_t left, size_t *skip)
{
	unsigned char	 c = p[0], lo = 0x80, hi = 0xBF;
	size_t		 n, k;

	*skip = 1;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;	/* below: overlong */
		else if (c == 0xED)
			hi = 0x9F;	/* above: surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;	/* below: overlong */
		else if (c == 0xF4)
			hi = 0x8F;	/* above: beyond U+10FFFF */
	} else
		return 0;	/* C0, C1, F5-FF, or a lone continuation */
	for (k = 1; k < n && k < left; k++) {
		unsigned char b = p[k];

		if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
			break;
	}
	if (k == n)
		return n;
	*skip = k;
	return 0;
}

char *
sl_utf8_sanitize(const char *s, size_t len, int nul_ok, size_t *outlen)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*out;
	size_t			 i = 0, o = 0, n, skip;

	/* Worst case every byte becomes three. */
	if (len > (SIZE_MAX - 1) / 3 || (out = sl_malloc(len * 3 + 1)) == NULL)
		return NULL;
	while (i < len) {
		n = utf8_seq(p + i, len - i, &skip);
		if (n == 1 && p[i] == '\0' && !nul_ok)
			n = 0;
		if (n == 0) {
			memcpy(out + o, replacement, 3);
			o += 3;
			i += skip;
		} else {
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
		}
	}
	out[o] = '\0';
	if (outlen != NULL)
		*outlen = o;
	return out;
}


static void
put(struct sl_jw *w, const char *p, size_t n)
{
	sl_out_put(w->out, p, n);
}

static void
putc1(struct sl_jw *w, char c)
{
	sl_out_putc(w->out, c);
}

/* Before a value or a key at the current level: the comma. */
static void
sep(struct sl_jw *w)
{
	if (w->first[w->depth])
		w->first[w->depth] = 0;
	else
		putc1(w, ',');
}

/* The body of a JSON string: valid UTF-8 in, escaped as json-c does. */
static void
put_escaped(struct sl_jw *w, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0;

	while (i < len) {
		size_t run = i;
		unsigned char c;

		/* Copy the run of bytes that need no escape in one go. */
		while (run < len && (c = (unsigned char)s[run]) >= 0x20 &&
		    c != '"' && c != '\\')
			run++;
		put(w, s + i, run - i);
		if (run == len)
			break;
		c = (unsigned char)s[run];
		switch (c) {
		case '"':  put(w, "\\\"", 2); break;
		case '\\': put(w, "\\\\", 2); break;
		case '\b': put(w, "\\b", 2); break;
		case '\f': put(w, "\\f", 2); break;
		case '\n': put(w, "\\n", 2); break;
		case '\r': put(w, "\\r", 2); break;
		case '\t': put(w, "\\t", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			put(w, u, 6);
		}
		}
		i = run + 1;
	}
}

/* A quoted string from bytes: ASCII as it is, anything else sanitized. */
static void
put_string(struct sl_jw *w, const char *p, size_t len, int nul_ok)
{
	size_t	 i, n;
	char	*clean;

	/* The common case, plain printable ASCII: one check, one copy. */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
			break;
	}
	if (i == len) {
		putc1(w, '"');
		put(w, p, len);
		putc1(w, '"');
		return;
	}
	putc1(w, '"');
	for (i = 0; i < len && (unsigned char)p[i] < 0x80 &&
	    (nul_ok || p[i] != '\0'); i++)
		;
	if (i == len)
		put_escaped(w, p, len);
	else if ((clean = sl_utf8_sanitize(p, len, nul_ok, &n)) == NULL)
		sl_jw_nomem(w);
	else {
		put_escaped(w, clean, n);
		sl_free(clean);
	}
	putc1(w, '"');
}

void
sl_jw_init_out(struct sl_jw *w, struct sl_out *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->first[0] = 1;
}

void
sl_jw_init(struct sl_jw *w)
{
	sl_jw_init_out(w, &w->own);
}

void
sl_jw_nomem(struct sl_jw *w)
{
	sl_out_fail(w->out, SL_ENOMEM);
}

enum sl_err
sl_jw_end(const struct sl_jw *w)
{
	if (w->out->err != SL_OK)
		return w->out->err;
	return w->misuse || w->depth != 0 ? SL_EINPUT : SL_OK;
}

void
sl_jw_free(struct sl_jw *w)
{
	sl_out_free(&w->own);
	memset(w, 0, sizeof(*w));
}

char *
sl_jw_finish(struct sl_jw *w, size_t *len)
{
	char *out = NULL;

	if (w->out == &w->own && sl_jw_end(w) == SL_OK)
		out = sl_out_finish(&w->own, len);
	sl_jw_free(w);
	return out;
}

static void
open_level(struct sl_jw *w, char c)
{
	sep(w);
	putc1(w, c);
	if (w->depth + 1 >= SL_JW_DEPTH) {
		w->misuse = 1;
		return;
	}
	w->first[++w->depth] = 1;
}

static void
close_level(struct sl_jw *w, char c)
{
	if (w->depth == 0) {
		w->misuse = 1;
		return;
	}
	w->depth--;
	putc1(w, c);
}

void sl_jw_obj(struct sl_jw *w) { open_level(w, '{'); }
void sl_jw_obj_end(struct sl_jw *w) { close_level(w, '}'); }
void sl_jw_arr(struct sl_jw *w) { open_level(w, '['); }
void sl_jw_arr_end(struct sl_jw *w) { close_level(w, ']'); }

void
sl_jw_key_bytes(struct sl_jw *w, const char *p, size_t len)
{
	sep(w);
	put_string(w, p, len, 0);
	putc1(w, ':');
	/* The value that follows needs no comma of its own. */
	w->first[w->depth] = 1;
}

void
sl_jw_key(struct sl_jw *w, const char *key)
{
	sl_jw_key_bytes(w, key, strlen(key));
}

void
sl_jw_str_bytes(struct sl_jw *w, const char *p, size_t len)
{
	sep(w);
	put_string(w, p != NULL ? p : "", p != NULL ? len : 0, 1);
}

void
sl_jw_str(struct sl_jw *w, const char *s)
{
	sl_jw_str_bytes(w, s, s != NULL ? strlen(s) : 0);
}

void
sl_jw_int(struct sl_jw *w, long long v)
{
	sep(w);
	sl_out_int(w->out, v);
}

void
sl_jw_bool(struct sl_jw *w, int v)
{
	sep(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void
sl_jw_null(struct sl_jw *w)
{
	sep(w);
	put(w, "null", 4);
}

void
sl_jw_kstr(struct sl_jw *w, const char *key, const char *s)
{
	sl_jw_key(w, key);
	sl_jw_str(w, s);
}

void
sl_jw_kint(struct sl_jw *w, const char *key, long long v)
{
	sl_jw_key(w, key);
	sl_jw_int(w, v);
}

void
sl_jw_kbool(struct sl_jw *w, const char *key, int v)
{
	sl_jw_key(w, key);
	sl_jw_bool(w, v);
}

void
sl_jw_kopt(struct sl_jw *w, const char *key, int present, long long v)
{
	sl_jw_key(w, key);
	if (present)
		sl_jw_int(w, v);
	else
		sl_jw_null(w);
}

/* A number with three decimals ("%.3f"); null when it is not finite. */
void
sl_jw_kfixed3(struct sl_jw *w, const char *key, int present, double v)
{
	char	 tmp[64];
	int	 k;

	sl_jw_key(w, key);
	if (!present || v != v || v > 1e300 || v < -1e300) {
		sl_jw_null(w);
		return;
	}
	sep(w);
	k = snprintf(tmp, sizeof(tmp), "%.3f", v);
	if (k > 0 && (size_t)k < sizeof(tmp))
		sl_out_put(w->out, tmp, (size_t)k);
}
