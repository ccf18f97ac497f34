/* SPDX-License-Identifier: ISC */
/* Bearer tokens (RFC 6750), JWS compact form (RFC 7515, 7519, 8725, 9068).
 *
 * The token is read here, not by libjwt 1.10's jwt_decode(): that refuses
 * RFC 9068 access tokens (typ "at+jwt"), compares alg without case, lets a
 * duplicate claim name win silently, and accepts "none" without a key
 * (PITFALLS).  So: size and shape first; header and claims parsed with
 * jansson (libjwt's own JSON library) with duplicate names refused and
 * nesting bounded; alg pinned exactly; the signature checked by jws.c
 * (OpenSSL EVP) before any claim is read; then every claim's type and
 * value.  libjwt still mints tokens. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <jwt.h>

#include "streamlag/auth.h"
#include "streamlag/config.h"
#include "streamlag/jws.h"

#define SL_BEARER	"Bearer"
#define SL_BEARER_LEN	(sizeof(SL_BEARER) - 1)

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

/* A member of a jansson object.  Not json_object_get(): json-c (render.c)
 * exports a function of that name too, and the link would bind this call
 * to json-c's.  json_object_getn exists in jansson only. */
static json_t *
sl_member(const json_t *o, const char *name)
{
	return json_object_getn(o, name, strlen(name));
}

/* A NumericDate: a finite JSON integer or real.  1 when present and valid,
 * 0 when absent, -1 when of another type (null, string, bool...). */
static int
sl_numeric_claim(json_t *claims, const char *name, double *out)
{
	json_t	*v = sl_member(claims, name);

	if (v == NULL)
		return 0;
	if (json_is_integer(v)) {
		*out = (double)json_integer_value(v);
		return 1;
	}
	if (json_is_real(v)) {
		*out = json_real_value(v);
		/* NaN would compare false both ways and never expire. */
		return isfinite(*out) ? 1 : -1;
	}
	return -1;
}

static int
sl_string_is(const json_t *v, const char *want)
{
	return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

static int
sl_array_has(const json_t *v, const char *want)
{
	size_t	 i;
	json_t	*e;

	if (!json_is_array(v))
		return 0;
	json_array_foreach(v, i, e)
		if (sl_string_is(e, want))
			return 1;
	return 0;
}

/* aud (RFC 7519 4.1.3): a string equal to want, or an array holding it. */
static int
sl_audience_ok(json_t *claims, const char *want)
{
	json_t *v = sl_member(claims, "aud");

	return sl_string_is(v, want) || sl_array_has(v, want);
}

/* scope (RFC 8693): space-separated words, one of them want; or scp, the
 * array form some issuers (Azure AD, Okta) use instead. */
static int
sl_scope_ok(json_t *claims, const char *want)
{
	json_t		*v = sl_member(claims, "scope");
	const char	*s;
	size_t		 n = strlen(want), w;

	if (json_is_string(v)) {
		for (s = json_string_value(v); *s != '\0'; s += w) {
			while (*s == ' ')
				s++;
			w = strcspn(s, " ");
			if (w == n && n > 0 && strncmp(s, want, n) == 0)
				return 1;
		}
	}
	return sl_array_has(sl_member(claims, "scp"), want);
}

/* Deepest nesting of arrays and objects in JSON text, counted before any
 * parser recurses into it; strings (and their escapes) are skipped. */
static size_t
sl_json_depth(const unsigned char *s, size_t len)
{
	size_t	 depth = 0, max = 0;
	int	 in_str = 0;

	for (size_t i = 0; i < len; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = 0;
		} else if (s[i] == '"')
			in_str = 1;
		else if (s[i] == '{' || s[i] == '[') {
			if (++depth > max)
				max = depth;
		} else if ((s[i] == '}' || s[i] == ']') && depth > 0)
			depth--;
	}
	return max;
}

/* One base64url segment as a JSON object, with duplicate names refused
 * (RFC 7515 4, RFC 7519 4: a token must not be read two ways).  `what` is
 * "header" or "claims"; on error *why is a static reason. */
