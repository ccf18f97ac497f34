/* SPDX-License-Identifier: ISC */
/* Bearer JWT checks against libjwt 1.10's gaps (PITFALLS): alg none, alg
 * confusion, claims of the wrong type, the size limit, and minting.  Tokens
 * are crafted with libjwt itself so that any claim type can be signed. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jwt.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sl_test.h"
#include "streamlag/auth.h"
#include "streamlag/config.h"
#include "streamlag/jws.h"

#define NOW	1700000000LL
#define LEEWAY	30

/* Both at least SL_JWT_SECRET_MIN bytes, as the configuration demands. */
static char secret[] = "unit-test-secret-with-32-or-more-bytes";
static char other_secret[] = "some-other-secret-also-32-or-more-bytes";

/* {"alg":"none","typ":"JWT"} and {"alg":"NONE","typ":"JWT"} */
#define HDR_NONE "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"
#define HDR_NONE_UPPER "eyJhbGciOiJOT05FIiwidHlwIjoiSldUIn0"

/* RSA key pair made at group setup: keeps private keys out of the tree. */
static struct {
	char	*priv, *pub;
	size_t	 privlen, publen;
	struct evp_pkey_st *pkey;	/* pub, as the configuration loads it */
} rsa;

static struct sl_config
t_cfg(const char *alg)
{
	struct sl_config c;

	memset(&c, 0, sizeof(c));
	c.jwt_alg = (char *)alg;
	c.jwt_key = (unsigned char *)secret;
	c.jwt_key_len = strlen(secret);
	c.jwt_leeway_s = LEEWAY;
	return c;
}

/* Sign arbitrary JSON claims. */
static char *
t_sign(const char *alg, const void *key, size_t keylen, const char *claims)
{
	jwt_t	*jwt = NULL;
	char	*tok;

	assert_int_equal(jwt_new(&jwt), 0);
	assert_int_equal(jwt_add_grants_json(jwt, claims), 0);
	assert_int_equal(jwt_set_alg(jwt, jwt_str_alg(alg), key, (int)keylen),
	    0);
	tok = jwt_encode_str(jwt);
	jwt_free(jwt);
	assert_non_null(tok);
	return tok;
}

/* HS256 with the test secret, claims from a format. */
static char *t_hs(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *
t_hs(const char *fmt, ...)
{
	char	 claims[1024];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(claims, sizeof(claims), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(claims));
	return t_sign("HS256", secret, strlen(secret), claims);
}

static char *
t_concat(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b);
	char	*s = malloc(la + lb + 1);

	assert_non_null(s);
	memcpy(s, a, la);
	memcpy(s + la, b, lb + 1);
	return s;
}

/* Check "Bearer <tok>" at NOW; frees tok. */
static enum sl_auth_result
t_check(const struct sl_config *cfg, char *tok, const char **why)
{
	char			*hdr = t_concat("Bearer ", tok);
	enum sl_auth_result	 r;

	r = sl_auth_check(cfg, hdr, (time_t)NOW, why);
	free(hdr);
	free(tok);
	return r;
}

#define EXPECT(cfg, tok, want, reason) do {				\
	const char *why_ = NULL;					\
	assert_int_equal(t_check((cfg), (tok), &why_), (want));		\
	assert_non_null(why_);						\
	assert_string_equal(why_, (reason));				\
} while (0)

#define EXPECT_HDR(cfg, hdr, want, reason) do {				\
	const char *why_ = NULL;					\
	assert_int_equal(sl_auth_check((cfg), (hdr), (time_t)NOW, &why_),\
	    (want));							\
	assert_non_null(why_);						\
	assert_string_equal(why_, (reason));				\
} while (0)

static char *
t_b64url(const char *in)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t	 n = strlen(in), o = 0;
	char	*out = malloc(n / 3 * 4 + 5);

	assert_non_null(out);
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		out[o++] = abc[(v >> 18) & 63];
		out[o++] = abc[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = abc[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = abc[v & 63];
	}
	out[o] = '\0';
	return out;
}

/* header.payload.sig from parts, the payload base64url-encoded here. */
static char *
t_raw(const char *hdr_b64, const char *payload, const char *sig)
{
	char	*p = t_b64url(payload);
	size_t	 n = strlen(hdr_b64) + strlen(p) + strlen(sig) + 3;
	char	*s = malloc(n);

	assert_non_null(s);
	assert_int_equal(snprintf(s, n, "%s.%s.%s", hdr_b64, p, sig),
	    (int)n - 1);
	free(p);
	return s;
}

/* The JSON claims of a token, verified with key. */
static json_object *
t_claims_of(const char *tok, const void *key, size_t keylen, jwt_alg_t *alg)
{
	jwt_t		*jwt = NULL;
	char		*g;
	json_object	*o;

	assert_int_equal(jwt_decode(&jwt, tok, key, (int)keylen), 0);
	if (alg != NULL)
		*alg = jwt_get_alg(jwt);
	g = jwt_get_grants_json(jwt, NULL);
	assert_non_null(g);
	o = json_tokener_parse(g);
	assert_non_null(o);
	free(g);
	jwt_free(jwt);
	return o;
}

static void
missing_header(void **state)
{
	struct sl_config	 c = t_cfg("HS256");
	char			*good = t_hs("{\"exp\":%lld}", NOW + 60);
	char			*h;
	const char		*bad[] = { "", "Bearer", "Bearer ",
	    "Bearer    ", "Basic xyz", "Basic dXNlcjpwYXNz",
	    "Token abc.def.ghi", "Bearerabc.def.ghi", "Bearer\tabc.def.ghi",
	    " Bearer abc.def.ghi" };

	(void)state;
	EXPECT_HDR(&c, NULL, SL_AUTH_MISSING, "missing");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_HDR(&c, bad[i], SL_AUTH_MISSING, "missing");
	/* A valid token under another scheme is still no bearer token. */
	h = t_concat("Basic ", good);
	EXPECT_HDR(&c, h, SL_AUTH_MISSING, "missing");
	free(h);
	h = t_concat("Bearer", good);
	EXPECT_HDR(&c, h, SL_AUTH_MISSING, "missing");
	free(h);
	free(good);
}

