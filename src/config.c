/* SPDX-License-Identifier: ISC */
/* Configuration: every variable is read through one lookup function, checked
 * once, and a bad value stops startup with one line naming the variable and
 * what it accepts.  Secrets and passwords are never echoed. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "streamlag/config.h"
#include "streamlag/jws.h"
#include "streamlag/log.h"

#define ENV_FILE_MAX	(1024 * 1024)
#define SECRET_FILE_MAX	(64 * 1024)

static const char *const known_names[] = {
	"REDIS_URL", "STREAMLAG_STREAMS", "STREAMLAG_STREAM_PATTERN",
	"STREAMLAG_GROUPS", "STREAMLAG_LAG_DEGRADED", "STREAMLAG_LAG_UNHEALTHY",
	"STREAMLAG_STALL_MS", "STREAMLAG_LAG_COUNT_CAP", "STREAMLAG_DISCOVERY_MAX",
	"STREAMLAG_REQUEST_MAX_COMMANDS", "STREAMLAG_REQUEST_MAX_BYTES",
	"STREAMLAG_DISCOVERY_TTL_MS",
	"STREAMLAG_REDIS_TIMEOUT_MS", "STREAMLAG_JWT_ALG", "STREAMLAG_JWT_SECRET",
	"STREAMLAG_JWT_SECRET_FILE", "STREAMLAG_JWT_PUBLIC_KEY_FILE",
	"STREAMLAG_JWT_ISSUER", "STREAMLAG_JWT_AUDIENCE", "STREAMLAG_JWT_SCOPE",
	"STREAMLAG_JWT_LEEWAY_S", "STREAMLAG_LISTEN", "STREAMLAG_WORKERS",
	"STREAMLAG_SOCKET_MODE", "STREAMLAG_SOCKET_GROUP", "STREAMLAG_ALLOW_TCP",
	"STREAMLAG_HTTP_PORT", "STREAMLAG_CONFIG", "STREAMLAG_MAX_REQUESTS",
	"STREAMLAG_REQUEST_DEADLINE_MS", "STREAMLAG_GRACE_MS", "STREAMLAG_USER",
	"STREAMLAG_METRICS_CONSUMERS",
	"STREAMLAG_FIRST_BYTE_DEADLINE_MS", "STREAMLAG_READ_DEADLINE_MS",
	"STREAMLAG_IDLE_DEADLINE_MS",
};

static const char *const jwt_algs[] = {
	"HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
	"ES256", "ES384", "ES512",
};

static int
fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int
sl_config_known(const char *name)
{
	if (strncmp(name, "EVENT_TRANSPORT_", 16) == 0)
		return 1;	/* the seed's settings: accepted, mostly ignored */
	for (size_t i = 0; i < sizeof(known_names) / sizeof(known_names[0]); i++)
		if (strcmp(name, known_names[i]) == 0)
			return 1;
	return 0;
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

static int
get_ll(sl_lookup_fn lookup, void *ctx, const char *name, long long min,
    long long max, long long def, long long *out, char *err, size_t errlen)
{
	const char *v = lookup(ctx, name);

	*out = def;
	if (v == NULL)
		return 0;
	if (sl_parse_ll(v, min, max, out) == -1)
		return fail(err, errlen, "%s: expected an integer from %lld to "
		    "%lld, got \"%.64s\"", name, min, max, v);
	return 0;
}

static int
get_bool(sl_lookup_fn lookup, void *ctx, const char *name, int def, int *out,
    char *err, size_t errlen)
{
	const char *v = lookup(ctx, name);

	*out = def;
	if (v == NULL)
		return 0;
	if (sl_parse_bool(v, out) == -1)
		return fail(err, errlen, "%s: expected a boolean (true/false, 1/0, "
		    "yes/no, on/off), got \"%.64s\"", name, v);
	return 0;
}

static int
get_str(sl_lookup_fn lookup, void *ctx, const char *name, const char *def,
    char **out, char *err, size_t errlen)
{
	const char *v = lookup(ctx, name);

	if (v == NULL || *v == '\0')
		v = def;
	*out = NULL;
	if (v == NULL)
		return 0;
	if ((*out = strdup(v)) == NULL)
		return fail(err, errlen, "%s: out of memory", name);
	return 0;
}

