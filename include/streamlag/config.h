/* SPDX-License-Identifier: ISC */
/* Configuration: environment, an optional KEY=VALUE file and flags, validated
 * once into one struct.  Nothing else in streamlag reads the environment. */
#ifndef STREAMLAG_CONFIG_H
#define STREAMLAG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define SL_MAX_STREAMS      10000   /* entries in STREAMLAG_STREAMS */
#define SL_NAME_MAX         4096    /* bytes in one stream or group name */
#define SL_JWT_SECRET_MIN   32      /* bytes in an HS key */
#define SL_JWT_LEEWAY_MAX   60      /* seconds */
#define SL_TARGETS_MAX      32      /* names in STREAMLAG_TARGETS */
#define SL_TARGET_NAME_MAX  32      /* bytes in one target name */

/* SL_REDIS_SENTINEL: redis-sentinel:// (sentinel.h); host:port is then the
 * first sentinel's, for messages. */
enum sl_redis_kind { SL_REDIS_TCP, SL_REDIS_UNIX, SL_REDIS_SENTINEL };

struct sl_sentinel_url;

/* STREAMLAG_READ_FROM */
enum sl_read_from { SL_READ_MASTER, SL_READ_REPLICA, SL_READ_PREFER_REPLICA };

struct evp_pkey_st;	/* OpenSSL's EVP_PKEY */
struct sl_tls_ctx;	/* tls.h */

struct sl_redis_addr {
	enum sl_redis_kind kind;
	char	*host;		/* TCP host, or NULL */
	int	 port;		/* TCP port */
	char	*path;		/* unix socket path, or NULL */
	char	*user;		/* ACL user, or NULL */
	char	*password;	/* never logged; NULL when none */
	int	 db;		/* SELECT index, 0 = none sent */
	int	 tls;		/* rediss:// */
	/* With tls: the context every node's connection starts from, built
	 * by the configuration from STREAMLAG_REDIS_TLS_* (a reload builds a
	 * new one, re-reading the files); owned. */
	struct sl_tls_ctx *tls_ctx;
	/* Every TCP seed node, the first being host:port (several in
	 * redis://h1:p1,h2:p2); owned.  0 for a unix socket. */
	struct sl_seed	*seeds;
	size_t	 nseeds;
	/* Sentinel (SL_REDIS_SENTINEL): the URL's sentinels and master name,
	 * owned; user, password and db above are the nodes'.  The sentinels'
	 * own credentials (STREAMLAG_SENTINEL_USERNAME, _PASSWORD), owned. */
	struct sl_sentinel_url *sentinel;
	char	*sentinel_user;
	char	*sentinel_password;	/* never logged */
	int	 read_from;	/* enum sl_read_from (STREAMLAG_READ_FROM) */
	int	 role_check_ms;	/* STREAMLAG_ROLE_CHECK_MS */
};

#define SL_REDIS_SEEDS_MAX	64	/* seed nodes in one REDIS_URL */

struct sl_seed {
	char	*host;		/* owned; an IPv6 address without brackets */
	int	 port;
};

/* STREAMLAG_REDIS_MODE */
enum sl_redis_mode { SL_MODE_AUTO, SL_MODE_STANDALONE, SL_MODE_CLUSTER };

/* A looked-up configuration value: NULL when unset. */
typedef const char *(*sl_lookup_fn)(void *ctx, const char *name);

/*
 * The settings of one Redis target.  Without STREAMLAG_TARGETS the
 * configuration has one target, "default", read from the plain names
 * (REDIS_URL, STREAMLAG_STREAMS...); each named target reads the same table
 * rows as STREAMLAG_TARGET_<NAME>_<SETTING>, the plain name being its
 * default (sl_target_load).  The list is a macro so that struct sl_config holds the
 * very same fields, both as cfg->redis and as the struct sl_target
 * cfg->target, without renaming what the rest of streamlag reads.
 */
