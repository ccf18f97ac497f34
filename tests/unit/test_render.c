/* JSON rendering: the seed's shapes byte for byte, and names as bytes. */
#include <json-c/json.h>

#include "sl_test.h"
#include "streamlag/render.h"

static void
sanitized(const char *in, size_t len, int nul_ok, const char *want,
    size_t wantlen)
{
	size_t n;
	char *s = sl_utf8_sanitize(in, len, nul_ok, &n);

	assert_non_null(s);
	assert_int_equal(n, wantlen);
	assert_memory_equal(s, want, wantlen);
	free(s);
}

#define R "\xEF\xBF\xBD"
#define S(in, want) sanitized(in, sizeof(in) - 1, 0, want, sizeof(want) - 1)

static void
utf8(void **state)
{
	(void)state;
	S("plain ascii", "plain ascii");
	S("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
	S("a\x80z", "a" R "z");			/* lone continuation */
	S("\xC3", R);				/* truncated at the end */
	S("\xE2\x82", R);			/* one maximal subpart */
	S("\xE2\x82z", R "z");
	S("\xC0\xAF", R R);			/* overlong */
	S("\xE0\x80\x80", R R R);		/* overlong 3-byte */
	S("\xED\xA0\x80", R R R);		/* surrogate */
	S("\xF4\x90\x80\x80", R R R R);		/* > U+10FFFF */
	S("\xFF", R);
	S("\xF0\x9F\x98", R);
	sanitized("a\0b", 3, 0, "a" R "b", 5);
	sanitized("a\0b", 3, 1, "a\0b", 3);
}

static void
seed_entry(struct sl_lag_entry *e, const char *stream, long long lag,
    const char **names, size_t n, long long pending, enum sl_status st)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(sl_bytes_set(&e->stream, stream, strlen(stream)), 0);
	e->has_group = 1;
	assert_int_equal(sl_bytes_set(&e->group.name, "signalr-consumers", 17), 0);
	e->group.pending = pending;
	e->group.entries_read = pending;
	e->group.has_entries_read = 1;
	e->lag = lag;
	e->lag_exact = 1;
	e->status = st;
	e->nconsumers = n;
	e->consumers = calloc(n, sizeof(*e->consumers));
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(sl_bytes_set(&e->consumers[i].name, names[i],
		    strlen(names[i])), 0);
		e->consumers[i].pending = pending / (long long)n;
		e->consumers[i].idle_ms = 5;
	}
}

static void
seed_example(void **state)
{
	const char *two[] = { "instance-1", "instance-2" }, *one[] = { "instance-1" };
	struct sl_lag_report r;
	char *s;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.group = "signalr-consumers";
	r.n = 3;
	r.entries = calloc(3, sizeof(*r.entries));
	seed_entry(&r.entries[0], "events:chat", 123, two, 2, 78, SL_STATUS_DEGRADED);
	seed_entry(&r.entries[1], "events:ticket", 45, one, 1, 55, SL_STATUS_HEALTHY);
	seed_entry(&r.entries[2], "events:remote", 0, one, 1, 10, SL_STATUS_HEALTHY);
	r.entries[2].group.has_entries_read = 0;
	r.total_lag = 168;
	r.stream_count = 3;
	s = sl_render_lag(&r);
	assert_string_equal(s, "{\"streams\":{"
	    "\"events:chat\":{\"lag\":123,\"consumers\":[\"instance-1\",\"instance-2\"],"
	    "\"group\":\"signalr-consumers\",\"lag_exact\":true,\"pending\":78,"
	    "\"entries_read\":78,\"status\":\"degraded\",\"consumer_details\":["
	    "{\"name\":\"instance-1\",\"pending\":39,\"idle_ms\":5,\"inactive_ms\":null},"
	    "{\"name\":\"instance-2\",\"pending\":39,\"idle_ms\":5,\"inactive_ms\":null}]},"
	    "\"events:ticket\":{\"lag\":45,\"consumers\":[\"instance-1\"],"
	    "\"group\":\"signalr-consumers\",\"lag_exact\":true,\"pending\":55,"
	    "\"entries_read\":55,\"status\":\"healthy\",\"consumer_details\":["
	    "{\"name\":\"instance-1\",\"pending\":55,\"idle_ms\":5,\"inactive_ms\":null}]},"
	    "\"events:remote\":{\"lag\":0,\"consumers\":[\"instance-1\"],"
	    "\"group\":\"signalr-consumers\",\"lag_exact\":true,\"pending\":10,"
	    "\"entries_read\":null,\"status\":\"healthy\",\"consumer_details\":["
	    "{\"name\":\"instance-1\",\"pending\":10,\"idle_ms\":5,\"inactive_ms\":null}]}},"
	    "\"total_lag\":168,\"stream_count\":3,\"consumer_group\":\"signalr-consumers\"}");
	free(s);

	/* An errored entry, a missing group, and the whole request failing. */
	sl_lag_entry_free(&r.entries[1]);
	sl_bytes_set(&r.entries[1].stream, "events:ticket", 13);
	r.entries[1].error = strdup("no such key");
	r.entries[1].lag = -1;
	r.entries[1].status = SL_STATUS_ERROR;
	sl_lag_entry_free(&r.entries[2]);
	sl_bytes_set(&r.entries[2].stream, "events:remote", 13);
	r.entries[2].status = SL_STATUS_NO_GROUP;
	r.entries[2].lag_exact = 1;
	r.error = strdup("Cannot connect to Redis");
	r.n = 3;
	s = sl_render_lag(&r);
	assert_non_null(strstr(s, "\"events:ticket\":{\"lag\":-1,\"consumers\":[],"
	    "\"error\":\"no such key\",\"group\":\"signalr-consumers\","
	    "\"status\":\"error\"}"));
	assert_non_null(strstr(s, "\"events:remote\":{\"lag\":0,\"consumers\":[],"
	    "\"group\":\"signalr-consumers\",\"lag_exact\":true,\"pending\":0,"
	    "\"status\":\"no_group\"}"));
	assert_non_null(strstr(s, "\"consumer_group\":\"signalr-consumers\","
	    "\"error\":\"Cannot connect to Redis\",\"code\":\"redis_unavailable\"}"));
	free(s);
	sl_lag_report_free(&r);
}

