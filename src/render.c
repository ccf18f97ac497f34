/* SPDX-License-Identifier: ISC */
/*
 * Reports into JSON, through the streaming writer of jsonw.c (escaping and
 * UTF-8 handled there; nothing here formats JSON by hand).  The answers are
 * written straight out instead of as a json-c tree: for 10 000 streams the
 * tree's allocations cost more than asking Redis.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/jsonw.h"
#include "streamlag/lag.h"
#include "streamlag/history_api.h"
#include "streamlag/render.h"

static const char replacement[] = "\xEF\xBF\xBD";	/* U+FFFD */

/* The status names are part of the JSON contract: one table, in lag.c. */

/*
 * Object keys made from names.  Names are bytes; as keys they are made valid
 * UTF-8, and two names can then become the same key.  The later one goes
 * under key + U+FFFD + "#N" (the first free N from 2) instead of silently
 * replacing the first; U+FFFD marks the key as made up.  Distinct names that
 * need no change cannot collide, so the set is only kept when some do.
 */
struct keyset {
	char	**slots;	/* open addressing; NULL = free */
	size_t	 cap, n;
	int	 active;
};

static int
needs_change(const struct sl_bytes *b)
{
	for (size_t i = 0; i < b->len; i++)
		if ((unsigned char)b->p[i] >= 0x80 || b->p[i] == '\0')
			return 1;
	return 0;
}

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* 1 when key is new (and now in the set), 0 when present, -1 out of memory. */
static int
keyset_add(struct keyset *ks, const char *key)
{
	size_t i;

	if (ks->n * 2 >= ks->cap) {
		size_t ncap = ks->cap ? ks->cap * 2 : 64;
		char **ns = sl_calloc(ncap, sizeof(*ns));
		if (ns == NULL)
			return -1;
		for (size_t k = 0; k < ks->cap; k++)
			if (ks->slots[k] != NULL) {
				for (i = hash(ks->slots[k]) & (ncap - 1); ns[i] != NULL;
				    i = (i + 1) & (ncap - 1))
					;
				ns[i] = ks->slots[k];
			}
		sl_free(ks->slots);
		ks->slots = ns;
		ks->cap = ncap;
	}
	for (i = hash(key) & (ks->cap - 1); ks->slots[i] != NULL;
	    i = (i + 1) & (ks->cap - 1))
		if (strcmp(ks->slots[i], key) == 0)
			return 0;
	if ((ks->slots[i] = sl_strdup(key)) == NULL)
		return -1;
	ks->n++;
	return 1;
}

static void
keyset_free(struct keyset *ks)
{
	for (size_t i = 0; i < ks->cap; i++)
		sl_free(ks->slots[i]);
	sl_free(ks->slots);
	memset(ks, 0, sizeof(*ks));
}

static void
named_key(struct sl_jw *w, struct keyset *ks, const struct sl_bytes *name)
{
	const char	*p = name->p != NULL ? name->p : "";
	size_t		 len = name->p != NULL ? name->len : 0, klen;
	char		*key, *alt;
	int		 rc;

	if (!ks->active) {
		sl_jw_key_bytes(w, p, len);
		return;
	}
	if ((key = sl_utf8_sanitize(p, len, 0, &klen)) == NULL) {
		sl_jw_nomem(w);
		return;
	}
	if ((rc = keyset_add(ks, key)) == 0) {
		size_t altlen = klen + sizeof(replacement) + 24;
		if ((alt = sl_malloc(altlen)) == NULL) {
			sl_free(key);
			sl_jw_nomem(w);
			return;
		}
		for (unsigned long k = 2; ; k++) {
			snprintf(alt, altlen, "%s%s#%lu", key, replacement, k);
			if ((rc = keyset_add(ks, alt)) != 0)
				break;
		}
		sl_free(key);
		key = alt;
	}
	if (rc == -1)
		sl_jw_nomem(w);
	else
		sl_jw_key(w, key);
	sl_free(key);
}

