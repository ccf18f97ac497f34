/* SPDX-License-Identifier: ISC */
/* `streamlag check`, the Redis steps: DNS, connect, TLS, AUTH, SELECT, the
 * server and its mode, every command streamlag sends, and the monitored
 * streams.
 *
 * The steps up to SELECT run on a connection of their own, so that each
 * gets its line; on a cluster, every node of its slot map is probed too
 * (check_cluster.c); the monitored streams are then read with the
 * collector the server uses.  Every command is tried for real: a NOPERM names the
 * ACL rule to add.  Nothing is written to Redis. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "streamlag/check.h"
#include "streamlag/collect.h"
#include "streamlag/jsonw.h"
#include "streamlag/redis.h"
#include "streamlag/sentinel.h"

#define SHOW_OK_STREAMS		20	/* passing streams listed one by one */
#define SHOW_FAILED_STREAMS	100	/* failing ones */

struct run {
	const struct sl_config	*cfg;
	struct sl_checks	*out;
	redisContext		*c;
	struct sl_check_conn	*tls;	/* rediss://: &conn instead of c */
	struct sl_check_conn	 conn;
	char			 where[300];
	char			*info;		/* INFO server, or NULL */
	char			 info_err[256];	/* why not */
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A reply's error text, or the connection's when there is no reply. */
static const char *
reply_error(const struct run *rn, const redisReply *r)
{
	if (r == NULL && rn->tls != NULL)
		return rn->tls->err[0] != '\0' ? rn->tls->err : "no reply";
	if (r == NULL)
		return rn->c->errstr[0] != '\0' ? rn->c->errstr : "no reply";
	if (r->type == REDIS_REPLY_ERROR)
		return r->str;
	return NULL;
}

static int
step_dns(struct run *rn)
{
	const struct sl_redis_addr *a = &rn->cfg->redis;
	struct addrinfo	 hints, *res = NULL, *ai;
	char		 list[256] = "", ip[INET6_ADDRSTRLEN];
	struct stat	 st;
	int		 rc, n = 0;

	if (a->kind == SL_REDIS_UNIX) {
		if (stat(a->path, &st) == -1) {
			sl_checks_addf(rn->out, "dns", "unix socket", SL_CHECK_FAIL,
			    "is Redis running with `unixsocket` set to this path?",
			    "%s: %s", a->path, strerror(errno));
			return -1;
		}
		if (!S_ISSOCK(st.st_mode)) {
			sl_checks_addf(rn->out, "dns", "unix socket", SL_CHECK_FAIL, NULL,
			    "%s exists but is not a socket", a->path);
			return -1;
		}
		sl_checks_addf(rn->out, "dns", "unix socket", SL_CHECK_OK, NULL, "%s",
		    a->path);
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(a->host, NULL, &hints, &res)) != 0) {
		sl_checks_addf(rn->out, "dns", "DNS", SL_CHECK_FAIL,
		    "check the host name in REDIS_URL", "cannot resolve %s: %s",
		    a->host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL && n < 4; ai = ai->ai_next) {
		const void *addr = ai->ai_family == AF_INET ?
		    (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr :
		    (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;

		if (inet_ntop(ai->ai_family, addr, ip, sizeof(ip)) == NULL ||
		    strstr(list, ip) != NULL)
			continue;
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
		    n++ ? ", " : "", ip);
	}
	freeaddrinfo(res);
	sl_checks_addf(rn->out, "dns", "DNS", SL_CHECK_OK, NULL, "%s → %s", a->host, list);
	return 0;
}

/* -1: the connect failed; -2 (rediss://): the TLS handshake. */
static int
step_connect(struct run *rn)
{
	const struct sl_redis_addr *a = &rn->cfg->redis;
	int		 ms = rn->cfg->redis_timeout_ms;
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };
	long long	 t0 = now_ms();
	const char	*what = a->kind == SL_REDIS_UNIX ? "unix connect" :
	    "TCP connect";

	if (a->tls) {
		rn->tls = &rn->conn;
		return sl_check_tls_open(rn->tls, rn->cfg, rn->out, rn->where);
	}
	if (a->kind == SL_REDIS_UNIX)
		rn->c = redisConnectUnixWithTimeout(a->path, tv);
	else
		rn->c = redisConnectWithTimeout(a->host, a->port, tv);
	if (rn->c == NULL || rn->c->err) {
		sl_checks_addf(rn->out, "connect", what, SL_CHECK_FAIL,
		    "is Redis running and listening there (bind, port, firewall)?",
		    "%s: %s", rn->where, rn->c != NULL ? rn->c->errstr :
		    "out of memory");
		return -1;
	}
	redisSetTimeout(rn->c, tv);
	sl_checks_addf(rn->out, "connect", what, SL_CHECK_OK, NULL, "%s in %lld ms",
	    rn->where, now_ms() - t0);
	return 0;
}

/* rediss:// has its line from step_connect. */
static void
step_tls(struct run *rn)
{
	if (rn->tls != NULL)
		return;
	sl_checks_add(rn->out, "tls", "TLS", SL_CHECK_OK,
	    rn->cfg->redis.kind == SL_REDIS_UNIX ? "not used (unix socket)" :
	    "not used: redis:// is plain TCP (rediss:// for TLS)", NULL);
}

/* One command on the check's connection; the reply (caller frees) or NULL
 * when the connection failed. */
static redisReply *
command(struct run *rn, int argc, const char **argv)
{
	if (rn->tls != NULL)
		return sl_check_tls_command(rn->tls, argc, argv);
	return redisCommandArgv(rn->c, argc, argv, NULL);
}

static int
step_auth(struct run *rn)
{
	const struct sl_redis_addr *a = &rn->cfg->redis;
	const char	*argv[3] = { "AUTH", a->user, a->password };
	redisReply	*r;
	const char	*e;

	if (a->password == NULL) {
		sl_checks_add(rn->out, "auth", "AUTH", SL_CHECK_OK,
		    "none sent (no password in REDIS_URL: the default user)", NULL);
		return 0;
	}
	if (a->user == NULL)
		argv[1] = a->password;
	r = command(rn, a->user != NULL ? 3 : 2, argv);
	if ((e = reply_error(rn, r)) != NULL) {
		sl_checks_addf(rn->out, "auth", "AUTH", SL_CHECK_FAIL,
		    "check the user and password in REDIS_URL (ACL LIST on the "
		    "server shows the user)", "%s", e);
		if (r != NULL)
			sl_reply_free(r);
		return -1;
	}
	sl_reply_free(r);
	if (a->user != NULL)
		sl_checks_addf(rn->out, "auth", "AUTH", SL_CHECK_OK, NULL, "as user %s",
		    a->user);
	else
		sl_checks_add(rn->out, "auth", "AUTH", SL_CHECK_OK,
		    "with a password (the default user)", NULL);
	return 0;
}

static int
step_select(struct run *rn)
{
	char		 db[24], rule[64], fix[160];
	const char	*argv[2] = { "SELECT", db };
	redisReply	*r;
	const char	*e;

	if (rn->cfg->redis.db == 0) {
		sl_checks_add(rn->out, "select", "SELECT", SL_CHECK_OK,
		    "database 0 (nothing to send)", NULL);
		return 0;
	}
	snprintf(db, sizeof(db), "%d", rn->cfg->redis.db);
	r = command(rn, 2, argv);
	if ((e = reply_error(rn, r)) != NULL) {
		if (sl_acl_rule_for(e, NULL, rule, sizeof(rule)) == 0)
			snprintf(fix, sizeof(fix), "add to the ACL user: %s", rule);
		else
			snprintf(fix, sizeof(fix), "the /%s of REDIS_URL must be "
			    "below the server's `databases` setting (16 by "
			    "default)", db);
		sl_checks_addf(rn->out, "select", "SELECT", SL_CHECK_FAIL, fix, "%s: %s",
		    db, e);
		if (r != NULL)
			sl_reply_free(r);
		return -1;
	}
	sl_reply_free(r);
	sl_checks_addf(rn->out, "select", "SELECT", SL_CHECK_OK, NULL, "database %s", db);
	return 0;
}

/* Standalone and cluster (its nodes and slots, check_cluster.c) go on to
 * the commands and streams: 0; a Sentinel is named: 1. */
static int
step_mode(struct run *rn, const char *mode)
{
	const char	*argv[2];
	redisReply	*r;
	char		 detail[512] = "";

	if (strcmp(mode, "standalone") == 0) {
		sl_checks_add(rn->out, "mode", "mode", SL_CHECK_OK, "standalone",
		    NULL);
		return 0;
	}
	if (strcmp(mode, "cluster") == 0)
		return sl_check_cluster(rn->cfg, rn->c, rn->out);
	if (strcmp(mode, "sentinel") == 0) {
		argv[0] = "SENTINEL";
		argv[1] = "MASTERS";
		r = command(rn, 2, argv);
		snprintf(detail, sizeof(detail), "this is a Sentinel");
		if (r != NULL && r->type == REDIS_REPLY_ARRAY)
			for (size_t i = 0; i < r->elements && i < 4; i++) {
				const redisReply *m = r->element[i];
				const char *name = "?", *ip = "?", *port = "?";
				for (size_t k = 0; m->type == REDIS_REPLY_ARRAY &&
				    k + 1 < m->elements; k += 2) {
					const redisReply *f = m->element[k],
					    *v = m->element[k + 1];
					if (f->type != REDIS_REPLY_STRING ||
					    v->type != REDIS_REPLY_STRING)
						continue;
					if (strcmp(f->str, "name") == 0)
						name = v->str;
					else if (strcmp(f->str, "ip") == 0)
						ip = v->str;
					else if (strcmp(f->str, "port") == 0)
						port = v->str;
				}
				snprintf(detail + strlen(detail), sizeof(detail) -
				    strlen(detail), "%s master %s at %s:%s",
				    i ? "," : ";", name, ip, port);
			}
		if (r != NULL)
			sl_reply_free(r);
		sl_checks_add(rn->out, "mode", "mode", SL_CHECK_FAIL, detail,
		    "name the sentinels and the master in REDIS_URL: "
		    "redis-sentinel://[user:password@]HOST:PORT/MASTER");
		return 1;
	}
	sl_checks_addf(rn->out, "mode", "mode", SL_CHECK_FAIL, NULL, "unknown mode \"%s\"",
	    mode);
	return 1;
}

static int
step_server(struct run *rn)
{
	const char	*argv[2] = { "INFO", "server" };
	redisReply	*r = command(rn, 2, argv);
	const char	*e = reply_error(rn, r);
	char		 server[160], mode[32], rule[64], fix[160];

	if (e != NULL) {
		snprintf(rn->info_err, sizeof(rn->info_err), "%s", e);
		if (sl_acl_rule_for(e, NULL, rule, sizeof(rule)) == 0)
			snprintf(fix, sizeof(fix), "add to the ACL user: %s", rule);
		else if (strncmp(e, "NOAUTH", 6) == 0)
			snprintf(fix, sizeof(fix), "this server wants a password: "
			    "redis://USER:PASSWORD@host:port/db in REDIS_URL");
		else
			fix[0] = '\0';
		sl_checks_add(rn->out, "server", "server", SL_CHECK_FAIL, e,
		    fix[0] ? fix : NULL);
		sl_checks_add(rn->out, "mode", "mode", SL_CHECK_SKIP,
		    "unknown without INFO", NULL);
		if (r != NULL)
			sl_reply_free(r);
		return r == NULL ? -1 : 0;
	}
	if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS) {
		sl_reply_free(r);
		snprintf(rn->info_err, sizeof(rn->info_err), "unexpected reply");
		sl_checks_add(rn->out, "server", "server", SL_CHECK_FAIL,
		    "INFO server: unexpected reply", NULL);
		return 0;
	}
	if ((rn->info = strdup(r->str)) == NULL)
		rn->out->oom = 1;
	sl_reply_free(r);
	sl_server_describe(rn->info != NULL ? rn->info : "", server,
	    sizeof(server), mode, sizeof(mode));
	sl_checks_add(rn->out, "server", "server", SL_CHECK_OK, server, NULL);
	return step_mode(rn, mode);
}

