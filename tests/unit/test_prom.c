/* SPDX-License-Identifier: ISC */
/* The Prometheus exposition: families, label escaping, unknown lag omitted,
 * cumulative histogram buckets, the per-consumer switch. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sl_test.h"
#include "streamlag/alloc.h"
#include "streamlag/prom.h"

static void
set(struct sl_bytes *b, const char *s, size_t len)
{
	assert_int_equal(sl_bytes_set(b, s, len), 0);
}

static struct sl_lag_report
report(void)
{
	struct sl_lag_report r;
	struct sl_lag_entry *e;

	memset(&r, 0, sizeof(r));
	r.all_groups = 1;
	r.n = 2;
	r.entries = calloc(2, sizeof(*r.entries));
	e = &r.entries[0];
	set(&e->stream, "a\"b\\c\nd\xff", 8);
	e->has_group = 1;
	set(&e->group.name, "g", 1);
	e->lag = 7;
	e->lag_exact = 1;
	e->group.pending = 3;
	e->has_time_lag = 1;
	e->time_lag_ms = 1500;
	e->status = SL_STATUS_STALLED;
	e->nconsumers = 1;
	e->consumers = calloc(1, sizeof(*e->consumers));
	set(&e->consumers[0].name, "c1", 2);
	e->consumers[0].pending = 3;
	e->consumers[0].idle_ms = 61000;
	e = &r.entries[1];
	set(&e->stream, "gone", 4);
	e->error = strdup("no such key");
	e->lag = -1;
	e->status = SL_STATUS_ERROR;
	r.nsinfo = 2;
	r.sinfo = calloc(2, sizeof(*r.sinfo));
	set(&r.sinfo[0].name, "a\"b\\c\nd\xff", 8);
	r.sinfo[0].length = 10;
	r.sinfo[0].groups = 1;
	r.sinfo[0].has_entries_added = 1;
	r.sinfo[0].entries_added = 12;
	r.sinfo[0].last_entry_ms = 1800000000123LL;	/* "1800000000123-0" */
	set(&r.sinfo[1].name, "gone", 4);
	r.sinfo[1].error = strdup("no such key");
	return r;
}

static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p += n)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return 1;
	return 0;
}

#define LINE(t, l) do { if (!has_line((t), (l))) fail_msg("missing: %s", (l)); } while (0)
#define NO_LINE(t, l) do { if (has_line((t), (l))) fail_msg("present: %s", (l)); } while (0)

