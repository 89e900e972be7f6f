/* SPDX-License-Identifier: BSD-2-Clause */
/* pam_faillock keeps one binary tally file per user in its directory; a
 * reset truncates it, as faillock(8) --reset does.  Without this a user
 * who locked themselves out with wrong passwords could reset the password
 * and still not log in. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sspr/common.h"
#include "sspr/faillock.h"

#define FAILLOCK_DEFAULT_DIR "/var/run/faillock"

/* `dir = /path` from faillock.conf(5); the last one wins, as there. */
static void conf_dir(const char *root, char *dir, size_t len)
{
	char path[4096], line[1024];
	struct stat st;
	FILE *f;
	int fd;

	(void)snprintf(dir, len, "%s", FAILLOCK_DEFAULT_DIR);
	if (snprintf(path, sizeof path, "%s/etc/security/faillock.conf", root) >= (int)sizeof path)
		return;
	/* O_NONBLOCK: a FIFO put there must not hang the helper; fstat then
	 * takes only a regular file (the default dir otherwise). */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(f = fdopen(fd, "re"))) {
		(void)close(fd);
		return;
	}
	while (fgets(line, sizeof line, f)) {
		char *p = line, *v, *end;

		p += strspn(p, " \t");
		if (strncmp(p, "dir", 3) != 0)
			continue;
		p += 3;
		p += strspn(p, " \t");
		if (*p != '=')
			continue;
		v = p + 1 + strspn(p + 1, " \t");
		end = v + strcspn(v, " \t\r\n#");
		*end = '\0';
		if (*v == '/')
			(void)snprintf(dir, len, "%s", v);
	}
	fclose(f);
}

int sspr_faillock_dir(const char *root, char *out, size_t outlen)
{
	char dir[1024];
	int n;

	conf_dir(root ? root : "", dir, sizeof dir);
	n = snprintf(out, outlen, "%s%s", root ? root : "", dir);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

int sspr_faillock_reset(const char *root, const char *user, bool *ret_cleared)
{
	_cleanup_close_ int dfd = -1;
	_cleanup_close_ int fd = -1;
	char dir[4096];
	struct stat st;
	int r;

	if (!user || !*user || strchr(user, '/') || strcmp(user, ".") == 0 || strcmp(user, "..") == 0)
		return -EINVAL;
	r = sspr_faillock_dir(root, dir, sizeof dir);
	if (r < 0)
		return r;
	if (ret_cleared)
		*ret_cleared = false;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -errno;
	fd = openat(dfd, user, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : errno == ELOOP ? -SSPR_E_UNSAFE_FILE : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	/* a second name would truncate some other file */
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		return -SSPR_E_UNSAFE_FILE;
	if (st.st_size > 0) {
		if (ftruncate(fd, 0) < 0 || fsync(fd) < 0)
			return -errno;
		if (ret_cleared)
			*ret_cleared = true;
	}
	return 0;
}
