/* SPDX-License-Identifier: BSD-2-Clause */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "sspr/common.h"
#include "sspr/statefile.h"

int sspr_state_check_file(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1 ||
	    (st.st_mode & 077) != 0)
		return -SSPR_E_UNSAFE_FILE;
	return 0;
}

/* A symlink (or a socket, or a file) where a directory or file should be
 * is an unsafe file, not a missing one. */
static int open_errno(int e)
{
	return (e == ELOOP || e == ENOTDIR || e == ENXIO) ? -SSPR_E_UNSAFE_FILE : -e;
}

static int open_dir_at(int dirfd, const char *name, int create, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (create && mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return open_errno(errno);
	if (fstat(fd, &st) < 0)
		return -errno;
	/* a directory we may keep secrets in: ours, not writable by others */
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) != 0)
		return -SSPR_E_UNSAFE_FILE;
	*ret_fd = fd;
	fd = -1;
	return 0;
}

int sspr_state_open_dir(const char *statedir, const char *sub, int create, int *ret_fd)
{
	_cleanup_close_ int sfd = -1;
	int r;

	if (!statedir || !*statedir || !sub || !ret_fd)
		return -EINVAL;
	r = open_dir_at(AT_FDCWD, statedir, create, &sfd);
	if (r < 0)
		return r;
	return open_dir_at(sfd, sub, create, ret_fd);
}

int sspr_state_read(int dirfd, const char *name, size_t cap, char **ret, size_t *ret_len)
{
	_cleanup_secure_ char *buf = NULL;
	_cleanup_close_ int fd = -1;
	size_t got = 0;
	int r;

	if (dirfd < 0 || !name || !ret || !ret_len)
		return -EINVAL;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return open_errno(errno);
	r = sspr_state_check_file(fd);
	if (r < 0)
		return r;
	buf = sspr_secure_alloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	/* one byte past the cap, so that an oversized file is noticed */
	while (got < cap + 1) {
		ssize_t n = read(fd, buf + got, cap + 1 - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > cap)
		return -SSPR_E_RECORD;
	*ret = buf;
	buf = NULL;
	*ret_len = got;
	return 0;
}

int sspr_state_write(int dirfd, const char *name, const void *data, size_t len)
{
	char tmp[300];
	int fd = -1, r = -EEXIST;

	if (dirfd < 0 || !name || strlen(name) > 200 || sodium_init() < 0)
		return -EINVAL;
	for (int tries = 0; tries < 16 && fd < 0; tries++) {
		uint32_t rnd;

		randombytes_buf(&rnd, sizeof rnd);
		(void)snprintf(tmp, sizeof tmp, ".%s.%08" PRIx32, name, rnd);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return -errno;
	}
	if (fd < 0)
		return r;
	r = sspr_write_all(fd, data, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	/* A failed close may mean lost data (NFS); EINTR still closed it. */
	if (close(fd) < 0 && errno != EINTR && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlinkat(dirfd, tmp, 0);
		return r;
	}
	/* In place; only its durability is in doubt. */
	if (fsync(dirfd) < 0)
		return -SSPR_E_NOT_DURABLE;
	return 0;
}
