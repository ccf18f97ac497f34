/* SPDX-License-Identifier: ISC */
/* The FastCGI record guard (see fcgi_guard.h).
 *
 * What it does with each record (FastCGI 1.0):
 *   version other than 1                   refused: close
 *   requestId 0, FCGI_GET_VALUES           answered here: FCGI_MAX_CONNS 1,
 *                                          FCGI_MAX_REQS 1, FCGI_MPXS_CONNS 0
 *                                          (libfcgi's values, per process),
 *                                          each name once however often asked
 *   requestId 0, any other type            answered FCGI_UNKNOWN_TYPE
 *   BEGIN_REQUEST, role RESPONDER          starts the request
 *   BEGIN_REQUEST, another role            END_REQUEST FCGI_UNKNOWN_ROLE
 *   BEGIN_REQUEST during a request         END_REQUEST FCGI_CANT_MPX_CONN
 *   PARAMS, STDIN of the request           PARAMS kept (at most
 *                                          SL_FCGI_PARAMS_MAX bytes, every
 *                                          name-value pair checked), STDIN
 *                                          dropped (streamlag reads no body);
 *                                          the empty STDIN record ends it
 *   ABORT_REQUEST of the request           END_REQUEST, request dropped
 *   records of other requests              ignored
 *   anything else                          refused: close */
#include <string.h>

#include <fastcgi.h>

#include "streamlag/fcgi_guard.h"

/* libfcgi's answers to FCGI_GET_VALUES: one connection and one request per
 * process, no multiplexing. */
static const struct {
	const char	*name;
	char		 value;
} known_values[] = {
	{ FCGI_MAX_CONNS, '1' },
	{ FCGI_MAX_REQS, '1' },
	{ FCGI_MPXS_CONNS, '0' },
};
#define NKNOWN (sizeof(known_values) / sizeof(known_values[0]))

void
sl_fcgi_guard_reset(struct sl_fcgi_guard *g)
{
	g->id = 0;
	g->keep_conn = 0;
	g->params_done = 0;
	g->params_len = 0;
	g->reply_len = 0;
	g->why = NULL;
}

static void
put_header(unsigned char *h, int type, unsigned id, size_t clen, size_t plen)
{
	h[0] = FCGI_VERSION_1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(id >> 8);
	h[3] = (unsigned char)id;
	h[4] = (unsigned char)(clen >> 8);
	h[5] = (unsigned char)clen;
	h[6] = (unsigned char)plen;
	h[7] = 0;
}

static void
answer_end(struct sl_fcgi_guard *g, unsigned id, int protocol_status)
{
	unsigned char *r = g->reply + g->reply_len;

	put_header(r, FCGI_END_REQUEST, id, 8, 0);
	memset(r + 8, 0, 8);		/* appStatus 0 */
	r[12] = (unsigned char)protocol_status;
	g->reply_len += 16;
}

static void
answer_unknown_type(struct sl_fcgi_guard *g, int type)
{
	unsigned char *r = g->reply + g->reply_len;

	put_header(r, FCGI_UNKNOWN_TYPE, FCGI_NULL_REQUEST_ID, 8, 0);
	memset(r + 8, 0, 8);
	r[8] = (unsigned char)type;
	g->reply_len += 16;
}

size_t
sl_fcgi_pair(const unsigned char *p, size_t len, const unsigned char **name,
    size_t *nlen, const unsigned char **value, size_t *vlen)
{
	size_t	 off = 0, l[2];

	for (int i = 0; i < 2; i++) {
		if (off >= len)
			return 0;
		if (p[off] < 0x80)
			l[i] = p[off++];
		else {
			if (len - off < 4)
				return 0;
			l[i] = ((size_t)(p[off] & 0x7f) << 24) |
			    ((size_t)p[off + 1] << 16) |
			    ((size_t)p[off + 2] << 8) | p[off + 3];
			off += 4;
		}
	}
	/* Each length is below 2^31 and len is a record's content, so the
	 * sums cannot overflow. */
	if (l[0] > len - off || l[1] > len - off - l[0])
		return 0;
	*name = p + off;
	*nlen = l[0];
	*value = p + off + l[0];
	*vlen = l[1];
	return off + l[0] + l[1];
}

/* FCGI_GET_VALUES: the names asked for that streamlag knows, each once. */
static int
answer_get_values(struct sl_fcgi_guard *g, const unsigned char *c, size_t clen)
{
	unsigned char	*r = g->reply + g->reply_len, *body = r + 8;
	const unsigned char *name, *value;
	size_t		 n, nlen, vlen, blen = 0, pad;
	int		 asked[NKNOWN] = { 0 };

	while (clen > 0) {
		if ((n = sl_fcgi_pair(c, clen, &name, &nlen, &value,
		    &vlen)) == 0)
			return -1;
		for (size_t k = 0; k < NKNOWN; k++)
			if (nlen == strlen(known_values[k].name) &&
			    memcmp(name, known_values[k].name, nlen) == 0)
				asked[k] = 1;
		c += n;
		clen -= n;
	}
	for (size_t k = 0; k < NKNOWN; k++) {
		if (!asked[k])
			continue;
		nlen = strlen(known_values[k].name);
		body[blen++] = (unsigned char)nlen;
		body[blen++] = 1;
		memcpy(body + blen, known_values[k].name, nlen);
		blen += nlen;
		body[blen++] = (unsigned char)known_values[k].value;
	}
	pad = (8 - blen % 8) % 8;
	memset(body + blen, 0, pad);
	put_header(r, FCGI_GET_VALUES_RESULT, FCGI_NULL_REQUEST_ID, blen, pad);
	g->reply_len += 8 + blen + pad;
	return 0;
}

