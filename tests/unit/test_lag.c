/* SPDX-License-Identifier: ISC */
/* Lag truth on crafted replies: the seed's semantics (NOGROUP, per-stream
 * errors, totals), the exact lag where Redis gives none (nil, Redis 6.x) or
 * a wrong one (trimmed entries), time lag, pending age, stalls, trim risk. */
#include <limits.h>
#include <stdio.h>

#include "sl_test.h"
#include "streamlag/facts.h"
#include "streamlag/lag.h"

#define G "signalr-consumers"
#define NOW 1800000000000LL	/* Redis's clock in the tests, ms */

static struct sl_thresholds T = { .degraded = 100, .unhealthy = 1000,
    .stall_ms = 60000, .count_cap = 10000 };

static redisReply *
groups_reply(const char *name, long long pending, const char *last,
    redisReply *lag)
{
	return t_arr(1, t_arr(12, t_str("name"), t_str(name), t_str("consumers"),
	    t_int(2), t_str("pending"), t_int(pending),
	    t_str("last-delivered-id"), t_str(last), t_str("entries-read"),
	    t_int(pending), t_str("lag"), lag));
}

/* As groups_reply, with entries-read given (t_nil() after XGROUP SETID). */
static redisReply *
groups_reply_er(const char *name, long long pending, const char *last,
    redisReply *entries_read, redisReply *lag)
{
	return t_arr(1, t_arr(12, t_str("name"), t_str(name), t_str("consumers"),
	    t_int(2), t_str("pending"), t_int(pending),
	    t_str("last-delivered-id"), t_str(last), t_str("entries-read"),
	    entries_read, t_str("lag"), lag));
}

static redisReply *
consumer(const char *name, long long pending, long long idle)
{
	return t_arr(6, t_str("name"), t_str(name), t_str("pending"),
	    t_int(pending), t_str("idle"), t_int(idle));
}

/* An XRANGE reply of n entries with ids (first_ms + i)-0. */
static redisReply *
range_reply(size_t n, long long first_ms)
{
	redisReply *r = t_arr(0);
	char id[48];

	free(r->element);
	r->element = calloc(n ? n : 1, sizeof(*r->element));
	r->elements = n;
	for (size_t i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%lld-0", first_ms + (long long)i);
		r->element[i] = t_arr(2, t_str(id), t_arr(2, t_str("f"),
		    t_str("v")));
	}
	return r;
}

static void
fill(struct sl_lag_entry *e, redisReply *groups, redisReply *consumers,
    const struct sl_thresholds *t)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(sl_facts_lag_entry(e, G, strlen(G), groups, consumers,
	    t), SL_OK);
	freeReplyObject(groups);
	freeReplyObject(consumers);
}

/* XINFO STREAM: length, first and last entry ids, entries-added (-1:
 * absent, Redis 6), max-deleted-entry-id. */
static redisReply *
stream_reply(long long len, const char *first, const char *last,
    long long added, const char *md)
{
	if (added < 0)
		return t_arr(8, t_str("length"), t_int(len), t_str("groups"),
		    t_int(1), t_str("first-entry"), t_arr(2, t_str(first),
		    t_arr(0)), t_str("last-entry"), t_arr(2, t_str(last), t_arr(0)));
	return t_arr(12, t_str("length"), t_int(len), t_str("groups"), t_int(1),
	    t_str("entries-added"), t_int(added), t_str("max-deleted-entry-id"),
	    t_str(md), t_str("first-entry"), t_arr(2, t_str(first), t_arr(0)),
	    t_str("last-entry"), t_arr(2, t_str(last), t_arr(0)));
}

/*
 * One request's follow-up for e: next is the XRANGE ... COUNT 1 reply,
 * stream the XINFO STREAM reply, pending the XPENDING one (each may be
 * NULL, each freed); count, when not NULL, answers the count step if one is
 * asked.  st carries what is remembered across requests.  Returns what
 * sl_lag_resolve said first.
 */
static int
settle(struct sl_lag_entry *e, redisReply *next, redisReply *stream,
    redisReply *pending, redisReply *count, struct sl_lagcount *st,
    const struct sl_thresholds *t)
{
	struct sl_lag_facts	 f = { .si = NULL, .next = -1 };
	struct sl_stream_info	 si;
	int			 rc;

	if (next != NULL)
		assert_int_equal(sl_facts_next(next, NOW, &f), SL_OK);
	if (stream != NULL && sl_facts_stream(stream, &si, NULL) == SL_OK)
		f.si = &si;
	rc = sl_lag_resolve(e, &f, st);
	if (rc == 0 && count != NULL) {
		sl_facts_count_step(st, count, sl_lag_count_cap(t));
		sl_lag_resolve(e, &f, st);
	}
	if (pending != NULL)
		e->has_oldest_pending = sl_facts_oldest_pending(pending, NOW,
		    &e->oldest_pending_ms);
	sl_lag_entry_done(e, &f, t);
	if (next != NULL)
		freeReplyObject(next);
	if (stream != NULL)
		freeReplyObject(stream);
	if (pending != NULL)
		freeReplyObject(pending);
	if (count != NULL)
		freeReplyObject(count);
	return rc;
}

/* A stream of 1000 entries from which nothing was ever removed. */
#define NEVER_TRIMMED() stream_reply(1000, "1799999990000-0", \
	"1800000000000-0", 1000, "0-0")

static void
finish(struct sl_lag_entry *e, redisReply *next, redisReply *stream,
    redisReply *pending, const struct sl_thresholds *t)
{
	struct sl_lagcount st = { .key = 1 };

	settle(e, next, stream, pending, NULL, &st, t);
}

