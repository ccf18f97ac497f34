/* SPDX-License-Identifier: ISC */
/*
 * One Redis node (node.h): a non-blocking connection driven by the
 * executor.  Commands are copied into one output buffer and written as the
 * socket takes them; replies are parsed by hiredis's reader as bytes come
 * and handed over in order.  A connection kept from an earlier request that
 * turns out closed (Redis restarted, CLIENT KILL, an idle timeout) before
 * any reply is replaced once, its commands sent again: safe because
 * streamlag only reads.  A timeout starts a short back-off during which the
 * node fails fast, as the single-node layer does.
 */
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "streamlag/alloc.h"
#include "streamlag/log.h"
#include "streamlag/node.h"
#include "streamlag/resp.h"
#include "streamlag/tls.h"

long long
sl_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* AUTH [user] password, SELECT db, READONLY (a cluster replica read), as
 * one RESP buffer. */
static enum sl_err
make_setup(struct sl_node *n, const struct sl_node_auth *a, struct sl_error *e)
{
	const char	*argv[3];
	size_t		 lens[3], len[3] = { 0, 0, 0 }, off = 0;
	char		*cmd[3] = { NULL, NULL, NULL }, db[24];
	int		 argc = 0, k = 0;

	if (a != NULL && a->password != NULL) {
		argv[argc++] = "AUTH";
		if (a->user != NULL)
			argv[argc++] = a->user;
		argv[argc++] = a->password;
		for (int i = 0; i < argc; i++)
			lens[i] = strlen(argv[i]);
		if ((cmd[k] = sl_resp_format(argc, argv, lens, &len[k])) == NULL)
			goto nomem;
		k++;
		n->auth_first = 1;
	}
	if (a != NULL && a->db != 0) {
		snprintf(db, sizeof(db), "%d", a->db);
		argv[0] = "SELECT";
		argv[1] = db;
		lens[0] = 6;
		lens[1] = strlen(db);
		if ((cmd[k] = sl_resp_format(2, argv, lens, &len[k])) == NULL)
			goto nomem;
		k++;
	}
	if (a != NULL && a->readonly) {
		argv[0] = "READONLY";
		lens[0] = 8;
		if ((cmd[k] = sl_resp_format(1, argv, lens, &len[k])) == NULL)
			goto nomem;
		k++;
		n->readonly_last = 1;
	}
	n->nsetup = (unsigned)k;
	if (k == 0)
		return SL_OK;
	if ((n->setup = sl_malloc(len[0] + len[1] + len[2])) == NULL)
		goto nomem;
	for (int i = 0; i < k; i++) {
		memcpy(n->setup + off, cmd[i], len[i]);
		off += len[i];
		sl_free(cmd[i]);
	}
	n->setuplen = off;
	return SL_OK;
nomem:
	sl_free(cmd[0]);
	sl_free(cmd[1]);
	sl_free(cmd[2]);
	return sl_seterr(e, SL_ENOMEM, NULL);
}

enum sl_err
sl_node_init(struct sl_node *n, const char *host, int port, const char *path,
    const struct sl_node_auth *auth, int timeout_ms, struct sl_error *e)
{
	memset(n, 0, sizeof(*n));
	sl_transport_init(&n->t);
	n->port = port;
	n->timeout_ms = timeout_ms;
	if (path != NULL)
		snprintf(n->name, sizeof(n->name), "unix:%s", path);
	else if (strchr(host, ':') != NULL)
		snprintf(n->name, sizeof(n->name), "[%s]:%d", host, port);
	else
		snprintf(n->name, sizeof(n->name), "%s:%d", host, port);
	if ((path != NULL && (n->path = sl_strdup(path)) == NULL) ||
	    (path == NULL && (n->host = sl_strdup(host)) == NULL) ||
	    (n->obuf = sl_malloc(SL_NODE_OBUF)) == NULL) {
		sl_node_free(n);
		return sl_seterr(e, SL_ENOMEM, NULL);
	}
	if (make_setup(n, auth, e) != SL_OK) {
		sl_node_free(n);
		return SL_ENOMEM;
	}
	return SL_OK;
}

