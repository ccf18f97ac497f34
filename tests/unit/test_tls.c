/* SPDX-License-Identifier: ISC */
/* The parts of the TLS transport that need no server: settings, the
 * protocol list, the key file's mode, the words of each failure, contexts
 * (and their allocation failures), and the handshake against a socketpair
 * whose other end answers as a plaintext Redis would, or closes. */
#include <sys/socket.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "sl_test.h"
#include "streamlag/alloc.h"
#include "streamlag/tls.h"

static void
protocols(void **state)
{
	struct sl_error	e;
	int		min, max;

	(void)state;
	assert_int_equal(sl_tls_parse_protocols(NULL, &min, &max, &e), SL_OK);
	assert_int_equal(min, TLS1_2_VERSION);
	assert_int_equal(max, TLS1_3_VERSION);
	assert_int_equal(sl_tls_parse_protocols("", &min, &max, &e), SL_OK);
	assert_int_equal(min, TLS1_2_VERSION);
	assert_int_equal(sl_tls_parse_protocols("TLSv1.3", &min, &max, &e),
	    SL_OK);
	assert_int_equal(min, TLS1_3_VERSION);
	assert_int_equal(max, TLS1_3_VERSION);
	assert_int_equal(sl_tls_parse_protocols(" TLSv1.3,TLSv1.2 ", &min,
	    &max, &e), SL_OK);
	assert_int_equal(min, TLS1_2_VERSION);
	assert_int_equal(max, TLS1_3_VERSION);
	assert_int_equal(sl_tls_parse_protocols("TLSv1.1 TLSv1.2", &min, &max,
	    &e), SL_EINPUT);
	assert_string_equal(e.str, "STREAMLAG_REDIS_TLS_PROTOCOLS: TLSv1.1 "
	    "is refused: TLS 1.2 is the minimum");
	assert_int_equal(sl_tls_parse_protocols("TLSv1", &min, &max, &e),
	    SL_EINPUT);
	assert_int_equal(sl_tls_parse_protocols("TLSv1.2 TLSv9", &min, &max,
	    &e), SL_EINPUT);
	assert_string_equal(e.str, "STREAMLAG_REDIS_TLS_PROTOCOLS: unknown "
	    "protocol \"TLSv9\" (expected TLSv1.2, TLSv1.3)");
	/* A prefix is not a name. */
	assert_int_equal(sl_tls_parse_protocols("TLSv1.2x", &min, &max, &e),
	    SL_EINPUT);
	assert_int_equal(sl_tls_parse_protocols(" , ", &min, &max, &e),
	    SL_EINPUT);
	assert_string_equal(e.str,
	    "STREAMLAG_REDIS_TLS_PROTOCOLS: no protocol named");
}

static void
config(void **state)
{
	struct sl_tls_config	c;
	struct sl_error		e;
	char			longname[SL_TLS_NAME_MAX + 2];

	(void)state;
	sl_tls_config_init(&c);
	assert_int_equal(c.verify, 1);
	assert_null(c.ca_file);
	assert_int_equal(sl_tls_config_check(&c, &e), SL_OK);
	c.cert_file = "client.crt";
	assert_int_equal(sl_tls_config_check(&c, &e), SL_EINPUT);
	assert_string_equal(e.str, "STREAMLAG_REDIS_TLS_CERT_FILE is set "
	    "without STREAMLAG_REDIS_TLS_KEY_FILE: a client certificate needs "
	    "both");
	c.cert_file = NULL;
	c.key_file = "client.key";
	assert_int_equal(sl_tls_config_check(&c, &e), SL_EINPUT);
	assert_string_equal(e.str, "STREAMLAG_REDIS_TLS_KEY_FILE is set "
	    "without STREAMLAG_REDIS_TLS_CERT_FILE: a client certificate needs "
	    "both");
	c.cert_file = "client.crt";
	assert_int_equal(sl_tls_config_check(&c, &e), SL_OK);

	c.server_name = "redis.example.com";
	assert_int_equal(sl_tls_config_check(&c, &e), SL_OK);
	c.server_name = "10.0.0.7";
	assert_int_equal(sl_tls_config_check(&c, &e), SL_OK);
	c.server_name = "redis example";
	assert_int_equal(sl_tls_config_check(&c, &e), SL_EINPUT);
	assert_string_equal(e.str,
	    "STREAMLAG_REDIS_TLS_SERVER_NAME: not a host name");
	c.server_name = "";
	assert_int_equal(sl_tls_config_check(&c, &e), SL_EINPUT);
	/* The longest DNS name passes, one more character does not. */
	memset(longname, 'a', sizeof(longname) - 1);
	longname[SL_TLS_NAME_MAX] = '\0';
	c.server_name = longname;
	assert_int_equal(sl_tls_config_check(&c, &e), SL_OK);
	longname[SL_TLS_NAME_MAX] = 'a';
	longname[SL_TLS_NAME_MAX + 1] = '\0';
	assert_int_equal(sl_tls_config_check(&c, &e), SL_EINPUT);
	c.server_name = NULL;

	c.ciphers = "";
	assert_int_equal(sl_tls_config_check(&c, &e), SL_EINPUT);
	c.ciphers = NULL;
	c.protocols = "SSLv3";
	assert_int_equal(sl_tls_config_check(&c, &e), SL_EINPUT);
}

