/* SPDX-License-Identifier: BSD-2-Clause */
/* lib/faillock.c: the tally directory from faillock.conf under a root,
 * and clearing one user's tally (truncate, as faillock --reset does)
 * without following links or blocking on a FIFO. */
#include <dirent.h>
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

#include "test-util.h"

#include "sspr/common.h"
#include "sspr/faillock.h"

struct fixture {
	char root[64];     /* mkdtemp */
	char tally[128];   /* root/var/run/faillock (the default) */
};

static void mkdir_p(const char *path)
{
	char p[256];

	assert_true(strlen(path) < sizeof p);
	strcpy(p, path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
		*s = '/';
	}
	assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (!f)
		return -1;
	strcpy(f->root, "/tmp/sspr-test-faillock.XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	(void)snprintf(f->tally, sizeof f->tally, "%s/var/run/faillock", f->root);
	*state = f;
	return 0;
}


static int teardown(void **state)
{
	struct fixture *f = *state;

	rm_rf(f->root);
	free(f);
	return 0;
}

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

static void put_conf(const struct fixture *f, const char *text)
{
	char p[256];

	(void)snprintf(p, sizeof p, "%s/etc/security", f->root);
	mkdir_p(p);
	(void)snprintf(p, sizeof p, "%s/etc/security/faillock.conf", f->root);
	put(p, text);
}

static off_t size_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_size;
}

/* --- the directory ---------------------------------------------------- */

static void assert_dir(const struct fixture *f, const char *want)
{
	char out[256], full[256];

	(void)snprintf(full, sizeof full, "%s%s", f->root, want);
	memset(out, 'Z', sizeof out);
	assert_int_equal(sspr_faillock_dir(f->root, out, sizeof out), 0);
	assert_string_equal(out, full);
}

static void test_dir_default(void **state)
{
	struct fixture *f = *state;

	/* no faillock.conf at all */
	assert_dir(f, "/var/run/faillock");
	/* one that does not set dir */
	put_conf(f, "# faillock.conf\ndeny = 3\nunlock_time = 600\n\n");
	assert_dir(f, "/var/run/faillock");
}

static void test_dir_from_conf(void **state)
{
	static const struct { const char *conf, *want; } t[] = {
		{ "dir = /x/y\n", "/x/y" },
		{ "dir=/x/y\n", "/x/y" },
		{ "dir = /x/y", "/x/y" },                      /* no final newline */
		{ "   dir   =   /x/y   \n", "/x/y" },
		{ "\tdir\t=\t/x/y\t\n", "/x/y" },
		{ "dir = /x/y\r\n", "/x/y" },
		{ "dir = /x/y # the tallies\n", "/x/y" },
		{ "dir = /x/y#the tallies\n", "/x/y" },
		{ "# dir = /commented\ndir = /x/y\n", "/x/y" },
		{ "dir = /x/y\n# dir = /commented\n", "/x/y" },
		{ "   # dir = /commented\n", "/var/run/faillock" },
		{ "deny = 3\ndir = /x/y\nunlock_time = 600\n", "/x/y" },
		/* the last one wins */
		{ "dir = /first\ndir = /second\n", "/second" },
		{ "dir = /first\ndeny = 3\ndir = /second\nsilent\n", "/second" },
		/* not "dir" */
		{ "directory = /z\n", "/var/run/faillock" },
		{ "dirs = /z\n", "/var/run/faillock" },
		{ "nodir = /z\n", "/var/run/faillock" },
		{ "dir /z\n", "/var/run/faillock" },
		/* not absolute, or empty: ignored (an earlier one stays) */
		{ "dir = relative\n", "/var/run/faillock" },
		{ "dir =\n", "/var/run/faillock" },
		{ "dir = /x/y\ndir = relative\n", "/x/y" },
		{ "dir = /x/y\ndir =\n", "/x/y" },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < SSPR_ELEMENTSOF(t); i++) {
		char out[256], full[256];

		put_conf(f, t[i].conf);
		(void)snprintf(full, sizeof full, "%s%s", f->root, t[i].want);
		assert_int_equal(sspr_faillock_dir(f->root, out, sizeof out), 0);
		if (strcmp(out, full) != 0)
			fail_msg("conf \"%s\": got %s, want %s", t[i].conf, out, full);
	}
}

static void test_dir_too_long(void **state)
{
	struct fixture *f = *state;
	char out[256];
	size_t need = strlen(f->root) + strlen("/var/run/faillock");

	assert_int_equal(sspr_faillock_dir(f->root, out, need), -ENAMETOOLONG);
	assert_int_equal(sspr_faillock_dir(f->root, out, need + 1), 0);
	assert_int_equal(strlen(out), need);
}

/* --- the reset -------------------------------------------------------- */

static void test_reset_truncates(void **state)
{
	struct fixture *f = *state;
	char path[256];
	struct stat a, b;
	bool cleared = false;

	mkdir_p(f->tally);
	(void)snprintf(path, sizeof path, "%s/alice", f->tally);
	put(path, "binary tally records");
	assert_int_equal(lstat(path, &a), 0);
	assert_int_equal(sspr_faillock_reset(f->root, "alice", &cleared), 0);
	assert_true(cleared);
	assert_int_equal(lstat(path, &b), 0);
	assert_true(S_ISREG(b.st_mode));
	assert_int_equal(b.st_size, 0);
	assert_true(a.st_ino == b.st_ino); /* truncated in place, not replaced */
	assert_int_equal(b.st_mode & 07777, a.st_mode & 07777);

	/* again: an empty tally is nothing to clear */
	cleared = true;
	assert_int_equal(sspr_faillock_reset(f->root, "alice", &cleared), 0);
	assert_false(cleared);
	/* ret_cleared is optional */
	put(path, "x");
	assert_int_equal(sspr_faillock_reset(f->root, "alice", NULL), 0);
	assert_int_equal(size_of(path), 0);
}