void
sl_node_close(struct sl_node *n)
{
	sl_transport_close(&n->t);
	if (n->reader != NULL)
		redisReaderFree(n->reader);
	n->reader = NULL;
	n->state = SL_NODE_DOWN;
	n->more = 0;
	n->wclosed = 0;
	n->olen = n->ooff = n->setupoff = 0;
	n->setupleft = 0;
	/* What was sent and not answered goes again on the next connection. */
	n->wpos = n->rpos;
	n->woff = 0;
}

void
sl_node_free(struct sl_node *n)
{
	sl_node_close(n);
	sl_free(n->host);
	sl_free(n->path);
	sl_free(n->setup);
	sl_free(n->obuf);
	sl_free(n->q);
	memset(n, 0, sizeof(*n));
	n->t.fd = -1;
}

/* The step a failure happened in, for the log: the handshake command by
 * its name (AUTH, SELECT), as Redis users know them. */
static const char *
step(const struct sl_node *n)
{
	if (n->state == SL_NODE_DOWN || n->state == SL_NODE_CONNECTING)
		return "connect";
	if (n->state == SL_NODE_HANDSHAKE)
		return "handshake";
	if (n->setupleft > 0)
		return n->auth_first && n->setupleft == n->nsetup ? "AUTH" :
		    n->readonly_last && n->setupleft == 1 ? "READONLY" :
		    "SELECT";
	return "pipeline";
}

enum sl_err
sl_node_fail(struct sl_node *n, enum sl_err code, const char *fmt, ...)
{
	char	 text[SL_ERRSTR_MAX], qname[SL_NODE_NAME_MAX + 20], qerr[300];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	sl_seterr(&n->err, code, "%s", text);
	snprintf(n->errwhat, sizeof(n->errwhat), "%s", step(n));
	n->errors++;
	n->failed = 1;
	sl_log(SL_LOG_WARN, "redis_error", "what=%s timeout=%d backoff_ms=%d "
	    "redis=%s error=%s", step(n), code == SL_ETIMEOUT,
	    code == SL_ETIMEOUT ? SL_NODE_BACKOFF_MS : 0,
	    sl_log_str(n->name, qname, sizeof(qname)),
	    sl_log_str(text, qerr, sizeof(qerr)));
	sl_node_close(n);
	return code;
}

void
sl_node_begin(struct sl_node *n)
{
	n->qn = n->wpos = n->woff = n->rpos = 0;
	n->reused = n->state != SL_NODE_DOWN;
	n->retried = n->failed = 0;
	n->got = 0;
}

void
sl_node_forget(struct sl_node *n, const void *ctx)
{
	size_t	 w = 0, rpos = n->rpos, wpos = n->wpos;
	int	 owed = 0;

	for (size_t i = 0; i < n->qn; i++) {
		if (n->q[i].ctx != ctx) {
			n->q[w++] = n->q[i];
			continue;
		}
		owed |= i >= n->rpos;
		rpos -= i < n->rpos;
		wpos -= i < n->wpos;
	}
	n->qn = w;
	n->rpos = rpos;
	n->wpos = wpos;
	if (owed)
		sl_node_close(n);	/* its bytes may be on the wire */
}

enum sl_err
sl_node_push(struct sl_node *n, const char *buf, size_t len, size_t idx,
    void *ctx)
{
	if (n->qn == n->qcap) {
		size_t	 cap = n->qcap ? n->qcap * 2 : 64;
		void	*p = sl_reallocarray(n->q, cap, sizeof(*n->q));

		if (p == NULL)
			return SL_ENOMEM;
		n->q = p;
		n->qcap = cap;
	}
	if (n->rpos == n->qn) {
		n->round_trips++;
		if (n->state == SL_NODE_READY)
			n->mark = sl_mono_ms();	/* the wait starts now */
	}
	n->q[n->qn].buf = buf;
	n->q[n->qn].len = len;
	n->q[n->qn].idx = idx;
	n->q[n->qn].ctx = ctx;
	n->qn++;
	return SL_OK;
}

