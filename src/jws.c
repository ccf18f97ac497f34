/* SPDX-License-Identifier: ISC */
/* JWS signature checks with OpenSSL's EVP.
 *
 * Why not libjwt here: libjwt 1.10's only public way to check a signature is
 * jwt_decode(), which applies header rules of its own that RFC 9068 and RFC
 * 7515 contradict (any "typ" but JWT refused, "alg" compared without case,
 * duplicate names accepted), and re-reads the PEM key on every request, so
 * that a private key or a key of the wrong type is only noticed as a 401 on
 * every token.  Its verify functions are exported but private (jwt-private.h).
 * So the token is read by auth.c, and the signature is checked here, with a
 * key parsed and checked once at startup.  libjwt still mints tokens. */
#define OPENSSL_API_COMPAT 30000
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <stdio.h>
#include <stdlib.h>

#include "streamlag/jws.h"

#define RSA_BITS_MIN	2048	/* RFC 7518 3.3: "2048 bits or larger MUST" */

/* The digest of a pinned algorithm, from its last three characters. */
static const EVP_MD *
alg_md(const char *alg)
{
	if (alg == NULL || strlen(alg) != 5)
		return NULL;
	if (strcmp(alg + 2, "256") == 0)
		return EVP_sha256();
	if (strcmp(alg + 2, "384") == 0)
		return EVP_sha384();
	if (strcmp(alg + 2, "512") == 0)
		return EVP_sha512();
	return NULL;
}

/* The curve an ES* algorithm is defined on (RFC 7518 3.4), OpenSSL's name,
 * and the size of R and of S. */
static const char *
alg_curve(const char *alg, const char **nist, size_t *n)
{
	if (strcmp(alg, "ES256") == 0) {
		*nist = "P-256";
		*n = 32;
		return "prime256v1";
	}
	if (strcmp(alg, "ES384") == 0) {
		*nist = "P-384";
		*n = 48;
		return "secp384r1";
	}
	if (strcmp(alg, "ES512") == 0) {
		*nist = "P-521";
		*n = 66;
		return "secp521r1";
	}
	return NULL;
}

static const char *
key_kind(EVP_PKEY *k)
{
	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_RSA:	return "an RSA key";
	case EVP_PKEY_RSA_PSS:	return "an RSA-PSS key";
	case EVP_PKEY_EC:	return "an EC key";
	case EVP_PKEY_ED25519:	return "an Ed25519 key";
	case EVP_PKEY_ED448:	return "an Ed448 key";
	case EVP_PKEY_DSA:	return "a DSA key";
	default:		return "a key of another type";
	}
}

int
sl_jws_key_load(const char *setting, const char *alg, const unsigned char *pem,
    size_t len, struct evp_pkey_st **out, char *err, size_t errlen)
{
	EVP_PKEY	*k = NULL;
	BIO		*bio = NULL;
	const char	*curve, *nist = "";
	char		 group[64];
	size_t		 n = 0, glen = 0;
	int		 rc = -1;

	*out = NULL;
	if (alg == NULL || (alg[0] != 'R' && alg[0] != 'E') || alg_md(alg) == NULL) {
		snprintf(err, errlen, "%s: not used with STREAMLAG_JWT_ALG=%s",
		    setting, alg != NULL ? alg : "");
		return -1;
	}
	/* Said first: a private key would otherwise read as "no key". */
	if (memmem(pem, len, "PRIVATE KEY-----", 16) != NULL) {
		snprintf(err, errlen, "%s: holds a private key; give streamlag "
		    "the public key only (openssl pkey -in KEY -pubout)", setting);
		return -1;
	}
	if (len > 0x7fffffff || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", setting);
		return -1;
	}
	if ((k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL) {
		snprintf(err, errlen, "%s: expected a PEM public key "
		    "(-----BEGIN PUBLIC KEY-----, as openssl pkey -pubout "
		    "writes it)", setting);
		goto out;
	}
	if (alg[0] == 'R') {
		if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) {
			snprintf(err, errlen, "%s: holds %s; STREAMLAG_JWT_ALG=%s "
			    "needs an RSA public key", setting, key_kind(k), alg);
			goto out;
		}
		if (EVP_PKEY_get_bits(k) < RSA_BITS_MIN) {
			snprintf(err, errlen, "%s: the RSA key has %d bits; %s "
			    "needs at least %d (RFC 7518)", setting,
			    EVP_PKEY_get_bits(k), alg, RSA_BITS_MIN);
			goto out;
		}
	} else {
		curve = alg_curve(alg, &nist, &n);
		if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC) {
			snprintf(err, errlen, "%s: holds %s; STREAMLAG_JWT_ALG=%s "
			    "needs an EC public key on %s", setting, key_kind(k),
			    alg, nist);
			goto out;
		}
		if (EVP_PKEY_get_group_name(k, group, sizeof(group), &glen) != 1 ||
		    curve == NULL || strcmp(group, curve) != 0) {
			snprintf(err, errlen, "%s: the EC key is on %s; "
			    "STREAMLAG_JWT_ALG=%s needs %s", setting,
			    glen > 0 ? group : "an unknown curve", alg, nist);
			goto out;
		}
	}
	*out = k;
	k = NULL;
	rc = 0;
