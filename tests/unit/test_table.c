/* SPDX-License-Identifier: ISC */
/* The table of `top` and `get --format table|csv`: cells, order, filter,
 * widths, colours and terminal safety, over reports built by hand. */
#include <stdio.h>

#include "sl_test.h"
#include "streamlag/alloc.h"
#include "streamlag/lag.h"
#include "streamlag/table.h"

/* One answered entry. */
static void
entry(struct sl_lag_entry *e, const char *stream, const char *group,
    long long lag, long long pending, size_t nconsumers, long long time_lag,
    enum sl_status st)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(sl_bytes_set(&e->stream, stream, strlen(stream)), 0);
	if (group != NULL) {
		assert_int_equal(sl_bytes_set(&e->group.name, group,
		    strlen(group)), 0);
		e->has_group = 1;
	}
	e->lag = lag;
	e->lag_exact = 1;
	e->group.pending = pending;
	e->nconsumers = nconsumers;
	e->consumers = NULL;	/* the table counts, never reads them */
	e->has_time_lag = time_lag >= 0;
	e->time_lag_ms = time_lag;
	e->status = st;
}

/* The seed's example: 123/45/0. */
static void
seed_report(struct sl_lag_report *r)
{
	memset(r, 0, sizeof(*r));
	r->group = "signalr-consumers";
	r->entries = calloc(3, sizeof(*r->entries));
	assert_non_null(r->entries);
	r->n = 3;
	entry(&r->entries[0], "events:chat", "signalr-consumers", 123, 77, 2,
	    5120, SL_STATUS_DEGRADED);
	entry(&r->entries[1], "events:ticket", "signalr-consumers", 45, 55, 1,
	    61000, SL_STATUS_HEALTHY);
	entry(&r->entries[2], "events:remote", "signalr-consumers", 0, 10, 1, 0,
	    SL_STATUS_HEALTHY);
	sl_lag_report_totals(r);
}

static void
free_report(struct sl_lag_report *r)
{
	r->group = NULL;
	sl_lag_report_free(r);
}

static void
durations(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(sl_duration(-1, b, sizeof(b)), "-");
	assert_string_equal(sl_duration(0, b, sizeof(b)), "0ms");
	assert_string_equal(sl_duration(999, b, sizeof(b)), "999ms");
	assert_string_equal(sl_duration(1000, b, sizeof(b)), "1.0s");
	assert_string_equal(sl_duration(5120, b, sizeof(b)), "5.1s");
	assert_string_equal(sl_duration(59999, b, sizeof(b)), "59.9s");
	assert_string_equal(sl_duration(60000, b, sizeof(b)), "1m00s");
	assert_string_equal(sl_duration(123000, b, sizeof(b)), "2m03s");
	assert_string_equal(sl_duration(3599999, b, sizeof(b)), "59m59s");
	assert_string_equal(sl_duration(3600000, b, sizeof(b)), "1h00m");
	assert_string_equal(sl_duration(3723000, b, sizeof(b)), "1h02m");
	assert_string_equal(sl_duration(3LL * 86400000 + 4 * 3600000, b,
	    sizeof(b)), "3d04h");
}

static void
table_seed(void **state)
{
	struct sl_lag_report	 r;
	struct sl_table_view	 v;
	char			*t;

	(void)state;
	seed_report(&r);
	memset(&v, 0, sizeof(v));
	v.sort = SL_COL_LAG;
	t = sl_render_table(&r, &v, NULL);
	assert_non_null(t);
	assert_string_equal(t,
	    "health: degraded  streams 3  total lag 168  max lag 123  | 2 healthy,"
	    " 1 degraded\n"
	    "STREAM         GROUP              LAG  TIME LAG  PENDING  CONSUMERS  STATUS\n"
	    "events:chat    signalr-consumers  123      5.1s       77          2  degraded\n"
	    "events:ticket  signalr-consumers   45     1m01s       55          1  healthy\n"
	    "events:remote  signalr-consumers    0       0ms       10          1  healthy\n");
	free(t);

	/* A note (why Redis failed) goes under the totals. */
	t = sl_render_table(&r, &v, "redis 127.0.0.1:1: Connection refused");
	assert_non_null(strstr(t, "1 degraded\nredis 127.0.0.1:1: Connection "
	    "refused\nSTREAM"));
	free(t);
	free_report(&r);
}

