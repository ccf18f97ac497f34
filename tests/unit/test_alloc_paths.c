/* SPDX-License-Identifier: ISC */
/*
 * Out of memory over the whole consumer-lag path: the batches of a request
 * are built over their plan and answered here, slot by slot, with crafted
 * replies (no socket), through facts.c and lag.c.  For every N, the Nth
 * allocation fails (sl_alloc_fail_after): the request is then SL_ENOMEM
 * with nothing kept (ASan and valgrind see no leak), or exactly the answer
 * of a run without failures; never a wrong answer, never an allocation
 * failure taken for a malformed reply.
 */
#include <stdio.h>

#include "sl_test.h"
#include "streamlag/alloc.h"
#include "streamlag/collect.h"
#include "streamlag/render.h"

#define G	"signalr-consumers"
#define NOW_S	"1800000000"

static const struct sl_thresholds T = { .degraded = 100, .unhealthy = 1000,
    .stall_ms = 60000, .count_cap = 10000 };

static redisReply *
id_entry(long long ms)
{
	char id[48];

	snprintf(id, sizeof(id), "%lld-0", ms);
	return t_arr(2, t_str(id), t_arr(2, t_str("f"), t_str("v")));
}

static redisReply *
group(const char *last, long long read, redisReply *lag, long long pending)
{
	return t_arr(12, t_str("name"), t_str(G), t_str("consumers"), t_int(1),
	    t_str("pending"), t_int(pending), t_str("last-delivered-id"),
	    t_str(last), t_str("entries-read"), t_int(read), t_str("lag"), lag);
}

static redisReply *
xinfo_stream(long long len, const char *first, const char *last,
    long long added)
{
	return t_arr(12, t_str("length"), t_int(len), t_str("groups"), t_int(1),
	    t_str("entries-added"), t_int(added), t_str("max-deleted-entry-id"),
	    t_str("0-0"), t_str("first-entry"), t_arr(2, t_str(first), t_arr(0)),
	    t_str("last-entry"), t_arr(2, t_str(last), t_arr(0)));
}

static int
is(const struct sl_plan_slot *s, const char *key)
{
	return s->key != NULL && s->keylen == strlen(key) &&
	    memcmp(s->key, key, s->keylen) == 0;
}

/*
 * The server: "chat" (Redis's lag 123, exact: XLEN is entries-read + lag,
 * nothing ever removed), "nil" (lag nil: 10 counted in one step), "trim"
 * (Redis's lag 15, 5 of them trimmed unread: XLEN 110 is not 100 + 15,
 * XINFO STREAM, 10 counted in one step), "missing" (no such key) and
 * "junk" (a malformed XINFO GROUPS reply).
 */
static redisReply *
answer(const struct sl_plan_slot *s)
{
	const long long now = 1800000000000LL;
	int chat = is(s, "chat"), trim = is(s, "trim");

	switch (s->ask) {
	case SL_ASK_INFO:
		return t_str("# Server\r\nredis_version:7.0.15\r\n");
	case SL_ASK_TIME:
		return t_arr(2, t_str(NOW_S), t_str("0"));
	case SL_ASK_STREAM:
	case SL_ASK_FACTS:
		if (chat)
			return xinfo_stream(200, "1799999990000-0",
			    "1800000000000-0", 200);
		if (is(s, "nil"))
			return xinfo_stream(20, "1800000000000-0",
			    "1800000000019-0", 20);
		if (trim)
			return xinfo_stream(110, "1799999999000-0",
			    "1800000000019-0", 115);
		return is(s, "junk") ? t_int(3) : t_err("ERR no such key");
	case SL_ASK_LENGTH:
		return t_int(chat ? 200 : 110);
	case SL_ASK_GROUPS:
		if (chat)
			return t_arr(1, group("1799999999000-0", 77, t_int(123),
			    1));
		if (is(s, "nil"))
			return t_arr(1, group("1800000000009-0", 1, t_nil(), 0));
		if (trim)
			return t_arr(1, group("1799999999500-0", 100, t_int(15),
			    0));
		return is(s, "junk") ? t_str("junk") : t_err("ERR no such key");
	case SL_ASK_CONSUMERS:
		if (!chat && !trim && !is(s, "nil"))
			return t_err("ERR no such key");
		return t_arr(1, t_arr(6, t_str("name"), t_str("c1"),
		    t_str("pending"), t_int(chat), t_str("idle"), t_int(10)));
	case SL_ASK_NEXT:
		return t_arr(1, id_entry(chat ? now - 5120 : now + 10));
	case SL_ASK_PENDING:
		return t_arr(1, t_arr(4, t_str("1799999991000-0"), t_str("c1"),
		    t_int(9000), t_int(1)));
	case SL_ASK_COUNT: {
		redisReply *r = t_arr(10, NULL, NULL, NULL, NULL, NULL, NULL,
		    NULL, NULL, NULL, NULL);

		for (size_t i = 0; i < 10; i++)
			r->element[i] = id_entry(now + 10 + (long long)i);
		return r;
	}
	}
	return t_nil();
}

