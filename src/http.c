/* SPDX-License-Identifier: ISC */
/* Status lines, error bodies and query strings. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/http.h"
#include "streamlag/render.h"

/*
 * No endpoint takes more than a handful of parameters; the cap bounds the
 * work an abusive query can cause and is tested at 32 and 33.
 */
#define SL_QUERY_PARAMS_MAX	32
/* How much of an offending raw name goes into an error message. */
#define SL_QUERY_NAME_ECHO	40

/*
 * Sent when even an error body cannot be allocated.  sl_response_free knows
 * it by its address, which survives a copy of the struct, so no flag is
 * needed in struct sl_response.
 */
static char oom_body[] = "{\"error\":\"Out of memory\",\"code\":\"internal\"}";

const char *
sl_http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default:
		/* Clients go by the code; RFC 9110's class names will do. */
		if (status >= 100 && status < 200)
			return "Informational";
		if (status >= 200 && status < 300)
			return "Successful";
		if (status >= 300 && status < 400)
			return "Redirection";
		if (status >= 400 && status < 500)
			return "Client Error";
		return "Server Error";
	}
}

void
sl_response_free(struct sl_response *resp)
{
	if (resp->body != oom_body)
		free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

int
sl_http_error(struct sl_response *resp, int status, const char *code,
    const char *message)
{
	char *body = sl_render_error(code, message);

	sl_response_free(resp);
	resp->content_type = "application/json";
	resp->no_store = 1;
	if (body == NULL) {
		/* The fallback body says "internal"; the status agrees. */
		resp->status = 500;
		resp->body = oom_body;
		resp->body_len = sizeof(oom_body) - 1;
		return -1;
	}
	resp->status = status;
	resp->body = body;
	resp->body_len = strlen(body);
	return 0;
}

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum decode_err {
	DECODE_OK,
	DECODE_NOMEM,
	DECODE_ESCAPE,	/* '%' not followed by two hex digits */
	DECODE_NUL	/* %00: names and values are C strings downstream */
};

static const char *
decode_errstr(enum decode_err e)
{
	switch (e) {
	case DECODE_ESCAPE:
		return "bad percent-escape";
	case DECODE_NUL:
		return "%00 is not allowed";
	case DECODE_NOMEM:
		return "out of memory";
	default:
		return "ok";
	}
}

/* Percent-decodes [p, p + len) into a new string in *out; '+' is a space
 * (HTML form encoding, which is what browsers and curl -G send). */
static enum decode_err
decode(const char *p, size_t len, char **out, size_t *outlen)
{
	char	*s;
	size_t	 i, o = 0;
	int	 hi, lo;

	*out = NULL;
	*outlen = 0;
	if ((s = malloc(len + 1)) == NULL)
		return DECODE_NOMEM;
	for (i = 0; i < len; i++) {
		if (p[i] == '+')
			s[o++] = ' ';
		else if (p[i] != '%')
			s[o++] = p[i];
		else {
			if (len - i < 3 ||
			    (hi = hexval((unsigned char)p[i + 1])) < 0 ||
			    (lo = hexval((unsigned char)p[i + 2])) < 0) {
				free(s);
				return DECODE_ESCAPE;
			}
			if (hi == 0 && lo == 0) {
				free(s);
				return DECODE_NUL;
			}
			s[o++] = (char)(hi << 4 | lo);
			i += 2;
		}
	}
	s[o] = '\0';
	*out = s;
	*outlen = o;
	return DECODE_OK;
}

int
sl_query_parse(const char *query, struct sl_query_param **out, size_t *n,
    char *err, size_t errlen)
{
	struct sl_query_param	*q = NULL;
	size_t			 nq = 0, qlen, nlen;
	const char		*p, *end;
	enum decode_err		 de;

	*out = NULL;
	*n = 0;
	if (query == NULL || *query == '\0')
		return 0;
	/* strnlen: an overlong query is refused without reading all of it. */
	if ((qlen = strnlen(query, SL_QUERY_MAX + 1)) > SL_QUERY_MAX) {
		seterr(err, errlen, "query string longer than %d bytes",
		    SL_QUERY_MAX);
		return -1;
	}
	if ((q = calloc(SL_QUERY_PARAMS_MAX, sizeof(*q))) == NULL) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	for (p = query, end = query + qlen; p < end; p++) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pe = amp != NULL ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pe - p));
		const char *nend = eq != NULL ? eq : pe;
		int rawlen = (int)(nend - p);

		if (pe == p)		/* "&&", or a leading or trailing '&' */
			continue;
		if (rawlen > SL_QUERY_NAME_ECHO)
			rawlen = SL_QUERY_NAME_ECHO;
		if (nq == SL_QUERY_PARAMS_MAX) {
			seterr(err, errlen, "more than %d query parameters",
			    SL_QUERY_PARAMS_MAX);
			goto fail;
		}
		/* Counted before decoding, so the cleanup frees what
		 * decode leaves behind. */
		nq++;
		de = decode(p, (size_t)(nend - p), &q[nq - 1].name, &nlen);
		if (de != DECODE_OK) {
			seterr(err, errlen, "query parameter \"%.*s\": %s",
			    rawlen, p, decode_errstr(de));
			goto fail;
		}
		if (nlen == 0) {
			seterr(err, errlen, "query parameter with an empty name");
			goto fail;
		}
		de = eq != NULL ?
		    decode(eq + 1, (size_t)(pe - eq - 1), &q[nq - 1].value,
		    &q[nq - 1].value_len) :
		    decode("", 0, &q[nq - 1].value, &q[nq - 1].value_len);
		if (de != DECODE_OK) {
			seterr(err, errlen, "query parameter \"%.*s\": %s",
			    rawlen, p, decode_errstr(de));
			goto fail;
		}
		p = pe;
	}
	if (nq == 0) {		/* only '&'s */
		free(q);
		return 0;
	}
	*out = q;
	*n = nq;
	return 0;
fail:
	sl_query_free(q, nq);
	return -1;
}

void
sl_query_free(struct sl_query_param *q, size_t n)
{
	if (q == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(q[i].name);
		free(q[i].value);
	}
	free(q);
}
