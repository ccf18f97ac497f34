/* SPDX-License-Identifier: ISC */
/*
 * The multi-node executor (exec.h).  Every node's pipeline is queued before
 * anything waits; one poll(2) then watches every node that owes something,
 * so that a slow or frozen node holds only its own commands.  Two clocks
 * bound a request: each node's timeout (no progress for timeout_ms: that
 * node fails and backs off) and the request's deadline (everything still
 * owed fails, the nodes that owed it are closed, since their replies would
 * come out of step).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/exec.h"
#include "streamlag/resp.h"

static const char asking[] = "*1\r\n$6\r\nASKING\r\n";

void
sl_exec_init(struct sl_exec *x, const struct sl_node_auth *auth,
    int timeout_ms)
{
	memset(x, 0, sizeof(*x));
	if (auth != NULL)
		x->auth = *auth;
	x->timeout_ms = timeout_ms;
}

void
sl_exec_free(struct sl_exec *x)
{
	for (size_t i = 0; i < x->nnodes; i++) {
		sl_node_free(x->nodes[i]);
		sl_free(x->nodes[i]);
	}
	sl_free(x->nodes);
	sl_free(x->pfds);
	sl_free(x->pnode);
	memset(x, 0, sizeof(*x));
}

static int
same_node(const struct sl_node *n, const char *host, int port,
    const char *path)
{
	if (path != NULL)
		return n->path != NULL && strcmp(n->path, path) == 0;
	return n->host != NULL && n->port == port && strcmp(n->host, host) == 0;
}

static enum sl_err
grow(struct sl_exec *x, struct sl_error *e)
{
	size_t	 cap = x->cap ? x->cap * 2 : 4;
	void	*p;

	if ((p = sl_reallocarray(x->nodes, cap, sizeof(*x->nodes))) == NULL)
		return sl_seterr(e, SL_ENOMEM, NULL);
	x->nodes = p;
	if ((p = sl_reallocarray(x->pfds, cap, sizeof(*x->pfds))) == NULL)
		return sl_seterr(e, SL_ENOMEM, NULL);
	x->pfds = p;
	if ((p = sl_reallocarray(x->pnode, cap, sizeof(*x->pnode))) == NULL)
		return sl_seterr(e, SL_ENOMEM, NULL);
	x->pnode = p;
	x->cap = cap;
	return SL_OK;
}

enum sl_err
sl_exec_node(struct sl_exec *x, const char *host, int port, const char *path,
    size_t *idx, struct sl_error *e)
{
	struct sl_node	*n;

	for (size_t i = 0; i < x->nnodes; i++)
		if (same_node(x->nodes[i], host, port, path)) {
			*idx = i;
			return SL_OK;
		}
	if ((path == NULL && host == NULL) || x->nnodes >= SL_EXEC_MAX_NODES)
		return sl_seterr(e, SL_EINPUT, "no address, or more than %d "
		    "nodes", SL_EXEC_MAX_NODES);
	if (x->nnodes == x->cap && grow(x, e) != SL_OK)
		return SL_ENOMEM;
	if ((n = sl_calloc(1, sizeof(*n))) == NULL)
		return sl_seterr(e, SL_ENOMEM, NULL);
	if (sl_node_init(n, host, port, path, &x->auth, x->timeout_ms,
	    e) != SL_OK) {
		sl_free(n);
		return SL_ENOMEM;
	}
	n->wrap = x->wrap;
	n->wrap_arg = x->wrap_arg;
	x->nodes[x->nnodes] = n;
	*idx = x->nnodes++;
	return SL_OK;
}

/* No node keeps anything of an earlier request: a node that still owes
 * replies (or holds commands not sent) is out of step, and is closed. */
static void
settle(struct sl_exec *x)
{
	for (size_t i = 0; i < x->nnodes; i++) {
		if (sl_node_busy(x->nodes[i]))
			sl_node_close(x->nodes[i]);
		sl_node_begin(x->nodes[i]);
	}
}

/* A request that ends while another is in flight: its commands leave
 * the nodes' queues, the other's stay. */
static void
forget(struct sl_exec *x, const struct sl_request *q)
{
	for (size_t i = 0; i < x->nnodes; i++)
		sl_node_forget(x->nodes[i], q);
}

void
sl_request_init(struct sl_request *q, struct sl_exec *x, long long deadline)
{
	memset(q, 0, sizeof(*q));
	q->x = x;
	q->deadline = deadline;
	if (x->live++ == 0)
		settle(x);
}

