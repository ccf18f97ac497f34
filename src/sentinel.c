/* SPDX-License-Identifier: ISC */
/* The redis-sentinel:// URL (sentinel.h): split as REDIS_URL is (the last
 * '@' ends the userinfo, IPv6 hosts in brackets), into a list of sentinels,
 * a master name and a database. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/sentinel.h"

#define SENTINEL_FORMS "redis-sentinel://[user:password@]host[:port]" \
	"[,host[:port]...]/master-name[/db] (rediss-sentinel:// for TLS)"

static void
secret_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		sl_free(s);
	}
}

void
sl_hostport_free(struct sl_hostport *h)
{
	sl_free(h->host);
	h->host = NULL;
	h->port = 0;
}

void
sl_sentinel_url_free(struct sl_sentinel_url *u)
{
	for (size_t i = 0; i < u->nsentinels; i++)
		sl_hostport_free(&u->sentinels[i]);
	sl_free(u->master_name);
	sl_free(u->user);
	secret_free(u->password);
	sl_free(u->sentinel_user);
	secret_free(u->sentinel_password);
	memset(u, 0, sizeof(*u));
}

const char *
sl_hostport_fmt(const struct sl_hostport *h, char *buf, size_t len)
{
	const char *host = h->host != NULL ? h->host : "";

	snprintf(buf, len, strchr(host, ':') != NULL ? "[%s]:%d" : "%s:%d",
	    host, h->port);
	return buf;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* %-decodes s[0..len) into a new string; SL_EINPUT on a bad escape or an
 * escaped NUL. */
static enum sl_err
pct_decode(const char *s, size_t len, char **out)
{
	char	*d;
	size_t	 o = 0;

	if ((d = sl_malloc(len + 1)) == NULL)
		return SL_ENOMEM;
	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] != '%') {
			d[o++] = s[i];
			continue;
		}
		if (i + 2 >= len) {
			d[o] = '\0';
			secret_free(d);
			return SL_EINPUT;
		}
		hi = hexval(s[i + 1]);
		lo = hexval(s[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			d[o] = '\0';
			secret_free(d);
			return SL_EINPUT;
		}
		d[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	d[o] = '\0';
	*out = d;
	return SL_OK;
}

/* 1..max from the digits s[0..len) (no sign, no spaces); -1 otherwise. */
static long
parse_num(const char *s, size_t len, long min, long max)
{
	long v = 0;

	if (len == 0 || len > 9)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v < min || v > max ? -1 : v;
}

/* user:password, password alone (as REDIS_URL), either part may be empty. */
static enum sl_err
parse_userinfo(const char *p, size_t len, struct sl_sentinel_url *u,
    struct sl_error *e)
{
	const char	*c = memchr(p, ':', len);
	enum sl_err	 rc = SL_OK;

	if (c != NULL) {
		if (c > p)
			rc = pct_decode(p, (size_t)(c - p), &u->user);
		if (rc == SL_OK && p + len > c + 1)
			rc = pct_decode(c + 1, (size_t)(p + len - c - 1),
			    &u->password);
	} else if (len > 0)
		rc = pct_decode(p, len, &u->password);
	if (rc == SL_EINPUT)
		return sl_seterr(e, rc, "REDIS_URL: bad %%-escape in user or "
		    "password");
	return rc == SL_ENOMEM ? sl_seterr(e, rc, NULL) : rc;
}

/* One "host[:port]" or "[v6][:port]" of the sentinel list. */
static enum sl_err
parse_host(const char *p, size_t len, struct sl_hostport *h,
    struct sl_error *e)
{
	const char	*end = p + len, *hb = p, *he, *colon;
	long		 port = SL_SENTINEL_PORT;

	if (len > 0 && *p == '[') {
		const char *rb = memchr(p, ']', len);

		if (rb == NULL || rb == p + 1 || (rb + 1 != end && rb[1] != ':'))
			goto bad;
		hb = p + 1;
		he = rb;
		colon = rb + 1 != end ? rb + 1 : NULL;
	} else {
		colon = memchr(p, ':', len);
		he = colon != NULL ? colon : end;
		if (he == p || memchr(p, '[', len) || memchr(p, ']', len))
			goto bad;
	}
	if (colon != NULL &&
	    (port = parse_num(colon + 1, (size_t)(end - colon - 1), 1,
	    65535)) == -1)
		return sl_seterr(e, SL_EINPUT, "REDIS_URL: expected a sentinel "
		    "port from 1 to 65535 in \"%.*s\"", (int)len, p);
	for (const char *c = hb; c < he; c++)
		if (iscntrl((unsigned char)*c) || *c == ' ')
			goto bad;
	if ((h->host = sl_strndup(hb, (size_t)(he - hb))) == NULL)
		return sl_seterr(e, SL_ENOMEM, NULL);
	h->port = (int)port;
	return SL_OK;
bad:
	return sl_seterr(e, SL_EINPUT, "REDIS_URL: expected a sentinel as "
	    "host[:port] or [IPv6][:port], got \"%.*s\"", (int)len, p);
}

static enum sl_err
parse_hosts(const char *p, size_t len, struct sl_sentinel_url *u,
    struct sl_error *e)
{
	const char	*end = p + len;
	enum sl_err	 rc;

	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *he = comma != NULL ? comma : end;

		if (u->nsentinels == SL_SENTINEL_MAX)
			return sl_seterr(e, SL_EINPUT, "REDIS_URL: at most %d "
			    "sentinels", SL_SENTINEL_MAX);
		if ((rc = parse_host(p, (size_t)(he - p),
		    &u->sentinels[u->nsentinels], e)) != SL_OK)
			return rc;
		u->nsentinels++;
		if (comma == NULL)
			return SL_OK;
		p = comma + 1;
	}
}

