/* Token checks over libjwt 1.10: the pinned algorithm, every claim rule, the
 * size limit, and minting.  Tokens are signed here with libjwt from arbitrary
 * JSON claims, or assembled by hand for the algorithms it would refuse. */
#include <stdio.h>
#include <stdlib.h>

#include <jwt.h>

#include "sl_test.h"
#include "streamlag/auth.h"
#include "streamlag/config.h"

#define KEY "0123456789abcdef0123456789abcdef"
#define NOW 1800000000L

static struct sl_config
cfg_hs(const char *alg)
{
	struct sl_config c;

	memset(&c, 0, sizeof(c));
	c.jwt_alg = (char *)alg;
	c.jwt_key = (unsigned char *)KEY;
	c.jwt_key_len = strlen(KEY);
	c.jwt_leeway_s = 30;
	return c;
}

/* "Bearer " + a token over `claims` signed with alg and key. */
static char *
bearer(jwt_alg_t alg, const char *key, const char *claims)
{
	jwt_t *j;
	char *tok, *out;

	assert_int_equal(jwt_new(&j), 0);
	assert_int_equal(jwt_add_grants_json(j, claims), 0);
	assert_int_equal(jwt_set_alg(j, alg, (const unsigned char *)key,
	    (int)strlen(key)), 0);
	tok = jwt_encode_str(j);
	assert_non_null(tok);
	out = malloc(strlen(tok) + 8);
	assert_non_null(out);
	snprintf(out, strlen(tok) + 8, "Bearer %s", tok);
	free(tok);
	jwt_free(j);
	return out;
}

static enum sl_auth_result
check(const struct sl_config *c, const char *claims, const char **why)
{
	char *b = bearer(JWT_ALG_HS256, KEY, claims);
	enum sl_auth_result r = sl_auth_check(c, b, NOW, why);

	free(b);
	return r;
}

static void
valid_and_expiry(void **state)
{
	struct sl_config c = cfg_hs("HS256");
	const char *why;

	(void)state;
	assert_int_equal(check(&c, "{\"exp\":1800000600}", &why), SL_AUTH_OK);
	assert_string_equal(why, "ok");
	/* Leeway 30 s: exp + 30 is the last accepted second. */
	assert_int_equal(check(&c, "{\"exp\":1799999970}", &why), SL_AUTH_OK);
	assert_int_equal(check(&c, "{\"exp\":1799999969}", &why), SL_AUTH_INVALID);
	assert_string_equal(why, "expired");
	assert_int_equal(check(&c, "{\"exp\":1800000600.5}", &why), SL_AUTH_OK);
	assert_int_equal(check(&c, "{\"sub\":\"x\"}", &why), SL_AUTH_INVALID);
	assert_string_equal(why, "missing exp");
	assert_int_equal(check(&c, "{\"exp\":\"1900000000\"}", &why),
	    SL_AUTH_INVALID);
	assert_string_equal(why, "exp not a number");
	assert_int_equal(check(&c, "{\"exp\":null}", &why), SL_AUTH_INVALID);
}

static void
not_before(void **state)
{
	struct sl_config c = cfg_hs("HS256");
	const char *why;

	(void)state;
	assert_int_equal(check(&c, "{\"exp\":1800000600,\"nbf\":1800000030}",
	    &why), SL_AUTH_OK);
	assert_int_equal(check(&c, "{\"exp\":1800000600,\"nbf\":1800000031}",
	    &why), SL_AUTH_INVALID);
	assert_string_equal(why, "not yet valid");
	assert_int_equal(check(&c, "{\"exp\":1800000600,\"nbf\":\"soon\"}",
	    &why), SL_AUTH_INVALID);
}

