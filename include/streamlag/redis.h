/* SPDX-License-Identifier: ISC */
/* The Redis target of one process: a standalone Redis or a Redis Cluster,
 * over the multi-node executor (exec.h; one persistent non-blocking
 * connection per node), and the pipelines that use it.  Standalone is a
 * cluster of one node.  In a cluster each command goes to the master of its
 * key's hash slot (slotmap.h, from CLUSTER SLOTS); MOVED and ASK are
 * followed within the request.  Commands without a key (INFO, TIME) go to
 * one node; SCAN goes to every master (sl_redis_scan). */
#ifndef STREAMLAG_REDIS_H
#define STREAMLAG_REDIS_H

#include <stddef.h>
#include <hiredis/hiredis.h>

#include "streamlag/config.h"
#include "streamlag/err.h"
#include "streamlag/node.h"
#include "streamlag/lag.h"
#include "streamlag/discache.h"
#include "streamlag/lagcache.h"
#include "streamlag/reply.h"
#include "streamlag/shared.h"
#include "streamlag/slotmap.h"

struct sl_exec;
struct sl_preq;

#define SL_REDIS_BACKOFF_MS	1000	/* fail fast this long after a timeout */
#define SL_REDIS_REDIRECTS	5	/* MOVED or ASK followed per command */
#define SL_REQUEST_TIMEOUT_MS	10000	/* STREAMLAG_REQUEST_TIMEOUT_MS default */
#define SL_SCAN_ERRORS		16	/* unreachable masters named */
#define SL_REDIS_REPLICAS_SHOWN	16	/* replicas whose lag is reported */

/* Whether a connection asks the configured group's consumers in batch 1
 * of an all-groups query (sl_lag_query's hint). */
enum sl_hint {
	SL_HINT_ON,		/* it does */
	SL_HINT_MISSING,	/* the last chunk found the group in under 9
				 * of 10 streams */
	SL_HINT_REFUSED		/* the ACL refused it: never again */
};

/* A replica of the master in use, as last seen (Sentinel). */
struct sl_redis_replica {
	char		 node[SL_NODE_NAME_MAX];	/* "host:port" */
	int		 up;
	long long	 lag;	/* replication offset bytes behind the
				   master; -1 when not up */
};

struct sl_redis {
	const struct sl_redis_addr *addr;
	int		 timeout_ms;	/* connect, and each reply */
	int		 request_timeout_ms;	/* a whole request */
	long long	 deadline;	/* sl_mono_ms() end of the request begun by
					   sl_redis_begin; 0: each call its own */
	unsigned long	*rt_mark;	/* each node's round trips at the mark */
	size_t		 nrt_mark;
	int		 mode;		/* enum sl_redis_mode */
	struct sl_exec	*x;		/* owned: NULL until the first use */
	int		 cluster;	/* -1 not known yet, 0, 1 */
	int		 cluster_db;	/* a cluster with a database not 0 */
	int		 readonly;	/* READONLY in every handshake: a
					   cluster read from its replicas */
	struct sl_slotmap map;		/* cluster: the slots' masters */
	int		 map_stale;	/* read CLUSTER SLOTS again */
	size_t		*mapx;		/* exec node of each map node */
	size_t		 nmapx;
	unsigned long	 mapx_version;
	size_t		 home;		/* the node for INFO, TIME */
	unsigned long	 connects;	/* successful connects, for logs and metrics */
	unsigned long	 errors;	/* connection-level errors */
	unsigned long	 moved, asked;	/* redirects followed */
	unsigned long	 failures;	/* commands whose node failed; the
					   caller resets it per request */
	/* The masters the last discovery could not reach ("redis h:p:
	 * why"), the others' streams being answered. */
	char		 scan_err[SL_SCAN_ERRORS][SL_NODE_NAME_MAX + 64];
	const char	*scan_errp[SL_SCAN_ERRORS];
	size_t		 nscan_err;
	signed char	*node_up;	/* per executor node: 1, 0, -1 */
	const char	**node_name;	/* the nodes' names (theirs) */
	size_t		 nnode_up;
	unsigned long	 seen_connects, seen_errors;	/* the nodes' totals */
	unsigned long long seen_bytes;			/* at the last look */
	struct sl_counters *counters;	/* shared totals, or NULL */
	const char	*target;	/* its name, in the shared caches' keys;
					   NULL: keyed by stream alone */
	struct sl_lagcache *lagcache;	/* shared by the workers, or NULL */
	struct sl_discache *discache;	/* shared by the workers, or NULL */
	long long	 discovery_ttl_ms;	/* STREAMLAG_DISCOVERY_TTL_MS */
	struct sl_reply_meter meter;	/* reply bytes read on every node */
	int		 server_known;	/* INFO server read */
	int		 hint_off;	/* enum sl_hint: whether batch 1 asks
					 * the hint group's consumers
					 * (sl_lag_query) */
	struct sl_server server;
	char		 errstr[256];	/* last connection-level error: the words
					   of Redis or of the system */
	char		 errwhat[16];	/* the step that failed: connect, AUTH,
					   SELECT, pipeline... */
	char		 errnode[SL_NODE_NAME_MAX];	/* where it failed */
	/* Sentinel (redis_sentinel.c): r->home is the node read. */
	struct sl_exec	*sx;		/* owned: the sentinels */
	size_t		 sentinel_next;	/* the sentinel asked first */
	int		 home_ok;	/* r->home known and its role held */
	int		 home_role;	/* enum sl_role_kind of r->home */
	int		 fell_back;	/* prefer-replica: no replica was up */
	long long	 role_checked;	/* sl_mono_ms() of the last check */
	unsigned long	 rediscoveries;	/* the sentinels asked, successfully */
	char		 master[SL_NODE_NAME_MAX];	/* the sentinels' */
	struct sl_redis_replica replicas[SL_REDIS_REPLICAS_SHOWN];
	const char	*replica_name[SL_REDIS_REPLICAS_SHOWN];	/* theirs */
	long long	 replica_lagv[SL_REDIS_REPLICAS_SHOWN];
	size_t		 nreplicas;
	const char	**node_role;	/* per executor node: "master",
					   "replica" (Sentinel), or NULL */
};

