/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/ratelimit.c: the tally text format (round trip and a
 * table of malformed tallies), the limits (deny, doubling, expiry,
 * hard_deny, success, sources, session rates) with time passed in, keyed
 * file names, durability and concurrency across fork()ed processes,
 * unsafe and corrupt files, unlock and prune.  State lives in mkdtemp
 * directories; nothing sleeps. */
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
#include <sodium.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "sspr/common.h"
#include "sspr/config.h"
#include "sspr/hostkey.h"
#include "sspr/ratelimit.h"

#define T0 1700000000

/* --- text format ------------------------------------------------------ */

static const char valid_text[] =
	"sspr-tally 1\n"
	"consecutive 7\n"
	"lockouts 1\n"
	"locked_until 1700001800\n"
	"hard_locked 0\n"
	"account 1\n"
	"last_seen 1700000900\n"
	"fail 1700000850 1700000850 1700000900\n";

static void valid_tally(struct sspr_tally *t)
{
	memset(t, 0, sizeof *t);
	t->consecutive = 7;
	t->lockouts = 1;
	t->locked_until = 1700001800;
	t->account = true;
	t->last_seen = 1700000900;
	t->nfail = 3;
	t->fail[0] = 1700000850;
	t->fail[1] = 1700000850;
	t->fail[2] = 1700000900;
}

static void assert_same_tally(const struct sspr_tally *a, const struct sspr_tally *b)
{
	assert_int_equal(a->nfail, b->nfail);
	assert_memory_equal(a->fail, b->fail, a->nfail * sizeof a->fail[0]);
	assert_int_equal(a->consecutive, b->consecutive);
	assert_int_equal(a->lockouts, b->lockouts);
	assert_int_equal(a->locked_until, b->locked_until);
	assert_int_equal(a->hard_locked, b->hard_locked);
	assert_int_equal(a->account, b->account);
	assert_int_equal(a->last_seen, b->last_seen);
}

static void test_format_exact(void **state)
{
	struct sspr_tally t;
	char *text = NULL;
	size_t len = 0;

	(void)state;
	valid_tally(&t);
	assert_int_equal(sspr_tally_format(&t, &text, &len), 0);
	assert_int_equal(len, strlen(valid_text));
	assert_memory_equal(text, valid_text, len);
	free(text);
	/* No failure: "fail" alone. */
	memset(&t, 0, sizeof t);
	assert_int_equal(sspr_tally_format(&t, &text, &len), 0);
	assert_string_equal(text, "sspr-tally 1\nconsecutive 0\nlockouts 0\nlocked_until 0\n"
	                          "hard_locked 0\naccount 0\nlast_seen 0\nfail\n");
	free(text);
}

static void test_round_trip(void **state)
{
	static struct sspr_tally a, b;
	char *text = NULL;
	size_t len = 0;
	uint32_t i, k;

	(void)state;
	for (k = 0; k < 5; k++) {
		memset(&a, 0, sizeof a);
		switch (k) {
		case 0:
			valid_tally(&a);
			break;
		case 1: /* extremes */
			a.consecutive = UINT32_MAX;
			a.lockouts = UINT32_MAX;
			a.locked_until = INT64_MAX;
			a.last_seen = INT64_MAX;
			a.hard_locked = true;
			a.nfail = 2;
			a.fail[1] = INT64_MAX;
			break;
		case 2: /* a full list of realistic times */
			a.nfail = SSPR_TALLY_TIMES_MAX;
			for (i = 0; i < a.nfail; i++)
				a.fail[i] = T0 + i / 3;
			a.last_seen = T0 + 400;
			break;
		case 3:
			a.hard_locked = true;
			a.account = false;
			a.consecutive = 20;
			break;
		default:
			break; /* all zero */
		}
		assert_int_equal(sspr_tally_format(&a, &text, &len), 0);
		assert_true(len <= SSPR_TALLY_MAX);
		assert_int_equal(text[len - 1], '\n');
		memset(&b, 0x77, sizeof b);
		assert_int_equal(sspr_tally_parse(&b, text, len), 0);
		assert_same_tally(&a, &b);
		free(text);
	}
}

static void test_parse_any_order(void **state)
{
	static const char text[] =
		"sspr-tally 1\n"
		"fail 5 6\n"
		"last_seen 6\n"
		"account 0\n"
		"hard_locked 1\n"
		"locked_until 0\n"
		"lockouts 0\n"
		"consecutive 2\n";
	struct sspr_tally t;

	(void)state;
	assert_int_equal(sspr_tally_parse(&t, text, strlen(text)), 0);
	assert_int_equal(t.nfail, 2);
	assert_int_equal(t.fail[0], 5);
	assert_int_equal(t.fail[1], 6);
	assert_true(t.hard_locked);
	assert_false(t.account);
	assert_int_equal(t.consecutive, 2);
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
	const char *key;
	const char *repl;
	const char *why;
} mutations[] = {
	{ "sspr-tally 1", "sspr-tally 2\n", "version 2" },
	{ "sspr-tally 1", "sspr-tally 1 \n", "magic with trailing space" },
	{ "sspr-tally 1", "sspr-record 1\n", "another record's magic" },
	{ "sspr-tally 1", "", "no magic" },
	{ "sspr-tally 1", "\nsspr-tally 1\n", "blank line first" },
	{ "consecutive ", "", "missing consecutive" },
	{ "consecutive ", "consecutive 7\nconsecutive 7\n", "duplicate consecutive" },
	{ "consecutive ", "consecutive -1\n", "negative consecutive" },
	{ "consecutive ", "consecutive +7\n", "signed consecutive" },
	{ "consecutive ", "consecutive 07\n", "leading zero" },
	{ "consecutive ", "consecutive 4294967296\n", "consecutive over 32 bits" },
	{ "consecutive ", "consecutive 7x\n", "trailing letter" },
	{ "consecutive ", "consecutive 7 \n", "trailing space" },
	{ "consecutive ", "consecutive  7\n", "two spaces" },
	{ "consecutive ", "consecutive\n", "no value" },
	{ "consecutive ", "consecutive \n", "empty value" },
	{ "consecutive ", "consecutive 0x7\n", "hex" },
	{ "consecutive ", "consecutive 7\r\n", "CRLF" },
	{ "consecutive ", "consecutive\t7\n", "tab" },
	{ "consecutive ", " consecutive 7\n", "leading space" },
	{ "lockouts ", "", "missing lockouts" },
	{ "lockouts ", "lockouts 1 2\n", "two values" },
	{ "locked_until ", "", "missing locked_until" },
	{ "locked_until ", "locked_until 9223372036854775808\n", "locked_until over int64" },
	{ "locked_until ", "locked_until -5\n", "negative locked_until" },
	{ "locked_until ", "locked_until 1.5\n", "not an integer" },
	{ "hard_locked ", "", "missing hard_locked" },
	{ "hard_locked ", "hard_locked 2\n", "hard_locked 2" },
	{ "hard_locked ", "hard_locked yes\n", "hard_locked yes" },
	{ "hard_locked ", "hard_locked 00\n", "hard_locked 00" },
	{ "account ", "", "missing account" },
	{ "account ", "account 1\naccount 1\n", "duplicate account" },
	{ "account ", "account -0\n", "account -0" },
	{ "last_seen ", "", "missing last_seen" },
	{ "last_seen ", "last_seen 99999999999999999999999\n", "last_seen overflow" },
	{ "fail ", "", "missing fail" },
	{ "fail ", "fail \n", "fail with a trailing space" },
	{ "fail ", "fail 1 2 \n", "list with a trailing space" },
	{ "fail ", "fail  1 2\n", "list with two spaces" },
	{ "fail ", "fail 1  2\n", "list with a double space" },
	{ "fail ", "fail 2 1\n", "list descending" },
	{ "fail ", "fail 1,2\n", "list with a comma" },
	{ "fail ", "fail 01\n", "time with a leading zero" },
	{ "fail ", "fail -1\n", "negative time" },
	{ "fail ", "fail 9223372036854775808\n", "time over int64" },
	{ "fail ", "fail\nfail\n", "duplicate fail" },
	{ "fail ", "fail 1\tx\n", "control byte in the list" },
	{ "fail ", "fail", "no final newline" },
	{ "fail ", "fail\n\n", "trailing blank line" },
	{ "fail ", "fail\nextra 1\n", "unknown key" },
	{ "fail ", "fail\n# comment\n", "comment line" },
	{ "fail ", "fail\nFAIL\n", "key in upper case" },
	{ "fail ", "fails\n", "key with a suffix" },
	{ "fail ", "fai\n", "key cut short" },
};

