/* SPDX-License-Identifier: ISC */
/* Collectors: pipeline the XINFO commands for a list of streams over one
 * connection and turn the replies into reports. */
#ifndef STREAMLAG_COLLECT_H
#define STREAMLAG_COLLECT_H

#include <stddef.h>

#include "streamlag/lag.h"
#include "streamlag/model.h"
#include "streamlag/redis.h"

/* The seed's words for an unreachable Redis, kept for its clients. */
#define SL_MSG_REDIS_DOWN "Cannot connect to Redis"

struct sl_collect_stats {
	unsigned round_trips;
	unsigned commands;
};

struct sl_lag_query {
	const char	*group;		/* the group; ignored with all_groups */
	int		 all_groups;	/* every group of each stream */
	const struct sl_thresholds *t;
	int		 with_streams;	/* XINFO STREAM of each stream too (/metrics) */
	/* With all_groups, the configured group (or NULL): its XINFO
	 * CONSUMERS goes with each stream's XINFO GROUPS in batch 1, so that
	 * where the streams have it (most do) its consumers need no batch 2.
	 * Left out while the last chunk found it in under 9 of 10 streams
	 * (each miss is a NOGROUP error in Redis's error statistics), once
	 * the ACL refused it, and where it would leave streams out of the
	 * command budget. */
	const char	*hint;
	/* When set, each chunk goes to on_chunk as soon as it is final (a
	 * view of the report holding that chunk's entries and stream facts),
	 * and is freed after it: the report keeps its totals and the entries
	 * the budget left out (for their names).  A failure of on_chunk ends
	 * the request with it.  Redis lost after a first chunk: the streams
	 * left are entries with the error, and the request is SL_OK.  The
	 * next chunk's first batch is on the wire while on_chunk runs: it
	 * must not use the connection. */
	enum sl_err	(*on_chunk)(void *arg, struct sl_lag_report *chunk);
	void		*chunk_arg;
};

/*
 * Each collector returns SL_OK with the report filled; SL_EREDIS when
 * Redis is unreachable (report->error set; for lag, each entry still lists
 * its stream; the words of Redis or of the system in r->errstr); SL_ENOMEM
 * when out of memory (no report).  A stream Redis refused or answered
 * with a malformed reply is that stream's error, not the request's.  The
 * report is freed by its sl_*_report_free.
 *
 * Consumer lag: one round trip for the XINFO batch, plus at most one
 * follow-up batch for the groups whose lag must be counted or dated, or
 * that have pending entries (see sl_lag_followup), one batch of XINFO
 * STREAM for the streams whose XLEN did not settle a group's lag (see
 * sl_lag_needs_stream), and one batch of count steps.
 */
enum sl_err sl_collect_lag(struct sl_redis *r, char *const *streams,
	    size_t nstreams, const struct sl_lag_query *q,
	    struct sl_lag_report *report, struct sl_collect_stats *stats);

/* SCAN ... MATCH pattern TYPE stream: the matching streams, sorted, at most
 * max (truncated set when more exist).  SL_OK, SL_EREDIS when Redis failed
 * or answered what is not a SCAN reply, SL_ENOMEM.  Free with
 * sl_names_free. */
enum sl_err sl_discover(struct sl_redis *r, const char *pattern,
	    long long max, char ***out, size_t *n, int *truncated,
	    struct sl_collect_stats *stats);
void	sl_names_free(char **names, size_t n);

/* /streams: the facts of each stream, a chunk at a time; with t (NULL:
 * none), within the request's budget (report->partial, the streams left
 * out named).  SL_OK, SL_EREDIS (report->error set) or SL_ENOMEM. */
enum sl_err sl_collect_streams(struct sl_redis *r, char *const *streams,
	    size_t nstreams, const struct sl_thresholds *t,
	    struct sl_streams_report *report, struct sl_collect_stats *stats);

/*
 * The consumer-lag request in steps, over a plan: each batch's commands
 * are built first, each with its slot (what it asks, for which stream and
 * entry, and the key it reads); then its replies are consumed one by one,
 * in any number of round trips, by whatever sends them.  sl_collect_lag
 * sends them over the process's connection; a unit test answers them
 * itself; a cluster executor would route them by the slot's key.
 *
 *	sl_lag_run_init(&run, ...);
 *	while (sl_lag_run_build(&run, &p) == SL_OK && !run.done)
 *		for each command i of the batch (from run.plan.first):
 *			sl_lag_run_reply(&run, i, reply);	(takes reply)
 *	sl_lag_run_finish(&run);  sl_lag_run_free(&run);
 */