static void
families_and_escaping(void **state)
{
	struct sl_lag_report r = report();
	struct sl_counters c;
	static const char *const names[] = { "127.0.0.1:7001", "[::1]:7002",
	    "127.0.0.1:7003" };
	static const signed char up[] = { 1, 0, -1 };
	struct sl_prom_opts o = { .redis_up = 1, .consumers = 1,
	    .collect_seconds = 0.25, .counters = &c, .version = "0.1.0",
	    .commit = "0123abcd\"x", .nnodes = 3, .node_name = names,
	    .node_up = up };
	char *t;

	(void)state;
	memset(&c, 0, sizeof(c));
	sl_count_request(&c, SL_ROUTE_CONSUMER_LAG, 200, 800);	/* 0.8 ms */
	sl_count_request(&c, SL_ROUTE_CONSUMER_LAG, 200, 30000);	/* 30 ms */
	sl_count_request(&c, SL_ROUTE_CONSUMER_LAG, 503, 2000000);	/* 2 s */
	sl_count_request(&c, SL_ROUTE_METRICS, 418, 10);
	c.worker_restarts = 2;
	t = sl_render_prom(&r, &o);
	assert_non_null(t);
	LINE(t, "# TYPE event_consumer_lag gauge");
	/* Each node as it last was; one never asked has no series. */
	LINE(t, "# TYPE streamlag_redis_node_up gauge");
	LINE(t, "streamlag_redis_node_up{node=\"127.0.0.1:7001\"} 1");
	LINE(t, "streamlag_redis_node_up{node=\"[::1]:7002\"} 0");
	NO_LINE(t, "streamlag_redis_node_up{node=\"127.0.0.1:7003\"} 0");
	NO_LINE(t, "streamlag_redis_node_up{node=\"127.0.0.1:7003\"} 1");
	LINE(t, "streamlag_redis_redirects_total{kind=\"moved\"} 0");
	LINE(t, "streamlag_redis_redirects_total{kind=\"ask\"} 0");
	LINE(t, "event_consumer_lag{stream=\"a\\\"b\\\\c\\nd\xEF\xBF\xBD\",consumer_group=\"g\"} 7");
	LINE(t, "event_queue_depth{stream=\"a\\\"b\\\\c\\nd\xEF\xBF\xBD\"} 10");
	LINE(t, "streamlag_stream_entries_added_total{stream=\"a\\\"b\\\\c\\nd\xEF\xBF\xBD\"} 12");
	LINE(t, "streamlag_stream_last_entry_timestamp_seconds{stream=\"a\\\"b\\\\c\\nd\xEF\xBF\xBD\"} 1800000000.123");
	LINE(t, "streamlag_stream_up{stream=\"gone\"} 0");
	LINE(t, "streamlag_group_time_lag_seconds{stream=\"a\\\"b\\\\c\\nd\xEF\xBF\xBD\",group=\"g\"} 1.500");
	LINE(t, "streamlag_group_status{stream=\"a\\\"b\\\\c\\nd\xEF\xBF\xBD\",group=\"g\",status=\"stalled\"} 1");
	LINE(t, "streamlag_group_status{stream=\"a\\\"b\\\\c\\nd\xEF\xBF\xBD\",group=\"g\",status=\"healthy\"} 0");
	LINE(t, "streamlag_consumer_idle_seconds{stream=\"a\\\"b\\\\c\\nd\xEF\xBF\xBD\",group=\"g\",consumer=\"c1\"} 61.000");
	/* Oldest pending unknown (JSON's null): no sample, never a 0. */
	assert_null(strstr(t, "streamlag_group_oldest_pending_seconds{"));
	LINE(t, "# TYPE streamlag_group_oldest_pending_seconds gauge");
	/* The stream that failed has no lag sample at all, never a 0. */
	assert_null(strstr(t, "streamlag_group_lag{stream=\"gone\""));
	assert_null(strstr(t, "event_consumer_lag{stream=\"gone\""));
	/* Cumulative buckets: 1 <= 1ms, 2 <= 50ms, 2 <= 1s, 3 in +Inf. */
	LINE(t, "streamlag_http_request_duration_seconds_bucket{route=\"consumer_lag\",le=\"0.001\"} 1");
	LINE(t, "streamlag_http_request_duration_seconds_bucket{route=\"consumer_lag\",le=\"0.05\"} 2");
	LINE(t, "streamlag_http_request_duration_seconds_bucket{route=\"consumer_lag\",le=\"1\"} 2");
	LINE(t, "streamlag_http_request_duration_seconds_bucket{route=\"consumer_lag\",le=\"+Inf\"} 3");
	LINE(t, "streamlag_http_request_duration_seconds_count{route=\"consumer_lag\"} 3");
	LINE(t, "streamlag_http_request_duration_seconds_sum{route=\"consumer_lag\"} 2.030800");
	LINE(t, "streamlag_http_requests_total{route=\"consumer_lag\",code=\"200\"} 2");
	LINE(t, "streamlag_http_requests_total{route=\"consumer_lag\",code=\"503\"} 1");
	LINE(t, "streamlag_http_requests_total{route=\"metrics\",code=\"other\"} 1");
	LINE(t, "streamlag_worker_restarts_total 2");
	LINE(t, "streamlag_redis_up 1");
	LINE(t, "streamlag_collect_duration_seconds 0.250000");
	LINE(t, "streamlag_build_info{version=\"0.1.0\",commit=\"0123abcd\\\"x\"} 1");
	free(t);
	/* Known: the age in seconds. */
	r.entries[0].has_oldest_pending = 1;
	r.entries[0].oldest_pending_ms = 90250;
	t = sl_render_prom(&r, &o);
	LINE(t, "streamlag_group_oldest_pending_seconds{stream=\"a\\\"b\\\\c\\nd\xEF\xBF\xBD\",group=\"g\"} 90.250");
	free(t);
	/* Without per-consumer series. */
	o.consumers = 0;
	t = sl_render_prom(&r, &o);
	assert_null(strstr(t, "streamlag_consumer_"));
	free(t);
	sl_lag_report_free(&r);
}

