/* SPDX-License-Identifier: ISC */
/* Redis's replies into facts (facts.h).  RESP2 gives each XINFO entry as a
 * flat array of field, value; fields are looked up by name so that the
 * field sets of Redis 5, 6, 7.0 and 7.2 all parse, and unknown fields are
 * ignored.  Every reply is checked for its type and size before it is
 * indexed. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/facts.h"
#include "streamlag/reply.h"

/* When an id is a timestamp: within ten years before Redis's clock and a
 * day after it (ids set by hand, XADD 1-1, are not). */
#define TEN_YEARS_MS	(10LL * 366 * 24 * 3600 * 1000)
#define ONE_DAY_MS	(24LL * 3600 * 1000)
#define TIME_MAX_S	253402300799LL	/* 9999-12-31T23:59:59Z */

int
sl_facts_words(const redisReply *r, const char **s, size_t *len)
{
	if (r == NULL || r->type != REDIS_REPLY_ERROR)
		return 0;
	*s = r->str;
	*len = r->len;
	if (*len >= 4 && memcmp(*s, "ERR ", 4) == 0) {
		*s += 4;
		*len -= 4;
	}
	return 1;
}

int
sl_facts_nogroup(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_ERROR && r->len >= 8 &&
	    memcmp(r->str, "NOGROUP ", 8) == 0;
}

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

/* The name field: SL_OK, SL_EPROTO when there is none, SL_ENOMEM. */
static enum sl_err
name_field(const redisReply *map, struct sl_bytes *out)
{
	const redisReply *v = field(map, "name");

	if (v == NULL || v->type != REDIS_REPLY_STRING)
		return SL_EPROTO;
	return sl_bytes_set(out, v->str, v->len);
}

/* A list reply of at most SL_FACTS_MAX_ITEMS entries, its array allocated
 * (size bytes each) into *out. */
static enum sl_err
list_of(const redisReply *r, const char *what, size_t size, void **out,
    struct sl_error *why)
{
	const char	*s;
	size_t		 len;

	*out = NULL;
	if (sl_facts_words(r, &s, &len))
		return sl_seterr(why, SL_EREDIS, "%.*s", (int)(len > 200 ? 200 :
		    len), s);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return sl_seterr(why, SL_EPROTO, "%s: expected an array reply",
		    what);
	if (r->elements > SL_FACTS_MAX_ITEMS)
		return sl_seterr(why, SL_EPROTO, "%s: more than %d entries", what,
		    SL_FACTS_MAX_ITEMS);
	if (r->elements > 0 && (*out = sl_calloc(r->elements, size)) == NULL)
		return sl_seterr(why, SL_ENOMEM, NULL);
	return SL_OK;
}

/* One entry of XINFO GROUPS. */
static enum sl_err
group_of(const redisReply *m, size_t i, struct sl_group *x,
    struct sl_error *why)
{
	const redisReply *lag;
	enum sl_err	 rc;
	int		 has;

	if (!is_map(m))
		return sl_seterr(why, SL_EPROTO, "XINFO GROUPS: entry %zu is "
		    "not a field list", i);
	if ((rc = name_field(m, &x->name)) != SL_OK)
		return rc == SL_ENOMEM ? sl_seterr(why, rc, NULL) :
		    sl_seterr(why, rc, "XINFO GROUPS: entry %zu has no name", i);
	if (int_field(m, "consumers", &x->consumers) == -1 ||
	    int_field(m, "pending", &x->pending) == -1)
		return sl_seterr(why, SL_EPROTO, "XINFO GROUPS: bad consumers "
		    "or pending");
	if (id_field(m, "last-delivered-id", x->last_delivered_id) == -1)
		return sl_seterr(why, SL_EPROTO, "XINFO GROUPS: bad "
		    "last-delivered-id");
	if ((has = int_field(m, "entries-read", &x->entries_read)) == -1)
		return sl_seterr(why, SL_EPROTO, "XINFO GROUPS: bad entries-read");
	x->has_entries_read = has;
	lag = field(m, "lag");
	if (lag == NULL)
		x->lag_state = SL_LAG_ABSENT;
	else if (lag->type == REDIS_REPLY_NIL)
		x->lag_state = SL_LAG_NIL;
	else if (int_field(m, "lag", &x->lag) == 1 && x->lag >= 0)
		x->lag_state = SL_LAG_KNOWN;
	else
		return sl_seterr(why, SL_EPROTO, "XINFO GROUPS: bad lag");
	return SL_OK;
}