/* The set is needed when any of the names will change as a key. */
static void
keyset_for(struct keyset *ks, const struct sl_bytes *first, size_t n,
    size_t stride)
{
	memset(ks, 0, sizeof(*ks));
	for (size_t i = 0; i < n && !ks->active; i++)
		ks->active = needs_change((const struct sl_bytes *)
		    ((const char *)first + i * stride));
}

static void
consumers_names(struct sl_jw *w, const struct sl_lag_entry *e)
{
	sl_jw_key(w, "consumers");
	sl_jw_arr(w);
	for (size_t i = 0; i < e->nconsumers; i++)
		sl_jw_str_bytes(w, e->consumers[i].name.p, e->consumers[i].name.len);
	sl_jw_arr_end(w);
}

static void
group_name(struct sl_jw *w, const struct sl_lag_entry *e, const char *group)
{
	sl_jw_key(w, "group");
	if (e->has_group)
		sl_jw_str_bytes(w, e->group.name.p, e->group.name.len);
	else
		sl_jw_str(w, group);
}

/* The seed's error shape for one stream, plus group and status. */
static void
entry_error(struct sl_jw *w, const struct sl_lag_entry *e, const char *group)
{
	sl_jw_kint(w, "lag", -1);
	sl_jw_key(w, "consumers");
	sl_jw_arr(w);
	sl_jw_arr_end(w);
	sl_jw_kstr(w, "error", e->error);
	if (group != NULL)
		group_name(w, e, group);
	sl_jw_kstr(w, "status", sl_status_name(SL_STATUS_ERROR));
}

/* NOGROUP: the seed's lag 0 and no consumers, said plainly. */
static void
entry_no_group(struct sl_jw *w, const char *group)
{
	sl_jw_kint(w, "lag", 0);
	sl_jw_key(w, "consumers");
	sl_jw_arr(w);
	sl_jw_arr_end(w);
	if (group != NULL)
		sl_jw_kstr(w, "group", group);
	sl_jw_kbool(w, "lag_exact", 1);
	sl_jw_kint(w, "pending", 0);
	sl_jw_kstr(w, "status", sl_status_name(SL_STATUS_NO_GROUP));
}

static void
entry_group(struct sl_jw *w, const struct sl_lag_entry *e)
{
	sl_jw_kint(w, "lag", e->lag);
	consumers_names(w, e);
	group_name(w, e, "");
	sl_jw_kbool(w, "lag_exact", e->lag_exact);
	if (e->lag_exact)
		sl_jw_kint(w, "lag_max", e->lag);
	else
		sl_jw_kopt(w, "lag_max", e->has_lag_max, e->lag_max);
	sl_jw_kint(w, "pending", e->group.pending);
	sl_jw_kopt(w, "entries_read", e->group.has_entries_read,
	    e->group.entries_read);
	sl_jw_kopt(w, "time_lag_ms", e->has_time_lag, e->time_lag_ms);
	sl_jw_kopt(w, "oldest_pending_ms", e->has_oldest_pending,
	    e->oldest_pending_ms);
	sl_jw_kint(w, "trimmed_unread", e->trimmed_unread);
	if (e->has_trim_risk)
		sl_jw_kbool(w, "trim_risk", e->trim_risk);
	sl_jw_kstr(w, "status", sl_status_name(e->status));
	sl_jw_key(w, "consumer_details");
	sl_jw_arr(w);
	for (size_t i = 0; i < e->nconsumers; i++) {
		const struct sl_consumer *c = &e->consumers[i];

		sl_jw_obj(w);
		sl_jw_key(w, "name");
		sl_jw_str_bytes(w, c->name.p, c->name.len);
		sl_jw_kint(w, "pending", c->pending);
		sl_jw_kint(w, "idle_ms", c->idle_ms);
		sl_jw_kopt(w, "inactive_ms", c->has_inactive, c->inactive_ms);
		sl_jw_obj_end(w);
	}
	sl_jw_arr_end(w);
}

