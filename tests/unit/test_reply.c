/* SPDX-License-Identifier: ISC */
/* streamlag's reply functions for hiredis's reader, fed RESP bytes: an
 * allocation failure while a reply is built is SL_ENOMEM, for every
 * allocation over the reply, and never a protocol error; bytes that are
 * not RESP are SL_EPROTO with the reader's text; long names inside arrays
 * are shortened and every reply is counted. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/read.h>

#include "sl_test.h"
#include "streamlag/alloc.h"
#include "streamlag/reply.h"

/* XINFO GROUPS with one group: strings, integers, a nil, nested. */
static const char groups[] =
    "*1\r\n*12\r\n"
    "$4\r\nname\r\n$1\r\ng\r\n"
    "$9\r\nconsumers\r\n:2\r\n"
    "$7\r\npending\r\n:3\r\n"
    "$17\r\nlast-delivered-id\r\n$3\r\n5-0\r\n"
    "$12\r\nentries-read\r\n$-1\r\n"
    "$3\r\nlag\r\n:7\r\n";

/* Feeds bytes to a fresh reader and reads one reply. */
static enum sl_err
read_one(const char *bytes, size_t len, redisReply **out,
    struct sl_reply_meter *m, struct sl_error *e)
{
	redisReader	*rd = sl_reply_reader(m);
	void		*r = (void *)1;
	enum sl_err	 rc;

	assert_non_null(rd);
	assert_int_equal(redisReaderFeed(rd, bytes, len), REDIS_OK);
	rc = sl_reply_next(rd, &r, e);
	redisReaderFree(rd);
	*out = r;
	return rc;
}

static void
parsed_and_counted(void **state)
{
	struct sl_reply_meter	 m = { .bytes = 0 };
	struct sl_error		 e;
	redisReply		*r;
	redisReader		*rd;
	void			*part = (void *)1;

	(void)state;
	assert_int_equal(read_one(groups, sizeof(groups) - 1, &r, &m, &e),
	    SL_OK);
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	assert_int_equal(r->elements, 1);
	assert_int_equal(r->element[0]->elements, 12);
	assert_string_equal(r->element[0]->element[7]->str, "5-0");
	assert_int_equal(r->element[0]->element[9]->type, REDIS_REPLY_NIL);
	assert_int_equal(r->element[0]->element[11]->integer, 7);
	assert_true(m.bytes > 0);
	sl_reply_free(r);

	/* Incomplete: SL_OK and no reply yet. */
	rd = sl_reply_reader(&m);
	assert_non_null(rd);
	assert_int_equal(redisReaderFeed(rd, groups, 20), REDIS_OK);
	assert_int_equal(sl_reply_next(rd, &part, &e), SL_OK);
	assert_null(part);
	redisReaderFree(rd);
}

/* A name of 5000 bytes inside an array: 4064 kept, "...~" and the 16 hex
 * digits of its FNV-1a hash after them, its length as sent in integer;
 * the same string at the top level is kept whole.  sl_reply_wire_bytes
 * counts the string as sent. */
static void
long_names_shortened(void **state)
{
	struct sl_reply_meter	 m = { .bytes = 0 };
	struct sl_error		 e;
	redisReply		*r;
	char			*buf, want[17];
	size_t			 n = 0, at, cap = 5000 + 64;

	(void)state;
	buf = malloc(cap);
	assert_non_null(buf);
	n += (size_t)snprintf(buf, cap, "*2\r\n$5000\r\n");
	at = n;
	memset(buf + n, 'n', 5000);
	n += 5000;
	n += (size_t)snprintf(buf + n, cap - n, "\r\n$1\r\nx\r\n");
	assert_int_equal(read_one(buf, n, &r, &m, &e), SL_OK);
	assert_int_equal(r->element[0]->len, SL_REPLY_NAME_KEEP + 4 + 16);
	assert_int_equal(strspn(r->element[0]->str, "n"), SL_REPLY_NAME_KEEP);
	assert_memory_equal(r->element[0]->str + SL_REPLY_NAME_KEEP, "...~", 4);
	snprintf(want, sizeof(want), "%016llx",
	    (unsigned long long)sl_reply_hash(buf + at, 5000));
	assert_string_equal(r->element[0]->str + SL_REPLY_NAME_KEEP + 4, want);
	assert_int_equal(r->element[0]->integer, 5000);
	assert_int_equal(r->element[1]->integer, 1);
	/* The array, the 5000 bytes and the 1 as sent, 16 each of framing. */
	assert_int_equal(sl_reply_wire_bytes(r), 16 + (16 + 5000) + (16 + 1));
	sl_reply_free(r);

	n = (size_t)snprintf(buf, cap, "$5000\r\n");
	memset(buf + n, 'n', 5000);
	n += 5000;
	memcpy(buf + n, "\r\n", 2);
	assert_int_equal(read_one(buf, n + 2, &r, &m, &e), SL_OK);
	assert_int_equal(r->len, 5000);
	sl_reply_free(r);
	free(buf);
}

static void
not_resp_is_eproto(void **state)
{
	struct sl_reply_meter	 m = { .bytes = 0 };
	struct sl_error		 e = { .code = SL_OK, .str = "" };
	redisReply		*r;

	(void)state;
	assert_int_equal(read_one("?what\r\n", 7, &r, &m, &e), SL_EPROTO);
	assert_null(r);
	assert_int_equal(e.code, SL_EPROTO);
	assert_non_null(strstr(e.str, "Protocol error"));
}

