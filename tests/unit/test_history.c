/* SPDX-License-Identifier: ISC */
/* The history ring: wrap-around, since and max, the group limit (one group
 * past it is not tracked), stale slots handed over, sizes at the limits,
 * and samples written by a forked process read by its parent. */
#include <sys/wait.h>

#include <stdio.h>
#include <unistd.h>

#include "sl_test.h"
#include "streamlag/history.h"
#include "streamlag/lagcache.h"

static struct sl_sample
at(long long t)
{
	struct sl_sample s;

	memset(&s, 0, sizeof(s));
	s.t_ms = t;
	s.added = t / 10;
	s.read = -1;
	s.lag = 7;
	s.pos_ms = -1;
	return s;
}

static int
add(struct sl_history *h, const char *st, const char *g, long long t,
    long long stale)
{
	struct sl_sample s = at(t);

	return sl_history_add(h, NULL, st, strlen(st), g, strlen(g), &s, stale);
}

static ssize_t
rd(struct sl_history *h, const char *st, const char *g, long long since,
    struct sl_sample *out, size_t max)
{
	return sl_history_read(h, NULL, st, strlen(st), g, strlen(g), since, out,
	    max);
}

/* Two targets' groups of the same names: apart (sl_group_key). */
static void
targets_apart(void **state)
{
	struct sl_error	 why;
	struct sl_history *h = sl_history_create(8, 5, &why);
	struct sl_sample out[8], s = at(1000);

	(void)state;
	assert_non_null(h);
	assert_int_equal(sl_history_add(h, "alpha", "s", 1, "g", 1, &s, 0), 1);
	s = at(2000);
	assert_int_equal(sl_history_add(h, "beta", "s", 1, "g", 1, &s, 0), 1);
	assert_int_equal(sl_history_add(h, "beta", "s", 1, "g", 1, &s, 0), 1);
	assert_int_equal(sl_history_read(h, "alpha", "s", 1, "g", 1, 0, out, 8),
	    1);
	assert_int_equal(out[0].t_ms, 1000);
	assert_int_equal(sl_history_read(h, "beta", "s", 1, "g", 1, 0, out, 8),
	    2);
	assert_int_equal(out[0].t_ms, 2000);
	/* Neither is the group of no target (the key of stream and group). */
	assert_int_equal(rd(h, "s", "g", 0, out, 8), -1);
	assert_int_equal(sl_history_read(h, "gamma", "s", 1, "g", 1, 0, out,
	    8), -1);
	assert_true(sl_group_key("alpha", "s", 1, "g", 1) !=
	    sl_group_key("beta", "s", 1, "g", 1));
	assert_true(sl_group_key(NULL, "s", 1, "g", 1) ==
	    sl_lagcache_key("s", 1, "g", 1));
	sl_history_destroy(h);
}

static void
ring_wraps(void **state)
{
	struct sl_error	 why;
	struct sl_history *h = sl_history_create(4, 5, &why);
	struct sl_sample out[16];

	(void)state;
	assert_non_null(h);
	assert_int_equal(sl_history_capacity(h), 5);
	assert_int_equal(rd(h, "s", "g", 0, out, 16), -1);
	for (long long t = 1; t <= 7; t++)
		assert_int_equal(add(h, "s", "g", t * 1000, 0), 1);
	assert_int_equal(rd(h, "s", "g", 0, out, 16), 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(out[i].t_ms, (3 + i) * 1000);
		assert_int_equal(out[i].added, (3 + i) * 100);
	}
	assert_int_equal(rd(h, "s", "g", 5000, out, 16), 3);
	assert_int_equal(out[0].t_ms, 5000);
	assert_int_equal(rd(h, "s", "g", 0, out, 2), 2);	/* the newest */
	assert_int_equal(out[0].t_ms, 6000);
	assert_int_equal(out[1].t_ms, 7000);
	assert_int_equal(rd(h, "s", "g", 8000, out, 16), 0);
	/* Names are bytes: "s\0g" + "" is not "s" + "g\0"... */
	assert_int_equal(sl_history_read(h, NULL, "sg", 2, "", 0, 0, out, 16), -1);
	sl_history_destroy(h);
}

