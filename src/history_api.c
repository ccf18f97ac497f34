/* SPDX-License-Identifier: ISC */
/* /api/v1/events/history and the insight of a group (history_api.h).
 * json-c builds the answer (bounded: at most SL_HISTORY_ANSWER_MAX
 * samples); json_object_object_add takes the reference of what it is
 * given, so only the root is put. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "streamlag/alloc.h"
#include "streamlag/history_api.h"
#include "streamlag/jsonw.h"
#include "streamlag/lagcache.h"

/* A bounded integer parameter: SL_OK or SL_EINPUT. */
static enum sl_err
int_param(const struct sl_query_param *p, long long min, long long max,
    long long *out, struct sl_error *why)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(p->value, &end, 10);
	if (p->value_len == 0 || p->value_len > 20 || errno != 0 ||
	    *end != '\0' || v < min || v > max)
		return sl_seterr(why, SL_EINPUT, "%s: expected an integer from "
		    "%lld to %lld", p->name, min, max);
	*out = v;
	return SL_OK;
}

/* ?target=: its name, and its group unless ?group= says another. */
static enum sl_err
target_param(const struct sl_query_param *p, const struct sl_config *cfg,
    struct sl_history_query *q, struct sl_error *why)
{
	const struct sl_target	*t;
	long			 i;

	if ((i = sl_config_target_find(cfg, p->value, p->value_len)) < 0)
		return sl_seterr(why, SL_EINPUT, "target: \"%.*s\" is not a "
		    "configured target", (int)(p->value_len > 64 ? 64 :
		    p->value_len), p->value);
	t = sl_config_target(cfg, (size_t)i);
	q->target = sl_config_target_name(cfg, (size_t)i);
	if (!q->group_given) {
		q->group = t->consumer_group;
		q->glen = t->consumer_group != NULL ?
		    strlen(t->consumer_group) : 0;
	}
	return SL_OK;
}

static enum sl_err
one_param(const struct sl_query_param *p, const struct sl_config *cfg,
    struct sl_history_query *q, struct sl_error *why)
{
	if (strcmp(p->name, "target") == 0)
		return target_param(p, cfg, q, why);
	if (strcmp(p->name, "stream") == 0 || strcmp(p->name, "group") == 0) {
		if (p->value_len == 0 || p->value_len > SL_NAME_MAX)
			return sl_seterr(why, SL_EINPUT, "%s: expected a name "
			    "(1 to %d bytes)", p->name, SL_NAME_MAX);
		if (p->name[0] == 's') {
			q->stream = p->value;
			q->slen = p->value_len;
		} else {
			q->group = p->value;
			q->glen = p->value_len;
			q->group_given = 1;
		}
		return SL_OK;
	}
	if (strcmp(p->name, "since") == 0)
		return int_param(p, 0, 253402300799999LL, &q->since_ms, why);
	if (strcmp(p->name, "window") == 0)
		return int_param(p, 2, 7 * 86400, &q->window_s, why);
	if (strcmp(p->name, "limit") == 0)
		return int_param(p, 1, SL_HISTORY_ANSWER_MAX, &q->limit, why);
	return sl_seterr(why, SL_EINPUT, "unknown query parameter \"%.40s\"",
	    p->name);
}

enum sl_err
sl_history_query_parse(const char *query, const struct sl_config *cfg,
    struct sl_history_query *q, struct sl_query_param **params, size_t *np,
    struct sl_error *why)
{
	char		 err[160];
	enum sl_err	 rc;

	memset(q, 0, sizeof(*q));
	q->target = sl_config_target_name(cfg, 0);
	q->group = cfg->consumer_group;
	q->glen = cfg->consumer_group != NULL ? strlen(cfg->consumer_group) : 0;
	q->window_s = cfg->rate_window_s;
	q->limit = SL_HISTORY_ANSWER_MAX;
	if (sl_query_parse(query, params, np, err, sizeof(err)) == -1)
		return sl_seterr(why, SL_EINPUT, "%s", err);
	for (size_t i = 0; i < *np; i++) {
		for (size_t j = 0; j < i; j++)
			if (strcmp((*params)[i].name, (*params)[j].name) == 0)
				return sl_seterr(why, SL_EINPUT, "query "
				    "parameter \"%.40s\" given more than once",
				    (*params)[i].name);
		if ((rc = one_param(&(*params)[i], cfg, q, why)) != SL_OK)
			return rc;
	}
	if (q->stream == NULL)
		return sl_seterr(why, SL_EINPUT, "stream: required");
	if (q->group == NULL || q->glen == 0)
		return sl_seterr(why, SL_EINPUT, "group: required");
	return SL_OK;
}