static void test_parse_rejects(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < SSPR_ELEMENTSOF(mutations); i++) {
		struct sspr_tally t;
		char buf[1024];
		int ret;

		replace_line(buf, sizeof buf, mutations[i].key, mutations[i].repl);
		memset(&t, 0, sizeof t);
		t.consecutive = 4242;
		ret = sspr_tally_parse(&t, buf, strlen(buf));
		if (ret != -SSPR_E_RECORD)
			fail_msg("accepted (%d): %s", ret, mutations[i].why);
		/* A refused parse leaves the tally alone. */
		assert_int_equal(t.consecutive, 4242);
		assert_int_equal(t.nfail, 0);
	}
}

static void test_parse_rejects_bytes(void **state)
{
	static char buf[SSPR_TALLY_MAX + 64];
	struct sspr_tally t;
	size_t n = strlen(valid_text), pos;
	char *p;
	int i;

	(void)state;
	assert_int_equal(sspr_tally_parse(&t, valid_text, n), 0);
	assert_int_equal(sspr_tally_parse(&t, valid_text, 0), -SSPR_E_RECORD);
	assert_int_equal(sspr_tally_parse(&t, valid_text, n - 1), -SSPR_E_RECORD);
	assert_int_equal(sspr_tally_parse(&t, NULL, n), -SSPR_E_RECORD);
	assert_int_equal(sspr_tally_parse(NULL, valid_text, n), -SSPR_E_RECORD);
	/* A NUL inside a value, inside a key, and after the last line. */
	memcpy(buf, valid_text, n);
	p = strstr(buf, "1700001800");
	p[4] = '\0';
	assert_int_equal(sspr_tally_parse(&t, buf, n), -SSPR_E_RECORD);
	memcpy(buf, valid_text, n);
	p = strstr(buf, "account");
	p[3] = '\0';
	assert_int_equal(sspr_tally_parse(&t, buf, n), -SSPR_E_RECORD);
	memcpy(buf, valid_text, n);
	buf[n] = '\0';
	assert_int_equal(sspr_tally_parse(&t, buf, n + 1), -SSPR_E_RECORD);
	/* 1000 times parse, 1001 do not. */
	replace_line(buf, sizeof buf, "fail ", "");
	pos = strlen(buf);
	pos += (size_t)snprintf(buf + pos, sizeof buf - pos, "fail");
	for (i = 0; i < SSPR_TALLY_TIMES_MAX; i++)
		pos += (size_t)snprintf(buf + pos, sizeof buf - pos, " %d", T0 + i);
	buf[pos] = '\n';
	assert_int_equal(sspr_tally_parse(&t, buf, pos + 1), 0);
	assert_int_equal(t.nfail, SSPR_TALLY_TIMES_MAX);
	pos += (size_t)snprintf(buf + pos, sizeof buf - pos, " %d\n", T0 + 5000);
	assert_int_equal(sspr_tally_parse(&t, buf, pos), -SSPR_E_RECORD);
	/* Over SSPR_TALLY_MAX in all (valid text padded with a long list is
	 * refused for its size before anything else). */
	memset(buf, '\n', sizeof buf);
	memcpy(buf, valid_text, n);
	assert_int_equal(sspr_tally_parse(&t, buf, SSPR_TALLY_MAX + 1), -SSPR_E_RECORD);
}

static void test_format_rejects(void **state)
{
	static struct sspr_tally t;
	char *text = (char *)0x1;
	size_t len = 99;
	uint32_t i;

	(void)state;
	valid_tally(&t);
	t.nfail = SSPR_TALLY_TIMES_MAX + 1;
	assert_int_equal(sspr_tally_format(&t, &text, &len), -EINVAL);
	valid_tally(&t);
	t.fail[1] = t.fail[0] - 1;
	assert_int_equal(sspr_tally_format(&t, &text, &len), -EINVAL);
	valid_tally(&t);
	t.locked_until = -1;
	assert_int_equal(sspr_tally_format(&t, &text, &len), -EINVAL);
	valid_tally(&t);
	t.last_seen = -1;
	assert_int_equal(sspr_tally_format(&t, &text, &len), -EINVAL);
	valid_tally(&t);
	t.nfail = 1;
	t.fail[0] = -3;
	assert_int_equal(sspr_tally_format(&t, &text, &len), -EINVAL);
	/* 1000 times of 19 digits do not fit SSPR_TALLY_MAX. */
	valid_tally(&t);
	t.nfail = SSPR_TALLY_TIMES_MAX;
	for (i = 0; i < t.nfail; i++)
		t.fail[i] = INT64_MAX;
	assert_int_equal(sspr_tally_format(&t, &text, &len), -SSPR_E_TOO_LONG);
	assert_int_equal(sspr_tally_format(NULL, &text, &len), -EINVAL);
	assert_ptr_equal(text, (char *)0x1);
	assert_int_equal(len, 99);
}

/* --- state files ------------------------------------------------------ */

struct fixture {
	char dir[64];        /* mkdtemp */
	char statedir[128];  /* dir/state */
	char tallydir[160];  /* dir/state/tally */
	int dfd;
	struct sspr_config c;
	unsigned char key[SSPR_HOSTKEY_LEN];
};

static int fs_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	size_t i;

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/sspr-test-rl.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->statedir, sizeof f->statedir, "%s/state", f->dir);
	snprintf(f->tallydir, sizeof f->tallydir, "%s/tally", f->statedir);
	if (sspr_rl_open(f->statedir, 1, &f->dfd) < 0)
		return -1;
	if (sspr_config_defaults(&f->c) < 0)
		return -1;
	for (i = 0; i < sizeof f->key; i++)
		f->key[i] = (unsigned char)(i * 7 + 1);
	*state = f;
	return 0;
}


static int fs_teardown(void **state)
{
	struct fixture *f = *state;

	if (f->dfd >= 0)
		close(f->dfd);
	sspr_config_free(&f->c);
	rm_rf(f->dir);
	free(f);
	return 0;
}

static void path_in(char *out, size_t len, const char *dir, const char *name)
{
	assert_true((size_t)snprintf(out, len, "%s/%s", dir, name) < len);
}

/* The file name the design prescribes, computed here independently:
 * prefix "-" hex(BLAKE2b-128 keyed with key over kind "\0" s). */
static void keyed_file(const unsigned char *key, const char *kind, char prefix, const char *s,
                       char out[64])
{
	crypto_generichash_state st;
	unsigned char h[16];
	char hex[33];

	assert_int_equal(crypto_generichash_init(&st, key, SSPR_HOSTKEY_LEN, sizeof h), 0);
	assert_int_equal(crypto_generichash_update(&st, (const unsigned char *)kind,
	                                           strlen(kind) + 1), 0);
	assert_int_equal(crypto_generichash_update(&st, (const unsigned char *)s, strlen(s)), 0);
	assert_int_equal(crypto_generichash_final(&st, h, sizeof h), 0);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	snprintf(out, 64, "%c-%s", prefix, hex);
}

static void user_path(struct fixture *f, const char *name, char *out, size_t len)
{
	char fname[64];

	keyed_file(f->key, "user", 'u', name, fname);
	path_in(out, len, f->tallydir, fname);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void write_tally(const char *path, const struct sspr_tally *t, mode_t mode)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(sspr_tally_format(t, &text, &len), 0);
	write_file(path, text, mode);
	free(text);
}

static void read_tally(const char *path, struct sspr_tally *t)
{
	static char buf[SSPR_TALLY_MAX + 1];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof buf);
	assert_true(n > 0);
	close(fd);
	assert_int_equal(sspr_tally_parse(t, buf, (size_t)n), 0);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Entries of dir but . and .. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* One attempt that must not fail; returns what it reported. */
static struct sspr_rl_attempt attempt(struct fixture *f, const char *name, bool account,
                                      const char *source, time_t now)
{
	struct sspr_rl_attempt a;

	memset(&a, 0x5a, sizeof a);
	assert_int_equal(sspr_rl_attempt(f->dfd, &f->c, f->key, name, account, source, now, &a), 0);
	assert_true(a.blocked == SSPR_R_NONE || a.blocked == SSPR_R_RATE_USER ||
	            a.blocked == SSPR_R_RATE_SOURCE);
	return a;
}

