/* SPDX-License-Identifier: ISC */
/* A lag report as a terminal table or CSV: one row per stream and group.
 * Pure: `streamlag top` draws it live, `get --format table|csv` once. */
#ifndef STREAMLAG_TABLE_H
#define STREAMLAG_TABLE_H

#include <stddef.h>

#include "streamlag/model.h"

enum sl_col {
	SL_COL_STREAM,
	SL_COL_GROUP,
	SL_COL_LAG,
	SL_COL_TIME_LAG,
	SL_COL_PENDING,
	SL_COL_CONSUMERS,
	SL_COL_STATUS,
	SL_NCOLS
};

#define SL_TABLE_FILTER_MAX	64	/* bytes of a row filter */

struct sl_table_view {
	enum sl_col	 sort;		/* numbers sort largest first */
	int		 reverse;
	char		 filter[SL_TABLE_FILTER_MAX + 1];	/* substring of
					   stream, group or status; "" = all */
	int		 color;		/* ANSI colours by status */
	int		 width;		/* columns; 0 = no limit */
	int		 height;	/* rows of the table with its heading;
					   0 = no limit */
};

/* The rows of a report that pass the filter, sorted: pointers into the
 * report (malloc'd array, NULL with *n 0 when none).  Ties keep the
 * stream, then group, order.  -1 when out of memory. */
int	sl_table_rows(const struct sl_lag_report *r, const struct sl_table_view *v,
	    const struct sl_lag_entry ***rows, size_t *n);

/* One cell as text, e.g. "≥10000" for an inexact lag, "5.1s" for a time lag,
 * "-" when unknown.  Returns buf. */
const char *sl_table_cell(const struct sl_lag_report *r,
	    const struct sl_lag_entry *e, enum sl_col c, char *buf, size_t len);
/* "850ms", "5.1s", "2m03s", "1h02m", "3d04h". */
const char *sl_duration(long long ms, char *buf, size_t len);
const char *sl_col_name(enum sl_col c);

/* The header (verdict and totals; `note` after them when not NULL, e.g.
 * why Redis is unreachable) and the table; lines end with "\n".  malloc'd,
 * NULL when out of memory. */
char	*sl_render_table(const struct sl_lag_report *r,
	    const struct sl_table_view *v, const char *note);
/* RFC 4180, a heading line then one line per row (CRLF ends). */
char	*sl_render_csv(const struct sl_lag_report *r);

#endif
