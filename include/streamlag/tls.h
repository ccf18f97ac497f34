/* SPDX-License-Identifier: ISC */
/* TLS to Redis nodes (rediss://) with OpenSSL, as a struct sl_transport
 * (transport.h): one context (struct sl_tls_ctx) per configuration, built
 * at start and rebuilt on SIGHUP; one TLS session per connection, living as
 * long as the connection.  hiredis's reader still parses what read()
 * returns.
 *
 * Which name a node's certificate must carry:
 *   - server_name set: that name, for every node (by name or by IP);
 *   - else a node addressed by name: that name (DNS SAN or CN rules of
 *     X509_check_host, no partial wildcards);
 *   - else a node addressed by IP (cluster nodes, as CLUSTER SLOTS gives
 *     them): that IP, as an IP SAN.
 * SNI carries the checked name, and is not sent for an IP. */
#ifndef STREAMLAG_TLS_H
#define STREAMLAG_TLS_H

#include <sys/types.h>

#include <stddef.h>

#include "streamlag/err.h"
#include "streamlag/transport.h"

/* The defaults: TLS 1.2 and 1.3; for TLS 1.2, forward-secret AEAD suites
 * only (TLS 1.3's suites are OpenSSL's, all AEAD). */
#define SL_TLS_DEFAULT_PROTOCOLS	"TLSv1.2 TLSv1.3"
#define SL_TLS_DEFAULT_CIPHERS		"ECDHE+AESGCM:ECDHE+CHACHA20"
/* A server name longer than a DNS name can be is refused. */
#define SL_TLS_NAME_MAX			253

/* STREAMLAG_REDIS_TLS_*.  Strings are borrowed: sl_tls_ctx_new copies
 * them.  A NULL string takes the default. */
struct sl_tls_config {
	const char	*ca_file;	/* PEM bundle of trusted CAs */
	const char	*ca_dir;	/* c_rehash'ed directory; with neither,
					 * the system store */
	const char	*server_name;	/* checked instead of the URL's host */
	const char	*cert_file;	/* client certificate (chain), PEM */
	const char	*key_file;	/* its key, PEM, mode 0600 or stricter */
	const char	*protocols;	/* "TLSv1.2 TLSv1.3": a space- or
					 * comma-separated list */
	const char	*ciphers;	/* OpenSSL cipher list, TLS 1.2 */
	int		 verify;	/* 0: no certificate check (tests) */
};

/* What went wrong in a handshake, in words an operator acts on. */
enum sl_tls_failure {
	SL_TLS_F_OTHER,		/* "TLS failure" */
	SL_TLS_F_EXPIRED,	/* "expired certificate" */
	SL_TLS_F_NOT_YET_VALID,	/* "certificate not yet valid" */
	SL_TLS_F_UNKNOWN_CA,	/* "unknown CA" */
	SL_TLS_F_HOSTNAME,	/* "host-name mismatch" */
	SL_TLS_F_VERIFY,	/* "certificate rejected" */
	SL_TLS_F_TIMEOUT,	/* "handshake timeout" */
	SL_TLS_F_PLAINTEXT,	/* "plaintext server" */
	SL_TLS_F_CLOSED,	/* "connection closed during the handshake" */
	SL_TLS_F_CLIENT_CERT,	/* "client certificate required" */
	SL_TLS_F_CLIENT_REJECTED, /* "client certificate rejected" */
	SL_TLS_F_PROTOCOL	/* "no common protocol or cipher" */
};

struct sl_tls_ctx;

/* Defaults: verify on, every string NULL. */
void		 sl_tls_config_init(struct sl_tls_config *c);
/* Checks what needs no file: a certificate needs its key and the other way
 * round, a server name is a plausible host name, protocols parse.  SL_EINPUT
 * with the setting's name. */
enum sl_err	 sl_tls_config_check(const struct sl_tls_config *c,
		    struct sl_error *e);
