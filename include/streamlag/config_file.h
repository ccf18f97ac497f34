/* SPDX-License-Identifier: ISC */
/* Small files the configuration reads (config_file.c): secrets and keys. */
#ifndef STREAMLAG_CONFIG_FILE_H
#define STREAMLAG_CONFIG_FILE_H

#include <sys/types.h>

#include <stddef.h>

#define SECRET_FILE_MAX	(64 * 1024)	/* bytes in a secret or key file */

/* Reads a small regular file whole (at most max bytes), NUL-terminated;
 * NULL with err naming `name` set.  FIFOs and devices are refused before
 * any read: a FIFO without a writer would block the master (inside SIGHUP),
 * a device could be endless.  *mode (may be NULL) receives its mode bits.
 * The caller frees the buffer with sl_free. */
unsigned char	*sl_file_read_small(const char *name, const char *path,
		    size_t max, size_t *len, mode_t *mode, char *err,
		    size_t errlen);

/* One warning line when `mode` has any of `bits` (other users can read or
 * change a secret). */
void		 sl_file_warn_exposed(const char *name, const char *path,
		    mode_t mode, mode_t bits);

#endif
