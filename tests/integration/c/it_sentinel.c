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
 * "ERR: why" (exit 1).  With -n, no replica list.  With -x, the commands
 * go through the non-blocking executor instead (sl_sentinel_exec_cmd), two
 * executors, the sentinels' and the nodes', with one 10 s deadline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "streamlag/alloc.h"
#include "streamlag/exec.h"
#include "streamlag/log.h"
#include "streamlag/reply.h"
#include "streamlag/sentinel.h"

#define TIMEOUT_MS	2000
#define DEADLINE_MS	10000

/* The command callback and its context, as chosen by -x. */
static sl_sentinel_cmd_fn	 cmd_fn;
static void			*cmd_ctx;

/* An error reply, or hiredis's reason when there was no reply. */
static enum sl_err
reply_err(redisContext *c, redisReply *r, const char *what,
    struct sl_error *e)
{
	enum sl_err rc = sl_seterr(e, SL_EREDIS, "%s: %s", what,
	    r != NULL && r->type == REDIS_REPLY_ERROR ? r->str : c->errstr);

	if (r != NULL)
		sl_reply_free(r);
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
			return reply_err(c, r, "AUTH", e);
		sl_reply_free(r);
	}
	if (db > 0) {
		snprintf(dbs, sizeof(dbs), "%d", db);
		r = redisCommand(c, "SELECT %s", dbs);
		if (r == NULL || r->type == REDIS_REPLY_ERROR)
			return reply_err(c, r, "SELECT", e);
		sl_reply_free(r);
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

	if (sl_sentinel_replicas(u, d->answered, &d->master, cmd_fn, cmd_ctx,
	    &l, &e) != SL_OK) {
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

/* Discovery, then its report; the exit status. */
static int
report(struct sl_sentinel_url *u, int replicas)
{
	struct sl_discovery	 d;
	struct sl_error		 e;
	char			 hp[300];

	if (sl_sentinel_discover(u, 0, cmd_fn, cmd_ctx, &d, &e) == SL_OK) {
		printf("master %s\n", sl_hostport_fmt(&d.master, hp,
		    sizeof(hp)));
		printf("answered %s\n", sl_hostport_fmt(
		    &u->sentinels[d.answered], hp, sizeof(hp)));
	}
	for (size_t i = 0; i < d.nfailed; i++)
		printf("refused %s: %s\n", sl_hostport_fmt(
		    &u->sentinels[d.failed[i].sentinel], hp, sizeof(hp)),
		    d.failed[i].why);
	if (d.master.host == NULL) {
		printf("ERR: %s\n", e.str);
		sl_discovery_free(&d);
		return 1;
	}
	if (replicas)
		print_replicas(u, &d);
	sl_discovery_free(&d);
	return 0;
}

int
main(int argc, char **argv)
{
	struct sl_sentinel_url	 u;
	struct sl_error		 e;
	struct sl_exec		 xs, xn;
	struct sl_node_auth	 as, an;
	struct sl_sentinel_exec	 sx;
	const char		*url = getenv("REDIS_URL");
	int			 c, replicas = 1, executor = 0, rc;

	while ((c = getopt(argc, argv, "nx")) != -1)
		if (c == 'n')
			replicas = 0;
		else if (c == 'x')
			executor = 1;
		else
			return 2;
	sl_log_set_level(SL_LOG_WARN);
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
	cmd_fn = run_cmd;
	cmd_ctx = &u;
	if (executor) {
		as = (struct sl_node_auth){ .user = u.sentinel_user,
		    .password = u.sentinel_password };
		an = (struct sl_node_auth){ .user = u.user,
		    .password = u.password, .db = u.db };
		sl_exec_init(&xs, &as, TIMEOUT_MS);
		sl_exec_init(&xn, &an, TIMEOUT_MS);
		sx = (struct sl_sentinel_exec){ &xs, &xn,
		    sl_mono_ms() + DEADLINE_MS };
		cmd_fn = sl_sentinel_exec_cmd;
		cmd_ctx = &sx;
	}
	rc = report(&u, replicas);
	if (executor) {
		sl_exec_free(&xs);
		sl_exec_free(&xn);
	}
	sl_sentinel_url_free(&u);
	return rc;
}
