/* SPDX-License-Identifier: ISC */
/* The FastCGI side of one worker process.
 *
 * The worker accepts connections itself and reads each one through the
 * record guard (fcgi_guard.c) under a deadline per phase: accepted but
 * silent, reading the request, idle on a kept connection.  Only a complete
 * RESPONDER request, re-encoded by the guard, reaches libfcgi: it is written
 * into a pipe that libfcgi reads as its connection (FCGX_Request.ipcFd, so
 * FCGX_Accept_r accepts nothing itself), then ipcFd is pointed at the real
 * connection for the answer.  libfcgi thus keeps the protocol (parameters,
 * output records, END_REQUEST) but never reads a byte from a client.
 *
 * Signals (PITFALLS): our handlers are installed before FCGX_Init().  SIGTERM
 * and SIGINT are blocked except while waiting: in accept(2) and in the
 * ppoll(2) of a connection's reads, so a request is never cut.  The handler
 * swaps this process's listening fd for a dead socket, so that an accept()
 * entered or restarted after the signal fails at once; other processes
 * sharing the socket are unaffected. */
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fastcgi.h>
#include <fcgiapp.h>

#include "streamlag/conn.h"
#include "streamlag/fcgi_guard.h"
#include "streamlag/http.h"
#include "streamlag/log.h"
#include "streamlag/worker.h"

/* Bytes read from a connection and not yet consumed: room for a whole
 * record after any partial one. */
#define CONN_BUF	(2 * SL_FCGI_RECORD_MAX)
/* After answering a request it refuses (unknown role), the worker reads
 * what the client still sends for at most this long before closing, so the
 * answer is not lost to a reset. */
#define LINGER_MS	1000
#define PIPE_SIZE	(128 * 1024)
/* A body's pieces from this size go out in records of up to
 * SL_RECORD_MAX bytes (a multiple of 8 under FastCGI's 65535). */
#define SL_RECORD_DIRECT	(16 * 1024)
#define SL_RECORD_MAX		65528

struct sl_worker {
	struct sl_ctx		*ctx;
	struct sl_worker_opts	 o;
	FCGX_Request		 fr;
	struct sl_fcgi_guard	*g;
	unsigned char		*buf;		/* CONN_BUF bytes */
	size_t			 off, len;	/* unconsumed: buf[off..len) */
	unsigned char		*handoff;	/* SL_FCGI_HANDOFF_MAX bytes */
	int			 pipe[2];	/* what libfcgi reads */
	unsigned long		 handled;
	sigset_t		 unblock;	/* the mask while waiting */
};

static volatile sig_atomic_t stopping;
static int listen_fd_g = -1, dead_fd_g = -1;

static void
on_stop(int sig)
{
	int saved = errno;

	(void)sig;
	stopping = 1;
	if (dead_fd_g != -1 && listen_fd_g != -1)
		(void)dup2(dead_fd_g, listen_fd_g);
	errno = saved;
}

static int
install_signals(sigset_t *stopset)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	/* SA_RESTART: an accept() restarts on the dead socket the handler put
	 * in place of the listening one, and fails at once. */
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		return -1;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1)
		return -1;
	sigemptyset(stopset);
	sigaddset(stopset, SIGTERM);
	sigaddset(stopset, SIGINT);
	return 0;
}

static double
elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Appends one header line; the buffer always has room for what streamlag
 * sends (static strings and a number), anything longer is cut. */
static void
header(char *buf, size_t cap, size_t *len, const char *name, const char *value)
{
	int n;

	if (*len >= cap)
		return;
	n = snprintf(buf + *len, cap - *len, "%s: %s\r\n", name, value);
	if (n > 0)
		*len = *len + (size_t)n < cap ? *len + (size_t)n : cap;
}

/* The CGI response head is formatted here: libfcgi's FCGX_FPrintF has a
 * printf of its own that does not know %zu and silently stops there.  A
 * streamed body has no Content-Length (with_length 0). */
