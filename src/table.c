/* SPDX-License-Identifier: ISC */
/* A lag report as text: the table `streamlag top` draws and `get --format
 * table` prints, and CSV.  Names are bytes from Redis: before they reach a
 * terminal they become valid UTF-8 with every control character (ESC
 * included) shown as "?", so a stream name cannot move the cursor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/jsonw.h"
#include "streamlag/lag.h"
#include "streamlag/out.h"
#include "streamlag/table.h"

#define GAP	2	/* spaces between columns */

static const char *const col_names[SL_NCOLS] = {
	[SL_COL_STREAM] = "STREAM",
	[SL_COL_GROUP] = "GROUP",
	[SL_COL_LAG] = "LAG",
	[SL_COL_TIME_LAG] = "TIME LAG",
	[SL_COL_PENDING] = "PENDING",
	[SL_COL_CONSUMERS] = "CONSUMERS",
	[SL_COL_STATUS] = "STATUS",
};

/* ANSI colours by status: the same meaning as the dashboard's. */
static const char *const status_color[] = {
	[SL_STATUS_HEALTHY] = "\033[32m",
	[SL_STATUS_DEGRADED] = "\033[33m",
	[SL_STATUS_UNHEALTHY] = "\033[31m",
	[SL_STATUS_STALLED] = "\033[35m",
	[SL_STATUS_NO_GROUP] = "\033[36m",
	[SL_STATUS_ERROR] = "\033[1;31m",
};
#define COLOR_OFF	"\033[0m"
#define BOLD		"\033[1m"

/* Most severe first, for sorting by status. */
static const int severity[] = {
	[SL_STATUS_ERROR] = 0,
	[SL_STATUS_UNHEALTHY] = 1,
	[SL_STATUS_STALLED] = 2,
	[SL_STATUS_DEGRADED] = 3,
	[SL_STATUS_NO_GROUP] = 4,
	[SL_STATUS_HEALTHY] = 5,
};

const char *
sl_col_name(enum sl_col c)
{
	return c < SL_NCOLS ? col_names[c] : "";
}

static void
out_spaces(struct sl_out *o, int n)
{
	static const char sp[] = "                                ";

	while (n > 0) {
		int k = n > (int)sizeof(sp) - 1 ? (int)sizeof(sp) - 1 : n;
		sl_out_put(o, sp, (size_t)k);
		n -= k;
	}
}

/* Bytes as terminal-safe UTF-8 (malloc'd), or NULL when out of memory. */
static char *
safe_text(const char *p, size_t len)
{
	size_t	 n;
	char	*s = sl_utf8_sanitize(p != NULL ? p : "", p != NULL ? len : 0, 0,
	    &n);

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = '?';
	/* C1 controls (U+0080..U+009F, "\xc2\x80".."\xc2\x9f") too. */
	for (size_t i = 0; i + 1 < n; i++)
		if ((unsigned char)s[i] == 0xc2 && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f) {
			s[i] = '?';
			memmove(s + i + 1, s + i + 2, n - i - 1);
			n--;
		}
	return s;
}

/* Width on a terminal: one column per code point (names are mostly
 * ASCII; wide characters would take two). */
static int
text_width(const char *s)
{
	int w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* s cut to `w` columns, "…" marking the cut; written into b. */
static void
out_fit(struct sl_out *b, const char *s, int w, int pad_right)
{
	int	 tw = text_width(s), k = 0;
	size_t	 i = 0;

	if (w <= 0)
		return;
	if (tw <= w) {
		sl_out_puts(b, s);
		if (pad_right)
			out_spaces(b, w - tw);
		return;
	}
	while (s[i] != '\0') {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (k == w - 1)
				break;
			k++;
		}
		i++;
	}
	sl_out_put(b, s, i);
	sl_out_puts(b, "…");
}