static void
seed_chat(void **state)
{
	struct sl_lag_entry e;

	(void)state;
	fill(&e, groups_reply(G, 77, "1799999999000-0", t_int(123)),
	    t_arr(2, consumer("instance-1", 50, 10), consumer("instance-2", 27, 20)),
	    &T);
	assert_null(e.error);
	assert_int_equal(e.lag, 123);
	assert_int_equal(e.status, SL_STATUS_DEGRADED);
	assert_int_equal(e.nconsumers, 2);
	assert_string_equal(e.consumers[1].name.p, "instance-2");
	/* Follow-up: the first undelivered entry, XLEN (Redis 7.0 is not
	 * trusted) and the oldest pending entry.  No count. */
	assert_int_equal(sl_lag_followup(&e, 0, 0),
	    SL_NEED_RANGE | SL_NEED_LENGTH | SL_NEED_PENDING);
	assert_int_equal(sl_lag_followup(&e, 0, 1),
	    SL_NEED_RANGE | SL_NEED_PENDING);
	/* 200 added, none removed: Redis's 123 is exact. */
	finish(&e, range_reply(1, NOW - 5120), stream_reply(200,
	    "1799999990000-0", "1800000000000-0", 200, "0-0"),
	    t_arr(1, t_arr(4, t_str("1799999991000-0"), t_str("instance-1"),
	    t_int(9000), t_int(1))), &T);
	assert_int_equal(e.lag, 123);
	assert_int_equal(e.lag_exact, 1);
	assert_int_equal(e.lag_max, 123);
	assert_int_equal(e.trimmed_unread, 0);
	assert_int_equal(e.has_time_lag, 1);
	assert_int_equal(e.time_lag_ms, 5120);
	assert_int_equal(e.has_oldest_pending, 1);
	assert_int_equal(e.oldest_pending_ms, 9000);
	assert_int_equal(e.has_trim_risk, 0);
	assert_int_equal(e.status, SL_STATUS_DEGRADED);
	sl_lag_entry_free(&e);
}

static void
caught_up_needs_no_followup(void **state)
{
	struct sl_lag_entry e;

	(void)state;
	fill(&e, groups_reply(G, 0, "5-0", t_int(0)),
	    t_arr(1, consumer("c", 0, 999999)), &T);
	assert_int_equal(sl_lag_followup(&e, 0, 0), 0);
	finish(&e, NULL, NULL, NULL, &T);
	assert_int_equal(e.lag, 0);
	assert_int_equal(e.time_lag_ms, 0);
	assert_int_equal(e.has_time_lag, 1);
	assert_int_equal(e.has_oldest_pending, 0);
	/* Idle for long, but nothing waits: not stalled. */
	assert_int_equal(e.status, SL_STATUS_HEALTHY);
	sl_lag_entry_free(&e);
}

static void
other_group_only_is_no_group(void **state)
{
	struct sl_lag_entry e;

	(void)state;
	fill(&e, groups_reply("audit", 5, "0-0", t_int(9)), t_err("NOGROUP No "
	    "such key 'events:chat' or consumer group 'signalr-consumers'"), &T);
	assert_null(e.error);
	assert_int_equal(e.has_group, 0);
	assert_int_equal(e.lag, 0);
	assert_int_equal(sl_lag_followup(&e, 0, 0), 0);
	finish(&e, NULL, NULL, NULL, &T);
	assert_int_equal(e.status, SL_STATUS_NO_GROUP);
	sl_lag_entry_free(&e);
}

static void
missing_stream_is_error(void **state)
{
	struct sl_lag_entry e;

	(void)state;
	fill(&e, t_err("ERR no such key"), t_err("ERR no such key"), &T);
	assert_string_equal(e.error, "no such key");
	assert_int_equal(e.lag, -1);
	assert_int_equal(e.status, SL_STATUS_ERROR);
	sl_lag_entry_free(&e);
	fill(&e, t_err("WRONGTYPE Operation against a key holding the wrong "
	    "kind of value"), t_err("WRONGTYPE x"), &T);
	assert_string_equal(e.error, "WRONGTYPE Operation against a key holding "
	    "the wrong kind of value");
	sl_lag_entry_free(&e);
	fill(&e, t_str("junk"), t_arr(0), &T);
	assert_string_equal(e.error, "XINFO GROUPS: expected an array reply");
	sl_lag_entry_free(&e);
}

/* Redis's refusals of the whole server (OOM, LOADING, BUSY, NOPERM,
 * MASTERDOWN) are the stream's error, in Redis's words; a real Redis sends
 * OOM only to writes, so this crafted reply is its only test. */
static void
server_refusals_are_stream_errors(void **state)
{
	static const char *const refusals[] = {
		"OOM command not allowed when used memory > 'maxmemory'.",
		"LOADING Redis is loading the dataset in memory",
		"BUSY Redis is busy running a script. You can only call SCRIPT "
		    "KILL or SHUTDOWN NOSAVE.",
		"NOPERM this user has no permissions to run the 'xinfo|groups' "
		    "command",
		"MASTERDOWN Link with MASTER is down and replica-serve-stale-data "
		    "is set to 'no'.",
	};
	struct sl_lag_entry e;

	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		fill(&e, t_err(refusals[i]), t_err(refusals[i]), &T);
		assert_string_equal(e.error, refusals[i]);
		assert_int_equal(e.lag, -1);
		assert_int_equal(e.status, SL_STATUS_ERROR);
		sl_lag_entry_free(&e);
	}
	/* The groups answered, the consumers refused: still the error. */
	fill(&e, groups_reply(G, 0, "0-0", t_int(0)), t_err(refusals[0]), &T);
	assert_string_equal(e.error, refusals[0]);
	assert_int_equal(e.lag, -1);
	assert_int_equal(e.status, SL_STATUS_ERROR);
	sl_lag_entry_free(&e);
}

/* Redis 7.0 nil lag (XDEL, SETID, group at an arbitrary id): counted in
 * one step when it fits, then remembered while nothing changes. */
static void
nil_lag_is_counted(void **state)
{
	struct sl_lag_entry e;
	struct sl_lagcount st = { .key = 1 };

	(void)state;
	fill(&e, groups_reply(G, 0, "1800000000009-0", t_nil()),
	    t_arr(1, consumer("c", 0, 1)), &T);
	assert_null(e.error);
	assert_int_equal(sl_lag_followup(&e, 0, 1),
	    SL_NEED_RANGE | SL_NEED_STREAM);
	assert_int_equal(settle(&e, range_reply(1, NOW + 10), stream_reply(20,
	    "1800000000000-0", "1800000000019-0", 20, "0-0"), NULL,
	    range_reply(10, NOW + 10), &st, &T), 0);
	assert_null(e.error);
	assert_int_equal(e.lag, 10);
	assert_int_equal(e.lag_exact, 1);
	assert_int_equal(e.time_lag_ms, 0);	/* ids in the future: age 0 */
	assert_int_equal(e.status, SL_STATUS_HEALTHY);
	assert_int_equal(st.mode, SL_LC_TOTAL);
	/* Next request: 3 more added, nothing removed, the group where it
	 * was: 13, without a count. */
	assert_int_equal(settle(&e, range_reply(1, NOW + 10), stream_reply(23,
	    "1800000000000-0", "1800000000022-0", 23, "0-0"), NULL, NULL, &st,
	    &T), 1);
	assert_int_equal(e.lag, 13);
	assert_int_equal(e.lag_exact, 1);
	/* An entry deleted (max-deleted-entry-id moves): counted again. */
	assert_int_equal(settle(&e, range_reply(1, NOW + 10), stream_reply(22,
	    "1800000000000-0", "1800000000022-0", 23, "1800000000015-0"), NULL,
	    NULL, &st, &T), 0);
	assert_int_equal(e.lag_exact, 0);
	assert_int_equal(e.lag, 1);		/* at least the next entry */
	assert_int_equal(e.lag_max, 21);	/* all but the first entry */
	assert_int_equal(st.mode, SL_LC_COUNTING);
	sl_lag_entry_free(&e);
}

