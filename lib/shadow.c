/* SPDX-License-Identifier: BSD-2-Clause */
/* The shadow file (SPEC section 3): a pure parser and editor of its text,
 * the account checks pam_unix applies, and the locked, atomic rewrite.
 *
 * The editor works on bytes, not on parsed entries: every line but the
 * target one, and every byte of the target line but fields 2 and 3, is
 * copied as it is, so comments, NIS lines, CRLF endings and odd lines that
 * fgetspent() would drop or normalise all survive a reset. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <sodium.h>

#include "sspr/common.h"
#include "sspr/shadow.h"

#define SHADOW_FIELDS 9
#define SHADOW_NAME "shadow"
#define BACKUP_NAME "shadow-"
#define LOCK_NAME ".pwd.lock"          /* lckpwdf()'s lock file */
#define TMP_PREFIX ".sspr-shadow."     /* new file before the rename */
#define BAK_PREFIX ".sspr-shadow-bak." /* old file's link before it becomes shadow- */
#define RAND_BYTES 16                  /* 128 bits of name: unpredictable */
#define NAME_MAX_LEN (sizeof(BAK_PREFIX) + 2 * RAND_BYTES)
#define LOCK_RETRY_MS 10

/* A byte range inside the text. */
struct span {
	size_t off, len;
};

bool sspr_crypt_alphabet_ok(const char *s)
{
	size_t n;

	if (!s || !*s)
		return false;
	n = strnlen(s, SSPR_HASH_MAX);
	if (n >= SSPR_HASH_MAX)
		return false;
	/* Spelled out: isalnum() depends on the locale. */
	return strspn(s, "./0123456789$*=,-"
	                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "abcdefghijklmnopqrstuvwxyz") == n;
}

/* A name we can look for: "user:" must start exactly the user's lines, so
 * no ':' or line break, and no NIS '+'/'-' prefix (those lines are never
 * the local entry). */
static bool user_ok(const char *user)
{
	size_t n;

	if (!user || !*user || user[0] == '+' || user[0] == '-')
		return false;
	n = strnlen(user, SSPR_FIELD_MAX);
	return n < SSPR_FIELD_MAX && strcspn(user, ":\n\r") == n;
}

/* Find the one line that names user.  *ret spans the line's content: from
 * its first byte to before its "\n" (and a "\r" just before that, or just
 * before the end of the text), so the line ending is never part of a field. */
static int find_line(const char *text, size_t len, const char *user, struct span *ret)
{
	size_t ulen = strlen(user), pos = 0, found = 0;
	struct span hit = { 0, 0 };

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t cend = end;

		if (cend > pos && text[cend - 1] == '\r')
			cend--;
		if (cend - pos > ulen && memcmp(text + pos, user, ulen) == 0 &&
		    text[pos + ulen] == ':') {
			if (++found > 1)
				return -SSPR_E_DUP_LINE;
			hit.off = pos;
			hit.len = cend - pos;
		}
		pos = end + 1;
	}
	if (!found)
		return -SSPR_E_NO_LINE;
	*ret = hit;
	return 0;
}

/* Split a line into exactly nine ':'-separated fields. */
static int split_fields(const char *text, struct span line, struct span f[SHADOW_FIELDS])
{
	size_t n = 0, b = line.off, end = line.off + line.len;

	if (memchr(text + line.off, '\0', line.len))
		return -EINVAL;
	for (size_t i = line.off; i <= end; i++) {
		if (i < end && text[i] != ':')
			continue;
		if (n == SHADOW_FIELDS)
			return -EINVAL;
		f[n].off = b;
		f[n].len = i - b;
		n++;
		b = i + 1;
	}
	return n == SHADOW_FIELDS ? 0 : -EINVAL;
}

/* A numeric field: empty is -1, else plain digits (no sign, no blanks) up
 * to max.  glibc keeps the day fields in an int, hence INT_MAX for them. */