/* The server has no such command (older than Redis 6.2, or not a data
 * node). */
static int
unknown_command(const char *e)
{
	return strncmp(e, "ERR unknown command", 19) == 0 ||
	    strncmp(e, "ERR unknown subcommand", 22) == 0 ||
	    strncmp(e, "ERR syntax error", 16) == 0;
}

/* One command tried for real.  Any answer but NOPERM or an unknown
 * command proves the user may run it ("no such key" included).  -1 when
 * the connection failed. */
static int
try_command(struct run *rn, const char *title, int argc, const char **argv,
    const char *key)
{
	redisReply	*r = command(rn, argc, argv);
	const char	*e = reply_error(rn, r);
	char		 rule[128], fix[200], on[300] = "";

	if (key != NULL) {
		char *s = sl_utf8_sanitize(key, strlen(key), 0, NULL);
		snprintf(on, sizeof(on), "on %s", s != NULL ? s : "?");
		free(s);
	}
	if (r == NULL) {
		sl_checks_addf(rn->out, "command", title, SL_CHECK_FAIL, NULL, "%s", e);
		return -1;
	}
	if (e != NULL && sl_acl_rule_for(e, key, rule, sizeof(rule)) == 0) {
		snprintf(fix, sizeof(fix), "add to the ACL user: %s", rule);
		sl_checks_addf(rn->out, "command", title, SL_CHECK_FAIL, fix, "%s", e);
	} else if (e != NULL && unknown_command(e))
		sl_checks_addf(rn->out, "command", title, SL_CHECK_FAIL, "streamlag needs "
		    "Redis 6.2 or later (7.0+ for exact lag), or Valkey", "%s", e);
	else if (e != NULL)
		sl_checks_addf(rn->out, "command", title, SL_CHECK_OK, NULL,
		    "allowed (%s%s%s)", on, *on ? ": " : "", e);
	else
		sl_checks_addf(rn->out, "command", title, SL_CHECK_OK, NULL, "allowed%s%s",
		    *on ? " " : "", on);
	sl_reply_free(r);
	return 0;
}

