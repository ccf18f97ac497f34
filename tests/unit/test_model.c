/* SPDX-License-Identifier: ISC */
/* The model's id helpers and ownership: a malformed id is an error of its
 * own, never "smaller" than another; free functions are idempotent. */
#include <stdio.h>

#include "sl_test.h"
#include "streamlag/alloc.h"
#include "streamlag/model.h"

static void
id_parse(void **state)
{
	unsigned long long ms = 0, seq = 0;

	(void)state;
	assert_int_equal(sl_id_parse("1700000000123-4", &ms, &seq), SL_OK);
	assert_true(ms == 1700000000123ULL && seq == 4);
	assert_int_equal(sl_id_parse("18446744073709551615-18446744073709551615",
	    &ms, &seq), SL_OK);
	assert_true(ms == UINT64_MAX && seq == UINT64_MAX);
	assert_int_equal(sl_id_parse("18446744073709551616-0", &ms, &seq),
	    SL_EPROTO);
	assert_int_equal(sl_id_parse("-1-0", &ms, &seq), SL_EPROTO);
	assert_int_equal(sl_id_parse("+1-0", &ms, &seq), SL_EPROTO);
	assert_int_equal(sl_id_parse(" 1-0", &ms, &seq), SL_EPROTO);
	assert_int_equal(sl_id_parse("1-", &ms, &seq), SL_EPROTO);
	assert_int_equal(sl_id_parse("1", &ms, &seq), SL_EPROTO);
	assert_int_equal(sl_id_parse("1-0x", &ms, &seq), SL_EPROTO);
	assert_int_equal(sl_id_parse("", &ms, &seq), SL_EPROTO);
	assert_int_equal(sl_id_parse(NULL, &ms, &seq), SL_EPROTO);
}

/* Before, sl_id_cmp returned -2 for a malformed id, and every caller that
 * asked "< 0" took it for "smaller". */
static void
id_cmp_malformed_is_not_smaller(void **state)
{
	int c = 42;

	(void)state;
	assert_int_equal(sl_id_cmp("junk", "5-0", &c), SL_EPROTO);
	assert_int_equal(c, 42);		/* untouched */
	assert_int_equal(sl_id_cmp("5-0", "", &c), SL_EPROTO);
	assert_int_equal(sl_id_cmp("5-0", "5-0-1", &c), SL_EPROTO);
	assert_int_equal(c, 42);
	assert_int_equal(sl_id_cmp("5-0", "5-1", &c), SL_OK);
	assert_int_equal(c, -1);
	assert_int_equal(sl_id_cmp("10-0", "9-99", &c), SL_OK);
	assert_int_equal(c, 1);
	assert_int_equal(sl_id_cmp("18446744073709551615-0", "1-0", &c), SL_OK);
	assert_int_equal(c, 1);
	assert_int_equal(sl_id_cmp("7-7", "7-7", &c), SL_OK);
	assert_int_equal(c, 0);
}

static void
status_names(void **state)
{
	(void)state;
	assert_string_equal(sl_status_name(SL_STATUS_HEALTHY), "healthy");
	assert_string_equal(sl_status_name(SL_STATUS_STALLED), "stalled");
	assert_string_equal(sl_status_name(SL_STATUS_ERROR), "error");
	assert_string_equal(sl_status_name((enum sl_status)99), "error");
}

static void
bytes_and_frees(void **state)
{
	struct sl_bytes		 b = { .p = NULL, .len = 0 };
	struct sl_lag_report	 r;

	(void)state;
	assert_int_equal(sl_bytes_set(&b, "a\0b", 3), SL_OK);
	sl_alloc_fail_after(0);
	assert_int_equal(sl_bytes_set(&b, "xyz", 3), SL_ENOMEM);
	sl_alloc_reset();
	assert_int_equal(b.len, 3);		/* unchanged */
	assert_memory_equal(b.p, "a\0b", 3);
	sl_bytes_free(&b);
	sl_bytes_free(&b);
	memset(&r, 0, sizeof(r));
	sl_lag_report_free(&r);
	sl_lag_report_free(&r);
	sl_groups_free(NULL, 3);
	sl_consumers_free(NULL, 3);
}

/* An entry with every owned member set, as the collector leaves one. */
static void
full_entry(struct sl_lag_entry *e)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(sl_bytes_set(&e->stream, "s", 1), SL_OK);
	e->has_group = 1;
	assert_int_equal(sl_bytes_set(&e->group.name, "g", 1), SL_OK);
	e->nconsumers = 2;
	e->consumers = calloc(2, sizeof(*e->consumers));
	assert_non_null(e->consumers);
	assert_int_equal(sl_bytes_set(&e->consumers[0].name, "c1", 2), SL_OK);
	assert_int_equal(sl_bytes_set(&e->consumers[1].name, "c2", 2), SL_OK);
	e->error = strdup("x");
	assert_non_null(e->error);
}

static void
model_ownership(void **state)
{
	struct sl_bytes		b = { .p = NULL, .len = 0 };
	struct sl_lag_entry	e;
	struct sl_lag_report	r;
	struct sl_streams_report sr;

	(void)state;
	assert_int_equal(sl_bytes_set(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.p, "a\0b\0", 4);
	/* Replacing, even from its own bytes. */
	assert_int_equal(sl_bytes_set(&b, b.p + 2, 1), 0);
	assert_int_equal(b.len, 1);
	assert_string_equal(b.p, "b");
	assert_int_equal(sl_bytes_set(&b, NULL, 0), 0);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.p, "");
	sl_bytes_free(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	sl_bytes_free(&b);

	/* Zeroed structs free cleanly, twice. */
	memset(&e, 0, sizeof(e));
	sl_lag_entry_free(&e);
	sl_lag_entry_free(&e);
	memset(&r, 0, sizeof(r));
	sl_lag_report_free(&r);
	memset(&sr, 0, sizeof(sr));
	sl_streams_report_free(&sr);

	/* A full entry leaves a zeroed struct behind. */
	full_entry(&e);
	sl_lag_entry_free(&e);
	assert_null(e.consumers);
	assert_int_equal(e.nconsumers, 0);
	assert_null(e.stream.p);
	assert_null(e.group.name.p);
	assert_null(e.error);
	sl_lag_entry_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(id_parse),
		cmocka_unit_test(id_cmp_malformed_is_not_smaller),
		cmocka_unit_test(status_names),
		cmocka_unit_test(bytes_and_frees),
		cmocka_unit_test(model_ownership),
	};
	return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