/* Behind the first entry: every entry is left; Redis's rule, no count. */
static void
behind_first_entry_is_length(void **state)
{
	struct sl_lag_entry e;

	(void)state;
	fill(&e, groups_reply(G, 0, "1700000000000-0", t_nil()),
	    t_arr(1, consumer("c", 0, 1)), &T);
	finish(&e, range_reply(1, 1799999990000LL), stream_reply(50000,
	    "1799999990000-0", "1799999999999-0", 60000, "0-0"), NULL, &T);
	assert_int_equal(e.lag, 50000);
	assert_int_equal(e.lag_exact, 1);
	assert_int_equal(e.time_lag_ms, 10000);
	assert_int_equal(e.status, SL_STATUS_UNHEALTHY);
	sl_lag_entry_free(&e);
}

/* A malformed last-delivered-id is not "behind the first entry": before,
 * sl_id_cmp's -2 read as "smaller", and the whole stream (50) came out as
 * an exact lag.  Now the order is unknown: only the bounds stand. */
static void
malformed_id_is_not_behind(void **state)
{
	struct sl_lag_entry e;
	struct sl_lagcount st = { .key = 1 };

	(void)state;
	fill(&e, groups_reply(G, 0, "junk", t_nil()),
	    t_arr(1, consumer("c", 0, 1)), &T);
	assert_int_equal(settle(&e, range_reply(1, NOW - 10), stream_reply(50,
	    "1799999999951-0", "1800000000000-0", 50, "0-0"), NULL, NULL, &st,
	    &T), 0);
	assert_null(e.error);
	assert_int_equal(e.lag_exact, 0);
	assert_int_equal(e.lag, 1);
	assert_int_equal(e.lag_max, 49);
	/* A count step whose last id is malformed starts the count again. */
	assert_int_equal(st.mode, SL_LC_COUNTING);
	sl_lag_count_step(&st, 1, "junk", 5);
	assert_int_equal(st.mode, SL_LC_NONE);
	sl_lag_entry_free(&e);
}

/* A count larger than one step: bounds, then exact a request later. */
static void
count_in_steps(void **state)
{
	struct sl_thresholds t = T;
	struct sl_lag_entry e;
	struct sl_lagcount st = { .key = 1 };

	(void)state;
	t.count_cap = 5;
	fill(&e, groups_reply(G, 0, "1799999999000-0", t_nil()),
	    t_arr(1, consumer("c", 0, 1)), &t);
	/* ids 1799999999000..1799999999011: 11 after the group. */
	assert_int_equal(settle(&e, range_reply(1, 1799999999001LL),
	    stream_reply(12, "1799999999000-0", "1799999999011-0", 12, "0-0"),
	    NULL, range_reply(5, 1799999999001LL), &st, &t), 0);
	assert_int_equal(e.lag, 5);
	assert_int_equal(e.lag_exact, 0);
	assert_int_equal(e.lag_max, 11);
	assert_string_equal(st.cursor, "1799999999005-0");
	/* The second step goes on from the cursor. */
	assert_int_equal(settle(&e, range_reply(1, 1799999999001LL),
	    stream_reply(12, "1799999999000-0", "1799999999011-0", 12, "0-0"),
	    NULL, range_reply(5, 1799999999006LL), &st, &t), 0);
	assert_int_equal(e.lag, 10);
	assert_int_equal(e.lag_exact, 0);
	/* The third reaches the end: exact. */
	assert_int_equal(settle(&e, range_reply(1, 1799999999001LL),
	    stream_reply(12, "1799999999000-0", "1799999999011-0", 12, "0-0"),
	    NULL, range_reply(1, 1799999999011LL), &st, &t), 0);
	assert_int_equal(e.lag, 11);
	assert_int_equal(e.lag_exact, 1);
	assert_int_equal(e.lag_max, 11);
	sl_lag_entry_free(&e);
}

/* 100 added (ids 1..100), 10 read, trimmed to 50, 10 more read: Redis
 * says 80, 40 are left.  Counted once; the trim error 40 is kept while
 * nothing after the group goes, and the lag stays exact without a count. */
