/* SPDX-License-Identifier: ISC */
/* REDIS_URL: redis://, rediss:// (TLS) and unix:// URLs, as redis-py reads
 * them, into a struct sl_redis_addr, and the URL with its password masked
 * for logs. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/config.h"
#include "streamlag/sentinel.h"
#include "streamlag/tls.h"

/* Percent-decodes a URL userinfo part into *out: 0, -1 on a bad escape,
 * -2 when out of memory. */
static int
pct_decode(const char *s, size_t len, char **out)
{
	char	*o = sl_malloc(len + 1);
	size_t	 k = 0;

	if ((*out = o) == NULL)
		return -2;
	for (size_t i = 0; i < len; i++) {
		char hex[3], *end;
		long v;

		if (s[i] != '%') {
			o[k++] = s[i];
			continue;
		}
		if (i + 2 >= len)
			goto bad;
		hex[0] = s[i + 1];
		hex[1] = s[i + 2];
		hex[2] = '\0';
		v = strtol(hex, &end, 16);
		if (*end != '\0' || !isxdigit((unsigned char)hex[0]) || v == 0)
			goto bad;
		o[k++] = (char)v;
		i += 2;
	}
	o[k] = '\0';
	return 0;
bad:
	sl_free(o);
	*out = NULL;
	return -1;
}

void
sl_redis_addr_free(struct sl_redis_addr *a)
{
	sl_free(a->host);
	sl_free(a->path);
	sl_free(a->user);
	for (size_t i = 0; i < a->nseeds; i++)
		sl_free(a->seeds[i].host);
	sl_free(a->seeds);
	if (a->sentinel != NULL) {
		sl_sentinel_url_free(a->sentinel);
		sl_free(a->sentinel);
	}
	sl_free(a->sentinel_user);
	if (a->sentinel_password != NULL) {
		explicit_bzero(a->sentinel_password,
		    strlen(a->sentinel_password));
		sl_free(a->sentinel_password);
	}
	sl_tls_ctx_free(a->tls_ctx);
	if (a->password != NULL) {
		explicit_bzero(a->password, strlen(a->password));
		sl_free(a->password);
	}
	memset(a, 0, sizeof(*a));
}

#define URL_FORMS "redis://[user:password@]host[:port][,host[:port]...][/db] (rediss:// for TLS), unix:///path[?db=N] or redis-sentinel://[user:password@]s1[:port][,s2[:port]...]/master-name[/db]"
#define URL_DB_RANGE "from 0 to 100000"

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

/* unix:///path[?db=N]; p is past "unix://". */
static int
url_unix(const char *p, struct sl_redis_addr *a, char *err, size_t errlen)
{
	const char *q;

	if (*p != '/')
		return sl_config_fail(err, errlen, "REDIS_URL: expected " URL_FORMS);
	q = strchr(p, '?');
	if ((a->path = sl_strndup(p, q ? (size_t)(q - p) : strlen(p))) == NULL)
		return sl_config_fail(err, errlen, "REDIS_URL: out of memory");
	if (q != NULL && parse_db_query(q + 1, &a->db) == -1)
		return sl_config_fail(err, errlen, "REDIS_URL: expected ?db=N with N "
		    URL_DB_RANGE);
	a->kind = SL_REDIS_UNIX;
	return 0;
}

/* [user:]password@ before the host, up to `slash`; *pp moves past it.  The
 * last '@', as redis-py (urllib) splits: a password may hold an unescaped
 * '@', a host never does. */
static int
url_userinfo(const char **pp, const char *slash, struct sl_redis_addr *a,
    char *err, size_t errlen)
{
	const char	*p = *pp, *at, *c;
	int		 rc = 0;

	if ((at = memrchr(p, '@', (size_t)(slash - p))) == NULL)
		return 0;
	if ((c = memchr(p, ':', (size_t)(at - p))) != NULL) {
		if (c > p)
			rc = pct_decode(p, (size_t)(c - p), &a->user);
		if (rc == 0 && at > c + 1)
			rc = pct_decode(c + 1, (size_t)(at - c - 1), &a->password);
	} else if (at > p)	/* redis://password@host */
		rc = pct_decode(p, (size_t)(at - p), &a->password);
	if (rc == -2)
		return sl_config_fail(err, errlen, "REDIS_URL: out of memory");
	if (rc == -1)
		return sl_config_fail(err, errlen, "REDIS_URL: bad %%-escape in user or "
		    "password");
	*pp = at + 1;
	return 0;
}

/* host, [v6] or either with :port, in [p, slash). */
static int
url_host(const char *p, const char *slash, struct sl_redis_addr *a,
    char *err, size_t errlen)
{
	const char	*colon, *rb;
	char		 port[8];
	long long	 v;
	size_t		 n;

	if (*p == '[') {
		if ((rb = memchr(p, ']', (size_t)(slash - p))) == NULL)
			goto bad;
		if ((a->host = sl_strndup(p + 1, (size_t)(rb - p - 1))) == NULL)
			goto oom;
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (colon == NULL && rb + 1 != slash)
			goto bad;
	} else {
		colon = memchr(p, ':', (size_t)(slash - p));
		if ((a->host = sl_strndup(p, (size_t)((colon != NULL ? colon :
		    slash) - p))) == NULL)
			goto oom;
	}
	if (a->host[0] == '\0')
		goto bad;
	if (colon == NULL)
		return 0;
	if ((n = (size_t)(slash - colon - 1)) == 0 || n >= sizeof(port))
		goto bad_port;
	memcpy(port, colon + 1, n);
	port[n] = '\0';
	if (sl_parse_ll(port, 1, 65535, &v) == -1)
		goto bad_port;
	a->port = (int)v;
	return 0;
bad_port:
	return sl_config_fail(err, errlen,
	    "REDIS_URL: expected a port from 1 to 65535");
bad:
	return sl_config_fail(err, errlen, "REDIS_URL: expected " URL_FORMS);
oom:
	return sl_config_fail(err, errlen, "REDIS_URL: out of memory");
}

