/* SPDX-License-Identifier: ISC */
/* The Redis target of one process over the multi-node executor: standalone
 * (one node) or a Redis Cluster (the masters of the slot map), and the
 * pipelines that use it.
 *
 * The mode is learnt once from the first seed that answers INFO cluster
 * (INFO is in the least-privilege ACL on Redis 7.0 and Valkey 8; HELLO is
 * not needed).  A cluster's slot map comes from CLUSTER SLOTS, read again at
 * the next request after a MOVED.  Back-off, reconnection and timeouts are
 * the nodes' own (node.c): a node that failed is logged there, once, with
 * its address and the words of Redis or of the system. */
#include <arpa/inet.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/crc16.h"
#include "streamlag/exec.h"
#include "streamlag/facts.h"
#include "streamlag/log.h"
#include "streamlag/redis.h"
#include "streamlag/resp.h"
#include "streamlag/sentinel.h"
#include "streamlag/tls.h"

/* The executor's request of a pipeline (exec.h's struct sl_request is
 * not named in redis.h: http.h has a struct of that name too). */
struct sl_preq {
	struct sl_request q;
};

void
sl_redis_init(struct sl_redis *r, const struct sl_redis_addr *addr,
    int timeout_ms)
{
	memset(r, 0, sizeof(*r));
	r->addr = addr;
	r->timeout_ms = timeout_ms;
	r->request_timeout_ms = SL_REQUEST_TIMEOUT_MS;
	r->mode = SL_MODE_AUTO;
	r->cluster = -1;
	sl_slotmap_init(&r->map);
}

void
sl_redis_close(struct sl_redis *r)
{
	if (r->x != NULL) {
		sl_exec_free(r->x);
		sl_free(r->x);
	}
	r->x = NULL;
	sl_free(r->node_up);
	sl_free(r->node_name);
	sl_free(r->rt_mark);
	r->rt_mark = NULL;
	r->nrt_mark = 0;
	sl_free(r->node_role);
	r->node_up = NULL;
	r->node_name = NULL;
	r->node_role = NULL;
	r->nnode_up = 0;
	r->seen_connects = r->seen_errors = 0;
	r->seen_bytes = 0;
	sl_slotmap_free(&r->map);
	sl_slotmap_init(&r->map);
	sl_free(r->mapx);
	r->mapx = NULL;
	r->nmapx = 0;
	r->cluster = -1;
	r->server_known = 0;
	sl_redis_sentinel_close(r);
}

void
sl_redis_begin(struct sl_redis *r)
{
	r->deadline = sl_mono_ms() + r->request_timeout_ms;
}

void
sl_redis_trips_mark(struct sl_redis *r)
{
	unsigned long	*m;

	r->nrt_mark = 0;
	if (r->x == NULL || r->x->nnodes == 0)
		return;
	if ((m = sl_reallocarray(r->rt_mark, r->x->nnodes, sizeof(*m))) == NULL)
		return;		/* the log counts from 0: nothing worse */
	r->rt_mark = m;
	for (size_t i = 0; i < r->x->nnodes; i++)
		m[i] = r->x->nodes[i]->round_trips;
	r->nrt_mark = r->x->nnodes;
}

unsigned long
sl_redis_trips(const struct sl_redis *r, char *buf, size_t len)
{
	unsigned long	 sum = 0, d;
	size_t		 used = 0;
	int		 w;

	if (len > 0)
		buf[0] = '\0';
	for (size_t i = 0; r->x != NULL && i < r->x->nnodes; i++) {
		d = r->x->nodes[i]->round_trips - (i < r->nrt_mark ?
		    r->rt_mark[i] : 0);
		if (d == 0)
			continue;
		sum += d;
		if (used >= len)
			continue;
		w = snprintf(buf + used, len - used, "%s%s=%lu", used ? "," : "",
		    r->x->nodes[i]->name, d);
		if (w < 0 || (size_t)w >= len - used)
			buf[used] = '\0';	/* what does not fit is left out */
		used = w < 0 || (size_t)w >= len - used ? len : used + (size_t)w;
	}
	return sum;
}