out:
	EVP_PKEY_free(k);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

void
sl_jws_key_free(struct evp_pkey_st *key)
{
	EVP_PKEY_free(key);
}

/* R || S (RFC 7518 3.4) as the DER ECDSA-Sig-Value EVP expects; NULL when
 * the signature is not exactly 2n bytes. */
static unsigned char *
es_der(const unsigned char *sig, size_t siglen, size_t n, int *derlen)
{
	ECDSA_SIG	*es;
	BIGNUM		*r, *s;
	unsigned char	*der = NULL, *p;
	int		 len;

	if (siglen != 2 * n || (es = ECDSA_SIG_new()) == NULL)
		return NULL;
	r = BN_bin2bn(sig, (int)n, NULL);
	s = BN_bin2bn(sig + n, (int)n, NULL);
	if (r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return NULL;
	}
	if ((len = i2d_ECDSA_SIG(es, NULL)) > 0 &&
	    (der = malloc((size_t)len)) != NULL) {
		p = der;
		*derlen = i2d_ECDSA_SIG(es, &p);
	}
	ECDSA_SIG_free(es);
	return der;
}

int
sl_jws_verify(const char *alg, const unsigned char *hmac, size_t hmaclen,
    const struct evp_pkey_st *pkey, const char *data, size_t len,
    const unsigned char *sig, size_t siglen)
{
	const EVP_MD	*md = alg_md(alg);
	EVP_MD_CTX	*ctx = NULL;
	unsigned char	 mac[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned int	 maclen = 0;
	const char	*nist;
	size_t		 n;
	int		 derlen = 0, ok = 0;

	if (md == NULL)
		return 0;
	if (alg[0] == 'H') {
		if (hmac == NULL || hmaclen == 0 || hmaclen > 0x7fffffff ||
		    HMAC(md, hmac, (int)hmaclen, (const unsigned char *)data,
		    len, mac, &maclen) == NULL)
			return 0;
		ok = siglen == maclen && CRYPTO_memcmp(mac, sig, maclen) == 0;
		OPENSSL_cleanse(mac, sizeof(mac));
		return ok;
	}
	if (pkey == NULL)
		return 0;
	if (alg[0] == 'E') {
		if (alg_curve(alg, &nist, &n) == NULL ||
		    (der = es_der(sig, siglen, n, &derlen)) == NULL)
			return 0;
		sig = der;
		siglen = (size_t)derlen;
	} else if (alg[0] != 'R')
		return 0;
	if ((ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(ctx, NULL, md, NULL, (EVP_PKEY *)pkey) == 1)
		ok = EVP_DigestVerify(ctx, sig, siglen,
		    (const unsigned char *)data, len) == 1;
	EVP_MD_CTX_free(ctx);
	free(der);
	ERR_clear_error();
	return ok;
}

static int
b64url_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

unsigned char *
sl_b64url_decode(const char *s, size_t len, size_t *outlen)
{
	unsigned char	*out;
	unsigned	 acc = 0;
	size_t		 o = 0;
	int		 bits = 0, v;

	if (len % 4 == 1 || (out = malloc(len / 4 * 3 + 3)) == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if ((v = b64url_val((unsigned char)s[i])) < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Canonical only (RFC 4648 3.5): spare bits must be zero, so that a
	 * token has one spelling (caches and logs key on the text). */
	if (acc != 0) {
		free(out);
		return NULL;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}