static void
write_head(FCGX_Request *fr, const struct sl_response *resp, int with_length)
{
	char	 hdr[1024], num[64];
	size_t	 len = 0;

	snprintf(num, sizeof(num), "%d %s", resp->status,
	    sl_http_reason(resp->status));
	header(hdr, sizeof(hdr), &len, "Status", num);
	header(hdr, sizeof(hdr), &len, "Content-Type", resp->content_type ?
	    resp->content_type : "application/json");
	if (with_length) {
		snprintf(num, sizeof(num), "%lu", (unsigned long)resp->body_len);
		header(hdr, sizeof(hdr), &len, "Content-Length", num);
	}
	header(hdr, sizeof(hdr), &len, "X-Content-Type-Options", "nosniff");
	if (resp->no_store)
		header(hdr, sizeof(hdr), &len, "Cache-Control", "no-store");
	if (resp->allow != NULL)
		header(hdr, sizeof(hdr), &len, "Allow", resp->allow);
	if (resp->www_authenticate != NULL)
		header(hdr, sizeof(hdr), &len, "WWW-Authenticate",
		    resp->www_authenticate);
	FCGX_PutStr(hdr, (int)len, fr->out);
	FCGX_PutS("\r\n", fr->out);
}

static void
write_response(FCGX_Request *fr, const struct sl_response *resp, int head)
{
	write_head(fr, resp, 1);
	if (!head && resp->body != NULL)
		FCGX_PutStr(resp->body, (int)resp->body_len, fr->out);
}

/* sl_stream's ends on libfcgi's output stream: -1 once it has failed (the
 * client went away). */
static int
stream_head(void *arg, const struct sl_response *resp)
{
	FCGX_Request *fr = arg;

	write_head(fr, resp, 0);
	return FCGX_GetError(fr->out) != 0 ? -1 : 0;
}

/*
 * A large piece of a body goes out in FCGI_STDOUT records of up to 64 KiB
 * written here: libfcgi writes one record of its 8 KiB buffer per write(2),
 * 18 000 of them for a 150 MB /metrics.  Its buffer (the head, a small
 * piece before) is flushed first, so the bytes keep their order, and its
 * records close the stream as ever (FCGX_Finish_r).  0, or -1 once the
 * connection failed.
 */
static int
stream_records(FCGX_Request *fr, const char *p, size_t n)
{
	unsigned char	 h[FCGI_HEADER_LEN];
	struct iovec	 iov[2];
	size_t		 k, off;
	ssize_t		 w;

	if (FCGX_FFlush(fr->out) != 0 || FCGX_GetError(fr->out) != 0)
		return -1;
	while (n > 0) {
		k = n > SL_RECORD_MAX ? SL_RECORD_MAX : n;
		h[0] = FCGI_VERSION_1;
		h[1] = FCGI_STDOUT;
		h[2] = (unsigned char)((fr->requestId >> 8) & 0xff);
		h[3] = (unsigned char)(fr->requestId & 0xff);
		h[4] = (unsigned char)((k >> 8) & 0xff);
		h[5] = (unsigned char)(k & 0xff);
		h[6] = h[7] = 0;	/* no padding */
		for (off = 0; off < sizeof(h) + k; off += (size_t)w) {
			if (off < sizeof(h)) {
				iov[0].iov_base = h + off;
				iov[0].iov_len = sizeof(h) - off;
				iov[1].iov_base = (void *)(uintptr_t)p;
				iov[1].iov_len = k;
				w = writev(fr->ipcFd, iov, 2);
			} else
				w = write(fr->ipcFd, p + (off - sizeof(h)),
				    k - (off - sizeof(h)));
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0)
				return -1;
		}
		p += k;
		n -= k;
	}
	return 0;
}

