/* SPDX-License-Identifier: ISC */
/* Sentinel without a server: the redis-sentinel:// URL, the replies of
 * SENTINEL get-master-addr-by-name, ROLE, SENTINEL replicas and INFO
 * replication (made from RESP bytes by hiredis's reader, as a socket would
 * give them), and discovery over a fake command callback. */
#include <stdio.h>

#include <hiredis/read.h>

#include "sl_test.h"
#include "streamlag/alloc.h"
#include "streamlag/exec.h"
#include "streamlag/sentinel.h"

/* One reply parsed from RESP bytes. */
static redisReply *
resp(const char *bytes)
{
	redisReader	*rd = redisReaderCreate();
	void		*r = NULL;

	assert_non_null(rd);
	assert_int_equal(redisReaderFeed(rd, bytes, strlen(bytes)), REDIS_OK);
	assert_int_equal(redisReaderGetReply(rd, &r), REDIS_OK);
	assert_non_null(r);
	redisReaderFree(rd);
	return r;
}

/* ---- the URL ---- */

static void
url_forms(void **state)
{
	struct sl_sentinel_url	u;
	struct sl_error		e;
	char			hp[64];

	(void)state;
	assert_int_equal(sl_sentinel_url_parse(
	    "redis-sentinel://s1:26380,s2,[::1]:26381,[fe80::1]/mymaster",
	    &u, &e), SL_OK);
	assert_int_equal(u.nsentinels, 4);
	assert_string_equal(u.sentinels[0].host, "s1");
	assert_int_equal(u.sentinels[0].port, 26380);
	assert_string_equal(u.sentinels[1].host, "s2");
	assert_int_equal(u.sentinels[1].port, 26379);
	assert_string_equal(u.sentinels[2].host, "::1");
	assert_int_equal(u.sentinels[2].port, 26381);
	assert_string_equal(sl_hostport_fmt(&u.sentinels[2], hp, sizeof(hp)),
	    "[::1]:26381");
	assert_string_equal(u.sentinels[3].host, "fe80::1");
	assert_int_equal(u.sentinels[3].port, 26379);
	assert_string_equal(u.master_name, "mymaster");
	assert_int_equal(u.db, 0);
	assert_null(u.user);
	assert_null(u.password);
	assert_int_equal(u.tls, 0);
	sl_sentinel_url_free(&u);

	/* The last '@' ends the userinfo; escapes decoded; a db. */
	assert_int_equal(sl_sentinel_url_parse(
	    "rediss-sentinel://app%3Auser:p@ss@w%40rd@h:1/my%2Dmaster/3", &u,
	    &e), SL_OK);
	assert_string_equal(u.user, "app:user");
	assert_string_equal(u.password, "p@ss@w@rd");
	assert_int_equal(u.nsentinels, 1);
	assert_string_equal(u.sentinels[0].host, "h");
	assert_int_equal(u.sentinels[0].port, 1);
	assert_string_equal(u.master_name, "my-master");
	assert_int_equal(u.db, 3);
	assert_int_equal(u.tls, 1);
	sl_sentinel_url_free(&u);

	/* A password alone; an empty db part; free twice is harmless. */
	assert_int_equal(sl_sentinel_url_parse(
	    "redis-sentinel://secret@h/m/", &u, &e), SL_OK);
	assert_null(u.user);
	assert_string_equal(u.password, "secret");
	assert_int_equal(u.db, 0);
	sl_sentinel_url_free(&u);
	sl_sentinel_url_free(&u);
}

static void
url_bad(const char *url, const char *msg)
{
	struct sl_sentinel_url	u;
	struct sl_error		e;

	sl_error_clear(&e);
	assert_int_equal(sl_sentinel_url_parse(url, &u, &e), SL_EINPUT);
	assert_int_equal(e.code, SL_EINPUT);
	if (strcmp(e.str, msg) != 0)
		fail_msg("%s: got \"%s\", expected \"%s\"", url, e.str, msg);
	assert_int_equal(u.nsentinels, 0);
	assert_null(u.master_name);
	assert_null(u.password);
}

#define FORMS "redis-sentinel://[user:password@]host[:port]" \
	"[,host[:port]...]/master-name[/db] (rediss-sentinel:// for TLS)"

