/* SPDX-License-Identifier: ISC */
/* Bearer tokens.  libjwt 1.10 checks the signature only (PITFALLS): it
 * accepts alg "none" without a key, any alg the token names, and reads a
 * missing or string "exp" as a number.  So the token's size and shape are
 * checked before libjwt sees it, the algorithm is pinned after decoding,
 * and the claims are read as JSON with their types checked here. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <jwt.h>

#include "streamlag/auth.h"
#include "streamlag/config.h"

#define SL_BEARER	"Bearer"
#define SL_BEARER_LEN	(sizeof(SL_BEARER) - 1)

/* Upper bound of `streamlag token --ttl`: long-lived service tokens are
 * legitimate (Prometheus), a typo of a few extra digits is not. */
#define SL_TOKEN_TTL_MAX (10L * 365 * 86400 + 3 * 86400)

/* Spelled out rather than isalnum(): the locale must not widen the set. */
static int
sl_b64url_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Three non-empty base64url segments, nothing else: an empty signature
 * is how "alg: none" tokens look, and padding or '+' '/' are not JWS. */
static int
sl_token_well_formed(const char *t)
{
	int	 dots = 0;
	size_t	 seg = 0;

	for (; *t != '\0'; t++) {
		if (*t == '.') {
			if (seg == 0)
				return 0;
			dots++;
			seg = 0;
		} else if (sl_b64url_char((unsigned char)*t))
			seg++;
		else
			return 0;
	}
	return dots == 2 && seg > 0;
}

/* The pinned algorithm must sign: "none" (or a name libjwt does not know)
 * would match every token libjwt decodes without a key. */
static int
sl_alg_signs(jwt_alg_t alg)
{
	return alg != JWT_ALG_NONE && alg != JWT_ALG_INVAL;
}

static int
sl_alg_is_hmac(jwt_alg_t alg)
{
	return alg == JWT_ALG_HS256 || alg == JWT_ALG_HS384 ||
	    alg == JWT_ALG_HS512;
}

/* A NumericDate: a finite JSON integer or double.  1 when present and
 * valid, 0 when absent, -1 when of another type (null, string, bool...). */
static int
sl_numeric_claim(json_object *claims, const char *name, double *out)
{
	json_object	*v = NULL;

	if (!json_object_object_get_ex(claims, name, &v))
		return 0;
	switch (json_object_get_type(v)) {
	case json_type_int:
		*out = (double)json_object_get_int64(v);
		return 1;
	case json_type_double:
		*out = json_object_get_double(v);
		/* NaN would compare false both ways and never expire. */
		return isfinite(*out) ? 1 : -1;
	default:
		return -1;
	}
}

static int
sl_string_is(json_object *v, const char *want)
{
	return v != NULL && json_object_is_type(v, json_type_string) &&
	    strcmp(json_object_get_string(v), want) == 0;
}

