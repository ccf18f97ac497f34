/* SPDX-License-Identifier: ISC */
/* /metrics in the Prometheus text format 0.0.4.  One family at a time, each
 * with HELP and TYPE; label values made valid UTF-8 (U+FFFD) and escaped as
 * the format requires (\\ \" \n). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/jsonw.h"	/* sl_utf8_sanitize */
#include "streamlag/lag.h"
#include "streamlag/prom.h"
#include "streamlag/model.h"

struct buf {
	char	*p;
	size_t	 len, cap;
	int	 err;
};

static int
reserve(struct buf *b, size_t n)
{
	size_t	 cap;
	char	*p;

	if (b->err)
		return 0;
	if (b->len + n + 1 <= b->cap)
		return 1;
	for (cap = b->cap ? b->cap : 65536; cap < b->len + n + 1; cap *= 2)
		;
	if ((p = realloc(b->p, cap)) == NULL) {
		b->err = 1;
		return 0;
	}
	b->p = p;
	b->cap = cap;
	return 1;
}

static void
put(struct buf *b, const char *s, size_t n)
{
	if (reserve(b, n)) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
	}
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void putf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
putf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (!reserve(b, 64))
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = 1;
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		if (!reserve(b, (size_t)n))
			return;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* A label value: bytes made valid UTF-8 (NUL too), then escaped. */
static void
put_label(struct buf *b, const char *p, size_t len)
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
			b->err = 1;
			return;
		}
		p = clean;
		len = n;
	}
	for (i = 0; i < len; i = run + 1) {
		for (run = i; run < len && p[run] != '\\' && p[run] != '"' &&
		    p[run] != '\n'; run++)
			;
		put(b, p + i, run - i);
		if (run == len)
			break;
		put(b, p[run] == '\\' ? "\\\\" : p[run] == '"' ? "\\\"" : "\\n", 2);
	}
	free(clean);
}

static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	putf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* streamlag_redis_node_up{node="host:port"}: each node as it last was. */
static void
node_up(struct buf *b, const struct sl_prom_opts *o)
{
	if (o->nnodes == 0)
		return;
	family(b, "streamlag_redis_node_up", "gauge", "1 when the Redis node "
	    "answered its last commands, 0 when it failed.");
	for (size_t i = 0; i < o->nnodes; i++) {
		if (o->node_up[i] < 0)
			continue;
		puts_(b, "streamlag_redis_node_up{node=\"");
		put_label(b, o->node_name[i], strlen(o->node_name[i]));
		putf(b, "\"} %d\n", o->node_up[i]);
	}
}

/* streamlag_build_info{version="...",commit="..."} 1: both come from git
 * (a tag name may hold a quote), so they are escaped like any label. */
static void
build_info(struct buf *b, const char *version, const char *commit)
{
	puts_(b, "streamlag_build_info{version=\"");
	if (version != NULL)
		put_label(b, version, strlen(version));
	puts_(b, "\",commit=\"");
	if (commit != NULL)
		put_label(b, commit, strlen(commit));
	puts_(b, "\"} 1\n");
}

/* name{stream="...",group="..."[,consumer="..."][,extra] */
static void
labels(struct buf *b, const char *name, const struct sl_bytes *stream,
    const char *group_label, const struct sl_bytes *group,
    const struct sl_bytes *consumer, const char *extra)
{
	puts_(b, name);
	puts_(b, "{stream=\"");
	put_label(b, stream->p, stream->len);
	if (group != NULL) {
		puts_(b, "\",");
		puts_(b, group_label);
		puts_(b, "=\"");
		put_label(b, group->p, group->len);
	}
	if (consumer != NULL) {
		puts_(b, "\",consumer=\"");
		put_label(b, consumer->p, consumer->len);
	}
	puts_(b, "\"");
	if (extra != NULL) {
		puts_(b, ",");
		puts_(b, extra);
	}
	puts_(b, "} ");
}

/* Decimal digits of v (no sign) at the end of tmp; returns where they start.
 * Samples are written without printf: 200 000 lines for 10 000 streams. */
static char *
digits(char *end, unsigned long long v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	return end;
}

static void
value_int(struct buf *b, long long v)
{
	char	 tmp[24], *p;

	tmp[23] = '\n';
	p = digits(tmp + 23, v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v);
	if (v < 0)
		*--p = '-';
	put(b, p, (size_t)(tmp + 24 - p));
}