/* Percent-decodes a URL userinfo part; NULL on a bad escape. */
static char *
pct_decode(const char *s, size_t len)
{
	char	*out = malloc(len + 1);
	size_t	 o = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			char hex[3];
			char *end;
			long v;

			if (i + 2 >= len) {
				free(out);
				return NULL;
			}
			hex[0] = s[i + 1];
			hex[1] = s[i + 2];
			hex[2] = '\0';
			v = strtol(hex, &end, 16);
			if (*end != '\0' || !isxdigit((unsigned char)hex[0]) ||
			    v == 0) {
				free(out);
				return NULL;
			}
			out[o++] = (char)v;
			i += 2;
		} else
			out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

void
sl_redis_addr_free(struct sl_redis_addr *a)
{
	free(a->host);
	free(a->path);
	free(a->user);
	if (a->password != NULL) {
		explicit_bzero(a->password, strlen(a->password));
		free(a->password);
	}
	memset(a, 0, sizeof(*a));
}

#define URL_FORMS "redis://[user:password@]host[:port][/db] or unix:///path[?db=N]"

/* "?db=N" (the only query accepted); 0 or -1. */
static int
parse_db_query(const char *q, int *db)
{
	long long v;

	if (strncmp(q, "db=", 3) != 0 || sl_parse_ll(q + 3, 0, 100000, &v) == -1)
		return -1;
	*db = (int)v;
	return 0;
}

int
sl_parse_redis_url(const char *url, struct sl_redis_addr *a, char *err,
    size_t errlen)
{
	const char	*p, *at, *slash, *hostend, *colon, *q;
	long long	 v;

	memset(a, 0, sizeof(*a));
	if (strncmp(url, "rediss://", 9) == 0)
		return fail(err, errlen, "REDIS_URL: rediss:// (TLS) is not "
		    "supported; use redis:// or unix:// (or a local TLS proxy)");
	if (strncmp(url, "unix://", 7) == 0) {
		p = url + 7;
		if (*p != '/')
			return fail(err, errlen, "REDIS_URL: expected " URL_FORMS);
		q = strchr(p, '?');
		if ((a->path = strndup(p, q ? (size_t)(q - p) : strlen(p))) == NULL)
			goto oom;
		if (q != NULL && parse_db_query(q + 1, &a->db) == -1) {
			sl_redis_addr_free(a);
			return fail(err, errlen, "REDIS_URL: expected ?db=N with N "
			    "from 0 to 100000");
		}
		a->kind = SL_REDIS_UNIX;
		return 0;
	}
	if (strncmp(url, "redis://", 8) != 0)
		return fail(err, errlen, "REDIS_URL: expected " URL_FORMS);
	p = url + 8;
	a->kind = SL_REDIS_TCP;
	a->port = 6379;
	slash = p + strcspn(p, "/?");
	/* The last '@', as redis-py (urllib) splits: a password may hold an
	 * unescaped '@', a host never does. */
	at = memrchr(p, '@', (size_t)(slash - p));
	if (at != NULL) {
		const char *c = memchr(p, ':', (size_t)(at - p));
		if (c != NULL) {
			if (c > p && (a->user = pct_decode(p, (size_t)(c - p))) == NULL)
				goto bad_userinfo;
			if (at > c + 1 &&
			    (a->password = pct_decode(c + 1, (size_t)(at - c - 1))) == NULL)
				goto bad_userinfo;
		} else if (at > p &&
		    (a->password = pct_decode(p, (size_t)(at - p))) == NULL)
			goto bad_userinfo;	/* redis://password@host */
		p = at + 1;
	}
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(slash - p));
		if (rb == NULL)
			goto bad;
		if ((a->host = strndup(p + 1, (size_t)(rb - p - 1))) == NULL)
			goto oom;
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (colon == NULL && rb + 1 != slash)
			goto bad;
		hostend = rb;
	} else {
		colon = memchr(p, ':', (size_t)(slash - p));
		hostend = colon != NULL ? colon : slash;
		if ((a->host = strndup(p, (size_t)(hostend - p))) == NULL)
			goto oom;
	}
	if (a->host[0] == '\0')
		goto bad;
	if (colon != NULL) {
		char port[8];
		size_t n = (size_t)(slash - colon - 1);
		if (n == 0 || n >= sizeof(port))
			goto bad_port;
		memcpy(port, colon + 1, n);
		port[n] = '\0';
		if (sl_parse_ll(port, 1, 65535, &v) == -1)
			goto bad_port;
		a->port = (int)v;
	}
	if (*slash == '/') {
		const char *dbs = slash + 1;
		size_t n = strcspn(dbs, "?");
		char db[16];
		if (n > 0) {
			if (n >= sizeof(db))
				goto bad_db;
			memcpy(db, dbs, n);
			db[n] = '\0';
			if (sl_parse_ll(db, 0, 100000, &v) == -1)
				goto bad_db;
			a->db = (int)v;
		}
		slash = dbs + n;
	}
	if (*slash == '?' && parse_db_query(slash + 1, &a->db) == -1)
		goto bad_db;
	return 0;
