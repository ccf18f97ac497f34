/* SPDX-License-Identifier: ISC */
/* The XINFO limits (facts.c) at the limit and one past it: SL_FACTS_MAX_ITEMS groups
 * or consumers in one reply, and stream ids of SL_ID_MAX - 1 bytes. */
#include <stdio.h>

#include "sl_test.h"
#include "streamlag/facts.h"

/* An array reply of n elements that all point at `item` (the parsers only
 * read); freed by list_free, not by freeReplyObject. */
static redisReply *
list_of(size_t n, redisReply *item)
{
	redisReply *r = t_reply(REDIS_REPLY_ARRAY);

	r->elements = n;
	r->element = calloc(n, sizeof(*r->element));
	assert_non_null(r->element);
	for (size_t i = 0; i < n; i++)
		r->element[i] = item;
	return r;
}

static void
list_free(redisReply *r)
{
	free(r->element);
	free(r);
}

static redisReply *
group(const char *last)
{
	return t_arr(8, t_str("name"), t_str("g"), t_str("consumers"), t_int(1),
	    t_str("pending"), t_int(0), t_str("last-delivered-id"), t_str(last));
}

static void
groups_at_the_item_limit(void **state)
{
	redisReply *m = group("1-0");
	redisReply *r = list_of(SL_FACTS_MAX_ITEMS, m);
	struct sl_group *g;
	size_t n;
	struct sl_error err;

	(void)state;
	assert_int_equal(sl_facts_groups(r, &g, &n, &err), SL_OK);
	assert_int_equal(n, SL_FACTS_MAX_ITEMS);
	sl_groups_free(g, n);
	list_free(r);
	r = list_of(SL_FACTS_MAX_ITEMS + 1, m);
	assert_int_equal(sl_facts_groups(r, &g, &n, &err), SL_EPROTO);
	assert_string_equal(err.str, "XINFO GROUPS: more than 100000 entries");
	assert_null(g);
	assert_int_equal(n, 0);
	list_free(r);
	freeReplyObject(m);
}

static void
consumers_at_the_item_limit(void **state)
{
	redisReply *m = t_arr(6, t_str("name"), t_str("c"), t_str("pending"),
	    t_int(0), t_str("idle"), t_int(5));
	redisReply *r = list_of(SL_FACTS_MAX_ITEMS, m);
	struct sl_consumer *c;
	size_t n;
	struct sl_error err;

	(void)state;
	assert_int_equal(sl_facts_consumers(r, &c, &n, &err), SL_OK);
	assert_int_equal(n, SL_FACTS_MAX_ITEMS);
	sl_consumers_free(c, n);
	list_free(r);
	r = list_of(SL_FACTS_MAX_ITEMS + 1, m);
	assert_int_equal(sl_facts_consumers(r, &c, &n, &err), SL_EPROTO);
	assert_string_equal(err.str, "XINFO CONSUMERS: more than 100000 entries");
	list_free(r);
	freeReplyObject(m);
}

/* An id of SL_ID_MAX - 1 bytes (the longest "ms-seq" of two uint64) fits;
 * one byte more is a bad reply. */
static void
ids_at_their_limit(void **state)
{
	char id[SL_ID_MAX + 1];
	redisReply *r;
	struct sl_group *g;
	size_t n;
	struct sl_error err;

	(void)state;
	memset(id, '1', sizeof(id));
	id[20] = '-';
	id[SL_ID_MAX - 1] = '\0';
	r = t_arr(1, group(id));
	assert_int_equal(sl_facts_groups(r, &g, &n, &err), SL_OK);
	assert_string_equal(g[0].last_delivered_id, id);
	sl_groups_free(g, n);
	freeReplyObject(r);
	id[SL_ID_MAX - 1] = '1';
	id[SL_ID_MAX] = '\0';
	r = t_arr(1, group(id));
	assert_int_equal(sl_facts_groups(r, &g, &n, &err), SL_EPROTO);
	assert_string_equal(err.str, "XINFO GROUPS: bad last-delivered-id");
	freeReplyObject(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(groups_at_the_item_limit),
		cmocka_unit_test(consumers_at_the_item_limit),
		cmocka_unit_test(ids_at_their_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