static void
trimmed_unread(void **state)
{
	struct sl_lag_entry e;
	struct sl_lagcount st = { .key = 1 };

	(void)state;
	/* Before the 10 more: behind the first entry, XLEN. */
	fill(&e, groups_reply(G, 10, "10-0", t_int(90)),
	    t_arr(1, consumer("c", 10, 1)), &T);
	assert_int_equal(settle(&e, range_reply(1, 51), stream_reply(50, "51-0",
	    "100-0", 100, "0-0"), NULL, NULL, &st, &T), 1);
	assert_int_equal(e.lag, 50);
	assert_int_equal(e.lag_exact, 1);
	assert_int_equal(e.trimmed_unread, 40);
	sl_lag_entry_free(&e);

	fill(&e, groups_reply(G, 20, "60-0", t_int(80)),
	    t_arr(1, consumer("c", 20, 1)), &T);
	assert_int_equal(settle(&e, range_reply(1, 61), stream_reply(50, "51-0",
	    "100-0", 100, "0-0"), NULL, range_reply(40, 61), &st, &T), 0);
	assert_int_equal(e.lag, 40);
	assert_int_equal(e.lag_exact, 1);
	assert_int_equal(e.trimmed_unread, 40);
	assert_int_equal(st.mode, SL_LC_DELTA);
	assert_int_equal(st.delta, 40);
	sl_lag_entry_free(&e);

	/* 5 added (101..105), 3 read (to 63): Redis 82, truth 42. */
	fill(&e, groups_reply(G, 23, "63-0", t_int(82)),
	    t_arr(1, consumer("c", 23, 1)), &T);
	assert_int_equal(settle(&e, range_reply(1, 64), stream_reply(55, "51-0",
	    "105-0", 105, "0-0"), NULL, NULL, &st, &T), 1);
	assert_int_equal(e.lag, 42);
	assert_int_equal(e.lag_exact, 1);
	assert_int_equal(e.trimmed_unread, 40);
	sl_lag_entry_free(&e);

	/* Read entries trimmed (MINID 62): nothing after the group went. */
	fill(&e, groups_reply(G, 23, "63-0", t_int(82)),
	    t_arr(1, consumer("c", 23, 1)), &T);
	assert_int_equal(settle(&e, range_reply(1, 64), stream_reply(44, "62-0",
	    "105-0", 105, "0-0"), NULL, NULL, &st, &T), 1);
	assert_int_equal(e.lag, 42);
	assert_int_equal(e.lag_exact, 1);
	sl_lag_entry_free(&e);

	/* Unread entries trimmed (MINID 70): the error changed, count again;
	 * meanwhile the bounds hold the truth (36). */
	fill(&e, groups_reply(G, 23, "63-0", t_int(82)),
	    t_arr(1, consumer("c", 23, 1)), &T);
	assert_int_equal(settle(&e, range_reply(1, 70), stream_reply(36, "70-0",
	    "105-0", 105, "0-0"), NULL, NULL, &st, &T), 1);
	assert_int_equal(e.lag, 36);		/* behind the first entry now */
	assert_int_equal(e.lag_exact, 1);
	assert_int_equal(e.trimmed_unread, 46);
	sl_lag_entry_free(&e);

	/* Caught up afterwards: Redis says 40 for ever, nothing is left. */
	fill(&e, groups_reply(G, 0, "100-0", t_int(40)),
	    t_arr(1, consumer("c", 0, 1)), &T);
	finish(&e, t_arr(0), NULL, NULL, &T);
	assert_int_equal(e.lag, 0);
	assert_int_equal(e.trimmed_unread, 40);
	assert_int_equal(e.time_lag_ms, 0);
	assert_int_equal(e.status, SL_STATUS_HEALTHY);
	sl_lag_entry_free(&e);
}

/* The trim error of trimmed_unread (40, counted at 60-0) is forgotten once
 * the group is seen behind where it was counted (XGROUP SETID back), and
 * once Redis's entries-read is nil (SETID: Redis's lag is then its own
 * exact estimate): it is never taken off a figure that no longer holds it. */
static void
trim_error_forgotten(void **state)
{
	struct sl_lag_entry e;
	struct sl_lagcount st = { .key = 1 };

	(void)state;
	fill(&e, groups_reply(G, 20, "60-0", t_int(80)),
	    t_arr(1, consumer("c", 20, 1)), &T);
	assert_int_equal(settle(&e, range_reply(1, 61), stream_reply(50, "51-0",
	    "100-0", 100, "0-0"), NULL, range_reply(40, 61), &st, &T), 0);
	assert_int_equal(st.mode, SL_LC_DELTA);
	sl_lag_entry_free(&e);

	/* XGROUP SETID to the id the group was at, now the stream's first
	 * entry (MINID 63): entries-read nil, and Redis's lag is its own
	 * estimate, exact (42).  A kept error of 2 there would have answered
	 * 40. */
	st.mode = SL_LC_DELTA;
	st.delta = 2;
	st.removed = 62;
	snprintf(st.from, sizeof(st.from), "63-0");
	snprintf(st.md, sizeof(st.md), "0-0");
	fill(&e, groups_reply_er(G, 0, "63-0", t_nil(), t_int(42)),
	    t_arr(1, consumer("c", 0, 1)), &T);
	assert_int_equal(settle(&e, range_reply(1, 64), stream_reply(43, "63-0",
	    "105-0", 105, "0-0"), NULL, NULL, &st, &T), 1);
	assert_int_equal(e.lag, 42);
	assert_int_equal(e.lag_exact, 1);
	assert_int_equal(e.trimmed_unread, 0);
	assert_int_not_equal(st.mode, SL_LC_DELTA);
	sl_lag_entry_free(&e);

	/* Counted again to the error 40, then moved back (SETID 55-0): the
	 * state is forgotten, and a new count starts from 55-0. */
	st.mode = SL_LC_DELTA;
	st.delta = 40;
	snprintf(st.from, sizeof(st.from), "63-0");
	fill(&e, groups_reply(G, 0, "55-0", t_int(50)),
	    t_arr(1, consumer("c", 0, 1)), &T);
	(void)settle(&e, range_reply(1, 56), stream_reply(55, "51-0",
	    "105-0", 105, "0-0"), NULL, NULL, &st, &T);
	assert_int_not_equal(st.mode, SL_LC_DELTA);
	assert_string_equal(st.from, "55-0");
	assert_false(e.lag_exact && e.lag == 50 - 40);
	sl_lag_entry_free(&e);
}

/* XLEN's answer into f, as the request takes it. */
static void
length_fact(struct sl_lag_facts *f, redisReply *xlen)
{
	f->has_length = sl_facts_length(xlen, &f->length) == SL_OK;
	freeReplyObject(xlen);
}

/*
 * Redis 7.0's figure checked with XLEN, without the stream's facts: XLEN =
 * entries-read + lag makes entries-added the length, so nothing was ever
 * removed and the figure is exact.  When the check fails (entries
 * trimmed, XLEN refused, a sum that saturates), the stream's facts are
 * needed, and without them only the bounds stand.
 */
