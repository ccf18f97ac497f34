/* SPDX-License-Identifier: ISC */
/* logfmt values: escaping, truncation, and a value escaped into the very
 * buffer it is read from (the reload error, logged in place). */
#include <stdio.h>

#include "sl_test.h"
#include "streamlag/log.h"

static void
escapes(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(sl_log_str("a \"b\" c\\d\n\xff", buf, sizeof(buf)),
	    "\"a \\\"b\\\" c\\\\d\\x0a\\xff\"");
	assert_string_equal(sl_log_str(NULL, buf, sizeof(buf)), "\"\"");
	assert_string_equal(sl_log_str("abcdef", buf, 6), "\"abc\"");
	assert_string_equal(sl_log_str("abc", buf, 2), "");
}

static void
in_place(void **state)
{
	char buf[512], want[600];

	(void)state;
	snprintf(buf, sizeof(buf), "STREAMLAG_JWT_SECRET_FILE: /run/s\"x\" is a "
	    "FIFO; expected a regular file");
	assert_string_equal(sl_log_str(buf, buf, sizeof(buf)),
	    "\"STREAMLAG_JWT_SECRET_FILE: /run/s\\\"x\\\" is a FIFO; expected "
	    "a regular file\"");
	/* Longer than the buffer once escaped: cut, never garbage. */
	memset(buf, '\\', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	sl_log_str(buf, buf, sizeof(buf));
	want[0] = '"';
	for (size_t i = 1; i < 509; i++)
		want[i] = '\\';
	want[509] = '"';
	want[510] = '\0';
	assert_string_equal(buf, want);
	/* The tail of a buffer read into its head. */
	snprintf(buf, sizeof(buf), "xxxxtail");
	sl_log_str(buf + 4, buf, sizeof(buf));
	assert_string_equal(buf, "\"tail\"");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escapes),
		cmocka_unit_test(in_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
