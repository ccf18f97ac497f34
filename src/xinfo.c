/* SPDX-License-Identifier: ISC */
/* XINFO replies into plain structs.  RESP2 gives each entry as a flat array
 * of field, value; fields are looked up by name so that the field sets of
 * Redis 5, 6, 7.0 and 7.2 all parse, and unknown fields are ignored. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/xinfo.h"

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); goto fail; } while (0)

/* Value of `field` in a flat field/value array, or NULL. */
static const redisReply *
field(const redisReply *r, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i];
		if (k == NULL || (k->type != REDIS_REPLY_STRING &&
		    k->type != REDIS_REPLY_STATUS))
			continue;
		if (k->len == len && memcmp(k->str, name, len) == 0)
			return r->element[i + 1];
	}
	return NULL;
}

static int
is_map(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements % 2 == 0;
}

/* Integer field; Redis sends integers, but accept a decimal string too.
 * Returns 1 when set, 0 when absent or nil, -1 when malformed. */
static int
int_field(const redisReply *map, const char *name, long long *out)
{
	const redisReply *v = field(map, name);
	char		*end;

	if (v == NULL || v->type == REDIS_REPLY_NIL)
		return 0;
	if (v->type == REDIS_REPLY_INTEGER) {
		*out = v->integer;
		return 1;
	}
	if (v->type == REDIS_REPLY_STRING && v->len > 0 && v->len < 24) {
		errno = 0;
		*out = strtoll(v->str, &end, 10);
		if (errno == 0 && end == v->str + v->len)
			return 1;
	}
	return -1;
}

/* A stream id field ("ms-seq") into buf; "" when absent or nil. */
static int
id_field(const redisReply *map, const char *name, char *buf)
{
	const redisReply *v = field(map, name);

	buf[0] = '\0';
	if (v == NULL || v->type == REDIS_REPLY_NIL)
		return 0;
	if ((v->type != REDIS_REPLY_STRING && v->type != REDIS_REPLY_STATUS) ||
	    v->len >= SL_ID_MAX || memchr(v->str, '\0', v->len) != NULL)
		return -1;
	memcpy(buf, v->str, v->len);
	buf[v->len] = '\0';
	return 1;
}

static int
name_field(const redisReply *map, struct sl_bytes *out)
{
	const redisReply *v = field(map, "name");

	if (v == NULL || v->type != REDIS_REPLY_STRING)
		return -1;
	return sl_bytes_set(out, v->str, v->len);
}

static int
check_list(const redisReply *r, char *err, size_t errlen, const char *what)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		snprintf(err, errlen, "%s: expected an array reply", what);
		return -1;
	}
	if (r->elements > SL_XINFO_MAX_ITEMS) {
		snprintf(err, errlen, "%s: more than %d entries", what,
		    SL_XINFO_MAX_ITEMS);
		return -1;
	}
	return 0;
}

int
sl_xinfo_groups(const redisReply *r, struct sl_group **out, size_t *n,
    char *err, size_t errlen)
{
	struct sl_group	*g = NULL;
	size_t		 i = 0;

	*out = NULL;
	*n = 0;
	if (check_list(r, err, errlen, "XINFO GROUPS") == -1)
		return -1;
	if (r->elements > 0 && (g = calloc(r->elements, sizeof(*g))) == NULL)
		FAIL("out of memory");
	for (i = 0; i < r->elements; i++) {
		const redisReply *m = r->element[i];
		const redisReply *lag;
		struct sl_group	*x = &g[i];
		int		 rc;

		if (!is_map(m))
			FAIL("XINFO GROUPS: entry %zu is not a field list", i);
		if (name_field(m, &x->name) == -1)
			FAIL("XINFO GROUPS: entry %zu has no name", i);
		if (int_field(m, "consumers", &x->consumers) == -1 ||
		    int_field(m, "pending", &x->pending) == -1)
			FAIL("XINFO GROUPS: bad consumers or pending");
		if (id_field(m, "last-delivered-id", x->last_delivered_id) == -1)
			FAIL("XINFO GROUPS: bad last-delivered-id");
		if ((rc = int_field(m, "entries-read", &x->entries_read)) == -1)
			FAIL("XINFO GROUPS: bad entries-read");
		x->has_entries_read = rc;
		lag = field(m, "lag");
		if (lag == NULL)
			x->lag_state = SL_LAG_ABSENT;
		else if (lag->type == REDIS_REPLY_NIL)
			x->lag_state = SL_LAG_NIL;
		else if (int_field(m, "lag", &x->lag) == 1 && x->lag >= 0)
			x->lag_state = SL_LAG_KNOWN;
		else
			FAIL("XINFO GROUPS: bad lag");
	}
	*out = g;
	*n = r->elements;
	return 0;
fail:
	sl_groups_free(g, i + (g != NULL && i < r->elements));
	return -1;
}