const char *
sl_duration(long long ms, char *buf, size_t len)
{
	long long s = ms / 1000;

	if (ms < 0)
		snprintf(buf, len, "-");
	else if (ms < 1000)
		snprintf(buf, len, "%lldms", ms);
	else if (ms < 60000)
		snprintf(buf, len, "%lld.%llds", s, (ms % 1000) / 100);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
	return buf;
}

static const struct sl_bytes *
group_of(const struct sl_lag_report *r, const struct sl_lag_entry *e,
    struct sl_bytes *tmp)
{
	if (e->group.name.len > 0 || r->group == NULL)
		return &e->group.name;
	tmp->p = (char *)r->group;
	tmp->len = strlen(r->group);
	return tmp;
}

static long long
consumers_of(const struct sl_lag_entry *e)
{
	return e->has_group && e->error == NULL ? (long long)e->nconsumers : 0;
}

static long long
pending_of(const struct sl_lag_entry *e)
{
	return e->has_group && e->error == NULL ? e->group.pending : 0;
}

const char *
sl_table_cell(const struct sl_lag_report *r, const struct sl_lag_entry *e,
    enum sl_col c, char *buf, size_t len)
{
	struct sl_bytes	 tmp;
	const struct sl_bytes *g;
	char		*s;

	switch (c) {
	case SL_COL_STREAM:
	case SL_COL_GROUP:
		g = c == SL_COL_STREAM ? &e->stream : group_of(r, e, &tmp);
		if ((s = safe_text(g->p, g->len)) == NULL) {
			snprintf(buf, len, "?");
			break;
		}
		snprintf(buf, len, "%s", g->len > 0 ? s : "-");
		free(s);
		break;
	case SL_COL_LAG:
		if (e->error != NULL)
			snprintf(buf, len, "-");
		else
			snprintf(buf, len, "%s%lld", e->lag_exact || !e->has_group ?
			    "" : "≥", e->lag);
		break;
	case SL_COL_TIME_LAG:
		if (e->error != NULL || !e->has_group || !e->has_time_lag)
			snprintf(buf, len, "-");
		else
			sl_duration(e->time_lag_ms, buf, len);
		break;
	case SL_COL_PENDING:
		if (e->error != NULL || !e->has_group)
			snprintf(buf, len, "-");
		else
			snprintf(buf, len, "%lld", pending_of(e));
		break;
	case SL_COL_CONSUMERS:
		if (e->error != NULL || !e->has_group)
			snprintf(buf, len, "-");
		else
			snprintf(buf, len, "%lld", consumers_of(e));
		break;
	case SL_COL_STATUS:
		if (e->error != NULL && (s = safe_text(e->error,
		    strlen(e->error))) != NULL) {
			snprintf(buf, len, "error: %s", s);
			free(s);
		} else
			snprintf(buf, len, "%s", sl_status_name(e->status));
		break;
	default:
		snprintf(buf, len, "?");
	}
	return buf;
}

struct sort_ctx {
	const struct sl_lag_report *r;
	const struct sl_table_view *v;
};

