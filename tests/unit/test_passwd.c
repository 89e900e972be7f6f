/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/passwd.c: every method's prefix, hash-then-verify,
 * login.defs methods and costs, weak methods refused, locked hashes. */
#include <crypt.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sspr/common.h"
#include "sspr/config.h"
#include "sspr/passwd.h"
#include "sspr/shadow.h"

#define PW "correct horse battery staple"

static void hash_ok(enum sspr_hash h, const char *defs, const char *prefix, char *out, size_t n)
{
	int r = sspr_passwd_hash(h, defs, PW, out, n);

	if (r != 0)
		fail_msg("method %d: %d (%s)", (int)h, r, sspr_strerror(r));
	if (strncmp(out, prefix, strlen(prefix)) != 0)
		fail_msg("method %d: '%s' does not start with '%s'", (int)h, out, prefix);
	assert_true(sspr_crypt_alphabet_ok(out));
}

static void test_methods(void **state)
{
	static const struct {
		enum sspr_hash h;
		const char *prefix;
	} cases[] = {
		{ SSPR_HASH_YESCRYPT, "$y$" },
		{ SSPR_HASH_GOST_YESCRYPT, "$gy$" },
		{ SSPR_HASH_SCRYPT, "$7$" },
		{ SSPR_HASH_SHA512, "$6$" },
		{ SSPR_HASH_SHA256, "$5$" },
		{ SSPR_HASH_BCRYPT, "$2b$" },
	};
	char out[SSPR_HASH_MAX], again[SSPR_HASH_MAX];

	(void)state;
	for (size_t i = 0; i < SSPR_ELEMENTSOF(cases); i++) {
		hash_ok(cases[i].h, NULL, cases[i].prefix, out, sizeof out);
		assert_true(sspr_passwd_matches(PW, out));
		assert_false(sspr_passwd_matches(PW "x", out));
		assert_false(sspr_passwd_matches("", out));
		/* fresh salt each time */
		hash_ok(cases[i].h, NULL, cases[i].prefix, again, sizeof again);
		assert_string_not_equal(out, again);
	}
}

/* hash = default: libxcrypt's preferred method, yescrypt on Debian 12. */
static void test_default(void **state)
{
	char out[SSPR_HASH_MAX];

	(void)state;
	hash_ok(SSPR_HASH_DEFAULT, NULL, crypt_preferred_method(), out, sizeof out);
	assert_memory_equal(out, "$y$", 3);
	assert_true(sspr_passwd_matches(PW, out));
	assert_false(sspr_passwd_matches("wrong", out));
}

static void test_args(void **state)
{
	char out[SSPR_HASH_MAX], small[16];

	(void)state;
	assert_int_equal(sspr_passwd_hash(SSPR_HASH_SHA512, NULL, NULL, out, sizeof out), -EINVAL);
	assert_int_equal(sspr_passwd_hash(SSPR_HASH_SHA512, NULL, PW, NULL, 0), -EINVAL);
	assert_int_equal(sspr_passwd_hash((enum sspr_hash)99, NULL, PW, out, sizeof out), -EINVAL);
	assert_int_equal(sspr_passwd_hash(SSPR_HASH_LOGIN_DEFS, NULL, PW, out, sizeof out), -EINVAL);
	/* too small a buffer: -ENOBUFS, buffer untouched */
	memset(small, 'Q', sizeof small);
	assert_int_equal(sspr_passwd_hash(SSPR_HASH_SHA512, NULL, PW, small, sizeof small), -ENOBUFS);
	for (size_t i = 0; i < sizeof small; i++)
		assert_int_equal(small[i], 'Q');
	/* an empty password still hashes (policy decides on length) */
	assert_int_equal(sspr_passwd_hash(SSPR_HASH_SHA256, NULL, "", out, sizeof out), 0);
	assert_true(sspr_passwd_matches("", out));
	assert_false(sspr_passwd_matches("x", out));
}

