/* SPDX-License-Identifier: ISC */
/* /api/v1/events/history without a socket: the query's parameters at their
 * limits and one past, the answer from a history filled here, the fields
 * consumer-lag gets, and allocation failures turned into SL_ENOMEM. */
#include <stdio.h>

#include <json-c/json.h>

#include "sl_test.h"
#include "streamlag/alloc.h"
#include "streamlag/history_api.h"

static struct sl_config cfg;

static enum sl_err
parse(const char *query, struct sl_history_query *q, struct sl_error *why)
{
	struct sl_query_param *p = NULL;
	size_t np = 0;
	enum sl_err rc;
	static char keep[256], keepg[256];

	rc = sl_history_query_parse(query, &cfg, q, &p, &np, why);
	/* q points into p: keep the names for the caller. */
	if (rc == SL_OK) {
		snprintf(keep, sizeof(keep), "%.*s", (int)q->slen, q->stream);
		q->stream = keep;
		snprintf(keepg, sizeof(keepg), "%.*s", (int)q->glen, q->group);
		q->group = keepg;
	}
	sl_query_free(p, np);
	return rc;
}

static void
query_limits(void **state)
{
	struct sl_history_query q;
	struct sl_error why;

	(void)state;
	assert_int_equal(parse("stream=s", &q, &why), SL_OK);
	assert_string_equal(q.stream, "s");
	assert_memory_equal(q.group, "signalr-consumers", q.glen);
	assert_int_equal(q.window_s, 60);
	assert_int_equal(q.limit, SL_HISTORY_ANSWER_MAX);
	assert_int_equal(parse("stream=s&window=2&limit=10000&since=0", &q,
	    &why), SL_OK);
	assert_int_equal(parse("stream=s&window=604800&limit=1", &q, &why),
	    SL_OK);
	assert_int_equal(q.limit, 1);
	assert_int_equal(parse("stream=s&window=1", &q, &why), SL_EINPUT);
	assert_string_equal(why.str, "window: expected an integer from 2 to "
	    "604800");
	assert_int_equal(parse("stream=s&window=604801", &q, &why), SL_EINPUT);
	assert_int_equal(parse("stream=s&limit=0", &q, &why), SL_EINPUT);
	assert_int_equal(parse("stream=s&limit=10001", &q, &why), SL_EINPUT);
	assert_int_equal(parse("stream=s&since=-1", &q, &why), SL_EINPUT);
	assert_int_equal(parse("stream=s&since=1x", &q, &why), SL_EINPUT);
	assert_int_equal(parse("group=g", &q, &why), SL_EINPUT);
	assert_string_equal(why.str, "stream: required");
	assert_int_equal(parse("stream=", &q, &why), SL_EINPUT);
	assert_int_equal(parse("stream=a&stream=b", &q, &why), SL_EINPUT);
	assert_int_equal(parse("stream=a&x=1", &q, &why), SL_EINPUT);
	assert_string_equal(why.str, "unknown query parameter \"x\"");
	/* ?target=: the configured ones only (here "default", any case). */
	assert_int_equal(parse("stream=a&target=DEFAULT", &q, &why), SL_OK);
	assert_string_equal(q.target, "default");
	assert_int_equal(parse("stream=a&target=beta", &q, &why), SL_EINPUT);
	assert_string_equal(why.str,
	    "target: \"beta\" is not a configured target");
}

static void
fill(struct sl_history *h, const char *s, const char *g, int n)
{
	for (int i = 0; i < n; i++) {
		struct sl_sample x = { 1000000 + i * 1000LL, 100 + 10LL * i,
		    20LL * i, 100 - 10LL * i, 5000000 + i, 3, 1, 0 };

		assert_int_equal(sl_history_add(h, "default", s, strlen(s), g,
		    strlen(g), &x, 0), 1);
	}
}