void
sl_redis_end(struct sl_redis *r)
{
	r->deadline = 0;
}

long long
sl_redis_deadline(const struct sl_redis *r)
{
	return r->deadline != 0 ? r->deadline : sl_mono_ms() +
	    r->request_timeout_ms;
}

int
sl_redis_late(struct sl_redis *r)
{
	if (r->deadline == 0 || sl_mono_ms() < r->deadline)
		return 0;
	snprintf(r->errstr, sizeof(r->errstr), "request deadline passed "
	    "(STREAMLAG_REQUEST_TIMEOUT_MS=%d)", r->request_timeout_ms);
	snprintf(r->errwhat, sizeof(r->errwhat), "deadline");
	r->errnode[0] = '\0';
	return 1;
}

/* Totals over the nodes into r and the shared counters. */
static void
account(struct sl_redis *r)
{
	unsigned long	 connects = 0, errors = 0;
	unsigned long long bytes = 0;

	for (size_t i = 0; r->x != NULL && i < r->x->nnodes; i++) {
		connects += r->x->nodes[i]->connects;
		errors += r->x->nodes[i]->errors;
		bytes += r->x->nodes[i]->meter.bytes;
	}
	if (r->counters != NULL) {
		__atomic_add_fetch(&r->counters->redis_connects,
		    connects - r->seen_connects, __ATOMIC_RELAXED);
		__atomic_add_fetch(&r->counters->redis_errors,
		    errors - r->seen_errors, __ATOMIC_RELAXED);
	}
	r->connects += connects - r->seen_connects;
	r->errors += errors - r->seen_errors;
	r->meter.bytes += bytes - r->seen_bytes;
	r->seen_connects = connects;
	r->seen_errors = errors;
	r->seen_bytes = bytes;
}

/* rediss:// and rediss-sentinel://: every new connection of every node
 * (the seeds, the nodes CLUSTER SLOTS or MOVED name later, the sentinels
 * and the nodes they name) starts TLS from the target's context before
 * AUTH.  Which name is checked is tls.h's rule: the server name when set,
 * else the node's host as the URL or Redis gave it, a name by DNS SAN, an
 * address by IP SAN. */
enum sl_io
sl_redis_tls_wrap(struct sl_transport *t, const char *host, void *arg)
{
	unsigned char	 ip[16];
	int		 is_ip;

	if (host == NULL || arg == NULL) {
		sl_seterr(&t->err, SL_EINPUT, "TLS: %s", host == NULL ?
		    "no host name for a unix socket" : "no TLS context");
		return SL_IO_ERR;
	}
	is_ip = inet_pton(AF_INET, host, ip) == 1 ||
	    inet_pton(AF_INET6, host, ip) == 1;
	if (sl_tls_attach(t, arg, host, is_ip, &t->err) != SL_OK)
		return SL_IO_ERR;
	return SL_IO_OK;
}

/* The nodes are made from the seeds; nothing is connected yet.  SELECT is
 * in their handshake only once the target is known to be standalone (a
 * cluster refuses SELECT, even of 0). */
static enum sl_err
exec_setup(struct sl_redis *r, int db)
{
	const struct sl_redis_addr *a = r->addr;
	struct sl_node_auth auth = { a->user, a->password, db, r->readonly };
	struct sl_error	 e;
	size_t		 idx;

	if ((r->x = sl_calloc(1, sizeof(*r->x))) == NULL)
		return SL_ENOMEM;
	sl_exec_init(r->x, &auth, r->timeout_ms);
	if (a->tls) {
		r->x->wrap = sl_redis_tls_wrap;
		r->x->wrap_arg = a->tls_ctx;
	}
	if (a->kind == SL_REDIS_SENTINEL)
		return SL_OK;	/* the sentinels name the node */
	if (a->kind == SL_REDIS_UNIX || a->nseeds == 0)
		return sl_exec_node(r->x, a->kind == SL_REDIS_UNIX ? NULL :
		    a->host, a->port, a->kind == SL_REDIS_UNIX ? a->path : NULL,
		    &idx, &e);
	for (size_t i = 0; i < a->nseeds; i++)
		if (sl_exec_node(r->x, a->seeds[i].host, a->seeds[i].port,
		    NULL, &idx, &e) != SL_OK)
			return e.code;
	return SL_OK;
}

