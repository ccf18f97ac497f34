/* SPDX-License-Identifier: ISC */
/* The plain transports over loopback sockets this test opens itself: a
 * connect in progress and its completion, the system's words for a refused
 * connect, reads and writes that would block, EOF, and close. */
#include "sl_test.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "streamlag/transport.h"

/* A listening socket on 127.0.0.1; its port in *port. */
static int
listener(int *port)
{
	struct sockaddr_in sin;
	socklen_t	 len = sizeof(sin);
	int		 fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static enum sl_io
finish_connect(struct sl_transport *t, enum sl_io io)
{
	struct pollfd pfd = { .fd = t->fd, .events = POLLOUT };

	if (io != SL_IO_WANT_WRITE)
		return io;
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	return sl_transport_connected(t);
}

static void
test_tcp_round_trip(void **state)
{
	struct sl_transport t;
	struct pollfd	 pfd;
	char		 buf[16];
	size_t		 n;
	int		 port, lfd = listener(&port), peer;

	(void)state;
	assert_int_equal(finish_connect(&t, sl_transport_connect_tcp(&t,
	    "127.0.0.1", port, NULL)), SL_IO_OK);
	assert_string_equal(t.ops->name, "plain");
	assert_true((fcntl(t.fd, F_GETFL) & O_NONBLOCK) != 0);
	assert_int_equal(t.ops->handshake(&t), SL_IO_OK);
	assert_true((peer = accept(lfd, NULL, NULL)) >= 0);
	/* Nothing to read yet: would block. */
	assert_int_equal(t.ops->read(&t, buf, sizeof(buf), &n), SL_IO_WANT_READ);
	assert_int_equal(t.ops->write(&t, "PING", 4, &n), SL_IO_OK);
	assert_int_equal(n, 4);
	assert_int_equal(read(peer, buf, sizeof(buf)), 4);
	assert_int_equal(write(peer, "+PONG", 5), 5);
	pfd.fd = t.fd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(t.ops->read(&t, buf, sizeof(buf), &n), SL_IO_OK);
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "+PONG", 5);
	close(peer);
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(t.ops->read(&t, buf, sizeof(buf), &n), SL_IO_EOF);
	/* Writing to a closed peer: EPIPE or ECONNRESET in words, no SIGPIPE. */
	for (int i = 0; i < 100; i++)
		if (t.ops->write(&t, "x", 1, &n) == SL_IO_ERR)
			break;
	assert_int_equal(t.err.code, SL_ESYS);
	assert_true(strstr(t.err.str, "pipe") != NULL ||
	    strstr(t.err.str, "reset") != NULL);
	sl_transport_close(&t);
	assert_int_equal(t.fd, -1);
	sl_transport_close(&t);
	close(lfd);
}

static void
test_tcp_refused(void **state)
{
	struct sl_transport t;
	struct sl_error	 e;
	int		 port, lfd = listener(&port);
	enum sl_io	 io;

	(void)state;
	close(lfd);		/* nobody listens on port now */
	io = sl_transport_connect_tcp(&t, "127.0.0.1", port, &e);
	if (io == SL_IO_ERR) {
		assert_string_equal(e.str, "Connection refused");
	} else {
		assert_int_equal(finish_connect(&t, io), SL_IO_ERR);
		assert_string_equal(t.err.str, "Connection refused");
	}
	assert_int_equal(t.err.code, SL_ESYS);
	sl_transport_close(&t);
	assert_int_equal(sl_transport_connect_tcp(&t, "no-such-host.invalid",
	    6379, &e), SL_IO_ERR);
	assert_true(e.str[0] != '\0');
	assert_int_equal(t.fd, -1);
	sl_transport_close(&t);
}

static void
test_unix(void **state)
{
	struct sockaddr_un sun;
	struct sl_transport t;
	struct sl_error	 e;
	char		 dir[] = "/tmp/sl-transport.XXXXXX", path[200], big[200];
	int		 lfd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	assert_int_equal(sl_transport_connect_unix(&t, path, &e), SL_IO_ERR);
	assert_string_equal(e.str, "No such file or directory");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	assert_true((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(finish_connect(&t, sl_transport_connect_unix(&t, path,
	    &e)), SL_IO_OK);
	sl_transport_close(&t);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(sl_transport_connect_unix(&t, big, &e), SL_IO_ERR);
	assert_string_equal(e.str, "File name too long");
	close(lfd);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_round_trip),
		cmocka_unit_test(test_tcp_refused),
		cmocka_unit_test(test_unix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
