/* SPDX-License-Identifier: ISC */
/* Redis Cluster key slots: CRC16-XMODEM of the key (or of its {hash tag})
 * modulo 16384, as the cluster specification defines them. */
#ifndef STREAMLAG_CRC16_H
#define STREAMLAG_CRC16_H

#include <stddef.h>
#include <stdint.h>

#define SL_CLUSTER_SLOTS	16384

/* CRC16-XMODEM (polynomial 0x1021, initial value 0, no reflection). */
uint16_t	 sl_crc16(const void *buf, size_t len);
/* The slot of a key of len bytes (which may hold NULs): the slot of the
 * bytes between the first '{' and the first '}' after it when there are
 * any, else of the whole key. */
unsigned	 sl_key_slot(const char *key, size_t len);

#endif