/* node_up, node_name and node_role grown to the executor's nodes.  0, or
 * -1 when out of memory (a gauge left out, nothing worse). */
static int
node_arrays(struct sl_redis *r)
{
	size_t		 k = r->x->nnodes;
	signed char	*u;
	const char	**nm, **rl;

	if (r->nnode_up >= k)
		return 0;
	if ((u = sl_reallocarray(r->node_up, k, sizeof(*u))) == NULL)
		return -1;
	r->node_up = u;
	if ((nm = sl_reallocarray(r->node_name, k, sizeof(*nm))) == NULL)
		return -1;
	r->node_name = nm;
	if ((rl = sl_reallocarray(r->node_role, k, sizeof(*rl))) == NULL)
		return -1;
	r->node_role = rl;
	for (size_t j = r->nnode_up; j < k; j++) {
		u[j] = -1;
		nm[j] = r->x->nodes[j]->name;
		rl[j] = NULL;
	}
	r->nnode_up = k;
	return 0;
}

void
sl_redis_set_node(struct sl_redis *r, size_t i, int up, const char *role)
{
	if (r->x == NULL || i >= r->x->nnodes || node_arrays(r) == -1)
		return;
	r->node_up[i] = (signed char)(up != 0);
	if (role != NULL)
		r->node_role[i] = role;
}

void
sl_redis_mark(struct sl_redis *r, const struct sl_node *n, int up)
{
	size_t		 i, k = r->x->nnodes;
	const char	*role = NULL;

	for (i = 0; i < k && r->x->nodes[i] != n; i++)
		;
	if (i == k)
		return;
	if (r->addr->kind == SL_REDIS_SENTINEL && i == r->home)
		role = r->home_role == SL_ROLE_REPLICA ? "replica" : "master";
	else if (r->cluster == 1 && r->addr->read_from != SL_READ_MASTER)
		for (size_t m = 0; m < r->nmapx; m++)
			if (r->mapx[m] == i)
				role = r->map.nodes[m].master == -1 ? "master" :
				    "replica";
	sl_redis_set_node(r, i, up, role);
	if (!up) {
		r->failures++;
		if (i == r->home)
			r->home_ok = 0;	/* Sentinel: ask again */
		if (r->cluster == 1)
			r->map_stale = 1;
	}
}

static void
note_node(struct sl_redis *r, const struct sl_node *n, const char *why)
{
	snprintf(r->errstr, sizeof(r->errstr), "%s", why);
	snprintf(r->errwhat, sizeof(r->errwhat), "%s", n->errwhat[0] ?
	    n->errwhat : "pipeline");
	snprintf(r->errnode, sizeof(r->errnode), "%s", n->name);
}

enum sl_err
sl_redis_run_one(struct sl_redis *r, size_t node, int argc, const char **argv,
    redisReply **out)
{
	struct sl_request q;
	struct sl_error	 e;
	size_t		 lens[4];
	enum sl_err	 rc;

	*out = NULL;
	if (sl_redis_late(r))
		return SL_EREDIS;
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	sl_request_init(&q, r->x, sl_redis_deadline(r));
	if ((rc = sl_request_add(&q, node, argc, argv, lens, NULL)) == SL_OK)
		rc = sl_exec(&q, &e);
	if (rc == SL_OK && q.cmds[0].state == SL_CMD_DONE) {
		*out = q.cmds[0].reply;
		q.cmds[0].reply = NULL;
		sl_redis_mark(r, r->x->nodes[node], 1);
	} else if (rc != SL_ENOMEM) {
		sl_redis_mark(r, r->x->nodes[node], 0);
		note_node(r, r->x->nodes[node], rc == SL_OK ?
		    r->x->nodes[node]->err.str : e.str);
		rc = SL_EREDIS;
	}
	sl_request_free(&q);
	account(r);
	return rc;
}

