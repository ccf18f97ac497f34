/* SPDX-License-Identifier: ISC */
/* The router's answers that need no Redis: 404, 405, 400, 401 and
 * /healthz. */
#include <stdio.h>

#include "sl_test.h"
#include "streamlag/auth.h"
#include "streamlag/http.h"
#include "streamlag/router.h"

#define KEY "0123456789abcdef0123456789abcdef"

static void
route(struct sl_response *resp, const char *method, const char *path,
    const char *query, const char *auth)
{
	static char chat[] = "events:chat", group[] = "g";
	static char *streams[] = { chat };
	struct sl_config cfg;
	struct sl_redis redis;
	struct sl_ctx ctx = { .cfg = &cfg, .redis = &redis };
	struct sl_request req = { .method = method, .path = path,
	    .query = query, .authorization = auth, .now = 1800000000 };

	memset(&cfg, 0, sizeof(cfg));
	cfg.jwt_alg = (char *)"HS256";
	cfg.jwt_key = (unsigned char *)KEY;
	cfg.jwt_key_len = strlen(KEY);
	cfg.streams = streams;
	cfg.nstreams = 1;
	cfg.consumer_group = group;
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
	cfg.jwt_alg = (char *)"HS256";
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
	route(&r, "GET", "/api/v1/events/consumer-lag", "group=", auth);
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
		cmocka_unit_test(router_without_redis),
	};
	return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