/* The whole PARAMS stream must be name-value pairs, each complete. */
static int
params_valid(const unsigned char *p, size_t len)
{
	const unsigned char *name, *value;
	size_t n, nlen, vlen;

	while (len > 0) {
		if ((n = sl_fcgi_pair(p, len, &name, &nlen, &value, &vlen)) == 0)
			return 0;
		p += n;
		len -= n;
	}
	return 1;
}

static enum sl_fcgi_verdict
refuse(struct sl_fcgi_guard *g, const char *why)
{
	g->why = why;
	return SL_FCGI_CLOSE;
}

/* BEGIN_REQUEST.  Returns -1 to go on, else the verdict. */
static int
begin(struct sl_fcgi_guard *g, unsigned id, const unsigned char *c,
    size_t clen)
{
	int role, keep;

	if (id == FCGI_NULL_REQUEST_ID || clen != 8)
		return refuse(g, "bad_begin_request");
	role = (c[0] << 8) | c[1];
	keep = (c[2] & FCGI_KEEP_CONN) != 0;
	if (g->id != 0) {
		if (id == g->id)
			return refuse(g, "begin_request_twice");
		answer_end(g, id, FCGI_CANT_MPX_CONN);
		return -1;
	}
	if (role != FCGI_RESPONDER) {
		answer_end(g, id, FCGI_UNKNOWN_ROLE);
		if (!keep)
			return refuse(g, "unknown_role");
		return -1;	/* its other records are ignored */
	}
	g->id = id;
	g->keep_conn = keep;
	g->params_done = 0;
	g->params_len = 0;
	return -1;
}

/* A record of the request being read.  Returns -1 to go on, else the
 * verdict. */
static int
request_record(struct sl_fcgi_guard *g, int type, const unsigned char *c,
    size_t clen)
{
	switch (type) {
	case FCGI_PARAMS:
		if (g->params_done)
			return refuse(g, "params_after_end");
		if (clen == 0) {
			if (!params_valid(g->params, g->params_len))
				return refuse(g, "bad_params");
			g->params_done = 1;
			return -1;
		}
		if (clen > SL_FCGI_PARAMS_MAX - g->params_len)
			return refuse(g, "params_too_long");
		memcpy(g->params + g->params_len, c, clen);
		g->params_len += clen;
		return -1;
	case FCGI_STDIN:
		if (!g->params_done)
			return refuse(g, "stdin_before_params");
		return clen == 0 ? SL_FCGI_REQUEST : -1;
	case FCGI_ABORT_REQUEST:
		answer_end(g, g->id, FCGI_REQUEST_COMPLETE);
		g->id = 0;
		if (!g->keep_conn)
			return refuse(g, "aborted");
		return -1;
	default:
		return refuse(g, "unexpected_record");
	}
}

enum sl_fcgi_verdict
sl_fcgi_guard_feed(struct sl_fcgi_guard *g, const unsigned char *buf,
    size_t len, size_t *used)
{
	size_t	 off = 0;
	int	 v = -1;

	*used = 0;
	while (v == -1) {
		const unsigned char *h = buf + off, *c = h + SL_FCGI_HEADER_LEN;
		size_t	 clen, rlen;
		unsigned id;
		int	 type;

		if (len - off < SL_FCGI_HEADER_LEN)
			return SL_FCGI_MORE;
		if (h[0] != FCGI_VERSION_1) {
			*used = off;
			return refuse(g, "bad_version");
		}
		type = h[1];
		id = ((unsigned)h[2] << 8) | h[3];
		clen = ((size_t)h[4] << 8) | h[5];
		rlen = SL_FCGI_HEADER_LEN + clen + h[6];
		if (len - off < rlen)
			return SL_FCGI_MORE;
		if (g->reply_len + SL_FCGI_ANSWER_MAX > sizeof(g->reply))
			return SL_FCGI_FLUSH;
		if (type == FCGI_BEGIN_REQUEST)
			v = begin(g, id, c, clen);
		else if (id == FCGI_NULL_REQUEST_ID) {
			g->answered++;
			if (type != FCGI_GET_VALUES)
				answer_unknown_type(g, type);
			else if (answer_get_values(g, c, clen) == -1)
				v = refuse(g, "bad_get_values");
		} else if (id == g->id)
			v = request_record(g, type, c, clen);
		/* else: a record of no request being read, ignored */
		if (v != SL_FCGI_CLOSE)
			off += rlen;
		*used = off;
	}
	return (enum sl_fcgi_verdict)v;
}

size_t
sl_fcgi_handoff(struct sl_fcgi_guard *g, unsigned char *out)
{
	size_t	 n = 0, pad;

	put_header(out, FCGI_BEGIN_REQUEST, g->id, 8, 0);
	memset(out + 8, 0, 8);
	out[9] = FCGI_RESPONDER;
	out[10] = g->keep_conn ? FCGI_KEEP_CONN : 0;
	n = 16;
	if (g->params_len > 0) {
		pad = (8 - g->params_len % 8) % 8;
		put_header(out + n, FCGI_PARAMS, g->id, g->params_len, pad);
		n += 8;
		memcpy(out + n, g->params, g->params_len);
		n += g->params_len;
		memset(out + n, 0, pad);
		n += pad;
	}
	put_header(out + n, FCGI_PARAMS, g->id, 0, 0);
	n += 8;
	g->id = 0;
	g->params_done = 0;
	g->params_len = 0;
	return n;
}
