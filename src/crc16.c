/* SPDX-License-Identifier: ISC */
/* Key slots of Redis Cluster (crc16.h).  Bit by bit rather than by table:
 * a key is a few dozen bytes and a request hashes each name once. */
#include <string.h>

#include "streamlag/crc16.h"

uint16_t
sl_crc16(const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	uint16_t		 crc = 0;

	for (size_t i = 0; i < len; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) :
			    (uint16_t)(crc << 1);
	}
	return crc;
}

/* The specification's rule, exactly: only the first '{' counts, and only
 * when a '}' follows it with at least one byte between them. */
unsigned
sl_key_slot(const char *key, size_t len)
{
	const char	*open, *close;

	open = memchr(key, '{', len);
	if (open != NULL) {
		size_t rest = len - (size_t)(open - key) - 1;

		close = memchr(open + 1, '}', rest);
		if (close != NULL && close > open + 1)
			return sl_crc16(open + 1, (size_t)(close - open - 1)) &
			    (SL_CLUSTER_SLOTS - 1);
	}
	return sl_crc16(key, len) & (SL_CLUSTER_SLOTS - 1);
}