/* Samples a window of window_s holds, two more for the edges. */
static size_t
window_samples(const struct sl_config *cfg, long long window_s)
{
	long long n = window_s * 1000 / (cfg->sample_ms > 0 ? cfg->sample_ms :
	    1000) + 2;

	return n > SL_HISTORY_ANSWER_MAX ? SL_HISTORY_ANSWER_MAX : (size_t)n;
}

/* The report as an insight keeps it: its poison ids copied out of line
 * when there are any.  SL_OK or SL_ENOMEM (*out untouched). */
static enum sl_err
pel_keep(const struct sl_pel_report *p, struct sl_group_pel *out)
{
	size_t	  n = p->npoison_ids < SL_PEL_IDS_LISTED ? p->npoison_ids :
	    SL_PEL_IDS_LISTED;
	char	(*ids)[SL_ID_MAX] = NULL;

	if (n > 0 && (ids = sl_reallocarray(NULL, n, sizeof(*ids))) == NULL)
		return SL_ENOMEM;
	if (n > 0)
		memcpy(ids, p->poison_ids, n * sizeof(*ids));
	out->scanned = p->scanned;
	out->truncated = p->truncated;
	out->max_deliveries = p->max_deliveries;
	out->poison = p->poison;
	out->npoison_ids = n;
	out->poison_ids = ids;
	out->claimable = p->claimable;
	out->unowned = p->unowned;
	out->dangling = p->dangling;
	out->dead_consumers = p->dead_consumers;
	return SL_OK;
}

/* The insight of the group with key from its samples, read into s (room
 * for max of them). */
static enum sl_err
insight_of(struct sl_history *h, uint64_t key, long long window_s,
    struct sl_sample *s, size_t max, struct sl_group_insight *out)
{
	struct sl_pel_report pr;
	ssize_t		     n;

	memset(out, 0, sizeof(*out));
	if ((n = sl_history_read_key(h, key, 0, s, max)) < 0)
		return SL_OK;
	out->tracked = 1;
	sl_insight_compute(s, (size_t)n, window_s * 1000, &out->in);
	if (!sl_history_get_pel_key(h, key, &pr))
		return SL_OK;
	if (pel_keep(&pr, &out->pel) != SL_OK) {
		memset(out, 0, sizeof(*out));
		return SL_ENOMEM;
	}
	out->has_pel = 1;
	return SL_OK;
}

enum sl_err
sl_history_insight(struct sl_history *h, const struct sl_config *cfg,
    const char *target, const char *stream, size_t slen, const char *group, size_t glen,
    long long window_s, struct sl_group_insight *out)
{
	size_t		 max = window_samples(cfg, window_s);
	struct sl_sample *s;
	enum sl_err	 rc;

	memset(out, 0, sizeof(*out));
	if (h == NULL)
		return SL_OK;
	if ((s = sl_reallocarray(NULL, max, sizeof(*s))) == NULL)
		return SL_ENOMEM;
	rc = insight_of(h, sl_group_key(target, stream, slen, group, glen),
	    window_s, s, max, out);
	sl_free(s);
	return rc;
}

void
sl_group_insight_free(struct sl_group_insight *gi)
{
	sl_free(gi->pel.poison_ids);
	gi->pel.poison_ids = NULL;
	gi->pel.npoison_ids = 0;
	gi->has_pel = 0;
}

static struct json_object *
opt_int(long long v)
{
	return v < 0 ? NULL : json_object_new_int64(v);
}

static struct json_object *
num(double v)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%.3f", v);
	return json_object_new_double_s(v, buf);
}

static struct json_object *
name(const char *p, size_t len)
{
	size_t		 n;
	char		*s = sl_utf8_sanitize(p, len, 0, &n);
	struct json_object *o;

	if (s == NULL)
		return NULL;
	o = json_object_new_string_len(s, (int)n);
	free(s);
	return o;
}