static void test_matches(void **state)
{
	char out[SSPR_HASH_MAX], locked[SSPR_HASH_MAX + 8];
	struct crypt_data cd;

	(void)state;
	hash_ok(SSPR_HASH_SHA512, NULL, "$6$", out, sizeof out);
	/* locked forms of a matching hash never match */
	(void)snprintf(locked, sizeof locked, "!%s", out);
	assert_false(sspr_passwd_matches(PW, locked));
	(void)snprintf(locked, sizeof locked, "*%s", out);
	assert_false(sspr_passwd_matches(PW, locked));
	(void)snprintf(locked, sizeof locked, "!!%s", out);
	assert_false(sspr_passwd_matches(PW, locked));
	assert_false(sspr_passwd_matches(PW, "!"));
	assert_false(sspr_passwd_matches(PW, "*"));
	assert_false(sspr_passwd_matches(PW, "!!"));
	/* empty, missing and malformed hashes never match */
	assert_false(sspr_passwd_matches(PW, ""));
	assert_false(sspr_passwd_matches("", ""));
	assert_false(sspr_passwd_matches(PW, NULL));
	assert_false(sspr_passwd_matches(NULL, out));
	assert_false(sspr_passwd_matches(PW, "$6$"));
	assert_false(sspr_passwd_matches(PW, "$6$:garbage"));
	assert_false(sspr_passwd_matches(PW, "$9$nosuchmethod$abc"));
	assert_false(sspr_passwd_matches(PW, "$y$"));
	/* a truncated hash (setting only) does not match */
	{
		char *salt_end = strrchr(out, '$');

		assert_non_null(salt_end);
		*salt_end = '\0';
		assert_false(sspr_passwd_matches(PW, out));
	}
	/* legacy hashes still verify (reject_reuse must see them) */
	memset(&cd, 0, sizeof cd);
	assert_non_null(crypt_rn(PW, "$1$abcdefgh", &cd, (int)sizeof cd));
	assert_true(sspr_passwd_matches(PW, cd.output));
	assert_false(sspr_passwd_matches("other", cd.output));
}

/* ---- login.defs -------------------------------------------------------- */

static char defs_path[64];

static int setup_defs(void **state)
{
	int fd;

	(void)state;
	strcpy(defs_path, "/tmp/sspr-test-login.defs.XXXXXX");
	fd = mkstemp(defs_path);
	if (fd < 0)
		return -1;
	return close(fd);
}

static int teardown_defs(void **state)
{
	(void)state;
	(void)unlink(defs_path);
	return 0;
}

