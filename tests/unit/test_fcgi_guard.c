/* SPDX-License-Identifier: ISC */
/* The FastCGI record guard: management records answered (the GET_VALUES
 * that overflows libfcgi), roles, multiplexing, limits at limit and
 * limit+1, malformed pairs, records split anywhere, and the exact bytes
 * handed to libfcgi. */
#include <stdio.h>

#include "sl_test.h"
#include "streamlag/fcgi_guard.h"

static unsigned char in[4 * SL_FCGI_RECORD_MAX];
static size_t inlen;

static void
rec(int type, unsigned id, const void *c, size_t clen, size_t pad)
{
	unsigned char *h = in + inlen;

	assert_true(inlen + 8 + clen + pad <= sizeof(in));
	h[0] = 1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(id >> 8);
	h[3] = (unsigned char)id;
	h[4] = (unsigned char)(clen >> 8);
	h[5] = (unsigned char)clen;
	h[6] = (unsigned char)pad;
	h[7] = 0;
	if (clen > 0)
		memcpy(h + 8, c, clen);
	memset(h + 8 + clen, 0xee, pad);	/* padding is never read */
	inlen += 8 + clen + pad;
}

static void
begin(unsigned id, int role, int keep)
{
	unsigned char b[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };

	b[0] = (unsigned char)(role >> 8);
	b[1] = (unsigned char)role;
	b[2] = keep ? 1 : 0;
	rec(1, id, b, 8, 0);
}

/* name-value pair with 1-byte lengths */
static size_t
pair(unsigned char *p, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);

	p[0] = (unsigned char)nl;
	p[1] = (unsigned char)vl;
	memcpy(p + 2, name, nl);
	memcpy(p + 2 + nl, value, vl);
	return 2 + nl + vl;
}

static struct sl_fcgi_guard *
guard(void)
{
	struct sl_fcgi_guard *g = malloc(sizeof(*g));

	assert_non_null(g);
	memset(g, 0x5a, sizeof(*g));
	sl_fcgi_guard_reset(g);
	g->answered = 0;
	inlen = 0;
	return g;
}

static enum sl_fcgi_verdict
feed(struct sl_fcgi_guard *g, size_t *used)
{
	return sl_fcgi_guard_feed(g, in, inlen, used);
}

static void
get_values_asked_n_times(void **state)
{
	static const int times[] = { 1, 3, 4, 8, 200 };
	static const unsigned char want[32] = {
		1, 10, 0, 0, 0, 17, 7, 0,
		14, 1, 'F', 'C', 'G', 'I', '_', 'M', 'A', 'X', '_', 'C', 'O',
		'N', 'N', 'S', '1', 0, 0, 0, 0, 0, 0, 0
	};

	(void)state;
	for (size_t t = 0; t < sizeof(times) / sizeof(times[0]); t++) {
		struct sl_fcgi_guard	*g = guard();
		unsigned char		 body[200 * 16];
		size_t			 n = 0, used;

		for (int i = 0; i < times[t]; i++)
			n += pair(body + n, "FCGI_MAX_CONNS", "");
		rec(9, 0, body, n, 0);
		assert_int_equal(feed(g, &used), SL_FCGI_MORE);
		assert_int_equal(used, inlen);
		/* One answer, each name once: 8 + 17 + 7 bytes of padding. */
		assert_int_equal(g->reply_len, 32);
		assert_memory_equal(g->reply, want, 32);
		assert_int_equal(g->answered, 1);
		free(g);
	}
}

static void
get_values_every_name(void **state)
{
	struct sl_fcgi_guard	*g = guard();
	unsigned char		 body[256];
	size_t			 n = 0, used;
	const char		 names[] = "\x0e\x01" "FCGI_MAX_CONNS1"
	    "\x0d\x01" "FCGI_MAX_REQS1" "\x0f\x01" "FCGI_MPXS_CONNS0";

	(void)state;
	n += pair(body + n, "FCGI_MPXS_CONNS", "");
	n += pair(body + n, "OTHER", "x");
	n += pair(body + n, "FCGI_MAX_REQS", "");
	n += pair(body + n, "FCGI_MAX_CONNS", "9");
	n += pair(body + n, "FCGI_MAX_CONN", "");	/* a prefix: unknown */
	rec(9, 0, body, n, 3);
	assert_int_equal(feed(g, &used), SL_FCGI_MORE);
	assert_int_equal(used, inlen);
	assert_int_equal(g->reply_len, 8 + 51 + 5);
	assert_int_equal(g->reply[1], 10);
	assert_int_equal(g->reply[5], 51);
	assert_int_equal(g->reply[6], 5);
	assert_memory_equal(g->reply + 8, names, 51);
	free(g);
}