static enum sspr_reason try_name(struct fixture *f, const char *name, time_t now)
{
	return attempt(f, name, true, NULL, now).blocked;
}

static struct sspr_rl_status status(struct fixture *f, const char *name, time_t now)
{
	struct sspr_rl_status s;

	assert_int_equal(sspr_rl_status(f->dfd, &f->c, f->key, name, now, &s), 0);
	return s;
}

static void assert_same_status(const struct sspr_rl_status *a, const struct sspr_rl_status *b)
{
	assert_int_equal(a->recent_failures, b->recent_failures);
	assert_int_equal(a->consecutive, b->consecutive);
	assert_int_equal(a->lockouts, b->lockouts);
	assert_int_equal(a->locked_until, b->locked_until);
	assert_int_equal(a->hard_locked, b->hard_locked);
	assert_int_equal(a->last_failure, b->last_failure);
}

static void test_open(void **state)
{
	struct fixture *f = *state;
	char other[192], link[192];
	struct stat st;
	int fd = -1;

	assert_int_equal(stat(f->tallydir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(sspr_rl_open(f->statedir, 0, &fd), 0);
	assert_true(fd >= 0);
	close(fd);
	fd = -1;
	path_in(other, sizeof other, f->dir, "nostate");
	assert_int_equal(sspr_rl_open(other, 0, &fd), -ENOENT);
	assert_int_equal(chmod(f->tallydir, 0770), 0);
	assert_int_equal(sspr_rl_open(f->statedir, 0, &fd), -SSPR_E_UNSAFE_FILE);
	assert_int_equal(chmod(f->tallydir, 0700), 0);
	assert_int_equal(chmod(f->statedir, 0702), 0);
	assert_int_equal(sspr_rl_open(f->statedir, 0, &fd), -SSPR_E_UNSAFE_FILE);
	assert_int_equal(chmod(f->statedir, 0700), 0);
	path_in(link, sizeof link, f->dir, "statelink");
	assert_int_equal(symlink(f->statedir, link), 0);
	assert_int_equal(sspr_rl_open(link, 1, &fd), -SSPR_E_UNSAFE_FILE);
	/* tally/ as a symlink to a good directory */
	path_in(other, sizeof other, f->dir, "state2");
	assert_int_equal(mkdir(other, 0700), 0);
	path_in(link, sizeof link, other, "tally");
	assert_int_equal(symlink(f->tallydir, link), 0);
	assert_int_equal(sspr_rl_open(other, 1, &fd), -SSPR_E_UNSAFE_FILE);
	assert_int_equal(fd, -1);
	assert_int_equal(sspr_rl_open(NULL, 1, &fd), -EINVAL);
}

static void test_deny_locks(void **state)
{
	struct fixture *f = *state;
	struct sspr_rl_attempt a;
	struct sspr_rl_status s;
	int i;

	f->c.deny = 5;
	for (i = 0; i < 4; i++) {
		a = attempt(f, "alice", true, NULL, T0 + i);
		assert_int_equal(a.blocked, SSPR_R_NONE);
		assert_false(a.locked_now);
		assert_false(a.hard_locked_now);
	}
	s = status(f, "alice", T0 + 4);
	assert_int_equal(s.recent_failures, 4);
	assert_int_equal(s.consecutive, 4);
	assert_int_equal(s.locked_until, 0);
	assert_int_equal(s.last_failure, T0 + 3);
	/* The 5th is counted and checked, and starts the lock. */
	a = attempt(f, "alice", true, NULL, T0 + 4);
	assert_int_equal(a.blocked, SSPR_R_NONE);
	assert_true(a.locked_now);
	assert_int_equal(a.locked_until, T0 + 4 + 900);
	/* The 6th is refused. */
	assert_int_equal(try_name(f, "alice", T0 + 5), SSPR_R_RATE_USER);
	s = status(f, "alice", T0 + 5);
	assert_int_equal(s.consecutive, 5);
	assert_int_equal(s.lockouts, 1);
	assert_int_equal(s.locked_until, T0 + 904);
	assert_int_equal(s.recent_failures, 0); /* the lock replaced them */
	assert_false(s.hard_locked);
	assert_int_equal(s.last_failure, T0 + 4);
	/* Another name is not affected. */
	assert_int_equal(try_name(f, "bob", T0 + 5), SSPR_R_NONE);
}

static void test_window_slides(void **state)
{
	struct fixture *f = *state;

	f->c.deny = 3;
	f->c.fail_interval = 100;
	assert_false(attempt(f, "alice", true, NULL, T0).locked_now);
	assert_false(attempt(f, "alice", true, NULL, T0 + 50).locked_now);
	/* T0 is exactly fail_interval old: out of the window. */
	assert_false(attempt(f, "alice", true, NULL, T0 + 100).locked_now);
	assert_int_equal(status(f, "alice", T0 + 100).recent_failures, 2);
	assert_true(attempt(f, "alice", true, NULL, T0 + 120).locked_now);
}

static void test_doubling(void **state)
{
	static const int64_t want[] = { 900, 1800, 3600, 5000, 5000, 5000 };
	struct fixture *f = *state;
	struct sspr_rl_attempt a;
	time_t now = T0;
	size_t i;

	f->c.deny = 2;
	f->c.hard_deny = 1000;
	f->c.fail_interval = 1000000;
	f->c.unlock_time = 900;
	f->c.max_unlock_time = 5000;
	for (i = 0; i < SSPR_ELEMENTSOF(want); i++) {
		assert_false(attempt(f, "alice", true, NULL, now).locked_now);
		a = attempt(f, "alice", true, NULL, now + 1);
		assert_int_equal(a.blocked, SSPR_R_NONE);
		assert_true(a.locked_now);
		assert_int_equal(a.locked_until - (now + 1), want[i]);
		assert_int_equal(status(f, "alice", now + 1).lockouts, i + 1);
		now = (time_t)a.locked_until; /* lock expiry */
	}
	/* The largest cap and a huge lockout count do not overflow. */
	{
		struct sspr_tally t;
		char path[256];

		f->c.unlock_time = 31536000;
		f->c.max_unlock_time = 31536000;
		user_path(f, "carol", path, sizeof path);
		memset(&t, 0, sizeof t);
		t.lockouts = UINT32_MAX;
		t.consecutive = 3;
		t.account = true;
		write_tally(path, &t, 0600);
		assert_false(attempt(f, "carol", true, NULL, T0).locked_now);
		a = attempt(f, "carol", true, NULL, T0);
		assert_true(a.locked_now);
		assert_int_equal(a.locked_until, T0 + 31536000);
		assert_int_equal(status(f, "carol", T0).lockouts, UINT32_MAX);
	}
	/* unlock_time 0: no lockout wait at all. */
	f->c.unlock_time = 0;
	f->c.max_unlock_time = 0;
	for (i = 0; i < 6; i++) {
		a = attempt(f, "dave", true, NULL, T0 + (time_t)i);
		assert_int_equal(a.blocked, SSPR_R_NONE);
		assert_false(a.locked_now);
	}
}

static void test_lock_expiry(void **state)
{
	struct fixture *f = *state;
	struct sspr_rl_attempt a;
	int i;

	f->c.deny = 3;
	for (i = 0; i < 3; i++)
		a = attempt(f, "alice", false, NULL, T0);
	assert_true(a.locked_now);
	assert_int_equal(a.locked_until, T0 + 900);
	assert_int_equal(try_name(f, "alice", T0 + 1), SSPR_R_RATE_USER);
	assert_int_equal(try_name(f, "alice", T0 + 899), SSPR_R_RATE_USER);
	assert_int_equal(try_name(f, "alice", T0 + 900), SSPR_R_NONE);
	assert_int_equal(status(f, "alice", T0 + 900).recent_failures, 1);
}

static void test_refused_not_counted(void **state)
{
	struct fixture *f = *state;
	struct sspr_rl_status s;
	struct sspr_rl_attempt a;
	char path[256];
	struct sspr_tally t;
	int i;

	f->c.deny = 3;
	f->c.fail_interval = 10000;
	for (i = 0; i < 3; i++)
		attempt(f, "alice", true, NULL, T0);
	for (i = 0; i < 50; i++)
		assert_int_equal(try_name(f, "alice", T0 + 1 + i), SSPR_R_RATE_USER);
	s = status(f, "alice", T0 + 100);
	assert_int_equal(s.consecutive, 3);
	assert_int_equal(s.recent_failures, 0);
	assert_int_equal(s.last_failure, T0);
	user_path(f, "alice", path, sizeof path);
	read_tally(path, &t);
	assert_int_equal(t.last_seen, T0); /* nothing written since */
	/* After the lock: deny more failures are needed for the next one. */
	assert_false(attempt(f, "alice", true, NULL, T0 + 900).locked_now);
	assert_false(attempt(f, "alice", true, NULL, T0 + 901).locked_now);
	a = attempt(f, "alice", true, NULL, T0 + 902);
	assert_true(a.locked_now);
	assert_int_equal(a.locked_until, T0 + 902 + 1800);
}

static void test_hard_deny(void **state)
{
	struct fixture *f = *state;
	struct sspr_rl_attempt a;
	struct sspr_rl_status s;
	time_t now = T0;
	int counted = 0, hard_at = 0;
	bool was = false;

	f->c.deny = 3;
	f->c.hard_deny = 7;
	f->c.fail_interval = 1000;
	f->c.unlock_time = 10;
	f->c.max_unlock_time = 1000;
	while (counted < 30) {
		a = attempt(f, "alice", true, NULL, now);
		if (a.blocked != SSPR_R_NONE) {
			s = status(f, "alice", now);
			if (s.hard_locked)
				break;
			now = (time_t)s.locked_until;
			continue;
		}
		counted++;
		if (a.hard_locked_now) {
			assert_int_equal(hard_at, 0);
			hard_at = counted;
		}
		now++;
	}
	assert_int_equal(hard_at, 7);
	assert_int_equal(counted, 7);
	s = status(f, "alice", now);
	assert_true(s.hard_locked);
	assert_int_equal(s.consecutive, 7);
	/* Much later: still refused, still not counted. */
	assert_int_equal(try_name(f, "alice", now + 100000000), SSPR_R_RATE_USER);
	assert_int_equal(status(f, "alice", now).consecutive, 7);
	/* A success cannot lift it (the attempt that reached it may still
	 * get its check); only unlock does. */
	assert_int_equal(sspr_rl_success(f->dfd, &f->c, f->key, "alice", NULL, now), 0);
	assert_int_equal(try_name(f, "alice", now + 1), SSPR_R_RATE_USER);
	assert_int_equal(sspr_rl_unlock(f->dfd, f->key, "alice", now + 1, &was), 0);
	assert_true(was);
	assert_int_equal(try_name(f, "alice", now + 1), SSPR_R_NONE);
	assert_int_equal(status(f, "alice", now + 1).consecutive, 1);
}

static void test_hard_deny_with_deny(void **state)
{
	struct fixture *f = *state;
	struct sspr_rl_attempt a;

	/* Both limits reached by the same attempt: both reported. */
	f->c.deny = 2;
	f->c.hard_deny = 2;
	attempt(f, "alice", true, NULL, T0);
	a = attempt(f, "alice", true, NULL, T0);
	assert_true(a.locked_now);
	assert_true(a.hard_locked_now);
	assert_int_equal(try_name(f, "alice", T0 + 100000), SSPR_R_RATE_USER);
}

static void test_success(void **state)
{
	struct fixture *f = *state;
	struct sspr_rl_status s;
	struct sspr_rl_attempt a;
	int i;

	f->c.deny = 5;
	f->c.fail_interval = 100000;
	for (i = 0; i < 4; i++)
		attempt(f, "alice", true, NULL, T0 + i);
	assert_int_equal(sspr_rl_success(f->dfd, &f->c, f->key, "alice", NULL, T0 + 3), 0);
	s = status(f, "alice", T0 + 3);
	assert_int_equal(s.recent_failures, 3); /* the accepted one taken back */
	assert_int_equal(s.consecutive, 0);
	assert_int_equal(s.last_failure, T0 + 2);
	/* So two more failures do not lock, the third does. */
	assert_false(attempt(f, "alice", true, NULL, T0 + 4).locked_now);
	a = attempt(f, "alice", true, NULL, T0 + 5);
	assert_true(a.locked_now);
	assert_int_equal(a.locked_until, T0 + 5 + 900);
	assert_int_equal(status(f, "alice", T0 + 5).lockouts, 1);
	/* After the lock, a success clears the doubling: the next lock is
	 * unlock_time again, not twice it. */
	attempt(f, "alice", true, NULL, T0 + 905);
	assert_int_equal(sspr_rl_success(f->dfd, &f->c, f->key, "alice", NULL, T0 + 905), 0);
	s = status(f, "alice", T0 + 905);
	assert_int_equal(s.lockouts, 0);
	assert_int_equal(s.consecutive, 0);
	for (i = 0; i < 4; i++)
		assert_false(attempt(f, "alice", true, NULL, T0 + 906).locked_now);
	a = attempt(f, "alice", true, NULL, T0 + 906);
	assert_true(a.locked_now);
	assert_int_equal(a.locked_until, T0 + 906 + 900);
	/* A success for a name with no tally: nothing to do, nothing left. */
	assert_int_equal(sspr_rl_success(f->dfd, &f->c, f->key, "nobody", "192.0.2.9", T0), 0);
	{
		char path[256], lock[300];

		user_path(f, "nobody", path, sizeof path);
		snprintf(lock, sizeof lock, "%s.lock", path);
		assert_false(exists(path));
		assert_false(exists(lock));
	}
}

static void test_source_limit(void **state)
{
	struct fixture *f = *state;
	struct sspr_rl_status s;
	char name[32];
	int i;

	f->c.deny = 5;
	f->c.rhost_deny = 3;
	f->c.fail_interval = 900;
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof name, "user%d", i);
		assert_int_equal(attempt(f, name, true, "198.51.100.7", T0 + i).blocked,
		                 SSPR_R_NONE);
	}
	/* Another name from the same source is refused, not counted. */
	assert_int_equal(attempt(f, "victim", true, "198.51.100.7", T0 + 3).blocked,
	                 SSPR_R_RATE_SOURCE);
	s = status(f, "victim", T0 + 3);
	assert_int_equal(s.consecutive, 0);
	assert_int_equal(s.recent_failures, 0);
	/* Refused, so it left no file for that name (not even a lock). */
	{
		char path[256], lock[300];

		user_path(f, "victim", path, sizeof path);
		snprintf(lock, sizeof lock, "%s.lock", path);
		assert_false(exists(path));
		assert_false(exists(lock));
	}
	/* The same name from another source, or locally, is fine. */
	assert_int_equal(attempt(f, "victim", true, "198.51.100.8", T0 + 3).blocked, SSPR_R_NONE);
	assert_int_equal(attempt(f, "victim", true, NULL, T0 + 3).blocked, SSPR_R_NONE);
	/* Sliding: once the first failure is fail_interval old, one more. */
	assert_int_equal(attempt(f, "victim", true, "198.51.100.7", T0 + 899).blocked,
	                 SSPR_R_RATE_SOURCE);
	assert_int_equal(attempt(f, "victim", true, "198.51.100.7", T0 + 900).blocked,
	                 SSPR_R_NONE);
	assert_int_equal(attempt(f, "victim", true, "198.51.100.7", T0 + 900).blocked,
	                 SSPR_R_RATE_SOURCE);
	assert_int_equal(status(f, "victim", T0 + 900).consecutive, 3);
	/* A success takes the source's failure back too. */
	f->c.rhost_deny = 2;
	assert_int_equal(attempt(f, "a", true, "203.0.113.1", T0).blocked, SSPR_R_NONE);
	assert_int_equal(attempt(f, "b", true, "203.0.113.1", T0).blocked, SSPR_R_NONE);
	assert_int_equal(attempt(f, "c", true, "203.0.113.1", T0).blocked, SSPR_R_RATE_SOURCE);
	assert_int_equal(sspr_rl_success(f->dfd, &f->c, f->key, "b", "203.0.113.1", T0), 0);
	assert_int_equal(attempt(f, "c", true, "203.0.113.1", T0).blocked, SSPR_R_NONE);
	assert_int_equal(attempt(f, "d", true, "203.0.113.1", T0).blocked, SSPR_R_RATE_SOURCE);
	/* A locked name is refused as a name, before the source. */
	f->c.deny = 1;
	assert_true(attempt(f, "e", true, NULL, T0).locked_now);
	assert_int_equal(attempt(f, "e", true, "203.0.113.1", T0).blocked, SSPR_R_RATE_USER);
}

