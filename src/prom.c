/* SPDX-License-Identifier: ISC */
/* /metrics in the Prometheus text format 0.0.4.  One family at a time, each
 * with HELP and TYPE; label values made valid UTF-8 (U+FFFD) and escaped as
 * the format requires (\\ \" \n). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "streamlag/alloc.h"
#include "streamlag/jsonw.h"	/* sl_utf8_sanitize */
#include "streamlag/lag.h"
#include "streamlag/history_api.h"
#include "streamlag/prom.h"
#include "streamlag/model.h"

/* A string literal, its length known at compile time. */
#define LIT(b, s)	sl_out_put((b), (s), sizeof(s) - 1)

/* A label value: bytes made valid UTF-8 (NUL too), then escaped. */
static void
put_label(struct sl_out *b, const char *p, size_t len)
{
	size_t	 i, n, run;
	char	*clean = NULL;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x80 || c == '\0')
			break;
	}
	if (i < len) {
		if ((clean = sl_utf8_sanitize(p, len, 0, &n)) == NULL) {
			sl_out_fail(b, SL_ENOMEM);
			return;
		}
		p = clean;
		len = n;
	}
	for (i = 0; i < len; i = run + 1) {
		for (run = i; run < len && p[run] != '\\' && p[run] != '"' &&
		    p[run] != '\n'; run++)
			;
		sl_out_put(b, p + i, run - i);
		if (run == len)
			break;
		sl_out_put(b, p[run] == '\\' ? "\\\\" : p[run] == '"' ? "\\\"" : "\\n", 2);
	}
	sl_free(clean);
}