int
sl_node_busy(const struct sl_node *n)
{
	return n->rpos < n->qn;
}

enum sl_err
sl_node_start(struct sl_node *n, long long now)
{
	enum sl_io io;

	if (n->state != SL_NODE_DOWN)
		return SL_OK;
	if (n->failed)
		return n->err.code;
	if (now < n->retry_after) {
		n->failed = 1;
		return sl_seterr(&n->err, SL_EREDIS, "timed out less than %d ms "
		    "ago; failing fast until then", SL_NODE_BACKOFF_MS);
	}
	if ((n->reader = sl_reply_reader(&n->meter)) == NULL)
		return sl_node_fail(n, SL_ENOMEM, "out of memory");
	if (n->path != NULL)
		io = sl_transport_connect_unix(&n->t, n->path, NULL);
	else
		io = sl_transport_connect_tcp(&n->t, n->host, n->port, NULL);
	if (io == SL_IO_ERR)
		return sl_node_fail(n, SL_EREDIS, "%s", n->t.err.str);
	/* Even a connect done at once goes through CONNECTING: one place
	 * checks it and puts the secure layer on. */
	n->state = SL_NODE_CONNECTING;
	n->rwant = n->wwant = SL_IO_OK;
	n->setupoff = 0;
	n->setupleft = n->nsetup;
	n->mark = now;
	return SL_OK;
}

static int
unwritten(const struct sl_node *n)
{
	return n->setupoff < n->setuplen || n->ooff < n->olen || n->wpos < n->qn;
}

short
sl_node_events(const struct sl_node *n)
{
	short ev = 0;

	switch (n->state) {
	case SL_NODE_DOWN:
		return 0;
	case SL_NODE_CONNECTING:
		return POLLOUT;
	case SL_NODE_HANDSHAKE:
		return n->rwant == SL_IO_WANT_WRITE ? POLLOUT : POLLIN;
	case SL_NODE_READY:
		break;
	}
	if (unwritten(n) && !n->wclosed)
		ev |= n->wwant == SL_IO_WANT_READ ? POLLIN : POLLOUT;
	if (n->setupleft > 0 || n->rpos < n->qn)
		ev |= n->rwant == SL_IO_WANT_WRITE ? POLLOUT : POLLIN;
	return ev;
}

long long
sl_node_ms_left(const struct sl_node *n, long long now)
{
	if (!sl_node_busy(n) || n->state == SL_NODE_DOWN)
		return LLONG_MAX;
	return n->mark + n->timeout_ms - now;
}

enum sl_err
sl_node_expire(struct sl_node *n)
{
	/* A TLS handshake that did not end within the connect timeout says
	 * so, and whether the server looked like a plaintext one. */
	if (n->state == SL_NODE_HANDSHAKE && n->t.impl != NULL &&
	    sl_tls_handshake_timeout(&n->t, n->timeout_ms) == SL_EREDIS)
		sl_node_fail(n, SL_ETIMEOUT, "%s", n->t.err.str);
	else
		sl_node_fail(n, SL_ETIMEOUT, "timed out after %d ms",
		    n->timeout_ms);
	n->timeouts++;
	n->retry_after = sl_mono_ms() + SL_NODE_BACKOFF_MS;
	return SL_ETIMEOUT;
}

void
sl_node_drop(struct sl_node *n, sl_node_deliver_fn fn)
{
	/* fn may queue more on n (a command moved to a node that failed):
	 * those fail here too. */
	for (size_t i = n->rpos; i < n->qn; i++)
		if (n->q[i].idx != SL_NODE_ASKING)
			fn(n->q[i].ctx, n->q[i].idx, NULL);
	n->qn = n->rpos = n->wpos = n->woff = 0;
}

