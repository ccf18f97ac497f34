/* SPDX-License-Identifier: ISC */
/* One connection per Redis target in each process (see targets.h). */
#include <stddef.h>
#include <stdio.h>

#include "streamlag/alloc.h"
#include "streamlag/jsonw.h"
#include "streamlag/targets.h"

_Static_assert(SL_SHARED_TARGETS >= SL_TARGETS_MAX,
    "a discovery cache per target");

struct sl_redis *
sl_targets_open(const struct sl_config *cfg, struct sl_counters *counters,
    struct sl_lagcache *lagcache, struct sl_discache *discache)
{
	size_t			 n = sl_config_ntargets(cfg);
	struct sl_redis		*r;

	if ((r = sl_calloc(n, sizeof(*r))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct sl_target *t = sl_config_target(cfg, i);

		sl_redis_init(&r[i], &t->redis, t->redis_timeout_ms);
		r[i].mode = t->redis_mode;
		r[i].request_timeout_ms = t->request_timeout_ms;
		r[i].counters = counters;
		r[i].discovery_ttl_ms = t->discovery_ttl_ms;
		r[i].target = sl_config_target_name(cfg, i);
		r[i].lagcache = lagcache;
		r[i].discache = discache != NULL ? &discache[i] : NULL;
	}
	return r;
}

void
sl_targets_close(struct sl_redis *r, size_t n)
{
	for (size_t i = 0; r != NULL && i < n; i++)
		sl_redis_close(&r[i]);
	sl_free(r);
}

static void
target_state(struct sl_jw *w, const struct sl_target_state *s)
{
	char version[48];

	sl_jw_obj(w);
	sl_jw_kstr(w, "name", s->name);
	sl_jw_kstr(w, "mode", s->mode);
	sl_jw_kint(w, "nodes", s->nodes);
	sl_jw_kbool(w, "up", s->up);
	if (s->server_known && s->server.kind != SL_SERVER_UNKNOWN) {
		snprintf(version, sizeof(version), "%d.%d.%d", s->server.major,
		    s->server.minor, s->server.patch);
		sl_jw_kstr(w, "server", sl_server_name(&s->server));
		sl_jw_kstr(w, "version", version);
	} else {
		sl_jw_key(w, "server");
		sl_jw_null(w);
		sl_jw_key(w, "version");
		sl_jw_null(w);
	}
	/* A target not reached has no verdict but "unhealthy", as
	 * /api/v1/events/health answers when Redis is down; one reached whose
	 * lag Redis does not know (or whose streams are not discovered yet)
	 * is "unknown" (probe.h). */
	sl_jw_kstr(w, "status", s->status_known ? sl_status_name(s->status) :
	    s->up ? "unknown" : sl_status_name(SL_STATUS_UNHEALTHY));
	sl_jw_kint(w, "groups", s->groups);
	sl_jw_kint(w, "lag_unknown", s->lag_unknown);
	sl_jw_kint(w, "round_trips", s->round_trips);
	sl_jw_kint(w, "elapsed_ms", s->elapsed_ms);
	sl_jw_obj_end(w);
}

char *
sl_render_targets(const struct sl_target_state *s, size_t n,
    const char *default_name)
{
	struct sl_jw w;

	sl_jw_init(&w);
	sl_jw_obj(&w);
	sl_jw_kstr(&w, "default", default_name);
	sl_jw_key(&w, "targets");
	sl_jw_arr(&w);
	for (size_t i = 0; i < n; i++)
		target_state(&w, &s[i]);
	sl_jw_arr_end(&w);
	sl_jw_obj_end(&w);
	return sl_jw_finish(&w, NULL);
}
