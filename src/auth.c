/* Bearer tokens.  libjwt 1.10 checks the signature only (PITFALLS): it
 * accepts alg "none" without a key, any alg the token names, and reads a
 * missing or string "exp" as a number.  So the token's size and shape are
 * checked before libjwt sees it, the algorithm is pinned after decoding,
 * and the claims are read as JSON with their types checked here. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <jwt.h>

#include "streamlag/auth.h"
#include "streamlag/config.h"

#define TEN_YEARS_S (10L * 366 * 86400)

/* Three non-empty base64url segments, nothing else. */
static int
well_formed(const char *t)
{
	int dots = 0;
	size_t seg = 0;

	for (; *t != '\0'; t++) {
		if (*t == '.') {
			if (seg == 0)
				return 0;
			dots++;
			seg = 0;
		} else if (isalnum((unsigned char)*t) || *t == '-' || *t == '_')
			seg++;
		else
			return 0;
	}
	return dots == 2 && seg > 0;
}

/* A NumericDate: a JSON integer or double.  1 when present and valid, 0 when
 * absent, -1 when of another type. */
static int
numeric_claim(json_object *claims, const char *name, double *out)
{
	json_object *v;

	if (!json_object_object_get_ex(claims, name, &v) || v == NULL)
		return json_object_object_get_ex(claims, name, NULL) ? -1 : 0;
	switch (json_object_get_type(v)) {
	case json_type_int:
		*out = (double)json_object_get_int64(v);
		return 1;
	case json_type_double:
		*out = json_object_get_double(v);
		return 1;
	default:
		return -1;
	}
}

static int
string_claim_is(json_object *claims, const char *name, const char *want)
{
	json_object *v;

	return json_object_object_get_ex(claims, name, &v) &&
	    json_object_is_type(v, json_type_string) &&
	    strcmp(json_object_get_string(v), want) == 0;
}

/* aud: a string equal to want, or an array holding it. */
static int
audience_ok(json_object *claims, const char *want)
{
	json_object *v;

	if (!json_object_object_get_ex(claims, "aud", &v))
		return 0;
	if (json_object_is_type(v, json_type_string))
		return strcmp(json_object_get_string(v), want) == 0;
	if (!json_object_is_type(v, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *e = json_object_array_get_idx(v, i);
		if (json_object_is_type(e, json_type_string) &&
		    strcmp(json_object_get_string(e), want) == 0)
			return 1;
	}
	return 0;
}

/* scope: space-separated words holding want, or scp: an array holding it. */
static int
scope_ok(json_object *claims, const char *want)
{
	json_object	*v;
	size_t		 n = strlen(want);

	if (json_object_object_get_ex(claims, "scope", &v) &&
	    json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		while (*s != '\0') {
			size_t w;
			while (*s == ' ')
				s++;
			w = strcspn(s, " ");
			if (w == n && strncmp(s, want, n) == 0)
				return 1;
			s += w;
		}
	}
	if (json_object_object_get_ex(claims, "scp", &v) &&
	    json_object_is_type(v, json_type_array))
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *e = json_object_array_get_idx(v, i);
			if (json_object_is_type(e, json_type_string) &&
			    strcmp(json_object_get_string(e), want) == 0)
				return 1;
		}
	return 0;
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
	double			 exp, nbf;
	int			 has;

	if (why == NULL)
		why = &reason;
	*why = "missing";
	if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7) != 0)
		return SL_AUTH_MISSING;
	for (tok = authorization + 7; *tok == ' '; tok++)
		;
	if (*tok == '\0')
		return SL_AUTH_MISSING;
	if (strlen(tok) > SL_TOKEN_MAX) {
		*why = "too long";	/* libjwt would alloca it whole */
		return SL_AUTH_INVALID;
	}
	if (!well_formed(tok)) {
		*why = "malformed";
		return SL_AUTH_INVALID;
	}
	if (cfg->jwt_key == NULL || cfg->jwt_alg == NULL) {
		*why = "no key configured";
		return SL_AUTH_INVALID;
	}
	if (jwt_decode(&jwt, tok, cfg->jwt_key, (int)cfg->jwt_key_len) != 0 ||
	    jwt == NULL) {
		*why = "bad signature or encoding";
		goto out;
	}
	if (jwt_get_alg(jwt) != jwt_str_alg(cfg->jwt_alg)) {
		*why = "algorithm not allowed";
		goto out;
	}
	if ((grants = jwt_get_grants_json(jwt, NULL)) == NULL ||
	    (claims = json_tokener_parse(grants)) == NULL ||
	    !json_object_is_type(claims, json_type_object)) {
		*why = "claims unreadable";
		goto out;
	}
	if ((has = numeric_claim(claims, "exp", &exp)) != 1) {
		*why = has == 0 ? "missing exp" : "exp not a number";
		goto out;
	}
	if ((double)now > exp + cfg->jwt_leeway_s) {
		*why = "expired";
		goto out;
	}
	if ((has = numeric_claim(claims, "nbf", &nbf)) == -1) {
		*why = "nbf not a number";
		goto out;
	}
	if (has == 1 && (double)now + cfg->jwt_leeway_s < nbf) {
		*why = "not yet valid";
		goto out;
	}
	if (cfg->jwt_issuer != NULL &&
	    !string_claim_is(claims, "iss", cfg->jwt_issuer)) {
		*why = "wrong issuer";
		goto out;
	}
	if (cfg->jwt_audience != NULL && !audience_ok(claims, cfg->jwt_audience)) {
		*why = "wrong audience";
		goto out;
	}
	if (cfg->jwt_scope != NULL && !scope_ok(claims, cfg->jwt_scope)) {
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

	if (cfg->jwt_alg == NULL || cfg->jwt_alg[0] != 'H') {
		snprintf(err, errlen, "token: minting needs an HS* key "
		    "(STREAMLAG_JWT_ALG=%s)", cfg->jwt_alg ? cfg->jwt_alg : "?");
		return NULL;
	}
	if (cfg->jwt_key == NULL) {
		snprintf(err, errlen, "token: set STREAMLAG_JWT_SECRET or "
		    "STREAMLAG_JWT_SECRET_FILE");
		return NULL;
	}
	if (ttl < 1 || ttl > TEN_YEARS_S) {
		snprintf(err, errlen, "token: --ttl must be 1 to %ld seconds",
		    TEN_YEARS_S);
		return NULL;
	}
	alg = jwt_str_alg(cfg->jwt_alg);
	if (scope == NULL)
		scope = cfg->jwt_scope;
	if (jwt_new(&jwt) != 0 ||
	    jwt_add_grant(jwt, "sub", sub != NULL ? sub : "streamlag") != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)now) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)now + ttl) != 0 ||
	    (cfg->jwt_issuer != NULL &&
	    jwt_add_grant(jwt, "iss", cfg->jwt_issuer) != 0) ||
	    (cfg->jwt_audience != NULL &&
	    jwt_add_grant(jwt, "aud", cfg->jwt_audience) != 0) ||
	    (scope != NULL && jwt_add_grant(jwt, "scope", scope) != 0) ||
	    jwt_set_alg(jwt, alg, cfg->jwt_key, (int)cfg->jwt_key_len) != 0 ||
	    (tok = jwt_encode_str(jwt)) == NULL)
		snprintf(err, errlen, "token: cannot encode (%s)", strerror(errno));
	jwt_free(jwt);
	return tok;
}
