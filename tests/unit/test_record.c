/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/record.c: the text format (round trip and a table of
 * malformed records) and the state files in a mkdtemp directory (symlinks,
 * hard links, modes, FIFOs, mismatches, the lock). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "test-util.h"
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "sspr/common.h"
#include "sspr/record.h"

#define B32_KEY20 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" /* "12345678901234567890" */

static const char valid_text[] =
	"sspr-record 1\n"
	"user alice\n"
	"uid 1001\n"
	"type totp\n"
	"algorithm sha1\n"
	"digits 6\n"
	"period 30\n"
	"secret " B32_KEY20 "\n"
	"state 56666666\n"
	"created 1700000000\n"
	"last_used 0\n";

static struct sspr_record *alice(void)
{
	struct sspr_record *r = sspr_record_new();

	assert_non_null(r);
	strcpy(r->user, "alice");
	r->uid = 1001;
	sspr_otp_params_default(&r->otp);
	memcpy(r->secret, "12345678901234567890", 20);
	r->secret_len = 20;
	r->state = 56666666;
	r->created = 1700000000;
	r->last_used = 0;
	return r;
}

static void assert_same_record(const struct sspr_record *a, const struct sspr_record *b)
{
	assert_string_equal(a->user, b->user);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->otp.type, b->otp.type);
	assert_int_equal(a->otp.alg, b->otp.alg);
	assert_int_equal(a->otp.digits, b->otp.digits);
	assert_int_equal(a->otp.period, b->otp.period);
	assert_int_equal(a->secret_len, b->secret_len);
	assert_memory_equal(a->secret, b->secret, a->secret_len);
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->created, b->created);
	assert_int_equal(a->last_used, b->last_used);
}

/* --- text format ------------------------------------------------------ */

static void test_format_exact(void **state)
{
	_cleanup_record_ struct sspr_record *r = alice();
	char *text = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(sspr_record_format(r, &text, &len), 0);
	assert_int_equal(len, strlen(valid_text));
	assert_memory_equal(text, valid_text, len);
	sspr_secure_free(text);
}

static void test_round_trip(void **state)
{
	static const struct {
		enum sspr_otp_type type;
		enum sspr_otp_alg alg;
		unsigned digits, period;
		size_t secret_len;
		uint64_t st;
		int64_t created, last_used;
	} cases[] = {
		{ SSPR_OTP_TOTP, SSPR_OTP_SHA1, 6, 30, 20, 0, 0, 0 },
		{ SSPR_OTP_TOTP, SSPR_OTP_SHA256, 8, 60, 32, 123456789, 1700000000, 1700000100 },
		{ SSPR_OTP_TOTP, SSPR_OTP_SHA512, 8, 300, 64, INT64_MAX, INT64_MAX, INT64_MAX },
		{ SSPR_OTP_TOTP, SSPR_OTP_SHA1, 6, 1, 10, 1, 1, 1 },
		{ SSPR_OTP_HOTP, SSPR_OTP_SHA1, 6, 30, 20, 42, 5, 6 },
		{ SSPR_OTP_HOTP, SSPR_OTP_SHA1, 8, 30, 11, 0, 0, 0 },
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < SSPR_ELEMENTSOF(cases); i++) {
		_cleanup_record_ struct sspr_record *a = sspr_record_new();
		_cleanup_record_ struct sspr_record *b = sspr_record_new();
		char *text = NULL;
		size_t len = 0;

		assert_non_null(a);
		assert_non_null(b);
		snprintf(a->user, sizeof a->user, "user%zu.n\xc3\xa4me-_", i);
		a->uid = (uid_t)(1000 + i);
		a->otp.type = cases[i].type;
		a->otp.alg = cases[i].alg;
		a->otp.digits = cases[i].digits;
		a->otp.period = cases[i].period;
		for (j = 0; j < cases[i].secret_len; j++)
			a->secret[j] = (uint8_t)(j * 37 + i);
		a->secret_len = cases[i].secret_len;
		a->state = cases[i].st;
		a->created = cases[i].created;
		a->last_used = cases[i].last_used;
		assert_int_equal(sspr_record_format(a, &text, &len), 0);
		assert_int_equal(text[len - 1], '\n');
		assert_int_equal(sspr_record_parse(b, text, len), 0);
		assert_same_record(a, b);
		sspr_secure_free(text);
	}
}