static void test_no_source(void **state)
{
	static const char *const none[] = { NULL, "", "-" };
	struct fixture *f = *state;
	size_t i;
	int j;

	f->c.rhost_deny = 1;
	f->c.deny = 1000;
	f->c.hard_deny = 1000;
	for (i = 0; i < SSPR_ELEMENTSOF(none); i++)
		for (j = 0; j < 3; j++)
			assert_int_equal(attempt(f, "alice", true, none[i], T0).blocked, SSPR_R_NONE);
	/* One tally and its lock: no s- file. */
	assert_int_equal(count_entries(f->tallydir), 2);
}

static void test_session_global(void **state)
{
	struct fixture *f = *state;
	enum sspr_reason why = SSPR_R_LAST;
	char path[256];
	struct sspr_tally t;
	int i;

	f->c.global_rate = 3;
	for (i = 0; i < 3; i++) {
		assert_int_equal(sspr_rl_session(f->dfd, &f->c, false, 0, T0 + i, &why), 0);
		assert_int_equal(why, SSPR_R_NONE);
	}
	/* Refusals are not charged. */
	for (i = 0; i < 20; i++) {
		assert_int_equal(sspr_rl_session(f->dfd, &f->c, false, 0, T0 + 3 + i, &why), 0);
		assert_int_equal(why, SSPR_R_RATE_GLOBAL);
	}
	assert_int_equal(sspr_rl_session(f->dfd, &f->c, false, 0, T0 + 59, &why), 0);
	assert_int_equal(why, SSPR_R_RATE_GLOBAL);
	/* T0 is a minute old: one start free. */
	assert_int_equal(sspr_rl_session(f->dfd, &f->c, false, 0, T0 + 60, &why), 0);
	assert_int_equal(why, SSPR_R_NONE);
	assert_int_equal(sspr_rl_session(f->dfd, &f->c, false, 0, T0 + 60, &why), 0);
	assert_int_equal(why, SSPR_R_RATE_GLOBAL);
	path_in(path, sizeof path, f->tallydir, "global");
	read_tally(path, &t);
	assert_int_equal(t.nfail, 3);
	assert_int_equal(t.fail[0], T0 + 1);
	assert_int_equal(t.fail[1], T0 + 2);
	assert_int_equal(t.fail[2], T0 + 60);
	/* Two minutes later the budget is whole again. */
	for (i = 0; i < 3; i++) {
		assert_int_equal(sspr_rl_session(f->dfd, &f->c, false, 0, T0 + 200, &why), 0);
		assert_int_equal(why, SSPR_R_NONE);
	}
	assert_int_equal(sspr_rl_session(f->dfd, &f->c, false, 0, T0 + 200, &why), 0);
	assert_int_equal(why, SSPR_R_RATE_GLOBAL);
}

