/* SPDX-License-Identifier: ISC */
/* `streamlag check` on a Redis Cluster: the slot map as the seed gives it
 * (CLUSTER SLOTS, the command streamlag itself reads it with), then every
 * node of it on a connection of its own (connect, AUTH, TIME: commands the
 * least-privilege user has), one line each with its role, its slot ranges
 * and whether it answered.  Nothing is written. */
#include <sys/time.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "streamlag/check.h"
#include "streamlag/reply.h"
#include "streamlag/slotmap.h"

#define SHOW_NODES	64	/* nodes listed one by one */

size_t
sl_check_slot_ranges(const struct sl_slotmap *m, int node, char *buf,
    size_t len)
{
	size_t	 n = 0, used = 0;
	unsigned start;
	int	 w, full = 0;

	if (len > 0)
		buf[0] = '\0';
	for (unsigned s = 0; s < SL_CLUSTER_SLOTS; s++) {
		if (m->slot[s] != node)
			continue;
		for (start = s; s + 1 < SL_CLUSTER_SLOTS &&
		    m->slot[s + 1] == node; s++)
			;
		n += s - start + 1;
		if (full || len == 0)
			continue;
		if (start == s)
			w = snprintf(buf + used, len - used, "%s%u",
			    used ? "," : "", start);
		else
			w = snprintf(buf + used, len - used, "%s%u-%u",
			    used ? "," : "", start, s);
		if (w < 0 || (size_t)w + sizeof("…") > len - used) {
			/* What does not fit is said to exist. */
			buf[used] = '\0';
			if (used + sizeof("…") <= len)
				snprintf(buf + used, len - used, "…");
			full = 1;
		} else
			used += (size_t)w;
	}
	return n;
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connect, AUTH, TIME on host:port.  NULL when it answered, else why (in
 * why, len bytes). */
static const char *
probe(const struct sl_config *cfg, const struct sl_slotnode *sn, char *why,
    size_t len)
{
	const struct sl_redis_addr *a = &cfg->redis;
	int		 ms = cfg->redis_timeout_ms;
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };
	const char	*argv[3] = { "AUTH", a->user, a->password };
	redisContext	*c = redisConnectWithTimeout(sn->host, sn->port, tv);
	redisReply	*r = NULL;

	if (c == NULL || c->err) {
		snprintf(why, len, "%s", c != NULL ? c->errstr : "out of memory");
		goto out;
	}
	redisSetTimeout(c, tv);
	if (a->password != NULL) {
		if (a->user == NULL)
			argv[1] = a->password;
		r = redisCommandArgv(c, a->user != NULL ? 3 : 2, argv, NULL);
		if (r == NULL || r->type == REDIS_REPLY_ERROR)
			goto fail;
		sl_reply_free(r);
	}
	argv[0] = "TIME";
	r = redisCommandArgv(c, 1, argv, NULL);
	if (r == NULL || r->type == REDIS_REPLY_ERROR)
		goto fail;
	why = NULL;
	goto out;
fail:
	snprintf(why, len, "%s", r != NULL ? r->str : c->errstr);
out:
	if (r != NULL)
		sl_reply_free(r);
	if (c != NULL)
		redisFree(c);
	return why;
}

/* "[::1]:7001" or "127.0.0.1:7001". */
static void
node_name(const struct sl_slotnode *sn, char *buf, size_t len)
{
	snprintf(buf, len, strchr(sn->host, ':') != NULL ? "[%s]:%d" : "%s:%d",
	    sn->host, sn->port);
}

/* One line: the node, its role and slots, and whether it answered. */
static int
node_line(const struct sl_config *cfg, const struct sl_slotmap *m, size_t i,
    struct sl_checks *out)
{
	const struct sl_slotnode *sn = &m->nodes[i];
	char		 name[300], of[310], ranges[200], role[600], why[256];
	size_t		 nslots;
	long long	 t0 = mono_ms();
	const char	*e = probe(cfg, sn, why, sizeof(why));