/* Seed nodes host[:port] separated by commas in [p, slash): the first one
 * into a->host, a->port, and every one into a->seeds. */
static int
url_hosts(const char *p, const char *slash, struct sl_redis_addr *a,
    char *err, size_t errlen)
{
	struct sl_redis_addr one;
	const char	*end;

	for (;;) {
		end = memchr(p, ',', (size_t)(slash - p));
		end = end != NULL ? end : slash;
		if (a->nseeds == SL_REDIS_SEEDS_MAX)
			return sl_config_fail(err, errlen, "REDIS_URL: more than %d seed "
			    "nodes", SL_REDIS_SEEDS_MAX);
		memset(&one, 0, sizeof(one));
		one.port = 6379;
		if (url_host(p, end, &one, err, errlen) == -1) {
			sl_free(one.host);
			return -1;
		}
		if (a->seeds == NULL && (a->seeds = sl_calloc(
		    SL_REDIS_SEEDS_MAX, sizeof(*a->seeds))) == NULL) {
			sl_free(one.host);
			return sl_config_fail(err, errlen, "REDIS_URL: out of memory");
		}
		a->seeds[a->nseeds].host = one.host;
		a->seeds[a->nseeds++].port = one.port;
		if (end == slash)
			break;
		p = end + 1;
	}
	if ((a->host = sl_strdup(a->seeds[0].host)) == NULL)
		return sl_config_fail(err, errlen, "REDIS_URL: out of memory");
	a->port = a->seeds[0].port;
	return 0;
}

/* [/db][?db=N] from `slash` on. */
static int
url_db(const char *slash, struct sl_redis_addr *a, char *err, size_t errlen)
{
	long long v;

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
bad_db:
	return sl_config_fail(err, errlen, "REDIS_URL: expected a database number "
	    URL_DB_RANGE);
}

/* redis-sentinel:// and rediss-sentinel:// (sentinel.c parses them): the
 * nodes' user, password and database copied out, the first sentinel as
 * host:port for messages; with rediss-sentinel:// TLS to the sentinels and
 * to the nodes alike. */
static int
url_sentinel(const char *url, struct sl_redis_addr *a, char *err,
    size_t errlen)
{
	struct sl_sentinel_url *u;
	struct sl_error	 e;

	if ((u = sl_calloc(1, sizeof(*u))) == NULL)
		return sl_config_fail(err, errlen, "REDIS_URL: out of memory");
	if (sl_sentinel_url_parse(url, u, &e) != SL_OK) {
		sl_free(u);
		return sl_config_fail(err, errlen, "%s", e.str);
	}
	a->sentinel = u;
	a->kind = SL_REDIS_SENTINEL;
	a->db = u->db;
	a->port = u->sentinels[0].port;
	if ((a->host = sl_strdup(u->sentinels[0].host)) == NULL ||
	    (u->user != NULL && (a->user = sl_strdup(u->user)) == NULL) ||
	    (u->password != NULL &&
	    (a->password = sl_strdup(u->password)) == NULL))
		return sl_config_fail(err, errlen, "REDIS_URL: out of memory");
	a->tls = u->tls;	/* load_tls makes the context for both */
	return 0;
}

int
sl_parse_redis_url(const char *url, struct sl_redis_addr *a, char *err,
    size_t errlen)
{
	const char	*p, *slash;
	int		 rc;

	memset(a, 0, sizeof(*a));
	if (strncmp(url, "redis-sentinel://", 17) == 0 ||
	    strncmp(url, "rediss-sentinel://", 18) == 0)
		rc = url_sentinel(url, a, err, errlen);
	else if (strncmp(url, "unix://", 7) == 0)
		rc = url_unix(url + 7, a, err, errlen);
	else if (strncmp(url, "redis://", 8) == 0 ||
	    strncmp(url, "rediss://", 9) == 0) {
		a->tls = url[5] == 's';
		p = url + 8 + a->tls;
		a->kind = SL_REDIS_TCP;
		a->port = 6379;
		slash = p + strcspn(p, "/?");
		if ((rc = url_userinfo(&p, slash, a, err, errlen)) == 0 &&
		    (rc = url_hosts(p, slash, a, err, errlen)) == 0)
			rc = url_db(slash, a, err, errlen);
	} else
		return sl_config_fail(err, errlen, "REDIS_URL: expected " URL_FORMS);
	if (rc == -1)
		sl_redis_addr_free(a);
	return rc;
}

char *
sl_redis_url_safe(const char *url)
{
	const char	*p = strstr(url, "://"), *at, *c, *end, *keep;
	char		*out;
	size_t		 head, tail;

	if (p == NULL)
		return sl_strdup(url);
	p += 3;
	end = p + strcspn(p, "/?");
	if ((at = memrchr(p, '@', (size_t)(end - p))) == NULL)
		return sl_strdup(url);
	c = memchr(p, ':', (size_t)(at - p));
	keep = c != NULL ? c + 1 : p;	/* user: stays, the password goes */
	head = (size_t)(keep - url);
	tail = strlen(at);
	if ((out = sl_malloc(head + 3 + tail + 1)) == NULL)
		return NULL;
	memcpy(out, url, head);
	memcpy(out + head, "***", 3);
	memcpy(out + head + 3, at, tail + 1);
	return out;
}