static void test_session_caller(void **state)
{
	struct fixture *f = *state;
	enum sspr_reason why = SSPR_R_LAST;
	char path[256];
	int i;

	f->c.caller_rate = 2;
	f->c.global_rate = 1;
	for (i = 0; i < 2; i++) {
		assert_int_equal(sspr_rl_session(f->dfd, &f->c, true, 1000, T0, &why), 0);
		assert_int_equal(why, SSPR_R_NONE);
	}
	assert_int_equal(sspr_rl_session(f->dfd, &f->c, true, 1000, T0, &why), 0);
	assert_int_equal(why, SSPR_R_RATE_CALLER);
	/* Another caller has its own budget ... */
	for (i = 0; i < 2; i++) {
		assert_int_equal(sspr_rl_session(f->dfd, &f->c, true, 1001, T0, &why), 0);
		assert_int_equal(why, SSPR_R_NONE);
	}
	assert_int_equal(sspr_rl_session(f->dfd, &f->c, true, 1001, T0, &why), 0);
	assert_int_equal(why, SSPR_R_RATE_CALLER);
	/* ... and the host's (root callers') budget is untouched. */
	path_in(path, sizeof path, f->tallydir, "global");
	assert_false(exists(path));
	assert_int_equal(sspr_rl_session(f->dfd, &f->c, false, 0, T0, &why), 0);
	assert_int_equal(why, SSPR_R_NONE);
	assert_int_equal(sspr_rl_session(f->dfd, &f->c, false, 0, T0, &why), 0);
	assert_int_equal(why, SSPR_R_RATE_GLOBAL);
	/* Global exhausted: callers still get theirs. */
	assert_int_equal(sspr_rl_session(f->dfd, &f->c, true, 1002, T0, &why), 0);
	assert_int_equal(why, SSPR_R_NONE);
	path_in(path, sizeof path, f->tallydir, "c-1000");
	assert_true(exists(path));
	path_in(path, sizeof path, f->tallydir, "c-1002");
	assert_true(exists(path));
	/* Minute over. */
	assert_int_equal(sspr_rl_session(f->dfd, &f->c, true, 1000, T0 + 60, &why), 0);
	assert_int_equal(why, SSPR_R_NONE);
	/* Bad arguments leave the output alone. */
	why = SSPR_R_LAST;
	assert_int_equal(sspr_rl_session(f->dfd, &f->c, true, (uid_t)-1, T0, &why), -EINVAL);
	assert_int_equal(sspr_rl_session(f->dfd, NULL, false, 0, T0, &why), -EINVAL);
	assert_int_equal(sspr_rl_session(f->dfd, &f->c, false, 0, -1, &why), -EINVAL);
	assert_int_equal(why, SSPR_R_LAST);
}

static void test_session_rate_cap(void **state)
{
	struct fixture *f = *state;
	enum sspr_reason why = SSPR_R_LAST;
	int i;

	/* A rate above what a tally holds is enforced at the cap. */
	f->c.global_rate = 100000;
	for (i = 0; i < SSPR_TALLY_TIMES_MAX; i++) {
		assert_int_equal(sspr_rl_session(f->dfd, &f->c, false, 0, T0, &why), 0);
		assert_int_equal(why, SSPR_R_NONE);
	}
	assert_int_equal(sspr_rl_session(f->dfd, &f->c, false, 0, T0, &why), 0);
	assert_int_equal(why, SSPR_R_RATE_GLOBAL);
}

static void test_keyed_names(void **state)
{
	struct fixture *f = *state;
	unsigned char key2[SSPR_HOSTKEY_LEN];
	char want_u[64], want_s[64], other[64], path[256];
	struct dirent *de;
	DIR *d;
	int seen = 0;

	attempt(f, "alice", true, "alice.example.org", T0);
	keyed_file(f->key, "user", 'u', "alice", want_u);
	keyed_file(f->key, "source", 's', "alice.example.org", want_s);
	assert_int_equal(strlen(want_u), 34);
	d = opendir(f->tallydir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		char lu[80], ls[80];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		assert_null(strstr(de->d_name, "alice"));
		snprintf(lu, sizeof lu, "%s.lock", want_u);
		snprintf(ls, sizeof ls, "%s.lock", want_s);
		assert_true(!strcmp(de->d_name, want_u) || !strcmp(de->d_name, want_s) ||
		            !strcmp(de->d_name, lu) || !strcmp(de->d_name, ls));
		seen++;
	}
	closedir(d);
	assert_int_equal(seen, 4);
	/* The user and source domains are separate. */
	keyed_file(f->key, "source", 's', "alice", other);
	assert_string_not_equal(other + 2, want_u + 2);
	/* Another key, another name. */
	memcpy(key2, f->key, sizeof key2);
	key2[0] ^= 1;
	keyed_file(key2, "user", 'u', "alice", other);
	assert_string_not_equal(other, want_u);
	{
		struct sspr_rl_attempt a;

		assert_int_equal(sspr_rl_attempt(f->dfd, &f->c, key2, "alice", true, NULL, T0, &a), 0);
		path_in(path, sizeof path, f->tallydir, other);
		assert_true(exists(path));
	}
	/* Status by the first key still sees one failure, not two. */
	assert_int_equal(status(f, "alice", T0).consecutive, 1);
}

