/* SPDX-License-Identifier: ISC */
/* The files the configuration reads: --config KEY=VALUE files and small
 * secret files, regular files only, with a warning when others can read a
 * secret. */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "streamlag/alloc.h"
#include "streamlag/config.h"
#include "streamlag/config_file.h"
#include "streamlag/log.h"

#define ENV_FILE_MAX	(1024 * 1024)

/* What a non-regular file is, for the error line. */
static const char *
file_kind(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/* A secret other users can read gets one warning line; group-readable is
 * how packages share it with a service group (0640 root:streamlag).  `bits`
 * are the ones that matter: a public key is no secret, but one that others
 * can change lets them sign tokens. */
void
sl_file_warn_exposed(const char *name, const char *path, mode_t mode, mode_t bits)
{
	char q[300];

	if ((mode & bits) == 0)
		return;
	sl_log(SL_LOG_WARN, "secret_file_exposed", "setting=%s path=%s mode=%04o "
	    "hint=\"other users can %s it; chmod o-rwx\"", name,
	    sl_log_str(path, q, sizeof(q)), (unsigned)(mode & 07777),
	    (mode & S_IWOTH) ? "change" : "read");
}

/* Reads a small regular file whole; NULL with err set.  FIFOs and devices
 * are refused before any read: a FIFO without a writer would block the
 * master (inside SIGHUP), a device could be endless.  *mode (may be NULL)
 * receives the file's permission bits. */
unsigned char *
sl_file_read_small(const char *name, const char *path, size_t max, size_t *len,
    mode_t *mode, char *err, size_t errlen)
{
	struct stat	 st;
	unsigned char	*buf = NULL;
	size_t		 n = 0;
	ssize_t		 r;
	int		 fd;

	/* O_NONBLOCK: opening a FIFO for reading must not wait for a writer. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1) {
		sl_config_fail(err, errlen, "%s: cannot read %s: %s", name, path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		sl_config_fail(err, errlen, "%s: cannot read %s: %s", name, path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		sl_config_fail(err, errlen, "%s: %s is %s; expected a regular file", name,
		    path, file_kind(st.st_mode));
		goto out;
	}
	if ((buf = sl_malloc(max + 1)) == NULL) {
		sl_config_fail(err, errlen, "%s: out of memory", name);
		goto out;
	}
	while (n <= max && (r = read(fd, buf + n, max + 1 - n)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			sl_config_fail(err, errlen, "%s: cannot read %s: %s", name, path,
			    strerror(errno));
			goto bad;
		}
		n += (size_t)r;
	}
	if (n > max) {
		sl_config_fail(err, errlen, "%s: %s is larger than %zu bytes", name, path,
		    max);
		goto bad;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	if (mode != NULL)
		*mode = st.st_mode;
	return buf;
bad:
	explicit_bzero(buf, n < max + 1 ? n : max + 1);
	sl_free(buf);
	buf = NULL;
out:
	close(fd);
	return NULL;
}

static int
valid_key(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	return 1;
}

char **
sl_env_file_read(const char *path, char *err, size_t errlen)
{
	unsigned char	*buf;
	char		**env = NULL, *line, *next;
	const char	*v0;
	const unsigned char *nul;
	size_t		 len, n = 0, lineno = 0;
	mode_t		 mode = 0;

	if ((buf = sl_file_read_small("--config", path, ENV_FILE_MAX, &len,
	    &mode, err, errlen)) == NULL)
		return NULL;
	/* A NUL would end the text there and silently drop every later
	 * line, a STREAMLAG_JWT_AUDIENCE among them. */
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		for (const unsigned char *c = buf; c < nul; c++)
			lineno += *c == '\n';
		sl_config_fail(err, errlen, "--config: %s:%zu: a NUL byte; expected text "
		    "KEY=VALUE lines", path, lineno + 1);
		goto out;
	}
	if ((env = sl_calloc(1, sizeof(*env))) == NULL)
		goto oom;
	for (line = (char *)buf; line != NULL; line = next) {
		char *eq, *k, *v, *e, **grown;
		size_t vlen;

		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		k = line;
		while (*k == ' ' || *k == '\t')
			k++;
		e = k + strlen(k);
		while (e > k && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (*k == '\0' || *k == '#')
			continue;
		if (strncmp(k, "export ", 7) == 0)
			for (k += 7; *k == ' '; k++)
				;
		if ((eq = strchr(k, '=')) == NULL || !valid_key(k, (size_t)(eq - k))) {
			sl_config_fail(err, errlen, "--config: %s:%zu: expected KEY=VALUE",
			    path, lineno);
			goto out;
		}
		v = eq + 1;
		vlen = strlen(v);
		if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0]) {
			v++;
			vlen -= 2;
		}
		if ((grown = sl_reallocarray(env, n + 2, sizeof(*env))) == NULL)
			goto oom;
		env = grown;
		/* "KEY=VALUE\0" and then the line number, for errors. */
		if ((env[n] = sl_malloc((size_t)(eq - k) + 1 + vlen + 1 +
		    sizeof(lineno))) == NULL)
			goto oom;
		memcpy(env[n], k, (size_t)(eq - k) + 1);
		memcpy(env[n] + (eq - k) + 1, v, vlen);
		env[n][(eq - k) + 1 + vlen] = '\0';
		memcpy(env[n] + (eq - k) + 1 + vlen + 1, &lineno, sizeof(lineno));
		env[++n] = NULL;
	}
	explicit_bzero(buf, len);
	sl_free(buf);
	if (sl_env_get(env, "STREAMLAG_JWT_SECRET") != NULL ||
	    ((v0 = sl_env_get(env, "REDIS_URL")) != NULL && strchr(v0, '@')))
		sl_file_warn_exposed("--config", path, mode, S_IROTH | S_IWOTH);
	return env;
oom:
	sl_config_fail(err, errlen, "--config: out of memory");
out:
	explicit_bzero(buf, len);
	sl_free(buf);
	sl_env_free(env);
	return NULL;
}

void
sl_env_free(char **env)
{
	if (env == NULL)
		return;
	for (char **e = env; *e != NULL; e++) {
		explicit_bzero(*e, strlen(*e));
		sl_free(*e);
	}
	sl_free(env);
}

size_t
sl_env_line(char **env, const char *name)
{
	const char	*v = sl_env_get(env, name);
	size_t		 line;

	if (v == NULL)
		return 0;
	memcpy(&line, v + strlen(v) + 1, sizeof(line));
	return line;
}

size_t
sl_env_entry_line(const char *entry)
{
	size_t line;

	memcpy(&line, entry + strlen(entry) + 1, sizeof(line));
	return line;
}

const char *
sl_env_get(char **env, const char *name)
{
	const char	*found = NULL;
	size_t		 n = strlen(name);

	if (env == NULL)
		return NULL;
	for (char **e = env; *e != NULL; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			found = *e + n + 1;	/* the last assignment wins */
	return found;
}

