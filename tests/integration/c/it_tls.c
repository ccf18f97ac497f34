/* SPDX-License-Identifier: ISC */
/* The TLS transport (tls.h) against a real redis-server: a non-blocking
 * socket, a handshake driven by poll(2) against a deadline, PING or the -m
 * command (after AUTH when given, then an ECHO of a large value when asked),
 * replies parsed by hiredis's reader.  Prints one line per connection:
 *	REPLY... serial=SERIAL PROTOCOL		(exit 0)
 *	ERR: the transport's reason		(exit 1)
 * With -r CMD: a connection, then CMD (which rotates files on disk), then
 * "reload: ok" or "reload: reason", then a second connection.
 *
 * it_tls -p PORT [-H host] [-i] [-c ca_file] [-C ca_dir] [-n server_name]
 *	[-e cert_file -k key_file] [-P protocols] [-x ciphers] [-V]
 *	[-a "user pass"] [-m command] [-b echo_bytes] [-t timeout_ms] [-r cmd] */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "streamlag/reply.h"
#include "streamlag/tls.h"

struct opts {
	struct sl_tls_config	 tls;
	int			 port, host_is_ip;
	const char		*host, *auth, *rotate, *cmd;
	long			 echo, timeout_ms;
};

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* 1 when fd is ready for events before the deadline, 0 when it passed. */
static int
wait_fd(int fd, short events, long deadline)
{
	struct pollfd	pfd = { fd, events, 0 };
	long		left;
	int		rc;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0)
			return 0;
		rc = poll(&pfd, 1, (int)left);
		if (rc > 0)
			return 1;
		if (rc == -1 && errno != EINTR)
			return 0;
	}
}

