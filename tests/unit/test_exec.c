/* SPDX-License-Identifier: ISC */
/* The parts of the executor that need no server: nodes
 * and requests built (and refused) under every allocation failure, the
 * round trips counted per node, re-queue rules and the handshake bytes.
 * tests/integration/17-exec.t runs it against real servers. */
#include "sl_test.h"

#include "streamlag/alloc.h"
#include "streamlag/exec.h"

static void
test_handshake_bytes(void **state)
{
	struct sl_node_auth a = { .user = "streamlag", .password = "pw",
	    .db = 3 };
	struct sl_node	 n;
	static const char want[] = "*3\r\n$4\r\nAUTH\r\n$9\r\nstreamlag\r\n"
	    "$2\r\npw\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n";

	(void)state;
	assert_int_equal(sl_node_init(&n, "::1", 7000, NULL, &a, 100, NULL),
	    SL_OK);
	assert_string_equal(n.name, "[::1]:7000");
	assert_int_equal(n.nsetup, 2);
	assert_int_equal(n.setuplen, sizeof(want) - 1);
	assert_memory_equal(n.setup, want, n.setuplen);
	sl_node_free(&n);
	a.user = NULL;
	a.db = 0;
	assert_int_equal(sl_node_init(&n, NULL, 0, "/run/redis.sock", &a, 100,
	    NULL), SL_OK);
	assert_string_equal(n.name, "unix:/run/redis.sock");
	assert_int_equal(n.nsetup, 1);
	assert_memory_equal(n.setup, "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n", n.setuplen);
	sl_node_free(&n);
	assert_int_equal(sl_node_init(&n, "h", 1, NULL, NULL, 100, NULL), SL_OK);
	assert_int_equal(n.nsetup, 0);
	sl_node_free(&n);
}

/* Builds an executor of 3 nodes and a request of 40 commands; SL_OK or
 * the first failure. */
static enum sl_err
build(struct sl_exec *x, struct sl_request *q)
{
	struct sl_node_auth a = { .user = "u", .password = "p" };
	const char	*argv[] = { "TIME" };
	size_t		 len = 4, idx, n[3];
	enum sl_err	 rc;

	sl_exec_init(x, &a, 1000);
	sl_request_init(q, x, sl_mono_ms() + 1000);
	for (int i = 0; i < 3; i++)
		if ((rc = sl_exec_node(x, "127.0.0.1", 7000 + i, NULL, &n[i],
		    NULL)) != SL_OK)
			return rc;
	for (size_t k = 0; k < 40; k++)
		if ((rc = sl_request_add(q, n[k % 3], 1, argv, &len,
		    &idx)) != SL_OK)
			return rc;
		else if (idx != k)
			return SL_EPROTO;
	return SL_OK;
}

static void
test_build_enomem(void **state)
{
	struct sl_exec	 x;
	struct sl_request q;
	long		 n;

	(void)state;
	for (n = 0; ; n++) {
		enum sl_err rc;

		sl_alloc_fail_after(n);
		rc = build(&x, &q);
		sl_alloc_reset();
		if (rc == SL_OK)
			break;
		assert_int_equal(rc, SL_ENOMEM);
		sl_request_free(&q);
		sl_exec_free(&x);
	}
	assert_true(n > 10);
	assert_int_equal(x.nnodes, 3);
	assert_int_equal(q.n, 40);
	assert_int_equal(q.pending, 40);
	assert_int_equal(q.round_trips, 3);
	assert_int_equal(x.nodes[0]->qn, 14);
	assert_int_equal(x.nodes[0]->round_trips, 1);
	sl_request_free(&q);
	sl_exec_free(&x);
}

static void
test_nodes_and_rules(void **state)
{
	struct sl_exec	 x;
	struct sl_request q;
	struct sl_error	 e;
	const char	*argv[] = { "TIME" };
	size_t		 len = 4, a, b, c;

	(void)state;
	sl_exec_init(&x, NULL, 1000);
	assert_int_equal(sl_exec_node(&x, "127.0.0.1", 7000, NULL, &a, &e), SL_OK);
	assert_int_equal(sl_exec_node(&x, "127.0.0.1", 7001, NULL, &b, &e), SL_OK);
	assert_int_equal(sl_exec_node(&x, "127.0.0.1", 7000, NULL, &c, &e), SL_OK);
	assert_int_equal(c, a);
	assert_int_equal(sl_exec_node(&x, NULL, 0, "/tmp/r.sock", &c, &e), SL_OK);
	assert_int_equal(c, 2);
	assert_int_equal(sl_exec_node(&x, NULL, 0, NULL, &c, &e), SL_EINPUT);
	sl_request_init(&q, &x, sl_mono_ms() + 1000);
	assert_int_equal(sl_request_add(&q, 3, 1, argv, &len, NULL), SL_EINPUT);
	assert_int_equal(sl_request_add(&q, a, 0, argv, &len, NULL), SL_EINPUT);
	assert_int_equal(sl_request_add(&q, a, 1, argv, &len, NULL), SL_OK);
	/* Still owed by a: not re-queued elsewhere. */
	assert_int_equal(sl_request_requeue(&q, 0, b, 1), SL_EINPUT);
	assert_int_equal(sl_request_requeue(&q, 1, b, 0), SL_EINPUT);
	assert_null(sl_request_error(&q, 0));
	assert_ptr_equal(sl_request_node(&q, 0), x.nodes[a]);
	/* A request freed unrun leaves no node with queued commands. */
	sl_request_free(&q);
	assert_int_equal(x.nodes[a]->qn, 0);
	assert_int_equal(x.nodes[a]->state, SL_NODE_DOWN);
	sl_exec_free(&x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_bytes),
		cmocka_unit_test(test_build_enomem),
		cmocka_unit_test(test_nodes_and_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