enum sl_err
sl_facts_groups(const redisReply *r, struct sl_group **out, size_t *n,
    struct sl_error *why)
{
	struct sl_group	*g;
	enum sl_err	 rc;
	size_t		 i;

	*out = NULL;
	*n = 0;
	if ((rc = list_of(r, "XINFO GROUPS", sizeof(*g), (void **)&g,
	    why)) != SL_OK)
		return rc;
	for (i = 0; i < r->elements; i++)
		if ((rc = group_of(r->element[i], i, &g[i], why)) != SL_OK) {
			sl_groups_free(g, i + 1);
			return rc;
		}
	*out = g;
	*n = r->elements;
	return SL_OK;
}

/* One entry of XINFO CONSUMERS. */
static enum sl_err
consumer_of(const redisReply *m, size_t i, struct sl_consumer *x,
    struct sl_error *why)
{
	enum sl_err	 rc;
	int		 has;

	if (!is_map(m))
		return sl_seterr(why, SL_EPROTO, "XINFO CONSUMERS: entry %zu is "
		    "not a field list", i);
	if ((rc = name_field(m, &x->name)) != SL_OK)
		return rc == SL_ENOMEM ? sl_seterr(why, rc, NULL) :
		    sl_seterr(why, rc, "XINFO CONSUMERS: entry %zu has no name",
		    i);
	if (int_field(m, "pending", &x->pending) == -1 ||
	    int_field(m, "idle", &x->idle_ms) == -1)
		return sl_seterr(why, SL_EPROTO, "XINFO CONSUMERS: bad pending "
		    "or idle");
	if ((has = int_field(m, "inactive", &x->inactive_ms)) == -1)
		return sl_seterr(why, SL_EPROTO, "XINFO CONSUMERS: bad inactive");
	x->has_inactive = has;
	return SL_OK;
}

enum sl_err
sl_facts_consumers(const redisReply *r, struct sl_consumer **out, size_t *n,
    struct sl_error *why)
{
	struct sl_consumer *c;
	enum sl_err	 rc;
	size_t		 i;

	*out = NULL;
	*n = 0;
	if ((rc = list_of(r, "XINFO CONSUMERS", sizeof(*c), (void **)&c,
	    why)) != SL_OK)
		return rc;
	for (i = 0; i < r->elements; i++)
		if ((rc = consumer_of(r->element[i], i, &c[i], why)) != SL_OK) {
			sl_consumers_free(c, i + 1);
			return rc;
		}
	*out = c;
	*n = r->elements;
	return SL_OK;
}

/* first-entry and last-entry are [id, [field, value, ...]] or nil; an
 * entry raises *bytes to its size as Redis sent it. */
static int
entry_id_field(const redisReply *map, const char *name, char *dst,
    unsigned long long *bytes)
{
	const redisReply	*e = field(map, name);
	unsigned long long	 n;

	dst[0] = '\0';
	if (e == NULL || e->type == REDIS_REPLY_NIL)
		return 0;
	if (e->type != REDIS_REPLY_ARRAY || e->elements < 1 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    e->element[0]->len >= SL_ID_MAX)
		return -1;
	memcpy(dst, e->element[0]->str, e->element[0]->len);
	dst[e->element[0]->len] = '\0';
	if ((n = sl_reply_wire_bytes(e)) > *bytes)
		*bytes = n;
	return 1;
}

enum sl_err
sl_facts_stream(const redisReply *r, struct sl_stream_info *out,
    struct sl_error *why)
{
	const char	*s;
	size_t		 len;
	int		 has;

