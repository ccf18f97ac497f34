/* SPDX-License-Identifier: ISC */
/* Against a real redis-server (REDIS_URL): the XINFO batch of a configured
 * stream list is one round trip, a large one too, and a dropped
 * connection is replaced lazily.  Prints TAP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/collect.h"
#include "streamlag/config.h"
#include "streamlag/log.h"

static int failures, count;

static void
ok(int cond, const char *what)
{
	count++;
	if (!cond)
		failures++;
	printf("%sok %d - %s\n", cond ? "" : "not ", count, what);
}

/* on_chunk: counts chunks, their entries, and those Redis could not be
 * asked about; after the first, Redis is shut down (and the port polled
 * until it refuses). */
struct chunks {
	size_t	 calls, entries[4], down[4], other;
	char	 port[16];
};

static enum sl_err
down_after_first(void *arg, struct sl_lag_report *chunk)
{
	struct chunks	*c = arg;
	char		 cmd[256];

	for (size_t i = 0; c->calls < 4 && i < chunk->n; i++) {
		const char *why = chunk->entries[i].error;

		if (why != NULL && strcmp(why, SL_MSG_REDIS_DOWN) == 0)
			c->down[c->calls]++;
		else if (why == NULL || strcmp(why, "no such key") != 0)
			c->other++;
	}
	if (c->calls < 4)
		c->entries[c->calls] = chunk->n;
	if (c->calls++ == 0) {
		snprintf(cmd, sizeof(cmd), "redis-cli -p %s SHUTDOWN NOSAVE "
		    ">/dev/null 2>&1; while redis-cli -p %s PING >/dev/null "
		    "2>&1; do sleep 0.05; done", c->port, c->port);
		if (system(cmd) != 0)
			return SL_ESYS;
	}
	return SL_OK;
}

