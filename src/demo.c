/* SPDX-License-Identifier: ISC */
/* Demo traffic for `make run`.  Every 100 ms each stream gets its share of
 * XADDs, and the group's consumers read with XREADGROUP and XACK what they
 * read one tick later (so pending is never zero).  events:chat is consumed in
 * waves, slower than it is written for the first 30 s, so its lag climbs past
 * the degraded threshold from the start and falls back; the other streams
 * keep up. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "streamlag/demo.h"
#include "streamlag/log.h"
#include "streamlag/redis.h"

#define TICK_MS		100
#define MAXLEN		"10000"

struct demo_stream {
	const char	*name;
	int		 produce;	/* entries per second */
	int		 consume_fast;	/* entries per second, fast phase */
	int		 consume_slow;	/* entries per second, slow phase */
	const char	*consumers[2];
	double		 produced, consumed;	/* fractional budgets */
	char		 held[64];	/* read last tick, acknowledged this one */
};

static volatile sig_atomic_t demo_stop;

static void
on_demo_stop(int sig)
{
	(void)sig;
	demo_stop = 1;
}

static int
produce(redisContext *c, struct demo_stream *s, int n, long long seq)
{
	char body[64];

	for (int i = 0; i < n; i++) {
		snprintf(body, sizeof(body), "{\"seq\":%lld}", seq + i);
		redisAppendCommand(c, "XADD %s MAXLEN ~ " MAXLEN " * event demo "
		    "payload %s", s->name, body);
	}
	for (int i = 0; i < n; i++) {
		void *r;
		if (redisGetReply(c, &r) != REDIS_OK)
			return -1;
		sl_reply_free(r);
	}
	return 0;
}

/* Reads n entries as one of the consumers and acknowledges them, but for
 * the last one, held until the next tick: pending moves, and stays small. */
static int
consume(redisContext *c, struct demo_stream *s, int n, const char *group,
    long long tick)
{
	const char	*who = s->consumers[s->consumers[1] != NULL ? tick % 2 : 0];
	redisReply	*r, *entries;
	size_t		 acks = 0;

	if (s->held[0] != '\0') {
		if ((r = redisCommand(c, "XACK %s %s %s", s->name, group,
		    s->held)) == NULL)
			return -1;
		sl_reply_free(r);
		s->held[0] = '\0';
	}
	if (n > 0) {
		r = redisCommand(c, "XREADGROUP GROUP %s %s COUNT %d STREAMS %s >",
		    group, who, n, s->name);
		if (r == NULL)
			return -1;
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
		    r->element[0]->elements == 2 &&
		    (entries = r->element[0]->element[1])->type ==
		    REDIS_REPLY_ARRAY && entries->elements > 0) {
			for (size_t i = 0; i < entries->elements; i++) {
				redisReply *id = entries->element[i]->element[0];
				if (i + 1 == entries->elements &&
				    id->len < sizeof(s->held)) {
					memcpy(s->held, id->str, id->len);
					s->held[id->len] = '\0';
					continue;
				}
				redisAppendCommand(c, "XACK %s %s %b", s->name,
				    group, id->str, id->len);
				acks++;
			}
		}
		sl_reply_free(r);
	}
	for (size_t i = 0; i < acks; i++) {
		void *a;
		if (redisGetReply(c, &a) != REDIS_OK)
			return -1;
		sl_reply_free(a);
	}
	return 0;
}

/* The demo writes, on a blocking connection of its own (one node: the
 * first seed), with AUTH and SELECT as the URL says. */