static void
issuer_audience_scope(void **state)
{
	struct sl_config c = cfg_hs("HS256");
	const char *why;

	(void)state;
	c.jwt_issuer = "https://iss";
	c.jwt_audience = "streamlag";
	assert_int_equal(check(&c, "{\"exp\":1800000600,\"iss\":\"https://iss\","
	    "\"aud\":\"streamlag\"}", &why), SL_AUTH_OK);
	assert_int_equal(check(&c, "{\"exp\":1800000600,\"iss\":\"https://iss\","
	    "\"aud\":[\"a\",\"streamlag\"]}", &why), SL_AUTH_OK);
	assert_int_equal(check(&c, "{\"exp\":1800000600,\"iss\":\"https://evil\","
	    "\"aud\":\"streamlag\"}", &why), SL_AUTH_INVALID);
	assert_string_equal(why, "wrong issuer");
	assert_int_equal(check(&c, "{\"exp\":1800000600,\"iss\":\"https://iss\","
	    "\"aud\":[\"a\",\"b\"]}", &why), SL_AUTH_INVALID);
	assert_string_equal(why, "wrong audience");
	assert_int_equal(check(&c, "{\"exp\":1800000600,\"iss\":\"https://iss\"}",
	    &why), SL_AUTH_INVALID);
	c.jwt_scope = "lag:read";
	assert_int_equal(check(&c, "{\"exp\":1800000600,\"iss\":\"https://iss\","
	    "\"aud\":\"streamlag\",\"scope\":\"other lag:read\"}", &why),
	    SL_AUTH_OK);
	assert_int_equal(check(&c, "{\"exp\":1800000600,\"iss\":\"https://iss\","
	    "\"aud\":\"streamlag\",\"scp\":[\"lag:read\"]}", &why), SL_AUTH_OK);
	assert_int_equal(check(&c, "{\"exp\":1800000600,\"iss\":\"https://iss\","
	    "\"aud\":\"streamlag\",\"scope\":\"lag:readx\"}", &why),
	    SL_AUTH_SCOPE);
}

static void
algorithm_pinned(void **state)
{
	struct sl_config c = cfg_hs("HS256");
	const char *why;
	char *b;
	/* {"alg":"none","typ":"JWT"} . {"exp":1800000600} */
	const char *none = "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
	    "eyJleHAiOjE4MDAwMDA2MDB9.";
	const char *none_sig = "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
	    "eyJleHAiOjE4MDAwMDA2MDB9.c2lnbmF0dXJl";

	(void)state;
	assert_int_equal(sl_auth_check(&c, none, NOW, &why), SL_AUTH_INVALID);
	assert_int_equal(sl_auth_check(&c, none_sig, NOW, &why), SL_AUTH_INVALID);
	b = bearer(JWT_ALG_HS384, KEY, "{\"exp\":1800000600}");
	assert_int_equal(sl_auth_check(&c, b, NOW, &why), SL_AUTH_INVALID);
	free(b);
	b = bearer(JWT_ALG_HS256, "another-key-0123456789abcdef01234", "{\"exp\":1800000600}");
	assert_int_equal(sl_auth_check(&c, b, NOW, &why), SL_AUTH_INVALID);
	/* A flipped signature byte. */
	b[strlen(b) - 2] = b[strlen(b) - 2] == 'A' ? 'B' : 'A';
	assert_int_equal(sl_auth_check(&c, b, NOW, &why), SL_AUTH_INVALID);
	free(b);
	c.jwt_alg = "HS512";
	b = bearer(JWT_ALG_HS512, KEY, "{\"exp\":1800000600}");
	assert_int_equal(sl_auth_check(&c, b, NOW, &why), SL_AUTH_OK);
	free(b);
}

/* With an RSA public key pinned, an HS256 token keyed with the PEM text
 * itself (algorithm confusion) is refused. */
static void
rs256_confusion(void **state)
{
	FILE *p = popen("openssl genrsa 2048 2>/dev/null | openssl rsa -pubout "
	    "2>/dev/null", "r");
	char pem[4096];
	size_t n;
	struct sl_config c;
	char *b;
	const char *why;

	(void)state;
	assert_non_null(p);
	n = fread(pem, 1, sizeof(pem) - 1, p);
	pclose(p);
	pem[n] = '\0';
	assert_non_null(strstr(pem, "-----BEGIN PUBLIC KEY"));
	memset(&c, 0, sizeof(c));
	c.jwt_alg = "RS256";
	c.jwt_key = (unsigned char *)pem;
	c.jwt_key_len = n;
	b = bearer(JWT_ALG_HS256, pem, "{\"exp\":1800000600}");
	assert_int_equal(sl_auth_check(&c, b, NOW, &why), SL_AUTH_INVALID);
	free(b);
}