static void
family(struct sl_out *b, const char *name, const char *type, const char *help)
{
	sl_out_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* streamlag_redis_node_up{node="host:port"}: each node as it last was. */
static void
node_up(struct sl_out *b, const struct sl_prom_opts *o)
{
	if (o->nnodes == 0)
		return;
	family(b, "streamlag_redis_node_up", "gauge", "1 when the Redis node "
	    "answered its last commands, 0 when it failed.");
	for (size_t i = 0; i < o->nnodes; i++) {
		if (o->node_up[i] < 0)
			continue;
		sl_out_puts(b, "streamlag_redis_node_up{node=\"");
		put_label(b, o->node_name[i], strlen(o->node_name[i]));
		if (o->node_role != NULL && o->node_role[i] != NULL)
			sl_out_printf(b, "\",role=\"%s", o->node_role[i]);
		sl_out_printf(b, "\"} %d\n", o->node_up[i]);
	}
}

/* streamlag_redis_replica_offset_lag{node}: Sentinel's replicas. */
static void
replica_lag(struct sl_out *b, const struct sl_prom_opts *o)
{
	if (o->nreplicas == 0)
		return;
	family(b, "streamlag_redis_replica_offset_lag", "gauge", "Bytes of "
	    "the replication stream a replica of the master has not "
	    "acknowledged yet.");
	for (size_t i = 0; i < o->nreplicas; i++) {
		if (o->replica_lag[i] < 0)
			continue;
		sl_out_puts(b, "streamlag_redis_replica_offset_lag{node=\"");
		put_label(b, o->replica_name[i], strlen(o->replica_name[i]));
		sl_out_printf(b, "\"} %lld\n", o->replica_lag[i]);
	}
}

/* streamlag_build_info{version="...",commit="..."} 1: both come from git
 * (a tag name may hold a quote), so they are escaped like any label. */
static void
build_info(struct sl_out *b, const char *version, const char *commit)
{
	sl_out_puts(b, "streamlag_build_info{version=\"");
	if (version != NULL)
		put_label(b, version, strlen(version));
	sl_out_puts(b, "\",commit=\"");
	if (commit != NULL)
		put_label(b, commit, strlen(commit));
	sl_out_puts(b, "\"} 1\n");
}

/* Appends n bytes at w: the pieces of one line, written in place after
 * one sl_out_room for the whole line. */
static char *
cat(char *w, const char *p, size_t n)
{
	memcpy(w, p, n);
	return w + n;
}

#define CAT(w, s)	cat((w), (s), sizeof(s) - 1)

/* name{stream="..."} (the streams' families; the groups' are glabels'). */
static void
stream_labels(struct sl_out *b, const char *name, const struct sl_bytes *stream)
{
	sl_out_puts(b, name);
	LIT(b, "{stream=\"");
	put_label(b, stream->p, stream->len);
	LIT(b, "\"} ");
}

/* Samples are written without printf (sl_fmt_int), in place: 2 million
 * lines for 100 000 streams. */
static void
value_int(struct sl_out *b, long long v)
{
	char	*w = sl_out_room(b, SL_INT_DIGITS + 1);
	size_t	 n;

	if (w == NULL)
		return;
	n = sl_fmt_int(w, v);
	w[n++] = '\n';
	sl_out_advance(b, n);
}

/* Milliseconds as seconds, exactly: 1500 -> "1.500". */
static void
value_ms(struct sl_out *b, long long ms)
{
	char			*w = sl_out_room(b, SL_INT_DIGITS + 6);
	unsigned long long	 u = ms < 0 ? 0ULL - (unsigned long long)ms :
	    (unsigned long long)ms;
	size_t			 n = 0;

	if (w == NULL)
		return;
	if (ms < 0)
		w[n++] = '-';
	n += sl_fmt_uint(w + n, u / 1000);
	w[n++] = '.';
	w[n++] = (char)('0' + u / 100 % 10);
	w[n++] = (char)('0' + u / 10 % 10);
	w[n++] = (char)('0' + u % 10);
	w[n++] = '\n';
	sl_out_advance(b, n);
}

/* The entries of groups that exist and were read without error. */
static int
answered(const struct sl_lag_entry *e)
{
	return e->error == NULL && e->has_group;
}

/*
 * A report's groups with their stream and group label values escaped
 * (put_label) once: every family writes them again for each group, some
 * twenty times per group.  at[] holds, per entry, the offsets in esc of
 * the stream's value, the group's, and their end.
 */
struct gview {
	const struct sl_lag_report *r;
	struct sl_out	 esc;
	size_t		*at;
};

static enum sl_err
gview_make(struct gview *v, const struct sl_lag_report *r)
{
	memset(v, 0, sizeof(*v));
	v->r = r;
	sl_out_init(&v->esc);
	if (r->n == 0)
		return SL_OK;
	if ((v->at = sl_reallocarray(NULL, r->n, 3 * sizeof(*v->at))) == NULL)
		return SL_ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		v->at[3 * i] = v->esc.len;
		put_label(&v->esc, r->entries[i].stream.p,
		    r->entries[i].stream.len);
		v->at[3 * i + 1] = v->esc.len;
		put_label(&v->esc, r->entries[i].group.name.p,
		    r->entries[i].group.name.len);
		v->at[3 * i + 2] = v->esc.len;
	}
	return v->esc.err;
}

static void
gview_free(struct gview *v)
{
	sl_out_free(&v->esc);
	sl_free(v->at);
	memset(v, 0, sizeof(*v));
}

/* name{stream="...",group_label="..."[,consumer="..."][,extra]} for
 * entry e of v's report, from its escaped values. */
static void
glabels(struct sl_out *b, const char *name, const struct gview *v,
    const struct sl_lag_entry *e, const char *group_label,
    const struct sl_bytes *consumer, const char *extra)
{
	const size_t	*at = v->at + 3 * (size_t)(e - v->r->entries);
	size_t		 nl = strlen(name), ll = strlen(group_label);
	size_t		 xl = extra != NULL ? strlen(extra) : 0;
	size_t		 sl = at[1] - at[0], gl = at[2] - at[1];
	char		*w0, *w;

	/* name{stream="s",label="g" then ",consumer="c" (escaped apart)
	 * and "," extra, "} ". */
	if ((w = w0 = sl_out_room(b, nl + sl + ll + gl + xl + 32)) == NULL)
		return;
	w = cat(w, name, nl);
	w = CAT(w, "{stream=\"");
	w = cat(w, v->esc.buf + at[0], sl);
	w = CAT(w, "\",");
	w = cat(w, group_label, ll);
	w = CAT(w, "=\"");
	w = cat(w, v->esc.buf + at[1], gl);
	if (consumer != NULL) {
		w = CAT(w, "\",consumer=\"");
		sl_out_advance(b, (size_t)(w - w0));
		put_label(b, consumer->p, consumer->len);
		if ((w = w0 = sl_out_room(b, xl + 4)) == NULL)
			return;
	}
	w = CAT(w, "\"");
	if (extra != NULL) {
		w = CAT(w, ",");
		w = cat(w, extra, xl);
	}
	w = CAT(w, "} ");
	sl_out_advance(b, (size_t)(w - w0));
}