/* A file of mode m in a fresh directory; its path in buf. */
static void
key_file(char *dir, char *buf, size_t len, mode_t m)
{
	int fd;

	snprintf(buf, len, "%s/key.pem", dir);
	unlink(buf);
	assert_true((fd = open(buf, O_CREAT | O_WRONLY, 0600)) != -1);
	close(fd);
	assert_int_equal(chmod(buf, m), 0);
}

static void
key_mode(void **state)
{
	char		dir[] = "/tmp/sl_test_tls.XXXXXX", path[64], want[256];
	struct sl_error	e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	key_file(dir, path, sizeof(path), 0600);
	assert_int_equal(sl_tls_key_file_check(path, &e), SL_OK);
	key_file(dir, path, sizeof(path), 0400);
	assert_int_equal(sl_tls_key_file_check(path, &e), SL_OK);
	key_file(dir, path, sizeof(path), 0640);
	assert_int_equal(sl_tls_key_file_check(path, &e), SL_EINPUT);
	snprintf(want, sizeof(want), "STREAMLAG_REDIS_TLS_KEY_FILE %s: mode "
	    "0640 lets other users read it (chmod 600, owned by the user "
	    "streamlag runs as)", path);
	assert_string_equal(e.str, want);
	key_file(dir, path, sizeof(path), 0604);
	assert_int_equal(sl_tls_key_file_check(path, &e), SL_EINPUT);
	key_file(dir, path, sizeof(path), 0620);
	assert_int_equal(sl_tls_key_file_check(path, &e), SL_EINPUT);
	unlink(path);
	assert_int_equal(sl_tls_key_file_check(path, &e), SL_ESYS);
	snprintf(want, sizeof(want), "STREAMLAG_REDIS_TLS_KEY_FILE %s: No "
	    "such file or directory", path);
	assert_string_equal(e.str, want);
	assert_int_equal(sl_tls_key_file_check(dir, &e), SL_EINPUT);
	assert_non_null(strstr(e.str, "not a regular file"));
	rmdir(dir);
}

