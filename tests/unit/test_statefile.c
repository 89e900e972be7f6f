/* SPDX-License-Identifier: BSD-2-Clause */
/* lib/statefile.c: bounded reads that refuse anything but a private
 * regular file, and atomic replacement (temporary file + rename) that
 * leaves nothing behind and the old file intact on failure. */
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
#include "sspr/statefile.h"

#define NOBODY 65534

struct fixture {
	char dir[64]; /* mkdtemp, 0700 */
	int dfd;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/sspr-test-statefile.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->dfd < 0)
		return -1;
	*state = f;
	return 0;
}


static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->dfd >= 0)
		(void)close(f->dfd);
	rm_rf(f->dir);
	free(f);
	return 0;
}

static void put(struct fixture *f, const char *name, const void *data, size_t len, mode_t mode)
{
	int fd = openat(f->dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* The content of name, read directly; returns its length. */
static size_t slurp(struct fixture *f, const char *name, char *buf, size_t len)
{
	int fd = openat(f->dfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, len);
	assert_true(n >= 0);
	(void)close(fd);
	return (size_t)n;
}

/* The names in dir, sorted, joined by ' '. */
static void listing(const char *dir, char *out, size_t len)
{
	struct dirent **list;
	int n = scandir(dir, &list, NULL, alphasort);
	size_t used = 0;

	assert_true(n >= 0);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (strcmp(list[i]->d_name, ".") != 0 && strcmp(list[i]->d_name, "..") != 0) {
			int w = snprintf(out + used, len - used, "%s%s", used ? " " : "",
			                 list[i]->d_name);

			assert_true(w >= 0 && (size_t)w < len - used);
			used += (size_t)w;
		}
		free(list[i]);
	}
	free(list);
}

/* A read that must fail with want, leaving *ret and *ret_len alone. */
static void assert_read_refused(struct fixture *f, const char *name, size_t cap, int want)
{
	char *buf = (char *)0x1;
	size_t len = 12345;
	int r = sspr_state_read(f->dfd, name, cap, &buf, &len);

	if (r != want)
		fail_msg("%s: returned %d (%s), want %d (%s)", name, r, sspr_strerror(r), want,
		         sspr_strerror(want));
	assert_ptr_equal(buf, (char *)0x1);
	assert_int_equal(len, 12345);
}

static void test_round_trip(void **state)
{
	static const char bin[] = { 'a', 0, 'b', '\n', (char)0xff, 0 };
	struct fixture *f = *state;
	char *buf = NULL;
	size_t len = 0;
	struct stat st;

	assert_int_equal(sspr_state_write(f->dfd, "rec", "hello\n", 6), 0);
	assert_int_equal(fstatat(f->dfd, "rec", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_nlink, 1);
	assert_int_equal(sspr_state_read(f->dfd, "rec", 64, &buf, &len), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(buf, "hello\n", 6);
	sspr_secure_free(buf);

	/* binary data, NULs included */
	assert_int_equal(sspr_state_write(f->dfd, "bin", bin, sizeof bin), 0);
	assert_int_equal(sspr_state_read(f->dfd, "bin", sizeof bin, &buf, &len), 0);
	assert_int_equal(len, sizeof bin);
	assert_memory_equal(buf, bin, sizeof bin);
	sspr_secure_free(buf);

	/* empty */
	assert_int_equal(sspr_state_write(f->dfd, "empty", "", 0), 0);
	assert_int_equal(sspr_state_read(f->dfd, "empty", 16, &buf, &len), 0);
	assert_int_equal(len, 0);
	sspr_secure_free(buf);

	/* larger than one write and a page */
	{
		size_t big = 200000;
		char *data = malloc(big);

		assert_non_null(data);
		for (size_t i = 0; i < big; i++)
			data[i] = (char)(i * 31 + 7);
		assert_int_equal(sspr_state_write(f->dfd, "big", data, big), 0);
		assert_int_equal(sspr_state_read(f->dfd, "big", big, &buf, &len), 0);
		assert_int_equal(len, big);
		assert_memory_equal(buf, data, big);
		sspr_secure_free(buf);
		free(data);
	}
}

static void test_cap(void **state)
{
	struct fixture *f = *state;
	char *buf = NULL;
	size_t len = 0;

	put(f, "rec", "0123456789", 10, 0600);
	/* exactly the cap is fine, and the buffer has cap+1 bytes */
	assert_int_equal(sspr_state_read(f->dfd, "rec", 10, &buf, &len), 0);
	assert_int_equal(len, 10);
	assert_memory_equal(buf, "0123456789", 10);
	buf[10] = '\0'; /* the documented extra byte, e.g. for a NUL */
	sspr_secure_free(buf);
	/* one over */
	assert_read_refused(f, "rec", 9, -SSPR_E_RECORD);
	assert_read_refused(f, "rec", 0, -SSPR_E_RECORD);
	/* cap 0 and an empty file */
	put(f, "empty", "", 0, 0600);
	assert_int_equal(sspr_state_read(f->dfd, "empty", 0, &buf, &len), 0);
	assert_int_equal(len, 0);
	sspr_secure_free(buf);
}

static void test_missing(void **state)
{
	struct fixture *f = *state;

	assert_read_refused(f, "nothing", 64, -ENOENT);
}

static void test_bad_args(void **state)
{
	struct fixture *f = *state;
	char *buf = (char *)0x1;
	size_t len = 12345;
	char name[256];

	assert_int_equal(sspr_state_read(-1, "x", 64, &buf, &len), -EINVAL);
	assert_int_equal(sspr_state_read(f->dfd, NULL, 64, &buf, &len), -EINVAL);
	assert_int_equal(sspr_state_read(f->dfd, "x", 64, NULL, &len), -EINVAL);
	assert_int_equal(sspr_state_read(f->dfd, "x", 64, &buf, NULL), -EINVAL);
	assert_ptr_equal(buf, (char *)0x1);
	assert_int_equal(len, 12345);
	assert_int_equal(sspr_state_write(-1, "x", "a", 1), -EINVAL);
	assert_int_equal(sspr_state_write(f->dfd, NULL, "a", 1), -EINVAL);
	memset(name, 'n', sizeof name);
	name[201] = '\0';
	assert_int_equal(sspr_state_write(f->dfd, name, "a", 1), -EINVAL);
	name[200] = '\0'; /* 200 is allowed */
	assert_int_equal(sspr_state_write(f->dfd, name, "a", 1), 0);
}

static void test_symlink_refused(void **state)
{
	struct fixture *f = *state;
	char buf[32];

	put(f, "target", "secret", 6, 0600);
	assert_int_equal(symlinkat("target", f->dfd, "link"), 0);
	assert_read_refused(f, "link", 64, -SSPR_E_UNSAFE_FILE);
	/* dangling too */
	assert_int_equal(symlinkat("nowhere", f->dfd, "dangling"), 0);
	assert_read_refused(f, "dangling", 64, -SSPR_E_UNSAFE_FILE);
	/* a path through a file is not a way in either */
	assert_read_refused(f, "target/x", 64, -SSPR_E_UNSAFE_FILE);
	assert_int_equal(slurp(f, "target", buf, sizeof buf), 6);
	assert_memory_equal(buf, "secret", 6);
}

static void test_fifo_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mkfifoat(f->dfd, "fifo", 0600), 0);
	alarm(10); /* a blocking open would hang here: SIGALRM ends the test */
	assert_read_refused(f, "fifo", 64, -SSPR_E_UNSAFE_FILE);
	alarm(0);
}

static void test_dir_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mkdirat(f->dfd, "sub", 0700), 0);
	assert_read_refused(f, "sub", 64, -SSPR_E_UNSAFE_FILE);
}

