/* SPDX-License-Identifier: ISC */
/* `streamlag top`: a live table of every stream and group, in plain ANSI.
 *
 * Each refresh is one consumer-lag request through the router, in process
 * (same selection, discovery and collector as the server); the table is
 * table.c's.  The terminal is put in non-canonical mode on the alternate
 * screen and restored on every way out: q, Ctrl-C, SIGTERM, SIGHUP.  The
 * signal handlers only set flags; poll() wakes up on them (no SA_RESTART).
 */
#include <sys/ioctl.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "streamlag/http.h"
#include "streamlag/log.h"
#include "streamlag/redis.h"
#include "streamlag/router.h"
#include "streamlag/table.h"
#include "streamlag/top.h"

#define LAG_PATH	"/api/v1/events/consumer-lag"

/* Alternate screen, cursor hidden, no autowrap (long lines are clipped
 * instead of breaking the layout); and back. */
#define TERM_ENTER	"\033[?1049h\033[?25l\033[?7l\033[H\033[2J"
#define TERM_LEAVE	"\033[?7h\033[?25h\033[?1049l"

static volatile sig_atomic_t	got_quit, got_winch;

static void
on_quit(int sig)
{
	got_quit = sig;
}

static void
on_winch(int sig)
{
	(void)sig;
	got_winch = 1;
}

struct top {
	const struct sl_config	*cfg;
	const struct sl_top_opts *o;
	struct sl_redis		 redis;
	struct sl_ctx		 ctx;
	struct sl_lag_report	 rep;
	char			 note[600];	/* why the last refresh failed */
	char			 updated[16];	/* HH:MM:SS of the last refresh */
	struct sl_table_view	 view;
	int			 paused, filtering;
	int			 rows, cols;
	struct termios		 saved;
	int			 raw;
};

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
put(const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* One consumer-lag request; the report replaces the last one.  0, or -1
 * with note set (Redis unreachable: its cause). */
static int
refresh(struct top *t)
{
	struct sl_request	 req;
	struct sl_response	 resp;
	struct sl_lag_report	 rep;
	struct tm		 tm;
	time_t			 now = time(NULL);
	int			 rc = 0;

	memset(&req, 0, sizeof(req));
	memset(&rep, 0, sizeof(rep));
	req.method = "GET";
	req.path = LAG_PATH;
	req.now = now;
	req.skip_auth = 1;
	t->ctx.lag_out = &rep;
	sl_route(&t->ctx, &req, &resp);
	t->ctx.lag_out = NULL;
	t->note[0] = '\0';
	if (resp.status == 503) {
		sl_redis_cause(&t->redis, t->note, sizeof(t->note));
		rc = -1;
	} else if (resp.status != 200) {
		snprintf(t->note, sizeof(t->note), "HTTP %d: %.*s", resp.status,
		    (int)(resp.body_len > 200 ? 200 : resp.body_len),
		    resp.body != NULL ? resp.body : "");
		rc = -1;
	}
	sl_response_free(&resp);
	sl_lag_report_free(&t->rep);
	t->rep = rep;
	localtime_r(&now, &tm);
	strftime(t->updated, sizeof(t->updated), "%H:%M:%S", &tm);
	return rc;
}

static void
term_size(struct top *t)
{
	struct winsize ws;

	t->rows = 24;
	t->cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0) {
		t->rows = ws.ws_row;
		t->cols = ws.ws_col;
	}
}

static void
term_restore(struct top *t)
{
	if (!t->raw)
		return;
	put(TERM_LEAVE, sizeof(TERM_LEAVE) - 1);
	tcsetattr(STDIN_FILENO, TCSADRAIN, &t->saved);
	t->raw = 0;
}

static int
term_raw(struct top *t)
{
	struct termios raw;

	if (tcgetattr(STDIN_FILENO, &t->saved) == -1)
		return -1;
	raw = t->saved;
	/* Keys one at a time, not echoed; ISIG kept: Ctrl-C is SIGINT. */
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == -1)
		return -1;
	t->raw = 1;
	put(TERM_ENTER, sizeof(TERM_ENTER) - 1);
	return 0;
}

