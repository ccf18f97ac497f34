/* SPDX-License-Identifier: ISC */
/* A streaming JSON writer: RFC 8259 output into an sl_out (out.h), with
 * the escaping json-c uses (\" \\ \b \f \n \r \t, other controls as \u00xx,
 * "/" left alone) and every string turned into valid UTF-8 (U+FFFD for each
 * maximal invalid subpart).  json-c builds a tree of small heap objects;
 * for 10 000 streams that tree cost more than asking Redis, so the hot
 * answers are written straight out.  Errors stick: check once at the end. */
#ifndef STREAMLAG_JSONW_H
#define STREAMLAG_JSONW_H

#include <stddef.h>

#include "streamlag/err.h"
#include "streamlag/out.h"

#define SL_JW_DEPTH 16

struct sl_jw {
	struct sl_out	*out;		/* where the text goes */
	struct sl_out	 own;		/* out, after sl_jw_init */
	int		 misuse;	/* too deep, or unbalanced */
	int		 depth;
	unsigned char	 first[SL_JW_DEPTH];	/* nothing written yet at this level */
};

/* Into a buffer of the writer's own, for sl_jw_finish. */
void	sl_jw_init(struct sl_jw *w);
/* Into out, which the caller owns (and may have given a sink). */
void	sl_jw_init_out(struct sl_jw *w, struct sl_out *out);
/* SL_OK once the document is whole; the error of out (SL_ENOMEM, SL_ESYS
 * from a sink), or SL_EINPUT when the writer was misused. */
enum sl_err sl_jw_end(const struct sl_jw *w);
/* Out of memory outside the writer (a name being made into a key). */
void	sl_jw_nomem(struct sl_jw *w);
/* The text (owned by the caller), or NULL when anything failed. */
char	*sl_jw_finish(struct sl_jw *w, size_t *len);
void	sl_jw_free(struct sl_jw *w);

void	sl_jw_obj(struct sl_jw *w);		/* { */
void	sl_jw_obj_end(struct sl_jw *w);		/* } */
void	sl_jw_arr(struct sl_jw *w);		/* [ */
void	sl_jw_arr_end(struct sl_jw *w);		/* ] */
/* An object key: bytes, sanitized; a NUL becomes U+FFFD (keys are names). */
void	sl_jw_key(struct sl_jw *w, const char *key);
void	sl_jw_key_bytes(struct sl_jw *w, const char *p, size_t len);
/* Values: strings are bytes, sanitized (a NUL is written as \u0000). */
void	sl_jw_str(struct sl_jw *w, const char *s);
void	sl_jw_str_bytes(struct sl_jw *w, const char *p, size_t len);
void	sl_jw_int(struct sl_jw *w, long long v);
void	sl_jw_bool(struct sl_jw *w, int v);
void	sl_jw_null(struct sl_jw *w);
/* Shorthands for "key": value. */
void	sl_jw_kstr(struct sl_jw *w, const char *key, const char *s);
void	sl_jw_kint(struct sl_jw *w, const char *key, long long v);
void	sl_jw_kbool(struct sl_jw *w, const char *key, int v);
/* "key": v, or "key": null when !present. */
void	sl_jw_kopt(struct sl_jw *w, const char *key, int present, long long v);
/* "key": v with three decimals, or "key": null when !present. */
void	sl_jw_kfixed3(struct sl_jw *w, const char *key, int present, double v);

/* Bytes into valid UTF-8 (invalid sequences → U+FFFD, NUL → U+FFFD when
 * `nul_ok` is 0).  Returns an sl_malloc'd string and its length in *outlen. */
char	*sl_utf8_sanitize(const char *p, size_t len, int nul_ok, size_t *outlen);

#endif
