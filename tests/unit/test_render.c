/* SPDX-License-Identifier: ISC */
/* JSON rendering: the seed's shapes byte for byte and names as bytes. */
#include <limits.h>
#include <stdio.h>

#include <json-c/json.h>

#include "sl_test.h"
#include "streamlag/alloc.h"
#include "streamlag/render.h"

#define R "\xEF\xBF\xBD"	/* U+FFFD as UTF-8 */

static void
set_name(struct sl_bytes *b, const char *s)
{
	assert_int_equal(sl_bytes_set(b, s, strlen(s)), 0);
}

static void
add_consumers(struct sl_lag_entry *e, const char **names, size_t n,
    long long pending)
{
	e->nconsumers = n;
	e->consumers = calloc(n ? n : 1, sizeof(*e->consumers));
	assert_non_null(e->consumers);
	for (size_t i = 0; i < n; i++) {
		set_name(&e->consumers[i].name, names[i]);
		e->consumers[i].pending = pending / (long long)n;
		e->consumers[i].idle_ms = 5;
	}
}

static void
group_entry(struct sl_lag_entry *e, const char *stream, long long lag,
    const char **names, size_t n, long long pending, enum sl_status st)
{
	memset(e, 0, sizeof(*e));
	set_name(&e->stream, stream);
	e->has_group = 1;
	set_name(&e->group.name, "signalr-consumers");
	e->group.pending = pending;
	e->group.entries_read = 1000 + lag;
	e->group.has_entries_read = 1;
	e->lag = lag;
	e->lag_exact = 1;
	e->status = st;
	add_consumers(e, names, n, pending);
}

static void
error_entry(struct sl_lag_entry *e, const char *stream, const char *error)
{
	memset(e, 0, sizeof(*e));
	set_name(&e->stream, stream);
	e->error = strdup(error);
	assert_non_null(e->error);
	e->lag = -1;
	e->status = SL_STATUS_ERROR;
}

static void
no_group_entry(struct sl_lag_entry *e, const char *stream)
{
	memset(e, 0, sizeof(*e));
	set_name(&e->stream, stream);
	e->lag_exact = 1;
	e->status = SL_STATUS_NO_GROUP;
}

static void
report_init(struct sl_lag_report *r, const char *group, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->group = group;
	r->n = n;
	r->entries = calloc(n, sizeof(*r->entries));
	assert_non_null(r->entries);
}

/* Renders r, compares it with want, checks it parses, and frees both. */
static void
lag_is(struct sl_lag_report *r, const char *want)
{
	char		*s = sl_render_lag(r);
	json_object	*j;

	assert_non_null(s);
	assert_string_equal(s, want);
	j = json_tokener_parse(s);
	assert_non_null(j);
	json_object_put(j);
	free(s);
	sl_lag_report_free(r);
}

static const char *two[] = { "instance-1", "instance-2" };
static const char *one[] = { "instance-1" };

