/*
 * Reports into JSON with json-c, never printf'd by hand.
 *
 * Ownership (json-c): json_object_object_add and json_object_array_add take
 * the reference to the value they are given, so a finished tree is released
 * by putting its root alone.  When an add fails the value is still ours, and
 * the helpers below put it, so callers only ever clean up the root.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "streamlag/render.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static const char replacement[] = "\xEF\xBF\xBD";	/* U+FFFD */

/*
 * Local copy of the status names: the renderer is linked into tools that do
 * not carry the lag rules, and the strings are part of the JSON contract.
 */
static const char *const status_names[] = {
	[SL_STATUS_HEALTHY] = "healthy",
	[SL_STATUS_DEGRADED] = "degraded",
	[SL_STATUS_UNHEALTHY] = "unhealthy",
	[SL_STATUS_STALLED] = "stalled",
	[SL_STATUS_NO_GROUP] = "no_group",
	[SL_STATUS_ERROR] = "error",
};

static const char *
status_name(enum sl_status s)
{
	/* An out-of-range value is a bug upstream; "error" never reads as
	 * good news to a monitor. */
	if ((unsigned)s >= sizeof(status_names) / sizeof(status_names[0]))
		return "error";
	return status_names[s];
}

/*
 * Length of the well-formed UTF-8 sequence at p (1 to 4), or 0 when it is
 * ill-formed, with *skip set to the length of its maximal subpart: the
 * longest prefix that could still have begun a valid sequence.  Replacing
 * each maximal subpart by one U+FFFD is the practice Unicode (chapter 3,
 * "U+FFFD Substitution of Maximal Subparts") and WHATWG recommend, so our
 * output matches what browsers and Python's decoder show.
 */
static size_t
utf8_seq(const unsigned char *p, size_t left, size_t *skip)
{
	unsigned char	 c = p[0], lo = 0x80, hi = 0xBF;
	size_t		 n, k;

	*skip = 1;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;	/* below: overlong */
		else if (c == 0xED)
			hi = 0x9F;	/* above: surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;	/* below: overlong */
		else if (c == 0xF4)
			hi = 0x8F;	/* above: beyond U+10FFFF */
	} else
		return 0;	/* C0, C1, F5-FF, or a lone continuation */
	for (k = 1; k < n && k < left; k++) {
		unsigned char b = p[k];

		if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
			break;
	}
	if (k == n)
		return n;
	*skip = k;
	return 0;
}

char *
sl_utf8_sanitize(const char *s, size_t len, int nul_ok, size_t *outlen)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*out;
	size_t			 i = 0, o = 0, n, skip;

	/* Worst case every byte becomes three. */
	if (len > (SIZE_MAX - 1) / 3 || (out = malloc(len * 3 + 1)) == NULL)
		return NULL;
	while (i < len) {
		n = utf8_seq(p + i, len - i, &skip);
		if (n == 1 && p[i] == '\0' && !nul_ok)
			n = 0;
		if (n == 0) {
			memcpy(out + o, replacement, 3);
			o += 3;
			i += skip;
		} else {
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
		}
	}
	out[o] = '\0';
	if (outlen != NULL)
		*outlen = o;
	return out;
}

/* A JSON string from bytes: a NUL stays a NUL, which json-c writes as
 * \u0000 because it is given the length. */
static json_object *
jstr_bytes(const char *p, size_t len)
{
	json_object	*j = NULL;
	char		*clean;
	size_t		 n;

	if ((clean = sl_utf8_sanitize(p != NULL ? p : "", p != NULL ? len : 0,
	    1, &n)) == NULL)
		return NULL;
	if (n <= INT_MAX)
		j = json_object_new_string_len(clean, (int)n);
	free(clean);
	return j;
}

/* NULL renders as "": these fields are always strings in the contract. */
static json_object *
jstr(const char *s)
{
	return jstr_bytes(s, s != NULL ? strlen(s) : 0);
}

/* Adds val under key; a NULL val is an allocation that failed, not a JSON
 * null (add_null says that).  Returns 0, or -1 with val released. */
static int
add(json_object *o, const char *key, json_object *val)
{
	if (val == NULL)
		return -1;
	if (json_object_object_add(o, key, val) != 0) {
		json_object_put(val);
		return -1;
	}
	return 0;
}

static int
add_null(json_object *o, const char *key)
{
	return json_object_object_add(o, key, NULL) != 0 ? -1 : 0;
}

static int
add_str(json_object *o, const char *key, const char *s)
{
	return add(o, key, jstr(s));
}

static int
add_bytes(json_object *o, const char *key, const struct sl_bytes *b)
{
	return add(o, key, jstr_bytes(b->p, b->len));
}

static int
add_int(json_object *o, const char *key, long long v)
{
	return add(o, key, json_object_new_int64(v));
}

