/* SPDX-License-Identifier: ISC */
/* hiredis reply objects made by streamlag's own functions (read.h), so
 * that names longer than SL_REPLY_NAME_MAX are shortened while they are parsed:
 * only hiredis's input buffer ever holds the long name.  Strings at the
 * top level (INFO text, errors) are kept whole; inside arrays, a string
 * longer than SL_REPLY_NAME_MAX keeps its first SL_REPLY_NAME_KEEP bytes, then "...~"
 * and 16 hex digits of a hash of the whole string: two long names never
 * collide.  The bytes of every reply are counted for the request budget. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/reply.h"

/*
 * Replies come from blocks of SL_REPLY_BLOCK bytes: a reply is one piece
 * of a block (the object, then its string or its elements), taken by
 * moving an offset.  A block counts its references: one per piece not yet
 * freed; whoever drops the last frees it.  Each piece begins with its
 * block's address.  A 100 000-stream request parses millions of small
 * replies: a malloc and a free each cost more than the parsing, and so
 * would an atomic operation per piece.  So while a block is the thread's
 * current one its count holds SL_REPLY_BIAS less the pieces freed, and
 * the pieces taken are counted apart, by its thread alone (taken); when
 * it stops being current the two are settled at once (block_retire).
 * sl_reply_free drops a reply's pieces a block at a time.
 *
 * Only a thread that asked for it (sl_reply_blocks_enable: main(), before
 * any fork) takes pieces from a current block; on any other thread (the
 * /targets probe's), and for a piece larger than SL_REPLY_BIG, each piece
 * is a block of its own.  The counts are atomic, so a reply may be freed
 * on another thread than the one that parsed it.  Under AddressSanitizer
 * every piece has a block of its own, so that a reply used after it was
 * freed is caught as any other memory.
 *
 * A reply of these functions is marked in the four bytes after its type,
 * which hiredis's own (calloc'd) leave 0: sl_reply_free frees either kind.
 */
#define SL_REPLY_BLOCK	(64 * 1024)
#define SL_REPLY_BIG	(SL_REPLY_BLOCK / 4)
#define SL_REPLY_MARK	0x534c5250u	/* "SLRP" */
#define SL_REPLY_BIAS	(SIZE_MAX / 2)	/* > the pieces of a block */

_Static_assert(offsetof(redisReply, integer) >= sizeof(int) + 4,
    "the mark needs four bytes of padding after redisReply's type");

struct block {
	size_t		 refs;		/* pieces not freed; while current,
					 * SL_REPLY_BIAS less those freed */
	size_t		 taken;		/* while current: pieces taken */
	size_t		 used, cap;
	_Alignas(16) unsigned char mem[];
};

struct piece {
	struct block	*blk;
	void		*pad;		/* keeps the object 16-aligned */
};

static _Thread_local struct block *cur;	/* pieces are taken from it */
static _Thread_local int blocks_on;	/* sl_reply_blocks_enable */

void
sl_reply_blocks_enable(void)
{
	blocks_on = !SL_REPLY_ONE_PER_BLOCK;
}

/* n of block b's references dropped: freed with the last. */
static void
block_drop(struct block *b, size_t n)
{
	if (__atomic_sub_fetch(&b->refs, n, __ATOMIC_ACQ_REL) == 0)
		sl_free(b);
}

/* The current block b is no longer: its count becomes the pieces taken
 * and not freed, and the block is freed if there are none. */
static void
block_retire(struct block *b)
{
	block_drop(b, SL_REPLY_BIAS - b->taken);
}

/* Whether every piece taken from the current block b was freed. */
static int
block_empty(struct block *b)
{
	return __atomic_load_n(&b->refs, __ATOMIC_ACQUIRE) ==
	    SL_REPLY_BIAS - b->taken;
}

/* A piece of n bytes (zeroed when zero), or NULL. */
static void *
piece_new(size_t n, int zero)
{
	size_t		 need;
	struct block	*b;
	struct piece	*pc;

	if (n > SIZE_MAX - sizeof(*b) - sizeof(*pc) - 15)
		return NULL;
	need = sizeof(*pc) + ((n + 15) & ~(size_t)15);
	if (!blocks_on || need > SL_REPLY_BIG) {
		if ((b = zero ? sl_calloc(1, sizeof(*b) + need) :
		    sl_malloc(sizeof(*b) + need)) == NULL)
			return NULL;
		b->refs = 1;
		b->taken = 0;
		b->used = b->cap = need;
		pc = (struct piece *)b->mem;
		pc->blk = b;
		return pc + 1;
	}
	/* Only this thread takes pieces from cur: once each was freed, it
	 * is taken from the start again (no other thread holds a piece to
	 * drop meanwhile). */
	if (cur != NULL && cur->taken > 0 && block_empty(cur)) {
		__atomic_store_n(&cur->refs, SL_REPLY_BIAS, __ATOMIC_RELAXED);
		cur->taken = 0;
		cur->used = 0;
	}
	if (cur == NULL || cur->used + need > cur->cap) {
		if ((b = sl_malloc(sizeof(*b) + SL_REPLY_BLOCK)) == NULL)
			return NULL;
		b->refs = SL_REPLY_BIAS;
		b->taken = 0;
		b->used = 0;
		b->cap = SL_REPLY_BLOCK;
		if (cur != NULL)
			block_retire(cur);	/* freed with its last piece */
		cur = b;
	}
	b = cur;
	pc = (struct piece *)(b->mem + b->used);
	b->used += need;
	b->taken++;
	pc->blk = b;
	if (zero)
		memset(pc + 1, 0, n);
	return pc + 1;
}