/* A non-blocking TCP connection to 127.0.0.1:port, or -1. */
static int
connect_fd(int port, long deadline)
{
	struct sockaddr_in	sin;
	int			fd, err = 0;
	socklen_t		len = sizeof(err);

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    (errno != EINPROGRESS || !wait_fd(fd, POLLOUT, deadline) ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
handshake(struct sl_transport *t, long deadline, long ms)
{
	enum sl_io io;

	while ((io = t->ops->handshake(t)) != SL_IO_OK) {
		if (io != SL_IO_WANT_READ && io != SL_IO_WANT_WRITE)
			return -1;
		if (!wait_fd(t->fd, io == SL_IO_WANT_READ ? POLLIN : POLLOUT,
		    deadline)) {
			sl_tls_handshake_timeout(t, ms);
			return -1;
		}
	}
	return 0;
}

static int
send_all(struct sl_transport *t, const char *buf, size_t len, long deadline)
{
	enum sl_io	io;
	size_t		n;

	while (len > 0) {
		io = t->ops->write(t, buf, len, &n);
		if (io == SL_IO_OK) {
			buf += n;
			len -= n;
		} else if (io == SL_IO_ERR || io == SL_IO_EOF ||
		    !wait_fd(t->fd, io == SL_IO_WANT_READ ? POLLIN : POLLOUT,
		    deadline)) {
			if (io != SL_IO_ERR)
				snprintf(t->err.str, sizeof(t->err.str),
				    "write: %s", io == SL_IO_EOF ? "closed" :
				    "timeout");
			return -1;
		}
	}
	return 0;
}

/* The next reply: read in small pieces, polling only when OpenSSL holds
 * nothing decrypted (sl_tls_pending), as an executor must. */
static redisReply *
recv_reply(struct sl_transport *t, redisReader *r, long deadline)
{
	char		 buf[1000];
	void		*reply = NULL;
	enum sl_io	 io;
	size_t		 n;

	while (redisReaderGetReply(r, &reply) == REDIS_OK && reply == NULL) {
		io = t->ops->read(t, buf, sizeof(buf), &n);
		if (io == SL_IO_OK) {
			redisReaderFeed(r, buf, n);
			continue;
		}
		if (io == SL_IO_ERR)
			return NULL;
		if (io == SL_IO_EOF || sl_tls_pending(t) > 0 ||
		    !wait_fd(t->fd, io == SL_IO_WANT_READ ? POLLIN : POLLOUT,
		    deadline)) {
			snprintf(t->err.str, sizeof(t->err.str), "read: %s",
			    io == SL_IO_EOF ? "closed by the server" :
			    "timeout (or data left in OpenSSL)");
			return NULL;
		}
	}
	return reply;
}

/* Sends cmd, appends the reply's words to out; 0 or -1. */
static int
command(struct sl_transport *t, redisReader *r, char *cmd, int len,
    long deadline, char *out, size_t outlen)
{
	redisReply	*rep;
	size_t		 used = strlen(out);

	if (len < 0 || send_all(t, cmd, (size_t)len, deadline) == -1 ||
	    (rep = recv_reply(t, r, deadline)) == NULL) {
		free(cmd);
		return -1;
	}
	free(cmd);
	if (rep->type == REDIS_REPLY_STRING && rep->len > 64)
		snprintf(out + used, outlen - used, "%sECHO %zu",
		    used ? " " : "", rep->len);
	else
		snprintf(out + used, outlen - used, "%s%s", used ? " " : "",
		    rep->str ? rep->str : "?");
	sl_reply_free(rep);
	return 0;
}

static int
commands(struct sl_transport *t, const struct opts *o, long deadline,
    char *out, size_t outlen)
{
	redisReader	*r = redisReaderCreate();
	char		*cmd, user[128], pass[128], *big;
	int		 rc = 0, len;

	if (o->auth != NULL && sscanf(o->auth, "%127s %127s", user, pass) == 2) {
		len = redisFormatCommand(&cmd, "AUTH %s %s", user, pass);
		rc = command(t, r, cmd, len, deadline, out, outlen);
	}
	if (rc == 0) {
		len = redisFormatCommand(&cmd, o->cmd);
		rc = command(t, r, cmd, len, deadline, out, outlen);
	}
	if (rc == 0 && o->echo > 0 && (big = malloc((size_t)o->echo)) != NULL) {
		memset(big, 'x', (size_t)o->echo);
		len = redisFormatCommand(&cmd, "ECHO %b", big, (size_t)o->echo);
		free(big);
		rc = command(t, r, cmd, len, deadline, out, outlen);
	}
	redisReaderFree(r);
	return rc;
}

static int
session(struct sl_tls_ctx *ctx, const struct opts *o)
{
	struct sl_transport	t;
	struct sl_tls_peer	p;
	struct sl_error		e;
	long			deadline = now_ms() + o->timeout_ms;
	char			out[256] = "";
	int			fd, rc = -1;

	memset(&t, 0, sizeof(t));
	if ((fd = connect_fd(o->port, deadline)) == -1) {
		printf("ERR: connect: %s\n", strerror(errno));
		return -1;
	}
	t.fd = fd;
	if (sl_tls_attach(&t, ctx, o->host, o->host_is_ip, &e) != SL_OK) {
		printf("ERR: %s\n", e.str);
		close(fd);
		return -1;
	}
	if (handshake(&t, deadline, o->timeout_ms) == 0 &&
	    commands(&t, o, deadline, out, sizeof(out)) == 0 &&
	    sl_tls_peer_info(&t, &p, &e) == SL_OK) {
		printf("%s serial=%s %s\n", out, p.serial, p.protocol);
		fprintf(stderr, "# %s %s subject=%s notAfter=%s\n", p.protocol,
		    p.cipher, p.subject, p.not_after);
		rc = 0;
	} else
		printf("ERR: %s\n", t.err.str);
	t.ops->close(&t);
	return rc;
}

static void
parse(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	sl_tls_config_init(&o->tls);
	o->host = "127.0.0.1";
	o->timeout_ms = 3000;
	o->cmd = "PING";
	while ((c = getopt(argc, argv, "p:H:ic:C:n:e:k:P:x:Va:b:t:r:m:")) != -1)
		switch (c) {
		case 'p': o->port = atoi(optarg); break;
		case 'H': o->host = optarg; break;
		case 'i': o->host_is_ip = 1; break;
		case 'c': o->tls.ca_file = optarg; break;
		case 'C': o->tls.ca_dir = optarg; break;
		case 'n': o->tls.server_name = optarg; break;
		case 'e': o->tls.cert_file = optarg; break;
		case 'k': o->tls.key_file = optarg; break;
		case 'P': o->tls.protocols = optarg; break;
		case 'x': o->tls.ciphers = optarg; break;
		case 'V': o->tls.verify = 0; break;
		case 'a': o->auth = optarg; break;
		case 'b': o->echo = atol(optarg); break;
		case 't': o->timeout_ms = atol(optarg); break;
		case 'r': o->rotate = optarg; break;
		case 'm': o->cmd = optarg; break;
		default: exit(2);
		}
}

int
main(int argc, char **argv)
{
	struct opts		 o;
	struct sl_tls_ctx	*ctx;
	struct sl_error		 e;
	int			 rc;

	parse(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((ctx = sl_tls_ctx_new(&o.tls, &e)) == NULL) {
		printf("ERR: %s\n", e.str);
		return 1;
	}
	rc = session(ctx, &o);
	if (o.rotate != NULL) {
		if (system(o.rotate) != 0)
			printf("rotate: the command failed\n");
		if (sl_tls_ctx_reload(ctx, &e) == SL_OK)
			printf("reload: ok\n");
		else
			printf("reload: %s\n", e.str);
		rc = session(ctx, &o);
	}
	sl_tls_ctx_free(ctx);
	return rc == 0 ? 0 : 1;
}
