/* SPDX-License-Identifier: ISC */
/* `streamlag check`'s pure parts: INFO fields, Redis or Valkey and the
 * mode, the ACL rule a NOPERM asks for, and the text and JSON results. */
#include <stdio.h>

#include <json-c/json.h>

#include "sl_test.h"
#include "streamlag/check.h"
#include "streamlag/slotmap.h"

static const char redis_info[] =
    "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n"
    "redis_mode:standalone\r\nos:Linux\r\n";
/* Valkey 8.0.1 as measured: it reports a Redis version too. */
static const char valkey_info[] =
    "# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\n"
    "valkey_version:8.0.1\r\nredis_mode:cluster\r\n";

static void
info_fields(void **state)
{
	char	 v[64], server[128], mode[32];

	(void)state;
	assert_int_equal(sl_info_field(redis_info, "redis_version", v,
	    sizeof(v)), 0);
	assert_string_equal(v, "7.0.15");
	assert_int_equal(sl_info_field(redis_info, "os", v, sizeof(v)), 0);
	assert_string_equal(v, "Linux");
	/* A prefix of another field is not that field. */
	assert_int_equal(sl_info_field(redis_info, "redis", v, sizeof(v)), -1);
	assert_int_equal(sl_info_field(redis_info, "valkey_version", v,
	    sizeof(v)), -1);
	assert_int_equal(sl_info_field("", "x", v, sizeof(v)), -1);

	assert_int_equal(sl_server_describe(redis_info, server, sizeof(server),
	    mode, sizeof(mode)), 0);
	assert_string_equal(server, "Redis 7.0.15");
	assert_string_equal(mode, "standalone");
	assert_int_equal(sl_server_describe(valkey_info, server, sizeof(server),
	    mode, sizeof(mode)), 0);
	assert_string_equal(server, "Valkey 8.0.1 (redis_version 7.2.4)");
	assert_string_equal(mode, "cluster");
	assert_int_equal(sl_server_describe("# Server\r\n", server,
	    sizeof(server), mode, sizeof(mode)), -1);
	assert_string_equal(server, "unknown");
	assert_string_equal(mode, "standalone");
}

static void
acl_rules(void **state)
{
	char	 rule[64];

	(void)state;
	/* Redis 7.0.15's words, as measured. */
	assert_int_equal(sl_acl_rule_for("NOPERM this user has no permissions "
	    "to run the 'xpending' command", "events:chat", rule, sizeof(rule)), 0);
	assert_string_equal(rule, "+xpending");
	assert_int_equal(sl_acl_rule_for("NOPERM this user has no permissions "
	    "to run the 'xinfo|groups' command", NULL, rule, sizeof(rule)), 0);
	assert_string_equal(rule, "+xinfo|groups");
	assert_int_equal(sl_acl_rule_for("NOPERM this user has no permissions "
	    "to access one of the keys used as arguments", "events:chat", rule,
	    sizeof(rule)), 0);
	assert_string_equal(rule, "%R~events:*");
	assert_int_equal(sl_acl_rule_for("NOPERM this user has no permissions "
	    "to access one of the keys used as arguments", "plain", rule,
	    sizeof(rule)), 0);
	assert_string_equal(rule, "%R~*");
	/* A glob character in the name: no pattern built from it. */
	assert_int_equal(sl_acl_rule_for("NOPERM this user has no permissions "
	    "to access one of the keys used as arguments", "a*:b", rule,
	    sizeof(rule)), 0);
	assert_string_equal(rule, "%R~*");
	/* Not a permission error. */
	assert_int_equal(sl_acl_rule_for("ERR no such key", "k", rule,
	    sizeof(rule)), -1);
	assert_int_equal(sl_acl_rule_for("WRONGPASS invalid username-password "
	    "pair or user is disabled.", NULL, rule, sizeof(rule)), -1);
	assert_int_equal(sl_acl_rule_for(NULL, NULL, rule, sizeof(rule)), -1);
}