static void
lag_entry(struct sl_jw *w, const struct sl_lag_entry *e, const char *group)
{
	sl_jw_obj(w);
	if (e->error != NULL)
		entry_error(w, e, group);
	else if (!e->has_group)
		entry_no_group(w, group);
	else
		entry_group(w, e);
	if (e->error == NULL && e->has_group && e->insight != NULL)
		sl_history_insight_jw(w, e->insight);
	sl_jw_obj_end(w);
}

/* How bad a status is, to pick a stream's worst group (?group=*). */
static int
severity(enum sl_status st)
{
	switch (st) {
	case SL_STATUS_HEALTHY:		return 0;
	case SL_STATUS_NO_GROUP:	return 1;
	case SL_STATUS_DEGRADED:	return 2;
	case SL_STATUS_UNHEALTHY:	return 3;
	case SL_STATUS_STALLED:		return 4;
	default:			return 5;
	}
}

static int
same_stream(const struct sl_lag_entry *a, const struct sl_lag_entry *b)
{
	return a->stream.len == b->stream.len &&
	    memcmp(a->stream.p, b->stream.p, a->stream.len) == 0;
}

static int
seen_consumer(const struct sl_lag_entry *es, size_t upto,
    const struct sl_bytes *c)
{
	for (size_t k = 0; k < upto; k++)
		for (size_t m = 0; m < es[k].nconsumers; m++)
			if (es[k].consumers[m].name.len == c->len &&
			    memcmp(es[k].consumers[m].name.p, c->p, c->len) == 0)
				return 1;
	return 0;
}

/* ?group=*: the n entries of one stream.  The stream keeps the seed's lag
 * (the largest of its groups) and consumers (of every group), and holds
 * each group under "groups". */
static void
stream_of_groups(struct sl_jw *w, const struct sl_lag_entry *es, size_t n)
{
	struct keyset	 ks;
	enum sl_status	 worst = SL_STATUS_HEALTHY;
	long long	 lag = 0;
	size_t		 i, j;

	sl_jw_obj(w);
	if (es[0].error != NULL || !es[0].has_group) {
		/* The stream failed, or has no group: one entry says so. */
		if (es[0].error != NULL)
			entry_error(w, &es[0], NULL);
		else
			entry_no_group(w, NULL);
		sl_jw_key(w, "groups");
		sl_jw_obj(w);
		sl_jw_obj_end(w);
		sl_jw_obj_end(w);
		return;
	}
	for (i = 0; i < n; i++) {
		if (es[i].error == NULL && es[i].lag > lag)
			lag = es[i].lag;
		if (severity(es[i].status) > severity(worst))
			worst = es[i].status;
	}
	sl_jw_kint(w, "lag", lag);
	sl_jw_key(w, "consumers");
	sl_jw_arr(w);
	for (i = 0; i < n; i++)
		for (j = 0; j < es[i].nconsumers; j++)
			if (!seen_consumer(es, i, &es[i].consumers[j].name))
				sl_jw_str_bytes(w, es[i].consumers[j].name.p,
				    es[i].consumers[j].name.len);
	sl_jw_arr_end(w);
	sl_jw_kstr(w, "status", sl_status_name(worst));
	sl_jw_key(w, "groups");
	sl_jw_obj(w);
	keyset_for(&ks, &es[0].group.name, n, sizeof(es[0]));
	for (i = 0; i < n; i++) {
		named_key(w, &ks, &es[i].group.name);
		lag_entry(w, &es[i], "");
	}
	keyset_free(&ks);
	sl_jw_obj_end(w);
	sl_jw_obj_end(w);
}

/* What the budget left out: counted, and the first ones named. */
static void
node_errors(struct sl_jw *w, const struct sl_lag_report *r)
{
	sl_jw_kbool(w, "partial", 1);
	sl_jw_key(w, "errors");
	sl_jw_arr(w);
	for (size_t i = 0; i < r->nnode_errors; i++)
		sl_jw_str(w, r->node_errors[i]);
	sl_jw_arr_end(w);
}

