/* SPDX-License-Identifier: ISC */
/* libFuzzer: RESP bytes, read by hiredis's own reader, into the Sentinel
 * reply parsers (sentinel_reply.c); every reply goes through all four, as a
 * confused or hostile server could send any of them anything. */
#include <stdint.h>
#include <stdlib.h>

#include <hiredis/hiredis.h>

#include "streamlag/sentinel.h"

static void
parse_all(const redisReply *r)
{
	struct sl_hostport		 h;
	struct sl_role			 role;
	struct sl_sentinel_replica	*v;
	struct sl_repl_info		 info;
	struct sl_error			 e;
	size_t				 n;
	int				 known;

	if (sl_parse_master_addr(r, &h, &known, &e) == SL_OK && known)
		sl_hostport_free(&h);
	if (sl_parse_role(r, &role, &e) == SL_OK)
		sl_role_free(&role);
	if (sl_parse_sentinel_replicas(r, &v, &n, &e) == SL_OK)
		sl_sentinel_replicas_free(v, n);
	(void)sl_parse_info_replication(r, &info, &e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	redisReader	*rd = redisReaderCreate();
	void		*reply = NULL;

	if (rd == NULL)
		return 0;
	redisReaderFeed(rd, (const char *)data, size);
	for (int i = 0; i < 4 && redisReaderGetReply(rd, &reply) == REDIS_OK &&
	    reply != NULL; i++) {
		parse_all(reply);
		freeReplyObject(reply);
		reply = NULL;
	}
	redisReaderFree(rd);
	return 0;
}
