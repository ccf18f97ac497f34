/* SPDX-License-Identifier: ISC */
/* The Redis connection of one process and the pipelines that use it.
 *
 * hiredis 0.14 has no timeout unless redisSetTimeout() is called after every
 * connect, and a context that saw an error stays dead: it is freed here and
 * the next request reconnects.  A timeout (frozen or overloaded Redis) starts
 * a short back-off during which requests fail fast instead of each waiting a
 * full timeout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "streamlag/alloc.h"
#include "streamlag/log.h"
#include "streamlag/redis.h"
#include "streamlag/reply.h"

static struct timeval
ms_to_tv(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	return tv;
}

static int
now_before(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec < t->tv_sec ||
	    (now.tv_sec == t->tv_sec && now.tv_nsec < t->tv_nsec);
}

static void
start_backoff(struct sl_redis *r)
{
	clock_gettime(CLOCK_MONOTONIC, &r->retry_after);
	r->retry_after.tv_sec += SL_REDIS_BACKOFF_MS / 1000;
	r->retry_after.tv_nsec += (long)(SL_REDIS_BACKOFF_MS % 1000) * 1000000L;
	if (r->retry_after.tv_nsec >= 1000000000L) {
		r->retry_after.tv_sec++;
		r->retry_after.tv_nsec -= 1000000000L;
	}
}

static int
is_timeout(int err_no, const char *errstr)
{
	return err_no == EAGAIN || err_no == EWOULDBLOCK || err_no == ETIMEDOUT ||
	    strstr(errstr, "timed out") != NULL ||
	    strstr(errstr, "temporarily unavailable") != NULL;
}

/* One line per failure: the step, the address and the words of Redis or of
 * the system; never the password (Redis does not echo it). */
static void
log_error(const struct sl_redis *r, int timeout)
{
	char	where[300], qwhere[320], qerr[300];

	sl_redis_where(r->addr, where, sizeof(where));
	sl_log(SL_LOG_WARN, "redis_error", "what=%s timeout=%d backoff_ms=%d "
	    "redis=%s error=%s", r->errwhat, timeout,
	    timeout ? SL_REDIS_BACKOFF_MS : 0,
	    sl_log_str(where, qwhere, sizeof(qwhere)),
	    sl_log_str(r->errstr, qerr, sizeof(qerr)));
}

/* Records a connection-level failure, closes the context, and starts the
 * back-off when it was a timeout.  Returns 1 for a timeout, else 0.  The
 * text is the system's or hiredis's (r->errstr), logged with the address. */
static int
fail(struct sl_redis *r, const char *what, int err_no)
{
	const char *detail = r->c != NULL && r->c->errstr[0] != '\0' ?
	    r->c->errstr : err_no != 0 ? strerror(err_no) : "connection lost";
	int timeout = is_timeout(err_no, detail);

	if (timeout)
		snprintf(r->errstr, sizeof(r->errstr), "timed out after %d ms",
		    r->timeout_ms);
	else
		snprintf(r->errstr, sizeof(r->errstr), "%s", detail);
	snprintf(r->errwhat, sizeof(r->errwhat), "%s", what);
	r->errors++;
	sl_count(r->counters, r->counters ? &r->counters->redis_errors : NULL);
	if (timeout)
		start_backoff(r);
	log_error(r, timeout);
	sl_redis_close(r);
	return timeout;
}

void
sl_redis_init(struct sl_redis *r, const struct sl_redis_addr *addr,
    int timeout_ms)
{
	memset(r, 0, sizeof(*r));
	r->addr = addr;
	r->timeout_ms = timeout_ms;
}

void
sl_redis_close(struct sl_redis *r)
{
	if (r->c != NULL)
		redisFree(r->c);
	r->c = NULL;
}

/* Runs one setup command (AUTH, SELECT); SL_OK or SL_EREDIS. */
static enum sl_err
setup_command(struct sl_redis *r, const char *what, int argc, const char **argv)
{
	redisReply	*reply;
	int		 err_no;

	errno = 0;
	reply = redisCommandArgv(r->c, argc, argv, NULL);
	err_no = errno;
	if (reply == NULL) {
		fail(r, what, err_no);
		return SL_EREDIS;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		/* Redis's own words: they never echo the password. */
		snprintf(r->errstr, sizeof(r->errstr), "%.*s",
		    (int)(reply->len > 200 ? 200 : reply->len), reply->str);
		snprintf(r->errwhat, sizeof(r->errwhat), "%s", what);
		r->errors++;
		sl_count(r->counters, r->counters ? &r->counters->redis_errors : NULL);
		log_error(r, 0);
		freeReplyObject(reply);
		sl_redis_close(r);
		return SL_EREDIS;
	}
	freeReplyObject(reply);
	return SL_OK;
}

