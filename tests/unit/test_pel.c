/* SPDX-License-Identifier: ISC */
/* The extended XPENDING reply read from RESP bytes fed to hiredis's own
 * reader (as from a socket), Redis 8.8's XNACK facts among them, and the
 * pending list's answers: poison, claimable, unowned, dangling entries and
 * dead consumers, at their limits and one past. */
#include <limits.h>
#include <stdio.h>

#include "sl_test.h"
#include "streamlag/alloc.h"
#include "streamlag/pel.h"

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

/* One XPENDING entry in RESP: consumer NULL gives a nil bulk string. */
static void
entry(char *buf, size_t len, const char *id, const char *who, long long idle,
    long long n)
{
	char c[64];

	if (who == NULL)
		snprintf(c, sizeof(c), "$-1\r\n");
	else
		snprintf(c, sizeof(c), "$%zu\r\n%s\r\n", strlen(who), who);
	snprintf(buf + strlen(buf), len - strlen(buf),
	    "*4\r\n$%zu\r\n%s\r\n%s:%lld\r\n:%lld\r\n", strlen(id), id, c, idle,
	    n);
}

static enum sl_err
parse(const char *bytes, struct sl_pel_item **it, size_t *n,
    struct sl_error *why)
{
	redisReply	*r = resp(bytes);
	enum sl_err	 rc = sl_facts_pel(r, it, n, why);

	freeReplyObject(r);
	return rc;
}

static void
real_reply(void **state)
{
	char		 b[1024] = "*3\r\n";
	struct sl_pel_item *it;
	struct sl_error	 why;
	size_t		 n;

	(void)state;
	entry(b, sizeof(b), "1700000000000-0", "alice", 120000, 31);
	entry(b, sizeof(b), "1700000000001-5", "bob", 10, 1);
	entry(b, sizeof(b), "1700000000002-0", "alice", 0, 0);
	assert_int_equal(parse(b, &it, &n, &why), SL_OK);
	assert_int_equal(n, 3);
	assert_string_equal(it[0].id, "1700000000000-0");
	assert_memory_equal(it[0].consumer.p, "alice", 5);
	assert_int_equal(it[0].idle_ms, 120000);
	assert_int_equal(it[0].deliveries, 31);
	assert_string_equal(it[1].id, "1700000000001-5");
	assert_int_equal(it[2].deliveries, 0);
	sl_pel_items_free(it, n);
	assert_int_equal(parse("*0\r\n", &it, &n, &why), SL_OK);
	assert_int_equal(n, 0);
	assert_null(it);
}

/* Redis 8.8 XNACK: idle -1, no owner, a delivery count of LLONG_MAX. */
static void
xnack_facts(void **state)
{
	char		 b[1024] = "*3\r\n";
	struct sl_pel_item *it;
	struct sl_error	 why;
	struct sl_pel_report o;
	struct sl_pel_limits lim = { 1000, 10, 60000, 30000 };
	size_t		 n;

	(void)state;
	entry(b, sizeof(b), "5-0", NULL, -1, LLONG_MAX);
	entry(b, sizeof(b), "6-0", "", -1, 3);
	entry(b, sizeof(b), "7-0", "carol", 60000, 9);
	assert_int_equal(parse(b, &it, &n, &why), SL_OK);
	assert_int_equal(n, 3);
	assert_null(it[0].consumer.p);
	assert_int_equal(it[0].idle_ms, -1);
	assert_true(it[0].deliveries == LLONG_MAX);
	assert_null(it[1].consumer.p);
	sl_pel_analyze(it, n, 3, "5-0", NULL, -1, &lim, &o);
	assert_true(o.max_deliveries == LLONG_MAX);
	assert_int_equal(o.poison, 1);
	assert_int_equal(o.npoison_ids, 1);
	assert_string_equal(o.poison_ids[0], "5-0");
	assert_int_equal(o.unowned, 2);
	assert_int_equal(o.claimable, 1);	/* carol's, at the limit */
	assert_int_equal(o.dangling, 0);
	assert_int_equal(o.dead_consumers, -1);
	assert_false(o.truncated);
	sl_pel_items_free(it, n);
}