int
sl_xinfo_consumers(const redisReply *r, struct sl_consumer **out, size_t *n,
    char *err, size_t errlen)
{
	struct sl_consumer *c = NULL;
	size_t		 i = 0;

	*out = NULL;
	*n = 0;
	if (check_list(r, err, errlen, "XINFO CONSUMERS") == -1)
		return -1;
	if (r->elements > 0 && (c = calloc(r->elements, sizeof(*c))) == NULL)
		FAIL("out of memory");
	for (i = 0; i < r->elements; i++) {
		const redisReply *m = r->element[i];
		struct sl_consumer *x = &c[i];
		int		 rc;

		if (!is_map(m))
			FAIL("XINFO CONSUMERS: entry %zu is not a field list", i);
		if (name_field(m, &x->name) == -1)
			FAIL("XINFO CONSUMERS: entry %zu has no name", i);
		if (int_field(m, "pending", &x->pending) == -1 ||
		    int_field(m, "idle", &x->idle_ms) == -1)
			FAIL("XINFO CONSUMERS: bad pending or idle");
		if ((rc = int_field(m, "inactive", &x->inactive_ms)) == -1)
			FAIL("XINFO CONSUMERS: bad inactive");
		x->has_inactive = rc;
	}
	*out = c;
	*n = r->elements;
	return 0;
fail:
	sl_consumers_free(c, i + (c != NULL && i < r->elements));
	return -1;
}

int
sl_xinfo_stream(const redisReply *r, struct sl_stream_info *out, char *err,
    size_t errlen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (!is_map(r)) {
		snprintf(err, errlen, "XINFO STREAM: expected a field list");
		return -1;
	}
	if (int_field(r, "length", &out->length) != 1 ||
	    int_field(r, "groups", &out->groups) == -1) {
		snprintf(err, errlen, "XINFO STREAM: bad length or groups");
		return -1;
	}
	if (id_field(r, "last-generated-id", out->last_generated_id) == -1 ||
	    id_field(r, "max-deleted-entry-id", out->max_deleted_entry_id) == -1 ||
	    id_field(r, "recorded-first-entry-id",
	    out->recorded_first_entry_id) == -1) {
		snprintf(err, errlen, "XINFO STREAM: bad id field");
		return -1;
	}
	if ((rc = int_field(r, "entries-added", &out->entries_added)) == -1) {
		snprintf(err, errlen, "XINFO STREAM: bad entries-added");
		return -1;
	}
	out->has_entries_added = rc;
	/* first-entry and last-entry are [id, [field, value, ...]] or nil. */
	for (int k = 0; k < 2; k++) {
		const redisReply *e = field(r, k == 0 ? "first-entry" : "last-entry");
		char *dst = k == 0 ? out->first_entry_id : out->last_entry_id;

		dst[0] = '\0';
		if (e == NULL || e->type == REDIS_REPLY_NIL)
			continue;
		if (e->type != REDIS_REPLY_ARRAY || e->elements < 1 ||
		    e->element[0]->type != REDIS_REPLY_STRING ||
		    e->element[0]->len >= SL_ID_MAX) {
			snprintf(err, errlen, "XINFO STREAM: bad %s",
			    k == 0 ? "first-entry" : "last-entry");
			return -1;
		}
		memcpy(dst, e->element[0]->str, e->element[0]->len);
		dst[e->element[0]->len] = '\0';
	}
	return 0;
}

void
sl_groups_free(struct sl_group *g, size_t n)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		sl_bytes_free(&g[i].name);
	free(g);
}

void
sl_consumers_free(struct sl_consumer *c, size_t n)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		sl_bytes_free(&c[i].name);
	free(c);
}

long long
sl_id_ms(const char *id)
{
	char		*end;
	unsigned long long ms;

	if (id == NULL || *id < '0' || *id > '9')
		return -1;
	errno = 0;
	ms = strtoull(id, &end, 10);
	if (errno != 0 || *end != '-' || ms > (unsigned long long)INT64_MAX)
		return -1;
	return (long long)ms;
}
