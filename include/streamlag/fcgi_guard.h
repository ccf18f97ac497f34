/* SPDX-License-Identifier: ISC */
/* The FastCGI record guard: streamlag's own reader of the record stream a
 * connection carries.  libfcgi 2.4.2 must only ever see records that are
 * safe for it (PITFALLS: an FCGI_GET_VALUES naming FCGI_MAX_CONNS four times
 * overflows a stack buffer in its ProcessManagementRecord; name/value lengths
 * near 2^31 make it abort), so the guard reads whole records, answers the
 * management records itself, refuses what libfcgi mishandles, and hands
 * libfcgi one complete RESPONDER request, re-encoded: BEGIN_REQUEST, one
 * PARAMS record, the empty PARAMS record.  Pure: no sockets, no clock. */
#ifndef STREAMLAG_FCGI_GUARD_H
#define STREAMLAG_FCGI_GUARD_H

#include <stddef.h>

#define SL_FCGI_HEADER_LEN	8
/* The PARAMS stream of one request: what fits in the one record handed to
 * libfcgi.  nginx sends a few hundred bytes plus the request headers, which
 * streamlag's nginx config bounds at 16 KiB. */
#define SL_FCGI_PARAMS_MAX	65535
/* The longest record: header, 65535 bytes of content, 255 of padding. */
#define SL_FCGI_RECORD_MAX	(SL_FCGI_HEADER_LEN + 65535 + 255)
/* BEGIN_REQUEST (16), one PARAMS record (8 + content + padding to 8), the
 * empty PARAMS record (8). */
#define SL_FCGI_HANDOFF_MAX	(16 + 8 + SL_FCGI_PARAMS_MAX + 7 + 8)
/* Answers held before they are written; each answer is at most 64 bytes. */
#define SL_FCGI_REPLY_MAX	1024
#define SL_FCGI_ANSWER_MAX	64

enum sl_fcgi_verdict {
	SL_FCGI_MORE,		/* every whole record is consumed: read more */
	SL_FCGI_REQUEST,	/* a RESPONDER request is complete: hand it off */
	SL_FCGI_FLUSH,		/* the answers fill the buffer: write, feed again */
	SL_FCGI_CLOSE		/* write the answers, then close; `why` says why */
};

struct sl_fcgi_guard {
	unsigned	 id;		/* the request being read; 0 = none */
	int		 keep_conn;	/* its FCGI_KEEP_CONN flag */
	int		 params_done;	/* its empty PARAMS record was seen */
	size_t		 params_len;
	unsigned char	 params[SL_FCGI_PARAMS_MAX];
	/* Records to write back: management answers, END_REQUEST for refused
	 * roles and multiplexing attempts. */
	unsigned char	 reply[SL_FCGI_REPLY_MAX];
	size_t		 reply_len;
	const char	*why;		/* set with SL_FCGI_CLOSE */
	unsigned long	 answered;	/* management records answered */
};

/* Forgets any request in progress (a new connection). */
void	sl_fcgi_guard_reset(struct sl_fcgi_guard *g);

/* Consumes the whole records at the start of buf[0..len) and sets *used to
 * the bytes consumed.  Stops after the record that completes a request
 * (SL_FCGI_REQUEST; the next feed starts the next request), at the first
 * incomplete record (SL_FCGI_MORE), when the answers need writing
 * (SL_FCGI_FLUSH) or at a record it refuses (SL_FCGI_CLOSE).  Answers are
 * appended to g->reply for the caller to write, in order, before anything
 * else. */
enum sl_fcgi_verdict sl_fcgi_guard_feed(struct sl_fcgi_guard *g,
	    const unsigned char *buf, size_t len, size_t *used);

/* After SL_FCGI_REQUEST: writes the request as libfcgi is to read it into
 * out (at least SL_FCGI_HANDOFF_MAX bytes) and returns its length; the
 * guard is ready for the next request. */
size_t	sl_fcgi_handoff(struct sl_fcgi_guard *g, unsigned char *out);

/* One FastCGI name-value pair at p[0..len).  Returns the bytes it takes, or
 * 0 when it is malformed or runs past len. */
size_t	sl_fcgi_pair(const unsigned char *p, size_t len,
	    const unsigned char **name, size_t *nlen,
	    const unsigned char **value, size_t *vlen);

#endif