static int parse_field(const char *text, struct span s, long long max, long long *ret)
{
	char buf[24];
	long long v;

	if (s.len == 0) {
		*ret = -1;
		return 0;
	}
	if (s.len >= sizeof buf)
		return -EINVAL;
	for (size_t i = 0; i < s.len; i++)
		if (text[s.off + i] < '0' || text[s.off + i] > '9')
			return -EINVAL;
	memcpy(buf, text + s.off, s.len);
	buf[s.len] = '\0';
	if (sspr_strtonum(buf, 0, max, &v) < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Parse a line found by find_line into *ret (which the caller wipes). */
static int parse_line(const char *text, struct span line, struct sspr_shadow_info *ret)
{
	struct span f[SHADOW_FIELDS];
	long long v[SHADOW_FIELDS];
	int r;

	r = split_fields(text, line, f);
	if (r < 0)
		return r;
	/* Fields 3 to 8 are days; field 9 is glibc's unsigned flag. */
	for (size_t i = 2; i < SHADOW_FIELDS; i++) {
		r = parse_field(text, f[i], i == SHADOW_FIELDS - 1 ? LLONG_MAX : INT_MAX, &v[i]);
		if (r < 0)
			return r;
	}
	if (f[1].len >= sizeof ret->hash)
		return -EINVAL;
	memcpy(ret->hash, text + f[1].off, f[1].len);
	ret->hash[f[1].len] = '\0';
	ret->locked = f[1].len > 0 && (ret->hash[0] == '!' || ret->hash[0] == '*');
	ret->lastchg = (long)v[2];
	ret->max = (long)v[4];
	ret->inactive = (long)v[6];
	ret->expire = (long)v[7];
	return 0;
}

int sspr_shadow_find(const char *text, size_t len, const char *user,
                     struct sspr_shadow_info *ret)
{
	struct sspr_shadow_info info;
	struct span line;
	int r;

	if ((!text && len) || !user_ok(user) || !ret)
		return -EINVAL;
	r = find_line(text, len, user, &line);
	if (r < 0)
		return r;
	r = parse_line(text, line, &info);
	if (r == 0)
		*ret = info;
	sspr_wipe(&info, sizeof info);
	return r;
}

int sspr_shadow_check(const struct sspr_shadow_info *info, long today)
{
	if (!info)
		return -EINVAL;
	if (info->locked)
		return -SSPR_E_LOCKED_PW;
	/* pam_unix check_shadow_expiry(): expired from the day of field 8 on
	 * (so field 8 = 0 is expired, as pam_unix treats it). */
	if (info->expire >= 0 && today >= info->expire)
		return -SSPR_E_ACCOUNT_EXPIRED;
	/* Inactivity runs from the end of the password's max age.  lastchg 0
	 * ("change at next login") and empty (aging off) never make an account
	 * inactive, nor does a lastchg in the future; as pam_unix does. */
	if (info->lastchg > 0 && today >= info->lastchg && info->max >= 0 &&
	    info->inactive >= 0) {
		long passed = today - info->lastchg;
		long limit = info->max < LONG_MAX - info->inactive ?
		             info->max + info->inactive : LONG_MAX;

		if (passed >= limit)
			return -SSPR_E_ACCOUNT_INACTIVE;
	}
	/* An expired password (max age passed) is exactly when a reset helps. */
	return 0;
}

int sspr_shadow_edit(const char *text, size_t len, const char *user,
                     const char *hash, long today, char **ret, size_t *ret_len)
{
	struct sspr_shadow_info info;
	struct span line, f[SHADOW_FIELDS];
	char days[24];
	size_t hlen, dlen, head, tail, n;
	char *out, *p;
	int r;

	if ((!text && len) || !user_ok(user) || !ret || !ret_len)
		return -EINVAL;
	/* Today as a day count; day 0 would read as "must change password". */
	if (today <= 0 || today > INT_MAX)
		return -EINVAL;
	if (!sspr_crypt_alphabet_ok(hash))
		return -SSPR_E_BAD_HASH;
	r = find_line(text, len, user, &line);
	if (r < 0)
		return r;
	/* The whole target line must be well formed, not only fields 2-3. */
	r = parse_line(text, line, &info);
	sspr_wipe(&info, sizeof info);
	if (r < 0)
		return r;
	r = split_fields(text, line, f);
	if (r < 0)
		return r;

	hlen = strlen(hash);
	dlen = (size_t)snprintf(days, sizeof days, "%ld", today);
	head = f[1].off;               /* "user:" and everything before the line */
	tail = f[2].off + f[2].len;    /* from the ':' before field 4 to the end */
	n = head + hlen + 1 + dlen + (len - tail);
	out = malloc(n ? n : 1);
	if (!out)
		return -ENOMEM;
	p = out;
	memcpy(p, text, head);
	p += head;
	memcpy(p, hash, hlen);
	p += hlen;
	*p++ = ':';
	memcpy(p, days, dlen);
	p += dlen;
	memcpy(p, text + tail, len - tail);
	*ret = out;
	*ret_len = n;
	return 0;
}

/* Read a whole regular file, at most cap bytes.  Growing copies and wipes
 * the old buffer (realloc would free it unwiped: it holds hashes). */
static int read_whole(int fd, off_t hint, size_t cap, char **ret, size_t *ret_len)
{
	size_t size = hint > 0 && (unsigned long long)hint < cap ? (size_t)hint + 1 : 4096;
	size_t len = 0;
	char *buf;
	int r;

	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t k;

		if (len == size) {
			size_t nsize = size > cap / 2 ? cap + 1 : size * 2;
			char *nbuf;

			nbuf = malloc(nsize);
			if (!nbuf) {
				r = -ENOMEM;
				goto fail;
			}
			memcpy(nbuf, buf, len);
			sspr_wipe(buf, len);
			free(buf);
			buf = nbuf;
			size = nsize;
		}
		k = read(fd, buf + len, size - len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto fail;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > cap) {
			r = -SSPR_E_TOO_LONG;
			goto fail;
		}
	}
	*ret = buf;
	*ret_len = len;
	return 0;
fail:
	sspr_wipe(buf, len);
	free(buf);
	return r;
}

static void free_text(char *p, size_t len)
{
	if (p) {
		sspr_wipe(p, len);
		free(p);
	}
}

/* Open etcdir/shadow read-only and read it.  O_NONBLOCK so that a FIFO in
 * its place cannot hang us; fstat then refuses anything not regular. */
static int read_shadow(int dirfd, struct stat *ret_st, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int r, cfd;

	fd = openat(dirfd, SHADOW_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -SSPR_E_UNSAFE_FILE;
	r = read_whole(fd, st.st_size, SSPR_SHADOW_MAX, &text, &len);
	if (r < 0)
		return r;
	cfd = fd;
	fd = -1;
	if (close(cfd) < 0) {
		free_text(text, len);
		return -errno;
	}
	*ret_st = st;
	*ret = text;
	*ret_len = len;
	return 0;
}

int sspr_shadow_lookup(const char *etcdir, const char *user, struct sspr_shadow_info *ret)
{
	_cleanup_close_ int dirfd = -1;
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int r;

	if (!etcdir || !user_ok(user) || !ret)
		return -EINVAL;
	dirfd = open(etcdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	r = read_shadow(dirfd, &st, &text, &len);
	if (r < 0)
		return r;
	r = sspr_shadow_find(text, len, user, ret);
	free_text(text, len);
	return r;
}

static long elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) < 0)
		return LONG_MAX; /* cannot tell: treat as timed out */
	return (now.tv_sec - start->tv_sec) * 1000L +
	       (now.tv_nsec - start->tv_nsec) / 1000000L;
}