static void
results(void **state)
{
	struct sl_checks	 c;
	char			*text, *json;
	json_object		*o, *checks, *it, *v;

	(void)state;
	memset(&c, 0, sizeof(c));
	sl_checks_add(&c, "auth", "AUTH", SL_CHECK_OK, "as user streamlag", NULL);
	sl_checks_add(&c, "command", "command XPENDING", SL_CHECK_FAIL,
	    "NOPERM this user has no permissions to run the 'xpending' command",
	    "add to the ACL user: +xpending");
	sl_checks_add(&c, "stream", "stream ev\x1b[2J", SL_CHECK_SKIP, NULL, NULL);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.failed, 1);

	text = sl_checks_text(&c, 0);
	assert_non_null(text);
	assert_string_equal(text,
	    "✔ AUTH: as user streamlag\n"
	    "✘ command XPENDING: NOPERM this user has no permissions to run "
	    "the 'xpending' command — add to the ACL user: +xpending\n"
	    "- stream ev?[2J\n"
	    "1 of 2 checks failed\n");
	free(text);
	text = sl_checks_text(&c, 1);
	assert_non_null(strstr(text, "\033[32m✔\033[0m AUTH"));
	assert_non_null(strstr(text, "\033[1;31m✘\033[0m command XPENDING"));
	free(text);

	json = sl_checks_json(&c);
	assert_non_null(json);
	o = json_tokener_parse(json);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "ok", &v));
	assert_false(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(o, "passed", &v));
	assert_int_equal(json_object_get_int(v), 1);
	assert_true(json_object_object_get_ex(o, "failed", &v));
	assert_int_equal(json_object_get_int(v), 1);
	assert_true(json_object_object_get_ex(o, "checks", &checks));
	assert_int_equal(json_object_array_length(checks), 3);
	it = json_object_array_get_idx(checks, 1);
	json_object_object_get_ex(it, "step", &v);
	assert_string_equal(json_object_get_string(v), "command");
	json_object_object_get_ex(it, "status", &v);
	assert_string_equal(json_object_get_string(v), "fail");
	json_object_object_get_ex(it, "fix", &v);
	assert_string_equal(json_object_get_string(v),
	    "add to the ACL user: +xpending");
	it = json_object_array_get_idx(checks, 2);
	json_object_object_get_ex(it, "status", &v);
	assert_string_equal(json_object_get_string(v), "skipped");
	json_object_object_get_ex(it, "detail", &v);
	assert_null(v);
	json_object_put(o);
	free(json);
	sl_checks_free(&c);
	assert_int_equal(c.n, 0);

	/* Nothing failed: the summary counts the passes. */
	sl_checks_add(&c, "tls", "TLS", SL_CHECK_OK, "not used", NULL);
	text = sl_checks_text(&c, 0);
	assert_string_equal(text, "✔ TLS: not used\nall 1 checks passed\n");
	free(text);
	sl_checks_free(&c);
}

/* No configuration: one failed step, and nothing else is tried. */
static void
config_failed(void **state)
{
	struct sl_checks c;

	(void)state;
	assert_int_equal(sl_check_run(NULL, "environment",
	    "REDIS_URL: expected redis://", &c), 1);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.items[0].step, "config");
	assert_int_equal(c.items[0].state, SL_CHECK_FAIL);
	assert_string_equal(c.items[0].detail, "REDIS_URL: expected redis://");
	sl_checks_free(&c);
}

/* A master's slots as ranges: single slots alone, cut with "…" when the
 * room is short, the count always whole. */
static void
slot_ranges(void **state)
{
	struct sl_slotmap m;
	char	 buf[32];

	(void)state;
	sl_slotmap_init(&m);
	for (unsigned s = 0; s < SL_CLUSTER_SLOTS; s++)
		m.slot[s] = s <= 5460 ? 0 : s <= 10922 ? 1 : 2;
	m.slot[42] = 1;
	assert_int_equal(sl_check_slot_ranges(&m, 0, buf, sizeof(buf)), 5460);
	assert_string_equal(buf, "0-41,43-5460");
	assert_int_equal(sl_check_slot_ranges(&m, 1, buf, sizeof(buf)), 5463);
	assert_string_equal(buf, "42,5461-10922");
	assert_int_equal(sl_check_slot_ranges(&m, 2, buf, sizeof(buf)), 5461);
	assert_string_equal(buf, "10923-16383");
	assert_int_equal(sl_check_slot_ranges(&m, 3, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	for (unsigned s = 0; s < 40; s += 2)
		m.slot[s] = 3;
	assert_int_equal(sl_check_slot_ranges(&m, 3, buf, sizeof(buf)), 20);
	assert_string_equal(buf, "0,2,4,6,8,10,12,14,16,18,20…");
	assert_int_equal(sl_check_slot_ranges(&m, 3, buf, 4), 20);
	assert_string_equal(buf, "…");
	assert_int_equal(sl_check_slot_ranges(&m, 3, buf, 3), 20);
	assert_string_equal(buf, "");
	sl_slotmap_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(info_fields),
		cmocka_unit_test(acl_rules),
		cmocka_unit_test(slot_ranges),
		cmocka_unit_test(results),
		cmocka_unit_test(config_failed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
