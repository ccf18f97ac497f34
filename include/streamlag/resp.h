/* SPDX-License-Identifier: ISC */
/* Commands in RESP, written directly (no printf per argument). */
#ifndef STREAMLAG_RESP_H
#define STREAMLAG_RESP_H

#include <stddef.h>

/* "*N\r\n$len\r\narg\r\n...": a new buffer of *outlen bytes (sl_free), or
 * NULL on ENOMEM.  Arguments may hold any bytes. */
char	*sl_resp_format(int argc, const char **argv, const size_t *argvlen,
	    size_t *outlen);

#endif