static redisContext *
demo_connect(const struct sl_config *cfg)
{
	const struct sl_redis_addr *a = &cfg->redis;
	struct timeval	 tv = { cfg->redis_timeout_ms / 1000,
	    (cfg->redis_timeout_ms % 1000) * 1000 };
	redisContext	*c;
	redisReply	*x = NULL;

	c = a->kind == SL_REDIS_UNIX ? redisConnectUnixWithTimeout(a->path, tv) :
	    redisConnectWithTimeout(a->host, a->port, tv);
	if (c != NULL && !c->err && redisSetTimeout(c, tv) == REDIS_OK &&
	    a->password != NULL)
		x = a->user != NULL ? redisCommand(c, "AUTH %s %s", a->user,
		    a->password) : redisCommand(c, "AUTH %s", a->password);
	if (x != NULL && x->type != REDIS_REPLY_ERROR && a->db != 0) {
		sl_reply_free(x);
		x = redisCommand(c, "SELECT %d", a->db);
	}
	if (c == NULL || c->err || (x != NULL && x->type == REDIS_REPLY_ERROR) ||
	    (x == NULL && (a->password != NULL || a->db != 0))) {
		sl_log(SL_LOG_ERROR, "demo_redis", "error=\"%s\"",
		    c == NULL ? "out of memory" : c->err ? c->errstr :
		    x != NULL ? x->str : "no reply");
		if (x != NULL)
			sl_reply_free(x);
		if (c != NULL)
			redisFree(c);
		return NULL;
	}
	if (x != NULL)
		sl_reply_free(x);
	return c;
}

int
sl_demo_run(const struct sl_config *cfg)
{
	struct demo_stream streams[] = {
		{ .name = "events:chat", .produce = 20, .consume_fast = 40,
		    .consume_slow = 8, .consumers = { "instance-1", "instance-2" } },
		{ .name = "events:ticket", .produce = 5, .consume_fast = 6,
		    .consume_slow = 6, .consumers = { "instance-1", NULL } },
		{ .name = "events:remote", .produce = 2, .consume_fast = 3,
		    .consume_slow = 3, .consumers = { "instance-1", NULL } },
		{ .name = "events:notification", .produce = 10, .consume_fast = 12,
		    .consume_slow = 12, .consumers = { "instance-1", "instance-2" } },
	};
	const size_t	 ns = sizeof(streams) / sizeof(streams[0]);
	redisContext	*c;
	struct sigaction sa;
	struct timespec	 ts = { 0, TICK_MS * 1000000L };
	long long	 tick = 0, seq = 0;
	int		 rc = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_demo_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if ((c = demo_connect(cfg)) == NULL)
		return 1;
	for (size_t i = 0; i < ns; i++) {
		redisReply *x = redisCommand(c, "XGROUP CREATE %s %s $ MKSTREAM",
		    streams[i].name, cfg->consumer_group);
		if (x == NULL)
			goto out;
		sl_reply_free(x);	/* BUSYGROUP: it exists, fine */
	}
	sl_log(SL_LOG_INFO, "demo_start", "streams=%zu group=%s", ns,
	    cfg->consumer_group);
	while (!demo_stop) {
		/* 60 s waves of events:chat: 30 s slow, then 30 s fast
		 * consumption.  Slow first, so that the first screen moves:
		 * its lag climbs by 12 a second from the start. */
		int slow = (tick / (30000 / TICK_MS)) % 2 == 0;

		for (size_t i = 0; i < ns; i++) {
			struct demo_stream *s = &streams[i];
			int np, nc;

			s->produced += s->produce * TICK_MS / 1000.0;
			s->consumed += (slow ? s->consume_slow : s->consume_fast) *
			    TICK_MS / 1000.0;
			np = (int)s->produced;
			nc = (int)s->consumed;
			s->produced -= np;
			s->consumed -= nc;
			if (produce(c, s, np, seq) == -1)
				goto out;
			seq += np;
			if (consume(c, s, nc, cfg->consumer_group, tick) == -1)
				goto out;
		}
		tick++;
		nanosleep(&ts, NULL);
	}
	rc = 0;
out:
	if (rc != 0)
		sl_log(SL_LOG_ERROR, "demo_redis", "error=\"%s\"", c->errstr);
	redisFree(c);
	sl_log(SL_LOG_INFO, "demo_stop", NULL);
	return rc;
}
