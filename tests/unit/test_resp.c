/* SPDX-License-Identifier: ISC */
/* RESP formatting: binary-safe arguments, the empty argument, no command,
 * and an allocation failure. */
#include "sl_test.h"

#include "streamlag/alloc.h"
#include "streamlag/resp.h"

static void
test_resp(void **state)
{
	const char	*argv[] = { "XINFO", "GROUPS", "a\0b" };
	size_t		 lens[] = { 5, 6, 3 }, len;
	char		*c;
	static const char want[] = "*3\r\n$5\r\nXINFO\r\n$6\r\nGROUPS\r\n"
	    "$3\r\na\0b\r\n";

	(void)state;
	assert_non_null(c = sl_resp_format(3, argv, lens, &len));
	assert_int_equal(len, sizeof(want) - 1);
	assert_memory_equal(c, want, len);
	sl_free(c);
	lens[0] = 0;
	assert_non_null(c = sl_resp_format(1, argv, lens, &len));
	assert_int_equal(len, 10);
	assert_memory_equal(c, "*1\r\n$0\r\n\r\n", 10);
	sl_free(c);
	assert_null(sl_resp_format(0, argv, lens, &len));
	sl_alloc_fail_after(0);
	assert_null(sl_resp_format(3, argv, lens, &len));
	sl_alloc_reset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resp),
	};
	return cmocka_run_group_tests_name("resp", tests, NULL, NULL);
}
