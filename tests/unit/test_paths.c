/* SPDX-License-Identifier: BSD-2-Clause */
/* lib/paths.c: every path under one root prefix, from SSPR_ROOT, and the
 * clock from SSPR_NOW. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sspr-build.h"
#include "sspr/common.h"
#include "sspr/paths.h"

/* What every field must be for a given (normalized) root. */
static void assert_paths(const struct sspr_paths *p, const char *root, bool test_root)
{
	char want[PATH_MAX + 64];

	assert_string_equal(p->root, root);
	(void)snprintf(want, sizeof want, "%s%s/sspr.conf", root, SSPR_CONFDIR);
	assert_string_equal(p->conf, want);
	(void)snprintf(want, sizeof want, "%s/etc", root);
	assert_string_equal(p->etcdir, want);
	(void)snprintf(want, sizeof want, "%s/etc/login.defs", root);
	assert_string_equal(p->login_defs, want);
	(void)snprintf(want, sizeof want, "%s%s", root, SSPR_STATEDIR);
	assert_string_equal(p->statedir, want);
	(void)snprintf(want, sizeof want, "%s%s/users", root, SSPR_STATEDIR);
	assert_string_equal(p->usersdir, want);
	assert_int_equal(p->test_root, test_root);
}

static void test_init_real_system(void **state)
{
	struct sspr_paths p;

	(void)state;
	memset(&p, 0x5a, sizeof p);
	assert_int_equal(sspr_paths_init(&p, NULL), 0);
	assert_paths(&p, "", false);
	memset(&p, 0x5a, sizeof p);
	assert_int_equal(sspr_paths_init(&p, ""), 0);
	assert_paths(&p, "", false);
	/* the build's own directories are absolute */
	assert_int_equal(p.conf[0], '/');
	assert_int_equal(p.statedir[0], '/');
}

static void test_init_roots(void **state)
{
	static const struct { const char *in, *root; } t[] = {
		{ "/tmp/x", "/tmp/x" },
		{ "/tmp/x/", "/tmp/x" },
		{ "/tmp/x///", "/tmp/x" },
		{ "/a", "/a" },
		{ "/tmp/with space", "/tmp/with space" },
	};
	struct sspr_paths p;

	(void)state;
	for (size_t i = 0; i < SSPR_ELEMENTSOF(t); i++) {
		memset(&p, 0x5a, sizeof p);
		assert_int_equal(sspr_paths_init(&p, t[i].in), 0);
		assert_paths(&p, t[i].root, true);
	}
}

/* "/" (and "//") as a root is the real system: no doubled slash. */
static void test_init_slash(void **state)
{
	struct sspr_paths p, real;

	(void)state;
	assert_int_equal(sspr_paths_init(&real, NULL), 0);
	memset(&p, 0x5a, sizeof p);
	assert_int_equal(sspr_paths_init(&p, "/"), 0);
	assert_string_equal(p.root, "");
	assert_string_equal(p.conf, real.conf);
	assert_string_equal(p.etcdir, "/etc");
	assert_string_equal(p.login_defs, "/etc/login.defs");
	assert_string_equal(p.statedir, real.statedir);
	assert_string_equal(p.usersdir, real.usersdir);
	memset(&p, 0x5a, sizeof p);
	assert_int_equal(sspr_paths_init(&p, "//"), 0);
	assert_string_equal(p.root, "");
	assert_string_equal(p.etcdir, "/etc");
}

static void test_init_relative(void **state)
{
	static const char *const bad[] = { "x", "./x", "../x", "tmp/x", " /tmp/x", "." };
	struct sspr_paths p, before;

	(void)state;
	memset(&before, 0x5a, sizeof before);
	for (size_t i = 0; i < SSPR_ELEMENTSOF(bad); i++) {
		p = before;
		if (sspr_paths_init(&p, bad[i]) != -EINVAL)
			fail_msg("accepted relative root \"%s\"", bad[i]);
		assert_memory_equal(&p, &before, sizeof p); /* untouched */
	}
}

