/* Collectors: one pipeline per request over the process's connection.  The
 * commands for every stream go out together (bounded batches, one round trip
 * each), and the replies are turned into reports by the pure parsers. */
#include <stdlib.h>
#include <string.h>

#include "streamlag/collect.h"
#include "streamlag/xinfo.h"

#define TEN_YEARS_MS	(10LL * 366 * 24 * 3600 * 1000)
#define ONE_DAY_MS	(24LL * 3600 * 1000)

static int
add3(struct sl_pipeline *p, const char *a, const char *b, const char *s,
    size_t slen)
{
	const char	*argv[3] = { a, b, s };
	size_t		 lens[3] = { strlen(a), strlen(b), slen };

	return sl_pipeline_add(p, 3, argv, lens);
}

static void
stats_of(const struct sl_pipeline *p, struct sl_collect_stats *stats)
{
	if (stats != NULL) {
		stats->round_trips = p->round_trips;
		stats->commands = (unsigned)p->n;
	}
}

int
sl_collect_lag(struct sl_redis *r, char *const *streams, size_t nstreams,
    const char *group, const struct sl_thresholds *t,
    struct sl_lag_report *report, struct sl_collect_stats *stats)
{
	struct sl_pipeline p;
	size_t		 glen = strlen(group), i;
	int		 rc = -1;

	memset(report, 0, sizeof(*report));
	report->group = group;
	sl_pipeline_init(&p, r);
	if (nstreams > 0 &&
	    (report->entries = calloc(nstreams, sizeof(*report->entries))) == NULL)
		goto out;
	report->n = nstreams;
	for (i = 0; i < nstreams; i++) {
		const char	*argv[4] = { "XINFO", "CONSUMERS", streams[i], group };
		size_t		 lens[4] = { 5, 9, strlen(streams[i]), glen };

		if (sl_bytes_set(&report->entries[i].stream, streams[i],
		    lens[2]) == -1 ||
		    add3(&p, "XINFO", "GROUPS", streams[i], lens[2]) == -1 ||
		    sl_pipeline_add(&p, 4, argv, lens) == -1)
			goto out;
	}
	if (sl_pipeline_exec(&p) == -1) {
		if ((report->error = strdup(SL_MSG_REDIS_DOWN)) == NULL)
			goto out;
		for (i = 0; i < nstreams; i++) {
			struct sl_lag_entry *e = &report->entries[i];
			if ((e->error = strdup(SL_MSG_REDIS_DOWN)) == NULL)
				goto out;
			e->lag = -1;
			e->status = SL_STATUS_ERROR;
		}
		stats_of(&p, stats);
		sl_pipeline_free(&p);
		return -1;
	}
	for (i = 0; i < nstreams; i++)
		if (sl_lag_entry_fill(&report->entries[i], group, glen,
		    p.replies[2 * i], p.replies[2 * i + 1], t) == -1)
			goto out;
	sl_lag_report_totals(report);
	rc = 0;
out:
	stats_of(&p, stats);
	sl_pipeline_free(&p);
	if (rc == -1 && report->error == NULL) {
		/* Out of memory: an internal error, not Redis's fault. */
		sl_lag_report_free(report);
		report->error = NULL;
		return -2;
	}
	return rc;
}

/* Redis's clock from a TIME reply, in ms; -1 when malformed. */
static long long
time_ms(const redisReply *r)
{
	long long	 v[2];
	char		*end;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
		return -1;
	for (int i = 0; i < 2; i++) {
		if (r->element[i]->type != REDIS_REPLY_STRING)
			return -1;
		v[i] = strtoll(r->element[i]->str, &end, 10);
		if (*end != '\0' || v[i] < 0)
			return -1;
	}
	return v[0] * 1000 + v[1] / 1000;
}

static int
stream_error(struct sl_stream_entry *e, const redisReply *r, const char *msg)
{
	if (r != NULL && r->type == REDIS_REPLY_ERROR) {
		const char *s = r->str;
		size_t len = r->len;
		if (len >= 4 && memcmp(s, "ERR ", 4) == 0) {
			s += 4;
			len -= 4;
		}
		e->error = strndup(s, len);
	} else
		e->error = strdup(msg);
	return e->error == NULL ? -1 : 0;
}

static int
fill_stream(struct sl_stream_entry *e, const redisReply *info,
    const redisReply *groups, long long now_ms)
{
	struct sl_group	*gs = NULL;
	size_t		 ng = 0;
	char		 err[256];
	long long	 ms;

	e->last_entry_age_ms = -1;
	if (info == NULL || info->type == REDIS_REPLY_ERROR)
		return stream_error(e, info, "no reply from Redis");
	if (sl_xinfo_stream(info, &e->info, err, sizeof(err)) == -1)
		return stream_error(e, NULL, err);
	if (groups == NULL || groups->type == REDIS_REPLY_ERROR)
		return stream_error(e, groups, "no reply from Redis");
	if (sl_xinfo_groups(groups, &gs, &ng, err, sizeof(err)) == -1)
		return stream_error(e, NULL, err);
	if (ng > 0 && (e->group_names = calloc(ng, sizeof(*e->group_names))) == NULL) {
		sl_groups_free(gs, ng);
		return -1;
	}
	for (size_t i = 0; i < ng; i++) {
		e->group_names[i] = gs[i].name;	/* moved */
		memset(&gs[i].name, 0, sizeof(gs[i].name));
	}
	e->ngroup_names = ng;
	sl_groups_free(gs, ng);
	ms = sl_id_ms(e->info.last_entry_id);
	/* Only ids that look like timestamps give an age. */
	if (now_ms > 0 && ms >= 0 && ms >= now_ms - TEN_YEARS_MS &&
	    ms <= now_ms + ONE_DAY_MS)
		e->last_entry_age_ms = now_ms > ms ? now_ms - ms : 0;
	return 0;
}

int
sl_collect_streams(struct sl_redis *r, char *const *streams, size_t nstreams,
    struct sl_streams_report *report, struct sl_collect_stats *stats)
{
	struct sl_pipeline p;
	const char	*targv[1] = { "TIME" };
	size_t		 tlen[1] = { 4 }, i;
	long long	 now_ms;
	int		 rc = -2;

	memset(report, 0, sizeof(*report));
	sl_pipeline_init(&p, r);
	if (nstreams > 0 &&
	    (report->entries = calloc(nstreams, sizeof(*report->entries))) == NULL)
		goto out;
	report->n = nstreams;
	if (sl_pipeline_add(&p, 1, targv, tlen) == -1)
		goto out;
	for (i = 0; i < nstreams; i++) {
		size_t len = strlen(streams[i]);
		if (sl_bytes_set(&report->entries[i].name, streams[i], len) == -1 ||
		    add3(&p, "XINFO", "STREAM", streams[i], len) == -1 ||
		    add3(&p, "XINFO", "GROUPS", streams[i], len) == -1)
			goto out;
	}
	if (sl_pipeline_exec(&p) == -1) {
		rc = -1;
		if ((report->error = strdup(SL_MSG_REDIS_DOWN)) == NULL)
			rc = -2;
		goto out;
	}
	now_ms = time_ms(p.replies[0]);
	for (i = 0; i < nstreams; i++)
		if (fill_stream(&report->entries[i], p.replies[1 + 2 * i],
		    p.replies[2 + 2 * i], now_ms) == -1)
			goto out;
	rc = 0;
out:
	stats_of(&p, stats);
	sl_pipeline_free(&p);
	return rc;
}