static void test_mode_refused(void **state)
{
	static const mode_t modes[] = { 0644, 0640, 0604, 0660, 0620, 0602, 0610, 0601 };
	struct fixture *f = *state;
	char *buf;
	size_t len;

	for (size_t i = 0; i < SSPR_ELEMENTSOF(modes); i++) {
		put(f, "rec", "data", 4, modes[i]);
		assert_read_refused(f, "rec", 64, -SSPR_E_UNSAFE_FILE);
	}
	/* owner-only modes are fine */
	put(f, "rec", "data", 4, 0400);
	assert_int_equal(sspr_state_read(f->dfd, "rec", 64, &buf, &len), 0);
	sspr_secure_free(buf);
}

static void test_hard_link_refused(void **state)
{
	struct fixture *f = *state;
	char *buf;
	size_t len;

	put(f, "rec", "data", 4, 0600);
	assert_int_equal(linkat(f->dfd, "rec", f->dfd, "other", 0), 0);
	assert_read_refused(f, "rec", 64, -SSPR_E_UNSAFE_FILE);
	assert_read_refused(f, "other", 64, -SSPR_E_UNSAFE_FILE);
	assert_int_equal(unlinkat(f->dfd, "other", 0), 0);
	assert_int_equal(sspr_state_read(f->dfd, "rec", 64, &buf, &len), 0);
	sspr_secure_free(buf);
}

static void test_foreign_owner_refused(void **state)
{
	struct fixture *f = *state;

	if (geteuid() != 0)
		skip();
	put(f, "rec", "data", 4, 0600);
	assert_int_equal(fchownat(f->dfd, "rec", NOBODY, NOBODY, AT_SYMLINK_NOFOLLOW), 0);
	assert_read_refused(f, "rec", 64, -SSPR_E_UNSAFE_FILE);
}