static void
header_shapes_and_sizes(void **state)
{
	struct sl_config c = cfg_hs("HS256");
	const char *why;
	char *big;

	(void)state;
	assert_int_equal(sl_auth_check(&c, NULL, NOW, &why), SL_AUTH_MISSING);
	assert_int_equal(sl_auth_check(&c, "", NOW, &why), SL_AUTH_MISSING);
	assert_int_equal(sl_auth_check(&c, "Basic dXNlcjpwdw==", NOW, &why),
	    SL_AUTH_MISSING);
	assert_int_equal(sl_auth_check(&c, "Bearer ", NOW, &why), SL_AUTH_MISSING);
	assert_int_equal(sl_auth_check(&c, "Bearer a.b", NOW, &why),
	    SL_AUTH_INVALID);
	assert_string_equal(why, "malformed");
	assert_int_equal(sl_auth_check(&c, "Bearer a.b.c.d", NOW, &why),
	    SL_AUTH_INVALID);
	assert_int_equal(sl_auth_check(&c, "Bearer ...", NOW, &why),
	    SL_AUTH_INVALID);
	assert_int_equal(sl_auth_check(&c, "Bearer a.b.c d", NOW, &why),
	    SL_AUTH_INVALID);
	{
		char *b = bearer(JWT_ALG_HS256, KEY, "{\"exp\":1800000600}");
		memcpy(b, "bearer", 6);	/* the scheme is case-insensitive */
		assert_int_equal(sl_auth_check(&c, b, NOW, &why), SL_AUTH_OK);
		free(b);
	}
	/* 8192 bytes of token: checked (and refused for its signature);
	 * 8193: refused for its size before libjwt; 4 MB: no crash. */
	big = malloc(7 + 4 * 1024 * 1024 + 1);
	assert_non_null(big);
	memcpy(big, "Bearer ", 7);
	memset(big + 7, 'a', 8192);
	big[7 + 100] = '.';
	big[7 + 200] = '.';
	big[7 + 8192] = '\0';
	assert_int_equal(sl_auth_check(&c, big, NOW, &why), SL_AUTH_INVALID);
	assert_string_not_equal(why, "too long");
	big[7 + 8192] = 'a';
	big[7 + 8193] = '\0';
	assert_int_equal(sl_auth_check(&c, big, NOW, &why), SL_AUTH_INVALID);
	assert_string_equal(why, "too long");
	memset(big + 7, 'a', 4 * 1024 * 1024);
	big[7 + 4 * 1024 * 1024] = '\0';
	assert_int_equal(sl_auth_check(&c, big, NOW, &why), SL_AUTH_INVALID);
	free(big);
	c.jwt_key = NULL;
	assert_int_equal(check(&c, "{\"exp\":1800000600}", &why), SL_AUTH_INVALID);
	assert_string_equal(why, "no key configured");
}

static void
minting(void **state)
{
	struct sl_config c = cfg_hs("HS256");
	char err[256], *tok, b[2048];
	const char *why;

	(void)state;
	c.jwt_issuer = "https://iss";
	c.jwt_audience = "streamlag";
	c.jwt_scope = "lag:read";
	tok = sl_token_mint(&c, "prometheus", 600, NULL, NOW, err, sizeof(err));
	assert_non_null(tok);
	snprintf(b, sizeof(b), "Bearer %s", tok);
	assert_int_equal(sl_auth_check(&c, b, NOW, &why), SL_AUTH_OK);
	assert_int_equal(sl_auth_check(&c, b, NOW + 600 + 30, &why), SL_AUTH_OK);
	assert_int_equal(sl_auth_check(&c, b, NOW + 600 + 31, &why),
	    SL_AUTH_INVALID);
	free(tok);
	tok = sl_token_mint(&c, NULL, 60, "other", NOW, err, sizeof(err));
	snprintf(b, sizeof(b), "Bearer %s", tok);
	assert_int_equal(sl_auth_check(&c, b, NOW, &why), SL_AUTH_SCOPE);
	free(tok);
	assert_null(sl_token_mint(&c, NULL, 0, NULL, NOW, err, sizeof(err)));
	c.jwt_alg = "RS256";
	assert_null(sl_token_mint(&c, NULL, 60, NULL, NOW, err, sizeof(err)));
	assert_string_equal(err, "token: minting needs an HS* key "
	    "(STREAMLAG_JWT_ALG=RS256)");
	c.jwt_alg = "HS256";
	c.jwt_key = NULL;
	assert_null(sl_token_mint(&c, NULL, 60, NULL, NOW, err, sizeof(err)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_and_expiry),
		cmocka_unit_test(not_before),
		cmocka_unit_test(issuer_audience_scope),
		cmocka_unit_test(algorithm_pinned),
		cmocka_unit_test(rs256_confusion),
		cmocka_unit_test(header_shapes_and_sizes),
		cmocka_unit_test(minting),
	};
	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
