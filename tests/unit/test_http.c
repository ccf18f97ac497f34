/* SPDX-License-Identifier: ISC */
/* Query strings, error bodies and reason phrases. */
#include <stdio.h>

#include "sl_test.h"
#include "streamlag/http.h"

/* Parses q, expecting success and n parameters. */
static struct sl_query_param *
parsed(const char *query, size_t want_n)
{
	struct sl_query_param	*q = (void *)1;
	size_t			 n = 999;
	char			 err[160] = "";

	assert_int_equal(sl_query_parse(query, &q, &n, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(n, want_n);
	if (want_n == 0)
		assert_null(q);
	return q;
}

/* Parses q, expecting the error message want. */
static void
refused(const char *query, const char *want)
{
	struct sl_query_param	*q = (void *)1;
	size_t			 n = 999;
	char			 err[160] = "";

	assert_int_equal(sl_query_parse(query, &q, &n, err, sizeof(err)), -1);
	assert_null(q);
	assert_int_equal(n, 0);
	assert_string_equal(err, want);
}

static void
param_is(const struct sl_query_param *p, const char *name, const char *value,
    size_t value_len)
{
	assert_string_equal(p->name, name);
	assert_int_equal(p->value_len, value_len);
	assert_memory_equal(p->value, value, value_len + 1);
}

static void
query_plain(void **state)
{
	struct sl_query_param *q;

	(void)state;
	q = parsed(NULL, 0);
	q = parsed("", 0);
	q = parsed("&", 0);
	q = parsed("&&&", 0);

	q = parsed("stream=events:chat", 1);
	param_is(&q[0], "stream", "events:chat", 11);
	sl_query_free(q, 1);

	q = parsed("stream=a,b&group=g", 2);
	param_is(&q[0], "stream", "a,b", 3);
	param_is(&q[1], "group", "g", 1);
	sl_query_free(q, 2);

	/* Empty pairs are skipped wherever they are. */
	q = parsed("&a=1&&b=2&", 2);
	param_is(&q[0], "a", "1", 1);
	param_is(&q[1], "b", "2", 1);
	sl_query_free(q, 2);

	/* No '=': an empty value; '=' with nothing after: the same. */
	q = parsed("flag&k=&x=a=b", 3);
	param_is(&q[0], "flag", "", 0);
	param_is(&q[1], "k", "", 0);
	param_is(&q[2], "x", "a=b", 3);
	sl_query_free(q, 3);

	/* Repeats are kept in order: the router decides what they mean. */
	q = parsed("a=1&a=2", 2);
	param_is(&q[0], "a", "1", 1);
	param_is(&q[1], "a", "2", 1);
	sl_query_free(q, 2);
}

static void
query_decoding(void **state)
{
	struct sl_query_param *q;

	(void)state;
	q = parsed("stream=events%3Achat%2Cb+c", 1);
	param_is(&q[0], "stream", "events:chat,b c", 15);
	sl_query_free(q, 1);

	/* Both hex cases; bytes that are not UTF-8 pass through. */
	q = parsed("k=%C3%a9%ff%2B%25%26%3D", 1);
	param_is(&q[0], "k", "\xC3\xA9\xff+%&=", 7);
	sl_query_free(q, 1);

	/* Names are decoded the same way. */
	q = parsed("my+name=1&a%5Fb=2&%41=3", 3);
	param_is(&q[0], "my name", "1", 1);
	param_is(&q[1], "a_b", "2", 1);
	param_is(&q[2], "A", "3", 1);
	sl_query_free(q, 3);

	q = parsed("g=+%20+", 1);
	param_is(&q[0], "g", "   ", 3);
	sl_query_free(q, 1);
}

static void
query_bad_escapes(void **state)
{
	(void)state;
	refused("stream=%G1", "query parameter \"stream\": bad percent-escape");
	refused("stream=%1G", "query parameter \"stream\": bad percent-escape");
	refused("stream=abc%", "query parameter \"stream\": bad percent-escape");
	refused("stream=abc%4", "query parameter \"stream\": bad percent-escape");
	refused("a=1&group=%%41", "query parameter \"group\": bad percent-escape");
	/* In the name: the raw name is quoted. */
	refused("st%zream=1", "query parameter \"st%zream\": bad percent-escape");
	/* Decoded NUL, in a value or a name. */
	refused("stream=a%00b", "query parameter \"stream\": %00 is not allowed");
	refused("a%00=1", "query parameter \"a%00\": %00 is not allowed");
	/* Names are never empty, raw or decoded. */
	refused("=v", "query parameter with an empty name");
	refused("a=1&=", "query parameter with an empty name");
	/* Good escapes before a bad one do not save it. */
	refused("k=%41%", "query parameter \"k\": bad percent-escape");
}

/* n copies of pair into buf, without the last byte (a '&'). */
static const char *
repeat(char *buf, size_t size, const char *pair, int n)
{
	size_t len = strlen(pair);

	assert_true(len * (size_t)n < size);
	for (int i = 0; i < n; i++)
		memcpy(buf + len * (size_t)i, pair, len);
	buf[len * (size_t)n - 1] = '\0';
	return buf;
}

static void
query_limits(void **state)
{
	struct sl_query_param	*q;
	char			 big[SL_QUERY_MAX + 2], many[40 * 5];

	(void)state;
	/* 4096 bytes pass, 4097 do not. */
	memset(big, 'a', sizeof(big));
	big[0] = 'k';
	big[1] = '=';
	big[SL_QUERY_MAX] = '\0';
	q = parsed(big, 1);
	assert_int_equal(q[0].value_len, SL_QUERY_MAX - 2);
	sl_query_free(q, 1);
	big[SL_QUERY_MAX] = 'a';
	big[SL_QUERY_MAX + 1] = '\0';
	refused(big, "query string longer than 4096 bytes");

	/* 32 parameters pass, 33 do not; empty pairs do not count. */
	q = parsed(repeat(many, sizeof(many), "a=1&", 32), 32);
	param_is(&q[31], "a", "1", 1);
	sl_query_free(q, 32);
	refused(repeat(many, sizeof(many), "a=1&", 33),
	    "more than 32 query parameters");
	q = parsed(repeat(many, sizeof(many), "&a=1&", 32), 32);
	sl_query_free(q, 32);
}

static void
query_err_buffer(void **state)
{
	struct sl_query_param	*q;
	size_t			 n;
	char			 err[8];

	(void)state;
	/* A short buffer is truncated, never overrun; none at all is fine. */
	assert_int_equal(sl_query_parse("k=%G", &q, &n, err, sizeof(err)), -1);
	assert_string_equal(err, "query p");
	assert_int_equal(sl_query_parse("k=%G", &q, &n, NULL, 0), -1);
	assert_null(q);
}

static void
error_bodies(void **state)
{
	struct sl_response r;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(sl_http_error(&r, 404, "not_found", "No such endpoint"), 0);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.body, "{\"error\":\"No such endpoint\",\"code\":\"not_found\"}");
	assert_int_equal(r.body_len, strlen(r.body));
	assert_string_equal(r.content_type, "application/json");
	assert_int_equal(r.no_store, 1);
	assert_null(r.allow);
	assert_null(r.www_authenticate);

	/* A second error replaces the first body (valgrind sees the free). */
	r.allow = "GET, HEAD";
	assert_int_equal(sl_http_error(&r, 400, "bad_query", "x\"y/\n"), 0);
	assert_int_equal(r.status, 400);
	assert_string_equal(r.body, "{\"error\":\"x\\\"y/\\n\",\"code\":\"bad_query\"}");
	assert_int_equal(r.body_len, strlen(r.body));
	assert_string_equal(r.allow, "GET, HEAD");	/* the caller's to set */

	assert_int_equal(sl_http_error(&r, 503, "redis_unavailable",
	    "Cannot connect to Redis"), 0);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.body, "{\"error\":\"Cannot connect to Redis\","
	    "\"code\":\"redis_unavailable\"}");
	sl_response_free(&r);
	assert_null(r.body);
	assert_int_equal(r.body_len, 0);
	sl_response_free(&r);
}

static void
reasons(void **state)
{
	(void)state;
	assert_string_equal(sl_http_reason(200), "OK");
	assert_string_equal(sl_http_reason(400), "Bad Request");
	assert_string_equal(sl_http_reason(401), "Unauthorized");
	assert_string_equal(sl_http_reason(403), "Forbidden");
	assert_string_equal(sl_http_reason(404), "Not Found");
	assert_string_equal(sl_http_reason(405), "Method Not Allowed");
	assert_string_equal(sl_http_reason(500), "Internal Server Error");
	assert_string_equal(sl_http_reason(503), "Service Unavailable");
	assert_string_equal(sl_http_reason(302), "Redirection");
	assert_string_equal(sl_http_reason(418), "Client Error");
	assert_string_equal(sl_http_reason(502), "Server Error");
	assert_string_equal(sl_http_reason(0), "Server Error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(query_plain),
		cmocka_unit_test(query_decoding),
		cmocka_unit_test(query_bad_escapes),
		cmocka_unit_test(query_limits),
		cmocka_unit_test(query_err_buffer),
		cmocka_unit_test(error_bodies),
		cmocka_unit_test(reasons),
	};
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
