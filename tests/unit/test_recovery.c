/* SPDX-License-Identifier: BSD-2-Clause */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sspr/recovery.h"
#include "sspr/record.h"

static const unsigned char key[32] = { 7, 7, 7 };

static void test_normalize(void **state)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "ABCDE-FGH23", "ABCDEFGH23" }, { "abcde-fgh23", "ABCDEFGH23" },
		{ "ABCDEFGH23", "ABCDEFGH23" }, { "aBcDe2345z", "ABCDE2345Z" },
	};
	static const char *const bad[] = {
		"", "ABCDE-FGH2", "ABCDE-FGH234", "ABCDE--FGH23", "ABCD-EFGH23", "ABCDE-FGH18",
		"23456-72345", "2345672345", "123456", "ABCDE FGH23", "-ABCDEFGH23", "ABCDEFGH23-",
		"ÄBCDE-FGH23",
	};
	char out[SSPR_RC_LEN + 1];

	(void)state;
	for (size_t i = 0; i < SSPR_ELEMENTSOF(ok); i++) {
		assert_int_equal(sspr_rc_normalize(ok[i].in, out), 0);
		assert_string_equal(out, ok[i].out);
	}
	for (size_t i = 0; i < SSPR_ELEMENTSOF(bad); i++)
		if (sspr_rc_normalize(bad[i], out) == 0)
			fail_msg("accepted %s", bad[i]);
	assert_false(sspr_rc_looks_like("123456"));
	assert_false(sspr_rc_looks_like("12345678"));
	assert_true(sspr_rc_looks_like("abcde-fgh23"));
}

static char dir[] = "/tmp/sspr-rc-XXXXXX";
static int ufd = -1;

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(sspr_state_open_users(dir, 1, &ufd), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	close(ufd);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct sspr_rc_set *issue(unsigned n, char (*shown)[12])
{
	struct sspr_rc_set *set = calloc(1, sizeof *set);

	assert_non_null(set);
	snprintf(set->user, sizeof set->user, "alice");
	set->uid = 1001;
	set->created = 1764400000;
	assert_int_equal(sspr_rc_generate(key, n, set, shown), 0);
	assert_int_equal(sspr_rc_store(ufd, set), 0);
	return set;
}

static void test_each_code_works_once(void **state)
{
	char shown[10][12];
	struct sspr_rc_set *set;
	unsigned left = 99;

	(void)state;
	set = issue(10, shown);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(strlen(shown[i]), 11);
		assert_int_equal(shown[i][5], '-');
		assert_true(sspr_rc_looks_like(shown[i]));
	}
	/* lower case, without the dash */
	{
		char typed[11];

		for (int j = 0, k = 0; j < 11; j++)
			if (shown[3][j] != '-')
				typed[k++] = (char)(shown[3][j] | 0x20);
		typed[10] = '\0';
		assert_int_equal(sspr_rc_consume(ufd, key, 1001, "alice", typed, &left), 0);
	}
	assert_int_equal(left, 9);
	assert_int_equal(sspr_rc_consume(ufd, key, 1001, "alice", shown[3], &left),
	                 -SSPR_E_CODE_INVALID);
	for (int i = 0; i < 10; i++)
		if (i != 3)
			assert_int_equal(sspr_rc_consume(ufd, key, 1001, "alice", shown[i], &left), 0);
	assert_int_equal(left, 0);
	assert_int_equal(sspr_rc_consume(ufd, key, 1001, "alice", shown[0], &left),
	                 -SSPR_E_CODE_INVALID);
	free(set);
}

static void test_new_set_voids_old(void **state)
{
	char a[5][12], b[5][12];

	(void)state;
	free(issue(5, a));
	free(issue(5, b));
	for (int i = 0; i < 5; i++)
		assert_int_equal(sspr_rc_consume(ufd, key, 1001, "alice", a[i], NULL),
		                 -SSPR_E_CODE_INVALID);
	assert_int_equal(sspr_rc_consume(ufd, key, 1001, "alice", b[2], NULL), 0);
}

static void test_store_holds_no_code_in_clear(void **state)
{
	char shown[10][12], path[256], buf[8192];
	FILE *f;
	size_t n;
	struct stat st;

	(void)state;
	free(issue(10, shown));
	snprintf(path, sizeof path, "%s/users/1001.codes", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	for (int i = 0; i < 10; i++) {
		char norm[11];

		assert_int_equal(sspr_rc_normalize(shown[i], norm), 0);
		assert_null(strcasestr(buf, norm));
		assert_null(strcasestr(buf, shown[i]));
	}
}

static void test_other_key_or_uid_rejects(void **state)
{
	char shown[3][12];
	unsigned char other[32] = { 8 };

	(void)state;
	free(issue(3, shown));
	assert_int_equal(sspr_rc_consume(ufd, other, 1001, "alice", shown[0], NULL),
	                 -SSPR_E_CODE_INVALID);
	/* a set copied to another uid is refused by name/uid check */
	assert_int_equal(sspr_rc_consume(ufd, key, 1001, "bob", shown[0], NULL), -SSPR_E_RECORD);
	assert_int_equal(sspr_rc_consume(ufd, key, 1001, "alice", "123456", NULL),
	                 -SSPR_E_CODE_INVALID);
	assert_int_equal(sspr_rc_consume(ufd, key, 1002, "carol", shown[0], NULL), -ENOENT);
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"", "sspr-codes 2\n", "sspr-codes 1\nuser alice\nuid 1\ncreated 1\ncount 1\n",
		"sspr-codes 1\nuser alice\nuid 01\ncreated 1\ncount 0\n",
		"sspr-codes 1\nuser alice\nuid 1\ncreated 1\ncount 0\nextra\n",
		"sspr-codes 1\nuser alice\nuid 1\ncreated 1\ncount 101\n",
		"sspr-codes 1\nuser a:b\nuid 1\ncreated 1\ncount 0\n",
		"sspr-codes 1\nuser alice\nuid 1\ncreated 1\ncount 1\ncode 00\n",
		"sspr-codes 1\nuser alice\nuid 1\ncreated 1\ncount 0",
		"sspr-codes 1\nuid 1\nuser alice\ncreated 1\ncount 0\n",
	};
	struct sspr_rc_set *s = calloc(1, sizeof *s);
	const char *good = "sspr-codes 1\nuser alice\nuid 1\ncreated 1\ncount 0\n";

	(void)state;
	assert_int_equal(sspr_rc_parse(s, good, strlen(good)), 0);
	for (size_t i = 0; i < SSPR_ELEMENTSOF(bad); i++)
		if (sspr_rc_parse(s, bad[i], strlen(bad[i])) == 0)
			fail_msg("accepted case %zu", i);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_each_code_works_once),
		cmocka_unit_test(test_new_set_voids_old),
		cmocka_unit_test(test_store_holds_no_code_in_clear),
		cmocka_unit_test(test_other_key_or_uid_rejects),
		cmocka_unit_test(test_parse_rejects),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
