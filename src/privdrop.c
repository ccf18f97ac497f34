/* SPDX-License-Identifier: ISC */
/* Privilege drop in the order that cannot be undone: groups, gid, uid; then
 * proof that root cannot be regained. */
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "streamlag/log.h"
#include "streamlag/privdrop.h"

int
sl_privdrop(const char *user, char *err, size_t errlen)
{
	struct passwd	*pw;
	uid_t		 ruid, euid, suid;
	gid_t		 rgid, egid, sgid;

	if (user == NULL || *user == '\0')
		return 0;
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "STREAMLAG_USER: no such user \"%s\"", user);
		return -1;
	}
	if (geteuid() != 0) {
		if (pw->pw_uid == geteuid())
			return 0;
		snprintf(err, errlen, "STREAMLAG_USER: switching to \"%s\" needs "
		    "root", user);
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		snprintf(err, errlen, "STREAMLAG_USER: dropping to \"%s\": %s",
		    user, strerror(errno));
		return -1;
	}
	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1 ||
	    ruid != pw->pw_uid || euid != pw->pw_uid || suid != pw->pw_uid ||
	    rgid != pw->pw_gid || egid != pw->pw_gid || sgid != pw->pw_gid ||
	    (pw->pw_uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))) {
		snprintf(err, errlen, "STREAMLAG_USER: the drop to \"%s\" did not "
		    "hold", user);
		return -1;
	}
	sl_log(SL_LOG_INFO, "privileges_dropped", "uid=%ld gid=%ld",
	    (long)pw->pw_uid, (long)pw->pw_gid);
	return 0;
}