bad_userinfo:
	sl_redis_addr_free(a);
	return fail(err, errlen, "REDIS_URL: bad %%-escape in user or password");
bad_port:
	sl_redis_addr_free(a);
	return fail(err, errlen, "REDIS_URL: expected a port from 1 to 65535");
bad_db:
	sl_redis_addr_free(a);
	return fail(err, errlen, "REDIS_URL: expected a database number from 0 "
	    "to 100000");
bad:
	sl_redis_addr_free(a);
	return fail(err, errlen, "REDIS_URL: expected " URL_FORMS);
oom:
	sl_redis_addr_free(a);
	return fail(err, errlen, "REDIS_URL: out of memory");
}

/* The URL for logs: the password replaced by "***". */
static char *
url_safe(const char *url)
{
	const char	*p = strstr(url, "://"), *at, *c, *end, *keep;
	char		*out;
	size_t		 head, tail;

	if (p == NULL)
		return strdup(url);
	p += 3;
	end = p + strcspn(p, "/?");
	if ((at = memrchr(p, '@', (size_t)(end - p))) == NULL)
		return strdup(url);
	c = memchr(p, ':', (size_t)(at - p));
	keep = c != NULL ? c + 1 : p;	/* user: stays, the password goes */
	head = (size_t)(keep - url);
	tail = strlen(at);
	if ((out = malloc(head + 3 + tail + 1)) == NULL)
		return NULL;
	memcpy(out, url, head);
	memcpy(out + head, "***", 3);
	memcpy(out + head + 3, at, tail + 1);
	return out;
}