static void
url_errors(void **state)
{
	char	url[1024];
	size_t	o;

	(void)state;
	url_bad("redis://h/m", "REDIS_URL: expected " FORMS);
	url_bad("redis-sentinel://h", "REDIS_URL: expected the master name "
	    "after the sentinels: " FORMS);
	url_bad("redis-sentinel://u:p@h/", "REDIS_URL: expected the master name "
	    "after the sentinels: " FORMS);
	url_bad("redis-sentinel://h/m?db=1", "REDIS_URL: a sentinel URL takes "
	    "no query or fragment; expected " FORMS);
	url_bad("redis-sentinel://h:0/m", "REDIS_URL: expected a sentinel port "
	    "from 1 to 65535 in \"h:0\"");
	url_bad("redis-sentinel://a,h:65536/m", "REDIS_URL: expected a sentinel "
	    "port from 1 to 65535 in \"h:65536\"");
	url_bad("redis-sentinel://h:/m", "REDIS_URL: expected a sentinel port "
	    "from 1 to 65535 in \"h:\"");
	url_bad("redis-sentinel://h:+1/m", "REDIS_URL: expected a sentinel port "
	    "from 1 to 65535 in \"h:+1\"");
	url_bad("redis-sentinel://a,,b/m", "REDIS_URL: expected a sentinel as "
	    "host[:port] or [IPv6][:port], got \"\"");
	url_bad("redis-sentinel://a,/m", "REDIS_URL: expected a sentinel as "
	    "host[:port] or [IPv6][:port], got \"\"");
	url_bad("redis-sentinel://[::1/m", "REDIS_URL: expected a sentinel as "
	    "host[:port] or [IPv6][:port], got \"[::1\"");
	url_bad("redis-sentinel://[::1]x/m", "REDIS_URL: expected a sentinel as "
	    "host[:port] or [IPv6][:port], got \"[::1]x\"");
	url_bad("redis-sentinel://[]:1/m", "REDIS_URL: expected a sentinel as "
	    "host[:port] or [IPv6][:port], got \"[]:1\"");
	url_bad("redis-sentinel://a b:1/m", "REDIS_URL: expected a sentinel as "
	    "host[:port] or [IPv6][:port], got \"a b:1\"");
	url_bad("redis-sentinel://[::1\t]/m", "REDIS_URL: expected a sentinel as "
	    "host[:port] or [IPv6][:port], got \"[::1\t]\"");
	url_bad("redis-sentinel://h/m/x", "REDIS_URL: expected a database "
	    "number from 0 to 100000 after the master name");
	url_bad("redis-sentinel://h/m/100001", "REDIS_URL: expected a database "
	    "number from 0 to 100000 after the master name");
	url_bad("redis-sentinel://h/m/1/2", "REDIS_URL: expected a database "
	    "number from 0 to 100000 after the master name");
	url_bad("redis-sentinel://u:%zz@h/m", "REDIS_URL: bad %-escape in user "
	    "or password");
	url_bad("redis-sentinel://u:%00@h/m", "REDIS_URL: bad %-escape in user "
	    "or password");
	url_bad("redis-sentinel://u:ab%4@h/m", "REDIS_URL: bad %-escape in user "
	    "or password");
	url_bad("redis-sentinel://h/my%20master", "REDIS_URL: expected a master "
	    "name of 1 to 255 bytes without spaces, control characters or bad "
	    "%-escapes");
	url_bad("redis-sentinel://h/m%0a", "REDIS_URL: expected a master name "
	    "of 1 to 255 bytes without spaces, control characters or bad "
	    "%-escapes");

	/* 16 sentinels: the limit; 17: refused. */
	o = (size_t)snprintf(url, sizeof(url), "redis-sentinel://");
	for (int i = 0; i < 16; i++)
		o += (size_t)snprintf(url + o, sizeof(url) - o, "%sh%d",
		    i ? "," : "", i);
	snprintf(url + o, sizeof(url) - o, "/m");
	{
		struct sl_sentinel_url u;
		struct sl_error e;

		assert_int_equal(sl_sentinel_url_parse(url, &u, &e), SL_OK);
		assert_int_equal(u.nsentinels, 16);
		sl_sentinel_url_free(&u);
	}
	snprintf(url + o, sizeof(url) - o, ",h16/m");
	url_bad(url, "REDIS_URL: at most 16 sentinels");

	/* A master name of 255 bytes: the limit; 256: refused. */
	o = (size_t)snprintf(url, sizeof(url), "redis-sentinel://h/");
	memset(url + o, 'n', 255);
	url[o + 255] = '\0';
	{
		struct sl_sentinel_url u;
		struct sl_error e;

		assert_int_equal(sl_sentinel_url_parse(url, &u, &e), SL_OK);
		assert_int_equal(strlen(u.master_name), 255);
		sl_sentinel_url_free(&u);
	}
	strcat(url, "n");
	url_bad(url, "REDIS_URL: expected a master name of 1 to 255 bytes "
	    "without spaces, control characters or bad %-escapes");
}

static void
url_oom(void **state)
{
	const char	*url = "redis-sentinel://u:p@a:1,[::1]:2,c/m/2";
	struct sl_sentinel_url u;
	struct sl_error	 e;
	long		 total;

	(void)state;
	sl_alloc_reset();
	assert_int_equal(sl_sentinel_url_parse(url, &u, &e), SL_OK);
	total = sl_alloc_count();
	sl_sentinel_url_free(&u);
	assert_int_equal(total, 6);
	for (long n = 0; n < total; n++) {
		sl_alloc_fail_after(n);
		assert_int_equal(sl_sentinel_url_parse(url, &u, &e), SL_ENOMEM);
		assert_string_equal(e.str, "out of memory");
		assert_int_equal(u.nsentinels, 0);
	}
	sl_alloc_reset();
}

/* ---- replies ---- */