#define SL_TARGET_FIELDS						\
	struct sl_redis_addr redis;					\
	char	*redis_url_safe;	/* REDIS_URL, password masked */	\
	char	*consumer_group;	/* EVENT_TRANSPORT_CONSUMER_GROUP */	\
	char	**streams;		/* STREAMLAG_STREAMS, owned */	\
	size_t	 nstreams;						\
	char	*stream_pattern;	/* NULL = use streams */	\
	int	 all_groups;		/* STREAMLAG_GROUPS=* */	\
	long long lag_degraded;		/* STREAMLAG_LAG_DEGRADED */	\
	long long lag_unhealthy;	/* STREAMLAG_LAG_UNHEALTHY */	\
	long long stall_ms;		/* STREAMLAG_STALL_MS */	\
	int	 redis_timeout_ms;	/* STREAMLAG_REDIS_TIMEOUT_MS */	\
	long long lag_count_cap;	/* STREAMLAG_LAG_COUNT_CAP */	\
	long long discovery_max;	/* STREAMLAG_DISCOVERY_MAX */	\
	long long discovery_ttl_ms;	/* 0 = off */			\
	int	 redis_mode;		/* STREAMLAG_REDIS_MODE */	\
	int	 request_timeout_ms;	/* STREAMLAG_REQUEST_TIMEOUT_MS */	\
	char	*tls_ca_file;		/* STREAMLAG_REDIS_TLS_CA_FILE */	\
	char	*tls_ca_dir;		/* STREAMLAG_REDIS_TLS_CA_DIR */	\
	char	*tls_server_name;	/* STREAMLAG_REDIS_TLS_SERVER_NAME */	\
	char	*tls_cert_file;		/* STREAMLAG_REDIS_TLS_CERT_FILE */	\
	char	*tls_key_file;		/* STREAMLAG_REDIS_TLS_KEY_FILE */	\
	char	*tls_protocols;		/* STREAMLAG_REDIS_TLS_PROTOCOLS */	\
	char	*tls_ciphers;		/* STREAMLAG_REDIS_TLS_CIPHERS */	\
	int	 tls_verify;		/* STREAMLAG_REDIS_TLS_VERIFY */

struct sl_target {
	SL_TARGET_FIELDS
};

struct sl_config {
	union {
		struct { SL_TARGET_FIELDS };
		struct sl_target target;	/* the same fields */
	};
	int	 use_redis_streams;	/* EVENT_TRANSPORT_USE_REDIS_STREAMS */
	long long stream_max_len;	/* EVENT_TRANSPORT_STREAM_MAX_LEN, 0 = unset */
	long long request_max_commands;	/* STREAMLAG_REQUEST_MAX_COMMANDS */
	long long request_max_bytes;	/* STREAMLAG_REQUEST_MAX_BYTES */
	int	 metrics_consumers;	/* STREAMLAG_METRICS_CONSUMERS */
	long long metrics_memory_mb;	/* STREAMLAG_METRICS_MEMORY_MB */

	/* Named targets (STREAMLAG_TARGETS), in the order named; targets is
	 * NULL without it, and the one target is the fields above, named
	 * "default".  With it, the fields above are the first named target
	 * (the default one) and targets[0] holds the plain settings, which
	 * are only the others' defaults.  Read them through
	 * sl_config_target*(). */
	char	*targets_spec;		/* STREAMLAG_TARGETS */
	struct sl_target *targets;
	char	**target_names;		/* lower case */
	size_t	 ntargets;

	/* history and insight (docs/history.md) */
	long long sample_ms;		/* STREAMLAG_SAMPLE_MS, 0 = no sampler */
	long long history_s;		/* STREAMLAG_HISTORY_S */
	long long history_groups;	/* STREAMLAG_HISTORY_GROUPS */
	long long rate_window_s;	/* STREAMLAG_RATE_WINDOW_S */
	long long pel_scan;		/* STREAMLAG_PEL_SCAN */
	long long poison_deliveries;	/* STREAMLAG_POISON_DELIVERIES */
	long long claim_idle_ms;	/* STREAMLAG_CLAIM_IDLE_MS */
	long long dead_consumer_ms;	/* STREAMLAG_DEAD_CONSUMER_MS, 0 = stall_ms */

