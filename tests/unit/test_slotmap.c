/* SPDX-License-Identifier: ISC */
/* The slot map from CLUSTER SLOTS replies (made by feeding RESP bytes to
 * hiredis's reader, as a socket would), MOVED updates, and the reading of
 * MOVED/ASK errors. */
#include "sl_test.h"

#include "streamlag/alloc.h"
#include "streamlag/slotmap.h"

static redisReply *
resp(const char *bytes)
{
	redisReader	*rd = redisReaderCreate();
	void		*reply = NULL;

	assert_non_null(rd);
	assert_int_equal(redisReaderFeed(rd, bytes, strlen(bytes)), REDIS_OK);
	assert_int_equal(redisReaderGetReply(rd, &reply), REDIS_OK);
	assert_non_null(reply);
	redisReaderFree(rd);
	return reply;
}

#define NODE(p)	"*3\r\n$1\r\nh\r\n:" #p "\r\n$2\r\nid\r\n"

/* Three masters, each with one replica; 7.0 adds a fourth (metadata)
 * element to each node, read past. */
static const char three[] =
    "*3\r\n"
    "*4\r\n:0\r\n:5460\r\n"
	"*4\r\n$9\r\n127.0.0.1\r\n:7001\r\n$2\r\nid\r\n*0\r\n"
	"*4\r\n$9\r\n127.0.0.1\r\n:7004\r\n$2\r\nid\r\n*0\r\n"
    "*4\r\n:5461\r\n:10922\r\n"
	"*3\r\n$9\r\n127.0.0.1\r\n:7002\r\n$2\r\nid\r\n"
	"*3\r\n$9\r\n127.0.0.1\r\n:7005\r\n$2\r\nid\r\n"
    "*4\r\n:10923\r\n:16383\r\n"
	"*3\r\n$3\r\n::1\r\n:7003\r\n$2\r\nid\r\n"
	"*3\r\n$3\r\n::1\r\n:7006\r\n$2\r\nid\r\n";

static void
test_parse_three_masters(void **state)
{
	struct sl_slotmap *m = calloc(1, sizeof(*m));
	struct sl_error	 e;
	redisReply	*r = resp(three);
	int		 a, b, c;

	(void)state;
	sl_slotmap_init(m);
	assert_int_equal(sl_slotmap_parse_slots(m, r, "10.0.0.1", &e), SL_OK);
	assert_int_equal(m->nnodes, 6);
	a = sl_slotmap_find(m, "127.0.0.1", 7001);
	b = sl_slotmap_find(m, "127.0.0.1", 7002);
	c = sl_slotmap_find(m, "::1", 7003);
	assert_true(a >= 0 && b >= 0 && c >= 0);
	assert_int_equal(sl_slotmap_lookup(m, 0), a);
	assert_int_equal(sl_slotmap_lookup(m, 5460), a);
	assert_int_equal(sl_slotmap_lookup(m, 5461), b);
	assert_int_equal(sl_slotmap_lookup(m, 10922), b);
	assert_int_equal(sl_slotmap_lookup(m, 10923), c);
	assert_int_equal(sl_slotmap_lookup(m, 16383), c);
	assert_int_equal(sl_slotmap_lookup(m, 16384), -1);
	assert_int_equal(m->nodes[a].master, -1);
	assert_int_equal(m->nodes[sl_slotmap_find(m, "127.0.0.1", 7004)].master, a);
	assert_int_equal(m->nodes[sl_slotmap_find(m, "::1", 7006)].master, c);
	assert_int_equal(m->version, 1);
	freeReplyObject(r);
	sl_slotmap_free(m);
	free(m);
}

static void
test_origin_and_unknown(void **state)
{
	struct sl_slotmap *m = calloc(1, sizeof(*m));
	struct sl_error	 e;
	/* "" and nil: the node that answered; "?": unknown, left out. */
	redisReply	*r = resp("*3\r\n"
	    "*3\r\n:0\r\n:99\r\n*2\r\n$0\r\n\r\n:7001\r\n"
	    "*3\r\n:100\r\n:199\r\n*2\r\n$-1\r\n:7002\r\n"
	    "*3\r\n:200\r\n:299\r\n*2\r\n$1\r\n?\r\n:7003\r\n");

	(void)state;
	sl_slotmap_init(m);
	assert_int_equal(sl_slotmap_parse_slots(m, r, "10.0.0.1", &e), SL_OK);
	assert_int_equal(m->nnodes, 2);
	assert_int_equal(sl_slotmap_lookup(m, 0),
	    sl_slotmap_find(m, "10.0.0.1", 7001));
	assert_int_equal(sl_slotmap_lookup(m, 150),
	    sl_slotmap_find(m, "10.0.0.1", 7002));
	assert_int_equal(sl_slotmap_lookup(m, 250), -1);
	assert_int_equal(sl_slotmap_lookup(m, 300), -1);
	freeReplyObject(r);
	sl_slotmap_free(m);
	free(m);
}