/* The mode, from the first seed that answers INFO cluster. */
static enum sl_err
detect(struct sl_redis *r)
{
	const char	*argv[] = { "INFO", "cluster" };
	redisReply	*reply;
	enum sl_err	 rc = SL_EREDIS;

	for (size_t i = 0; i < r->x->nnodes; i++) {
		if ((rc = sl_redis_run_one(r, i, 2, argv, &reply)) != SL_OK) {
			if (rc == SL_ENOMEM)
				return rc;
			continue;
		}
		r->home = i;
		/* An error (an ACL without INFO): a cluster would need INFO
		 * granted, so this is a standalone Redis. */
		r->cluster = r->mode == SL_MODE_CLUSTER ||
		    (reply->type == REDIS_REPLY_STRING &&
		    strstr(reply->str, "cluster_enabled:1") != NULL);
		sl_reply_free(reply);
		return SL_OK;
	}
	return rc;
}

/* CLUSTER SLOTS from the home node, else from any other that answers. */
static enum sl_err
refresh_map(struct sl_redis *r)
{
	const char	*argv[] = { "CLUSTER", "SLOTS" };
	struct sl_error	 e;
	redisReply	*reply;
	enum sl_err	 rc = SL_EREDIS;

	for (size_t k = 0; k < r->x->nnodes; k++) {
		size_t i = (r->home + k) % r->x->nnodes;
		struct sl_node *n = r->x->nodes[i];

		if ((rc = sl_redis_run_one(r, i, 2, argv, &reply)) == SL_ENOMEM)
			return rc;
		if (rc != SL_OK)
			continue;
		rc = sl_slotmap_parse_slots(&r->map, reply, n->host, &e);
		if (rc != SL_OK && rc != SL_ENOMEM)
			note_node(r, n, reply->type == REDIS_REPLY_ERROR ?
			    reply->str : e.str);
		sl_reply_free(reply);
		if (rc == SL_OK) {
			r->home = i;
			r->map_stale = 0;
			return SL_OK;
		}
		if (rc == SL_ENOMEM)
			return rc;
	}
	if (r->map.nnodes > 0)
		return SL_OK;	/* an older map still serves */
	return rc == SL_ENOMEM ? rc : SL_EREDIS;
}

/* The nodes made again once the mode is known, the counters kept: a
 * standalone Redis with a database gets SELECT in their handshake, a
 * cluster read from replicas READONLY (a replica answers MOVED to reads
 * without it).  The connection INFO used is closed; the next one has it. */
static enum sl_err
reexec(struct sl_redis *r, int db, int readonly, int cluster)
{
	unsigned long	 connects = r->connects, errors = r->errors;
	unsigned long long bytes = r->meter.bytes;
	size_t		 home = r->home;
	enum sl_err	 rc;

	sl_redis_close(r);
	r->connects = connects;
	r->errors = errors;
	r->meter.bytes = bytes;
	r->readonly = readonly;
	if ((rc = exec_setup(r, db)) != SL_OK)
		return rc;
	r->home = home;
	r->cluster = cluster;
	return SL_OK;
}

/* INFO and TIME go to a master that did not fail last time. */
static void
pick_home(struct sl_redis *r)
{
	if (r->home < r->nnode_up && r->node_up[r->home] == 0 &&
	    sl_redis_map_nodes(r) == SL_OK)
		for (size_t i = 0; i < r->nmapx; i++)
			if (r->map.nodes[i].master == -1 &&
			    (r->mapx[i] >= r->nnode_up ||
			    r->node_up[r->mapx[i]] != 0)) {
				r->home = r->mapx[i];
				return;
			}
}