static void
hostile_names(void **state)
{
	struct sl_lag_report r;
	const char *names[] = { "c\"1\n" };
	json_object *j, *streams;
	char *s;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.group = "g";
	r.n = 3;
	r.entries = calloc(3, sizeof(*r.entries));
	seed_entry(&r.entries[0], "we\"ird\nname\xff", 1, names, 1, 0,
	    SL_STATUS_HEALTHY);
	/* Two names that sanitize to the same key keep both entries. */
	seed_entry(&r.entries[1], "x\xfe", 2, names, 1, 0, SL_STATUS_HEALTHY);
	seed_entry(&r.entries[2], "x\xff", 3, names, 1, 0, SL_STATUS_HEALTHY);
	s = sl_render_lag(&r);
	assert_non_null(strstr(s, "\"we\\\"ird\\nname\xEF\xBF\xBD\":{\"lag\":1,"
	    "\"consumers\":[\"c\\\"1\\n\"]"));
	j = json_tokener_parse(s);
	assert_non_null(j);
	assert_true(json_object_object_get_ex(j, "streams", &streams));
	assert_int_equal(json_object_object_length(streams), 3);
	assert_true(json_object_object_get_ex(streams, "x" R, NULL));
	assert_true(json_object_object_get_ex(streams, "x" R "#2", NULL));
	json_object_put(j);
	free(s);
	sl_lag_report_free(&r);
}

static void
health_and_errors(void **state)
{
	struct sl_health h = { 2, 1, 0, 0, 0, 123, 168, SL_STATUS_DEGRADED };
	struct sl_render_opts o = { 1, "signalr-consumers" };
	char *s;

	(void)state;
	s = sl_render_health(&h, &o);
	assert_string_equal(s, "{\"status\":\"degraded\",\"redis_connected\":true,"
	    "\"transport_mode\":\"redis_streams\",\"streams\":{\"healthy\":2,"
	    "\"degraded\":1,\"unhealthy\":0,\"stalled\":0,\"no_group\":0},"
	    "\"max_lag\":123,\"total_lag\":168,\"consumer_group\":"
	    "\"signalr-consumers\"}");
	free(s);
	o.transport_redis_streams = 0;
	h.status = SL_STATUS_HEALTHY;
	s = sl_render_health(&h, &o);
	assert_non_null(strstr(s, "\"status\":\"healthy\""));
	assert_non_null(strstr(s, "\"transport_mode\":\"http\""));
	free(s);
	s = sl_render_health_down("Cannot connect to Redis");
	assert_string_equal(s, "{\"status\":\"unhealthy\",\"redis_connected\":false,"
	    "\"error\":\"Cannot connect to Redis\",\"code\":\"redis_unavailable\"}");
	free(s);
	s = sl_render_error("not_found", "No such endpoint");
	assert_string_equal(s, "{\"error\":\"No such endpoint\",\"code\":\"not_found\"}");
	free(s);
}

static void
streams_body(void **state)
{
	struct sl_streams_report r;
	char *s;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.n = 2;
	r.entries = calloc(2, sizeof(*r.entries));
	sl_bytes_set(&r.entries[0].name, "events:chat", 11);
	r.entries[0].info.length = 2;
	r.entries[0].info.groups = 1;
	snprintf(r.entries[0].info.first_entry_id, SL_ID_MAX, "%s", "1-0");
	snprintf(r.entries[0].info.last_entry_id, SL_ID_MAX, "%s", "2-0");
	snprintf(r.entries[0].info.last_generated_id, SL_ID_MAX, "%s", "2-0");
	snprintf(r.entries[0].info.max_deleted_entry_id, SL_ID_MAX, "%s", "0-0");
	r.entries[0].info.entries_added = 2;
	r.entries[0].info.has_entries_added = 1;
	r.entries[0].last_entry_age_ms = -1;
	r.entries[0].ngroup_names = 1;
	r.entries[0].group_names = calloc(1, sizeof(struct sl_bytes));
	sl_bytes_set(&r.entries[0].group_names[0], "g", 1);
	sl_bytes_set(&r.entries[1].name, "events:gone", 11);
	r.entries[1].error = strdup("no such key");
	s = sl_render_streams(&r);
	assert_string_equal(s, "{\"streams\":[{\"name\":\"events:chat\",\"length\":2,"
	    "\"groups\":1,\"first_entry_id\":\"1-0\",\"last_entry_id\":\"2-0\","
	    "\"last_generated_id\":\"2-0\",\"entries_added\":2,"
	    "\"max_deleted_entry_id\":\"0-0\",\"recorded_first_entry_id\":null,"
	    "\"last_entry_age_ms\":null,\"group_names\":[\"g\"]},"
	    "{\"name\":\"events:gone\",\"length\":0,\"groups\":0,"
	    "\"error\":\"no such key\"}]}");
	free(s);
	sl_streams_report_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(utf8),
		cmocka_unit_test(seed_example),
		cmocka_unit_test(hostile_names),
		cmocka_unit_test(health_and_errors),
		cmocka_unit_test(streams_body),
	};
	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