static void test_parse_accepts_any_order(void **state)
{
	static const char text[] =
		"sspr-record 1\n"
		"last_used 7\n"
		"secret gezdgnbvgy3tqojqgezdgnbvgy3tqojq\n"
		"period 30\n"
		"uid 0\n"
		"digits 8\n"
		"created 1\n"
		"algorithm sha1\n"
		"type hotp\n"
		"state 9223372036854775807\n"
		"user root\n";
	_cleanup_record_ struct sspr_record *r = sspr_record_new();

	(void)state;
	assert_int_equal(sspr_record_parse(r, text, strlen(text)), 0);
	assert_string_equal(r->user, "root");
	assert_int_equal(r->uid, 0);
	assert_int_equal(r->otp.type, SSPR_OTP_HOTP);
	assert_int_equal(r->otp.digits, 8);
	assert_int_equal(r->state, INT64_MAX);
	assert_int_equal(r->last_used, 7);
	assert_int_equal(r->secret_len, 20);
	assert_memory_equal(r->secret, "12345678901234567890", 20);
}

/* Replace the line starting with key (its "\n" included) by repl. */
static void replace_line(char *out, size_t outlen, const char *key, const char *repl)
{
	const char *p = strstr(valid_text, key);
	const char *e;

	assert_non_null(p);
	e = strchr(p, '\n') + 1;
	assert_true((size_t)snprintf(out, outlen, "%.*s%s%s", (int)(p - valid_text), valid_text,
	                             repl, e) < outlen);
}