static void
lag_seed_example(void **state)
{
	struct sl_lag_report r;

	(void)state;
	report_init(&r, "signalr-consumers", 3);
	group_entry(&r.entries[0], "events:chat", 123, two, 2, 78,
	    SL_STATUS_DEGRADED);
	group_entry(&r.entries[1], "events:ticket", 45, one, 1, 55,
	    SL_STATUS_HEALTHY);
	group_entry(&r.entries[2], "events:remote", 0, one, 1, 0,
	    SL_STATUS_HEALTHY);
	r.total_lag = 168;
	r.stream_count = 3;
	lag_is(&r, "{\"streams\":{"
	    "\"events:chat\":{\"lag\":123,\"consumers\":[\"instance-1\",\"instance-2\"],"
	    "\"group\":\"signalr-consumers\",\"lag_exact\":true,\"lag_max\":123,\"pending\":78,"
	    "\"entries_read\":1123,\"time_lag_ms\":null,\"oldest_pending_ms\":null,"
	    "\"trimmed_unread\":0,\"status\":\"degraded\",\"consumer_details\":["
	    "{\"name\":\"instance-1\",\"pending\":39,\"idle_ms\":5,\"inactive_ms\":null},"
	    "{\"name\":\"instance-2\",\"pending\":39,\"idle_ms\":5,\"inactive_ms\":null}]},"
	    "\"events:ticket\":{\"lag\":45,\"consumers\":[\"instance-1\"],"
	    "\"group\":\"signalr-consumers\",\"lag_exact\":true,\"lag_max\":45,\"pending\":55,"
	    "\"entries_read\":1045,\"time_lag_ms\":null,\"oldest_pending_ms\":null,"
	    "\"trimmed_unread\":0,\"status\":\"healthy\",\"consumer_details\":["
	    "{\"name\":\"instance-1\",\"pending\":55,\"idle_ms\":5,\"inactive_ms\":null}]},"
	    "\"events:remote\":{\"lag\":0,\"consumers\":[\"instance-1\"],"
	    "\"group\":\"signalr-consumers\",\"lag_exact\":true,\"lag_max\":0,\"pending\":0,"
	    "\"entries_read\":1000,\"time_lag_ms\":null,\"oldest_pending_ms\":null,"
	    "\"trimmed_unread\":0,\"status\":\"healthy\",\"consumer_details\":["
	    "{\"name\":\"instance-1\",\"pending\":0,\"idle_ms\":5,\"inactive_ms\":null}]}},"
	    "\"total_lag\":168,\"stream_count\":3,\"consumer_group\":\"signalr-consumers\"}");
}

/* Sentinel: each replica's offset lag beside the answers, null for one
 * that is not up; never beside an error. */
static void
lag_replica_lag(void **state)
{
	static const char *const nodes[] = { "127.0.0.1:6380", "[::1]:6381" };
	static const long long lags[] = { 42, -1 };
	struct sl_lag_report r;

	(void)state;
	report_init(&r, "g", 0);
	r.replica_node = nodes;
	r.replica_lag = lags;
	r.nreplica_lag = 2;
	lag_is(&r, "{\"streams\":{},\"total_lag\":0,\"stream_count\":0,"
	    "\"consumer_group\":\"g\",\"replica_lag\":{\"127.0.0.1:6380\":42,"
	    "\"[::1]:6381\":null}}");
	report_init(&r, "g", 0);
	r.replica_node = nodes;
	r.replica_lag = lags;
	r.nreplica_lag = 2;
	r.error = strdup("Cannot connect to Redis");
	assert_non_null(r.error);
	lag_is(&r, "{\"streams\":{},\"total_lag\":0,\"stream_count\":0,"
	    "\"consumer_group\":\"g\",\"error\":\"Cannot connect to Redis\","
	    "\"code\":\"redis_unavailable\"}");
	report_init(&r, "g", 0);
	r.total_lag = LLONG_MAX;
	r.total_saturated = 1;
	lag_is(&r, "{\"streams\":{},\"total_lag\":9223372036854775807,"
	    "\"total_lag_saturated\":true,\"stream_count\":0,"
	    "\"consumer_group\":\"g\"}");
}

static void
lag_optional_fields(void **state)
{
	struct sl_lag_report r;

	(void)state;
	report_init(&r, "g", 1);
	group_entry(&r.entries[0], "s", 7, one, 1, 3, SL_STATUS_STALLED);
	r.entries[0].group.has_entries_read = 0;	/* Redis gave nil */
	r.entries[0].lag_exact = 0;			/* a lower bound */
	r.entries[0].has_lag_max = 1;			/* and an upper one */
	r.entries[0].lag_max = 19;
	r.entries[0].consumers[0].has_inactive = 1;
	r.entries[0].consumers[0].inactive_ms = 60000;
	r.total_lag = 7;
	r.stream_count = 1;
	lag_is(&r, "{\"streams\":{\"s\":{\"lag\":7,\"consumers\":[\"instance-1\"],"
	    "\"group\":\"signalr-consumers\",\"lag_exact\":false,\"lag_max\":19,\"pending\":3,"
	    "\"entries_read\":null,\"time_lag_ms\":null,\"oldest_pending_ms\":null,"
	    "\"trimmed_unread\":0,\"status\":\"stalled\",\"consumer_details\":["
	    "{\"name\":\"instance-1\",\"pending\":3,\"idle_ms\":5,"
	    "\"inactive_ms\":60000}]}},"
	    "\"total_lag\":7,\"stream_count\":1,\"consumer_group\":\"g\"}");

	/* A group with no consumers: empty arrays, not nulls. */
	report_init(&r, "g", 1);
	group_entry(&r.entries[0], "s", 2, NULL, 0, 0, SL_STATUS_STALLED);
	lag_is(&r, "{\"streams\":{\"s\":{\"lag\":2,\"consumers\":[],"
	    "\"group\":\"signalr-consumers\",\"lag_exact\":true,\"lag_max\":2,\"pending\":0,"
	    "\"entries_read\":1002,\"time_lag_ms\":null,\"oldest_pending_ms\":null,"
	    "\"trimmed_unread\":0,\"status\":\"stalled\",\"consumer_details\":[]}},"
	    "\"total_lag\":0,\"stream_count\":0,\"consumer_group\":\"g\"}");
}