static int
has_group(const struct sl_stream_entry *e, const char *group)
{
	for (size_t i = 0; i < e->ngroup_names; i++)
		if (e->group_names[i].len == strlen(group) &&
		    memcmp(e->group_names[i].p, group, e->group_names[i].len) == 0)
			return 1;
	return 0;
}

static void
step_commands(struct run *rn, char *const *streams, size_t n,
    const struct sl_streams_report *rep)
{
	const struct sl_config *cfg = rn->cfg;
	const char	*s = n > 0 ? streams[0] : "streamlag-check-probe";
	const char	*g = cfg->all_groups ? NULL : cfg->consumer_group;
	const char	*match = cfg->stream_pattern != NULL ?
	    cfg->stream_pattern : s;
	char		 rule[64], fix[160];
	size_t		 i;

	/* The first monitored stream that has the group, when there is one:
	 * the commands then run on real data. */
	for (i = 0; rep != NULL && i < rep->n; i++) {
		const struct sl_stream_entry *e = &rep->entries[i];
		if (e->error == NULL && (g != NULL ? has_group(e, g) :
		    e->ngroup_names > 0)) {
			s = e->name.p;
			if (g == NULL)
				g = e->group_names[0].p;
			break;
		}
	}
	if (g == NULL)
		g = "signalr-consumers";

	{
		const char *argv[] = { "TIME" };
		if (try_command(rn, "command TIME", 1, argv, NULL) == -1)
			return;
	}
	if (rn->info != NULL)
		sl_checks_add(rn->out, "command", "command INFO", SL_CHECK_OK,
		    "allowed", NULL);
	else if (sl_acl_rule_for(rn->info_err, NULL, rule, sizeof(rule)) == 0) {
		snprintf(fix, sizeof(fix), "add to the ACL user: %s", rule);
		sl_checks_add(rn->out, "command", "command INFO", SL_CHECK_FAIL,
		    rn->info_err, fix);
	} else
		sl_checks_add(rn->out, "command", "command INFO", SL_CHECK_FAIL,
		    rn->info_err, NULL);
	{
		const char *argv[] = { "SCAN", "0", "MATCH", match, "COUNT", "10",
		    "TYPE", "stream" };
		if (try_command(rn, "command SCAN", 8, argv, NULL) == -1)
			return;
	}
	{
		const char *argv[] = { "XINFO", "STREAM", s };
		if (try_command(rn, "command XINFO STREAM", 3, argv, s) == -1)
			return;
	}
	{
		const char *argv[] = { "XINFO", "GROUPS", s };
		if (try_command(rn, "command XINFO GROUPS", 3, argv, s) == -1)
			return;
	}
	{
		const char *argv[] = { "XINFO", "CONSUMERS", s, g };
		if (try_command(rn, "command XINFO CONSUMERS", 4, argv, s) == -1)
			return;
	}
	{
		const char *argv[] = { "XRANGE", s, "-", "+", "COUNT", "1" };
		if (try_command(rn, "command XRANGE", 6, argv, s) == -1)
			return;
	}
	{
		const char *argv[] = { "XLEN", s };
		if (try_command(rn, "command XLEN", 2, argv, s) == -1)
			return;
	}
	{
		const char *argv[] = { "XPENDING", s, g, "-", "+", "1" };
		if (try_command(rn, "command XPENDING", 6, argv, s) == -1)
			return;
	}
}

