/* SPDX-License-Identifier: ISC */
/* The peer check of a TCP listener (STREAMLAG_ALLOW_TCP, enforced by
 * streamlag since it accepts connections itself) and deadlines. */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "sl_test.h"
#include "streamlag/conn.h"
#include "streamlag/shared.h"

static int
v4(const char *ip, const char *allow)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	return sl_peer_allowed((struct sockaddr *)&sin, sizeof(sin), allow);
}

static int
v6(const char *ip, const char *allow)
{
	struct sockaddr_in6 s6;

	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, ip, &s6.sin6_addr), 1);
	return sl_peer_allowed((struct sockaddr *)&s6, sizeof(s6), allow);
}

static void
peers(void **state)
{
	struct sockaddr_un sun;

	(void)state;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_true(sl_peer_allowed((struct sockaddr *)&sun, sizeof(sun),
	    "10.0.0.5"));
	/* No list: the listener is on loopback, anyone there may talk. */
	assert_true(v4("127.0.0.1", NULL));
	assert_true(v4("127.0.0.1", ""));
	assert_true(v6("::1", NULL));
	assert_true(v4("10.0.0.5", "10.0.0.5,10.0.0.6"));
	assert_true(v4("10.0.0.6", "10.0.0.5,10.0.0.6"));
	assert_false(v4("10.0.0.7", "10.0.0.5,10.0.0.6"));
	assert_false(v4("10.0.0.50", "10.0.0.5"));
	assert_false(v4("127.0.0.1", "10.0.0.5"));
	assert_true(v6("::ffff:10.0.0.6", "10.0.0.5,10.0.0.6"));
	assert_false(v6("::ffff:10.0.0.7", "10.0.0.5,10.0.0.6"));
	/* With a list of IPv4 hosts, other IPv6 peers are refused
	 * (libfcgi let them all through). */
	assert_false(v6("::1", "10.0.0.5"));
	assert_false(v6("fe80::1", "10.0.0.5"));
}

static void
peer_text(void **state)
{
	struct sockaddr_in	 sin;
	struct sockaddr_un	 sun;
	char			 buf[64];

	(void)state;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr);
	assert_string_equal(sl_peer_str((struct sockaddr *)&sin, buf,
	    sizeof(buf)), "10.1.2.3");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_string_equal(sl_peer_str((struct sockaddr *)&sun, buf,
	    sizeof(buf)), "-");
}

static void
deadlines(void **state)
{
	int64_t d;

	(void)state;
	assert_true(sl_deadline_in(0) == SL_NO_DEADLINE);
	d = sl_deadline_in(1500);
	assert_true(d != SL_NO_DEADLINE);
	assert_true(d - sl_monotonic_ms() <= 1500);
	assert_true(d - sl_monotonic_ms() > 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(peers),
		cmocka_unit_test(peer_text),
		cmocka_unit_test(deadlines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
