/* SPDX-License-Identifier: ISC */
/* Ownership of the model structs: each *_free releases what the struct owns
 * and leaves it zeroed, so a second call, or a call on a struct that was
 * only zeroed, is harmless.  Kept free of other modules so that anything
 * holding a report can free it without linking the Redis side. */
#include <stdlib.h>
#include <string.h>

#include "streamlag/model.h"
#include "streamlag/xinfo.h"

int
sl_bytes_set(struct sl_bytes *b, const char *p, size_t len)
{
	char	*copy;

	if (len == (size_t)-1 || (copy = malloc(len + 1)) == NULL)
		return -1;
	if (len > 0)
		memcpy(copy, p, len);
	copy[len] = '\0';
	/* Copied before freeing: p may point into the old value. */
	free(b->p);
	b->p = copy;
	b->len = len;
	return 0;
}

void
sl_bytes_free(struct sl_bytes *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
}

void
sl_lag_entry_free(struct sl_lag_entry *e)
{
	sl_bytes_free(&e->stream);
	sl_bytes_free(&e->group.name);
	free(e->error);
	sl_consumers_free(e->consumers, e->nconsumers);
	memset(e, 0, sizeof(*e));
}

static void stream_entry_free(struct sl_stream_entry *e);

void
sl_lag_report_free(struct sl_lag_report *r)
{
	if (r->entries != NULL)
		for (size_t i = 0; i < r->n; i++)
			sl_lag_entry_free(&r->entries[i]);
	free(r->entries);
	free(r->error);
	if (r->sinfo != NULL)
		for (size_t i = 0; i < r->nsinfo; i++)
			stream_entry_free(&r->sinfo[i]);
	free(r->sinfo);
	memset(r, 0, sizeof(*r));
}

static void
stream_entry_free(struct sl_stream_entry *e)
{
	sl_bytes_free(&e->name);
	free(e->error);
	if (e->group_names != NULL)
		for (size_t i = 0; i < e->ngroup_names; i++)
			sl_bytes_free(&e->group_names[i]);
	free(e->group_names);
	memset(e, 0, sizeof(*e));
}

void
sl_streams_report_free(struct sl_streams_report *r)
{
	if (r->entries != NULL)
		for (size_t i = 0; i < r->n; i++)
			stream_entry_free(&r->entries[i]);
	free(r->entries);
	free(r->error);
	memset(r, 0, sizeof(*r));
}
