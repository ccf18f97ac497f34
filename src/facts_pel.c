/* SPDX-License-Identifier: ISC */
/* The extended XPENDING reply into facts (pel.h), in the manner of
 * facts.c: every element's type and size checked before it is read.
 * [[id, consumer, idle, deliveries], ...]; Redis 8.8's XNACK gives idle
 * -1 with a nil or empty consumer, and delivery counts up to LLONG_MAX,
 * all read as facts. */
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/facts.h"
#include "streamlag/pel.h"

static int
is_text(const redisReply *r)
{
	return r != NULL && (r->type == REDIS_REPLY_STRING ||
	    r->type == REDIS_REPLY_STATUS);
}

/* Entry i into *x: SL_OK, or SL_EPROTO / SL_ENOMEM with the detail. */
static enum sl_err
item_of(const redisReply *e, size_t i, struct sl_pel_item *x,
    struct sl_error *why)
{
	const redisReply *id, *who, *idle, *n;

	if (e == NULL || e->type != REDIS_REPLY_ARRAY || e->elements != 4)
		return sl_seterr(why, SL_EPROTO, "XPENDING: entry %zu is not "
		    "[id, consumer, idle, deliveries]", i);
	id = e->element[0];
	who = e->element[1];
	idle = e->element[2];
	n = e->element[3];
	if (!is_text(id) || id->len == 0 || id->len >= SL_ID_MAX ||
	    memchr(id->str, '\0', id->len) != NULL)
		return sl_seterr(why, SL_EPROTO, "XPENDING: entry %zu: bad id",
		    i);
	if (idle == NULL || idle->type != REDIS_REPLY_INTEGER ||
	    idle->integer < -1 || n == NULL ||
	    n->type != REDIS_REPLY_INTEGER || n->integer < 0)
		return sl_seterr(why, SL_EPROTO, "XPENDING: entry %zu: bad idle "
		    "or delivery count", i);
	if (who != NULL && who->type != REDIS_REPLY_NIL && !is_text(who))
		return sl_seterr(why, SL_EPROTO, "XPENDING: entry %zu: bad "
		    "consumer", i);
	memcpy(x->id, id->str, id->len);
	x->id[id->len] = '\0';
	x->idle_ms = idle->integer;
	x->deliveries = n->integer;
	if (is_text(who) && who->len > 0 &&
	    sl_bytes_set(&x->consumer, who->str, who->len) != SL_OK)
		return sl_seterr(why, SL_ENOMEM, NULL);
	return SL_OK;
}

enum sl_err
sl_facts_pel(const redisReply *r, struct sl_pel_item **out, size_t *n,
    struct sl_error *why)
{
	struct sl_pel_item *it;
	enum sl_err	 rc;
	const char	*s;
	size_t		 len;

	*out = NULL;
	*n = 0;
	if (sl_facts_words(r, &s, &len))
		return sl_seterr(why, SL_EREDIS, "%.*s", (int)(len > 200 ? 200 :
		    len), s);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return sl_seterr(why, SL_EPROTO, "XPENDING: expected an array "
		    "reply");
	if (r->elements > SL_PEL_SCAN_MAX)
		return sl_seterr(why, SL_EPROTO, "XPENDING: more than %d "
		    "entries", SL_PEL_SCAN_MAX);
	if (r->elements == 0)
		return SL_OK;
	if ((it = sl_calloc(r->elements, sizeof(*it))) == NULL)
		return sl_seterr(why, SL_ENOMEM, NULL);
	for (size_t i = 0; i < r->elements; i++)
		if ((rc = item_of(r->element[i], i, &it[i], why)) != SL_OK) {
			sl_pel_items_free(it, i + 1);
			return rc;
		}
	*out = it;
	*n = r->elements;
	return SL_OK;
}

void
sl_pel_items_free(struct sl_pel_item *it, size_t n)
{
	if (it == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		sl_free(it[i].consumer.p);
	sl_free(it);
}