/* The first column of each row, in order. */
static void
order(struct sl_lag_report *r, struct sl_table_view *v, const char *want)
{
	const struct sl_lag_entry **rows;
	size_t	 n;
	char	 got[256] = "";

	assert_int_equal(sl_table_rows(r, v, &rows, &n), 0);
	for (size_t i = 0; i < n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
		    i ? " " : "", rows[i]->stream.p);
	free(rows);
	assert_string_equal(got, want);
}

static void
sorting_and_filter(void **state)
{
	struct sl_lag_report	 r;
	struct sl_table_view	 v;

	(void)state;
	seed_report(&r);
	memset(&v, 0, sizeof(v));
	v.sort = SL_COL_LAG;
	order(&r, &v, "events:chat events:ticket events:remote");
	v.reverse = 1;
	order(&r, &v, "events:remote events:ticket events:chat");
	v.reverse = 0;
	v.sort = SL_COL_STREAM;
	order(&r, &v, "events:chat events:remote events:ticket");
	v.sort = SL_COL_TIME_LAG;
	order(&r, &v, "events:ticket events:chat events:remote");
	v.sort = SL_COL_PENDING;
	order(&r, &v, "events:chat events:ticket events:remote");
	v.sort = SL_COL_CONSUMERS;	/* ties: by stream */
	order(&r, &v, "events:chat events:remote events:ticket");
	v.sort = SL_COL_STATUS;		/* most severe first, then lag */
	order(&r, &v, "events:chat events:ticket events:remote");
	/* The filter matches stream, group or status. */
	v.sort = SL_COL_LAG;
	snprintf(v.filter, sizeof(v.filter), "ti");
	order(&r, &v, "events:ticket");
	snprintf(v.filter, sizeof(v.filter), "healthy");
	order(&r, &v, "events:ticket events:remote");
	snprintf(v.filter, sizeof(v.filter), "nothing");
	order(&r, &v, "");
	free_report(&r);
}

static void
special_rows(void **state)
{
	struct sl_lag_report	 r;
	struct sl_table_view	 v;
	char			*t, *csv;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.group = "g";
	r.entries = calloc(4, sizeof(*r.entries));
	assert_non_null(r.entries);
	r.n = 4;
	entry(&r.entries[0], "big", "g", 10000, 0, 0, -1, SL_STATUS_UNHEALTHY);
	r.entries[0].lag_exact = 0;		/* the count cap was hit */
	entry(&r.entries[1], "gone", NULL, -1, 0, 0, -1, SL_STATUS_ERROR);
	r.entries[1].error = strdup("no such key");
	entry(&r.entries[2], "new", NULL, 0, 0, 0, -1, SL_STATUS_NO_GROUP);
	/* A name that would drive the terminal: ESC, CR, and a C1 CSI. */
	entry(&r.entries[3], "x\x1b[31m\r\xc2\x9b" "2J,\"q\"", "g", 1, 1, 1,
	    -1, SL_STATUS_HEALTHY);
	sl_lag_report_totals(&r);
	memset(&v, 0, sizeof(v));
	v.sort = SL_COL_LAG;
	t = sl_render_table(&r, &v, NULL);
	assert_non_null(t);
	assert_string_equal(t,
	    "health: unhealthy  streams 3  total lag 10001  max lag 10000  | "
	    "1 healthy, 2 unhealthy, 1 no group\n"
	    "STREAM          GROUP     LAG  TIME LAG  PENDING  CONSUMERS  STATUS\n"
	    "big             g      ≥10000         -        0          0  unhealthy\n"
	    "x?[31m??2J,\"q\"  g           1         -        1          1  healthy\n"
	    "new             g           0         -        -          -  no_group\n"
	    "gone            g           -         -        -          -  error: no such key\n");
	assert_null(strchr(t, '\x1b'));
	free(t);

	csv = sl_render_csv(&r);
	assert_non_null(csv);
	assert_string_equal(csv,
	    "stream,group,lag,lag_exact,time_lag_ms,pending,consumers,status,error\r\n"
	    "big,g,10000,false,,0,0,unhealthy,\r\n"
	    "gone,g,-1,false,,0,0,error,no such key\r\n"
	    "new,g,0,true,,0,0,no_group,\r\n"
	    "\"x\x1b[31m\r\xc2\x9b" "2J,\"\"q\"\"\",g,1,true,,1,1,healthy,\r\n");
	free(csv);
	free_report(&r);
}

