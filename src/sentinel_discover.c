/* SPDX-License-Identifier: ISC */
/* Sentinel discovery (sentinel.h) over a caller's command callback: the
 * master a sentinel names is used only once its own ROLE says master, and
 * the replicas' offsets are read before the master's, so that a lag is
 * never under-stated.  No I/O of its own: the executor, a test program or
 * a fake runs the commands. */
#include <stdio.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/reply.h"
#include "streamlag/sentinel.h"

#define HP_MAX	300	/* "[v6]:port" of a host name */

/* Runs one command and parses its ROLE reply into role. */
static enum sl_err
ask_role(sl_sentinel_cmd_fn fn, void *ctx, const struct sl_hostport *addr,
    struct sl_role *role, struct sl_error *e)
{
	const char	*argv[] = { "ROLE" };
	redisReply	*r = NULL;
	enum sl_err	 rc;

	memset(role, 0, sizeof(*role));
	if ((rc = fn(ctx, addr, 0, 1, argv, &r, e)) != SL_OK)
		return rc;
	rc = sl_parse_role(r, role, e);
	sl_reply_free(r);
	return rc;
}

/* e's text after a prefix ("ROLE on h:p: ..."), code kept. */
static enum sl_err
prefix(struct sl_error *e, enum sl_err code, const char *what,
    const struct sl_hostport *addr)
{
	char	 hp[HP_MAX], was[SL_ERRSTR_MAX];

	if (e == NULL)
		return code;
	snprintf(was, sizeof(was), "%s", e->str);
	return sl_seterr(e, code, "%s %s: %s", what,
	    sl_hostport_fmt(addr, hp, sizeof(hp)), was);
}

/* Sentinel s's master, confirmed by its ROLE; the reason in e when not. */
static enum sl_err
ask_sentinel(const struct sl_sentinel_url *u, size_t s, sl_sentinel_cmd_fn fn,
    void *ctx, struct sl_discovery *d, struct sl_error *e)
{
	const char	*argv[] = { "SENTINEL", "get-master-addr-by-name",
			    u->master_name };
	struct sl_hostport addr;
	struct sl_role	 role;
	redisReply	*r = NULL;
	char		 hp[HP_MAX];
	int		 known;
	enum sl_err	 rc;

	if ((rc = fn(ctx, &u->sentinels[s], 1, 3, argv, &r, e)) != SL_OK)
		return rc;
	rc = sl_parse_master_addr(r, &addr, &known, e);
	sl_reply_free(r);
	if (rc != SL_OK)
		return rc;
	if (!known)
		return sl_seterr(e, SL_EREDIS, "no master named \"%s\"",
		    u->master_name);
	if ((rc = ask_role(fn, ctx, &addr, &role, e)) != SL_OK) {
		if (rc != SL_ENOMEM)
			rc = prefix(e, rc, "named", &addr);
		sl_hostport_free(&addr);
		return rc;
	}
	if (role.kind != SL_ROLE_MASTER) {
		rc = sl_seterr(e, SL_EREDIS, "named %s, whose role is %s",
		    sl_hostport_fmt(&addr, hp, sizeof(hp)),
		    sl_role_name(role.kind));
		sl_hostport_free(&addr);
	} else {
		d->master = addr;
		d->master_offset = role.offset;
	}
	sl_role_free(&role);
	return rc;
}

void
sl_discovery_free(struct sl_discovery *d)
{
	sl_hostport_free(&d->master);
	memset(d, 0, sizeof(*d));
}

/* "s1:26379: why; s2:26379: why" of every sentinel that failed. */
static enum sl_err
all_failed(const struct sl_sentinel_url *u, const struct sl_discovery *d,
    struct sl_error *e)
{
	char	 list[SL_ERRSTR_MAX], hp[HP_MAX];
	size_t	 off = 0;

	list[0] = '\0';
	for (size_t i = 0; i < d->nfailed && off < sizeof(list); i++) {
		int n = snprintf(list + off, sizeof(list) - off, "%s%s: %s",
		    i > 0 ? "; " : "", sl_hostport_fmt(
		    &u->sentinels[d->failed[i].sentinel], hp, sizeof(hp)),
		    d->failed[i].why);

		if (n < 0)
			break;
		off += (size_t)n;
	}
	return sl_seterr(e, SL_EREDIS, "no sentinel gave a master for \"%s\": "
	    "%s", u->master_name, list);
}

enum sl_err
sl_sentinel_discover(const struct sl_sentinel_url *u, size_t first,
    sl_sentinel_cmd_fn fn, void *ctx, struct sl_discovery *d,
    struct sl_error *e)
{
	struct sl_error	 why;
	enum sl_err	 rc;

	memset(d, 0, sizeof(*d));
	if (u->nsentinels == 0 || u->master_name == NULL)
		return sl_seterr(e, SL_EINPUT, "no sentinels to ask");
	for (size_t k = 0; k < u->nsentinels; k++) {
		size_t s = (first + k) % u->nsentinels;
		struct sl_sentinel_attempt *a;

		sl_error_clear(&why);
		if ((rc = ask_sentinel(u, s, fn, ctx, d, &why)) == SL_OK) {
			d->answered = s;
			return SL_OK;
		}
		if (rc == SL_ENOMEM) {
			sl_discovery_free(d);
			return sl_seterr(e, rc, NULL);
		}
		a = &d->failed[d->nfailed++];
		a->sentinel = s;
		a->code = rc;
		snprintf(a->why, sizeof(a->why), "%s", why.str);
	}
	return all_failed(u, d, e);
}

