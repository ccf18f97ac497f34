/* SPDX-License-Identifier: ISC */
/* The replies Sentinel discovery reads (sentinel.h), checked type by type
 * before any element is used: SENTINEL get-master-addr-by-name, ROLE,
 * SENTINEL replicas (flat field/value lists, read by field name) and INFO
 * replication. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/sentinel.h"

#define ADDR_CMD	"SENTINEL get-master-addr-by-name"
#define REPLICAS_CMD	"SENTINEL replicas"

/* A string (bulk or status) of r, or NULL. */
static const char *
rstr(const redisReply *r)
{
	if (r == NULL || (r->type != REDIS_REPLY_STRING &&
	    r->type != REDIS_REPLY_STATUS))
		return NULL;
	return r->str;
}

/* A bounded decimal from s[0..len); -1 when it is not one. */
static int
parse_ll(const char *s, size_t len, long long min, long long max,
    long long *v)
{
	char	 buf[24], *end;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (buf[0] != '-' && (buf[0] < '0' || buf[0] > '9'))
		return -1;
	errno = 0;
	*v = strtoll(buf, &end, 10);
	if (errno != 0 || *end != '\0' || *v < min || *v > max)
		return -1;
	return 0;
}

/* An integer reply, or a string holding one. */
static int
rll(const redisReply *r, long long min, long long max, long long *v)
{
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER) {
		*v = r->integer;
		return *v < min || *v > max ? -1 : 0;
	}
	if (rstr(r) == NULL)
		return -1;
	return parse_ll(r->str, r->len, min, max, v);
}

static enum sl_err
error_reply(const redisReply *r, const char *cmd, struct sl_error *e)
{
	return sl_seterr(e, SL_EREDIS, "%s: %.*s", cmd,
	    (int)(r->len > 200 ? 200 : r->len), r->str);
}

/* host and port replies into h; SL_EPROTO (naming what) when they are not
 * a non-empty host and a port from 1 to 65535. */
static enum sl_err
hostport(const redisReply *host, const redisReply *port,
    struct sl_hostport *h, const char *what, struct sl_error *e)
{
	long long p;

	if (rstr(host) == NULL || host->len == 0 ||
	    memchr(host->str, '\0', host->len) != NULL)
		return sl_seterr(e, SL_EPROTO, "%s: the host is not a string",
		    what);
	if (rll(port, 1, 65535, &p) == -1)
		return sl_seterr(e, SL_EPROTO, "%s: the port is not a number "
		    "from 1 to 65535", what);
	if ((h->host = sl_strndup(host->str, host->len)) == NULL)
		return sl_seterr(e, SL_ENOMEM, NULL);
	h->port = (int)p;
	return SL_OK;
}

enum sl_err
sl_parse_master_addr(const redisReply *r, struct sl_hostport *addr,
    int *known, struct sl_error *e)
{
	enum sl_err rc;

	memset(addr, 0, sizeof(*addr));
	*known = 0;
	if (r == NULL)
		return sl_seterr(e, SL_EPROTO, ADDR_CMD ": no reply");
	if (r->type == REDIS_REPLY_ERROR)
		return error_reply(r, ADDR_CMD, e);
	if (r->type == REDIS_REPLY_NIL)
		return SL_OK;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
		return sl_seterr(e, SL_EPROTO, ADDR_CMD ": expected nil or an "
		    "array of host and port");
	if ((rc = hostport(r->element[0], r->element[1], addr, ADDR_CMD,
	    e)) != SL_OK)
		return rc;
	*known = 1;
	return SL_OK;
}

const char *
sl_role_name(enum sl_role_kind kind)
{
	switch (kind) {
	case SL_ROLE_MASTER:	return "master";
	case SL_ROLE_REPLICA:	return "replica";
	case SL_ROLE_SENTINEL:	return "sentinel";
	}
	return "unknown";
}

