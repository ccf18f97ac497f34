/* SPDX-License-Identifier: ISC */
/* One persistent Redis connection per process, and pipelines bound to it.
 * hiredis 0.14: the timeout is set again after every connect, a context that
 * saw an error is freed, and a timeout starts a short fail-fast back-off. */
#ifndef STREAMLAG_REDIS_H
#define STREAMLAG_REDIS_H

#include <stddef.h>
#include <time.h>
#include <hiredis/hiredis.h>

#include "streamlag/config.h"
#include "streamlag/err.h"
#include "streamlag/lag.h"
#include "streamlag/discache.h"
#include "streamlag/lagcache.h"
#include "streamlag/reply.h"
#include "streamlag/shared.h"

#define SL_PIPELINE_BATCH	1000	/* commands sent in one round trip at most */
#define SL_REDIS_BACKOFF_MS	1000	/* fail fast this long after a timeout */

struct sl_redis {
	redisContext	*c;		/* NULL until connected */
	const struct sl_redis_addr *addr;
	int		 timeout_ms;
	struct timespec	 retry_after;	/* CLOCK_MONOTONIC; fail fast before it */
	unsigned long	 connects;	/* successful connects, for logs and metrics */
	unsigned long	 errors;	/* connection-level errors */
	struct sl_counters *counters;	/* shared totals, or NULL */
	struct sl_lagcache *lagcache;	/* shared by the workers, or NULL */
	struct sl_discache *discache;	/* shared by the workers, or NULL */
	long long	 discovery_ttl_ms;	/* STREAMLAG_DISCOVERY_TTL_MS */
	struct sl_reply_meter meter;	/* reply bytes read on this connection */
	int		 server_known;	/* INFO server read on this connection */
	struct sl_server server;
	char		 errstr[256];	/* last connection-level error: the words
					   of Redis, hiredis or the system */
	char		 errwhat[16];	/* the step that failed: connect, AUTH,
					   SELECT, pipeline... */
};

void	sl_redis_init(struct sl_redis *r, const struct sl_redis_addr *addr,
	    int timeout_ms);
/* Connect when not connected.  SL_OK, or SL_EREDIS with r->errstr and
 * r->errwhat set and the failure logged (event=redis_error with the
 * address and the words of Redis or of the system). */
enum sl_err sl_redis_ensure(struct sl_redis *r);
void	sl_redis_close(struct sl_redis *r);
/* "127.0.0.1:6379", "[::1]:6379" or "unix:/path": where, never who. */
const char *sl_redis_where(const struct sl_redis_addr *a, char *buf,
	    size_t len);
/* The last failure as `streamlag get` prints it and `serve` logs it:
 * "redis 127.0.0.1:6379: WRONGPASS invalid username-password pair". */
const char *sl_redis_cause(const struct sl_redis *r, char *buf, size_t len);

/*
 * A pipeline: commands are formatted when added and sent in batches of
 * SL_PIPELINE_BATCH, one round trip each.  replies[i] answers command i
 * (REDIS_REPLY_ERROR replies included); the pipeline owns them.
 */
struct sl_pipeline {
	struct sl_redis	*r;
	char		**cmds;		/* RESP-formatted commands */
	size_t		*cmdlens;
	size_t		 n, cap;
	redisReply	**replies;
	size_t		 sent;		/* commands already sent */
	/* When set, each reply is handed to on_reply as it arrives (the
	 * callee owns it) instead of being kept in replies[]: memory stays
	 * bounded by two batches however many streams a request covers. */
	void		(*on_reply)(void *arg, size_t idx, redisReply *r);
	void		*arg;
	unsigned	 round_trips;
};

void	sl_pipeline_init(struct sl_pipeline *p, struct sl_redis *r);
/* SL_OK or SL_ENOMEM. */
enum sl_err sl_pipeline_add(struct sl_pipeline *p, int argc, const char **argv,
	    const size_t *argvlen);
/* Sends every command not yet sent.  SL_OK; SL_EREDIS when the connection
 * failed (r->errstr set, the connection closed); SL_ENOMEM when hiredis's
 * reader ran out of memory. */
enum sl_err sl_pipeline_exec(struct sl_pipeline *p);
/* Frees the replies [from, to) once read: their memory serves the next
 * batch instead of growing the heap. */
void	sl_pipeline_release(struct sl_pipeline *p, size_t from, size_t to);
void	sl_pipeline_free(struct sl_pipeline *p);

#endif