/* Fails each allocation over the reply in turn: every one is SL_ENOMEM
 * with no reply (and, under valgrind, nothing leaked). */
static void
reader_out_of_memory(void **state)
{
	const struct {
		const char	*bytes;
		size_t		 len;
	} cases[] = {
		{ .bytes = groups, .len = sizeof(groups) - 1 },
		{ .bytes = "$5\r\nhello\r\n", .len = 11 },
		{ .bytes = ":42\r\n", .len = 5 },
		{ .bytes = "$-1\r\n", .len = 5 },
		{ .bytes = "-ERR no\r\n", .len = 9 },
		{ .bytes = "*0\r\n", .len = 4 },
	};
	struct sl_reply_meter	 m = { .bytes = 0 };
	struct sl_error		 e;
	redisReply		*r;
	long			 total, n;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sl_reply_blocks_release();	/* each reply takes a block */
		sl_alloc_reset();
		assert_int_equal(read_one(cases[i].bytes, cases[i].len, &r,
		    &m, &e), SL_OK);
		total = sl_alloc_count();
		sl_reply_free(r);
		assert_true(total >= 1);
		for (n = 0; n < total; n++) {
			memset(&e, 0, sizeof(e));
			sl_reply_blocks_release();
			sl_alloc_fail_after(n);
			assert_int_equal(read_one(cases[i].bytes, cases[i].len,
			    &r, &m, &e), SL_ENOMEM);
			sl_alloc_reset();
			assert_null(r);
			assert_int_equal(e.code, SL_ENOMEM);
			assert_string_equal(e.str, "out of memory");
		}
	}
	/* groups: two arrays with their element tables, eight strings with
	 * their bytes, three integers and a nil, each one piece: all of one
	 * block, or under AddressSanitizer an allocation each.  The next
	 * reply takes its pieces from the same block. */
	sl_reply_blocks_release();
	sl_alloc_reset();
	assert_int_equal(read_one(groups, sizeof(groups) - 1, &r, &m, &e),
	    SL_OK);
	assert_int_equal(sl_alloc_count(), SL_REPLY_ONE_PER_BLOCK ?
	    2 + 8 + 3 + 1 : 1);
	sl_reply_free(r);
	sl_alloc_reset();
	assert_int_equal(read_one(groups, sizeof(groups) - 1, &r, &m, &e),
	    SL_OK);
	assert_int_equal(sl_alloc_count(), SL_REPLY_ONE_PER_BLOCK ?
	    2 + 8 + 3 + 1 : 0);
	sl_reply_free(r);
	sl_reply_blocks_release();
}

/* A thread of many_threads: parses and frees 2000 replies of its own,
 * and frees the ones the main thread parsed for it. */
struct parse_job {
	redisReply	*given[64];
	int		 ok;
};

static void *
parse_many(void *arg)
{
	struct parse_job	*j = arg;
	struct sl_reply_meter	 m = { .bytes = 0 };
	struct sl_error		 e;
	redisReply		*r;

	j->ok = 1;
	for (int i = 0; i < 2000; i++) {
		if (read_one(groups, sizeof(groups) - 1, &r, &m, &e) != SL_OK ||
		    r == NULL || r->element[0]->elements != 12 ||
		    strcmp(r->element[0]->element[7]->str, "5-0") != 0)
			j->ok = 0;
		sl_reply_free(r);
	}
	for (size_t i = 0; i < sizeof(j->given) / sizeof(j->given[0]); i++)
		sl_reply_free(j->given[i]);
	return NULL;
}

/* Replies on several threads at once (the /targets probe): the threads
 * that did not ask for blocks build theirs one allocation each, and a
 * reply of the main thread's blocks may be freed on another thread while
 * the main thread goes on parsing into the same blocks. */
static void
many_threads(void **state)
{
	struct parse_job	 jobs[4];
	pthread_t		 tid[4];
	struct sl_reply_meter	 m = { .bytes = 0 };
	struct sl_error		 e;
	redisReply		*r;

	(void)state;
	for (int t = 0; t < 4; t++)
		for (size_t i = 0; i < 64; i++)
			assert_int_equal(read_one(groups, sizeof(groups) - 1,
			    &jobs[t].given[i], &m, &e), SL_OK);
	for (int t = 0; t < 4; t++)
		assert_int_equal(pthread_create(&tid[t], NULL, parse_many,
		    &jobs[t]), 0);
	for (int i = 0; i < 2000; i++) {
		assert_int_equal(read_one(groups, sizeof(groups) - 1, &r, &m,
		    &e), SL_OK);
		assert_string_equal(r->element[0]->element[7]->str, "5-0");
		sl_reply_free(r);
	}
	for (int t = 0; t < 4; t++) {
		assert_int_equal(pthread_join(tid[t], NULL), 0);
		assert_true(jobs[t].ok);
	}
	sl_reply_blocks_release();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parsed_and_counted),
		cmocka_unit_test(long_names_shortened),
		cmocka_unit_test(not_resp_is_eproto),
		cmocka_unit_test(reader_out_of_memory),
		cmocka_unit_test(many_threads),
	};

	sl_reply_blocks_enable();	/* as main() does */
	return cmocka_run_group_tests_name("reply", tests, NULL, NULL);
}
