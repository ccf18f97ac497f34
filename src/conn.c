/* SPDX-License-Identifier: ISC */
/* One accepted FastCGI connection (see conn.h). */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "streamlag/conn.h"
#include "streamlag/shared.h"

int64_t
sl_deadline_in(int ms)
{
	return ms > 0 ? sl_monotonic_ms() + ms : SL_NO_DEADLINE;
}

int
sl_conn_wait(int fd, short events, int64_t deadline, const sigset_t *unblock)
{
	struct pollfd	 pfd;
	struct timespec	 ts, *tsp = NULL;
	int		 rc;

	if (deadline != SL_NO_DEADLINE) {
		int64_t left = deadline - sl_monotonic_ms();

		if (left <= 0)
			return 0;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (long)(left % 1000) * 1000000L;
		tsp = &ts;
	}
	pfd.fd = fd;
	pfd.events = events;
	pfd.revents = 0;
	rc = ppoll(&pfd, 1, tsp, unblock);
	if (rc > 0)
		return 1;	/* ready, or an error the next call will see */
	if (rc == 0)
		return 0;
	return -1;
}

int
sl_conn_send(int fd, const void *buf, size_t len, int64_t deadline,
    const sigset_t *unblock)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (sl_conn_wait(fd, POLLOUT, deadline, unblock) == 0)
			return -1;
	}
	return 0;
}

void
sl_conn_close(int fd, int linger, const sigset_t *unblock)
{
	char	 trash[1024];
	int64_t	 deadline;

	if (linger > 0 && shutdown(fd, SHUT_WR) == 0) {
		deadline = sl_monotonic_ms() + linger;
		for (;;) {
			ssize_t n = recv(fd, trash, sizeof(trash), MSG_DONTWAIT);

			if (n == 0 || (n == -1 && errno != EAGAIN &&
			    errno != EWOULDBLOCK && errno != EINTR))
				break;
			if (sl_monotonic_ms() >= deadline)
				break;
			if (n == -1 && sl_conn_wait(fd, POLLIN, deadline,
			    unblock) == 0)
				break;
		}
	}
	close(fd);
}

/* The IPv4 address a peer connects from; 0 when it has none. */
static int
peer_ipv4(const struct sockaddr *sa, socklen_t len, struct in_addr *out)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		*out = ((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		return 1;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		if (memcmp(s6->sin6_addr.s6_addr, mapped, 12) != 0)
			return 0;
		memcpy(&out->s_addr, s6->sin6_addr.s6_addr + 12, 4);
		return 1;
	}
	return 0;
}

int
sl_peer_allowed(const struct sockaddr *sa, socklen_t len, const char *allow)
{
	struct in_addr	 peer, a;
	const char	*p;

	if (sa->sa_family == AF_UNIX || allow == NULL || *allow == '\0')
		return 1;
	if (!peer_ipv4(sa, len, &peer))
		return 0;
	for (p = allow; *p != '\0'; ) {
		size_t	 n = strcspn(p, ",");
		char	 ip[16];

		if (n > 0 && n < sizeof(ip)) {
			memcpy(ip, p, n);
			ip[n] = '\0';
			if (inet_pton(AF_INET, ip, &a) == 1 &&
			    a.s_addr == peer.s_addr)
				return 1;
		}
		p += n + (p[n] == ',');
	}
	return 0;
}

const char *
sl_peer_str(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *a = NULL;

	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (a == NULL || inet_ntop(sa->sa_family, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "-");
	return buf;
}
