/* SPDX-License-Identifier: ISC */
/* The slot map of a Redis Cluster (slotmap.h): parsed from CLUSTER SLOTS,
 * corrected by MOVED.  Replies are checked for type and size at every level
 * before an element is read. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "streamlag/alloc.h"
#include "streamlag/slotmap.h"

void
sl_slotmap_init(struct sl_slotmap *m)
{
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < SL_CLUSTER_SLOTS; i++)
		m->slot[i] = SL_SLOT_NONE;
}

void
sl_slotmap_free(struct sl_slotmap *m)
{
	for (size_t i = 0; i < m->nnodes; i++)
		sl_free(m->nodes[i].host);
	sl_free(m->nodes);
	sl_slotmap_init(m);
}

static int
find_n(const struct sl_slotmap *m, const char *host, size_t len, int port)
{
	for (size_t i = 0; i < m->nnodes; i++)
		if (m->nodes[i].port == port &&
		    strlen(m->nodes[i].host) == len &&
		    memcmp(m->nodes[i].host, host, len) == 0)
			return (int)i;
	return -1;
}

int
sl_slotmap_find(const struct sl_slotmap *m, const char *host, int port)
{
	return find_n(m, host, strlen(host), port);
}

/* The index of host:port, added when new.  master: -1 for a master, else
 * the index of its master; a master is never made a replica here.  -1 on
 * ENOMEM or too many nodes (e says which). */
static int
add_node(struct sl_slotmap *m, const char *host, size_t len, int port,
    int master, struct sl_error *e)
{
	int	i = find_n(m, host, len, port);

	if (i >= 0) {
		if (master == -1 || m->nodes[i].master != -1)
			m->nodes[i].master = master;
		return i;
	}
	if (m->nnodes >= SL_SLOTMAP_MAX_NODES) {
		sl_seterr(e, SL_EPROTO, "more than %d cluster nodes",
		    SL_SLOTMAP_MAX_NODES);
		return -1;
	}
	if (m->nnodes == m->cap) {
		size_t	 cap = m->cap ? m->cap * 2 : 8;
		void	*p = sl_reallocarray(m->nodes, cap, sizeof(*m->nodes));

		if (p == NULL) {
			sl_seterr(e, SL_ENOMEM, NULL);
			return -1;
		}
		m->nodes = p;
		m->cap = cap;
	}
	if ((m->nodes[m->nnodes].host = sl_strndup(host, len)) == NULL) {
		sl_seterr(e, SL_ENOMEM, NULL);
		return -1;
	}
	m->nodes[m->nnodes].port = port;
	m->nodes[m->nnodes].master = master;
	return (int)m->nnodes++;
}

static int
valid_port(long long p)
{
	return p > 0 && p <= 65535;
}

/* One [host, port, id, ...] of an entry.  Its index, -2 for a node left
 * out (unknown endpoint), -1 on error. */
static int
parse_node(struct sl_slotmap *m, const redisReply *n, const char *origin,
    int master, struct sl_error *e)
{
	const redisReply *h, *p;
	const char	*host;
	size_t		 len;

	if (n->type != REDIS_REPLY_ARRAY || n->elements < 2) {
		sl_seterr(e, SL_EPROTO, "CLUSTER SLOTS: a node is not "
		    "[host, port, ...]");
		return -1;
	}
	h = n->element[0];
	p = n->element[1];
	if (p->type != REDIS_REPLY_INTEGER || !valid_port(p->integer) ||
	    (h->type != REDIS_REPLY_STRING && h->type != REDIS_REPLY_NIL) ||
	    (h->type == REDIS_REPLY_STRING && (h->len > SL_HOST_MAX ||
	    memchr(h->str, '\0', h->len) != NULL))) {
		sl_seterr(e, SL_EPROTO, "CLUSTER SLOTS: a node's host or port "
		    "is not valid");
		return -1;
	}
	if (h->type == REDIS_REPLY_STRING && h->len == 1 && h->str[0] == '?')
		return -2;
	host = h->type == REDIS_REPLY_STRING && h->len > 0 ? h->str : origin;
	len = host == h->str ? h->len : strlen(host);
	return add_node(m, host, len, (int)p->integer, master, e);
}

/* One [start, end, master, replicas...] entry into m. */
static enum sl_err
parse_range(struct sl_slotmap *m, const redisReply *r, const char *origin,
    struct sl_error *e)
{
	const redisReply *a, *b;
	int		 master, rep;

	if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
	    (a = r->element[0])->type != REDIS_REPLY_INTEGER ||
	    (b = r->element[1])->type != REDIS_REPLY_INTEGER ||
	    a->integer < 0 || b->integer < a->integer ||
	    b->integer >= SL_CLUSTER_SLOTS)
		return sl_seterr(e, SL_EPROTO, "CLUSTER SLOTS: an entry is not "
		    "[start, end, master, ...] with 0 <= start <= end < %d",
		    SL_CLUSTER_SLOTS);
	if ((master = parse_node(m, r->element[2], origin, -1, e)) == -1)
		return e != NULL ? e->code : SL_EPROTO;
	for (size_t i = 3; i < r->elements; i++) {
		rep = parse_node(m, r->element[i], origin, master < 0 ? -1 :
		    master, e);
		if (rep == -1)
			return e != NULL ? e->code : SL_EPROTO;
		if (rep >= 0 && master < 0)	/* no master known: not kept */
			m->nodes[rep].master = -1;
	}
	for (long long s = a->integer; master >= 0 && s <= b->integer; s++)
		m->slot[s] = (uint16_t)master;
	return SL_OK;
}

