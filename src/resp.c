/* SPDX-License-Identifier: ISC */
/* RESP commands (resp.h).  hiredis 0.14's redisFormatCommandArgv goes
 * through printf for every argument, a third of the cost of a 10 000-stream
 * request: the bytes are written here directly. */
#include <stdint.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/resp.h"

/* Writes n in decimal at p; returns the number of digits. */
static size_t
put_uint(char *p, size_t n)
{
	char	 tmp[24];
	size_t	 k = 0, i;

	do {
		tmp[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	for (i = 0; i < k; i++)
		p[i] = tmp[k - 1 - i];
	return k;
}

static size_t
put_head(char *p, char type, size_t n)
{
	size_t o = 0;

	p[o++] = type;
	o += put_uint(p + o, n);
	p[o++] = '\r';
	p[o++] = '\n';
	return o;
}

char *
sl_resp_format(int argc, const char **argv, const size_t *argvlen,
    size_t *outlen)
{
	size_t	 total = 1 + 20 + 2, o = 0;
	char	*cmd;

	if (argc < 1)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (argvlen[i] > SIZE_MAX / 2 - total)
			return NULL;
		total += 1 + 20 + 2 + argvlen[i] + 2;
	}
	if ((cmd = sl_malloc(total)) == NULL)
		return NULL;
	o += put_head(cmd, '*', (size_t)argc);
	for (int i = 0; i < argc; i++) {
		o += put_head(cmd + o, '$', argvlen[i]);
		memcpy(cmd + o, argv[i], argvlen[i]);
		o += argvlen[i];
		cmd[o++] = '\r';
		cmd[o++] = '\n';
	}
	*outlen = o;
	return cmd;
}
