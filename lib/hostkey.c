/* SPDX-License-Identifier: BSD-2-Clause */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "sspr/common.h"
#include "sspr/hostkey.h"

static int open_statedir(const char *statedir, int create)
{
	struct stat st;
	int fd;

	if (create && mkdir(statedir, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(statedir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP || errno == ENOTDIR ? -SSPR_E_UNSAFE_FILE : -errno;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
		(void)close(fd);
		return -SSPR_E_UNSAFE_FILE;
	}
	return fd;
}

static int read_key(int fd, unsigned char key[SSPR_HOSTKEY_LEN])
{
	unsigned char buf[SSPR_HOSTKEY_LEN + 1];
	struct stat st;
	size_t got = 0;
	int r = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1 ||
	    (st.st_mode & 077))
		return -SSPR_E_UNSAFE_FILE;
	while (got < sizeof buf) {
		ssize_t n = read(fd, buf + got, sizeof buf - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != SSPR_HOSTKEY_LEN) {
		r = -SSPR_E_UNSAFE_FILE;
		goto out;
	}
	memcpy(key, buf, SSPR_HOSTKEY_LEN);
out:
	sspr_wipe(buf, sizeof buf);
	return r;
}

/* Create the key under a temporary name and link it in place, so that a
 * concurrent creator or a crash never leaves a short key file. */
static int create_key(int dfd)
{
	unsigned char key[SSPR_HOSTKEY_LEN], rnd[8];
	char tmp[32];
	int fd, r = 0;

	randombytes_buf(rnd, sizeof rnd);
	memcpy(tmp, ".hostkey.", 9);
	sodium_bin2hex(tmp + 9, sizeof tmp - 9, rnd, sizeof rnd);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	randombytes_buf(key, sizeof key);
	{
		ssize_t w = write(fd, key, sizeof key);

		if (w < 0 || fsync(fd) < 0)
			r = -errno;
		else if (w != (ssize_t)sizeof key)
			r = -EIO; /* short write: no errno to report */
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	sspr_wipe(key, sizeof key);
	if (r == 0 && linkat(dfd, tmp, dfd, "hostkey", 0) < 0 && errno != EEXIST)
		r = -errno;
	(void)unlinkat(dfd, tmp, 0);
	if (r == 0 && fsync(dfd) < 0)
		r = -errno;
	return r;
}

int sspr_hostkey_load(const char *statedir, int create, unsigned char key[SSPR_HOSTKEY_LEN])
{
	_cleanup_close_ int dfd = -1;
	_cleanup_close_ int fd = -1;
	int r;

	if (sodium_init() < 0)
		return -EIO;
	dfd = open_statedir(statedir, create);
	if (dfd < 0)
		return dfd;
	fd = openat(dfd, "hostkey", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT && create) {
		r = create_key(dfd);
		if (r < 0)
			return r;
		fd = openat(dfd, "hostkey", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	}
	if (fd < 0)
		return errno == ELOOP ? -SSPR_E_UNSAFE_FILE : -errno;
	return read_key(fd, key);
}