/* Sentinel: node_up with each node's role; the replicas' offset lag, none
 * for a replica that is not up. */
static void
sentinel_nodes(void **state)
{
	struct sl_lag_report r = report();
	static const char *const names[] = { "127.0.0.1:6379",
	    "127.0.0.1:6380" };
	static const char *const roles[] = { "master", "replica" };
	static const signed char up[] = { 1, 0 };
	static const char *const rnames[] = { "127.0.0.1:6380",
	    "127.0.0.1:6381" };
	static const long long rlag[] = { -1, 17 };
	struct sl_prom_opts o = { .redis_up = 1, .version = "0.1.0",
	    .commit = "c", .nnodes = 2, .node_name = names, .node_up = up,
	    .node_role = roles, .nreplicas = 2, .replica_name = rnames,
	    .replica_lag = rlag };
	char *t;

	(void)state;
	t = sl_render_prom(&r, &o);
	assert_non_null(t);
	LINE(t, "streamlag_redis_node_up{node=\"127.0.0.1:6379\",role=\"master\"} 1");
	LINE(t, "streamlag_redis_node_up{node=\"127.0.0.1:6380\",role=\"replica\"} 0");
	LINE(t, "# TYPE streamlag_redis_replica_offset_lag gauge");
	LINE(t, "streamlag_redis_replica_offset_lag{node=\"127.0.0.1:6381\"} 17");
	assert_null(strstr(t, "streamlag_redis_replica_offset_lag{node=\"127.0.0.1:6380\""));
	free(t);
	o.nreplicas = 0;
	t = sl_render_prom(&r, &o);
	assert_non_null(t);
	assert_null(strstr(t, "streamlag_redis_replica_offset_lag"));
	free(t);
	sl_lag_report_free(&r);
}

static void
redis_down(void **state)
{
	struct sl_lag_report r;
	struct sl_prom_opts o = { .consumers = 1, .collect_seconds = 0.001,
	    .version = "0.1.0", .commit = "0123abcd" };
	char *t;

	(void)state;
	memset(&r, 0, sizeof(r));
	t = sl_render_prom(&r, &o);
	LINE(t, "streamlag_redis_up 0");
	LINE(t, "# TYPE streamlag_group_lag gauge");
	assert_null(strstr(t, "streamlag_group_lag{"));
	free(t);
}

/* Every allocation fails in turn (label values made valid UTF-8, the
 * buffer): NULL each time, then the whole exposition. */
static void
out_of_memory(void **state)
{
	struct sl_lag_report r = report();
	struct sl_counters c;
	struct sl_prom_opts o = { .redis_up = 1, .consumers = 1,
	    .collect_seconds = 0.25, .counters = &c, .version = "0.1.0",
	    .commit = "0123abcd" };
	char *want, *t;
	long n;

	(void)state;
	memset(&c, 0, sizeof(c));
	want = sl_render_prom(&r, &o);
	assert_non_null(want);
	for (n = 0; ; n++) {
		sl_alloc_fail_after(n);
		t = sl_render_prom(&r, &o);
		sl_alloc_reset();
		if (t != NULL)
			break;
	}
	assert_true(n >= 2);	/* the buffer and the hostile name */
	assert_string_equal(t, want);
	free(t);
	free(want);
	sl_lag_report_free(&r);
}

static int
count_sink(void *arg, const char *p, size_t n)
{
	size_t *total = arg;

	(void)p;
	*total += n;
	return 0;
}

/* Streamed past a small threshold: the same number of bytes; the buffer
 * never grows past its first allocation. */
