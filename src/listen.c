/* SPDX-License-Identifier: ISC */
/* The listening socket nginx connects to.  A unix socket by default, with a
 * mode and group that let nginx's workers (www-data) in and nobody else:
 * libfcgi must only ever hear from nginx (PITFALLS: CVE-2025-23016). */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "streamlag/listen.h"

static int
listen_unix(const char *path, unsigned mode, const char *group, char *err,
    size_t errlen)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	struct group		*gr = NULL;
	int			 fd = -1, probe;
	mode_t			 old;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "--listen: socket path longer than %zu bytes",
		    sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (group != NULL && *group != '\0' && (gr = getgrnam(group)) == NULL) {
		snprintf(err, errlen, "STREAMLAG_SOCKET_GROUP: no such group "
		    "\"%s\"", group);
		return -1;
	}
	/* A leftover socket from a crash is removed; a live one is not. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "--listen: %s exists and is not a "
			    "socket", path);
			return -1;
		}
		if ((probe = socket(AF_UNIX, SOCK_STREAM, 0)) != -1) {
			int live = connect(probe, (struct sockaddr *)&sun,
			    sizeof(sun)) == 0;
			close(probe);
			if (live) {
				snprintf(err, errlen, "--listen: %s is in use by "
				    "another process", path);
				return -1;
			}
		}
		unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		goto syserr;
	old = umask(0777 & ~mode);	/* never world-open, even for a moment */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		goto syserr;
	}
	umask(old);
	if (gr != NULL && chown(path, (uid_t)-1, gr->gr_gid) == -1)
		goto syserr;
	if (chmod(path, (mode_t)mode) == -1)
		goto syserr;
	if (listen(fd, SL_LISTEN_BACKLOG) == -1)
		goto syserr;
	return fd;
syserr:
	snprintf(err, errlen, "--listen: unix:%s: %s", path, strerror(errno));
	if (fd != -1) {
		close(fd);
		unlink(path);
	}
	return -1;
}

static int
listen_tcp(const char *spec, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	char		 host[256];
	const char	*colon, *port;
	size_t		 hlen;
	int		 fd = -1, one = 1, rc;

	if (spec[0] == '[') {
		const char *close_b = strchr(spec, ']');
		if (close_b == NULL || close_b[1] != ':')
			goto bad;
		hlen = (size_t)(close_b - spec - 1);
		spec++;
		colon = close_b + 1;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL)
			goto bad;
		hlen = (size_t)(colon - spec);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	port = colon + 1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "--listen: %s:%s: %s", host, port,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, SL_LISTEN_BACKLOG) == 0)
			break;
		rc = errno;
		close(fd);
		fd = -1;
		errno = rc;
	}
	if (fd == -1)
		snprintf(err, errlen, "--listen: %s:%s: %s", host, port,
		    strerror(errno));
	freeaddrinfo(res);
	return fd;
bad:
	snprintf(err, errlen, "--listen: expected unix:PATH or HOST:PORT, got "
	    "\"%.100s\"", spec);
	return -1;
}

int
sl_listen_open(const char *spec, unsigned mode, const char *group, char *err,
    size_t errlen)
{
	if (strncmp(spec, "unix:", 5) == 0) {
		if (spec[5] != '/') {
			snprintf(err, errlen, "--listen: unix: needs an absolute "
			    "path");
			return -1;
		}
		return listen_unix(spec + 5, mode, group, err, errlen);
	}
	return listen_tcp(spec, err, errlen);
}

void
sl_listen_cleanup(const char *spec)
{
	if (spec != NULL && strncmp(spec, "unix:", 5) == 0)
		unlink(spec + 5);
}