static int
add_bool(json_object *o, const char *key, int v)
{
	return add(o, key, json_object_new_boolean(v != 0));
}

/* An optional integer: null when absent. */
static int
add_opt_int(json_object *o, const char *key, int present, long long v)
{
	return present ? add_int(o, key, v) : add_null(o, key);
}

/* A stream id: null when Redis gave none (""). */
static int
add_id(json_object *o, const char *key, const char *id)
{
	return id[0] == '\0' ? add_null(o, key) : add_str(o, key, id);
}

static int
push(json_object *arr, json_object *val)
{
	if (val == NULL)
		return -1;
	if (json_object_array_add(arr, val) != 0) {
		json_object_put(val);
		return -1;
	}
	return 0;
}

/*
 * Adds val under a name that is bytes.  Keys are C strings to json-c, so a
 * NUL becomes U+FFFD too.  Two names can sanitize to the same key; the later
 * one goes under key + U+FFFD + "#N" (first N from 2 that is free) instead
 * of silently replacing the first, and the U+FFFD marks the key as made up.
 */
static int
add_named(json_object *o, const struct sl_bytes *name, json_object *val)
{
	char	*key = NULL, *alt = NULL;
	size_t	 klen, altlen;
	int	 rc = -1;

	if ((key = sl_utf8_sanitize(name->p != NULL ? name->p : "",
	    name->p != NULL ? name->len : 0, 0, &klen)) == NULL)
		goto out;
	if (json_object_object_get_ex(o, key, NULL)) {
		altlen = klen + sizeof(replacement) + 24;
		if ((alt = malloc(altlen)) == NULL)
			goto out;
		for (unsigned long k = 2; ; k++) {
			snprintf(alt, altlen, "%s%s#%lu", key, replacement, k);
			if (!json_object_object_get_ex(o, alt, NULL))
				break;
		}
	}
	rc = add(o, alt != NULL ? alt : key, val);
	val = NULL;	/* add released it on failure */
out:
	json_object_put(val);
	free(alt);
	free(key);
	return rc;
}

/* Serializes and releases root (which may be NULL after a failure). */
static char *
finish(json_object *root)
{
	const char	*t;
	char		*s = NULL;

	if (root == NULL)
		return NULL;
	if ((t = json_object_to_json_string_ext(root, JSON_FLAGS)) != NULL)
		s = strdup(t);
	json_object_put(root);
	return s;
}

/* The seed's error shape for one stream, plus group and status. */
static int
entry_error(json_object *o, const struct sl_lag_entry *e, const char *group)
{
	int rc;

	if (add_int(o, "lag", -1) == -1 ||
	    add(o, "consumers", json_object_new_array()) == -1 ||
	    add_str(o, "error", e->error) == -1)
		return -1;
	if (e->has_group)
		rc = add_bytes(o, "group", &e->group.name);
	else
		rc = add_str(o, "group", group);
	if (rc == -1)
		return -1;
	return add_str(o, "status", status_name(SL_STATUS_ERROR));
}

/* NOGROUP: the seed's lag 0 and no consumers, said plainly. */
static int
entry_no_group(json_object *o, const char *group)
{
	if (add_int(o, "lag", 0) == -1 ||
	    add(o, "consumers", json_object_new_array()) == -1 ||
	    add_str(o, "group", group) == -1 ||
	    add_bool(o, "lag_exact", 1) == -1 ||
	    add_int(o, "pending", 0) == -1 ||
	    add_str(o, "status", status_name(SL_STATUS_NO_GROUP)) == -1)
		return -1;
	return 0;
}

static int
consumer_detail(json_object *details, const struct sl_consumer *c)
{
	json_object *d = json_object_new_object();

	/* Pushed first: from here on details owns d. */
	if (push(details, d) == -1 ||
	    add_bytes(d, "name", &c->name) == -1 ||
	    add_int(d, "pending", c->pending) == -1 ||
	    add_int(d, "idle_ms", c->idle_ms) == -1 ||
	    add_opt_int(d, "inactive_ms", c->has_inactive, c->inactive_ms) == -1)
		return -1;
	return 0;
}