static void
reasons(void **state)
{
	(void)state;
	assert_int_equal(sl_tls_classify(X509_V_ERR_CERT_HAS_EXPIRED, 0, 0),
	    SL_TLS_F_EXPIRED);
	assert_int_equal(sl_tls_classify(X509_V_ERR_CERT_NOT_YET_VALID, 0, 0),
	    SL_TLS_F_NOT_YET_VALID);
	assert_int_equal(sl_tls_classify(
	    X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 0, 0),
	    SL_TLS_F_UNKNOWN_CA);
	assert_int_equal(sl_tls_classify(X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
	    0, 0), SL_TLS_F_UNKNOWN_CA);
	assert_int_equal(sl_tls_classify(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
	    0, 0), SL_TLS_F_UNKNOWN_CA);
	assert_int_equal(sl_tls_classify(X509_V_ERR_HOSTNAME_MISMATCH, 0, 0),
	    SL_TLS_F_HOSTNAME);
	assert_int_equal(sl_tls_classify(X509_V_ERR_IP_ADDRESS_MISMATCH, 0, 0),
	    SL_TLS_F_HOSTNAME);
	assert_int_equal(sl_tls_classify(X509_V_ERR_CERT_REVOKED, 0, 0),
	    SL_TLS_F_VERIFY);
	/* The certificate's result wins over the handshake's reason. */
	assert_int_equal(sl_tls_classify(X509_V_ERR_CERT_HAS_EXPIRED,
	    SSL_R_CERTIFICATE_VERIFY_FAILED, 0), SL_TLS_F_EXPIRED);
	assert_int_equal(sl_tls_classify(X509_V_OK, SSL_R_WRONG_VERSION_NUMBER,
	    0), SL_TLS_F_PLAINTEXT);
	assert_int_equal(sl_tls_classify(X509_V_OK,
	    SSL_R_PACKET_LENGTH_TOO_LONG, 0), SL_TLS_F_PLAINTEXT);
	assert_int_equal(sl_tls_classify(X509_V_OK, SSL_R_HTTP_REQUEST, 0),
	    SL_TLS_F_PLAINTEXT);
	assert_int_equal(sl_tls_classify(X509_V_OK,
	    SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED, 0), SL_TLS_F_CLIENT_CERT);
	assert_int_equal(sl_tls_classify(X509_V_OK,
	    SSL_R_TLSV1_ALERT_UNKNOWN_CA, 0), SL_TLS_F_CLIENT_REJECTED);
	assert_int_equal(sl_tls_classify(X509_V_OK,
	    SSL_R_TLSV1_ALERT_PROTOCOL_VERSION, 0), SL_TLS_F_PROTOCOL);
	assert_int_equal(sl_tls_classify(X509_V_OK,
	    SSL_R_UNEXPECTED_EOF_WHILE_READING, 0), SL_TLS_F_CLOSED);
	assert_int_equal(sl_tls_classify(X509_V_OK, 0, 1), SL_TLS_F_CLOSED);
	assert_int_equal(sl_tls_classify(X509_V_OK, 0, 0), SL_TLS_F_OTHER);
	assert_int_equal(sl_tls_classify(X509_V_OK, SSL_R_BAD_LENGTH, 0),
	    SL_TLS_F_OTHER);
	assert_string_equal(sl_tls_failure_words(SL_TLS_F_EXPIRED),
	    "expired certificate");
	assert_string_equal(sl_tls_failure_words(SL_TLS_F_UNKNOWN_CA),
	    "unknown CA");
	assert_string_equal(sl_tls_failure_words(SL_TLS_F_HOSTNAME),
	    "host-name mismatch");
	assert_string_equal(sl_tls_failure_words(SL_TLS_F_TIMEOUT),
	    "handshake timeout");
	assert_string_equal(sl_tls_failure_words(SL_TLS_F_PLAINTEXT),
	    "plaintext server");
	assert_string_equal(sl_tls_failure_words(SL_TLS_F_CLIENT_CERT),
	    "client certificate required");
}

static void
contexts(void **state)
{
	struct sl_tls_config	 c;
	struct sl_tls_ctx	*ctx;
	struct sl_error		 e;

	(void)state;
	sl_tls_config_init(&c);
	assert_non_null(ctx = sl_tls_ctx_new(&c, &e));
	assert_int_equal(sl_tls_ctx_verifies(ctx), 1);
	assert_int_equal(sl_tls_ctx_reload(ctx, &e), SL_OK);
	sl_tls_ctx_free(ctx);
	sl_tls_ctx_free(NULL);

	c.ca_file = "/nonexistent/ca.pem";
	assert_null(sl_tls_ctx_new(&c, &e));
	assert_int_equal(e.code, SL_EINPUT);
	assert_string_equal(e.str, "STREAMLAG_REDIS_TLS_CA_FILE "
	    "/nonexistent/ca.pem: No such file or directory");
	c.ca_file = NULL;
	c.ciphers = "NO-SUCH-CIPHER";
	assert_null(sl_tls_ctx_new(&c, &e));
	assert_int_equal(e.code, SL_EINPUT);
	assert_string_equal(e.str, "STREAMLAG_REDIS_TLS_CIPHERS "
	    "\"NO-SUCH-CIPHER\": no cipher match");
	c.ciphers = NULL;
	c.cert_file = "/nonexistent/client.crt";
	c.key_file = "/nonexistent/client.key";
	assert_null(sl_tls_ctx_new(&c, &e));
	assert_int_equal(e.code, SL_ESYS);
}

/* Every allocation of a context failing in turn: NULL and SL_ENOMEM, no
 * leak (valgrind). */
static void
contexts_oom(void **state)
{
	struct sl_tls_config	 c;
	struct sl_tls_ctx	*ctx;
	struct sl_error		 e;
	long			 n, total;

	(void)state;
	sl_tls_config_init(&c);
	c.server_name = "redis.example";
	c.protocols = "TLSv1.3";
	sl_alloc_reset();
	assert_non_null(ctx = sl_tls_ctx_new(&c, &e));
	total = sl_alloc_count();
	sl_tls_ctx_free(ctx);
	assert_true(total >= 2);
	for (n = 0; n < total; n++) {
		sl_alloc_fail_after(n);
		assert_null(sl_tls_ctx_new(&c, &e));
		assert_int_equal(e.code, SL_ENOMEM);
	}
	sl_alloc_reset();
}

