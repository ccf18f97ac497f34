/* SPDX-License-Identifier: ISC */
/* Shared by the unit tests: cmocka, and builders for crafted hiredis replies
 * (freed with freeReplyObject like real ones). */
#ifndef SL_TEST_H
#define SL_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <hiredis/hiredis.h>

static inline redisReply *
t_reply(int type)
{
	redisReply *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->type = type;
	return r;
}

static inline redisReply *
t_strn(const char *s, size_t len)
{
	redisReply *r = t_reply(REDIS_REPLY_STRING);
	r->str = malloc(len + 1);
	assert_non_null(r->str);
	memcpy(r->str, s, len);
	r->str[len] = '\0';
	r->len = len;
	return r;
}

static inline redisReply *t_str(const char *s) { return t_strn(s, strlen(s)); }

static inline redisReply *
t_err(const char *s)
{
	redisReply *r = t_str(s);
	r->type = REDIS_REPLY_ERROR;
	return r;
}

static inline redisReply *
t_int(long long v)
{
	redisReply *r = t_reply(REDIS_REPLY_INTEGER);
	r->integer = v;
	return r;
}

static inline redisReply *t_nil(void) { return t_reply(REDIS_REPLY_NIL); }

/* t_arr(n, r1, ..., rn) */
static inline redisReply *
t_arr(size_t n, ...)
{
	va_list ap;
	redisReply *r = t_reply(REDIS_REPLY_ARRAY);
	r->elements = n;
	r->element = calloc(n ? n : 1, sizeof(*r->element));
	assert_non_null(r->element);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		r->element[i] = va_arg(ap, redisReply *);
	va_end(ap);
	return r;
}

#endif