static int
entry_group(json_object *o, const struct sl_lag_entry *e)
{
	json_object	*names = json_object_new_array();
	json_object	*details = json_object_new_array();
	size_t		 i;
	int		 rc = -1;

	if (add_int(o, "lag", e->lag) == -1)
		goto out;
	for (i = 0; names != NULL && i < e->nconsumers; i++)
		if (push(names, jstr_bytes(e->consumers[i].name.p,
		    e->consumers[i].name.len)) == -1)
			goto out;
	rc = add(o, "consumers", names);
	names = NULL;
	if (rc == -1 ||
	    add_bytes(o, "group", &e->group.name) == -1 ||
	    add_bool(o, "lag_exact", e->lag_exact) == -1 ||
	    add_int(o, "pending", e->group.pending) == -1 ||
	    add_opt_int(o, "entries_read", e->group.has_entries_read,
	    e->group.entries_read) == -1 ||
	    add_opt_int(o, "time_lag_ms", e->has_time_lag, e->time_lag_ms) == -1 ||
	    add_opt_int(o, "oldest_pending_ms", e->has_oldest_pending,
	    e->oldest_pending_ms) == -1 ||
	    add_int(o, "trimmed_unread", e->trimmed_unread) == -1 ||
	    (e->has_trim_risk && add_bool(o, "trim_risk", e->trim_risk) == -1) ||
	    add_str(o, "status", status_name(e->status)) == -1) {
		rc = -1;
		goto out;
	}
	for (i = 0; details != NULL && i < e->nconsumers; i++)
		if (consumer_detail(details, &e->consumers[i]) == -1) {
			rc = -1;
			goto out;
		}
	rc = add(o, "consumer_details", details);
	details = NULL;
out:
	json_object_put(names);
	json_object_put(details);
	return rc;
}