/* Group names of a stream, "a, b, c" (at most a few). */
static void
group_list(const struct sl_stream_entry *e, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < e->ngroup_names && i < 5; i++) {
		char *s = sl_utf8_sanitize(e->group_names[i].p,
		    e->group_names[i].len, 0, NULL);
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
		    i ? ", " : "", s != NULL ? s : "?");
		free(s);
	}
	if (e->ngroup_names > 5)
		snprintf(buf + strlen(buf), len - strlen(buf), ", …");
}

static void
step_streams(struct run *rn, const struct sl_streams_report *rep)
{
	const struct sl_config *cfg = rn->cfg;
	size_t		 ok_shown = 0, fail_shown = 0, ok_more = 0, fail_more = 0;
	char		 title[300], groups[300], fix[600];

	for (size_t i = 0; i < rep->n; i++) {
		const struct sl_stream_entry *e = &rep->entries[i];
		char *name = sl_utf8_sanitize(e->name.p, e->name.len, 0,
		    NULL);
		enum sl_check_state st = SL_CHECK_OK;
		char detail[600];

		snprintf(title, sizeof(title), "stream %s", name ? name : "?");
		fix[0] = '\0';
		group_list(e, groups, sizeof(groups));
		if (e->error != NULL) {
			st = SL_CHECK_FAIL;
			if (strcmp(e->error, "no such key") == 0) {
				snprintf(detail, sizeof(detail), "no such key");
				snprintf(fix, sizeof(fix), "check STREAMLAG_STREAMS "
				    "and the database in REDIS_URL");
			} else if (strncmp(e->error, "WRONGTYPE", 9) == 0)
				snprintf(detail, sizeof(detail), "not a stream (%s)",
				    e->error);
			else
				snprintf(detail, sizeof(detail), "%s", e->error);
		} else if (cfg->all_groups ? e->ngroup_names == 0 :
		    !has_group(e, cfg->consumer_group)) {
			st = SL_CHECK_FAIL;
			if (cfg->all_groups)
				snprintf(detail, sizeof(detail), "%lld entries, no "
				    "consumer group", e->info.length);
			else
				snprintf(detail, sizeof(detail), "%lld entries, no "
				    "group %s (groups: %s)", e->info.length,
				    cfg->consumer_group, *groups ? groups : "none");
			snprintf(fix, sizeof(fix), "XGROUP CREATE %s %s $, or set "
			    "EVENT_TRANSPORT_CONSUMER_GROUP", name ? name : "?",
			    cfg->all_groups ? "GROUP" : cfg->consumer_group);
		} else if (cfg->all_groups)
			snprintf(detail, sizeof(detail), "%lld entries, groups %s",
			    e->info.length, groups);
		else
			snprintf(detail, sizeof(detail), "%lld entries, group %s",
			    e->info.length, cfg->consumer_group);
		free(name);
		if (st == SL_CHECK_OK && ok_shown >= SHOW_OK_STREAMS) {
			ok_more++;
			continue;
		}
		if (st == SL_CHECK_FAIL && fail_shown >= SHOW_FAILED_STREAMS) {
			fail_more++;
			continue;
		}
		if (st == SL_CHECK_OK)
			ok_shown++;
		else
			fail_shown++;
		sl_checks_add(rn->out, "stream", title, st, detail,
		    fix[0] ? fix : NULL);
	}
	if (ok_more > 0)
		sl_checks_addf(rn->out, "stream", "streams", SL_CHECK_OK, NULL,
		    "%zu more streams, each with its group", ok_more);
	if (fail_more > 0)
		sl_checks_addf(rn->out, "stream", "streams", SL_CHECK_FAIL, NULL,
		    "%zu more streams failing as above", fail_more);
	if (rep->n == 0)
		sl_checks_add(rn->out, "stream", "streams", SL_CHECK_FAIL,
		    cfg->stream_pattern != NULL ? "no stream matches "
		    "STREAMLAG_STREAM_PATTERN" : "no stream configured",
		    NULL);
}