static const struct {
	const char *key; /* line to replace (prefix of the line) */
	const char *repl;
	const char *why;
} mutations[] = {
	/* first line */
	{ "sspr-record 1", "sspr-record 2\n", "version 2" },
	{ "sspr-record 1", "sspr-record 1 \n", "magic with trailing space" },
	{ "sspr-record 1", "SSPR-RECORD 1\n", "magic in upper case" },
	{ "sspr-record 1", "sspr-record 01\n", "magic with leading zero" },
	{ "sspr-record 1", "", "no magic" },
	{ "sspr-record 1", "\nsspr-record 1\n", "blank line first" },
	/* user */
	{ "user ", "", "missing user" },
	{ "user ", "user alice\nuser alice\n", "duplicate user" },
	{ "user ", "user \n", "empty user" },
	{ "user ", "user\n", "user without value" },
	{ "user ", "user al ice\n", "user with space" },
	{ "user ", "user  alice\n", "two spaces" },
	{ "user ", "user al\tice\n", "user with tab" },
	{ "user ", "user a:b\n", "user with colon" },
	{ "user ", "user alice\r\n", "CRLF" },
	{ "user ", "user al\x7fice\n", "user with DEL" },
	{ "user ", "user alice extra\n", "trailing garbage" },
	{ "user ", " user alice\n", "leading space" },
	/* uid */
	{ "uid ", "", "missing uid" },
	{ "uid ", "uid 1001\nuid 1001\n", "duplicate uid" },
	{ "uid ", "uid -1\n", "negative uid" },
	{ "uid ", "uid +1001\n", "signed uid" },
	{ "uid ", "uid 01001\n", "leading zero" },
	{ "uid ", "uid 4294967295\n", "uid -1 as unsigned" },
	{ "uid ", "uid 4294967296\n", "uid over 32 bits" },
	{ "uid ", "uid 99999999999999999999999\n", "uid overflow" },
	{ "uid ", "uid abc\n", "uid not a number" },
	{ "uid ", "uid 1001x\n", "uid with trailing letter" },
	{ "uid ", "uid 1001 \n", "uid with trailing space" },
	{ "uid ", "uid 0x3e9\n", "uid in hex" },
	/* type */
	{ "type ", "", "missing type" },
	{ "type ", "type totp\ntype totp\n", "duplicate type" },
	{ "type ", "type TOTP\n", "type in upper case" },
	{ "type ", "type motp\n", "unknown type" },
	/* algorithm */
	{ "algorithm ", "", "missing algorithm" },
	{ "algorithm ", "algorithm md5\n", "unknown algorithm" },
	{ "algorithm ", "algorithm SHA1\n", "algorithm in upper case" },
	{ "algorithm ", "algorithm sha1\nalgorithm sha1\n", "duplicate algorithm" },
	/* digits */
	{ "digits ", "", "missing digits" },
	{ "digits ", "digits 7\n", "7 digits" },
	{ "digits ", "digits 10\n", "10 digits" },
	{ "digits ", "digits 06\n", "digits with leading zero" },
	{ "digits ", "digits six\n", "digits in words" },
	/* period */
	{ "period ", "", "missing period" },
	{ "period ", "period 0\n", "period 0" },
	{ "period ", "period 301\n", "period 301" },
	{ "period ", "period -30\n", "negative period" },
	/* secret */
	{ "secret ", "", "missing secret" },
	{ "secret ", "secret \n", "empty secret" },
	{ "secret ", "secret GEZDGNBVGY3TQOI\n", "secret of 9 bytes" },
	{ "secret ", "secret GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	             "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGE\n",
	  "secret of 81 bytes" },
	{ "secret ", "secret GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1\n", "secret not base32" },
	{ "secret ", "secret GEZDGNBVGY3TQOJQGEZDGNBVGY3TQO\n", "secret of impossible length" },
	{ "secret ", "secret GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ\n", "secret with non-zero trailing bits" },
	{ "secret ", "secret GEZDGNBV GY3TQOJQGEZDGNBVGY3TQOJQ\n", "secret with space" },
	{ "secret ", "secret " B32_KEY20 "\nsecret " B32_KEY20 "\n", "duplicate secret" },
	/* state, created, last_used */
	{ "state ", "", "missing state" },
	{ "state ", "state -1\n", "negative state" },
	{ "state ", "state 9223372036854775808\n", "state over int64" },
	{ "state ", "state 18446744073709551616\n", "state over uint64" },
	{ "state ", "state 1.5\n", "state not integer" },
	{ "created ", "", "missing created" },
	{ "created ", "created -5\n", "negative created" },
	{ "created ", "created yesterday\n", "created in words" },
	{ "last_used ", "", "missing last_used" },
	{ "last_used ", "last_used\n", "last_used without value" },
	{ "last_used ", "last_used 0", "no final newline" },
	{ "last_used ", "last_used 0\n\n", "trailing blank line" },
	{ "last_used ", "last_used 0\nlast_used 0\n", "duplicate last_used" },
	{ "last_used ", "last_used 0\ncomment x\n", "unknown key" },
	{ "last_used ", "last_used 0\n# comment\n", "comment line" },
	{ "last_used ", "last_used 0\nUSER alice\n", "key in upper case" },
};

static void test_parse_rejects(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < SSPR_ELEMENTSOF(mutations); i++) {
		_cleanup_record_ struct sspr_record *r = alice();
		char buf[1024];
		int ret;

		replace_line(buf, sizeof buf, mutations[i].key, mutations[i].repl);
		r->state = 777;
		ret = sspr_record_parse(r, buf, strlen(buf));
		if (ret != -SSPR_E_RECORD)
			fail_msg("accepted (%d): %s", ret, mutations[i].why);
		/* A refused parse leaves the record alone. */
		assert_int_equal(r->state, 777);
		assert_string_equal(r->user, "alice");
	}
}

