/* SPDX-License-Identifier: ISC */
/* `streamlag check`, the steps on this host: the JWT key (loaded, with its
 * algorithm) and the listen socket (free, and reachable by nginx's user). */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "streamlag/check.h"

#define NGINX_USER		"www-data"	/* Debian's nginx workers */

void
sl_check_jwt(const struct sl_config *cfg, struct sl_checks *out)
{
	const char		*alg = cfg->jwt_alg != NULL ? cfg->jwt_alg : "HS256";
	BIO			*bio;
	EVP_PKEY		*k;
	int			 type, want;

	if (cfg->jwt_key == NULL) {
		sl_checks_addf(out, "jwt", "JWT key", SL_CHECK_FAIL,
		    alg[0] == 'H' ? "set STREAMLAG_JWT_SECRET or "
		    "STREAMLAG_JWT_SECRET_FILE (openssl rand -hex 32)" :
		    "set STREAMLAG_JWT_PUBLIC_KEY_FILE",
		    "none configured for %s (serve and token need one)", alg);
		return;
	}
	if (alg[0] == 'H') {
		sl_checks_addf(out, "jwt", "JWT key", SL_CHECK_OK, NULL,
		    "%s secret of %zu bytes", alg, cfg->jwt_key_len);
		return;
	}
	if (cfg->jwt_key_len > INT_MAX ||
	    (bio = BIO_new_mem_buf(cfg->jwt_key, (int)cfg->jwt_key_len)) == NULL) {
		out->oom = 1;
		return;
	}
	k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (k == NULL) {
		sl_checks_addf(out, "jwt", "JWT key", SL_CHECK_FAIL,
		    "STREAMLAG_JWT_PUBLIC_KEY_FILE must hold a PEM public key "
		    "(BEGIN PUBLIC KEY)", "%s: the PEM does not load as a "
		    "public key", alg);
		return;
	}
	type = EVP_PKEY_base_id(k);
	want = alg[0] == 'R' ? EVP_PKEY_RSA : EVP_PKEY_EC;
	if (type != want)
		sl_checks_addf(out, "jwt", "JWT key", SL_CHECK_FAIL,
		    "the key type must match STREAMLAG_JWT_ALG",
		    "%s wants an %s key; this one is %s", alg,
		    want == EVP_PKEY_RSA ? "RSA" : "EC", type == EVP_PKEY_RSA ?
		    "RSA" : type == EVP_PKEY_EC ? "EC" : OBJ_nid2sn(type));
	else
		sl_checks_addf(out, "jwt", "JWT key", SL_CHECK_OK, NULL,
		    "%s public key, %s %d bits", alg,
		    want == EVP_PKEY_RSA ? "RSA" : "EC", EVP_PKEY_get_bits(k));
	EVP_PKEY_free(k);
}

/* Whether user (uid, gid, its groups) has `bit` (1 = x, 2 = w, 4 = r) on
 * a file of this owner and mode. */
static int
may(uid_t uid, const gid_t *gids, int ngids, const struct stat *st, int bit)
{
	if (uid == 0)
		return 1;
	if (st->st_uid == uid)
		return (st->st_mode >> 6) & bit ? 1 : 0;
	for (int i = 0; i < ngids; i++)
		if (st->st_gid == gids[i])
			return (st->st_mode >> 3) & bit ? 1 : 0;
	return st->st_mode & bit ? 1 : 0;
}

/* The directory holding `path` (dirname(3) without its aliasing). */
static void
parent(const char *path, char *out, size_t len)
{
	char	 tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(out, len, "%s", dirname(tmp));
}

/* What is at the socket's path now, in words, into state: "free", a live
 * socket or a stale one.  -1 (a failed check added) when something other
 * than a socket is there. */
static int
socket_state(const char *path, char *state, size_t len,
    struct sl_checks *out)
{
	struct stat		 st;
	struct sockaddr_un	 sun;
	int			 fd, live = 0;

	if (lstat(path, &st) == -1) {
		snprintf(state, len, "free");
		return 0;
	}
	if (!S_ISSOCK(st.st_mode)) {
		sl_checks_addf(out, "listen", "listen socket", SL_CHECK_FAIL,
		    "remove it or choose another STREAMLAG_LISTEN",
		    "%s exists and is not a socket", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) != -1) {
		live = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
		close(fd);
	}
	snprintf(state, len, live ? "in use: a server answers there "
	    "(streamlag serve running?)" : "a stale socket (serve replaces it)");
	return 0;
}

