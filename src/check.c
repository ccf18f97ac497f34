/* SPDX-License-Identifier: ISC */
/* `streamlag check`: the results of the steps, how they are written (text
 * or JSON), the pure helpers the steps share, and the run itself.  The
 * Redis steps are in check_redis.c, the JWT key and the listen socket in
 * check_host.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/check.h"
#include "streamlag/jsonw.h"

static char *
dup_or_null(const char *s, int *oom)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*oom = 1;
	return d;
}

void
sl_checks_add(struct sl_checks *c, const char *step, const char *title,
    enum sl_check_state state, const char *detail, const char *fix)
{
	struct sl_check_item *it;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		struct sl_check_item *items = realloc(c->items, cap * sizeof(*items));

		if (items == NULL) {
			c->oom = 1;
			return;
		}
		c->items = items;
		c->cap = cap;
	}
	it = &c->items[c->n++];
	it->step = dup_or_null(step, &c->oom);
	it->title = dup_or_null(title, &c->oom);
	it->state = state;
	it->detail = dup_or_null(detail, &c->oom);
	it->fix = dup_or_null(fix, &c->oom);
	if (state == SL_CHECK_FAIL)
		c->failed++;
}

void
sl_checks_free(struct sl_checks *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->items[i].step);
		free(c->items[i].title);
		free(c->items[i].detail);
		free(c->items[i].fix);
	}
	free(c->items);
	memset(c, 0, sizeof(*c));
}

void
sl_checks_addf(struct sl_checks *c, const char *step, const char *title,
    enum sl_check_state state, const char *fix, const char *fmt, ...)
{
	char	 detail[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	sl_checks_add(c, step, title, state, detail, fix);
}

/* ---- pure helpers ---- */

int
sl_info_field(const char *info, const char *field, char *out, size_t outlen)
{
	size_t		 fl = strlen(field);
	const char	*p = info;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, field, fl) == 0 && p[fl] == ':') {
			size_t n = strcspn(p + fl + 1, "\r\n");
			snprintf(out, outlen, "%.*s", (int)n, p + fl + 1);
			return 0;
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return -1;
}

int
sl_server_describe(const char *info, char *server, size_t slen, char *mode,
    size_t mlen)
{
	char	 redis[64], valkey[64];

	if (sl_info_field(info, "redis_mode", mode, mlen) == -1 &&
	    sl_info_field(info, "server_mode", mode, mlen) == -1)
		snprintf(mode, mlen, "standalone");
	if (sl_info_field(info, "valkey_version", valkey, sizeof(valkey)) == 0) {
		if (sl_info_field(info, "redis_version", redis, sizeof(redis)) == 0)
			snprintf(server, slen, "Valkey %s (redis_version %s)",
			    valkey, redis);
		else
			snprintf(server, slen, "Valkey %s", valkey);
		return 0;
	}
	if (sl_info_field(info, "redis_version", redis, sizeof(redis)) == 0) {
		snprintf(server, slen, "Redis %s", redis);
		return 0;
	}
	snprintf(server, slen, "unknown");
	return -1;
}

int
sl_acl_rule_for(const char *err, const char *key, char *rule, size_t len)
{
	const char	*q, *end;
	size_t		 k;

	if (err == NULL || strncmp(err, "NOPERM", 6) != 0)
		return -1;
	/* "NOPERM this user has no permissions to run the 'xpending' command" */
	if ((q = strstr(err, "to run the '")) != NULL &&
	    (end = strchr(q + 12, '\'')) != NULL) {
		q += 12;
		snprintf(rule, len, "+%.*s", (int)(end - q), q);
		return 0;
	}
	/* "... to access one of the keys used as arguments": a read pattern
	 * that covers the key, by its prefix up to the last ':'. */
	if (strstr(err, "key") != NULL && key != NULL && *key != '\0') {
		const char *colon = strrchr(key, ':');

		if (colon != NULL && strpbrk(key, "*?[]\\") == NULL) {
			k = (size_t)(colon - key) + 1;
			snprintf(rule, len, "%%R~%.*s*", (int)k, key);
		} else
			snprintf(rule, len, "%%R~*");
		return 0;
	}
	if (strstr(err, "channel") != NULL) {
		snprintf(rule, len, "allchannels");
		return 0;
	}
	snprintf(rule, len, "+@read");
	return 0;
}

/* ---- output ---- */