enum sl_err
sl_redis_ensure(struct sl_redis *r)
{
	enum sl_err rc;

	if (r->x == NULL && (rc = exec_setup(r, r->mode ==
	    SL_MODE_STANDALONE || r->addr->kind == SL_REDIS_SENTINEL ?
	    r->addr->db : 0)) != SL_OK)
		return rc;
	if (r->addr->kind == SL_REDIS_SENTINEL)
		return sl_redis_sentinel_ensure(r);
	if (r->cluster == -1) {
		if (r->mode == SL_MODE_STANDALONE)
			r->cluster = 0;
		else if ((rc = detect(r)) != SL_OK)
			return rc;
		if (!r->cluster && r->addr->db != 0 && r->mode != SL_MODE_STANDALONE)
			return reexec(r, r->addr->db, r->readonly, 0);
		if (r->cluster && r->addr->read_from != SL_READ_MASTER &&
		    !r->readonly && (rc = reexec(r, 0, 1, 1)) != SL_OK)
			return rc;
	}
	if (r->cluster && r->addr->db != 0) {
		if (!r->cluster_db)
			sl_log(SL_LOG_ERROR, "redis_cluster_db", "db=%d "
			    "error=\"a Redis Cluster has only database 0\"",
			    r->addr->db);
		r->cluster_db = 1;
		snprintf(r->errstr, sizeof(r->errstr), "database %d asked of a "
		    "Redis Cluster, which has only database 0", r->addr->db);
		return SL_EREDIS;
	}
	if (r->cluster && (r->map.nnodes == 0 || r->map_stale) &&
	    (rc = refresh_map(r)) != SL_OK)
		return rc;
	if (r->cluster)
		pick_home(r);
	return SL_OK;
}

/* The executor's node of each map node, made again when the map changed. */
enum sl_err
sl_redis_map_nodes(struct sl_redis *r)
{
	struct sl_error	 e;
	size_t		*m;

	if (r->mapx != NULL && r->mapx_version == r->map.version &&
	    r->nmapx == r->map.nnodes)
		return SL_OK;
	if ((m = sl_reallocarray(r->mapx, r->map.nnodes + 1,
	    sizeof(*m))) == NULL)
		return SL_ENOMEM;
	r->mapx = m;
	for (size_t i = 0; i < r->map.nnodes; i++)
		if (sl_exec_node(r->x, r->map.nodes[i].host,
		    r->map.nodes[i].port, NULL, &m[i], &e) != SL_OK)
			return e.code;
	r->nmapx = r->map.nnodes;
	r->mapx_version = r->map.version;
	return SL_OK;
}

/* The executor node that reads map node m (a master): itself, or with
 * STREAMLAG_READ_FROM a replica of it that did not fail last time (with
 * replica, the first replica even when it failed: nothing goes to the
 * master while it has one). */
size_t
sl_redis_read_node(const struct sl_redis *r, size_t m)
{
	size_t	 first = SIZE_MAX, x;

	if (r->addr->read_from == SL_READ_MASTER)
		return r->mapx[m];
	for (size_t j = 0; j < r->nmapx; j++) {
		if (r->map.nodes[j].master != (int)m)
			continue;
		x = r->mapx[j];
		if (x >= r->nnode_up || r->node_up[x] != 0)
			return x;
		if (first == SIZE_MAX)
			first = x;
	}
	if (first != SIZE_MAX && r->addr->read_from == SL_READ_REPLICA)
		return first;
	return r->mapx[m];
}

/* The node of a hash slot (-1: no key, the home node; -2 - n: node n). */
static size_t
route(const struct sl_redis *r, int slot)
{
	int m;

	if (slot <= -2)
		return (size_t)(-2 - slot);
	if (r->cluster != 1 || slot < 0 ||
	    (m = sl_slotmap_lookup(&r->map, (unsigned)slot)) < 0 ||
	    (size_t)m >= r->nmapx)
		return r->home;
	return sl_redis_read_node(r, (size_t)m);
}

size_t
sl_redis_key_node(const struct sl_redis *r, const char *key, size_t len)
{
	if (r->x == NULL || r->cluster == -1)
		return SIZE_MAX;
	return route(r, (int)sl_key_slot(key, len));
}

