/* SPDX-License-Identifier: ISC */
/* Reports into JSON text, through the writer of jsonw.h.  Names are bytes:
 * invalid UTF-8 becomes U+FFFD, control characters are escaped. */
#ifndef STREAMLAG_RENDER_H
#define STREAMLAG_RENDER_H

#include <stddef.h>

#include "streamlag/err.h"
#include "streamlag/jsonw.h"
#include "streamlag/model.h"
#include "streamlag/out.h"

struct sl_render_opts {
	int		 transport_redis_streams;	/* health transport_mode */
	const char	*consumer_group;
};

/* The consumer-lag answer into out, which may have a sink: SL_OK, or out's
 * error (SL_ENOMEM; SL_ESYS when the sink failed). */
enum sl_err sl_render_lag_out(const struct sl_lag_report *r,
	    struct sl_out *out);

/*
 * The same answer written as the report is collected, a chunk at a time:
 * begin (names: the request's streams, which decide how keys are made
 * unique; NULL: the report's entries), then entries from index from on
 * for each chunk, then end once the report's totals are final.  The entries
 * may be freed between calls.  end returns as sl_render_lag_out; abandon
 * frees what begin took when end will not be called.
 */
struct keyset;
struct sl_lag_render {
	struct sl_jw	 w;
	struct keyset	*ks;
	const char	*group;
};
void	sl_render_lag_begin(struct sl_lag_render *lr, struct sl_out *out,
	    const struct sl_lag_report *r, char *const *names, size_t n);
void	sl_render_lag_entries(struct sl_lag_render *lr,
	    const struct sl_lag_report *r, size_t from);
enum sl_err sl_render_lag_end(struct sl_lag_render *lr,
	    const struct sl_lag_report *r);
void	sl_render_lag_abandon(struct sl_lag_render *lr);

/* Each returns an sl_malloc'd NUL-terminated string, or NULL when out of
 * memory. */
char	*sl_render_lag(const struct sl_lag_report *r);
char	*sl_render_streams(const struct sl_streams_report *r);
char	*sl_render_health(const struct sl_health *h,
	    const struct sl_render_opts *o);
/* Redis unreachable: the seed's unhealthy health body. */
char	*sl_render_health_down(const char *message);
/* {"error": message, "code": code} */
char	*sl_render_error(const char *code, const char *message);

#include "streamlag/jsonw.h"	/* sl_utf8_sanitize */

#endif
