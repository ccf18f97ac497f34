/* SPDX-License-Identifier: ISC */
/* Bearer JWT verification (header and claims read with jansson, signatures
 * with OpenSSL EVP) and minting (libjwt 1.10). */
#ifndef STREAMLAG_AUTH_H
#define STREAMLAG_AUTH_H

#include <stddef.h>
#include <time.h>

#define SL_TOKEN_MAX 8192	/* longer tokens are refused before they are decoded */
#define SL_TOKEN_JSON_DEPTH_MAX 32	/* deeper header or claims are refused */
/* Upper bound of `streamlag token --ttl`, in seconds: ten years of 365 days
 * and 3 leap days.  Long-lived service tokens are legitimate (Prometheus), a
 * typo of a few extra digits is not. */
#define SL_TOKEN_TTL_MAX (10L * 365 * 86400 + 3 * 86400)	/* 315619200 */

struct sl_config;

enum sl_auth_result {
	SL_AUTH_OK = 0,
	SL_AUTH_MISSING,	/* no Authorization header, or not "Bearer " */
	SL_AUTH_INVALID,	/* bad signature, alg, claims, size, expired, ... */
	SL_AUTH_SCOPE		/* valid, but lacks the configured scope */
};

/*
 * Verify an Authorization header value (may be NULL).  `now` is the current
 * time; `why` (may be NULL) receives a short reason for the log, never for the
 * client.
 */
enum sl_auth_result sl_auth_check(const struct sl_config *cfg,
	    const char *authorization, time_t now, const char **why);

/*
 * Mint an HS* token with the configured key: sub, iat, exp = now + ttl, and
 * iss/aud/scope from the configuration (scope overridden by `scope` when not
 * NULL).  Returns a malloc'd string, or NULL with err set.
 */
char	*sl_token_mint(const struct sl_config *cfg, const char *sub, long ttl,
	    const char *scope, time_t now, char *err, size_t errlen);

#endif