static void test_unknown_name(void **state)
{
	struct fixture *f = *state;
	struct sspr_rl_attempt a, b;
	struct sspr_rl_status sa, sb;
	char path[256];
	struct sspr_tally t;
	int i;

	f->c.deny = 4;
	for (i = 0; i < 4; i++) {
		a = attempt(f, "alice", true, NULL, T0 + i);
		b = attempt(f, "no-such-user", false, NULL, T0 + i);
		assert_int_equal(a.blocked, b.blocked);
		assert_int_equal(a.locked_now, b.locked_now);
		assert_int_equal(a.locked_until, b.locked_until);
	}
	assert_true(b.locked_now);
	assert_int_equal(try_name(f, "no-such-user", T0 + 5), SSPR_R_RATE_USER);
	sa = status(f, "alice", T0 + 5);
	sb = status(f, "no-such-user", T0 + 5);
	assert_same_status(&sa, &sb);
	user_path(f, "no-such-user", path, sizeof path);
	read_tally(path, &t);
	assert_false(t.account);
	user_path(f, "alice", path, sizeof path);
	read_tally(path, &t);
	assert_true(t.account);
}

static void test_durable_fork_reader(void **state)
{
	struct fixture *f = *state;
	int i, st;
	pid_t pid;

	for (i = 0; i < 3; i++)
		attempt(f, "alice", true, NULL, T0 + i);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sspr_rl_status s;

		if (sspr_rl_status(f->dfd, &f->c, f->key, "alice", T0 + 3, &s) < 0)
			_exit(100);
		_exit((int)s.consecutive);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 3);
}

static void test_durable_exit_child(void **state)
{
	struct fixture *f = *state;
	struct sspr_rl_status s;
	int st;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sspr_rl_attempt a;

		/* Dies right after the count returns, as a killed helper. */
		if (sspr_rl_attempt(f->dfd, &f->c, f->key, "alice", true, "192.0.2.1", T0, &a) < 0)
			_exit(100);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	s = status(f, "alice", T0);
	assert_int_equal(s.consecutive, 1);
	assert_int_equal(s.recent_failures, 1);
	/* No temp file left over: two tallies and their locks. */
	assert_int_equal(count_entries(f->tallydir), 4);
}

#define NCHILD 16
#define PER_CHILD 4

static void test_concurrent(void **state)
{
	struct fixture *f = *state;
	int go[2], i, allowed = 0, locked = 0;
	pid_t pids[NCHILD];
	struct sspr_rl_status s;

	f->c.deny = 5;
	f->c.hard_deny = 1000;
	f->c.fail_interval = 1000000;
	f->c.unlock_time = 900;
	assert_int_equal(pipe(go), 0);
	for (i = 0; i < NCHILD; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			int n = 0, l = 0, k;
			char c;

			close(go[1]);
			/* Start together: the parent closes the pipe. */
			if (read(go[0], &c, 1) != 0)
				_exit(101);
			for (k = 0; k < PER_CHILD; k++) {
				struct sspr_rl_attempt a;

				if (sspr_rl_attempt(f->dfd, &f->c, f->key, "victim", true, "192.0.2.50",
				                    T0, &a) < 0)
					_exit(100);
				if (a.blocked == SSPR_R_NONE)
					n++;
				if (a.locked_now)
					l++;
			}
			_exit(n | (l << 4));
		}
	}
	close(go[0]);
	close(go[1]);
	for (i = 0; i < NCHILD; i++) {
		int st;

		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		assert_true(WEXITSTATUS(st) < 100);
		allowed += WEXITSTATUS(st) & 0xf;
		locked += WEXITSTATUS(st) >> 4;
	}
	assert_int_equal(allowed, 5);
	assert_int_equal(locked, 1);
	s = status(f, "victim", T0);
	assert_int_equal(s.consecutive, 5);
	assert_int_equal(s.lockouts, 1);
	assert_int_equal(s.locked_until, T0 + 900);
}

/* Does process pid have path open? */
static bool has_open(pid_t pid, const char *path)
{
	char dir[64];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		char p[384], target[512];
		ssize_t n;

		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		n = readlink(p, target, sizeof target - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		found = strcmp(target, path) == 0;
	}
	closedir(d);
	return found;
}

static void test_lock_file_replaced(void **state)
{
	struct fixture *f = *state;
	char path[256], lock[300];
	int ready[2], st;
	pid_t pid;
	char c;

	/* A holder removes the lock file (as unlock and prune do) while we
	 * wait on it: we must not go on under the lock of a removed file,
	 * which a newcomer would not see, but take the new one. */
	user_path(f, "alice", path, sizeof path);
	snprintf(lock, sizeof lock, "%s.lock", path);
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		int fd = open(lock, O_RDWR | O_CREAT, 0600);
		time_t end = time(NULL) + 10;

		close(ready[0]);
		if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
			_exit(100);
		if (write(ready[1], "x", 1) != 1)
			_exit(101);
		/* Wait (no sleep) until the parent has the lock file open. */
		while (!has_open(getppid(), lock))
			if (time(NULL) > end)
				_exit(102);
		if (unlink(lock) < 0)
			_exit(103);
		_exit(0); /* releases the lock */
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	assert_int_equal(try_name(f, "alice", T0), SSPR_R_NONE);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(exists(lock)); /* a new lock file, taken */
	assert_int_equal(status(f, "alice", T0).consecutive, 1);
}

static void on_alarm(int sig)
{
	(void)sig;
	(void)!write(2, "hung on a FIFO\n", 15);
	_exit(1);
}

/* The lock file is bad: what takes the lock fails (status takes none). */
static void expect_lock_refused(struct fixture *f, const char *name)
{
	struct sspr_rl_attempt a, keep;

	memset(&a, 0x5a, sizeof a);
	keep = a;
	assert_int_equal(sspr_rl_attempt(f->dfd, &f->c, f->key, name, true, NULL, T0, &a),
	                 -SSPR_E_UNSAFE_FILE);
	assert_memory_equal(&a, &keep, sizeof a);
	assert_int_equal(sspr_rl_success(f->dfd, &f->c, f->key, name, NULL, T0),
	                 -SSPR_E_UNSAFE_FILE);
}

static void expect_refused(struct fixture *f, const char *name, int err)
{
	struct sspr_rl_attempt a, keep;
	struct sspr_rl_status s, skeep;

	memset(&a, 0x5a, sizeof a);
	keep = a;
	memset(&s, 0x5a, sizeof s);
	skeep = s;
	assert_int_equal(sspr_rl_attempt(f->dfd, &f->c, f->key, name, true, NULL, T0, &a), err);
	assert_memory_equal(&a, &keep, sizeof a);
	assert_int_equal(sspr_rl_status(f->dfd, &f->c, f->key, name, T0, &s), err);
	assert_memory_equal(&s, &skeep, sizeof s);
	assert_int_equal(sspr_rl_success(f->dfd, &f->c, f->key, name, NULL, T0), err);
}

static void test_unsafe_files(void **state)
{
	struct fixture *f = *state;
	char path[256], target[256], lock[300];
	struct sspr_tally t;
	bool was = false;

	valid_tally(&t);
	t.locked_until = 0;
	user_path(f, "alice", path, sizeof path);
	/* A symlink to a valid tally. */
	path_in(target, sizeof target, f->dir, "target");
	write_tally(target, &t, 0600);
	assert_int_equal(symlink(target, path), 0);
	expect_refused(f, "alice", -SSPR_E_UNSAFE_FILE);
	/* Unlock removes the link, not its target. */
	assert_int_equal(sspr_rl_unlock(f->dfd, f->key, "alice", T0, &was), 0);
	assert_true(was);
	assert_false(exists(path));
	assert_true(exists(target));
	/* Mode 0644, 0640, 0606. */
	write_tally(path, &t, 0644);
	expect_refused(f, "alice", -SSPR_E_UNSAFE_FILE);
	assert_int_equal(chmod(path, 0640), 0);
	expect_refused(f, "alice", -SSPR_E_UNSAFE_FILE);
	assert_int_equal(chmod(path, 0606), 0);
	expect_refused(f, "alice", -SSPR_E_UNSAFE_FILE);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(status(f, "alice", T0).consecutive, 7);
	/* A second hard link. */
	path_in(target, sizeof target, f->dir, "hardlink");
	assert_int_equal(link(path, target), 0);
	expect_refused(f, "alice", -SSPR_E_UNSAFE_FILE);
	assert_int_equal(unlink(target), 0);
	assert_int_equal(status(f, "alice", T0).consecutive, 7);
	assert_int_equal(unlink(path), 0);
	/* A FIFO: refused without hanging. */
	assert_int_equal(mkfifo(path, 0600), 0);
	signal(SIGALRM, on_alarm);
	alarm(10);
	expect_refused(f, "alice", -SSPR_E_UNSAFE_FILE);
	alarm(0);
	signal(SIGALRM, SIG_DFL);
	assert_int_equal(unlink(path), 0);
	/* A directory. */
	assert_int_equal(mkdir(path, 0700), 0);
	expect_refused(f, "alice", -SSPR_E_UNSAFE_FILE);
	assert_int_equal(rmdir(path), 0);
	/* An unsafe lock file: a FIFO, a symlink, mode 0666. */
	snprintf(lock, sizeof lock, "%s.lock", path);
	assert_true(exists(lock)); /* made by the attempts above */
	assert_int_equal(unlink(lock), 0);
	assert_int_equal(mkfifo(lock, 0600), 0);
	signal(SIGALRM, on_alarm);
	alarm(10);
	expect_lock_refused(f, "alice");
	alarm(0);
	signal(SIGALRM, SIG_DFL);
	assert_int_equal(unlink(lock), 0);
	path_in(target, sizeof target, f->dir, "locktarget");
	write_file(target, "", 0600);
	assert_int_equal(symlink(target, lock), 0);
	expect_lock_refused(f, "alice");
	assert_int_equal(unlink(lock), 0);
	write_file(lock, "", 0666);
	expect_lock_refused(f, "alice");
	/* Unlock replaces an unsafe lock file. */
	assert_int_equal(sspr_rl_unlock(f->dfd, f->key, "alice", T0, &was), 0);
	assert_false(was);
	assert_false(exists(lock));
	assert_int_equal(try_name(f, "alice", T0), SSPR_R_NONE);
}