static void
master_addr(void **state)
{
	struct sl_hostport	 h;
	struct sl_error		 e;
	redisReply		*r;
	int			 known;

	(void)state;
	r = resp("*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n");
	assert_int_equal(sl_parse_master_addr(r, &h, &known, &e), SL_OK);
	assert_int_equal(known, 1);
	assert_string_equal(h.host, "127.0.0.1");
	assert_int_equal(h.port, 6380);
	sl_hostport_free(&h);
	freeReplyObject(r);

	/* Unknown name: a nil array in RESP2 (a nil bulk also read as nil). */
	r = resp("*-1\r\n");
	assert_int_equal(sl_parse_master_addr(r, &h, &known, &e), SL_OK);
	assert_int_equal(known, 0);
	assert_null(h.host);
	freeReplyObject(r);

	r = resp("-NOAUTH Authentication required.\r\n");
	assert_int_equal(sl_parse_master_addr(r, &h, &known, &e), SL_EREDIS);
	assert_string_equal(e.str, "SENTINEL get-master-addr-by-name: NOAUTH "
	    "Authentication required.");
	freeReplyObject(r);

	r = resp("*1\r\n$1\r\nh\r\n");
	assert_int_equal(sl_parse_master_addr(r, &h, &known, &e), SL_EPROTO);
	assert_string_equal(e.str, "SENTINEL get-master-addr-by-name: expected "
	    "nil or an array of host and port");
	freeReplyObject(r);
	r = resp("*2\r\n$1\r\nh\r\n$5\r\n65536\r\n");
	assert_int_equal(sl_parse_master_addr(r, &h, &known, &e), SL_EPROTO);
	assert_string_equal(e.str, "SENTINEL get-master-addr-by-name: the port "
	    "is not a number from 1 to 65535");
	assert_int_equal(known, 0);
	freeReplyObject(r);
	r = resp("*2\r\n:1\r\n$2\r\n10\r\n");
	assert_int_equal(sl_parse_master_addr(r, &h, &known, &e), SL_EPROTO);
	assert_string_equal(e.str, "SENTINEL get-master-addr-by-name: the host "
	    "is not a string");
	freeReplyObject(r);
	r = resp("$2\r\nok\r\n");
	assert_int_equal(sl_parse_master_addr(r, &h, &known, &e), SL_EPROTO);
	freeReplyObject(r);
	assert_int_equal(sl_parse_master_addr(NULL, &h, &known, &e), SL_EPROTO);
}

