/* SPDX-License-Identifier: ISC */
/* The output buffer of every answer body: the integer formatter, growth and
 * its overflow guard, the sink (flushes past the threshold, reuses the
 * buffer, a failing sink stops the writing), and every allocation failing
 * in turn: NULL and SL_ENOMEM, never a partial text returned as whole. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "sl_test.h"
#include "streamlag/alloc.h"
#include "streamlag/out.h"

static void
integers(void **state)
{
	char b[SL_INT_DIGITS];

	(void)state;
	assert_int_equal(sl_fmt_int(b, 0), 1);
	assert_string_equal(b, "0");
	assert_int_equal(sl_fmt_int(b, -1), 2);
	assert_string_equal(b, "-1");
	assert_int_equal(sl_fmt_int(b, 1234567890), 10);
	assert_string_equal(b, "1234567890");
	assert_int_equal(sl_fmt_int(b, LLONG_MIN), 20);
	assert_string_equal(b, "-9223372036854775808");
	sl_fmt_int(b, LLONG_MAX);
	assert_string_equal(b, "9223372036854775807");
	assert_int_equal(sl_fmt_uint(b, ULLONG_MAX), 20);
	assert_string_equal(b, "18446744073709551615");
}

static void
grows_and_finishes(void **state)
{
	struct sl_out	 o;
	char		*t, want[32];
	size_t		 n;

	(void)state;
	sl_out_init(&o);
	for (int i = 0; i < 20000; i++) {
		sl_out_int(&o, i % 2 ? -i : i);
		sl_out_putc(&o, ' ');
	}
	sl_out_printf(&o, "[%s %05d]", "end", 42);
	assert_int_equal(o.err, SL_OK);
	t = sl_out_finish(&o, &n);
	assert_non_null(t);
	assert_int_equal(n, strlen(t));
	assert_memory_equal(t, "0 -1 2 -3 ", 10);
	snprintf(want, sizeof(want), "-19999 [end 00042]");
	assert_string_equal(t + n - strlen(want), want);
	sl_free(t);
	/* An empty text is "", not NULL. */
	sl_out_init(&o);
	t = sl_out_finish(&o, &n);
	assert_string_equal(t, "");
	assert_int_equal(n, 0);
	sl_free(t);
}

/* len + n + 1 past SIZE_MAX: refused before any arithmetic wraps. */
static void
overflow_guard(void **state)
{
	struct sl_out o;

	(void)state;
	sl_out_init(&o);
	o.len = SIZE_MAX - 8;
	o.cap = SIZE_MAX - 4;	/* no buffer behind it: never touched */
	assert_int_equal(sl_out_reserve(&o, 8), 0);
	assert_int_equal(o.err, SL_ENOMEM);
	/* Sticky: later writes are no-ops. */
	sl_out_put(&o, "x", 1);
	assert_int_equal(o.len, SIZE_MAX - 8);
	memset(&o, 0, sizeof(o));
	sl_out_init(&o);
	o.len = 16;
	assert_int_equal(sl_out_reserve(&o, SIZE_MAX - 16), 0);
	assert_int_equal(o.err, SL_ENOMEM);
	assert_null(o.buf);
}

struct collect {
	char	 text[65536];
	size_t	 len;
	int	 calls, fail_on;
	size_t	 min_n;
};

static int
sink(void *arg, const char *p, size_t n)
{
	struct collect *c = arg;

	if (++c->calls == c->fail_on)
		return -1;
	assert_true(c->len + n <= sizeof(c->text));
	memcpy(c->text + c->len, p, n);
	c->len += n;
	if (c->min_n == 0 || n < c->min_n)
		c->min_n = n;
	return 0;
}

static void
sink_flushes_and_reuses(void **state)
{
	struct sl_out	 o;
	struct collect	*c = calloc(1, sizeof(*c));
	char		 want[16384];
	size_t		 wl = 0;

	(void)state;
	sl_out_init(&o);
	sl_out_set_sink(&o, sink, c, 100);
	for (int i = 0; i < 1000; i++) {
		sl_out_int(&o, i);
		sl_out_putc(&o, '\n');
		wl += (size_t)snprintf(want + wl, sizeof(want) - wl, "%d\n", i);
	}
	/* Past the threshold the buffer went to the sink: never much more
	 * than 100 bytes held, and the first allocation was enough. */
	assert_true(o.len < 100);
	assert_int_equal(o.cap, SL_OUT_FIRST);
	assert_true(c->calls > 10);
	assert_true(c->min_n >= 100);
	assert_int_equal(sl_out_flush(&o), SL_OK);
	assert_int_equal(o.len, 0);
	assert_int_equal(c->len, wl);
	assert_memory_equal(c->text, want, wl);
	assert_int_equal(o.flushed, wl);
	/* Part of it went elsewhere: there is no whole text to return. */
	assert_null(sl_out_finish(&o, NULL));
	free(c);
}

static void
failing_sink_stops(void **state)
{
	struct sl_out	 o;
	struct collect	*c = calloc(1, sizeof(*c));
	int		 calls;

	(void)state;
	c->fail_on = 2;
	sl_out_init(&o);
	sl_out_set_sink(&o, sink, c, 64);
	for (int i = 0; i < 1000; i++)
		sl_out_puts(&o, "0123456789");
	assert_int_equal(o.err, SL_ESYS);
	assert_int_equal(c->calls, 2);		/* never called again */
	calls = c->calls;
	assert_int_equal(sl_out_flush(&o), SL_ESYS);
	assert_int_equal(c->calls, calls);
	assert_null(sl_out_finish(&o, NULL));
	free(c);
}

/* Every allocation fails in turn: NULL, or the whole text. */
static void
out_of_memory(void **state)
{
	long	 n;
	int	 whole = 0;

	(void)state;
	for (n = 0; !whole && n < 64; n++) {
		struct sl_out	 o;
		char		*t;

		sl_out_init(&o);
		sl_alloc_fail_after(n);
		for (int i = 0; i < 5000; i++) {
			sl_out_int(&o, i);
			sl_out_printf(&o, ",%s;", "x");
		}
		if (o.err != SL_OK)
			assert_int_equal(o.err, SL_ENOMEM);
		t = sl_out_finish(&o, NULL);
		sl_alloc_reset();
		if (t == NULL)
			continue;
		assert_memory_equal(t, "0,x;1,x;2,x;", 12);
		assert_string_equal(t + strlen(t) - 7, "4999,x;");
		sl_free(t);
		whole = 1;
	}
	assert_true(whole);
	assert_true(n > 1);	/* at least one failure was seen */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(integers),
		cmocka_unit_test(grows_and_finishes),
		cmocka_unit_test(overflow_guard),
		cmocka_unit_test(sink_flushes_and_reuses),
		cmocka_unit_test(failing_sink_stops),
		cmocka_unit_test(out_of_memory),
	};
	return cmocka_run_group_tests_name("out", tests, NULL, NULL);
}
