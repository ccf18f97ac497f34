/* Ownership of the model structs: each *_free releases what the struct owns
 * and leaves it zeroed, so a second call is harmless. */
#include <stdlib.h>
#include <string.h>

#include "streamlag/model.h"
#include "streamlag/xinfo.h"

int
sl_bytes_set(struct sl_bytes *b, const char *p, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy == NULL)
		return -1;
	if (len > 0)
		memcpy(copy, p, len);
	copy[len] = '\0';
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

void
sl_lag_report_free(struct sl_lag_report *r)
{
	for (size_t i = 0; r->entries != NULL && i < r->n; i++)
		sl_lag_entry_free(&r->entries[i]);
	free(r->entries);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

void
sl_streams_report_free(struct sl_streams_report *r)
{
	for (size_t i = 0; r->entries != NULL && i < r->n; i++) {
		struct sl_stream_entry *e = &r->entries[i];

		sl_bytes_free(&e->name);
		free(e->error);
		for (size_t j = 0; j < e->ngroup_names; j++)
			sl_bytes_free(&e->group_names[j]);
		free(e->group_names);
	}
	free(r->entries);
	free(r->error);
	memset(r, 0, sizeof(*r));
}
