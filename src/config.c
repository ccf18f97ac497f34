/* SPDX-License-Identifier: ISC */
/* Configuration: the settings table (config.h), one row per variable; each
 * value is read through one lookup function and checked once by its row's
 * parser, and a bad value stops startup with one line naming the variable
 * and what it accepts.  Secrets and passwords are never echoed.  To add a
 * setting: a field in struct sl_config (or in SL_TARGET_FIELDS when each
 * Redis target has its own), and a row in settings[]. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "streamlag/alloc.h"
#include "streamlag/config.h"
#include "streamlag/config_file.h"
#include "streamlag/jws.h"
#include "streamlag/log.h"
#include "streamlag/pel.h"
#include "streamlag/shared.h"
#include "streamlag/tls.h"
#include "streamlag/worker.h"

static const char *const jwt_algs[] = {
	"HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
	"ES256", "ES384", "ES512",
};

int
sl_config_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* [s, e) with surrounding spaces and tabs removed. */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

/* pydantic's str-to-bool: case-insensitive, surrounding whitespace ignored. */
int
sl_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "1", "on", "t", "true", "y", "yes" };
	static const char *const no[] = { "0", "off", "f", "false", "n", "no" };
	const char	*b, *e;
	size_t		 n;

	if (s == NULL)
		return -1;
	b = s;
	e = s + strlen(s);
	while (b < e && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	n = (size_t)(e - b);
	for (size_t i = 0; i < 6; i++) {
		if (strlen(yes[i]) == n && strncasecmp(b, yes[i], n) == 0) {
			*out = 1;
			return 0;
		}
		if (strlen(no[i]) == n && strncasecmp(b, no[i], n) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

int
sl_parse_ll(const char *s, long long min, long long max, long long *out)
{
	char		*end;
	long long	 v;

	if (s == NULL)
		return -1;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* The HS key from STREAMLAG_JWT_SECRET (already in cfg->jwt_key) or from
 * STREAMLAG_JWT_SECRET_FILE. */
static int
load_jwt_hs(struct sl_config *cfg, char *err, size_t errlen)
{
	const char	*file = cfg->jwt_secret_file;
	mode_t		 mode = 0;

	if (cfg->jwt_key != NULL && file != NULL)
		return sl_config_fail(err, errlen, "STREAMLAG_JWT_SECRET: set either it or "
		    "STREAMLAG_JWT_SECRET_FILE, not both");
	if (file != NULL) {
		cfg->jwt_key = sl_file_read_small("STREAMLAG_JWT_SECRET_FILE", file,
		    SECRET_FILE_MAX, &cfg->jwt_key_len, &mode, err, errlen);
		if (cfg->jwt_key == NULL)
			return -1;
		sl_file_warn_exposed("STREAMLAG_JWT_SECRET_FILE", file, mode,
		    S_IROTH | S_IWOTH);
		/* One trailing newline, as editors and echo leave it. */
		if (cfg->jwt_key_len > 0 &&
		    cfg->jwt_key[cfg->jwt_key_len - 1] == '\n')
			cfg->jwt_key[--cfg->jwt_key_len] = '\0';
		if (cfg->jwt_key_len > 0 &&
		    cfg->jwt_key[cfg->jwt_key_len - 1] == '\r')
			cfg->jwt_key[--cfg->jwt_key_len] = '\0';
	}
	if (cfg->jwt_key != NULL && cfg->jwt_key_len < SL_JWT_SECRET_MIN)
		return sl_config_fail(err, errlen,
		    "%s: expected at least %d bytes (got %zu); "
		    "make one with: openssl rand -hex 32", file == NULL ?
		    "STREAMLAG_JWT_SECRET" : "STREAMLAG_JWT_SECRET_FILE",
		    SL_JWT_SECRET_MIN, cfg->jwt_key_len);
	return 0;
}

/* The key for STREAMLAG_JWT_ALG, after the rows are parsed: a secret for
 * HS*, a public key file for RS* and ES*, never both kinds. */
static int
load_jwt(struct sl_config *cfg, char *err, size_t errlen)
{
	const char	*alg = cfg->jwt_alg, *file = cfg->jwt_public_key_file;
	mode_t		 mode = 0;
	size_t		 n;

	if (alg[0] == 'H')
		return load_jwt_hs(cfg, err, errlen);
	if (cfg->jwt_key != NULL || cfg->jwt_secret_file != NULL)
		return sl_config_fail(err, errlen, "STREAMLAG_JWT_SECRET: not used with %s; "
		    "set STREAMLAG_JWT_PUBLIC_KEY_FILE", alg);
	if (file == NULL)
		return sl_config_fail(err, errlen, "STREAMLAG_JWT_PUBLIC_KEY_FILE: required "
		    "with STREAMLAG_JWT_ALG=%s", alg);
	cfg->jwt_key = sl_file_read_small("STREAMLAG_JWT_PUBLIC_KEY_FILE", file,
	    SECRET_FILE_MAX, &cfg->jwt_key_len, &mode, err, errlen);
	if (cfg->jwt_key == NULL)
		return -1;
	sl_file_warn_exposed("STREAMLAG_JWT_PUBLIC_KEY_FILE", file, mode, S_IWOTH);
	/* Parsed and checked now: a wrong key must stop startup, not turn
	 * every token into a 401. */
	if (sl_jws_key_load("STREAMLAG_JWT_PUBLIC_KEY_FILE", alg, cfg->jwt_key,
	    cfg->jwt_key_len, &cfg->jwt_pkey, err, errlen) == -1) {
		n = strlen(err);
		if (n + 1 < errlen)
			snprintf(err + n, errlen - n, " (%s)", file);
		return -1;
	}
	return 0;
}

static int
check_listen(const char *v, char *err, size_t errlen)
{
	const char	*colon;
	long long	 port;

	if (strncmp(v, "unix:", 5) == 0) {
		if (v[5] != '/')
			return sl_config_fail(err, errlen, "STREAMLAG_LISTEN: expected "
			    "unix:/absolute/path or HOST:PORT, got \"%.100s\"", v);
		return 0;
	}
	colon = strrchr(v, ':');
	if (colon == NULL || colon == v ||
	    sl_parse_ll(colon + 1, 1, 65535, &port) == -1 ||
	    (v[0] == '[' && colon[-1] != ']'))
		return sl_config_fail(err, errlen, "STREAMLAG_LISTEN: expected "
		    "unix:/absolute/path or HOST:PORT (port 1-65535), got "
		    "\"%.100s\"", v);
	return 0;
}

int
sl_listen_is_loopback(const char *spec)
{
	const char	*colon, *b = spec, *e;
	char		 host[INET6_ADDRSTRLEN];
	struct in_addr	 a4;
	struct in6_addr	 a6;

	if (strncmp(spec, "unix:", 5) == 0)
		return 1;
	/* The address itself, parsed: a prefix test would pass
	 * 127.0.0.1.evil.com, and a name can resolve anywhere. */
	if ((colon = strrchr(spec, ':')) == NULL)
		return 0;
	e = colon;
	if (*b == '[') {
		if (e - b < 2 || e[-1] != ']')
			return 0;
		b++;
		e--;
	}
	if ((size_t)(e - b) >= sizeof(host))
		return 0;
	memcpy(host, b, (size_t)(e - b));
	host[e - b] = '\0';
	if (spec[0] != '[' && inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (spec[0] == '[' && inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

/* STREAMLAG_ALLOW_TCP: the nginx hosts (IPv4, comma-separated) allowed to
 * reach a TCP listener beyond loopback; the workers enforce it on every
 * connection they accept (sl_peer_allowed).  Without it such a listener is
 * refused (check_allow_tcp): libfcgi must only ever hear from nginx. */
static int
valid_allow_tcp(const char *v)
{
	for (const char *p = v; *p != '\0'; ) {
		size_t n = strcspn(p, ",");
		char ip[16];
		struct in_addr a;

		if (n == 0 || n >= sizeof(ip))
			return 0;
		memcpy(ip, p, n);
		ip[n] = '\0';
		if (inet_pton(AF_INET, ip, &a) != 1)
			return 0;
		p += n + (p[n] == ',');
	}
	return 1;
}

/*
 * The parsers of the table.  Each checks one value and stores it at s->off
 * in `base` (struct sl_config, or struct sl_target for SL_SCOPE_TARGET
 * rows); on error it writes one line naming `name` (the variable as read,
 * under a target's prefix when there is one) and what it accepts.
 */
#define FIELD(type, s, base)	((type *)(void *)((char *)(base) + (s)->off))

/* A string: empty means the default; s->max > 0 bounds its length. */
static int
set_str(const struct sl_setting *s, const char *name, const char *v,
    void *base, char *err, size_t errlen)
{
	char **f = FIELD(char *, s, base);

	if (*v == '\0' && (v = s->def) == NULL)
		return 0;
	if (s->max > 0 && strlen(v) > (size_t)s->max)
		return sl_config_fail(err, errlen, "%s: expected at most %lld bytes", name,
		    s->max);
	if ((*f = sl_strdup(v)) == NULL)
		return sl_config_fail(err, errlen, "%s: out of memory", name);
	return 0;
}

/* A string whose empty value means none (not the default). */
static int
set_str_or_none(const struct sl_setting *s, const char *name, const char *v,
    void *base, char *err, size_t errlen)
{
	if (*v == '\0')
		return 0;
	return set_str(s, name, v, base, err, errlen);
}

static int
number(const struct sl_setting *s, const char *name, const char *v,
    long long *out, char *err, size_t errlen)
{
	if (sl_parse_ll(v, s->min, s->max, out) == -1)
		return sl_config_fail(err, errlen, "%s: expected an integer from %lld to "
		    "%lld, got \"%.64s\"", name, s->min, s->max, v);
	return 0;
}

static int
set_ll(const struct sl_setting *s, const char *name, const char *v,
    void *base, char *err, size_t errlen)
{
	return number(s, name, v, FIELD(long long, s, base), err, errlen);
}

/* An int field: the row's limits must lie within int. */
static int
set_int(const struct sl_setting *s, const char *name, const char *v,
    void *base, char *err, size_t errlen)
{
	long long n;

	if (number(s, name, v, &n, err, errlen) == -1)
		return -1;
	*FIELD(int, s, base) = (int)n;
	return 0;
}

static int
set_bool(const struct sl_setting *s, const char *name, const char *v,
    void *base, char *err, size_t errlen)
{
	if (sl_parse_bool(v, FIELD(int, s, base)) == -1)
		return sl_config_fail(err, errlen, "%s: expected a boolean (true/false, 1/0, "
		    "yes/no, on/off), got \"%.64s\"", name, v);
	return 0;
}

/* An octal file mode from s->min to s->max. */
static int
set_mode(const struct sl_setting *s, const char *name, const char *v,
    void *base, char *err, size_t errlen)
{
	char		*end;
	unsigned long	 m;

	errno = 0;
	m = strtoul(v, &end, 8);
	if (*v == '\0' || *end != '\0' || errno != 0 || m < (unsigned long)s->min ||
	    m > (unsigned long)s->max)
		return sl_config_fail(err, errlen, "%s: expected an octal mode from %llo to "
		    "0%llo (e.g. 0660), got \"%.16s\"", name,
		    (unsigned long long)s->min, (unsigned long long)s->max, v);
	*FIELD(unsigned, s, base) = (unsigned)m;
	return 0;
}

/* Rewrites an error that names `from` to name `to` instead. */
static void
rename_err(char *err, size_t errlen, const char *from, const char *to)
{
	char	 tmp[512];
	size_t	 n = strlen(from);

	if (strcmp(from, to) == 0 || strncmp(err, from, n) != 0 || err[n] != ':')
		return;
	snprintf(tmp, sizeof(tmp), "%s%s", to, err + n);
	snprintf(err, errlen, "%s", tmp);
}

static int
set_redis_url(const struct sl_setting *s, const char *name, const char *v,
    void *base, char *err, size_t errlen)
{
	struct sl_target *t = base;

	if (*v == '\0')
		v = s->def;
	if (sl_parse_redis_url(v, &t->redis, err, errlen) == -1) {
		rename_err(err, errlen, "REDIS_URL", name);
		return -1;
	}
	if ((t->redis_url_safe = sl_redis_url_safe(v)) == NULL)
		return sl_config_fail(err, errlen, "%s: out of memory", name);
	return 0;
}

static int
has_stream(const struct sl_target *t, const char *b, size_t n)
{
	for (size_t i = 0; i < t->nstreams; i++)
		if (strlen(t->streams[i]) == n && memcmp(t->streams[i], b, n) == 0)
			return 1;
	return 0;
}

/* The array grows by doubling from 8; at most s->max names. */
static int
add_stream(const struct sl_setting *s, const char *name, struct sl_target *t,
    const char *b, size_t n, char *err, size_t errlen)
{
	size_t	 k = t->nstreams;
	char	**grown;

	if (k == (size_t)s->max)
		return sl_config_fail(err, errlen, "%s: more than %lld streams",
		    name, s->max);
	if (k == 0 || (k >= 8 && (k & (k - 1)) == 0)) {
		if ((grown = sl_reallocarray(t->streams, k == 0 ? 8 : 2 * k,
		    sizeof(*grown))) == NULL)
			return sl_config_fail(err, errlen, "%s: out of memory", name);
		t->streams = grown;
	}
	if ((t->streams[k] = sl_strndup(b, n)) == NULL)
		return sl_config_fail(err, errlen, "%s: out of memory", name);
	t->nstreams++;
	return 0;
}

/* Comma-separated names, trimmed, duplicates dropped. */
/* auto, standalone or cluster (STREAMLAG_REDIS_MODE). */
static int
set_redis_mode(const struct sl_setting *s, const char *name, const char *v,
    void *base, char *err, size_t errlen)
{
	static const char *const modes[] = { "auto", "standalone", "cluster" };

	if (*v == '\0')
		v = s->def;
	for (int i = 0; i < 3; i++)
		if (strcmp(v, modes[i]) == 0) {
			*FIELD(int, s, base) = i;
			return 0;
		}
	return sl_config_fail(err, errlen, "%s: expected auto, standalone or cluster, "
	    "got \"%.100s\"", name, v);
}

/* master, replica or prefer-replica (STREAMLAG_READ_FROM). */
static int
set_read_from(const struct sl_setting *s, const char *name, const char *v,
    void *base, char *err, size_t errlen)
{
	static const char *const ways[] = { "master", "replica",
	    "prefer-replica" };

	if (*v == '\0')
		v = s->def;
	for (int i = 0; i < 3; i++)
		if (strcmp(v, ways[i]) == 0) {
			*FIELD(int, s, base) = i;
			return 0;
		}
	return sl_config_fail(err, errlen, "%s: expected master, replica or "
	    "prefer-replica, got \"%.100s\"", name, v);
}

static int
set_streams(const struct sl_setting *s, const char *name, const char *v,
    void *base, char *err, size_t errlen)
{
	struct sl_target *t = base;
	const char *p = v, *end = v + strlen(v);

	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *b = p, *e = comma != NULL ? comma : end;

		trim(&b, &e);
		if (b == e)
			return sl_config_fail(err, errlen, "%s: expected a comma-separated "
			    "list of stream names, got an empty item", name);
		if ((size_t)(e - b) > SL_NAME_MAX)
			return sl_config_fail(err, errlen, "%s: a stream name is longer than "
			    "%d bytes", name, SL_NAME_MAX);
		if (!has_stream(t, b, (size_t)(e - b)) &&
		    add_stream(s, name, t, b, (size_t)(e - b), err, errlen) == -1)
			return -1;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

static int
set_groups(const struct sl_setting *s, const char *name, const char *v,
    void *base, char *err, size_t errlen)
{
	if (*v == '\0')
		return 0;
	if (strcmp(v, "*") != 0)
		return sl_config_fail(err, errlen, "%s: expected \"*\" (every group of each "
		    "stream) or unset, got \"%.64s\"", name, v);
	*FIELD(int, s, base) = 1;
	return 0;
}

static int
set_jwt_alg(const struct sl_setting *s, const char *name, const char *v,
    void *base, char *err, size_t errlen)
{
	size_t i, n = sizeof(jwt_algs) / sizeof(jwt_algs[0]);

	if (*v == '\0')
		v = s->def;
	for (i = 0; i < n && strcmp(v, jwt_algs[i]) != 0; i++)
		;
	if (i == n)
		return sl_config_fail(err, errlen, "%s: expected one of HS256 HS384 HS512 "
		    "RS256 RS384 RS512 ES256 ES384 ES512, got \"%.32s\"", name, v);
	return set_str(s, name, v, base, err, errlen);
}

/* STREAMLAG_JWT_SECRET: the key itself; never echoed. */
static int
set_secret(const struct sl_setting *s, const char *name, const char *v,
    void *base, char *err, size_t errlen)
{
	struct sl_config *cfg = base;

	(void)s;
	if (*v == '\0')
		return 0;
	cfg->jwt_key_len = strlen(v);
	if ((cfg->jwt_key = (unsigned char *)sl_strdup(v)) == NULL)
		return sl_config_fail(err, errlen, "%s: out of memory", name);
	return 0;
}

static int
set_listen(const struct sl_setting *s, const char *name, const char *v,
    void *base, char *err, size_t errlen)
{
	if (set_str(s, name, v, base, err, errlen) == -1)
		return -1;
	return check_listen(*FIELD(char *, s, base), err, errlen);
}

static int
set_allow_tcp(const struct sl_setting *s, const char *name, const char *v,
    void *base, char *err, size_t errlen)
{
	if (*v == '\0')
		return 0;
	if (!valid_allow_tcp(v))
		return sl_config_fail(err, errlen, "%s: expected IPv4 addresses separated "
		    "by commas, got \"%.100s\"", name, v);
	return set_str(s, name, v, base, err, errlen);
}

/* name,name...: each [a-z0-9_-], at most SL_TARGETS_MAX, none twice. */
static int
set_targets(const struct sl_setting *s, const char *name, const char *v,
    void *base, char *err, size_t errlen)
{
	const char	*p = v, *q;
	size_t		 n = 0, len;

	if (*v == '\0')
		return 0;
	for (;; p = q + 1) {
		q = strchr(p, ',');
		len = q != NULL ? (size_t)(q - p) : strlen(p);
		if (!sl_target_name_valid(p, len))
			return sl_config_fail(err, errlen, "%s: expected names of 1 to %d "
			    "characters a-z 0-9 _ - separated by commas, got "
			    "\"%.100s\"", name, SL_TARGET_NAME_MAX, v);
		for (const char *o = v; o < p; o += strcspn(o, ",") + 1)
			if (strcspn(o, ",") == len && strncasecmp(o, p, len) == 0)
				return sl_config_fail(err, errlen, "%s: \"%.*s\" named "
				    "twice", name, (int)len, p);
		if (++n > SL_TARGETS_MAX)
			return sl_config_fail(err, errlen, "%s: at most %d targets", name,
			    SL_TARGETS_MAX);
		if (q == NULL)
			break;
	}
	return set_str(s, name, v, base, err, errlen);
}

#define XSTR(x)		STR(x)
#define STR(x)		#x
#define P(f)		offsetof(struct sl_config, f), SL_SCOPE_PROCESS
#define T(f)		offsetof(struct sl_target, f), SL_SCOPE_TARGET
#define RUN		0, SL_SCOPE_RUN
#define MS_HOUR		3600000
#define TERA		1000000000000LL

/*
 * Every variable streamlag accepts.  Columns: name, parser, default, min,
 * max, where it is stored (P: struct sl_config, T: struct sl_target; RUN:
 * only `make run` reads it), reload (1: SIGHUP applies a change, 0: a
 * change needs a restart), scope.  The order is the order of the checks.
 */
static const struct sl_setting settings[] = {
	{ "REDIS_URL", set_redis_url, "redis://localhost:6380/0", 0, 0,
	    T(redis), 1 },
	{ "EVENT_TRANSPORT_CONSUMER_GROUP", set_str, "signalr-consumers", 0,
	    SL_NAME_MAX, T(consumer_group), 1 },
	{ "EVENT_TRANSPORT_USE_REDIS_STREAMS", set_bool, "0", 0, 1,
	    P(use_redis_streams), 1 },
	{ "EVENT_TRANSPORT_STREAM_MAX_LEN", set_ll, NULL, 1, TERA,
	    P(stream_max_len), 1 },
	{ "STREAMLAG_STREAMS", set_streams,
	    "events:chat,events:ticket,events:remote", 0, SL_MAX_STREAMS,
	    T(streams), 1 },
	{ "STREAMLAG_LAG_DEGRADED", set_ll, "100", 1, TERA, T(lag_degraded), 1 },
	{ "STREAMLAG_LAG_UNHEALTHY", set_ll, "1000", 1, TERA, T(lag_unhealthy),
	    1 },
	{ "STREAMLAG_STALL_MS", set_ll, "60000", 1, 86400000, T(stall_ms), 1 },
	{ "STREAMLAG_REDIS_TIMEOUT_MS", set_int, "1000", 10, 60000,
	    T(redis_timeout_ms), 1 },
	{ "STREAMLAG_REQUEST_TIMEOUT_MS", set_int, "10000", 10, MS_HOUR,
	    T(request_timeout_ms), 1 },
	{ "STREAMLAG_REDIS_MODE", set_redis_mode, "auto", 0, 0, T(redis_mode),
	    1 },
	{ "STREAMLAG_SENTINEL_USERNAME", set_str_or_none, NULL, 0, 255,
	    T(redis.sentinel_user), 1 },
	{ "STREAMLAG_SENTINEL_PASSWORD", set_str_or_none, NULL, 0, 4096,
	    T(redis.sentinel_password), 1 },
	{ "STREAMLAG_ROLE_CHECK_MS", set_int, "1000", 0, MS_HOUR,
	    T(redis.role_check_ms), 1 },
	{ "STREAMLAG_READ_FROM", set_read_from, "master", 0, 0,
	    T(redis.read_from), 1 },
	{ "STREAMLAG_REDIS_TLS_CA_FILE", set_str_or_none, NULL, 0, 0,
	    T(tls_ca_file), 1 },
	{ "STREAMLAG_REDIS_TLS_CA_DIR", set_str_or_none, NULL, 0, 0,
	    T(tls_ca_dir), 1 },
	{ "STREAMLAG_REDIS_TLS_SERVER_NAME", set_str_or_none, NULL, 0,
	    SL_TLS_NAME_MAX, T(tls_server_name), 1 },
	{ "STREAMLAG_REDIS_TLS_CERT_FILE", set_str_or_none, NULL, 0, 0,
	    T(tls_cert_file), 1 },
	{ "STREAMLAG_REDIS_TLS_KEY_FILE", set_str_or_none, NULL, 0, 0,
	    T(tls_key_file), 1 },
	{ "STREAMLAG_REDIS_TLS_PROTOCOLS", set_str, SL_TLS_DEFAULT_PROTOCOLS,
	    0, 0, T(tls_protocols), 1 },
	{ "STREAMLAG_REDIS_TLS_CIPHERS", set_str, SL_TLS_DEFAULT_CIPHERS, 0, 0,
	    T(tls_ciphers), 1 },
	{ "STREAMLAG_REDIS_TLS_VERIFY", set_bool, "1", 0, 1, T(tls_verify),
	    1 },
	{ "STREAMLAG_LAG_COUNT_CAP", set_ll, "10000", 1, 10000000,
	    T(lag_count_cap), 1 },
	{ "STREAMLAG_DISCOVERY_MAX", set_ll, "100000", 1, 10000000,
	    T(discovery_max), 1 },
	{ "STREAMLAG_DISCOVERY_TTL_MS", set_ll, "5000", 0, MS_HOUR,
	    T(discovery_ttl_ms), 1 },
	{ "STREAMLAG_REQUEST_MAX_COMMANDS", set_ll, "100000", 10, 100000000,
	    P(request_max_commands), 1 },
	{ "STREAMLAG_REQUEST_MAX_BYTES", set_ll, "67108864", 65536,
	    1099511627776LL, P(request_max_bytes), 1 },
	{ "STREAMLAG_STREAM_PATTERN", set_str, NULL, 0, SL_NAME_MAX,
	    T(stream_pattern), 1 },
	{ "STREAMLAG_METRICS_CONSUMERS", set_bool, "1", 0, 1,
	    P(metrics_consumers), 1 },
	{ "STREAMLAG_METRICS_MEMORY_MB", set_ll, "16", 0, 4096,
	    P(metrics_memory_mb), 1 },
	{ "STREAMLAG_GROUPS", set_groups, NULL, 0, 0, T(all_groups), 1 },
	{ "STREAMLAG_TARGETS", set_targets, NULL, 0, 0, P(targets_spec), 1 },
	{ "STREAMLAG_SAMPLE_MS", set_ll, "5000", 0, MS_HOUR, P(sample_ms), 0 },
	{ "STREAMLAG_HISTORY_S", set_ll, "3600", 10, 7 * 86400, P(history_s),
	    0 },
	{ "STREAMLAG_HISTORY_GROUPS", set_ll, "1000", 1, 1000000,
	    P(history_groups), 0 },
	{ "STREAMLAG_RATE_WINDOW_S", set_ll, "60", 2, 7 * 86400,
	    P(rate_window_s), 1 },
	{ "STREAMLAG_PEL_SCAN", set_ll, "1000", 1, SL_PEL_SCAN_MAX,
	    P(pel_scan), 1 },
	{ "STREAMLAG_POISON_DELIVERIES", set_ll, "10", 1, TERA,
	    P(poison_deliveries), 1 },
	{ "STREAMLAG_CLAIM_IDLE_MS", set_ll, "60000", 1, 30LL * 86400000,
	    P(claim_idle_ms), 1 },
	{ "STREAMLAG_DEAD_CONSUMER_MS", set_ll, NULL, 1, 86400000,
	    P(dead_consumer_ms), 1 },
	{ "STREAMLAG_JWT_ALG", set_jwt_alg, "HS256", 0, 0, P(jwt_alg), 1 },
	{ "STREAMLAG_JWT_SECRET", set_secret, NULL, 0, 0, P(jwt_key), 1 },
	{ "STREAMLAG_JWT_SECRET_FILE", set_str, NULL, 0, 0,
	    P(jwt_secret_file), 1 },
	{ "STREAMLAG_JWT_PUBLIC_KEY_FILE", set_str, NULL, 0, 0,
	    P(jwt_public_key_file), 1 },
	{ "STREAMLAG_JWT_ISSUER", set_str, NULL, 0, 0, P(jwt_issuer), 1 },
	{ "STREAMLAG_JWT_AUDIENCE", set_str, NULL, 0, 0, P(jwt_audience), 1 },
	{ "STREAMLAG_JWT_SCOPE", set_str, NULL, 0, 0, P(jwt_scope), 1 },
	{ "STREAMLAG_JWT_LEEWAY_S", set_int, "30", 0, SL_JWT_LEEWAY_MAX,
	    P(jwt_leeway_s), 1 },
	{ "STREAMLAG_LISTEN", set_listen, "unix:/run/streamlag/streamlag.sock",
	    0, 0, P(listen), 0 },
	{ "STREAMLAG_WORKERS", set_int, "0", 0, SL_MAX_WORKERS, P(workers), 1 },
	{ "STREAMLAG_SOCKET_MODE", set_mode, "0660", 0, 0777, P(socket_mode),
	    0 },
	{ "STREAMLAG_SOCKET_GROUP", set_str_or_none, "www-data", 0, 0,
	    P(socket_group), 0 },
	{ "STREAMLAG_ALLOW_TCP", set_allow_tcp, NULL, 0, 0, P(allow_tcp), 1 },
	{ "STREAMLAG_MAX_REQUESTS", set_ll, "0", 0, 1000000000,
	    P(max_requests), 1 },
	{ "STREAMLAG_REQUEST_DEADLINE_MS", set_int, "30000", 0, MS_HOUR,
	    P(request_deadline_ms), 1 },
	{ "STREAMLAG_GRACE_MS", set_int, "10000", 0, 600000, P(grace_ms), 1 },
	{ "STREAMLAG_FIRST_BYTE_DEADLINE_MS", set_int,
	    XSTR(SL_FIRST_BYTE_DEADLINE_MS), 0, MS_HOUR,
	    P(first_byte_deadline_ms), 1 },
	{ "STREAMLAG_READ_DEADLINE_MS", set_int, XSTR(SL_READ_DEADLINE_MS), 0,
	    MS_HOUR, P(read_deadline_ms), 1 },
	{ "STREAMLAG_IDLE_DEADLINE_MS", set_int, XSTR(SL_IDLE_DEADLINE_MS), 0,
	    MS_HOUR, P(idle_deadline_ms), 1 },
	{ "STREAMLAG_USER", set_str, NULL, 0, 0, P(user), 0 },
	/* Names the file the others come from: main.c reads it first. */
	{ "STREAMLAG_CONFIG", NULL, NULL, 0, 0, 0, SL_SCOPE_PROCESS, 0 },
	/* tests/stack/run.sh (make run): the HTTPS port of its nginx, and
	 * the data it writes (demo or seed). */
	{ "STREAMLAG_HTTP_PORT", NULL, "8443", 1, 65535, RUN, 0 },
	{ "STREAMLAG_RUN_DATA", NULL, "demo", 0, 0, RUN, 0 },
};

#define NSETTINGS	(sizeof(settings) / sizeof(settings[0]))

const struct sl_setting *
sl_settings(size_t *n)
{
	*n = NSETTINGS;
	return settings;
}

const struct sl_setting *
sl_setting_find(const char *name)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (strcmp(name, settings[i].name) == 0)
			return &settings[i];
	return NULL;
}

int
sl_config_known(const char *name)
{
	if (strncmp(name, "EVENT_TRANSPORT_", 16) == 0)
		return 1;	/* the seed's settings: accepted, mostly ignored */
	return sl_setting_find(name) != NULL || sl_config_target_known(name);
}

const char *
sl_setting_suffix(const struct sl_setting *s)
{
	if (strncmp(s->name, "STREAMLAG_", 10) == 0)
		return s->name + 10;
	if (strncmp(s->name, "EVENT_TRANSPORT_", 16) == 0)
		return s->name + 16;
	return s->name;
}

/* A row's variable under a target's prefix: its suffix appended.  NULL
 * when it does not fit. */
static const char *
row_name(const struct sl_setting *s, const char *prefix, char *buf,
    size_t len)
{
	const char	*rest = s->name;
	int		 n;

	if (prefix == NULL)
		return s->name;
	rest = sl_setting_suffix(s);
	n = snprintf(buf, len, "%s%s", prefix, rest);
	return n < 0 || (size_t)n >= len ? NULL : buf;
}

/* Parses every row of the table into cfg (process and target rows, the
 * latter into cfg->target), or, with cfg NULL, the target rows into t. */
static int
load_rows(const char *prefix, struct sl_config *cfg, struct sl_target *t,
    sl_lookup_fn lookup, void *ctx, char *err, size_t errlen)
{
	char		 buf[256];
	const char	*name, *v;

	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct sl_setting *s = &settings[i];
		void *base = s->scope == SL_SCOPE_TARGET ? (void *)t : (void *)cfg;

		if (s->parse == NULL || base == NULL)
			continue;
		if ((name = row_name(s, prefix, buf, sizeof(buf))) == NULL)
			return sl_config_fail(err, errlen, "%.100s: name too long", prefix);
		/* A target's unset setting is the plain one's value. */
		if ((v = lookup(ctx, name)) == NULL && (prefix == NULL ||
		    (v = lookup(ctx, s->name)) == NULL) && (v = s->def) == NULL)
			continue;
		if (s->parse(s, name, v, base, err, errlen) == -1)
			return -1;
		if (cfg != NULL && !s->reload &&
		    (cfg->running[i] = sl_strdup(v)) == NULL)
			return sl_config_fail(err, errlen, "%s: out of memory", name);
	}
	return 0;
}

/*
 * STREAMLAG_REDIS_TLS_*: checked whatever the URL; with rediss:// the
 * context is built here, so that a CA, certificate or key file that cannot
 * be read (or a key file others may read) stops the start, and a reload
 * (SIGHUP) re-reads them all: a reload that fails keeps the running
 * configuration and its context.
 */
static int
load_tls(struct sl_target *t, char *err, size_t errlen)
{
	struct sl_tls_config	 c;
	struct sl_error		 e;

	sl_tls_config_init(&c);
	c.ca_file = t->tls_ca_file;
	c.ca_dir = t->tls_ca_dir;
	c.server_name = t->tls_server_name;
	c.cert_file = t->tls_cert_file;
	c.key_file = t->tls_key_file;
	c.protocols = t->tls_protocols;
	c.ciphers = t->tls_ciphers;
	c.verify = t->tls_verify;
	if (sl_tls_config_check(&c, &e) != SL_OK)
		return sl_config_fail(err, errlen, "%s", e.str);
	if (!t->redis.tls)
		return 0;
	if ((t->redis.tls_ctx = sl_tls_ctx_new(&c, &e)) == NULL)
		return sl_config_fail(err, errlen, "%s", e.str);
	if (!c.verify)
		sl_log(SL_LOG_WARN, "tls_verify_off", "msg=\"STREAMLAG_REDIS_"
		    "TLS_VERIFY=false: Redis's certificate is not checked; for "
		    "tests only\"");
	return 0;
}

/* What one row alone cannot check: thresholds in order. */
static int
check_target(const char *prefix, const struct sl_target *t, char *err,
    size_t errlen)
{
	char		 b1[256], b2[256];
	const char	*deg, *unh;

	if (t->redis_mode == SL_MODE_CLUSTER && t->redis.db != 0)
		return sl_config_fail(err, errlen, "REDIS_URL: database %d with "
		    "STREAMLAG_REDIS_MODE=cluster: a Redis Cluster has only "
		    "database 0", t->redis.db);
	if (t->redis.kind == SL_REDIS_SENTINEL &&
	    t->redis_mode == SL_MODE_CLUSTER)
		return sl_config_fail(err, errlen, "REDIS_URL: a redis-sentinel:// URL "
		    "with STREAMLAG_REDIS_MODE=cluster: Sentinel watches a "
		    "master and its replicas, not a Redis Cluster");
	if (t->lag_degraded <= t->lag_unhealthy)
		return 0;
	deg = row_name(sl_setting_find("STREAMLAG_LAG_DEGRADED"), prefix, b1,
	    sizeof(b1));
	unh = row_name(sl_setting_find("STREAMLAG_LAG_UNHEALTHY"), prefix, b2,
	    sizeof(b2));
	return sl_config_fail(err, errlen, "%s: expected at most %s (%lld), got %lld",
	    deg != NULL ? deg : "STREAMLAG_LAG_DEGRADED",
	    unh != NULL ? unh : "STREAMLAG_LAG_UNHEALTHY", t->lag_unhealthy,
	    t->lag_degraded);
}

/* A TCP listener beyond loopback needs STREAMLAG_ALLOW_TCP. */
static int
check_allow_tcp(const struct sl_config *cfg, char *err, size_t errlen)
{
	if (cfg->allow_tcp != NULL || sl_listen_is_loopback(cfg->listen))
		return 0;
	return sl_config_fail(err, errlen,
	    "STREAMLAG_LISTEN: %.100s is not a loopback "
	    "address (127.0.0.0/8 or [::1]; names are not resolved); set "
	    "STREAMLAG_ALLOW_TCP to the nginx hosts allowed to connect",
	    cfg->listen);
}

int
sl_config_load(struct sl_config *cfg, sl_lookup_fn lookup, void *ctx,
    char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	if ((cfg->running = sl_calloc(NSETTINGS, sizeof(char *))) == NULL) {
		sl_config_fail(err, errlen, "configuration: out of memory");
		return -1;
	}
	if (load_rows(NULL, cfg, &cfg->target, lookup, ctx, err, errlen) == -1 ||
	    check_target(NULL, &cfg->target, err, errlen) == -1 ||
	    load_tls(&cfg->target, err, errlen) == -1 ||
	    sl_config_targets_load(cfg, lookup, ctx, err, errlen) == -1 ||
	    load_jwt(cfg, err, errlen) == -1 ||
	    check_allow_tcp(cfg, err, errlen) == -1) {
		sl_config_free(cfg);
		return -1;
	}
	return 0;
}

int
sl_target_load(struct sl_target *t, const char *prefix, sl_lookup_fn lookup,
    void *ctx, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	if (load_rows(prefix, NULL, t, lookup, ctx, err, errlen) == -1 ||
	    check_target(prefix, t, err, errlen) == -1 ||
	    load_tls(t, err, errlen) == -1) {
		sl_target_free(t);
		return -1;
	}
	return 0;
}

void
sl_target_free(struct sl_target *t)
{
	sl_redis_addr_free(&t->redis);
	sl_free(t->redis_url_safe);
	sl_free(t->consumer_group);
	for (size_t i = 0; t->streams != NULL && i < t->nstreams; i++)
		sl_free(t->streams[i]);
	sl_free(t->streams);
	sl_free(t->stream_pattern);
	sl_free(t->tls_ca_file);
	sl_free(t->tls_ca_dir);
	sl_free(t->tls_server_name);
	sl_free(t->tls_cert_file);
	sl_free(t->tls_key_file);
	sl_free(t->tls_protocols);
	sl_free(t->tls_ciphers);
	memset(t, 0, sizeof(*t));
}

void
sl_config_free(struct sl_config *cfg)
{
	sl_target_free(&cfg->target);
	sl_config_targets_free(cfg);
	sl_free(cfg->targets_spec);
	sl_free(cfg->jwt_alg);
	sl_jws_key_free(cfg->jwt_pkey);
	if (cfg->jwt_key != NULL) {
		explicit_bzero(cfg->jwt_key, cfg->jwt_key_len);
		sl_free(cfg->jwt_key);
	}
	sl_free(cfg->jwt_secret_file);
	sl_free(cfg->jwt_public_key_file);
	sl_free(cfg->jwt_issuer);
	sl_free(cfg->jwt_audience);
	sl_free(cfg->jwt_scope);
	sl_free(cfg->listen);
	sl_free(cfg->user);
	sl_free(cfg->socket_group);
	sl_free(cfg->allow_tcp);
	for (size_t i = 0; cfg->running != NULL && i < NSETTINGS; i++)
		sl_free(cfg->running[i]);
	sl_free(cfg->running);
	memset(cfg, 0, sizeof(*cfg));
}

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

size_t
sl_config_restart_needed(const struct sl_config *old,
    const struct sl_config *new, const char **names, size_t max)
{
	size_t n = 0;

	if (old->running == NULL || new->running == NULL)
		return 0;
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (settings[i].reload || settings[i].parse == NULL ||
		    same(old->running[i], new->running[i]))
			continue;
		if (n < max)
			names[n] = settings[i].name;
		n++;
	}
	return n;
}

void
sl_config_keep_running(struct sl_config *old, struct sl_config *new)
{
	char **t = old->running;

	old->running = new->running;
	new->running = t;
}