static void
minted_ok(void **state)
{
	struct sl_config	 c = t_cfg("HS256");
	char			 err[256] = "";
	char			*tok;

	(void)state;
	tok = sl_token_mint(&c, NULL, 3600, NULL, (time_t)NOW, err,
	    sizeof(err));
	assert_non_null(tok);
	assert_string_equal(err, "");
	EXPECT(&c, tok, SL_AUTH_OK, "ok");
}

static void
scheme_case_and_spaces(void **state)
{
	struct sl_config	 c = t_cfg("HS256");
	const char		*pfx[] = { "bearer ", "BEARER ", "BeArEr ",
	    "Bearer     " };

	(void)state;
	for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++) {
		char *tok = t_hs("{\"exp\":%lld}", NOW + 60);
		char *h = t_concat(pfx[i], tok);

		EXPECT_HDR(&c, h, SL_AUTH_OK, "ok");
		free(h);
		free(tok);
	}
}

static void
why_may_be_null(void **state)
{
	struct sl_config	 c = t_cfg("HS256");
	char			*tok = t_hs("{\"exp\":%lld}", NOW + 60);
	char			*h = t_concat("Bearer ", tok);

	(void)state;
	assert_int_equal(sl_auth_check(&c, h, (time_t)NOW, NULL), SL_AUTH_OK);
	assert_int_equal(sl_auth_check(&c, "Bearer a.b", (time_t)NOW, NULL),
	    SL_AUTH_INVALID);
	assert_int_equal(sl_auth_check(&c, NULL, (time_t)NOW, NULL),
	    SL_AUTH_MISSING);
	free(h);
	free(tok);
}

static void
round_trip_one(const char *alg, jwt_alg_t want)
{
	struct sl_config	 c = t_cfg(alg);
	char			 err[256] = "";
	char			*tok;
	json_object		*o;
	jwt_alg_t		 got = JWT_ALG_INVAL;

	tok = sl_token_mint(&c, "prometheus", 60, NULL, (time_t)NOW, err,
	    sizeof(err));
	assert_non_null(tok);
	o = t_claims_of(tok, secret, strlen(secret), &got);
	assert_int_equal(got, want);
	json_object_put(o);
	EXPECT(&c, tok, SL_AUTH_OK, "ok");
}

static void
round_trip_hs(void **state)
{
	(void)state;
	round_trip_one("HS256", JWT_ALG_HS256);
	round_trip_one("HS384", JWT_ALG_HS384);
	round_trip_one("HS512", JWT_ALG_HS512);
}

static void
bad_signature(void **state)
{
	struct sl_config	 c = t_cfg("HS256");
	char			*tok = t_hs("{\"exp\":%lld}", NOW + 60);
	char			*sig = strrchr(tok, '.') + 1;
	char			*forged;

	(void)state;
	/* The first signature character carries six whole bits of the MAC,
	 * whatever a decoder does with the last one's spare bits. */
	sig[0] = sig[0] == 'A' ? 'B' : 'A';
	EXPECT(&c, tok, SL_AUTH_INVALID, "bad signature");

	/* The last character's spare bits: another spelling of the same MAC
	 * is another token, refused. */
	tok = t_hs("{\"exp\":%lld}", NOW + 60);
	sig = tok + strlen(tok) - 1;
	*sig = (char)(*sig == 'w' ? 'x' : *sig == '8' ? '9' : *sig + 1);
	EXPECT(&c, tok, SL_AUTH_INVALID, "bad signature");

	/* A payload swapped under a genuine signature. */
	tok = t_hs("{\"exp\":%lld}", NOW + 60);
	sig = strrchr(tok, '.');
	forged = t_raw("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
	    "{\"exp\":99999999999}", sig + 1);
	free(tok);
	EXPECT(&c, forged, SL_AUTH_INVALID, "bad signature");
}

static void
alg_none(void **state)
{
	struct sl_config	 c = t_cfg("HS256");
	char			 payload[64];

	(void)state;
	snprintf(payload, sizeof(payload), "{\"exp\":%lld}", NOW + 60);
	/* The genuine shape has an empty signature. */
	EXPECT(&c, t_raw(HDR_NONE, payload, ""), SL_AUTH_INVALID,
	    "malformed");
	EXPECT(&c, t_raw(HDR_NONE_UPPER, payload, ""), SL_AUTH_INVALID,
	    "malformed");
	/* A fake signature gets it past the shape check to the header. */
	EXPECT(&c, t_raw(HDR_NONE, payload, "c2lnbmF0dXJl"), SL_AUTH_INVALID,
	    "algorithm not allowed");
	EXPECT(&c, t_raw(HDR_NONE_UPPER, payload, "c2lnbmF0dXJl"),
	    SL_AUTH_INVALID, "algorithm not allowed");
}

static void
other_key(void **state)
{
	struct sl_config	 c = t_cfg("HS256");
	char			 claims[64];

	(void)state;
	snprintf(claims, sizeof(claims), "{\"exp\":%lld}", NOW + 60);
	EXPECT(&c, t_sign("HS256", other_secret, strlen(other_secret), claims),
	    SL_AUTH_INVALID, "bad signature");
	/* A key that is a prefix of ours is another key. */
	EXPECT(&c, t_sign("HS256", secret, strlen(secret) - 1, claims),
	    SL_AUTH_INVALID, "bad signature");
}

static void
alg_pinned(void **state)
{
	struct sl_config	 c = t_cfg("HS256");
	struct sl_config	 c512 = t_cfg("HS512");
	char			 claims[64];

	(void)state;
	snprintf(claims, sizeof(claims), "{\"exp\":%lld}", NOW + 60);
	/* Same key, valid HMAC: only the pin refuses these. */
	EXPECT(&c, t_sign("HS384", secret, strlen(secret), claims),
	    SL_AUTH_INVALID, "algorithm not allowed");
	EXPECT(&c, t_sign("HS512", secret, strlen(secret), claims),
	    SL_AUTH_INVALID, "algorithm not allowed");
	EXPECT(&c512, t_sign("HS256", secret, strlen(secret), claims),
	    SL_AUTH_INVALID, "algorithm not allowed");
	EXPECT(&c512, t_sign("HS512", secret, strlen(secret), claims),
	    SL_AUTH_OK, "ok");
}