static void
lag_error_entry(void **state)
{
	struct sl_lag_report r;

	(void)state;
	report_init(&r, "signalr-consumers", 3);
	group_entry(&r.entries[0], "events:chat", 5, one, 1, 0, SL_STATUS_HEALTHY);
	error_entry(&r.entries[1], "events:ticket", "no such key");
	/* Failed after the group was found: its own name is reported. */
	error_entry(&r.entries[2], "events:remote", "lag unknown to Redis");
	r.entries[2].has_group = 1;
	set_name(&r.entries[2].group.name, "other");
	r.total_lag = 5;
	r.stream_count = 1;
	lag_is(&r, "{\"streams\":{"
	    "\"events:chat\":{\"lag\":5,\"consumers\":[\"instance-1\"],"
	    "\"group\":\"signalr-consumers\",\"lag_exact\":true,\"lag_max\":5,\"pending\":0,"
	    "\"entries_read\":1005,\"time_lag_ms\":null,\"oldest_pending_ms\":null,"
	    "\"trimmed_unread\":0,\"status\":\"healthy\",\"consumer_details\":["
	    "{\"name\":\"instance-1\",\"pending\":0,\"idle_ms\":5,\"inactive_ms\":null}]},"
	    "\"events:ticket\":{\"lag\":-1,\"consumers\":[],"
	    "\"error\":\"no such key\",\"group\":\"signalr-consumers\","
	    "\"status\":\"error\"},"
	    "\"events:remote\":{\"lag\":-1,\"consumers\":[],"
	    "\"error\":\"lag unknown to Redis\",\"group\":\"other\","
	    "\"status\":\"error\"}},"
	    "\"total_lag\":5,\"stream_count\":1,\"consumer_group\":\"signalr-consumers\"}");
}

static void
lag_no_group(void **state)
{
	struct sl_lag_report r;

	(void)state;
	report_init(&r, "signalr-consumers", 1);
	no_group_entry(&r.entries[0], "events:remote");
	/* Whatever the entry carries, NOGROUP renders as the seed's 0. */
	r.entries[0].lag = 99;
	r.entries[0].lag_exact = 0;
	r.stream_count = 1;
	lag_is(&r, "{\"streams\":{\"events:remote\":{\"lag\":0,\"consumers\":[],"
	    "\"group\":\"signalr-consumers\",\"lag_exact\":true,\"pending\":0,"
	    "\"status\":\"no_group\"}},"
	    "\"total_lag\":0,\"stream_count\":1,\"consumer_group\":\"signalr-consumers\"}");
}