static const char *const mark[] = {
	[SL_CHECK_OK] = "✔", [SL_CHECK_FAIL] = "✘", [SL_CHECK_SKIP] = "-",
};
static const char *const state_name[] = {
	[SL_CHECK_OK] = "ok", [SL_CHECK_FAIL] = "fail", [SL_CHECK_SKIP] = "skipped",
};

/* Terminal-safe copy of text from Redis or the system: controls → '?'. */
static void
put_safe(FILE *f, const char *s)
{
	size_t	 n;
	char	*t = sl_utf8_sanitize(s, strlen(s), 0, &n);

	if (t == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		fputc((unsigned char)t[i] < 0x20 || t[i] == 0x7f ? '?' : t[i], f);
	free(t);
}

char *
sl_checks_text(const struct sl_checks *c, int color)
{
	char	*buf = NULL;
	size_t	 len = 0, passed = 0;
	FILE	*f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	for (size_t i = 0; i < c->n; i++) {
		const struct sl_check_item *it = &c->items[i];

		if (color)
			fputs(it->state == SL_CHECK_OK ? "\033[32m" :
			    it->state == SL_CHECK_FAIL ? "\033[1;31m" : "\033[2m", f);
		fputs(mark[it->state], f);
		if (color)
			fputs("\033[0m", f);
		fputc(' ', f);
		put_safe(f, it->title != NULL ? it->title : "");
		if (it->detail != NULL && *it->detail != '\0') {
			fputs(": ", f);
			put_safe(f, it->detail);
		}
		if (it->fix != NULL && *it->fix != '\0') {
			fputs(" — ", f);
			put_safe(f, it->fix);
		}
		fputc('\n', f);
		passed += it->state == SL_CHECK_OK;
	}
	if (c->failed == 0)
		fprintf(f, "all %zu checks passed\n", passed);
	else
		fprintf(f, "%zu of %zu checks failed\n", c->failed,
		    c->failed + passed);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

char *
sl_checks_json(const struct sl_checks *c)
{
	struct sl_jw	 w;
	size_t		 passed = 0, len;

	for (size_t i = 0; i < c->n; i++)
		passed += c->items[i].state == SL_CHECK_OK;
	sl_jw_init(&w);
	sl_jw_obj(&w);
	sl_jw_kbool(&w, "ok", c->failed == 0);
	sl_jw_kint(&w, "passed", (long long)passed);
	sl_jw_kint(&w, "failed", (long long)c->failed);
	sl_jw_key(&w, "checks");
	sl_jw_arr(&w);
	for (size_t i = 0; i < c->n; i++) {
		const struct sl_check_item *it = &c->items[i];

		sl_jw_obj(&w);
		sl_jw_kstr(&w, "step", it->step != NULL ? it->step : "");
		sl_jw_kstr(&w, "title", it->title != NULL ? it->title : "");
		sl_jw_kstr(&w, "status", state_name[it->state]);
		sl_jw_key(&w, "detail");
		if (it->detail != NULL)
			sl_jw_str(&w, it->detail);
		else
			sl_jw_null(&w);
		sl_jw_key(&w, "fix");
		if (it->fix != NULL)
			sl_jw_str(&w, it->fix);
		else
			sl_jw_null(&w);
		sl_jw_obj_end(&w);
	}
	sl_jw_arr_end(&w);
	sl_jw_obj_end(&w);
	return sl_jw_finish(&w, &len);
}

int
sl_check_run(const struct sl_config *cfg, const char *source,
    const char *config_err, struct sl_checks *out)
{
	char	 streams[64];

	memset(out, 0, sizeof(*out));
	if (cfg == NULL) {
		sl_checks_add(out, "config", "configuration", SL_CHECK_FAIL,
		    config_err, NULL);
		return 1;
	}
	if (cfg->stream_pattern != NULL)
		snprintf(streams, sizeof(streams), "streams matching the pattern");
	else
		snprintf(streams, sizeof(streams), "%zu stream%s", cfg->nstreams,
		    cfg->nstreams == 1 ? "" : "s");
	sl_checks_addf(out, "config", "configuration", SL_CHECK_OK, NULL,
	    "%s; Redis %s; group %s; %s", source, cfg->redis_url_safe,
	    cfg->all_groups ? "* (every group)" : cfg->consumer_group, streams);
	sl_check_redis(cfg, out);
	sl_check_jwt(cfg, out);
	sl_check_listen(cfg, out);
	return out->failed > 0 || out->oom ? 1 : 0;
}
