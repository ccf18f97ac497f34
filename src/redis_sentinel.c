/* SPDX-License-Identifier: ISC */
/*
 * The Redis layer behind Sentinel (redis.h): the node that answers is the
 * master the sentinels name, confirmed by its own ROLE (sentinel_discover.c),
 * or, with STREAMLAG_READ_FROM=replica or prefer-replica, one of its
 * replicas that is up.  Everything else (pipelines, TIME, SCAN) runs as on
 * a standalone Redis whose one node is that one: r->home.
 *
 * Failover is followed by a ROLE check on the node in use every
 * STREAMLAG_ROLE_CHECK_MS (docs/operations.md says why not in every batch),
 * and by asking the sentinels again at once when that node fails or its
 * role is not the one wanted.  The sentinels' commands share the request's
 * deadline, so a request during a failover gets a fast 503.
 */
#include <stdio.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/exec.h"
#include "streamlag/log.h"
#include "streamlag/redis.h"
#include "streamlag/sentinel.h"

const char *
sl_read_from_name(int read_from)
{
	switch (read_from) {
	case SL_READ_REPLICA:
		return "replica";
	case SL_READ_PREFER_REPLICA:
		return "prefer-replica";
	default:
		return "master";
	}
}

static void
sentinel_note(struct sl_redis *r, const char *what, const char *node,
    const char *why)
{
	snprintf(r->errstr, sizeof(r->errstr), "%s", why);
	snprintf(r->errwhat, sizeof(r->errwhat), "%s", what);
	snprintf(r->errnode, sizeof(r->errnode), "%s", node);
}

/* The sentinels' executor, made with the sentinels' own credentials;
 * rediss-sentinel:// speaks TLS to them with the nodes' context. */
static enum sl_err
sentinel_exec(struct sl_redis *r)
{
	const struct sl_redis_addr *a = r->addr;
	struct sl_node_auth auth = { a->sentinel_user, a->sentinel_password, 0, 0 };

	if (r->sx != NULL)
		return SL_OK;
	if ((r->sx = sl_calloc(1, sizeof(*r->sx))) == NULL)
		return SL_ENOMEM;
	sl_exec_init(r->sx, &auth, r->timeout_ms);
	if (a->tls) {
		r->sx->wrap = sl_redis_tls_wrap;
		r->sx->wrap_arg = a->tls_ctx;
	}
	return SL_OK;
}

static void
replicas_clear(struct sl_redis *r)
{
	r->nreplicas = 0;
}

static void
replica_add(struct sl_redis *r, const struct sl_hostport *h, int up,
    long long lag)
{
	struct sl_redis_replica *v;

	if (r->nreplicas == SL_REDIS_REPLICAS_SHOWN)
		return;
	v = &r->replicas[r->nreplicas];
	sl_hostport_fmt(h, v->node, sizeof(v->node));
	v->up = up;
	v->lag = up ? lag : -1;
	r->replica_name[r->nreplicas] = v->node;
	r->replica_lagv[r->nreplicas++] = v->lag;
}

/* The replicas the sentinel lists, each with its own ROLE; the first one
 * up in *pick (NULL when none). */
static enum sl_err
list_replicas(struct sl_redis *r, struct sl_sentinel_exec *sxc,
    const struct sl_discovery *d, const struct sl_replica **pick,
    struct sl_replica_list *l, struct sl_error *e)
{
	enum sl_err rc;

	*pick = NULL;
	memset(l, 0, sizeof(*l));
	rc = sl_sentinel_replicas(r->addr->sentinel, d->answered, &d->master,
	    sl_sentinel_exec_cmd, sxc, l, e);
	if (rc != SL_OK)
		return rc;
	replicas_clear(r);
	for (size_t i = 0; i < l->n; i++) {
		size_t node;

		replica_add(r, &l->v[i].addr, l->v[i].up, l->v[i].lag);
		if (sl_exec_node(r->x, l->v[i].addr.host, l->v[i].addr.port,
		    NULL, &node, e) == SL_OK)
			sl_redis_set_node(r, node, l->v[i].up, "replica");
		if (*pick == NULL && l->v[i].up)
			*pick = &l->v[i];
	}
	return SL_OK;
}

/* The node to read from, once the master is known: the master, or a
 * replica that is up (falling back to the master with prefer-replica). */
