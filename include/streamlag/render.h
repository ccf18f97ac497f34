/* SPDX-License-Identifier: ISC */
/* Reports into JSON text, through the writer of jsonw.h.  Names are bytes:
 * invalid UTF-8 becomes U+FFFD, control characters are escaped. */
#ifndef STREAMLAG_RENDER_H
#define STREAMLAG_RENDER_H

#include <stddef.h>

#include "streamlag/err.h"
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
