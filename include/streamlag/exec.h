/* SPDX-License-Identifier: ISC */
/*
 * The multi-node executor.  A worker keeps one struct sl_exec: its nodes
 * (node.h), each one persistent connection.  A request is a set of
 * commands, each bound to a node; sl_exec writes every node's pipeline at
 * once, then reads replies as they arrive on any node (poll(2)), until every
 * command has its reply, a node fails (its commands fail, the others go
 * on), or the request's deadline passes.  It never waits for one node
 * before sending to another.
 *
 * Ownership: the executor owns its nodes; a request owns its commands'
 * RESP bytes and, without on_reply, their replies (sl_request_free frees
 * them).  With on_reply, each reply is handed over as it is parsed and the
 * callee owns it; memory then stays bounded by what is in flight.
 *
 * A worker serves one HTTP request at a time, but two requests of the
 * executor may be in flight on the same connections: one sent ahead
 * (sl_exec_send) while the other is read, so that Redis works on the next
 * chunk of streams while the worker reads the last.  Each queued command
 * names its request, and its reply goes there whichever sl_exec reads it;
 * sl_exec returns once its own request has every reply.  A node that
 * fails fails the commands of both.
 */
#ifndef STREAMLAG_EXEC_H
#define STREAMLAG_EXEC_H

#include <stddef.h>
#include <hiredis/hiredis.h>

#include "streamlag/err.h"
#include "streamlag/node.h"

#define SL_EXEC_MAX_NODES	1000	/* as the slot map's */

struct sl_exec {
	struct sl_node	**nodes;	/* owned; indexes are stable */
	size_t		 nnodes, cap;
	struct sl_node_auth auth;	/* for every node; borrowed strings */
	int		 timeout_ms;	/* connect, and each reply */
	sl_node_wrap_fn	 wrap;		/* for every new node; NULL: plain */
	void		*wrap_arg;
	struct pollfd	*pfds;		/* owned scratch, one per node */
	size_t		*pnode;		/* the node of each pfd */
	unsigned	 live;		/* requests made and not freed */
};

void	sl_exec_init(struct sl_exec *x, const struct sl_node_auth *auth,
	    int timeout_ms);
/* Closes every connection and frees every node. */
void	sl_exec_free(struct sl_exec *x);
/* The index of host:port (or of the unix socket path when host is NULL),
 * added when new (not connected until a request needs it).  SL_OK,
 * SL_ENOMEM, SL_EINPUT (too many nodes). */
enum sl_err sl_exec_node(struct sl_exec *x, const char *host, int port,
	    const char *path, size_t *idx, struct sl_error *e);

enum sl_cmd_state {
	SL_CMD_PENDING,		/* queued, or sent and not answered */
	SL_CMD_DONE,		/* replied (REDIS_REPLY_ERROR included) */
	SL_CMD_FAILED		/* no reply: its node failed, or the deadline */
};

struct sl_cmd {
	char		*buf;		/* RESP; owned */
	size_t		 len;
	size_t		 node;		/* where it was last sent */
	enum sl_cmd_state state;
	enum sl_err	 err;		/* when FAILED: SL_EREDIS, SL_ETIMEOUT... */
	redisReply	*reply;		/* when DONE and no on_reply; owned */
	unsigned	 sends;		/* 1, and 1 more per re-queue */
};

struct sl_request {
	struct sl_exec	*x;
	struct sl_cmd	*cmds;		/* owned */
	size_t		 n, cap;
	size_t		 pending;	/* commands still PENDING */
	long long	 deadline;	/* sl_mono_ms() time; the whole request */
	/* When set, called with every reply as it is parsed (idx: the
	 * command; the callee owns r), and with r NULL for a command that
	 * failed (sl_request_error says why).  It may call sl_request_add and
	 * sl_request_requeue. */
	void		(*on_reply)(void *arg, size_t idx, redisReply *r);
	void		*arg;
	unsigned	 round_trips;	/* over all nodes: 1 per node's batch */
	unsigned	 requeued;
};

/* A new request over x's nodes, ending at deadline (sl_mono_ms() + ms). */
void	sl_request_init(struct sl_request *q, struct sl_exec *x,
	    long long deadline);
/* Frees the commands and the replies the request still owns. */
void	sl_request_free(struct sl_request *q);
/* Command argv (argvlen bytes each) for node; its index in *idx (may be
 * NULL).  SL_OK, SL_ENOMEM, SL_EINPUT (no such node). */
enum sl_err sl_request_add(struct sl_request *q, size_t node, int argc,
	    const char **argv, const size_t *argvlen, size_t *idx);
/* The same with a command already in RESP: buf (sl_malloc'd, len bytes)
 * becomes the request's once SL_OK is returned; else it stays the
 * caller's. */
enum sl_err sl_request_add_resp(struct sl_request *q, size_t node, char *buf,
	    size_t len, size_t *idx);
/* Command idx again, on node, within this request (after MOVED; with
 * asking, ASKING is sent just before it on the same connection, for ASK).
 * A reply it still has is freed.  Allowed from on_reply and between two
 * sl_exec calls.  SL_OK, SL_ENOMEM, SL_EINPUT. */
enum sl_err sl_request_requeue(struct sl_request *q, size_t idx, size_t node,
	    int asking);
/*
 * Runs the request until no command of its own is PENDING (replies to
 * another request in flight that arrive meanwhile go to it).  SL_OK: every command is
 * DONE or FAILED (a failed node fails only its own commands).
 * SL_ETIMEOUT: the deadline passed; the commands left are FAILED and
 * the nodes that owed replies are closed (e says so).  SL_ENOMEM.
 */
enum sl_err sl_exec(struct sl_request *q, struct sl_error *e);
/* The queued commands go out as far as each connected node's socket takes
 * them, without waiting: Redis works on them while the caller does
 * something else, then sl_exec reads the replies (and writes the rest). */
void	sl_exec_send(struct sl_request *q);
/* Why command idx FAILED (its node's error), or NULL. */
const struct sl_error *sl_request_error(const struct sl_request *q,
	    size_t idx);
/* The node of command idx. */
struct sl_node *sl_request_node(const struct sl_request *q, size_t idx);

#endif