/* Four slots: a fifth group is not tracked until a slot goes stale. */
static void
group_limit(void **state)
{
	struct sl_error	 why;
	struct sl_history *h = sl_history_create(4, 3, &why);
	struct sl_sample out[4];
	char g[8];

	(void)state;
	for (int i = 0; i < 4; i++) {
		snprintf(g, sizeof(g), "g%d", i);
		assert_int_equal(add(h, "s", g, 1000 + i, 0), 1);
	}
	assert_int_equal(add(h, "s", "g4", 2000, 0), 0);
	assert_int_equal(add(h, "s", "g4", 2000, 1000), 0);	/* none older */
	assert_int_equal(add(h, "s", "g3", 2000, 1003), 1);	/* its own */
	assert_int_equal(rd(h, "s", "g4", 0, out, 4), -1);
	/* g0 (last sample 1000) is stale before 1001: g4 takes its slot. */
	assert_int_equal(add(h, "s", "g4", 3000, 1001), 1);
	assert_int_equal(rd(h, "s", "g4", 0, out, 4), 1);
	assert_int_equal(out[0].t_ms, 3000);
	assert_int_equal(rd(h, "s", "g0", 0, out, 4), -1);
	assert_int_equal(rd(h, "s", "g3", 0, out, 4), 2);
	{
		struct sl_pel_report p, q;

		memset(&p, 0, sizeof(p));
		p.poison = 3;
		strcpy(p.poison_ids[0], "1-0");
		assert_int_equal(sl_history_get_pel(h, NULL, "s", 1, "g4", 2, &q), 0);
		assert_int_equal(sl_history_set_pel(h, NULL, "s", 1, "g4", 2, &p), 1);
		assert_int_equal(sl_history_set_pel(h, NULL, "s", 1, "g9", 2, &p), 0);
		assert_int_equal(sl_history_get_pel(h, NULL, "s", 1, "g4", 2, &q), 1);
		assert_int_equal(q.poison, 3);
		assert_string_equal(q.poison_ids[0], "1-0");
		/* A slot handed over forgets the answers of its last group. */
		assert_int_equal(add(h, "s", "g1", 5000, 0), 1);
		assert_int_equal(add(h, "s", "g2", 5000, 0), 1);
		assert_int_equal(add(h, "s", "g3", 5000, 0), 1);
		assert_int_equal(add(h, "s", "g5", 5000, 4000), 1);
		assert_int_equal(sl_history_get_pel(h, NULL, "s", 1, "g4", 2, &q), 0);
	}
	sl_history_set_round(h, 1, 4, 3000);
	assert_int_equal(sl_history_untracked(h), 1);
	assert_int_equal(sl_history_tracked(h), 4);
	assert_int_equal(sl_history_last_round_ms(h), 3000);
	assert_int_equal(sl_history_groups_max(h), 4);
	sl_history_destroy(h);
}

static void
sizes(void **state)
{
	struct sl_error	 why;
	size_t		 defaults = sl_history_bytes(1000, 720);

	(void)state;
	assert_int_equal(sizeof(struct sl_sample), 56);
	assert_int_equal(sl_history_samples(3600, 5000), 720);
	assert_int_equal(sl_history_samples(10, 60000), 3);
	assert_int_equal(sl_history_samples(3600, 0), 3);
	assert_true(defaults >= 1000ULL * 721 * 56);
	assert_true(defaults < 1000ULL * 721 * 56 + 1000 * 1024 + 4096);
	assert_int_equal(sl_history_bytes(0, 720), 0);
	assert_int_equal(sl_history_bytes(1000, 0), 0);
	/* 16 GiB of samples is the limit; a little more is refused. */
	assert_int_equal(sl_history_bytes(1000000, SL_HISTORY_BYTES_MAX / 56 /
	    1000000 + 1), 0);
	assert_true(sl_history_bytes(1000, 1000) > 0);
	assert_null(sl_history_create(1000000, 1000000, &why));
	assert_int_equal(why.code, SL_EINPUT);
}

/* The mapping is shared: a child's samples are the parent's. */
static void
across_fork(void **state)
{
	struct sl_error	 why;
	struct sl_history *h = sl_history_create(8, 10, &why);
	struct sl_sample out[10];
	pid_t pid;
	int st;

	(void)state;
	assert_non_null(h);
	if ((pid = fork()) == 0) {
		for (long long t = 1; t <= 12; t++)
			add(h, "events:chat", "workers", t * 5000, 0);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(rd(h, "events:chat", "workers", 0, out, 10), 10);
	assert_int_equal(out[0].t_ms, 15000);
	assert_int_equal(out[9].t_ms, 60000);
	sl_history_destroy(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ring_wraps),
		cmocka_unit_test(targets_apart),
		cmocka_unit_test(group_limit),
		cmocka_unit_test(sizes),
		cmocka_unit_test(across_fork),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