static void
lag_redis_down(void **state)
{
	static const char *names[] = { "events:chat", "events:ticket",
	    "events:remote" };
	struct sl_lag_report r;

	(void)state;
	report_init(&r, "signalr-consumers", 3);
	for (size_t i = 0; i < 3; i++)
		error_entry(&r.entries[i], names[i], "Cannot connect to Redis");
	r.error = strdup("Cannot connect to Redis");
	lag_is(&r, "{\"streams\":{"
	    "\"events:chat\":{\"lag\":-1,\"consumers\":[],"
	    "\"error\":\"Cannot connect to Redis\",\"group\":\"signalr-consumers\","
	    "\"status\":\"error\"},"
	    "\"events:ticket\":{\"lag\":-1,\"consumers\":[],"
	    "\"error\":\"Cannot connect to Redis\",\"group\":\"signalr-consumers\","
	    "\"status\":\"error\"},"
	    "\"events:remote\":{\"lag\":-1,\"consumers\":[],"
	    "\"error\":\"Cannot connect to Redis\",\"group\":\"signalr-consumers\","
	    "\"status\":\"error\"}},"
	    "\"total_lag\":0,\"stream_count\":0,\"consumer_group\":\"signalr-consumers\","
	    "\"error\":\"Cannot connect to Redis\",\"code\":\"redis_unavailable\"}");

	/* No streams at all still gives the full shape. */
	report_init(&r, "g", 0);
	r.error = strdup("Cannot connect to Redis");
	lag_is(&r, "{\"streams\":{},\"total_lag\":0,\"stream_count\":0,"
	    "\"consumer_group\":\"g\",\"error\":\"Cannot connect to Redis\","
	    "\"code\":\"redis_unavailable\"}");
}

static void
lag_hostile_names(void **state)
{
	struct sl_lag_report	 r;
	json_object		*j, *streams, *e, *c;
	char			*s;

	(void)state;
	report_init(&r, "g/\"1\"", 2);
	group_entry(&r.entries[0], "a\"b\nc\xff", 1, one, 1, 0,
	    SL_STATUS_HEALTHY);
	/* A NUL in a consumer name (a value) is kept and escaped... */
	assert_int_equal(sl_bytes_set(&r.entries[0].consumers[0].name,
	    "c\0\x01/\t", 5), 0);
	/* ...in a stream name (a key, a C string to json-c) it is replaced. */
	no_group_entry(&r.entries[1], "");
	assert_int_equal(sl_bytes_set(&r.entries[1].stream, "k\0z", 3), 0);
	s = sl_render_lag(&r);
	assert_non_null(s);
	assert_string_equal(s, "{\"streams\":{"
	    "\"a\\\"b\\nc" R "\":{\"lag\":1,\"consumers\":[\"c\\u0000\\u0001/\\t\"],"
	    "\"group\":\"signalr-consumers\",\"lag_exact\":true,\"lag_max\":1,\"pending\":0,"
	    "\"entries_read\":1001,\"time_lag_ms\":null,\"oldest_pending_ms\":null,"
	    "\"trimmed_unread\":0,\"status\":\"healthy\",\"consumer_details\":["
	    "{\"name\":\"c\\u0000\\u0001/\\t\",\"pending\":0,\"idle_ms\":5,"
	    "\"inactive_ms\":null}]},"
	    "\"k" R "z\":{\"lag\":0,\"consumers\":[],\"group\":\"g/\\\"1\\\"\","
	    "\"lag_exact\":true,\"pending\":0,\"status\":\"no_group\"}},"
	    "\"total_lag\":0,\"stream_count\":0,\"consumer_group\":\"g/\\\"1\\\"\"}");

	/* It parses back to the sanitized names. */
	j = json_tokener_parse(s);
	assert_non_null(j);
	assert_true(json_object_object_get_ex(j, "streams", &streams));
	assert_true(json_object_object_get_ex(streams, "a\"b\nc" R, &e));
	assert_true(json_object_object_get_ex(e, "consumers", &c));
	c = json_object_array_get_idx(c, 0);
	assert_int_equal(json_object_get_string_len(c), 5);
	assert_memory_equal(json_object_get_string(c), "c\0\x01/\t", 5);
	assert_true(json_object_object_get_ex(streams, "k" R "z", NULL));
	json_object_put(j);
	free(s);
	sl_lag_report_free(&r);
}