enum sl_err
sl_redis_ensure(struct sl_redis *r)
{
	const struct sl_redis_addr *a = r->addr;
	struct timeval	 tv = ms_to_tv(r->timeout_ms);
	char		 db[24];
	int		 err_no;

	if (r->c != NULL)
		return SL_OK;
	if (now_before(&r->retry_after)) {
		snprintf(r->errstr, sizeof(r->errstr), "timed out less than "
		    "%d ms ago; failing fast until then", SL_REDIS_BACKOFF_MS);
		return SL_EREDIS;
	}
	errno = 0;
	if (a->kind == SL_REDIS_UNIX)
		r->c = redisConnectUnixWithTimeout(a->path, tv);
	else
		r->c = redisConnectWithTimeout(a->host, a->port, tv);
	err_no = errno;
	if (r->c == NULL || r->c->err) {
		fail(r, "connect", err_no);
		return SL_EREDIS;
	}
	if (redisSetTimeout(r->c, tv) != REDIS_OK) {
		fail(r, "set timeout", errno);
		return SL_EREDIS;
	}
	if (a->kind == SL_REDIS_TCP)
		(void)redisEnableKeepAlive(r->c);
	/* Long names shortened as they are parsed; reply bytes counted. */
	sl_reply_install(r->c, &r->meter);
	if (a->password != NULL) {
		const char *argv[3] = { "AUTH", a->user, a->password };
		if (a->user != NULL) {
			if (setup_command(r, "AUTH", 3, argv) != SL_OK)
				return SL_EREDIS;
		} else {
			argv[1] = a->password;
			if (setup_command(r, "AUTH", 2, argv) != SL_OK)
				return SL_EREDIS;
		}
	}
	if (a->db != 0) {
		const char *argv[2] = { "SELECT", db };
		snprintf(db, sizeof(db), "%d", a->db);
		if (setup_command(r, "SELECT", 2, argv) != SL_OK)
			return SL_EREDIS;
	}
	r->server_known = 0;	/* INFO server again: it may be another */
	r->connects++;
	sl_count(r->counters, r->counters ? &r->counters->redis_connects : NULL);
	sl_log(SL_LOG_INFO, "redis_connected", "connects=%lu", r->connects);
	return SL_OK;
}

