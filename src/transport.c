/* SPDX-License-Identifier: ISC */
/* Plain TCP and unix-socket transports (transport.h): non-blocking
 * sockets, TCP_NODELAY (a pipeline is written at once and waits for no
 * more bytes), keep-alive, and the system's words for every failure. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "streamlag/transport.h"

static enum sl_io
fail(struct sl_transport *t, struct sl_error *err, int err_no)
{
	errno = err_no;
	sl_seterr(&t->err, SL_ESYS, NULL);
	if (err != NULL)
		*err = t->err;
	return SL_IO_ERR;
}

static enum sl_io
plain_handshake(struct sl_transport *t)
{
	(void)t;
	return SL_IO_OK;
}

static enum sl_io
plain_read(struct sl_transport *t, void *buf, size_t len, size_t *n)
{
	ssize_t	r;

	*n = 0;
	do
		r = read(t->fd, buf, len);
	while (r == -1 && errno == EINTR);
	if (r > 0) {
		*n = (size_t)r;
		return SL_IO_OK;
	}
	if (r == 0)
		return SL_IO_EOF;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return SL_IO_WANT_READ;
	return fail(t, NULL, errno);
}

static enum sl_io
plain_write(struct sl_transport *t, const void *buf, size_t len, size_t *n)
{
	ssize_t	w;

	*n = 0;
	/* MSG_NOSIGNAL: a closed peer is an EPIPE here, not a SIGPIPE. */
	do
		w = send(t->fd, buf, len, MSG_NOSIGNAL);
	while (w == -1 && errno == EINTR);
	if (w >= 0) {
		*n = (size_t)w;
		return SL_IO_OK;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return SL_IO_WANT_WRITE;
	return fail(t, NULL, errno);
}

static void
plain_close(struct sl_transport *t)
{
	if (t->fd != -1)
		close(t->fd);
	t->fd = -1;
}

const struct sl_transport_ops sl_transport_plain = {
	"plain", plain_handshake, plain_read, plain_write, plain_close
};

void
sl_transport_init(struct sl_transport *t)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
}

void
sl_transport_close(struct sl_transport *t)
{
	if (t->ops != NULL && t->ops->close != NULL)
		t->ops->close(t);
	else if (t->fd != -1)
		close(t->fd);
	t->fd = -1;
	t->ops = NULL;
	t->impl = NULL;
}

/* connect(2) on a new non-blocking socket.  SL_IO_OK, SL_IO_WANT_WRITE, or
 * SL_IO_ERR with errno set and no socket left open. */
static enum sl_io
start(struct sl_transport *t, int family, const struct sockaddr *sa,
    socklen_t salen)
{
	int	fd, one = 1, rc, saved;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return SL_IO_ERR;
	if (family != AF_UNIX) {
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	}
	do
		rc = connect(fd, sa, salen);
	while (rc == -1 && errno == EINTR);
	if (rc == -1 && errno != EINPROGRESS) {
		saved = errno;
		close(fd);
		errno = saved;
		return SL_IO_ERR;
	}
	t->fd = fd;
	t->ops = &sl_transport_plain;
	t->impl = NULL;
	sl_error_clear(&t->err);
	return rc == 0 ? SL_IO_OK : SL_IO_WANT_WRITE;
}

/* Each address of host in turn until one connects or is in progress: an
 * address refused at once (no IPv6 here, say) gives way to the next. */
enum sl_io
sl_transport_connect_tcp(struct sl_transport *t, const char *host, int port,
    struct sl_error *err)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	char		 serv[16];
	enum sl_io	 io = SL_IO_ERR;
	int		 rc, last = ECONNREFUSED;

	sl_transport_init(t);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(serv, sizeof(serv), "%d", port);
	if ((rc = getaddrinfo(host, serv, &hints, &res)) != 0) {
		sl_seterr(&t->err, SL_ESYS, "%s", rc == EAI_SYSTEM ?
		    strerror(errno) : gai_strerror(rc));
		if (err != NULL)
			*err = t->err;
		return SL_IO_ERR;
	}
	for (ai = res; ai != NULL && io == SL_IO_ERR; ai = ai->ai_next)
		if ((io = start(t, ai->ai_family, ai->ai_addr,
		    ai->ai_addrlen)) == SL_IO_ERR)
			last = errno;
	freeaddrinfo(res);
	return io == SL_IO_ERR ? fail(t, err, last) : io;
}

enum sl_io
sl_transport_connect_unix(struct sl_transport *t, const char *path,
    struct sl_error *err)
{
	struct sockaddr_un sun;
	enum sl_io	 io;

	sl_transport_init(t);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return fail(t, err, ENAMETOOLONG);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((io = start(t, AF_UNIX, (struct sockaddr *)&sun,
	    sizeof(sun))) == SL_IO_ERR)
		return fail(t, err, errno);
	return io;
}

enum sl_io
sl_transport_connected(struct sl_transport *t)
{
	int		 so_err = 0;
	socklen_t	 len = sizeof(so_err);

	if (t->fd == -1)
		return fail(t, NULL, EBADF);
	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &so_err, &len) == -1)
		return fail(t, NULL, errno);
	if (so_err != 0)
		return fail(t, NULL, so_err);
	return SL_IO_OK;
}
