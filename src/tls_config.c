/* SPDX-License-Identifier: ISC */
/* TLS settings that can be checked without a file or a connection (tls.h):
 * defaults, the protocol list, the server name, and the key file's mode. */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include <openssl/ssl.h>

#include "streamlag/tls.h"

void
sl_tls_config_init(struct sl_tls_config *c)
{
	memset(c, 0, sizeof(*c));
	c->verify = 1;
}

static int
protocol_version(const char *name, size_t len)
{
	static const struct {
		const char	*name;
		int		 version;
	} known[] = {
		{ "SSLv3", SSL3_VERSION },
		{ "TLSv1", TLS1_VERSION },
		{ "TLSv1.1", TLS1_1_VERSION },
		{ "TLSv1.2", TLS1_2_VERSION },
		{ "TLSv1.3", TLS1_3_VERSION },
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i].name) == len &&
		    strncmp(known[i].name, name, len) == 0)
			return known[i].version;
	return 0;
}

enum sl_err
sl_tls_parse_protocols(const char *s, int *min, int *max, struct sl_error *e)
{
	const char	*p;
	size_t		 len;
	int		 v;

	if (s == NULL || *s == '\0')
		s = SL_TLS_DEFAULT_PROTOCOLS;
	*min = *max = 0;
	for (p = s; *p != '\0'; p += len) {
		p += strspn(p, " ,");
		if ((len = strcspn(p, " ,")) == 0)
			break;
		if ((v = protocol_version(p, len)) == 0)
			return sl_seterr(e, SL_EINPUT, "STREAMLAG_REDIS_TLS_"
			    "PROTOCOLS: unknown protocol \"%.*s\" (expected "
			    "TLSv1.2, TLSv1.3)", (int)(len > 32 ? 32 : len), p);
		if (v < TLS1_2_VERSION)
			return sl_seterr(e, SL_EINPUT, "STREAMLAG_REDIS_TLS_"
			    "PROTOCOLS: %.*s is refused: TLS 1.2 is the "
			    "minimum", (int)len, p);
		if (*min == 0 || v < *min)
			*min = v;
		if (v > *max)
			*max = v;
	}
	if (*min == 0)
		return sl_seterr(e, SL_EINPUT,
		    "STREAMLAG_REDIS_TLS_PROTOCOLS: no protocol named");
	return SL_OK;
}

/* A host name as X509_check_host takes it (an IP literal passes too, for an
 * override that names an IP): letters, digits, '-', '.', '*', ':' (IPv6). */
static int
plausible_name(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > SL_TLS_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("-.*:_", s[i]) == NULL)
			return 0;
	return 1;
}

enum sl_err
sl_tls_config_check(const struct sl_tls_config *c, struct sl_error *e)
{
	int min, max;

	if ((c->cert_file == NULL) != (c->key_file == NULL))
		return sl_seterr(e, SL_EINPUT, "STREAMLAG_REDIS_TLS_%s is set "
		    "without STREAMLAG_REDIS_TLS_%s: a client certificate "
		    "needs both", c->cert_file ? "CERT_FILE" : "KEY_FILE",
		    c->cert_file ? "KEY_FILE" : "CERT_FILE");
	if (c->server_name != NULL && !plausible_name(c->server_name))
		return sl_seterr(e, SL_EINPUT, "STREAMLAG_REDIS_TLS_SERVER_NAME:"
		    " not a host name");
	if (c->ciphers != NULL && c->ciphers[0] == '\0')
		return sl_seterr(e, SL_EINPUT,
		    "STREAMLAG_REDIS_TLS_CIPHERS: empty");
	return sl_tls_parse_protocols(c->protocols, &min, &max, e);
}

enum sl_err
sl_tls_key_file_check(const char *path, struct sl_error *e)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return sl_seterr(e, SL_ESYS,
		    "STREAMLAG_REDIS_TLS_KEY_FILE %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return sl_seterr(e, SL_EINPUT,
		    "STREAMLAG_REDIS_TLS_KEY_FILE %s: not a regular file", path);
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		return sl_seterr(e, SL_EINPUT, "STREAMLAG_REDIS_TLS_KEY_FILE %s:"
		    " mode %04o lets other users read it (chmod 600, owned by "
		    "the user streamlag runs as)", path,
		    (unsigned)(st.st_mode & 07777));
	return SL_OK;
}