static void
exp_leeway(void **state)
{
	struct sl_config	 c = t_cfg("HS256");
	struct sl_config	 strict = t_cfg("HS256");

	(void)state;
	strict.jwt_leeway_s = 0;
	EXPECT(&c, t_hs("{\"exp\":%lld}", NOW + 3600), SL_AUTH_OK, "ok");
	EXPECT(&c, t_hs("{\"exp\":%lld}", NOW), SL_AUTH_OK, "ok");
	EXPECT(&c, t_hs("{\"exp\":%lld}", NOW - 1), SL_AUTH_OK, "ok");
	/* now == exp + leeway is still valid; one second later is not. */
	EXPECT(&c, t_hs("{\"exp\":%lld}", NOW - LEEWAY), SL_AUTH_OK, "ok");
	EXPECT(&c, t_hs("{\"exp\":%lld}", NOW - LEEWAY - 1), SL_AUTH_INVALID,
	    "expired");
	EXPECT(&c, t_hs("{\"exp\":%lld}", NOW - 86400), SL_AUTH_INVALID,
	    "expired");
	EXPECT(&c, t_hs("{\"exp\":0}"), SL_AUTH_INVALID, "expired");
	EXPECT(&c, t_hs("{\"exp\":-1}"), SL_AUTH_INVALID, "expired");
	EXPECT(&strict, t_hs("{\"exp\":%lld}", NOW), SL_AUTH_OK, "ok");
	EXPECT(&strict, t_hs("{\"exp\":%lld}", NOW - 1), SL_AUTH_INVALID,
	    "expired");
}

static void
exp_types(void **state)
{
	struct sl_config	 c = t_cfg("HS256");

	(void)state;
	EXPECT(&c, t_hs("{\"sub\":\"x\"}"), SL_AUTH_INVALID, "missing exp");
	EXPECT(&c, t_hs("{\"nbf\":%lld}", NOW), SL_AUTH_INVALID,
	    "missing exp");
	/* libjwt would read these as 0 or -1; here they are refused. */
	EXPECT(&c, t_hs("{\"exp\":\"%lld\"}", NOW + 3600), SL_AUTH_INVALID,
	    "exp not a number");
	EXPECT(&c, t_hs("{\"exp\":null}"), SL_AUTH_INVALID,
	    "exp not a number");
	EXPECT(&c, t_hs("{\"exp\":true}"), SL_AUTH_INVALID,
	    "exp not a number");
	EXPECT(&c, t_hs("{\"exp\":[%lld]}", NOW + 3600), SL_AUTH_INVALID,
	    "exp not a number");
	EXPECT(&c, t_hs("{\"exp\":{\"t\":%lld}}", NOW + 3600), SL_AUTH_INVALID,
	    "exp not a number");
}

static void
exp_float(void **state)
{
	struct sl_config	 c = t_cfg("HS256");

	(void)state;
	EXPECT(&c, t_hs("{\"exp\":%lld.5}", NOW + 3600), SL_AUTH_OK, "ok");
	EXPECT(&c, t_hs("{\"exp\":%lld.0}", NOW + 1), SL_AUTH_OK, "ok");
	EXPECT(&c, t_hs("{\"exp\":%lld.5}", NOW - LEEWAY), SL_AUTH_OK, "ok");
	EXPECT(&c, t_hs("{\"exp\":%lld.5}", NOW - LEEWAY - 1),
	    SL_AUTH_INVALID, "expired");
	EXPECT(&c, t_hs("{\"exp\":1.6e9}"), SL_AUTH_INVALID, "expired");
	EXPECT(&c, t_hs("{\"exp\":1.7e9}"), SL_AUTH_OK, "ok");
	EXPECT(&c, t_hs("{\"exp\":1.8e9}"), SL_AUTH_OK, "ok");
}

static void
nbf(void **state)
{
	struct sl_config	 c = t_cfg("HS256");
	long long		 exp = NOW + 3600;

	(void)state;
	EXPECT(&c, t_hs("{\"exp\":%lld,\"nbf\":%lld}", exp, NOW - 10),
	    SL_AUTH_OK, "ok");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"nbf\":%lld}", exp, NOW), SL_AUTH_OK,
	    "ok");
	/* now + leeway == nbf is valid; one second earlier is not. */
	EXPECT(&c, t_hs("{\"exp\":%lld,\"nbf\":%lld}", exp, NOW + LEEWAY),
	    SL_AUTH_OK, "ok");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"nbf\":%lld}", exp, NOW + LEEWAY + 1),
	    SL_AUTH_INVALID, "not yet valid");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"nbf\":%lld.5}", exp, NOW + LEEWAY),
	    SL_AUTH_INVALID, "not yet valid");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"nbf\":\"%lld\"}", exp, NOW),
	    SL_AUTH_INVALID, "nbf not a number");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"nbf\":null}", exp), SL_AUTH_INVALID,
	    "nbf not a number");
	/* iat is informational: one in the future is not refused. */
	EXPECT(&c, t_hs("{\"exp\":%lld,\"iat\":%lld}", exp, NOW + 600),
	    SL_AUTH_OK, "ok");
}

static void
issuer(void **state)
{
	struct sl_config	 c = t_cfg("HS256");
	struct sl_config	 any = t_cfg("HS256");
	long long		 exp = NOW + 3600;

	(void)state;
	c.jwt_issuer = (char *)"https://auth.example.org";
	EXPECT(&c, t_hs("{\"exp\":%lld,\"iss\":\"https://auth.example.org\"}",
	    exp), SL_AUTH_OK, "ok");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"iss\":\"https://evil.example.org\"}",
	    exp), SL_AUTH_INVALID, "wrong issuer");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"iss\":\"https://auth.example.org/\"}",
	    exp), SL_AUTH_INVALID, "wrong issuer");
	EXPECT(&c, t_hs("{\"exp\":%lld}", exp), SL_AUTH_INVALID,
	    "wrong issuer");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"iss\":[\"https://auth.example.org\"]}",
	    exp), SL_AUTH_INVALID, "wrong issuer");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"iss\":null}", exp), SL_AUTH_INVALID,
	    "wrong issuer");
	/* Not configured: not checked. */
	EXPECT(&any, t_hs("{\"exp\":%lld,\"iss\":\"whoever\"}", exp),
	    SL_AUTH_OK, "ok");
}

