/* SPDX-License-Identifier: ISC */
/* TLS to Redis nodes (tls.h): the OpenSSL client context, built from the
 * settings and rebuilt on SIGHUP, and the TLS transport over a non-blocking
 * socket.  OpenSSL's error queue is per thread and sticky: it is cleared
 * before every call whose failure is looked at, and read right after. */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "streamlag/alloc.h"
#include "streamlag/tls.h"

struct sl_tls_ctx {
	SSL_CTX			*ssl_ctx;
	struct sl_tls_config	 cfg;	/* the strings are owned copies */
};

/* The session of one connection (t->impl). */
struct sl_tls_conn {
	SSL	*ssl;
	char	 host[SL_TLS_NAME_MAX + 1];	/* the node, for messages */
	char	 name[SL_TLS_NAME_MAX + 1];	/* the name checked */
	int	 name_is_ip;	/* checked as an IP SAN, no SNI */
	int	 verify;
	int	 done;		/* the handshake finished */
	int	 fatal;		/* no close_notify after a fatal error */
	int	 cert_asked;	/* the server asked for a certificate we lack */
	int	 cert_sent;	/* we have one to present */
	int	 got_data;	/* read() returned bytes */
};

/* The reason of OpenSSL's first queued error into buf, and the queue
 * emptied; its reason code is returned (0: none). */
static int
ossl_text(char *buf, size_t len)
{
	unsigned long	 err = ERR_get_error();
	const char	*r;

	ERR_clear_error();
	if (err == 0) {
		snprintf(buf, len, "no OpenSSL error");
		return 0;
	}
	if (ERR_SYSTEM_ERROR(err))
		snprintf(buf, len, "%s", strerror(ERR_GET_REASON(err)));
	else if ((r = ERR_reason_error_string(err)) != NULL)
		snprintf(buf, len, "%s", r);
	else
		snprintf(buf, len, "OpenSSL error %lx", err);
	return ERR_GET_REASON(err);
}

static enum sl_err
ossl_err(struct sl_error *e, enum sl_err code, const char *what)
{
	char text[160];

	ossl_text(text, sizeof(text));
	return sl_seterr(e, code, "%s: %s", what, text);
}

static int
is_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

/* --- The context --- */

static void
config_free(struct sl_tls_config *c)
{
	sl_free((char *)c->ca_file);
	sl_free((char *)c->ca_dir);
	sl_free((char *)c->server_name);
	sl_free((char *)c->cert_file);
	sl_free((char *)c->key_file);
	sl_free((char *)c->protocols);
	sl_free((char *)c->ciphers);
	memset(c, 0, sizeof(*c));
}

static int
dup_str(const char **dst, const char *src)
{
	*dst = NULL;
	return src == NULL || (*dst = sl_strdup(src)) != NULL;
}

static enum sl_err
config_copy(struct sl_tls_config *d, const struct sl_tls_config *s,
    struct sl_error *e)
{
	memset(d, 0, sizeof(*d));
	d->verify = s->verify;
	if (!dup_str(&d->ca_file, s->ca_file) ||
	    !dup_str(&d->ca_dir, s->ca_dir) ||
	    !dup_str(&d->server_name, s->server_name) ||
	    !dup_str(&d->cert_file, s->cert_file) ||
	    !dup_str(&d->key_file, s->key_file) ||
	    !dup_str(&d->protocols, s->protocols) ||
	    !dup_str(&d->ciphers, s->ciphers)) {
		config_free(d);
		return sl_seterr(e, SL_ENOMEM, NULL);
	}
	return SL_OK;
}