/* A connection that closed or failed.  A reused one that answered
 * nothing in this request was stale: closed quietly, to be replaced once. */
static enum sl_err
lost(struct sl_node *n, const char *why)
{
	if (n->reused && n->got == 0 && !n->retried) {
		n->retried = 1;
		n->reused = 0;
		sl_node_close(n);
		return SL_OK;
	}
	return sl_node_fail(n, SL_EREDIS, "%s", why);
}

/* A transport's failure in words: its own, or the server's closing. */
static const char *
io_error(const struct sl_node *n, enum sl_io io)
{
	return io == SL_IO_EOF ? "connection closed by the server" :
	    n->t.err.str;
}

/* Copies what is next (handshake commands first) into the output buffer. */
static void
refill(struct sl_node *n)
{
	size_t	 c;

	n->olen = n->ooff = 0;
	if (n->setupoff < n->setuplen) {
		c = n->setuplen - n->setupoff;
		c = c > SL_NODE_OBUF ? SL_NODE_OBUF : c;
		memcpy(n->obuf, n->setup + n->setupoff, c);
		n->setupoff += c;
		n->olen = c;
	}
	while (n->olen < SL_NODE_OBUF && n->wpos < n->qn) {
		const struct sl_node_entry *e = &n->q[n->wpos];

		c = e->len - n->woff;
		if (c > SL_NODE_OBUF - n->olen)
			c = SL_NODE_OBUF - n->olen;
		memcpy(n->obuf + n->olen, e->buf + n->woff, c);
		n->olen += c;
		n->woff += c;
		if (n->woff == e->len) {
			n->wpos++;
			n->woff = 0;
			n->commands += e->idx != SL_NODE_ASKING;
		}
	}
}

/*
 * Writes what is queued.  A write that fails while replies are owed does
 * not fail the connection yet: a server that closed it (Redis shut down)
 * may have answered part of what was written, and those replies are still
 * readable; drain reads them, then fails the rest with the write's error.
 */
static enum sl_err
flush(struct sl_node *n)
{
	enum sl_io	 io;
	size_t		 k;
	const char	*why;

	if (n->wclosed)
		return SL_OK;
	for (;;) {
		if (n->ooff == n->olen)
			refill(n);
		if (n->olen == 0)
			return SL_OK;
		io = n->t.ops->write(&n->t, n->obuf + n->ooff, n->olen - n->ooff, &k);
		if (io == SL_IO_OK) {
			n->ooff += k;
			n->mark = sl_mono_ms();
			n->wwant = SL_IO_OK;
		} else if (io == SL_IO_WANT_READ || io == SL_IO_WANT_WRITE) {
			n->wwant = io;
			return SL_OK;
		} else {
			why = io_error(n, io);
			if (n->setupleft == 0 && n->rpos == n->wpos)
				return lost(n, why);	/* nothing owed */
			n->wclosed = 1;
			snprintf(n->wwhy, sizeof(n->wwhy), "%s", why);
			return SL_OK;
		}
	}
}

/* One parsed reply: a handshake command's, else the next queued one's. */
static enum sl_err
take(struct sl_node *n, redisReply *r, sl_node_deliver_fn fn)
{
	struct sl_node_entry *e;

	if (n->setupleft > 0) {
		if (r->type == REDIS_REPLY_ERROR) {
			/* Redis's own words: they never echo the password. */
			sl_node_fail(n, SL_EREDIS, "%.*s", (int)(r->len > 200 ?
			    200 : r->len), r->str);
			sl_reply_free(r);
			return SL_EREDIS;
		}
		n->setupleft--;
		sl_reply_free(r);
		n->mark = sl_mono_ms();
		return SL_OK;
	}
	if (n->rpos >= n->qn) {
		sl_reply_free(r);
		return sl_node_fail(n, SL_EPROTO, "a reply to no command");
	}
	e = &n->q[n->rpos++];
	n->mark = sl_mono_ms();
	if (e->idx == SL_NODE_ASKING) {
		sl_reply_free(r);	/* +OK; the command after it answers */
		return SL_OK;
	}
	n->got++;
	n->replies++;
	fn(e->ctx, e->idx, r);
	return SL_OK;
}