typedef void (*group_metric)(struct sl_out *, const struct sl_lag_entry *,
    const char *, const struct gview *);

static void
each_group(struct sl_out *b, const struct gview *v, const char *name,
    group_metric fn)
{
	const struct sl_lag_report *r = v->r;

	/* A failed write (the client went away) ends the loop. */
	for (size_t i = 0; i < r->n && b->err == SL_OK; i++)
		if (answered(&r->entries[i]))
			fn(b, &r->entries[i], name, v);
}

#define GROUP_LABELS(b, name, v, e) \
	glabels((b), (name), (v), (e), "group", NULL, NULL)

static void
m_seed_lag(struct sl_out *b, const struct sl_lag_entry *e, const char *name,
    const struct gview *r)
{
	glabels(b, name, r, e, "consumer_group", NULL, NULL);
	value_int(b, e->lag);
}

static void
m_lag(struct sl_out *b, const struct sl_lag_entry *e, const char *name,
    const struct gview *r)
{
	GROUP_LABELS(b, name, r, e);
	value_int(b, e->lag);
}

static void
m_lag_exact(struct sl_out *b, const struct sl_lag_entry *e, const char *name,
    const struct gview *r)
{
	GROUP_LABELS(b, name, r, e);
	value_int(b, e->lag_exact);
}

static void
m_time_lag(struct sl_out *b, const struct sl_lag_entry *e, const char *name,
    const struct gview *r)
{
	if (!e->has_time_lag)
		return;
	GROUP_LABELS(b, name, r, e);
	value_ms(b, e->time_lag_ms);
}

static void
m_pending(struct sl_out *b, const struct sl_lag_entry *e, const char *name,
    const struct gview *r)
{
	GROUP_LABELS(b, name, r, e);
	value_int(b, e->group.pending);
}

static void
m_oldest_pending(struct sl_out *b, const struct sl_lag_entry *e, const char *name,
    const struct gview *r)
{
	if (!e->has_oldest_pending)	/* none pending, or unknown: as JSON's null */
		return;
	GROUP_LABELS(b, name, r, e);
	value_ms(b, e->oldest_pending_ms);
}

static void
m_consumers(struct sl_out *b, const struct sl_lag_entry *e, const char *name,
    const struct gview *r)
{
	GROUP_LABELS(b, name, r, e);
	value_int(b, (long long)e->nconsumers);
}

static void
m_trimmed(struct sl_out *b, const struct sl_lag_entry *e, const char *name,
    const struct gview *r)
{
	GROUP_LABELS(b, name, r, e);
	value_int(b, e->trimmed_unread);
}

static void
m_status(struct sl_out *b, const struct sl_lag_entry *e, const char *name,
    const struct gview *r)
{
	static const enum sl_status states[] = { SL_STATUS_HEALTHY,
	    SL_STATUS_DEGRADED, SL_STATUS_UNHEALTHY, SL_STATUS_STALLED };
	static char	 extra[4][40];	/* made once: 4 lines per group */

	for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
		if (extra[k][0] == '\0')
			snprintf(extra[k], sizeof(extra[k]), "status=\"%s\"",
			    sl_status_name(states[k]));
		glabels(b, name, r, e, "group", NULL, extra[k]);
		value_int(b, e->status == states[k]);
	}
}

static void
m_consumer_pending(struct sl_out *b, const struct sl_lag_entry *e,
    const char *name, const struct gview *r)
{
	for (size_t k = 0; k < e->nconsumers; k++) {
		glabels(b, name, r, e, "group",
		    &e->consumers[k].name, NULL);
		value_int(b, e->consumers[k].pending);
	}
}

/* The history's answers (history_api.h), when the entry has them. */
#define INSIGHT(e)	((const struct sl_group_insight *)(e)->insight)