static void
management_other_types(void **state)
{
	struct sl_fcgi_guard	*g = guard();
	const unsigned char	 want[16] = { 1, 11, 0, 0, 0, 8, 0, 0,
	    200, 0, 0, 0, 0, 0, 0, 0 };
	unsigned char		 bad[3] = { 20, 0, 'x' };
	size_t			 used;

	(void)state;
	rec(200, 0, "abc", 3, 5);
	assert_int_equal(feed(g, &used), SL_FCGI_MORE);
	assert_int_equal(used, inlen);
	assert_memory_equal(g->reply, want, 16);
	assert_int_equal(g->reply_len, 16);
	free(g);

	/* A name longer than the record: refused, nothing answered. */
	g = guard();
	rec(9, 0, bad, sizeof(bad), 0);
	assert_int_equal(feed(g, &used), SL_FCGI_CLOSE);
	assert_string_equal(g->why, "bad_get_values");
	assert_int_equal(g->reply_len, 0);
	assert_int_equal(used, 0);
	free(g);
}

/* BEGIN, PARAMS split over two records and mid-pair, a management record
 * inside the request, STDIN with a body, the empty STDIN. */
static void
request_handed_off(void **state)
{
	struct sl_fcgi_guard	*g = guard();
	unsigned char		 p[256], out[SL_FCGI_HANDOFF_MAX];
	size_t			 n = 0, used, len, start;

	(void)state;
	n += pair(p + n, "REQUEST_METHOD", "GET");
	n += pair(p + n, "DOCUMENT_URI", "/healthz");
	begin(258, 1, 1);
	rec(4, 258, p, 10, 6);
	rec(9, 0, "\x0e\x00" "FCGI_MAX_CONNS", 16, 0);
	rec(4, 258, p + 10, n - 10, 0);
	rec(4, 258, "", 0, 0);
	rec(5, 258, "body", 4, 4);
	rec(5, 258, "", 0, 0);
	start = inlen;
	begin(7, 1, 0);		/* the next request: not consumed yet */
	assert_int_equal(feed(g, &used), SL_FCGI_REQUEST);
	assert_int_equal(used, start);
	assert_int_equal(g->reply_len, 32);	/* the GET_VALUES answer */
	assert_int_equal(g->keep_conn, 1);

	len = sl_fcgi_handoff(g, out);
	assert_int_equal(len, 16 + 8 + n + (8 - n % 8) % 8 + 8);
	/* BEGIN_REQUEST 258, RESPONDER, FCGI_KEEP_CONN */
	assert_memory_equal(out, "\x01\x01\x01\x02\x00\x08\x00\x00"
	    "\x00\x01\x01\x00\x00\x00\x00\x00", 16);
	assert_int_equal(out[17], 4);
	assert_int_equal((out[20] << 8) | out[21], n);
	assert_memory_equal(out + 24, p, n);
	assert_memory_equal(out + len - 8, "\x01\x04\x01\x02\x00\x00\x00\x00", 8);
	assert_int_equal(g->id, 0);
	free(g);
}

/* Every prefix of a request is MORE, with whole records consumed. */
static void
request_byte_by_byte(void **state)
{
	struct sl_fcgi_guard	*g = guard();
	unsigned char		 p[64];
	size_t			 n = pair(p, "A", "b"), used, total = 0, have;

	(void)state;
	begin(1, 1, 0);
	rec(4, 1, p, n, 0);
	rec(4, 1, "", 0, 0);
	rec(5, 1, "", 0, 0);
	for (have = 1; have < inlen; have++) {
		enum sl_fcgi_verdict v = sl_fcgi_guard_feed(g, in + total,
		    have - total, &used);

		assert_int_equal(v, SL_FCGI_MORE);
		total += used;
	}
	assert_int_equal(total, inlen - 8);	/* all but the empty STDIN */
	assert_int_equal(sl_fcgi_guard_feed(g, in + total, inlen - total,
	    &used), SL_FCGI_REQUEST);
	free(g);
}