static const char *const sort_keys = "ngltpcs";	/* by enum sl_col */

/* Writes the line [p, end) cut to `cols` columns (escape sequences pass,
 * a code point is one column), then clears to the end of the line. */
static void
put_line(FILE *f, const char *p, const char *end, int cols, int color)
{
	int w = 0;

	while (p < end) {
		if (*p == '\033') {
			const char *q = p + 1;
			while (q < end && !((*q >= 'A' && *q <= 'Z') ||
			    (*q >= 'a' && *q <= 'z')))
				q++;
			q += q < end;
			fwrite(p, 1, (size_t)(q - p), f);
			p = q;
			continue;
		}
		if (((unsigned char)*p & 0xc0) != 0x80) {
			if (w == cols)
				break;
			w++;
		}
		fputc(*p++, f);
	}
	fputs(color ? "\033[0m\033[K" : "\033[K", f);
}

static void
draw(struct top *t)
{
	char	 line[1024], *table, *out = NULL;
	size_t	 len = 0;
	FILE	*f;
	int	 used = 2, color = t->view.color;

	term_size(t);
	if ((f = open_memstream(&out, &len)) == NULL)
		return;
	fputs("\033[H", f);
	snprintf(line, sizeof(line), "streamlag top%s  %s  group %s  every %g s"
	    "  %s", t->paused ? "  [paused]" : "", t->cfg->redis_url_safe,
	    t->rep.all_groups ? "*" : t->cfg->consumer_group,
	    t->o->interval_ms / 1000.0, t->updated);
	if (color)
		fputs("\033[1m", f);
	put_line(f, line, line + strlen(line), t->cols, color);
	fputc('\n', f);
	t->view.width = t->cols;
	t->view.height = t->rows - 3 - (t->note[0] != '\0');
	if (t->view.height < 2)
		t->view.height = 2;
	if ((table = sl_render_table(&t->rep, &t->view, t->note)) != NULL) {
		for (char *p = table, *nl; *p != '\0'; p = nl + 1) {
			if ((nl = strchr(p, '\n')) == NULL || used >= t->rows)
				break;
			put_line(f, p, nl, t->cols, color);
			fputc('\n', f);
			used++;
		}
		free(table);
	}
	fputs("\033[J", f);
	/* The key line, at the bottom. */
	if (t->filtering)
		snprintf(line, sizeof(line), "filter: %s_   (Enter: apply, Esc: "
		    "clear)", t->view.filter);
	else
		snprintf(line, sizeof(line), "%s%s%ssort: %s%s  keys: n g l t p c "
		    "s sort, r reverse, / filter, space %s, q quit",
		    t->view.filter[0] ? "[" : "", t->view.filter,
		    t->view.filter[0] ? "]  " : "", sl_col_name(t->view.sort),
		    t->view.reverse ? " (reversed)" : "",
		    t->paused ? "resume" : "pause");
	fprintf(f, "\033[%d;1H", t->rows);
	if (color)
		fputs("\033[7m", f);
	put_line(f, line, line + strlen(line), t->cols, color);
	if (fclose(f) == 0)
		put(out, len);
	free(out);
}