size_t
sl_redis_masters(struct sl_redis *r, size_t *out, size_t max)
{
	size_t n = 0, k;

	if (r->x == NULL || r->cluster == -1 || max == 0)
		return 0;
	if (r->cluster == 0 || sl_redis_map_nodes(r) != SL_OK) {
		out[0] = r->home;
		return 1;
	}
	for (size_t i = 0; i < r->nmapx; i++) {
		size_t x;

		if (r->map.nodes[i].master != -1)
			continue;
		x = sl_redis_read_node(r, i);
		for (k = 0; k < n && out[k] != x; k++)
			;
		if (k == n && n < max)
			out[n++] = x;
	}
	return n;
}

int
sl_command_key(int argc, const char **argv, const size_t *argvlen)
{
	(void)argvlen;
	if (argc < 2 || strcasecmp(argv[0], "INFO") == 0 ||
	    strcasecmp(argv[0], "TIME") == 0 || strcasecmp(argv[0], "SCAN") == 0 ||
	    strcasecmp(argv[0], "PING") == 0 ||
	    strcasecmp(argv[0], "CLUSTER") == 0)
		return -1;
	if (strcasecmp(argv[0], "XINFO") == 0)
		return argc >= 3 ? 2 : -1;
	return 1;
}

void
sl_pipeline_init(struct sl_pipeline *p, struct sl_redis *r)
{
	memset(p, 0, sizeof(*p));
	p->r = r;
}

static enum sl_err
pipeline_grow(struct sl_pipeline *p)
{
	size_t	 cap = p->cap ? p->cap * 2 : 16;
	void	*a;

	if ((a = sl_reallocarray(p->cmds, cap, sizeof(*p->cmds))) == NULL)
		return SL_ENOMEM;
	p->cmds = a;
	if ((a = sl_reallocarray(p->cmdlens, cap, sizeof(*p->cmdlens))) == NULL)
		return SL_ENOMEM;
	p->cmdlens = a;
	if ((a = sl_reallocarray(p->slots, cap, sizeof(*p->slots))) == NULL)
		return SL_ENOMEM;
	p->slots = a;
	if ((a = sl_reallocarray(p->replies, cap, sizeof(*p->replies))) == NULL)
		return SL_ENOMEM;
	p->replies = a;
	if ((a = sl_reallocarray(p->failed, cap, sizeof(*p->failed))) == NULL)
		return SL_ENOMEM;
	p->failed = a;
	p->cap = cap;
	return SL_OK;
}

enum sl_err
sl_pipeline_add(struct sl_pipeline *p, int argc, const char **argv,
    const size_t *argvlen)
{
	char	*cmd;
	size_t	 len;
	int	 k;

	if (p->n == p->cap && pipeline_grow(p) != SL_OK)
		return SL_ENOMEM;
	if ((cmd = sl_resp_format(argc, argv, argvlen, &len)) == NULL)
		return SL_ENOMEM;
	/* A key's slot only matters to a cluster (or before the mode is
	 * known). */
	k = p->r->cluster == 0 ? -1 : sl_command_key(argc, argv, argvlen);
	p->cmds[p->n] = cmd;
	p->cmdlens[p->n] = len;
	p->slots[p->n] = k < 0 ? -1 : (int)sl_key_slot(argv[k], argvlen[k]);
	p->replies[p->n] = NULL;
	p->failed[p->n] = 0;
	p->n++;
	return SL_OK;
}

enum sl_err
sl_pipeline_add_node(struct sl_pipeline *p, size_t node, int argc,
    const char **argv, const size_t *argvlen)
{
	if (node > INT_MAX - 2 || sl_pipeline_add(p, argc, argv, argvlen) !=
	    SL_OK)
		return SL_ENOMEM;
	p->slots[p->n - 1] = -2 - (int)node;
	return SL_OK;
}

/* An error reply of streamlag's own, freed by sl_reply_free as Redis's
 * are: "redis 127.0.0.1:7001: Connection refused". */
static redisReply *
error_reply(const char *node, const char *why)
{
	redisReply	*e;
	int		 len;

	if ((e = sl_calloc(1, sizeof(*e))) == NULL)
		return NULL;
	len = snprintf(NULL, 0, "redis %s: %s", node, why);
	if (len < 0 || (e->str = sl_malloc((size_t)len + 1)) == NULL) {
		sl_free(e);
		return NULL;
	}
	snprintf(e->str, (size_t)len + 1, "redis %s: %s", node, why);
	e->type = REDIS_REPLY_ERROR;
	e->len = (size_t)len;
	return e;
}