/* The CAs: the configured file and/or directory, else the system store. */
static enum sl_err
load_trust(SSL_CTX *s, const struct sl_tls_config *c, struct sl_error *e)
{
	char what[320];

	if (c->ca_file == NULL && c->ca_dir == NULL) {
		if (SSL_CTX_set_default_verify_paths(s) != 1)
			return ossl_err(e, SL_EINPUT,
			    "the system's CA store cannot be loaded");
		return SL_OK;
	}
	if (SSL_CTX_load_verify_locations(s, c->ca_file, c->ca_dir) != 1) {
		snprintf(what, sizeof(what), "STREAMLAG_REDIS_TLS_%s %s",
		    c->ca_file ? "CA_FILE" : "CA_DIR",
		    c->ca_file ? c->ca_file : c->ca_dir);
		return ossl_err(e, SL_EINPUT, what);
	}
	return SL_OK;
}

/* The client certificate and its key, for mutual TLS. */
static enum sl_err
load_identity(SSL_CTX *s, const struct sl_tls_config *c, struct sl_error *e)
{
	char what[320];

	if (c->cert_file == NULL)
		return SL_OK;
	if (sl_tls_key_file_check(c->key_file, e) != SL_OK)
		return e != NULL ? e->code : SL_EINPUT;
	if (SSL_CTX_use_certificate_chain_file(s, c->cert_file) != 1) {
		snprintf(what, sizeof(what), "STREAMLAG_REDIS_TLS_CERT_FILE %s",
		    c->cert_file);
		return ossl_err(e, SL_EINPUT, what);
	}
	if (SSL_CTX_use_PrivateKey_file(s, c->key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(s) != 1) {
		snprintf(what, sizeof(what), "STREAMLAG_REDIS_TLS_KEY_FILE %s",
		    c->key_file);
		return ossl_err(e, SL_EINPUT, what);
	}
	return SL_OK;
}

static enum sl_err
set_protocols(SSL_CTX *s, const struct sl_tls_config *c, struct sl_error *e)
{
	const char	*ciphers = c->ciphers ? c->ciphers : SL_TLS_DEFAULT_CIPHERS;
	char		 what[320];
	int		 min, max;

	if (sl_tls_parse_protocols(c->protocols, &min, &max, e) != SL_OK)
		return SL_EINPUT;
	if (SSL_CTX_set_min_proto_version(s, min) != 1 ||
	    SSL_CTX_set_max_proto_version(s, max) != 1)
		return ossl_err(e, SL_EINPUT, "STREAMLAG_REDIS_TLS_PROTOCOLS");
	if (SSL_CTX_set_cipher_list(s, ciphers) != 1) {
		snprintf(what, sizeof(what), "STREAMLAG_REDIS_TLS_CIPHERS "
		    "\"%.200s\"", ciphers);
		return ossl_err(e, SL_EINPUT, what);
	}
	return SL_OK;
}

/* Called by OpenSSL only when the server asks for a client certificate and
 * none is configured: noted, so that the refusal that follows is told as
 * such (TLS 1.2 servers answer a bare "handshake failure"). */
static int
cert_asked(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
	struct sl_tls_conn *c = SSL_get_app_data(ssl);

	(void)x509; (void)pkey;
	if (c != NULL)
		c->cert_asked = 1;
	return 0;
}

/* A new OpenSSL context from c, into *out. */
static enum sl_err
build(const struct sl_tls_config *c, SSL_CTX **out, struct sl_error *e)
{
	struct sl_error	 local;
	SSL_CTX		*s;
	enum sl_err	 rc;

	if (e == NULL)
		e = &local;
	*out = NULL;
	if ((rc = sl_tls_config_check(c, e)) != SL_OK)
		return rc;
	ERR_clear_error();
	if ((s = SSL_CTX_new(TLS_client_method())) == NULL)
		return ossl_err(e, SL_ENOMEM, "SSL_CTX_new");
	if ((rc = set_protocols(s, c, e)) != SL_OK ||
	    (rc = load_trust(s, c, e)) != SL_OK ||
	    (rc = load_identity(s, c, e)) != SL_OK) {
		SSL_CTX_free(s);
		ERR_clear_error();
		return rc;
	}
	SSL_CTX_set_verify(s, c->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
	    NULL);
	SSL_CTX_set_client_cert_cb(s, cert_asked);
	/* write() may move part of a buffer, as send(2) does; a retried
	 * write may come from another address (a grown output buffer). */
	SSL_CTX_set_mode(s, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(s, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	/* A session lives as long as its connection: nothing to resume. */
	SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
	*out = s;
	return SL_OK;
}

struct sl_tls_ctx *
sl_tls_ctx_new(const struct sl_tls_config *c, struct sl_error *e)
{
	struct sl_tls_ctx *ctx;

	if ((ctx = sl_calloc(1, sizeof(*ctx))) == NULL) {
		sl_seterr(e, SL_ENOMEM, NULL);
		return NULL;
	}
	if (config_copy(&ctx->cfg, c, e) != SL_OK) {
		sl_free(ctx);
		return NULL;
	}
	if (build(&ctx->cfg, &ctx->ssl_ctx, e) != SL_OK) {
		sl_tls_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

enum sl_err
sl_tls_ctx_reload(struct sl_tls_ctx *ctx, struct sl_error *e)
{
	SSL_CTX		*s;
	enum sl_err	 rc;

	if ((rc = build(&ctx->cfg, &s, e)) != SL_OK)
		return rc;
	/* Open sessions hold a reference to the old one (SSL_new). */
	SSL_CTX_free(ctx->ssl_ctx);
	ctx->ssl_ctx = s;
	return SL_OK;
}

int
sl_tls_ctx_verifies(const struct sl_tls_ctx *ctx)
{
	return ctx->cfg.verify;
}

void
sl_tls_ctx_free(struct sl_tls_ctx *ctx)
{
	if (ctx == NULL)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	config_free(&ctx->cfg);
	sl_free(ctx);
}

/* --- The transport --- */

/* Sets t->err for a failed call: the words of tls.h, then OpenSSL's. */
static enum sl_io
fail(struct sl_transport *t, const char *what, enum sl_tls_failure f,
    const char *detail)
{
	struct sl_tls_conn	*c = t->impl;
	char			 as[SL_TLS_NAME_MAX + 16] = "";

	if (strcmp(c->name, c->host) != 0)
		snprintf(as, sizeof(as), " as %s", c->name);
	sl_seterr(&t->err, SL_EREDIS, "TLS %s with %s%s: %s: %s", what,
	    c->host, as, sl_tls_failure_words(f), detail);
	return SL_IO_ERR;
}

/* What OpenSSL's words leave unsaid about mutual TLS: a TLS 1.2 server
 * that wanted a certificate we lack answers a bare handshake failure, and a
 * TLS 1.3 server that refuses ours may reset the connection before its
 * alert is read. */
static enum sl_tls_failure
refine(const struct sl_tls_conn *c, enum sl_tls_failure f)
{
	if (f != SL_TLS_F_PROTOCOL && f != SL_TLS_F_OTHER &&
	    f != SL_TLS_F_CLOSED)
		return f;
	if (c->cert_asked && !c->cert_sent)
		return SL_TLS_F_CLIENT_CERT;
	if (f != SL_TLS_F_PROTOCOL && c->done && !c->got_data && c->cert_sent)
		return SL_TLS_F_CLIENT_REJECTED;
	return f;
}

/* A system error, or the peer closing without close_notify. */
static enum sl_io
syscall_outcome(struct sl_transport *t, const char *what, int saved)
{
	struct sl_tls_conn *c = t->impl;

	c->fatal = 1;
	if (saved == 0) {
		if (c->done)
			return SL_IO_EOF;
		return fail(t, what, refine(c, SL_TLS_F_CLOSED),
		    "end of file");
	}
	return fail(t, what, refine(c, saved == ECONNRESET || saved == EPIPE ?
	    SL_TLS_F_CLOSED : SL_TLS_F_OTHER), strerror(saved));
}

/* The outcome of an SSL call that returned rc: WANT_*, EOF, or an error
 * set in t->err.  errno is the one the call left. */
static enum sl_io
outcome(struct sl_transport *t, int rc, const char *what)
{
	struct sl_tls_conn	*c = t->impl;
	int			 saved = errno, reason;
	long			 verify = X509_V_OK;
	char			 text[200], detail[300];

	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return SL_IO_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return SL_IO_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:	/* close_notify */
		if (c->done)
			return SL_IO_EOF;
		return fail(t, what, refine(c, SL_TLS_F_CLOSED),
		    "close_notify");
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0)
			return syscall_outcome(t, what, saved);
		break;
	}
	c->fatal = 1;
	reason = ossl_text(text, sizeof(text));
	if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING && c->done)
		return SL_IO_EOF;
	if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && c->verify)
		verify = SSL_get_verify_result(c->ssl);
	if (verify != X509_V_OK)
		snprintf(detail, sizeof(detail), "%s (%s)", text,
		    X509_verify_cert_error_string(verify));
	else
		snprintf(detail, sizeof(detail), "%s", text);
	return fail(t, what, refine(c, sl_tls_classify(verify, reason, 0)),
	    detail);
}

static enum sl_io
tls_handshake(struct sl_transport *t)
{
	struct sl_tls_conn	*c = t->impl;
	int			 rc;

	if (c->done)
		return SL_IO_OK;
	ERR_clear_error();
	errno = 0;
	if ((rc = SSL_connect(c->ssl)) == 1) {
		c->done = 1;
		return SL_IO_OK;
	}
	return outcome(t, rc, "handshake");
}

/* What OpenSSL already decrypted is drained into buf too: it is not on the
 * socket any more, and a poll for POLLIN would wait for it in vain. */
static enum sl_io
tls_read(struct sl_transport *t, void *buf, size_t len, size_t *n)
{
	struct sl_tls_conn	*c = t->impl;
	size_t			 got = 0, more;

	*n = 0;
	if (len == 0)
		return SL_IO_OK;
	ERR_clear_error();
	errno = 0;
	if (SSL_read_ex(c->ssl, buf, len, &got) != 1)
		return outcome(t, 0, "read");
	while (got < len && SSL_pending(c->ssl) > 0) {
		if (SSL_read_ex(c->ssl, (char *)buf + got, len - got,
		    &more) != 1) {
			/* Told by the next call. */
			ERR_clear_error();
			break;
		}
		got += more;
	}
	*n = got;
	c->got_data = 1;
	return SL_IO_OK;
}

/* After SL_IO_WANT_*, call again with the same bytes (OpenSSL's rule); the
 * buffer may have moved. */
static enum sl_io
tls_write(struct sl_transport *t, const void *buf, size_t len, size_t *n)
{
	struct sl_tls_conn	*c = t->impl;
	size_t			 done = 0;

	*n = 0;
	if (len == 0)
		return SL_IO_OK;
	ERR_clear_error();
	errno = 0;
	if (SSL_write_ex(c->ssl, buf, len, &done) != 1)
		return outcome(t, 0, "write");
	*n = done;
	return SL_IO_OK;
}

static void
tls_close(struct sl_transport *t)
{
	struct sl_tls_conn *c = t->impl;

	if (c != NULL) {
		/* One non-blocking close_notify, without waiting for the
		 * peer's: the socket is closed right after. */
		if (c->done && !c->fatal)
			(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		sl_free(c);
		ERR_clear_error();
	}
	if (t->fd != -1)
		close(t->fd);
	t->fd = -1;
	t->impl = NULL;
}

const struct sl_transport_ops sl_tls_ops = {
	"tls", tls_handshake, tls_read, tls_write, tls_close
};

/* The socket BIO writes with write(2): a peer gone raises SIGPIPE, which
 * would kill a process that does not ignore it (streamlag get).  This one
 * is the socket BIO with send(2) and MSG_NOSIGNAL instead; made once, kept
 * for the life of the process. */
static BIO_METHOD *nosig_method;
/* Targets are probed from threads of their own (probe.h): the first two
 * TLS connections may come at once. */
static pthread_mutex_t nosig_lock = PTHREAD_MUTEX_INITIALIZER;

static int
nosig_write(BIO *b, const char *buf, int len)
{
	ssize_t	n;
	int	fd = -1;

	BIO_get_fd(b, &fd);
	errno = 0;
	n = send(fd, buf, (size_t)len, MSG_NOSIGNAL);
	BIO_clear_retry_flags(b);
	if (n <= 0 && BIO_sock_should_retry((int)n))
		BIO_set_retry_write(b);
	return (int)n;
}

static BIO *
nosig_bio(int fd)
{
	const BIO_METHOD	*s = BIO_s_socket();
	BIO_METHOD		*m;
	BIO			*b;

	pthread_mutex_lock(&nosig_lock);
	if (nosig_method == NULL) {
		if ((m = BIO_meth_new(BIO_TYPE_SOCKET, "streamlag socket")) ==
		    NULL) {
			pthread_mutex_unlock(&nosig_lock);
			return NULL;
		}
		if (BIO_meth_set_write(m, nosig_write) != 1 ||
		    BIO_meth_set_read(m, BIO_meth_get_read(s)) != 1 ||
		    BIO_meth_set_puts(m, BIO_meth_get_puts(s)) != 1 ||
		    BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(s)) != 1 ||
		    BIO_meth_set_create(m, BIO_meth_get_create(s)) != 1 ||
		    BIO_meth_set_destroy(m, BIO_meth_get_destroy(s)) != 1) {
			BIO_meth_free(m);
			pthread_mutex_unlock(&nosig_lock);
			return NULL;
		}
		nosig_method = m;
	}
	pthread_mutex_unlock(&nosig_lock);
	if ((b = BIO_new(nosig_method)) != NULL)
		BIO_set_fd(b, fd, BIO_NOCLOSE);
	return b;
}

/* SNI for a name, and the name or IP the certificate must carry. */
static enum sl_err
set_peer_name(SSL *ssl, const struct sl_tls_conn *c, struct sl_error *e)
{
	X509_VERIFY_PARAM	*p = SSL_get0_param(ssl);
	int			 ip = c->name_is_ip;

	if (!ip && SSL_set_tlsext_host_name(ssl, c->name) != 1)
		return ossl_err(e, SL_EINPUT, "SNI");
	if (!c->verify)
		return SL_OK;
	X509_VERIFY_PARAM_set_hostflags(p, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if ((ip ? X509_VERIFY_PARAM_set1_ip_asc(p, c->name) :
	    X509_VERIFY_PARAM_set1_host(p, c->name, 0)) != 1)
		return ossl_err(e, SL_EINPUT, "the name to check");
	return SL_OK;
}

enum sl_err
sl_tls_attach(struct sl_transport *t, struct sl_tls_ctx *ctx,
    const char *host, int host_is_ip, struct sl_error *e)
{
	struct sl_tls_conn	*c;
	const char		*name = ctx->cfg.server_name;
	BIO			*bio;
	enum sl_err		 rc;

	if (host == NULL || *host == '\0' || strlen(host) > SL_TLS_NAME_MAX)
		return sl_seterr(e, SL_EINPUT, "TLS: no usable host name");
	if ((c = sl_calloc(1, sizeof(*c))) == NULL)
		return sl_seterr(e, SL_ENOMEM, NULL);
	snprintf(c->host, sizeof(c->host), "%s", host);
	snprintf(c->name, sizeof(c->name), "%s", name ? name : host);
	/* An IP literal the caller took for a name is still an IP. */
	c->name_is_ip = name ? is_ip(name) : host_is_ip || is_ip(host);
	c->verify = ctx->cfg.verify;
	c->cert_sent = ctx->cfg.cert_file != NULL;
	ERR_clear_error();
	if ((c->ssl = SSL_new(ctx->ssl_ctx)) == NULL) {
		sl_free(c);
		return ossl_err(e, SL_ENOMEM, "SSL_new");
	}
	if ((bio = nosig_bio(t->fd)) == NULL) {
		rc = ossl_err(e, SL_ENOMEM, "BIO_new");
		goto bad;
	}
	SSL_set_bio(c->ssl, bio, bio);
	if ((rc = set_peer_name(c->ssl, c, e)) != SL_OK)
		goto bad;
	SSL_set_connect_state(c->ssl);
	SSL_set_app_data(c->ssl, c);
	t->ops = &sl_tls_ops;
	t->impl = c;
	sl_error_clear(&t->err);
	return SL_OK;
bad:
	SSL_free(c->ssl);
	sl_free(c);
	return rc;
}

size_t
sl_tls_pending(const struct sl_transport *t)
{
	const struct sl_tls_conn *c = t->impl;
	int n;

	if (t->ops != &sl_tls_ops || c == NULL)
		return 0;
	n = SSL_pending(c->ssl);
	return n > 0 ? (size_t)n : 0;
}

enum sl_err
sl_tls_handshake_timeout(struct sl_transport *t, long ms)
{
	struct sl_tls_conn	*c = t->impl;
	char			 detail[160];

	if (t->ops != &sl_tls_ops || c == NULL)
		return sl_seterr(&t->err, SL_EREDIS, "TLS handshake: %s",
		    sl_tls_failure_words(SL_TLS_F_TIMEOUT));
	/* A plaintext Redis never answers a ClientHello: it reads an inline
	 * command up to a newline with strchr(), which stops at the NUL of
	 * the record's length, so it waits for more. */
	if (BIO_number_read(SSL_get_rbio(c->ssl)) == 0)
		snprintf(detail, sizeof(detail), "no answer to the TLS hello "
		    "in %ld ms, as from a plaintext server (Redis without TLS "
		    "waits for the end of a command)", ms);
	else
		snprintf(detail, sizeof(detail), "not finished within %ld ms",
		    ms);
	fail(t, "handshake", SL_TLS_F_TIMEOUT, detail);
	return SL_EREDIS;
}

static void
name_text(X509_NAME *n, char *buf, size_t len)
{
	BIO	*b = BIO_new(BIO_s_mem());
	int	 k = 0;

	buf[0] = '\0';
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0 &&
	    (k = BIO_read(b, buf, (int)len - 1)) > 0)
		buf[k] = '\0';
	BIO_free(b);
}

static void
cert_text(X509 *x, struct sl_tls_peer *p)
{
	BIGNUM		*bn;
	char		*hex;
	struct tm	 tm;

	name_text(X509_get_subject_name(x), p->subject, sizeof(p->subject));
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) != NULL &&
	    (hex = BN_bn2hex(bn)) != NULL) {
		snprintf(p->serial, sizeof(p->serial), "%s", hex);
		OPENSSL_free(hex);
	}
	BN_free(bn);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
		strftime(p->not_after, sizeof(p->not_after),
		    "%Y-%m-%dT%H:%M:%SZ", &tm);
}

enum sl_err
sl_tls_peer_info(const struct sl_transport *t, struct sl_tls_peer *p,
    struct sl_error *e)
{
	const struct sl_tls_conn	*c = t->impl;
	X509				*x;

	memset(p, 0, sizeof(*p));
	if (t->ops != &sl_tls_ops || c == NULL || !c->done)
		return sl_seterr(e, SL_EINPUT, "not a TLS connection");
	snprintf(p->protocol, sizeof(p->protocol), "%s",
	    SSL_get_version(c->ssl));
	snprintf(p->cipher, sizeof(p->cipher), "%s",
	    SSL_get_cipher_name(c->ssl));
	if ((x = SSL_get1_peer_certificate(c->ssl)) == NULL)
		return sl_seterr(e, SL_EINPUT, "no peer certificate");
	cert_text(x, p);
	X509_free(x);
	ERR_clear_error();
	return SL_OK;
}
