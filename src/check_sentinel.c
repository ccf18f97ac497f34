/* SPDX-License-Identifier: ISC */
/* `streamlag check` before the Redis steps when REDIS_URL is
 * redis-sentinel://: what each sentinel names, the master they agree on
 * (confirmed by its ROLE), and its replicas with their offset lag.  The node
 * that STREAMLAG_READ_FROM picks is then checked as a standalone server
 * (check_redis.c).  The commands run over the executor, as serve's do. */
#include <stdio.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/check.h"
#include "streamlag/exec.h"
#include "streamlag/node.h"
#include "streamlag/redis.h"
#include "streamlag/sentinel.h"

#define HP_MAX	300

struct scheck {
	const struct sl_config	*cfg;
	const struct sl_sentinel_url *u;
	struct sl_checks	*out;
	struct sl_exec		 sentinels, nodes;
	struct sl_sentinel_exec	 sx;
};

/* What to change for a sentinel's refusal, or NULL. */
static const char *
sentinel_fix(const char *why)
{
	if (strstr(why, "NOAUTH") != NULL || strstr(why, "WRONGPASS") != NULL)
		return "check STREAMLAG_SENTINEL_USERNAME and "
		    "STREAMLAG_SENTINEL_PASSWORD (the sentinels' own user, "
		    "apart from REDIS_URL's)";
	if (strstr(why, "NOPERM") != NULL)
		return "add to the sentinels' ACL user: "
		    "+sentinel|get-master-addr-by-name +sentinel|replicas";
	if (strstr(why, "'role'") != NULL)
		return "add to the Redis ACL user: +role";
	return NULL;
}

/* One sentinel: the master it names.  1 when it names want (or want is
 * NULL and it names one). */
static int
ask_one(struct scheck *sc, size_t i, const struct sl_hostport *want)
{
	const char	*argv[] = { "SENTINEL", "get-master-addr-by-name",
			    sc->u->master_name };
	struct sl_hostport addr = { NULL, 0 };
	struct sl_error	 e;
	redisReply	*r = NULL;
	char		 title[HP_MAX + 16], hp[HP_MAX];
	int		 known = 0, same = 0;

	snprintf(title, sizeof(title), "sentinel %s", sl_hostport_fmt(
	    &sc->u->sentinels[i], hp, sizeof(hp)));
	if (sl_sentinel_exec_cmd(&sc->sx, &sc->u->sentinels[i], 1, 3, argv, &r,
	    &e) != SL_OK || sl_parse_master_addr(r, &addr, &known, &e) !=
	    SL_OK) {
		sl_checks_add(sc->out, "sentinel", title, SL_CHECK_FAIL, e.str,
		    sentinel_fix(e.str));
	} else if (!known)
		sl_checks_addf(sc->out, "sentinel", title, SL_CHECK_FAIL,
		    "check the master name in REDIS_URL (SENTINEL masters on "
		    "the sentinel lists them)", "no master named \"%s\"",
		    sc->u->master_name);
	else {
		same = want == NULL || (addr.port == want->port &&
		    strcmp(addr.host, want->host) == 0);
		sl_checks_addf(sc->out, "sentinel", title, same ?
		    SL_CHECK_OK : SL_CHECK_FAIL, NULL, "names %s%s",
		    sl_hostport_fmt(&addr, hp, sizeof(hp)), same ? "" :
		    ", not the master the others confirmed");
	}
	if (r != NULL)
		sl_reply_free(r);
	sl_hostport_free(&addr);
	return same;
}

/* The replicas; the first one up into *pick (host owned by the caller). */
static void
replicas(struct scheck *sc, const struct sl_discovery *d,
    struct sl_hostport *pick)
{
	struct sl_replica_list l;
	struct sl_error	 e;
	char		 title[HP_MAX + 16], hp[HP_MAX];
	int		 need = sc->cfg->redis.read_from == SL_READ_REPLICA;