static void
not_covered(struct sl_jw *w, const struct sl_lag_report *r)
{
	size_t i, j;

	if (r->nnode_errors == 0)
		sl_jw_kbool(w, "partial", 1);
	sl_jw_kstr(w, "code", "budget_exceeded");
	sl_jw_kint(w, "not_covered_count", (long long)r->not_covered);
	sl_jw_key(w, "not_covered");
	sl_jw_arr(w);
	for (i = 0; i < r->nuncovered && i < SL_NOT_COVERED_LISTED; i++)
		sl_jw_str(w, r->uncovered[i]);
	for (j = 0; j < r->n && i < SL_NOT_COVERED_LISTED; j++)
		if (r->entries[j].error != NULL && strcmp(r->entries[j].error,
		    SL_MSG_BUDGET) == 0 && (j == 0 ||
		    !same_stream(&r->entries[j - 1], &r->entries[j]) ||
		    r->entries[j - 1].error == NULL)) {
			sl_jw_str_bytes(w, r->entries[j].stream.p,
			    r->entries[j].stream.len);
			i++;
		}
	sl_jw_arr_end(w);
}

/* "replica_lag": {"host:port": bytes behind the master, or null}. */
static void
replica_lag(struct sl_jw *w, const struct sl_lag_report *r)
{
	sl_jw_key(w, "replica_lag");
	sl_jw_obj(w);
	for (size_t i = 0; i < r->nreplica_lag; i++) {
		sl_jw_key(w, r->replica_node[i]);
		if (r->replica_lag[i] < 0)
			sl_jw_null(w);
		else
			sl_jw_int(w, r->replica_lag[i]);
	}
	sl_jw_obj_end(w);
}

/* The key set of a streamed answer, decided from the request's names
 * (the entries come later, a chunk at a time). */
static void
keyset_for_names(struct keyset *ks, char *const *names, size_t n)
{
	memset(ks, 0, sizeof(*ks));
	for (size_t i = 0; i < n && !ks->active; i++) {
		struct sl_bytes b = { names[i], strlen(names[i]) };

		ks->active = needs_change(&b);
	}
}

void
sl_render_lag_begin(struct sl_lag_render *lr, struct sl_out *out,
    const struct sl_lag_report *r, char *const *names, size_t n)
{
	memset(lr, 0, sizeof(*lr));
	if ((lr->ks = sl_calloc(1, sizeof(*lr->ks))) == NULL) {
		sl_out_fail(out, SL_ENOMEM);
		return;
	}
	lr->group = r->all_groups ? "*" : r->group != NULL ? r->group : "";
	sl_jw_init_out(&lr->w, out);
	sl_jw_obj(&lr->w);
	sl_jw_key(&lr->w, "streams");
	sl_jw_obj(&lr->w);
	if (names != NULL)
		keyset_for_names(lr->ks, names, n);
	else
		keyset_for(lr->ks, r->n > 0 ? &r->entries[0].stream : NULL,
		    r->n, sizeof(r->entries[0]));
}

void
sl_render_lag_entries(struct sl_lag_render *lr, const struct sl_lag_report *r,
    size_t from)
{
	struct sl_jw	*w = &lr->w;
	size_t		 i, j;

	if (lr->ks == NULL)
		return;
	/* A failed write (the client went away) ends the loop. */
	for (i = from; i < r->n && w->out->err == SL_OK; i = j) {
		for (j = i + 1; r->all_groups && j < r->n &&
		    same_stream(&r->entries[i], &r->entries[j]); j++)
			;
		named_key(w, lr->ks, &r->entries[i].stream);
		if (r->all_groups)
			stream_of_groups(w, &r->entries[i], j - i);
		else
			lag_entry(w, &r->entries[i], lr->group);
	}
}