/* Milliseconds as seconds, exactly: 1500 -> "1.500". */
static void
value_ms(struct buf *b, long long ms)
{
	char			 tmp[32], *p;
	unsigned long long	 u = ms < 0 ? 0ULL - (unsigned long long)ms :
	    (unsigned long long)ms;

	tmp[31] = '\n';
	p = tmp + 31;
	for (int i = 0; i < 3; i++) {
		*--p = (char)('0' + u % 10);
		u /= 10;
	}
	*--p = '.';
	p = digits(p, u);
	if (ms < 0)
		*--p = '-';
	put(b, p, (size_t)(tmp + 32 - p));
}

/* The entries of groups that exist and were read without error. */
static int
answered(const struct sl_lag_entry *e)
{
	return e->error == NULL && e->has_group;
}

typedef void (*group_metric)(struct buf *, const struct sl_lag_entry *,
    const char *, const struct sl_lag_report *);

static void
each_group(struct buf *b, const struct sl_lag_report *r, const char *name,
    group_metric fn)
{
	for (size_t i = 0; i < r->n; i++)
		if (answered(&r->entries[i]))
			fn(b, &r->entries[i], name, r);
}

#define GROUP_LABELS(b, name, e) \
	labels((b), (name), &(e)->stream, "group", &(e)->group.name, NULL, NULL)

static void
m_seed_lag(struct buf *b, const struct sl_lag_entry *e, const char *name,
    const struct sl_lag_report *r)
{
	(void)r;
	labels(b, name, &e->stream, "consumer_group", &e->group.name, NULL, NULL);
	value_int(b, e->lag);
}

static void
m_lag(struct buf *b, const struct sl_lag_entry *e, const char *name,
    const struct sl_lag_report *r)
{
	(void)r;
	GROUP_LABELS(b, name, e);
	value_int(b, e->lag);
}

static void
m_lag_exact(struct buf *b, const struct sl_lag_entry *e, const char *name,
    const struct sl_lag_report *r)
{
	(void)r;
	GROUP_LABELS(b, name, e);
	value_int(b, e->lag_exact);
}

static void
m_time_lag(struct buf *b, const struct sl_lag_entry *e, const char *name,
    const struct sl_lag_report *r)
{
	(void)r;
	if (!e->has_time_lag)
		return;
	GROUP_LABELS(b, name, e);
	value_ms(b, e->time_lag_ms);
}

static void
m_pending(struct buf *b, const struct sl_lag_entry *e, const char *name,
    const struct sl_lag_report *r)
{
	(void)r;
	GROUP_LABELS(b, name, e);
	value_int(b, e->group.pending);
}

static void
m_oldest_pending(struct buf *b, const struct sl_lag_entry *e, const char *name,
    const struct sl_lag_report *r)
{
	(void)r;
	GROUP_LABELS(b, name, e);
	value_ms(b, e->has_oldest_pending ? e->oldest_pending_ms : 0);
}

static void
m_consumers(struct buf *b, const struct sl_lag_entry *e, const char *name,
    const struct sl_lag_report *r)
{
	(void)r;
	GROUP_LABELS(b, name, e);
	value_int(b, (long long)e->nconsumers);
}

static void
m_trimmed(struct buf *b, const struct sl_lag_entry *e, const char *name,
    const struct sl_lag_report *r)
{
	(void)r;
	GROUP_LABELS(b, name, e);
	value_int(b, e->trimmed_unread);
}

static void
m_status(struct buf *b, const struct sl_lag_entry *e, const char *name,
    const struct sl_lag_report *r)
{
	static const enum sl_status states[] = { SL_STATUS_HEALTHY,
	    SL_STATUS_DEGRADED, SL_STATUS_UNHEALTHY, SL_STATUS_STALLED };
	char extra[40];

	(void)r;
	for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
		snprintf(extra, sizeof(extra), "status=\"%s\"",
		    sl_status_name(states[k]));
		labels(b, name, &e->stream, "group", &e->group.name, NULL, extra);
		value_int(b, e->status == states[k]);
	}
}

static void
m_consumer_pending(struct buf *b, const struct sl_lag_entry *e,
    const char *name, const struct sl_lag_report *r)
{
	(void)r;
	for (size_t k = 0; k < e->nconsumers; k++) {
		labels(b, name, &e->stream, "group", &e->group.name,
		    &e->consumers[k].name, NULL);
		value_int(b, e->consumers[k].pending);
	}
}