enum sl_ask {
	SL_ASK_INFO,		/* INFO server, once per connection */
	SL_ASK_TIME,		/* TIME (of each master: aux is its node) */
	SL_ASK_STREAM,		/* XINFO STREAM s, for the report (/metrics) */
	SL_ASK_GROUPS,		/* XINFO GROUPS s */
	SL_ASK_CONSUMERS,	/* XINFO CONSUMERS s g */
	SL_ASK_NEXT,		/* XRANGE s (last-delivered + COUNT 1 */
	SL_ASK_FACTS,		/* XINFO STREAM s, shared by its groups */
	SL_ASK_LENGTH,		/* XLEN s, shared by its groups */
	SL_ASK_PENDING,		/* XPENDING s g - + 1 */
	SL_ASK_COUNT		/* XRANGE s (cursor end COUNT step */
};

struct sl_plan_slot {
	enum sl_ask	 ask;
	size_t		 stream;	/* index in the request's streams */
	size_t		 entry;		/* report entry; SIZE_MAX in batch 1 */
	size_t		 aux;		/* SL_ASK_FACTS, SL_ASK_LENGTH: the
					 * stream's facts; SL_ASK_COUNT: the
					 * count */
	const char	*key;		/* the key read; NULL for INFO, TIME */
	size_t		 keylen;
};

struct sl_plan {
	struct sl_plan_slot	*slot;
	size_t		 n, cap;
	size_t		 first;		/* pipeline index of slot[0] */
};

struct sl_followup;
struct sl_sfacts;
struct sl_counting;

struct sl_lag_run {
	struct sl_redis		*r;
	const struct sl_lag_query *q;
	char *const		*streams;
	size_t			 nstreams;	/* those the budget covers */
	const char		*group;		/* the group, or all groups' hint */
	size_t			 glen;
	struct sl_lag_report	*report;
	size_t			 cap;		/* entries allocated */
	int			 batch;		/* the last one built */
	int			 done;		/* no batch left */
	enum sl_err		 err;		/* the first failure of a reply */
	struct sl_plan		 plan;
	redisReply		*held;		/* GROUPS, until its CONSUMERS */
	size_t			 hint_entry;	/* the entry of q->hint in the
						 * stream last read, or SIZE_MAX */
	size_t			 hint_stream;	/* that stream */
	size_t			 hint_seen;	/* streams that have q->hint */
	size_t			 hint_streams;	/* of the streams whose groups
						 * were read */
	long long		 now_ms;	/* the first TIME answered */
	long long		*times;		/* cluster: TIME of each node */
	size_t			 ntimes;
	unsigned long long	 bytes0;	/* reply bytes before the request */
	long long		 mono_ms;	/* sl_monotonic_ms() at init: the
						 * lag cache's clock */
	int			 trusted;	/* sl_server_lag_trusted */
	struct sl_followup	*fu;		/* per entry, from batch 2 */
	struct sl_sfacts	*sf;		/* per stream of batches 2, 3 */
	struct sl_sfacts	*s1;		/* batch 1's XINFO STREAM
						 * (with_streams) or XLEN (one
						 * group), per stream */
	size_t			 k1;		/* build_second's stream in s1 */
	size_t			 nsf;
	struct sl_counting	*cnt;		/* count steps of batch 4 */
	size_t			 ncount, capcount;
	unsigned long long	 count_bytes;	/* what they ask, about */
	struct sl_lagcache	*cache;
	long long		 step;
};

enum sl_err sl_lag_run_init(struct sl_lag_run *run, struct sl_redis *r,
	    char *const *streams, size_t nstreams, const struct sl_lag_query *q,
	    struct sl_lag_report *report);
/* The next batch's commands into p and run->plan (run->plan.n may be 0);
 * run->done when none is left. */
enum sl_err sl_lag_run_build(struct sl_lag_run *run, struct sl_pipeline *p);
/* Reply idx of the pipeline (an on_reply callback: arg is the run). */
void	sl_lag_run_reply(void *arg, size_t idx, redisReply *reply);
/* Time lag, status and totals once every batch is answered. */
enum sl_err sl_lag_run_finish(struct sl_lag_run *run);
void	sl_lag_run_free(struct sl_lag_run *run);

#endif