static json_object *
lag_entry(const struct sl_lag_entry *e, const char *group)
{
	json_object	*o;
	int		 rc;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (e->error != NULL)
		rc = entry_error(o, e, group);
	else if (!e->has_group)
		rc = entry_no_group(o, group);
	else
		rc = entry_group(o, e);
	if (rc == -1) {
		json_object_put(o);
		return NULL;
	}
	return o;
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

/* ?group=*: the entries [first, last) of one stream.  The stream keeps the
 * seed's lag (the largest of its groups) and consumers (of every group),
 * and holds each group under "groups". */
static json_object *
stream_of_groups(const struct sl_lag_entry *es, size_t n)
{
	json_object		*o, *groups = NULL, *names = NULL;
	long long		 lag = 0;
	enum sl_status		 worst = SL_STATUS_HEALTHY;
	size_t			 i, j, k;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (es[0].error != NULL || !es[0].has_group) {
		/* The stream failed, or has no group: one entry says so. */
		if ((es[0].error != NULL ? entry_error(o, &es[0], "*") :
		    entry_no_group(o, "*")) == -1 ||
		    add(o, "groups", json_object_new_object()) == -1)
			goto fail;
		json_object_object_del(o, "group");
		return o;
	}
	for (i = 0; i < n; i++) {
		if (es[i].error == NULL && es[i].lag > lag)
			lag = es[i].lag;
		if (severity(es[i].status) > severity(worst))
			worst = es[i].status;
	}
	if (add_int(o, "lag", lag) == -1 ||
	    add(o, "consumers", names = json_object_new_array()) == -1)
		goto fail;
	for (i = 0; i < n; i++)
		for (j = 0; j < es[i].nconsumers; j++) {
			const struct sl_bytes *c = &es[i].consumers[j].name;
			int seen = 0;
			for (k = 0; k < i && !seen; k++)
				for (size_t m = 0; m < es[k].nconsumers && !seen; m++)
					seen = es[k].consumers[m].name.len == c->len &&
					    memcmp(es[k].consumers[m].name.p, c->p,
					    c->len) == 0;
			if (!seen && push(names, jstr_bytes(c->p, c->len)) == -1)
				goto fail;
		}
	if (add_str(o, "status", status_name(worst)) == -1 ||
	    add(o, "groups", groups = json_object_new_object()) == -1)
		goto fail;
	for (i = 0; i < n; i++)
		if (add_named(groups, &es[i].group.name,
		    lag_entry(&es[i], "")) == -1)
			goto fail;
	return o;
fail:
	json_object_put(o);
	return NULL;
}

char *
sl_render_lag(const struct sl_lag_report *r)
{
	json_object	*root, *streams;
	const char	*group = r->all_groups ? "*" :
	    r->group != NULL ? r->group : "";
	size_t		 i, j;

	if ((root = json_object_new_object()) == NULL)
		return NULL;
	if (add(root, "streams", streams = json_object_new_object()) == -1)
		goto fail;
	for (i = 0; i < r->n; i = j) {
		json_object *o;

		for (j = i + 1; r->all_groups && j < r->n &&
		    same_stream(&r->entries[i], &r->entries[j]); j++)
			;
		o = r->all_groups ? stream_of_groups(&r->entries[i], j - i) :
		    lag_entry(&r->entries[i], group);
		if (add_named(streams, &r->entries[i].stream, o) == -1)
			goto fail;
	}
	if (add_int(root, "total_lag", r->total_lag) == -1 ||
	    add_int(root, "stream_count", r->stream_count) == -1 ||
	    add_str(root, "consumer_group", group) == -1)
		goto fail;
	if (r->truncated && add_bool(root, "truncated", 1) == -1)
		goto fail;
	/* The seed's shape stays parseable; error and code say why it is
	 * empty. */
	if (r->error != NULL && (add_str(root, "error", r->error) == -1 ||
	    add_str(root, "code", "redis_unavailable") == -1))
		goto fail;
	return finish(root);
fail:
	json_object_put(root);
	return NULL;
}

static int
stream_info(json_object *o, const struct sl_stream_entry *e)
{
	const struct sl_stream_info	*si = &e->info;
	json_object			*names;

	if (add_int(o, "length", si->length) == -1 ||
	    add_int(o, "groups", si->groups) == -1 ||
	    add_id(o, "first_entry_id", si->first_entry_id) == -1 ||
	    add_id(o, "last_entry_id", si->last_entry_id) == -1 ||
	    add_id(o, "last_generated_id", si->last_generated_id) == -1 ||
	    add_opt_int(o, "entries_added", si->has_entries_added,
	    si->entries_added) == -1 ||
	    add_id(o, "max_deleted_entry_id", si->max_deleted_entry_id) == -1 ||
	    add_id(o, "recorded_first_entry_id",
	    si->recorded_first_entry_id) == -1 ||
	    add_opt_int(o, "last_entry_age_ms", e->last_entry_age_ms >= 0,
	    e->last_entry_age_ms) == -1 ||
	    add(o, "group_names", names = json_object_new_array()) == -1)
		return -1;
	for (size_t i = 0; i < e->ngroup_names; i++)
		if (push(names, jstr_bytes(e->group_names[i].p,
		    e->group_names[i].len)) == -1)
			return -1;
	return 0;
}

static json_object *
stream_entry(const struct sl_stream_entry *e)
{
	json_object	*o;
	int		 rc;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if ((rc = add_bytes(o, "name", &e->name)) == 0) {
		if (e->error != NULL)
			rc = (add_int(o, "length", 0) == -1 ||
			    add_int(o, "groups", 0) == -1 ||
			    add_str(o, "error", e->error) == -1) ? -1 : 0;
		else
			rc = stream_info(o, e);
	}
	if (rc == -1) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

char *
sl_render_streams(const struct sl_streams_report *r)
{
	json_object *root, *arr;

	/* r->error is the router's to answer, with sl_render_error. */
	if ((root = json_object_new_object()) == NULL)
		return NULL;
	if (add(root, "streams", arr = json_object_new_array()) == -1)
		goto fail;
	for (size_t i = 0; i < r->n; i++)
		if (push(arr, stream_entry(&r->entries[i])) == -1)
			goto fail;
	return finish(root);
fail:
	json_object_put(root);
	return NULL;
}

char *
sl_render_health(const struct sl_health *h, const struct sl_render_opts *o)
{
	json_object	*root, *st;
	int		 redis_streams = o != NULL && o->transport_redis_streams;
	const char	*group = o != NULL && o->consumer_group != NULL ?
			    o->consumer_group : "";

	if ((root = json_object_new_object()) == NULL)
		return NULL;
	if (add_str(root, "status", status_name(h->status)) == -1 ||
	    add_bool(root, "redis_connected", 1) == -1 ||
	    add_str(root, "transport_mode",
	    redis_streams ? "redis_streams" : "http") == -1 ||
	    add(root, "streams", st = json_object_new_object()) == -1 ||
	    add_int(st, "healthy", h->healthy) == -1 ||
	    add_int(st, "degraded", h->degraded) == -1 ||
	    add_int(st, "unhealthy", h->unhealthy) == -1 ||
	    add_int(st, "stalled", h->stalled) == -1 ||
	    add_int(st, "no_group", h->no_group) == -1 ||
	    add_int(root, "max_lag", h->max_lag) == -1 ||
	    add_int(root, "total_lag", h->total_lag) == -1 ||
	    add_str(root, "consumer_group", group) == -1)
		goto fail;
	return finish(root);
fail:
	json_object_put(root);
	return NULL;
}

char *
sl_render_health_down(const char *message)
{
	json_object *root;

	if ((root = json_object_new_object()) == NULL)
		return NULL;
	if (add_str(root, "status", status_name(SL_STATUS_UNHEALTHY)) == -1 ||
	    add_bool(root, "redis_connected", 0) == -1 ||
	    add_str(root, "error", message) == -1 ||
	    add_str(root, "code", "redis_unavailable") == -1)
		goto fail;
	return finish(root);
fail:
	json_object_put(root);
	return NULL;
}

char *
sl_render_error(const char *code, const char *message)
{
	json_object *root;

	if ((root = json_object_new_object()) == NULL)
		return NULL;
	if (add_str(root, "error", message) == -1 ||
	    add_str(root, "code", code) == -1)
		goto fail;
	return finish(root);
fail:
	json_object_put(root);
	return NULL;
}