static void
roles(void **state)
{
	struct sl_fcgi_guard	*g;
	const unsigned char	 unknown_role[16] = { 1, 3, 0, 1, 0, 8, 0, 0,
	    0, 0, 0, 0, 3, 0, 0, 0 };
	size_t			 used, at;

	(void)state;
	for (int role = 2; role <= 4; role++) {
		g = guard();
		begin(1, role, 0);
		rec(4, 1, "", 0, 0);
		assert_int_equal(feed(g, &used), SL_FCGI_CLOSE);
		assert_string_equal(g->why, "unknown_role");
		assert_int_equal(g->reply_len, 16);
		assert_memory_equal(g->reply, unknown_role, 16);
		free(g);
	}
	/* FCGI_KEEP_CONN: answered, its records ignored, the connection
	 * goes on to a RESPONDER request. */
	g = guard();
	begin(1, 2, 1);
	rec(4, 1, "\x01\x01" "ab", 4, 4);
	rec(4, 1, "", 0, 0);
	rec(5, 1, "", 0, 0);
	rec(8, 1, "", 0, 0);
	begin(1, 1, 0);
	rec(4, 1, "", 0, 0);
	rec(5, 1, "", 0, 0);
	at = inlen;
	assert_int_equal(feed(g, &used), SL_FCGI_REQUEST);
	assert_int_equal(used, at);
	assert_int_equal(g->reply_len, 16);
	assert_memory_equal(g->reply, unknown_role, 16);
	free(g);
}

static void
multiplexing_and_abort(void **state)
{
	struct sl_fcgi_guard	*g = guard();
	const unsigned char	 cant_mpx[16] = { 1, 3, 0, 2, 0, 8, 0, 0,
	    0, 0, 0, 0, 1, 0, 0, 0 };
	const unsigned char	 complete[16] = { 1, 3, 0, 1, 0, 8, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 0 };
	size_t			 used;

	(void)state;
	begin(1, 1, 1);
	begin(2, 1, 0);
	rec(4, 2, "", 0, 0);
	rec(2, 1, "", 0, 0);
	assert_int_equal(feed(g, &used), SL_FCGI_MORE);
	assert_int_equal(used, inlen);
	assert_int_equal(g->reply_len, 32);
	assert_memory_equal(g->reply, cant_mpx, 16);
	assert_memory_equal(g->reply + 16, complete, 16);
	assert_int_equal(g->id, 0);
	free(g);

	g = guard();
	begin(1, 1, 1);
	begin(1, 1, 1);
	assert_int_equal(feed(g, &used), SL_FCGI_CLOSE);
	assert_string_equal(g->why, "begin_request_twice");
	assert_int_equal(used, 16);
	free(g);
}

static void
refused_records(void **state)
{
	static const struct {
		const char	*why;
		int		 type;
		unsigned	 id;
		int		 after_params;
	} cases[] = {
		{ .why = "stdin_before_params", .type = 5, .id = 1 },
		{ .why = "params_after_end", .type = 4, .id = 1,
		    .after_params = 1 },
		{ .why = "unexpected_record", .type = 8, .id = 1,
		    .after_params = 1 },
		{ .why = "unexpected_record", .type = 6, .id = 1 },
		{ .why = "bad_begin_request", .type = 1, .id = 0 },
	};
	struct sl_fcgi_guard	*g;
	size_t			 used;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		g = guard();
		begin(1, 1, 0);
		if (cases[i].after_params)
			rec(4, 1, "", 0, 0);
		if (cases[i].type == 1)
			begin(0, 1, 0);
		else
			rec(cases[i].type, cases[i].id, "x", 1, 7);
		assert_int_equal(feed(g, &used), SL_FCGI_CLOSE);
		assert_string_equal(g->why, cases[i].why);
		free(g);
	}
	g = guard();
	rec(9, 0, "", 0, 0);
	in[inlen++] = 2;	/* version 2 */
	memset(in + inlen, 0, 7);
	inlen += 7;
	assert_int_equal(feed(g, &used), SL_FCGI_CLOSE);
	assert_string_equal(g->why, "bad_version");
	assert_int_equal(used, 8);
	assert_int_equal(g->reply_len, 8);	/* the empty GET_VALUES' answer */
	free(g);
}

/* CVE-2025-23016's lengths, and pairs cut short: refused before libfcgi. */
static void
bad_params(void **state)
{
	static const unsigned char huge[] = { 0xff, 0xff, 0xff, 0xfe, 0x01,
	    'a', 'b' };
	static const unsigned char cut[] = { 0x05, 0x01, 'a', 'b' };
	static const unsigned char cut4[] = { 0x80, 0x00 };
	const unsigned char *cases[] = { huge, cut, cut4 };
	const size_t lens[] = { sizeof(huge), sizeof(cut), sizeof(cut4) };
	struct sl_fcgi_guard *g;
	size_t used;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		g = guard();
		begin(1, 1, 0);
		rec(4, 1, cases[i], lens[i], 0);
		rec(4, 1, "", 0, 0);
		assert_int_equal(feed(g, &used), SL_FCGI_CLOSE);
		assert_string_equal(g->why, "bad_params");
		free(g);
	}
}

