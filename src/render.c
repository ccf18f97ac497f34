/* Reports into JSON with json-c.  Ownership: json_object_object_add and
 * json_object_array_add take the reference to the value they are given, so
 * only the root is put; a failed add puts the value itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "streamlag/lag.h"
#include "streamlag/render.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static const char replacement[] = "\xEF\xBF\xBD";	/* U+FFFD */

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when invalid, with
 * *skip set to the maximal invalid subpart to replace by one U+FFFD. */
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
			lo = 0xA0;	/* overlong */
		else if (c == 0xED)
			hi = 0x9F;	/* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;	/* overlong */
		else if (c == 0xF4)
			hi = 0x8F;	/* > U+10FFFF */
	} else
		return 0;
	for (k = 1; k < n; k++) {
		unsigned char b;

		if (k >= left)
			break;
		b = p[k];
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
	const unsigned char *p = (const unsigned char *)s;
	char	*out = malloc(len * 3 + 1);
	size_t	 i = 0, o = 0, n, skip;

	if (out == NULL)
		return NULL;
	while (i < len) {
		n = utf8_seq(p + i, len - i, &skip);
		if (n == 1 && p[i] == '\0' && !nul_ok)
			n = 0;
		if (n == 0) {
			memcpy(out + o, replacement, 3);
			o += 3;
			i += skip;
			continue;
		}
		memcpy(out + o, p + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	if (outlen != NULL)
		*outlen = o;
	return out;
}

static json_object *
jstr_bytes(const char *p, size_t len)
{
	size_t		 n;
	char		*clean = sl_utf8_sanitize(p, len, 1, &n);
	json_object	*j;

	if (clean == NULL)
		return NULL;
	j = json_object_new_string_len(clean, (int)n);
	free(clean);
	return j;
}

static json_object *
jstr(const char *s)
{
	return s == NULL ? NULL : jstr_bytes(s, strlen(s));
}

/* Adds val (may be NULL for JSON null) under key; -1 when out of memory. */
static int
add(json_object *o, const char *key, json_object *val)
{
	if (json_object_object_add(o, key, val) != 0) {
		json_object_put(val);
		return -1;
	}
	return 0;
}

static int
add_str(json_object *o, const char *key, const char *s)
{
	json_object *v = jstr(s);

	return v == NULL ? -1 : add(o, key, v);
}

static int
add_int(json_object *o, const char *key, long long v)
{
	json_object *j = json_object_new_int64(v);

	return j == NULL ? -1 : add(o, key, j);
}

static int
add_id(json_object *o, const char *key, const char *id)
{
	if (id[0] == '\0')
		return add(o, key, NULL);
	return add_str(o, key, id);
}

static int
push(json_object *arr, json_object *val)
{
	if (val == NULL || json_object_array_add(arr, val) != 0) {
		json_object_put(val);
		return -1;
	}
	return 0;
}

/* Adds val under a name that is bytes: sanitized (NUL included, keys are C
 * strings), and never overwriting a name that sanitizes to the same key. */
static int
add_named(json_object *o, const char *name, size_t len, json_object *val)
{
	char	*key, *alt;
	size_t	 klen;
	int	 rc;

	if ((key = sl_utf8_sanitize(name, len, 0, &klen)) == NULL) {
		json_object_put(val);
		return -1;
	}
	if (json_object_object_get_ex(o, key, NULL)) {
		if ((alt = malloc(klen + 24)) == NULL) {
			free(key);
			json_object_put(val);
			return -1;
		}
		for (int k = 2; ; k++) {
			snprintf(alt, klen + 24, "%s#%d", key, k);
			if (!json_object_object_get_ex(o, alt, NULL))
				break;
		}
		free(key);
		key = alt;
	}
	rc = add(o, key, val);
	free(key);
	return rc;
}

static char *
finish(json_object *root)
{
	char *s = NULL;

	if (root != NULL) {
		const char *t = json_object_to_json_string_ext(root, JSON_FLAGS);
		if (t != NULL)
			s = strdup(t);
		json_object_put(root);
	}
	return s;
}

static json_object *
lag_entry(const struct sl_lag_entry *e, const char *report_group)
{
	json_object	*o = json_object_new_object(), *names, *details;
	const char	*group = report_group;
	size_t		 glen = report_group != NULL ? strlen(report_group) : 0;

	if (o == NULL)
		return NULL;
	if (e->has_group) {
		group = e->group.name.p;
		glen = e->group.name.len;
	}
	if (e->error != NULL) {
		if (add_int(o, "lag", -1) == -1 ||
		    add(o, "consumers", json_object_new_array()) == -1 ||
		    add_str(o, "error", e->error) == -1 ||
		    add(o, "group", jstr_bytes(group, glen)) == -1 ||
		    add_str(o, "status", sl_status_name(SL_STATUS_ERROR)) == -1)
			goto fail;
		return o;
	}
	if ((names = json_object_new_array()) == NULL ||
	    add_int(o, "lag", e->lag) == -1 || add(o, "consumers", names) == -1)
		goto fail;
	for (size_t i = 0; i < e->nconsumers; i++)
		if (push(names, jstr_bytes(e->consumers[i].name.p,
		    e->consumers[i].name.len)) == -1)
			goto fail;
	if (add(o, "group", jstr_bytes(group, glen)) == -1 ||
	    add(o, "lag_exact", json_object_new_boolean(e->lag_exact)) == -1 ||
	    add_int(o, "pending", e->has_group ? e->group.pending : 0) == -1)
		goto fail;
	if (!e->has_group)
		return add_str(o, "status", sl_status_name(e->status)) == -1 ?
		    (json_object_put(o), NULL) : o;
	if (add(o, "entries_read", e->group.has_entries_read ?
	    json_object_new_int64(e->group.entries_read) : NULL) == -1 ||
	    add_str(o, "status", sl_status_name(e->status)) == -1 ||
	    (details = json_object_new_array()) == NULL ||
	    add(o, "consumer_details", details) == -1)
		goto fail;
	for (size_t i = 0; i < e->nconsumers; i++) {
		const struct sl_consumer *c = &e->consumers[i];
		json_object *d = json_object_new_object();

		if (push(details, d) == -1 ||
		    add(d, "name", jstr_bytes(c->name.p, c->name.len)) == -1 ||
		    add_int(d, "pending", c->pending) == -1 ||
		    add_int(d, "idle_ms", c->idle_ms) == -1 ||
		    add(d, "inactive_ms", c->has_inactive ?
		    json_object_new_int64(c->inactive_ms) : NULL) == -1)
			goto fail;
	}
	return o;
fail:
	json_object_put(o);
	return NULL;
}

char *
sl_render_lag(const struct sl_lag_report *r)
{
	json_object *root = json_object_new_object(), *streams;

	if (root == NULL || (streams = json_object_new_object()) == NULL ||
	    add(root, "streams", streams) == -1)
		goto fail;
	for (size_t i = 0; i < r->n; i++) {
		const struct sl_lag_entry *e = &r->entries[i];
		json_object *o = lag_entry(e, r->group);

		if (o == NULL ||
		    add_named(streams, e->stream.p, e->stream.len, o) == -1)
			goto fail;
	}
	if (add_int(root, "total_lag", r->total_lag) == -1 ||
	    add_int(root, "stream_count", r->stream_count) == -1 ||
	    add_str(root, "consumer_group", r->group != NULL ? r->group : "") == -1)
		goto fail;
	if (r->error != NULL && (add_str(root, "error", r->error) == -1 ||
	    add_str(root, "code", "redis_unavailable") == -1))
		goto fail;
	return finish(root);
fail:
	json_object_put(root);
	return NULL;
}

static json_object *
stream_entry(const struct sl_stream_entry *e)
{
	json_object		*o = json_object_new_object(), *names;
	const struct sl_stream_info *si = &e->info;

	if (o == NULL || add(o, "name", jstr_bytes(e->name.p, e->name.len)) == -1)
		goto fail;
	if (e->error != NULL) {
		if (add_int(o, "length", 0) == -1 || add_int(o, "groups", 0) == -1 ||
		    add_str(o, "error", e->error) == -1)
			goto fail;
		return o;
	}
	if (add_int(o, "length", si->length) == -1 ||
	    add_int(o, "groups", si->groups) == -1 ||
	    add_id(o, "first_entry_id", si->first_entry_id) == -1 ||
	    add_id(o, "last_entry_id", si->last_entry_id) == -1 ||
	    add_id(o, "last_generated_id", si->last_generated_id) == -1 ||
	    add(o, "entries_added", si->has_entries_added ?
	    json_object_new_int64(si->entries_added) : NULL) == -1 ||
	    add_id(o, "max_deleted_entry_id", si->max_deleted_entry_id) == -1 ||
	    add_id(o, "recorded_first_entry_id", si->recorded_first_entry_id) == -1 ||
	    add(o, "last_entry_age_ms", e->last_entry_age_ms >= 0 ?
	    json_object_new_int64(e->last_entry_age_ms) : NULL) == -1 ||
	    (names = json_object_new_array()) == NULL ||
	    add(o, "group_names", names) == -1)
		goto fail;
	for (size_t i = 0; i < e->ngroup_names; i++)
		if (push(names, jstr_bytes(e->group_names[i].p,
		    e->group_names[i].len)) == -1)
			goto fail;
	return o;
fail:
	json_object_put(o);
	return NULL;
}

char *
sl_render_streams(const struct sl_streams_report *r)
{
	json_object *root = json_object_new_object(), *arr;

	if (root == NULL || (arr = json_object_new_array()) == NULL ||
	    add(root, "streams", arr) == -1)
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
	json_object *root = json_object_new_object(), *st;

	if (root == NULL ||
	    add_str(root, "status", sl_status_name(h->status)) == -1 ||
	    add(root, "redis_connected", json_object_new_boolean(1)) == -1 ||
	    add_str(root, "transport_mode", o->transport_redis_streams ?
	    "redis_streams" : "http") == -1 ||
	    (st = json_object_new_object()) == NULL ||
	    add(root, "streams", st) == -1 ||
	    add_int(st, "healthy", h->healthy) == -1 ||
	    add_int(st, "degraded", h->degraded) == -1 ||
	    add_int(st, "unhealthy", h->unhealthy) == -1 ||
	    add_int(st, "stalled", h->stalled) == -1 ||
	    add_int(st, "no_group", h->no_group) == -1 ||
	    add_int(root, "max_lag", h->max_lag) == -1 ||
	    add_int(root, "total_lag", h->total_lag) == -1 ||
	    add_str(root, "consumer_group", o->consumer_group != NULL ?
	    o->consumer_group : "") == -1)
		goto fail;
	return finish(root);
fail:
	json_object_put(root);
	return NULL;
}

char *
sl_render_health_down(const char *message)
{
	json_object *root = json_object_new_object();

	if (root == NULL || add_str(root, "status", "unhealthy") == -1 ||
	    add(root, "redis_connected", json_object_new_boolean(0)) == -1 ||
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
	json_object *root = json_object_new_object();

	if (root == NULL || add_str(root, "error", message) == -1 ||
	    add_str(root, "code", code) == -1)
		goto fail;
	return finish(root);
fail:
	json_object_put(root);
	return NULL;
}