static int
bytes_cmp(const struct sl_bytes *a, const struct sl_bytes *b)
{
	size_t	 n = a->len < b->len ? a->len : b->len;
	int	 c = n > 0 ? memcmp(a->p, b->p, n) : 0;

	if (c != 0)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* Larger first; unknown values (-1) last. */
static int
desc(long long a, long long b)
{
	return a > b ? -1 : a < b;
}

static int
row_cmp(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx	*sc = arg;
	const struct sl_lag_entry *a = *(const struct sl_lag_entry *const *)pa;
	const struct sl_lag_entry *b = *(const struct sl_lag_entry *const *)pb;
	struct sl_bytes		 ta, tb;
	int			 c = 0;

	switch (sc->v->sort) {
	case SL_COL_STREAM:
		c = bytes_cmp(&a->stream, &b->stream);
		break;
	case SL_COL_GROUP:
		c = bytes_cmp(group_of(sc->r, a, &ta), group_of(sc->r, b, &tb));
		break;
	case SL_COL_LAG:
		c = desc(a->error ? -1 : a->lag, b->error ? -1 : b->lag);
		break;
	case SL_COL_TIME_LAG:
		c = desc(a->error == NULL && a->has_group && a->has_time_lag ?
		    a->time_lag_ms : -1, b->error == NULL && b->has_group &&
		    b->has_time_lag ? b->time_lag_ms : -1);
		break;
	case SL_COL_PENDING:
		c = desc(a->has_group && !a->error ? pending_of(a) : -1,
		    b->has_group && !b->error ? pending_of(b) : -1);
		break;
	case SL_COL_CONSUMERS:
		c = desc(a->has_group && !a->error ? consumers_of(a) : -1,
		    b->has_group && !b->error ? consumers_of(b) : -1);
		break;
	case SL_COL_STATUS:
		c = severity[a->status] - severity[b->status];
		if (c == 0)
			c = desc(a->error ? -1 : a->lag, b->error ? -1 : b->lag);
		break;
	default:
		break;
	}
	if (sc->v->reverse)
		c = -c;
	if (c == 0)
		c = bytes_cmp(&a->stream, &b->stream);
	if (c == 0)
		c = bytes_cmp(group_of(sc->r, a, &ta), group_of(sc->r, b, &tb));
	return c;
}

static int
matches(const struct sl_lag_report *r, const struct sl_lag_entry *e,
    const char *filter)
{
	struct sl_bytes		 tmp;
	const struct sl_bytes	*g = group_of(r, e, &tmp);
	size_t			 fl = strlen(filter);
	const char		*st = sl_status_name(e->status);

	if (fl == 0)
		return 1;
	return (e->stream.len > 0 && memmem(e->stream.p, e->stream.len, filter,
	    fl) != NULL) || (g->len > 0 && memmem(g->p, g->len, filter, fl) !=
	    NULL) || strstr(st, filter) != NULL;
}

int
sl_table_rows(const struct sl_lag_report *r, const struct sl_table_view *v,
    const struct sl_lag_entry ***rows, size_t *n)
{
	const struct sl_lag_entry **out;
	struct sort_ctx		 sc = { .r = r, .v = v };
	size_t			 k = 0;

	*rows = NULL;
	*n = 0;
	if (r->n == 0)
		return 0;
	if ((out = sl_calloc(r->n, sizeof(*out))) == NULL)
		return -1;
	for (size_t i = 0; i < r->n; i++)
		if (matches(r, &r->entries[i], v->filter))
			out[k++] = &r->entries[i];
	qsort_r(out, k, sizeof(*out), row_cmp, &sc);
	*rows = out;
	*n = k;
	return 0;
}

static int
numeric(enum sl_col c)
{
	return c == SL_COL_LAG || c == SL_COL_TIME_LAG || c == SL_COL_PENDING ||
	    c == SL_COL_CONSUMERS;
}

static void
header(struct sl_out *b, const struct sl_lag_report *r,
    const struct sl_table_view *v, const char *note)
{
	struct sl_health h;

	sl_health_of(r, &h);
	if (r->error != NULL)
		h.status = SL_STATUS_UNHEALTHY;
	sl_out_puts(b, "health: ");
	if (v->color)
		sl_out_puts(b, status_color[h.status]);
	sl_out_puts(b, sl_status_name(h.status));
	if (v->color)
		sl_out_puts(b, COLOR_OFF);
	sl_out_printf(b, "  streams %lld  total lag %lld  max lag %lld  |",
	    r->stream_count, h.total_lag, h.max_lag);
	/* The rows by status, those with none left out. */
	{
		const long long n[] = { h.healthy, h.degraded, h.unhealthy,
		    h.stalled, h.no_group };
		const char *const name[] = { "healthy", "degraded", "unhealthy",
		    "stalled", "no group" };
		int first = 1;

		for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++)
			if (n[i] > 0) {
				sl_out_printf(b, "%s %lld %s", first ? "" : ",", n[i],
				    name[i]);
				first = 0;
			}
		if (first)
			sl_out_puts(b, " no rows");
	}
	sl_out_puts(b, "\n");
	if (note != NULL && *note != '\0') {
		char *s = safe_text(note, strlen(note));

		if (s == NULL) {
			sl_out_fail(b, SL_ENOMEM);	/* not a table without it */
			return;
		}
		if (v->color)
			sl_out_puts(b, status_color[SL_STATUS_ERROR]);
		out_fit(b, s, v->width > 0 ? v->width : 1 << 20, 0);
		if (v->color)
			sl_out_puts(b, COLOR_OFF);
		sl_out_puts(b, "\n");
		free(s);
	}
}

