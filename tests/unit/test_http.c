/* Query strings, error bodies, and the router's answers that need no Redis:
 * 404, 405, 400, 401 and /healthz. */
#include <stdio.h>

#include "sl_test.h"
#include "streamlag/auth.h"
#include "streamlag/http.h"
#include "streamlag/router.h"

static void
query_ok(void **state)
{
	struct sl_query_param *q;
	size_t n;
	char err[128];

	(void)state;
	assert_int_equal(sl_query_parse(NULL, &q, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_int_equal(sl_query_parse("", &q, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_int_equal(sl_query_parse("stream=events%3Achat,b+c&&group=g&flag",
	    &q, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(q[0].name, "stream");
	assert_string_equal(q[0].value, "events:chat,b c");
	assert_int_equal(q[0].value_len, 15);
	assert_string_equal(q[1].name, "group");
	assert_string_equal(q[1].value, "g");
	assert_string_equal(q[2].name, "flag");
	assert_string_equal(q[2].value, "");
	sl_query_free(q, n);
	assert_int_equal(sl_query_parse("k=%C3%A9%ff", &q, &n, err, sizeof(err)), 0);
	assert_string_equal(q[0].value, "\xC3\xA9\xff");
	sl_query_free(q, n);
}

static void
query_bad(void **state)
{
	struct sl_query_param *q;
	size_t n;
	char err[128], big[4100], many[33 * 4 + 1];

	(void)state;
	assert_int_equal(sl_query_parse("stream=%G1", &q, &n, err, sizeof(err)), -1);
	assert_string_equal(err, "query parameter stream: a bad %-escape");
	assert_int_equal(sl_query_parse("stream=%4", &q, &n, err, sizeof(err)), -1);
	assert_int_equal(sl_query_parse("stream=a%00b", &q, &n, err, sizeof(err)), -1);
	assert_string_equal(err, "query parameter stream: %00");
	assert_int_equal(sl_query_parse("=v", &q, &n, err, sizeof(err)), -1);
	assert_null(q);
	memset(big, 'a', sizeof(big));
	big[0] = 'k';
	big[1] = '=';
	big[4096] = '\0';
	assert_int_equal(sl_query_parse(big, &q, &n, err, sizeof(err)), 0);
	sl_query_free(q, n);
	big[4096] = 'a';
	big[4097] = '\0';
	assert_int_equal(sl_query_parse(big, &q, &n, err, sizeof(err)), -1);
	assert_string_equal(err, "query string longer than 4096 bytes");
	for (int i = 0; i < 33; i++)
		memcpy(many + 4 * i, "a=1&", 4);
	many[4 * 32 - 1] = '\0';	/* 32 parameters */
	assert_int_equal(sl_query_parse(many, &q, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 32);
	sl_query_free(q, n);
	many[4 * 32 - 1] = '&';
	many[4 * 33 - 1] = '\0';	/* 33 */
	assert_int_equal(sl_query_parse(many, &q, &n, err, sizeof(err)), -1);
	assert_string_equal(err, "more than 32 query parameters");
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
	/* A second error replaces the first body. */
	assert_int_equal(sl_http_error(&r, 400, "bad_query", "x\"y"), 0);
	assert_string_equal(r.body, "{\"error\":\"x\\\"y\",\"code\":\"bad_query\"}");
	sl_response_free(&r);
	sl_response_free(&r);
	assert_string_equal(sl_http_reason(503), "Service Unavailable");
	assert_string_equal(sl_http_reason(405), "Method Not Allowed");
}

#define KEY "0123456789abcdef0123456789abcdef"

static void
route(struct sl_response *resp, const char *method, const char *path,
    const char *query, const char *auth)
{
	static char *streams[] = { "events:chat" };
	struct sl_config cfg;
	struct sl_redis redis;
	struct sl_ctx ctx = { &cfg, &redis };
	struct sl_request req = { method, path, query, auth, 1800000000, 0 };

	memset(&cfg, 0, sizeof(cfg));
	cfg.jwt_alg = "HS256";
	cfg.jwt_key = (unsigned char *)KEY;
	cfg.jwt_key_len = strlen(KEY);
	cfg.streams = streams;
	cfg.nstreams = 1;
	cfg.consumer_group = "g";
	/* No Redis is reached by any request below. */
	memset(&redis, 0, sizeof(redis));
	sl_route(&ctx, &req, resp);
}

static void
router_without_redis(void **state)
{
	struct sl_response r;
	struct sl_config cfg;
	char err[64], *tok, auth[1024];

	(void)state;
	route(&r, "GET", "/healthz", NULL, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"status\":\"ok\"}");
	sl_response_free(&r);

	route(&r, "GET", "/api/v1/events/consumer-lag/", NULL, NULL);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.body, "{\"error\":\"No such endpoint\",\"code\":\"not_found\"}");
	sl_response_free(&r);

	route(&r, "POST", "/api/v1/events/health", NULL, NULL);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "GET, HEAD");
	assert_string_equal(r.body, "{\"error\":\"Method not allowed; use GET\","
	    "\"code\":\"method_not_allowed\"}");
	sl_response_free(&r);

	route(&r, "GET", "/api/v1/events/health", NULL, NULL);
	assert_int_equal(r.status, 401);
	assert_string_equal(r.www_authenticate, "Bearer realm=\"streamlag\"");
	assert_string_equal(r.body, "{\"error\":\"Missing bearer token\","
	    "\"code\":\"unauthorized\"}");
	sl_response_free(&r);

	route(&r, "GET", "/api/v1/events/streams", NULL, "Bearer x.y.z");
	assert_int_equal(r.status, 401);
	assert_string_equal(r.www_authenticate,
	    "Bearer realm=\"streamlag\", error=\"invalid_token\"");
	assert_string_equal(r.body, "{\"error\":\"Invalid or expired token\","
	    "\"code\":\"invalid_token\"}");
	sl_response_free(&r);

	/* With a valid token, a bad query is refused before Redis is asked. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.jwt_alg = "HS256";
	cfg.jwt_key = (unsigned char *)KEY;
	cfg.jwt_key_len = strlen(KEY);
	tok = sl_token_mint(&cfg, "t", 60, NULL, 1800000000, err, sizeof(err));
	snprintf(auth, sizeof(auth), "Bearer %s", tok);
	free(tok);
	route(&r, "GET", "/api/v1/events/consumer-lag", "bogus=1", auth);
	assert_int_equal(r.status, 400);
	assert_string_equal(r.body, "{\"error\":\"unknown query parameter "
	    "\\\"bogus\\\"\",\"code\":\"bad_query\"}");
	sl_response_free(&r);
	route(&r, "GET", "/api/v1/events/streams", "group=g", auth);
	assert_int_equal(r.status, 400);	/* streams takes no group */
	sl_response_free(&r);
	route(&r, "GET", "/api/v1/events/consumer-lag", "group=*", auth);
	assert_int_equal(r.status, 400);
	sl_response_free(&r);
	route(&r, "GET", "/api/v1/events/consumer-lag", "stream=events:other", auth);
	assert_int_equal(r.status, 400);
	assert_string_equal(r.body, "{\"error\":\"stream: \\\"events:other\\\" is "
	    "not a monitored stream\",\"code\":\"bad_query\"}");
	sl_response_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(query_ok),
		cmocka_unit_test(query_bad),
		cmocka_unit_test(error_bodies),
		cmocka_unit_test(router_without_redis),
	};
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