/* Display columns of a line (code points; escape sequences excluded). */
static int
columns(const char *s, size_t len)
{
	int w = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\x1b') {
			while (i < len && !((s[i] >= 'A' && s[i] <= 'Z') ||
			    (s[i] >= 'a' && s[i] <= 'z')))
				i++;
			continue;
		}
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	}
	return w;
}

static void
width_height_color(void **state)
{
	struct sl_lag_report	 r;
	struct sl_table_view	 v;
	char			*t, *p, *nl;
	int			 lines = 0;

	(void)state;
	seed_report(&r);
	assert_int_equal(sl_bytes_set(&r.entries[0].stream,
	    "events:a-very-long-stream-name-that-does-not-fit-anywhere", 57), 0);
	memset(&v, 0, sizeof(v));
	v.sort = SL_COL_LAG;
	v.width = 70;
	v.height = 3;			/* heading and one row, then "more" */
	v.color = 1;
	t = sl_render_table(&r, &v, NULL);
	assert_non_null(t);
	for (p = t; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		if (lines > 0)		/* the totals line is the caller's to clip */
			assert_true(columns(p, (size_t)(nl - p)) <= 70);
		lines++;
	}
	assert_int_equal(lines, 4);	/* totals, heading, 1 row, "… 2 more" */
	assert_non_null(strstr(t, "\nevents:a-very-l…  signal…  "));
	assert_non_null(strstr(t, "\n… 2 more (/ filters)\n"));
	/* Colours: the verdict, and each row's lag and status. */
	assert_non_null(strstr(t, "health: \033[33mdegraded\033[0m"));
	assert_non_null(strstr(t, "\033[33mdegraded\033[0m\n"));
	assert_non_null(strstr(t, "\033[33m123\033[0m"));
	free(t);
	free_report(&r);
}

static size_t
lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* Each allocation of a table (with a note) and of the CSV failed in turn:
 * the table is whole or NULL (a cell that cannot be cleaned shows "?",
 * never a missing line), the CSV is NULL; nothing leaks. */
static void
out_of_memory(void **state)
{
	struct sl_lag_report	 r;
	struct sl_table_view	 v;
	char			*whole, *t;
	long			 total;

	(void)state;
	seed_report(&r);
	memset(&v, 0, sizeof(v));
	sl_alloc_reset();
	whole = sl_render_table(&r, &v, "redis down");
	total = sl_alloc_count();
	assert_non_null(whole);
	assert_true(total > 3);
	for (long n = 0; n < total; n++) {
		sl_alloc_fail_after(n);
		t = sl_render_table(&r, &v, "redis down");
		sl_alloc_reset();
		if (t != NULL) {
			assert_int_equal(lines(t), lines(whole));
			assert_non_null(strstr(t, "\nredis down\nSTREAM"));
		}
		free(t);
	}
	free(whole);
	sl_alloc_reset();
	whole = sl_render_csv(&r);
	total = sl_alloc_count();
	assert_non_null(whole);
	for (long n = 0; n < total; n++) {
		sl_alloc_fail_after(n);
		assert_null(t = sl_render_csv(&r));
		sl_alloc_reset();
	}
	free(whole);
	free_report(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations),
		cmocka_unit_test(table_seed),
		cmocka_unit_test(sorting_and_filter),
		cmocka_unit_test(special_rows),
		cmocka_unit_test(width_height_color),
		cmocka_unit_test(out_of_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
