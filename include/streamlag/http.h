/* SPDX-License-Identifier: ISC */
/* Requests and responses, independent of FastCGI: the worker and
 * `streamlag get` fill an sl_request and write out an sl_response. */
#ifndef STREAMLAG_HTTP_H
#define STREAMLAG_HTTP_H

#include <stddef.h>
#include <time.h>

#define SL_QUERY_MAX	4096	/* bytes of QUERY_STRING */
#define SL_PATH_MAX	1024	/* bytes of the path */

struct sl_request {
	const char	*method;	/* REQUEST_METHOD */
	const char	*path;		/* path without the query */
	const char	*query;		/* QUERY_STRING, may be NULL */
	const char	*authorization;	/* HTTP_AUTHORIZATION, may be NULL */
	time_t		 now;
	int		 skip_auth;	/* `streamlag get` */
};

struct sl_response {
	int		 status;
	const char	*content_type;	/* static */
	char		*body;		/* owned */
	size_t		 body_len;
	const char	*allow;		/* Allow header, static, or NULL */
	const char	*www_authenticate;	/* static, or NULL */
	int		 no_store;	/* Cache-Control: no-store */
};

const char *sl_http_reason(int status);
/* Sets status and the {"error","code"} body.  Returns -1 when out of memory
 * (the response then carries a static fallback body). */
int	sl_http_error(struct sl_response *resp, int status, const char *code,
	    const char *message);
void	sl_response_free(struct sl_response *resp);

/*
 * Query parameters: name=value pairs, percent-decoded.  Returns 0, or -1 with
 * err set for a malformed query (bad escape, embedded NUL, too long).
 */
struct sl_query_param {
	char	*name;
	char	*value;
	size_t	 value_len;
};
int	sl_query_parse(const char *query, struct sl_query_param **out,
	    size_t *n, char *err, size_t errlen);
void	sl_query_free(struct sl_query_param *q, size_t n);

#endif
