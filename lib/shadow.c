/* SPDX-License-Identifier: BSD-2-Clause */
/* The shadow file (SPEC section 3): a pure parser and editor of its text,
 * the account checks pam_unix applies, and the locked, atomic rewrite.
 *
 * The editor works on bytes, not on parsed entries: every line but the
 * target ones, and every byte of a target line but the fields it changes,
 * is copied as it is, so comments, NIS lines, CRLF endings and odd lines
 * that fgetspent() would drop or normalise all survive a reset.  An edit
 * is a "plan": a few replaced byte ranges of the old text.  The pure
 * functions materialise it; the rewrite writes it straight from the old
 * file, mapped, with writev(): one pass to find the line, one write of
 * the new file, no copy of the text on our heap, whatever its size. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include "sspr-build.h"
#include "sspr/common.h"
#include "sspr/shadow.h"

#if defined(HAVE_SELINUX) && HAVE_SELINUX
#include <selinux/selinux.h>
#endif

#define SHADOW_FIELDS 9
#define SHADOW_NAME "shadow"
#define BACKUP_NAME "shadow-"
#define LOCK_NAME ".pwd.lock"          /* lckpwdf()'s lock file */
#define TMP_PREFIX ".sspr-shadow."     /* new file before the rename */
#define BAK_PREFIX ".sspr-shadow-bak." /* old file's link before it becomes shadow- */
#define RAND_BYTES 16                  /* 128 bits of name: unpredictable */
#define NAME_MAX_LEN (sizeof(BAK_PREFIX) + 2 * RAND_BYTES)
#define LOCK_RETRY_MIN_MS 1
#define LOCK_RETRY_MAX_MS 10
#define IOV_BATCH 64

/* A byte range inside the text. */
struct span {
	size_t off, len;
};

/* One replaced range of the old text: text[off, off + len) becomes
 * data[0, dlen). */
struct repl {
	size_t off, len;
	const char *data;
	size_t dlen;
};

/* An edit of the old text: replacements sorted by offset, not
 * overlapping.  `one` and `mid` hold the single replacement of a reset
 * (the new hash: wipe_plan() wipes it); a batch allocates `repl`. */