void
sl_role_free(struct sl_role *role)
{
	for (size_t i = 0; i < role->nreplicas; i++)
		sl_hostport_free(&role->replicas[i].addr);
	sl_free(role->replicas);
	sl_hostport_free(&role->master);
	sl_free(role->state);
	for (size_t i = 0; i < role->nnames; i++)
		sl_free(role->names[i]);
	sl_free(role->names);
	memset(role, 0, sizeof(*role));
}

/* ["master", offset, [[ip, port, offset], ...]] */
static enum sl_err
role_master(const redisReply *r, struct sl_role *role, struct sl_error *e)
{
	const redisReply *list;
	enum sl_err	 rc;

	role->kind = SL_ROLE_MASTER;
	if (r->elements != 3 || rll(r->element[1], 0, LLONG_MAX,
	    &role->offset) == -1 || r->element[2]->type != REDIS_REPLY_ARRAY)
		return sl_seterr(e, SL_EPROTO, "ROLE: expected [\"master\", "
		    "offset, [replicas]]");
	list = r->element[2];
	if (list->elements == 0)
		return SL_OK;
	if (list->elements > SL_SENTINEL_REPLICAS_MAX)
		return sl_seterr(e, SL_EPROTO, "ROLE: more than %d replicas",
		    SL_SENTINEL_REPLICAS_MAX);
	if ((role->replicas = sl_calloc(list->elements,
	    sizeof(*role->replicas))) == NULL)
		return sl_seterr(e, SL_ENOMEM, NULL);
	for (size_t i = 0; i < list->elements; i++) {
		const redisReply *x = list->element[i];
		struct sl_role_replica *rr = &role->replicas[i];

		if (x->type != REDIS_REPLY_ARRAY || x->elements != 3)
			return sl_seterr(e, SL_EPROTO, "ROLE: replica %zu is not "
			    "[ip, port, offset]", i);
		if ((rc = hostport(x->element[0], x->element[1], &rr->addr,
		    "ROLE replica", e)) != SL_OK)
			return rc;
		role->nreplicas++;
		if (rll(x->element[2], 0, LLONG_MAX, &rr->offset) == -1)
			return sl_seterr(e, SL_EPROTO, "ROLE: replica %zu's "
			    "offset is not a number", i);
	}
	return SL_OK;
}

/* ["slave", ip, port, state, offset]; the offset is -1 before a sync. */
static enum sl_err
role_replica(const redisReply *r, struct sl_role *role, struct sl_error *e)
{
	enum sl_err rc;

	role->kind = SL_ROLE_REPLICA;
	if (r->elements != 5)
		return sl_seterr(e, SL_EPROTO, "ROLE: expected [\"slave\", ip, "
		    "port, state, offset]");
	if ((rc = hostport(r->element[1], r->element[2], &role->master,
	    "ROLE master", e)) != SL_OK)
		return rc;
	if (rstr(r->element[3]) == NULL ||
	    rll(r->element[4], -1, LLONG_MAX, &role->offset) == -1)
		return sl_seterr(e, SL_EPROTO, "ROLE: a replica's state is not a "
		    "string or its offset not a number");
	if ((role->state = sl_strndup(r->element[3]->str,
	    r->element[3]->len)) == NULL)
		return sl_seterr(e, SL_ENOMEM, NULL);
	return SL_OK;
}

/* ["sentinel", [master names]] */
static enum sl_err
role_sentinel(const redisReply *r, struct sl_role *role, struct sl_error *e)
{
	const redisReply *list;

	role->kind = SL_ROLE_SENTINEL;
	role->offset = -1;
	if (r->elements != 2 || r->element[1]->type != REDIS_REPLY_ARRAY)
		return sl_seterr(e, SL_EPROTO, "ROLE: expected [\"sentinel\", "
		    "[names]]");
	list = r->element[1];
	if (list->elements == 0)
		return SL_OK;
	if ((role->names = sl_calloc(list->elements, sizeof(char *))) == NULL)
		return sl_seterr(e, SL_ENOMEM, NULL);
	for (size_t i = 0; i < list->elements; i++) {
		if (rstr(list->element[i]) == NULL)
			return sl_seterr(e, SL_EPROTO, "ROLE: sentinel master name "
			    "%zu is not a string", i);
		if ((role->names[i] = sl_strndup(list->element[i]->str,
		    list->element[i]->len)) == NULL)
			return sl_seterr(e, SL_ENOMEM, NULL);
		role->nnames++;
	}
	return SL_OK;
}