static void test_init_too_long(void **state)
{
	char *root = malloc(PATH_MAX + 2);
	struct sspr_paths p, before;

	(void)state;
	assert_non_null(root);
	memset(&before, 0x5a, sizeof before);

	/* does not fit in root[] at all */
	root[0] = '/';
	memset(root + 1, 'a', PATH_MAX);
	root[PATH_MAX + 1] = '\0';
	p = before;
	assert_int_equal(sspr_paths_init(&p, root), -ENAMETOOLONG);
	assert_memory_equal(&p, &before, sizeof p);

	/* exactly PATH_MAX bytes with its NUL: no room */
	root[PATH_MAX] = '\0';
	p = before;
	assert_int_equal(sspr_paths_init(&p, root), -ENAMETOOLONG);
	assert_memory_equal(&p, &before, sizeof p);

	/* fits in root[], but root + "/etc/login.defs" does not */
	root[PATH_MAX - 5] = '\0';
	p = before;
	assert_int_equal(sspr_paths_init(&p, root), -ENAMETOOLONG);
	assert_memory_equal(&p, &before, sizeof p);

	/* trailing slashes are trimmed before the length matters for the
	 * joins; a root that is short once trimmed is fine */
	memset(root, '/', PATH_MAX - 1);
	memcpy(root, "/r", 2);
	root[PATH_MAX - 1] = '\0';
	p = before;
	assert_int_equal(sspr_paths_init(&p, root), 0);
	assert_paths(&p, "/r", true);
	free(root);
}

static void test_from_env(void **state)
{
	struct sspr_paths p;

	(void)state;
	assert_int_equal(setenv("SSPR_ROOT", "/tmp/sspr-root", 1), 0);
	assert_int_equal(sspr_paths_from_env(&p), 0);
	assert_paths(&p, "/tmp/sspr-root", true);

	assert_int_equal(setenv("SSPR_ROOT", "/tmp/sspr-root//", 1), 0);
	assert_int_equal(sspr_paths_from_env(&p), 0);
	assert_paths(&p, "/tmp/sspr-root", true);

	assert_int_equal(setenv("SSPR_ROOT", "", 1), 0);
	assert_int_equal(sspr_paths_from_env(&p), 0);
	assert_paths(&p, "", false);

	assert_int_equal(setenv("SSPR_ROOT", "relative", 1), 0);
	assert_int_equal(sspr_paths_from_env(&p), -EINVAL);

	assert_int_equal(unsetenv("SSPR_ROOT"), 0);
	assert_int_equal(sspr_paths_from_env(&p), 0);
	assert_paths(&p, "", false);
}

static void assert_now_is_clock(void)
{
	time_t before = time(NULL), now = sspr_now(), after = time(NULL);

	assert_true(now >= before);
	assert_true(now <= after + 1);
}

static void test_now(void **state)
{
	static const char *const garbage[] = {
		"", "abc", "12a", " 5", "5 ", "-5", "1.5", "0x10", "1099511627777",
		"99999999999999999999999",
	};

	(void)state;
	assert_int_equal(setenv("SSPR_NOW", "1764400000", 1), 0);
	assert_true(sspr_now() == (time_t)1764400000);
	assert_int_equal(setenv("SSPR_NOW", "0", 1), 0);
	assert_true(sspr_now() == 0);
	assert_int_equal(setenv("SSPR_NOW", "1099511627776", 1), 0); /* 2^40, the cap */
	assert_true(sspr_now() == (time_t)1099511627776LL);

	/* not a valid number: the real clock */
	for (size_t i = 0; i < SSPR_ELEMENTSOF(garbage); i++) {
		assert_int_equal(setenv("SSPR_NOW", garbage[i], 1), 0);
		assert_now_is_clock();
	}

	assert_int_equal(unsetenv("SSPR_NOW"), 0);
	assert_now_is_clock();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_real_system),
		cmocka_unit_test(test_init_roots),
		cmocka_unit_test(test_init_slash),
		cmocka_unit_test(test_init_relative),
		cmocka_unit_test(test_init_too_long),
		cmocka_unit_test(test_from_env),
		cmocka_unit_test(test_now),
	};

	(void)unsetenv("SSPR_ROOT");
	(void)unsetenv("SSPR_NOW");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