static void
lag_colliding_names(void **state)
{
	struct sl_lag_report	 r;
	json_object		*j, *streams, *e, *lag;
	char			*s;
	/* Four names, one key: the first keeps it, the others get a
	 * suffix, skipping one that a real stream already holds. */
	static const struct { const char *name; const char *key; } want[] = {
		{ .name = "x\xFE", .key = "x" R },
		{ .name = "x" R R "#2", .key = "x" R R "#2" },
		{ .name = "x\xFF", .key = "x" R R "#3" },
		{ .name = "x\x80", .key = "x" R R "#4" },
	};

	(void)state;
	report_init(&r, "g", 4);
	for (size_t i = 0; i < 4; i++)
		group_entry(&r.entries[i], want[i].name, (long long)i, NULL, 0,
		    0, SL_STATUS_HEALTHY);
	s = sl_render_lag(&r);
	assert_non_null(s);
	j = json_tokener_parse(s);
	assert_non_null(j);
	assert_true(json_object_object_get_ex(j, "streams", &streams));
	assert_int_equal(json_object_object_length(streams), 4);
	for (size_t i = 0; i < 4; i++) {
		assert_true(json_object_object_get_ex(streams, want[i].key, &e));
		assert_true(json_object_object_get_ex(e, "lag", &lag));
		assert_int_equal(json_object_get_int64(lag), (long long)i);
	}
	json_object_put(j);
	/* In the order given. */
	assert_non_null(strstr(s, "{\"streams\":{\"x" R "\":{\"lag\":0,"));
	assert_non_null(strstr(s, "\"x" R R "#4\":{\"lag\":3,"));
	free(s);
	sl_lag_report_free(&r);
}

static void
health(void **state)
{
	struct sl_health	 h = { .healthy = 2, .degraded = 1,
	    .max_lag = 123, .total_lag = 168, .status = SL_STATUS_DEGRADED };
	struct sl_render_opts	 o = { .transport_redis_streams = 1,
	    .consumer_group = "signalr-consumers" };
	char			*s;

	(void)state;
	s = sl_render_health(&h, &o);
	assert_string_equal(s, "{\"status\":\"degraded\",\"redis_connected\":true,"
	    "\"transport_mode\":\"redis_streams\",\"streams\":{\"healthy\":2,"
	    "\"degraded\":1,\"unhealthy\":0,\"stalled\":0,\"no_group\":0},"
	    "\"max_lag\":123,\"total_lag\":168,\"consumer_group\":"
	    "\"signalr-consumers\"}");
	free(s);

	h = (struct sl_health){ .healthy = 3, .max_lag = 45, .total_lag = 45,
	    .status = SL_STATUS_HEALTHY };
	o.transport_redis_streams = 0;
	s = sl_render_health(&h, &o);
	assert_string_equal(s, "{\"status\":\"healthy\",\"redis_connected\":true,"
	    "\"transport_mode\":\"http\",\"streams\":{\"healthy\":3,"
	    "\"degraded\":0,\"unhealthy\":0,\"stalled\":0,\"no_group\":0},"
	    "\"max_lag\":45,\"total_lag\":45,\"consumer_group\":"
	    "\"signalr-consumers\"}");
	free(s);

	/* A total past 2^63 - 1 says so beside the figure it stopped at. */
	h = (struct sl_health){ .unhealthy = 2, .max_lag = LLONG_MAX - 1,
	    .total_lag = LLONG_MAX, .total_saturated = 1,
	    .status = SL_STATUS_UNHEALTHY };
	s = sl_render_health(&h, &o);
	assert_string_equal(s, "{\"status\":\"unhealthy\",\"redis_connected\":true,"
	    "\"transport_mode\":\"http\",\"streams\":{\"healthy\":0,"
	    "\"degraded\":0,\"unhealthy\":2,\"stalled\":0,\"no_group\":0},"
	    "\"max_lag\":9223372036854775806,\"total_lag\":9223372036854775807,"
	    "\"total_lag_saturated\":true,\"consumer_group\":"
	    "\"signalr-consumers\"}");
	free(s);

	h = (struct sl_health){ .unhealthy = 1, .stalled = 1, .no_group = 1,
	    .max_lag = 5000, .total_lag = 5000, .status = SL_STATUS_UNHEALTHY };
	s = sl_render_health(&h, &o);
	assert_string_equal(s, "{\"status\":\"unhealthy\",\"redis_connected\":true,"
	    "\"transport_mode\":\"http\",\"streams\":{\"healthy\":0,"
	    "\"degraded\":0,\"unhealthy\":1,\"stalled\":1,\"no_group\":1},"
	    "\"max_lag\":5000,\"total_lag\":5000,\"consumer_group\":"
	    "\"signalr-consumers\"}");
	free(s);

	/* A master down: partial, and the nodes named. */
	h.partial = 1;
	h.errors[0] = "redis 10.0.0.12:6379: Connection refused";
	h.nerrors = 1;
	s = sl_render_health(&h, &o);
	assert_string_equal(s, "{\"status\":\"unhealthy\",\"redis_connected\":true,"
	    "\"transport_mode\":\"http\",\"streams\":{\"healthy\":0,"
	    "\"degraded\":0,\"unhealthy\":1,\"stalled\":1,\"no_group\":1},"
	    "\"max_lag\":5000,\"total_lag\":5000,\"consumer_group\":"
	    "\"signalr-consumers\",\"partial\":true,\"errors\":"
	    "[\"redis 10.0.0.12:6379: Connection refused\"]}");
	free(s);

	s = sl_render_health_down("Cannot connect to Redis");
	assert_string_equal(s, "{\"status\":\"unhealthy\",\"redis_connected\":false,"
	    "\"error\":\"Cannot connect to Redis\",\"code\":\"redis_unavailable\"}");
	free(s);
}

