/* SPDX-License-Identifier: ISC */
/* Named Redis targets: STREAMLAG_TARGETS=alpha,beta and, for each, the
 * per-target rows of the settings table read as
 * STREAMLAG_TARGET_<NAME>_<SETTING> (sl_target_load), the plain setting
 * being the default.  Without STREAMLAG_TARGETS the one target is the
 * plain settings, named "default". */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "streamlag/alloc.h"
#include "streamlag/config.h"

#define PREFIX		"STREAMLAG_TARGET_"
#define PREFIX_LEN	(sizeof(PREFIX) - 1)

int
sl_target_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > SL_TARGET_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isascii(c) || !(isalnum(c) || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

size_t
sl_config_ntargets(const struct sl_config *cfg)
{
	return cfg->targets != NULL ? cfg->ntargets : 1;
}

const struct sl_target *
sl_config_target(const struct sl_config *cfg, size_t i)
{
	return i > 0 ? &cfg->targets[i] : &cfg->target;
}

const char *
sl_config_target_name(const struct sl_config *cfg, size_t i)
{
	return cfg->targets != NULL ? cfg->target_names[i] : "default";
}

long
sl_config_target_find(const struct sl_config *cfg, const char *name,
    size_t len)
{
	for (size_t i = 0; i < sl_config_ntargets(cfg); i++) {
		const char *t = sl_config_target_name(cfg, i);

		if (strlen(t) == len && strncasecmp(t, name, len) == 0)
			return (long)i;
	}
	return -1;
}

/* One name of the list, lower-cased: its copy, and the prefix of its
 * variables ("STREAMLAG_TARGET_ALPHA_") in buf.  NULL when out of memory. */
static char *
name_at(const char *p, size_t len, char *buf, size_t buflen)
{
	char *name;

	if ((name = sl_calloc(1, len + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		name[i] = (char)tolower((unsigned char)p[i]);
	snprintf(buf, buflen, PREFIX "%s_", name);
	for (char *b = buf + PREFIX_LEN; *b != '\0'; b++)
		*b = (char)toupper((unsigned char)*b);
	return name;
}

static void
swap(struct sl_target *a, struct sl_target *b)
{
	struct sl_target t = *a;

	*a = *b;
	*b = t;
}

int
sl_config_targets_load(struct sl_config *cfg, sl_lookup_fn lookup, void *ctx,
    char *err, size_t errlen)
{
	const char	*p = cfg->targets_spec;
	char		 prefix[PREFIX_LEN + SL_TARGET_NAME_MAX + 2];
	size_t		 n = 1, len;

	if (p == NULL)
		return 0;	/* checked by the row: names valid, 1 to max */
	for (const char *c = p; (c = strchr(c, ',')) != NULL; c++)
		n++;
	if ((cfg->targets = sl_calloc(n, sizeof(*cfg->targets))) == NULL ||
	    (cfg->target_names = sl_calloc(n, sizeof(char *))) == NULL)
		goto nomem;
	for (; cfg->ntargets < n; p += len + 1) {
		len = strcspn(p, ",");
		if ((cfg->target_names[cfg->ntargets] = name_at(p, len, prefix,
		    sizeof(prefix))) == NULL)
			goto nomem;
		if (sl_target_load(&cfg->targets[cfg->ntargets], prefix, lookup,
		    ctx, err, errlen) == -1) {
			sl_free(cfg->target_names[cfg->ntargets]);
			return -1;
		}
		cfg->ntargets++;
	}
	/* The first named target is the default one: it takes the plain
	 * fields, which all of streamlag that knows one target reads (the
	 * sampler, check, top, demo); targets[0] keeps the plain settings,
	 * read no more. */
	swap(&cfg->target, &cfg->targets[0]);
	return 0;
nomem:
	snprintf(err, errlen, "STREAMLAG_TARGETS: out of memory");
	return -1;
}

void
sl_config_targets_free(struct sl_config *cfg)
{
	for (size_t i = 0; i < cfg->ntargets; i++) {
		sl_target_free(&cfg->targets[i]);
		sl_free(cfg->target_names[i]);
	}
	sl_free(cfg->targets);
	sl_free(cfg->target_names);
	cfg->targets = NULL;
	cfg->target_names = NULL;
	cfg->ntargets = 0;
}

int
sl_config_target_known(const char *name)
{
	size_t		 n, slen, rlen;
	const struct sl_setting *rows = sl_settings(&n);

	if (strncmp(name, PREFIX, PREFIX_LEN) != 0)
		return 0;
	name += PREFIX_LEN;
	rlen = strlen(name);
	for (size_t i = 0; i < n; i++) {
		const char *suffix = sl_setting_suffix(&rows[i]);

		if (rows[i].scope != SL_SCOPE_TARGET)
			continue;
		slen = strlen(suffix);
		if (rlen > slen + 1 && name[rlen - slen - 1] == '_' &&
		    strcmp(name + rlen - slen, suffix) == 0 &&
		    sl_target_name_valid(name, rlen - slen - 1))
			return 1;
	}
	return 0;
}

int
sl_config_pick_target(struct sl_config *cfg, const char *name)
{
	long	 i;

	if ((i = sl_config_target_find(cfg, name, strlen(name))) == -1)
		return -1;
	if (cfg->targets == NULL)
		return 0;	/* "default", the one there is */
	if (i > 0)	/* target 0 is in the plain fields already */
		swap(&cfg->target, &cfg->targets[i]);	/* freed with the rest */
	sl_config_targets_free(cfg);
	return 0;
}