void	sl_redis_init(struct sl_redis *r, const struct sl_redis_addr *addr,
	    int timeout_ms);
/* Connects to a seed and learns the mode (and the slot map of a cluster)
 * when not known yet.  SL_OK, or SL_EREDIS with r->errstr, r->errwhat set
 * (the node logged event=redis_error with its address and the words of
 * Redis or of the system); r->cluster_db when the target is a cluster and
 * the URL names a database other than 0. */
enum sl_err sl_redis_ensure(struct sl_redis *r);
/* Sentinel: finds the master (and the replica read, per
 * STREAMLAG_READ_FROM) when not known, or when its ROLE is due for a
 * check.  Called by sl_redis_ensure.  SL_OK, SL_EREDIS, SL_ENOMEM. */
enum sl_err sl_redis_sentinel_ensure(struct sl_redis *r);
void	sl_redis_sentinel_close(struct sl_redis *r);
/* "master", "replica", "prefer-replica". */
const char *sl_read_from_name(int read_from);
/* One command on executor node `node`: its reply in *out (an error reply
 * too).  SL_OK, or SL_EREDIS with the failure noted; SL_ENOMEM. */
enum sl_err sl_redis_run_one(struct sl_redis *r, size_t node, int argc,
	    const char **argv, redisReply **out);
/* Closes every connection and forgets the nodes. */
void	sl_redis_close(struct sl_redis *r);
/* The executor's wrap hook (exec.h) for rediss:// and rediss-sentinel://:
 * arg is the target's struct sl_tls_ctx (sl_redis_addr.tls_ctx), host the
 * name checked against the certificate unless the context has a server
 * name.  Set it on every executor of such a target: the nodes' and the
 * sentinels'. */
enum sl_io sl_redis_tls_wrap(struct sl_transport *t, const char *host,
	    void *arg);
/* One request (an HTTP request: discovery, collection and follow-up
 * batches) begins: everything it sends to Redis until sl_redis_end shares
 * one deadline, request_timeout_ms from now.  Outside of one, each call
 * (a discovery, a collection) has request_timeout_ms of its own. */
void	sl_redis_begin(struct sl_redis *r);
void	sl_redis_end(struct sl_redis *r);
/* Round trips for the request log: sl_redis_trips_mark notes each node's
 * total; sl_redis_trips gives those made since, over every node (their
 * sum returned) and per node into buf: "10.0.0.1:6379=2,10.0.0.2:6379=1"
 * (nodes with none left out; "" when none). */
void	sl_redis_trips_mark(struct sl_redis *r);
unsigned long sl_redis_trips(const struct sl_redis *r, char *buf, size_t len);
/* The deadline of the next call: the request's, or request_timeout_ms from
 * now outside of one. */
long long sl_redis_deadline(const struct sl_redis *r);
/* 1 (r->errstr set) when the request's deadline has passed already: what
 * is left is not sent, so that no node is failed (and backed off) for a
 * deadline spent elsewhere. */
int	sl_redis_late(struct sl_redis *r);
/* "127.0.0.1:6379", "[::1]:6379" or "unix:/path": where, never who. */
const char *sl_redis_where(const struct sl_redis_addr *a, char *buf,
	    size_t len);
/* The last failure as `streamlag get` prints it and `serve` logs it:
 * "redis 127.0.0.1:6379: WRONGPASS invalid username-password pair". */
const char *sl_redis_cause(const struct sl_redis *r, char *buf, size_t len);

