/* SPDX-License-Identifier: BSD-2-Clause */
/* lib/hostkey.c: STATEDIR/hostkey is created once (0600, 32 bytes), then
 * loaded as it is; anything unsafe in its place, or around it, is refused
 * and the caller's key left as it was. */
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
#include "sspr/hostkey.h"

#define NOBODY 65534

struct fixture {
	char dir[64];       /* mkdtemp */
	char statedir[128]; /* dir/state, not created */
	char keypath[160];  /* dir/state/hostkey */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/sspr-test-hostkey.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	(void)snprintf(f->statedir, sizeof f->statedir, "%s/state", f->dir);
	(void)snprintf(f->keypath, sizeof f->keypath, "%s/hostkey", f->statedir);
	*state = f;
	return 0;
}


static int teardown(void **state)
{
	struct fixture *f = *state;

	rm_rf(f->dir);
	free(f);
	return 0;
}

static void put_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static size_t read_path(const char *path, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, len);
	assert_true(n >= 0);
	(void)close(fd);
	return (size_t)n;
}

/* Only "hostkey" in the state dir: no temporary file left behind. */
static void assert_only_hostkey(const char *statedir)
{
	DIR *d = opendir(statedir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strcmp(de->d_name, "hostkey") != 0)
			fail_msg("left in the state dir: %s", de->d_name);
		n++;
	}
	closedir(d);
	assert_int_equal(n, 1);
}

/* A load that must fail with want, leaving key as it was. */
static void assert_refused(const char *statedir, int create, int want)
{
	unsigned char key[SSPR_HOSTKEY_LEN], before[SSPR_HOSTKEY_LEN];
	int r;

	memset(before, 0xa5, sizeof before);
	memcpy(key, before, sizeof key);
	r = sspr_hostkey_load(statedir, create, key);
	if (r != want)
		fail_msg("create=%d: returned %d (%s), want %d (%s)", create, r, sspr_strerror(r),
		         want, sspr_strerror(want));
	assert_memory_equal(key, before, sizeof key);
}