enum sl_err
sl_slotmap_parse_slots(struct sl_slotmap *m, const redisReply *r,
    const char *origin, struct sl_error *e)
{
	struct sl_slotmap *next;
	enum sl_err	 rc = SL_OK;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return sl_seterr(e, SL_EPROTO, "CLUSTER SLOTS: %s",
		    r != NULL && r->type == REDIS_REPLY_ERROR ? r->str :
		    "the reply is not an array");
	/* 16384 slots: on the heap, not on a worker's stack. */
	if ((next = sl_malloc(sizeof(*next))) == NULL)
		return sl_seterr(e, SL_ENOMEM, NULL);
	sl_slotmap_init(next);
	for (size_t i = 0; i < r->elements && rc == SL_OK; i++)
		rc = parse_range(next, r->element[i], origin, e);
	if (rc == SL_OK) {
		next->version = m->version + 1;
		sl_slotmap_free(m);
		*m = *next;
	} else {
		sl_slotmap_free(next);
	}
	sl_free(next);
	return rc;
}

int
sl_slotmap_lookup(const struct sl_slotmap *m, unsigned slot)
{
	if (slot >= SL_CLUSTER_SLOTS || m->slot[slot] == SL_SLOT_NONE)
		return -1;
	return m->slot[slot];
}

enum sl_err
sl_slotmap_moved(struct sl_slotmap *m, unsigned slot, const char *host,
    int port, struct sl_error *e)
{
	int	i;

	if (slot >= SL_CLUSTER_SLOTS || !valid_port(port) ||
	    strlen(host) > SL_HOST_MAX)
		return sl_seterr(e, SL_EINPUT, "MOVED: slot %u or %s:%d is not "
		    "valid", slot, host, port);
	if ((i = add_node(m, host, strlen(host), port, -1, e)) < 0)
		return e != NULL ? e->code : SL_ENOMEM;
	m->slot[slot] = (uint16_t)i;
	m->version++;
	return SL_OK;
}

/* "host:port", "[v6]:port" or ":port" (len bytes) into out.  0 or -1. */
static int
parse_endpoint(const char *s, size_t len, const char *answered,
    struct sl_redirect *out)
{
	const char	*colon = NULL, *h = s;
	size_t		 hlen;
	long		 port = 0;

	for (size_t i = 0; i < len; i++)
		if (s[i] == ':')
			colon = s + i;
	if (colon == NULL || colon + 1 == s + len || colon + 6 < s + len)
		return -1;
	for (const char *p = colon + 1; p < s + len; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		port = port * 10 + (*p - '0');
	}
	hlen = (size_t)(colon - s);
	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
		h = s + 1;
		hlen -= 2;
	}
	if (hlen == 0) {
		h = answered;
		hlen = answered != NULL ? strlen(answered) : 0;
	}
	if (hlen == 0 || hlen > SL_HOST_MAX || !valid_port(port) ||
	    memchr(h, '\0', hlen) != NULL)
		return -1;
	memcpy(out->host, h, hlen);
	out->host[hlen] = '\0';
	out->port = (int)port;
	return 0;
}

enum sl_err
sl_redirect_parse(const char *s, size_t len, const char *answered,
    struct sl_redirect *out, struct sl_error *e)
{
	size_t	 k, i;
	unsigned long slot = 0;

	memset(out, 0, sizeof(*out));
	/* The first word decides; what follows it must then be right. */
	if (len >= 5 && memcmp(s, "MOVED", 5) == 0 && (len == 5 || s[5] == ' '))
		k = 6;
	else if (len >= 3 && memcmp(s, "ASK", 3) == 0 && (len == 3 || s[3] == ' '))
		k = 4;
	else
		return SL_OK;
	for (i = k; i < len && s[i] >= '0' && s[i] <= '9' && i < k + 5; i++)
		slot = slot * 10 + (unsigned long)(s[i] - '0');
	if (i == k || i >= len || s[i] != ' ' || slot >= SL_CLUSTER_SLOTS ||
	    parse_endpoint(s + i + 1, len - i - 1, answered, out) == -1) {
		memset(out, 0, sizeof(*out));
		return sl_seterr(e, SL_EPROTO, "a redirection that cannot be "
		    "read: %.*s", (int)(len > 80 ? 80 : len), s);
	}
	out->kind = k == 6 ? SL_REDIRECT_MOVED : SL_REDIRECT_ASK;
	out->slot = (unsigned)slot;
	return SL_OK;
}