static int
parse_streams(const char *v, struct sl_config *cfg, char *err, size_t errlen)
{
	const char *p = v, *end = v + strlen(v);

	if ((cfg->streams = calloc(SL_MAX_STREAMS, sizeof(char *))) == NULL)
		return fail(err, errlen, "STREAMLAG_STREAMS: out of memory");
	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *b = p, *e = comma != NULL ? comma : end;
		size_t i;

		trim(&b, &e);
		if (b == e)
			return fail(err, errlen, "STREAMLAG_STREAMS: expected a "
			    "comma-separated list of stream names, got an empty "
			    "item");
		if ((size_t)(e - b) > SL_NAME_MAX)
			return fail(err, errlen, "STREAMLAG_STREAMS: a stream name "
			    "is longer than %d bytes", SL_NAME_MAX);
		for (i = 0; i < cfg->nstreams; i++)
			if (strlen(cfg->streams[i]) == (size_t)(e - b) &&
			    memcmp(cfg->streams[i], b, (size_t)(e - b)) == 0)
				break;
		if (i == cfg->nstreams) {
			if (cfg->nstreams == SL_MAX_STREAMS)
				return fail(err, errlen, "STREAMLAG_STREAMS: more "
				    "than %d streams", SL_MAX_STREAMS);
			if ((cfg->streams[cfg->nstreams] = strndup(b,
			    (size_t)(e - b))) == NULL)
				return fail(err, errlen, "STREAMLAG_STREAMS: out "
				    "of memory");
			cfg->nstreams++;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return 0;
}

/* What a non-regular file is, for the error line. */
static const char *
file_kind(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/* A secret other users can read gets one warning line; group-readable is
 * how packages share it with a service group (0640 root:streamlag).  `bits`
 * are the ones that matter: a public key is no secret, but one that others
 * can change lets them sign tokens. */
static void
warn_if_exposed(const char *name, const char *path, mode_t mode, mode_t bits)
{
	char q[300];

	if ((mode & bits) == 0)
		return;
	sl_log(SL_LOG_WARN, "secret_file_exposed", "setting=%s path=%s mode=%04o "
	    "hint=\"other users can %s it; chmod o-rwx\"", name,
	    sl_log_str(path, q, sizeof(q)), (unsigned)(mode & 07777),
	    (mode & S_IWOTH) ? "change" : "read");
}

/* Reads a small regular file whole; NULL with err set.  FIFOs and devices
 * are refused before any read: a FIFO without a writer would block the
 * master (inside SIGHUP), a device could be endless.  *mode (may be NULL)
 * receives the file's permission bits. */
static unsigned char *
read_file(const char *name, const char *path, size_t max, size_t *len,
    mode_t *mode, char *err, size_t errlen)
{
	struct stat	 st;
	unsigned char	*buf = NULL;
	size_t		 n = 0;
	ssize_t		 r;
	int		 fd;

	/* O_NONBLOCK: opening a FIFO for reading must not wait for a writer. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1) {
		fail(err, errlen, "%s: cannot read %s: %s", name, path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		fail(err, errlen, "%s: cannot read %s: %s", name, path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		fail(err, errlen, "%s: %s is %s; expected a regular file", name,
		    path, file_kind(st.st_mode));
		goto out;
	}
	if ((buf = malloc(max + 1)) == NULL) {
		fail(err, errlen, "%s: out of memory", name);
		goto out;
	}
	while (n <= max && (r = read(fd, buf + n, max + 1 - n)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			fail(err, errlen, "%s: cannot read %s: %s", name, path,
			    strerror(errno));
			goto bad;
		}
		n += (size_t)r;
	}
	if (n > max) {
		fail(err, errlen, "%s: %s is larger than %zu bytes", name, path,
		    max);
		goto bad;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	if (mode != NULL)
		*mode = st.st_mode;
	return buf;
bad:
	explicit_bzero(buf, n < max + 1 ? n : max + 1);
	free(buf);
	buf = NULL;
out:
	close(fd);
	return NULL;
}

static int
load_jwt(sl_lookup_fn lookup, void *ctx, struct sl_config *cfg, char *err,
    size_t errlen)
{
	const char	*alg = lookup(ctx, "STREAMLAG_JWT_ALG");
	const char	*secret = lookup(ctx, "STREAMLAG_JWT_SECRET");
	const char	*secret_file = lookup(ctx, "STREAMLAG_JWT_SECRET_FILE");
	const char	*pub_file = lookup(ctx, "STREAMLAG_JWT_PUBLIC_KEY_FILE");
	size_t		 i;
	mode_t		 mode = 0;
	int		 hs;

	if (alg == NULL || *alg == '\0')
		alg = "HS256";
	for (i = 0; i < sizeof(jwt_algs) / sizeof(jwt_algs[0]); i++)
		if (strcmp(alg, jwt_algs[i]) == 0)
			break;
	if (i == sizeof(jwt_algs) / sizeof(jwt_algs[0]))
		return fail(err, errlen, "STREAMLAG_JWT_ALG: expected one of HS256 "
		    "HS384 HS512 RS256 RS384 RS512 ES256 ES384 ES512, got "
		    "\"%.32s\"", alg);
	if ((cfg->jwt_alg = strdup(alg)) == NULL)
		return fail(err, errlen, "STREAMLAG_JWT_ALG: out of memory");
	hs = alg[0] == 'H';
	if (secret != NULL && *secret == '\0')
		secret = NULL;
	if (secret_file != NULL && *secret_file == '\0')
		secret_file = NULL;
	if (pub_file != NULL && *pub_file == '\0')
		pub_file = NULL;
	if (hs) {
		if (secret != NULL && secret_file != NULL)
			return fail(err, errlen, "STREAMLAG_JWT_SECRET: set either "
			    "it or STREAMLAG_JWT_SECRET_FILE, not both");
		if (secret != NULL) {
			cfg->jwt_key_len = strlen(secret);
			if ((cfg->jwt_key = (unsigned char *)strdup(secret)) == NULL)
				return fail(err, errlen, "STREAMLAG_JWT_SECRET: out "
				    "of memory");
		} else if (secret_file != NULL) {
			cfg->jwt_key = read_file("STREAMLAG_JWT_SECRET_FILE",
			    secret_file, SECRET_FILE_MAX, &cfg->jwt_key_len,
			    &mode, err, errlen);
			if (cfg->jwt_key == NULL)
				return -1;
			warn_if_exposed("STREAMLAG_JWT_SECRET_FILE", secret_file,
			    mode, S_IROTH | S_IWOTH);
			/* One trailing newline, as editors and echo leave it. */
			if (cfg->jwt_key_len > 0 &&
			    cfg->jwt_key[cfg->jwt_key_len - 1] == '\n')
				cfg->jwt_key[--cfg->jwt_key_len] = '\0';
			if (cfg->jwt_key_len > 0 &&
			    cfg->jwt_key[cfg->jwt_key_len - 1] == '\r')
				cfg->jwt_key[--cfg->jwt_key_len] = '\0';
		}
		if (cfg->jwt_key != NULL && cfg->jwt_key_len < SL_JWT_SECRET_MIN)
			return fail(err, errlen, "%s: expected at least %d bytes "
			    "(got %zu); make one with: openssl rand -hex 32",
			    secret != NULL ? "STREAMLAG_JWT_SECRET" :
			    "STREAMLAG_JWT_SECRET_FILE", SL_JWT_SECRET_MIN,
			    cfg->jwt_key_len);
		return 0;
	}
	if (secret != NULL || secret_file != NULL)
		return fail(err, errlen, "STREAMLAG_JWT_SECRET: not used with %s; "
		    "set STREAMLAG_JWT_PUBLIC_KEY_FILE", alg);
	if (pub_file == NULL)
		return fail(err, errlen, "STREAMLAG_JWT_PUBLIC_KEY_FILE: required "
		    "with STREAMLAG_JWT_ALG=%s", alg);
	cfg->jwt_key = read_file("STREAMLAG_JWT_PUBLIC_KEY_FILE", pub_file,
	    SECRET_FILE_MAX, &cfg->jwt_key_len, &mode, err, errlen);
	if (cfg->jwt_key == NULL)
		return -1;
	warn_if_exposed("STREAMLAG_JWT_PUBLIC_KEY_FILE", pub_file, mode, S_IWOTH);
	/* Parsed and checked now: a wrong key must stop startup, not turn
	 * every token into a 401. */
	if (sl_jws_key_load("STREAMLAG_JWT_PUBLIC_KEY_FILE", alg, cfg->jwt_key,
	    cfg->jwt_key_len, &cfg->jwt_pkey, err, errlen) == -1) {
		size_t n = strlen(err);
		if (n + 1 < errlen)
			snprintf(err + n, errlen - n, " (%s)", pub_file);
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
			return fail(err, errlen, "STREAMLAG_LISTEN: expected "
			    "unix:/absolute/path or HOST:PORT, got \"%.100s\"", v);
		return 0;
	}
	colon = strrchr(v, ':');
	if (colon == NULL || colon == v ||
	    sl_parse_ll(colon + 1, 1, 65535, &port) == -1 ||
	    (v[0] == '[' && colon[-1] != ']'))
		return fail(err, errlen, "STREAMLAG_LISTEN: expected "
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
 * connection they accept (sl_peer_allowed).  Without it such a listener is refused: libfcgi
 * must only ever hear from nginx. */
static int
load_allow_tcp(sl_lookup_fn lookup, void *ctx, struct sl_config *cfg,
    char *err, size_t errlen)
{
	const char *v = lookup(ctx, "STREAMLAG_ALLOW_TCP"), *p;

	if (v != NULL && *v != '\0') {
		for (p = v; *p != '\0'; ) {
			size_t n = strcspn(p, ",");
			char ip[16];
			struct in_addr a;

			if (n == 0 || n >= sizeof(ip))
				goto bad;
			memcpy(ip, p, n);
			ip[n] = '\0';
			if (inet_pton(AF_INET, ip, &a) != 1)
				goto bad;
			p += n + (p[n] == ',');
		}
		if ((cfg->allow_tcp = strdup(v)) == NULL)
			return fail(err, errlen, "STREAMLAG_ALLOW_TCP: out of memory");
		return 0;
	}
	if (!sl_listen_is_loopback(cfg->listen))
		return fail(err, errlen, "STREAMLAG_LISTEN: %.100s is not a loopback "
		    "address (127.0.0.0/8 or [::1]; names are not resolved); set "
		    "STREAMLAG_ALLOW_TCP to the nginx hosts allowed to connect",
		    cfg->listen);
	return 0;
bad:
	return fail(err, errlen, "STREAMLAG_ALLOW_TCP: expected IPv4 addresses "
	    "separated by commas, got \"%.100s\"", v);
}

int
sl_config_load(struct sl_config *cfg, sl_lookup_fn lookup, void *ctx,
    char *err, size_t errlen)
{
	const char	*v;
	long long	 n;

	memset(cfg, 0, sizeof(*cfg));
	v = lookup(ctx, "REDIS_URL");
	if (v == NULL || *v == '\0')
		v = "redis://localhost:6380/0";
	if (sl_parse_redis_url(v, &cfg->redis, err, errlen) == -1)
		goto fail;
	if ((cfg->redis_url_safe = url_safe(v)) == NULL) {
		fail(err, errlen, "REDIS_URL: out of memory");
		goto fail;
	}
	if (get_str(lookup, ctx, "EVENT_TRANSPORT_CONSUMER_GROUP",
	    "signalr-consumers", &cfg->consumer_group, err, errlen) == -1)
		goto fail;
	if (strlen(cfg->consumer_group) > SL_NAME_MAX) {
		fail(err, errlen, "EVENT_TRANSPORT_CONSUMER_GROUP: expected at most "
		    "%d bytes", SL_NAME_MAX);
		goto fail;
	}
	if (get_bool(lookup, ctx, "EVENT_TRANSPORT_USE_REDIS_STREAMS", 0,
	    &cfg->use_redis_streams, err, errlen) == -1 ||
	    get_ll(lookup, ctx, "EVENT_TRANSPORT_STREAM_MAX_LEN", 1,
	    1000000000000LL, 0, &cfg->stream_max_len, err, errlen) == -1)
		goto fail;
	v = lookup(ctx, "STREAMLAG_STREAMS");
	if (parse_streams(v != NULL ? v : "events:chat,events:ticket,events:remote",
	    cfg, err, errlen) == -1)
		goto fail;
	if (get_ll(lookup, ctx, "STREAMLAG_LAG_DEGRADED", 1, 1000000000000LL, 100,
	    &cfg->lag_degraded, err, errlen) == -1 ||
	    get_ll(lookup, ctx, "STREAMLAG_LAG_UNHEALTHY", 1, 1000000000000LL,
	    1000, &cfg->lag_unhealthy, err, errlen) == -1 ||
	    get_ll(lookup, ctx, "STREAMLAG_STALL_MS", 1, 86400000, 60000,
	    &cfg->stall_ms, err, errlen) == -1)
		goto fail;
	if (cfg->lag_degraded > cfg->lag_unhealthy) {
		fail(err, errlen, "STREAMLAG_LAG_DEGRADED: expected at most "
		    "STREAMLAG_LAG_UNHEALTHY (%lld), got %lld", cfg->lag_unhealthy,
		    cfg->lag_degraded);
		goto fail;
	}
	if (get_ll(lookup, ctx, "STREAMLAG_REDIS_TIMEOUT_MS", 10, 60000, 1000, &n,
	    err, errlen) == -1)
		goto fail;
	cfg->redis_timeout_ms = (int)n;
	if (get_ll(lookup, ctx, "STREAMLAG_LAG_COUNT_CAP", 1, 10000000, 10000,
	    &cfg->lag_count_cap, err, errlen) == -1 ||
	    get_ll(lookup, ctx, "STREAMLAG_DISCOVERY_MAX", 1, 10000000, 100000,
	    &cfg->discovery_max, err, errlen) == -1 ||
	    get_ll(lookup, ctx, "STREAMLAG_DISCOVERY_TTL_MS", 0, 3600000, 5000,
	    &cfg->discovery_ttl_ms, err, errlen) == -1 ||
	    get_ll(lookup, ctx, "STREAMLAG_REQUEST_MAX_COMMANDS", 10, 100000000,
	    100000, &cfg->request_max_commands, err, errlen) == -1 ||
	    get_ll(lookup, ctx, "STREAMLAG_REQUEST_MAX_BYTES", 65536,
	    1099511627776LL, 64LL * 1024 * 1024, &cfg->request_max_bytes, err,
	    errlen) == -1 ||
	    get_str(lookup, ctx, "STREAMLAG_STREAM_PATTERN", NULL,
	    &cfg->stream_pattern, err, errlen) == -1)
		goto fail;
	if (cfg->stream_pattern != NULL && strlen(cfg->stream_pattern) > SL_NAME_MAX) {
		fail(err, errlen, "STREAMLAG_STREAM_PATTERN: expected at most %d "
		    "bytes", SL_NAME_MAX);
		goto fail;
	}
	if (get_bool(lookup, ctx, "STREAMLAG_METRICS_CONSUMERS", 1,
	    &cfg->metrics_consumers, err, errlen) == -1)
		goto fail;
	v = lookup(ctx, "STREAMLAG_GROUPS");
	if (v != NULL && *v != '\0') {
		if (strcmp(v, "*") != 0) {
			fail(err, errlen, "STREAMLAG_GROUPS: expected \"*\" (every "
			    "group of each stream) or unset, got \"%.64s\"", v);
			goto fail;
		}
		cfg->all_groups = 1;
	}
	if (load_jwt(lookup, ctx, cfg, err, errlen) == -1 ||
	    get_str(lookup, ctx, "STREAMLAG_JWT_ISSUER", NULL, &cfg->jwt_issuer,
	    err, errlen) == -1 ||
	    get_str(lookup, ctx, "STREAMLAG_JWT_AUDIENCE", NULL,
	    &cfg->jwt_audience, err, errlen) == -1 ||
	    get_str(lookup, ctx, "STREAMLAG_JWT_SCOPE", NULL, &cfg->jwt_scope,
	    err, errlen) == -1 ||
	    get_ll(lookup, ctx, "STREAMLAG_JWT_LEEWAY_S", 0, SL_JWT_LEEWAY_MAX, 30,
	    &n, err, errlen) == -1)
		goto fail;
	cfg->jwt_leeway_s = (int)n;
	if (get_str(lookup, ctx, "STREAMLAG_LISTEN",
	    "unix:/run/streamlag/streamlag.sock", &cfg->listen, err, errlen) == -1 ||
	    check_listen(cfg->listen, err, errlen) == -1 ||
	    get_ll(lookup, ctx, "STREAMLAG_WORKERS", 0, 256, 0, &n, err,
	    errlen) == -1)
		goto fail;
	cfg->workers = (int)n;
	v = lookup(ctx, "STREAMLAG_SOCKET_MODE");
	cfg->socket_mode = 0660;
	if (v != NULL) {
		char *end;
		unsigned long m;

		errno = 0;
		m = strtoul(v, &end, 8);
		if (*v == '\0' || *end != '\0' || errno != 0 || m > 0777) {
			fail(err, errlen, "STREAMLAG_SOCKET_MODE: expected an octal "
			    "mode from 0 to 0777 (e.g. 0660), got \"%.16s\"", v);
			goto fail;
		}
		cfg->socket_mode = (unsigned)m;
	}
	v = lookup(ctx, "STREAMLAG_SOCKET_GROUP");
	if (v == NULL)
		v = "www-data";
	if (*v != '\0' && (cfg->socket_group = strdup(v)) == NULL) {
		fail(err, errlen, "STREAMLAG_SOCKET_GROUP: out of memory");
		goto fail;
	}
	if (load_allow_tcp(lookup, ctx, cfg, err, errlen) == -1)
		goto fail;
	return 0;
fail:
	sl_config_free(cfg);
	return -1;
}

void
sl_config_free(struct sl_config *cfg)
{
	sl_redis_addr_free(&cfg->redis);
	free(cfg->redis_url_safe);
	free(cfg->consumer_group);
	for (size_t i = 0; cfg->streams != NULL && i < cfg->nstreams; i++)
		free(cfg->streams[i]);
	free(cfg->streams);
	free(cfg->jwt_alg);
	sl_jws_key_free(cfg->jwt_pkey);
	if (cfg->jwt_key != NULL) {
		explicit_bzero(cfg->jwt_key, cfg->jwt_key_len);
		free(cfg->jwt_key);
	}
	free(cfg->jwt_issuer);
	free(cfg->jwt_audience);
	free(cfg->jwt_scope);
	free(cfg->listen);
	free(cfg->socket_group);
	free(cfg->allow_tcp);
	free(cfg->stream_pattern);
	memset(cfg, 0, sizeof(*cfg));
}

static int
valid_key(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	return 1;
}

char **
sl_env_file_read(const char *path, char *err, size_t errlen)
{
	unsigned char	*buf;
	char		**env = NULL, *line, *next;
	const char	*v0;
	const unsigned char *nul;
	size_t		 len, n = 0, lineno = 0;
	mode_t		 mode = 0;

	if ((buf = read_file("--config", path, ENV_FILE_MAX, &len, &mode, err,
	    errlen)) == NULL)
		return NULL;
	/* A NUL would end the text there and silently drop every later
	 * line, a STREAMLAG_JWT_AUDIENCE among them. */
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		for (const unsigned char *c = buf; c < nul; c++)
			lineno += *c == '\n';
		fail(err, errlen, "--config: %s:%zu: a NUL byte; expected text "
		    "KEY=VALUE lines", path, lineno + 1);
		goto out;
	}
	if ((env = calloc(1, sizeof(*env))) == NULL)
		goto oom;
	for (line = (char *)buf; line != NULL; line = next) {
		char *eq, *k, *v, *e, **grown;
		size_t vlen;

		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		k = line;
		while (*k == ' ' || *k == '\t')
			k++;
		e = k + strlen(k);
		while (e > k && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (*k == '\0' || *k == '#')
			continue;
		if (strncmp(k, "export ", 7) == 0)
			for (k += 7; *k == ' '; k++)
				;
		if ((eq = strchr(k, '=')) == NULL || !valid_key(k, (size_t)(eq - k))) {
			fail(err, errlen, "--config: %s:%zu: expected KEY=VALUE",
			    path, lineno);
			goto out;
		}
		v = eq + 1;
		vlen = strlen(v);
		if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0]) {
			v++;
			vlen -= 2;
		}
		if ((grown = realloc(env, (n + 2) * sizeof(*env))) == NULL)
			goto oom;
		env = grown;
		/* "KEY=VALUE\0" and then the line number, for errors. */
		if ((env[n] = malloc((size_t)(eq - k) + 1 + vlen + 1 +
		    sizeof(lineno))) == NULL)
			goto oom;
		memcpy(env[n], k, (size_t)(eq - k) + 1);
		memcpy(env[n] + (eq - k) + 1, v, vlen);
		env[n][(eq - k) + 1 + vlen] = '\0';
		memcpy(env[n] + (eq - k) + 1 + vlen + 1, &lineno, sizeof(lineno));
		env[++n] = NULL;
	}
	explicit_bzero(buf, len);
	free(buf);
	if (sl_env_get(env, "STREAMLAG_JWT_SECRET") != NULL ||
	    ((v0 = sl_env_get(env, "REDIS_URL")) != NULL && strchr(v0, '@')))
		warn_if_exposed("--config", path, mode, S_IROTH | S_IWOTH);
	return env;
oom:
	fail(err, errlen, "--config: out of memory");
out:
	explicit_bzero(buf, len);
	free(buf);
	sl_env_free(env);
	return NULL;
}

void
sl_env_free(char **env)
{
	if (env == NULL)
		return;
	for (char **e = env; *e != NULL; e++) {
		explicit_bzero(*e, strlen(*e));
		free(*e);
	}
	free(env);
}

size_t
sl_env_line(char **env, const char *name)
{
	const char	*v = sl_env_get(env, name);
	size_t		 line;

	if (v == NULL)
		return 0;
	memcpy(&line, v + strlen(v) + 1, sizeof(line));
	return line;
}

size_t
sl_env_entry_line(const char *entry)
{
	size_t line;

	memcpy(&line, entry + strlen(entry) + 1, sizeof(line));
	return line;
}

const char *
sl_env_get(char **env, const char *name)
{
	const char	*found = NULL;
	size_t		 n = strlen(name);

	if (env == NULL)
		return NULL;
	for (char **e = env; *e != NULL; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			found = *e + n + 1;	/* the last assignment wins */
	return found;
}