static void
m_rate(struct sl_out *b, const struct sl_lag_entry *e, const char *name,
    const struct gview *r)
{
	const struct sl_insight *in;
	int	 has;
	double	 v;

	if (INSIGHT(e) == NULL)
		return;
	in = &INSIGHT(e)->in;
	if (strcmp(name, "streamlag_group_produce_rate") == 0) {
		has = in->has_produce_rate;
		v = in->produce_rate;
	} else if (strcmp(name, "streamlag_group_consume_rate") == 0) {
		has = in->has_consume_rate;
		v = in->consume_rate;
	} else {
		has = in->has_eta;
		v = in->eta_s;
	}
	if (!has)
		return;
	GROUP_LABELS(b, name, r, e);
	sl_out_printf(b, "%.3f\n", v);
}

static void
m_pel(struct sl_out *b, const struct sl_lag_entry *e, const char *name,
    const struct gview *r)
{
	const struct sl_group_pel *p;
	long long v;

	if (INSIGHT(e) == NULL || !INSIGHT(e)->has_pel)
		return;
	p = &INSIGHT(e)->pel;
	if (strcmp(name, "streamlag_group_poison_entries") == 0)
		v = p->poison;
	else if (strcmp(name, "streamlag_group_claimable_entries") == 0)
		v = p->claimable;
	else if (strcmp(name, "streamlag_group_dangling_entries") == 0)
		v = p->dangling;
	else
		v = p->dead_consumers;
	if (v < 0)
		return;		/* unknown */
	GROUP_LABELS(b, name, r, e);
	value_int(b, v);
}

static void
m_verdict(struct sl_out *b, const struct sl_lag_entry *e, const char *name,
    const struct gview *r)
{
	char extra[40];

	if (INSIGHT(e) == NULL || INSIGHT(e)->in.verdict == SL_VERDICT_UNKNOWN)
		return;
	for (int k = SL_VERDICT_OK; k < SL_VERDICT_COUNT; k++) {
		snprintf(extra, sizeof(extra), "verdict=\"%s\"",
		    sl_verdict_name((enum sl_verdict)k));
		glabels(b, name, r, e, "group", NULL, extra);
		value_int(b, INSIGHT(e)->in.verdict == (enum sl_verdict)k);
	}
}

static void
m_consumer_inactive(struct sl_out *b, const struct sl_lag_entry *e,
    const char *name, const struct gview *r)
{
	for (size_t k = 0; k < e->nconsumers; k++) {
		if (!e->consumers[k].has_inactive ||
		    e->consumers[k].inactive_ms < 0)
			continue;
		glabels(b, name, r, e, "group",
		    &e->consumers[k].name, NULL);
		value_ms(b, e->consumers[k].inactive_ms);
	}
}

static void
m_consumer_idle(struct sl_out *b, const struct sl_lag_entry *e, const char *name,
    const struct gview *r)
{
	for (size_t k = 0; k < e->nconsumers; k++) {
		glabels(b, name, r, e, "group",
		    &e->consumers[k].name, NULL);
		value_ms(b, e->consumers[k].idle_ms);
	}
}

static void
stream_lines(struct sl_out *b, const struct sl_lag_report *r, const char *name,
    int which)
{
	for (size_t i = 0; i < r->nsinfo && b->err == SL_OK; i++) {
		const struct sl_stream_brief *s = &r->sinfo[i];

		if (which == 4) {		/* streamlag_stream_up */
			stream_labels(b, name, &s->name);
			value_int(b, s->error == NULL);
			continue;
		}
		if (s->error != NULL)
			continue;
		switch (which) {
		case 0:
			stream_labels(b, name, &s->name);
			value_int(b, s->length);
			break;
		case 1:
			stream_labels(b, name, &s->name);
			value_int(b, s->groups);
			break;
		case 2:
			if (!s->has_entries_added)
				break;
			stream_labels(b, name, &s->name);
			value_int(b, s->entries_added);
			break;
		case 3:
			/* Only ids that are timestamps (their age is known). */
			if (s->last_entry_ms < 0)
				break;
			stream_labels(b, name, &s->name);
			value_ms(b, s->last_entry_ms);
			break;
		}
	}
}

/* A family of the streams' and groups' series: stream facts (which, of
 * stream_lines) or one line per group (fn). */
