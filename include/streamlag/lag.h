/* SPDX-License-Identifier: ISC */
/* Lag and health rules: pure functions over the model and the facts that
 * facts.c reads out of Redis's replies.  No reply, no socket here. */
#ifndef STREAMLAG_LAG_H
#define STREAMLAG_LAG_H

#include "streamlag/err.h"
#include "streamlag/lagcache.h"
#include "streamlag/model.h"

struct sl_thresholds {
	long long degraded;	/* lag >= degraded: degraded */
	long long unhealthy;	/* lag >= unhealthy: unhealthy */
	long long stall_ms;	/* consumers idle longer: stalled; 0 = never */
	long long count_cap;	/* most entries counted for one group in one
				 * request; 0 = 10000 */
	long long max_len;	/* EVENT_TRANSPORT_STREAM_MAX_LEN; 0 = unset */
	long long max_commands;	/* per request; 0 = unlimited */
	long long max_bytes;	/* reply bytes per request; 0 = unlimited */
};

enum sl_status sl_status_for_lag(long long lag, const struct sl_thresholds *t);

/*
 * One consumer-lag entry, with the seed's semantics: NOGROUP gives lag 0
 * and no consumers (sl_lag_entry_no_group); a missing stream or any other
 * failure gives lag -1 and an error (sl_lag_entry_fail, with the words of
 * Redis or of the parser, len bytes of why); otherwise the group is taken
 * out of its stream's groups (sl_lag_entry_take_group: 1 when found) and,
 * with its consumers in e, sl_lag_entry_start sets Redis's figure as the
 * provisional lag.  A lag Redis does not know is never 0.
 */
enum sl_err sl_lag_entry_fail(struct sl_lag_entry *e, const char *why,
	    size_t len);
void	sl_lag_entry_no_group(struct sl_lag_entry *e);
int	sl_lag_entry_take_group(struct sl_lag_entry *e, struct sl_group *gs,
	    size_t ng, const char *group, size_t group_len);
void	sl_lag_entry_start(struct sl_lag_entry *e, const struct sl_thresholds *t);

/* The entry of a group of a stream before its consumers are known
 * (?group=*): copies the group, leaves the rest. */
enum sl_err sl_lag_entry_from_group(struct sl_lag_entry *e, const char *stream,
	    size_t stream_len, const struct sl_group *g);

/* The server behind the connection, from INFO server: Valkey reports
 * redis_version 7.2.4 and adds valkey_version, which wins. */
enum sl_server_kind { SL_SERVER_UNKNOWN, SL_SERVER_REDIS, SL_SERVER_VALKEY };
struct sl_server {
	enum sl_server_kind kind;
	int		 major, minor, patch;
};
/* Fills s from the text of INFO server; 0, or -1 when no version is found
 * (kind SL_SERVER_UNKNOWN). */
int	sl_server_parse(const char *info, size_t len, struct sl_server *s);
/* 1 when the server's non-nil XINFO GROUPS lag is exact even after trims
 * (Redis >= 7.4.4 re-estimates entries-read, redis/redis#13958); 0 for
 * Redis 7.0-7.4.3, every Valkey known today, and unknown servers. */
int	sl_server_lag_trusted(const struct sl_server *s);
const char *sl_server_name(const struct sl_server *s);

/*
 * What the follow-up batch must ask for an answered entry.  No request reads
 * entries in proportion to lag: the first undelivered entry (COUNT 1) and
 * XINFO STREAM (its first and last entries) are the only payloads; a count,
 * when unavoidable, goes in bounded steps across requests (sl_lag_resolve).
 * Redis's figure on a server that cannot be trusted is checked with XLEN
 * first; XINFO STREAM follows, in a batch of its own, only for the groups
 * whose lag XLEN did not settle (sl_lag_needs_stream).
 */
#define SL_NEED_CONSUMERS	0x1	/* XINFO CONSUMERS (all-groups mode) */
#define SL_NEED_RANGE		0x2	/* XRANGE s (last-delivered + COUNT 1 */
#define SL_NEED_STREAM		0x4	/* XINFO STREAM s, once per stream */
#define SL_NEED_PENDING		0x8	/* XPENDING s g - + 1 */
#define SL_NEED_LENGTH		0x10	/* XLEN s, once per stream */
unsigned sl_lag_followup(const struct sl_lag_entry *e, int all_groups,
	    int trusted);

/* What the follow-up said about one group (facts.c fills it). */
struct sl_lag_facts {
	const struct sl_stream_info *si; /* XINFO STREAM; NULL when not known */
	int		 next;		/* first undelivered entry: -1 unknown,
					 * 0 none, 1 next_id */
	char		 next_id[SL_ID_MAX];
	int		 trusted;	/* sl_server_lag_trusted */
	int		 has_next_age;	/* next_id looks like a timestamp */
	long long	 next_age_ms;	/* Redis's clock - its ms part, >= 0 */
	int		 has_length;	/* XLEN answered */
	long long	 length;	/* its reply */
};

/*
 * 1 when the facts so far (the follow-up's XRANGE and XLEN, without XINFO
 * STREAM) do not settle the entry's lag: its stream's facts are then asked.
 * XLEN settles a non-nil lag beside a non-nil entries-read when the length
 * is entries-read + lag: that sum is Redis's entries-added, so nothing was
 * ever removed from the stream and Redis's figure holds no trimmed entry.
 */
int	sl_lag_needs_stream(const struct sl_lag_entry *e,
	    const struct sl_lag_facts *f);

/*
 * The entry's lag from the facts and the group's remembered state st (see
 * lagcache.h).  Returns 1 when settled (exact, or bounded without a count),
 * 0 when a count step would help: XRANGE s (st->cursor st->end COUNT step,
 * then sl_lag_count_step and sl_lag_resolve again.  Until exact, lag is the
 * lower bound, lag_exact 0, lag_max the upper bound.
 */
int	sl_lag_resolve(struct sl_lag_entry *e, const struct sl_lag_facts *f,
	    struct sl_lagcount *st);
/* One count step read k entries, the last of them last (NULL when k is 0;
 * a malformed last resets st: the count starts again). */
void	sl_lag_count_step(struct sl_lagcount *st, size_t k, const char *last,
	    long long step);

/* Time lag, trim risk and status, once the lag is settled. */
void	sl_lag_entry_done(struct sl_lag_entry *e, const struct sl_lag_facts *f,
	    const struct sl_thresholds *t);

/* Entries one count step reads for one group: STREAMLAG_LAG_COUNT_CAP. */
long long sl_lag_count_cap(const struct sl_thresholds *t);

/* a + b, saturating at LLONG_MAX / LLONG_MIN. */
long long sl_sat_add(long long a, long long b);
/* *total + v (v >= 0), saturating; *saturated set when it did. */
void	sl_total_add(long long *total, long long v, int *saturated);

/* total_lag and stream_count over the entries answered without error. */
void	sl_lag_report_totals(struct sl_lag_report *r);

/* Health counts and overall status of a report (seed rules, plus stalled
 * counted as unhealthy and no_group as degraded for the overall status). */
void	sl_health_of(const struct sl_lag_report *r, struct sl_health *h);

#endif