static void
streamed(void **state)
{
	struct sl_lag_report r = report();
	struct sl_prom_opts o = { .redis_up = 1, .consumers = 1,
	    .collect_seconds = 0.25, .version = "0.1.0", .commit = "0123abcd" };
	struct sl_out out;
	size_t total = 0;
	char *want;

	(void)state;
	want = sl_render_prom(&r, &o);
	assert_non_null(want);
	sl_out_init(&out);
	sl_out_set_sink(&out, count_sink, &total, 512);
	assert_int_equal(sl_render_prom_out(&r, &o, &out), SL_OK);
	assert_int_equal(sl_out_flush(&out), SL_OK);
	assert_int_equal(out.cap, SL_OUT_FIRST);
	sl_out_free(&out);
	assert_int_equal(total, strlen(want));
	free(want);
	sl_lag_report_free(&r);
}

/* n streams s0000.. with group g, i behind, and their facts. */
static struct sl_lag_report
many(size_t n)
{
	struct sl_lag_report r;
	char name[16];

	memset(&r, 0, sizeof(r));
	r.all_groups = 1;
	r.n = r.nsinfo = n;
	r.entries = calloc(n, sizeof(*r.entries));
	r.sinfo = calloc(n, sizeof(*r.sinfo));
	for (size_t i = 0; i < n; i++) {
		struct sl_lag_entry *e = &r.entries[i];

		snprintf(name, sizeof(name), "s%04zu", i);
		set(&e->stream, name, strlen(name));
		set(&r.sinfo[i].name, name, strlen(name));
		e->has_group = 1;
		set(&e->group.name, "g", 1);
		e->lag = (long long)i;
		e->lag_exact = 1;
		e->status = SL_STATUS_HEALTHY;
		r.sinfo[i].length = (long long)i + 1;
	}
	r.not_covered = 3;
	return r;
}

/* Entries in the directory other than . and .. */
static int
dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* Staged a chunk at a time, spilled to unlinked files once the families
 * hold more than mem_max: the same exposition, byte for byte, as the whole
 * report's. */
static void
staged(void **state)
{
	struct sl_lag_report r = many(3000), done;
	struct sl_prom_opts o = { .redis_up = 1, .consumers = 1,
	    .collect_seconds = 0.25, .version = "0.1.0", .commit = "0123abcd" };
	struct sl_prom_stage st;
	struct sl_out out;
	char dir[] = "/tmp/test_prom.XXXXXX", *want, *got;

	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv("TMPDIR", dir, 1);
	want = sl_render_prom(&r, &o);
	assert_non_null(want);
	sl_prom_stage_init(&st);
	st.mem_max = 1024 * 1024;	/* the first chunk stays in memory */
	for (size_t off = 0; off < r.n; off += 1000) {
		struct sl_lag_report view = r;

		view.entries += off;
		view.sinfo += off;
		view.n = view.nsinfo = 1000;
		assert_int_equal(sl_prom_stage_add(&st, &view, &o), SL_OK);
		if (off == 0)	/* about 600 KB so far */
			assert_int_equal(st.spill[0].fd, -1);
	}
	/* event_consumer_lag (family 0) passed 64 KiB: in a file, unlinked. */
	assert_int_not_equal(st.spill[0].fd, -1);
	assert_int_equal(dir_entries(dir), 0);
	memset(&done, 0, sizeof(done));
	done.all_groups = 1;
	done.not_covered = r.not_covered;
	sl_out_init(&out);
	assert_int_equal(sl_prom_stage_out(&st, &done, &o, &out), SL_OK);
	got = sl_out_finish(&out, NULL);
	assert_non_null(got);
	assert_int_equal(strlen(got), strlen(want));
	assert_string_equal(got, want);
	free(got);
	sl_prom_stage_free(&st);

	/* Nowhere to spill: SL_ESYS, never a short exposition. */
	setenv("TMPDIR", "/nonexistent/streamlag", 1);
	sl_prom_stage_init(&st);
	st.mem_max = 1024;
	assert_int_equal(sl_prom_stage_add(&st, &r, &o), SL_ESYS);
	sl_prom_stage_free(&st);
	unsetenv("TMPDIR");
	assert_int_equal(rmdir(dir), 0);
	free(want);
	sl_lag_report_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(families_and_escaping),
		cmocka_unit_test(sentinel_nodes),
		cmocka_unit_test(redis_down),
		cmocka_unit_test(out_of_memory),
		cmocka_unit_test(streamed),
		cmocka_unit_test(staged),
	};
	return cmocka_run_group_tests_name("prom", tests, NULL, NULL);
}