struct fam {
	const char	*name, *type, *help;
	int		 which;		/* -1: a group family */
	group_metric	 fn;
};

#define PEL_HELP(n, h)	{ n, "gauge", h, -1, m_pel }

static const struct fam fams_streams[] = {
	/* The seed's two families first, under their own names. */
	{ "event_consumer_lag", "gauge", "Entries of the stream not yet "
	    "delivered to the consumer group.", -1, m_seed_lag },
	{ "event_queue_depth", "gauge", "Entries in the stream (XLEN).", 0,
	    NULL },
	{ "streamlag_stream_length", "gauge", "Entries in the stream.", 0,
	    NULL },
	{ "streamlag_stream_groups", "gauge", "Consumer groups of the stream.",
	    1, NULL },
	{ "streamlag_stream_entries_added_total", "counter", "Entries ever "
	    "added to the stream (Redis 7.0+).", 2, NULL },
	{ "streamlag_stream_last_entry_timestamp_seconds", "gauge", "Time of "
	    "the newest entry, from its id.", 3, NULL },
	{ "streamlag_stream_up", "gauge", "1 when the stream could be read.",
	    4, NULL },
	{ "streamlag_group_lag", "gauge", "Entries left to deliver to the "
	    "group (absent when unknown).", -1, m_lag },
	{ "streamlag_group_lag_exact", "gauge", "1 when streamlag_group_lag is "
	    "exact, 0 when the count cap was hit.", -1, m_lag_exact },
	{ "streamlag_group_time_lag_seconds", "gauge", "Age of the oldest "
	    "entry not yet delivered to the group.", -1, m_time_lag },
	{ "streamlag_group_pending", "gauge", "Entries delivered to the group "
	    "and not yet acknowledged.", -1, m_pending },
	{ "streamlag_group_oldest_pending_seconds", "gauge", "Age of the "
	    "oldest pending entry (absent when none or unknown).", -1,
	    m_oldest_pending },
	{ "streamlag_group_consumers", "gauge", "Consumers in the group.", -1,
	    m_consumers },
	{ "streamlag_group_trimmed_unread", "gauge", "Entries trimmed before "
	    "the group read them.", -1, m_trimmed },
	{ "streamlag_group_status", "gauge", "1 for the group's current "
	    "status, 0 for the others.", -1, m_status },
};

/* With STREAMLAG_METRICS_CONSUMERS. */
static const struct fam fams_consumers[] = {
	{ "streamlag_consumer_pending", "gauge", "Entries pending for the "
	    "consumer.", -1, m_consumer_pending },
	{ "streamlag_consumer_idle_seconds", "gauge", "Time since the "
	    "consumer's last interaction.", -1, m_consumer_idle },
	{ "streamlag_consumer_inactive_seconds", "gauge", "Time since the "
	    "consumer last read (Redis 7.2+).", -1, m_consumer_inactive },
};

/* What the sampler's history says: only when it is on. */
static const struct fam fams_history[] = {
	{ "streamlag_group_produce_rate", "gauge", "Entries added per second "
	    "over STREAMLAG_RATE_WINDOW_S.", -1, m_rate },
	{ "streamlag_group_consume_rate", "gauge", "Entries read by the group "
	    "per second over STREAMLAG_RATE_WINDOW_S.", -1, m_rate },
	{ "streamlag_group_eta_seconds", "gauge", "Time to catch up at the "
	    "current net rate (absent when not catching up).", -1, m_rate },
	PEL_HELP("streamlag_group_poison_entries", "Pending entries delivered "
	    "STREAMLAG_POISON_DELIVERIES times or more."),
	PEL_HELP("streamlag_group_claimable_entries", "Pending entries idle "
	    "STREAMLAG_CLAIM_IDLE_MS or more."),
	PEL_HELP("streamlag_group_dangling_entries", "Pending entries older "
	    "than the stream's first entry (trimmed unacknowledged)."),
	PEL_HELP("streamlag_group_dead_consumers", "Consumers holding pending "
	    "entries and not reading for STREAMLAG_DEAD_CONSUMER_MS."),
	{ "streamlag_group_verdict", "gauge", "1 for the group's current "
	    "verdict (ok, falling_behind, stopped, rewound).", -1, m_verdict },
};