void
sl_replica_list_free(struct sl_replica_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		sl_hostport_free(&l->v[i].addr);
		sl_free(l->v[i].flags);
	}
	sl_free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
same_addr(const struct sl_hostport *a, const struct sl_hostport *b)
{
	return a->port == b->port && strcmp(a->host, b->host) == 0;
}

/* ROLE on one replica: up, with its offset, or why not. */
static enum sl_err
check_replica(sl_sentinel_cmd_fn fn, void *ctx,
    const struct sl_hostport *master, struct sl_replica *x)
{
	struct sl_role	 role;
	struct sl_error	 e;
	char		 hp[HP_MAX];
	enum sl_err	 rc;

	x->offset = x->lag = -1;
	sl_error_clear(&e);
	if ((rc = ask_role(fn, ctx, &x->addr, &role, &e)) != SL_OK) {
		snprintf(x->why, sizeof(x->why), "%s", e.str);
		return rc == SL_ENOMEM ? rc : SL_OK;
	}
	if (role.kind != SL_ROLE_REPLICA)
		snprintf(x->why, sizeof(x->why), "its role is %s",
		    sl_role_name(role.kind));
	else if (!same_addr(&role.master, master))
		snprintf(x->why, sizeof(x->why), "a replica of %s",
		    sl_hostport_fmt(&role.master, hp, sizeof(hp)));
	else if (strcmp(role.state, "connected") != 0 || role.offset < 0)
		snprintf(x->why, sizeof(x->why), "its link to the master is "
		    "%.64s", role.state);
	else {
		x->up = 1;
		x->offset = role.offset;
	}
	sl_role_free(&role);
	return SL_OK;
}

/* The sentinel's list into l, each entry's strings moved. */
static enum sl_err
list_from_sentinel(const struct sl_sentinel_url *u, size_t s,
    sl_sentinel_cmd_fn fn, void *ctx, struct sl_replica_list *l,
    struct sl_error *e)
{
	const char	*argv[] = { "SENTINEL", "replicas", u->master_name };
	struct sl_sentinel_replica *v;
	redisReply	*r = NULL;
	size_t		 n;
	enum sl_err	 rc;

	if ((rc = fn(ctx, &u->sentinels[s], 1, 3, argv, &r, e)) != SL_OK)
		return rc == SL_ENOMEM ? rc : prefix(e, rc, "sentinel",
		    &u->sentinels[s]);
	rc = sl_parse_sentinel_replicas(r, &v, &n, e);
	sl_reply_free(r);
	if (rc != SL_OK)
		return rc == SL_ENOMEM ? rc : prefix(e, rc, "sentinel",
		    &u->sentinels[s]);
	if (n > 0 && (l->v = sl_calloc(n, sizeof(*l->v))) == NULL) {
		sl_sentinel_replicas_free(v, n);
		return sl_seterr(e, SL_ENOMEM, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		l->v[i].addr = v[i].addr;
		l->v[i].flags = v[i].flags;
		l->v[i].offset = l->v[i].lag = -1;
		if (v[i].down)
			snprintf(l->v[i].why, sizeof(l->v[i].why),
			    "the sentinel flags it %s", v[i].flags);
		memset(&v[i], 0, sizeof(v[i]));
	}
	l->n = n;
	sl_sentinel_replicas_free(v, n);
	return SL_OK;
}

enum sl_err
sl_sentinel_replicas(const struct sl_sentinel_url *u, size_t s,
    const struct sl_hostport *master, sl_sentinel_cmd_fn fn, void *ctx,
    struct sl_replica_list *l, struct sl_error *e)
{
	struct sl_role	 role;
	enum sl_err	 rc;

	memset(l, 0, sizeof(*l));
	if (s >= u->nsentinels || u->master_name == NULL)
		return sl_seterr(e, SL_EINPUT, "no such sentinel");
	if ((rc = list_from_sentinel(u, s, fn, ctx, l, e)) != SL_OK)
		goto fail;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].why[0] == '\0' &&
		    (rc = check_replica(fn, ctx, master, &l->v[i])) != SL_OK) {
			sl_seterr(e, rc, NULL);
			goto fail;
		}
	/* The master last: each lag then counts at least what the replica
	 * was missing when it answered. */
	if ((rc = ask_role(fn, ctx, master, &role, e)) != SL_OK) {
		if (rc != SL_ENOMEM)
			prefix(e, rc, "ROLE on the master", master);
		goto fail;
	}
	if (role.kind != SL_ROLE_MASTER) {
		rc = sl_seterr(e, SL_EREDIS, "the master's role is now %s",
		    sl_role_name(role.kind));
		sl_role_free(&role);
		goto fail;
	}
	l->master_offset = role.offset;
	sl_role_free(&role);
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].up)
			l->v[i].lag = l->master_offset > l->v[i].offset ?
			    l->master_offset - l->v[i].offset : 0;
	return SL_OK;
fail:
	sl_replica_list_free(l);
	return rc;
}