/* The follow-up's XLEN and XINFO STREAM of the last request, as
 * "ask:stream:batch " words. */
static char sent[512];

static void
note(const struct sl_plan_slot *s, int batch)
{
	if ((s->ask == SL_ASK_LENGTH || s->ask == SL_ASK_FACTS) &&
	    strlen(sent) + s->keylen + 16 < sizeof(sent))
		snprintf(sent + strlen(sent), sizeof(sent) - strlen(sent),
		    "%s:%.*s:%d ", s->ask == SL_ASK_LENGTH ? "XLEN" : "XINFO",
		    (int)s->keylen, s->key, batch);
}

/* One request, every batch answered here. */
static enum sl_err
drive(struct sl_redis *r, char *const *streams, size_t n,
    const struct sl_lag_query *q, struct sl_lag_report *rep)
{
	struct sl_lag_run	 run;
	struct sl_pipeline	 p;
	enum sl_err		 rc;

	sent[0] = '\0';
	sl_pipeline_init(&p, r);
	rc = sl_lag_run_init(&run, r, streams, n, q, rep);
	while (rc == SL_OK && (rc = sl_lag_run_build(&run, &p)) == SL_OK &&
	    !run.done) {
		for (size_t i = 0; i < run.plan.n; i++) {
			note(&run.plan.slot[i], run.batch);
			sl_lag_run_reply(&run, run.plan.first + i,
			    answer(&run.plan.slot[i]));
		}
		rc = run.err;
	}
	if (rc == SL_OK)
		rc = sl_lag_run_finish(&run);
	sl_lag_run_free(&run);
	sl_pipeline_free(&p);
	if (rc != SL_OK)
		sl_lag_report_free(rep);
	return rc;
}

/* The whole answer as text: the JSON body and the streams' facts. */
static char *
text_of(const struct sl_lag_report *rep)
{
	char	*json = sl_render_lag(rep), *out;
	size_t	 len;

	assert_non_null(json);
	len = strlen(json) + 1 + rep->nsinfo * 200;
	out = calloc(1, len);
	assert_non_null(out);
	strcpy(out, json);
	for (size_t i = 0; i < rep->nsinfo; i++) {
		const struct sl_stream_brief *s = &rep->sinfo[i];

		snprintf(out + strlen(out), len - strlen(out), "|%s:%s:%lld:%lld",
		    s->name.p, s->error ? s->error : "-", s->length,
		    s->last_entry_ms);
	}
	free(json);
	return out;
}

struct world {
	struct sl_redis_addr	 addr;
	struct sl_redis		 r;
	struct sl_lagcache	*cache;
};

static void
fresh(struct world *w)
{
	sl_redis_init(&w->r, &w->addr, 1000);
	memset(w->cache, 0, sizeof(*w->cache));
	w->r.lagcache = w->cache;
}

/* Walks N over the request until it runs without a refused allocation;
 * returns the answer, and how many N were walked. */
