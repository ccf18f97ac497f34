/* SPDX-License-Identifier: ISC */
/* Plain structs for what Redis said and what streamlag derives from it.
 * Names are bytes (pointer + length): they may hold any byte, NUL included. */
#ifndef STREAMLAG_MODEL_H
#define STREAMLAG_MODEL_H

#include <stddef.h>

#include "streamlag/err.h"

/* The error of an entry the request's budget left out, and how many
 * streams left out an answer names at most (it counts them all). */
/* The stable code of every answer given while Redis is unreachable. */
#define SL_CODE_REDIS_DOWN	"redis_unavailable"

#define SL_MSG_BUDGET		"request budget exceeded"
#define SL_NOT_COVERED_LISTED	100

#define SL_ID_MAX 48	/* "18446744073709551615-18446744073709551615" + NUL */

struct sl_group_insight;

struct sl_bytes {
	char	*p;	/* owned, NUL-terminated for convenience */
	size_t	 len;
};

/* One entry of XINFO CONSUMERS. */
struct sl_consumer {
	struct sl_bytes	name;
	long long	pending;
	long long	idle_ms;
	long long	inactive_ms;	/* Redis 7.2+; -1 = never read */
	int		has_inactive;
};

enum sl_lag_state {
	SL_LAG_KNOWN,	/* Redis gave an integer */
	SL_LAG_NIL,	/* Redis 7.x gave nil: it does not know */
	SL_LAG_ABSENT	/* Redis < 7.0: no such field */
};

/* One entry of XINFO GROUPS. */
struct sl_group {
	struct sl_bytes	name;
	long long	consumers;
	long long	pending;
	char		last_delivered_id[SL_ID_MAX];
	long long	entries_read;
	int		has_entries_read;	/* 0 when absent or nil */
	long long	lag;
	enum sl_lag_state lag_state;
};

/* XINFO STREAM (summary form). */
struct sl_stream_info {
	long long	length;
	long long	groups;
	char		first_entry_id[SL_ID_MAX];	/* "" when the stream is empty */
	char		last_entry_id[SL_ID_MAX];
	char		last_generated_id[SL_ID_MAX];
	char		max_deleted_entry_id[SL_ID_MAX];	/* "" before Redis 7.0 */
	char		recorded_first_entry_id[SL_ID_MAX];
	long long	entries_added;
	int		has_entries_added;
	/* The larger of the first and last entries as Redis sends them
	 * (sl_reply_wire_bytes), 0 when the stream is empty: what sizes a
	 * count step. */
	unsigned long long entry_bytes;
};

enum sl_status {
	SL_STATUS_HEALTHY,
	SL_STATUS_DEGRADED,
	SL_STATUS_UNHEALTHY,
	SL_STATUS_STALLED,
	SL_STATUS_NO_GROUP,
	SL_STATUS_ERROR
};

/* The consumer-lag answer for one stream and one group. */
struct sl_lag_entry {
	struct sl_bytes	 stream;
	char		*error;		/* NULL when answered; else why not */
	int		 has_group;	/* 0: NOGROUP */
	struct sl_group	 group;
	struct sl_consumer *consumers;
	size_t		 nconsumers;
	int		 consumers_read;	/* all groups: XINFO CONSUMERS
						 * answered in batch 1 */
	long long	 lag;		/* entries left to deliver; -1 when error */
	int		 lag_exact;	/* 0: lag is a lower bound */
	long long	 lag_max;	/* upper bound; lag when exact */
	int		 has_lag_max;	/* 0: null (unknown) */
	long long	 time_lag_ms;	/* age of the oldest undelivered entry */
	int		 has_time_lag;	/* 0: null (ids are not timestamps) */
	long long	 oldest_pending_ms;	/* age of the oldest pending entry */
	int		 has_oldest_pending;
	long long	 trimmed_unread;	/* counted by Redis, trimmed unread */
	int		 has_trim_risk;	/* EVENT_TRANSPORT_STREAM_MAX_LEN is set */
	int		 trim_risk;	/* lag > 80% of it */
	enum sl_status	 status;
	/* What the history says (history_api.h), when the answer has it;
	 * not owned: set and cleared by whoever renders the entry. */
	const struct sl_group_insight *insight;
};

/* What a consumer-lag report keeps of a stream's XINFO STREAM (for
 * /metrics and the history): a few numbers, not the whole answer. */
struct sl_stream_brief {
	struct sl_bytes	 name;
	char		*error;		/* NULL when answered */
	long long	 length;
	long long	 groups;
	long long	 entries_added;
	int		 has_entries_added;
	long long	 last_entry_ms;	/* the last entry's id as a time, -1 when
					 * its age is unknown */
	char		 first_entry_id[SL_ID_MAX];	/* "" when empty */
};

