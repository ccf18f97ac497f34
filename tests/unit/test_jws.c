/* SPDX-License-Identifier: ISC */
/* JWS keys and signatures: the key checks that stop startup (private key,
 * wrong type, wrong curve, short RSA), signatures made by libjwt checked
 * by jws.c for every algorithm, and strict base64url. */
#include <stdio.h>
#include <unistd.h>

#include <jwt.h>

#include "sl_test.h"
#include "streamlag/jws.h"

/* Keys made with the openssl command at group setup. */
enum { K_RSA, K_RSA_PUB, K_RSA1024_PUB, K_EC256, K_EC256_PUB, K_EC384,
    K_EC384_PUB, K_EC521, K_EC521_PUB, K_K256_PUB, K_ED25519_PUB, K_N };

static const char *const gen[K_N] = {
	[K_RSA] = "genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048",
	[K_RSA1024_PUB] = "genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024",
	[K_EC256] = "genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256",
	[K_EC384] = "genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384",
	[K_EC521] = "genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521",
	[K_K256_PUB] = "genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1",
	[K_ED25519_PUB] = "genpkey -algorithm ED25519",
};

static struct {
	char	*pem;
	size_t	 len;
} key[K_N];

static char *
run(const char *cmd, size_t *len)
{
	FILE	*p = popen(cmd, "r");
	char	*buf = calloc(1, 16384);
	size_t	 n = 0, r;

	assert_non_null(p);
	assert_non_null(buf);
	while ((r = fread(buf + n, 1, 16383 - n, p)) > 0)
		n += r;
	assert_int_equal(pclose(p), 0);
	assert_true(n > 0);
	*len = n;
	return buf;
}

/* Each generated key lands in its slot: a private key followed by a slot
 * without a generator keeps both halves; other slots keep the public half. */
static int
keys_setup(void **state)
{
	char	 cmd[512];

	(void)state;
	for (int i = 0; i < K_N; i++) {
		char path[] = "/tmp/sl_test_jws.XXXXXX";
		int fd, pair = i + 1 < K_N && gen[i + 1] == NULL;

		if (gen[i] == NULL)
			continue;
		if ((fd = mkstemp(path)) == -1)
			return -1;
		close(fd);
		snprintf(cmd, sizeof(cmd), "openssl %s -out %s 2>/dev/null",
		    gen[i], path);
		if (system(cmd) != 0) {
			unlink(path);
			return -1;
		}
		snprintf(cmd, sizeof(cmd), "openssl pkey -in %s -pubout "
		    "2>/dev/null", path);
		key[pair ? i + 1 : i].pem = run(cmd, &key[pair ? i + 1 : i].len);
		if (pair) {
			snprintf(cmd, sizeof(cmd), "cat %s", path);
			key[i].pem = run(cmd, &key[i].len);
		}
		unlink(path);
	}
	return 0;
}

static int
keys_teardown(void **state)
{
	(void)state;
	for (int i = 0; i < K_N; i++)
		free(key[i].pem);
	return 0;
}

/* Expects the load of key k for alg to fail with exactly `want`. */
static void
load_fails(const char *alg, int k, const char *want)
{
	struct evp_pkey_st	*pk = (struct evp_pkey_st *)1;
	char			 err[512];

	assert_int_equal(sl_jws_key_load("STREAMLAG_JWT_PUBLIC_KEY_FILE", alg,
	    (unsigned char *)key[k].pem, key[k].len, &pk, err, sizeof(err)), -1);
	assert_null(pk);
	assert_string_equal(err, want);
}