	if (sl_sentinel_replicas(sc->u, d->answered, &d->master,
	    sl_sentinel_exec_cmd, &sc->sx, &l, &e) != SL_OK) {
		sl_checks_add(sc->out, "replica", "replicas", need ?
		    SL_CHECK_FAIL : SL_CHECK_SKIP, e.str, sentinel_fix(e.str));
		return;
	}
	if (l.n == 0)
		sl_checks_add(sc->out, "replica", "replicas", need ?
		    SL_CHECK_FAIL : SL_CHECK_OK, "the sentinel lists none",
		    NULL);
	for (size_t i = 0; i < l.n; i++) {
		snprintf(title, sizeof(title), "replica %s",
		    sl_hostport_fmt(&l.v[i].addr, hp, sizeof(hp)));
		if (l.v[i].up)
			sl_checks_addf(sc->out, "replica", title, SL_CHECK_OK,
			    NULL, "up, %lld bytes of replication behind the "
			    "master", l.v[i].lag);
		else
			sl_checks_addf(sc->out, "replica", title, need ?
			    SL_CHECK_FAIL : SL_CHECK_SKIP, NULL, "not up (%s): "
			    "%s", l.v[i].flags != NULL ? l.v[i].flags : "",
			    l.v[i].why);
		if (l.v[i].up && pick->host == NULL) {
			pick->host = sl_strdup(l.v[i].addr.host);
			pick->port = l.v[i].addr.port;
		}
	}
	sl_replica_list_free(&l);
}

/* The master, then the node STREAMLAG_READ_FROM reads (into node). */
static int
master_and_node(struct scheck *sc, struct sl_hostport *node)
{
	struct sl_discovery d;
	struct sl_error	 e;
	char		 hp[HP_MAX];
	size_t		 agree = 0;
	int		 rc = -1;

	memset(&d, 0, sizeof(d));
	if (sl_sentinel_discover(sc->u, 0, sl_sentinel_exec_cmd, &sc->sx, &d,
	    &e) != SL_OK) {
		for (size_t i = 0; i < sc->u->nsentinels; i++)
			(void)ask_one(sc, i, NULL);
		sl_checks_add(sc->out, "master", "master", SL_CHECK_FAIL, e.str,
		    sentinel_fix(e.str));
		goto out;
	}
	for (size_t i = 0; i < sc->u->nsentinels; i++)
		agree += (size_t)ask_one(sc, i, &d.master);
	sl_checks_addf(sc->out, "master", "master", SL_CHECK_OK, NULL,
	    "\"%s\" at %s, confirmed by its ROLE; %zu of %zu sentinels name it",
	    sc->u->master_name, sl_hostport_fmt(&d.master, hp, sizeof(hp)),
	    agree, sc->u->nsentinels);
	memset(node, 0, sizeof(*node));
	replicas(sc, &d, node);
	if (node->host == NULL && sc->cfg->redis.read_from == SL_READ_REPLICA)
		goto out;
	if (node->host == NULL || sc->cfg->redis.read_from == SL_READ_MASTER) {
		sl_hostport_free(node);
		node->host = sl_strdup(d.master.host);
		node->port = d.master.port;
	}
	rc = node->host != NULL ? 0 : -1;
out:
	sl_discovery_free(&d);
	return rc;
}

int
sl_check_sentinel(const struct sl_config *cfg, struct sl_checks *out,
    struct sl_hostport *node)
{
	const struct sl_redis_addr *a = &cfg->redis;
	struct sl_node_auth sauth = { a->sentinel_user, a->sentinel_password, 0, 0 };
	struct sl_node_auth nauth = { a->user, a->password, a->db, 0 };
	struct scheck	 sc;
	int		 rc;

	memset(&sc, 0, sizeof(sc));
	memset(node, 0, sizeof(*node));
	sc.cfg = cfg;
	sc.u = a->sentinel;
	sc.out = out;
	sl_exec_init(&sc.sentinels, &sauth, cfg->redis_timeout_ms);
	sl_exec_init(&sc.nodes, &nauth, cfg->redis_timeout_ms);
	if (a->tls) {	/* rediss-sentinel:// */
		sc.sentinels.wrap = sc.nodes.wrap = sl_redis_tls_wrap;
		sc.sentinels.wrap_arg = sc.nodes.wrap_arg = a->tls_ctx;
	}
	sc.sx.sentinels = &sc.sentinels;
	sc.sx.nodes = &sc.nodes;
	sc.sx.deadline = sl_mono_ms() + cfg->request_timeout_ms;
	rc = master_and_node(&sc, node);
	sl_exec_free(&sc.sentinels);
	sl_exec_free(&sc.nodes);
	return rc;
}