/* Every complete reply in the reader. */
static enum sl_err
parse(struct sl_node *n, sl_node_deliver_fn fn)
{
	void		*r;
	struct sl_error	 e;
	enum sl_err	 rc;

	for (;;) {
		if ((rc = sl_reply_next(n->reader, &r, &e)) != SL_OK)
			return sl_node_fail(n, rc, "%s", e.str);
		if (r == NULL)
			return SL_OK;
		if ((rc = take(n, r, fn)) != SL_OK)
			return rc;
		if (n->state != SL_NODE_READY)
			return SL_OK;
	}
}

static enum sl_err
drain(struct sl_node *n, sl_node_deliver_fn fn)
{
	char		 buf[SL_NODE_RBUF];
	enum sl_io	 io;
	enum sl_err	 rc;
	size_t		 k;

	n->more = 0;
	for (int i = 0; n->state == SL_NODE_READY &&
	    (n->setupleft > 0 || n->rpos < n->qn); i++) {
		if (i == SL_NODE_READS) {
			/* The other nodes' turn first; bytes TLS decrypted
			 * (sl_tls_pending) or still on the socket are read
			 * before the executor sleeps. */
			n->more = 1;
			return SL_OK;
		}
		io = n->t.ops->read(&n->t, buf, sizeof(buf), &k);
		if (io == SL_IO_WANT_READ || io == SL_IO_WANT_WRITE) {
			n->rwant = io;
			return SL_OK;
		}
		if (io != SL_IO_OK)
			return lost(n, n->wclosed ? n->wwhy : io_error(n, io));
		n->rwant = SL_IO_OK;
		if (redisReaderFeed(n->reader, buf, k) != REDIS_OK)
			return sl_node_fail(n, SL_ENOMEM, "out of memory");
		if ((rc = parse(n, fn)) != SL_OK)
			return rc;
	}
	return SL_OK;
}

/* Connect, then the transport's handshake. */
static enum sl_err
establish(struct sl_node *n)
{
	enum sl_io io;

	if (n->state == SL_NODE_CONNECTING) {
		if (sl_transport_connected(&n->t) != SL_IO_OK)
			return sl_node_fail(n, SL_EREDIS, "%s", n->t.err.str);
		n->state = SL_NODE_HANDSHAKE;
		if (n->wrap != NULL && n->wrap(&n->t, n->host,
		    n->wrap_arg) != SL_IO_OK)
			return sl_node_fail(n, SL_EREDIS, "%s", n->t.err.str);
	}
	if (n->state == SL_NODE_HANDSHAKE) {
		io = n->t.ops->handshake(&n->t);
		if (io == SL_IO_WANT_READ || io == SL_IO_WANT_WRITE) {
			n->rwant = io;
			return SL_OK;
		}
		if (io != SL_IO_OK)
			return sl_node_fail(n, SL_EREDIS, "%s", io_error(n, io));
		n->state = SL_NODE_READY;
		n->rwant = n->wwant = SL_IO_OK;
		n->connects++;
		n->mark = sl_mono_ms();
	}
	return SL_OK;
}

enum sl_err
sl_node_send(struct sl_node *n)
{
	if (n->state != SL_NODE_READY)
		return SL_OK;	/* sl_node_io connects it first */
	return flush(n);
}

enum sl_err
sl_node_io(struct sl_node *n, sl_node_deliver_fn fn)
{
	enum sl_err rc;

	if ((rc = establish(n)) != SL_OK || n->state != SL_NODE_READY)
		return rc;
	if ((rc = flush(n)) != SL_OK || n->state != SL_NODE_READY)
		return rc;
	return drain(n, fn);
}
