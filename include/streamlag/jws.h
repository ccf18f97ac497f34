/* SPDX-License-Identifier: ISC */
/* JWS signatures (RFC 7515, 7518) with OpenSSL's EVP: the key is read and
 * checked once at startup, and a signature is checked against the one
 * pinned algorithm, never the one a token names. */
#ifndef STREAMLAG_JWS_H
#define STREAMLAG_JWS_H

#include <stddef.h>

struct evp_pkey_st;	/* OpenSSL's EVP_PKEY */

/*
 * Reads a PEM public key for `alg` (RS256/384/512: RSA of at least 2048
 * bits; ES256/384/512: EC on P-256/P-384/P-521).  A private key, another
 * key type or another curve is refused with one line naming `setting` and
 * what it accepts.  Returns 0 and *out (sl_jws_key_free), or -1 with err set.
 */
int	sl_jws_key_load(const char *setting, const char *alg,
	    const unsigned char *pem, size_t len, struct evp_pkey_st **out,
	    char *err, size_t errlen);
void	sl_jws_key_free(struct evp_pkey_st *key);

/*
 * 1 when sig is a valid `alg` signature of data[0..len): HS* with the secret
 * (hmac, hmaclen; compared in constant time), RS* and ES* with pkey (ES*
 * signatures are R || S, RFC 7518 3.4).  0 otherwise.
 */
int	sl_jws_verify(const char *alg, const unsigned char *hmac, size_t hmaclen,
	    const struct evp_pkey_st *pkey, const char *data, size_t len,
	    const unsigned char *sig, size_t siglen);

/*
 * Strict base64url without padding (RFC 7515 2): into a new buffer of *outlen
 * bytes plus a NUL.  NULL on a bad character, a bad length, non-zero spare
 * bits in the last character (a second spelling of the same bytes), or out
 * of memory.
 */
unsigned char *sl_b64url_decode(const char *s, size_t len, size_t *outlen);

#endif