struct sl_lag_report {
	const char	*group;		/* the monitored group; NULL with all_groups */
	int		 all_groups;	/* ?group=* or STREAMLAG_GROUPS=* */
	int		 truncated;	/* discovery stopped at STREAMLAG_DISCOVERY_MAX */
	struct sl_lag_entry *entries;	/* one per (stream, group) */
	size_t		 n;
	long long	 total_lag;	/* over entries answered without error
					 * (saturates at LLONG_MAX) */
	int		 total_saturated; /* total_lag stopped at LLONG_MAX */
	long long	 stream_count;	/* streams answered without error */
	char		*error;		/* whole request failed (Redis unreachable) */
	struct sl_stream_brief *sinfo;	/* XINFO STREAM per stream, when asked */
	size_t		 nsinfo;
	long long	 now_ms;	/* Redis's clock, -1 when unknown */
	/* The request's budget (commands, reply bytes) ran out: the streams
	 * from uncovered on were not asked at all, and not_covered entries
	 * (those included) say "request budget exceeded". */
	int		 partial;
	char *const	*uncovered;	/* the request's own names, not owned */
	size_t		 nuncovered;
	size_t		 not_covered;
	/* Discovery could not reach these masters of a cluster, so their
	 * streams could not be named ("redis host:port: why"); not owned. */
	const char *const *node_errors;
	size_t		 nnode_errors;
	/* Sentinel: each replica of the master and how many bytes of the
	 * replication stream it trails by (-1: not up); not owned. */
	const char *const *replica_node;
	const long long	*replica_lag;
	size_t		 nreplica_lag;
};

struct sl_stream_entry {
	struct sl_bytes	 name;
	char		*error;
	struct sl_stream_info info;
	struct sl_bytes	*group_names;
	size_t		 ngroup_names;
	long long	 last_entry_age_ms;	/* -1 when unknown */
};

struct sl_streams_report {
	struct sl_stream_entry *entries;
	size_t		 n;
	char		*error;
	/* The request's budget reached: the streams not asked (borrowed
	 * from the caller's list). */
	int		 partial;
	char *const	*uncovered;
	size_t		 nuncovered;
};

#define SL_HEALTH_ERRORS	16	/* distinct reasons named in health */

struct sl_health {
	long long	healthy, degraded, unhealthy, stalled, no_group;
	long long	max_lag, total_lag;
	int		total_saturated; /* total_lag stopped at LLONG_MAX */
	enum sl_status	status;		/* healthy, degraded or unhealthy */
	/* Why it is not whole: the masters discovery missed, then each
	 * distinct error of a failed stream ("redis 10.0.0.12:6379:
	 * Connection refused"), the first SL_HEALTH_ERRORS; borrowed from
	 * the report, which must outlive them. */
	const char	*errors[SL_HEALTH_ERRORS];
	size_t		 nerrors;
	int		 partial;	/* streams unnamed or not covered */
};

/* Copies len bytes of p (p may point into b's old value).  SL_OK or
 * SL_ENOMEM (b unchanged). */
enum sl_err sl_bytes_set(struct sl_bytes *b, const char *p, size_t len);
void	sl_bytes_free(struct sl_bytes *b);
void	sl_groups_free(struct sl_group *g, size_t n);
void	sl_consumers_free(struct sl_consumer *c, size_t n);
void	sl_lag_entry_free(struct sl_lag_entry *e);
void	sl_stream_entry_free(struct sl_stream_entry *e);
void	sl_stream_brief_free(struct sl_stream_brief *b);
void	sl_lag_report_free(struct sl_lag_report *r);
void	sl_streams_report_free(struct sl_streams_report *r);

/* "healthy", "degraded", ...; "error" for anything else. */
const char *sl_status_name(enum sl_status s);

/*
 * Stream ids "ms-seq", both parts decimal without sign and at most
 * 2^64 - 1.  sl_id_parse: SL_OK, or SL_EPROTO when id is not one.
 * sl_id_cmp sets *cmp to -1, 0 or 1 and returns SL_OK, or returns
 * SL_EPROTO (and leaves *cmp alone) when either id is malformed: a
 * malformed id is never "smaller" or "larger" than another.
 */
enum sl_err sl_id_parse(const char *id, unsigned long long *ms,
	    unsigned long long *seq);
enum sl_err sl_id_cmp(const char *a, const char *b, int *cmp);
/* Milliseconds part of a stream id; -1 when it is not an id or the part
 * does not fit in a long long. */
long long sl_id_ms(const char *id);

#endif