static void
length_check(void **state)
{
	struct sl_lag_entry e;
	struct sl_lagcount st = { .key = 1 };
	struct sl_lag_facts f = { .next = 1, .next_id = "171-0" };

	(void)state;
	/* 200 added (ids 1..200), 170 read: Redis says 30. */
	fill(&e, groups_reply_er(G, 0, "170-0", t_int(170), t_int(30)),
	    t_arr(1, consumer("c", 0, 1)), &T);
	assert_int_equal(sl_lag_followup(&e, 0, 0),
	    SL_NEED_RANGE | SL_NEED_LENGTH);
	assert_int_equal(sl_lag_followup(&e, 0, 1), SL_NEED_RANGE);
	length_fact(&f, t_int(200));
	assert_int_equal(sl_lag_needs_stream(&e, &f), 0);
	assert_null(f.si);
	assert_int_equal(sl_lag_resolve(&e, &f, &st), 1);
	assert_int_equal(e.lag, 30);
	assert_int_equal(e.lag_exact, 1);
	assert_int_equal(e.lag_max, 30);
	assert_int_equal(e.trimmed_unread, 0);
	assert_int_equal(st.mode, SL_LC_NONE);
	/* One entry removed (XLEN 199): the figure may hold it.  Without
	 * the facts, the bounds: the next entry, Redis's figure. */
	length_fact(&f, t_int(199));
	assert_int_equal(sl_lag_needs_stream(&e, &f), 1);
	assert_int_equal(sl_lag_resolve(&e, &f, &st), 1);
	assert_int_equal(e.lag_exact, 0);
	assert_int_equal(e.lag, 1);
	assert_int_equal(e.lag_max, 30);
	/* XLEN refused, or not answered: the facts too. */
	length_fact(&f, t_err("NOPERM this user has no permissions to run "
	    "the 'xlen' command"));
	assert_int_equal(f.has_length, 0);
	assert_int_equal(sl_lag_needs_stream(&e, &f), 1);
	f.has_length = 0;
	assert_int_equal(sl_lag_needs_stream(&e, &f), 1);
	/* Nothing after the group: settled without them. */
	f.next = 0;
	assert_int_equal(sl_lag_needs_stream(&e, &f), 0);
	f.next = 1;
	sl_lag_entry_free(&e);

	/* The trim bug: 100 added, 10 read, trimmed to 50, 10 more read:
	 * Redis says 80, XLEN 50 is not 20 + 80: the facts, then the count
	 * of trimmed_unread. */
	fill(&e, groups_reply_er(G, 20, "60-0", t_int(20), t_int(80)),
	    t_arr(1, consumer("c", 20, 1)), &T);
	length_fact(&f, t_int(50));
	assert_int_equal(sl_lag_needs_stream(&e, &f), 1);
	sl_lag_entry_free(&e);

	/* A sum past LLONG_MAX saturates and never matches. */
	fill(&e, groups_reply_er(G, 0, "170-0", t_int(LLONG_MAX - 1),
	    t_int(30)), t_arr(1, consumer("c", 0, 1)), &T);
	f.has_length = 1;
	f.length = LLONG_MAX;
	assert_int_equal(sl_lag_needs_stream(&e, &f), 1);
	sl_lag_entry_free(&e);

	/* A lag beside a nil entries-read is Redis's own estimate, exact:
	 * XLEN is asked (the server is not trusted), the facts are not. */
	fill(&e, groups_reply_er(G, 0, "170-0", t_nil(), t_int(30)),
	    t_arr(1, consumer("c", 0, 1)), &T);
	assert_int_equal(sl_lag_followup(&e, 0, 0),
	    SL_NEED_RANGE | SL_NEED_LENGTH);
	f.has_length = 0;
	assert_int_equal(sl_lag_needs_stream(&e, &f), 0);
	sl_lag_entry_free(&e);

	/* No figure at all: the stream's facts at once, and a length does
	 * not settle it. */
	fill(&e, groups_reply_er(G, 0, "170-0", t_int(170), t_nil()),
	    t_arr(1, consumer("c", 0, 1)), &T);
	assert_int_equal(sl_lag_followup(&e, 0, 0),
	    SL_NEED_RANGE | SL_NEED_STREAM);
	length_fact(&f, t_int(200));
	assert_int_equal(sl_lag_needs_stream(&e, &f), 1);
	sl_lag_entry_free(&e);
}

/* Bounds without a count: Redis's figure less every entry ever removed is
 * a floor; when floor and ceiling meet, the lag is exact. */
static void
bounds_meet(void **state)
{
	struct sl_lag_entry e;
	struct sl_lagcount st = { .key = 1 };

	(void)state;
	/* 100 added, 1 removed, Redis 30: between 29 and 30. */
	fill(&e, groups_reply(G, 0, "70-0", t_int(30)),
	    t_arr(1, consumer("c", 0, 1)), &T);
	assert_int_equal(settle(&e, range_reply(1, 71), stream_reply(99, "2-0",
	    "100-0", 100, "0-0"), NULL, NULL, &st, &T), 0);
	assert_int_equal(e.lag, 29);
	assert_int_equal(e.lag_max, 30);
	assert_int_equal(e.lag_exact, 0);
	sl_lag_entry_free(&e);
	/* A trusted server: Redis's figure as it is. */
	fill(&e, groups_reply(G, 0, "70-0", t_int(30)),
	    t_arr(1, consumer("c", 0, 1)), &T);
	{
		struct sl_lag_facts f = { .next = 1, .next_id = "71-0",
		    .trusted = 1 };
		assert_int_equal(sl_lag_resolve(&e, &f, &st), 1);
	}
	assert_int_equal(e.lag, 30);
	assert_int_equal(e.lag_exact, 1);
	sl_lag_entry_free(&e);
}

static void
servers(void **state)
{
	static const char valkey[] = "# Server\r\nredis_version:7.2.4\r\n"
	    "server_name:valkey\r\nvalkey_version:8.0.1\r\nredis_mode:standalone\r\n";
	static const char redis70[] = "# Server\r\nredis_version:7.0.15\r\n"
	    "redis_git_sha1:00000000\r\n";
	struct sl_server s;

	(void)state;
	assert_int_equal(sl_server_parse(valkey, strlen(valkey), &s), 0);
	assert_int_equal(s.kind, SL_SERVER_VALKEY);
	assert_int_equal(s.major * 10000 + s.minor * 100 + s.patch, 80001);
	assert_string_equal(sl_server_name(&s), "valkey");
	assert_int_equal(sl_server_lag_trusted(&s), 0);
	assert_int_equal(sl_server_parse(redis70, strlen(redis70), &s), 0);
	assert_int_equal(s.kind, SL_SERVER_REDIS);
	assert_int_equal(s.major * 10000 + s.minor * 100 + s.patch, 70015);
	assert_int_equal(sl_server_lag_trusted(&s), 0);
	s.minor = 4; s.patch = 3;
	assert_int_equal(sl_server_lag_trusted(&s), 0);
	s.patch = 4;
	assert_int_equal(sl_server_lag_trusted(&s), 1);
	s.major = 8; s.minor = 0; s.patch = 0;
	assert_int_equal(sl_server_lag_trusted(&s), 1);
	s.major = 6; s.minor = 2;
	assert_int_equal(sl_server_lag_trusted(&s), 0);
	assert_int_equal(sl_server_parse("# Server\r\nredis_version:x\r\n", 27,
	    &s), -1);
	assert_int_equal(s.kind, SL_SERVER_UNKNOWN);
	assert_int_equal(sl_server_lag_trusted(&s), 0);
}

/* Numbers near LLONG_MAX (XSETID ... ENTRIESADDED) saturate; TIME out of
 * range is no clock.  Run under ASan/UBSan in make test. */