static struct json_object *
sample_json(const struct sl_sample *s)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "t", json_object_new_int64(s->t_ms));
	json_object_object_add(o, "entries_added", opt_int(s->added));
	json_object_object_add(o, "entries_read", opt_int(s->read));
	json_object_object_add(o, "lag", opt_int(s->lag));
	json_object_object_add(o, "pending", opt_int(s->pending));
	json_object_object_add(o, "consumers", json_object_new_int(s->consumers));
	return o;
}

/* The insight fields of a group into o (consumer-lag uses the same). */
static void
insight_json(struct json_object *o, const struct sl_insight *in)
{
	const char *t = sl_trend_name(in->trend), *v = sl_verdict_name(in->verdict);

	json_object_object_add(o, "produce_rate", in->has_produce_rate ?
	    num(in->produce_rate) : NULL);
	json_object_object_add(o, "consume_rate", in->has_consume_rate ?
	    num(in->consume_rate) : NULL);
	json_object_object_add(o, "eta_s", in->has_eta ? num(in->eta_s) : NULL);
	json_object_object_add(o, "catching_up",
	    json_object_new_boolean(in->catching_up));
	json_object_object_add(o, "trend", t != NULL ?
	    json_object_new_string(t) : NULL);
	json_object_object_add(o, "verdict", v != NULL ?
	    json_object_new_string(v) : NULL);
	json_object_object_add(o, "window_samples",
	    json_object_new_int64((long long)in->samples));
}