/*
 * SCAN 0 MATCH pattern COUNT 1000 TYPE stream on every master at once,
 * each node's cursor advancing in its own round trips, until every cursor
 * is back to 0 or more than max names are held.  The names are appended
 * to *names (unsorted, perhaps repeated); *more when a cursor was left.
 * SL_OK; in a cluster, masters that failed while others answered are
 * named in r->scan_errp (r->nscan_err), their streams missing.  SL_EREDIS
 * when every master failed or answered what is not a SCAN reply
 * (r->errstr); SL_ENOMEM.
 */
enum sl_err sl_redis_scan(struct sl_redis *r, const char *pattern,
	    long long max, char ***names, size_t *n, size_t *cap, int *more,
	    unsigned *round_trips);

/*
 * A pipeline: commands are formatted when added, each with the node its
 * key's slot names, and sent together (every node at once).  replies[i]
 * answers command i (REDIS_REPLY_ERROR replies included); the pipeline
 * owns them.  In a cluster, a command whose node failed gets an error
 * reply naming the node ("redis 127.0.0.1:7001: Connection refused").
 */
struct sl_pipeline {
	struct sl_redis	*r;
	char		**cmds;		/* RESP-formatted commands, until sent */
	size_t		*cmdlens;
	int		*slots;		/* the key's hash slot, or -1 */
	size_t		 n, cap;
	redisReply	**replies;
	unsigned char	*failed;	/* no reply: the node failed */
	size_t		 sent;		/* commands already sent */
	size_t		 next;		/* the next reply handed to on_reply */
	struct sl_preq	*req;		/* from the first sl_pipeline_exec */
	size_t		 ok;		/* replies from a node */
	/* When set, each reply is handed to on_reply in command order (the
	 * callee owns it) instead of being kept in replies[]. */
	void		(*on_reply)(void *arg, size_t idx, redisReply *r);
	void		*arg;
	unsigned	 round_trips;	/* 1 per node per batch */
	int		 early;		/* sl_pipeline_send sent this batch */
	size_t		 sent_from;	/* its first command */
};

void	sl_pipeline_init(struct sl_pipeline *p, struct sl_redis *r);
/* SL_OK or SL_ENOMEM. */
enum sl_err sl_pipeline_add(struct sl_pipeline *p, int argc, const char **argv,
	    const size_t *argvlen);
/* A command for one node (TIME of each master): node as sl_redis_masters
 * gives it.  SL_OK or SL_ENOMEM. */
enum sl_err sl_pipeline_add_node(struct sl_pipeline *p, size_t node, int argc,
	    const char **argv, const size_t *argvlen);
/* The nodes INFO, TIME and SCAN go to: every master of a cluster, or the
 * one node; at most max into out.  Their number (0 before the first
 * sl_redis_ensure). */
size_t	sl_redis_masters(struct sl_redis *r, size_t *out, size_t max);
/* The executor node that reads slot map node m (a master): m's own, or
 * with STREAMLAG_READ_FROM replica / prefer-replica one of its replicas
 * (r->mapx made; see redis.c). */
size_t	sl_redis_read_node(const struct sl_redis *r, size_t m);
/* The node a key's commands go to now (SIZE_MAX when not known). */
size_t	sl_redis_key_node(const struct sl_redis *r, const char *key,
	    size_t len);
/* Sends every command not yet sent.  SL_OK; SL_EREDIS when no node
 * answered (standalone: the node failed; r->errstr set); SL_ENOMEM. */
enum sl_err sl_pipeline_exec(struct sl_pipeline *p);
/* The commands added so far go out now, as far as the sockets take them,
 * and Redis works on them while the caller does something else; the next
 * sl_pipeline_exec (which must follow, adding nothing before it) reads the
 * replies.  SL_OK, or what sl_pipeline_exec would have said before sending
 * (nothing is then on the wire). */
enum sl_err sl_pipeline_send(struct sl_pipeline *p);
void	sl_pipeline_release(struct sl_pipeline *p, size_t from, size_t to);
void	sl_pipeline_free(struct sl_pipeline *p);

/* Sentinel: node i's state as discovery saw it, with its role; not
 * counted as a failure of the request. */
void	sl_redis_set_node(struct sl_redis *r, size_t i, int up,
	    const char *role);
/* Node n (of r's executor) answered (up) or failed: for
 * streamlag_redis_node_up; a failure in a cluster also has the slot map
 * read again at the next request (a failover may have moved its slots). */
void	sl_redis_mark(struct sl_redis *r, const struct sl_node *n, int up);

/* The executor's node of every slot map node (r->mapx), made again when
 * the map changed.  SL_OK or SL_ENOMEM. */
enum sl_err sl_redis_map_nodes(struct sl_redis *r);

/* The key of a command (argv[2] of XINFO, argv[1] of XRANGE, XPENDING...),
 * or -1 for those without one (INFO, TIME, SCAN, PING).  Pure. */
int	sl_command_key(int argc, const char **argv, const size_t *argvlen);

#endif