enum sl_err
sl_parse_role(const redisReply *r, struct sl_role *role, struct sl_error *e)
{
	const char	*kind;
	enum sl_err	 rc;

	memset(role, 0, sizeof(*role));
	if (r == NULL)
		return sl_seterr(e, SL_EPROTO, "ROLE: no reply");
	if (r->type == REDIS_REPLY_ERROR)
		return error_reply(r, "ROLE", e);
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
	    (kind = rstr(r->element[0])) == NULL)
		return sl_seterr(e, SL_EPROTO, "ROLE: expected an array starting "
		    "with the role");
	if (strcmp(kind, "master") == 0)
		rc = role_master(r, role, e);
	else if (strcmp(kind, "slave") == 0 || strcmp(kind, "replica") == 0)
		rc = role_replica(r, role, e);
	else if (strcmp(kind, "sentinel") == 0)
		rc = role_sentinel(r, role, e);
	else
		rc = sl_seterr(e, SL_EPROTO, "ROLE: unknown role \"%.32s\"",
		    kind);
	if (rc != SL_OK)
		sl_role_free(role);
	return rc;
}

void
sl_sentinel_replicas_free(struct sl_sentinel_replica *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sl_hostport_free(&v[i].addr);
		sl_free(v[i].flags);
	}
	sl_free(v);
}

/* The value of field name in a flat field/value array, or NULL. */
static const redisReply *
field(const redisReply *r, const char *name)
{
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const char *k = rstr(r->element[i]);

		if (k != NULL && strcmp(k, name) == 0)
			return r->element[i + 1];
	}
	return NULL;
}

