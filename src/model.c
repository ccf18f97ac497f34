/* SPDX-License-Identifier: ISC */
/* The model: ownership of every model struct, the status names and the
 * stream id helpers.  Each *_free releases what the struct owns and leaves
 * it zeroed, so a second call, or a call on a struct that was only zeroed,
 * is harmless.  Free of Redis and of the other modules, so that anything
 * holding a report can use it without linking the Redis side. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/model.h"

enum sl_err
sl_bytes_set(struct sl_bytes *b, const char *p, size_t len)
{
	char	*copy;

	if (len == (size_t)-1 || (copy = sl_malloc(len + 1)) == NULL)
		return SL_ENOMEM;
	if (len > 0)
		memcpy(copy, p, len);
	copy[len] = '\0';
	/* Copied before freeing: p may point into the old value. */
	sl_free(b->p);
	b->p = copy;
	b->len = len;
	return SL_OK;
}

void
sl_bytes_free(struct sl_bytes *b)
{
	sl_free(b->p);
	b->p = NULL;
	b->len = 0;
}

void
sl_groups_free(struct sl_group *g, size_t n)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		sl_bytes_free(&g[i].name);
	sl_free(g);
}

void
sl_consumers_free(struct sl_consumer *c, size_t n)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		sl_bytes_free(&c[i].name);
	sl_free(c);
}

void
sl_lag_entry_free(struct sl_lag_entry *e)
{
	sl_bytes_free(&e->stream);
	sl_bytes_free(&e->group.name);
	sl_free(e->error);
	sl_consumers_free(e->consumers, e->nconsumers);
	memset(e, 0, sizeof(*e));
}

void
sl_stream_entry_free(struct sl_stream_entry *e)
{
	sl_bytes_free(&e->name);
	sl_free(e->error);
	if (e->group_names != NULL)
		for (size_t i = 0; i < e->ngroup_names; i++)
			sl_bytes_free(&e->group_names[i]);
	sl_free(e->group_names);
	memset(e, 0, sizeof(*e));
}

void
sl_stream_brief_free(struct sl_stream_brief *b)
{
	sl_bytes_free(&b->name);
	sl_free(b->error);
	memset(b, 0, sizeof(*b));
}

void
sl_lag_report_free(struct sl_lag_report *r)
{
	if (r->entries != NULL)
		for (size_t i = 0; i < r->n; i++)
			sl_lag_entry_free(&r->entries[i]);
	sl_free(r->entries);
	sl_free(r->error);
	if (r->sinfo != NULL)
		for (size_t i = 0; i < r->nsinfo; i++)
			sl_stream_brief_free(&r->sinfo[i]);
	sl_free(r->sinfo);
	memset(r, 0, sizeof(*r));
}

void
sl_streams_report_free(struct sl_streams_report *r)
{
	if (r->entries != NULL)
		for (size_t i = 0; i < r->n; i++)
			sl_stream_entry_free(&r->entries[i]);
	sl_free(r->entries);
	sl_free(r->error);
	memset(r, 0, sizeof(*r));
}

static const char *const status_names[] = {
	[SL_STATUS_HEALTHY] = "healthy",
	[SL_STATUS_DEGRADED] = "degraded",
	[SL_STATUS_UNHEALTHY] = "unhealthy",
	[SL_STATUS_STALLED] = "stalled",
	[SL_STATUS_NO_GROUP] = "no_group",
	[SL_STATUS_ERROR] = "error",
};

const char *
sl_status_name(enum sl_status s)
{
	if ((size_t)s >= sizeof(status_names) / sizeof(status_names[0]))
		return "error";
	return status_names[s];
}

/* Decimal digits up to end (or the NUL) into *v; the end pointer, or
 * NULL when there are none, or too many for 64 bits. */
static const char *
id_part(const char *p, unsigned long long *v)
{
	const char		*d = p;
	unsigned long long	 n = 0;

	while (*p >= '0' && *p <= '9') {
		unsigned digit = (unsigned)(*p - '0');

		if (n > (UINT64_MAX - digit) / 10)
			return NULL;
		n = n * 10 + digit;
		p++;
	}
	if (p == d)
		return NULL;
	*v = n;
	return p;
}

enum sl_err
sl_id_parse(const char *id, unsigned long long *ms, unsigned long long *seq)
{
	const char *p;

	if (id == NULL || (p = id_part(id, ms)) == NULL || *p != '-' ||
	    (p = id_part(p + 1, seq)) == NULL || *p != '\0')
		return SL_EPROTO;
	return SL_OK;
}

enum sl_err
sl_id_cmp(const char *a, const char *b, int *cmp)
{
	unsigned long long am, as, bm, bs;

	if (sl_id_parse(a, &am, &as) != SL_OK ||
	    sl_id_parse(b, &bm, &bs) != SL_OK)
		return SL_EPROTO;
	if (am != bm)
		*cmp = am < bm ? -1 : 1;
	else if (as != bs)
		*cmp = as < bs ? -1 : 1;
	else
		*cmp = 0;
	return SL_OK;
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