/* Every directory from dir up to the root lets nginx's user (uid and its
 * groups) through; -1 (a failed check added) at the first that does not. */
static int
nginx_walk(const char *path, const char *dir, const char *state, uid_t uid,
    const gid_t *gids, int ngids, struct sl_checks *out)
{
	struct stat	 st;
	char		 walk[PATH_MAX];

	snprintf(walk, sizeof(walk), "%s", dir);
	for (;;) {
		if (stat(walk, &st) == 0 && !may(uid, gids, ngids, &st, 1)) {
			sl_checks_addf(out, "listen", "listen socket", SL_CHECK_FAIL,
			    "let nginx's user through (chmod o+x, or the group)",
			    "%s: %s, but %s cannot enter %s (mode %04o)", path,
			    state, NGINX_USER, walk, (unsigned)st.st_mode & 07777);
			return -1;
		}
		if (strcmp(walk, "/") == 0 || strcmp(walk, ".") == 0)
			return 0;
		parent(walk, walk, sizeof(walk));
	}
}

void
sl_check_listen(const struct sl_config *cfg, struct sl_checks *out)
{
	const char		*spec = cfg->listen, *path;
	struct stat		 st;
	struct passwd		*pw;
	char			 dir[PATH_MAX], state[200];
	gid_t			 gids[64];
	int			 ngids = 64;

	if (spec == NULL) {
		sl_checks_add(out, "listen", "listen socket", SL_CHECK_SKIP,
		    "none configured", NULL);
		return;
	}
	if (strncmp(spec, "unix:", 5) != 0) {
		/* HOST:PORT: nginx reaches it over TCP; say whether it is free. */
		sl_checks_addf(out, "listen", "listen socket", SL_CHECK_OK, NULL,
		    "%s (TCP: nginx connects over the network; see "
		    "STREAMLAG_ALLOW_TCP)", spec);
		return;
	}
	path = spec + 5;
	parent(path, dir, sizeof(dir));
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		sl_checks_addf(out, "listen", "listen socket", SL_CHECK_FAIL,
		    "create it (systemd: RuntimeDirectory=streamlag)",
		    "%s: directory %s does not exist", path, dir);
		return;
	}
	if (access(dir, W_OK | X_OK) == -1) {
		sl_checks_addf(out, "listen", "listen socket", SL_CHECK_FAIL,
		    "run serve as a user who may create files there",
		    "%s: cannot create the socket in %s: %s", path, dir,
		    strerror(errno));
		return;
	}
	if (socket_state(path, state, sizeof(state), out) == -1)
		return;

	/* nginx's workers: every directory on the way must let them through,
	 * and the socket's mode and group let them connect. */
	if ((pw = getpwnam(NGINX_USER)) == NULL) {
		sl_checks_addf(out, "listen", "listen socket", SL_CHECK_OK, NULL,
		    "%s: %s (no %s user here: nginx's access not checked)", path,
		    state, NGINX_USER);
		return;
	}
	if (getgrouplist(pw->pw_name, pw->pw_gid, gids, &ngids) == -1)
		ngids = 0;
	if (nginx_walk(path, dir, state, pw->pw_uid, gids, ngids, out) == -1)
		return;
	st.st_mode = S_IFSOCK | (cfg->socket_mode & 07777);
	st.st_uid = geteuid();
	st.st_gid = getegid();
	if (cfg->socket_group != NULL && *cfg->socket_group != '\0') {
		struct group *gr = getgrnam(cfg->socket_group);
		if (gr == NULL) {
			sl_checks_addf(out, "listen", "listen socket", SL_CHECK_FAIL,
			    NULL, "STREAMLAG_SOCKET_GROUP: no such group \"%s\"",
			    cfg->socket_group);
			return;
		}
		st.st_gid = gr->gr_gid;
	}
	if (!may(pw->pw_uid, gids, ngids, &st, 2)) {
		sl_checks_addf(out, "listen", "listen socket", SL_CHECK_FAIL,
		    "set STREAMLAG_SOCKET_GROUP to nginx's group (www-data)",
		    "%s: %s, but mode %04o and group %s keep %s out", path, state,
		    cfg->socket_mode, cfg->socket_group ? cfg->socket_group :
		    "(serve's own)", NGINX_USER);
		return;
	}
	sl_checks_addf(out, "listen", "listen socket", SL_CHECK_OK, NULL,
	    "%s: %s; %s can reach it (mode %04o%s%s)", path, state, NGINX_USER,
	    cfg->socket_mode, cfg->socket_group ? ", group " : "",
	    cfg->socket_group ? cfg->socket_group : "");
}