static void
error_body(void **state)
{
	char *s;

	(void)state;
	s = sl_render_error("not_found", "No such endpoint");
	assert_string_equal(s, "{\"error\":\"No such endpoint\",\"code\":\"not_found\"}");
	free(s);
	/* Quotes escaped, slashes not, bad bytes replaced. */
	s = sl_render_error("bad_query", "stream: \"a/b\xff\" is unknown");
	assert_string_equal(s, "{\"error\":\"stream: \\\"a/b" R "\\\" is unknown\","
	    "\"code\":\"bad_query\"}");
	free(s);
}

static void
streams_body(void **state)
{
	struct sl_streams_report	 r;
	struct sl_stream_info		*si;
	char				*s;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.n = 3;
	r.entries = calloc(3, sizeof(*r.entries));
	assert_non_null(r.entries);

	set_name(&r.entries[0].name, "events:chat");
	si = &r.entries[0].info;
	si->length = 2;
	si->groups = 2;
	snprintf(si->first_entry_id, SL_ID_MAX, "%s", "1700000000000-0");
	snprintf(si->last_entry_id, SL_ID_MAX, "%s", "1700000000001-0");
	snprintf(si->last_generated_id, SL_ID_MAX, "%s", "1700000000001-0");
	snprintf(si->max_deleted_entry_id, SL_ID_MAX, "%s", "0-0");
	snprintf(si->recorded_first_entry_id, SL_ID_MAX, "%s", "1700000000000-0");
	si->entries_added = 2;
	si->has_entries_added = 1;
	r.entries[0].last_entry_age_ms = 1500;
	r.entries[0].ngroup_names = 2;
	r.entries[0].group_names = calloc(2, sizeof(struct sl_bytes));
	assert_non_null(r.entries[0].group_names);
	set_name(&r.entries[0].group_names[0], "signalr-consumers");
	set_name(&r.entries[0].group_names[1], "audit\xff");

	/* Empty, from a Redis older than 7.0: every optional field null. */
	set_name(&r.entries[1].name, "events:empty");
	si = &r.entries[1].info;
	snprintf(si->last_generated_id, SL_ID_MAX, "%s", "0-0");
	r.entries[1].last_entry_age_ms = -1;

	set_name(&r.entries[2].name, "events:gone");
	r.entries[2].error = strdup("no such key");
	/* Ignored here: the router answers it with sl_render_error. */
	r.error = strdup("Cannot connect to Redis");

	s = sl_render_streams(&r);
	assert_string_equal(s, "{\"streams\":["
	    "{\"name\":\"events:chat\",\"length\":2,\"groups\":2,"
	    "\"first_entry_id\":\"1700000000000-0\","
	    "\"last_entry_id\":\"1700000000001-0\","
	    "\"last_generated_id\":\"1700000000001-0\",\"entries_added\":2,"
	    "\"max_deleted_entry_id\":\"0-0\","
	    "\"recorded_first_entry_id\":\"1700000000000-0\","
	    "\"last_entry_age_ms\":1500,"
	    "\"group_names\":[\"signalr-consumers\",\"audit" R "\"]},"
	    "{\"name\":\"events:empty\",\"length\":0,\"groups\":0,"
	    "\"first_entry_id\":null,\"last_entry_id\":null,"
	    "\"last_generated_id\":\"0-0\",\"entries_added\":null,"
	    "\"max_deleted_entry_id\":null,\"recorded_first_entry_id\":null,"
	    "\"last_entry_age_ms\":null,\"group_names\":[]},"
	    "{\"name\":\"events:gone\",\"length\":0,\"groups\":0,"
	    "\"error\":\"no such key\"}]}");
	free(s);
	sl_streams_report_free(&r);
	sl_streams_report_free(&r);	/* zeroed: harmless */

	s = sl_render_streams(&r);
	assert_string_equal(s, "{\"streams\":[]}");
	free(s);
}