static void
key_checks(void **state)
{
	struct evp_pkey_st	*pk = NULL;
	char			 err[512];
	const char		*pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n"
	    "-----END PUBLIC KEY-----\n";

	(void)state;
	assert_int_equal(sl_jws_key_load("K", "RS384", (unsigned char *)
	    key[K_RSA_PUB].pem, key[K_RSA_PUB].len, &pk, err, sizeof(err)), 0);
	assert_non_null(pk);
	sl_jws_key_free(pk);
	load_fails("RS256", K_RSA, "STREAMLAG_JWT_PUBLIC_KEY_FILE: holds a "
	    "private key; give streamlag the public key only (openssl pkey -in "
	    "KEY -pubout)");
	load_fails("ES256", K_EC256, "STREAMLAG_JWT_PUBLIC_KEY_FILE: holds a "
	    "private key; give streamlag the public key only (openssl pkey -in "
	    "KEY -pubout)");
	load_fails("RS256", K_EC256_PUB, "STREAMLAG_JWT_PUBLIC_KEY_FILE: holds an "
	    "EC key; STREAMLAG_JWT_ALG=RS256 needs an RSA public key");
	load_fails("ES256", K_RSA_PUB, "STREAMLAG_JWT_PUBLIC_KEY_FILE: holds an "
	    "RSA key; STREAMLAG_JWT_ALG=ES256 needs an EC public key on P-256");
	load_fails("ES256", K_ED25519_PUB, "STREAMLAG_JWT_PUBLIC_KEY_FILE: holds "
	    "an Ed25519 key; STREAMLAG_JWT_ALG=ES256 needs an EC public key on "
	    "P-256");
	load_fails("ES256", K_EC384_PUB, "STREAMLAG_JWT_PUBLIC_KEY_FILE: the EC "
	    "key is on secp384r1; STREAMLAG_JWT_ALG=ES256 needs P-256");
	load_fails("ES256", K_K256_PUB, "STREAMLAG_JWT_PUBLIC_KEY_FILE: the EC "
	    "key is on secp256k1; STREAMLAG_JWT_ALG=ES256 needs P-256");
	load_fails("ES512", K_EC256_PUB, "STREAMLAG_JWT_PUBLIC_KEY_FILE: the EC "
	    "key is on prime256v1; STREAMLAG_JWT_ALG=ES512 needs P-521");
	load_fails("RS256", K_RSA1024_PUB, "STREAMLAG_JWT_PUBLIC_KEY_FILE: the "
	    "RSA key has 1024 bits; RS256 needs at least 2048 (RFC 7518)");
	assert_int_equal(sl_jws_key_load("K", "RS256", (const unsigned char *)
	    pem, strlen(pem), &pk, err, sizeof(err)), -1);
	assert_string_equal(err, "K: expected a PEM public key (-----BEGIN "
	    "PUBLIC KEY-----, as openssl pkey -pubout writes it)");
	assert_int_equal(sl_jws_key_load("K", "RS256", (const unsigned char *)
	    "", 0, &pk, err, sizeof(err)), -1);
	assert_int_equal(sl_jws_key_load("K", "HS256", (unsigned char *)
	    key[K_RSA_PUB].pem, key[K_RSA_PUB].len, &pk, err, sizeof(err)), -1);
	assert_string_equal(err, "K: not used with STREAMLAG_JWT_ALG=HS256");
}

/* Signs "header.payload" with libjwt and checks the signature with jws.c;
 * then the same with one flipped bit, and under another algorithm. */
static void
t_roundtrip(const char *alg, const char *priv, size_t privlen, int pubk)
{
	struct evp_pkey_st	*pk = NULL;
	jwt_t			*jwt = NULL;
	char			*tok, *dot, err[256];
	unsigned char		*sig;
	size_t			 siglen;

	assert_int_equal(sl_jws_key_load("K", alg, (unsigned char *)
	    key[pubk].pem, key[pubk].len, &pk, err, sizeof(err)), 0);
	assert_int_equal(jwt_new(&jwt), 0);
	assert_int_equal(jwt_add_grant_int(jwt, "exp", 1700000000L), 0);
	assert_int_equal(jwt_set_alg(jwt, jwt_str_alg(alg),
	    (const unsigned char *)priv, (int)privlen), 0);
	tok = jwt_encode_str(jwt);
	assert_non_null(tok);
	dot = strrchr(tok, '.');
	sig = sl_b64url_decode(dot + 1, strlen(dot + 1), &siglen);
	assert_non_null(sig);
	assert_true(sl_jws_verify(alg, NULL, 0, pk, tok, (size_t)(dot - tok),
	    sig, siglen));
	/* The pinned algorithm decides, not the key or the token. */
	assert_false(sl_jws_verify(strcmp(alg, "RS256") == 0 ? "RS512" :
	    alg[0] == 'R' ? "RS256" : strcmp(alg, "ES256") == 0 ? "ES384" :
	    "ES256", NULL, 0, pk, tok, (size_t)(dot - tok), sig, siglen));
	assert_false(sl_jws_verify(alg, NULL, 0, pk, tok,
	    (size_t)(dot - tok) - 1, sig, siglen));
	sig[siglen / 2] ^= 1;
	assert_false(sl_jws_verify(alg, NULL, 0, pk, tok, (size_t)(dot - tok),
	    sig, siglen));
	sig[siglen / 2] ^= 1;
	/* A signature one byte short is not R || S. */
	assert_false(sl_jws_verify(alg, NULL, 0, pk, tok, (size_t)(dot - tok),
	    sig, siglen - 1));
	free(sig);
	free(tok);
	jwt_free(jwt);
	sl_jws_key_free(pk);
}