#define NFAMS(a)	(sizeof(a) / sizeof((a)[0]))

/* Family k of those the options ask for, in the exposition's order; NULL
 * past the last. */
static const struct fam *
fam_at(const struct sl_prom_opts *o, size_t k)
{
	if (k < NFAMS(fams_streams))
		return &fams_streams[k];
	k -= NFAMS(fams_streams);
	if (o->consumers) {
		if (k < NFAMS(fams_consumers))
			return &fams_consumers[k];
		k -= NFAMS(fams_consumers);
	}
	if (o->history && k < NFAMS(fams_history))
		return &fams_history[k];
	return NULL;
}

/* The lines of family f over r's streams or groups (no HELP, TYPE). */
static void
fam_lines(struct sl_out *b, const struct gview *v, const struct fam *f)
{
	if (f->which >= 0)
		stream_lines(b, v->r, f->name, f->which);
	else
		each_group(b, v, f->name, f->fn);
}

/* After the families of the streams and groups: the history's own. */
static void
history_untracked(struct sl_out *b, const struct sl_prom_opts *o)
{
	if (!o->history)
		return;
	family(b, "streamlag_history_untracked_groups", "gauge", "Groups the "
	    "history could not keep (STREAMLAG_HISTORY_GROUPS).");
	sl_out_printf(b, "streamlag_history_untracked_groups %llu\n",
	    (unsigned long long)o->untracked);
}

static void
self_metrics(struct sl_out *b, const struct sl_prom_opts *o)
{
	const struct sl_counters *c = o->counters;
	static const struct sl_counters zero;

	if (c == NULL)
		c = &zero;
	family(b, "streamlag_http_requests_total", "counter",
	    "Requests answered, by route and status code.");
	for (int rt = 0; rt < SL_ROUTES; rt++)
		for (int k = 0; k < SL_CODES; k++) {
			uint64_t n = __atomic_load_n(&c->requests[rt][k],
			    __ATOMIC_RELAXED);
			if (n == 0)
				continue;
			if (k < SL_CODES - 1)
				sl_out_printf(b, "streamlag_http_requests_total{route=\"%s\","
				    "code=\"%d\"} %llu\n", sl_route_names[rt],
				    sl_codes[k], (unsigned long long)n);
			else
				sl_out_printf(b, "streamlag_http_requests_total{route=\"%s\","
				    "code=\"other\"} %llu\n", sl_route_names[rt],
				    (unsigned long long)n);
		}
	family(b, "streamlag_http_request_duration_seconds", "histogram",
	    "Time to answer a request, by route.");
	for (int rt = 0; rt < SL_ROUTES; rt++) {
		uint64_t cum = 0;

		for (int k = 0; k <= SL_BUCKETS; k++) {
			cum += __atomic_load_n(&c->duration_bucket[rt][k],
			    __ATOMIC_RELAXED);
			if (k < SL_BUCKETS)
				sl_out_printf(b, "streamlag_http_request_duration_seconds_bucket"
				    "{route=\"%s\",le=\"%g\"} %llu\n",
				    sl_route_names[rt], sl_buckets[k],
				    (unsigned long long)cum);
			else
				sl_out_printf(b, "streamlag_http_request_duration_seconds_bucket"
				    "{route=\"%s\",le=\"+Inf\"} %llu\n",
				    sl_route_names[rt], (unsigned long long)cum);
		}
		sl_out_printf(b, "streamlag_http_request_duration_seconds_sum{route=\"%s\"} "
		    "%.6f\n", sl_route_names[rt], (double)__atomic_load_n(
		    &c->duration_sum_us[rt], __ATOMIC_RELAXED) / 1e6);
		sl_out_printf(b, "streamlag_http_request_duration_seconds_count{route=\"%s\"} "
		    "%llu\n", sl_route_names[rt], (unsigned long long)cum);
	}
	family(b, "streamlag_redis_errors_total", "counter",
	    "Connection-level Redis errors: refused, timed out, dropped.");
	sl_out_printf(b, "streamlag_redis_errors_total %llu\n", (unsigned long long)
	    __atomic_load_n(&c->redis_errors, __ATOMIC_RELAXED));
	family(b, "streamlag_redis_connects_total", "counter",
	    "Connections made to Redis.");
	sl_out_printf(b, "streamlag_redis_connects_total %llu\n", (unsigned long long)
	    __atomic_load_n(&c->redis_connects, __ATOMIC_RELAXED));
	family(b, "streamlag_redis_redirects_total", "counter",
	    "Redis Cluster redirections followed, by kind.");
	sl_out_printf(b, "streamlag_redis_redirects_total{kind=\"moved\"} %llu\n",
	    (unsigned long long)__atomic_load_n(&c->redis_redirects_moved,
	    __ATOMIC_RELAXED));
	sl_out_printf(b, "streamlag_redis_redirects_total{kind=\"ask\"} %llu\n",
	    (unsigned long long)__atomic_load_n(&c->redis_redirects_ask,
	    __ATOMIC_RELAXED));
	family(b, "streamlag_worker_restarts_total", "counter",
	    "Workers replaced after they exited.");
	sl_out_printf(b, "streamlag_worker_restarts_total %llu\n", (unsigned long long)
	    __atomic_load_n(&c->worker_restarts, __ATOMIC_RELAXED));
}