static void test_corrupt(void **state)
{
	struct fixture *f = *state;
	char path[256], spath[256], fname[64];
	bool was = false;

	user_path(f, "alice", path, sizeof path);
	write_file(path, "sspr-tally 1\nconsecutive banana\n", 0600);
	expect_refused(f, "alice", -SSPR_E_RECORD);
	/* Empty and oversized files are corrupt too. */
	write_file(path, "", 0600);
	expect_refused(f, "alice", -SSPR_E_RECORD);
	{
		static char big[SSPR_TALLY_MAX + 2];

		memset(big, '\n', sizeof big - 1);
		write_file(path, big, 0600);
		expect_refused(f, "alice", -SSPR_E_RECORD);
	}
	/* Unlock removes it whatever its content, and counts it locked. */
	assert_int_equal(sspr_rl_unlock(f->dfd, f->key, "alice", T0, &was), 0);
	assert_true(was);
	assert_false(exists(path));
	assert_int_equal(try_name(f, "alice", T0), SSPR_R_NONE);
	/* A corrupt source tally fails the attempt closed too. */
	keyed_file(f->key, "source", 's', "192.0.2.3", fname);
	path_in(spath, sizeof spath, f->tallydir, fname);
	write_file(spath, "garbage\n", 0600);
	{
		struct sspr_rl_attempt a;

		assert_int_equal(sspr_rl_attempt(f->dfd, &f->c, f->key, "bob", true, "192.0.2.3", T0,
		                                 &a), -SSPR_E_RECORD);
	}
	assert_int_equal(status(f, "bob", T0).consecutive, 0);
}

static void test_unlock(void **state)
{
	struct fixture *f = *state;
	char path[256], lock[300];
	bool was = false;
	int i;

	f->c.deny = 3;
	for (i = 0; i < 3; i++)
		attempt(f, "alice", true, NULL, T0);
	assert_int_equal(try_name(f, "alice", T0 + 1), SSPR_R_RATE_USER);
	assert_int_equal(sspr_rl_unlock(f->dfd, f->key, "alice", T0 + 1, &was), 0);
	assert_true(was);
	user_path(f, "alice", path, sizeof path);
	snprintf(lock, sizeof lock, "%s.lock", path);
	assert_false(exists(path));
	assert_false(exists(lock));
	assert_int_equal(count_entries(f->tallydir), 0);
	{
		struct sspr_rl_status s = status(f, "alice", T0 + 1);
		struct sspr_rl_status zero;

		memset(&zero, 0, sizeof zero);
		assert_same_status(&s, &zero);
	}
	assert_int_equal(try_name(f, "alice", T0 + 1), SSPR_R_NONE);
	/* No tally at all: success, not locked, nothing left behind. */
	was = true;
	assert_int_equal(sspr_rl_unlock(f->dfd, f->key, "nobody", T0, &was), 0);
	assert_false(was);
	assert_int_equal(count_entries(f->tallydir), 2);
	/* An expired lock is not "was locked". */
	for (i = 0; i < 3; i++)
		attempt(f, "bob", true, NULL, T0);
	assert_int_equal(sspr_rl_unlock(f->dfd, f->key, "bob", T0 + 900, &was), 0);
	assert_false(was);
	/* Bad arguments. */
	was = true;
	assert_int_equal(sspr_rl_unlock(f->dfd, f->key, NULL, T0, &was), -EINVAL);
	assert_int_equal(sspr_rl_unlock(f->dfd, NULL, "x", T0, &was), -EINVAL);
	assert_int_equal(sspr_rl_unlock(-1, f->key, "x", T0, &was), -EINVAL);
	assert_true(was);
}

static void test_prune_expired(void **state)
{
	struct fixture *f = *state;
	enum sspr_reason why;
	char p_ok[256], p_pending[256], p_locked[256], p_hard[256], p_src[256], p_glob[256],
		p_caller[256], p_bad[256], fname[64];
	bool was;

	f->c.fail_interval = 100;
	f->c.unlock_time = 900;
	/* ok: a failure taken back by a success -> nothing left to keep. */
	attempt(f, "ok", true, "192.0.2.77", T0);
	assert_int_equal(sspr_rl_success(f->dfd, &f->c, f->key, "ok", NULL, T0), 0);
	/* pending: one failure not followed by a success (consecutive 1). */
	attempt(f, "pending", false, NULL, T0);
	/* locked: locked by the attempt that then succeeded. */
	f->c.deny = 1;
	assert_true(attempt(f, "locked", true, NULL, T0).locked_now);
	assert_int_equal(sspr_rl_success(f->dfd, &f->c, f->key, "locked", NULL, T0), 0);
	/* hard: hard-locked, then a success. */
	f->c.hard_deny = 1;
	assert_true(attempt(f, "hard", true, NULL, T0).hard_locked_now);
	assert_int_equal(sspr_rl_success(f->dfd, &f->c, f->key, "hard", NULL, T0), 0);
	assert_int_equal(sspr_rl_session(f->dfd, &f->c, false, 0, T0, &why), 0);
	assert_int_equal(sspr_rl_session(f->dfd, &f->c, true, 1000, T0 + 50, &why), 0);
	user_path(f, "ok", p_ok, sizeof p_ok);
	user_path(f, "pending", p_pending, sizeof p_pending);
	user_path(f, "locked", p_locked, sizeof p_locked);
	user_path(f, "hard", p_hard, sizeof p_hard);
	keyed_file(f->key, "source", 's', "192.0.2.77", fname);
	path_in(p_src, sizeof p_src, f->tallydir, fname);
	path_in(p_glob, sizeof p_glob, f->tallydir, "global");
	path_in(p_caller, sizeof p_caller, f->tallydir, "c-1000");
	user_path(f, "bad", p_bad, sizeof p_bad);
	write_file(p_bad, "not a tally\n", 0600);
	/* Within the window: nothing goes ("ok" has nothing in its list
	 * and no consecutive failures, so it goes at once). */
	assert_int_equal(sspr_rl_prune(f->dfd, &f->c, T0 + 1), 1);
	assert_false(exists(p_ok));
	assert_true(exists(p_src));
	assert_true(exists(p_glob));
	/* A minute on: the global session start has expired, the caller's
	 * (T0+50) not yet; the source failure (T0) at T0+100. */
	assert_int_equal(sspr_rl_prune(f->dfd, &f->c, T0 + 60), 1);
	assert_false(exists(p_glob));
	assert_true(exists(p_caller));
	assert_true(exists(p_src));
	assert_int_equal(sspr_rl_prune(f->dfd, &f->c, T0 + 110), 2);
	assert_false(exists(p_caller));
	assert_false(exists(p_src));
	/* The lock holds "locked" until T0+900; "pending" keeps its
	 * consecutive count, "hard" its hard lock, "bad" stays bad. */
	assert_true(exists(p_locked));
	assert_int_equal(sspr_rl_prune(f->dfd, &f->c, T0 + 900), 1);
	assert_false(exists(p_locked));
	assert_int_equal(sspr_rl_prune(f->dfd, &f->c, T0 + 100000000), 0);
	assert_true(exists(p_pending));
	assert_true(exists(p_hard));
	assert_true(exists(p_bad));
	/* Lock files went with their tallies: 3 tallies, 2 locks ("bad" was
	 * never locked). */
	assert_int_equal(count_entries(f->tallydir), 5);
	/* After unlock and a success, "pending" expires too. */
	assert_int_equal(sspr_rl_unlock(f->dfd, f->key, "hard", T0, &was), 0);
	assert_int_equal(sspr_rl_success(f->dfd, &f->c, f->key, "pending", NULL, T0 + 5), 0);
	assert_int_equal(sspr_rl_prune(f->dfd, &f->c, T0 + 200), 1);
	assert_false(exists(p_pending));
	assert_int_equal(count_entries(f->tallydir), 1); /* bad */
	assert_int_equal(sspr_rl_prune(-1, &f->c, T0), -EINVAL);
}