static char *
walk(const struct sl_lag_query *q, const char *follow, long *walked)
{
	static char chat[] = "chat", nil[] = "nil", trim[] = "trim",
	    missing[] = "missing", junk[] = "junk";
	char *const	 streams[] = { chat, nil, trim, missing, junk };
	struct world	 w;
	struct sl_lag_report rep;
	char		*want, *got;
	enum sl_err	 rc;
	long		 n;
	int		 refused;

	memset(&w, 0, sizeof(w));
	w.addr.kind = SL_REDIS_TCP;
	w.addr.host = (char *)"127.0.0.1";
	w.addr.port = 1;
	w.cache = calloc(1, sizeof(*w.cache));
	assert_non_null(w.cache);
	fresh(&w);
	assert_int_equal(drive(&w.r, streams, 5, q, &rep), SL_OK);
	assert_string_equal(sent, follow);
	want = text_of(&rep);
	sl_lag_report_free(&rep);
	for (n = 0;; n++) {
		fresh(&w);
		sl_alloc_fail_after(n);
		rc = drive(&w.r, streams, 5, q, &rep);
		refused = sl_alloc_count() > n;
		sl_alloc_reset();
		if (rc == SL_ENOMEM) {
			/* Only ever because an allocation was refused, and
			 * then nothing is kept. */
			assert_true(refused);
			assert_null(rep.entries);
			assert_int_equal(rep.n, 0);
			continue;
		}
		assert_int_equal(rc, SL_OK);
		got = text_of(&rep);
		assert_string_equal(got, want);
		free(got);
		sl_lag_report_free(&rep);
		if (!refused)
			break;		/* the whole path walked */
	}
	free(w.cache);
	*walked = n;
	return want;
}

static void
one_group(void **state)
{
	struct sl_lag_query q = { .group = G, .t = &T };
	long		 walked;
	/* Every stream's XLEN comes with batch 1.  chat's settles it; trim's
	 * does not: its XINFO STREAM follows in a batch of its own; nil has
	 * no figure: XINFO STREAM in batch 2. */
	char		*want = walk(&q, "XLEN:chat:1 XLEN:nil:1 XLEN:trim:1 "
	    "XLEN:missing:1 XLEN:junk:1 XINFO:nil:2 XINFO:trim:3 ", &walked);

	(void)state;
	/* The answer itself, for the record: exact lags 123, 10 and 10 (5
	 * trimmed unread), the missing stream in Redis's words, the
	 * malformed reply as the stream's error (not out of memory). */
	assert_non_null(strstr(want, "\"chat\":{\"lag\":123,"));
	assert_non_null(strstr(want, "\"nil\":{\"lag\":10,"));
	assert_non_null(strstr(want, "\"trim\":{\"lag\":10,"));
	assert_non_null(strstr(want, "\"trimmed_unread\":5"));
	assert_non_null(strstr(want, "\"error\":\"no such key\""));
	assert_non_null(strstr(want, "XINFO GROUPS: expected an array reply"));
	assert_null(strstr(want, "out of memory"));
	assert_true(walked > 30);
	print_message("one group: %ld allocations walked\n", walked);
	free(want);
}

static void
all_groups_with_streams(void **state)
{
	struct sl_lag_query q = { .all_groups = 1, .t = &T,
	    .with_streams = 1 };
	long		 walked;
	/* Batch 1 read every stream's XINFO STREAM (/metrics): the follow-up
	 * asks neither XLEN nor XINFO STREAM again, and the lags are as
	 * exact (trim: 10, 5 of them trimmed unread). */
	char		*want = walk(&q, "", &walked);

	(void)state;
	assert_non_null(strstr(want, "\"trim\":{\"lag\":10,"));
	assert_non_null(strstr(want, "\"trimmed_unread\":5"));
	/* chat's last entry is 1800000000000-0, Redis's clock there: its
	 * time is kept (the age is known). */
	assert_non_null(strstr(want, "|chat:-:200:1800000000000"));
	assert_non_null(strstr(want, "|missing:no such key:0:-1"));
	assert_non_null(strstr(want, "|junk:XINFO STREAM: expected a field "
	    "list:0:-1"));
	assert_null(strstr(want, "out of memory"));
	print_message("all groups: %ld allocations walked\n", walked);
	free(want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_group),
		cmocka_unit_test(all_groups_with_streams),
	};
	return cmocka_run_group_tests_name("alloc_paths", tests, NULL, NULL);
}