/* The streams, with the server's collector on a connection of its own. */
static void
streams_and_commands(struct run *rn)
{
	const struct sl_config		*cfg = rn->cfg;
	struct sl_redis			 r;
	struct sl_streams_report	 rep;
	char				**disc = NULL, **streams = cfg->streams;
	char				 cause[600];
	size_t				 n = cfg->nstreams, ndisc = 0;
	int				 truncated = 0;
	enum sl_err			 rc;

	memset(&rep, 0, sizeof(rep));
	sl_redis_init(&r, &cfg->redis, cfg->redis_timeout_ms);
	r.mode = cfg->redis_mode;
	r.request_timeout_ms = cfg->request_timeout_ms;
	if (cfg->stream_pattern != NULL) {
		rc = sl_discover(&r, cfg->stream_pattern, cfg->discovery_max,
		    &disc, &ndisc, &truncated, NULL);
		if (rc != SL_OK) {
			sl_redis_cause(&r, cause, sizeof(cause));
			step_commands(rn, NULL, 0, NULL);
			sl_checks_addf(rn->out, "stream", "streams", SL_CHECK_FAIL, NULL,
			    "discovery by STREAMLAG_STREAM_PATTERN failed: %s",
			    rc == SL_ENOMEM ? "out of memory" : cause);
			goto out;
		}
		streams = disc;
		n = ndisc;
	}
	rc = sl_collect_streams(&r, streams, n, NULL, &rep, NULL);
	step_commands(rn, streams, n, rc == SL_OK ? &rep : NULL);
	if (rc != SL_OK) {
		sl_redis_cause(&r, cause, sizeof(cause));
		sl_checks_addf(rn->out, "stream", "streams", SL_CHECK_FAIL, NULL, "%s",
		    rc == SL_ENOMEM ? "out of memory" : cause);
		goto out;
	}
	step_streams(rn, &rep);
	if (truncated)
		sl_checks_addf(rn->out, "stream", "streams", SL_CHECK_OK, NULL,
		    "discovery stopped at STREAMLAG_DISCOVERY_MAX (%lld)",
		    cfg->discovery_max);
out:
	sl_streams_report_free(&rep);
	sl_names_free(disc, ndisc);
	sl_redis_close(&r);
}