/* The width of each column: its name or its widest shown cell; then, when
 * the whole is wider than the view, the names give way, the stream keeping
 * the larger part. */
static void
column_widths(const struct sl_lag_report *r, const struct sl_table_view *v,
    const struct sl_lag_entry **rows, size_t shown, int w[SL_NCOLS])
{
	char	cell[1024];
	int	c, fixed = 0;

	for (c = 0; c < SL_NCOLS; c++)
		w[c] = text_width(col_names[c]);
	for (size_t i = 0; i < shown; i++)
		for (c = 0; c < SL_NCOLS; c++) {
			int tw = text_width(sl_table_cell(r, rows[i],
			    (enum sl_col)c, cell, sizeof(cell)));
			if (c == SL_COL_STATUS && tw > 9)
				tw = 9;	/* an error's words run to the end */
			if (tw > w[c])
				w[c] = tw;
		}
	for (c = SL_COL_LAG; c < SL_NCOLS; c++)
		fixed += w[c] + GAP;
	if (v->width > 0 && fixed + w[SL_COL_STREAM] + w[SL_COL_GROUP] + GAP >
	    v->width) {
		int room = v->width - fixed - GAP, gw;

		if (room < 12)
			room = 12;
		gw = w[SL_COL_GROUP] < room / 3 ? w[SL_COL_GROUP] : room / 3;
		if (w[SL_COL_STREAM] > room - gw)
			w[SL_COL_STREAM] = room - gw;
		else
			gw = room - w[SL_COL_STREAM];
		w[SL_COL_GROUP] = gw;
	}
}

/* The column names, in reverse video with colour. */
static void
heading(struct sl_out *b, const struct sl_table_view *v, const int w[SL_NCOLS])
{
	if (v->color)
		sl_out_puts(b, "\033[7m");
	for (int c = 0; c < SL_NCOLS; c++) {
		const char *name = col_names[c];

		if (c > 0)
			out_spaces(b, GAP);
		if (numeric((enum sl_col)c))
			out_spaces(b, w[c] - text_width(name));
		sl_out_puts(b, name);
		if (!numeric((enum sl_col)c) && c != SL_COL_STATUS)
			out_spaces(b, w[c] - text_width(name));
	}
	if (v->color)
		sl_out_puts(b, COLOR_OFF);
	sl_out_puts(b, "\n");
}

/* One row: numbers to the right, names cut to their width, the status
 * running to the edge of the view. */
static void
row(struct sl_out *b, const struct sl_lag_report *r,
    const struct sl_table_view *v, const struct sl_lag_entry *e,
    const int w[SL_NCOLS])
{
	char	cell[1024];
	int	used = 0;

	for (int c = 0; c < SL_NCOLS; c++) {
		const char *s = sl_table_cell(r, e, (enum sl_col)c, cell,
		    sizeof(cell));
		int colored = v->color && (c == SL_COL_LAG ||
		    c == SL_COL_STATUS);

		if (c > 0) {
			out_spaces(b, GAP);
			used += GAP;
		}
		if (colored)
			sl_out_puts(b, status_color[e->status]);
		if (numeric((enum sl_col)c)) {
			out_spaces(b, w[c] - text_width(s));
			sl_out_puts(b, s);
		} else if (c == SL_COL_STATUS)
			out_fit(b, s, v->width > 0 ? v->width - used : 1 << 20, 0);
		else
			out_fit(b, s, w[c], 1);
		if (colored)
			sl_out_puts(b, COLOR_OFF);
		used += w[c];
	}
	sl_out_puts(b, "\n");
}