static int
sl_array_has(json_object *v, const char *want)
{
	if (v == NULL || !json_object_is_type(v, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(v); i++)
		if (sl_string_is(json_object_array_get_idx(v, i), want))
			return 1;
	return 0;
}

/* aud (RFC 7519 4.1.3): a string equal to want, or an array holding it. */
static int
sl_audience_ok(json_object *claims, const char *want)
{
	json_object	*v = NULL;

	if (!json_object_object_get_ex(claims, "aud", &v))
		return 0;
	return sl_string_is(v, want) || sl_array_has(v, want);
}

/* scope (RFC 8693): space-separated words, one of them want; or scp, the
 * array form some issuers (Azure AD, Okta) use instead. */
static int
sl_scope_ok(json_object *claims, const char *want)
{
	json_object	*v = NULL;
	const char	*s;
	size_t		 n = strlen(want), w;

	if (json_object_object_get_ex(claims, "scope", &v) &&
	    json_object_is_type(v, json_type_string)) {
		for (s = json_object_get_string(v); *s != '\0'; s += w) {
			while (*s == ' ')
				s++;
			w = strcspn(s, " ");
			if (w == n && n > 0 && strncmp(s, want, n) == 0)
				return 1;
		}
	}
	return json_object_object_get_ex(claims, "scp", &v) &&
	    sl_array_has(v, want);
}

enum sl_auth_result
sl_auth_check(const struct sl_config *cfg, const char *authorization,
    time_t now, const char **why)
{
	enum sl_auth_result	 rc = SL_AUTH_INVALID;
	const char		*tok, *reason = NULL;
	jwt_t			*jwt = NULL;
	char			*grants = NULL;
	json_object		*claims = NULL;
	jwt_alg_t		 pinned = JWT_ALG_INVAL;
	double			 exp = 0, nbf = 0;
	int			 has;

	if (why == NULL)
		why = &reason;

	*why = "missing";
	if (authorization == NULL ||
	    strncasecmp(authorization, SL_BEARER, SL_BEARER_LEN) != 0 ||
	    authorization[SL_BEARER_LEN] != ' ')
		return SL_AUTH_MISSING;
	for (tok = authorization + SL_BEARER_LEN; *tok == ' '; tok++)
		;
	if (*tok == '\0')
		return SL_AUTH_MISSING;

	/* Bounded scan: libjwt allocas while base64-decoding, and a
	 * multi-megabyte header must not cost a full strlen either. */
	if (strnlen(tok, SL_TOKEN_MAX + 1) > SL_TOKEN_MAX) {
		*why = "too long";
		return SL_AUTH_INVALID;
	}
	if (!sl_token_well_formed(tok)) {
		*why = "malformed";
		return SL_AUTH_INVALID;
	}

	/* libjwt treats a NULL key, or a zero length, as "do not verify":
	 * refuse everything rather than accept everything. */
	if (cfg == NULL || cfg->jwt_key == NULL || cfg->jwt_key_len == 0 ||
	    cfg->jwt_key_len > INT_MAX || cfg->jwt_alg == NULL ||
	    !sl_alg_signs(pinned = jwt_str_alg(cfg->jwt_alg))) {
		*why = "no key configured";
		return SL_AUTH_INVALID;
	}

	if (jwt_decode(&jwt, tok, cfg->jwt_key, (int)cfg->jwt_key_len) != 0 ||
	    jwt == NULL) {
		*why = "bad signature or algorithm";
		goto out;
	}
	/* Never the algorithm the token asks for: an HS256 token keyed with
	 * the text of our RSA public key verifies inside libjwt. */
	if (jwt_get_alg(jwt) != pinned) {
		*why = "algorithm not allowed";
		goto out;
	}

	/* The claims as JSON, not jwt_get_grant_int(): that reads a missing
	 * exp as -1 and a string or float exp as 0. */
	if ((grants = jwt_get_grants_json(jwt, NULL)) == NULL ||
	    (claims = json_tokener_parse(grants)) == NULL ||
	    !json_object_is_type(claims, json_type_object)) {
		*why = "claims unreadable";
		goto out;
	}

	if ((has = sl_numeric_claim(claims, "exp", &exp)) != 1) {
		*why = has == 0 ? "missing exp" : "exp not a number";
		goto out;
	}
	if ((double)now > exp + cfg->jwt_leeway_s) {
		*why = "expired";
		goto out;
	}
	if ((has = sl_numeric_claim(claims, "nbf", &nbf)) == -1) {
		*why = "nbf not a number";
		goto out;
	}
	if (has == 1 && (double)now + cfg->jwt_leeway_s < nbf) {
		*why = "not yet valid";
		goto out;
	}
	if (cfg->jwt_issuer != NULL) {
		json_object *iss = NULL;

		if (!json_object_object_get_ex(claims, "iss", &iss) ||
		    !sl_string_is(iss, cfg->jwt_issuer)) {
			*why = "wrong issuer";
			goto out;
		}
	}
	if (cfg->jwt_audience != NULL &&
	    !sl_audience_ok(claims, cfg->jwt_audience)) {
		*why = "wrong audience";
		goto out;
	}
	/* Last, so that 403 is only ever said to an otherwise valid token. */
	if (cfg->jwt_scope != NULL && !sl_scope_ok(claims, cfg->jwt_scope)) {
		*why = "missing scope";
		rc = SL_AUTH_SCOPE;
		goto out;
	}
	*why = "ok";
	rc = SL_AUTH_OK;
out:
	json_object_put(claims);
	free(grants);
	jwt_free(jwt);
	return rc;
}

char *
sl_token_mint(const struct sl_config *cfg, const char *sub, long ttl,
    const char *scope, time_t now, char *err, size_t errlen)
{
	jwt_t		*jwt = NULL;
	char		*tok = NULL;
	jwt_alg_t	 alg;
	int		 e;

	alg = cfg->jwt_alg != NULL ? jwt_str_alg(cfg->jwt_alg) : JWT_ALG_INVAL;
	if (!sl_alg_is_hmac(alg)) {
		snprintf(err, errlen, "token: minting needs an HS* key "
		    "(STREAMLAG_JWT_ALG=%s)",
		    cfg->jwt_alg != NULL ? cfg->jwt_alg : "");
		return NULL;
	}
	if (cfg->jwt_key == NULL || cfg->jwt_key_len == 0 ||
	    cfg->jwt_key_len > INT_MAX) {
		snprintf(err, errlen, "token: no key; set STREAMLAG_JWT_SECRET "
		    "or STREAMLAG_JWT_SECRET_FILE");
		return NULL;
	}
	if (ttl < 1 || ttl > SL_TOKEN_TTL_MAX) {
		snprintf(err, errlen, "token: --ttl must be 1 to %ld seconds",
		    SL_TOKEN_TTL_MAX);
		return NULL;
	}
	if (sub == NULL)
		sub = "streamlag";
	if (scope == NULL)
		scope = cfg->jwt_scope;

	/* libjwt returns an errno value; errno itself may be stale. */
	if ((e = jwt_new(&jwt)) != 0 ||
	    (e = jwt_add_grant(jwt, "sub", sub)) != 0 ||
	    (e = jwt_add_grant_int(jwt, "iat", (long)now)) != 0 ||
	    (e = jwt_add_grant_int(jwt, "exp", (long)now + ttl)) != 0 ||
	    (cfg->jwt_issuer != NULL &&
	    (e = jwt_add_grant(jwt, "iss", cfg->jwt_issuer)) != 0) ||
	    (cfg->jwt_audience != NULL &&
	    (e = jwt_add_grant(jwt, "aud", cfg->jwt_audience)) != 0) ||
	    (scope != NULL && (e = jwt_add_grant(jwt, "scope", scope)) != 0) ||
	    (e = jwt_set_alg(jwt, alg, cfg->jwt_key,
	    (int)cfg->jwt_key_len)) != 0) {
		snprintf(err, errlen, "token: cannot build (%s)", strerror(e));
		goto out;
	}
	if ((tok = jwt_encode_str(jwt)) == NULL)
		snprintf(err, errlen, "token: cannot encode (%s)",
		    strerror(errno != 0 ? errno : ENOMEM));
out:
	jwt_free(jwt);
	return tok;
}