/* The families of the scrape itself and of streamlag. */
static void
scrape_families(struct sl_out *b, const struct sl_lag_report *r,
    const struct sl_prom_opts *o)
{
	family(b, "streamlag_redis_up", "gauge", "1 when this scrape reached "
	    "every Redis node it needed.");
	sl_out_printf(b, "streamlag_redis_up %d\n", o->redis_up);
	node_up(b, o);
	replica_lag(b, o);
	family(b, "streamlag_collect_duration_seconds", "gauge",
	    "Time this scrape spent collecting from Redis.");
	sl_out_printf(b, "streamlag_collect_duration_seconds %.6f\n",
	    o->collect_seconds);
	family(b, "streamlag_streams_truncated", "gauge",
	    "1 when discovery stopped at STREAMLAG_DISCOVERY_MAX.");
	sl_out_printf(b, "streamlag_streams_truncated %d\n", o->truncated);
	family(b, "streamlag_streams_not_covered", "gauge",
	    "Streams this scrape left out: STREAMLAG_REQUEST_MAX_COMMANDS or "
	    "_MAX_BYTES ran out (0 = complete).");
	sl_out_printf(b, "streamlag_streams_not_covered %lld\n",
	    r != NULL ? (long long)r->not_covered : 0LL);
	if (o->target_only)
		return;		/* ?target=: that target's families alone */
	self_metrics(b, o);
	family(b, "streamlag_build_info", "gauge",
	    "streamlag's version and the commit it was built from.");
	build_info(b, o->version, o->commit);
}

enum sl_err
sl_render_prom_out(const struct sl_lag_report *r, const struct sl_prom_opts *o,
    struct sl_out *out)
{
	const struct fam *f;
	struct gview	 v;

	if (r != NULL && gview_make(&v, r) != SL_OK) {
		gview_free(&v);
		sl_out_fail(out, SL_ENOMEM);
		return out->err;
	}
	for (size_t k = 0; r != NULL && (f = fam_at(o, k)) != NULL; k++) {
		family(out, f->name, f->type, f->help);
		fam_lines(out, &v, f);
	}
	if (r != NULL)
		gview_free(&v);
	if (r != NULL)
		history_untracked(out, o);
	scrape_families(out, r, o);
	return out->err;
}

/* Each family's buffer as large as it grew at the last scrape of this
 * process: it is allocated once instead of doubled (and copied) a dozen
 * times.  The heap keeps a worker's request memory (worker.c), so this
 * costs no more than the last scrape did. */
static size_t stage_cap[SL_PROM_STAGED];

void
sl_prom_stage_init(struct sl_prom_stage *st)
{
	for (size_t k = 0; k < SL_PROM_STAGED; k++) {
		sl_out_init(&st->fam[k]);
		sl_out_presize(&st->fam[k], stage_cap[k]);
		st->spill[k].fd = -1;
	}
	st->spilling = 0;
	st->mem_max = SL_PROM_STAGE_MEM;
}