static json_t *
sl_json_segment(const char *seg, size_t len, int claims, const char **why)
{
	unsigned char	*text;
	size_t		 n;
	json_t		*o = NULL;
	json_error_t	 je;

	if ((text = sl_b64url_decode(seg, len, &n)) == NULL) {
		*why = "malformed";
		return NULL;
	}
	if (sl_json_depth(text, n) > SL_TOKEN_JSON_DEPTH_MAX) {
		*why = claims ? "claims nested deeper than 32 levels" :
		    "header nested deeper than 32 levels";
		goto out;
	}
	o = json_loadb((const char *)text, n, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL) {
		switch (json_error_code(&je)) {
		case json_error_duplicate_key:
			*why = claims ? "duplicate claim name" :
			    "duplicate header name";
			break;
		case json_error_null_character:
		case json_error_null_byte_in_key:
			*why = claims ? "NUL (\\u0000) in a claim" :
			    "NUL (\\u0000) in the header";
			break;
		case json_error_invalid_utf8:
			*why = claims ? "claims not UTF-8" : "header not UTF-8";
			break;
		default:
			*why = claims ? "claims not JSON" : "header not JSON";
			break;
		}
		goto out;
	}
	if (!json_is_object(o)) {
		*why = claims ? "claims not a JSON object" :
		    "header not a JSON object";
		json_decref(o);
		o = NULL;
	}
out:
	free(text);
	return o;
}

/* typ (RFC 7515 4.1.9, RFC 8725 3.11): absent, a JWT, or an RFC 9068
 * access token; media type names are case-insensitive and may carry the
 * "application/" prefix.  Other typed JWTs (logout, DPoP, SET...) must not
 * pass as access tokens. */
static int
sl_typ_ok(const json_t *typ)
{
	const char *t;

	if (typ == NULL)
		return 1;
	if (!json_is_string(typ))
		return 0;
	t = json_string_value(typ);
	if (strncasecmp(t, "application/", 12) == 0)
		t += 12;
	return strcasecmp(t, "JWT") == 0 || strcasecmp(t, "at+jwt") == 0;
}

/* The header: alg exactly the pinned one, typ accepted, no crit.  0, or
 * -1 with *why set. */
static int
sl_header_ok(json_t *hdr, const char *pinned, const char **why)
{
	json_t *alg = sl_member(hdr, "alg");

	/* Exactly: "hs256" is not "HS256" (RFC 7518 3.1 names are
	 * case-sensitive), "none" is never pinned, and never the algorithm a
	 * token asks for (an HS256 token keyed with the text of our RSA public
	 * key would otherwise verify). */
	if (!sl_string_is(alg, pinned)) {
		*why = "algorithm not allowed";
		return -1;
	}
	if (!sl_typ_ok(sl_member(hdr, "typ"))) {
		*why = "typ not accepted";
		return -1;
	}
	/* RFC 7515 4.1.11: extensions named in crit must be understood, and
	 * streamlag understands none. */
	if (sl_member(hdr, "crit") != NULL) {
		*why = "crit names an unsupported extension";
		return -1;
	}
	return 0;
}

/* The token of "Bearer <token>": SL_AUTH_OK with *tokp set, or
 * SL_AUTH_MISSING / SL_AUTH_INVALID with *why set. */
static enum sl_auth_result
sl_bearer_token(const char *authorization, const char **tokp,
    const char **why)
{
	const char *tok;

	*why = "missing";
	if (authorization == NULL ||
	    strncasecmp(authorization, SL_BEARER, SL_BEARER_LEN) != 0 ||
	    authorization[SL_BEARER_LEN] != ' ')
		return SL_AUTH_MISSING;
	for (tok = authorization + SL_BEARER_LEN; *tok == ' '; tok++)
		;
	if (*tok == '\0')
		return SL_AUTH_MISSING;

	/* Bounded scan: a multi-megabyte header must not cost a full strlen. */
	if (strnlen(tok, SL_TOKEN_MAX + 1) > SL_TOKEN_MAX) {
		*why = "too long";
		return SL_AUTH_INVALID;
	}
	if (!sl_token_well_formed(tok)) {
		*why = "malformed";
		return SL_AUTH_INVALID;
	}
	*tokp = tok;
	return SL_AUTH_OK;
}