/* "TLSv1.2 TLSv1.3" -> *min, *max as TLS1_2_VERSION...; NULL or "" is the
 * default.  Anything below TLS 1.2 is refused. */
enum sl_err	 sl_tls_parse_protocols(const char *s, int *min, int *max,
		    struct sl_error *e);
/* The key file is a regular file with no permission for its group or
 * others (0600, 0400): SL_EINPUT naming the mode otherwise; SL_ESYS when it
 * cannot be stat(2)ed.  sl_tls_ctx_new and sl_tls_ctx_reload call it too. */
enum sl_err	 sl_tls_key_file_check(const char *path, struct sl_error *e);

/* Loads CA, certificate and key, sets protocols and ciphers: NULL with e
 * set (SL_EINPUT for a setting or a file OpenSSL refuses, SL_ESYS for a key
 * file that cannot be stat(2)ed, SL_ENOMEM).  The context keeps a copy of c
 * for sl_tls_ctx_reload. */
struct sl_tls_ctx *sl_tls_ctx_new(const struct sl_tls_config *c,
		    struct sl_error *e);
/* SIGHUP: builds a new context from the same settings, re-reading the CA,
 * certificate and key files.  On success connections made from now on use
 * it (open ones keep theirs); on failure the old context stays and e says
 * why. */
enum sl_err	 sl_tls_ctx_reload(struct sl_tls_ctx *ctx, struct sl_error *e);
/* Whether certificates are checked (0 only with verify off: warn). */
int		 sl_tls_ctx_verifies(const struct sl_tls_ctx *ctx);
void		 sl_tls_ctx_free(struct sl_tls_ctx *ctx);

/* Makes t, whose fd is a connected non-blocking socket, a TLS transport
 * towards host (the URL's host, or the node's address; host_is_ip when it
 * is an IPv4/IPv6 literal): t->ops becomes sl_tls_ops and t->impl the
 * session.  Then call t->ops->handshake until SL_IO_OK, polling for what
 * it wants.  On failure t is unchanged and the caller still owns the fd. */
enum sl_err	 sl_tls_attach(struct sl_transport *t, struct sl_tls_ctx *ctx,
		    const char *host, int host_is_ip, struct sl_error *e);
extern const struct sl_transport_ops sl_tls_ops;

/* Bytes OpenSSL has decrypted and read() has not returned yet: read() drains
 * them into the caller's buffer, so this is nonzero only after a read that
 * filled the whole buffer.  Call read again, not poll, while it is nonzero.
 * 0 for a transport that is not TLS. */
size_t		 sl_tls_pending(const struct sl_transport *t);

/* The caller's deadline passed with the handshake unfinished: sets t->err
 * (SL_EREDIS, "handshake timeout: ...") and returns SL_EREDIS. */
enum sl_err	 sl_tls_handshake_timeout(struct sl_transport *t, long ms);

/* What a finished handshake agreed on, for `streamlag check` and tests. */
struct sl_tls_peer {
	char	protocol[16];	/* "TLSv1.3" */
	char	cipher[64];	/* "TLS_AES_256_GCM_SHA384" */
	char	subject[256];	/* RFC 2253: "CN=redis" */
	char	serial[64];	/* hex, as `openssl x509 -serial`: "1001" */
	char	not_after[32];	/* "2027-11-30T16:16:00Z" */
};
/* SL_EINPUT when t is not TLS or has no peer certificate yet. */
enum sl_err	 sl_tls_peer_info(const struct sl_transport *t,
		    struct sl_tls_peer *p, struct sl_error *e);

/* The words for a failure and the classification of one: verify is
 * SSL_get_verify_result()'s (X509_V_OK when it did not fail), reason the
 * ERR_GET_REASON of OpenSSL's first error (0: none), eof the peer closing
 * before the handshake ended. */
const char	*sl_tls_failure_words(enum sl_tls_failure f);
enum sl_tls_failure sl_tls_classify(long verify, int reason, int eof);

#endif