/* An unlinked file of the worker's own in $TMPDIR (else /tmp). */
static int
spill_open(void)
{
	const char	*dir = getenv("TMPDIR");
	char		 path[4096];
	int		 fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) != -1)
		return fd;
	/* No O_TMPFILE there: a named one, unlinked at once. */
	if (snprintf(path, sizeof(path), "%s/streamlag-metrics.XXXXXX", dir) >=
	    (int)sizeof(path) || (fd = mkostemp(path, O_CLOEXEC)) == -1)
		return -1;
	(void)unlink(path);
	return fd;
}

/* The sink of a family's buffer: appends to its file. */
static int
spill_write(void *arg, const char *p, size_t n)
{
	struct sl_prom_spill	*sp = arg;
	ssize_t			 w;

	if (sp->fd == -1 && (sp->fd = spill_open()) == -1)
		return -1;
	while (n > 0) {
		if ((w = write(sp->fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

enum sl_err
sl_prom_stage_add(struct sl_prom_stage *st, const struct sl_lag_report *chunk,
    const struct sl_prom_opts *o)
{
	const struct fam *f;
	struct gview	 v;
	size_t		 held = 0, k;

	if (gview_make(&v, chunk) != SL_OK) {
		gview_free(&v);
		return SL_ENOMEM;
	}
	for (k = 0; k < SL_PROM_STAGED && (f = fam_at(o, k)) != NULL; k++) {
		fam_lines(&st->fam[k], &v, f);
		if (st->fam[k].err != SL_OK) {
			gview_free(&v);
			return st->fam[k].err;
		}
		held += st->fam[k].len;
	}
	gview_free(&v);
	if (held < st->mem_max || st->spilling)
		return SL_OK;
	/* Past what is kept in memory: every family goes on in its file. */
	st->spilling = 1;
	while (k-- > 0) {
		sl_out_set_sink(&st->fam[k], spill_write, &st->spill[k], 0);
		if (sl_out_flush(&st->fam[k]) != SL_OK)
			return st->fam[k].err;
	}
	return SL_OK;
}

/* Family k's lines into out: what spilled, then what is buffered. */
static enum sl_err
stage_copy(struct sl_prom_stage *st, size_t k, struct sl_out *out)
{
	struct sl_out	*b = &st->fam[k];
	char		 buf[SL_OUT_FLUSH_AT];
	ssize_t		 n;

	if (b->err != SL_OK)
		return b->err;
	if (st->spill[k].fd != -1) {
		if (lseek(st->spill[k].fd, 0, SEEK_SET) == -1)
			return SL_ESYS;
		while ((n = read(st->spill[k].fd, buf, sizeof(buf))) != 0) {
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1)
				return SL_ESYS;
			sl_out_put(out, buf, (size_t)n);
		}
	}
	if (b->len > 0)
		sl_out_put(out, b->buf, b->len);
	return out->err;
}

enum sl_err
sl_prom_stage_out(struct sl_prom_stage *st, const struct sl_lag_report *r,
    const struct sl_prom_opts *o, struct sl_out *out)
{
	const struct fam *f;
	enum sl_err	 rc;

	for (size_t k = 0; k < SL_PROM_STAGED && (f = fam_at(o, k)) != NULL;
	    k++) {
		family(out, f->name, f->type, f->help);
		if ((rc = stage_copy(st, k, out)) != SL_OK) {
			sl_out_fail(out, rc);
			return rc;
		}
	}
	history_untracked(out, o);
	scrape_families(out, r, o);
	return out->err;
}

void
sl_prom_stage_free(struct sl_prom_stage *st)
{
	for (size_t k = 0; k < SL_PROM_STAGED; k++) {
		stage_cap[k] = st->fam[k].cap > 0 ? st->fam[k].cap - 1 : 0;
		sl_out_free(&st->fam[k]);
		if (st->spill[k].fd != -1)
			(void)close(st->spill[k].fd);
		st->spill[k].fd = -1;
	}
}

char *
sl_render_prom(const struct sl_lag_report *r, const struct sl_prom_opts *o)
{
	struct sl_out out;

	sl_out_init(&out);
	if (sl_render_prom_out(r, o, &out) != SL_OK) {
		sl_out_free(&out);
		return NULL;
	}
	return sl_out_finish(&out, NULL);
}
