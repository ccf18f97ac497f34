/* SPDX-License-Identifier: ISC */
/*
 * The cluster pieces together against a real cluster (46-cluster-harness.t
 * starts it): CLUSTER SLOTS read through the executor as streamlag's user
 * and parsed into a slot map; each stream of SL_KEYS asked of the master its
 * key slot maps to, all masters in one request (one round trip each); then
 * asked of a wrong master, whose MOVED is read, agrees with the map, and is
 * followed within the same request.  SL_SEEDS is "host:port,...".  TAP.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/crc16.h"
#include "streamlag/exec.h"
#include "streamlag/log.h"
#include "streamlag/reply.h"
#include "streamlag/slotmap.h"

static int	 failures, count;

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

static void
bail(const char *what)
{
	printf("Bail out! %s\n", what);
	exit(1);
}

/* The executor's node for slot map node i. */
static size_t
node_of(struct sl_exec *x, const struct sl_slotmap *m, int i)
{
	size_t idx;

	if (i < 0 || sl_exec_node(x, m->nodes[i].host, m->nodes[i].port, NULL,
	    &idx, NULL) != SL_OK)
		bail("no node");
	return idx;
}

static void
read_map(struct sl_exec *x, struct sl_slotmap *m, const char *seed, int port)
{
	const char	*argv[] = { "CLUSTER", "SLOTS" };
	size_t		 lens[] = { 7, 5 }, n;
	struct sl_request q;
	struct sl_error	 e;
	int		 covered = 0, masters = 0;

	if (sl_exec_node(x, seed, port, NULL, &n, NULL) != SL_OK)
		bail("seed");
	sl_request_init(&q, x, sl_mono_ms() + 5000);
	sl_request_add(&q, n, 2, argv, lens, NULL);
	if (sl_exec(&q, &e) != SL_OK || q.cmds[0].state != SL_CMD_DONE)
		bail("CLUSTER SLOTS");
	ok(sl_slotmap_parse_slots(m, q.cmds[0].reply, seed, &e) == SL_OK,
	    "CLUSTER SLOTS of a real cluster parsed, as streamlag's user");
	for (unsigned s = 0; s < SL_CLUSTER_SLOTS; s++)
		covered += sl_slotmap_lookup(m, s) >= 0;
	for (size_t i = 0; i < m->nnodes; i++)
		masters += m->nodes[i].master == -1;
	ok(covered == SL_CLUSTER_SLOTS && masters == 3 && m->nnodes == 6,
	    "every slot mapped; 3 masters, 6 nodes (%d, %d, %zu)", covered,
	    masters, m->nnodes);
	sl_request_free(&q);
}

struct follow {
	struct sl_request *q;
	struct sl_exec	*x;
	struct sl_slotmap *m;
	int		 moved, agreed, answered;
};

/* The layer above's part on MOVED, done here as it will be there. */
static void
on_reply(void *arg, size_t idx, redisReply *r)
{
	struct follow	*f = arg;
	struct sl_redirect rd;
	struct sl_node	*from = sl_request_node(f->q, idx);
	size_t		 to;

	if (r != NULL && r->type == REDIS_REPLY_ERROR &&
	    sl_redirect_parse(r->str, r->len, from->host, &rd, NULL) == SL_OK &&
	    rd.kind == SL_REDIRECT_MOVED) {
		f->moved++;
		f->agreed += sl_slotmap_lookup(f->m, rd.slot) ==
		    sl_slotmap_find(f->m, rd.host, rd.port);
		if (sl_exec_node(f->x, rd.host, rd.port, NULL, &to,
		    NULL) == SL_OK)
			sl_request_requeue(f->q, idx, to, 0);
	} else if (r != NULL && r->type == REDIS_REPLY_ARRAY) {
		f->answered++;
	}
	if (r != NULL)
		sl_reply_free(r);
}

static void
ask_keys(struct sl_exec *x, struct sl_slotmap *m, char **keys, int nkeys,
    int wrong)
{
	struct sl_request q;
	struct follow	 f = { &q, x, m, 0, 0, 0 };
	enum sl_err	 rc;

	sl_request_init(&q, x, sl_mono_ms() + 5000);
	q.on_reply = on_reply;
	q.arg = &f;
	for (int i = 0; i < nkeys; i++) {
		const char *argv[] = { "XINFO", "STREAM", keys[i] };
		size_t	 lens[] = { 5, 6, strlen(keys[i]) };
		int	 owner = sl_slotmap_lookup(m,
		    sl_key_slot(keys[i], lens[2]));
		int	 other = owner;

		/* A master that does not serve the key. */
		for (size_t k = 0; wrong && other == owner && k < m->nnodes; k++)
			if (m->nodes[k].master == -1 && (int)k != owner)
				other = (int)k;
		sl_request_add(&q, node_of(x, m, other), 3, argv, lens, NULL);
	}
	rc = sl_exec(&q, NULL);
	if (!wrong) {
		ok(rc == SL_OK && f.answered == nkeys && f.moved == 0,
		    "%d streams asked of the masters their slots map to: all "
		    "answered, no MOVED", nkeys);
		ok(q.round_trips <= 3, "one round trip per master (%u)",
		    q.round_trips);
	} else {
		ok(rc == SL_OK && f.moved == nkeys && f.agreed == nkeys,
		    "asked of a wrong master: %d MOVED, each naming the master "
		    "of the map", f.moved);
		ok(f.answered == nkeys && q.requeued == (unsigned)nkeys,
		    "each followed within the same request and answered");
	}
	sl_request_free(&q);
}

int
main(int argc, char **argv)
{
	struct sl_node_auth auth;
	struct sl_exec	 x;
	struct sl_slotmap *m;
	const char	*seeds = getenv("SL_SEEDS");
	char		 host[64];
	int		 port;

	sl_log_set_level(SL_LOG_ERROR);
	if (seeds == NULL || sscanf(seeds, "%63[^:]:%d", host, &port) != 2 ||
	    argc < 2)
		bail("usage: SL_SEEDS=h:p,... it_cluster KEY...");
	auth.user = getenv("SL_EXEC_USER");
	auth.password = getenv("SL_EXEC_PASS");
	auth.db = 0;
	if ((m = malloc(sizeof(*m))) == NULL)
		bail("malloc");
	sl_slotmap_init(m);
	sl_exec_init(&x, &auth, 5000);
	read_map(&x, m, host, port);
	ask_keys(&x, m, argv + 1, argc - 1, 0);
	ask_keys(&x, m, argv + 1, argc - 1, 1);
	sl_exec_free(&x);
	sl_slotmap_free(m);
	free(m);
	printf("1..%d\n", count);
	return failures != 0;
}