/* ?group=*: a stream holds each of its groups; its lag is the largest. */
static void
lag_all_groups(void **state)
{
	const char *c1[] = { "instance-1" }, *c2[] = { "instance-1", "worker" };
	struct sl_lag_report r;

	(void)state;
	report_init(&r, NULL, 4);
	r.all_groups = 1;
	r.truncated = 1;
	group_entry(&r.entries[0], "events:chat", 123, c1, 1, 4,
	    SL_STATUS_DEGRADED);
	group_entry(&r.entries[1], "events:chat", 7, c2, 2, 0,
	    SL_STATUS_HEALTHY);
	set_name(&r.entries[1].group.name, "audit");
	r.entries[1].has_time_lag = 1;
	r.entries[1].time_lag_ms = 2500;
	r.entries[1].has_oldest_pending = 1;
	r.entries[1].oldest_pending_ms = 900;
	r.entries[1].trimmed_unread = 40;
	r.entries[1].has_trim_risk = 1;
	no_group_entry(&r.entries[2], "events:quiet");
	error_entry(&r.entries[3], "events:gone", "no such key");
	r.total_lag = 130;
	r.stream_count = 2;
	lag_is(&r, "{\"streams\":{"
	    "\"events:chat\":{\"lag\":123,\"consumers\":[\"instance-1\",\"worker\"],"
	    "\"status\":\"degraded\",\"groups\":{"
	    "\"signalr-consumers\":{\"lag\":123,\"consumers\":[\"instance-1\"],"
	    "\"group\":\"signalr-consumers\",\"lag_exact\":true,\"lag_max\":123,\"pending\":4,"
	    "\"entries_read\":1123,\"time_lag_ms\":null,\"oldest_pending_ms\":null,"
	    "\"trimmed_unread\":0,\"status\":\"degraded\",\"consumer_details\":["
	    "{\"name\":\"instance-1\",\"pending\":4,\"idle_ms\":5,\"inactive_ms\":null}]},"
	    "\"audit\":{\"lag\":7,\"consumers\":[\"instance-1\",\"worker\"],"
	    "\"group\":\"audit\",\"lag_exact\":true,\"lag_max\":7,\"pending\":0,"
	    "\"entries_read\":1007,\"time_lag_ms\":2500,\"oldest_pending_ms\":900,"
	    "\"trimmed_unread\":40,\"trim_risk\":false,\"status\":\"healthy\","
	    "\"consumer_details\":["
	    "{\"name\":\"instance-1\",\"pending\":0,\"idle_ms\":5,\"inactive_ms\":null},"
	    "{\"name\":\"worker\",\"pending\":0,\"idle_ms\":5,\"inactive_ms\":null}]}}},"
	    "\"events:quiet\":{\"lag\":0,\"consumers\":[],\"lag_exact\":true,"
	    "\"pending\":0,\"status\":\"no_group\",\"groups\":{}},"
	    "\"events:gone\":{\"lag\":-1,\"consumers\":[],\"error\":\"no such key\","
	    "\"status\":\"error\",\"groups\":{}}},"
	    "\"total_lag\":130,\"stream_count\":2,\"consumer_group\":\"*\","
	    "\"truncated\":true}");
	sl_lag_report_free(&r);
}