/* Returns 1 when the key asks to quit. */
static int
key(struct top *t, unsigned char k)
{
	const char *s;

	if (t->filtering) {
		size_t n = strlen(t->view.filter);

		if (k == '\r' || k == '\n')
			t->filtering = 0;
		else if (k == 0x1b) {
			t->filtering = 0;
			t->view.filter[0] = '\0';
		} else if (k == 0x7f || k == 0x08) {
			if (n > 0)
				t->view.filter[n - 1] = '\0';
		} else if (k >= 0x20 && n < SL_TABLE_FILTER_MAX) {
			t->view.filter[n] = (char)k;
			t->view.filter[n + 1] = '\0';
		}
		return 0;
	}
	if (k == 'q' || k == 'Q')
		return 1;
	if (k == ' ')
		t->paused = !t->paused;
	else if (k == 'r')
		t->view.reverse = !t->view.reverse;
	else if (k == '/') {
		t->filtering = 1;
		t->view.filter[0] = '\0';
	} else if (k != '\0' && (s = strchr(sort_keys, k)) != NULL) {
		enum sl_col c = (enum sl_col)(s - sort_keys);

		if (t->view.sort != c)
			t->view.reverse = 0;
		t->view.sort = c;
	}
	return 0;
}

static int
use_color(void)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0');
}

static int
run_once(struct top *t)
{
	char	*table;
	int	 rc = refresh(t);

	t->view.color = use_color();
	if ((table = sl_render_table(&t->rep, &t->view, t->note)) == NULL)
		return 1;
	fputs(table, stdout);
	free(table);
	return fflush(stdout) != 0 || rc != 0 ? 1 : 0;
}

static int
run_live(struct top *t)
{
	struct sigaction sa;
	long long	 next = 0;
	int		 quit = 0;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "streamlag: top: needs a terminal on stdin and "
		    "stdout (--once prints one table)\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_quit;	/* no SA_RESTART: poll() wakes up */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_winch;
	sigaction(SIGWINCH, &sa, NULL);
	t->view.color = use_color();
	if (term_raw(t) == -1) {
		fprintf(stderr, "streamlag: top: cannot set up the terminal: %s\n",
		    strerror(errno));
		return 2;
	}
	while (!quit && !got_quit) {
		struct pollfd	 pfd = { STDIN_FILENO, POLLIN, 0 };
		long long	 now = mono_ms();
		int		 wait, n;

		if (!t->paused && now >= next) {
			refresh(t);
			next = mono_ms() + t->o->interval_ms;
			draw(t);
			continue;
		}
		wait = t->paused ? -1 : (int)(next - now);
		n = poll(&pfd, 1, wait);
		if (got_winch) {
			got_winch = 0;
			draw(t);
		}
		if (n > 0 && (pfd.revents & (POLLHUP | POLLERR)))
			break;
		if (n > 0 && (pfd.revents & POLLIN)) {
			unsigned char	 buf[64];
			ssize_t		 r = read(STDIN_FILENO, buf, sizeof(buf));

			if (r == 0)
				break;
			for (ssize_t i = 0; i < r && !quit; i++) {
				/* An escape sequence (arrows, F-keys) is not
				 * ours, except Esc alone in the filter. */
				if (buf[i] == 0x1b && i + 1 < r && !t->filtering)
					break;
				quit = key(t, buf[i]);
			}
			if (!quit)
				draw(t);
		}
	}
	term_restore(t);
	return 0;
}

int
sl_top_run(const struct sl_config *cfg, const struct sl_top_opts *o)
{
	struct top	*t = calloc(1, sizeof(*t));
	int		 rc;

	if (t == NULL)
		return 1;
	t->cfg = cfg;
	t->o = o;
	t->view.sort = SL_COL_LAG;
	sl_redis_init(&t->redis, &cfg->redis, cfg->redis_timeout_ms);
	t->redis.mode = cfg->redis_mode;
	t->redis.request_timeout_ms = cfg->request_timeout_ms;
	t->ctx.cfg = cfg;
	t->ctx.redis = &t->redis;
	t->ctx.counters = NULL;
	t->ctx.history = NULL;
	t->ctx.lag_out = NULL;
	t->ctx.stream = NULL;
	/* The screen is the output: log lines would tear it. */
	sl_log_set_level(SL_LOG_ERROR);
	rc = o->once ? run_once(t) : run_live(t);
	sl_lag_report_free(&t->rep);
	sl_redis_close(&t->redis);
	free(t);
	return rc;
}