static void
audience(void **state)
{
	struct sl_config	 c = t_cfg("HS256");
	struct sl_config	 any = t_cfg("HS256");
	long long		 exp = NOW + 3600;

	(void)state;
	c.jwt_audience = (char *)"streamlag";
	EXPECT(&c, t_hs("{\"exp\":%lld,\"aud\":\"streamlag\"}", exp),
	    SL_AUTH_OK, "ok");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"aud\":\"grafana\"}", exp),
	    SL_AUTH_INVALID, "wrong audience");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"aud\":[\"grafana\",\"streamlag\"]}",
	    exp), SL_AUTH_OK, "ok");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"aud\":[\"grafana\",\"streamlagx\"]}",
	    exp), SL_AUTH_INVALID, "wrong audience");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"aud\":[]}", exp), SL_AUTH_INVALID,
	    "wrong audience");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"aud\":[[\"streamlag\"]]}", exp),
	    SL_AUTH_INVALID, "wrong audience");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"aud\":1}", exp), SL_AUTH_INVALID,
	    "wrong audience");
	EXPECT(&c, t_hs("{\"exp\":%lld}", exp), SL_AUTH_INVALID,
	    "wrong audience");
	EXPECT(&any, t_hs("{\"exp\":%lld,\"aud\":\"grafana\"}", exp),
	    SL_AUTH_OK, "ok");
}

static void
scope(void **state)
{
	struct sl_config	 c = t_cfg("HS256");
	long long		 exp = NOW + 3600;

	(void)state;
	c.jwt_scope = (char *)"lag:read";
	EXPECT(&c, t_hs("{\"exp\":%lld,\"scope\":\"lag:read\"}", exp),
	    SL_AUTH_OK, "ok");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"scope\":\"metrics lag:read\"}", exp),
	    SL_AUTH_OK, "ok");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"scope\":\"  lag:read   x \"}", exp),
	    SL_AUTH_OK, "ok");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"scp\":[\"x\",\"lag:read\"]}", exp),
	    SL_AUTH_OK, "ok");
	/* Whole words only. */
	EXPECT(&c, t_hs("{\"exp\":%lld,\"scope\":\"lag:reader\"}", exp),
	    SL_AUTH_SCOPE, "missing scope");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"scope\":\"lag\"}", exp),
	    SL_AUTH_SCOPE, "missing scope");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"scope\":\"xlag:read\"}", exp),
	    SL_AUTH_SCOPE, "missing scope");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"scope\":\"\"}", exp),
	    SL_AUTH_SCOPE, "missing scope");
	EXPECT(&c, t_hs("{\"exp\":%lld}", exp), SL_AUTH_SCOPE,
	    "missing scope");
	/* Each claim in its own form only. */
	EXPECT(&c, t_hs("{\"exp\":%lld,\"scope\":[\"lag:read\"]}", exp),
	    SL_AUTH_SCOPE, "missing scope");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"scp\":\"lag:read\"}", exp),
	    SL_AUTH_SCOPE, "missing scope");
	/* 403 only for tokens otherwise valid: everything else wins. */
	c.jwt_audience = (char *)"streamlag";
	EXPECT(&c, t_hs("{\"exp\":%lld,\"aud\":\"x\"}", exp), SL_AUTH_INVALID,
	    "wrong audience");
	EXPECT(&c, t_hs("{\"exp\":%lld,\"aud\":\"streamlag\"}", NOW - 3600),
	    SL_AUTH_INVALID, "expired");
	EXPECT(&c, t_hs("{\"aud\":\"streamlag\"}"), SL_AUTH_INVALID,
	    "missing exp");
}

/* A validly signed HS256 token of exactly SL_TOKEN_MAX bytes. */
static char *
t_token_at_limit(void)
{
	char	*claims = malloc(SL_TOKEN_MAX);
	char	*tok = NULL;

	assert_non_null(claims);
	for (int pad = 5000; pad < 7000; pad++) {
		int n = snprintf(claims, SL_TOKEN_MAX,
		    "{\"exp\":%lld,\"pad\":\"", NOW + 3600);

		memset(claims + n, 'x', (size_t)pad);
		memcpy(claims + n + pad, "\"}", 3);
		tok = t_sign("HS256", secret, strlen(secret), claims);
		if (strlen(tok) == SL_TOKEN_MAX)
			break;
		free(tok);
		tok = NULL;
	}
	free(claims);
	assert_non_null(tok);
	return tok;
}

static void
size_limit(void **state)
{
	struct sl_config	 c = t_cfg("HS256");
	char			*tok, *sig, *longer;

	(void)state;
	tok = t_token_at_limit();
	assert_int_equal(strlen(tok), SL_TOKEN_MAX);
	EXPECT(&c, tok, SL_AUTH_OK, "ok");

	/* At the limit, a bad token is refused for what it is... */
	tok = t_token_at_limit();
	sig = strrchr(tok, '.') + 1;
	sig[0] = sig[0] == 'A' ? 'B' : 'A';
	EXPECT(&c, tok, SL_AUTH_INVALID, "bad signature");

	/* ...and one byte over, for its size alone, good signature or not. */
	tok = t_token_at_limit();
	longer = t_concat(tok, "A");
	free(tok);
	assert_int_equal(strlen(longer), SL_TOKEN_MAX + 1);
	EXPECT(&c, longer, SL_AUTH_INVALID, "too long");
}