void
sl_request_free(struct sl_request *q)
{
	for (size_t i = 0; i < q->n; i++) {
		sl_free(q->cmds[i].buf);
		if (q->cmds[i].reply != NULL)
			sl_reply_free(q->cmds[i].reply);
	}
	sl_free(q->cmds);
	/* The nodes' queues point into the commands just freed. */
	if (q->x != NULL && q->x->live > 0 && --q->x->live > 0)
		forget(q->x, q);
	else if (q->x != NULL)
		settle(q->x);
	memset(q, 0, sizeof(*q));
}

/* Queues command idx on node; a new round trip when the node was idle. */
static enum sl_err
queue(struct sl_request *q, size_t idx, size_t node, int ask)
{
	struct sl_node	*n = q->x->nodes[node];
	struct sl_cmd	*c = &q->cmds[idx];
	int		 idle = !sl_node_busy(n);

	if (ask && sl_node_push(n, asking, sizeof(asking) - 1,
	    SL_NODE_ASKING, q) != SL_OK)
		return SL_ENOMEM;
	if (sl_node_push(n, c->buf, c->len, idx, q) != SL_OK)
		return SL_ENOMEM;
	q->round_trips += idle;
	c->node = node;
	c->state = SL_CMD_PENDING;
	c->err = SL_OK;
	c->sends++;
	q->pending++;
	return SL_OK;
}

enum sl_err
sl_request_add(struct sl_request *q, size_t node, int argc, const char **argv,
    const size_t *argvlen, size_t *idx)
{
	struct sl_cmd	*c;

	if (node >= q->x->nnodes || argc < 1)
		return SL_EINPUT;
	if (q->n == q->cap) {
		size_t	 cap = q->cap ? q->cap * 2 : 16;
		void	*p = sl_reallocarray(q->cmds, cap, sizeof(*q->cmds));

		if (p == NULL)
			return SL_ENOMEM;
		q->cmds = p;
		q->cap = cap;
	}
	c = &q->cmds[q->n];
	memset(c, 0, sizeof(*c));
	if ((c->buf = sl_resp_format(argc, argv, argvlen, &c->len)) == NULL)
		return SL_ENOMEM;
	if (queue(q, q->n, node, 0) != SL_OK) {
		sl_free(c->buf);
		return SL_ENOMEM;
	}
	if (idx != NULL)
		*idx = q->n;
	q->n++;
	return SL_OK;
}

enum sl_err
sl_request_add_resp(struct sl_request *q, size_t node, char *buf, size_t len,
    size_t *idx)
{
	struct sl_cmd	*c;

	if (node >= q->x->nnodes || buf == NULL)
		return SL_EINPUT;
	if (q->n == q->cap) {
		size_t	 cap = q->cap ? q->cap * 2 : 16;
		void	*p = sl_reallocarray(q->cmds, cap, sizeof(*q->cmds));

		if (p == NULL)
			return SL_ENOMEM;
		q->cmds = p;
		q->cap = cap;
	}
	c = &q->cmds[q->n];
	memset(c, 0, sizeof(*c));
	c->buf = buf;
	c->len = len;
	if (queue(q, q->n, node, 0) != SL_OK) {
		c->buf = NULL;
		return SL_ENOMEM;
	}
	if (idx != NULL)
		*idx = q->n;
	q->n++;
	return SL_OK;
}

enum sl_err
sl_request_requeue(struct sl_request *q, size_t idx, size_t node, int ask)
{
	struct sl_cmd *c;

	if (idx >= q->n || node >= q->x->nnodes)
		return SL_EINPUT;
	c = &q->cmds[idx];
	if (c->state == SL_CMD_PENDING)
		return SL_EINPUT;	/* still owed by a node */
	if (c->reply != NULL)
		sl_reply_free(c->reply);
	c->reply = NULL;
	if (queue(q, idx, node, ask) != SL_OK)
		return SL_ENOMEM;
	q->requeued++;
	return SL_OK;
}