static void
overflow_and_time(void **state)
{
	struct sl_lag_entry es[2];
	struct sl_lag_report r;
	struct sl_health h;
	redisReply *tr;

	(void)state;
	memset(es, 0, sizeof(es));
	es[0].stream.p = (char *)"a"; es[0].stream.len = 1;
	es[1].stream.p = (char *)"b"; es[1].stream.len = 1;
	es[0].lag = LLONG_MAX - 1;
	es[1].lag = LLONG_MAX - 1;
	memset(&r, 0, sizeof(r));
	r.entries = es;
	r.n = 2;
	sl_lag_report_totals(&r);
	assert_true(r.total_lag == LLONG_MAX);
	assert_int_equal(r.total_saturated, 1);
	sl_health_of(&r, &h);
	assert_true(h.total_lag == LLONG_MAX);
	assert_int_equal(h.total_saturated, 1);
	/* A sum that reaches LLONG_MAX exactly is not saturated. */
	es[0].lag = LLONG_MAX - 5;
	es[1].lag = 5;
	sl_lag_report_totals(&r);
	assert_true(r.total_lag == LLONG_MAX);
	assert_int_equal(r.total_saturated, 0);
	sl_health_of(&r, &h);
	assert_int_equal(h.total_saturated, 0);
	es[1].lag = 6;
	sl_lag_report_totals(&r);
	assert_int_equal(r.total_saturated, 1);
	assert_true(sl_sat_add(LLONG_MAX, 1) == LLONG_MAX);
	assert_true(sl_sat_add(LLONG_MIN, -1) == LLONG_MIN);
	assert_int_equal(sl_sat_add(2, 3), 5);

	tr = t_arr(2, t_str("1800000000"), t_str("123456"));
	assert_true(sl_facts_time_ms(tr) == 1800000000123LL);
	freeReplyObject(tr);
	tr = t_arr(2, t_str("9223372036854775807"), t_str("0"));
	assert_int_equal(sl_facts_time_ms(tr), -1);
	freeReplyObject(tr);
	tr = t_arr(2, t_str("99999999999999999999"), t_str("0"));
	assert_int_equal(sl_facts_time_ms(tr), -1);
	freeReplyObject(tr);
	tr = t_arr(2, t_str("253402300799"), t_str("999999"));
	assert_true(sl_facts_time_ms(tr) == 253402300799999LL);
	freeReplyObject(tr);
	tr = t_arr(2, t_str("253402300800"), t_str("0"));
	assert_int_equal(sl_facts_time_ms(tr), -1);
	freeReplyObject(tr);
	tr = t_arr(2, t_str("1800000000"), t_str("1000000"));
	assert_int_equal(sl_facts_time_ms(tr), -1);
	freeReplyObject(tr);
	tr = t_arr(2, t_str("-1"), t_str("0"));
	assert_int_equal(sl_facts_time_ms(tr), -1);
	freeReplyObject(tr);
}

static void
absent_lag_redis6_is_counted(void **state)
{
	struct sl_lag_entry e;
	struct sl_lagcount st = { .key = 1 };
	redisReply *g = t_arr(1, t_arr(8, t_str("name"), t_str(G),
	    t_str("consumers"), t_int(1), t_str("pending"), t_int(0),
	    t_str("last-delivered-id"), t_str("3-0")));

	(void)state;
	fill(&e, g, t_arr(1, consumer("c", 0, 1)), &T);
	assert_int_equal(sl_lag_followup(&e, 0, 1),
	    SL_NEED_RANGE | SL_NEED_STREAM);
	settle(&e, range_reply(1, 4), stream_reply(7, "1-0", "7-0", -1, ""),
	    NULL, range_reply(4, 4), &st, &T);
	assert_int_equal(e.lag, 4);
	assert_int_equal(e.lag_exact, 1);
	assert_int_equal(e.has_time_lag, 0);	/* ids are not timestamps */
	sl_lag_entry_free(&e);
}

static void
stalls(void **state)
{
	struct sl_thresholds t = T;
	struct sl_lag_entry e;
	redisReply *c72;

	(void)state;
	t.stall_ms = 1000;
	/* Work waits, every consumer quiet for longer: stalled. */
	fill(&e, groups_reply(G, 3, "1799999999000-0", t_int(5)),
	    t_arr(2, consumer("a", 1, 1500), consumer("b", 2, 2000)), &t);
	finish(&e, range_reply(1, NOW - 100), NEVER_TRIMMED(), NULL, &t);
	assert_int_equal(e.status, SL_STATUS_STALLED);
	sl_lag_entry_free(&e);
	/* One consumer active: not stalled. */
	fill(&e, groups_reply(G, 3, "1799999999000-0", t_int(5)),
	    t_arr(2, consumer("a", 1, 1500), consumer("b", 2, 10)), &t);
	finish(&e, range_reply(1, NOW - 100), NEVER_TRIMMED(), NULL, &t);
	assert_int_equal(e.status, SL_STATUS_HEALTHY);
	sl_lag_entry_free(&e);
	/* No consumers and lag: stalled.  Pending only: stalled too. */
	fill(&e, groups_reply(G, 0, "1799999999000-0", t_int(2)), t_arr(0), &t);
	finish(&e, range_reply(1, NOW - 100), NEVER_TRIMMED(), NULL, &t);
	assert_int_equal(e.status, SL_STATUS_STALLED);
	sl_lag_entry_free(&e);
	fill(&e, groups_reply(G, 4, "1799999999000-0", t_int(0)),
	    t_arr(1, consumer("a", 4, 5000)), &t);
	finish(&e, NULL, NULL, NULL, &t);
	assert_int_equal(e.status, SL_STATUS_STALLED);
	sl_lag_entry_free(&e);
	/* Redis 7.2: `inactive` (last successful read) wins over `idle`. */
	c72 = t_arr(1, t_arr(8, t_str("name"), t_str("a"), t_str("pending"),
	    t_int(0), t_str("idle"), t_int(5), t_str("inactive"), t_int(9000)));
	fill(&e, groups_reply(G, 0, "1799999999000-0", t_int(7)), c72, &t);
	finish(&e, range_reply(1, NOW - 100), NEVER_TRIMMED(), NULL, &t);
	assert_int_equal(e.status, SL_STATUS_STALLED);
	sl_lag_entry_free(&e);
}