	memset(out, 0, sizeof(*out));
	if (sl_facts_words(r, &s, &len))
		return sl_seterr(why, SL_EREDIS, "%.*s", (int)(len > 200 ? 200 :
		    len), s);
	if (!is_map(r))
		return sl_seterr(why, SL_EPROTO, "XINFO STREAM: expected a "
		    "field list");
	if (int_field(r, "length", &out->length) != 1 ||
	    int_field(r, "groups", &out->groups) == -1)
		return sl_seterr(why, SL_EPROTO, "XINFO STREAM: bad length or "
		    "groups");
	if (id_field(r, "last-generated-id", out->last_generated_id) == -1 ||
	    id_field(r, "max-deleted-entry-id", out->max_deleted_entry_id) == -1 ||
	    id_field(r, "recorded-first-entry-id",
	    out->recorded_first_entry_id) == -1)
		return sl_seterr(why, SL_EPROTO, "XINFO STREAM: bad id field");
	if ((has = int_field(r, "entries-added", &out->entries_added)) == -1)
		return sl_seterr(why, SL_EPROTO, "XINFO STREAM: bad "
		    "entries-added");
	out->has_entries_added = has;
	if (entry_id_field(r, "first-entry", out->first_entry_id,
	    &out->entry_bytes) == -1)
		return sl_seterr(why, SL_EPROTO, "XINFO STREAM: bad first-entry");
	if (entry_id_field(r, "last-entry", out->last_entry_id,
	    &out->entry_bytes) == -1)
		return sl_seterr(why, SL_EPROTO, "XINFO STREAM: bad last-entry");
	return SL_OK;
}

long long
sl_facts_time_ms(const redisReply *r)
{
	long long	 v[2];
	char		*end;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
		return -1;
	for (int i = 0; i < 2; i++) {
		if (r->element[i]->type != REDIS_REPLY_STRING)
			return -1;
		errno = 0;
		v[i] = strtoll(r->element[i]->str, &end, 10);
		if (errno != 0 || end == r->element[i]->str || *end != '\0' ||
		    v[i] < 0)
			return -1;
	}
	/* Seconds up to the year 9999 and microseconds below one second:
	 * anything else is not a clock, and would overflow in ms. */
	if (v[0] > TIME_MAX_S || v[1] >= 1000000)
		return -1;
	return v[0] * 1000 + v[1] / 1000;
}

int
sl_facts_id_age(const char *id, size_t len, long long now_ms,
    long long *age_ms)
{
	char		 buf[SL_ID_MAX];
	long long	 ms;

	if (now_ms < 0 || id == NULL || len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, id, len);
	buf[len] = '\0';
	ms = sl_id_ms(buf);
	if (ms < 0 || ms < now_ms - TEN_YEARS_MS || ms > now_ms + ONE_DAY_MS)
		return 0;
	*age_ms = now_ms > ms ? now_ms - ms : 0;
	return 1;
}

/* The id of element i of an XRANGE or XPENDING reply ([[id, ...], ...]). */
static const redisReply *
range_id(const redisReply *r, size_t i)
{
	const redisReply *e;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || i >= r->elements)
		return NULL;
	e = r->element[i];
	if (e->type != REDIS_REPLY_ARRAY || e->elements < 1 ||
	    e->element[0]->type != REDIS_REPLY_STRING)
		return NULL;
	return e->element[0];
}

enum sl_err
sl_facts_next(const redisReply *r, long long now_ms, struct sl_lag_facts *f)
{
	const redisReply *id;

	f->next = -1;
	f->has_next_age = 0;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return SL_EPROTO;
	if (r->elements == 0) {
		f->next = 0;
		return SL_OK;
	}
	if ((id = range_id(r, 0)) == NULL || id->len >= sizeof(f->next_id))
		return SL_EPROTO;
	memcpy(f->next_id, id->str, id->len);
	f->next_id[id->len] = '\0';
	f->next = 1;
	f->has_next_age = sl_facts_id_age(id->str, id->len, now_ms,
	    &f->next_age_ms);
	return SL_OK;
}

enum sl_err
sl_facts_length(const redisReply *r, long long *len)
{
	if (r != NULL && r->type == REDIS_REPLY_ERROR)
		return SL_EREDIS;
	if (r == NULL || r->type != REDIS_REPLY_INTEGER || r->integer < 0)
		return SL_EPROTO;
	*len = r->integer;
	return SL_OK;
}