/* A node's reply to command idx, or NULL when it failed. */
static void
deliver(void *ctx, size_t idx, redisReply *r)
{
	struct sl_request *q = ctx;
	struct sl_cmd	*c = &q->cmds[idx];

	if (c->state != SL_CMD_PENDING) {	/* cannot happen: kept safe */
		if (r != NULL)
			sl_reply_free(r);
		return;
	}
	q->pending--;
	if (r == NULL) {
		c->state = SL_CMD_FAILED;
		c->err = q->x->nodes[c->node]->err.code;
		if (c->err == SL_OK)
			c->err = SL_EREDIS;
	} else {
		c->state = SL_CMD_DONE;
	}
	if (q->on_reply != NULL)
		q->on_reply(q->arg, idx, r);	/* may move q->cmds */
	else
		c->reply = r;
}

/* n failed: its commands fail, each in its own request. */
static void
drop(struct sl_node *n)
{
	sl_node_drop(n, deliver);
}

/* Starts the nodes that have work, fails those that cannot start or timed
 * out, and fills the poll set.  Its size; *wait the ms poll may sleep. */
static size_t
prepare(struct sl_request *q, long long now, long long *wait)
{
	struct sl_exec	*x = q->x;
	size_t		 k = 0;
	long long	 left;

	*wait = q->deadline - now;
	for (size_t i = 0; i < x->nnodes; i++) {
		struct sl_node *n = x->nodes[i];

		if (!sl_node_busy(n))
			continue;
		if (sl_node_start(n, now) != SL_OK) {
			drop(n);
			continue;
		}
		if ((left = sl_node_ms_left(n, now)) <= 0) {
			sl_node_expire(n);
			drop(n);
			continue;
		}
		if (left < *wait)
			*wait = left;
		if (n->more)
			*wait = 0;	/* bytes read, not yet seen by poll */
		x->pfds[k].fd = n->t.fd;
		x->pfds[k].events = sl_node_events(n);
		x->pfds[k].revents = 0;
		x->pnode[k++] = i;
	}
	return k;
}

/* The deadline passed: what is still owed fails, on every node. */
static enum sl_err
expire_request(struct sl_request *q, long long late, struct sl_error *e)
{
	size_t owed = q->pending;

	for (size_t i = 0; i < q->x->nnodes; i++) {
		struct sl_node *n = q->x->nodes[i];

		if (!sl_node_busy(n))
			continue;
		sl_node_fail(n, SL_ETIMEOUT, "request deadline passed with "
		    "replies owed (%lld ms late)", late);
		drop(n);
	}
	return sl_seterr(e, SL_ETIMEOUT, "request deadline passed: %zu of "
	    "%zu commands without a reply", owed, q->n);
}

static int
any_busy(const struct sl_exec *x)
{
	for (size_t i = 0; i < x->nnodes; i++)
		if (sl_node_busy(x->nodes[i]))
			return 1;
	return 0;
}

void
sl_exec_send(struct sl_request *q)
{
	struct sl_exec *x = q->x;

	for (size_t i = 0; i < x->nnodes; i++) {
		struct sl_node *n = x->nodes[i];

		if (sl_node_busy(n) && sl_node_send(n) != SL_OK)
			drop(n);
	}
}

enum sl_err
sl_exec(struct sl_request *q, struct sl_error *e)
{
	struct sl_exec	*x = q->x;
	long long	 now, wait;
	size_t		 k;
	int		 rc;

	while (q->pending > 0 && any_busy(x)) {
		now = sl_mono_ms();
		if (now >= q->deadline)
			return expire_request(q, now - q->deadline, e);
		if ((k = prepare(q, now, &wait)) == 0)
			continue;	/* failures may have queued more */
		rc = poll(x->pfds, k, wait > INT_MAX ? INT_MAX :
		    wait < 0 ? 0 : (int)wait);
		if (rc == -1 && errno != EINTR)
			return sl_seterr(e, SL_ESYS, NULL);
		for (size_t i = 0; i < k; i++) {
			struct sl_node *n = x->nodes[x->pnode[i]];

			if ((x->pfds[i].revents != 0 || n->more) &&
			    sl_node_io(n, deliver) != SL_OK)
				drop(n);
		}
	}
	return SL_OK;
}

const struct sl_error *
sl_request_error(const struct sl_request *q, size_t idx)
{
	if (idx >= q->n || q->cmds[idx].state != SL_CMD_FAILED)
		return NULL;
	return &q->x->nodes[q->cmds[idx].node]->err;
}

struct sl_node *
sl_request_node(const struct sl_request *q, size_t idx)
{
	return idx < q->n ? q->x->nodes[q->cmds[idx].node] : NULL;
}