/* lckpwdf() compatible: a whole-file fcntl write lock on etcdir/.pwd.lock.
 * glibc blocks in F_SETLKW under a 15 s alarm(); a library must not touch
 * SIGALRM, so poll with F_SETLK instead, bounded the same way.  The lock
 * lasts until *ret_fd is closed.  (fcntl locks belong to the process: a
 * caller that already holds lckpwdf() would get it again here, and lose
 * it when we close.) */
static int lock_pwdf(int dirfd, unsigned timeout_ms, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct timespec start;
	struct stat st;

	fd = openat(dirfd, LOCK_NAME, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -SSPR_E_UNSAFE_FILE;
	if (clock_gettime(CLOCK_MONOTONIC, &start) < 0)
		return -errno;
	for (;;) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		struct timespec pause = { 0, LOCK_RETRY_MS * 1000000L };

		if (fcntl(fd, F_SETLK, &fl) == 0)
			break;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return -errno;
		if (elapsed_ms(&start) >= (long)timeout_ms)
			return -SSPR_E_LOCK_TIMEOUT;
		(void)nanosleep(&pause, NULL); /* EINTR only shortens the pause */
	}
	*ret_fd = fd;
	fd = -1;
	return 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Remove what a crashed run of ours left behind.  Safe because every
 * writer of these names holds the lock we hold now. */
static int remove_stale(int dirfd)
{
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				r = -errno;
			break;
		}
		if (!has_prefix(de->d_name, TMP_PREFIX) && !has_prefix(de->d_name, BAK_PREFIX))
			continue;
		if (unlinkat(dirfd, de->d_name, 0) < 0 && errno != ENOENT) {
			r = -errno;
			break;
		}
	}
	if (closedir(d) < 0 && r == 0)
		r = -errno;
	return r;
}

