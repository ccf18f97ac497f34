/* SPDX-License-Identifier: ISC */
/* Sentinel discovery (sentinel.h) against real sentinels and redis-servers:
 * the command callback here is a blocking hiredis connection per command
 * (AUTH with the sentinel credentials for a sentinel, with the URL's for a
 * node, then SELECT), which is enough for a test; the executor runs the
 * same discovery without blocking.  Reads REDIS_URL (redis-sentinel://)
 * and STREAMLAG_SENTINEL_USERNAME / _PASSWORD; prints
 *	master HOST:PORT
 *	answered HOST:PORT		the sentinel whose answer held
 *	refused HOST:PORT: WHY		each sentinel asked before it
 *	replica HOST:PORT up lag N	or: replica HOST:PORT down: WHY
 * (exit 0); when no sentinel gave a master, the refused lines and
 * "ERR: why" (exit 1).  With -n, no replica list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "streamlag/alloc.h"
#include "streamlag/sentinel.h"

#define TIMEOUT_MS	2000

static enum sl_err
reply_err(redisReply *r, const char *what, struct sl_error *e)
{
	enum sl_err rc = sl_seterr(e, SL_EREDIS, "%s: %s", what,
	    r != NULL && r->type == REDIS_REPLY_ERROR ? r->str : "no reply");

	if (r != NULL)
		freeReplyObject(r);
	return rc;
}

/* AUTH [user] pass, then SELECT db when db > 0. */
static enum sl_err
handshake(redisContext *c, const char *user, const char *pass, int db,
    struct sl_error *e)
{
	redisReply	*r;
	char		 dbs[16];

	if (pass != NULL) {
		r = user != NULL ?
		    redisCommand(c, "AUTH %s %s", user, pass) :
		    redisCommand(c, "AUTH %s", pass);
		if (r == NULL || r->type == REDIS_REPLY_ERROR)
			return reply_err(r, "AUTH", e);
		freeReplyObject(r);
	}
	if (db > 0) {
		snprintf(dbs, sizeof(dbs), "%d", db);
		r = redisCommand(c, "SELECT %s", dbs);
		if (r == NULL || r->type == REDIS_REPLY_ERROR)
			return reply_err(r, "SELECT", e);
		freeReplyObject(r);
	}
	return SL_OK;
}

static enum sl_err
run_cmd(void *ctx, const struct sl_hostport *addr, int to_sentinel, int argc,
    const char **argv, redisReply **reply, struct sl_error *e)
{
	const struct sl_sentinel_url *u = ctx;
	struct timeval	 tv = { TIMEOUT_MS / 1000, (TIMEOUT_MS % 1000) * 1000 };
	redisContext	*c;
	enum sl_err	 rc;

	c = redisConnectWithTimeout(addr->host, addr->port, tv);
	if (c == NULL)
		return sl_seterr(e, SL_ENOMEM, NULL);
	if (c->err != 0) {
		rc = sl_seterr(e, SL_EREDIS, "%s", c->errstr);
		redisFree(c);
		return rc;
	}
	redisSetTimeout(c, tv);
	rc = to_sentinel ?
	    handshake(c, u->sentinel_user, u->sentinel_password, 0, e) :
	    handshake(c, u->user, u->password, u->db, e);
	if (rc == SL_OK) {
		*reply = redisCommandArgv(c, argc, argv, NULL);
		if (*reply == NULL)
			rc = sl_seterr(e, SL_EREDIS, "%s", c->errstr);
	}
	redisFree(c);
	return rc;
}

static int
set_env(char **dst, const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		return 0;
	return (*dst = sl_strdup(v)) == NULL ? -1 : 0;
}

static void
print_replicas(struct sl_sentinel_url *u, struct sl_discovery *d)
{
	struct sl_replica_list	 l;
	struct sl_error		 e;
	char			 hp[300];

	if (sl_sentinel_replicas(u, d->answered, &d->master, run_cmd, u, &l,
	    &e) != SL_OK) {
		printf("replicas ERR: %s\n", e.str);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		sl_hostport_fmt(&l.v[i].addr, hp, sizeof(hp));
		if (l.v[i].up)
			printf("replica %s up lag %lld\n", hp, l.v[i].lag);
		else
			printf("replica %s down: %s\n", hp, l.v[i].why);
	}
	sl_replica_list_free(&l);
}

int
main(int argc, char **argv)
{
	struct sl_sentinel_url	 u;
	struct sl_discovery	 d;
	struct sl_error		 e;
	const char		*url = getenv("REDIS_URL");
	char			 hp[300];
	int			 replicas = !(argc > 1 && strcmp(argv[1], "-n") == 0);

	if (url == NULL || sl_sentinel_url_parse(url, &u, &e) != SL_OK) {
		printf("ERR: %s\n", url == NULL ? "REDIS_URL is not set" : e.str);
		return 1;
	}
	/* The copies are freed (the password wiped) by sl_sentinel_url_free. */
	if (set_env(&u.sentinel_user, "STREAMLAG_SENTINEL_USERNAME") == -1 ||
	    set_env(&u.sentinel_password, "STREAMLAG_SENTINEL_PASSWORD") == -1) {
		printf("ERR: out of memory\n");
		return 1;
	}
	if (sl_sentinel_discover(&u, 0, run_cmd, &u, &d, &e) == SL_OK) {
		printf("master %s\n", sl_hostport_fmt(&d.master, hp,
		    sizeof(hp)));
		printf("answered %s\n", sl_hostport_fmt(&u.sentinels[d.answered],
		    hp, sizeof(hp)));
	}
	for (size_t i = 0; i < d.nfailed; i++)
		printf("refused %s: %s\n", sl_hostport_fmt(
		    &u.sentinels[d.failed[i].sentinel], hp, sizeof(hp)),
		    d.failed[i].why);
	if (d.master.host == NULL) {
		printf("ERR: %s\n", e.str);
		sl_discovery_free(&d);
		sl_sentinel_url_free(&u);
		return 1;
	}
	if (replicas)
		print_replicas(&u, &d);
	sl_discovery_free(&d);
	sl_sentinel_url_free(&u);
	return 0;
}
