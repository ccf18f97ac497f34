/* SPDX-License-Identifier: ISC */
/* Discovery over every master at once: each master's SCAN cursor advances
 * in its own round trips (the next SCAN goes out as soon as that node's
 * reply is read), all masters in flight together.  A standalone Redis is
 * one master. */
#include <stdio.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/exec.h"
#include "streamlag/facts.h"
#include "streamlag/redis.h"

struct scan_run {
	struct sl_redis	*r;
	struct sl_request q;
	const char	*pattern;
	long long	 max;
	size_t		*nodes;		/* executor index of each master */
	char		(*cursor)[SL_SCAN_CURSOR_MAX];
	size_t		 nm, nfailed;
	char		***names;
	size_t		*n, *cap;
	enum sl_err	 err;
};

static enum sl_err
scan_send(struct scan_run *s, size_t k)
{
	const char	*argv[] = { "SCAN", s->cursor[k], "MATCH", s->pattern,
	    "COUNT", "1000", "TYPE", "stream" };
	size_t		 lens[] = { 4, strlen(s->cursor[k]), 5,
	    strlen(s->pattern), 5, 4, 4, 6 };

	return sl_request_add(&s->q, s->nodes[k], 8, argv, lens, NULL);
}

static void
scan_fail(struct scan_run *s, const struct sl_node *n, const char *why)
{
	struct sl_redis *r = s->r;

	snprintf(r->errstr, sizeof(r->errstr), "%s", why);
	snprintf(r->errwhat, sizeof(r->errwhat), "SCAN");
	snprintf(r->errnode, sizeof(r->errnode), "%s", n->name);
	s->nfailed++;
	if (r->nscan_err < SL_SCAN_ERRORS) {
		snprintf(r->scan_err[r->nscan_err], sizeof(r->scan_err[0]),
		    "redis %s: %s", n->name, why);
		r->scan_errp[r->nscan_err] = r->scan_err[r->nscan_err];
		r->nscan_err++;
	}
}

static void
scan_reply(void *arg, size_t idx, redisReply *reply)
{
	struct scan_run	*s = arg;
	struct sl_node	*n = sl_request_node(&s->q, idx);
	const struct sl_error *why;
	size_t		 k;
	enum sl_err	 rc;

	for (k = 0; k < s->nm && s->r->x->nodes[s->nodes[k]] != n; k++)
		;
	sl_redis_mark(s->r, n, reply != NULL);
	if (reply == NULL) {
		why = sl_request_error(&s->q, idx);
		scan_fail(s, n, why != NULL ? why->str : n->err.str);
		return;
	}
	if (k == s->nm || s->err != SL_OK) {
		sl_reply_free(reply);
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR)
		scan_fail(s, n, reply->str);
	else if ((rc = sl_facts_scan(reply, s->cursor[k], s->names, s->n,
	    s->cap)) == SL_EPROTO)
		scan_fail(s, n, "not a SCAN reply");
	else if (rc != SL_OK)
		s->err = rc;
	else if (strcmp(s->cursor[k], "0") != 0 &&
	    (long long)*s->n <= s->max && scan_send(s, k) != SL_OK)
		s->err = SL_ENOMEM;
	sl_reply_free(reply);
}

/* The masters: every node serving a slot (or the replica that reads for
 * it, per STREAMLAG_READ_FROM), or the one standalone node. */
static enum sl_err
masters(struct scan_run *s)
{
	struct sl_redis	*r = s->r;
	size_t		 cap = r->cluster ? r->nmapx + 1 : 1;

	if ((s->nodes = sl_calloc(cap, sizeof(*s->nodes))) == NULL ||
	    (s->cursor = sl_calloc(cap, sizeof(*s->cursor))) == NULL)
		return SL_ENOMEM;
	if (!r->cluster) {
		s->nodes[s->nm++] = r->home;
		return SL_OK;
	}
	for (unsigned slot = 0; slot < SL_CLUSTER_SLOTS; slot++) {
		int	 m = sl_slotmap_lookup(&r->map, slot);
		size_t	 k;

		size_t	 x;

		if (m < 0 || (size_t)m >= r->nmapx)
			continue;
		x = sl_redis_read_node(r, (size_t)m);
		for (k = 0; k < s->nm && s->nodes[k] != x; k++)
			;
		if (k == s->nm && s->nm < cap)
			s->nodes[s->nm++] = x;
	}
	return SL_OK;
}

enum sl_err
sl_redis_scan(struct sl_redis *r, const char *pattern, long long max,
    char ***names, size_t *n, size_t *cap, int *more, unsigned *round_trips)
{
	struct scan_run	 s;
	struct sl_error	 e;
	enum sl_err	 rc;

	memset(&s, 0, sizeof(s));
	*more = 0;
	r->nscan_err = 0;
	if ((rc = sl_redis_ensure(r)) != SL_OK)
		return rc;
	if (sl_redis_late(r))
		return SL_EREDIS;
	if (r->cluster && sl_redis_map_nodes(r) != SL_OK)
		return SL_ENOMEM;
	s.r = r;
	s.pattern = pattern;
	s.max = max;
	s.names = names;
	s.n = n;
	s.cap = cap;
	sl_request_init(&s.q, r->x, sl_redis_deadline(r));
	s.q.on_reply = scan_reply;
	s.q.arg = &s;
	if ((rc = masters(&s)) == SL_OK)
		for (size_t k = 0; k < s.nm && rc == SL_OK; k++) {
			snprintf(s.cursor[k], sizeof(s.cursor[k]), "0");
			rc = scan_send(&s, k);
		}
	if (rc == SL_OK && (rc = sl_exec(&s.q, &e)) == SL_ESYS)
		rc = SL_ENOMEM;
	if (rc == SL_ETIMEOUT) {
		snprintf(r->errstr, sizeof(r->errstr), "%s", e.str);
		rc = SL_EREDIS;
	}
	if (rc == SL_OK)
		rc = s.err;
	/* One master failing fails a standalone scan, or a cluster's when
	 * none answered; else its streams are named missing. */
	if (rc == SL_OK && s.nfailed > 0 && (!r->cluster || s.nfailed >= s.nm))
		rc = SL_EREDIS;
	for (size_t k = 0; k < s.nm; k++)
		*more |= strcmp(s.cursor[k], "0") != 0;
	*round_trips = s.q.round_trips;
	sl_request_free(&s.q);
	sl_free(s.nodes);
	sl_free(s.cursor);
	return rc;
}
