/* SPDX-License-Identifier: ISC */
/*
 * Redis Sentinel: the redis-sentinel:// URL (sentinel.c), the replies of
 * SENTINEL get-master-addr-by-name, SENTINEL replicas, ROLE and INFO
 * replication as plain structs (sentinel_reply.c), and discovery over a
 * caller's command callback (sentinel_discover.c), so that the same logic
 * runs over the executor (sentinel_exec.c), a blocking test program or a
 * fake.
 *
 * Ownership: every struct here owns its strings (sl_malloc'd) and is freed
 * by its _free function, which also zeroes it (a second call is harmless).
 * Parsers borrow the redisReply; the caller frees it (sl_reply_free).
 */
#ifndef STREAMLAG_SENTINEL_H
#define STREAMLAG_SENTINEL_H

#include <stddef.h>
#include <hiredis/hiredis.h>

#include "streamlag/err.h"

#define SL_SENTINEL_PORT	26379
#define SL_SENTINEL_MAX		16	/* sentinels in one URL */
#define SL_SENTINEL_NAME_MAX	255	/* bytes of a master name */
#define SL_SENTINEL_REPLICAS_MAX 1000	/* replicas of one master */

struct sl_hostport {
	char	*host;		/* an IPv6 address without brackets */
	int	 port;
};

/* redis-sentinel://[user:pass@]s1[:port],s2[:port]/MASTER_NAME[/db], and
 * rediss-sentinel:// for TLS (to the sentinels and to the nodes). */
struct sl_sentinel_url {
	struct sl_hostport sentinels[SL_SENTINEL_MAX];
	size_t	 nsentinels;
	char	*master_name;
	int	 db;		/* SELECT on the master and replicas; 0 = none */
	char	*user;		/* Redis ACL user (master, replicas), or NULL */
	char	*password;	/* Redis password, or NULL; never logged */
	int	 tls;		/* rediss-sentinel:// */
	/* Sentinel auth, apart from Redis auth: STREAMLAG_SENTINEL_USERNAME
	 * and _PASSWORD, set by the configuration (never by the URL). */
	char	*sentinel_user;
	char	*sentinel_password;
};

/* SL_OK, SL_EINPUT (e says, in one line naming REDIS_URL, what is
 * accepted) or SL_ENOMEM.  On failure u holds nothing. */
enum sl_err	sl_sentinel_url_parse(const char *url, struct sl_sentinel_url *u,
		    struct sl_error *e);
void		sl_sentinel_url_free(struct sl_sentinel_url *u);
/* "host:port" or "[v6]:port" into buf (truncated to len). */
const char	*sl_hostport_fmt(const struct sl_hostport *h, char *buf,
		    size_t len);
void		sl_hostport_free(struct sl_hostport *h);

/*
 * Replies.  Each parser gives SL_OK, SL_EPROTO (e names the command and
 * what was wrong), SL_EREDIS for an error reply (e holds its text) or
 * SL_ENOMEM.  Numbers may come as integers or as strings.
 */

/* SENTINEL get-master-addr-by-name: *known is 0 for nil (a name the
 * sentinel does not monitor), else 1 and addr is filled. */
enum sl_err	sl_parse_master_addr(const redisReply *r,
		    struct sl_hostport *addr, int *known, struct sl_error *e);

enum sl_role_kind {
	SL_ROLE_MASTER,
	SL_ROLE_REPLICA,
	SL_ROLE_SENTINEL
};

struct sl_role_replica {
	struct sl_hostport addr;
	long long	 offset;	/* acknowledged to the master */
};

struct sl_role {
	enum sl_role_kind kind;
	long long	 offset;	/* master: master_repl_offset;
					 * replica: its replication offset;
					 * sentinel: -1 */
	/* master: its connected replicas */
	struct sl_role_replica *replicas;
	size_t		 nreplicas;
	/* replica: its master and the link's state ("connected"...) */
	struct sl_hostport master;
	char		*state;
	/* sentinel: the masters it monitors */
	char		**names;
	size_t		 nnames;
};

enum sl_err	sl_parse_role(const redisReply *r, struct sl_role *role,
		    struct sl_error *e);
void		sl_role_free(struct sl_role *role);
const char	*sl_role_name(enum sl_role_kind kind);

/* One entry of SENTINEL replicas MASTER_NAME, by field name. */
struct sl_sentinel_replica {
	struct sl_hostport addr;	/* ip, port */
	char		*flags;		/* "slave", "slave,s_down"... */
	int		 down;		/* flags hold s_down, o_down or
					 * disconnected */
	int		 link_ok;	/* master-link-status is "ok" */
	long long	 offset;	/* slave-repl-offset (as the sentinel
					 * last saw it; up to 10 s old) */
};

/* At most SL_SENTINEL_REPLICAS_MAX entries; *v is sl_malloc'd. */
enum sl_err	sl_parse_sentinel_replicas(const redisReply *r,
		    struct sl_sentinel_replica **v, size_t *n,
		    struct sl_error *e);