/* A signing algorithm is pinned and its key is loaded.  Without one (or
 * with a pinned "none") every token is refused. */
static int
sl_key_configured(const struct sl_config *cfg)
{
	int hs;

	if (cfg == NULL || cfg->jwt_alg == NULL ||
	    !sl_alg_signs(jwt_str_alg(cfg->jwt_alg)))
		return 0;
	hs = sl_alg_is_hmac(jwt_str_alg(cfg->jwt_alg));
	if (hs)
		return cfg->jwt_key != NULL && cfg->jwt_key_len != 0;
	return cfg->jwt_pkey != NULL;
}

/* The claims of a token whose signature verified: exp, nbf, iss, aud,
 * then scope.  SL_AUTH_OK, or the refusal with *why set. */
static enum sl_auth_result
sl_claims_check(json_t *claims, const struct sl_config *cfg,
    time_t now, const char **why)
{
	double	exp = 0, nbf = 0;
	int	has;

	if ((has = sl_numeric_claim(claims, "exp", &exp)) != 1) {
		*why = has == 0 ? "missing exp" : "exp not a number";
		return SL_AUTH_INVALID;
	}
	if ((double)now > exp + cfg->jwt_leeway_s) {
		*why = "expired";
		return SL_AUTH_INVALID;
	}
	if ((has = sl_numeric_claim(claims, "nbf", &nbf)) == -1) {
		*why = "nbf not a number";
		return SL_AUTH_INVALID;
	}
	if (has == 1 && (double)now + cfg->jwt_leeway_s < nbf) {
		*why = "not yet valid";
		return SL_AUTH_INVALID;
	}
	if (cfg->jwt_issuer != NULL &&
	    !sl_string_is(sl_member(claims, "iss"), cfg->jwt_issuer)) {
		*why = "wrong issuer";
		return SL_AUTH_INVALID;
	}
	if (cfg->jwt_audience != NULL &&
	    !sl_audience_ok(claims, cfg->jwt_audience)) {
		*why = "wrong audience";
		return SL_AUTH_INVALID;
	}
	/* Last, so that 403 is only ever said to an otherwise valid token. */
	if (cfg->jwt_scope != NULL && !sl_scope_ok(claims, cfg->jwt_scope)) {
		*why = "missing scope";
		return SL_AUTH_SCOPE;
	}
	*why = "ok";
	return SL_AUTH_OK;
}

enum sl_auth_result
sl_auth_check(const struct sl_config *cfg, const char *authorization,
    time_t now, const char **why)
{
	enum sl_auth_result	 rc;
	const char		*tok = NULL, *reason = NULL, *dot1, *dot2;
	json_t			*hdr = NULL, *claims = NULL;
	unsigned char		*sig = NULL;
	size_t			 siglen = 0;

	if (why == NULL)
		why = &reason;
	if ((rc = sl_bearer_token(authorization, &tok, why)) != SL_AUTH_OK)
		return rc;
	if (!sl_key_configured(cfg)) {
		*why = "no key configured";
		return SL_AUTH_INVALID;
	}

	rc = SL_AUTH_INVALID;
	dot1 = strchr(tok, '.');
	dot2 = strchr(dot1 + 1, '.');
	if ((hdr = sl_json_segment(tok, (size_t)(dot1 - tok), 0, why)) == NULL ||
	    sl_header_ok(hdr, cfg->jwt_alg, why) == -1)
		goto out;
	/* The signature before anything is read from the claims. */
	if ((sig = sl_b64url_decode(dot2 + 1, strlen(dot2 + 1), &siglen)) == NULL ||
	    !sl_jws_verify(cfg->jwt_alg, cfg->jwt_key, cfg->jwt_key_len,
	    cfg->jwt_pkey, tok, (size_t)(dot2 - tok), sig, siglen)) {
		*why = "bad signature";
		goto out;
	}
	if ((claims = sl_json_segment(dot1 + 1, (size_t)(dot2 - dot1 - 1), 1,
	    why)) == NULL)
		goto out;
	rc = sl_claims_check(claims, cfg, now, why);
out:
	json_decref(claims);
	json_decref(hdr);
	free(sig);
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