static void test_prune_excess(void **state)
{
	struct fixture *f = *state;
	char path[256], lock[300], name[32];
	int i;

	f->c.max_tallies = 3;
	f->c.fail_interval = 1000000;
	/* Two accounts, oldest of all; five names with no account; a
	 * source (account 0, the newest). */
	attempt(f, "acct1", true, NULL, T0);
	attempt(f, "acct2", true, NULL, T0);
	for (i = 1; i <= 5; i++) {
		snprintf(name, sizeof name, "ghost%d", i);
		attempt(f, name, false, NULL, T0 + i);
	}
	attempt(f, "acct1", true, "198.51.100.1", T0 + 6); /* source + acct1 again */
	assert_int_equal(count_entries(f->tallydir), 16);
	/* 8 u-/s- tallies, none expired (consecutive failures pending):
	 * the 5 oldest with no account go. */
	assert_int_equal(sspr_rl_prune(f->dfd, &f->c, T0 + 1000), 5);
	for (i = 1; i <= 5; i++) {
		snprintf(name, sizeof name, "ghost%d", i);
		user_path(f, name, path, sizeof path);
		snprintf(lock, sizeof lock, "%s.lock", path);
		assert_false(exists(path));
		assert_false(exists(lock));
	}
	user_path(f, "acct1", path, sizeof path);
	assert_true(exists(path));
	user_path(f, "acct2", path, sizeof path);
	assert_true(exists(path));
	assert_int_equal(count_entries(f->tallydir), 6); /* acct1, acct2, source */
	/* At the limit: nothing more. */
	assert_int_equal(sspr_rl_prune(f->dfd, &f->c, T0 + 1000), 0);
	/* Only accounts beyond the limit: kept (only no-account names go). */
	f->c.max_tallies = 1;
	assert_int_equal(sspr_rl_prune(f->dfd, &f->c, T0 + 1000), 1); /* the source */
	assert_int_equal(count_entries(f->tallydir), 4);
}

static void test_prune_leftovers(void **state)
{
	struct fixture *f = *state;
	char path[256], lock[300], tmp[300], fname[64], other[256];

	attempt(f, "alice", true, NULL, T0);
	/* A lock file with no tally, a stale temp file, a stranger. */
	keyed_file(f->key, "user", 'u', "ghost", fname);
	path_in(path, sizeof path, f->tallydir, fname);
	snprintf(lock, sizeof lock, "%s.lock", path);
	write_file(lock, "", 0600);
	keyed_file(f->key, "user", 'u', "alice", fname);
	snprintf(tmp, sizeof tmp, "%s/.%s.0badc0de", f->tallydir, fname);
	write_file(tmp, "sspr-tally 1\n", 0600);
	path_in(other, sizeof other, f->tallydir, "README");
	write_file(other, "hello\n", 0600);
	assert_int_equal(count_entries(f->tallydir), 5);
	assert_int_equal(sspr_rl_prune(f->dfd, &f->c, T0 + 1), 0);
	assert_false(exists(lock));
	assert_false(exists(tmp));
	assert_true(exists(other));
	assert_int_equal(count_entries(f->tallydir), 3);
	assert_int_equal(status(f, "alice", T0 + 1).consecutive, 1);
}

static void test_prune_skips_busy(void **state)
{
	struct fixture *f = *state;
	char path[256], lock[300];
	int ready[2], done[2], st;
	pid_t pid;
	char c;

	attempt(f, "alice", true, NULL, T0);
	assert_int_equal(sspr_rl_success(f->dfd, &f->c, f->key, "alice", NULL, T0), 0);
	user_path(f, "alice", path, sizeof path);
	snprintf(lock, sizeof lock, "%s.lock", path);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(done), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		int fd = open(lock, O_RDWR);

		/* Only the parent's end of `done`: if it dies, read sees EOF. */
		close(done[1]);
		close(ready[0]);
		if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
			_exit(100);
		if (write(ready[1], "x", 1) != 1)
			_exit(101);
		(void)!read(done[0], &c, 1);
		_exit(0);
	}
	close(done[0]);
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	/* Expired, but in use: skipped, not waited for. */
	assert_int_equal(sspr_rl_prune(f->dfd, &f->c, T0 + 10000), 0);
	assert_true(exists(path));
	assert_int_equal(write(done[1], "x", 1), 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(sspr_rl_prune(f->dfd, &f->c, T0 + 10000), 1);
	assert_false(exists(path));
	close(ready[0]);
	close(done[1]);
}

static void test_bad_args(void **state)
{
	struct fixture *f = *state;
	struct sspr_rl_attempt a, keep;
	struct sspr_rl_status s;

	memset(&a, 0x5a, sizeof a);
	keep = a;
	assert_int_equal(sspr_rl_attempt(-1, &f->c, f->key, "a", true, NULL, T0, &a), -EINVAL);
	assert_int_equal(sspr_rl_attempt(f->dfd, NULL, f->key, "a", true, NULL, T0, &a), -EINVAL);
	assert_int_equal(sspr_rl_attempt(f->dfd, &f->c, NULL, "a", true, NULL, T0, &a), -EINVAL);
	assert_int_equal(sspr_rl_attempt(f->dfd, &f->c, f->key, NULL, true, NULL, T0, &a), -EINVAL);
	assert_int_equal(sspr_rl_attempt(f->dfd, &f->c, f->key, "a", true, NULL, -1, &a), -EINVAL);
	assert_int_equal(sspr_rl_attempt(f->dfd, &f->c, f->key, "a", true, NULL, T0, NULL),
	                 -EINVAL);
	assert_memory_equal(&a, &keep, sizeof a);
	assert_int_equal(sspr_rl_success(f->dfd, &f->c, f->key, NULL, NULL, T0), -EINVAL);
	assert_int_equal(sspr_rl_status(f->dfd, &f->c, f->key, "a", T0, NULL), -EINVAL);
	assert_int_equal(sspr_rl_status(f->dfd, NULL, f->key, "a", T0, &s), -EINVAL);
	assert_int_equal(count_entries(f->tallydir), 0);
}

#define FS(t) cmocka_unit_test_setup_teardown(t, fs_setup, fs_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_exact),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_parse_any_order),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_parse_rejects_bytes),
		cmocka_unit_test(test_format_rejects),
		FS(test_open),
		FS(test_deny_locks),
		FS(test_window_slides),
		FS(test_doubling),
		FS(test_lock_expiry),
		FS(test_refused_not_counted),
		FS(test_hard_deny),
		FS(test_hard_deny_with_deny),
		FS(test_success),
		FS(test_source_limit),
		FS(test_no_source),
		FS(test_session_global),
		FS(test_session_caller),
		FS(test_session_rate_cap),
		FS(test_keyed_names),
		FS(test_unknown_name),
		FS(test_durable_fork_reader),
		FS(test_durable_exit_child),
		FS(test_concurrent),
		FS(test_lock_file_replaced),
		FS(test_unsafe_files),
		FS(test_corrupt),
		FS(test_unlock),
		FS(test_prune_expired),
		FS(test_prune_excess),
		FS(test_prune_leftovers),
		FS(test_prune_skips_busy),
		FS(test_bad_args),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