/* "MASTER_NAME[/db]" after the hosts' slash. */
static enum sl_err
parse_path(const char *p, struct sl_sentinel_url *u, struct sl_error *e)
{
	const char	*slash = strchr(p, '/');
	size_t		 n = slash != NULL ? (size_t)(slash - p) : strlen(p);
	enum sl_err	 rc;
	long		 db;

	if (n == 0)
		return sl_seterr(e, SL_EINPUT, "REDIS_URL: expected the master "
		    "name after the sentinels: " SENTINEL_FORMS);
	if ((rc = pct_decode(p, n, &u->master_name)) == SL_ENOMEM)
		return sl_seterr(e, rc, NULL);
	if (rc != SL_OK || strlen(u->master_name) > SL_SENTINEL_NAME_MAX)
		goto badname;
	for (const char *c = u->master_name; *c != '\0'; c++)
		if (iscntrl((unsigned char)*c) || *c == ' ')
			goto badname;
	if (slash == NULL || slash[1] == '\0')
		return SL_OK;
	if ((db = parse_num(slash + 1, strlen(slash + 1), 0, 100000)) == -1)
		return sl_seterr(e, SL_EINPUT, "REDIS_URL: expected a database "
		    "number from 0 to 100000 after the master name");
	u->db = (int)db;
	return SL_OK;
badname:
	return sl_seterr(e, SL_EINPUT, "REDIS_URL: expected a master name of "
	    "1 to %d bytes without spaces, control characters or bad "
	    "%%-escapes", SL_SENTINEL_NAME_MAX);
}

enum sl_err
sl_sentinel_url_parse(const char *url, struct sl_sentinel_url *u,
    struct sl_error *e)
{
	const char	*p, *slash, *at;
	enum sl_err	 rc;

	memset(u, 0, sizeof(*u));
	if (strncmp(url, "redis-sentinel://", 17) == 0)
		p = url + 17;
	else if (strncmp(url, "rediss-sentinel://", 18) == 0) {
		p = url + 18;
		u->tls = 1;
	} else
		return sl_seterr(e, SL_EINPUT, "REDIS_URL: expected "
		    SENTINEL_FORMS);
	if (strpbrk(p, "?#") != NULL) {
		rc = sl_seterr(e, SL_EINPUT, "REDIS_URL: a sentinel URL takes no "
		    "query or fragment; expected " SENTINEL_FORMS);
		goto fail;
	}
	if ((slash = strchr(p, '/')) == NULL) {
		rc = sl_seterr(e, SL_EINPUT, "REDIS_URL: expected the master "
		    "name after the sentinels: " SENTINEL_FORMS);
		goto fail;
	}
	/* The last '@', as for REDIS_URL: a password may hold an unescaped
	 * '@', a host never does. */
	if ((at = memrchr(p, '@', (size_t)(slash - p))) != NULL) {
		if ((rc = parse_userinfo(p, (size_t)(at - p), u, e)) != SL_OK)
			goto fail;
		p = at + 1;
	}
	if ((rc = parse_hosts(p, (size_t)(slash - p), u, e)) != SL_OK ||
	    (rc = parse_path(slash + 1, u, e)) != SL_OK)
		goto fail;
	return SL_OK;
fail:
	sl_sentinel_url_free(u);
	return rc;
}