static void
signatures(void **state)
{
	static const char secret[] = "jws-unit-secret-with-32-or-more-bytes";
	unsigned char	*sig;
	size_t		 siglen;
	jwt_t		*jwt = NULL;
	char		*tok, *dot;

	(void)state;
	t_roundtrip("RS256", key[K_RSA].pem, key[K_RSA].len, K_RSA_PUB);
	t_roundtrip("RS512", key[K_RSA].pem, key[K_RSA].len, K_RSA_PUB);
	t_roundtrip("ES256", key[K_EC256].pem, key[K_EC256].len, K_EC256_PUB);
	t_roundtrip("ES384", key[K_EC384].pem, key[K_EC384].len, K_EC384_PUB);
	t_roundtrip("ES512", key[K_EC521].pem, key[K_EC521].len, K_EC521_PUB);

	/* HS: with the secret, and without it. */
	assert_int_equal(jwt_new(&jwt), 0);
	assert_int_equal(jwt_set_alg(jwt, JWT_ALG_HS384,
	    (const unsigned char *)secret, (int)strlen(secret)), 0);
	tok = jwt_encode_str(jwt);
	dot = strrchr(tok, '.');
	sig = sl_b64url_decode(dot + 1, strlen(dot + 1), &siglen);
	assert_int_equal(siglen, 48);
	assert_true(sl_jws_verify("HS384", (const unsigned char *)secret,
	    strlen(secret), NULL, tok, (size_t)(dot - tok), sig, siglen));
	assert_false(sl_jws_verify("HS256", (const unsigned char *)secret,
	    strlen(secret), NULL, tok, (size_t)(dot - tok), sig, siglen));
	assert_false(sl_jws_verify("HS384", (const unsigned char *)secret,
	    strlen(secret) - 1, NULL, tok, (size_t)(dot - tok), sig, siglen));
	assert_false(sl_jws_verify("HS384", NULL, 0, NULL, tok,
	    (size_t)(dot - tok), sig, siglen));
	assert_false(sl_jws_verify("none", (const unsigned char *)secret,
	    strlen(secret), NULL, tok, (size_t)(dot - tok), sig, siglen));
	free(sig);
	free(tok);
	jwt_free(jwt);
}

static void
b64url(void **state)
{
	unsigned char	*o;
	size_t		 n;

	(void)state;
	o = sl_b64url_decode("eyJhIjoxfQ", 10, &n);
	assert_non_null(o);
	assert_int_equal(n, 7);
	assert_string_equal((char *)o, "{\"a\":1}");
	free(o);
	o = sl_b64url_decode("", 0, &n);
	assert_non_null(o);
	assert_int_equal(n, 0);
	free(o);
	o = sl_b64url_decode("-_8", 3, &n);	/* fb ff */
	assert_non_null(o);
	assert_int_equal(n, 2);
	assert_int_equal(o[0], 0xfb);
	assert_int_equal(o[1], 0xff);
	free(o);
	assert_null(sl_b64url_decode("eyJhIjoxfQ==", 12, &n));	/* padding */
	assert_null(sl_b64url_decode("ab+/", 4, &n));		/* base64, not url */
	assert_null(sl_b64url_decode("abcde", 5, &n));	/* no such length */
	/* One spelling per byte string: spare bits must be zero. */
	assert_null(sl_b64url_decode("-_9", 3, &n));
	assert_null(sl_b64url_decode("eyJhIjoxfR", 10, &n));
	assert_null(sl_b64url_decode("YR", 2, &n));
	o = sl_b64url_decode("YQ", 2, &n);
	assert_non_null(o);
	assert_string_equal((char *)o, "a");
	free(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(key_checks),
		cmocka_unit_test(signatures),
		cmocka_unit_test(b64url),
	};

	return cmocka_run_group_tests(tests, keys_setup, keys_teardown);
}