static void
trim_risk(void **state)
{
	struct sl_thresholds t = T;
	struct sl_lag_entry e;

	(void)state;
	t.max_len = 100;
	fill(&e, groups_reply(G, 0, "1799999999000-0", t_int(81)),
	    t_arr(1, consumer("a", 0, 1)), &t);
	finish(&e, range_reply(1, NOW - 100), NEVER_TRIMMED(), NULL, &t);
	assert_int_equal(e.has_trim_risk, 1);
	assert_int_equal(e.trim_risk, 1);
	sl_lag_entry_free(&e);
	fill(&e, groups_reply(G, 0, "1799999999000-0", t_int(80)),
	    t_arr(1, consumer("a", 0, 1)), &t);
	finish(&e, range_reply(1, NOW - 100), NEVER_TRIMMED(), NULL, &t);
	assert_int_equal(e.trim_risk, 0);
	sl_lag_entry_free(&e);
}

/* sl_id_cmp's order, or -2 when it says an id is malformed. */
static int
idcmp(const char *a, const char *b)
{
	int c = 99;

	return sl_id_cmp(a, b, &c) == SL_OK ? c : -2;
}

static void
ids_and_thresholds(void **state)
{
	(void)state;
	assert_int_equal(idcmp("1-0", "1-1"), -1);
	assert_int_equal(idcmp("2-0", "10-0"), -1);
	assert_int_equal(idcmp("10-5", "10-5"), 0);
	assert_int_equal(idcmp("11-0", "10-9"), 1);
	assert_int_equal(idcmp("x", "1-0"), -2);
	assert_int_equal(sl_status_for_lag(99, &T), SL_STATUS_HEALTHY);
	assert_int_equal(sl_status_for_lag(100, &T), SL_STATUS_DEGRADED);
	assert_int_equal(sl_status_for_lag(999, &T), SL_STATUS_DEGRADED);
	assert_int_equal(sl_status_for_lag(1000, &T), SL_STATUS_UNHEALTHY);
	assert_string_equal(sl_status_name(SL_STATUS_NO_GROUP), "no_group");
}

static struct sl_lag_entry
answered(const char *stream, long long lag, enum sl_status st)
{
	struct sl_lag_entry e;

	memset(&e, 0, sizeof(e));
	e.stream.p = (char *)stream;
	e.stream.len = strlen(stream);
	e.lag = lag;
	e.status = st;
	return e;
}

static void
totals_and_health(void **state)
{
	struct sl_lag_entry es[6];
	struct sl_lag_report r;
	struct sl_health h;
	char err[] = "no such key";

	(void)state;
	es[0] = answered("chat", 123, SL_STATUS_DEGRADED);
	es[1] = answered("ticket", 45, SL_STATUS_HEALTHY);
	es[2] = answered("remote", 0, SL_STATUS_HEALTHY);
	memset(&r, 0, sizeof(r));
	r.entries = es;
	r.n = 3;
	sl_lag_report_totals(&r);
	assert_int_equal(r.total_lag, 168);
	assert_int_equal(r.stream_count, 3);
	sl_health_of(&r, &h);
	assert_int_equal(h.status, SL_STATUS_DEGRADED);
	assert_int_equal(h.healthy, 2);
	assert_int_equal(h.degraded, 1);
	assert_int_equal(h.max_lag, 123);
	/* A failed stream: not in the totals, unhealthy in health. */
	es[3] = answered("gone", -1, SL_STATUS_ERROR);
	es[3].error = err;
	es[4] = answered("other", 0, SL_STATUS_NO_GROUP);
	r.n = 5;
	sl_lag_report_totals(&r);
	assert_int_equal(r.total_lag, 168);
	assert_int_equal(r.stream_count, 4);
	sl_health_of(&r, &h);
	assert_int_equal(h.unhealthy, 1);
	assert_int_equal(h.no_group, 1);
	assert_int_equal(h.status, SL_STATUS_UNHEALTHY);
	/* The reason is named, once however many streams share it. */
	assert_int_equal(h.nerrors, 1);
	assert_string_equal(h.errors[0], "no such key");
	assert_false(h.partial);
	/* ?group=*: two groups of one stream count one stream, both lags. */
	es[5] = answered("other", 7, SL_STATUS_STALLED);
	r.n = 6;
	sl_lag_report_totals(&r);
	assert_int_equal(r.total_lag, 175);
	assert_int_equal(r.stream_count, 4);
	sl_health_of(&r, &h);
	assert_int_equal(h.stalled, 1);
	es[0] = answered("x", 0, SL_STATUS_NO_GROUP);
	r.n = 1;
	sl_health_of(&r, &h);
	assert_int_equal(h.status, SL_STATUS_DEGRADED);
	assert_int_equal(h.nerrors, 0);
}

/* A master down: the failed streams' error and the masters discovery
 * missed name the nodes, each once, discovery's first; partial, never
 * healthy; at most SL_HEALTH_ERRORS named. */
static void
health_names_the_nodes(void **state)
{
	struct sl_lag_entry	 es[SL_HEALTH_ERRORS + 4];
	struct sl_lag_report	 r;
	struct sl_health	 h;
	char			 down[] = "redis 10.0.0.12:6379: Connection refused";
	char			 budget[] = SL_MSG_BUDGET;
	char			 many[SL_HEALTH_ERRORS + 4][40];
	const char		*scan[] = { "redis 10.0.0.13:6379: timed out" };

	(void)state;
	memset(&r, 0, sizeof(r));
	es[0] = answered("a", 3, SL_STATUS_HEALTHY);
	es[1] = answered("b", -1, SL_STATUS_ERROR);
	es[1].error = down;
	es[2] = answered("c", -1, SL_STATUS_ERROR);
	es[2].error = down;
	es[3] = answered("d", -1, SL_STATUS_ERROR);
	es[3].error = budget;
	r.entries = es;
	r.n = 4;
	r.node_errors = scan;
	r.nnode_errors = 1;
	sl_health_of(&r, &h);
	assert_int_equal(h.status, SL_STATUS_UNHEALTHY);
	assert_true(h.partial);
	assert_int_equal(h.nerrors, 2);
	assert_string_equal(h.errors[0], scan[0]);
	assert_string_equal(h.errors[1], down);
	for (size_t i = 0; i < SL_HEALTH_ERRORS + 4; i++) {
		snprintf(many[i], sizeof(many[i]), "redis 10.0.1.%zu:6379: x", i);
		es[i] = answered("s", -1, SL_STATUS_ERROR);
		es[i].error = many[i];
	}
	r.n = SL_HEALTH_ERRORS + 4;
	r.nnode_errors = 0;
	sl_health_of(&r, &h);
	assert_false(h.partial);
	assert_int_equal(h.nerrors, SL_HEALTH_ERRORS);
	assert_string_equal(h.errors[SL_HEALTH_ERRORS - 1],
	    many[SL_HEALTH_ERRORS - 1]);
}