static void
role_master_replica_sentinel(void **state)
{
	struct sl_role	 role;
	struct sl_error	 e;
	redisReply	*r;

	(void)state;
	r = resp("*3\r\n$6\r\nmaster\r\n:3129659\r\n*2\r\n"
	    "*3\r\n$9\r\n127.0.0.1\r\n$4\r\n9001\r\n$7\r\n3129242\r\n"
	    "*3\r\n$3\r\n::1\r\n$4\r\n9002\r\n$7\r\n3129543\r\n");
	assert_int_equal(sl_parse_role(r, &role, &e), SL_OK);
	assert_int_equal(role.kind, SL_ROLE_MASTER);
	assert_int_equal(role.offset, 3129659);
	assert_int_equal(role.nreplicas, 2);
	assert_string_equal(role.replicas[0].addr.host, "127.0.0.1");
	assert_int_equal(role.replicas[0].addr.port, 9001);
	assert_int_equal(role.replicas[0].offset, 3129242);
	assert_string_equal(role.replicas[1].addr.host, "::1");
	assert_int_equal(role.replicas[1].offset, 3129543);
	sl_role_free(&role);
	freeReplyObject(r);

	r = resp("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:9000\r\n"
	    "$9\r\nconnected\r\n:3167038\r\n");
	assert_int_equal(sl_parse_role(r, &role, &e), SL_OK);
	assert_int_equal(role.kind, SL_ROLE_REPLICA);
	assert_string_equal(role.master.host, "127.0.0.1");
	assert_int_equal(role.master.port, 9000);
	assert_string_equal(role.state, "connected");
	assert_int_equal(role.offset, 3167038);
	sl_role_free(&role);
	freeReplyObject(r);

	/* Before its first sync a replica's offset is -1. */
	r = resp("*5\r\n$5\r\nslave\r\n$1\r\nh\r\n:1\r\n$7\r\nconnect\r\n:-1\r\n");
	assert_int_equal(sl_parse_role(r, &role, &e), SL_OK);
	assert_int_equal(role.offset, -1);
	assert_string_equal(role.state, "connect");
	sl_role_free(&role);
	freeReplyObject(r);

	r = resp("*2\r\n$8\r\nsentinel\r\n*2\r\n$8\r\nmymaster\r\n$5\r\nother\r\n");
	assert_int_equal(sl_parse_role(r, &role, &e), SL_OK);
	assert_int_equal(role.kind, SL_ROLE_SENTINEL);
	assert_int_equal(role.nnames, 2);
	assert_string_equal(role.names[0], "mymaster");
	assert_string_equal(role.names[1], "other");
	assert_string_equal(sl_role_name(role.kind), "sentinel");
	sl_role_free(&role);
	freeReplyObject(r);

	r = resp("*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
	assert_int_equal(sl_parse_role(r, &role, &e), SL_OK);
	assert_int_equal(role.nreplicas, 0);
	assert_null(role.replicas);
	sl_role_free(&role);
	freeReplyObject(r);
}

static void
role_bad(const char *bytes, enum sl_err code, const char *msg)
{
	struct sl_role	 role;
	struct sl_error	 e;
	redisReply	*r = resp(bytes);

	assert_int_equal(sl_parse_role(r, &role, &e), code);
	if (strcmp(e.str, msg) != 0)
		fail_msg("got \"%s\", expected \"%s\"", e.str, msg);
	assert_null(role.replicas);
	assert_null(role.master.host);
	freeReplyObject(r);
}

static void
role_malformed(void **state)
{
	(void)state;
	role_bad("-NOPERM this user has no permissions to run the 'role' "
	    "command\r\n", SL_EREDIS, "ROLE: NOPERM this user has no permissions "
	    "to run the 'role' command");
	role_bad("*0\r\n", SL_EPROTO, "ROLE: expected an array starting with "
	    "the role");
	role_bad(":1\r\n", SL_EPROTO, "ROLE: expected an array starting with "
	    "the role");
	role_bad("*1\r\n$6\r\nleader\r\n", SL_EPROTO, "ROLE: unknown role "
	    "\"leader\"");
	role_bad("*2\r\n$6\r\nmaster\r\n:1\r\n", SL_EPROTO, "ROLE: expected "
	    "[\"master\", offset, [replicas]]");
	role_bad("*3\r\n$6\r\nmaster\r\n$1\r\nx\r\n*0\r\n", SL_EPROTO,
	    "ROLE: expected [\"master\", offset, [replicas]]");
	role_bad("*3\r\n$6\r\nmaster\r\n:1\r\n*1\r\n$1\r\nx\r\n", SL_EPROTO,
	    "ROLE: replica 0 is not [ip, port, offset]");
	/* The second replica is bad: the first one's strings are freed. */
	role_bad("*3\r\n$6\r\nmaster\r\n:1\r\n*2\r\n"
	    "*3\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\n0\r\n"
	    "*3\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nz\r\n", SL_EPROTO,
	    "ROLE: replica 1's offset is not a number");
	role_bad("*3\r\n$6\r\nmaster\r\n:1\r\n*1\r\n"
	    "*3\r\n$1\r\na\r\n$1\r\n0\r\n$1\r\n0\r\n", SL_EPROTO,
	    "ROLE replica: the port is not a number from 1 to 65535");
	role_bad("*4\r\n$5\r\nslave\r\n$1\r\nh\r\n:1\r\n$9\r\nconnected\r\n",
	    SL_EPROTO, "ROLE: expected [\"slave\", ip, port, state, offset]");
	role_bad("*5\r\n$5\r\nslave\r\n$1\r\nh\r\n:1\r\n:1\r\n:1\r\n",
	    SL_EPROTO, "ROLE: a replica's state is not a string or its offset "
	    "not a number");
	role_bad("*2\r\n$8\r\nsentinel\r\n*1\r\n:1\r\n", SL_EPROTO,
	    "ROLE: sentinel master name 0 is not a string");
	role_bad("*2\r\n$8\r\nsentinel\r\n$1\r\nm\r\n", SL_EPROTO,
	    "ROLE: expected [\"sentinel\", [names]]");
}

/* One SENTINEL replicas entry in RESP: ip, port, flags, link, offset. */
static size_t
replica_resp(char *buf, size_t len, const char *ip, const char *port,
    const char *flags, const char *link, const char *off)
{
	return (size_t)snprintf(buf, len, "*12\r\n$4\r\nname\r\n$1\r\nx\r\n"
	    "$2\r\nip\r\n$%zu\r\n%s\r\n$4\r\nport\r\n$%zu\r\n%s\r\n"
	    "$5\r\nflags\r\n$%zu\r\n%s\r\n"
	    "$18\r\nmaster-link-status\r\n$%zu\r\n%s\r\n"
	    "$17\r\nslave-repl-offset\r\n$%zu\r\n%s\r\n",
	    strlen(ip), ip, strlen(port), port, strlen(flags), flags,
	    strlen(link), link, strlen(off), off);
}

static void
sentinel_replicas(void **state)
{
	struct sl_sentinel_replica *v;
	struct sl_error	 e;
	redisReply	*r;
	char		 buf[2048];
	size_t		 n, o;

	(void)state;
	o = (size_t)snprintf(buf, sizeof(buf), "*2\r\n");
	o += replica_resp(buf + o, sizeof(buf) - o, "127.0.0.1", "6381",
	    "slave", "ok", "12345");
	replica_resp(buf + o, sizeof(buf) - o, "10.0.0.2", "6382",
	    "slave,s_down,disconnected", "err", "0");
	r = resp(buf);
	assert_int_equal(sl_parse_sentinel_replicas(r, &v, &n, &e), SL_OK);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].addr.host, "127.0.0.1");
	assert_int_equal(v[0].addr.port, 6381);
	assert_string_equal(v[0].flags, "slave");
	assert_int_equal(v[0].down, 0);
	assert_int_equal(v[0].link_ok, 1);
	assert_int_equal(v[0].offset, 12345);
	assert_string_equal(v[1].addr.host, "10.0.0.2");
	assert_int_equal(v[1].down, 1);
	assert_int_equal(v[1].link_ok, 0);
	sl_sentinel_replicas_free(v, n);
	freeReplyObject(r);

	r = resp("*0\r\n");
	assert_int_equal(sl_parse_sentinel_replicas(r, &v, &n, &e), SL_OK);
	assert_int_equal(n, 0);
	assert_null(v);
	freeReplyObject(r);

	r = resp("-ERR No such master with that name\r\n");
	assert_int_equal(sl_parse_sentinel_replicas(r, &v, &n, &e), SL_EREDIS);
	assert_string_equal(e.str, "SENTINEL replicas: ERR No such master with "
	    "that name");
	freeReplyObject(r);

	/* The second entry bad: the first one's strings are freed. */
	o = (size_t)snprintf(buf, sizeof(buf), "*2\r\n");
	o += replica_resp(buf + o, sizeof(buf) - o, "h", "1", "slave", "ok",
	    "1");
	replica_resp(buf + o, sizeof(buf) - o, "h", "1", "slave", "ok", "x");
	r = resp(buf);
	assert_int_equal(sl_parse_sentinel_replicas(r, &v, &n, &e), SL_EPROTO);
	assert_string_equal(e.str, "SENTINEL replicas: entry 1's "
	    "slave-repl-offset is not a number");
	assert_null(v);
	freeReplyObject(r);

	r = resp("*1\r\n*3\r\n$2\r\nip\r\n$1\r\nh\r\n$4\r\nport\r\n");
	assert_int_equal(sl_parse_sentinel_replicas(r, &v, &n, &e), SL_EPROTO);
	assert_string_equal(e.str, "SENTINEL replicas: entry 0 is not a "
	    "field/value list");
	freeReplyObject(r);
	r = resp("*1\r\n*2\r\n$2\r\nip\r\n$1\r\nh\r\n");
	assert_int_equal(sl_parse_sentinel_replicas(r, &v, &n, &e), SL_EPROTO);
	assert_string_equal(e.str, "SENTINEL replicas ip/port: the port is not "
	    "a number from 1 to 65535");
	freeReplyObject(r);
	r = resp("*1\r\n*4\r\n$2\r\nip\r\n$1\r\nh\r\n$4\r\nport\r\n$1\r\n1\r\n");
	assert_int_equal(sl_parse_sentinel_replicas(r, &v, &n, &e), SL_EPROTO);
	assert_string_equal(e.str, "SENTINEL replicas: entry 0 has no flags");
	freeReplyObject(r);
	r = resp("$1\r\nx\r\n");
	assert_int_equal(sl_parse_sentinel_replicas(r, &v, &n, &e), SL_EPROTO);
	assert_string_equal(e.str, "SENTINEL replicas: expected an array");
	freeReplyObject(r);
}

