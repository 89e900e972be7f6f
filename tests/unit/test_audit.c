/* SPDX-License-Identifier: BSD-2-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "sspr/audit.h"
#include "sspr/common.h"

static void test_bare_values(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(sspr_audit_escape("alice", out, sizeof out), 5);
	assert_string_equal(out, "alice");
	assert_int_equal(sspr_audit_escape("192.0.2.7", out, sizeof out), 9);
	assert_string_equal(out, "192.0.2.7");
	assert_int_equal(sspr_audit_escape("", out, sizeof out), 2);
	assert_string_equal(out, "\"\"");
}

/* Hostile values: none may end the line or start a field of its own. */
static void test_hostile_values_cannot_forge(void **state)
{
	static const char *const hostile[] = {
		"alice event=reset_ok", "a\nevent=reset_ok user=root", "a\rb", "x\"y", "x\\\"",
		"tab\there", "uid=0", "\x1b[2Jclear", "caf\xc3\xa9", "\xff\xfe", "a b=c d=e",
		"\"", "\\", "=", " ", "root\x7f", "a\x01", "x=\"y\" z=w", "-", "\"quoted\" user=root",
		"a\x85" "b",
	};
	struct sspr_kv kv[2];
	char line[SSPR_AUDIT_LINE_MAX];

	(void)state;
	for (size_t i = 0; i < SSPR_ELEMENTSOF(hostile); i++) {
		long n;
		bool inq = false;
		int fields = 0;

		kv[0] = (struct sspr_kv){ "user", hostile[i] };
		kv[1] = (struct sspr_kv){ "rhost", hostile[i] };
		n = sspr_audit_format(line, sizeof line, "reset_start", kv, 2);
		assert_true(n > 0);
		/* printable ASCII only: no newline, no control, no high byte */
		for (long j = 0; j < n; j++)
			assert_true(line[j] >= 0x20 && line[j] <= 0x7e);
		/* outside quotes, exactly 3 "key=" starts: event, user, rhost */
		for (long j = 0; j < n; j++) {
			if (line[j] == '\\' && inq) {
				j++;
				continue;
			}
			if (line[j] == '"')
				inq = !inq;
			else if (!inq && line[j] == '=')
				fields++;
		}
		assert_false(inq);
		if (fields != 3)
			fail_msg("value %zu forged a field: %s", i, line);
	}
}

static void test_format_and_null(void **state)
{
	struct sspr_kv kv[] = { { "user", "alice" }, { "rhost", NULL } };
	char line[256];

	(void)state;
	assert_true(sspr_audit_format(line, sizeof line, "reset_ok", kv, 2) > 0);
	assert_string_equal(line, "event=reset_ok user=alice rhost=-");
}

static void test_truncation_is_marked(void **state)
{
	char big[600], line[128];
	struct sspr_kv kv[] = { { "user", "alice" }, { "tty", big } };

	(void)state;
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(sspr_audit_format(line, sizeof line, "reset_ok", kv, 2), -ENOBUFS);
	assert_non_null(strstr(line, "truncated=1"));
	assert_non_null(strstr(line, "user=alice"));
}

static void test_user_hash_keyed(void **state)
{
	unsigned char k1[32] = { 1 }, k2[32] = { 2 };
	char a[17], b[17], c[17];

	(void)state;
	sspr_audit_user_hash("mallory", k1, sizeof k1, a);
	sspr_audit_user_hash("mallory", k1, sizeof k1, b);
	sspr_audit_user_hash("mallory", k2, sizeof k2, c);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 16);
	assert_null(strstr(a, "mallory"));
}

static void test_session_ids_differ(void **state)
{
	char a[17], b[17];

	(void)state;
	sspr_audit_session_id(a);
	sspr_audit_session_id(b);
	assert_int_equal(strlen(a), 16);
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bare_values),
		cmocka_unit_test(test_hostile_values_cannot_forge),
		cmocka_unit_test(test_format_and_null),
		cmocka_unit_test(test_truncation_is_marked),
		cmocka_unit_test(test_user_hash_keyed),
		cmocka_unit_test(test_session_ids_differ),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
