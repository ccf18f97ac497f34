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

#endif
