/* SPDX-License-Identifier: BSD-2-Clause */
/* lib/util.c: the range-checked number parser, error names, the bounded
 * copy and the secure buffers. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sspr/common.h"

#define SENTINEL 0x5a5a5a5aLL

static void test_strtonum_table(void **state)
{
	static const struct {
		const char *s;
		long long min, max;
		int r;          /* expected return */
		long long v;    /* expected value when r == 0 */
	} t[] = {
		{ "0", LLONG_MIN, LLONG_MAX, 0, 0 },
		{ "-0", LLONG_MIN, LLONG_MAX, 0, 0 },
		{ "+0", LLONG_MIN, LLONG_MAX, 0, 0 },
		{ "-1", LLONG_MIN, LLONG_MAX, 0, -1 },
		{ "+5", LLONG_MIN, LLONG_MAX, 0, 5 },
		{ "007", LLONG_MIN, LLONG_MAX, 0, 7 },
		{ "1764400000", 0, LLONG_MAX, 0, 1764400000LL },
		/* not a number */
		{ "", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
		{ "-", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
		{ "+", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
		{ "12a", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
		{ "a12", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
		{ " 1", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
		{ "1 ", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
		{ "1\n", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
		{ "\t1", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
		{ "--1", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
		{ "+-1", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
		{ "-+1", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
		{ "0x10", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
		{ "1.5", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
		{ "1e3", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
		{ "1,000", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
		{ "-12a", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
		{ "\xd9\xa3", LLONG_MIN, LLONG_MAX, -EINVAL, 0 }, /* ARABIC-INDIC DIGIT THREE */
		/* the edges of long long, and one past */
		{ "9223372036854775807", LLONG_MIN, LLONG_MAX, 0, LLONG_MAX },
		{ "+9223372036854775807", LLONG_MIN, LLONG_MAX, 0, LLONG_MAX },
		{ "9223372036854775806", LLONG_MIN, LLONG_MAX, 0, LLONG_MAX - 1 },
		{ "9223372036854775808", LLONG_MIN, LLONG_MAX, -ERANGE, 0 },
		{ "9223372036854775809", LLONG_MIN, LLONG_MAX, -ERANGE, 0 },
		{ "9223372036854775810", LLONG_MIN, LLONG_MAX, -ERANGE, 0 },
		{ "-9223372036854775808", LLONG_MIN, LLONG_MAX, 0, LLONG_MIN },
		{ "-9223372036854775807", LLONG_MIN, LLONG_MAX, 0, LLONG_MIN + 1 },
		{ "-9223372036854775809", LLONG_MIN, LLONG_MAX, -ERANGE, 0 },
		{ "-9223372036854775810", LLONG_MIN, LLONG_MAX, -ERANGE, 0 },
		{ "99999999999999999999", LLONG_MIN, LLONG_MAX, -ERANGE, 0 },
		{ "-99999999999999999999", LLONG_MIN, LLONG_MAX, -ERANGE, 0 },
		{ "00000000000000000000009223372036854775807", LLONG_MIN, LLONG_MAX, 0, LLONG_MAX },
		/* the caller's bounds, inclusive */
		{ "0", 0, 10, 0, 0 },
		{ "10", 0, 10, 0, 10 },
		{ "11", 0, 10, -ERANGE, 0 },
		{ "-1", 0, 10, -ERANGE, 0 },
		{ "0", 1, 10, -ERANGE, 0 },
		{ "1", 1, 10, 0, 1 },
		{ "-5", -5, -1, 0, -5 },
		{ "-6", -5, -1, -ERANGE, 0 },
		{ "0", -5, -1, -ERANGE, 0 },
		{ "7", 7, 7, 0, 7 },
		{ "8", 7, 7, -ERANGE, 0 },
		{ "9223372036854775807", 0, LLONG_MAX - 1, -ERANGE, 0 },
		{ "-9223372036854775808", LLONG_MIN + 1, 0, -ERANGE, 0 },
		/* a bad character is still not a number when in range */
		{ "5x", 0, 10, -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < SSPR_ELEMENTSOF(t); i++) {
		long long v = SENTINEL;
		int r = sspr_strtonum(t[i].s, t[i].min, t[i].max, &v);

		if (r != t[i].r)
			fail_msg("\"%s\" in [%lld, %lld]: returned %d, want %d", t[i].s, t[i].min,
			         t[i].max, r, t[i].r);
		if (r == 0 && v != t[i].v)
			fail_msg("\"%s\": value %lld, want %lld", t[i].s, v, t[i].v);
		if (r < 0 && v != SENTINEL)
			fail_msg("\"%s\": ret changed on failure (%lld)", t[i].s, v);
	}
}

static void test_strtonum_null(void **state)
{
	long long v = SENTINEL;

	(void)state;
	assert_int_equal(sspr_strtonum(NULL, 0, 10, &v), -EINVAL);
	assert_true(v == SENTINEL);
}

/* Every digit string from 0 to 1000 parses to its value. */
static void test_strtonum_counts(void **state)
{
	char s[16];

	(void)state;
	for (long long i = -1000; i <= 1000; i++) {
		long long v = SENTINEL;

		(void)snprintf(s, sizeof s, "%lld", i);
		assert_int_equal(sspr_strtonum(s, -1000, 1000, &v), 0);
		assert_true(v == i);
	}
}

static void assert_named(const char *name, int err)
{
	if (!name)
		fail_msg("sspr_strerror(%d) is NULL", err);
	if (!*name)
		fail_msg("sspr_strerror(%d) is empty", err);
	if (strcmp(name, "unknown error") == 0)
		fail_msg("sspr_strerror(%d) is \"unknown error\"", err);
}

/* Every SSPR_E_* code has its own non-empty name, distinct from every
 * other code and from the errno names used across the project. */
static void test_strerror_names(void **state)
{
	static const int errnos[] = {
		EPERM, ENOENT, EIO, ENOMEM, EACCES, EEXIST, ENOTDIR, EISDIR, EINVAL,
		ENOSPC, EROFS, EPIPE, ERANGE, ENAMETOOLONG, ELOOP, ENOBUFS, ETIMEDOUT, ENXIO,
	};
	const char *names[SSPR_ELEMENTSOF(errnos) + SSPR_E_LAST - SSPR_E_FIRST];
	int codes[SSPR_ELEMENTSOF(names)];
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < SSPR_ELEMENTSOF(errnos); i++) {
		codes[n] = -errnos[i];
		names[n] = sspr_strerror(-errnos[i]);
		assert_named(names[n], codes[n]);
		n++;
	}
	for (int e = SSPR_E_FIRST + 1; e < SSPR_E_LAST; e++) {
		codes[n] = -e;
		names[n] = sspr_strerror(-e);
		assert_named(names[n], codes[n]);
		n++;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(names[i], names[j]) == 0)
				fail_msg("%d and %d share the name \"%s\"", codes[i], codes[j], names[i]);
}

/* The documented form is negative; the positive value names the same. */
static void test_strerror_sign(void **state)
{
	(void)state;
	assert_string_equal(sspr_strerror(-ENOENT), sspr_strerror(ENOENT));
	assert_string_equal(sspr_strerror(-SSPR_E_RECORD), sspr_strerror(SSPR_E_RECORD));
	assert_string_not_equal(sspr_strerror(-ENOENT), sspr_strerror(-EPERM));
}

/* Values that name nothing still give a non-empty string, never NULL. */
static void test_strerror_unknown(void **state)
{
	static const int unknown[] = {
		-SSPR_E_FIRST, -SSPR_E_LAST, -(SSPR_E_LAST + 1), SSPR_E_FIRST, SSPR_E_LAST,
		-(SSPR_E_FIRST - 1), -100000, 100000, INT_MAX, -INT_MAX, INT_MIN + 1,
	};

	(void)state;
	for (size_t i = 0; i < SSPR_ELEMENTSOF(unknown); i++) {
		const char *s = sspr_strerror(unknown[i]);

		assert_non_null(s);
		assert_true(*s != '\0');
		assert_string_equal(s, "unknown error");
	}
	assert_non_null(sspr_strerror(0));
	assert_true(*sspr_strerror(0) != '\0');
}

/* INT_MIN is a negative value like any other (the header promises a name
 * for every negative value), but lib/util.c negates it: signed overflow,
 * undefined behaviour.  UBSan (halt_on_error=1, as run-tests sets) fails
 * here until util.c stops negating INT_MIN. */
static void test_strerror_int_min(void **state)
{
	const char *s;

	(void)state;
	s = sspr_strerror(INT_MIN);
	assert_non_null(s);
	assert_string_equal(s, "unknown error");
}

static void test_strlcpy(void **state)
{
	char buf[8 + 4];

	(void)state;
	/* fits */
	memset(buf, 'Z', sizeof buf);
	assert_int_equal(sspr_strlcpy(buf, "abc", 8), 0);
	assert_string_equal(buf, "abc");
	assert_int_equal(buf[4], 'Z'); /* nothing written past the NUL */

	/* empty */
	memset(buf, 'Z', sizeof buf);
	assert_int_equal(sspr_strlcpy(buf, "", 8), 0);
	assert_string_equal(buf, "");

	/* exactly full: 7 characters and the NUL */
	memset(buf, 'Z', sizeof buf);
	assert_int_equal(sspr_strlcpy(buf, "1234567", 8), 0);
	assert_string_equal(buf, "1234567");
	assert_int_equal(buf[8], 'Z');

	/* one too long, and far too long: dst holds "" */
	memset(buf, 'Z', sizeof buf);
	assert_int_equal(sspr_strlcpy(buf, "12345678", 8), -SSPR_E_TOO_LONG);
	assert_string_equal(buf, "");
	for (size_t i = 8; i < sizeof buf; i++)
		assert_int_equal(buf[i], 'Z');
	memset(buf, 'Z', sizeof buf);
	assert_int_equal(sspr_strlcpy(buf, "a much longer string than that", 8),
	                 -SSPR_E_TOO_LONG);
	assert_string_equal(buf, "");
	for (size_t i = 8; i < sizeof buf; i++)
		assert_int_equal(buf[i], 'Z');

	/* one byte: only "" fits */
	memset(buf, 'Z', sizeof buf);
	assert_int_equal(sspr_strlcpy(buf, "", 1), 0);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'Z');
	memset(buf, 'Z', sizeof buf);
	assert_int_equal(sspr_strlcpy(buf, "a", 1), -SSPR_E_TOO_LONG);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'Z');

	/* no room at all: refused, nothing written */
	memset(buf, 'Z', sizeof buf);
	assert_int_equal(sspr_strlcpy(buf, "", 0), -SSPR_E_TOO_LONG);
	assert_int_equal(buf[0], 'Z');
}

/* The source need not be NUL-terminated within dstlen bytes: only that
 * much is read (ASan sees an overread otherwise). */
static void test_strlcpy_reads_at_most_dstlen(void **state)
{
	char src[4] = { 'x', 'x', 'x', 'x' }, dst[4];

	(void)state;
	assert_int_equal(sspr_strlcpy(dst, src, sizeof dst), -SSPR_E_TOO_LONG);
	assert_string_equal(dst, "");
}

static void test_secure_alloc(void **state)
{
	unsigned char *p, *q;

	(void)state;
	p = sspr_secure_alloc(64);
	assert_non_null(p);
	for (size_t i = 0; i < 64; i++)
		assert_int_equal(p[i], 0); /* zeroed, not sodium's 0xdb fill */
	memset(p, 0xa5, 64);
	assert_int_equal(p[63], 0xa5);

	/* zero bytes still gives a usable, distinct pointer */
	q = sspr_secure_alloc(0);
	assert_non_null(q);
	assert_ptr_not_equal(p, q);
	q[0] = 1;
	sspr_secure_free(q);
	sspr_secure_free(p);
	sspr_secure_free(NULL); /* a no-op */

	/* a larger buffer, spanning pages */
	p = sspr_secure_alloc(10000);
	assert_non_null(p);
	for (size_t i = 0; i < 10000; i++)
		assert_int_equal(p[i], 0);
	memset(p, 0x5a, 10000);
	sspr_secure_free(p);
}

static void cleanup_scope(void)
{
	_cleanup_secure_ char *s = sspr_secure_alloc(32);

	assert_non_null(s);
	memcpy(s, "secret", 7);
	/* freed (and wiped) on return; ASan/valgrind see a leak otherwise */
}

static void test_secure_cleanup(void **state)
{
	(void)state;
	for (int i = 0; i < 100; i++)
		cleanup_scope();
}

static void test_wipe(void **state)
{
	unsigned char buf[32];

	(void)state;
	memset(buf, 0xff, sizeof buf);
	sspr_wipe(buf + 8, 16);
	for (size_t i = 0; i < sizeof buf; i++)
		assert_int_equal(buf[i], i >= 8 && i < 24 ? 0 : 0xff);
	sspr_wipe(buf, 0); /* nothing */
	assert_int_equal(buf[0], 0xff);
	sspr_wipe(buf, sizeof buf);
	for (size_t i = 0; i < sizeof buf; i++)
		assert_int_equal(buf[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strtonum_table),
		cmocka_unit_test(test_strtonum_null),
		cmocka_unit_test(test_strtonum_counts),
		cmocka_unit_test(test_strerror_names),
		cmocka_unit_test(test_strerror_sign),
		cmocka_unit_test(test_strerror_unknown),
		cmocka_unit_test(test_strlcpy),
		cmocka_unit_test(test_strlcpy_reads_at_most_dstlen),
		cmocka_unit_test(test_secure_alloc),
		cmocka_unit_test(test_secure_cleanup),
		cmocka_unit_test(test_wipe),
		/* last: under UBSan with halt_on_error it ends the process */
		cmocka_unit_test(test_strerror_int_min),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