static void
render(void **state)
{
	struct sl_error why;
	struct sl_history *h = sl_history_create(4, 16, &why);
	struct sl_history_query q;
	struct json_object *o, *v;
	char *body;

	(void)state;
	fill(h, "s", "g", 6);
	assert_int_equal(parse("stream=s&group=g&since=1002000", &q, &why),
	    SL_OK);
	body = sl_history_render(h, &cfg, &q);
	assert_non_null(body);
	o = json_tokener_parse(body);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "samples", &v));
	assert_int_equal(json_object_array_length(v), 4);	/* since */
	assert_true(json_object_object_get_ex(o, "tracked", &v));
	assert_true(json_object_get_boolean(v));
	/* The window's rates, whatever since said: 10/s produced, 20/s read. */
	assert_true(json_object_object_get_ex(o, "produce_rate", &v));
	assert_true(json_object_get_double(v) == 10.0);
	assert_true(json_object_object_get_ex(o, "consume_rate", &v));
	assert_true(json_object_get_double(v) == 20.0);
	assert_true(json_object_object_get_ex(o, "trend", &v));
	assert_string_equal(json_object_get_string(v), "shrinking");
	assert_true(json_object_object_get_ex(o, "pel", &v));
	assert_null(v);
	json_object_put(o);
	free(body);
	/* Unknown group: tracked false, no samples. */
	assert_int_equal(parse("stream=s&group=nope", &q, &why), SL_OK);
	body = sl_history_render(h, &cfg, &q);
	assert_non_null(strstr(body, "\"samples\":[]"));
	assert_non_null(strstr(body, "\"tracked\":false"));
	free(body);
	/* No history at all (the sampler off). */
	body = sl_history_render(NULL, &cfg, &q);
	assert_non_null(strstr(body, "\"sample_ms\":0"));
	free(body);
	sl_history_destroy(h);
}

static void
consumer_lag_fields(void **state)
{
	struct sl_error why;
	struct sl_history *h = sl_history_create(4, 16, &why);
	struct sl_lag_entry e[2];
	struct sl_lag_report rep;
	struct sl_group_insight *gi;
	struct sl_pel_report pr;
	struct sl_jw w;
	char *out;
	long total;

	(void)state;
	fill(h, "s", "g", 6);
	memset(&pr, 0, sizeof(pr));
	pr.poison = 1;
	pr.npoison_ids = 1;
	strcpy(pr.poison_ids[0], "1-1");
	pr.dangling = -1;
	pr.dead_consumers = 2;
	assert_int_equal(sl_history_set_pel(h, "default", "s", 1, "g", 1, &pr), 1);
	memset(e, 0, sizeof(e));
	memset(&rep, 0, sizeof(rep));
	e[0].stream.p = (char *)"s"; e[0].stream.len = 1;
	e[0].group.name.p = (char *)"g"; e[0].group.name.len = 1;
	e[0].has_group = 1;
	e[1] = e[0];
	e[1].has_group = 0;	/* NOGROUP: nothing attached */
	rep.entries = e;
	rep.n = 2;
	assert_int_equal(sl_history_insight_attach(h, &cfg, "default",
	    &rep, &gi), SL_OK);
	assert_non_null(e[0].insight);
	assert_null(e[1].insight);
	/* Without ?detail=pel: no pel. */
	sl_jw_init(&w);
	sl_jw_obj(&w);
	sl_history_insight_jw(&w, e[0].insight);
	sl_jw_obj_end(&w);
	out = sl_jw_finish(&w, NULL);
	assert_string_equal(out, "{\"produce_rate\":10.000,\"consume_rate\":"
	    "20.000,\"eta_s\":5.000,\"catching_up\":true,\"trend\":\"shrinking\","
	    "\"verdict\":\"ok\"}");
	free(out);
	gi[0].show_pel = 1;
	sl_jw_init(&w);
	sl_jw_obj(&w);
	sl_history_insight_jw(&w, e[0].insight);
	sl_jw_obj_end(&w);
	out = sl_jw_finish(&w, NULL);
	assert_string_equal(out, "{\"produce_rate\":10.000,\"consume_rate\":"
	    "20.000,\"eta_s\":5.000,\"catching_up\":true,\"trend\":\"shrinking\","
	    "\"verdict\":\"ok\",\"pel\":{\"scanned\":0,\"truncated\":false,"
	    "\"max_deliveries\":0,\"poison_entries\":1,\"poison_ids\":[\"1-1\"],"
	    "\"claimable_entries\":0,\"unowned_entries\":0,\"dangling_entries\":"
	    "null,\"dead_consumers\":2}}");
	free(out);
	sl_history_insight_detach(&rep, gi);
	assert_null(e[0].insight);
	/* Out of memory at each allocation (the insights, the samples, the
	 * poison ids): SL_ENOMEM, nothing attached. */
	sl_alloc_reset();
	assert_int_equal(sl_history_insight_attach(h, &cfg, "default", &rep,
	    &gi), SL_OK);
	total = sl_alloc_count();
	assert_int_equal(total, 3);
	sl_history_insight_detach(&rep, gi);
	for (long k = 0; k < total; k++) {
		sl_alloc_fail_after(k);
		assert_int_equal(sl_history_insight_attach(h, &cfg, "default",
		    &rep, &gi), SL_ENOMEM);
		sl_alloc_reset();
		assert_null(gi);
		assert_null(e[0].insight);
	}
	/* No history: nothing attached, nothing allocated. */
	assert_int_equal(sl_history_insight_attach(NULL, &cfg, NULL, &rep, &gi), SL_OK);
	assert_null(gi);
	sl_history_destroy(h);
}

