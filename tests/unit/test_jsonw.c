/* SPDX-License-Identifier: ISC */
/* The streaming JSON writer: escaping, nesting, numbers, misuse, and output
 * that json-c parses back to the same values. */
#include <limits.h>

#include <json-c/json.h>

#include "sl_test.h"
#include "streamlag/jsonw.h"

#define R "\xEF\xBF\xBD"	/* U+FFFD as UTF-8 */

static void
sanitized(const char *in, size_t len, int nul_ok, const char *want,
    size_t wantlen)
{
	size_t	 n = 12345;
	char	*s = sl_utf8_sanitize(in, len, nul_ok, &n);

	assert_non_null(s);
	assert_int_equal(n, wantlen);
	assert_memory_equal(s, want, wantlen);
	assert_int_equal(s[n], '\0');
	free(s);
}

/* Literal in, literal out (no embedded NULs). */
#define S(in, want) sanitized(in, sizeof(in) - 1, 0, want, sizeof(want) - 1)
/* Well-formed input comes back unchanged. */
#define SAME(in) S(in, in)

static void
utf8_valid(void **state)
{
	char *s;

	(void)state;
	S("", "");
	SAME("plain ascii, punctuation !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");
	SAME("caf\xC3\xA9");			/* 2 bytes: U+00E9 */
	SAME("\xE2\x82\xAC");			/* 3 bytes: U+20AC */
	SAME("\xF0\x9F\x98\x80");		/* 4 bytes: U+1F600 */
	SAME("\xC2\x80" "\xDF\xBF");		/* U+0080, U+07FF */
	SAME("\xE0\xA0\x80" "\xEF\xBF\xBF");	/* U+0800, U+FFFF */
	SAME("\xED\x9F\xBF" "\xEE\x80\x80");	/* U+D7FF, U+E000: around surrogates */
	SAME("\xF0\x90\x80\x80" "\xF4\x8F\xBF\xBF");	/* U+10000, U+10FFFF */
	SAME("\x01\x1F\x7F");			/* controls are json-c's to escape */
	/* outlen is optional. */
	s = sl_utf8_sanitize("ab", 2, 0, NULL);
	assert_string_equal(s, "ab");
	free(s);
}

static void
utf8_invalid(void **state)
{
	(void)state;
	/* Lone continuation bytes: one U+FFFD each. */
	S("\x80", R);
	S("a\x80z", "a" R "z");
	S("\x80\xBF", R R);
	/* Truncated at the end: the maximal subpart is one U+FFFD. */
	S("\xC3", R);
	S("ab\xE2\x82", "ab" R);
	S("\xF0\x9F\x98", R);
	S("\xF0\x9F", R);
	/* Truncated in the middle. */
	S("\xE2\x82z", R "z");
	S("\xF0\x9F\x98z", R "z");
	S("\xC3\xC3\xA9", R "\xC3\xA9");
	/* Overlongs: the lead byte can start nothing valid. */
	S("\xC0\xAF", R R);
	S("\xC1\xBF", R R);
	S("\xE0\x80\x80", R R R);
	S("\xE0\x9F\xBF", R R R);
	S("\xF0\x80\x80\x80", R R R R);
	S("\xF0\x8F\xBF\xBF", R R R R);
	/* Surrogates U+D800 and U+DFFF. */
	S("\xED\xA0\x80", R R R);
	S("\xED\xBF\xBF", R R R);
	/* Beyond U+10FFFF. */
	S("\xF4\x90\x80\x80", R R R R);
	S("\xF5\x80\x80\x80", R R R R);
	/* Bytes that never appear in UTF-8. */
	S("\xFF", R);
	S("\xFE\xFF", R R);
	S("x\xFFy", "x" R "y");
	/* Unicode chapter 3, table 3-8: maximal subparts. */
	S("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
	    "a" R R R "b" R "c" R R "d");
}

static void
utf8_nul(void **state)
{
	(void)state;
	sanitized("a\0b", 3, 0, "a" R "b", 5);
	sanitized("a\0b", 3, 1, "a\0b", 3);
	sanitized("\0", 1, 0, R, 3);
	sanitized("\0\xFF", 2, 1, "\0" R, 4);
}

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
		cmocka_unit_test(utf8_valid),
		cmocka_unit_test(utf8_invalid),
		cmocka_unit_test(utf8_nul),
	};
	return cmocka_run_group_tests_name("jsonw", tests, NULL, NULL);
}