static redisReply *
bulk(const char *text)
{
	char buf[2048];

	snprintf(buf, sizeof(buf), "$%zu\r\n%s\r\n", strlen(text), text);
	return resp(buf);
}

static void
info_replication(void **state)
{
	struct sl_repl_info	 i;
	struct sl_error		 e;
	redisReply		*r;

	(void)state;
	r = bulk("# Replication\r\nrole:master\r\nconnected_slaves:1\r\n"
	    "slave0:ip=127.0.0.1,port=6381,state=online,offset=1000,lag=0\r\n"
	    "master_failover_state:no-failover\r\nmaster_replid:ab\r\n"
	    "master_repl_offset:1042\r\nsecond_repl_offset:-1\r\n");
	assert_int_equal(sl_parse_info_replication(r, &i, &e), SL_OK);
	assert_int_equal(i.kind, SL_ROLE_MASTER);
	assert_int_equal(i.master_repl_offset, 1042);
	assert_int_equal(i.slave_repl_offset, -1);
	assert_int_equal(i.link_up, -1);
	freeReplyObject(r);

	r = bulk("# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\n"
	    "master_port:6380\r\nmaster_link_status:up\r\n"
	    "slave_repl_offset:1000\r\nslave_read_repl_offset:1000\r\n"
	    "master_repl_offset:1000");
	assert_int_equal(sl_parse_info_replication(r, &i, &e), SL_OK);
	assert_int_equal(i.kind, SL_ROLE_REPLICA);
	assert_int_equal(i.slave_repl_offset, 1000);
	assert_int_equal(i.master_repl_offset, 1000);
	assert_int_equal(i.link_up, 1);
	freeReplyObject(r);

	r = bulk("role:slave\nmaster_link_status:down\nmaster_repl_offset:0\n");
	assert_int_equal(sl_parse_info_replication(r, &i, &e), SL_OK);
	assert_int_equal(i.link_up, 0);
	freeReplyObject(r);

	r = bulk("role:master\r\nmaster_repl_offset:12x\r\n");
	assert_int_equal(sl_parse_info_replication(r, &i, &e), SL_EPROTO);
	assert_string_equal(e.str, "INFO replication: bad value in "
	    "\"master_repl_offset:12x\"");
	freeReplyObject(r);
	r = bulk("role:leader\r\nmaster_repl_offset:1\r\n");
	assert_int_equal(sl_parse_info_replication(r, &i, &e), SL_EPROTO);
	assert_string_equal(e.str, "INFO replication: bad value in "
	    "\"role:leader\"");
	freeReplyObject(r);
	r = bulk("# Replication\r\nconnected_slaves:0\r\n");
	assert_int_equal(sl_parse_info_replication(r, &i, &e), SL_EPROTO);
	assert_string_equal(e.str, "INFO replication: no role or no "
	    "master_repl_offset");
	freeReplyObject(r);
	r = resp("-NOPERM no\r\n");
	assert_int_equal(sl_parse_info_replication(r, &i, &e), SL_EREDIS);
	assert_string_equal(e.str, "INFO replication: NOPERM no");
	freeReplyObject(r);
}

