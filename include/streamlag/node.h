/* SPDX-License-Identifier: ISC */
/*
 * One Redis node of a worker: a persistent connection (transport.h), the
 * hiredis reader that parses its replies (made by reply.c: long names
 * shortened, bytes counted), the commands of the current request queued for
 * it, its handshake (AUTH, SELECT) sent first on every new connection, and
 * its own back-off.  Driven by the executor (exec.h): a node never blocks.
 */
#ifndef STREAMLAG_NODE_H
#define STREAMLAG_NODE_H

#include <stddef.h>
#include <hiredis/hiredis.h>

#include "streamlag/err.h"
#include "streamlag/reply.h"
#include "streamlag/transport.h"

#define SL_NODE_BACKOFF_MS	1000	/* fail fast this long after a timeout */
#define SL_NODE_OBUF		65536	/* bytes copied out per write batch */
#define SL_NODE_RBUF		16384	/* bytes read per read(2) */
#define SL_NODE_READS		8	/* reads per wake-up: fair to other nodes */
#define SL_NODE_NAME_MAX	300
#define SL_NODE_ASKING		((size_t)-1)	/* queue entry: ASKING */

/* CLOCK_MONOTONIC in milliseconds: deadlines and back-offs. */
long long sl_mono_ms(void);

/* Sent first on every connection; the strings are the caller's and must
 * outlive the node (they come from the configuration). */
struct sl_node_auth {
	const char	*user;		/* ACL user, or NULL */
	const char	*password;	/* NULL: no AUTH */
	int		 db;		/* 0: no SELECT */
	int		 readonly;	/* READONLY: a cluster replica read */
};

enum sl_node_state {
	SL_NODE_DOWN,		/* no connection */
	SL_NODE_CONNECTING,	/* connect(2) in progress */
	SL_NODE_HANDSHAKE,	/* the transport's handshake (TLS) */
	SL_NODE_READY
};

struct sl_node_entry {
	const char	*buf;	/* RESP; the request's (or static) */
	size_t		 len;
	size_t		 idx;	/* command index, or SL_NODE_ASKING */
	void		*ctx;	/* its request: whom the reply goes to */
};

/* Puts a secure layer on a connected socket (TLS: t->ops and t->impl
 * become its own; the handshake runs next through t->ops->handshake).
 * SL_IO_OK, or SL_IO_ERR with t->err set.  host is the node's (for SNI
 * and the certificate check); NULL for a unix socket. */
typedef enum sl_io (*sl_node_wrap_fn)(struct sl_transport *t,
	    const char *host, void *arg);

/* Called with each reply to a queued command as it is parsed; the callee
 * owns r. */
typedef void	(*sl_node_deliver_fn)(void *ctx, size_t idx, redisReply *r);

struct sl_node {
	char		*host;		/* owned; NULL for a unix socket */
	int		 port;
	char		*path;		/* owned unix socket path, or NULL */
	char		 name[SL_NODE_NAME_MAX];  /* "h:p", "[v6]:p", "unix:/p" */
	int		 timeout_ms;	/* connect, and each reply */
	sl_node_wrap_fn	 wrap;		/* NULL: plain */
	void		*wrap_arg;
	struct sl_transport t;
	enum sl_node_state state;
	enum sl_io	 rwant, wwant;	/* what the last read, write waits for */
	int		 more;		/* reads stopped at SL_NODE_READS with
					   bytes perhaps left where poll cannot
					   see them (TLS buffers): read again
					   before sleeping */
	redisReader	*reader;	/* NULL when DOWN */
	struct sl_reply_meter meter;	/* reply bytes, over all connections */
	char		*setup;		/* AUTH, SELECT in RESP; owned */
	size_t		 setuplen;
	unsigned	 nsetup;	/* their number */
	int		 auth_first;	/* the first of them is AUTH */
	int		 readonly_last;	/* the last of them is READONLY */
	size_t		 setupoff;	/* of setup written on this connection */
	unsigned	 setupleft;	/* their replies still to come */
	char		*obuf;		/* SL_NODE_OBUF bytes, owned */
	size_t		 olen, ooff;	/* filled, written */
	/* The queue of the current request: written up to wpos (woff bytes
	 * of entry wpos copied to obuf), answered up to rpos. */
	struct sl_node_entry *q;
	size_t		 qn, qcap, wpos, woff, rpos;
	int		 wclosed;	/* a write failed: the replies owed
					   that came are read, then it fails
					   with wwhy */
	char		 wwhy[SL_ERRSTR_MAX];
	long long	 mark;		/* ms of the last progress */
	long long	 retry_after;	/* ms; fail fast before it */
	/* For the current request. */
	int		 reused;	/* the connection is from an earlier one */
	int		 retried;	/* a stale one was replaced */
	int		 failed;	/* failed: no second attempt */
	unsigned long	 got;		/* replies */
	/* Totals over the life of the node. */
	unsigned long	 connects, errors, timeouts, commands, replies,
			 round_trips;
	struct sl_error	 err;		/* why it last failed */
	char		 errwhat[16];	/* in which step: connect, AUTH... */
};

/* host:port (host may be an IPv6 address) or, when path is not NULL, a
 * unix socket.  Nothing is connected yet. */
enum sl_err sl_node_init(struct sl_node *n, const char *host, int port,
	    const char *path, const struct sl_node_auth *auth, int timeout_ms,
	    struct sl_error *e);
void	sl_node_free(struct sl_node *n);
void	sl_node_close(struct sl_node *n);

/* A new request: the queue emptied, the per-request state reset. */
void	sl_node_begin(struct sl_node *n);
/* Request ctx ends while another still has commands queued on n: ctx's
 * entries leave the queue.  When one of them was still owed a reply the
 * connection is out of step and is closed (the other request's commands
 * are written again on the next one). */
void	sl_node_forget(struct sl_node *n, const void *ctx);
/* Queues one command (or ASKING) of request ctx.  A new round trip when
 * the node had no work left.  SL_OK or SL_ENOMEM. */
enum sl_err sl_node_push(struct sl_node *n, const char *buf, size_t len,
	    size_t idx, void *ctx);
/* Commands queued and not answered yet. */
int	sl_node_busy(const struct sl_node *n);
/* Starts the connection when DOWN: SL_OK, or the failure (n->err), which
 * is immediate during a back-off and once the node failed this request. */
enum sl_err sl_node_start(struct sl_node *n, long long now);
/* What to poll n->t.fd for (0 when nothing). */
short	sl_node_events(const struct sl_node *n);
/* Progress after poll: connect, handshake, write, read and deliver.
 * SL_OK, or the node failed (n->err, the connection closed): its
 * unanswered commands are then the caller's to fail (sl_node_drop). */
enum sl_err sl_node_io(struct sl_node *n, sl_node_deliver_fn fn);
/* A connected node writes what its socket takes now, and reads nothing:
 * the replies wait for sl_node_io.  SL_OK, or the node's failure. */
enum sl_err sl_node_send(struct sl_node *n);
/* Milliseconds until n times out (≤ 0: it has; n then fails with
 * SL_ETIMEOUT when sl_node_expire is called). */
long long sl_node_ms_left(const struct sl_node *n, long long now);
enum sl_err sl_node_expire(struct sl_node *n);
/* Fails n with code and text (logged, counted, closed; a timeout starts
 * the back-off).  Returns code. */
enum sl_err sl_node_fail(struct sl_node *n, enum sl_err code,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Calls fn(ctx, idx, NULL) for every unanswered command (ctx: its
 * request's), then empties the queue. */
void	sl_node_drop(struct sl_node *n, sl_node_deliver_fn fn);

#endif
