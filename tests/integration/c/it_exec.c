/* SPDX-License-Identifier: ISC */
/*
 * The multi-node executor against real redis-servers (tests/integration/
 * 17-exec.t starts them): SL_EXEC_PORTS names three, each with the ACL user
 * SL_EXEC_USER / SL_EXEC_PASS; SL_EXEC_DRIP is a relay in front of a fourth
 * that passes one reply byte every 500 ms.  Prints TAP.
 */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/exec.h"
#include "streamlag/log.h"
#include "streamlag/reply.h"

static int	 failures, count;
static int	 port[3], drip;
static struct sl_node_auth auth;

static void
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	count++;
	if (!cond)
		failures++;
	printf("%sok %d - ", cond ? "" : "not ", count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static size_t
node(struct sl_exec *x, int p)
{
	size_t		 i = 0;
	struct sl_error	 e;

	if (sl_exec_node(x, "127.0.0.1", p, NULL, &i, &e) != SL_OK) {
		printf("Bail out! %s\n", e.str);
		exit(1);
	}
	return i;
}

static size_t
add(struct sl_request *q, size_t n, int argc, const char **argv)
{
	size_t	 lens[8], idx = 0;

	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	if (sl_request_add(q, n, argc, argv, lens, &idx) != SL_OK) {
		printf("Bail out! sl_request_add\n");
		exit(1);
	}
	return idx;
}

/* One command on one node, with a connection of the default user. */
static int
admin(int p, int argc, const char **argv)
{
	struct sl_exec	 x;
	struct sl_request q;
	int		 good;

	sl_exec_init(&x, NULL, 5000);
	sl_request_init(&q, &x, sl_mono_ms() + 5000);
	add(&q, node(&x, p), argc, argv);
	good = sl_exec(&q, NULL) == SL_OK && q.cmds[0].state == SL_CMD_DONE &&
	    q.cmds[0].reply->type != REDIS_REPLY_ERROR;
	sl_request_free(&q);
	sl_exec_free(&x);
	return good;
}

static const char *time_argv[] = { "TIME" };
static const char *info_argv[] = { "INFO", "server" };

/* Sleeps until the monotonic time t (ms). */
static void
until(long long t)
{
	long long left;

	while ((left = t - sl_mono_ms()) > 0)
		(void)poll(NULL, 0, (int)left);
}

static int
is_time(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2;
}

/* 1500 TIME on each of three nodes: one round trip per node, all
 * answered, in order, with AUTH sent first on each connection. */
static void
test_all_nodes(struct sl_exec *x)
{
	struct sl_request q;
	size_t		 n[3], good = 0;
	enum sl_err	 rc;

	for (int i = 0; i < 3; i++)
		n[i] = node(x, port[i]);
	sl_request_init(&q, x, sl_mono_ms() + 10000);
	for (int k = 0; k < 1500; k++)
		for (int i = 0; i < 3; i++)
			add(&q, n[i], 1, time_argv);
	rc = sl_exec(&q, NULL);
	for (size_t i = 0; i < q.n; i++)
		good += q.cmds[i].state == SL_CMD_DONE && is_time(q.cmds[i].reply);
	ok(rc == SL_OK && q.pending == 0, "4500 commands over 3 nodes: done");
	ok(good == 4500, "every one answered with TIME's reply (%zu)", good);
	ok(q.round_trips == 3, "one round trip per node (%u)", q.round_trips);
	ok(x->nodes[n[0]]->connects == 1 && x->nodes[n[1]]->connects == 1 &&
	    x->nodes[n[2]]->connects == 1, "one connection per node");
	ok(x->nodes[n[0]]->meter.bytes > 0, "reply bytes counted (%llu)",
	    x->nodes[n[0]]->meter.bytes);
	sl_request_free(&q);

	/* Replies far larger than SL_NODE_READS reads of SL_NODE_RBUF: a
	 * node yields to the others and is read again before any sleep. */
	sl_request_init(&q, x, sl_mono_ms() + 10000);
	for (int k = 0; k < 400; k++)
		for (int i = 0; i < 3; i++)
			add(&q, n[i], 2, info_argv);
	rc = sl_exec(&q, NULL);
	good = 0;
	for (size_t i = 0; i < q.n; i++)
		good += q.cmds[i].state == SL_CMD_DONE && q.cmds[i].reply->type ==
		    REDIS_REPLY_STRING && strstr(q.cmds[i].reply->str,
		    "redis_version:") != NULL;
	ok(rc == SL_OK && good == 1200, "1200 INFO server (%llu reply bytes "
	    "from node A) all answered", x->nodes[n[0]]->meter.bytes);
	sl_request_free(&q);
}

/* Replies of two requests on one connection, each to its own. */
static size_t
count_replies(const struct sl_request *q, int want_time)
{
	size_t good = 0;

	for (size_t i = 0; i < q->n; i++)
		good += q->cmds[i].state == SL_CMD_DONE && (want_time ?
		    is_time(q->cmds[i].reply) : q->cmds[i].reply != NULL &&
		    q->cmds[i].reply->type == REDIS_REPLY_STRING &&
		    strstr(q->cmds[i].reply->str, "redis_version:") != NULL);
	return good;
}

/* On node n, 500 TIME of q1 sent, then 50 INFO of q2 behind them. */
static void
both_sent(struct sl_exec *x, size_t n, struct sl_request *q1,
    struct sl_request *q2)
{
	sl_request_init(q1, x, sl_mono_ms() + 10000);
	for (int k = 0; k < 500; k++)
		add(q1, n, 1, time_argv);
	sl_exec_send(q1);
	sl_request_init(q2, x, sl_mono_ms() + 10000);
	for (int k = 0; k < 50; k++)
		add(q2, n, 2, info_argv);
	sl_exec_send(q2);
}

/*
 * Two requests in flight on one connection (the collector sends the next
 * chunk before reading the last): 500 TIME sent, then 50 INFO of a second
 * request behind them.  Reading the first answers it alone; it ends
 * while the second is in flight, which then reads its own, on the same
 * connection.  A request freed with replies owed closes the connection,
 * and the other's commands go again on the next.
 */
static void
test_two_requests(struct sl_exec *x)
{
	struct sl_request q1, q2;
	size_t		 n = node(x, port[1]);
	unsigned long	 c0 = x->nodes[n]->connects;
	enum sl_err	 rc1, rc2;

	both_sent(x, n, &q1, &q2);
	rc1 = sl_exec(&q1, NULL);
	ok(rc1 == SL_OK && q1.pending == 0 && count_replies(&q1, 1) == 500,
	    "two requests on one connection: the first has its 500 TIME "
	    "replies (%zu)", count_replies(&q1, 1));
	sl_request_free(&q1);
	rc2 = sl_exec(&q2, NULL);
	ok(rc2 == SL_OK && q2.pending == 0 && count_replies(&q2, 0) == 50,
	    "the second, read after the first ended, its 50 INFO (%zu)",
	    count_replies(&q2, 0));
	ok(x->nodes[n]->connects == c0 + (c0 == 0),
	    "one connection for both (%lu connects)", x->nodes[n]->connects);
	sl_request_free(&q2);

	/* The first freed with its replies owed. */
	c0 = x->nodes[n]->connects;
	both_sent(x, n, &q1, &q2);
	sl_request_free(&q1);
	ok(x->nodes[n]->state == SL_NODE_DOWN && x->nodes[n]->qn == 50,
	    "the first freed owing replies: the connection closed, the "
	    "second's 50 commands kept (%zu)", x->nodes[n]->qn);
	rc2 = sl_exec(&q2, NULL);
	ok(rc2 == SL_OK && count_replies(&q2, 0) == 50 &&
	    x->nodes[n]->connects == c0 + 1, "and sent again on a new "
	    "connection: 50 INFO replies (%zu), %lu connects",
	    count_replies(&q2, 0), x->nodes[n]->connects - c0);
	sl_request_free(&q2);
}

struct arrival {
	long long	 at[2];
	int		 order[2], k;
};

static void
on_arrival(void *arg, size_t idx, redisReply *r)
{
	struct arrival *a = arg;

	if (idx < 2) {
		a->at[idx] = sl_mono_ms();
		a->order[a->k++] = (int)idx;
	}
	if (r != NULL)
		sl_reply_free(r);
}

/* Node A paused: node B's reply is handed over first, long before A's. */
static void
test_parallel(struct sl_exec *x)
{
	const char	*pause[] = { "CLIENT", "PAUSE", "2000" };
	struct sl_request q;
	struct arrival	 a = { { 0, 0 }, { -1, -1 }, 0 };
	long long	 t0;
	enum sl_err	 rc;

	ok(admin(port[0], 3, pause), "CLIENT PAUSE 2000 on node A");
	t0 = sl_mono_ms();
	sl_request_init(&q, x, t0 + 10000);
	q.on_reply = on_arrival;
	q.arg = &a;
	add(&q, node(x, port[0]), 1, time_argv);
	add(&q, node(x, port[1]), 1, time_argv);
	rc = sl_exec(&q, NULL);
	ok(rc == SL_OK && a.k == 2, "both answered");
	ok(a.order[0] == 1 && a.order[1] == 0, "B's reply was handed over "
	    "before A's");
	ok(a.at[1] - t0 < 1000, "B's within 1 s of the start (%lld ms)",
	    a.at[1] - t0);
	ok(a.at[0] - t0 >= 1000, "A's after the pause (%lld ms)", a.at[0] - t0);
	sl_request_free(&q);
}

/* The relay drips one byte every 500 ms: the request ends at its deadline,
 * the healthy node's reply kept, the dripping node's command failed. */
static void
test_deadline(void)
{
	const char	*info[] = { "INFO", "server" };
	struct sl_exec	 x;
	struct sl_request q;
	struct sl_error	 e;
	const struct sl_error *why;
	long long	 t0, took;
	size_t		 d, h;
	enum sl_err	 rc;

	sl_exec_init(&x, &auth, 30000);	/* the per-reply timeout never fires */
	d = node(&x, drip);
	h = node(&x, port[1]);
	t0 = sl_mono_ms();
	sl_request_init(&q, &x, t0 + 1500);
	add(&q, d, 2, info);
	add(&q, h, 1, time_argv);
	rc = sl_exec(&q, &e);
	took = sl_mono_ms() - t0;
	ok(rc == SL_ETIMEOUT, "the request ends by its deadline: %s", e.str);
	ok(took >= 1400 && took < 2500, "after 1.5 s (%lld ms)", took);
	ok(q.cmds[1].state == SL_CMD_DONE && is_time(q.cmds[1].reply),
	    "the healthy node's reply is kept");
	why = sl_request_error(&q, 0);
	ok(q.cmds[0].state == SL_CMD_FAILED && q.cmds[0].err == SL_ETIMEOUT &&
	    why != NULL && strstr(why->str, "deadline") != NULL,
	    "the dripping node's command failed: %s", why ? why->str : "?");
	sl_request_free(&q);
	/* The next request to the healthy node works. */
	sl_request_init(&q, &x, sl_mono_ms() + 5000);
	add(&q, h, 1, time_argv);
	rc = sl_exec(&q, NULL);
	ok(rc == SL_OK && is_time(q.cmds[0].reply), "the next request works");
	sl_request_free(&q);
	sl_exec_free(&x);
}

/* A node that times out fails alone and backs off; after the back-off
 * the next request reconnects it. */
static void
test_backoff(void)
{
	const char	*pause[] = { "CLIENT", "PAUSE", "1500" };
	struct sl_exec	 x;
	struct sl_request q;
	struct sl_node	*a;
	size_t		 na, nb;
	unsigned long	 connects;
	enum sl_err	 rc;

	sl_exec_init(&x, &auth, 500);
	na = node(&x, port[0]);
	nb = node(&x, port[1]);
	a = x.nodes[na];
	ok(admin(port[0], 3, pause), "CLIENT PAUSE 1500 on node A");
	sl_request_init(&q, &x, sl_mono_ms() + 5000);
	add(&q, na, 1, time_argv);
	add(&q, nb, 1, time_argv);
	rc = sl_exec(&q, NULL);
	ok(rc == SL_OK && q.cmds[0].state == SL_CMD_FAILED &&
	    q.cmds[0].err == SL_ETIMEOUT && q.cmds[1].state == SL_CMD_DONE,
	    "A timed out alone (%s); B answered", a->err.str);
	sl_request_free(&q);
	connects = a->connects;
	sl_request_init(&q, &x, sl_mono_ms() + 5000);
	add(&q, na, 1, time_argv);
	add(&q, nb, 1, time_argv);
	rc = sl_exec(&q, NULL);
	ok(q.cmds[0].state == SL_CMD_FAILED && strstr(a->err.str,
	    "failing fast") != NULL && a->connects == connects &&
	    q.cmds[1].state == SL_CMD_DONE, "during A's back-off A fails fast "
	    "(%s), B answers", a->err.str);
	sl_request_free(&q);
	/* Waiting for the back-off (and the pause) to end is the point. */
	until(a->retry_after);
	for (int tries = 0; tries < 40; tries++) {
		sl_request_init(&q, &x, sl_mono_ms() + 5000);
		add(&q, na, 1, time_argv);
		rc = sl_exec(&q, NULL);
		if (q.cmds[0].state == SL_CMD_DONE)
			break;
		sl_request_free(&q);
		until(a->retry_after > sl_mono_ms() ? a->retry_after :
		    sl_mono_ms() + 50);
	}
	ok(q.cmds[0].state == SL_CMD_DONE && a->connects > connects,
	    "after the back-off, A reconnects and answers");
	sl_request_free(&q);
	sl_exec_free(&x);
}

/* A kept connection killed between requests is replaced quietly; a wrong
 * password fails that node alone, in Redis's words. */
static void
test_reconnect(struct sl_exec *x)
{
	const char	*kill[] = { "CLIENT", "KILL", "USER", "streamlag" };
	struct sl_node_auth bad = { "streamlag", "wrong-password", 0, 0 };
	struct sl_exec	 y;
	struct sl_request q;
	size_t		 nb = node(x, port[1]);
	unsigned long	 connects = x->nodes[nb]->connects;
	const struct sl_error *why;
	enum sl_err	 rc;

	ok(admin(port[1], 4, kill), "CLIENT KILL USER streamlag on node B");
	sl_request_init(&q, x, sl_mono_ms() + 5000);
	add(&q, nb, 1, time_argv);
	ok(sl_exec(&q, NULL) == SL_OK && is_time(q.cmds[0].reply) &&
	    x->nodes[nb]->connects == connects + 1,
	    "the killed connection is replaced, the command answered");
	sl_request_free(&q);

	sl_exec_init(&y, &bad, 2000);
	sl_request_init(&q, &y, sl_mono_ms() + 5000);
	add(&q, node(&y, port[0]), 1, time_argv);
	add(&q, node(&y, port[1]), 1, time_argv);
	rc = sl_exec(&q, NULL);
	why = sl_request_error(&q, 0);
	ok(rc == SL_OK && q.cmds[0].state == SL_CMD_FAILED &&
	    q.cmds[1].state == SL_CMD_FAILED && why != NULL &&
	    strstr(why->str, "WRONGPASS") != NULL, "a wrong password fails "
	    "each node in Redis's words: %s", why ? why->str : "(none)");
	sl_request_free(&q);
	sl_exec_free(&y);
}

struct move {
	struct sl_request *q;
	size_t		 to;
	int		 moved;
};

static void
on_move(void *arg, size_t idx, redisReply *r)
{
	struct move *m = arg;

	if (!m->moved) {
		/* As the layer above does on ASK: the same command again on
		 * another node, ASKING first, within the same request. */
		m->moved = 1;
		sl_request_requeue(m->q, idx, m->to, 1);
	}
	if (r != NULL)
		sl_reply_free(r);
}

static void
test_requeue(struct sl_exec *x)
{
	struct sl_request q;
	struct move	 m;
	size_t		 na = node(x, port[0]), nc = node(x, port[2]);
	unsigned long	 before = x->nodes[nc]->replies;
	enum sl_err	 rc;

	sl_request_init(&q, x, sl_mono_ms() + 5000);
	m.q = &q;
	m.to = nc;
	m.moved = 0;
	q.on_reply = on_move;
	q.arg = &m;
	add(&q, na, 1, time_argv);
	rc = sl_exec(&q, NULL);
	ok(rc == SL_OK && q.cmds[0].state == SL_CMD_DONE &&
	    q.cmds[0].sends == 2 && q.cmds[0].node == nc &&
	    x->nodes[nc]->replies == before + 1 && q.round_trips == 2,
	    "a command re-queued (with ASKING) on another node is answered "
	    "there in the same request (%u round trips)", q.round_trips);
	sl_request_free(&q);
}

static int wraps;

/* What a TLS transport plugs in: here it counts, or refuses. */
static enum sl_io
wrap(struct sl_transport *t, const char *host, void *arg)
{
	wraps++;
	if (arg != NULL) {
		sl_seterr(&t->err, SL_EREDIS, "%s: %s", host, (const char *)arg);
		return SL_IO_ERR;
	}
	return SL_IO_OK;
}

static void
test_wrap(void)
{
	struct sl_exec	 x;
	struct sl_request q;
	const struct sl_error *why;
	enum sl_err	 rc;

	sl_exec_init(&x, &auth, 2000);
	x.wrap = wrap;
	sl_request_init(&q, &x, sl_mono_ms() + 5000);
	add(&q, node(&x, port[0]), 1, time_argv);
	rc = sl_exec(&q, NULL);
	ok(rc == SL_OK && is_time(q.cmds[0].reply) && wraps == 1,
	    "the wrap hook runs once per new connection, before AUTH");
	sl_request_free(&q);
	sl_exec_free(&x);

	sl_exec_init(&x, &auth, 2000);
	x.wrap = wrap;
	x.wrap_arg = (void *)"handshake refused";
	sl_request_init(&q, &x, sl_mono_ms() + 5000);
	add(&q, node(&x, port[0]), 1, time_argv);
	rc = sl_exec(&q, NULL);
	why = sl_request_error(&q, 0);
	ok(rc == SL_OK && q.cmds[0].state == SL_CMD_FAILED && why != NULL &&
	    strcmp(why->str, "127.0.0.1: handshake refused") == 0,
	    "a refusing wrap fails the node in its words: %s",
	    why != NULL ? why->str : "(none)");
	sl_request_free(&q);
	sl_exec_free(&x);
}

int
main(void)
{
	struct sl_exec	 x;
	const char	*ports = getenv("SL_EXEC_PORTS");

	sl_log_set_level(SL_LOG_ERROR);
	if (ports == NULL || sscanf(ports, "%d %d %d", &port[0], &port[1],
	    &port[2]) != 3 || getenv("SL_EXEC_DRIP") == NULL) {
		printf("Bail out! SL_EXEC_PORTS and SL_EXEC_DRIP\n");
		return 1;
	}
	drip = atoi(getenv("SL_EXEC_DRIP"));
	auth.user = getenv("SL_EXEC_USER");
	auth.password = getenv("SL_EXEC_PASS");
	sl_exec_init(&x, &auth, 5000);
	test_all_nodes(&x);
	test_parallel(&x);
	test_two_requests(&x);
	test_reconnect(&x);
	test_requeue(&x);
	sl_exec_free(&x);
	test_wrap();
	test_deadline();
	test_backoff();
	printf("1..%d\n", count);
	return failures != 0;
}