static void
check_node(const struct sl_config *cfg, struct sl_checks *out)
{
	/* The Redis steps in order: after a failure, the rest say that they
	 * were not tried. */
	static const char *const steps[][2] = {
		{ "connect", "connect" }, { "tls", "TLS" }, { "auth", "AUTH" },
		{ "select", "SELECT" }, { "server", "server" }, { "mode", "mode" },
		{ "command", "commands" }, { "stream", "streams" },
	};
	struct run	 rn;
	size_t		 reached = 0;
	const char	*why = "not tried after the failure above";
	int		 rc;

	memset(&rn, 0, sizeof(rn));
	rn.cfg = cfg;
	rn.out = out;
	sl_redis_where(&cfg->redis, rn.where, sizeof(rn.where));
	/* reached: the first step of the list above that did not run. */
	if (step_dns(&rn) == -1)
		reached = 0;
	else if ((rc = step_connect(&rn)) < 0)
		reached = rc == -1 ? 1 : 2;
	else if (step_tls(&rn), step_auth(&rn) == -1)
		reached = 3;
	else if (step_select(&rn) == -1)
		reached = 4;
	else if ((rc = step_server(&rn)) != 0) {
		reached = 6;
		why = rc == 1 ? "not tried: not a standalone server" : why;
	} else {
		streams_and_commands(&rn);
		reached = 8;
	}
	for (size_t i = reached; i < sizeof(steps) / sizeof(steps[0]); i++)
		sl_checks_add(out, steps[i][0], steps[i][1], SL_CHECK_SKIP, why,
		    NULL);
	if (rn.c != NULL)
		redisFree(rn.c);
	if (rn.tls != NULL)
		sl_check_tls_close(rn.tls);
	free(rn.info);
}