static void test_check_file(void **state)
{
	struct fixture *f = *state;
	int fd, p[2];

	put(f, "rec", "data", 4, 0600);
	fd = openat(f->dfd, "rec", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(sspr_state_check_file(fd), 0);
	assert_int_equal(fchmod(fd, 0640), 0);
	assert_int_equal(sspr_state_check_file(fd), -SSPR_E_UNSAFE_FILE);
	(void)close(fd);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(sspr_state_check_file(p[0]), -SSPR_E_UNSAFE_FILE);
	(void)close(p[0]);
	(void)close(p[1]);
	assert_int_equal(sspr_state_check_file(-1), -EBADF);
}

/* After writes (new and replacing) only the named files remain. */
static void test_write_leaves_no_temp(void **state)
{
	struct fixture *f = *state;
	char names[256];

	assert_int_equal(sspr_state_write(f->dfd, "a", "1", 1), 0);
	assert_int_equal(sspr_state_write(f->dfd, "a", "22", 2), 0);
	assert_int_equal(sspr_state_write(f->dfd, "b", "3", 1), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(sspr_state_write(f->dfd, "a", "x", 1), 0);
	listing(f->dir, names, sizeof names);
	assert_string_equal(names, "a b");
}

/* Replacement is a rename: a new inode, the new content in full, mode
 * 0600 whatever the old file had; a reader holding the old file still
 * sees the old content. */
static void test_write_replaces_atomically(void **state)
{
	struct fixture *f = *state;
	struct stat a, b;
	char buf[32];
	int old;

	put(f, "rec", "old content", 11, 0400);
	assert_int_equal(fstatat(f->dfd, "rec", &a, 0), 0);
	old = openat(f->dfd, "rec", O_RDONLY | O_CLOEXEC);
	assert_true(old >= 0);
	assert_int_equal(sspr_state_write(f->dfd, "rec", "new", 3), 0);
	assert_int_equal(fstatat(f->dfd, "rec", &b, 0), 0);
	assert_true(a.st_ino != b.st_ino);
	assert_int_equal(b.st_mode & 07777, 0600);
	assert_int_equal(b.st_nlink, 1);
	assert_int_equal(slurp(f, "rec", buf, sizeof buf), 3);
	assert_memory_equal(buf, "new", 3);
	assert_int_equal(read(old, buf, sizeof buf), 11);
	assert_memory_equal(buf, "old content", 11);
	(void)close(old);
}

/* Writing over a planted symlink replaces the link; its target is
 * untouched. */
static void test_write_over_symlink(void **state)
{
	struct fixture *f = *state;
	char buf[32];
	struct stat st;

	put(f, "target", "keep", 4, 0600);
	assert_int_equal(symlinkat("target", f->dfd, "rec"), 0);
	assert_int_equal(sspr_state_write(f->dfd, "rec", "new", 3), 0);
	assert_int_equal(fstatat(f->dfd, "rec", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(slurp(f, "target", buf, sizeof buf), 4);
	assert_memory_equal(buf, "keep", 4);
}

/* The rename fails (a directory holds the name): the error is returned
 * and the temporary file is removed, not left beside it. */
static void test_write_rename_fails_cleanly(void **state)
{
	struct fixture *f = *state;
	char names[256];
	struct stat st;

	assert_int_equal(mkdirat(f->dfd, "rec", 0700), 0);
	assert_int_equal(sspr_state_write(f->dfd, "rec", "new", 3), -EISDIR);
	assert_int_equal(fstatat(f->dfd, "rec", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISDIR(st.st_mode));
	listing(f->dir, names, sizeof names);
	assert_string_equal(names, "rec");
}

/* A directory we cannot write into: the write fails (with an errno, not
 * "in place but not durable"), the old file is intact, and nothing is
 * left behind.  Root ignores the mode bits, so as root the write is
 * tried with the effective uid of nobody. */
static void test_write_readonly_dir(void **state)
{
	struct fixture *f = *state;
	char buf[32], names[256], path[128];
	int r, sub;

	assert_int_equal(mkdirat(f->dfd, "ro", 0700), 0);
	sub = openat(f->dfd, "ro", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(sub >= 0);
	assert_int_equal(sspr_state_write(sub, "rec", "old", 3), 0);
	assert_int_equal(fchmod(sub, 0555), 0);
	if (geteuid() == 0) {
		assert_int_equal(seteuid(NOBODY), 0);
		r = sspr_state_write(sub, "rec", "new", 3);
		if (seteuid(0) != 0)
			abort(); /* cannot go on as the wrong user */
	} else {
		r = sspr_state_write(sub, "rec", "new", 3);
	}
	assert_int_equal(r, -EACCES);
	assert_int_equal(fchmod(sub, 0700), 0);
	{
		int fd = openat(sub, "rec", O_RDONLY | O_CLOEXEC);
		ssize_t n;

		assert_true(fd >= 0);
		n = read(fd, buf, sizeof buf);
		(void)close(fd);
		assert_int_equal(n, 3);
		assert_memory_equal(buf, "old", 3);
	}
	(void)close(sub);
	(void)snprintf(path, sizeof path, "%s/ro", f->dir);
	listing(path, names, sizeof names);
	assert_string_equal(names, "rec");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hard_link_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_owner_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_leaves_no_temp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_replaces_atomically, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_over_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_rename_fails_cleanly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_readonly_dir, setup, teardown),
	};

	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
