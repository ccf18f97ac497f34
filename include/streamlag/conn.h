/* SPDX-License-Identifier: ISC */
/* One accepted FastCGI connection: reads and writes under a deadline, the
 * peer check of a TCP listener, closing.  Every wait is bounded and lets the
 * stop signals in (ppoll), so no client can hold a worker past its deadline. */
#ifndef STREAMLAG_CONN_H
#define STREAMLAG_CONN_H

#include <sys/types.h>
#include <sys/socket.h>

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* A point on CLOCK_MONOTONIC in ms; SL_NO_DEADLINE = wait for ever. */
#define SL_NO_DEADLINE	INT64_MAX

/* now + ms, or SL_NO_DEADLINE when ms is 0. */
int64_t	sl_deadline_in(int ms);

/* Waits until fd is readable (POLLIN) or writable (POLLOUT), with `unblock`
 * as the signal mask while waiting.  1 = ready, 0 = the deadline passed,
 * -1 = interrupted by a signal (EINTR) or an error. */
int	sl_conn_wait(int fd, short events, int64_t deadline,
	    const sigset_t *unblock);

/* Writes all of buf before the deadline.  0, or -1 (deadline, peer gone). */
int	sl_conn_send(int fd, const void *buf, size_t len, int64_t deadline,
	    const sigset_t *unblock);

/* Closes fd.  With `linger`, first shuts down the sending side and reads
 * what the peer still sends until it closes, for at most `linger` ms, so
 * that answers already written are not lost to a reset. */
void	sl_conn_close(int fd, int linger, const sigset_t *unblock);

/* 1 when a peer may talk to a TCP listener: anything on a unix socket;
 * with an allow-list (STREAMLAG_ALLOW_TCP, IPv4, comma-separated), only the
 * IPv4 addresses it names (IPv4-mapped IPv6 included); without one, anyone
 * (the listener is then on loopback). */
int	sl_peer_allowed(const struct sockaddr *sa, socklen_t len,
	    const char *allow);

/* The peer's address as text ("-" for a unix socket), for the logs. */
const char *sl_peer_str(const struct sockaddr *sa, char *buf, size_t len);

#endif