static void test_parse_rejects_bytes(void **state)
{
	_cleanup_record_ struct sspr_record *r = sspr_record_new();
	char buf[SSPR_RECORD_MAX + 200];
	size_t n = strlen(valid_text);
	char *p;

	(void)state;
	/* Sanity: the base text parses. */
	assert_int_equal(sspr_record_parse(r, valid_text, n), 0);
	/* Empty, or no final newline. */
	assert_int_equal(sspr_record_parse(r, valid_text, 0), -SSPR_E_RECORD);
	assert_int_equal(sspr_record_parse(r, valid_text, n - 1), -SSPR_E_RECORD);
	assert_int_equal(sspr_record_parse(r, NULL, n), -SSPR_E_RECORD);
	/* A NUL byte inside a value, then the rest of the line. */
	memcpy(buf, valid_text, n);
	p = strstr(buf, "alice");
	p[2] = '\0';
	assert_int_equal(sspr_record_parse(r, buf, n), -SSPR_E_RECORD);
	/* NUL at the end, after the last newline. */
	memcpy(buf, valid_text, n);
	buf[n] = '\0';
	assert_int_equal(sspr_record_parse(r, buf, n + 1), -SSPR_E_RECORD);
	/* A line over 1024 bytes (an unknown key, so only length or key can
	 * refuse it; and one long user line). */
	memcpy(buf, valid_text, n);
	memset(buf + n, 'x', 1100);
	buf[n + 1100] = '\n';
	assert_int_equal(sspr_record_parse(r, buf, n + 1101), -SSPR_E_RECORD);
	{
		char line[1400];
		char big[2048];

		memset(line, 'a', 1030);
		line[1030] = '\0';
		replace_line(big, sizeof big, "user ", "");
		assert_true(strlen(big) + 1100 < sizeof buf);
		n = (size_t)snprintf(buf, sizeof buf, "%suser %s\n", big, line);
		assert_int_equal(sspr_record_parse(r, buf, n), -SSPR_E_RECORD);
		/* A 256-byte user name is one too many. */
		line[256] = '\0';
		n = (size_t)snprintf(buf, sizeof buf, "%suser %s\n", big, line);
		assert_int_equal(sspr_record_parse(r, buf, n), -SSPR_E_RECORD);
		line[255] = '\0';
		n = (size_t)snprintf(buf, sizeof buf, "%suser %s\n", big, line);
		assert_int_equal(sspr_record_parse(r, buf, n), 0);
		assert_int_equal(strlen(r->user), 255);
	}
	/* Over SSPR_RECORD_MAX in all. */
	n = strlen(valid_text);
	memcpy(buf, valid_text, n);
	memset(buf + n, '\n', sizeof buf - n);
	assert_int_equal(sspr_record_parse(r, buf, SSPR_RECORD_MAX + 1), -SSPR_E_RECORD);
}

static void test_parse_hotp_needs_sha1(void **state)
{
	_cleanup_record_ struct sspr_record *r = sspr_record_new();
	char a[1024], b[1024];

	(void)state;
	replace_line(a, sizeof a, "type ", "type hotp\n");
	assert_int_equal(sspr_record_parse(r, a, strlen(a)), 0);
	assert_int_equal(r->otp.type, SSPR_OTP_HOTP);
	/* b = a with sha256 */
	{
		char *p = strstr(a, "algorithm sha1\n");

		assert_non_null(p);
		snprintf(b, sizeof b, "%.*salgorithm sha256\n%s", (int)(p - a), a,
		         p + strlen("algorithm sha1\n"));
	}
	assert_int_equal(sspr_record_parse(r, b, strlen(b)), -SSPR_E_RECORD);
	/* hotp still range-checks period */
	{
		char c[1024];
		char *p = strstr(a, "period 30\n");

		assert_non_null(p);
		snprintf(c, sizeof c, "%.*speriod 0\n%s", (int)(p - a), a, p + strlen("period 30\n"));
		assert_int_equal(sspr_record_parse(r, c, strlen(c)), -SSPR_E_RECORD);
	}
}