struct plan {
	struct repl *repl;
	size_t n;
	size_t newlen;
	bool allocated;
	struct repl one;
	char mid[SSPR_HASH_MAX + 24]; /* "HASH:DAYS" */
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

/* What we write as a hash: the crypt alphabet, and not a value that locks
 * the account or is crypt(3)'s failure token ("*0", "*1"). */
static bool hash_ok(const char *hash)
{
	return sspr_crypt_alphabet_ok(hash) && hash[0] != '*';
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

/* The next line from pos: its content (without "\n", and without a "\r"
 * just before that or just before the end of the text, so the line ending
 * is never part of a field) in *ret; returns the position after it. */
static size_t next_line(const char *text, size_t len, size_t pos, struct span *ret)
{
	const char *nl = memchr(text + pos, '\n', len - pos);
	size_t end = nl ? (size_t)(nl - text) : len;
	size_t cend = end;

	if (cend > pos && text[cend - 1] == '\r')
		cend--;
	ret->off = pos;
	ret->len = cend - pos;
	return end + 1;
}

/* Find the one line that names user: one memchr a line and a look at its
 * first byte.  (glibc's memmem of "\nuser:" is several times slower on a
 * shadow file, whose lines all start alike.) */
static int find_line(const char *text, size_t len, const char *user, struct span *ret)
{
	size_t ulen = strlen(user), pos = 0, found = 0;
	struct span hit = { 0, 0 };

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;

		if (end - pos > ulen && text[pos] == user[0] && text[pos + ulen] == ':' &&
		    memcmp(text + pos, user, ulen) == 0) {
			if (++found > 1)
				return -SSPR_E_DUP_LINE;
			(void)next_line(text, len, pos, &hit);
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

/* Parse a line into *ret (which the caller wipes), and its fields into f. */
static int parse_line(const char *text, struct span line, struct sspr_shadow_info *ret,
                      struct span f[SHADOW_FIELDS])
{
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
	struct span line, f[SHADOW_FIELDS];
	int r;

	if ((!text && len) || !user_ok(user) || !ret)
		return -EINVAL;
	r = find_line(text, len, user, &line);
	if (r < 0)
		return r;
	r = parse_line(text, line, &info, f);
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

/* ---- plans ------------------------------------------------------------ */

static void plan_free(struct plan *p)
{
	if (p->allocated)
		free(p->repl);
	sspr_wipe(p, sizeof *p);
}

/* The plan of a reset: the user's fields 2 and 3 become hash and today.
 * With check, refuse what sspr_shadow_check refuses. */
static int plan_update(const char *text, size_t len, const char *user, const char *hash,
                       long today, bool check, struct plan *ret)
{
	struct sspr_shadow_info info;
	struct span line, f[SHADOW_FIELDS];
	size_t hlen = strlen(hash);
	int r, dlen;

	r = find_line(text, len, user, &line);
	if (r < 0)
		return r;
	/* The whole target line must be well formed, not only fields 2-3. */
	r = parse_line(text, line, &info, f);
	if (r == 0 && check)
		r = sspr_shadow_check(&info, today);
	sspr_wipe(&info, sizeof info);
	if (r < 0)
		return r;

	memset(ret, 0, sizeof *ret);
	memcpy(ret->mid, hash, hlen);
	dlen = snprintf(ret->mid + hlen, sizeof ret->mid - hlen, ":%ld", today);
	if (dlen < 0 || (size_t)dlen >= sizeof ret->mid - hlen)
		return -EINVAL; /* cannot happen: hash and today are bounded */
	ret->one.off = f[1].off;
	ret->one.len = f[2].off + f[2].len - f[1].off; /* "HASH:LASTCHG" */
	ret->one.data = ret->mid;
	ret->one.dlen = hlen + (size_t)dlen;
	ret->repl = &ret->one;
	ret->n = 1;
	ret->newlen = len - ret->one.len + ret->one.dlen;
	return 0;
}

/* Compare a name given as (p, n) with a C string, as strcmp orders them. */
static int cmp_name(const char *p, size_t n, const char *s)
{
	size_t sl = strlen(s);
	int c = memcmp(p, s, n < sl ? n : sl);

	return c ? c : (n > sl) - (n < sl);
}

/* qsort_r order of indexes into the users array (arg). */
static int cmp_index(const void *a, const void *b, void *arg)
{
	const char *const *users = arg;

	return strcmp(users[*(const size_t *)a], users[*(const size_t *)b]);
}

static int cmp_repl(const void *a, const void *b)
{
	const struct repl *x = a, *y = b;

	return (x->off > y->off) - (x->off < y->off);
}

/* Where in the sorted, de-duplicated names (p, n) is, or -1. */
static long lookup_name(const char *const *users, const size_t *order, size_t nu,
                        const char *p, size_t n)
{
	size_t lo = 0, hi = nu;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_name(p, n, users[order[mid]]);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* The plan of an expire batch: field 3 of every listed user's line becomes
 * "0".  One pass over the text, a binary search per line.  Each listed
 * user (a name listed twice counts once) needs exactly one well-formed
 * line; else nothing is planned, and *ret_bad names the first offender in
 * the order of users. */
static int plan_expire(const char *text, size_t len, const char *const *users, size_t n,
                       struct plan *ret, size_t *ret_bad)
{
	_cleanup_free_ size_t *order = NULL, *count = NULL;
	_cleanup_free_ struct span *line = NULL, *field = NULL;
	struct repl *repl = NULL;
	size_t nu = 0, pos = 0, newlen = len;
	int r;

	if (n == 0 || n > SIZE_MAX / sizeof(struct span))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!user_ok(users[i])) {
			if (ret_bad)
				*ret_bad = i;
			return -EINVAL;
		}
	order = malloc(n * sizeof *order);
	count = calloc(n, sizeof *count);
	line = calloc(n, sizeof *line);
	field = calloc(n, sizeof *field);
	if (!order || !count || !line || !field)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof *order, cmp_index, (void *)(uintptr_t)users);
	/* de-duplicate the sorted names in place */
	for (size_t i = 0; i < n; i++)
		if (nu == 0 || strcmp(users[order[i]], users[order[nu - 1]]) != 0)
			order[nu++] = order[i];

	while (pos < len) {
		struct span l;
		const char *colon;
		long k;

		pos = next_line(text, len, pos, &l);
		colon = memchr(text + l.off, ':', l.len);
		if (!colon || colon == text + l.off)
			continue;
		k = lookup_name(users, order, nu, text + l.off, (size_t)(colon - (text + l.off)));
		if (k < 0)
			continue;
		if (count[k]++ == 0)
			line[k] = l;
	}
	/* Refuse in the caller's order: the first bad name is the one named. */
	for (size_t i = 0; i < n; i++) {
		long k = lookup_name(users, order, nu, users[i], strlen(users[i]));

		r = count[k] == 0 ? -SSPR_E_NO_LINE : count[k] > 1 ? -SSPR_E_DUP_LINE : 0;
		if (r == 0 && !field[k].off) {
			struct sspr_shadow_info info;
			struct span f[SHADOW_FIELDS];

			r = parse_line(text, line[k], &info, f);
			sspr_wipe(&info, sizeof info);
			field[k] = f[2]; /* lastchg: never at offset 0 ("u:h:") */
		}
		if (r < 0) {
			if (ret_bad)
				*ret_bad = i;
			return r;
		}
	}

	repl = calloc(nu, sizeof *repl);
	if (!repl)
		return -ENOMEM;
	for (size_t k = 0; k < nu; k++) {
		repl[k].off = field[k].off;
		repl[k].len = field[k].len;
		repl[k].data = "0";
		repl[k].dlen = 1;
		newlen = newlen - repl[k].len + 1;
	}
	qsort(repl, nu, sizeof *repl, cmp_repl);
	memset(ret, 0, sizeof *ret);
	ret->repl = repl;
	ret->n = nu;
	ret->allocated = true;
	ret->newlen = newlen;
	return 0;
}

/* Segment i of the new text: even i = 2k is the old text between
 * replacement k-1 and k (after the last one for k = n), odd i = 2k+1 is
 * replacement k's data.  There are 2n+1 segments.  (iovec has no const:
 * the casts only feed writev and memcpy.) */
static struct iovec segment(const char *text, size_t len, const struct plan *p, size_t i)
{
	size_t k = i / 2;

	if (i % 2) {
		return (struct iovec){ (void *)(uintptr_t)p->repl[k].data, p->repl[k].dlen };
	} else {
		size_t from = k ? p->repl[k - 1].off + p->repl[k - 1].len : 0;
		size_t to = k < p->n ? p->repl[k].off : len;

		return (struct iovec){ (void *)(uintptr_t)(text + from), to - from };
	}
}

/* The new text in one malloc'd buffer (for the pure editors). */
static int materialise(const char *text, size_t len, const struct plan *p, char **ret,
                       size_t *ret_len)
{
	char *out = malloc(p->newlen ? p->newlen : 1), *q;

	if (!out)
		return -ENOMEM;
	q = out;
	for (size_t i = 0; i < 2 * p->n + 1; i++) {
		struct iovec v = segment(text, len, p, i);

		if (v.iov_len)
			memcpy(q, v.iov_base, v.iov_len);
		q += v.iov_len;
	}
	*ret = out;
	*ret_len = p->newlen;
	return 0;
}

int sspr_shadow_edit(const char *text, size_t len, const char *user,
                     const char *hash, long today, char **ret, size_t *ret_len)
{
	struct plan p;
	int r;

	if ((!text && len) || !user_ok(user) || !ret || !ret_len)
		return -EINVAL;
	/* Today as a day count; day 0 would read as "must change password". */
	if (today <= 0 || today > INT_MAX)
		return -EINVAL;
	if (!hash_ok(hash))
		return -SSPR_E_BAD_HASH;
	r = plan_update(text, len, user, hash, today, false, &p);
	if (r < 0)
		return r;
	r = materialise(text, len, &p, ret, ret_len);
	plan_free(&p);
	return r;
}

int sspr_shadow_edit_expire(const char *text, size_t len, const char *const *users, size_t n,
                            char **ret, size_t *ret_len, size_t *ret_bad)
{
	struct plan p;
	int r;

	if ((!text && len) || !users || !ret || !ret_len)
		return -EINVAL;
	r = plan_expire(text, len, users, n, &p, ret_bad);
	if (r < 0)
		return r;
	r = materialise(text, len, &p, ret, ret_len);
	plan_free(&p);
	return r;
}

/* ---- files ------------------------------------------------------------ */

/* Read a whole regular file, at most cap bytes.  Sized by fstat, so one
 * read and one to see the end; growing (a file that grew) copies and wipes
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

/* The old text: the file mapped (the usual case: no copy on our heap,
 * nothing to wipe), or read into a buffer where it cannot be mapped. */
struct text {
	char *p;
	size_t len;
	bool mapped;
};

static void free_text(struct text *t)
{
	if (t->mapped)
		(void)munmap(t->p, t->len);
	else if (t->p) {
		sspr_wipe(t->p, t->len);
		free(t->p);
	}
	t->p = NULL;
}

/* Open etcdir/shadow read-only and map or read it.  O_NONBLOCK so that a
 * FIFO in its place cannot hang us; fstat then refuses anything not
 * regular.  The mapping is private and read-only; shadow is never changed
 * in place by a writer that holds the lock (all of them write a new file
 * and rename it), so the mapping holds still while we hold the lock.  With
 * ret_fd the file stays open for the caller (its SELinux context). */
static int read_shadow(int dirfd, struct stat *ret_st, struct text *ret, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct text t = { NULL, 0, false };
	struct stat st = { 0 }; /* zeroed for gcc -fanalyzer (see rewrite_locked) */
	int r, cfd;

	fd = openat(dirfd, SHADOW_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -SSPR_E_UNSAFE_FILE;
	if (st.st_size > SSPR_SHADOW_MAX)
		return -SSPR_E_TOO_LONG;
	if (st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);

		if (m != MAP_FAILED) {
			t.p = m;
			t.len = (size_t)st.st_size;
			t.mapped = true;
		}
	}
	if (!t.mapped) {
		r = read_whole(fd, st.st_size, SSPR_SHADOW_MAX, &t.p, &t.len);
		if (r < 0)
			return r;
	}
	cfd = fd;
	fd = -1;
	if (ret_fd) {
		*ret_fd = cfd;
	} else if (close(cfd) < 0) {
		r = -errno;
		free_text(&t);
		return r;
	}
	*ret_st = st;
	*ret = t;
	return 0;
}

int sspr_shadow_lookup(const char *etcdir, const char *user, struct sspr_shadow_info *ret)
{
	_cleanup_close_ int dirfd = -1;
	struct text t;
	struct stat st;
	int r;

	if (!etcdir || !user_ok(user) || !ret)
		return -EINVAL;
	dirfd = open(etcdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	r = read_shadow(dirfd, &st, &t, NULL);
	if (r < 0)
		return r;
	r = sspr_shadow_find(t.p, t.len, user, ret);
	free_text(&t);
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

struct lock_wait {
	int fd;
	int result; /* written by the thread, read after the join */
};

/* Block in F_SETLKW: the kernel queues us with lckpwdf()'s other callers. */
static void *lock_wait_thread(void *arg)
{
	struct lock_wait *w = arg;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int r;

	do
		r = fcntl(w->fd, F_SETLKW, &fl);
	while (r < 0 && errno == EINTR);
	w->result = r < 0 ? -errno : 0;
	return NULL;
}

/* Wait for the lock in F_SETLKW, at most timeout_ms.  The wait happens in
 * a thread that is cancelled at the deadline (F_SETLKW is a cancellation
 * point), because a library may not use alarm() and SIGALRM as glibc's
 * lckpwdf() does.  fcntl locks belong to the process, so the lock the
 * thread takes is ours.  Returns 0, -SSPR_E_LOCK_TIMEOUT, a negative errno
 * of fcntl, or -EAGAIN when no thread could be made (then poll). */
static int wait_lock(int fd, unsigned timeout_ms)
{
	struct lock_wait w = { fd, -SSPR_E_LOCK_TIMEOUT };
	struct timespec deadline;
	pthread_t t;
	int e;

	if (clock_gettime(CLOCK_MONOTONIC, &deadline) < 0)
		return -errno;
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	e = pthread_create(&t, NULL, lock_wait_thread, &w);
	if (e != 0)
		return -EAGAIN;
	e = pthread_clockjoin_np(t, NULL, CLOCK_MONOTONIC, &deadline);
	if (e != 0) {
		/* Timed out.  If the lock came just now, w.result says so and
		 * we keep it; else the thread ends inside F_SETLKW. */
		(void)pthread_cancel(t);
		(void)pthread_join(t, NULL);
	}
	return w.result;
}

/* The fallback when no thread can be made: poll with F_SETLK, first every
 * millisecond, then backing off to every 10, bounded the same way. */
static int poll_lock(int fd, unsigned timeout_ms)
{
	struct timespec start;
	long pause_ms = LOCK_RETRY_MIN_MS;

	if (clock_gettime(CLOCK_MONOTONIC, &start) < 0)
		return -errno;
	for (;;) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		struct timespec pause = { 0, pause_ms * 1000000L };

		if (fcntl(fd, F_SETLK, &fl) == 0)
			return 0;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return -errno;
		if (elapsed_ms(&start) >= (long)timeout_ms)
			return -SSPR_E_LOCK_TIMEOUT;
		(void)nanosleep(&pause, NULL); /* EINTR only shortens the pause */
		if (pause_ms < LOCK_RETRY_MAX_MS)
			pause_ms++;
	}
}

/* lckpwdf() compatible: a whole-file fcntl write lock on etcdir/.pwd.lock,
 * taken at once when free, else waited for in the kernel's queue as
 * lckpwdf() waits (a poller would lose every race to passwd, chpasswd and
 * usermod blocked in F_SETLKW), bounded by timeout_ms.  The lock lasts
 * until *ret_fd is closed.  (fcntl locks belong to the process: a caller
 * that already holds lckpwdf() would get it again here, and lose it when
 * we close.) */
static int lock_pwdf(int dirfd, unsigned timeout_ms, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	fd = openat(dirfd, LOCK_NAME, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -SSPR_E_UNSAFE_FILE;
	for (;;) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

		if (fcntl(fd, F_SETLK, &fl) == 0) {
			r = 0;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EACCES)
			return -errno;
		if (timeout_ms == 0)
			return -SSPR_E_LOCK_TIMEOUT;
		r = wait_lock(fd, timeout_ms);
		if (r == -EAGAIN)
			r = poll_lock(fd, timeout_ms);
		break;
	}
	if (r < 0)
		return r;
	*ret_fd = fd;
	fd = -1;
	return 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Remove what a crashed run of ours left behind: a temporary new file, or
 * a link to an old shadow that never became shadow-.  Safe because every
 * writer of these names holds the lock we hold now.  getdents64 on dirfd
 * itself (fresh, used for *at calls only): no second open, no DIR. */
static int remove_stale(int dirfd)
{
	char buf[8192] __attribute__((aligned(8)));

	for (;;) {
		ssize_t n = getdents64(dirfd, buf, sizeof buf);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return 0;
		for (ssize_t off = 0; off < n;) {
			const struct dirent64 *de = (const struct dirent64 *)(void *)(buf + off);

			off += de->d_reclen;
			if (!has_prefix(de->d_name, TMP_PREFIX) && !has_prefix(de->d_name, BAK_PREFIX))
				continue;
			if (unlinkat(dirfd, de->d_name, 0) < 0 && errno != ENOENT)
				return -errno;
		}
	}
}

/* Random bytes from getrandom() itself, not libsodium's wrapper, which
 * aborts on an error. */
static int get_random(unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t k = getrandom(buf + got, len - got, 0);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)k;
	}
	return 0;
}

/* prefix + 32 hex digits of rnd: a name nobody can guess in advance. */
static void random_name(char *buf, size_t size, const char *prefix,
                        const unsigned char rnd[RAND_BYTES])
{
	static const char hex[] = "0123456789abcdef";
	char digits[2 * RAND_BYTES + 1];

	for (size_t i = 0; i < RAND_BYTES; i++) {
		digits[2 * i] = hex[rnd[i] >> 4];
		digits[2 * i + 1] = hex[rnd[i] & 15];
	}
	digits[sizeof digits - 1] = '\0';
	(void)snprintf(buf, size, "%s%s", prefix, digits);
}

/* Write iov[0..cnt) whole, over short writes and EINTR. */
static int writev_all(int fd, struct iovec *iov, int cnt)
{
	while (cnt > 0) {
		ssize_t k = writev(fd, iov, cnt);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -EIO;
		while (cnt > 0 && (size_t)k >= iov->iov_len) {
			k -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + k;
			iov->iov_len -= (size_t)k;
		}
	}
	return 0;
}

/* Write the planned new text: the old text's ranges and the replacements,
 * IOV_BATCH segments a writev. */
static int write_plan(int fd, const char *text, size_t len, const struct plan *p)
{
	struct iovec iov[IOV_BATCH];
	int cnt = 0, r;

	for (size_t i = 0; i < 2 * p->n + 1; i++) {
		struct iovec v = segment(text, len, p, i);

		if (v.iov_len == 0)
			continue;
		iov[cnt++] = v;
		if (cnt == IOV_BATCH) {
			r = writev_all(fd, iov, cnt);
			if (r < 0)
				return r;
			cnt = 0;
		}
	}
	return writev_all(fd, iov, cnt);
}

/* A file over RLIMIT_FSIZE would be cut short and the process sent
 * SIGXFSZ, whose default kills it: refuse cleanly before writing. */
static int check_fsize(size_t len)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_FSIZE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur != RLIM_INFINITY && (unsigned long long)len > rl.rlim_cur)
		return -EFBIG;
	return 0;
}

/* The new file gets the old one's SELinux context (where SELinux is on),
 * as shadow-utils and pam_unix give theirs; a file system without labels
 * is no error. */
static int copy_context(int oldfd, int newfd)
{
#if defined(HAVE_SELINUX) && HAVE_SELINUX
	char *con = NULL;
	int r = 0;

	if (oldfd < 0 || is_selinux_enabled() <= 0)
		return 0;
	if (fgetfilecon_raw(oldfd, &con) < 0)
		return errno == ENOTSUP || errno == ENODATA ? 0 : -errno;
	if (fsetfilecon_raw(newfd, con) < 0)
		r = -errno;
	freecon(con);
	return r;
#else
	(void)oldfd;
	(void)newfd;
	return 0;
#endif
}

/* Create the new file under its unpredictable name with the old file's
 * owner, group, mode and SELinux context, write it whole and fsync it.
 * On failure the temporary file is already removed. */
static int write_temp(int dirfd, int oldfd, const struct stat *old, const char *text,
                      size_t len, const struct plan *p, const char *name)
{
	struct stat st;
	int fd, r;

	r = check_fsize(p->newlen);
	if (r < 0)
		return r;
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
	r = copy_context(oldfd, fd);
	if (r < 0)
		goto fail;
	r = write_plan(fd, text, len, p);
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

/* shadow- must be something a rename can replace.  *ret_st is its stat,
 * st_nlink 0 when there is none. */
static int check_backup_slot(int dirfd, struct stat *ret_st)
{
	if (fstatat(dirfd, BACKUP_NAME, ret_st, AT_SYMLINK_NOFOLLOW) < 0) {
		memset(ret_st, 0, sizeof *ret_st);
		return errno == ENOENT ? 0 : -errno;
	}
	return S_ISDIR(ret_st->st_mode) ? -SSPR_E_UNSAFE_FILE : 0;
}

/* Link the old file under its temporary name, and check that the link is
 * the inode we read (shadow was not replaced behind the lock's back). */
static int link_old(int dirfd, const struct stat *old, const char *name)
{
	struct stat st;
	int r;

	if (linkat(dirfd, SHADOW_NAME, dirfd, name, 0) < 0)
		return -errno;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		goto fail;
	}
	if (st.st_dev != old->st_dev || st.st_ino != old->st_ino) {
		r = -EBUSY;
		goto fail;
	}
	return 0;
fail:
	(void)unlinkat(dirfd, name, 0);
	return r;
}

typedef int (*plan_fn)(const char *text, size_t len, const void *ctx, struct plan *ret);

/* Everything done while holding the lock.  The order is what makes every
 * instant safe:
 *   1. remove stale temporaries; read shadow; plan the edit (refusals);
 *   2. write the new file under a temporary name, fsync it;
 *   3. hard-link the old file under a temporary name;
 *   4. rename the new file over shadow: the switch;
 *   5. rename the old file's link over shadow-;
 *   6. fsync the directory.
 * Before 4 shadow is the old file, after it the new one.  After a run of
 * ours, even one cut short between any two steps, shadow and shadow- are
 * not one inode: shadow-utils opens shadow- with O_TRUNC to write its
 * backup, and would truncate shadow itself if they were (so the backup
 * link is made before the switch but put in place only after it).  A
 * crash between 4 and 5 leaves the previous shadow- and a stale link,
 * removed next time. */
static int rewrite_locked(int dirfd, plan_fn fn, const void *ctx)
{
	_cleanup_close_ int oldfd = -1;
	char tmpname[NAME_MAX_LEN], bakname[NAME_MAX_LEN];
	unsigned char rnd[2 * RAND_BYTES];
	struct plan p = { 0 };
	bool tmp_made = false, bak_made = false, bak_is_old;
	struct text old = { NULL, 0, false };
	/* zeroed only for gcc -fanalyzer, which does not see fstat fill it */
	struct stat st = { 0 }, bst;
	int r;

	r = remove_stale(dirfd);
	if (r < 0)
		return r;
	r = check_backup_slot(dirfd, &bst);
	if (r < 0)
		return r;
	r = read_shadow(dirfd, &st, &old, &oldfd);
	if (r < 0)
		return r;
	/* shadow- a second name of shadow (a crash of an older writer, or a
	 * hand-made link): renaming our link over it will do nothing (POSIX:
	 * same file), so the link is removed by name after. */
	bak_is_old = bst.st_nlink && bst.st_dev == st.st_dev && bst.st_ino == st.st_ino;
	r = fn(old.p, old.len, ctx, &p);
	if (r < 0)
		goto out;
	r = get_random(rnd, sizeof rnd);
	if (r < 0)
		goto out;
	random_name(tmpname, sizeof tmpname, TMP_PREFIX, rnd);
	random_name(bakname, sizeof bakname, BAK_PREFIX, rnd + RAND_BYTES);
	r = write_temp(dirfd, oldfd, &st, old.p, old.len, &p, tmpname);
	if (r < 0)
		goto out;
	tmp_made = true;
	r = link_old(dirfd, &st, bakname);
	if (r < 0)
		goto out;
	bak_made = true;
	/* The switch: before it the old file is in place, after it the new. */
	if (renameat(dirfd, tmpname, dirfd, SHADOW_NAME) < 0) {
		r = -errno;
		goto out;
	}
	tmp_made = false;
	/* The new file is in place; from here on only the backup and the
	 * durability are in doubt, and the result is a success. */
	r = 0;
	if (renameat(dirfd, bakname, dirfd, BACKUP_NAME) < 0) {
		r = -SSPR_E_NOT_DURABLE;
	} else {
		bak_made = bak_is_old; /* the rename left the name: remove it */
		if (bak_made && unlinkat(dirfd, bakname, 0) == 0)
			bak_made = false;
	}
	if (fsync(dirfd) < 0)
		r = -SSPR_E_NOT_DURABLE;

out:
	if (tmp_made)
		(void)unlinkat(dirfd, tmpname, 0);
	if (bak_made)
		(void)unlinkat(dirfd, bakname, 0);
	plan_free(&p);
	free_text(&old);
	sspr_wipe(rnd, sizeof rnd);
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

/* ---- the rewrites ------------------------------------------------------ */

struct update_ctx {
	const char *user, *hash;
	long today;
};

static int plan_update_cb(const char *text, size_t len, const void *ctx, struct plan *ret)
{
	const struct update_ctx *c = ctx;

	return plan_update(text, len, c->user, c->hash, c->today, true, ret);
}

struct expire_ctx {
	const char *const *users;
	size_t n;
	size_t *ret_bad;
};

static int plan_expire_cb(const char *text, size_t len, const void *ctx, struct plan *ret)
{
	const struct expire_ctx *c = ctx;

	return plan_expire(text, len, c->users, c->n, ret, c->ret_bad);
}

/* Lock etcdir, rewrite shadow by plan, unlock, flush the caches. */
static int rewrite(const char *etcdir, unsigned lock_timeout_ms, plan_fn fn, const void *ctx)
{
	_cleanup_close_ int dirfd = -1;
	int lockfd = -1, r;

	dirfd = open(etcdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	r = lock_pwdf(dirfd, lock_timeout_ms, &lockfd);
	if (r < 0)
		return r;
	r = rewrite_locked(dirfd, fn, ctx);
	/* Closing the lock file releases the lock; an error there changes
	 * nothing of what was written. */
	(void)close(lockfd);
	/* Flush only for the real /etc, and not while holding the lock. */
	if ((r == 0 || r == -SSPR_E_NOT_DURABLE) && strcmp(etcdir, "/etc") == 0)
		flush_caches();
	return r;
}

int sspr_shadow_update_timeout(const char *etcdir, const char *user, const char *hash,
                               long today, unsigned lock_timeout_ms)
{
	const struct update_ctx c = { user, hash, today };

	if (!etcdir || !user_ok(user) || today <= 0 || today > INT_MAX)
		return -EINVAL;
	if (!hash_ok(hash))
		return -SSPR_E_BAD_HASH;
	return rewrite(etcdir, lock_timeout_ms, plan_update_cb, &c);
}

int sspr_shadow_update(const char *etcdir, const char *user, const char *hash,
                       long today)
{
	return sspr_shadow_update_timeout(etcdir, user, hash, today,
	                                  SSPR_SHADOW_LOCK_TIMEOUT_MS);
}

int sspr_shadow_expire(const char *etcdir, const char *const *users, size_t n,
                       size_t *ret_bad)
{
	const struct expire_ctx c = { users, n, ret_bad };

	if (!etcdir || !users || n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!user_ok(users[i])) {
			if (ret_bad)
				*ret_bad = i;
			return -EINVAL;
		}
	return rewrite(etcdir, SSPR_SHADOW_LOCK_TIMEOUT_MS, plan_expire_cb, &c);
}
