/* SPDX-License-Identifier: ISC */
/* The streaming JSON writer: escaping, nesting, numbers, misuse, and output
 * that json-c parses back to the same values. */
#include <limits.h>

#include <json-c/json.h>

#include "sl_test.h"
#include "streamlag/jsonw.h"

static void
shapes_and_numbers(void **state)
{
	struct sl_jw w;
	char *s;
	size_t n;

	(void)state;
	sl_jw_init(&w);
	sl_jw_obj(&w);
	sl_jw_kint(&w, "min", LLONG_MIN);
	sl_jw_kint(&w, "max", LLONG_MAX);
	sl_jw_kint(&w, "zero", 0);
	sl_jw_kbool(&w, "t", 1);
	sl_jw_kopt(&w, "none", 0, 5);
	sl_jw_key(&w, "list");
	sl_jw_arr(&w);
	sl_jw_int(&w, -1);
	sl_jw_obj(&w);
	sl_jw_obj_end(&w);
	sl_jw_arr(&w);
	sl_jw_arr_end(&w);
	sl_jw_null(&w);
	sl_jw_arr_end(&w);
	sl_jw_obj_end(&w);
	s = sl_jw_finish(&w, &n);
	assert_string_equal(s, "{\"min\":-9223372036854775808,"
	    "\"max\":9223372036854775807,\"zero\":0,\"t\":true,\"none\":null,"
	    "\"list\":[-1,{},[],null]}");
	assert_int_equal(n, strlen(s));
	free(s);
}

static void
escaping_like_json_c(void **state)
{
	const char raw[] = "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f\0z";
	struct sl_jw w;
	json_object *j, *v;
	char *s;

	(void)state;
	sl_jw_init(&w);
	sl_jw_obj(&w);
	sl_jw_key_bytes(&w, "k\0\xff", 3);	/* keys: NUL and bad bytes -> U+FFFD */
	sl_jw_str_bytes(&w, raw, sizeof(raw) - 1);
	sl_jw_obj_end(&w);
	s = sl_jw_finish(&w, NULL);
	assert_string_equal(s, "{\"k\xEF\xBF\xBD\xEF\xBF\xBD\":"
	    "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\\u0000z\"}");
	/* json-c reads back exactly the bytes written. */
	j = json_tokener_parse(s);
	assert_non_null(j);
	assert_true(json_object_object_get_ex(j, "k\xEF\xBF\xBD\xEF\xBF\xBD", &v));
	assert_int_equal(json_object_get_string_len(v), sizeof(raw) - 1);
	assert_memory_equal(json_object_get_string(v), raw, sizeof(raw) - 1);
	json_object_put(j);
	free(s);
}

static void
misuse_fails(void **state)
{
	struct sl_jw w;

	(void)state;
	sl_jw_init(&w);
	sl_jw_obj(&w);	/* never closed */
	assert_null(sl_jw_finish(&w, NULL));
	sl_jw_init(&w);
	sl_jw_arr_end(&w);	/* closes nothing */
	assert_null(sl_jw_finish(&w, NULL));
	sl_jw_init(&w);
	for (int i = 0; i < SL_JW_DEPTH + 1; i++)
		sl_jw_arr(&w);	/* deeper than the limit */
	for (int i = 0; i < SL_JW_DEPTH + 1; i++)
		sl_jw_arr_end(&w);
	assert_null(sl_jw_finish(&w, NULL));
	sl_jw_init(&w);
	sl_jw_str(&w, NULL);	/* NULL writes "" */
	{
		char *s = sl_jw_finish(&w, NULL);
		assert_string_equal(s, "\"\"");
		free(s);
	}
}

static void
large_output_grows(void **state)
{
	struct sl_jw w;
	size_t n;
	char *s;

	(void)state;
	sl_jw_init(&w);
	sl_jw_arr(&w);
	for (int i = 0; i < 100000; i++)
		sl_jw_str(&w, "events:chat");
	sl_jw_arr_end(&w);
	s = sl_jw_finish(&w, &n);
	assert_non_null(s);
	assert_int_equal(n, 2 + 100000 * 13 + 99999);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shapes_and_numbers),
		cmocka_unit_test(escaping_like_json_c),
		cmocka_unit_test(misuse_fails),
		cmocka_unit_test(large_output_grows),
	};
	return cmocka_run_group_tests_name("jsonw", tests, NULL, NULL);
}
