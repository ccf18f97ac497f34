/* SPDX-License-Identifier: ISC */
/* A byte stream to one Redis node over a non-blocking socket: plain TCP or
 * a unix socket (transport.c), TLS later (tls.c).  The executor polls the
 * fd for what the last call wanted; hiredis's reader parses what read()
 * returns.  Every call is non-blocking. */
#ifndef STREAMLAG_TRANSPORT_H
#define STREAMLAG_TRANSPORT_H

#include <stddef.h>

#include "streamlag/err.h"

enum sl_io {
	SL_IO_OK,		/* done, or *n bytes moved */
	SL_IO_WANT_READ,	/* poll for POLLIN, then call again */
	SL_IO_WANT_WRITE,	/* poll for POLLOUT, then call again */
	SL_IO_EOF,		/* the peer closed */
	SL_IO_ERR		/* t->err says why */
};

struct sl_transport;

struct sl_transport_ops {
	const char *name;			/* "tcp", "unix", "tls" */
	/* After the socket connected: the handshake, if any. */
	enum sl_io (*handshake)(struct sl_transport *t);
	enum sl_io (*read)(struct sl_transport *t, void *buf, size_t len,
		    size_t *n);
	enum sl_io (*write)(struct sl_transport *t, const void *buf,
		    size_t len, size_t *n);
	/* Frees what the transport owns and closes fd. */
	void	(*close)(struct sl_transport *t);
};

struct sl_transport {
	const struct sl_transport_ops *ops;
	int		 fd;		/* non-blocking; -1 when closed */
	void		*impl;		/* the TLS session, for tls */
	struct sl_error	 err;		/* why the last call gave SL_IO_ERR */
};

/*
 * The plain transports (transport.c).  A connect starts a non-blocking
 * connect(2): SL_IO_OK when it completed at once, SL_IO_WANT_WRITE while in
 * progress (poll for POLLOUT, then sl_transport_connected), SL_IO_ERR with
 * the system's words in t->err (and in err when not NULL).  Then
 * ops->handshake, read and write.  A TLS transport starts the same way and
 * puts its own ops (and impl) on t once the socket is connected.
 */
extern const struct sl_transport_ops sl_transport_plain;

void	 sl_transport_init(struct sl_transport *t);
/* host is a name or a numeric address (IPv6 without brackets); a name is
 * resolved with getaddrinfo(3), which may block. */
enum sl_io sl_transport_connect_tcp(struct sl_transport *t, const char *host,
	    int port, struct sl_error *err);
enum sl_io sl_transport_connect_unix(struct sl_transport *t, const char *path,
	    struct sl_error *err);
/* After POLLOUT on a connect in progress: SL_IO_OK, or SL_IO_ERR with the
 * connect's own error ("Connection refused") in t->err. */
enum sl_io sl_transport_connected(struct sl_transport *t);
/* ops->close when t has ops, else close(fd); safe to call twice. */
void	 sl_transport_close(struct sl_transport *t);

#endif