static void
huge_token(void **state)
{
	struct sl_config	 c = t_cfg("HS256");
	const char		*hdr = "Bearer eyJhbGciOiJIUzI1NiJ9.";
	size_t			 big = 4u << 20, hl = strlen(hdr);
	char			*h = malloc(hl + big + 6);

	(void)state;
	assert_non_null(h);
	memcpy(h, hdr, hl);
	memset(h + hl, 'A', big);
	memcpy(h + hl + big, ".c2ln", 6);
	EXPECT_HDR(&c, h, SL_AUTH_INVALID, "too long");
	free(h);
}

static void
garbage(void **state)
{
	struct sl_config	 c = t_cfg("HS256");
	const char		*bad[] = { "Bearer a", "Bearer a.b",
	    "Bearer ...", "Bearer ..", "Bearer a.b.c.d", "Bearer a.b.",
	    "Bearer .b.c", "Bearer a..c", "Bearer a.b.c=", "Bearer a+b.c.d",
	    "Bearer a/b.c.d",
	    "Bearer a.b.c ", "Bearer a.b.c\n", "Bearer a.b c.d",
	    "Bearer \xc3\xa9.b.c", "Bearer a.b.\x7f", "Bearer a.b.c,d" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_HDR(&c, bad[i], SL_AUTH_INVALID, "malformed");
	/* Right shape, not a JWT: "a" is no base64url length. */
	EXPECT_HDR(&c, "Bearer a.b.c", SL_AUTH_INVALID, "malformed");
	EXPECT_HDR(&c, "Bearer YQ.b.c", SL_AUTH_INVALID, "header not JSON");
	EXPECT_HDR(&c, "Bearer eyJhbGciOiJIUzI1NiJ9.e30.AAAA", SL_AUTH_INVALID,
	    "bad signature");
}

static void
fail_closed(void **state)
{
	struct sl_config	 c;
	char			 payload[64];

	(void)state;
	snprintf(payload, sizeof(payload), "{\"exp\":%lld}", NOW + 60);

	c = t_cfg("HS256");
	c.jwt_key = NULL;
	c.jwt_key_len = 0;
	EXPECT(&c, t_hs("{\"exp\":%lld}", NOW + 60), SL_AUTH_INVALID,
	    "no key configured");
	EXPECT(&c, t_raw(HDR_NONE, payload, "c2ln"), SL_AUTH_INVALID,
	    "no key configured");

	/* libjwt reads a zero-length key as "no key" and verifies nothing. */
	c = t_cfg("HS256");
	c.jwt_key_len = 0;
	EXPECT(&c, t_hs("{\"exp\":%lld}", NOW + 60), SL_AUTH_INVALID,
	    "no key configured");
	EXPECT(&c, t_raw(HDR_NONE, payload, "c2ln"), SL_AUTH_INVALID,
	    "no key configured");

	/* A pin on "none" or an unknown name would match unverified tokens. */
	c = t_cfg("none");
	EXPECT(&c, t_raw(HDR_NONE, payload, "c2ln"), SL_AUTH_INVALID,
	    "no key configured");
	c = t_cfg("XS256");
	EXPECT(&c, t_hs("{\"exp\":%lld}", NOW + 60), SL_AUTH_INVALID,
	    "no key configured");
	c = t_cfg(NULL);
	EXPECT(&c, t_hs("{\"exp\":%lld}", NOW + 60), SL_AUTH_INVALID,
	    "no key configured");
	EXPECT(NULL, t_hs("{\"exp\":%lld}", NOW + 60), SL_AUTH_INVALID,
	    "no key configured");
}

/* base64url of n bytes. */
static char *
t_b64url_n(const unsigned char *in, size_t n)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char	*out = malloc(n / 3 * 4 + 5);
	size_t	 o = 0;

	assert_non_null(out);
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = abc[(v >> 18) & 63];
		out[o++] = abc[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = abc[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = abc[v & 63];
	}
	out[o] = '\0';
	return out;
}

/* A token with this exact header and payload text, HS256-signed with the
 * test secret by OpenSSL's HMAC (not by the code under test). */
static char *
t_hs_raw(const char *header, const char *payload)
{
	char		*h = t_b64url_n((const unsigned char *)header,
	    strlen(header));
	char		*p = t_b64url_n((const unsigned char *)payload,
	    strlen(payload));
	char		*input, *sig, *tok;
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;
	size_t		 n;

	input = malloc(strlen(h) + strlen(p) + 2);
	assert_non_null(input);
	sprintf(input, "%s.%s", h, p);
	assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (unsigned char *)input, strlen(input), mac, &maclen));
	sig = t_b64url_n(mac, maclen);
	n = strlen(input) + strlen(sig) + 2;
	tok = malloc(n);
	assert_non_null(tok);
	snprintf(tok, n, "%s.%s", input, sig);
	free(h);
	free(p);
	free(input);
	free(sig);
	return tok;
}