enum sl_err
sl_render_lag_end(struct sl_lag_render *lr, const struct sl_lag_report *r)
{
	struct sl_jw	*w = &lr->w;

	if (lr->ks == NULL)
		return SL_ENOMEM;
	sl_render_lag_abandon(lr);	/* the keys are all written */
	sl_jw_obj_end(w);
	sl_jw_kint(w, "total_lag", r->total_lag);
	if (r->total_saturated)
		sl_jw_kbool(w, "total_lag_saturated", 1);
	sl_jw_kint(w, "stream_count", r->stream_count);
	sl_jw_kstr(w, "consumer_group", lr->group);
	if (r->truncated)
		sl_jw_kbool(w, "truncated", 1);
	if (r->nreplica_lag > 0 && r->error == NULL)
		replica_lag(w, r);
	/* Never silent: the masters discovery could not reach (their streams
	 * are not named), and what the budget left out. */
	if (r->nnode_errors > 0 && r->error == NULL)
		node_errors(w, r);
	if (r->partial && r->error == NULL)
		not_covered(w, r);
	/* The seed's shape stays parseable; error and code say why it is
	 * empty. */
	if (r->error != NULL) {
		sl_jw_kstr(w, "error", r->error);
		sl_jw_kstr(w, "code", SL_CODE_REDIS_DOWN);
	}
	sl_jw_obj_end(w);
	return sl_jw_end(w);
}

void
sl_render_lag_abandon(struct sl_lag_render *lr)
{
	if (lr->ks != NULL) {
		keyset_free(lr->ks);
		sl_free(lr->ks);
	}
	lr->ks = NULL;
}

enum sl_err
sl_render_lag_out(const struct sl_lag_report *r, struct sl_out *out)
{
	struct sl_lag_render lr;

	sl_render_lag_begin(&lr, out, r, NULL, 0);
	sl_render_lag_entries(&lr, r, 0);
	return sl_render_lag_end(&lr, r);
}

char *
sl_render_lag(const struct sl_lag_report *r)
{
	struct sl_out out;

	sl_out_init(&out);
	if (sl_render_lag_out(r, &out) != SL_OK) {
		sl_out_free(&out);
		return NULL;
	}
	return sl_out_finish(&out, NULL);
}

/* A stream id, or null when Redis gave none. */
static void
kid(struct sl_jw *w, const char *key, const char *id)
{
	sl_jw_key(w, key);
	if (id[0] == '\0')
		sl_jw_null(w);
	else
		sl_jw_str(w, id);
}

static void
stream_entry(struct sl_jw *w, const struct sl_stream_entry *e)
{
	const struct sl_stream_info *si = &e->info;

	sl_jw_obj(w);
	sl_jw_key(w, "name");
	sl_jw_str_bytes(w, e->name.p, e->name.len);
	if (e->error != NULL) {
		sl_jw_kint(w, "length", 0);
		sl_jw_kint(w, "groups", 0);
		sl_jw_kstr(w, "error", e->error);
		sl_jw_obj_end(w);
		return;
	}
	sl_jw_kint(w, "length", si->length);
	sl_jw_kint(w, "groups", si->groups);
	kid(w, "first_entry_id", si->first_entry_id);
	kid(w, "last_entry_id", si->last_entry_id);
	kid(w, "last_generated_id", si->last_generated_id);
	sl_jw_kopt(w, "entries_added", si->has_entries_added, si->entries_added);
	kid(w, "max_deleted_entry_id", si->max_deleted_entry_id);
	kid(w, "recorded_first_entry_id", si->recorded_first_entry_id);
	sl_jw_kopt(w, "last_entry_age_ms", e->last_entry_age_ms >= 0,
	    e->last_entry_age_ms);
	sl_jw_key(w, "group_names");
	sl_jw_arr(w);
	for (size_t i = 0; i < e->ngroup_names; i++)
		sl_jw_str_bytes(w, e->group_names[i].p, e->group_names[i].len);
	sl_jw_arr_end(w);
	sl_jw_obj_end(w);
}