/* MOVED or ASK: command idx again on the node named, within the request
 * (at most SL_REDIS_REDIRECTS times).  1 when it was sent again. */
static int
redirect(struct sl_pipeline *p, size_t idx, const redisReply *reply)
{
	struct sl_redis	*r = p->r;
	struct sl_node	*from = sl_request_node(&p->req->q, idx);
	struct sl_redirect rd;
	struct sl_error	 e;
	size_t		 ni;
	int		 ask;

	if (reply->len < 4 || (strncmp(reply->str, "MOVED ", 6) != 0 &&
	    strncmp(reply->str, "ASK ", 4) != 0))
		return 0;
	if (sl_redirect_parse(reply->str, reply->len, from->host != NULL ?
	    from->host : "", &rd, &e) != SL_OK || rd.kind == SL_REDIRECT_NONE ||
	    p->req->q.cmds[idx].sends > SL_REDIS_REDIRECTS ||
	    sl_exec_node(r->x, rd.host, rd.port, NULL, &ni, &e) != SL_OK)
		return 0;
	ask = rd.kind == SL_REDIRECT_ASK;
	if (!ask) {
		(void)sl_slotmap_moved(&r->map, rd.slot, rd.host, rd.port, &e);
		r->map_stale = 1;	/* read again at the next request */
	}
	if (sl_request_requeue(&p->req->q, idx, ni, ask) != SL_OK)
		return 0;
	if (ask)
		r->asked++;
	else
		r->moved++;
	if (r->counters != NULL)
		__atomic_add_fetch(ask ? &r->counters->redis_redirects_ask :
		    &r->counters->redis_redirects_moved, 1, __ATOMIC_RELAXED);
	return 1;
}

/* Replies in command order to on_reply: the collectors read a stream's
 * commands one after the other, whichever node answered first. */
static void
flush_replies(struct sl_pipeline *p)
{
	redisReply *reply;

	if (p->on_reply == NULL)
		return;
	while (p->next < p->sent && (p->replies[p->next] != NULL ||
	    p->failed[p->next])) {
		reply = p->replies[p->next];
		p->replies[p->next] = NULL;
		if (reply != NULL)
			p->on_reply(p->arg, p->next, reply);
		p->next++;
	}
}

/* The executor's callback: follows redirects, names the node of a failed
 * command in its reply, keeps the order. */
static void
on_node_reply(void *arg, size_t idx, redisReply *reply)
{
	struct sl_pipeline *p = arg;
	const struct sl_error *why;
	struct sl_node	*n;

	if (reply != NULL && reply->type == REDIS_REPLY_ERROR &&
	    redirect(p, idx, reply)) {
		sl_reply_free(reply);
		return;
	}
	if (reply == NULL) {
		n = sl_request_node(&p->req->q, idx);
		why = sl_request_error(&p->req->q, idx);
		note_node(p->r, n, why != NULL ? why->str : n->err.str);
		reply = error_reply(n->name, p->r->errstr);
		p->failed[idx] = 1;
		sl_redis_mark(p->r, n, 0);
	} else {
		p->ok++;
		sl_redis_mark(p->r, sl_request_node(&p->req->q, idx), 1);
	}
	p->replies[idx] = reply;
	flush_replies(p);
}

/* The commands not sent yet into the request, each to its slot's node. */
static enum sl_err
pipeline_queue(struct sl_pipeline *p)
{
	struct sl_redis *r = p->r;

	if (p->req == NULL) {
		if ((p->req = sl_calloc(1, sizeof(*p->req))) == NULL)
			return SL_ENOMEM;
		sl_request_init(&p->req->q, r->x, sl_redis_deadline(r));
		p->req->q.on_reply = on_node_reply;
		p->req->q.arg = p;
	}
	if (r->cluster && sl_redis_map_nodes(r) != SL_OK)
		return SL_ENOMEM;
	for (; p->sent < p->n; p->sent++) {
		if (sl_request_add_resp(&p->req->q, route(r, p->slots[p->sent]),
		    p->cmds[p->sent], p->cmdlens[p->sent], NULL) != SL_OK)
			return SL_ENOMEM;
		p->cmds[p->sent] = NULL;	/* the request's now */
	}
	return SL_OK;
}