	/* JWT */
	char	*jwt_alg;		/* STREAMLAG_JWT_ALG, e.g. "HS256" */
	unsigned char *jwt_key;		/* secret (HS*) or PEM public key (RS*, ES*) */
	size_t	 jwt_key_len;
	struct evp_pkey_st *jwt_pkey;	/* RS*, ES*: jwt_key parsed and checked */
	char	*jwt_secret_file;	/* STREAMLAG_JWT_SECRET_FILE (a path) */
	char	*jwt_public_key_file;	/* STREAMLAG_JWT_PUBLIC_KEY_FILE (a path) */
	char	*jwt_issuer;		/* NULL = not checked */
	char	*jwt_audience;		/* NULL = not checked */
	char	*jwt_scope;		/* NULL = not checked */
	int	 jwt_leeway_s;		/* STREAMLAG_JWT_LEEWAY_S */

	/* serving */
	char	*listen;		/* STREAMLAG_LISTEN */
	int	 workers;		/* STREAMLAG_WORKERS, 0 = number of cores */
	long long max_requests;		/* STREAMLAG_MAX_REQUESTS, 0 = never */
	int	 request_deadline_ms;	/* STREAMLAG_REQUEST_DEADLINE_MS */
	int	 grace_ms;		/* STREAMLAG_GRACE_MS */
	int	 first_byte_deadline_ms;/* STREAMLAG_FIRST_BYTE_DEADLINE_MS */
	int	 read_deadline_ms;	/* STREAMLAG_READ_DEADLINE_MS */
	int	 idle_deadline_ms;	/* STREAMLAG_IDLE_DEADLINE_MS */
	char	*user;			/* STREAMLAG_USER, NULL = stay */
	unsigned socket_mode;		/* STREAMLAG_SOCKET_MODE */
	char	*socket_group;		/* STREAMLAG_SOCKET_GROUP, NULL = leave */
	char	*allow_tcp;		/* STREAMLAG_ALLOW_TCP: IPv4 peers, comma-separated */

	/* The text of every setting a reload cannot apply, indexed like the
	 * table (NULL for the others): what sl_config_restart_needed compares.
	 * A reload keeps the values in effect here (sl_config_keep_running). */
	char	**running;
};

/*
 * The settings table, in the spirit of nginx's ngx_command_t: every variable
 * streamlag accepts is one row.  A row names the variable, the parser that
 * checks it and stores it at `off` (in struct sl_config, or in struct
 * sl_target for SL_SCOPE_TARGET rows), its default as text (parsed like a
 * set value; NULL = unset), its limits (numbers: min..max; strings: max
 * bytes when max > 0), its scope, and whether SIGHUP applies a change.
 */
enum sl_scope {
	SL_SCOPE_PROCESS,	/* one value for the whole process */
	SL_SCOPE_TARGET,	/* one value per Redis target (struct sl_target) */
	SL_SCOPE_RUN		/* read by `make run` only, never by the binary */
};

struct sl_setting;
typedef int (*sl_setting_fn)(const struct sl_setting *s, const char *name,
    const char *v, void *base, char *err, size_t errlen);

struct sl_setting {
	const char	*name;
	sl_setting_fn	 parse;		/* NULL for SL_SCOPE_RUN */
	const char	*def;
	long long	 min, max;
	size_t		 off;
	enum sl_scope	 scope;
	int		 reload;	/* 1: SIGHUP applies a change */
};

/* The table (*n rows), and the row of a variable (NULL when unknown). */
const struct sl_setting	*sl_settings(size_t *n);
const struct sl_setting	*sl_setting_find(const char *name);

/*
 * Load and validate.  `lookup` answers each variable name (environment, file,
 * flags: the caller layers them).  On error returns -1 and writes one line to
 * err naming the variable and what it accepts; the struct is then freed.
 */