/* Writes n in decimal at p; returns the number of digits. */
static size_t
put_uint(char *p, size_t n)
{
	char	 tmp[24];
	size_t	 k = 0, i;

	do {
		tmp[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	for (i = 0; i < k; i++)
		p[i] = tmp[k - 1 - i];
	return k;
}

/* A command in RESP ("*N\r\n$len\r\narg\r\n..."), written directly:
 * hiredis 0.14's redisFormatCommandArgv goes through printf for every
 * argument, a third of the cost of a 10 000-stream request. */
static char *
resp_format(int argc, const char **argv, const size_t *argvlen, size_t *outlen)
{
	size_t	 total = 1 + 20 + 2, o = 0;
	char	*cmd;

	for (int i = 0; i < argc; i++)
		total += 1 + 20 + 2 + argvlen[i] + 2;
	if ((cmd = sl_malloc(total)) == NULL)
		return NULL;
	cmd[o++] = '*';
	o += put_uint(cmd + o, (size_t)argc);
	cmd[o++] = '\r';
	cmd[o++] = '\n';
	for (int i = 0; i < argc; i++) {
		cmd[o++] = '$';
		o += put_uint(cmd + o, argvlen[i]);
		cmd[o++] = '\r';
		cmd[o++] = '\n';
		memcpy(cmd + o, argv[i], argvlen[i]);
		o += argvlen[i];
		cmd[o++] = '\r';
		cmd[o++] = '\n';
	}
	*outlen = o;
	return cmd;
}

void
sl_pipeline_init(struct sl_pipeline *p, struct sl_redis *r)
{
	memset(p, 0, sizeof(*p));
	p->r = r;
}

enum sl_err
sl_pipeline_add(struct sl_pipeline *p, int argc, const char **argv,
    const size_t *argvlen)
{
	char	*cmd = NULL;
	size_t	 len;

	if (p->n == p->cap) {
		size_t	 cap = p->cap ? p->cap * 2 : 16;
		char	**cmds = sl_reallocarray(p->cmds, cap, sizeof(*cmds));
		size_t	*lens;
		redisReply **replies;

		if (cmds == NULL)
			return SL_ENOMEM;
		p->cmds = cmds;
		if ((lens = sl_reallocarray(p->cmdlens, cap, sizeof(*lens))) == NULL)
			return SL_ENOMEM;
		p->cmdlens = lens;
		if ((replies = sl_reallocarray(p->replies, cap,
		    sizeof(*replies))) == NULL)
			return SL_ENOMEM;
		p->replies = replies;
		p->cap = cap;
	}
	if ((cmd = resp_format(argc, argv, argvlen, &len)) == NULL)
		return SL_ENOMEM;
	p->cmds[p->n] = cmd;
	p->cmdlens[p->n] = len;
	p->replies[p->n] = NULL;
	p->n++;
	return SL_OK;
}

static int
append_batch(struct sl_pipeline *p, size_t *queued)
{
	size_t end = p->n - *queued > SL_PIPELINE_BATCH ?
	    *queued + SL_PIPELINE_BATCH : p->n;

	for (; *queued < end; (*queued)++)
		if (redisAppendFormattedCommand(p->r->c, p->cmds[*queued],
		    p->cmdlens[*queued]) != REDIS_OK)
			return -1;
	p->round_trips++;
	return 0;
}

/*
 * Batches of SL_PIPELINE_BATCH commands, with the next batch written before
 * the replies of the current one are read: Redis works on one batch while
 * streamlag parses the other, and never holds more than two batches of one
 * request.
 *
 * A connection kept from an earlier request may have died meanwhile (Redis
 * restarted, an idle timeout, CLIENT KILL): then the whole exchange is sent
 * once more on a new connection.  Safe because streamlag only reads.  A
 * timeout is never retried: it starts the back-off instead.
 */
enum sl_err
sl_pipeline_exec(struct sl_pipeline *p)
{
	struct sl_redis *r = p->r;
	size_t		 start = p->sent, queued, i;
	int		 retried = 0, reused, err_no, timeout, oom;

again:
	reused = r->c != NULL;
	if (sl_redis_ensure(r) != SL_OK)
		return SL_EREDIS;
	queued = p->sent;
	if (queued < p->n && append_batch(p, &queued) == -1)
		goto io_error;
	while (p->sent < p->n) {
		size_t batch_end = queued;

		/* Keep Redis busy: the next batch goes out first. */
		if (queued < p->n && append_batch(p, &queued) == -1)
			goto io_error;
		for (i = p->sent; i < batch_end; i++) {
			void *reply = NULL;

			errno = 0;
			if (redisGetReply(r->c, &reply) != REDIS_OK) {
				err_no = errno;
				goto read_error;
			}
			if (p->on_reply != NULL)
				p->on_reply(p->arg, i, reply);
			else
				p->replies[i] = reply;
		}
		p->sent = batch_end;
	}
	return SL_OK;
read_error:
	/* The reader's own allocation failed: not Redis's fault. */
	oom = r->c->err == REDIS_ERR_OOM;
	timeout = fail(r, "pipeline", err_no);
	for (size_t k = p->sent; k < i; k++) {
		freeReplyObject(p->replies[k]);
		p->replies[k] = NULL;
	}
	if (oom)
		return SL_ENOMEM;
	if (reused && !retried && !timeout && i == start) {
		retried = 1;	/* the connection was stale */
		goto again;
	}
	return SL_EREDIS;
io_error:
	fail(r, "pipeline", errno);
	return SL_EREDIS;
}

void
sl_pipeline_release(struct sl_pipeline *p, size_t from, size_t to)
{
	for (size_t i = from; i < to && i < p->n; i++) {
		if (p->replies[i] != NULL)
			freeReplyObject(p->replies[i]);
		p->replies[i] = NULL;
	}
}

void
sl_pipeline_free(struct sl_pipeline *p)
{
	for (size_t i = 0; i < p->n; i++) {
		sl_free(p->cmds[i]);
		if (p->replies[i] != NULL)
			freeReplyObject(p->replies[i]);
	}
	sl_free(p->cmds);
	sl_free(p->cmdlens);
	sl_free(p->replies);
	memset(p, 0, sizeof(*p));
}

const char *
sl_redis_where(const struct sl_redis_addr *a, char *buf, size_t len)
{
	if (a == NULL)
		snprintf(buf, len, "(none)");
	else if (a->kind == SL_REDIS_UNIX)
		snprintf(buf, len, "unix:%s", a->path ? a->path : "");
	else if (a->host != NULL && strchr(a->host, ':') != NULL)
		snprintf(buf, len, "[%s]:%d", a->host, a->port);
	else
		snprintf(buf, len, "%s:%d", a->host ? a->host : "", a->port);
	return buf;
}

const char *
sl_redis_cause(const struct sl_redis *r, char *buf, size_t len)
{
	char	where[300];

	snprintf(buf, len, "redis %s: %s", sl_redis_where(r->addr, where,
	    sizeof(where)), r->errstr[0] != '\0' ? r->errstr : "no error");
	return buf;
}