/* ---- discovery over a fake world ---- */

/* What one address answers: RESP per command, or a failure. */
struct fake_node {
	const char	*addr;		/* "host:port" */
	enum sl_err	 fail;		/* SL_OK: it answers */
	const char	*master_addr;	/* SENTINEL get-master-addr-by-name */
	const char	*replicas;	/* SENTINEL replicas */
	const char	*role;		/* ROLE */
};

struct fake {
	const struct fake_node *nodes;
	size_t		 n;
	char		 log[2048];	/* "addr CMD [S];" per call */
};

static enum sl_err
fake_cmd(void *ctx, const struct sl_hostport *addr, int to_sentinel, int argc,
    const char **argv, redisReply **reply, struct sl_error *e)
{
	struct fake	*f = ctx;
	char		 hp[64];
	const char	*bytes = NULL;
	size_t		 o = strlen(f->log);

	sl_hostport_fmt(addr, hp, sizeof(hp));
	snprintf(f->log + o, sizeof(f->log) - o, "%s %s%s%s;", hp, argv[0],
	    argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
	if (to_sentinel) {
		o = strlen(f->log);
		snprintf(f->log + o - 1, sizeof(f->log) - o + 1, " S;");
	}
	for (size_t i = 0; i < f->n; i++) {
		const struct fake_node *x = &f->nodes[i];

		if (strcmp(x->addr, hp) != 0)
			continue;
		if (x->fail != SL_OK)
			return sl_seterr(e, x->fail, "connection refused");
		if (strcmp(argv[0], "ROLE") == 0)
			bytes = x->role;
		else if (strcmp(argv[1], "get-master-addr-by-name") == 0)
			bytes = x->master_addr;
		else if (strcmp(argv[1], "replicas") == 0)
			bytes = x->replicas;
		if (bytes == NULL)
			return sl_seterr(e, SL_EREDIS, "no answer set");
		if ((*reply = resp(bytes)) == NULL)
			return sl_seterr(e, SL_ENOMEM, NULL);
		return SL_OK;
	}
	return sl_seterr(e, SL_EREDIS, "connection refused");
}

#define MASTER_AT(p) "*2\r\n$9\r\n127.0.0.1\r\n$4\r\n" p "\r\n"
#define ROLE_MASTER(off) "*3\r\n$6\r\nmaster\r\n:" off "\r\n*0\r\n"
#define ROLE_REPLICA_OF(p, off) "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n" \
	":" p "\r\n$9\r\nconnected\r\n:" off "\r\n"

static void
url3(struct sl_sentinel_url *u)
{
	struct sl_error e;

	assert_int_equal(sl_sentinel_url_parse("redis-sentinel://127.0.0.1:"
	    "26001,127.0.0.1:26002,127.0.0.1:26003/mymaster", u, &e), SL_OK);
}

static void
discover_next_sentinel(void **state)
{
	/* Sentinel 1 is down; sentinel 2 still names the demoted master;
	 * sentinel 3 names the new one. */
	static const struct fake_node w[] = {
		{ .addr = "127.0.0.1:26001", .fail = SL_EREDIS },
		{ .addr = "127.0.0.1:26002", .master_addr = MASTER_AT("6380") },
		{ .addr = "127.0.0.1:26003", .master_addr = MASTER_AT("6381") },
		{ .addr = "127.0.0.1:6380",
		    .role = ROLE_REPLICA_OF("6381", "500") },
		{ .addr = "127.0.0.1:6381", .role = ROLE_MASTER("777") },
	};
	struct fake		 f = { .nodes = w, .n = 5 };
	struct sl_sentinel_url	 u;
	struct sl_discovery	 d;
	struct sl_error		 e;

	(void)state;
	url3(&u);
	assert_int_equal(sl_sentinel_discover(&u, 0, fake_cmd, &f, &d, &e),
	    SL_OK);
	assert_string_equal(d.master.host, "127.0.0.1");
	assert_int_equal(d.master.port, 6381);
	assert_int_equal(d.master_offset, 777);
	assert_int_equal(d.answered, 2);
	assert_int_equal(d.nfailed, 2);
	assert_int_equal(d.failed[0].sentinel, 0);
	assert_int_equal(d.failed[0].code, SL_EREDIS);
	assert_string_equal(d.failed[0].why, "connection refused");
	assert_int_equal(d.failed[1].sentinel, 1);
	assert_string_equal(d.failed[1].why, "named 127.0.0.1:6380, whose role "
	    "is replica");
	assert_string_equal(f.log,
	    "127.0.0.1:26001 SENTINEL get-master-addr-by-name S;"
	    "127.0.0.1:26002 SENTINEL get-master-addr-by-name S;"
	    "127.0.0.1:6380 ROLE;"
	    "127.0.0.1:26003 SENTINEL get-master-addr-by-name S;"
	    "127.0.0.1:6381 ROLE;");
	sl_discovery_free(&d);

	/* Starting from the one that answered last: one question, one ROLE. */
	f.log[0] = '\0';
	assert_int_equal(sl_sentinel_discover(&u, 2, fake_cmd, &f, &d, &e),
	    SL_OK);
	assert_int_equal(d.answered, 2);
	assert_int_equal(d.nfailed, 0);
	assert_string_equal(f.log,
	    "127.0.0.1:26003 SENTINEL get-master-addr-by-name S;"
	    "127.0.0.1:6381 ROLE;");
	sl_discovery_free(&d);
	sl_sentinel_url_free(&u);
}

static void
discover_none(void **state)
{
	static const struct fake_node w[] = {
		{ .addr = "127.0.0.1:26001", .master_addr = "*-1\r\n" },
		{ .addr = "127.0.0.1:26002",
		    .master_addr = "-NOAUTH Authentication required.\r\n" },
		{ .addr = "127.0.0.1:26003", .master_addr = MASTER_AT("6390") },
	};
	struct fake		 f = { .nodes = w, .n = 3 };
	struct sl_sentinel_url	 u;
	struct sl_discovery	 d;
	struct sl_error		 e;

	(void)state;
	url3(&u);
	/* From the second: the order wraps. */
	assert_int_equal(sl_sentinel_discover(&u, 1, fake_cmd, &f, &d, &e),
	    SL_EREDIS);
	assert_string_equal(e.str, "no sentinel gave a master for \"mymaster\": "
	    "127.0.0.1:26002: SENTINEL get-master-addr-by-name: NOAUTH "
	    "Authentication required.; 127.0.0.1:26003: named 127.0.0.1:6390: "
	    "connection refused; 127.0.0.1:26001: no master named \"mymaster\"");
	assert_int_equal(d.nfailed, 3);
	assert_null(d.master.host);
	sl_discovery_free(&d);
	sl_sentinel_url_free(&u);
}

static void
discover_oom(void **state)
{
	static const struct fake_node w[] = {
		{ .addr = "127.0.0.1:26001", .master_addr = MASTER_AT("6380") },
		{ .addr = "127.0.0.1:6380", .role =
		    "*3\r\n$6\r\nmaster\r\n:9\r\n*1\r\n*3\r\n$9\r\n127.0.0.1\r\n"
		    "$4\r\n6381\r\n$1\r\n9\r\n" },
	};
	struct fake		 f = { .nodes = w, .n = 2 };
	struct sl_sentinel_url	 u;
	struct sl_discovery	 d;
	struct sl_error		 e;
	long			 total;

	(void)state;
	url3(&u);
	sl_alloc_reset();
	assert_int_equal(sl_sentinel_discover(&u, 0, fake_cmd, &f, &d, &e),
	    SL_OK);
	total = sl_alloc_count();
	sl_discovery_free(&d);
	assert_true(total >= 3);
	for (long n = 0; n < total; n++) {
		sl_alloc_fail_after(n);
		assert_int_equal(sl_sentinel_discover(&u, 0, fake_cmd, &f, &d,
		    &e), SL_ENOMEM);
		assert_null(d.master.host);
	}
	sl_alloc_reset();
	sl_sentinel_url_free(&u);
}

static const struct fake_node replica_world[] = {
	{ .addr = "127.0.0.1:26001", .replicas =
	    "*3\r\n"
	    "*8\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nport\r\n$4\r\n6381\r\n"
	    "$5\r\nflags\r\n$5\r\nslave\r\n$17\r\nslave-repl-offset\r\n$1\r\n1\r\n"
	    "*8\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nport\r\n$4\r\n6382\r\n"
	    "$5\r\nflags\r\n$12\r\nslave,s_down\r\n"
	    "$17\r\nslave-repl-offset\r\n$1\r\n1\r\n"
	    "*8\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nport\r\n$4\r\n6383\r\n"
	    "$5\r\nflags\r\n$5\r\nslave\r\n$17\r\nslave-repl-offset\r\n$1\r\n1\r\n"
	},
	{ .addr = "127.0.0.1:6380", .role = ROLE_MASTER("1500") },
	{ .addr = "127.0.0.1:6381", .role = ROLE_REPLICA_OF("6380", "1200") },
	{ .addr = "127.0.0.1:6383", .role = ROLE_REPLICA_OF("6399", "1") },
};

static void
replicas_lag(void **state)
{
	struct fake		 f = { .nodes = replica_world, .n = 4 };
	struct sl_sentinel_url	 u;
	struct sl_replica_list	 l;
	struct sl_hostport	 m = { .host = (char *)"127.0.0.1",
	    .port = 6380 };
	struct sl_error		 e;

	(void)state;
	url3(&u);
	assert_int_equal(sl_sentinel_replicas(&u, 0, &m, fake_cmd, &f, &l, &e),
	    SL_OK);
	assert_int_equal(l.master_offset, 1500);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.v[0].addr.port, 6381);
	assert_int_equal(l.v[0].up, 1);
	assert_int_equal(l.v[0].offset, 1200);
	assert_int_equal(l.v[0].lag, 300);
	assert_int_equal(l.v[1].up, 0);
	assert_int_equal(l.v[1].lag, -1);
	assert_string_equal(l.v[1].why, "the sentinel flags it slave,s_down");
	assert_int_equal(l.v[2].up, 0);
	assert_string_equal(l.v[2].why, "a replica of 127.0.0.1:6399");
	/* The s_down replica is not asked; the master is asked last. */
	assert_string_equal(f.log, "127.0.0.1:26001 SENTINEL replicas S;"
	    "127.0.0.1:6381 ROLE;127.0.0.1:6383 ROLE;127.0.0.1:6380 ROLE;");
	sl_replica_list_free(&l);

	/* The master gone: the whole list fails, saying so. */
	m.port = 6390;
	assert_int_equal(sl_sentinel_replicas(&u, 0, &m, fake_cmd, &f, &l, &e),
	    SL_EREDIS);
	assert_string_equal(e.str, "ROLE on the master 127.0.0.1:6390: "
	    "connection refused");
	assert_int_equal(l.n, 0);
	/* A sentinel that cannot be reached. */
	assert_int_equal(sl_sentinel_replicas(&u, 1, &m, fake_cmd, &f, &l, &e),
	    SL_EREDIS);
	assert_string_equal(e.str, "sentinel 127.0.0.1:26002: connection "
	    "refused");
	sl_sentinel_url_free(&u);
}