#define HS_HDR	"{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static void
header_rules(void **state)
{
	struct sl_config	 c = t_cfg("HS256");
	char			 exp[64];

	(void)state;
	snprintf(exp, sizeof(exp), "{\"exp\":%lld}", NOW + 60);
	/* The signer itself is right. */
	EXPECT(&c, t_hs_raw(HS_HDR, exp), SL_AUTH_OK, "ok");
	EXPECT(&c, t_hs_raw("{\"alg\":\"HS256\"}", exp), SL_AUTH_OK, "ok");
	/* RFC 9068 access tokens, and the media type's long form. */
	EXPECT(&c, t_hs_raw("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", exp),
	    SL_AUTH_OK, "ok");
	EXPECT(&c, t_hs_raw("{\"alg\":\"HS256\",\"typ\":\"application/at+JWT\"}",
	    exp), SL_AUTH_OK, "ok");
	EXPECT(&c, t_hs_raw("{\"alg\":\"HS256\",\"typ\":\"jwt\"}", exp),
	    SL_AUTH_OK, "ok");
	/* Other typed JWTs are not access tokens (RFC 8725 3.11). */
	EXPECT(&c, t_hs_raw("{\"alg\":\"HS256\",\"typ\":\"logout+jwt\"}", exp),
	    SL_AUTH_INVALID, "typ not accepted");
	EXPECT(&c, t_hs_raw("{\"alg\":\"HS256\",\"typ\":\"dpop+jwt\"}", exp),
	    SL_AUTH_INVALID, "typ not accepted");
	EXPECT(&c, t_hs_raw("{\"alg\":\"HS256\",\"typ\":1}", exp),
	    SL_AUTH_INVALID, "typ not accepted");
	/* alg is case-sensitive (RFC 7518 3.1). */
	EXPECT(&c, t_hs_raw("{\"alg\":\"hs256\"}", exp), SL_AUTH_INVALID,
	    "algorithm not allowed");
	EXPECT(&c, t_hs_raw("{\"alg\":\"HS256 \"}", exp), SL_AUTH_INVALID,
	    "algorithm not allowed");
	EXPECT(&c, t_hs_raw("{\"typ\":\"JWT\"}", exp), SL_AUTH_INVALID,
	    "algorithm not allowed");
	EXPECT(&c, t_hs_raw("{\"alg\":[\"HS256\"]}", exp), SL_AUTH_INVALID,
	    "algorithm not allowed");
	/* crit: no extension is understood (RFC 7515 4.1.11). */
	EXPECT(&c, t_hs_raw("{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}",
	    exp), SL_AUTH_INVALID, "crit names an unsupported extension");
	EXPECT(&c, t_hs_raw("{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":false}",
	    exp), SL_AUTH_INVALID, "crit names an unsupported extension");
	EXPECT(&c, t_hs_raw("{\"alg\":\"HS256\",\"crit\":[]}", exp),
	    SL_AUTH_INVALID, "crit names an unsupported extension");
	/* One name, one value. */
	EXPECT(&c, t_hs_raw("{\"alg\":\"none\",\"alg\":\"HS256\"}", exp),
	    SL_AUTH_INVALID, "duplicate header name");
	EXPECT(&c, t_hs_raw("[\"HS256\"]", exp), SL_AUTH_INVALID,
	    "header not a JSON object");
	EXPECT(&c, t_hs_raw("{\"alg\":\"HS256\"", exp), SL_AUTH_INVALID,
	    "header not JSON");
	EXPECT(&c, t_hs_raw("{\"alg\":\"HS256\",\"kid\":\"a\\u0000b\"}", exp),
	    SL_AUTH_INVALID, "NUL (\\u0000) in the header");
}

/* {"exp":N,"a":{"a":...{}...}}: `levels` objects deep (the outer one
 * counts), levels >= 2. */
static char *
t_nested(int levels, long long exp)
{
	size_t	 n = (size_t)levels * 6 + 64, o;
	char	*s = malloc(n);

	assert_non_null(s);
	o = (size_t)snprintf(s, n, "{\"exp\":%lld,\"a\":", exp);
	for (int i = 2; i < levels; i++)
		o += (size_t)snprintf(s + o, n - o, "{\"a\":");
	o += (size_t)snprintf(s + o, n - o, "{}");
	for (int i = 1; i < levels; i++)
		s[o++] = '}';
	s[o] = '\0';
	return s;
}

static void
claim_rules(void **state)
{
	struct sl_config	 c = t_cfg("HS256");
	char			 buf[256], *p;

	(void)state;
	snprintf(buf, sizeof(buf), "{\"exp\":%lld,\"exp\":%lld}", NOW - 3600,
	    NOW + 60);
	EXPECT(&c, t_hs_raw(HS_HDR, buf), SL_AUTH_INVALID,
	    "duplicate claim name");
	c.jwt_audience = (char *)"streamlag";
	snprintf(buf, sizeof(buf), "{\"exp\":%lld,\"aud\":\"other\","
	    "\"aud\":\"streamlag\"}", NOW + 60);
	EXPECT(&c, t_hs_raw(HS_HDR, buf), SL_AUTH_INVALID,
	    "duplicate claim name");
	snprintf(buf, sizeof(buf), "{\"exp\":%lld,\"aud\":\"streamlag\"}",
	    NOW + 60);
	EXPECT(&c, t_hs_raw(HS_HDR, buf), SL_AUTH_OK, "ok");
	c.jwt_audience = NULL;
	/* Duplicates deeper down are refused as well. */
	snprintf(buf, sizeof(buf), "{\"exp\":%lld,\"x\":{\"k\":1,\"k\":2}}",
	    NOW + 60);
	EXPECT(&c, t_hs_raw(HS_HDR, buf), SL_AUTH_INVALID,
	    "duplicate claim name");
	snprintf(buf, sizeof(buf), "{\"exp\":%lld,\"sub\":\"ad\\u0000min\"}",
	    NOW + 60);
	EXPECT(&c, t_hs_raw(HS_HDR, buf), SL_AUTH_INVALID,
	    "NUL (\\u0000) in a claim");
	snprintf(buf, sizeof(buf), "{\"exp\":%lld,\"s\\u0000b\":1}", NOW + 60);
	EXPECT(&c, t_hs_raw(HS_HDR, buf), SL_AUTH_INVALID,
	    "NUL (\\u0000) in a claim");
	snprintf(buf, sizeof(buf), "{\"exp\":%lld,\"sub\":\"\\u00e9\"}", NOW + 60);
	EXPECT(&c, t_hs_raw(HS_HDR, buf), SL_AUTH_OK, "ok");
	snprintf(buf, sizeof(buf), "{\"exp\":%lld,\"sub\":\"\xff\"}", NOW + 60);
	EXPECT(&c, t_hs_raw(HS_HDR, buf), SL_AUTH_INVALID, "claims not UTF-8");
	snprintf(buf, sizeof(buf), "[{\"exp\":%lld}]", NOW + 60);
	EXPECT(&c, t_hs_raw(HS_HDR, buf), SL_AUTH_INVALID,
	    "claims not a JSON object");
	EXPECT(&c, t_hs_raw(HS_HDR, "{\"exp\":1e999}"), SL_AUTH_INVALID,
	    "claims not JSON");
	/* Nesting: 32 levels at the limit, 33 over it; braces inside strings
	 * are not nesting. */
	p = t_nested(32, NOW + 60);
	EXPECT(&c, t_hs_raw(HS_HDR, p), SL_AUTH_OK, "ok");
	free(p);
	p = t_nested(33, NOW + 60);
	EXPECT(&c, t_hs_raw(HS_HDR, p), SL_AUTH_INVALID,
	    "claims nested deeper than 32 levels");
	free(p);
	p = t_nested(900, NOW + 60);	/* just under SL_TOKEN_MAX */
	EXPECT(&c, t_hs_raw(HS_HDR, p), SL_AUTH_INVALID,
	    "claims nested deeper than 32 levels");
	free(p);
	snprintf(buf, sizeof(buf), "{\"exp\":%lld,\"s\":\"[[[[[[[[[[[[[[[[[[["
	    "[[[[[[[[[[[[[[[[[[[[[[[[\\\"{{\"}", NOW + 60);
	EXPECT(&c, t_hs_raw(HS_HDR, buf), SL_AUTH_OK, "ok");
	/* Claims are read only under a good signature. */
	p = t_hs_raw(HS_HDR, "{\"exp\":1,\"exp\":2}");
	p[strlen(p) - 2] = p[strlen(p) - 2] == 'A' ? 'B' : 'A';
	EXPECT(&c, p, SL_AUTH_INVALID, "bad signature");
}

