/* SPDX-License-Identifier: ISC */
/* Key slots against the cluster specification's reference vector and its
 * hash-tag rules, and against slots a real Redis gave. */
#include "sl_test.h"

#include "streamlag/crc16.h"

#define SLOT(s)	sl_key_slot((s), sizeof(s) - 1)

static void
test_reference_vector(void **state)
{
	(void)state;
	/* The specification: CRC16 of "123456789" is 0x31C3. */
	assert_int_equal(sl_crc16("123456789", 9), 0x31C3);
	assert_int_equal(sl_crc16("", 0), 0);
	assert_int_equal(SLOT("123456789"), 0x31C3 & 16383);
}

static void
test_hash_tags(void **state)
{
	(void)state;
	assert_int_equal(SLOT("{user1000}.following"),
	    SLOT("{user1000}.followers"));
	assert_int_equal(SLOT("{user1000}.following"), SLOT("user1000"));
	/* Empty tag: the whole key. */
	assert_int_equal(SLOT("foo{}{bar}"),
	    sl_crc16("foo{}{bar}", 10) & 16383);
	/* The first '{' and the first '}' after it: "{bar". */
	assert_int_equal(SLOT("foo{{bar}}zap"), SLOT("{bar"));
	/* Only the first tag. */
	assert_int_equal(SLOT("foo{bar}{zap}"), SLOT("bar"));
	/* No '}' after the '{': the whole key. */
	assert_int_equal(SLOT("foo{bar"), sl_crc16("foo{bar", 7) & 16383);
	assert_int_equal(SLOT("}foo{"), sl_crc16("}foo{", 5) & 16383);
	/* A NUL inside a key is a byte like any other. */
	assert_int_not_equal(sl_key_slot("a\0b", 3), sl_key_slot("a", 1));
	assert_int_equal(sl_key_slot("{a\0b}x", 6), sl_key_slot("a\0b", 3));
}

/* Computed once with `redis-cli CLUSTER KEYSLOT` on redis-server 7.0.15
 * (cluster-enabled) and written down here. */
static void
test_real_redis_slots(void **state)
{
	(void)state;
	assert_int_equal(SLOT("streamlag"), 6380);
	assert_int_equal(SLOT("events:chat"), 9608);
	assert_int_equal(SLOT("{events}:chat"), 9102);
	assert_int_equal(SLOT("a{b}c"), 3300);
	assert_int_equal(SLOT("foo{}{bar}"), 8363);
	assert_int_equal(SLOT("foo{{bar}}zap"), 4015);
	assert_int_equal(SLOT("foo{bar}{zap}"), 5061);
	assert_int_equal(SLOT("{user1000}.following"), 3443);
	assert_int_equal(SLOT("123456789"), 12739);
	assert_int_equal(SLOT(""), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_vector),
		cmocka_unit_test(test_hash_tags),
		cmocka_unit_test(test_real_redis_slots),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
