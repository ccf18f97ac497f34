/* SPDX-License-Identifier: ISC */
/* The FastCGI accept loop of one process.
 *
 * libfcgi traps (PITFALLS): FCGX_Init() installs its own SIGTERM handler
 * unless one is set already, and a signal during a request makes blocking
 * calls (hiredis reads) fail with EINTR.  So: our handlers are installed
 * first (with SA_RESTART), signals are blocked while a request is handled
 * (it completes), and the handler swaps this process's listening fd for a
 * dead socket, so that an accept() entered or restarted after the signal
 * fails at once instead of waiting for the next connection, while a request
 * being read is not cut.  Other processes sharing the socket are unaffected. */
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "streamlag/http.h"
#include "streamlag/log.h"
#include "streamlag/worker.h"

static volatile sig_atomic_t stopping;
static int listen_fd_g = -1, dead_fd_g = -1;

static void
on_stop(int sig)
{
	int saved = errno;

	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
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
	/* SA_RESTART: a read of the request in progress carries on; an
	 * accept() restarts on the dead socket the handler put in place of the
	 * listening one, and fails at once. */
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
 * printf of its own that does not know %zu and silently stops there. */
static void
write_response(FCGX_Request *fr, const struct sl_response *resp, int head)
{
	char	 hdr[1024], num[64];
	size_t	 len = 0;

	snprintf(num, sizeof(num), "%d %s", resp->status,
	    sl_http_reason(resp->status));
	header(hdr, sizeof(hdr), &len, "Status", num);
	header(hdr, sizeof(hdr), &len, "Content-Type", resp->content_type ?
	    resp->content_type : "application/json");
	snprintf(num, sizeof(num), "%lu", (unsigned long)resp->body_len);
	header(hdr, sizeof(hdr), &len, "Content-Length", num);
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
	if (!head && resp->body != NULL)
		FCGX_PutStr(resp->body, (int)resp->body_len, fr->out);
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

static void
handle(struct sl_ctx *ctx, FCGX_Request *fr)
{
	struct sl_request	 req;
	struct sl_response	 resp;
	struct timespec		 t0;
	char			 pathbuf[SL_PATH_MAX + 1], logpath[160];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&req, 0, sizeof(req));
	req.method = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	req.path = request_path(fr->envp, pathbuf, sizeof(pathbuf));
	req.query = FCGX_GetParam("QUERY_STRING", fr->envp);
	req.authorization = FCGX_GetParam("HTTP_AUTHORIZATION", fr->envp);
	req.now = time(NULL);
	if (req.path != NULL && strlen(req.path) > SL_PATH_MAX)
		req.path = "";	/* no route is that long: 404 */
	sl_route(ctx, &req, &resp);
	sl_count_request(ctx->counters, sl_route_id(req.path), resp.status,
	    (int64_t)(elapsed_ms(&t0) * 1000));
	write_response(fr, &resp, req.method != NULL &&
	    strcmp(req.method, "HEAD") == 0);
	sl_log(SL_LOG_INFO, "request", "method=%s path=%s status=%d dur_ms=%.2f",
	    req.method != NULL ? req.method : "-",
	    sl_log_str(req.path, logpath, sizeof(logpath)), resp.status,
	    elapsed_ms(&t0));
	sl_response_free(&resp);
}

int
sl_worker_run(struct sl_ctx *ctx, int listen_fd, const struct sl_worker_opts *o)
{
	FCGX_Request	 fr;
	sigset_t	 stopset;
	struct sl_slot	*slot = o != NULL ? o->slot : NULL;
	unsigned long	 handled = 0, max = o != NULL ? o->max_requests : 0;
	int		 rc;

	if (install_signals(&stopset) == -1) {
		sl_log(SL_LOG_ERROR, "worker_signals", "errno=%d", errno);
		return -1;
	}
	/* libfcgi checks TCP peers against this list in FCGX_Init's copy. */
	if (ctx->cfg->allow_tcp != NULL)
		setenv("FCGI_WEB_SERVER_ADDRS", ctx->cfg->allow_tcp, 1);
	else
		unsetenv("FCGI_WEB_SERVER_ADDRS");
	listen_fd_g = listen_fd;
	dead_fd_g = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (FCGX_Init() != 0 ||
	    FCGX_InitRequest(&fr, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		sl_log(SL_LOG_ERROR, "worker_init", "what=FCGX_Init");
		return -1;
	}
	sl_log(SL_LOG_INFO, "worker_ready", NULL);
	while (!stopping) {
		rc = FCGX_Accept_r(&fr);
		if (rc < 0) {
			if (stopping)
				break;
			if (rc == -EINTR || rc == -ECONNABORTED)
				continue;
			sl_log(SL_LOG_ERROR, "accept_failed", "rc=%d", rc);
			FCGX_Free(&fr, 1);
			return -1;
		}
		/* The request in flight completes even if told to stop. */
		sigprocmask(SIG_BLOCK, &stopset, NULL);
		if (slot != NULL)
			slot->busy_since_ms = sl_monotonic_ms();
		handle(ctx, &fr);
		FCGX_Finish_r(&fr);
		if (slot != NULL) {
			slot->busy_since_ms = 0;
			slot->requests++;
		}
		sigprocmask(SIG_UNBLOCK, &stopset, NULL);
		if (max != 0 && ++handled >= max) {
			sl_log(SL_LOG_INFO, "worker_recycle", "requests=%lu", handled);
			break;
		}
	}
	FCGX_Free(&fr, 1);
	if (dead_fd_g != -1)
		close(dead_fd_g);
	sl_log(SL_LOG_INFO, "worker_stopped", NULL);
	return 0;
}