/* SL_FCGI_PARAMS_MAX bytes of parameters pass; one more is refused. */
static void
params_limit(void **state)
{
	static unsigned char p[SL_FCGI_PARAMS_MAX + 1];
	struct sl_fcgi_guard	*g;
	unsigned char		 out[SL_FCGI_HANDOFF_MAX];
	size_t			 used, v = SL_FCGI_PARAMS_MAX - 6, len;

	(void)state;
	/* "N" = v bytes: 1 + 4 + 1 + v */
	p[0] = 1;
	p[1] = 0x80 | (unsigned char)(v >> 24);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 8);
	p[4] = (unsigned char)v;
	p[5] = 'N';
	memset(p + 6, 'v', v);
	g = guard();
	begin(1, 1, 0);
	rec(4, 1, p, SL_FCGI_PARAMS_MAX, 1);
	rec(4, 1, "", 0, 0);
	rec(5, 1, "", 0, 0);
	assert_int_equal(feed(g, &used), SL_FCGI_REQUEST);
	len = sl_fcgi_handoff(g, out);
	assert_int_equal(len, 16 + 8 + SL_FCGI_PARAMS_MAX + 1 + 8);
	assert_true(len <= SL_FCGI_HANDOFF_MAX);
	free(g);

	g = guard();
	begin(1, 1, 0);
	rec(4, 1, p, SL_FCGI_PARAMS_MAX, 0);
	rec(4, 1, "x", 1, 0);
	assert_int_equal(feed(g, &used), SL_FCGI_CLOSE);
	assert_string_equal(g->why, "params_too_long");
	free(g);
}

/* More answers than the reply buffer holds: FLUSH, then on. */
static void
answers_flushed(void **state)
{
	struct sl_fcgi_guard	*g = guard();
	size_t			 used, off = 0, total = 0;
	int			 flushes = 0;
	enum sl_fcgi_verdict	 v;

	(void)state;
	for (int i = 0; i < 100; i++)
		rec(9, 0, "\x0e\x00" "FCGI_MAX_CONNS", 16, 0);
	while ((v = sl_fcgi_guard_feed(g, in + off, inlen - off, &used)) ==
	    SL_FCGI_FLUSH) {
		assert_true(g->reply_len + SL_FCGI_ANSWER_MAX >
		    SL_FCGI_REPLY_MAX);
		total += g->reply_len;
		g->reply_len = 0;
		off += used;
		flushes++;
	}
	assert_int_equal(v, SL_FCGI_MORE);
	total += g->reply_len;
	assert_int_equal(off + used, inlen);
	assert_int_equal(total, 100 * 32);
	assert_int_equal(g->answered, 100);
	assert_int_equal(flushes, 3);	/* 31 answers of 32 bytes fit */
	free(g);
}

static void
pairs(void **state)
{
	const unsigned char	*name, *value;
	size_t			 nlen, vlen;
	const unsigned char	 four[] = { 0x80, 0, 0, 1, 0x80, 0, 0, 2,
	    'n', 'v', 'w' };

	(void)state;
	assert_int_equal(sl_fcgi_pair(four, sizeof(four), &name, &nlen,
	    &value, &vlen), 11);
	assert_int_equal(nlen, 1);
	assert_int_equal(vlen, 2);
	assert_memory_equal(name, "n", 1);
	assert_memory_equal(value, "vw", 2);
	for (size_t cut = 0; cut < sizeof(four); cut++)
		assert_int_equal(sl_fcgi_pair(four, cut, &name, &nlen, &value,
		    &vlen), 0);
	assert_int_equal(sl_fcgi_pair((const unsigned char *)"\x00\x00", 2,
	    &name, &nlen, &value, &vlen), 2);
	assert_int_equal(nlen + vlen, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(get_values_asked_n_times),
		cmocka_unit_test(get_values_every_name),
		cmocka_unit_test(management_other_types),
		cmocka_unit_test(request_handed_off),
		cmocka_unit_test(request_byte_by_byte),
		cmocka_unit_test(roles),
		cmocka_unit_test(multiplexing_and_abort),
		cmocka_unit_test(refused_records),
		cmocka_unit_test(bad_params),
		cmocka_unit_test(params_limit),
		cmocka_unit_test(answers_flushed),
		cmocka_unit_test(pairs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