static char *
t_slurp(const char *path, size_t *len)
{
	FILE	*f = fopen(path, "rb");
	char	*buf;
	long	 n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int
rsa_setup(void **state)
{
	char	 dir[] = "/tmp/sl_test_auth.XXXXXX";
	char	 cmd[512], priv[64], pub[64];
	int	 rc;

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(priv, sizeof(priv), "%s/priv.pem", dir);
	snprintf(pub, sizeof(pub), "%s/pub.pem", dir);
	snprintf(cmd, sizeof(cmd), "openssl genpkey -algorithm RSA "
	    "-pkeyopt rsa_keygen_bits:2048 -out %s 2>/dev/null && "
	    "openssl pkey -in %s -pubout -out %s 2>/dev/null", priv, priv, pub);
	rc = system(cmd);
	if (rc == 0) {
		char err[256];

		rsa.priv = t_slurp(priv, &rsa.privlen);
		rsa.pub = t_slurp(pub, &rsa.publen);
		if (sl_jws_key_load("key", "RS256", (unsigned char *)rsa.pub,
		    rsa.publen, &rsa.pkey, err, sizeof(err)) == -1) {
			fprintf(stderr, "test_auth: %s\n", err);
			rc = -1;
		}
	} else
		fprintf(stderr, "test_auth: cannot make an RSA key with "
		    "openssl (exit %d)\n", rc);
	unlink(priv);
	unlink(pub);
	rmdir(dir);
	return rc == 0 ? 0 : -1;
}

static int
rsa_teardown(void **state)
{
	(void)state;
	sl_jws_key_free(rsa.pkey);
	free(rsa.priv);
	free(rsa.pub);
	memset(&rsa, 0, sizeof(rsa));
	return 0;
}

static struct sl_config
t_cfg_rsa(void)
{
	struct sl_config c = t_cfg("RS256");

	c.jwt_key = (unsigned char *)rsa.pub;
	c.jwt_key_len = rsa.publen;
	c.jwt_pkey = rsa.pkey;
	return c;
}

static void
rs256(void **state)
{
	struct sl_config	 c = t_cfg_rsa();
	struct sl_config	 hs = t_cfg("HS256");
	char			 claims[64];

	(void)state;
	snprintf(claims, sizeof(claims), "{\"exp\":%lld}", NOW + 60);
	EXPECT(&c, t_sign("RS256", rsa.priv, rsa.privlen, claims), SL_AUTH_OK,
	    "ok");
	EXPECT(&c, t_sign("RS512", rsa.priv, rsa.privlen, claims),
	    SL_AUTH_INVALID, "algorithm not allowed");
	EXPECT(&hs, t_sign("RS256", rsa.priv, rsa.privlen, claims),
	    SL_AUTH_INVALID, "algorithm not allowed");
}

static void
rs256_hs_confusion(void **state)
{
	struct sl_config	 c = t_cfg_rsa();
	char			 claims[64];

	(void)state;
	snprintf(claims, sizeof(claims), "{\"exp\":%lld}", NOW + 60);
	/* libjwt verifies this HMAC with the public key's PEM text as the
	 * secret: only the pin stands in the way. */
	EXPECT(&c, t_sign("HS256", rsa.pub, rsa.publen, claims),
	    SL_AUTH_INVALID, "algorithm not allowed");
	EXPECT(&c, t_sign("HS512", rsa.pub, rsa.publen, claims),
	    SL_AUTH_INVALID, "algorithm not allowed");
}

static void
mint_errors(void **state)
{
	struct sl_config	 c;
	char			 err[256];

	(void)state;
	c = t_cfg("RS256");
	err[0] = '\0';
	assert_null(sl_token_mint(&c, NULL, 60, NULL, (time_t)NOW, err,
	    sizeof(err)));
	assert_string_equal(err,
	    "token: minting needs an HS* key (STREAMLAG_JWT_ALG=RS256)");
	c = t_cfg("ES256");
	assert_null(sl_token_mint(&c, NULL, 60, NULL, (time_t)NOW, err,
	    sizeof(err)));
	assert_string_equal(err,
	    "token: minting needs an HS* key (STREAMLAG_JWT_ALG=ES256)");
	c = t_cfg("none");
	assert_null(sl_token_mint(&c, NULL, 60, NULL, (time_t)NOW, err,
	    sizeof(err)));
	assert_string_equal(err,
	    "token: minting needs an HS* key (STREAMLAG_JWT_ALG=none)");

	c = t_cfg("HS256");
	c.jwt_key = NULL;
	c.jwt_key_len = 0;
	err[0] = '\0';
	assert_null(sl_token_mint(&c, NULL, 60, NULL, (time_t)NOW, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "STREAMLAG_JWT_SECRET "));
	assert_non_null(strstr(err, "STREAMLAG_JWT_SECRET_FILE"));

	c = t_cfg("HS256");
	err[0] = '\0';
	assert_null(sl_token_mint(&c, NULL, 0, NULL, (time_t)NOW, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "--ttl"));
	err[0] = '\0';
	assert_null(sl_token_mint(&c, NULL, -1, NULL, (time_t)NOW, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "--ttl"));
	err[0] = '\0';
	assert_null(sl_token_mint(&c, NULL, 20L * 365 * 86400, NULL,
	    (time_t)NOW, err, sizeof(err)));
	assert_non_null(strstr(err, "--ttl"));
}

static void
mint_ttl_bounds(void **state)
{
	struct sl_config	 c = t_cfg("HS256");
	long			 ten_years = 10L * 365 * 86400;
	char			 err[256];
	char			*tok;

	(void)state;
	tok = sl_token_mint(&c, NULL, 1, NULL, (time_t)NOW, err, sizeof(err));
	assert_non_null(tok);
	free(tok);
	tok = sl_token_mint(&c, NULL, ten_years, NULL, (time_t)NOW, err,
	    sizeof(err));
	assert_non_null(tok);
	EXPECT(&c, tok, SL_AUTH_OK, "ok");
	assert_null(sl_token_mint(&c, NULL, ten_years + 7 * 86400, NULL,
	    (time_t)NOW, err, sizeof(err)));
}

static void
t_expect_claim_str(json_object *o, const char *k, const char *want)
{
	json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, k, &v));
	assert_true(json_object_is_type(v, json_type_string));
	assert_string_equal(json_object_get_string(v), want);
}

