/* SPDX-License-Identifier: ISC */
/* libFuzzer: RESP bytes, read by hiredis's own reader, into the reply
 * parsers (facts.c, facts_pel.c), the lag and pending-list rules and the
 * renderers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "streamlag/facts.h"
#include "streamlag/lag.h"
#include "streamlag/pel.h"
#include "streamlag/render.h"

/* libFuzzer calls these; declared here since it ships no header. */
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sl_thresholds t = { 100, 1000, 1000, 5, 10, 0, 0 };
	redisReader		*rd = redisReaderCreate();
	void			*reply[4] = { NULL, NULL, NULL, NULL };
	struct sl_lag_entry	 e;
	struct sl_lag_report	 rep;
	struct sl_stream_info	 si;
	char			*out;
	int			 n = 0;

	if (rd == NULL)
		return 0;
	redisReaderFeed(rd, (const char *)data, size);
	while (n < 4 && redisReaderGetReply(rd, &reply[n]) == REDIS_OK &&
	    reply[n] != NULL)
		n++;
	if (n >= 2) {
		memset(&e, 0, sizeof(e));
		sl_bytes_set(&e.stream, "s", 1);
		if (sl_facts_lag_entry(&e, "g", 1, reply[0], reply[1], &t) ==
		    SL_OK) {
			struct sl_lag_facts f = { NULL, -1, "", 0, 0, 0, 0, 0 };
			struct sl_stream_info fsi;
			struct sl_lagcount st = { .key = 1 };

			(void)sl_lag_followup(&e, 0, 0);
			(void)sl_facts_next(n > 2 ? reply[2] : NULL,
			    1800000000000LL, &f);
			f.has_length = n > 3 &&
			    sl_facts_length(reply[3], &f.length) == SL_OK;
			(void)sl_lag_needs_stream(&e, &f);
			if (n > 3 && sl_facts_stream(reply[3], &fsi, NULL) == SL_OK)
				f.si = &fsi;
			if (sl_lag_resolve(&e, &f, &st) == 0 && n > 2) {
				sl_facts_count_step(&st, reply[2], 3);
				(void)sl_lag_resolve(&e, &f, &st);
			}
			sl_lag_entry_done(&e, &f, &t);
		}
		memset(&rep, 0, sizeof(rep));
		rep.group = "g";
		rep.entries = &e;
		rep.n = 1;
		if ((out = sl_render_lag(&rep)) != NULL)
			free(out);
		sl_lag_entry_free(&e);
	}
	if (n >= 1)
		(void)sl_facts_stream(reply[0], &si, NULL);
	if (n >= 1) {
		/* The extended XPENDING reply, and the pending list's rules. */
		static const struct sl_pel_limits lim = { 1000, 10, 60000, 30000 };
		struct sl_pel_item	*it;
		struct sl_pel_report	 pr;
		size_t			 ni;

		if (sl_facts_pel(reply[0], &it, &ni, NULL) == SL_OK) {
			sl_pel_analyze(it, ni, -1, ni > 0 ? it[0].id : "", NULL,
			    -1, &lim, &pr);
			sl_pel_items_free(it, ni);
		}
	}
	for (int i = 0; i < n; i++)
		freeReplyObject(reply[i]);
	redisReaderFree(rd);
	return 0;
}