void
sl_reply_blocks_release(void)
{
	if (cur != NULL && block_empty(cur)) {
		sl_free(cur);
		cur = NULL;
	}
}

/* Pieces to drop, counted while they are of one block. */
struct drops {
	struct block	*b;
	size_t		 n;
};

static void
drops_flush(struct drops *d)
{
	if (d->b != NULL)
		block_drop(d->b, d->n);
	d->b = NULL;
	d->n = 0;
}

static void
drops_add(struct drops *d, const void *p)
{
	struct block *b = ((const struct piece *)p - 1)->blk;

	if (d->b != b)
		drops_flush(d);
	d->b = b;
	d->n++;
}

static int
marked(const redisReply *r)
{
	uint32_t m;

	memcpy(&m, (const unsigned char *)r + sizeof(int), sizeof(m));
	return m == SL_REPLY_MARK;
}

/* A reply's pieces into d, its elements first: a block whose count d
 * drops has no piece left that is still to be read. */
static void
free_tree(redisReply *r, struct drops *d)
{
	if (r == NULL)
		return;
	if (!marked(r)) {
		freeReplyObject(r);	/* hiredis's own, or streamlag's */
		return;
	}
	if (r->type == REDIS_REPLY_ARRAY)
		for (size_t i = 0; i < r->elements; i++)
			free_tree(r->element[i], d);
	drops_add(d, r);
}

void
sl_reply_free(void *reply)
{
	struct drops d = { NULL, 0 };

	free_tree(reply, &d);
	drops_flush(&d);
}

/* A reply with room for extra bytes after it (its string or elements),
 * zeroed when zero. */
static redisReply *
new_reply(int type, size_t extra, int zero)
{
	redisReply	*r;
	uint32_t	 m = SL_REPLY_MARK;

	if (extra > SIZE_MAX - sizeof(*r) ||
	    (r = piece_new(sizeof(*r) + extra, zero)) == NULL)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->type = type;
	memcpy((unsigned char *)r + sizeof(int), &m, sizeof(m));
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
			sl_reply_free(r);
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

unsigned long long
sl_reply_wire_bytes(const redisReply *r)
{
	unsigned long long n = 16;

	if (r == NULL)
		return 0;
	switch (r->type) {
	case REDIS_REPLY_STRING:
	case REDIS_REPLY_STATUS:
	case REDIS_REPLY_ERROR:
		/* hiredis's own replies leave integer 0. */
		return n + (r->integer > 0 && (unsigned long long)r->integer >
		    r->len ? (unsigned long long)r->integer : r->len);
	case REDIS_REPLY_ARRAY:
		for (size_t i = 0; i < r->elements; i++)
			n += sl_reply_wire_bytes(r->element[i]);
		return n;
	default:
		return n + 8;
	}
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
	redisReply	*r;
	size_t		 keep = len;

	count(task, len + 16);
	if (task->parent != NULL && len > SL_REPLY_NAME_MAX)
		keep = SL_REPLY_NAME_KEEP;
	if (len == SIZE_MAX || (r = new_reply(task->type, keep == len ?
	    len + 1 : SL_REPLY_NAME_KEEP + sizeof(SL_REPLY_NAME_MARK) + 16,
	    0)) == NULL)
		return NULL;
	r->str = (char *)(r + 1);
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
	r->integer = (long long)len;	/* as sent (sl_reply_wire_bytes) */
	return link_parent(task, r);
}

static void *
create_array(const redisReadTask *task, int elements)
{
	size_t		 n = elements > 0 ? (size_t)elements : 0;
	redisReply	*r;

	/* The element table's size cannot wrap (size_t of 32 bits). */
	if (n > (SIZE_MAX - sizeof(*r)) / sizeof(redisReply *) ||
	    (r = new_reply(REDIS_REPLY_ARRAY, n * sizeof(redisReply *),
	    1)) == NULL)
		return NULL;
	count(task, 16);
	if (n > 0)
		r->element = (redisReply **)(void *)(r + 1);
	r->elements = n;
	return link_parent(task, r);
}

static void *
create_integer(const redisReadTask *task, long long value)
{
	redisReply *r = new_reply(REDIS_REPLY_INTEGER, 0, 0);

	if (r == NULL)
		return NULL;
	count(task, 16);
	r->integer = value;
	return link_parent(task, r);
}

static void *
create_nil(const redisReadTask *task)
{
	redisReply *r = new_reply(REDIS_REPLY_NIL, 0, 0);

	if (r == NULL)
		return NULL;
	count(task, 8);
	return link_parent(task, r);
}

static redisReplyObjectFunctions fns = {
	create_string, create_array, create_integer, create_nil, sl_reply_free
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
