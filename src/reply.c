/* SPDX-License-Identifier: ISC */
/* hiredis reply objects made by streamlag's own functions (read.h), so
 * that names longer than SL_REPLY_NAME_MAX are shortened while they are parsed:
 * only hiredis's input buffer ever holds the long name.  Strings at the
 * top level (INFO text, errors) are kept whole; inside arrays, a string
 * longer than SL_REPLY_NAME_MAX keeps its first SL_REPLY_NAME_KEEP bytes, then "...~"
 * and 16 hex digits of a hash of the whole string: two long names never
 * collide.  The bytes of every reply are counted for the request budget. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/reply.h"

static redisReply *
new_reply(int type)
{
	redisReply *r = sl_calloc(1, sizeof(*r));

	if (r != NULL)
		r->type = type;
	return r;
}

/* Links r into its parent array, as hiredis's own functions do. */
static void *
link_parent(const redisReadTask *task, redisReply *r)
{
	if (r != NULL && task->parent != NULL) {
		redisReply *parent = task->parent->obj;

		if (parent == NULL || parent->type != REDIS_REPLY_ARRAY ||
		    task->idx < 0 || (size_t)task->idx >= parent->elements) {
			freeReplyObject(r);
			return NULL;
		}
		parent->element[task->idx] = r;
	}
	return r;
}

static void
count(const redisReadTask *task, size_t n)
{
	struct sl_reply_meter *m = task->privdata;

	if (m != NULL)
		m->bytes += n;
}

uint64_t
sl_reply_hash(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

static void *
create_string(const redisReadTask *task, char *str, size_t len)
{
	redisReply	*r = new_reply(task->type);
	size_t		 keep = len;

	if (r == NULL)
		return NULL;
	count(task, len + 16);
	if (task->parent != NULL && len > SL_REPLY_NAME_MAX)
		keep = SL_REPLY_NAME_KEEP;
	if ((r->str = sl_malloc(keep == len ? len + 1 : SL_REPLY_NAME_KEEP +
	    sizeof(SL_REPLY_NAME_MARK) + 16)) == NULL) {
		sl_free(r);
		return NULL;
	}
	memcpy(r->str, str, keep);
	if (keep != len) {
		char hex[17];

		snprintf(hex, sizeof(hex), "%016llx",
		    (unsigned long long)sl_reply_hash(str, len));
		memcpy(r->str + keep, SL_REPLY_NAME_MARK, sizeof(SL_REPLY_NAME_MARK) - 1);
		keep += sizeof(SL_REPLY_NAME_MARK) - 1;
		memcpy(r->str + keep, hex, 16);
		keep += 16;
	}
	r->str[keep] = '\0';
	r->len = keep;
	return link_parent(task, r);
}

static void *
create_array(const redisReadTask *task, int elements)
{
	redisReply *r = new_reply(REDIS_REPLY_ARRAY);

	if (r == NULL)
		return NULL;
	count(task, 16);
	if (elements > 0 &&
	    (r->element = sl_calloc((size_t)elements, sizeof(redisReply *))) == NULL) {
		sl_free(r);
		return NULL;
	}
	r->elements = elements > 0 ? (size_t)elements : 0;
	return link_parent(task, r);
}

static void *
create_integer(const redisReadTask *task, long long value)
{
	redisReply *r = new_reply(REDIS_REPLY_INTEGER);

	if (r == NULL)
		return NULL;
	count(task, 16);
	r->integer = value;
	return link_parent(task, r);
}

static void *
create_nil(const redisReadTask *task)
{
	redisReply *r = new_reply(REDIS_REPLY_NIL);

	if (r == NULL)
		return NULL;
	count(task, 8);
	return link_parent(task, r);
}

static redisReplyObjectFunctions fns = {
	create_string, create_array, create_integer, create_nil, freeReplyObject
};

void
sl_reply_install(redisContext *c, struct sl_reply_meter *m)
{
	c->reader->fn = &fns;
	c->reader->privdata = m;
}

redisReader *
sl_reply_reader(struct sl_reply_meter *m)
{
	redisReader *rd = redisReaderCreateWithFunctions(&fns);

	if (rd != NULL)
		rd->privdata = m;
	return rd;
}

enum sl_err
sl_reply_next(redisReader *rd, void **reply, struct sl_error *e)
{
	*reply = NULL;
	if (redisReaderGetReply(rd, reply) == REDIS_OK)
		return SL_OK;
	*reply = NULL;
	if (rd->err == REDIS_ERR_OOM)
		return sl_seterr(e, SL_ENOMEM, NULL);
	return sl_seterr(e, SL_EPROTO, "%s",
	    rd->errstr[0] != '\0' ? rd->errstr : "protocol error");
}