static void test_create(void **state)
{
	struct fixture *f = *state;
	unsigned char key[SSPR_HOSTKEY_LEN], file[SSPR_HOSTKEY_LEN + 8], zero[SSPR_HOSTKEY_LEN];
	struct stat st;

	memset(key, 0, sizeof key);
	memset(zero, 0, sizeof zero);
	/* the state dir does not exist yet: made 0700 */
	assert_int_equal(sspr_hostkey_load(f->statedir, 1, key), 0);
	assert_int_equal(lstat(f->statedir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);

	assert_int_equal(lstat(f->keypath, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, SSPR_HOSTKEY_LEN);
	assert_int_equal(st.st_nlink, 1);
	assert_int_equal(st.st_uid, geteuid());
	assert_only_hostkey(f->statedir);

	/* the key returned is the one on disk, and not all zero */
	assert_int_equal(read_path(f->keypath, file, sizeof file), SSPR_HOSTKEY_LEN);
	assert_memory_equal(key, file, SSPR_HOSTKEY_LEN);
	assert_memory_not_equal(key, zero, sizeof key);
}

static void test_load_again_same_key(void **state)
{
	struct fixture *f = *state;
	unsigned char k1[SSPR_HOSTKEY_LEN], k2[SSPR_HOSTKEY_LEN], k3[SSPR_HOSTKEY_LEN];
	struct stat a, b;

	assert_int_equal(sspr_hostkey_load(f->statedir, 1, k1), 0);
	assert_int_equal(stat(f->keypath, &a), 0);
	memset(k2, 0, sizeof k2);
	assert_int_equal(sspr_hostkey_load(f->statedir, 0, k2), 0);
	assert_memory_equal(k1, k2, sizeof k1);
	/* create=1 on an existing key loads it, does not replace it */
	memset(k3, 0, sizeof k3);
	assert_int_equal(sspr_hostkey_load(f->statedir, 1, k3), 0);
	assert_memory_equal(k1, k3, sizeof k1);
	assert_int_equal(stat(f->keypath, &b), 0);
	assert_true(a.st_ino == b.st_ino);
	assert_only_hostkey(f->statedir);
}

/* A key written by hand (the right shape) is loaded as it is. */
static void test_load_existing(void **state)
{
	struct fixture *f = *state;
	unsigned char want[SSPR_HOSTKEY_LEN], key[SSPR_HOSTKEY_LEN];

	for (size_t i = 0; i < sizeof want; i++)
		want[i] = (unsigned char)(i * 7 + 1);
	assert_int_equal(mkdir(f->statedir, 0700), 0);
	put_file(f->keypath, want, sizeof want, 0600);
	assert_int_equal(sspr_hostkey_load(f->statedir, 0, key), 0);
	assert_memory_equal(key, want, sizeof key);
	/* 0400 is fine too: no group or other bits */
	assert_int_equal(chmod(f->keypath, 0400), 0);
	memset(key, 0, sizeof key);
	assert_int_equal(sspr_hostkey_load(f->statedir, 0, key), 0);
	assert_memory_equal(key, want, sizeof key);
}

/* Two state dirs, two different random keys. */
static void test_keys_differ(void **state)
{
	struct fixture *f = *state;
	unsigned char k1[SSPR_HOSTKEY_LEN], k2[SSPR_HOSTKEY_LEN];
	char other[200];

	(void)snprintf(other, sizeof other, "%s/other", f->dir);
	assert_int_equal(sspr_hostkey_load(f->statedir, 1, k1), 0);
	assert_int_equal(sspr_hostkey_load(other, 1, k2), 0);
	assert_memory_not_equal(k1, k2, sizeof k1);
}

static void test_missing(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	/* no state dir, create=0: nothing made */
	assert_refused(f->statedir, 0, -ENOENT);
	assert_int_equal(lstat(f->statedir, &st), -1);
	/* a state dir without a key, create=0 */
	assert_int_equal(mkdir(f->statedir, 0700), 0);
	assert_refused(f->statedir, 0, -ENOENT);
	assert_int_equal(lstat(f->keypath, &st), -1);
}

/* A symlink as the key is refused, with or without create, whether it
 * points at a good key file or nowhere; its target is neither read nor
 * changed. */
static void test_symlink_key(void **state)
{
	struct fixture *f = *state;
	unsigned char target[SSPR_HOSTKEY_LEN], after[SSPR_HOSTKEY_LEN + 8];
	char tpath[200], dangling[200];
	struct stat st;

	memset(target, 0x42, sizeof target);
	(void)snprintf(tpath, sizeof tpath, "%s/target", f->dir);
	(void)snprintf(dangling, sizeof dangling, "%s/nowhere", f->dir);
	put_file(tpath, target, sizeof target, 0600);
	assert_int_equal(mkdir(f->statedir, 0700), 0);
	assert_int_equal(symlink(tpath, f->keypath), 0);
	assert_refused(f->statedir, 0, -SSPR_E_UNSAFE_FILE);
	assert_refused(f->statedir, 1, -SSPR_E_UNSAFE_FILE);
	assert_int_equal(read_path(tpath, after, sizeof after), sizeof target);
	assert_memory_equal(after, target, sizeof target);
	assert_int_equal(lstat(f->keypath, &st), 0);
	assert_true(S_ISLNK(st.st_mode));

	/* dangling: create must not follow it and make the target */
	assert_int_equal(unlink(f->keypath), 0);
	assert_int_equal(symlink(dangling, f->keypath), 0);
	assert_refused(f->statedir, 1, -SSPR_E_UNSAFE_FILE);
	assert_int_equal(lstat(dangling, &st), -1);
}

static void test_bad_mode(void **state)
{
	static const mode_t modes[] = { 0644, 0640, 0604, 0660, 0602, 0620, 0610, 0601 };
	struct fixture *f = *state;
	unsigned char k[SSPR_HOSTKEY_LEN];

	memset(k, 1, sizeof k);
	assert_int_equal(mkdir(f->statedir, 0700), 0);
	for (size_t i = 0; i < SSPR_ELEMENTSOF(modes); i++) {
		put_file(f->keypath, k, sizeof k, modes[i]);
		assert_refused(f->statedir, 0, -SSPR_E_UNSAFE_FILE);
		assert_refused(f->statedir, 1, -SSPR_E_UNSAFE_FILE);
	}
}

/* Short, long or empty: refused, and create does not "repair" it. */
static void test_wrong_size(void **state)
{
	static const size_t sizes[] = { 0, 1, SSPR_HOSTKEY_LEN - 1, SSPR_HOSTKEY_LEN + 1, 4096 };
	struct fixture *f = *state;
	unsigned char k[4096];
	struct stat st;

	memset(k, 1, sizeof k);
	assert_int_equal(mkdir(f->statedir, 0700), 0);
	for (size_t i = 0; i < SSPR_ELEMENTSOF(sizes); i++) {
		put_file(f->keypath, k, sizes[i], 0600);
		assert_refused(f->statedir, 0, -SSPR_E_UNSAFE_FILE);
		assert_refused(f->statedir, 1, -SSPR_E_UNSAFE_FILE);
		assert_int_equal(stat(f->keypath, &st), 0);
		assert_int_equal(st.st_size, (off_t)sizes[i]);
	}
}

static void test_hard_link(void **state)
{
	struct fixture *f = *state;
	unsigned char k[SSPR_HOSTKEY_LEN];
	char other[200];

	(void)snprintf(other, sizeof other, "%s/copy", f->dir);
	assert_int_equal(sspr_hostkey_load(f->statedir, 1, k), 0);
	assert_int_equal(link(f->keypath, other), 0); /* nlink 2 */
	assert_refused(f->statedir, 0, -SSPR_E_UNSAFE_FILE);
	assert_refused(f->statedir, 1, -SSPR_E_UNSAFE_FILE);
	assert_int_equal(unlink(other), 0); /* one link again: fine */
	assert_int_equal(sspr_hostkey_load(f->statedir, 0, k), 0);
}

/* Neither a FIFO (which must not block the load) nor a directory. */
static void test_not_regular(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mkdir(f->statedir, 0700), 0);
	assert_int_equal(mkfifo(f->keypath, 0600), 0);
	alarm(10); /* a blocking open would hang here: SIGALRM ends the test */
	assert_refused(f->statedir, 0, -SSPR_E_UNSAFE_FILE);
	assert_refused(f->statedir, 1, -SSPR_E_UNSAFE_FILE);
	alarm(0);
	/* a FIFO with a key's worth of bytes waiting in it is still not a key */
	{
		unsigned char k[SSPR_HOSTKEY_LEN];
		int w = open(f->keypath, O_RDWR | O_NONBLOCK | O_CLOEXEC);

		assert_true(w >= 0);
		memset(k, 3, sizeof k);
		assert_int_equal(write(w, k, sizeof k), (ssize_t)sizeof k);
		alarm(10);
		assert_refused(f->statedir, 0, -SSPR_E_UNSAFE_FILE);
		alarm(0);
		(void)close(w);
	}
	assert_int_equal(unlink(f->keypath), 0);
	assert_int_equal(mkdir(f->keypath, 0700), 0);
	assert_refused(f->statedir, 0, -SSPR_E_UNSAFE_FILE);
	assert_refused(f->statedir, 1, -SSPR_E_UNSAFE_FILE);
}

/* A state dir others can write into is refused, even with a good key. */
static void test_statedir_mode(void **state)
{
	static const mode_t modes[] = { 0777, 0770, 0707, 0720, 0702, 01777 };
	struct fixture *f = *state;
	unsigned char k[SSPR_HOSTKEY_LEN];

	assert_int_equal(sspr_hostkey_load(f->statedir, 1, k), 0);
	for (size_t i = 0; i < SSPR_ELEMENTSOF(modes); i++) {
		assert_int_equal(chmod(f->statedir, modes[i]), 0);
		assert_refused(f->statedir, 0, -SSPR_E_UNSAFE_FILE);
		assert_refused(f->statedir, 1, -SSPR_E_UNSAFE_FILE);
	}
	/* readable by others is not a risk to the key's integrity */
	assert_int_equal(chmod(f->statedir, 0755), 0);
	assert_int_equal(sspr_hostkey_load(f->statedir, 0, k), 0);
}

/* A state dir that is a symlink (to a good state dir) or a file. */
static void test_statedir_not_dir(void **state)
{
	struct fixture *f = *state;
	unsigned char k[SSPR_HOSTKEY_LEN];
	char real[200];

	(void)snprintf(real, sizeof real, "%s/real", f->dir);
	assert_int_equal(sspr_hostkey_load(real, 1, k), 0);
	assert_int_equal(symlink(real, f->statedir), 0);
	assert_refused(f->statedir, 0, -SSPR_E_UNSAFE_FILE);
	assert_refused(f->statedir, 1, -SSPR_E_UNSAFE_FILE);
	assert_int_equal(unlink(f->statedir), 0);
	put_file(f->statedir, "x", 1, 0600);
	assert_refused(f->statedir, 0, -SSPR_E_UNSAFE_FILE);
	assert_refused(f->statedir, 1, -SSPR_E_UNSAFE_FILE);
}

/* Owned by someone else: the key file, or the state dir (needs root). */
static void test_foreign_owner(void **state)
{
	struct fixture *f = *state;
	unsigned char k[SSPR_HOSTKEY_LEN];

	if (geteuid() != 0)
		skip();
	assert_int_equal(sspr_hostkey_load(f->statedir, 1, k), 0);
	assert_int_equal(chown(f->keypath, NOBODY, NOBODY), 0);
	assert_refused(f->statedir, 0, -SSPR_E_UNSAFE_FILE);
	assert_int_equal(chown(f->keypath, 0, 0), 0);
	assert_int_equal(sspr_hostkey_load(f->statedir, 0, k), 0);
	assert_int_equal(chown(f->statedir, NOBODY, NOBODY), 0);
	assert_refused(f->statedir, 0, -SSPR_E_UNSAFE_FILE);
	assert_refused(f->statedir, 1, -SSPR_E_UNSAFE_FILE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_again_same_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_existing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_differ, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hard_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_regular, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statedir_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statedir_not_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_owner, setup, teardown),
	};

	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