static int
stream_body(void *arg, const char *p, size_t n)
{
	FCGX_Request	*fr = arg;
	int		 k;

	if (n >= SL_RECORD_DIRECT)
		return stream_records(fr, p, n);
	while (n > 0) {
		k = n > INT_MAX ? INT_MAX : (int)n;
		if (FCGX_PutStr(p, k, fr->out) != k)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The request path: nginx's normalised $document_uri when passed, else the
 * request URI up to the query. */
static const char *
request_path(FCGX_ParamArray envp, char *buf, size_t len)
{
	const char *p = FCGX_GetParam("DOCUMENT_URI", envp);
	const char *q;
	size_t n;

	if (p != NULL)
		return p;
	if ((p = FCGX_GetParam("REQUEST_URI", envp)) == NULL)
		return FCGX_GetParam("SCRIPT_NAME", envp);
	n = (q = strchr(p, '?')) != NULL ? (size_t)(q - p) : strlen(p);
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

/* Redis's round trips during the request, over every target, per node
 * (the sum returned); begin notes where they stand. */
static unsigned long
redis_trips(struct sl_ctx *ctx, int begin, char *buf, size_t len)
{
	size_t		 n = sl_config_ntargets(ctx->cfg), used = 0;
	unsigned long	 sum = 0;

	buf[0] = '\0';
	for (size_t i = 0; ctx->redis != NULL && i < n; i++) {
		if (begin) {
			sl_redis_trips_mark(&ctx->redis[i]);
			continue;
		}
		if (used > 0 && used + 1 < len)
			buf[used++] = ',';
		sum += sl_redis_trips(&ctx->redis[i], buf + used, len - used);
		used += strlen(buf + used);
		if (used > 0 && buf[used - 1] == ',')
			buf[--used] = '\0';	/* a target asked nothing */
	}
	return sum;
}

/* Answers the request of fr.  Large bodies are streamed to the client as
 * they are rendered (not for HEAD, whose Content-Length needs the whole
 * body).  Returns 0, or -1 when a streamed body was cut short: the
 * connection must then be aborted, so the client sees the answer cut. */
static int
handle(struct sl_ctx *ctx, FCGX_Request *fr)
{
	struct sl_request	 req;
	struct sl_response	 resp;
	struct sl_stream	 st;
	struct timespec		 t0;
	enum sl_route_id	 id;
	char			 pathbuf[SL_PATH_MAX + 1], logpath[160];
	char			 trips[256];
	int			 head;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&req, 0, sizeof(req));
	req.method = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	req.path = request_path(fr->envp, pathbuf, sizeof(pathbuf));
	req.query = FCGX_GetParam("QUERY_STRING", fr->envp);
	req.authorization = FCGX_GetParam("HTTP_AUTHORIZATION", fr->envp);
	req.now = time(NULL);
	if (req.path != NULL && strlen(req.path) > SL_PATH_MAX)
		req.path = "";	/* no route is that long: 404 */
	head = req.method != NULL && strcmp(req.method, "HEAD") == 0;
	memset(&st, 0, sizeof(st));
	st.head = stream_head;
	st.body = stream_body;
	st.arg = fr;
	ctx->stream = head ? NULL : &st;
	(void)redis_trips(ctx, 1, trips, sizeof(trips));
	id = sl_route(ctx, &req, &resp);
	ctx->stream = NULL;
	sl_count_request(ctx->counters, id, resp.status,
	    (int64_t)(elapsed_ms(&t0) * 1000));
	if (!st.started)
		write_response(fr, &resp, head);
	/* Redis's round trips, per node: "1 per node, plus the follow-up". */
	sl_log(st.err == SL_OK ? SL_LOG_INFO : SL_LOG_WARN, "request",
	    "method=%s path=%s status=%d dur_ms=%.2f redis_trips=%lu "
	    "redis_nodes=\"%s\"%s", req.method != NULL ? req.method : "-",
	    sl_log_str(req.path, logpath, sizeof(logpath)), resp.status,
	    elapsed_ms(&t0), redis_trips(ctx, 0, trips, sizeof(trips)), trips,
	    st.err == SL_OK ? "" : " body=cut");
	sl_response_free(&resp);
	return st.err == SL_OK ? 0 : -1;
}

static int
run_request(struct sl_worker *w)
{
	struct sl_slot	*slot = w->o.slot;
	int		 rc;

	if (slot != NULL)
		slot->busy_since_ms = sl_monotonic_ms();
	rc = handle(w->ctx, &w->fr);
	if (slot != NULL)
		slot->busy_since_ms = 0;
	return rc;
}

/* libfcgi's end of a request: its output records are flushed to ipcFd.
 * Returns 0, or -1 when libfcgi closed ipcFd after an error (without
 * lingering: `detached`). */
static int
finish_request(struct sl_worker *w)
{
	w->fr.detached = 1;
	FCGX_Finish_r(&w->fr);
	w->handled++;
	if (w->o.slot != NULL)
		w->o.slot->requests++;
	return w->fr.ipcFd < 0 ? -1 : 0;
}

static int
open_pipe(struct sl_worker *w)
{
	if (pipe2(w->pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	/* Room for the largest hand-off, so writing it never blocks. */
	if (fcntl(w->pipe[1], F_GETPIPE_SZ) < SL_FCGI_HANDOFF_MAX &&
	    fcntl(w->pipe[1], F_SETPIPE_SZ, PIPE_SIZE) < SL_FCGI_HANDOFF_MAX) {
		close(w->pipe[0]);
		close(w->pipe[1]);
		w->pipe[0] = w->pipe[1] = -1;
		return -1;
	}
	return 0;
}

static void
close_pipe(struct sl_worker *w)
{
	for (int i = 0; i < 2; i++)
		if (w->pipe[i] != -1) {
			close(w->pipe[i]);
			w->pipe[i] = -1;
		}
}

#ifndef SL_FCGI_NO_GUARD
/* The guarded request: libfcgi reads the guard's re-encoding from the pipe,
 * then answers on the connection.  0, -1 (fd still open), -2 (fd closed). */
static int
answer(struct sl_worker *w, int fd)
{
	size_t	 n = sl_fcgi_handoff(w->g, w->handoff);
	ssize_t	 wr;
	int	 cut;

	if (w->pipe[0] == -1 && open_pipe(w) == -1) {
		sl_log(SL_LOG_ERROR, "handoff_failed", "what=pipe errno=%d",
		    errno);
		return -1;
	}
	wr = write(w->pipe[1], w->handoff, n);
	w->fr.ipcFd = w->pipe[0];
	w->fr.keepConnection = 1;	/* libfcgi must not close the pipe */
	if (wr != (ssize_t)n || FCGX_Accept_r(&w->fr) < 0) {
		/* Cannot happen with the guard's output; libfcgi may have
		 * closed its end: start over with a new pipe. */
		sl_log(SL_LOG_ERROR, "handoff_failed", "what=%s",
		    wr != (ssize_t)n ? "write" : "FCGX_Accept_r");
		if (w->fr.ipcFd < 0)
			w->pipe[0] = -1;
		w->fr.ipcFd = -1;
		close_pipe(w);
		return -1;
	}
	w->fr.ipcFd = fd;
	/* A body cut short must not end like a whole one: no END_REQUEST,
	 * the connection is dropped (nginx then cuts the client's answer). */
	cut = run_request(w) == -1;
	if (cut)
		(void)shutdown(fd, SHUT_RDWR);
	if (finish_request(w) == -1)
		return -2;
	w->fr.ipcFd = -1;
	if (cut) {
		close(fd);
		return -2;
	}
	return 0;
}

static const char *const phase_names[] = { "first_byte", "read", "idle" };

/* Room for a whole record after the partial one left in the buffer. */
static void
compact(struct sl_worker *w)
{
	if (w->off == w->len)
		w->off = w->len = 0;
	else if (w->off > 0 && CONN_BUF - w->len < SL_FCGI_RECORD_MAX) {
		memmove(w->buf, w->buf + w->off, w->len - w->off);
		w->len -= w->off;
		w->off = 0;
	}
}

unsigned long
sl_worker_serve_conn(struct sl_worker *w, int fd)
{
	const struct sl_conn_deadlines *d = &w->o.deadlines;
	enum { FIRST_BYTE, READING, IDLE } phase = FIRST_BYTE;
	int64_t		 deadline = sl_deadline_in(d->first_byte_ms);
	int64_t		 since = sl_monotonic_ms();
	unsigned long	 n = 0, max = w->o.max_requests;
	int		 linger = 0, rc;

	sl_fcgi_guard_reset(w->g);
	w->off = w->len = 0;
	for (;;) {
		enum sl_fcgi_verdict v;
		size_t	 used;
		ssize_t	 r;

		v = sl_fcgi_guard_feed(w->g, w->buf + w->off, w->len - w->off,
		    &used);
		w->off += used;
		if (w->g->reply_len > 0) {
			if (sl_conn_send(fd, w->g->reply, w->g->reply_len,
			    deadline, &w->unblock) == -1)
				break;
			w->g->reply_len = 0;
			linger = 1;
		}
		if (v == SL_FCGI_FLUSH)
			continue;
		if (v == SL_FCGI_CLOSE) {
			sl_log(SL_LOG_WARN, "fcgi_refused", "why=%s", w->g->why);
			break;
		}
		if (v == SL_FCGI_REQUEST) {
			if ((rc = answer(w, fd)) == -2)
				return n + 1;
			if (rc == -1)
				break;
			n++;
			linger = 0;
			if (!w->g->keep_conn || stopping ||
			    (max != 0 && w->handled >= max))
				break;
			phase = IDLE;
			since = sl_monotonic_ms();
			deadline = sl_deadline_in(d->idle_ms);
			if (w->off < w->len) {	/* the next one is here */
				phase = READING;
				deadline = sl_deadline_in(d->read_ms);
			}
			continue;
		}
		/* SL_FCGI_MORE: a partial record at most is left. */
		compact(w);
		r = recv(fd, w->buf + w->len, CONN_BUF - w->len, MSG_DONTWAIT);
		if (r > 0) {
			w->len += (size_t)r;
			if (phase != READING) {
				phase = READING;
				since = sl_monotonic_ms();
				deadline = sl_deadline_in(d->read_ms);
			}
			continue;
		}
		if (r == 0)
			break;		/* the client closed */
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			break;
		/* A kept connection is let go at once on SIGTERM; the others
		 * have been accepted, and are served. */
		if (phase == IDLE && stopping)
			break;
		if (sl_conn_wait(fd, POLLIN, deadline, &w->unblock) == 0) {
			sl_log(phase == IDLE ? SL_LOG_INFO : SL_LOG_WARN,
			    "conn_deadline", "phase=%s waited_ms=%lld "
			    "requests=%lu", phase_names[phase],
			    (long long)(sl_monotonic_ms() - since), n);
			break;
		}
	}
	sl_conn_close(fd, linger ? LINGER_MS : 0, &w->unblock);
	return n;
}
#else
/* Test builds only (make fuzz-check): libfcgi reads the connection itself,
 * which proves that the fuzzer finds what the guard prevents. */
unsigned long
sl_worker_serve_conn(struct sl_worker *w, int fd)
{
	unsigned long n = 0;

	for (;;) {
		w->fr.ipcFd = fd;
		w->fr.keepConnection = 1;
		if (FCGX_Accept_r(&w->fr) < 0)
			return n;	/* libfcgi closed fd */
		if (run_request(w) == -1)
			(void)shutdown(fd, SHUT_RDWR);
		n++;
		if (finish_request(w) == -1)
			return n;
	}
}
#endif

struct sl_worker *
sl_worker_new(struct sl_ctx *ctx, const struct sl_worker_opts *o)
{
	struct sl_worker *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->ctx = ctx;
	if (o != NULL)
		w->o = *o;
	w->pipe[0] = w->pipe[1] = -1;
	sigprocmask(SIG_SETMASK, NULL, &w->unblock);
	sigdelset(&w->unblock, SIGTERM);
	sigdelset(&w->unblock, SIGINT);
	if ((w->g = malloc(sizeof(*w->g))) == NULL ||
	    (w->buf = malloc(CONN_BUF)) == NULL ||
	    (w->handoff = malloc(SL_FCGI_HANDOFF_MAX)) == NULL ||
	    open_pipe(w) == -1)
		goto fail;
	sl_fcgi_guard_reset(w->g);
	/* listen_sock -1: should libfcgi ever fall back to accepting, that
	 * fails at once instead of taking a connection past the guard. */
	if (FCGX_Init() != 0 || FCGX_InitRequest(&w->fr, -1, 0) != 0)
		goto fail;
	return w;
fail:
	sl_worker_free(w);
	return NULL;
}

void
sl_worker_free(struct sl_worker *w)
{
	if (w == NULL)
		return;
	FCGX_Free(&w->fr, 0);	/* streams and parameters; no fd */
	close_pipe(w);
	free(w->g);
	free(w->buf);
	free(w->handoff);
	free(w);
}

int
sl_worker_run(struct sl_ctx *ctx, int listen_fd, const struct sl_worker_opts *o)
{
	struct sl_worker	*w;
	struct sockaddr_storage	 sa;
	socklen_t		 salen;
	sigset_t		 stopset;
	unsigned long		 max = o != NULL ? o->max_requests : 0;
	int			 fd, one = 1, rc = 0;

	if (install_signals(&stopset) == -1) {
		sl_log(SL_LOG_ERROR, "worker_signals", "errno=%d", errno);
		return -1;
	}
	/* A request allocates and frees a chunk's worth of memory: it stays
	 * in the heap for the next one, instead of being mapped and faulted
	 * in again each time (which cost about a seventh of a request). */
	(void)mallopt(M_MMAP_THRESHOLD, 8 << 20);
	(void)mallopt(M_TRIM_THRESHOLD, 32 << 20);
	listen_fd_g = listen_fd;
	dead_fd_g = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* Blocked from here on, except while waiting. */
	sigprocmask(SIG_BLOCK, &stopset, NULL);
	if ((w = sl_worker_new(ctx, o)) == NULL) {
		sl_log(SL_LOG_ERROR, "worker_init", "errno=%d", errno);
		return -1;
	}
	sl_log(SL_LOG_INFO, "worker_ready", NULL);
	while (!stopping) {
		salen = sizeof(sa);
		sigprocmask(SIG_UNBLOCK, &stopset, NULL);
		fd = accept4(listen_fd, (struct sockaddr *)&sa, &salen,
		    SOCK_CLOEXEC);
		sigprocmask(SIG_BLOCK, &stopset, NULL);
		if (fd == -1) {
			if (stopping)
				break;
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EPROTO || errno == EAGAIN)
				continue;
			sl_log(SL_LOG_ERROR, "accept_failed", "errno=%d", errno);
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Out of resources for now: not fatal. */
				struct timespec ts = { 0, 100 * 1000000L };
				nanosleep(&ts, NULL);
				continue;
			}
			rc = -1;
			break;
		}
		if (!sl_peer_allowed((struct sockaddr *)&sa, salen,
		    ctx->cfg->allow_tcp)) {
			char peer[INET6_ADDRSTRLEN];

			sl_log(SL_LOG_WARN, "peer_refused", "peer=%s",
			    sl_peer_str((struct sockaddr *)&sa, peer,
			    sizeof(peer)));
			close(fd);
			continue;
		}
		if (sa.ss_family == AF_INET || sa.ss_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
		sl_worker_serve_conn(w, fd);
		if (max != 0 && w->handled >= max) {
			sl_log(SL_LOG_INFO, "worker_recycle", "requests=%lu",
			    w->handled);
			break;
		}
	}
	sl_worker_free(w);
	if (dead_fd_g != -1)
		close(dead_fd_g);
	sl_log(SL_LOG_INFO, "worker_stopped", NULL);
	return rc;
}