char *
sl_render_table(const struct sl_lag_report *r, const struct sl_table_view *v,
    const char *note)
{
	const struct sl_lag_entry **rows = NULL;
	struct sl_out	 b;
	size_t		 n = 0, shown;
	int		 w[SL_NCOLS];

	sl_out_init(&b);
	header(&b, r, v, note);
	if (sl_table_rows(r, v, &rows, &n) == -1) {
		sl_out_free(&b);
		return NULL;
	}
	shown = n;
	if (v->height > 0 && n + 1 > (size_t)v->height)
		shown = v->height > 2 ? (size_t)v->height - 2 : 0;
	column_widths(r, v, rows, shown, w);
	heading(&b, v, w);
	for (size_t i = 0; i < shown; i++)
		row(&b, r, v, rows[i], w);
	if (shown < n)
		sl_out_printf(&b, "… %zu more (/ filters)\n", n - shown);
	else if (n == 0)
		sl_out_puts(&b, r->n == 0 ? "(no streams)\n" : "(no row matches the "
		    "filter)\n");
	free(rows);
	return sl_out_finish(&b, NULL);
}

/* A CSV field: quoted when it holds a comma, a quote or a line break. */
static void
csv_field(struct sl_out *b, const char *p, size_t len)
{
	char	*s = sl_utf8_sanitize(p != NULL ? p : "", p != NULL ? len : 0, 0,
	    &len);

	if (s == NULL) {
		sl_out_fail(b, SL_ENOMEM);
		return;
	}
	if (strpbrk(s, ",\"\r\n") == NULL) {
		sl_out_put(b, s, len);
	} else {
		sl_out_puts(b, "\"");
		for (size_t i = 0; i < len; i++) {
			sl_out_put(b, s + i, 1);
			if (s[i] == '"')
				sl_out_put(b, "\"", 1);	/* doubled */
		}
		sl_out_puts(b, "\"");
	}
	free(s);
}

char *
sl_render_csv(const struct sl_lag_report *r)
{
	struct sl_out		 b;
	struct sl_bytes		 tmp;
	const struct sl_bytes	*g;

	sl_out_init(&b);
	sl_out_puts(&b, "stream,group,lag,lag_exact,time_lag_ms,pending,consumers,"
	    "status,error\r\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct sl_lag_entry *e = &r->entries[i];

		csv_field(&b, e->stream.p, e->stream.len);
		sl_out_puts(&b, ",");
		g = group_of(r, e, &tmp);
		csv_field(&b, g->p, g->len);
		sl_out_putc(&b, ',');
		sl_out_int(&b, e->error ? -1 : e->lag);
		sl_out_puts(&b, e->error == NULL && (e->lag_exact ||
		    !e->has_group) ? ",true," : ",false,");
		if (e->error == NULL && e->has_group && e->has_time_lag)
			sl_out_int(&b, e->time_lag_ms);
		sl_out_putc(&b, ',');
		sl_out_int(&b, pending_of(e));
		sl_out_putc(&b, ',');
		sl_out_int(&b, consumers_of(e));
		sl_out_putc(&b, ',');
		sl_out_puts(&b, sl_status_name(e->status));
		sl_out_putc(&b, ',');
		if (e->error != NULL)
			csv_field(&b, e->error, strlen(e->error));
		sl_out_puts(&b, "\r\n");
	}
	return sl_out_finish(&b, NULL);
}