static const char *
env_lookup(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

int
main(int argc, char **argv)
{
	struct sl_config	 cfg;
	struct sl_redis		 r;
	struct sl_lag_report	 rep;
	struct sl_collect_stats	 st;
	struct sl_thresholds	 t = { .degraded = 100, .unhealthy = 1000,
	    .stall_ms = 60000, .count_cap = 10000 };
	struct sl_lag_query	 q = { .t = &t };
	char			 err[512], **many;
	size_t			 nmany = 2500, i;
	char			 line[160];
	int			 rc;

	(void)argc; (void)argv;
	sl_log_set_level(SL_LOG_WARN);
	memset(&cfg, 0, sizeof(cfg));
	if (sl_config_load(&cfg, env_lookup, NULL, err, sizeof(err)) == -1) {
		printf("Bail out! %s\n", err);
		return 1;
	}
	sl_redis_init(&r, &cfg.redis, cfg.redis_timeout_ms);
	q.group = cfg.consumer_group;

	/* The seed's example: INFO server (a new connection), TIME, and per
	 * stream XINFO GROUPS, XINFO CONSUMERS and XLEN in one round trip
	 * (XLEN settles Redis 7.0's lag: nothing was ever removed, so no
	 * count); then one follow-up batch: chat and ticket have their first
	 * undelivered entry (XRANGE ... COUNT 1) and pending entries
	 * (XPENDING); remote has pending entries only. */
	rc = sl_collect_lag(&r, cfg.streams, cfg.nstreams, &q, &rep, &st);
	ok(rc == 0, "consumer-lag collected");
	snprintf(line, sizeof(line), "%zu streams: %u commands in %u round "
	    "trips (2 + 3 x 3 in the first, 2 + 2 + 1 in the follow-up)",
	    cfg.nstreams, st.commands, st.round_trips);
	ok(st.round_trips == 2 && st.commands == 2 + 3 * cfg.nstreams + 5, line);
	ok(rep.n == 3 && rep.entries[0].lag == 123 && rep.entries[1].lag == 45 &&
	    rep.entries[2].lag == 0, "lags 123, 45, 0");
	sl_lag_report_free(&rep);

	/* More streams than a chunk (2048): two chunks of TIME and their
	 * streams' commands (the server is known now: no INFO), in one round
	 * trip: the second chunk's batch goes out before the first's replies
	 * are read, on a connection still busy with them. */
	many = calloc(nmany, sizeof(*many));
	for (i = 0; i < nmany; i++) {
		char name[32];
		snprintf(name, sizeof(name), "it:none:%zu", i);
		many[i] = strdup(name);
	}
	rc = sl_collect_lag(&r, many, nmany, &q, &rep, &st);
	snprintf(line, sizeof(line), "%zu streams: %u commands in %u round "
	    "trips", nmany, st.commands, st.round_trips);
	ok(rc == 0 && st.commands == 2 + 3 * nmany && st.round_trips == 1,
	    line);
	ok(rep.n == nmany && rep.entries[nmany - 1].error != NULL &&
	    strcmp(rep.entries[nmany - 1].error, "no such key") == 0 &&
	    rep.entries[2048].stream.len == strlen(many[2048]) &&
	    memcmp(rep.entries[2048].stream.p, many[2048],
	    strlen(many[2048])) == 0 && !rep.partial,
	    "every stream of both chunks answered, in order (missing: no such "
	    "key)");
	sl_lag_report_free(&rep);

	/* The budget is the request's: 3000 commands stop the first chunk
	 * after (3000 - 1) / 3 streams, and every stream after is named as
	 * not covered. */
	t.max_commands = 3000;
	rc = sl_collect_lag(&r, many, nmany, &q, &rep, &st);
	ok(rc == 0 && rep.n == 999 && rep.partial && rep.nuncovered == 1501 &&
	    rep.uncovered == many + 999 && rep.not_covered == 1501 &&
	    st.commands == 1 + 3 * 999, "3000 commands: 999 streams, "
	    "1501 not covered, from the first one left out");
	sl_lag_report_free(&rep);

	/* The first chunk fits (1 + 3 x 2048); the second gets what is left:
	 * TIME and 100 streams. */
	t.max_commands = 6145 + 1 + 3 * 100;
	rc = sl_collect_lag(&r, many, nmany, &q, &rep, &st);
	snprintf(line, sizeof(line), "%lld commands: %zu streams answered, "
	    "%zu not covered, %u commands sent", t.max_commands, rep.n,
	    rep.not_covered, st.commands);
	ok(rc == 0 && rep.n == 2148 && rep.partial && rep.nuncovered == 352 &&
	    rep.uncovered == many + 2148 && rep.not_covered == 352 &&
	    st.commands == (unsigned)t.max_commands, line);
	sl_lag_report_free(&rep);
	t.max_commands = 0;

	/* A dropped connection is replaced by the next request. */
	if (r.x != NULL) {
		sl_redis_close(&r);	/* as if the server had dropped it */
		rc = sl_collect_lag(&r, cfg.streams, cfg.nstreams, &q, &rep,
		    &st);
		ok(rc == 0 && r.connects == 2, "reconnects lazily after a drop");
		sl_lag_report_free(&rep);
	} else
		ok(0, "connection kept between requests");

	/* Answered a chunk at a time (serve's consumer-lag): Redis lost after
	 * the first chunk went out.  The second chunk's first batch was sent
	 * before the first was read, and Redis answered it before it stopped:
	 * the write of the third's fails on the closed connection, and the
	 * replies that came are read before the connection is given up.  The
	 * third, never answered, is "Cannot connect to Redis", stream by
	 * stream, handed on as a chunk.  The request is whole, not failed:
	 * its first part is already with the client. */
	if (getenv("PORT") != NULL) {
		struct chunks	 c = { .calls = 0 };
		size_t		 n3 = 2 * 2048 + 904;
		char		**three = calloc(n3, sizeof(*three));

		for (i = 0; i < n3; i++) {
			char name[32];
			snprintf(name, sizeof(name), "it:none:%05zu", i);
			three[i] = strdup(name);
		}
		snprintf(c.port, sizeof(c.port), "%s", getenv("PORT"));
		q.on_chunk = down_after_first;
		q.chunk_arg = &c;
		rc = sl_collect_lag(&r, three, n3, &q, &rep, &st);
		snprintf(line, sizeof(line), "Redis lost after the first chunk: "
		    "rc %d, %zu chunks of %zu, %zu and %zu entries, %zu, %zu and "
		    "%zu unreachable", rc, c.calls, c.entries[0], c.entries[1],
		    c.entries[2], c.down[0], c.down[1], c.down[2]);
		ok(rc == 0 && rep.error == NULL && c.calls == 3 &&
		    c.entries[0] == 2048 && c.entries[1] == 2048 &&
		    c.entries[2] == 904 && c.down[0] == 0 && c.down[2] == 904 &&
		    c.other == 0 && rep.n == 0 && rep.total_lag == 0, line);
		sl_lag_report_free(&rep);
		q.on_chunk = NULL;
		for (i = 0; i < n3; i++)
			free(three[i]);
		free(three);
	} else
		ok(0, "PORT names the test's redis-server");

	for (i = 0; i < nmany; i++)
		free(many[i]);
	free(many);
	sl_redis_close(&r);
	sl_config_free(&cfg);
	printf("1..%d\n", count);
	return failures == 0 ? 0 : 1;
}