int
sl_facts_oldest_pending(const redisReply *r, long long now_ms,
    long long *age_ms)
{
	const redisReply *first = range_id(r, 0);

	return first != NULL && sl_facts_id_age(first->str, first->len,
	    now_ms, age_ms);
}

int
sl_facts_first_id(const redisReply *r, unsigned long long *ms,
    unsigned long long *seq)
{
	const redisReply *id = range_id(r, 0);
	char		 buf[SL_ID_MAX];

	if (id == NULL || id->len >= sizeof(buf) ||
	    memchr(id->str, '\0', id->len) != NULL)
		return 0;
	memcpy(buf, id->str, id->len);
	buf[id->len] = '\0';
	return sl_id_parse(buf, ms, seq) == SL_OK;
}

enum sl_err
sl_facts_range_tail(const redisReply *r, size_t *k, char last[SL_ID_MAX])
{
	const redisReply *id;

	last[0] = '\0';
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return SL_EPROTO;
	*k = r->elements;
	if (*k == 0)
		return SL_OK;
	if ((id = range_id(r, *k - 1)) == NULL || id->len >= SL_ID_MAX ||
	    memchr(id->str, '\0', id->len) != NULL)
		return SL_EPROTO;
	memcpy(last, id->str, id->len);
	last[id->len] = '\0';
	return SL_OK;
}

/* Appends a copy of len bytes of s to (*names, *n, *cap). */
static enum sl_err
names_add(char ***names, size_t *n, size_t *cap, const char *s, size_t len)
{
	if (*n == *cap) {
		size_t	 ncap = *cap ? *cap * 2 : 256;
		char	**g = sl_reallocarray(*names, ncap, sizeof(*g));

		if (g == NULL)
			return SL_ENOMEM;
		*names = g;
		*cap = ncap;
	}
	if (((*names)[*n] = sl_strndup(s, len)) == NULL)
		return SL_ENOMEM;
	(*n)++;
	return SL_OK;
}

enum sl_err
sl_facts_scan(const redisReply *r, char cursor[SL_SCAN_CURSOR_MAX],
    char ***names, size_t *n, size_t *cap)
{
	const redisReply *keys;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[0]->len >= SL_SCAN_CURSOR_MAX ||
	    (keys = r->element[1])->type != REDIS_REPLY_ARRAY)
		return SL_EPROTO;
	memcpy(cursor, r->element[0]->str, r->element[0]->len);
	cursor[r->element[0]->len] = '\0';
	for (size_t i = 0; i < keys->elements; i++) {
		const redisReply *k = keys->element[i];

		if (k->type != REDIS_REPLY_STRING ||
		    memchr(k->str, '\0', k->len) != NULL)
			continue;	/* names with NUL cannot be configured */
		if (names_add(names, n, cap, k->str, k->len) != SL_OK)
			return SL_ENOMEM;
	}
	return SL_OK;
}

enum sl_err
sl_facts_lag_fail(struct sl_lag_entry *e, const redisReply *r, const char *msg)
{
	const char	*s;
	size_t		 len;

	if (!sl_facts_words(r, &s, &len)) {
		s = msg;
		len = strlen(msg);
	}
	return sl_lag_entry_fail(e, s, len);
}

/* The entry fails with what the parser said (Redis's whole words for an
 * error reply, never cut to the size of why). */
static enum sl_err
fail_with(struct sl_lag_entry *e, const redisReply *r, enum sl_err rc,
    const struct sl_error *why)
{
	if (rc == SL_ENOMEM)
		return rc;
	return sl_facts_lag_fail(e, r, why->str);
}