void		sl_sentinel_replicas_free(struct sl_sentinel_replica *v,
		    size_t n);

/* INFO replication: role, master_repl_offset, slave_repl_offset (-1 when
 * absent, as on a master) and master_link_status (-1 when absent). */
struct sl_repl_info {
	enum sl_role_kind kind;
	long long	 master_repl_offset;
	long long	 slave_repl_offset;
	int		 link_up;
};

enum sl_err	sl_parse_info_replication(const redisReply *r,
		    struct sl_repl_info *info, struct sl_error *e);

/*
 * Discovery.  The caller runs one command on one address and hands back
 * the reply (which discovery then owns and frees), or fails with e set
 * (SL_EREDIS: connection refused, reset...; SL_ETIMEOUT).  to_sentinel
 * tells which credentials to send: the sentinel's or Redis's.
 */
typedef enum sl_err (*sl_sentinel_cmd_fn)(void *ctx,
		    const struct sl_hostport *addr, int to_sentinel, int argc,
		    const char **argv, redisReply **reply, struct sl_error *e);

/* Why one sentinel gave no usable master. */
struct sl_sentinel_attempt {
	size_t		 sentinel;	/* index in the URL */
	enum sl_err	 code;
	char		 why[SL_ERRSTR_MAX];
};

struct sl_discovery {
	struct sl_hostport master;	/* owned */
	long long	 master_offset;	/* from the confirming ROLE */
	size_t		 answered;	/* the sentinel whose answer held */
	struct sl_sentinel_attempt failed[SL_SENTINEL_MAX];
	size_t		 nfailed;	/* in the order they were asked */
};

/*
 * Asks the sentinels in turn, from index first (wrapping; the caller
 * passes the one that answered last time, as the Sentinel client
 * guidelines advise): SENTINEL get-master-addr-by-name, then ROLE on that
 * address.  A sentinel that cannot be reached, errs, does not know the
 * name or names an address whose ROLE is not master (or cannot be asked)
 * is recorded in d->failed and the next one is asked.  SL_OK with d
 * filled; SL_EREDIS when none gave a confirmed master (e lists the
 * reasons as far as SL_ERRSTR_MAX allows, d->failed has each one whole);
 * SL_EINPUT for a URL without sentinels; SL_ENOMEM (d then holds
 * nothing).  Call sl_discovery_free(d) after any outcome.
 */
enum sl_err	sl_sentinel_discover(const struct sl_sentinel_url *u,
		    size_t first, sl_sentinel_cmd_fn fn, void *ctx,
		    struct sl_discovery *d, struct sl_error *e);
void		sl_discovery_free(struct sl_discovery *d);

/* A replica as seen now: the sentinel's entry, then its own ROLE. */
struct sl_replica {
	struct sl_hostport addr;
	char		*flags;		/* the sentinel's */
	int		 up;		/* ROLE answered, a replica of the
					 * master, link "connected" */
	long long	 offset;	/* its ROLE offset; -1 when not up */
	long long	 lag;		/* master_offset - offset, >= 0;
					 * -1 when not up */
	char		 why[SL_ERRSTR_MAX];	/* when not up */
};

struct sl_replica_list {
	struct sl_replica *v;		/* owned */
	size_t		 n;
	long long	 master_offset;	/* ROLE on the master, read last */
};

/*
 * SENTINEL replicas MASTER_NAME on sentinel s, then ROLE on each replica
 * that the sentinel does not flag down, then ROLE on the master last: so
 * each lag is never less than the replica's true lag when it was asked.
 * A replica that fails is kept, with up 0 and why.  SL_OK; SL_EREDIS or
 * SL_EPROTO when the sentinel or the master failed (e says which);
 * SL_ENOMEM.
 */
enum sl_err	sl_sentinel_replicas(const struct sl_sentinel_url *u,
		    size_t s, const struct sl_hostport *master,
		    sl_sentinel_cmd_fn fn, void *ctx,
		    struct sl_replica_list *l, struct sl_error *e);
void		sl_replica_list_free(struct sl_replica_list *l);

/*
 * The command callback over the executor (exec.h, sentinel_exec.c): the
 * sentinels on one executor (made with the sentinel credentials), the
 * master and replicas on another (Redis's), one deadline for the whole
 * discovery, so that a failover gives a fast error and never a hang.  A
 * node's failure comes back with its own error text.  Pass a struct
 * sl_sentinel_exec as ctx.
 */
struct sl_exec;

#define SL_SENTINEL_ARGV_MAX	8	/* arguments of one command */

struct sl_sentinel_exec {
	struct sl_exec	*sentinels;	/* borrowed */
	struct sl_exec	*nodes;		/* borrowed */
	long long	 deadline;	/* sl_mono_ms() time */
};

enum sl_err	sl_sentinel_exec_cmd(void *ctx, const struct sl_hostport *addr,
		    int to_sentinel, int argc, const char **argv,
		    redisReply **reply, struct sl_error *e);

#endif