static void
replicas_oom(void **state)
{
	struct fake		 f = { .nodes = replica_world, .n = 4 };
	struct sl_sentinel_url	 u;
	struct sl_replica_list	 l;
	struct sl_hostport	 m = { .host = (char *)"127.0.0.1",
	    .port = 6380 };
	struct sl_error		 e;
	long			 total;

	(void)state;
	url3(&u);
	sl_alloc_reset();
	assert_int_equal(sl_sentinel_replicas(&u, 0, &m, fake_cmd, &f, &l, &e),
	    SL_OK);
	total = sl_alloc_count();
	sl_replica_list_free(&l);
	assert_true(total >= 8);
	for (long n = 0; n < total; n++) {
		sl_alloc_fail_after(n);
		assert_int_equal(sl_sentinel_replicas(&u, 0, &m, fake_cmd, &f,
		    &l, &e), SL_ENOMEM);
		assert_int_equal(l.n, 0);
		assert_null(l.v);
	}
	sl_alloc_reset();
	sl_sentinel_url_free(&u);
}

/* The executor's callback refuses before any connection: a deadline that
 * has passed, no arguments, too many. */
static void
exec_cmd_refusals(void **state)
{
	struct sl_exec		 x;
	struct sl_sentinel_exec	 sx = { .sentinels = &x, .nodes = &x };
	struct sl_hostport	 h = { .host = (char *)"127.0.0.1", .port = 1 };
	const char		*argv[SL_SENTINEL_ARGV_MAX + 1] = { "ROLE" };
	redisReply		*r = (redisReply *)&h;
	struct sl_error		 e;

	(void)state;
	sl_exec_init(&x, NULL, 1000);
	assert_int_equal(sl_sentinel_exec_cmd(&sx, &h, 0, 1, argv, &r, &e),
	    SL_ETIMEOUT);
	assert_string_equal(e.str, "the discovery's deadline passed");
	assert_null(r);
	sx.deadline = sl_mono_ms() + 60000;
	assert_int_equal(sl_sentinel_exec_cmd(&sx, &h, 1, 0, argv, &r, &e),
	    SL_EINPUT);
	assert_int_equal(sl_sentinel_exec_cmd(&sx, &h, 1,
	    SL_SENTINEL_ARGV_MAX + 1, argv, &r, &e), SL_EINPUT);
	assert_string_equal(e.str, "no address, or not 1 to 8 arguments");
	assert_int_equal(x.nnodes, 0);
	sl_exec_free(&x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(url_forms),
		cmocka_unit_test(url_errors),
		cmocka_unit_test(url_oom),
		cmocka_unit_test(master_addr),
		cmocka_unit_test(role_master_replica_sentinel),
		cmocka_unit_test(role_malformed),
		cmocka_unit_test(sentinel_replicas),
		cmocka_unit_test(info_replication),
		cmocka_unit_test(discover_next_sentinel),
		cmocka_unit_test(discover_none),
		cmocka_unit_test(discover_oom),
		cmocka_unit_test(replicas_lag),
		cmocka_unit_test(replicas_oom),
		cmocka_unit_test(exec_cmd_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