static void test_format_rejects(void **state)
{
	static const char *const bad_users[] = { "", "a b", "a:b", "a\tb", "a\nb" };
	size_t i;

	(void)state;
	for (i = 0; i < SSPR_ELEMENTSOF(bad_users); i++) {
		_cleanup_record_ struct sspr_record *r = alice();
		char *text = (char *)0x1;
		size_t len = 99;

		strcpy(r->user, bad_users[i]);
		assert_int_equal(sspr_record_format(r, &text, &len), -EINVAL);
		assert_ptr_equal(text, (char *)0x1);
		assert_int_equal(len, 99);
	}
	{
		_cleanup_record_ struct sspr_record *r = alice();
		char *text = NULL;
		size_t len;

		r->secret_len = 9;
		assert_int_equal(sspr_record_format(r, &text, &len), -EINVAL);
		r->secret_len = SSPR_SECRET_MAX + 1;
		assert_int_equal(sspr_record_format(r, &text, &len), -EINVAL);
		r->secret_len = 20;
		r->otp.digits = 7;
		assert_int_equal(sspr_record_format(r, &text, &len), -EINVAL);
		r->otp.digits = 6;
		r->uid = (uid_t)-1;
		assert_int_equal(sspr_record_format(r, &text, &len), -EINVAL);
		r->uid = 1001;
		r->state = (uint64_t)INT64_MAX + 1;
		assert_int_equal(sspr_record_format(r, &text, &len), -EINVAL);
		r->state = 0;
		r->created = -1;
		assert_int_equal(sspr_record_format(r, &text, &len), -EINVAL);
		r->created = 0;
		assert_int_equal(sspr_record_format(r, &text, &len), 0);
		sspr_secure_free(text);
	}
}

/* --- state files ------------------------------------------------------ */

struct fixture {
	char dir[64];        /* mkdtemp */
	char statedir[128];  /* dir/state */
	char usersdir[160];  /* dir/state/users */
	int ufd;
};

static int fs_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/sspr-test-record.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->statedir, sizeof f->statedir, "%s/state", f->dir);
	snprintf(f->usersdir, sizeof f->usersdir, "%s/users", f->statedir);
	if (sspr_state_open_users(f->statedir, 1, &f->ufd) < 0)
		return -1;
	*state = f;
	return 0;
}


static int fs_teardown(void **state)
{
	struct fixture *f = *state;

	if (f->ufd >= 0)
		close(f->ufd);
	rm_rf(f->dir);
	free(f);
	return 0;
}

static void path_in(char *out, size_t len, const char *dir, const char *name)
{
	assert_true((size_t)snprintf(out, len, "%s/%s", dir, name) < len);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, len - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

/* Entries of the users dir other than . .. and .lock */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strcmp(de->d_name, ".lock"))
			n++;
	closedir(d);
	return n;
}