static void
m_consumer_idle(struct buf *b, const struct sl_lag_entry *e, const char *name,
    const struct sl_lag_report *r)
{
	(void)r;
	for (size_t k = 0; k < e->nconsumers; k++) {
		labels(b, name, &e->stream, "group", &e->group.name,
		    &e->consumers[k].name, NULL);
		value_ms(b, e->consumers[k].idle_ms);
	}
}

static void
streams_family(struct buf *b, const struct sl_lag_report *r, const char *name,
    const char *type, const char *help, int which)
{
	family(b, name, type, help);
	for (size_t i = 0; i < r->nsinfo; i++) {
		const struct sl_stream_entry *s = &r->sinfo[i];
		long long ms;

		if (which == 4) {		/* streamlag_stream_up */
			labels(b, name, &s->name, NULL, NULL, NULL, NULL);
			value_int(b, s->error == NULL);
			continue;
		}
		if (s->error != NULL)
			continue;
		switch (which) {
		case 0:
			labels(b, name, &s->name, NULL, NULL, NULL, NULL);
			value_int(b, s->info.length);
			break;
		case 1:
			labels(b, name, &s->name, NULL, NULL, NULL, NULL);
			value_int(b, s->info.groups);
			break;
		case 2:
			if (!s->info.has_entries_added)
				break;
			labels(b, name, &s->name, NULL, NULL, NULL, NULL);
			value_int(b, s->info.entries_added);
			break;
		case 3:
			/* Only ids that are timestamps (their age is known). */
			if (s->last_entry_age_ms < 0 ||
			    (ms = sl_id_ms(s->info.last_entry_id)) < 0)
				break;
			labels(b, name, &s->name, NULL, NULL, NULL, NULL);
			value_ms(b, ms);
			break;
		}
	}
}

static void
groups_family(struct buf *b, const struct sl_lag_report *r, const char *name,
    const char *type, const char *help, group_metric fn)
{
	family(b, name, type, help);
	each_group(b, r, name, fn);
}

static void
self_metrics(struct buf *b, const struct sl_prom_opts *o)
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
				putf(b, "streamlag_http_requests_total{route=\"%s\","
				    "code=\"%d\"} %llu\n", sl_route_names[rt],
				    sl_codes[k], (unsigned long long)n);
			else
				putf(b, "streamlag_http_requests_total{route=\"%s\","
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
				putf(b, "streamlag_http_request_duration_seconds_bucket"
				    "{route=\"%s\",le=\"%g\"} %llu\n",
				    sl_route_names[rt], sl_buckets[k],
				    (unsigned long long)cum);
			else
				putf(b, "streamlag_http_request_duration_seconds_bucket"
				    "{route=\"%s\",le=\"+Inf\"} %llu\n",
				    sl_route_names[rt], (unsigned long long)cum);
		}
		putf(b, "streamlag_http_request_duration_seconds_sum{route=\"%s\"} "
		    "%.6f\n", sl_route_names[rt], (double)__atomic_load_n(
		    &c->duration_sum_us[rt], __ATOMIC_RELAXED) / 1e6);
		putf(b, "streamlag_http_request_duration_seconds_count{route=\"%s\"} "
		    "%llu\n", sl_route_names[rt], (unsigned long long)cum);
	}
	family(b, "streamlag_redis_errors_total", "counter",
	    "Connection-level Redis errors: refused, timed out, dropped.");
	putf(b, "streamlag_redis_errors_total %llu\n", (unsigned long long)
	    __atomic_load_n(&c->redis_errors, __ATOMIC_RELAXED));
	family(b, "streamlag_redis_connects_total", "counter",
	    "Connections made to Redis.");
	putf(b, "streamlag_redis_connects_total %llu\n", (unsigned long long)
	    __atomic_load_n(&c->redis_connects, __ATOMIC_RELAXED));
	family(b, "streamlag_redis_redirects_total", "counter",
	    "Redis Cluster redirections followed, by kind.");
	putf(b, "streamlag_redis_redirects_total{kind=\"moved\"} %llu\n",
	    (unsigned long long)__atomic_load_n(&c->redis_redirects_moved,
	    __ATOMIC_RELAXED));
	putf(b, "streamlag_redis_redirects_total{kind=\"ask\"} %llu\n",
	    (unsigned long long)__atomic_load_n(&c->redis_redirects_ask,
	    __ATOMIC_RELAXED));
	family(b, "streamlag_worker_restarts_total", "counter",
	    "Workers replaced after they exited.");
	putf(b, "streamlag_worker_restarts_total %llu\n", (unsigned long long)
	    __atomic_load_n(&c->worker_restarts, __ATOMIC_RELAXED));
}