/* Writes the one-line message of a refused setting into err: -1. */
int	sl_config_fail(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	sl_config_load(struct sl_config *cfg, sl_lookup_fn lookup, void *ctx,
	    char *err, size_t errlen);
void	sl_config_free(struct sl_config *cfg);

/*
 * One target's settings read under `prefix`: the row STREAMLAG_STREAMS is
 * read as prefix + "STREAMS", REDIS_URL as prefix + "REDIS_URL",
 * EVENT_TRANSPORT_CONSUMER_GROUP as prefix + "CONSUMER_GROUP"
 * (sl_setting_suffix), e.g. prefix "STREAMLAG_TARGET_ALPHA_".  A setting
 * unset under the prefix takes the plain setting's value, then the row's
 * default.  Errors name the prefixed variable.  t is freed on error.
 */
int	sl_target_load(struct sl_target *t, const char *prefix,
	    sl_lookup_fn lookup, void *ctx, char *err, size_t errlen);
void	sl_target_free(struct sl_target *t);

/*
 * The targets (config_targets.c): how many (1 without STREAMLAG_TARGETS),
 * the i-th and its name, and the index of a name (case-insensitive; -1 when
 * there is none).  Target 0 is the default one.
 */
size_t	 sl_config_ntargets(const struct sl_config *cfg);
const struct sl_target *sl_config_target(const struct sl_config *cfg,
	    size_t i);
const char *sl_config_target_name(const struct sl_config *cfg, size_t i);
long	 sl_config_target_find(const struct sl_config *cfg, const char *name,
	    size_t len);
/* 1 when name is [a-z0-9_-]{1,SL_TARGET_NAME_MAX} (either case), else 0. */
int	 sl_target_name_valid(const char *name, size_t len);
/* Loads the targets STREAMLAG_TARGETS names (config.c calls it); 0 or -1
 * with err set. */
int	 sl_config_targets_load(struct sl_config *cfg, sl_lookup_fn lookup,
	    void *ctx, char *err, size_t errlen);
void	 sl_config_targets_free(struct sl_config *cfg);
/* The command line's --target NAME: that target becomes the one target of
 * cfg (the plain fields), the others are freed.  0, or -1 when cfg has no
 * such target. */
int	 sl_config_pick_target(struct sl_config *cfg, const char *name);
/* 1 when name is STREAMLAG_TARGET_<NAME>_<SETTING> of a per-target row. */
int	 sl_config_target_known(const char *name);

/* A row's name under a target's prefix: without "STREAMLAG_" or
 * "EVENT_TRANSPORT_" (REDIS_URL, STREAMS, CONSUMER_GROUP...). */
const char *sl_setting_suffix(const struct sl_setting *s);

/* 1 when `name` is a variable streamlag accepts (for unknown-key checks in
 * --config files), else 0. */
int	sl_config_known(const char *name);

/*
 * After a reload: the settings whose change needs a restart (up to max
 * names into names[]); returns how many changed.  Then
 * sl_config_keep_running() moves the values in effect from `old` into `new`,
 * so that the next SIGHUP compares against them again.
 */
size_t	sl_config_restart_needed(const struct sl_config *old,
	    const struct sl_config *new, const char **names, size_t max);
void	sl_config_keep_running(struct sl_config *old, struct sl_config *new);

/* Pure parsers, exposed for tests.  Each returns 0 or -1 with err set. */
int	sl_parse_bool(const char *s, int *out);
int	sl_parse_ll(const char *s, long long min, long long max, long long *out);
/* 1 when a listen spec is a unix socket or a HOST:PORT whose host is an
 * address in 127.0.0.0/8 or [::1] (names are not resolved), else 0. */
int	sl_listen_is_loopback(const char *spec);
int	sl_parse_redis_url(const char *url, struct sl_redis_addr *out,
	    char *err, size_t errlen);
void	sl_redis_addr_free(struct sl_redis_addr *a);
/* The URL for logs: the password replaced by "***"; NULL when out of
 * memory (config_url.c). */
char	*sl_redis_url_safe(const char *url);

/*
 * KEY=VALUE file reader: blank lines and # comments skipped, optional
 * surrounding single or double quotes removed.  Returns a NULL-terminated
 * array of "KEY=VALUE" strings (owned by the caller, sl_env_free) or NULL
 * with err set.
 */
char	**sl_env_file_read(const char *path, char *err, size_t errlen);
void	sl_env_free(char **env);
const char *sl_env_get(char **env, const char *name);
/* The line of the file that set `name` last (0 when it is not set there),
 * and the line of one entry of the array, for error messages. */
size_t	 sl_env_line(char **env, const char *name);
size_t	 sl_env_entry_line(const char *entry);

#endif