/* prefix + 32 random hex digits: a name nobody can guess in advance. */
static void random_name(char *buf, size_t size, const char *prefix)
{
	unsigned char rnd[RAND_BYTES];
	char hex[2 * RAND_BYTES + 1];

	randombytes_buf(rnd, sizeof rnd);
	(void)sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
	(void)snprintf(buf, size, "%s%s", prefix, hex);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Create the new file under an unpredictable name with the old file's
 * owner, group and mode, write it whole and fsync it.  On failure the
 * temporary file is already removed. */
static int write_temp(int dirfd, const struct stat *old, const char *text, size_t len,
                      char *name, size_t namesize)
{
	struct stat st;
	int fd, r;

	random_name(name, namesize, TMP_PREFIX);
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		goto fail_errno;
	/* Owner first: fchown clears set-id bits that fchmod then restores.
	 * Skip what already matches, so a non-root caller who owns the file
	 * does not fail with EPERM on a no-op. */
	if ((st.st_uid != old->st_uid || st.st_gid != old->st_gid) &&
	    fchown(fd, st.st_uid != old->st_uid ? old->st_uid : (uid_t)-1,
	           st.st_gid != old->st_gid ? old->st_gid : (gid_t)-1) < 0)
		goto fail_errno;
	if (fchmod(fd, old->st_mode & 07777) < 0)
		goto fail_errno;
	r = write_all(fd, text, len);
	if (r < 0)
		goto fail;
	if (fsync(fd) < 0)
		goto fail_errno;
	r = close(fd);
	fd = -1;
	if (r < 0)
		goto fail_errno;
	return 0;

fail_errno:
	r = -errno;
fail:
	if (fd >= 0)
		(void)close(fd);
	(void)unlinkat(dirfd, name, 0);
	return r;
}

/* shadow- becomes the old file itself: a hard link under a temporary name
 * renamed over shadow-, so there is no copy and no window where shadow-
 * is truncated or missing.  The link must be the inode we read. */
static int make_backup(int dirfd, const struct stat *old)
{
	char name[NAME_MAX_LEN];
	struct stat st;
	int r;

	random_name(name, sizeof name, BAK_PREFIX);
	if (linkat(dirfd, SHADOW_NAME, dirfd, name, 0) < 0)
		return -errno;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		goto fail;
	}
	if (st.st_dev != old->st_dev || st.st_ino != old->st_ino) {
		r = -EBUSY; /* shadow was replaced behind the lock's back */
		goto fail;
	}
	if (renameat(dirfd, name, dirfd, BACKUP_NAME) < 0) {
		r = -errno;
		goto fail;
	}
	return 0;
fail:
	(void)unlinkat(dirfd, name, 0);
	return r;
}