static void
t_expect_claim_int(json_object *o, const char *k, long long want)
{
	json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, k, &v));
	assert_true(json_object_is_type(v, json_type_int));
	assert_int_equal(json_object_get_int64(v), want);
}

static void
mint_claims(void **state)
{
	struct sl_config	 c = t_cfg("HS384");
	char			 err[256];
	char			*tok;
	json_object		*o;
	jwt_alg_t		 alg = JWT_ALG_INVAL;

	(void)state;
	/* Defaults, and nothing unconfigured. */
	tok = sl_token_mint(&c, NULL, 120, NULL, (time_t)NOW, err, sizeof(err));
	assert_non_null(tok);
	o = t_claims_of(tok, secret, strlen(secret), &alg);
	assert_int_equal(alg, JWT_ALG_HS384);
	t_expect_claim_str(o, "sub", "streamlag");
	t_expect_claim_int(o, "iat", NOW);
	t_expect_claim_int(o, "exp", NOW + 120);
	assert_false(json_object_object_get_ex(o, "iss", NULL));
	assert_false(json_object_object_get_ex(o, "aud", NULL));
	assert_false(json_object_object_get_ex(o, "scope", NULL));
	assert_int_equal(json_object_object_length(o), 3);
	json_object_put(o);
	free(tok);

	/* Configured iss, aud and scope; and the result passes the check. */
	c.jwt_issuer = (char *)"https://auth.example.org";
	c.jwt_audience = (char *)"streamlag";
	c.jwt_scope = (char *)"lag:read";
	tok = sl_token_mint(&c, "prometheus", 120, NULL, (time_t)NOW, err,
	    sizeof(err));
	assert_non_null(tok);
	o = t_claims_of(tok, secret, strlen(secret), NULL);
	t_expect_claim_str(o, "sub", "prometheus");
	t_expect_claim_str(o, "iss", "https://auth.example.org");
	t_expect_claim_str(o, "aud", "streamlag");
	t_expect_claim_str(o, "scope", "lag:read");
	json_object_put(o);
	EXPECT(&c, tok, SL_AUTH_OK, "ok");

	/* The scope argument overrides the configured one. */
	tok = sl_token_mint(&c, NULL, 120, "metrics", (time_t)NOW, err,
	    sizeof(err));
	assert_non_null(tok);
	o = t_claims_of(tok, secret, strlen(secret), NULL);
	t_expect_claim_str(o, "scope", "metrics");
	json_object_put(o);
	EXPECT(&c, tok, SL_AUTH_SCOPE, "missing scope");
}

static void
mint_expires(void **state)
{
	struct sl_config	 c = t_cfg("HS512");
	char			 err[256];
	char			*tok, *h;

	(void)state;
	tok = sl_token_mint(&c, NULL, 60, NULL, (time_t)NOW, err, sizeof(err));
	assert_non_null(tok);
	h = t_concat("Bearer ", tok);
	assert_int_equal(sl_auth_check(&c, h, (time_t)(NOW + 60 + LEEWAY),
	    NULL), SL_AUTH_OK);
	assert_int_equal(sl_auth_check(&c, h, (time_t)(NOW + 61 + LEEWAY),
	    NULL), SL_AUTH_INVALID);
	free(h);
	free(tok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(missing_header),
		cmocka_unit_test(minted_ok),
		cmocka_unit_test(scheme_case_and_spaces),
		cmocka_unit_test(why_may_be_null),
		cmocka_unit_test(round_trip_hs),
		cmocka_unit_test(bad_signature),
		cmocka_unit_test(alg_none),
		cmocka_unit_test(other_key),
		cmocka_unit_test(alg_pinned),
		cmocka_unit_test(exp_leeway),
		cmocka_unit_test(exp_types),
		cmocka_unit_test(exp_float),
		cmocka_unit_test(nbf),
		cmocka_unit_test(issuer),
		cmocka_unit_test(audience),
		cmocka_unit_test(scope),
		cmocka_unit_test(size_limit),
		cmocka_unit_test(huge_token),
		cmocka_unit_test(garbage),
		cmocka_unit_test(fail_closed),
		cmocka_unit_test(header_rules),
		cmocka_unit_test(claim_rules),
		cmocka_unit_test(rs256),
		cmocka_unit_test(rs256_hs_confusion),
		cmocka_unit_test(mint_errors),
		cmocka_unit_test(mint_ttl_bounds),
		cmocka_unit_test(mint_claims),
		cmocka_unit_test(mint_expires),
	};

	return cmocka_run_group_tests_name("auth", tests, rsa_setup,
	    rsa_teardown);
}