static void test_open_users(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	char other[192], link[192];
	int fd = -1;

	assert_int_equal(stat(f->statedir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(f->usersdir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* Again, without create. */
	assert_int_equal(sspr_state_open_users(f->statedir, 0, &fd), 0);
	assert_true(fd >= 0);
	close(fd);
	/* Missing, without create. */
	path_in(other, sizeof other, f->dir, "nostate");
	fd = -1;
	assert_int_equal(sspr_state_open_users(other, 0, &fd), -ENOENT);
	assert_int_equal(fd, -1);
	/* Group-writable state dir, then users dir. */
	assert_int_equal(chmod(f->statedir, 0770), 0);
	assert_int_equal(sspr_state_open_users(f->statedir, 0, &fd), -SSPR_E_UNSAFE_FILE);
	assert_int_equal(chmod(f->statedir, 0700), 0);
	assert_int_equal(chmod(f->usersdir, 0702), 0);
	assert_int_equal(sspr_state_open_users(f->statedir, 0, &fd), -SSPR_E_UNSAFE_FILE);
	assert_int_equal(chmod(f->usersdir, 0700), 0);
	/* A symlink as the state dir. */
	path_in(link, sizeof link, f->dir, "statelink");
	assert_int_equal(symlink(f->statedir, link), 0);
	assert_int_equal(sspr_state_open_users(link, 0, &fd), -SSPR_E_UNSAFE_FILE);
	assert_int_equal(sspr_state_open_users(link, 1, &fd), -SSPR_E_UNSAFE_FILE);
	/* A regular file where users/ should be. */
	path_in(other, sizeof other, f->dir, "state2");
	assert_int_equal(mkdir(other, 0700), 0);
	path_in(link, sizeof link, other, "users");
	write_file(link, "x", 0600);
	assert_int_equal(sspr_state_open_users(other, 1, &fd), -SSPR_E_UNSAFE_FILE);
	assert_int_equal(fd, -1);
}

static void test_store_load(void **state)
{
	struct fixture *f = *state;
	_cleanup_record_ struct sspr_record *a = alice();
	_cleanup_record_ struct sspr_record *b = sspr_record_new();
	char path[192], text[1024];
	struct stat st;

	assert_int_equal(sspr_record_store(f->ufd, a), 0);
	path_in(path, sizeof path, f->usersdir, "1001");
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	read_file(path, text, sizeof text);
	assert_string_equal(text, valid_text);
	assert_int_equal(count_entries(f->usersdir), 1); /* no temp left */
	assert_int_equal(sspr_record_load(f->ufd, 1001, "alice", b), 0);
	assert_same_record(a, b);
	/* Replace: the new content wins, still one file. */
	a->state = 56666667;
	a->last_used = 1700000010;
	assert_int_equal(sspr_record_store(f->ufd, a), 0);
	assert_int_equal(sspr_record_load(f->ufd, 1001, "alice", b), 0);
	assert_same_record(a, b);
	assert_int_equal(count_entries(f->usersdir), 1);
}

static void test_load_missing(void **state)
{
	struct fixture *f = *state;
	_cleanup_record_ struct sspr_record *r = sspr_record_new();

	assert_int_equal(sspr_record_load(f->ufd, 4242, "nobody", r), -ENOENT);
}

static void test_load_symlink(void **state)
{
	struct fixture *f = *state;
	_cleanup_record_ struct sspr_record *a = alice();
	_cleanup_record_ struct sspr_record *r = sspr_record_new();
	char target[192], link[192], text[1024];
	struct stat st;

	/* A valid record as the target, so only the link can be refused. */
	path_in(target, sizeof target, f->dir, "target");
	write_file(target, valid_text, 0600);
	path_in(link, sizeof link, f->usersdir, "1001");
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(sspr_record_load(f->ufd, 1001, "alice", r), -SSPR_E_UNSAFE_FILE);
	/* Storing replaces the link itself; the target stays as it was. */
	a->state = 99;
	assert_int_equal(sspr_record_store(f->ufd, a), 0);
	read_file(target, text, sizeof text);
	assert_string_equal(text, valid_text);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(sspr_record_load(f->ufd, 1001, "alice", r), 0);
	assert_int_equal(r->state, 99);
	/* Dangling symlink: unsafe, not "missing". */
	path_in(link, sizeof link, f->usersdir, "1002");
	assert_int_equal(symlink("/nonexistent/sspr", link), 0);
	assert_int_equal(sspr_record_load(f->ufd, 1002, "alice", r), -SSPR_E_UNSAFE_FILE);
}

static void test_load_hardlink(void **state)
{
	struct fixture *f = *state;
	_cleanup_record_ struct sspr_record *a = alice();
	_cleanup_record_ struct sspr_record *r = sspr_record_new();
	char path[192], other[192];

	assert_int_equal(sspr_record_store(f->ufd, a), 0);
	path_in(path, sizeof path, f->usersdir, "1001");
	path_in(other, sizeof other, f->dir, "hardlink");
	assert_int_equal(link(path, other), 0);
	assert_int_equal(sspr_record_load(f->ufd, 1001, "alice", r), -SSPR_E_UNSAFE_FILE);
	assert_int_equal(unlink(other), 0);
	assert_int_equal(sspr_record_load(f->ufd, 1001, "alice", r), 0);
}

static void test_load_mode(void **state)
{
	struct fixture *f = *state;
	_cleanup_record_ struct sspr_record *r = sspr_record_new();
	char path[192];

	path_in(path, sizeof path, f->usersdir, "1001");
	write_file(path, valid_text, 0644);
	assert_int_equal(sspr_record_load(f->ufd, 1001, "alice", r), -SSPR_E_UNSAFE_FILE);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(sspr_record_load(f->ufd, 1001, "alice", r), -SSPR_E_UNSAFE_FILE);
	assert_int_equal(chmod(path, 0601), 0);
	assert_int_equal(sspr_record_load(f->ufd, 1001, "alice", r), -SSPR_E_UNSAFE_FILE);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(sspr_record_load(f->ufd, 1001, "alice", r), 0);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(sspr_record_load(f->ufd, 1001, "alice", r), 0);
}

static void on_alarm(int sig)
{
	(void)sig;
	(void)!write(2, "hung on a FIFO\n", 15);
	_exit(1);
}

static void test_load_fifo(void **state)
{
	struct fixture *f = *state;
	_cleanup_record_ struct sspr_record *r = sspr_record_new();
	char path[192];

	path_in(path, sizeof path, f->usersdir, "1001");
	assert_int_equal(mkfifo(path, 0600), 0);
	/* Fail, rather than hang the suite, if the open blocks. */
	signal(SIGALRM, on_alarm);
	alarm(10);
	assert_int_equal(sspr_record_load(f->ufd, 1001, "alice", r), -SSPR_E_UNSAFE_FILE);
	alarm(0);
	signal(SIGALRM, SIG_DFL);
	/* A directory is no record either. */
	path_in(path, sizeof path, f->usersdir, "1002");
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(sspr_record_load(f->ufd, 1002, "alice", r), -SSPR_E_UNSAFE_FILE);
}

static void test_load_mismatch(void **state)
{
	struct fixture *f = *state;
	_cleanup_record_ struct sspr_record *a = alice();
	_cleanup_record_ struct sspr_record *r = sspr_record_new();
	char path[192];

	assert_int_equal(sspr_record_store(f->ufd, a), 0);
	r->state = 5;
	/* Right uid, other name. */
	assert_int_equal(sspr_record_load(f->ufd, 1001, "bob", r), -SSPR_E_RECORD);
	assert_int_equal(sspr_record_load(f->ufd, 1001, "alicex", r), -SSPR_E_RECORD);
	assert_int_equal(r->state, 5); /* untouched on failure */
	/* alice's record copied under bob's uid. */
	path_in(path, sizeof path, f->usersdir, "1002");
	write_file(path, valid_text, 0600);
	assert_int_equal(sspr_record_load(f->ufd, 1002, "alice", r), -SSPR_E_RECORD);
	assert_int_equal(r->state, 5);
}

static void test_load_bad_content(void **state)
{
	struct fixture *f = *state;
	_cleanup_record_ struct sspr_record *r = sspr_record_new();
	char path[192], big[SSPR_RECORD_MAX + 600];
	size_t n = strlen(valid_text);

	path_in(path, sizeof path, f->usersdir, "1001");
	write_file(path, "sspr-record 1\nuser alice\n", 0600);
	assert_int_equal(sspr_record_load(f->ufd, 1001, "alice", r), -SSPR_E_RECORD);
	write_file(path, "", 0600);
	assert_int_equal(sspr_record_load(f->ufd, 1001, "alice", r), -SSPR_E_RECORD);
	/* Over the cap: a valid record followed by a lot. */
	memcpy(big, valid_text, n);
	memset(big + n, 'x', sizeof big - n - 1);
	big[sizeof big - 1] = '\0';
	write_file(path, big, 0600);
	assert_int_equal(sspr_record_load(f->ufd, 1001, "alice", r), -SSPR_E_RECORD);
}

static void test_remove(void **state)
{
	struct fixture *f = *state;
	_cleanup_record_ struct sspr_record *a = alice();
	_cleanup_record_ struct sspr_record *r = sspr_record_new();

	assert_int_equal(sspr_record_store(f->ufd, a), 0);
	assert_int_equal(sspr_record_remove(f->ufd, 1001), 0);
	assert_int_equal(sspr_record_load(f->ufd, 1001, "alice", r), -ENOENT);
	assert_int_equal(sspr_record_remove(f->ufd, 1001), -ENOENT);
	assert_int_equal(count_entries(f->usersdir), 0);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_lock(void **state)
{
	struct fixture *f = *state;
	int held[2], release[2];
	int lfd = -1, status;
	int64_t t0, dt;
	char c;
	pid_t pid;

	assert_int_equal(pipe(held), 0);
	assert_int_equal(pipe(release), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int cfd = -1;

		close(held[0]);
		close(release[1]);
		if (sspr_record_lock(f->ufd, 1000, &cfd) != 0)
			_exit(2);
		(void)!write(held[1], "L", 1);
		/* Hold the lock until the parent says so (or dies). */
		(void)!read(release[0], &c, 1);
		_exit(0);
	}
	close(held[1]);
	close(release[0]);
	assert_int_equal(read(held[0], &c, 1), 1);
	t0 = now_ms();
	assert_int_equal(sspr_record_lock(f->ufd, 150, &lfd), -SSPR_E_LOCK_TIMEOUT);
	dt = now_ms() - t0;
	assert_int_equal(lfd, -1);
	assert_true(dt >= 140);
	assert_true(dt < 5000);
	/* timeout 0: one try, no wait. */
	assert_int_equal(sspr_record_lock(f->ufd, 0, &lfd), -SSPR_E_LOCK_TIMEOUT);
	/* Release: the child exits, its lock goes with it. */
	assert_int_equal(write(release[1], "U", 1), 1);
	close(release[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(held[0]);
	assert_int_equal(sspr_record_lock(f->ufd, 1000, &lfd), 0);
	assert_true(lfd >= 0);
	close(lfd);
}

static void test_lock_file_checked(void **state)
{
	struct fixture *f = *state;
	char path[192], target[192];
	int lfd = -1;

	path_in(path, sizeof path, f->usersdir, ".lock");
	path_in(target, sizeof target, f->dir, "locktarget");
	write_file(target, "", 0600);
	(void)unlink(path);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(sspr_record_lock(f->ufd, 10, &lfd), -SSPR_E_UNSAFE_FILE);
	assert_int_equal(unlink(path), 0);
	write_file(path, "", 0666);
	assert_int_equal(sspr_record_lock(f->ufd, 10, &lfd), -SSPR_E_UNSAFE_FILE);
	assert_int_equal(lfd, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_exact),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_parse_accepts_any_order),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_parse_rejects_bytes),
		cmocka_unit_test(test_parse_hotp_needs_sha1),
		cmocka_unit_test(test_format_rejects),
		cmocka_unit_test_setup_teardown(test_open_users, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(test_store_load, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(test_load_missing, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(test_load_symlink, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(test_load_hardlink, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(test_load_mode, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(test_load_fifo, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(test_load_mismatch, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(test_load_bad_content, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(test_remove, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(test_lock, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(test_lock_file_checked, fs_setup, fs_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
