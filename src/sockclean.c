/* SPDX-License-Identifier: ISC */
/* The socket file's removal at stop, after a privilege drop.
 *
 * With --user the master runs unprivileged, and a socket made in a
 * root-owned directory (/run/streamlag without systemd's RuntimeDirectory,
 * a test's state directory) could not be removed at stop: it was left
 * behind.  Keeping the master root for that one unlink would throw away the
 * drop; instead a process forked before the drop keeps root, holds no fd
 * but a pipe, ignores the signals meant for the service, and unlinks the
 * file once every holder of the pipe's write end (the master and its
 * workers) is gone, whatever way they went. */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "streamlag/log.h"
#include "streamlag/sockclean.h"

/* Whether uid may remove entries of dir (write and search on it, and no
 * sticky bit, which would demand owning the entry). */
static int
can_unlink(const char *path, uid_t uid, gid_t gid)
{
	char		*copy = strdup(path), *dir;
	struct stat	 st;
	int		 ok = 0;

	if (copy == NULL)
		return 0;
	dir = dirname(copy);
	if (stat(dir, &st) == 0 && !(st.st_mode & S_ISVTX)) {
		if (st.st_uid == uid)
			ok = (st.st_mode & (S_IWUSR | S_IXUSR)) ==
			    (S_IWUSR | S_IXUSR);
		else if (st.st_gid == gid)
			ok = (st.st_mode & (S_IWGRP | S_IXGRP)) ==
			    (S_IWGRP | S_IXGRP);
		else
			ok = (st.st_mode & (S_IWOTH | S_IXOTH)) ==
			    (S_IWOTH | S_IXOTH);
	}
	free(copy);
	return ok;
}

static void __attribute__((noreturn))
keeper(const char *path, int rfd, dev_t dev, ino_t ino)
{
	struct sigaction	 sa;
	struct stat		 st;
	char			 b, q[300];
	ssize_t			 n;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	/* Ctrl-C and systemd's stop reach the whole group: this process
	 * leaves when the service has, not before. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	/* Nothing of the service stays open here: a listening socket held
	 * on would queue connections nobody accepts. */
	if (rfd > 3)
		close_range(3, (unsigned)rfd - 1, 0);
	close_range((unsigned)rfd + 1, ~0U, 0);
	while ((n = read(rfd, &b, 1)) != 0)
		if (n == -1 && errno != EINTR)
			break;
	/* Only the file bound here: a successor may have bound its own. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == dev &&
	    st.st_ino == ino && unlink(path) == -1)
		sl_log(SL_LOG_WARN, "socket_left", "path=%s error=%s",
		    sl_log_str(path, q, sizeof(q)), strerror(errno));
	_exit(0);
}

int
sl_sockclean_arm(const char *spec, const char *user, char *err, size_t errlen)
{
	struct passwd	*pw;
	struct stat	 st;
	const char	*path;
	pid_t		 pid;
	int		 p[2], status;

	if (spec == NULL || strncmp(spec, "unix:", 5) != 0 || user == NULL ||
	    *user == '\0' || geteuid() != 0)
		return 0;
	path = spec + 5;
	if ((pw = getpwnam(user)) == NULL || pw->pw_uid == 0 ||
	    can_unlink(path, pw->pw_uid, pw->pw_gid))
		return 0;	/* no drop, or the master can do it itself */
	if (lstat(path, &st) == -1) {
		snprintf(err, errlen, "--listen: %s: %s", path, strerror(errno));
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "--user: pipe: %s", strerror(errno));
		return -1;
	}
	/* Twice forked: the keeper is not the master's child, so the
	 * master's reaping and its children are workers only. */
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "--user: fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[1]);
		if (fork() == 0)
			keeper(path, p[0], st.st_dev, st.st_ino);
		_exit(0);
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	/* p[1] stays open for the life of the master and its workers. */
	return 0;
}