static redisReply *
resp_n(const char *bytes, size_t len)
{
	redisReader	*rd = redisReaderCreate();
	void		*reply = NULL;

	assert_non_null(rd);
	assert_int_equal(redisReaderFeed(rd, bytes, len), REDIS_OK);
	assert_int_equal(redisReaderGetReply(rd, &reply), REDIS_OK);
	assert_non_null(reply);
	redisReaderFree(rd);
	return reply;
}

#define B(lit)	{ .s = lit, .len = sizeof(lit) - 1 }

static void
test_malformed(void **state)
{
	static const struct { const char *s; size_t len; } bad[] = {
		B("+OK\r\n"),
		B("-ERR This instance has cluster support disabled\r\n"),
		B("*1\r\n:1\r\n"),
		B("*1\r\n*2\r\n:0\r\n:1\r\n"),			/* no master */
		B("*1\r\n*3\r\n:5\r\n:4\r\n" NODE(7001)),	/* end < start */
		B("*1\r\n*3\r\n:0\r\n:16384\r\n" NODE(7001)),	/* past the last */
		B("*1\r\n*3\r\n:-1\r\n:3\r\n" NODE(7001)),
		B("*1\r\n*3\r\n$1\r\n0\r\n:3\r\n" NODE(7001)),	/* string start */
		B("*1\r\n*3\r\n:0\r\n:3\r\n*1\r\n$1\r\nh\r\n"),	/* no port */
		B("*1\r\n*3\r\n:0\r\n:3\r\n*2\r\n$1\r\nh\r\n:0\r\n"),
		B("*1\r\n*3\r\n:0\r\n:3\r\n*2\r\n$1\r\nh\r\n:65536\r\n"),
		B("*1\r\n*3\r\n:0\r\n:3\r\n*2\r\n$1\r\nh\r\n$4\r\n7001\r\n"),
		B("*1\r\n*3\r\n:0\r\n:3\r\n*2\r\n:1\r\n:7001\r\n"),	/* int host */
		B("*1\r\n*3\r\n:0\r\n:3\r\n*2\r\n$3\r\na\0b\r\n:7001\r\n"),
		B("*1\r\n*3\r\n:0\r\n:3\r\n$5\r\nnode1\r\n"),
		B("*1\r\n*4\r\n:0\r\n:3\r\n" NODE(7001) ":7\r\n"), /* bad replica */
	};
	struct sl_slotmap *m = calloc(1, sizeof(*m));
	struct sl_error	 e;
	redisReply	*good = resp(three);

	(void)state;
	sl_slotmap_init(m);
	assert_int_equal(sl_slotmap_parse_slots(m, good, "h", &e), SL_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		redisReply *r = resp_n(bad[i].s, bad[i].len);

		sl_error_clear(&e);
		assert_int_equal(sl_slotmap_parse_slots(m, r, "h", &e), SL_EPROTO);
		assert_true(e.str[0] != '\0');
		freeReplyObject(r);
		/* The map from before is kept whole. */
		assert_int_equal(m->nnodes, 6);
		assert_int_equal(m->version, 1);
		assert_int_equal(sl_slotmap_lookup(m, 16383),
		    sl_slotmap_find(m, "::1", 7003));
	}
	assert_int_equal(sl_slotmap_parse_slots(m, NULL, "h", &e), SL_EPROTO);
	freeReplyObject(good);
	sl_slotmap_free(m);
	free(m);
}

static void
test_moved_updates_one_slot(void **state)
{
	struct sl_slotmap *m = calloc(1, sizeof(*m));
	struct sl_error	 e;
	redisReply	*r = resp(three);
	int		 b, n;

	(void)state;
	sl_slotmap_init(m);
	assert_int_equal(sl_slotmap_parse_slots(m, r, "h", &e), SL_OK);
	b = sl_slotmap_find(m, "127.0.0.1", 7002);
	/* To a known master. */
	assert_int_equal(sl_slotmap_moved(m, 3999, "127.0.0.1", 7002, &e), SL_OK);
	assert_int_equal(sl_slotmap_lookup(m, 3999), b);
	assert_int_equal(sl_slotmap_lookup(m, 3998),
	    sl_slotmap_find(m, "127.0.0.1", 7001));
	assert_int_equal(m->version, 2);
	/* To a replica, now promoted. */
	assert_int_equal(sl_slotmap_moved(m, 4000, "127.0.0.1", 7004, &e), SL_OK);
	n = sl_slotmap_find(m, "127.0.0.1", 7004);
	assert_int_equal(sl_slotmap_lookup(m, 4000), n);
	assert_int_equal(m->nodes[n].master, -1);
	/* To a node never seen: added. */
	assert_int_equal(sl_slotmap_moved(m, 0, "10.1.1.1", 7010, &e), SL_OK);
	assert_int_equal(m->nnodes, 7);
	assert_int_equal(sl_slotmap_lookup(m, 0),
	    sl_slotmap_find(m, "10.1.1.1", 7010));
	assert_int_equal(sl_slotmap_moved(m, 16384, "h", 1, &e), SL_EINPUT);
	assert_int_equal(sl_slotmap_moved(m, 1, "h", 0, &e), SL_EINPUT);
	/* Out of memory while adding a node: the map is unchanged. */
	sl_alloc_fail_after(0);
	assert_int_equal(sl_slotmap_moved(m, 1, "10.2.2.2", 1, &e), SL_ENOMEM);
	sl_alloc_reset();
	assert_int_equal(m->nnodes, 7);
	freeReplyObject(r);
	sl_slotmap_free(m);
	free(m);
}