/* A transport on one end of a socketpair, attached to a context with
 * verification off (nothing answers a certificate here). */
static void
pair(struct sl_tls_ctx **ctx, struct sl_transport *t, int *peer)
{
	struct sl_tls_config	c;
	struct sl_error		e;
	int			sv[2];

	sl_tls_config_init(&c);
	c.verify = 0;
	assert_non_null(*ctx = sl_tls_ctx_new(&c, &e));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	memset(t, 0, sizeof(*t));
	t->fd = sv[0];
	*peer = sv[1];
	assert_int_equal(sl_tls_attach(t, *ctx, "redis.example", 0, &e), SL_OK);
	assert_ptr_equal(t->ops, &sl_tls_ops);
	assert_string_equal(t->ops->name, "tls");
	/* The ClientHello goes out; then the client waits. */
	assert_int_equal(t->ops->handshake(t), SL_IO_WANT_READ);
}

static void
plaintext_answer(void **state)
{
	struct sl_tls_ctx	*ctx;
	struct sl_transport	 t;
	const char		 err[] = "-ERR unknown command\r\n";
	char			 hello[4096];
	int			 peer;

	(void)state;
	pair(&ctx, &t, &peer);
	assert_true(read(peer, hello, sizeof(hello)) > 0);
	assert_int_equal(hello[0], 0x16);	/* a handshake record */
	assert_int_equal(write(peer, err, sizeof(err) - 1),
	    (ssize_t)sizeof(err) - 1);
	assert_int_equal(t.ops->handshake(&t), SL_IO_ERR);
	assert_int_equal(t.err.code, SL_EREDIS);
	assert_string_equal(t.err.str, "TLS handshake with redis.example: "
	    "plaintext server: wrong version number");
	t.ops->close(&t);
	assert_int_equal(t.fd, -1);
	assert_null(t.impl);
	close(peer);
	sl_tls_ctx_free(ctx);
}

static void
closed_and_timeout(void **state)
{
	struct sl_tls_ctx	*ctx;
	struct sl_transport	 t;
	struct sl_tls_peer	 p;
	struct sl_error		 e;
	char			 hello[4096];
	int			 peer;

	(void)state;
	pair(&ctx, &t, &peer);
	assert_int_equal(sl_tls_handshake_timeout(&t, 250), SL_EREDIS);
	assert_string_equal(t.err.str, "TLS handshake with redis.example: "
	    "handshake timeout: no answer to the TLS hello in 250 ms, as from "
	    "a plaintext server (Redis without TLS waits for the end of a "
	    "command)");
	assert_int_equal(sl_tls_pending(&t), 0);
	assert_int_equal(sl_tls_peer_info(&t, &p, &e), SL_EINPUT);
	/* Closed with the hello unread: a reset. */
	close(peer);
	assert_int_equal(t.ops->handshake(&t), SL_IO_ERR);
	assert_string_equal(t.err.str, "TLS handshake with redis.example: "
	    "connection closed during the handshake: Connection reset by peer");
	t.ops->close(&t);
	sl_tls_ctx_free(ctx);

	/* Read, then closed: an end of file.  OpenSSL answers it with an
	 * alert, written to a closed socket: no SIGPIPE (it would end this
	 * test program, which does not ignore it). */
	pair(&ctx, &t, &peer);
	assert_true(read(peer, hello, sizeof(hello)) > 0);
	close(peer);
	assert_int_equal(t.ops->handshake(&t), SL_IO_ERR);
	assert_string_equal(t.err.str, "TLS handshake with redis.example: "
	    "connection closed during the handshake: unexpected eof while "
	    "reading");
	t.ops->close(&t);
	sl_tls_ctx_free(ctx);
}

static void
not_tls(void **state)
{
	struct sl_transport	t;
	struct sl_tls_peer	p;
	struct sl_error		e;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.fd = -1;
	assert_int_equal(sl_tls_pending(&t), 0);
	assert_int_equal(sl_tls_peer_info(&t, &p, &e), SL_EINPUT);
	assert_int_equal(sl_tls_handshake_timeout(&t, 5), SL_EREDIS);
	assert_string_equal(t.err.str, "TLS handshake: handshake timeout");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(protocols),
		cmocka_unit_test(config),
		cmocka_unit_test(key_mode),
		cmocka_unit_test(reasons),
		cmocka_unit_test(contexts),
		cmocka_unit_test(contexts_oom),
		cmocka_unit_test(plaintext_answer),
		cmocka_unit_test(closed_and_timeout),
		cmocka_unit_test(not_tls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