/* Through Sentinel, the node read is checked as the standalone server it
 * is: the same configuration with REDIS_URL pointing at it (over TLS with
 * rediss-sentinel://). */
void
sl_check_redis(const struct sl_config *cfg, struct sl_checks *out)
{
	struct sl_hostport node;
	struct sl_config c2;
	char		 hp[300];

	if (cfg->redis.kind != SL_REDIS_SENTINEL) {
		check_node(cfg, out);
		return;
	}
	if (sl_check_sentinel(cfg, out, &node) != 0) {
		sl_checks_add(out, "read", "read from", SL_CHECK_FAIL,
		    "no node to read", cfg->redis.read_from == SL_READ_REPLICA ?
		    "STREAMLAG_READ_FROM=replica needs a replica that is up" :
		    NULL);
		sl_hostport_free(&node);
		return;
	}
	sl_checks_addf(out, "read", "read from", SL_CHECK_OK, NULL,
	    "%s (STREAMLAG_READ_FROM=%s)", sl_hostport_fmt(&node, hp,
	    sizeof(hp)), sl_read_from_name(cfg->redis.read_from));
	c2 = *cfg;
	memset(&c2.redis, 0, sizeof(c2.redis));
	c2.redis.kind = SL_REDIS_TCP;
	c2.redis.host = node.host;
	c2.redis.port = node.port;
	c2.redis.user = cfg->redis.user;
	c2.redis.password = cfg->redis.password;
	c2.redis.db = cfg->redis.db;
	c2.redis.tls = cfg->redis.tls;		/* rediss-sentinel:// */
	c2.redis.tls_ctx = cfg->redis.tls_ctx;	/* borrowed */
	c2.redis_mode = SL_MODE_STANDALONE;
	check_node(&c2, out);
	sl_hostport_free(&node);
}