char *
sl_render_prom(const struct sl_lag_report *r, const struct sl_prom_opts *o)
{
	struct buf b = { NULL, 0, 0, 0 };

	/* The seed's two families first, under their own names. */
	family(&b, "event_consumer_lag", "gauge",
	    "Entries of the stream not yet delivered to the consumer group.");
	each_group(&b, r, "event_consumer_lag", m_seed_lag);
	streams_family(&b, r, "event_queue_depth", "gauge",
	    "Entries in the stream (XLEN).", 0);

	streams_family(&b, r, "streamlag_stream_length", "gauge",
	    "Entries in the stream.", 0);
	streams_family(&b, r, "streamlag_stream_groups", "gauge",
	    "Consumer groups of the stream.", 1);
	streams_family(&b, r, "streamlag_stream_entries_added_total", "counter",
	    "Entries ever added to the stream (Redis 7.0+).", 2);
	streams_family(&b, r, "streamlag_stream_last_entry_timestamp_seconds",
	    "gauge", "Time of the newest entry, from its id.", 3);
	streams_family(&b, r, "streamlag_stream_up", "gauge",
	    "1 when the stream could be read.", 4);

	groups_family(&b, r, "streamlag_group_lag", "gauge",
	    "Entries left to deliver to the group (absent when unknown).", m_lag);
	groups_family(&b, r, "streamlag_group_lag_exact", "gauge",
	    "1 when streamlag_group_lag is exact, 0 when the count cap was hit.",
	    m_lag_exact);
	groups_family(&b, r, "streamlag_group_time_lag_seconds", "gauge",
	    "Age of the oldest entry not yet delivered to the group.", m_time_lag);
	groups_family(&b, r, "streamlag_group_pending", "gauge",
	    "Entries delivered to the group and not yet acknowledged.", m_pending);
	groups_family(&b, r, "streamlag_group_oldest_pending_seconds", "gauge",
	    "Age of the oldest pending entry (0 when none).", m_oldest_pending);
	groups_family(&b, r, "streamlag_group_consumers", "gauge",
	    "Consumers in the group.", m_consumers);
	groups_family(&b, r, "streamlag_group_trimmed_unread", "gauge",
	    "Entries trimmed before the group read them.", m_trimmed);
	groups_family(&b, r, "streamlag_group_status", "gauge",
	    "1 for the group's current status, 0 for the others.", m_status);
	if (o->consumers) {
		groups_family(&b, r, "streamlag_consumer_pending", "gauge",
		    "Entries pending for the consumer.", m_consumer_pending);
		groups_family(&b, r, "streamlag_consumer_idle_seconds", "gauge",
		    "Time since the consumer's last interaction.", m_consumer_idle);
	}

	family(&b, "streamlag_redis_up", "gauge", "1 when this scrape reached "
	    "every Redis node it needed.");
	putf(&b, "streamlag_redis_up %d\n", o->redis_up);
	node_up(&b, o);
	family(&b, "streamlag_collect_duration_seconds", "gauge",
	    "Time this scrape spent collecting from Redis.");
	putf(&b, "streamlag_collect_duration_seconds %.6f\n", o->collect_seconds);
	family(&b, "streamlag_streams_truncated", "gauge",
	    "1 when discovery stopped at STREAMLAG_DISCOVERY_MAX.");
	putf(&b, "streamlag_streams_truncated %d\n", o->truncated);
	family(&b, "streamlag_streams_not_covered", "gauge",
	    "Streams this scrape left out: STREAMLAG_REQUEST_MAX_COMMANDS or "
	    "_MAX_BYTES ran out (0 = complete).");
	putf(&b, "streamlag_streams_not_covered %lld\n",
	    r != NULL ? (long long)r->not_covered : 0LL);
	self_metrics(&b, o);
	family(&b, "streamlag_build_info", "gauge",
	    "streamlag's version and the commit it was built from.");
	build_info(&b, o->version, o->commit);
	if (b.err || !reserve(&b, 0)) {
		free(b.p);
		return NULL;
	}
	b.p[b.len] = '\0';
	return b.p;
}