/* The insight of one group as consumer-lag writes it with ?detail=pel. */
static char *
pel_text(const struct sl_group_insight *gi)
{
	struct sl_jw w;

	sl_jw_init(&w);
	sl_jw_obj(&w);
	sl_history_insight_jw(&w, gi);
	sl_jw_obj_end(&w);
	return sl_jw_finish(&w, NULL);
}

/*
 * One insight per consumer-lag entry, 100 000 entries in an answer: it
 * stays small, its poison ids out of line and only when there are some,
 * all SL_PEL_IDS_LISTED of them written as before, freed with it.
 */
static void
insight_kept_small(void **state)
{
	struct sl_error why;
	struct sl_history *h = sl_history_create(4, 16, &why);
	struct sl_lag_entry e[2];
	struct sl_lag_report rep;
	struct sl_group_insight *gi, one;
	struct sl_pel_report pr;
	struct sl_history_query q;
	char *out, *body;
	long total;

	(void)state;
	assert_true(sizeof(struct sl_group_insight) <= 200);
	fill(h, "s", "g", 6);
	fill(h, "s", "clean", 6);
	memset(&pr, 0, sizeof(pr));
	pr.scanned = pr.poison = 12;
	pr.npoison_ids = SL_PEL_IDS_LISTED;
	for (int i = 0; i < SL_PEL_IDS_LISTED; i++)
		snprintf(pr.poison_ids[i], SL_ID_MAX, "100-%d", i);
	pr.max_deliveries = 9;
	assert_int_equal(sl_history_set_pel(h, "default", "s", 1, "g", 1, &pr),
	    1);
	memset(&pr, 0, sizeof(pr));
	pr.scanned = 3;
	pr.truncated = 1;
	pr.max_deliveries = 1;
	pr.claimable = 2;
	pr.unowned = 1;
	pr.dangling = 1;
	pr.dead_consumers = -1;
	assert_int_equal(sl_history_set_pel(h, "default", "s", 1, "clean", 5,
	    &pr), 1);
	memset(e, 0, sizeof(e));
	memset(&rep, 0, sizeof(rep));
	e[0].stream.p = (char *)"s"; e[0].stream.len = 1;
	e[0].group.name.p = (char *)"g"; e[0].group.name.len = 1;
	e[0].has_group = 1;
	e[1] = e[0];
	e[1].group.name.p = (char *)"clean"; e[1].group.name.len = 5;
	rep.entries = e;
	rep.n = 2;
	sl_alloc_reset();
	assert_int_equal(sl_history_insight_attach(h, &cfg, "default", &rep,
	    &gi), SL_OK);
	total = sl_alloc_count();
	/* The insights, one window of samples read for every group in
	 * turn, one list of poison ids. */
	assert_int_equal(total, 1 + 1 + 1);
	assert_int_equal(gi[0].has_pel, 1);
	assert_int_equal(gi[0].pel.npoison_ids, SL_PEL_IDS_LISTED);
	assert_non_null(gi[0].pel.poison_ids);
	assert_int_equal(gi[1].has_pel, 1);
	assert_int_equal(gi[1].pel.npoison_ids, 0);
	assert_null(gi[1].pel.poison_ids);
	gi[0].show_pel = gi[1].show_pel = 1;
	out = pel_text(&gi[0]);
	assert_non_null(strstr(out, "\"pel\":{\"scanned\":12,\"truncated\":"
	    "false,\"max_deliveries\":9,\"poison_entries\":12,\"poison_ids\":"
	    "[\"100-0\",\"100-1\",\"100-2\",\"100-3\",\"100-4\",\"100-5\","
	    "\"100-6\",\"100-7\",\"100-8\",\"100-9\"],\"claimable_entries\":0,"
	    "\"unowned_entries\":0,\"dangling_entries\":0,\"dead_consumers\":0}}"));
	free(out);
	out = pel_text(&gi[1]);
	assert_non_null(strstr(out, "\"pel\":{\"scanned\":3,\"truncated\":"
	    "true,\"max_deliveries\":1,\"poison_entries\":0,\"poison_ids\":[],"
	    "\"claimable_entries\":2,\"unowned_entries\":1,\"dangling_entries\":"
	    "1,\"dead_consumers\":null}}"));
	free(out);
	sl_history_insight_detach(&rep, gi);
	/* Out of memory at each of them: SL_ENOMEM, nothing kept. */
	for (long k = 0; k < total; k++) {
		sl_alloc_fail_after(k);
		assert_int_equal(sl_history_insight_attach(h, &cfg, "default",
		    &rep, &gi), SL_ENOMEM);
		sl_alloc_reset();
		assert_null(gi);
		assert_null(e[0].insight);
		assert_null(e[1].insight);
	}
	/* One insight alone, the way /history takes it; freed, it is empty. */
	assert_int_equal(sl_history_insight(h, &cfg, "default", "s", 1, "g", 1,
	    60, &one), SL_OK);
	assert_string_equal(one.pel.poison_ids[9], "100-9");
	sl_group_insight_free(&one);
	assert_null(one.pel.poison_ids);
	assert_int_equal(one.pel.npoison_ids, 0);
	assert_int_equal(one.has_pel, 0);
	sl_alloc_fail_after(1);			/* the samples, then not the ids */
	assert_int_equal(sl_history_insight(h, &cfg, "default", "s", 1, "g", 1,
	    60, &one), SL_ENOMEM);
	sl_alloc_reset();
	assert_int_equal(one.has_pel, 0);
	assert_null(one.pel.poison_ids);
	/* /history names the same ids, and frees them. */
	assert_int_equal(parse("stream=s&group=g", &q, &why), SL_OK);
	body = sl_history_render(h, &cfg, &q);
	assert_non_null(body);
	assert_non_null(strstr(body, "\"poison_ids\":[\"100-0\",\"100-1\","));
	free(body);
	sl_history_destroy(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(query_limits),
		cmocka_unit_test(render),
		cmocka_unit_test(consumer_lag_fields),
		cmocka_unit_test(insight_kept_small),
	};

	cfg.consumer_group = (char *)"signalr-consumers";
	cfg.rate_window_s = 60;
	cfg.sample_ms = 1000;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