/* The pending-list answers; NULL when the sampler has none yet. */
static struct json_object *
pel_json(const struct sl_group_insight *gi)
{
	const struct sl_group_pel *p = &gi->pel;
	struct json_object *o, *ids;

	if (!gi->has_pel || (o = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(o, "scanned", json_object_new_int64(p->scanned));
	json_object_object_add(o, "truncated",
	    json_object_new_boolean(p->truncated));
	json_object_object_add(o, "max_deliveries", opt_int(p->max_deliveries));
	json_object_object_add(o, "poison_entries",
	    json_object_new_int64(p->poison));
	if ((ids = json_object_new_array()) != NULL)
		for (size_t i = 0; i < p->npoison_ids; i++)
			json_object_array_add(ids,
			    json_object_new_string(p->poison_ids[i]));
	json_object_object_add(o, "poison_ids", ids);
	json_object_object_add(o, "claimable_entries",
	    json_object_new_int64(p->claimable));
	json_object_object_add(o, "unowned_entries",
	    json_object_new_int64(p->unowned));
	json_object_object_add(o, "dangling_entries", opt_int(p->dangling));
	json_object_object_add(o, "dead_consumers", opt_int(p->dead_consumers));
	return o;
}

/* Long: one JSON object, field after field; splitting it would only pass
 * the object around. */
char *
sl_history_render(struct sl_history *h, const struct sl_config *cfg,
    const struct sl_history_query *q)
{
	struct json_object *root = json_object_new_object(), *arr;
	struct sl_sample   *s = NULL;
	struct sl_group_insight gi;
	ssize_t		    n = -1;
	char		   *out = NULL;
	size_t		    max = (size_t)q->limit;

	if (root == NULL || (arr = json_object_new_array()) == NULL)
		goto out;
	json_object_object_add(root, "stream", name(q->stream, q->slen));
	json_object_object_add(root, "group", name(q->group, q->glen));
	json_object_object_add(root, "sample_ms",
	    json_object_new_int64(h != NULL ? cfg->sample_ms : 0));
	json_object_object_add(root, "window_s",
	    json_object_new_int64(q->window_s));
	json_object_object_add(root, "samples", arr);
	if (h != NULL && sl_history_capacity(h) < (long long)max)
		max = (size_t)sl_history_capacity(h);
	if (h != NULL && (s = sl_calloc(max, sizeof(*s))) == NULL)
		goto out;
	if (h != NULL)
		n = sl_history_read(h, q->target, q->stream, q->slen, q->group,
		    q->glen, q->since_ms, s, max);
	json_object_object_add(root, "tracked", json_object_new_boolean(n >= 0));
	for (ssize_t i = 0; i < n; i++)
		json_object_array_add(arr, sample_json(&s[i]));
	/* The insight from the window's samples, whatever since said. */
	sl_free(s);
	s = NULL;
	if (sl_history_insight(h, cfg, q->target, q->stream, q->slen, q->group,
	    q->glen, q->window_s, &gi) != SL_OK)
		goto out;
	insight_json(root, &gi.in);
	json_object_object_add(root, "pel", pel_json(&gi));
	sl_group_insight_free(&gi);
	out = strdup(json_object_to_json_string_ext(root,
	    JSON_C_TO_STRING_PLAIN));
out:
	sl_free(s);
	json_object_put(root);
	return out;
}

void
sl_history_insight_jw(struct sl_jw *w, const struct sl_group_insight *gi)
{
	const struct sl_insight	  *in = &gi->in;
	const struct sl_group_pel *p = &gi->pel;
	const char		  *t = sl_trend_name(in->trend);
	const char		  *v = sl_verdict_name(in->verdict);

	sl_jw_kfixed3(w, "produce_rate", in->has_produce_rate, in->produce_rate);
	sl_jw_kfixed3(w, "consume_rate", in->has_consume_rate, in->consume_rate);
	sl_jw_kfixed3(w, "eta_s", in->has_eta, in->eta_s);
	sl_jw_kbool(w, "catching_up", in->catching_up);
	sl_jw_key(w, "trend");
	t != NULL ? sl_jw_str(w, t) : sl_jw_null(w);
	sl_jw_key(w, "verdict");
	v != NULL ? sl_jw_str(w, v) : sl_jw_null(w);
	if (!gi->show_pel)
		return;
	sl_jw_key(w, "pel");
	if (!gi->has_pel) {
		sl_jw_null(w);
		return;
	}
	sl_jw_obj(w);
	sl_jw_kint(w, "scanned", p->scanned);
	sl_jw_kbool(w, "truncated", p->truncated);
	sl_jw_kopt(w, "max_deliveries", p->max_deliveries >= 0,
	    p->max_deliveries);
	sl_jw_kint(w, "poison_entries", p->poison);
	sl_jw_key(w, "poison_ids");
	sl_jw_arr(w);
	for (size_t i = 0; i < p->npoison_ids; i++)
		sl_jw_str(w, p->poison_ids[i]);
	sl_jw_arr_end(w);
	sl_jw_kint(w, "claimable_entries", p->claimable);
	sl_jw_kint(w, "unowned_entries", p->unowned);
	sl_jw_kopt(w, "dangling_entries", p->dangling >= 0, p->dangling);
	sl_jw_kopt(w, "dead_consumers", p->dead_consumers >= 0,
	    p->dead_consumers);
	sl_jw_obj_end(w);
}

enum sl_err
sl_history_insight_attach(struct sl_history *h, const struct sl_config *cfg,
    const char *target, struct sl_lag_report *rep,
    struct sl_group_insight **out)
{
	struct sl_group_insight *gi;
	size_t		 max = window_samples(cfg, cfg->rate_window_s);
	struct sl_sample *s;

	*out = NULL;
	if (h == NULL || rep->n == 0)
		return SL_OK;
	/* One buffer of samples for every group of the report. */
	if ((s = sl_reallocarray(NULL, max, sizeof(*s))) == NULL)
		return SL_ENOMEM;
	if ((gi = sl_calloc(rep->n, sizeof(*gi))) == NULL) {
		sl_free(s);
		return SL_ENOMEM;
	}
	for (size_t i = 0; i < rep->n; i++) {
		struct sl_lag_entry *e = &rep->entries[i];
		/* One group asked by name: the entries leave it to the report. */
		const char *g = e->group.name.len > 0 || rep->group == NULL ?
		    e->group.name.p : rep->group;
		size_t	 glen = e->group.name.len > 0 || rep->group == NULL ?
		    e->group.name.len : strlen(rep->group);

		if (e->error != NULL || !e->has_group)
			continue;
		if (insight_of(h, sl_group_key(target, e->stream.p,
		    e->stream.len, g, glen), cfg->rate_window_s, s, max,
		    &gi[i]) != SL_OK) {
			sl_free(s);
			sl_history_insight_detach(rep, gi);
			return SL_ENOMEM;
		}
		e->insight = &gi[i];
	}
	sl_free(s);
	*out = gi;
	return SL_OK;
}

void
sl_history_insight_detach(struct sl_lag_report *rep,
    struct sl_group_insight *gi)
{
	if (gi == NULL)
		return;
	for (size_t i = 0; i < rep->n; i++) {
		rep->entries[i].insight = NULL;
		sl_group_insight_free(&gi[i]);
	}
	sl_free(gi);
}
