/* SPDX-License-Identifier: ISC */
/* A pending entries list into answers (pel.h): pure, no allocation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/pel.h"

/* "ms-seq" or "ms" into two numbers; 0 when it does not parse. */
static int
id_parse(const char *s, unsigned long long *ms, unsigned long long *seq)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return 0;
	errno = 0;
	*ms = strtoull(s, &end, 10);
	if (errno != 0)
		return 0;
	*seq = 0;
	if (*end == '\0')
		return 1;
	if (*end != '-' || end[1] < '0' || end[1] > '9')
		return 0;
	s = end + 1;
	*seq = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

int
sl_pel_idcmp(const char *a, const char *b, int *bad)
{
	unsigned long long ams, aseq, bms, bseq;

	if (!id_parse(a, &ams, &aseq) || !id_parse(b, &bms, &bseq)) {
		*bad = 1;
		return 0;
	}
	if (ams != bms)
		return ams < bms ? -1 : 1;
	if (aseq != bseq)
		return aseq < bseq ? -1 : 1;
	return 0;
}

static long long
dead_consumers(const struct sl_consumer *c, ssize_t nc, long long dead_ms)
{
	long long n = 0;

	if (nc < 0)
		return -1;
	for (ssize_t i = 0; i < nc; i++) {
		if (c[i].pending <= 0)
			continue;
		if (c[i].has_inactive ? (c[i].inactive_ms < 0 ||
		    c[i].inactive_ms >= dead_ms) : c[i].idle_ms >= dead_ms)
			n++;
	}
	return n;
}

static void
poison(const struct sl_pel_item *x, const struct sl_pel_limits *lim,
    struct sl_pel_report *o)
{
	if (x->deliveries > o->max_deliveries)
		o->max_deliveries = x->deliveries;
	if (x->deliveries < lim->poison_deliveries)
		return;
	o->poison++;
	if (o->npoison_ids < SL_PEL_IDS_LISTED)
		memcpy(o->poison_ids[o->npoison_ids++], x->id, SL_ID_MAX);
}

void
sl_pel_analyze(const struct sl_pel_item *it, size_t n,
    long long group_pending, const char *first_id,
    const struct sl_consumer *c, ssize_t nc,
    const struct sl_pel_limits *lim, struct sl_pel_report *o)
{
	int bad = 0;

	memset(o, 0, sizeof(*o));
	o->scanned = (long long)n;
	o->truncated = group_pending >= 0 ? group_pending > (long long)n :
	    (long long)n >= lim->scan;
	o->max_deliveries = -1;
	o->dangling = first_id == NULL ? -1 : 0;
	for (size_t i = 0; i < n; i++) {
		poison(&it[i], lim, o);
		if (it[i].idle_ms < 0)
			o->unowned++;
		else if (it[i].idle_ms >= lim->claim_idle_ms)
			o->claimable++;
		if (first_id != NULL && (first_id[0] == '\0' ||
		    sl_pel_idcmp(it[i].id, first_id, &bad) < 0))
			o->dangling++;
	}
	if (bad)
		o->dangling = -1;
	o->dead_consumers = dead_consumers(c, nc, lim->dead_consumer_ms);
}
