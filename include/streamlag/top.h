/* SPDX-License-Identifier: ISC */
/* `streamlag top`: the lag of every stream and group, live in a terminal,
 * straight from Redis through the same router and collector as the server
 * (no nginx, no token), drawn by the table renderer of table.h. */
#ifndef STREAMLAG_TOP_H
#define STREAMLAG_TOP_H

#include "streamlag/config.h"

#define SL_TOP_INTERVAL_MIN_MS	100
#define SL_TOP_INTERVAL_MAX_MS	3600000

struct sl_top_opts {
	int	 interval_ms;	/* between refreshes */
	int	 once;		/* print one table and exit */
};

/* Returns the exit status: 0, 1 when Redis could not be read (--once), 2
 * when the terminal cannot be used. */
int	sl_top_run(const struct sl_config *cfg, const struct sl_top_opts *o);

#endif