static enum sl_err
choose(struct sl_redis *r, struct sl_sentinel_exec *sxc,
    const struct sl_discovery *d, struct sl_error *e)
{
	const struct sl_hostport *use = &d->master;
	const struct sl_replica *pick;
	struct sl_replica_list l;
	enum sl_err	 rc;

	size_t		 mnode;

	if (sl_exec_node(r->x, d->master.host, d->master.port, NULL, &mnode,
	    e) != SL_OK)
		return e->code;
	sl_redis_set_node(r, mnode, 1, "master");
	rc = list_replicas(r, sxc, d, &pick, &l, e);
	if (rc == SL_ENOMEM)
		goto out;
	r->home_role = SL_ROLE_MASTER;
	r->fell_back = 0;
	if (r->addr->read_from != SL_READ_MASTER) {
		if (pick != NULL) {
			use = &pick->addr;
			r->home_role = SL_ROLE_REPLICA;
		} else if (r->addr->read_from == SL_READ_REPLICA) {
			if (rc == SL_OK)
				rc = sl_seterr(e, SL_EREDIS, "no replica of \"%s\" "
				    "is up (STREAMLAG_READ_FROM=replica)",
				    r->addr->sentinel->master_name);
			goto out;
		} else
			r->fell_back = 1;
	}
	rc = sl_exec_node(r->x, use->host, use->port, NULL, &r->home, e);
out:
	sl_replica_list_free(&l);
	return rc;
}

/* Asks the sentinels for the master (confirmed by its ROLE), then picks the
 * node to read from. */
static enum sl_err
rediscover(struct sl_redis *r, long long now)
{
	struct sl_sentinel_exec sxc;
	struct sl_discovery d;
	struct sl_error	 e;
	char		 hp[SL_NODE_NAME_MAX], was[SL_NODE_NAME_MAX];
	enum sl_err	 rc;

	r->home_ok = 0;
	if ((rc = sentinel_exec(r)) != SL_OK)
		return rc;
	sxc.sentinels = r->sx;
	sxc.nodes = r->x;
	sxc.deadline = now + r->request_timeout_ms;
	memset(&d, 0, sizeof(d));
	rc = sl_sentinel_discover(r->addr->sentinel, r->sentinel_next,
	    sl_sentinel_exec_cmd, &sxc, &d, &e);
	if (rc == SL_OK) {
		r->sentinel_next = d.answered;
		rc = choose(r, &sxc, &d, &e);
	}
	if (rc == SL_OK) {
		snprintf(was, sizeof(was), "%s", r->master);
		sl_hostport_fmt(&d.master, hp, sizeof(hp));
		snprintf(r->master, sizeof(r->master), "%s", hp);
		if (strcmp(was, r->master) != 0)
			sl_log(SL_LOG_INFO, "sentinel_master", "master=%s "
			    "previous=%s read=%s node=%s", r->master,
			    was[0] != '\0' ? was : "none",
			    sl_read_from_name(r->addr->read_from),
			    r->x->nodes[r->home]->name);
		r->home_ok = 1;
		r->role_checked = now;
		r->rediscoveries++;
	} else if (rc != SL_ENOMEM) {
		sentinel_note(r, "sentinel", sl_hostport_fmt(
		    &r->addr->sentinel->sentinels[r->sentinel_next], hp,
		    sizeof(hp)), e.str);
		rc = SL_EREDIS;
	}
	sl_discovery_free(&d);
	return rc;
}

/* ROLE on the master in use: still master?  Its replicas' offsets give
 * their lag.  1 when it holds, 0 when the sentinels must be asked. */
static int
role_holds(struct sl_redis *r)
{
	const char	*argv[] = { "ROLE" };
	struct sl_role	 role;
	struct sl_error	 e;
	redisReply	*reply;
	int		 holds;

	if (sl_redis_run_one(r, r->home, 1, argv, &reply) != SL_OK)
		return 0;
	holds = sl_parse_role(reply, &role, &e) == SL_OK &&
	    role.kind == SL_ROLE_MASTER;
	sl_reply_free(reply);
	if (!holds) {
		sl_log(SL_LOG_WARN, "sentinel_role", "node=%s error=\"not a "
		    "master any more\"", r->x->nodes[r->home]->name);
		return 0;
	}
	replicas_clear(r);
	for (size_t i = 0; i < role.nreplicas; i++)
		replica_add(r, &role.replicas[i].addr, 1,
		    role.offset > role.replicas[i].offset ?
		    role.offset - role.replicas[i].offset : 0);
	sl_role_free(&role);
	return 1;
}

/*
 * The node to read from, known and confirmed: every role_check_ms, ROLE on
 * the master in use (reading from a replica, the sentinels are asked again
 * instead: the replicas' offsets need the master's, and the replica chosen
 * may be gone).  SL_OK; SL_EREDIS with r->errstr; SL_ENOMEM.
 */
enum sl_err
sl_redis_sentinel_ensure(struct sl_redis *r)
{
	long long now = sl_mono_ms();

	r->cluster = 0;
	if (r->home_ok && now - r->role_checked < r->addr->role_check_ms)
		return SL_OK;
	if (r->home_ok && r->home_role == SL_ROLE_MASTER &&
	    !r->fell_back && role_holds(r)) {
		r->role_checked = now;
		return SL_OK;
	}
	return rediscover(r, now);
}

void
sl_redis_sentinel_close(struct sl_redis *r)
{
	if (r->sx != NULL) {
		sl_exec_free(r->sx);
		sl_free(r->sx);
	}
	r->sx = NULL;
	r->home_ok = 0;
}