	node_name(sn, name, sizeof(name));
	if (sn->master >= 0) {
		node_name(&m->nodes[sn->master], of, sizeof(of));
		snprintf(role, sizeof(role), "replica of %s", of);
	} else {
		nslots = sl_check_slot_ranges(m, (int)i, ranges, sizeof(ranges));
		snprintf(role, sizeof(role), "master, %zu slot%s%s%s", nslots,
		    nslots == 1 ? "" : "s", nslots ? " " : "", ranges);
	}
	snprintf(of, sizeof(of), "node %s", name);
	if (e != NULL) {
		sl_checks_addf(out, "cluster", of, SL_CHECK_FAIL, sn->master < 0 ?
		    "is the node up and reachable from here? Its streams fail "
		    "until it, or a replica promoted in its place, answers" :
		    "is the node up and reachable from here?", "%s: %s", role,
		    e);
		return -1;
	}
	sl_checks_addf(out, "cluster", of, SL_CHECK_OK, NULL,
	    "%s; answered in %lld ms", role, mono_ms() - t0);
	return 0;
}

/* The summary: masters, replicas, slots served. */
static int
map_line(const struct sl_slotmap *m, struct sl_checks *out)
{
	size_t	 masters = 0, served = 0;

	for (size_t i = 0; i < m->nnodes; i++)
		masters += m->nodes[i].master < 0;
	for (unsigned s = 0; s < SL_CLUSTER_SLOTS; s++)
		served += m->slot[s] != SL_SLOT_NONE;
	if (served == 0) {
		sl_checks_add(out, "mode", "mode", SL_CHECK_FAIL, "cluster, but "
		    "no slot is served yet (CLUSTER SLOTS is empty)", "create "
		    "the cluster (redis-cli --cluster create)");
		return 1;
	}
	if (served < SL_CLUSTER_SLOTS) {
		sl_checks_addf(out, "mode", "mode", SL_CHECK_FAIL,
		    "assign them (redis-cli --cluster fix)", "cluster of %zu "
		    "master%s and %zu replica%s; %zu of %d slots served by no "
		    "master", masters, masters == 1 ? "" : "s", m->nnodes - masters,
		    m->nnodes - masters == 1 ? "" : "s",
		    (size_t)SL_CLUSTER_SLOTS - served, SL_CLUSTER_SLOTS);
		return -1;
	}
	sl_checks_addf(out, "mode", "mode", SL_CHECK_OK, NULL, "cluster of %zu "
	    "master%s and %zu replica%s, every slot served", masters,
	    masters == 1 ? "" : "s", m->nnodes - masters,
	    m->nnodes - masters == 1 ? "" : "s");
	return 0;
}

int
sl_check_cluster(const struct sl_config *cfg, redisContext *seed,
    struct sl_checks *out)
{
	const char	*argv[2] = { "CLUSTER", "SLOTS" };
	redisReply	*r = redisCommandArgv(seed, 2, argv, NULL);
	struct sl_slotmap m;
	struct sl_error	 e;
	size_t		 shown;
	int		 rc;

	sl_slotmap_init(&m);
	if (r == NULL || r->type == REDIS_REPLY_ERROR ||
	    sl_slotmap_parse_slots(&m, r, cfg->redis.host, &e) != SL_OK) {
		sl_checks_addf(out, "mode", "mode", SL_CHECK_FAIL, r != NULL &&
		    r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOPERM",
		    6) == 0 ? "add to the ACL user: +cluster|slots" : NULL,
		    "cluster; CLUSTER SLOTS: %s", r == NULL ? seed->errstr :
		    r->type == REDIS_REPLY_ERROR ? r->str : e.str);
		rc = 1;
		goto out;
	}
	if ((rc = map_line(&m, out)) == 1)
		goto out;
	for (shown = 0; shown < m.nnodes && shown < SHOW_NODES; shown++)
		(void)node_line(cfg, &m, shown, out);
	if (shown < m.nnodes)
		sl_checks_addf(out, "cluster", "nodes", SL_CHECK_OK, NULL,
		    "%zu more nodes not probed", m.nnodes - shown);
	rc = 0;		/* the streams are read even with a node down */
out:
	if (r != NULL)
		sl_reply_free(r);
	sl_slotmap_free(&m);
	return rc;
}