char *
sl_render_streams(const struct sl_streams_report *r)
{
	struct sl_jw w;

	/* r->error is the router's to answer, with sl_render_error. */
	sl_jw_init(&w);
	sl_jw_obj(&w);
	sl_jw_key(&w, "streams");
	sl_jw_arr(&w);
	for (size_t i = 0; i < r->n; i++)
		stream_entry(&w, &r->entries[i]);
	sl_jw_arr_end(&w);
	/* Never silent: what the request's budget left out, as consumer-lag
	 * says it. */
	if (r->partial) {
		sl_jw_kbool(&w, "partial", 1);
		sl_jw_kstr(&w, "code", "budget_exceeded");
		sl_jw_kint(&w, "not_covered_count", (long long)r->nuncovered);
		sl_jw_key(&w, "not_covered");
		sl_jw_arr(&w);
		for (size_t i = 0; i < r->nuncovered &&
		    i < SL_NOT_COVERED_LISTED; i++)
			sl_jw_str(&w, r->uncovered[i]);
		sl_jw_arr_end(&w);
	}
	sl_jw_obj_end(&w);
	return sl_jw_finish(&w, NULL);
}

char *
sl_render_health(const struct sl_health *h, const struct sl_render_opts *o)
{
	struct sl_jw	 w;
	int		 redis_streams = o != NULL && o->transport_redis_streams;
	const char	*group = o != NULL && o->consumer_group != NULL ?
			    o->consumer_group : "";

	sl_jw_init(&w);
	sl_jw_obj(&w);
	sl_jw_kstr(&w, "status", sl_status_name(h->status));
	sl_jw_kbool(&w, "redis_connected", 1);
	sl_jw_kstr(&w, "transport_mode", redis_streams ? "redis_streams" : "http");
	sl_jw_key(&w, "streams");
	sl_jw_obj(&w);
	sl_jw_kint(&w, "healthy", h->healthy);
	sl_jw_kint(&w, "degraded", h->degraded);
	sl_jw_kint(&w, "unhealthy", h->unhealthy);
	sl_jw_kint(&w, "stalled", h->stalled);
	sl_jw_kint(&w, "no_group", h->no_group);
	sl_jw_obj_end(&w);
	sl_jw_kint(&w, "max_lag", h->max_lag);
	sl_jw_kint(&w, "total_lag", h->total_lag);
	if (h->total_saturated)
		sl_jw_kbool(&w, "total_lag_saturated", 1);
	sl_jw_kstr(&w, "consumer_group", group);
	/* Never unhealthy without saying why: the nodes that failed. */
	if (h->partial)
		sl_jw_kbool(&w, "partial", 1);
	if (h->nerrors > 0) {
		sl_jw_key(&w, "errors");
		sl_jw_arr(&w);
		for (size_t i = 0; i < h->nerrors; i++)
			sl_jw_str(&w, h->errors[i]);
		sl_jw_arr_end(&w);
	}
	sl_jw_obj_end(&w);
	return sl_jw_finish(&w, NULL);
}

char *
sl_render_health_down(const char *message)
{
	struct sl_jw w;

	sl_jw_init(&w);
	sl_jw_obj(&w);
	sl_jw_kstr(&w, "status", sl_status_name(SL_STATUS_UNHEALTHY));
	sl_jw_kbool(&w, "redis_connected", 0);
	sl_jw_kstr(&w, "error", message);
	sl_jw_kstr(&w, "code", SL_CODE_REDIS_DOWN);
	sl_jw_obj_end(&w);
	return sl_jw_finish(&w, NULL);
}

char *
sl_render_error(const char *code, const char *message)
{
	struct sl_jw w;

	sl_jw_init(&w);
	sl_jw_obj(&w);
	sl_jw_kstr(&w, "error", message);
	sl_jw_kstr(&w, "code", code);
	sl_jw_obj_end(&w);
	return sl_jw_finish(&w, NULL);
}
