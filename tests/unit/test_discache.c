/* SPDX-License-Identifier: ISC */
/* The discovery cache: hits and misses by pattern, max and age, a copy
 * dropped when a refresh wrote meanwhile, one refresher at a time, and
 * out of memory as SL_ENOMEM for every allocation of a read. */
#include <stdio.h>

#include "sl_test.h"
#include "streamlag/alloc.h"
#include "streamlag/discache.h"

static char a[] = "events:a", b[] = "events:b", c3[] = "events:c";
static char *const three[] = { a, b, c3 };

static struct sl_discache *
filled(void)
{
	struct sl_discache *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	assert_int_equal(sl_discache_begin(c, 1000), 1);
	sl_discache_done(c, NULL, "events:*", 50, three, 3, 1, 1000);
	return c;
}

static void
names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sl_free(names[i]);
	sl_free(names);
}

/* Reads k, expecting found (and then the three names). */
static void
read_expect(struct sl_discache *c, const struct sl_discache_key *k,
    int want_found)
{
	char	**out = (void *)1;
	size_t	 n = 99;
	int	 trunc = 0, found = 42;

	assert_int_equal(sl_discache_get(c, k, &out, &n, &trunc, &found),
	    SL_OK);
	assert_int_equal(found, want_found);
	if (!want_found) {
		assert_null(out);
		assert_int_equal(n, 0);
		return;
	}
	assert_int_equal(n, 3);
	assert_int_equal(trunc, 1);
	assert_string_equal(out[0], "events:a");
	assert_string_equal(out[1], "events:b");
	assert_string_equal(out[2], "events:c");
	names_free(out, n);
}

static void
hits_and_misses(void **state)
{
	struct sl_discache	*c = filled();
	struct sl_discache_key	 k = { .pattern = "events:*", .max = 50,
	    .now_ms = 1999, .ttl_ms = 1000 };

	(void)state;
	read_expect(c, &k, 1);
	k.now_ms = 2000;			/* ttl_ms old: a miss */
	read_expect(c, &k, 0);
	k.stale = 1;				/* any age when stale */
	read_expect(c, &k, 1);
	k.stale = 0;
	k.now_ms = 1500;
	k.pattern = "events:?";
	read_expect(c, &k, 0);
	k.pattern = "events:*";
	k.max = 51;
	read_expect(c, &k, 0);
	k.max = 50;
	k.target = "beta";			/* another target's set */
	read_expect(c, &k, 0);
	k.target = NULL;
	c->seq++;				/* a write under way */
	read_expect(c, &k, 0);
	c->seq++;
	read_expect(c, &k, 1);
	free(c);
}

/* A named target's set: its own, whatever another stored under the
 * same pattern. */
static void
keyed_by_target(void **state)
{
	struct sl_discache	*c = calloc(1, sizeof(*c));
	struct sl_discache_key	 k = { .target = "alpha", .pattern = "events:*",
	    .max = 50, .now_ms = 1500, .ttl_ms = 1000 };

	(void)state;
	assert_non_null(c);
	assert_int_equal(sl_discache_begin(c, 1000), 1);
	sl_discache_done(c, "alpha", "events:*", 50, three, 3, 1, 1000);
	read_expect(c, &k, 1);
	k.target = "alphab";
	read_expect(c, &k, 0);
	k.target = NULL;
	read_expect(c, &k, 0);
	free(c);
}

static void
empty_and_one_refresher(void **state)
{
	struct sl_discache	*c = calloc(1, sizeof(*c));
	struct sl_discache_key	 k = { .pattern = "events:*", .max = 50,
	    .now_ms = 10, .ttl_ms = 1000, .stale = 1 };

	(void)state;
	assert_non_null(c);
	read_expect(c, &k, 0);
	assert_int_equal(sl_discache_begin(c, 1000), 1);
	assert_int_equal(sl_discache_begin(c, 1000), 0);
	assert_int_equal(sl_discache_begin(c, 1000 + SL_DISCACHE_TAKEOVER_MS),
	    0);
	assert_int_equal(sl_discache_begin(c,
	    1001 + SL_DISCACHE_TAKEOVER_MS), 1);
	sl_discache_done(c, NULL, "events:*", 50, three, 0, 0, 1000);
	{
		char	**out;
		size_t	 n;
		int	 trunc = 7, found;

		assert_int_equal(sl_discache_get(c, &k, &out, &n, &trunc,
		    &found), SL_OK);
		assert_int_equal(found, 1);	/* an empty set is a set */
		assert_int_equal(n, 0);
		assert_int_equal(trunc, 0);
		sl_free(out);
	}
	free(c);
}

/* Every allocation of a read, failed in turn, is SL_ENOMEM with nothing
 * left to free. */
static void
out_of_memory(void **state)
{
	struct sl_discache	*c = filled();
	struct sl_discache_key	 k = { .pattern = "events:*", .max = 50,
	    .now_ms = 1500, .ttl_ms = 1000 };
	char			**out;
	size_t			 n;
	int			 trunc, found;
	long			 total, i;

	(void)state;
	sl_alloc_reset();
	read_expect(c, &k, 1);
	total = sl_alloc_count();
	assert_int_equal(total, 5);		/* buffer, array, 3 names */
	for (i = 0; i < total; i++) {
		sl_alloc_fail_after(i);
		assert_int_equal(sl_discache_get(c, &k, &out, &n, &trunc,
		    &found), SL_ENOMEM);
		sl_alloc_reset();
		assert_int_equal(found, 0);
		assert_null(out);
	}
	assert_int_equal(sl_discache_get(c, &k, &out, &n, &trunc, &found),
	    SL_OK);
	assert_int_equal(found, 1);
	names_free(out, n);
	k.now_ms = 2500;			/* past the TTL */
	assert_int_equal(sl_discache_get(c, &k, &out, &n, &trunc, &found),
	    SL_OK);
	assert_int_equal(found, 0);
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hits_and_misses),
		cmocka_unit_test(keyed_by_target),
		cmocka_unit_test(empty_and_one_refresher),
		cmocka_unit_test(out_of_memory),
	};
	return cmocka_run_group_tests_name("discache", tests, NULL, NULL);
}