enum sl_err
sl_facts_lag_entry(struct sl_lag_entry *e, const char *group, size_t group_len,
    const redisReply *groups, const redisReply *consumers,
    const struct sl_thresholds *t)
{
	struct sl_group	*gs = NULL;
	struct sl_error	 why;
	size_t		 ng = 0;
	enum sl_err	 rc;

	if (groups == NULL || consumers == NULL)
		return sl_facts_lag_fail(e, NULL, "no reply from Redis");
	if ((rc = sl_facts_groups(groups, &gs, &ng, &why)) != SL_OK)
		return fail_with(e, groups, rc, &why);
	if (!sl_lag_entry_take_group(e, gs, ng, group, group_len) ||
	    sl_facts_nogroup(consumers))
		sl_lag_entry_no_group(e);
	else if ((rc = sl_facts_consumers(consumers, &e->consumers,
	    &e->nconsumers, &why)) != SL_OK)
		rc = fail_with(e, consumers, rc, &why);
	else
		sl_lag_entry_start(e, t);
	sl_groups_free(gs, ng);
	return rc;
}

enum sl_err
sl_facts_lag_consumers(struct sl_lag_entry *e, const redisReply *r)
{
	struct sl_error	 why;
	enum sl_err	 rc;

	if (e->error != NULL || !e->has_group || r == NULL)
		return SL_OK;
	if (sl_facts_nogroup(r)) {		/* destroyed meanwhile */
		sl_lag_entry_no_group(e);
		return SL_OK;
	}
	if ((rc = sl_facts_consumers(r, &e->consumers, &e->nconsumers,
	    &why)) != SL_OK)
		return fail_with(e, r, rc, &why);
	return SL_OK;
}

void
sl_facts_count_step(struct sl_lagcount *st, const redisReply *r,
    long long step)
{
	char	 last[SL_ID_MAX];
	size_t	 k = 0;

	if (sl_facts_range_tail(r, &k, last) != SL_OK) {
		/* Not a reply to count from: the count starts again. */
		sl_lag_count_step(st, 1, NULL, step);
		return;
	}
	sl_lag_count_step(st, k, k > 0 ? last : NULL, step);
}

static enum sl_err
stream_fail(struct sl_stream_entry *e, const redisReply *r, const char *msg)
{
	const char	*s;
	size_t		 len;

	if (!sl_facts_words(r, &s, &len)) {
		s = msg;
		len = strlen(msg);
	}
	sl_free(e->error);
	return (e->error = sl_strndup(s, len)) == NULL ? SL_ENOMEM : SL_OK;
}

/* The group names of a stream, moved out of its XINFO GROUPS. */
static enum sl_err
stream_groups(struct sl_stream_entry *e, const redisReply *groups)
{
	struct sl_group	*gs = NULL;
	struct sl_error	 why;
	size_t		 ng = 0;
	enum sl_err	 rc;

	if ((rc = sl_facts_groups(groups, &gs, &ng, &why)) != SL_OK)
		return rc == SL_ENOMEM ? rc : stream_fail(e, groups, why.str);
	if (ng > 0 && (e->group_names = sl_calloc(ng,
	    sizeof(*e->group_names))) == NULL) {
		sl_groups_free(gs, ng);
		return SL_ENOMEM;
	}
	for (size_t i = 0; i < ng; i++) {
		e->group_names[i] = gs[i].name;	/* moved */
		memset(&gs[i].name, 0, sizeof(gs[i].name));
	}
	e->ngroup_names = ng;
	sl_groups_free(gs, ng);
	return SL_OK;
}

enum sl_err
sl_facts_stream_entry(struct sl_stream_entry *e, const redisReply *info,
    const redisReply *groups, long long now_ms)
{
	struct sl_error	 why;
	enum sl_err	 rc;

	e->last_entry_age_ms = -1;
	if (info == NULL)
		return stream_fail(e, NULL, "no reply from Redis");
	if ((rc = sl_facts_stream(info, &e->info, &why)) != SL_OK)
		return rc == SL_ENOMEM ? rc : stream_fail(e, info, why.str);
	if (groups != NULL && (rc = stream_groups(e, groups)) != SL_OK)
		return rc;
	if (e->error != NULL)
		return SL_OK;
	/* Only ids that look like timestamps give an age. */
	if (!sl_facts_id_age(e->info.last_entry_id,
	    strlen(e->info.last_entry_id), now_ms, &e->last_entry_age_ms))
		e->last_entry_age_ms = -1;
	return SL_OK;
}