/* The directory named in faillock.conf is the one used. */
static void test_reset_conf_dir(void **state)
{
	struct fixture *f = *state;
	char dir[256], path[320], dflt[320];
	bool cleared = false;

	put_conf(f, "dir = /srv/tally\n");
	(void)snprintf(dir, sizeof dir, "%s/srv/tally", f->root);
	mkdir_p(dir);
	mkdir_p(f->tally);
	(void)snprintf(path, sizeof path, "%s/alice", dir);
	(void)snprintf(dflt, sizeof dflt, "%s/alice", f->tally);
	put(path, "tally");
	put(dflt, "tally");
	assert_int_equal(sspr_faillock_reset(f->root, "alice", &cleared), 0);
	assert_true(cleared);
	assert_int_equal(size_of(path), 0);
	assert_int_equal(size_of(dflt), 5);
}

static void test_reset_none(void **state)
{
	struct fixture *f = *state;
	bool cleared = true;
	struct stat st;

	/* no tally directory at all: nothing created */
	assert_int_equal(sspr_faillock_reset(f->root, "alice", &cleared), 0);
	assert_false(cleared);
	assert_int_equal(lstat(f->tally, &st), -1);

	/* the directory, but no tally for this user */
	mkdir_p(f->tally);
	cleared = true;
	assert_int_equal(sspr_faillock_reset(f->root, "alice", &cleared), 0);
	assert_false(cleared);
	{
		char path[256];

		(void)snprintf(path, sizeof path, "%s/alice", f->tally);
		assert_int_equal(lstat(path, &st), -1); /* none created */
	}
}

/* A symlink as the tally is refused; its target keeps its content. */
static void test_reset_symlink(void **state)
{
	struct fixture *f = *state;
	char target[256], link[256];
	bool cleared = true;

	mkdir_p(f->tally);
	(void)snprintf(target, sizeof target, "%s/precious", f->root);
	(void)snprintf(link, sizeof link, "%s/alice", f->tally);
	put(target, "do not truncate me");
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(sspr_faillock_reset(f->root, "alice", &cleared), -SSPR_E_UNSAFE_FILE);
	assert_false(cleared);
	assert_int_equal(size_of(target), 18);
}

/* A FIFO as the tally: refused, never blocking, with or without a reader
 * on the other end. */
static void test_reset_fifo(void **state)
{
	struct fixture *f = *state;
	char path[256];
	bool cleared = true;
	int r, rd;

	mkdir_p(f->tally);
	(void)snprintf(path, sizeof path, "%s/alice", f->tally);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10); /* a blocking open would hang here: SIGALRM ends the test */
	r = sspr_faillock_reset(f->root, "alice", &cleared);
	alarm(0);
	assert_true(r < 0); /* no reader: the non-blocking open fails (ENXIO) */
	assert_false(cleared);

	rd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(rd >= 0);
	cleared = true;
	alarm(10);
	r = sspr_faillock_reset(f->root, "alice", &cleared);
	alarm(0);
	(void)close(rd);
	assert_int_equal(r, -SSPR_E_UNSAFE_FILE);
	assert_false(cleared);
}

/* A directory in the tally's place is refused, not "cleared". */
static void test_reset_not_regular(void **state)
{
	struct fixture *f = *state;
	char path[256];
	bool cleared = true;

	(void)snprintf(path, sizeof path, "%s/alice", f->tally);
	mkdir_p(path);
	assert_true(sspr_faillock_reset(f->root, "alice", &cleared) < 0);
	assert_false(cleared);
}

/* Names that are not one path component never reach the file system:
 * a file at the path they would name keeps its content. */
static void test_reset_bad_names(void **state)
{
	static const char *const bad[] = { "", ".", "..", "a/b", "../alice", "/alice",
	                                   "alice/", "../../../../etc/passwd" };
	struct fixture *f = *state;
	char sub[256], victim[320], up[256];

	(void)snprintf(sub, sizeof sub, "%s/a", f->tally);
	mkdir_p(sub);
	(void)snprintf(victim, sizeof victim, "%s/b", sub);
	put(victim, "tally of a/b");
	(void)snprintf(up, sizeof up, "%s/var/run/alice", f->root);
	put(up, "not a tally");
	for (size_t i = 0; i < SSPR_ELEMENTSOF(bad); i++) {
		bool cleared = true;
		int r = sspr_faillock_reset(f->root, bad[i], &cleared);

		if (r != -EINVAL)
			fail_msg("user \"%s\": returned %d, want -EINVAL", bad[i], r);
		assert_true(cleared); /* untouched */
	}
	assert_int_equal(sspr_faillock_reset(f->root, NULL, NULL), -EINVAL);
	assert_int_equal(size_of(victim), 12);
	assert_int_equal(size_of(up), 11);
	/* a name with dots that is still one component is a user name */
	assert_int_equal(sspr_faillock_reset(f->root, "...", NULL), 0);
	assert_int_equal(sspr_faillock_reset(f->root, "a.b", NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dir_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_from_conf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_truncates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_conf_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_not_regular, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_bad_names, setup, teardown),
	};

	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