/* The first undelivered entries kept (lagcache.h): found again only
 * from the same facts and length, within the TTL; a group may take a slot
 * of two buckets, and one whose two buckets are full waits for a slot to
 * expire instead of thrashing them. */
static void
next_entries_kept(void **state)
{
	struct sl_lagcache	*c = calloc(1, sizeof(*c));
	struct sl_nextkey	 k = { .key = 0x123456789abcdef0ULL,
				    .last_ms = 1700000000000ULL, .last_seq = 3,
				    .entries_read = 12, .rl = 7 }, o;
	struct sl_nextslot	 ns;
	unsigned long long	 ms = 0, seq = 0;
	long long		 now = 5000000;
	size_t			 b0, b1;

	(void)state;
	assert_non_null(c);
	assert_int_equal(sl_lagcache_next_get(c, SL_KEPT_NEXT,
	    &k, now, &ns), 0);
	sl_lagcache_next_put(c, SL_KEPT_NEXT, &k, 40, 1700000000500ULL, 2, now);
	assert_int_equal(sl_lagcache_next_get(c, SL_KEPT_NEXT,
	    &k, now + 1000, &ns), 1);
	/* The other kind's table is another table. */
	assert_int_equal(sl_lagcache_next_get(c, SL_KEPT_PENDING, &k, now,
	    &ns), 0);
	assert_int_equal(sl_lagcache_next_get(c, SL_KEPT_NEXT, &k, now + 1000,
	    &ns), 1);
	assert_int_equal(sl_lagcache_next_confirm(&ns, &k, 40, &ms, &seq), 1);
	assert_true(ms == 1700000000500ULL && seq == 2);
	/* Another length: not confirmed. */
	assert_int_equal(sl_lagcache_next_confirm(&ns, &k, 39, &ms, &seq), 0);
	/* Any of the group's facts changed: not a candidate. */
	o = k; o.rl = 8;
	assert_int_equal(sl_lagcache_next_get(c, SL_KEPT_NEXT,
	    &o, now, &ns), 0);
	o = k; o.entries_read = 13;
	assert_int_equal(sl_lagcache_next_get(c, SL_KEPT_NEXT,
	    &o, now, &ns), 0);
	o = k; o.last_seq = 4;
	assert_int_equal(sl_lagcache_next_get(c, SL_KEPT_NEXT,
	    &o, now, &ns), 0);
	/* Older than the TTL: gone. */
	assert_int_equal(sl_lagcache_next_get(c, SL_KEPT_NEXT, &k, now +
	    SL_LAGCACHE_NEXT_TTL_MS + 1000, &ns), 0);
	/* Twice as many groups as a bucket holds, all of the same first
	 * bucket (the same bits of both halves flipped): the second buckets
	 * take the rest, and every one is kept. */
	for (int i = 1; i <= 2 * SL_LAGCACHE_NEXT_WAYS; i++) {
		o = k;
		o.key = k.key ^ ((uint64_t)i << 32 | (uint64_t)i);
		sl_lagcache_next_put(c, SL_KEPT_NEXT,
		    &o, 40, 1700000000500ULL, 2, now);
		assert_int_equal(sl_lagcache_next_get(c, SL_KEPT_NEXT,
		    &o, now, &ns), 1);
	}
	assert_int_equal(sl_lagcache_next_get(c, SL_KEPT_NEXT,
	    &k, now, &ns), 1);
	/* A group whose two buckets hold other groups' fresh entries is not
	 * kept: no slot is thrashed. */
	o = k;
	o.key = 0x0fedcba987654321ULL;
	sl_lagcache_next_buckets(o.key, &b0, &b1);
	assert_true(b0 != b1);
	for (int w = 0; w < SL_LAGCACHE_NEXT_WAYS; w++) {
		c->next[b0 + w].tag = c->next[b1 + w].tag = 7 + (uint32_t)w;
		c->next[b0 + w].stamp_s = c->next[b1 + w].stamp_s =
		    (uint32_t)(now / 1000);
	}
	sl_lagcache_next_put(c, SL_KEPT_NEXT, &o, 40, 1700000000500ULL, 2, now);
	assert_int_equal(sl_lagcache_next_get(c, SL_KEPT_NEXT,
	    &o, now, &ns), 0);
	for (int w = 0; w < SL_LAGCACHE_NEXT_WAYS; w++)
		assert_true(c->next[b0 + w].tag == 7 + (uint32_t)w &&
		    c->next[b1 + w].tag == 7 + (uint32_t)w);
	/* Once they expire, it is. */
	now += SL_LAGCACHE_NEXT_TTL_MS + 1000;
	sl_lagcache_next_put(c, SL_KEPT_NEXT, &o, 41, 1700000000600ULL, 0, now);
	assert_int_equal(sl_lagcache_next_get(c, SL_KEPT_NEXT,
	    &o, now, &ns), 1);
	assert_int_equal(sl_lagcache_next_confirm(&ns, &o, 41, &ms, &seq), 1);
	assert_true(ms == 1700000000600ULL && seq == 0);
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seed_chat),
		cmocka_unit_test(health_names_the_nodes),
		cmocka_unit_test(caught_up_needs_no_followup),
		cmocka_unit_test(other_group_only_is_no_group),
		cmocka_unit_test(missing_stream_is_error),
		cmocka_unit_test(server_refusals_are_stream_errors),
		cmocka_unit_test(nil_lag_is_counted),
		cmocka_unit_test(behind_first_entry_is_length),
		cmocka_unit_test(malformed_id_is_not_behind),
		cmocka_unit_test(count_in_steps),
		cmocka_unit_test(bounds_meet),
		cmocka_unit_test(length_check),
		cmocka_unit_test(servers),
		cmocka_unit_test(overflow_and_time),
		cmocka_unit_test(trimmed_unread),
		cmocka_unit_test(trim_error_forgotten),
		cmocka_unit_test(absent_lag_redis6_is_counted),
		cmocka_unit_test(stalls),
		cmocka_unit_test(trim_risk),
		cmocka_unit_test(ids_and_thresholds),
		cmocka_unit_test(totals_and_health),
		cmocka_unit_test(next_entries_kept),
	};
	return cmocka_run_group_tests_name("lag", tests, NULL, NULL);
}
