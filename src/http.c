/* Status lines, error bodies and query strings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/http.h"
#include "streamlag/render.h"

#define SL_QUERY_PARAMS_MAX 32

/* The body sent when even an error body cannot be allocated. */
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
	default:  return status < 400 ? "OK" : "Error";
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

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes [p, p+len) into a new string; '+' is a space.  Returns
 * NULL and sets *bad on a malformed escape or a decoded NUL. */
static char *
decode(const char *p, size_t len, size_t *outlen, const char **bad)
{
	char	*out = malloc(len + 1);
	size_t	 o = 0;

	*bad = NULL;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (p[i] == '+')
			out[o++] = ' ';
		else if (p[i] != '%')
			out[o++] = p[i];
		else {
			if (i + 2 >= len) {
				*bad = "a bad %-escape";
				goto fail;
			}
			hi = hexval((unsigned char)p[i + 1]);
			lo = hexval((unsigned char)p[i + 2]);
			if (hi < 0 || lo < 0) {
				*bad = "a bad %-escape";
				goto fail;
			}
			if (hi == 0 && lo == 0) {
				*bad = "%00";
				goto fail;
			}
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
fail:
	free(out);
	return NULL;
}

int
sl_query_parse(const char *query, struct sl_query_param **out, size_t *n,
    char *err, size_t errlen)
{
	struct sl_query_param	*q = NULL;
	size_t			 nq = 0, qlen;
	const char		*p, *end;

	*out = NULL;
	*n = 0;
	if (query == NULL || *query == '\0')
		return 0;
	if ((qlen = strlen(query)) > SL_QUERY_MAX) {
		snprintf(err, errlen, "query string longer than %d bytes",
		    SL_QUERY_MAX);
		return -1;
	}
	if ((q = calloc(SL_QUERY_PARAMS_MAX, sizeof(*q))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (p = query, end = query + qlen; p < end; ) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pe = amp != NULL ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pe - p));
		const char *nend = eq != NULL ? eq : pe, *bad;
		size_t nlen;

		if (pe == p) {			/* "&&": empty pair */
			p = pe + 1;
			continue;
		}
		if (nq == SL_QUERY_PARAMS_MAX) {
			snprintf(err, errlen, "more than %d query parameters",
			    SL_QUERY_PARAMS_MAX);
			goto fail;
		}
		q[nq].name = decode(p, (size_t)(nend - p), &nlen, &bad);
		if (q[nq].name == NULL || nlen == 0) {
			snprintf(err, errlen, "query parameter %.*s: %s",
			    (int)((nend - p) > 40 ? 40 : (nend - p)), p,
			    q[nq].name == NULL ? (bad ? bad : "out of memory") :
			    "empty name");
			goto fail;
		}
		if (eq != NULL)
			q[nq].value = decode(eq + 1, (size_t)(pe - eq - 1),
			    &q[nq].value_len, &bad);
		else
			q[nq].value = decode("", 0, &q[nq].value_len, &bad);
		if (q[nq].value == NULL) {
			snprintf(err, errlen, "query parameter %s: %s",
			    q[nq].name, bad ? bad : "out of memory");
			nq++;
			goto fail;
		}
		nq++;
		p = pe + (amp != NULL);
	}
	*out = q;
	*n = nq;
	return 0;
fail:
	sl_query_free(q, nq + 1 <= SL_QUERY_PARAMS_MAX ? nq + 1 : nq);
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
