/* SPDX-License-Identifier: ISC */
/* `streamlag check` over rediss://: the check's own connection, through
 * the TLS transport (tls.h) instead of a hiredis context, so that connect,
 * TLS, AUTH and SELECT each get their line as they do over plain TCP.  The
 * calls wait (poll) up to STREAMLAG_REDIS_TIMEOUT_MS each: a check is one
 * operator at a terminal, not a server.  hiredis's reader parses the
 * replies, as in the server. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <hiredis/hiredis.h>

#include "streamlag/alloc.h"
#include "streamlag/check.h"
#include "streamlag/resp.h"
#include "streamlag/tls.h"

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for what io wants, or the deadline: 0, or -1
 * with cc->err set. */
static int
wait_for(struct sl_check_conn *cc, enum sl_io io, long long deadline)
{
	struct pollfd	 p = { cc->t.fd, io == SL_IO_WANT_WRITE ? POLLOUT :
			    POLLIN, 0 };
	long long	 left;
	int		 rc;

	do {
		if ((left = deadline - mono_ms()) <= 0) {
			snprintf(cc->err, sizeof(cc->err), "timed out after "
			    "%d ms", cc->timeout_ms);
			return -1;
		}
		rc = poll(&p, 1, (int)left);
	} while (rc == -1 && errno == EINTR);
	if (rc == -1) {
		snprintf(cc->err, sizeof(cc->err), "poll: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
do_connect(struct sl_check_conn *cc, const struct sl_redis_addr *a)
{
	long long	 deadline = mono_ms() + cc->timeout_ms;
	enum sl_io	 io;

	io = sl_transport_connect_tcp(&cc->t, a->host, a->port, NULL);
	while (io == SL_IO_WANT_WRITE) {
		if (wait_for(cc, io, deadline) == -1)
			return -1;
		io = sl_transport_connected(&cc->t);
	}
	if (io != SL_IO_OK) {
		snprintf(cc->err, sizeof(cc->err), "%s", cc->t.err.str);
		return -1;
	}
	return 0;
}

static int
do_handshake(struct sl_check_conn *cc, const struct sl_redis_addr *a)
{
	long long	 deadline = mono_ms() + cc->timeout_ms;
	unsigned char	 ip[16];
	struct sl_error	 e;
	enum sl_io	 io;
	int		 is_ip;

	is_ip = inet_pton(AF_INET, a->host, ip) == 1 ||
	    inet_pton(AF_INET6, a->host, ip) == 1;
	if (sl_tls_attach(&cc->t, a->tls_ctx, a->host, is_ip, &e) != SL_OK) {
		snprintf(cc->err, sizeof(cc->err), "%s", e.str);
		return -1;
	}
	while ((io = cc->t.ops->handshake(&cc->t)) == SL_IO_WANT_READ ||
	    io == SL_IO_WANT_WRITE)
		if (mono_ms() >= deadline || wait_for(cc, io, deadline) == -1) {
			sl_tls_handshake_timeout(&cc->t, cc->timeout_ms);
			io = SL_IO_ERR;
			break;
		}
	if (io != SL_IO_OK) {
		snprintf(cc->err, sizeof(cc->err), "%s", io == SL_IO_EOF ?
		    "connection closed by the server" : cc->t.err.str);
		return -1;
	}
	return 0;
}

/* The negotiated session as the TLS line shows it. */
static void
tls_line(struct sl_check_conn *cc, const struct sl_config *cfg,
    struct sl_checks *out)
{
	struct sl_tls_peer	 p;
	struct sl_error		 e;
	const char		*checked = cfg->tls_server_name != NULL ?
				    cfg->tls_server_name : cfg->redis.host;

	if (sl_tls_peer_info(&cc->t, &p, &e) != SL_OK) {
		sl_checks_addf(out, "tls", "TLS", SL_CHECK_OK, NULL, "%s",
		    e.str);
		return;
	}
	sl_checks_addf(out, "tls", "TLS", SL_CHECK_OK, NULL, "%s %s; "
	    "certificate %s, serial %s, expires %s; %s%s", p.protocol, p.cipher,
	    p.subject, p.serial, p.not_after,
	    sl_tls_ctx_verifies(cfg->redis.tls_ctx) ? "verified for " :
	    "NOT VERIFIED (STREAMLAG_REDIS_TLS_VERIFY=false)",
	    sl_tls_ctx_verifies(cfg->redis.tls_ctx) ? checked : "");
}

int
sl_check_tls_open(struct sl_check_conn *cc, const struct sl_config *cfg,
    struct sl_checks *out, const char *where)
{
	long long t0 = mono_ms();

	memset(cc, 0, sizeof(*cc));
	sl_transport_init(&cc->t);
	cc->timeout_ms = cfg->redis_timeout_ms;
	if ((cc->reader = redisReaderCreate()) == NULL) {
		sl_checks_add(out, "connect", "TCP connect", SL_CHECK_FAIL,
		    "out of memory", NULL);
		return -1;
	}
	if (do_connect(cc, &cfg->redis) == -1) {
		sl_checks_addf(out, "connect", "TCP connect", SL_CHECK_FAIL,
		    "is Redis running and listening there (bind, port, "
		    "firewall)?", "%s: %s", where, cc->err);
		return -1;
	}
	sl_checks_addf(out, "connect", "TCP connect", SL_CHECK_OK, NULL,
	    "%s in %lld ms", where, mono_ms() - t0);
	if (do_handshake(cc, &cfg->redis) == -1) {
		sl_checks_addf(out, "tls", "TLS", SL_CHECK_FAIL, "check "
		    "STREAMLAG_REDIS_TLS_CA_FILE (the CA that signed Redis's "
		    "certificate), STREAMLAG_REDIS_TLS_SERVER_NAME, and that the "
		    "port is Redis's tls-port", "%s", cc->err);
		return -2;
	}
	tls_line(cc, cfg, out);
	return 0;
}

/* Writes all of buf, waiting as the transport asks. */
static int
send_all(struct sl_check_conn *cc, const char *buf, size_t len,
    long long deadline)
{
	enum sl_io	 io;
	size_t		 off = 0, k;

	while (off < len) {
		io = cc->t.ops->write(&cc->t, buf + off, len - off, &k);
		if (io == SL_IO_OK)
			off += k;
		else if (io == SL_IO_WANT_READ || io == SL_IO_WANT_WRITE) {
			if (wait_for(cc, io, deadline) == -1)
				return -1;
		} else {
			snprintf(cc->err, sizeof(cc->err), "%s", io == SL_IO_EOF ?
			    "connection closed by the server" : cc->t.err.str);
			return -1;
		}
	}
	return 0;
}

/* Reads until the reader holds one reply.  Bytes TLS decrypted beyond
 * what one read returns are read before any poll (sl_tls_pending). */
static redisReply *
recv_one(struct sl_check_conn *cc, long long deadline)
{
	char		 buf[16384];
	void		*r = NULL;
	enum sl_io	 io;
	size_t		 k;

	for (;;) {
		if (redisReaderGetReply(cc->reader, &r) != REDIS_OK) {
			snprintf(cc->err, sizeof(cc->err), "%s",
			    cc->reader->errstr);
			return NULL;
		}
		if (r != NULL)
			return r;
		io = cc->t.ops->read(&cc->t, buf, sizeof(buf), &k);
		if (io == SL_IO_OK) {
			if (redisReaderFeed(cc->reader, buf, k) != REDIS_OK) {
				snprintf(cc->err, sizeof(cc->err), "out of memory");
				return NULL;
			}
			continue;
		}
		if (io == SL_IO_WANT_READ || io == SL_IO_WANT_WRITE) {
			if (sl_tls_pending(&cc->t) == 0 &&
			    wait_for(cc, io, deadline) == -1)
				return NULL;
			continue;
		}
		snprintf(cc->err, sizeof(cc->err), "%s", io == SL_IO_EOF ?
		    "connection closed by the server" : cc->t.err.str);
		return NULL;
	}
}

redisReply *
sl_check_tls_command(struct sl_check_conn *cc, int argc, const char **argv)
{
	size_t		 lens[16], len;
	char		*buf;
	redisReply	*r = NULL;
	long long	 deadline = mono_ms() + cc->timeout_ms;

	if (argc < 1 || argc > 16) {
		snprintf(cc->err, sizeof(cc->err), "%d arguments: 1 to 16 "
		    "expected", argc);
		return NULL;
	}
	if (cc->t.fd == -1 || cc->err[0] != '\0')
		goto fail;
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	if ((buf = sl_resp_format(argc, argv, lens, &len)) == NULL) {
		snprintf(cc->err, sizeof(cc->err), "out of memory");
		return NULL;
	}
	if (send_all(cc, buf, len, deadline) == 0)
		r = recv_one(cc, deadline);
	sl_free(buf);
	return r;
fail:
	if (cc->err[0] == '\0')
		snprintf(cc->err, sizeof(cc->err), "no connection");
	return NULL;
}

void
sl_check_tls_close(struct sl_check_conn *cc)
{
	sl_transport_close(&cc->t);
	if (cc->reader != NULL)
		redisReaderFree(cc->reader);
	cc->reader = NULL;
}