static void
malformed(void **state)
{
	const char *bad[] = {
		"$3\r\nabc\r\n",				/* not an array */
		"*1\r\n*3\r\n$3\r\n1-0\r\n$1\r\na\r\n:1\r\n",	/* 3 fields */
		"*1\r\n*4\r\n:1\r\n$1\r\na\r\n:1\r\n:1\r\n",	/* integer id */
		"*1\r\n*4\r\n$0\r\n\r\n$1\r\na\r\n:1\r\n:1\r\n",	/* empty id */
		"*1\r\n*4\r\n$3\r\n1-0\r\n$1\r\na\r\n:-2\r\n:1\r\n",	/* idle */
		"*1\r\n*4\r\n$3\r\n1-0\r\n$1\r\na\r\n:1\r\n:-1\r\n",	/* count */
		"*1\r\n*4\r\n$3\r\n1-0\r\n$1\r\na\r\n$1\r\n1\r\n:1\r\n",
		"*1\r\n*4\r\n$3\r\n1-0\r\n:7\r\n:1\r\n:1\r\n",	/* consumer */
		"*2\r\n*4\r\n$3\r\n1-0\r\n$1\r\na\r\n:1\r\n:1\r\n*0\r\n",
	};
	struct sl_pel_item *it;
	struct sl_error	 why;
	size_t		 n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &it, &n, &why), SL_EPROTO);
		assert_null(it);
		assert_int_equal(n, 0);
	}
	assert_int_equal(parse("-NOGROUP No such key 's' or consumer group "
	    "'g'\r\n", &it, &n, &why), SL_EREDIS);
	assert_string_equal(why.str, "NOGROUP No such key 's' or consumer "
	    "group 'g'");
}

/* An id of SL_ID_MAX - 1 bytes is read, one more is not. */
static void
id_limit(void **state)
{
	char		 id[SL_ID_MAX + 1], b[512];
	struct sl_pel_item *it;
	struct sl_error	 why;
	size_t		 n;

	(void)state;
	memset(id, '7', sizeof(id));
	id[SL_ID_MAX - 1] = '\0';
	strcpy(b, "*1\r\n");
	entry(b, sizeof(b), id, "a", 1, 1);
	assert_int_equal(parse(b, &it, &n, &why), SL_OK);
	sl_pel_items_free(it, n);
	id[SL_ID_MAX - 1] = '7';
	id[SL_ID_MAX] = '\0';
	strcpy(b, "*1\r\n");
	entry(b, sizeof(b), id, "a", 1, 1);
	assert_int_equal(parse(b, &it, &n, &why), SL_EPROTO);
}

static void
no_memory(void **state)
{
	char		 b[256] = "*2\r\n";
	redisReply	*r;
	struct sl_pel_item *it;
	struct sl_error	 why;
	size_t		 n;

	(void)state;
	entry(b, sizeof(b), "1-0", "a", 1, 1);
	entry(b, sizeof(b), "2-0", "b", 1, 1);
	r = resp(b);
	for (long k = 0; k < 3; k++) {
		sl_alloc_fail_after(k);
		assert_int_equal(sl_facts_pel(r, &it, &n, &why), SL_ENOMEM);
		assert_null(it);
		sl_alloc_reset();
	}
	sl_alloc_fail_after(3);
	assert_int_equal(sl_facts_pel(r, &it, &n, &why), SL_OK);
	sl_alloc_reset();
	sl_pel_items_free(it, n);
	freeReplyObject(r);
}

static struct sl_pel_item
item(const char *id, long long idle, long long n)
{
	struct sl_pel_item x;

	memset(&x, 0, sizeof(x));
	snprintf(x.id, sizeof(x.id), "%s", id);
	x.idle_ms = idle;
	x.deliveries = n;
	return x;
}

/* Twelve poison entries: all counted, ten named; claimable at the limit
 * and not one below; dangling older than the first entry only. */
