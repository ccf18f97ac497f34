/* SPDX-License-Identifier: ISC */
/* `streamlag check`: a setup diagnosed step by step, each step one result
 * with Redis's own words on failure.  The run does I/O; parsing INFO,
 * naming the ACL rule a NOPERM asks for, and writing the results as text
 * or JSON are pure, for the unit tests. */
#ifndef STREAMLAG_CHECK_H
#define STREAMLAG_CHECK_H

#include <stddef.h>

#include "streamlag/config.h"
#include "streamlag/transport.h"

enum sl_check_state { SL_CHECK_OK, SL_CHECK_FAIL, SL_CHECK_SKIP };

struct sl_check_item {
	char		*step;		/* stable id: config, sentinel, master,
					   replica, read, dns, connect, tls,
					   auth, select, server, mode, command,
					   stream, jwt, listen */
	char		*title;		/* "AUTH", "command XPENDING", ... */
	enum sl_check_state state;
	char		*detail;	/* what was found, or Redis's words */
	char		*fix;		/* what to change, or NULL */
};

struct sl_checks {
	struct sl_check_item *items;
	size_t		 n, cap;
	size_t		 failed;
	int		 oom;
};

/* Appends one result (strings copied; detail and fix may be NULL). */
void	sl_checks_add(struct sl_checks *c, const char *step, const char *title,
	    enum sl_check_state state, const char *detail, const char *fix);
/* The same with a formatted detail. */
void	sl_checks_addf(struct sl_checks *c, const char *step, const char *title,
	    enum sl_check_state state, const char *fix, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
void	sl_checks_free(struct sl_checks *c);

/*
 * Runs every step.  cfg NULL means the configuration did not load:
 * config_err says why and nothing else runs.  `source` names where the
 * configuration came from.  Returns 0 when nothing failed, else 1.
 */
int	sl_check_run(const struct sl_config *cfg, const char *source,
	    const char *config_err, struct sl_checks *out);

/* The parts of the run, in their order: the Redis steps (check_redis.c),
 * then the JWT key and the listen socket (check_host.c). */
void	sl_check_redis(const struct sl_config *cfg, struct sl_checks *out);
/* REDIS_URL=redis-sentinel:// (check_sentinel.c): each sentinel, the master
 * they agree on, its replicas; the node STREAMLAG_READ_FROM reads into
 * *node (host sl_malloc'd).  0, or -1 when there is none to read. */
struct sl_hostport;
int	sl_check_sentinel(const struct sl_config *cfg, struct sl_checks *out,
	    struct sl_hostport *node);
void	sl_check_jwt(const struct sl_config *cfg, struct sl_checks *out);
void	sl_check_listen(const struct sl_config *cfg, struct sl_checks *out);

/* Text: one line per step, "✔ title: detail", "✘ title: detail — fix",
 * then a summary line.  JSON: {"ok", "passed", "failed", "checks": [...]}.
 * malloc'd, NULL when out of memory. */
char	*sl_checks_text(const struct sl_checks *c, int color);
char	*sl_checks_json(const struct sl_checks *c);

/* The value of `field` in an INFO reply ("field:value" lines) into out;
 * 0, or -1 when absent. */
int	sl_info_field(const char *info, const char *field, char *out,
	    size_t outlen);
/* "Redis 7.0.15", or "Valkey 8.0.1 (redis_version 7.2.4)": Valkey reports
 * both, and is told by valkey_version.  The mode (standalone, cluster,
 * sentinel) into mode.  0, or -1 when INFO names no version. */
int	sl_server_describe(const char *info, char *server, size_t slen,
	    char *mode, size_t mlen);
/* The ACL rule a NOPERM error asks for: "+xpending", "+xinfo|groups" for a
 * command; for a key, a read pattern covering `key` ("%R~events:*").
 * 0, or -1 when `err` is not a NOPERM error. */
int	sl_acl_rule_for(const char *err, const char *key, char *rule,
	    size_t len);

/* The check's own connection over rediss:// (check_tls.c): commands wait
 * up to STREAMLAG_REDIS_TIMEOUT_MS each. */
struct sl_check_conn {
	struct sl_transport	 t;
	struct redisReader	*reader;
	int			 timeout_ms;
	char			 err[256];	/* why the connection failed */
};
/* Connects and shakes hands, adding the "connect" and "tls" lines (the
 * TLS line: protocol, cipher, certificate subject, serial and expiry, the
 * name verified).  0; -1 when the connect failed, -2 the handshake (the
 * reason in tls.h's words).  sl_check_tls_close in every case. */
int	sl_check_tls_open(struct sl_check_conn *cc, const struct sl_config *cfg,
	    struct sl_checks *out, const char *where);
/* One command: its reply (the caller frees it), or NULL with cc->err. */
struct redisReply *sl_check_tls_command(struct sl_check_conn *cc, int argc,
	    const char **argv);
void	sl_check_tls_close(struct sl_check_conn *cc);
struct redisContext;
struct sl_slotmap;
/*
 * The cluster steps (check_cluster.c), on a node that said
 * cluster_enabled:1 (seed: the check's connection to it, authenticated):
 * the slot map from CLUSTER SLOTS, then every node probed on a connection
 * of its own, with its role, its slot ranges and whether it answered.
 * 0 when the streams can be read next (a node down included), 1 when
 * there is no slot map to read them with.
 */
int	sl_check_cluster(const struct sl_config *cfg, struct redisContext *seed,
	    struct sl_checks *out);
/* The slots node serves as ranges, "0-5460,10923" (cut with "…" when len
 * is too short); their number.  Pure. */
size_t	sl_check_slot_ranges(const struct sl_slotmap *m, int node, char *buf,
	    size_t len);

#endif