/* Everything done while holding the lock. */
static int update_locked(int dirfd, const char *user, const char *hash, long today)
{
	struct sspr_shadow_info info;
	char tmpname[NAME_MAX_LEN];
	char *old = NULL, *new = NULL;
	size_t oldlen = 0, newlen = 0;
	bool tmp_made = false;
	struct stat st;
	int r;

	r = remove_stale(dirfd);
	if (r < 0)
		return r;
	r = read_shadow(dirfd, &st, &old, &oldlen);
	if (r < 0)
		return r;

	/* Refuse, line unchanged, what a reset must not revive. */
	r = sspr_shadow_find(old, oldlen, user, &info);
	if (r == 0)
		r = sspr_shadow_check(&info, today);
	sspr_wipe(&info, sizeof info);
	if (r < 0)
		goto out;

	r = sspr_shadow_edit(old, oldlen, user, hash, today, &new, &newlen);
	if (r < 0)
		goto out;
	r = write_temp(dirfd, &st, new, newlen, tmpname, sizeof tmpname);
	if (r < 0)
		goto out;
	tmp_made = true;
	r = make_backup(dirfd, &st);
	if (r < 0)
		goto out;
	/* The switch: before it the old file is in place, after it the new. */
	if (renameat(dirfd, tmpname, dirfd, SHADOW_NAME) < 0) {
		r = -errno;
		goto out;
	}
	tmp_made = false;
	/* The new file is in place; only its durability is in doubt. */
	r = fsync(dirfd) < 0 ? -SSPR_E_NOT_DURABLE : 0;

out:
	if (tmp_made)
		(void)unlinkat(dirfd, tmpname, 0);
	free_text(old, oldlen);
	free_text(new, newlen);
	return r;
}

/* Run a cache flush command as passwd(1) does: fixed path, no shell, empty
 * environment, stdio on /dev/null, default signals.  Failure is ignored:
 * the daemon may simply not be running. */
static void run_quietly(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char *const envp[] = { NULL };
	sigset_t none, all;
	pid_t pid;
	int status;

	if (access(argv[0], X_OK) < 0)
		return;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return;
	if (posix_spawnattr_init(&attr) != 0) {
		(void)posix_spawn_file_actions_destroy(&fa);
		return;
	}
	(void)sigemptyset(&none);
	(void)sigfillset(&all);
	(void)sigdelset(&all, SIGKILL);
	(void)sigdelset(&all, SIGSTOP);
	if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) == 0 &&
	    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) == 0 &&
	    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0) == 0 &&
	    posix_spawnattr_setsigmask(&attr, &none) == 0 &&
	    posix_spawnattr_setsigdefault(&attr, &all) == 0 &&
	    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) == 0 &&
	    posix_spawn(&pid, argv[0], &fa, &attr, argv, envp) == 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	(void)posix_spawnattr_destroy(&attr);
	(void)posix_spawn_file_actions_destroy(&fa);
}

/* What passwd(1) flushes after writing: nscd's and sssd's passwd caches
 * (nscd has no shadow database; the passwd one holds the entries). */
static void flush_caches(void)
{
	char *nscd[] = { "/usr/sbin/nscd", "-i", "passwd", NULL };
	char *sss[] = { "/usr/sbin/sss_cache", "-U", NULL };

	run_quietly(nscd);
	run_quietly(sss);
}

int sspr_shadow_update_timeout(const char *etcdir, const char *user, const char *hash,
                               long today, unsigned lock_timeout_ms)
{
	_cleanup_close_ int dirfd = -1;
	int lockfd = -1, r;

	if (!etcdir || !user_ok(user) || today <= 0 || today > INT_MAX)
		return -EINVAL;
	if (!sspr_crypt_alphabet_ok(hash))
		return -SSPR_E_BAD_HASH;
	if (sodium_init() < 0)
		return -EIO;
	dirfd = open(etcdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	r = lock_pwdf(dirfd, lock_timeout_ms, &lockfd);
	if (r < 0)
		return r;
	r = update_locked(dirfd, user, hash, today);
	/* Closing the lock file releases the lock; an error there changes
	 * nothing of what was written. */
	(void)close(lockfd);
	/* Flush only for the real /etc, and not while holding the lock. */
	if ((r == 0 || r == -SSPR_E_NOT_DURABLE) && strcmp(etcdir, "/etc") == 0)
		flush_caches();
	return r;
}

int sspr_shadow_update(const char *etcdir, const char *user, const char *hash,
                       long today)
{
	return sspr_shadow_update_timeout(etcdir, user, hash, today,
	                                  SSPR_SHADOW_LOCK_TIMEOUT_MS);
}