/* Whether comma-separated flags hold word. */
static int
has_flag(const char *flags, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = flags; *p != '\0'; p += strcspn(p, ",")) {
		if (*p == ',')
			p++;
		if (strncmp(p, word, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

static enum sl_err
replica_entry(const redisReply *x, size_t i, struct sl_sentinel_replica *s,
    struct sl_error *e)
{
	const redisReply *flags, *link;
	enum sl_err	 rc;

	if (x->type != REDIS_REPLY_ARRAY || x->elements % 2 != 0)
		return sl_seterr(e, SL_EPROTO, REPLICAS_CMD ": entry %zu is not "
		    "a field/value list", i);
	if ((rc = hostport(field(x, "ip"), field(x, "port"), &s->addr,
	    REPLICAS_CMD " ip/port", e)) != SL_OK)
		return rc;
	if (rstr(flags = field(x, "flags")) == NULL)
		return sl_seterr(e, SL_EPROTO, REPLICAS_CMD ": entry %zu has no "
		    "flags", i);
	if ((s->flags = sl_strndup(flags->str, flags->len)) == NULL)
		return sl_seterr(e, SL_ENOMEM, NULL);
	s->down = has_flag(s->flags, "s_down") || has_flag(s->flags, "o_down") ||
	    has_flag(s->flags, "disconnected");
	link = field(x, "master-link-status");
	s->link_ok = rstr(link) != NULL && strcmp(link->str, "ok") == 0;
	s->offset = -1;
	if (field(x, "slave-repl-offset") != NULL &&
	    rll(field(x, "slave-repl-offset"), -1, LLONG_MAX, &s->offset) == -1)
		return sl_seterr(e, SL_EPROTO, REPLICAS_CMD ": entry %zu's "
		    "slave-repl-offset is not a number", i);
	return SL_OK;
}

enum sl_err
sl_parse_sentinel_replicas(const redisReply *r,
    struct sl_sentinel_replica **v, size_t *n, struct sl_error *e)
{
	struct sl_sentinel_replica *a = NULL;
	size_t		 k = 0;
	enum sl_err	 rc = SL_OK;

	*v = NULL;
	*n = 0;
	if (r == NULL)
		return sl_seterr(e, SL_EPROTO, REPLICAS_CMD ": no reply");
	if (r->type == REDIS_REPLY_ERROR)
		return error_reply(r, REPLICAS_CMD, e);
	if (r->type != REDIS_REPLY_ARRAY)
		return sl_seterr(e, SL_EPROTO, REPLICAS_CMD ": expected an array");
	if (r->elements > SL_SENTINEL_REPLICAS_MAX)
		return sl_seterr(e, SL_EPROTO, REPLICAS_CMD ": more than %d "
		    "replicas", SL_SENTINEL_REPLICAS_MAX);
	if (r->elements == 0)
		return SL_OK;
	if ((a = sl_calloc(r->elements, sizeof(*a))) == NULL)
		return sl_seterr(e, SL_ENOMEM, NULL);
	for (k = 0; k < r->elements; k++)
		if ((rc = replica_entry(r->element[k], k, &a[k], e)) != SL_OK)
			break;
	if (rc != SL_OK) {
		sl_sentinel_replicas_free(a, k + 1);
		return rc;
	}
	*v = a;
	*n = k;
	return SL_OK;
}

/* One "key:value" line of INFO replication into info; 0, or -1 when a
 * known key has a bad value. */
static int
info_line(const char *l, size_t len, struct sl_repl_info *info, int *role)
{
	const char *c = memchr(l, ':', len);
	size_t	    k, vl;

	if (c == NULL)
		return 0;
	k = (size_t)(c - l);
	vl = len - k - 1;
	if (k == 4 && memcmp(l, "role", 4) == 0) {
		if (vl == 6 && memcmp(c + 1, "master", 6) == 0)
			info->kind = SL_ROLE_MASTER;
		else if (vl == 5 && memcmp(c + 1, "slave", 5) == 0)
			info->kind = SL_ROLE_REPLICA;
		else
			return -1;
		*role = 1;
	} else if (k == 18 && memcmp(l, "master_repl_offset", 18) == 0)
		return parse_ll(c + 1, vl, 0, LLONG_MAX,
		    &info->master_repl_offset);
	else if (k == 17 && memcmp(l, "slave_repl_offset", 17) == 0)
		return parse_ll(c + 1, vl, 0, LLONG_MAX,
		    &info->slave_repl_offset);
	else if (k == 18 && memcmp(l, "master_link_status", 18) == 0)
		info->link_up = vl == 2 && memcmp(c + 1, "up", 2) == 0;
	return 0;
}

enum sl_err
sl_parse_info_replication(const redisReply *r, struct sl_repl_info *info,
    struct sl_error *e)
{
	const char	*p, *end;
	int		 role = 0;

	memset(info, 0, sizeof(*info));
	info->master_repl_offset = info->slave_repl_offset = -1;
	info->link_up = -1;
	if (r == NULL)
		return sl_seterr(e, SL_EPROTO, "INFO replication: no reply");
	if (r->type == REDIS_REPLY_ERROR)
		return error_reply(r, "INFO replication", e);
	if (r->type != REDIS_REPLY_STRING)
		return sl_seterr(e, SL_EPROTO, "INFO replication: expected a "
		    "bulk string");
	for (p = r->str, end = r->str + r->len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;
		size_t	    len = (size_t)(le - p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (info_line(p, len, info, &role) == -1)
			return sl_seterr(e, SL_EPROTO, "INFO replication: bad "
			    "value in \"%.*s\"", (int)(len > 80 ? 80 : len), p);
		p = nl != NULL ? nl + 1 : end;
	}
	if (!role || info->master_repl_offset == -1)
		return sl_seterr(e, SL_EPROTO, "INFO replication: no role or no "
		    "master_repl_offset");
	return SL_OK;
}