/* Every allocation of the renderer fails in turn (names made into keys,
 * colliding keys, the buffer): NULL each time, the whole answer once
 * they all succeed.  ASan and valgrind see no leak on the way. */
static void
lag_out_of_memory(void **state)
{
	struct sl_lag_report	 r;
	char			*want, *s;
	long			 n;

	(void)state;
	report_init(&r, "g", 4);
	group_entry(&r.entries[0], "x\xFE", 1, NULL, 0, 0, SL_STATUS_HEALTHY);
	group_entry(&r.entries[1], "x\xFF", 2, NULL, 0, 0, SL_STATUS_HEALTHY);
	group_entry(&r.entries[2], "y\x80", 3, NULL, 0, 0, SL_STATUS_HEALTHY);
	group_entry(&r.entries[3], "plain", 4, NULL, 0, 0, SL_STATUS_HEALTHY);
	want = sl_render_lag(&r);
	assert_non_null(want);
	for (n = 0; ; n++) {
		sl_alloc_fail_after(n);
		s = sl_render_lag(&r);
		sl_alloc_reset();
		if (s != NULL)
			break;
	}
	assert_true(n >= 5);	/* the buffer, keys, a set, a suffix */
	assert_string_equal(s, want);
	free(s);
	free(want);
	sl_lag_report_free(&r);
}

struct chunks {
	char	*text;
	size_t	 len;
	int	 calls, fail_on;
};

static int
chunk_sink(void *arg, const char *p, size_t n)
{
	struct chunks *c = arg;

	if (++c->calls == c->fail_on)
		return -1;
	c->text = realloc(c->text, c->len + n + 1);
	assert_non_null(c->text);
	memcpy(c->text + c->len, p, n);
	c->len += n;
	c->text[c->len] = '\0';
	return 0;
}

/* Through a sink, in pieces of the threshold: the same bytes as whole;
 * a sink that fails ends the rendering with SL_ESYS. */
static void
lag_streamed(void **state)
{
	struct sl_lag_report	 r;
	struct sl_out		 out;
	struct chunks		 c;
	char			*want, name[32];

	(void)state;
	report_init(&r, "g", 300);
	for (size_t i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "stream:%zu", i);
		group_entry(&r.entries[i], name, (long long)i, NULL, 0, 0,
		    SL_STATUS_HEALTHY);
	}
	want = sl_render_lag(&r);
	assert_non_null(want);
	memset(&c, 0, sizeof(c));
	sl_out_init(&out);
	sl_out_set_sink(&out, chunk_sink, &c, 1024);
	assert_int_equal(sl_render_lag_out(&r, &out), SL_OK);
	assert_int_equal(sl_out_flush(&out), SL_OK);
	sl_out_free(&out);
	assert_true(c.calls > 20);
	assert_string_equal(c.text, want);
	free(c.text);
	memset(&c, 0, sizeof(c));
	c.fail_on = 3;
	sl_out_init(&out);
	sl_out_set_sink(&out, chunk_sink, &c, 1024);
	assert_int_equal(sl_render_lag_out(&r, &out), SL_ESYS);
	assert_int_equal(c.calls, 3);
	sl_out_free(&out);
	free(c.text);
	free(want);
	sl_lag_report_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lag_seed_example),
		cmocka_unit_test(lag_replica_lag),
		cmocka_unit_test(lag_optional_fields),
		cmocka_unit_test(lag_error_entry),
		cmocka_unit_test(lag_no_group),
		cmocka_unit_test(lag_redis_down),
		cmocka_unit_test(lag_hostile_names),
		cmocka_unit_test(lag_colliding_names),
		cmocka_unit_test(health),
		cmocka_unit_test(error_body),
		cmocka_unit_test(streams_body),
		cmocka_unit_test(lag_all_groups),
		cmocka_unit_test(lag_out_of_memory),
		cmocka_unit_test(lag_streamed),
	};
	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