/* Every allocation of a parse failing in turn: SL_ENOMEM, the map kept. */
static void
test_parse_enomem(void **state)
{
	struct sl_slotmap *m = calloc(1, sizeof(*m));
	struct sl_error	 e;
	redisReply	*r = resp(three);
	long		 n;

	(void)state;
	sl_slotmap_init(m);
	for (n = 0; ; n++) {
		enum sl_err rc;

		sl_alloc_fail_after(n);
		rc = sl_slotmap_parse_slots(m, r, "h", &e);
		sl_alloc_reset();
		if (rc == SL_OK)
			break;
		assert_int_equal(rc, SL_ENOMEM);
		assert_int_equal(m->nnodes, 0);
	}
	assert_true(n > 3);
	assert_int_equal(m->nnodes, 6);
	freeReplyObject(r);
	sl_slotmap_free(m);
	free(m);
}

static void
redirect_ok(const char *s, const char *answered, enum sl_redirect_kind k,
    unsigned slot, const char *host, int port)
{
	struct sl_redirect rd;
	struct sl_error	 e;

	assert_int_equal(sl_redirect_parse(s, strlen(s), answered, &rd, &e), SL_OK);
	assert_int_equal(rd.kind, k);
	assert_int_equal(rd.slot, slot);
	assert_string_equal(rd.host, host);
	assert_int_equal(rd.port, port);
}

static void
test_redirects(void **state)
{
	static const char *bad[] = {
		"MOVED", "ASK", "MOVED ", "MOVED 3999", "MOVED 3999 ", "MOVED x 1.2.3.4:1",
		"MOVED 16384 h:1", "MOVED 3999 h", "MOVED 3999 h:", "MOVED 3999 h:0",
		"MOVED 3999 h:65536", "MOVED 3999 h:1x", "ASK 3999 h:1234567",
		"MOVED 39999 h:1", "MOVED -1 h:1", "ASK  3999 h:1", "MOVED 3999 :6381",
	};
	struct sl_redirect rd;
	struct sl_error	 e;

	(void)state;
	redirect_ok("MOVED 3999 127.0.0.1:6381", "x", SL_REDIRECT_MOVED, 3999,
	    "127.0.0.1", 6381);
	redirect_ok("ASK 3999 127.0.0.1:6381", "x", SL_REDIRECT_ASK, 3999,
	    "127.0.0.1", 6381);
	redirect_ok("MOVED 0 ::1:6381", "x", SL_REDIRECT_MOVED, 0, "::1", 6381);
	redirect_ok("ASK 16383 [fe80::1]:7000", "x", SL_REDIRECT_ASK, 16383,
	    "fe80::1", 7000);
	redirect_ok("MOVED 3999 :6381", "10.0.0.7", SL_REDIRECT_MOVED, 3999,
	    "10.0.0.7", 6381);
	redirect_ok("MOVED 3999 []:6381", "::1", SL_REDIRECT_MOVED, 3999,
	    "::1", 6381);
	redirect_ok("MOVED 1 redis-1.example:6379", NULL, SL_REDIRECT_MOVED, 1,
	    "redis-1.example", 6379);
	/* Other errors are not redirections. */
	redirect_ok("ERR unknown command", "x", SL_REDIRECT_NONE, 0, "", 0);
	redirect_ok("CLUSTERDOWN The cluster is down", "x", SL_REDIRECT_NONE, 0,
	    "", 0);
	redirect_ok("MOVEDX 1 h:1", "x", SL_REDIRECT_NONE, 0, "", 0);
	redirect_ok("TRYAGAIN Multiple keys", "x", SL_REDIRECT_NONE, 0, "", 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sl_error_clear(&e);
		/* The last one has no node that answered to stand for "". */
		assert_int_equal(sl_redirect_parse(bad[i], strlen(bad[i]), NULL,
		    &rd, &e), SL_EPROTO);
		assert_int_equal(rd.kind, SL_REDIRECT_NONE);
		assert_non_null(strstr(e.str, "redirection"));
	}
	/* Only len bytes are read. */
	assert_int_equal(sl_redirect_parse("MOVED 1 h:12345", 12, "x", &rd, &e),
	    SL_OK);
	assert_int_equal(rd.port, 12);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_three_masters),
		cmocka_unit_test(test_origin_and_unknown),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_moved_updates_one_slot),
		cmocka_unit_test(test_parse_enomem),
		cmocka_unit_test(test_redirects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