static void write_defs(const char *text)
{
	int fd = open(defs_path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

static void test_login_defs(void **state)
{
	static const struct {
		const char *name, *defs;
		int ret;
		const char *prefix; /* the hash starts with this */
	} cases[] = {
		{ "debian", "# comment\nMAIL_DIR /var/mail\nENCRYPT_METHOD SHA512\nUMASK 022\n",
		  0, "$6$" },
		{ "sha512 default rounds", "ENCRYPT_METHOD SHA512\n", 0, "$6$" },
		{ "sha512 rounds", "ENCRYPT_METHOD SHA512\nSHA_CRYPT_MIN_ROUNDS 10000\n"
		  "SHA_CRYPT_MAX_ROUNDS 20000\n", 0, "$6$rounds=10000$" },
		{ "sha512 min only", "ENCRYPT_METHOD SHA512\nSHA_CRYPT_MIN_ROUNDS 6000\n",
		  0, "$6$rounds=6000$" },
		{ "sha256 max only", "ENCRYPT_METHOD SHA256\nSHA_CRYPT_MAX_ROUNDS 7000\n",
		  0, "$5$rounds=7000$" },
		{ "sha min over max", "ENCRYPT_METHOD SHA256\nSHA_CRYPT_MIN_ROUNDS 9000\n"
		  "SHA_CRYPT_MAX_ROUNDS 8000\n", 0, "$5$rounds=9000$" },
		{ "sha rounds clamped", "ENCRYPT_METHOD SHA256\nSHA_CRYPT_MIN_ROUNDS 10\n",
		  0, "$5$rounds=1000$" },
		{ "sha unset is -1", "ENCRYPT_METHOD SHA512\nSHA_CRYPT_MIN_ROUNDS -1\n"
		  "SHA_CRYPT_MAX_ROUNDS 11000\n", 0, "$6$rounds=11000$" },
		{ "yescrypt default", "ENCRYPT_METHOD YESCRYPT\n", 0, "$y$j9T$" },
		{ "yescrypt cost 7", "ENCRYPT_METHOD YESCRYPT\nYESCRYPT_COST_FACTOR 7\n",
		  0, "$y$jBT$" },
		{ "yescrypt cost clamped", "ENCRYPT_METHOD YESCRYPT\nYESCRYPT_COST_FACTOR 0\n",
		  0, "$y$j75$" }, /* cost 1 */
		{ "bcrypt", "ENCRYPT_METHOD BCRYPT\nBCRYPT_MIN_ROUNDS 6\nBCRYPT_MAX_ROUNDS 9\n",
		  0, "$2b$06$" },
		{ "bcrypt clamped", "ENCRYPT_METHOD BCRYPT\nBCRYPT_MAX_ROUNDS 2\n", 0, "$2b$04$" },
		{ "blanks quotes and trailing words",
		  "\t  ENCRYPT_METHOD\t \"SHA256\"  # the method\nSHA_CRYPT_MIN_ROUNDS \"5500\"\n",
		  0, "$5$rounds=5500$" },
		{ "last one wins", "ENCRYPT_METHOD MD5\nENCRYPT_METHOD SHA512\n", 0, "$6$" },
		{ "no final newline", "ENCRYPT_METHOD SHA256", 0, "$5$" },
		{ "commented out", "#ENCRYPT_METHOD SHA512\n", -SSPR_E_WEAK_METHOD, NULL },
		{ "unset", "UMASK 022\n", -SSPR_E_WEAK_METHOD, NULL },
		{ "empty file", "", -SSPR_E_WEAK_METHOD, NULL },
		{ "md5", "ENCRYPT_METHOD MD5\n", -SSPR_E_WEAK_METHOD, NULL },
		{ "md5 crypt enab", "MD5_CRYPT_ENAB yes\n", -SSPR_E_WEAK_METHOD, NULL },
		{ "des", "ENCRYPT_METHOD DES\n", -SSPR_E_WEAK_METHOD, NULL },
		{ "unknown", "ENCRYPT_METHOD ROT13\n", -SSPR_E_WEAK_METHOD, NULL },
		{ "lower case", "ENCRYPT_METHOD sha512\n", -SSPR_E_WEAK_METHOD, NULL },
		{ "key without value", "ENCRYPT_METHOD\n", -EINVAL, NULL },
		{ "bad rounds", "ENCRYPT_METHOD SHA512\nSHA_CRYPT_MIN_ROUNDS lots\n", -EINVAL, NULL },
		{ "bad cost", "ENCRYPT_METHOD YESCRYPT\nYESCRYPT_COST_FACTOR 5x\n", -EINVAL, NULL },
		{ "bad key of another method ignored",
		  "ENCRYPT_METHOD SHA512\nBCRYPT_MIN_ROUNDS lots\n", 0, "$6$" },
	};
	char out[SSPR_HASH_MAX];

	(void)state;
	for (size_t i = 0; i < SSPR_ELEMENTSOF(cases); i++) {
		int r;

		write_defs(cases[i].defs);
		memset(out, 0, sizeof out);
		r = sspr_passwd_hash(SSPR_HASH_LOGIN_DEFS, defs_path, PW, out, sizeof out);
		if (r != cases[i].ret)
			fail_msg("%s: got %d (%s), want %d", cases[i].name, r, sspr_strerror(r),
			         cases[i].ret);
		if (r < 0)
			continue;
		if (strncmp(out, cases[i].prefix, strlen(cases[i].prefix)) != 0)
			fail_msg("%s: '%s' does not start with '%s'", cases[i].name, out,
			         cases[i].prefix);
		if (strcmp(cases[i].prefix, "$6$") == 0 || strcmp(cases[i].prefix, "$5$") == 0)
			if (strstr(out, "rounds="))
				fail_msg("%s: '%s' has rounds", cases[i].name, out);
		if (!sspr_passwd_matches(PW, out) || sspr_passwd_matches(PW "!", out))
			fail_msg("%s: '%s' does not verify", cases[i].name, out);
	}
}

static void test_login_defs_files(void **state)
{
	char out[SSPR_HASH_MAX];

	(void)state;
	assert_int_equal(sspr_passwd_hash(SSPR_HASH_LOGIN_DEFS, "/nonexistent/login.defs", PW,
	                                  out, sizeof out), -ENOENT);
	assert_int_equal(sspr_passwd_hash(SSPR_HASH_LOGIN_DEFS, "/tmp", PW, out, sizeof out),
	                 -SSPR_E_UNSAFE_FILE);
	/* the other methods never read it */
	assert_int_equal(sspr_passwd_hash(SSPR_HASH_SHA512, "/nonexistent/login.defs", PW,
	                                  out, sizeof out), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_matches),
		cmocka_unit_test_setup_teardown(test_login_defs, setup_defs, teardown_defs),
		cmocka_unit_test(test_login_defs_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