/*
 * Every node's commands at once; replies as they arrive on any node.  A
 * connection kept from an earlier request that died meanwhile is replaced
 * once by its node (safe: streamlag only reads); a timeout starts that
 * node's back-off.
 */
/* The commands not sent yet, queued on their nodes (and the request's
 * deadline set); the index of the first, for the failures to count. */
static enum sl_err
pipeline_ready(struct sl_pipeline *p, size_t *start)
{
	struct sl_redis	*r = p->r;
	enum sl_err	 rc;

	*start = p->sent;
	if ((rc = sl_redis_ensure(r)) != SL_OK)
		return rc;
	if (sl_redis_late(r))
		return SL_EREDIS;
	if ((rc = pipeline_queue(p)) != SL_OK)
		return rc;
	if (r->deadline != 0)	/* a follow-up batch: still the request's */
		p->req->q.deadline = r->deadline;
	return SL_OK;
}

/* What the sockets take of the commands added, without waiting for a
 * reply: the next sl_pipeline_exec reads them.  SL_OK, or what
 * sl_pipeline_exec would have said before sending. */
enum sl_err
sl_pipeline_send(struct sl_pipeline *p)
{
	enum sl_err rc;

	if ((rc = pipeline_ready(p, &p->sent_from)) != SL_OK)
		return rc;
	p->early = 1;
	sl_exec_send(&p->req->q);
	return SL_OK;
}

enum sl_err
sl_pipeline_exec(struct sl_pipeline *p)
{
	struct sl_redis	*r = p->r;
	struct sl_error	 e;
	size_t		 start, failed = 0;
	enum sl_err	 rc;

	if (p->early) {
		/* Sent ahead and on the wire: read (sl_exec ends them at the
		 * deadline, as any other). */
		start = p->sent_from;
		p->early = 0;
	} else if ((rc = pipeline_ready(p, &start)) != SL_OK)
		return rc;
	rc = sl_exec(&p->req->q, &e);
	account(r);
	p->round_trips = p->req->q.round_trips;
	if (rc == SL_ENOMEM || rc == SL_ESYS)
		return SL_ENOMEM;
	flush_replies(p);
	for (size_t i = start; i < p->n; i++) {
		failed += p->failed[i];
		if (p->failed[i] && p->replies[i] == NULL && p->on_reply == NULL)
			return SL_ENOMEM;	/* no room for the error reply */
	}
	if (failed > 0 && (!r->cluster || failed == p->n - start))
		return SL_EREDIS;
	return SL_OK;
}

void
sl_pipeline_release(struct sl_pipeline *p, size_t from, size_t to)
{
	for (size_t i = from; i < to && i < p->n; i++) {
		if (p->replies[i] != NULL)
			sl_reply_free(p->replies[i]);
		p->replies[i] = NULL;
	}
}

void
sl_pipeline_free(struct sl_pipeline *p)
{
	for (size_t i = 0; i < p->n; i++) {
		sl_free(p->cmds[i]);
		if (p->replies[i] != NULL)
			sl_reply_free(p->replies[i]);
	}
	if (p->req != NULL) {
		sl_request_free(&p->req->q);
		sl_free(p->req);
	}
	sl_free(p->cmds);
	sl_free(p->cmdlens);
	sl_free(p->slots);
	sl_free(p->replies);
	sl_free(p->failed);
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

	if (r->errnode[0] != '\0')
		snprintf(where, sizeof(where), "%s", r->errnode);
	else
		sl_redis_where(r->addr, where, sizeof(where));
	snprintf(buf, len, "redis %s: %s", where, r->errstr[0] != '\0' ?
	    r->errstr : "no error");
	return buf;
}