static void
analysis(void **state)
{
	struct sl_pel_item it[20];
	struct sl_pel_limits lim = { 20, 10, 60000, 30000 };
	struct sl_pel_report o;
	char id[32];

	(void)state;
	for (size_t i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "100-%zu", i);
		it[i] = item(id, i < 5 ? 60000 : 59999, i < 12 ? 10 : 9);
	}
	sl_pel_analyze(it, 20, 25, "100-3", NULL, -1, &lim, &o);
	assert_int_equal(o.scanned, 20);
	assert_true(o.truncated);
	assert_int_equal(o.max_deliveries, 10);
	assert_int_equal(o.poison, 12);
	assert_int_equal(o.npoison_ids, SL_PEL_IDS_LISTED);
	assert_string_equal(o.poison_ids[0], "100-0");
	assert_string_equal(o.poison_ids[9], "100-9");
	assert_int_equal(o.claimable, 5);
	assert_int_equal(o.dangling, 3);	/* 100-0, 100-1, 100-2 */
	sl_pel_analyze(it, 20, 20, "", NULL, -1, &lim, &o);
	assert_false(o.truncated);
	assert_int_equal(o.dangling, 20);	/* the stream is empty */
	sl_pel_analyze(it, 20, -1, NULL, NULL, -1, &lim, &o);
	assert_true(o.truncated);		/* as many as the scan */
	assert_int_equal(o.dangling, -1);
	sl_pel_analyze(it, 0, 0, "1-0", NULL, -1, &lim, &o);
	assert_int_equal(o.max_deliveries, -1);
	assert_int_equal(o.poison + o.claimable + o.dangling, 0);
	sl_pel_analyze(it, 1, 1, "not-an-id", NULL, -1, &lim, &o);
	assert_int_equal(o.dangling, -1);
}

static void
dead_consumers(void **state)
{
	struct sl_consumer c[] = {
		{ { NULL, 0 }, 2, 30000, 0, 0 },	/* 7.0, idle at limit */
		{ { NULL, 0 }, 2, 29999, 0, 0 },	/* just below */
		{ { NULL, 0 }, 0, 99999, 0, 0 },	/* holds nothing */
		{ { NULL, 0 }, 1, 5, 30000, 1 },	/* 7.2 inactive */
		{ { NULL, 0 }, 1, 99999, 29999, 1 },	/* 7.2 active */
		{ { NULL, 0 }, 1, 5, -1, 1 },		/* never read */
	};
	struct sl_pel_limits lim = { 1000, 10, 60000, 30000 };
	struct sl_pel_report o;

	(void)state;
	sl_pel_analyze(NULL, 0, 7, "1-0", c, 6, &lim, &o);
	assert_int_equal(o.dead_consumers, 3);
	sl_pel_analyze(NULL, 0, 0, "1-0", NULL, 0, &lim, &o);
	assert_int_equal(o.dead_consumers, 0);
}

static void
id_order(void **state)
{
	int bad = 0;

	(void)state;
	assert_int_equal(sl_pel_idcmp("1-0", "1-1", &bad), -1);
	assert_int_equal(sl_pel_idcmp("2-0", "1-99", &bad), 1);
	assert_int_equal(sl_pel_idcmp("5", "5-0", &bad), 0);
	assert_int_equal(sl_pel_idcmp("18446744073709551615-18446744073709551615",
	    "18446744073709551615-18446744073709551614", &bad), 1);
	assert_int_equal(bad, 0);
	sl_pel_idcmp("18446744073709551616-0", "1-0", &bad);
	assert_int_equal(bad, 1);
	bad = 0;
	sl_pel_idcmp("1-", "1-0", &bad);
	assert_int_equal(bad, 1);
	bad = 0;
	sl_pel_idcmp("-1", "1-0", &bad);
	assert_int_equal(bad, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(real_reply),
		cmocka_unit_test(xnack_facts),
		cmocka_unit_test(malformed),
		cmocka_unit_test(id_limit),
		cmocka_unit_test(no_memory),
		cmocka_unit_test(analysis),
		cmocka_unit_test(dead_consumers),
		cmocka_unit_test(id_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
