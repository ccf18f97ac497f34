/* SPDX-License-Identifier: ISC */
/* Sentinel discovery's commands over the multi-node executor (sentinel.h):
 * one command, one node, one request, bounded by the discovery's deadline
 * rather than by each node's timeout alone. */
#include <string.h>

#include "streamlag/exec.h"
#include "streamlag/sentinel.h"

enum sl_err
sl_sentinel_exec_cmd(void *ctx, const struct sl_hostport *addr,
    int to_sentinel, int argc, const char **argv, redisReply **reply,
    struct sl_error *e)
{
	struct sl_sentinel_exec	*sx = ctx;
	struct sl_exec		*x = to_sentinel ? sx->sentinels : sx->nodes;
	struct sl_request	 q;
	const struct sl_error	*ne;
	size_t			 lens[SL_SENTINEL_ARGV_MAX], node, idx;
	enum sl_err		 rc;

	*reply = NULL;
	if (argc < 1 || argc > SL_SENTINEL_ARGV_MAX || addr->host == NULL)
		return sl_seterr(e, SL_EINPUT, "no address, or not 1 to %d "
		    "arguments", SL_SENTINEL_ARGV_MAX);
	if (sl_mono_ms() >= sx->deadline)
		return sl_seterr(e, SL_ETIMEOUT, "the discovery's deadline "
		    "passed");
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	if ((rc = sl_exec_node(x, addr->host, addr->port, NULL, &node,
	    e)) != SL_OK)
		return rc;
	sl_request_init(&q, x, sx->deadline);
	if ((rc = sl_request_add(&q, node, argc, argv, lens, &idx)) != SL_OK) {
		sl_request_free(&q);
		return sl_seterr(e, rc, NULL);
	}
	if ((rc = sl_exec(&q, e)) == SL_OK) {
		if (q.cmds[idx].state == SL_CMD_DONE) {
			*reply = q.cmds[idx].reply;	/* ours now */
			q.cmds[idx].reply = NULL;
		} else {
			ne = sl_request_error(&q, idx);
			rc = sl_seterr(e, ne != NULL && ne->code != SL_OK ?
			    ne->code : SL_EREDIS, "%s", ne != NULL ?
			    ne->str : "no reply");
		}
	}
	sl_request_free(&q);
	return rc;
}
