/* SPDX-License-Identifier: BSD-2-Clause */
/* Rate-limit tallies (SPEC sections 2, 4, 5).
 *
 * FILE LAYOUT (for sspr-helper(8))
 *
 * STATEDIR/tally/ (0700, owned by the helper's effective uid) holds one
 * file per key:
 *
 *   u-HEX     a name asked for (whether or not such an account exists);
 *             HEX is the lower-case hex of BLAKE2b-128 keyed with the
 *             32-byte host key (STATEDIR/hostkey) over "user\0" NAME
 *   s-HEX     a source (PAM_RHOST), the same hash over "source\0" RHOST
 *   global    reset sessions started host-wide (root callers)
 *   c-UID     reset sessions started by the non-root caller UID (decimal)
 *
 * Each file FILE has a companion FILE.lock (empty, 0600): every update of
 * FILE happens under an fcntl write lock on FILE.lock, taken with a bounded
 * wait (10 s), so different names never contend.  A lock file is removed
 * only while its lock is held, after FILE itself; whoever then gets the
 * lock of the removed inode notices and starts again.
 *
 * FILE FORMAT
 *
 * A regular file owned by the effective uid, mode 0600, one link, at most
 * SSPR_TALLY_MAX (16384) bytes.  Text, one "key value" line each, exactly
 * one space between key and value, every line (the last one too) ended
 * by "\n":
 *
 *     sspr-tally 1
 *     consecutive 7
 *     lockouts 1
 *     locked_until 1700001800
 *     hard_locked 0
 *     account 1
 *     last_seen 1700000900
 *     fail 1700000850 1700000850 1700000900
 *
 *   sspr-tally 1  first line, exactly; the number is the format version
 *   consecutive   failures since the last success, 0..4294967295
 *   lockouts      consecutive lockouts (the lock doubles with each one),
 *                 0..4294967295
 *   locked_until  the name is locked while now < locked_until; 0: never
 *   hard_locked   1: hard_deny was reached, only `sspr-cli unlock` helps
 *   account       1: the name matched an account when last written (the
 *                 oldest tallies with 0 are dropped first beyond
 *                 max_tallies)
 *   last_seen     time of the last write
 *   fail          the failure times within fail_interval, oldest first
 *                 (equal times allowed), at most SSPR_TALLY_TIMES_MAX (1000),
 *                 separated by one space; "fail" alone when there is none.
 *                 A lockout clears the list: the lock replaces it.
 *
 * Times are seconds since the epoch, 0..9223372036854775807.  After the
 * first line the keys may come in any order, each exactly once.  Numbers
 * are plain decimal digits without sign or leading zeros.  Source tallies
 * use only `fail` and `last_seen`; `global` and `c-UID` keep in `fail` the
 * start times of the sessions of the last 60 seconds.  Anything else (an
 * unknown, missing or duplicate key, a bad value, a blank line, a control
 * byte, a missing final "\n") makes the whole file invalid: the name (or
 * source, or host) is then refused, fail closed, until `sspr-cli unlock`
 * removes the file.
 *
 * Files are replaced atomically: a new file ".FILE.XXXXXXXX" (random hex)
 * is written, fsync'd and renamed over FILE, then the directory fsync'd. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "sspr/common.h"
#include "sspr/hostkey.h"
#include "sspr/ratelimit.h"
#include "sspr/statefile.h"

#define TALLY_MAGIC "sspr-tally 1"
#define TALLY_HASH_LEN 16          /* BLAKE2b-128 */
#define TALLY_NAME_MAX 48          /* "u-" + 32 hex, "c-4294967294", "global" */
#define TALLY_UID_MAX 4294967294LL
#define SESSION_WINDOW 60          /* seconds: rates are per minute */
#define LOCK_TIMEOUT_MS 10000
#define LOCK_POLL_NS (5 * 1000 * 1000)
#define LOCK_SUFFIX ".lock"

/* --- parser ------------------------------------------------------------- */

enum tally_key {
	T_CONSECUTIVE,
	T_LOCKOUTS,
	T_LOCKED_UNTIL,
	T_HARD_LOCKED,
	T_ACCOUNT,
	T_LAST_SEEN,
	T_FAIL,
	T__MAX,
};

static const char *const tally_key_names[T__MAX] = {
	[T_CONSECUTIVE] = "consecutive", [T_LOCKOUTS] = "lockouts",
	[T_LOCKED_UNTIL] = "locked_until", [T_HARD_LOCKED] = "hard_locked",
	[T_ACCOUNT] = "account",         [T_LAST_SEEN] = "last_seen",
	[T_FAIL] = "fail",
};

/* One canonical decimal number of len bytes (not NUL-terminated): digits
 * only, no sign, no leading zero, in [min, max]. */
static int parse_num(const char *s, size_t len, long long min, long long max,
                     long long *ret)
{
	char tok[24];
	size_t i;

	if (len == 0 || len >= sizeof tok || (s[0] == '0' && len > 1))
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
	memcpy(tok, s, len);
	tok[len] = '\0';
	return sspr_strtonum(tok, min, max, ret);
}

/* "T1 T2 ..." (len bytes, may be 0) into t->fail: single spaces between,
 * none around, ascending, at most SSPR_TALLY_TIMES_MAX. */
static int parse_fail_list(struct sspr_tally *t, const char *s, size_t len)
{
	size_t pos = 0;

	t->nfail = 0;
	if (len == 0)
		return 0;
	for (;;) {
		const char *sp = memchr(s + pos, ' ', len - pos);
		size_t tl = sp ? (size_t)(sp - (s + pos)) : len - pos;
		long long v;

		if (t->nfail >= SSPR_TALLY_TIMES_MAX)
			return -EINVAL;
		if (parse_num(s + pos, tl, 0, INT64_MAX, &v) < 0)
			return -EINVAL;
		if (t->nfail > 0 && v < t->fail[t->nfail - 1])
			return -EINVAL;
		t->fail[t->nfail++] = v;
		if (!sp)
			return 0;
		pos += tl + 1;
		if (pos >= len) /* trailing space */
			return -EINVAL;
	}
}

static int parse_value(struct sspr_tally *t, enum tally_key k, const char *v, size_t len)
{
	long long n;

	switch (k) {
	case T_CONSECUTIVE:
	case T_LOCKOUTS:
		if (parse_num(v, len, 0, UINT32_MAX, &n) < 0)
			return -EINVAL;
		if (k == T_CONSECUTIVE)
			t->consecutive = (uint32_t)n;
		else
			t->lockouts = (uint32_t)n;
		return 0;
	case T_LOCKED_UNTIL:
	case T_LAST_SEEN:
		if (parse_num(v, len, 0, INT64_MAX, &n) < 0)
			return -EINVAL;
		if (k == T_LOCKED_UNTIL)
			t->locked_until = n;
		else
			t->last_seen = n;
		return 0;
	case T_HARD_LOCKED:
	case T_ACCOUNT:
		if (parse_num(v, len, 0, 1, &n) < 0)
			return -EINVAL;
		if (k == T_HARD_LOCKED)
			t->hard_locked = n == 1;
		else
			t->account = n == 1;
		return 0;
	default:
		return -EINVAL;
	}
}

/* One line (len bytes, without its "\n") after the first. */
static int parse_line(struct sspr_tally *t, const char *line, size_t len, bool seen[T__MAX])
{
	const char *sp = memchr(line, ' ', len);
	size_t kl = sp ? (size_t)(sp - line) : len;
	const char *v = sp ? sp + 1 : line + len;
	size_t vl = sp ? len - kl - 1 : 0;
	size_t k;
	int r;

	for (k = 0; k < T__MAX; k++)
		if (strlen(tally_key_names[k]) == kl && memcmp(line, tally_key_names[k], kl) == 0)
			break;
	if (k == T__MAX || seen[k])
		return -EINVAL;
	seen[k] = true;
	if (k == T_FAIL) {
		/* "fail" alone, or "fail T1 ..."; never "fail " */
		if (sp && vl == 0)
			return -EINVAL;
		return parse_fail_list(t, v, vl);
	}
	/* "key value": one token after one space. */
	if (!sp || vl == 0 || memchr(v, ' ', vl))
		return -EINVAL;
	r = parse_value(t, (enum tally_key)k, v, vl);
	return r;
}

int sspr_tally_parse(struct sspr_tally *t, const char *text, size_t len)
{
	struct sspr_tally n;
	bool seen[T__MAX] = { false };
	size_t pos = 0, k;
	bool first = true;

	if (!t || !text || len == 0 || len > SSPR_TALLY_MAX || text[len - 1] != '\n')
		return -SSPR_E_RECORD;
	memset(&n, 0, sizeof n);
	while (pos < len) {
		/* text ends in '\n', so nl is never NULL here. */
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t ll = (size_t)(nl - (text + pos));

		if (first) {
			if (ll != strlen(TALLY_MAGIC) || memcmp(text + pos, TALLY_MAGIC, ll) != 0)
				return -SSPR_E_RECORD;
			first = false;
		} else if (parse_line(&n, text + pos, ll, seen) < 0) {
			return -SSPR_E_RECORD;
		}
		pos += ll + 1;
	}
	for (k = 0; k < T__MAX; k++)
		if (!seen[k])
			return -SSPR_E_RECORD;
	memcpy(t, &n, sizeof n);
	return 0;
}

/* --- formatter ---------------------------------------------------------- */

static bool tally_valid(const struct sspr_tally *t)
{
	uint32_t i;

	if (t->nfail > SSPR_TALLY_TIMES_MAX || t->locked_until < 0 || t->last_seen < 0)
		return false;
	for (i = 0; i < t->nfail; i++)
		if (t->fail[i] < 0 || (i > 0 && t->fail[i] < t->fail[i - 1]))
			return false;
	return true;
}

int sspr_tally_format(const struct sspr_tally *t, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t pos;
	uint32_t i;
	int n;

	if (!t || !ret || !ret_len || !tally_valid(t))
		return -EINVAL;
	buf = malloc(SSPR_TALLY_MAX + 1);
	if (!buf)
		return -ENOMEM;
	n = snprintf(buf, SSPR_TALLY_MAX + 1,
	             TALLY_MAGIC "\n"
	             "consecutive %" PRIu32 "\n"
	             "lockouts %" PRIu32 "\n"
	             "locked_until %" PRId64 "\n"
	             "hard_locked %d\n"
	             "account %d\n"
	             "last_seen %" PRId64 "\n"
	             "fail",
	             t->consecutive, t->lockouts, t->locked_until, t->hard_locked ? 1 : 0,
	             t->account ? 1 : 0, t->last_seen);
	if (n < 0 || n > SSPR_TALLY_MAX)
		return -SSPR_E_TOO_LONG;
	pos = (size_t)n;
	for (i = 0; i < t->nfail; i++) {
		n = snprintf(buf + pos, SSPR_TALLY_MAX + 1 - pos, " %" PRId64, t->fail[i]);
		if (n < 0 || (size_t)n > SSPR_TALLY_MAX - pos)
			return -SSPR_E_TOO_LONG;
		pos += (size_t)n;
	}
	if (pos + 1 > SSPR_TALLY_MAX)
		return -SSPR_E_TOO_LONG;
	buf[pos++] = '\n';
	buf[pos] = '\0';
	*ret = buf;
	*ret_len = pos;
	buf = NULL;
	return 0;
}

/* --- the arithmetic of a tally (pure) ----------------------------------- */

/* Drop the times at least `window` seconds old. */
static void window_drop(struct sspr_tally *t, int64_t now, int64_t window)
{
	uint32_t k = 0;

	while (k < t->nfail && now - t->fail[k] >= window)
		k++;
	if (k == 0)
		return;
	memmove(t->fail, t->fail + k, (size_t)(t->nfail - k) * sizeof t->fail[0]);
	t->nfail -= k;
}

/* Add `now`, keeping the list ascending (a clock set back may give an
 * earlier time than the last one); full: the oldest goes. */
static void fail_add(struct sspr_tally *t, int64_t now)
{
	uint32_t i;

	if (t->nfail >= SSPR_TALLY_TIMES_MAX) {
		memmove(t->fail, t->fail + 1, (SSPR_TALLY_TIMES_MAX - 1) * sizeof t->fail[0]);
		t->nfail = SSPR_TALLY_TIMES_MAX - 1;
	}
	i = t->nfail;
	while (i > 0 && t->fail[i - 1] > now) {
		t->fail[i] = t->fail[i - 1];
		i--;
	}
	t->fail[i] = now;
	t->nfail++;
}

static bool tally_locked(const struct sspr_tally *t, int64_t now)
{
	return t->hard_locked || now < t->locked_until;
}

/* A limit the list can hold: a limit above SSPR_TALLY_TIMES_MAX is
 * enforced as SSPR_TALLY_TIMES_MAX (fail closed, never open). */
static uint32_t list_limit(unsigned limit)
{
	return limit < SSPR_TALLY_TIMES_MAX ? limit : SSPR_TALLY_TIMES_MAX;
}

/* unlock_time doubled `lockouts` times, capped by max_unlock_time. */
static int64_t lock_duration(const struct sspr_config *c, uint32_t lockouts)
{
	int64_t d = c->unlock_time, cap = c->max_unlock_time;
	uint32_t i;

	for (i = 0; i < lockouts && d > 0 && d < cap; i++)
		d *= 2;
	return d < cap ? d : cap;
}

static int64_t add_sat(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* --- files -------------------------------------------------------------- */

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* errno of an O_NOFOLLOW open: a symlink (or a socket) where a file or
 * directory should be is an unsafe file, not a missing one. */
static int open_errno(int e)
{
	return (e == ELOOP || e == ENOTDIR || e == ENXIO) ? -SSPR_E_UNSAFE_FILE : -e;
}

/* Regular, ours, one link, private. */
static int check_stat(const struct stat *st)
{
	if (!S_ISREG(st->st_mode) || st->st_uid != geteuid() || st->st_nlink != 1 ||
	    (st->st_mode & 077) != 0)
		return -SSPR_E_UNSAFE_FILE;
	return 0;
}

int sspr_rl_open(const char *statedir, int create, int *ret_dirfd)
{
	if (sodium_init() < 0)
		return -EIO;
	return sspr_state_open_dir(statedir, "tally", create, ret_dirfd);
}

/* "u-HEX" / "s-HEX": keyed BLAKE2b-128 over "kind\0" + s. */
static int keyed_name(const unsigned char *key, const char *kind, char prefix, const char *s,
                      char out[TALLY_NAME_MAX])
{
	crypto_generichash_state st;
	unsigned char h[TALLY_HASH_LEN];
	char hex[2 * TALLY_HASH_LEN + 1];
	int r = -EIO;

	if (sodium_init() < 0)
		return -EIO;
	if (crypto_generichash_init(&st, key, SSPR_HOSTKEY_LEN, sizeof h) != 0 ||
	    crypto_generichash_update(&st, (const unsigned char *)kind, strlen(kind) + 1) != 0 ||
	    crypto_generichash_update(&st, (const unsigned char *)s, strlen(s)) != 0 ||
	    crypto_generichash_final(&st, h, sizeof h) != 0)
		goto out;
	(void)sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	(void)snprintf(out, TALLY_NAME_MAX, "%c-%s", prefix, hex);
	r = 0;
out:
	sodium_memzero(&st, sizeof st); /* holds the key */
	return r;
}

static void lock_name(char out[TALLY_NAME_MAX + 8], const char *fname)
{
	(void)snprintf(out, TALLY_NAME_MAX + 8, "%s" LOCK_SUFFIX, fname);
}

/* Take the write lock of fname (fname.lock), waiting at most timeout_ms
 * (0: one try).  *ret_fd holds the lock until closed.  A lock file that
 * was removed while we waited is noticed and the lock taken again. */
static int lock_take(int dirfd, const char *fname, int timeout_ms, int *ret_fd)
{
	char lname[TALLY_NAME_MAX + 8];
	int64_t deadline = monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	lock_name(lname, fname);
	for (;;) {
		_cleanup_close_ int fd = -1;
		struct stat st, now_st;
		int r;

		/* O_NONBLOCK: a FIFO planted here must not block the open. */
		fd = openat(dirfd, lname, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
		            0600);
		if (fd < 0)
			return open_errno(errno);
		if (fstat(fd, &st) < 0)
			return -errno;
		/* Removed between our open and fstat: start again. */
		if (S_ISREG(st.st_mode) && st.st_nlink == 0) {
			if (monotonic_ms() >= deadline)
				return -SSPR_E_LOCK_TIMEOUT;
			continue;
		}
		r = check_stat(&st);
		if (r < 0)
			return r;
		for (;;) {
			struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
			struct timespec ts = { 0, LOCK_POLL_NS };

			if (fcntl(fd, F_SETLK, &fl) == 0)
				break;
			if (errno != EACCES && errno != EAGAIN && errno != EINTR)
				return -errno;
			/* F_SETLKW cannot time out without signals; poll. The
			 * lock is per process: keep no other fd on it open. */
			if (monotonic_ms() >= deadline)
				return -SSPR_E_LOCK_TIMEOUT;
			(void)nanosleep(&ts, NULL);
		}
		if (fstatat(dirfd, lname, &now_st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				return -errno;
		} else if (now_st.st_dev == st.st_dev && now_st.st_ino == st.st_ino) {
			*ret_fd = fd;
			fd = -1;
			return 0;
		}
		/* We hold the lock of a removed lock file: try the new one. */
		if (monotonic_ms() >= deadline)
			return -SSPR_E_LOCK_TIMEOUT;
	}
}

/* Read fname into *t: a missing file is an empty tally (*ret_exists
 * false).  Returns 0, -SSPR_E_UNSAFE_FILE, -SSPR_E_RECORD or -errno; *t
 * untouched on failure. */
static int tally_read(int dirfd, const char *fname, struct sspr_tally *t, bool *ret_exists)
{
	_cleanup_secure_ char *buf = NULL;
	size_t got = 0;
	int r;

	r = sspr_state_read(dirfd, fname, SSPR_TALLY_MAX, &buf, &got);
	if (r == -ENOENT) {
		memset(t, 0, sizeof *t);
		if (ret_exists)
			*ret_exists = false;
		return 0;
	}
	if (r < 0)
		return r;
	r = sspr_tally_parse(t, buf, got);
	if (r < 0)
		return r;
	if (ret_exists)
		*ret_exists = true;
	return 0;
}

/* Atomically replace fname (call with its lock held); durable (file and
 * directory fsync'd) when it returns 0. */
static int tally_store(int dirfd, const char *fname, const struct sspr_tally *t)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r;

	r = sspr_tally_format(t, &text, &len);
	if (r < 0)
		return r;
	return sspr_state_write(dirfd, fname, text, len);
}

/* Remove fname and then its lock file (call with the lock held).  Does
 * not fsync the directory. */
static int tally_unlink(int dirfd, const char *fname)
{
	char lname[TALLY_NAME_MAX + 8];

	if (unlinkat(dirfd, fname, 0) < 0 && errno != ENOENT)
		return -errno;
	lock_name(lname, fname);
	if (unlinkat(dirfd, lname, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* fname does not exist and we hold its lock: remove the lock file made
 * to take it, so that refused attempts for ever new names leave nothing
 * behind.  A waiter on it notices (lock_take) and starts again. */
static void lock_file_drop(int dirfd, const char *fname)
{
	char lname[TALLY_NAME_MAX + 8];

	lock_name(lname, fname);
	(void)unlinkat(dirfd, lname, 0);
}

static bool source_given(const char *source)
{
	return source && *source && strcmp(source, "-") != 0;
}

/* The tally file names of name and (when not NULL) source, and their
 * locks: always the name's first, then the source's, so two attempts
 * never deadlock.  The locks are held through *ret_ulock / *ret_slock. */
static int lock_name_and_source(int dirfd, const unsigned char *key, const char *name,
                                const char *source, char uname[TALLY_NAME_MAX],
                                char sname[TALLY_NAME_MAX], int *ret_ulock, int *ret_slock)
{
	int r;

	r = keyed_name(key, "user", 'u', name, uname);
	if (r == 0 && source)
		r = keyed_name(key, "source", 's', source, sname);
	if (r == 0)
		r = lock_take(dirfd, uname, LOCK_TIMEOUT_MS, ret_ulock);
	if (r == 0 && source)
		r = lock_take(dirfd, sname, LOCK_TIMEOUT_MS, ret_slock);
	return r;
}

/* --- session rates ------------------------------------------------------ */

int sspr_rl_session(int dirfd, const struct sspr_config *c, bool per_caller, uid_t caller,
                    time_t now, enum sspr_reason *ret_reason)
{
	_cleanup_close_ int lfd = -1;
	struct sspr_tally t;
	char fname[TALLY_NAME_MAX];
	unsigned limit;
	int r;

	if (dirfd < 0 || !c || !ret_reason || now < 0 ||
	    (per_caller && (long long)caller > TALLY_UID_MAX))
		return -EINVAL;
	if (per_caller)
		(void)snprintf(fname, sizeof fname, "c-%u", (unsigned)caller);
	else
		(void)snprintf(fname, sizeof fname, "global");
	limit = per_caller ? c->caller_rate : c->global_rate;
	r = lock_take(dirfd, fname, LOCK_TIMEOUT_MS, &lfd);
	if (r < 0)
		return r;
	r = tally_read(dirfd, fname, &t, NULL);
	if (r < 0)
		return r;
	window_drop(&t, now, SESSION_WINDOW);
	if (t.nfail >= list_limit(limit)) {
		*ret_reason = per_caller ? SSPR_R_RATE_CALLER : SSPR_R_RATE_GLOBAL;
		return 0;
	}
	fail_add(&t, now);
	t.last_seen = now;
	r = tally_store(dirfd, fname, &t);
	if (r < 0)
		return r;
	*ret_reason = SSPR_R_NONE;
	return 0;
}

/* --- code attempts ------------------------------------------------------ */

int sspr_rl_attempt(int dirfd, const struct sspr_config *c, const unsigned char *key,
                    const char *name, bool account_exists, const char *source, time_t now,
                    struct sspr_rl_attempt *ret)
{
	_cleanup_close_ int ulock = -1, slock = -1;
	struct sspr_rl_attempt out = { .blocked = SSPR_R_NONE };
	struct sspr_tally u, s;
	char uname[TALLY_NAME_MAX], sname[TALLY_NAME_MAX];
	bool has_source = source_given(source), u_exists = false, s_exists = false;
	int r;

	if (dirfd < 0 || !c || !key || !name || !ret || now < 0)
		return -EINVAL;
	memset(&s, 0, sizeof s);
	r = lock_name_and_source(dirfd, key, name, has_source ? source : NULL, uname, sname,
	                         &ulock, &slock);
	if (r < 0)
		return r;
	r = tally_read(dirfd, uname, &u, &u_exists);
	if (r < 0)
		return r;
	window_drop(&u, now, c->fail_interval);
	if (has_source) {
		r = tally_read(dirfd, sname, &s, &s_exists);
		if (r < 0)
			return r;
		window_drop(&s, now, c->fail_interval);
	}
	if (tally_locked(&u, now))
		out.blocked = SSPR_R_RATE_USER;
	else if (has_source && s.nfail >= list_limit(c->rhost_deny))
		out.blocked = SSPR_R_RATE_SOURCE;
	if (out.blocked != SSPR_R_NONE) {
		/* Refused, not counted: nothing written. */
		if (!u_exists)
			lock_file_drop(dirfd, uname);
		if (has_source && !s_exists)
			lock_file_drop(dirfd, sname);
		*ret = out;
		return 0;
	}

	/* Count this attempt as a failure until sspr_rl_success says not. */
	fail_add(&u, now);
	if (u.consecutive < UINT32_MAX)
		u.consecutive++;
	u.account = account_exists;
	u.last_seen = now;
	if (u.nfail >= list_limit(c->deny)) {
		int64_t d = lock_duration(c, u.lockouts);

		u.locked_until = add_sat(now, d);
		if (u.lockouts < UINT32_MAX)
			u.lockouts++;
		u.nfail = 0; /* the lock replaces the failures */
		if (d > 0) {
			out.locked_now = true;
			out.locked_until = u.locked_until;
		}
	}
	if (!u.hard_locked && u.consecutive >= c->hard_deny) {
		u.hard_locked = true;
		out.hard_locked_now = true;
	}
	r = tally_store(dirfd, uname, &u);
	if (r < 0)
		return r;
	if (has_source) {
		fail_add(&s, now);
		s.last_seen = now;
		r = tally_store(dirfd, sname, &s);
		if (r < 0)
			return r;
	}
	*ret = out;
	return 0;
}

int sspr_rl_success(int dirfd, const struct sspr_config *c, const unsigned char *key,
                    const char *name, const char *source, time_t now)
{
	_cleanup_close_ int ulock = -1, slock = -1;
	struct sspr_tally u, s;
	char uname[TALLY_NAME_MAX], sname[TALLY_NAME_MAX];
	bool has_source = source_given(source), exists = false;
	int r;

	if (dirfd < 0 || !c || !key || !name || now < 0)
		return -EINVAL;
	r = lock_name_and_source(dirfd, key, name, has_source ? source : NULL, uname, sname,
	                         &ulock, &slock);
	if (r < 0)
		return r;
	r = tally_read(dirfd, uname, &u, &exists);
	if (r < 0)
		return r;
	if (exists) {
		window_drop(&u, now, c->fail_interval);
		if (u.nfail > 0)
			u.nfail--; /* the most recent: this attempt's */
		u.consecutive = 0;
		u.lockouts = 0;
		/* A lock in force (this very attempt may have started it)
		 * and a hard lock stay. */
		u.last_seen = now;
		r = tally_store(dirfd, uname, &u);
		if (r < 0)
			return r;
	} else {
		lock_file_drop(dirfd, uname);
	}
	if (has_source) {
		r = tally_read(dirfd, sname, &s, &exists);
		if (r < 0)
			return r;
		if (exists) {
			window_drop(&s, now, c->fail_interval);
			if (s.nfail > 0)
				s.nfail--;
			s.last_seen = now;
			r = tally_store(dirfd, sname, &s);
			if (r < 0)
				return r;
		} else {
			lock_file_drop(dirfd, sname);
		}
	}
	return 0;
}

/* --- status and unlock -------------------------------------------------- */

int sspr_rl_status(int dirfd, const struct sspr_config *c, const unsigned char *key,
                   const char *name, time_t now, struct sspr_rl_status *ret)
{
	struct sspr_tally t;
	struct sspr_rl_status out;
	char uname[TALLY_NAME_MAX];
	int r;

	if (dirfd < 0 || !c || !key || !name || !ret || now < 0)
		return -EINVAL;
	r = keyed_name(key, "user", 'u', name, uname);
	if (r < 0)
		return r;
	/* Replaced by rename only: a read without the lock sees a whole file. */
	r = tally_read(dirfd, uname, &t, NULL);
	if (r < 0)
		return r;
	memset(&out, 0, sizeof out);
	window_drop(&t, now, c->fail_interval);
	out.recent_failures = t.nfail;
	out.consecutive = t.consecutive;
	out.lockouts = t.lockouts;
	out.locked_until = t.locked_until;
	out.hard_locked = t.hard_locked;
	/* A lockout clears the list, but while failures are pending since
	 * the last success, the last write was one of them. */
	if (t.consecutive > 0)
		out.last_failure = t.last_seen;
	else if (t.nfail > 0)
		out.last_failure = t.fail[t.nfail - 1];
	*ret = out;
	return 0;
}

int sspr_rl_unlock(int dirfd, const unsigned char *key, const char *name, time_t now,
                   bool *ret_was_locked)
{
	_cleanup_close_ int lfd = -1;
	struct sspr_tally t;
	char uname[TALLY_NAME_MAX];
	bool exists = false, was_locked;
	int r;

	if (dirfd < 0 || !key || !name || !ret_was_locked || now < 0)
		return -EINVAL;
	r = keyed_name(key, "user", 'u', name, uname);
	if (r < 0)
		return r;
	r = lock_take(dirfd, uname, LOCK_TIMEOUT_MS, &lfd);
	if (r == -SSPR_E_UNSAFE_FILE) {
		/* An unsafe lock file would block the name for good: nobody
		 * can hold a lock on it, so replace it. */
		char lname[TALLY_NAME_MAX + 8];

		lock_name(lname, uname);
		if (unlinkat(dirfd, lname, 0) < 0)
			return -errno;
		r = lock_take(dirfd, uname, LOCK_TIMEOUT_MS, &lfd);
	}
	if (r < 0)
		return r;
	r = tally_read(dirfd, uname, &t, &exists);
	if (r == -SSPR_E_RECORD || r == -SSPR_E_UNSAFE_FILE)
		was_locked = true; /* a bad tally refuses the name */
	else if (r < 0)
		return r;
	else
		was_locked = exists && tally_locked(&t, now);
	/* Whatever its content, and the lock file with it. */
	r = tally_unlink(dirfd, uname);
	if (r < 0)
		return r;
	if (fsync(dirfd) < 0)
		return -SSPR_E_NOT_DURABLE;
	*ret_was_locked = was_locked;
	return 0;
}

/* --- pruning ------------------------------------------------------------ */

enum tally_kind { TK_NONE, TK_USER, TK_SOURCE, TK_GLOBAL, TK_CALLER };

static bool is_hex32(const char *s, size_t len)
{
	size_t i;

	if (len != 2 * TALLY_HASH_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* What the file name (len bytes) of a tally names. */
static enum tally_kind tally_kind_of(const char *s, size_t len)
{
	long long n;

	if (len == strlen("global") && memcmp(s, "global", len) == 0)
		return TK_GLOBAL;
	if (len < 2 || s[1] != '-')
		return TK_NONE;
	if (s[0] == 'u' && is_hex32(s + 2, len - 2))
		return TK_USER;
	if (s[0] == 's' && is_hex32(s + 2, len - 2))
		return TK_SOURCE;
	if (s[0] == 'c' && parse_num(s + 2, len - 2, 0, TALLY_UID_MAX, &n) == 0)
		return TK_CALLER;
	return TK_NONE;
}

static int64_t kind_window(const struct sspr_config *c, enum tally_kind k)
{
	return (k == TK_USER || k == TK_SOURCE) ? (int64_t)c->fail_interval : SESSION_WINDOW;
}

/* Nothing left to remember: no failure (session start) in the window,
 * not locked, and no consecutive failures pending (a success cleared
 * them), so that neither the lockout doubling nor hard_deny is undone by
 * pruning. */
static bool tally_expired(const struct sspr_tally *t, int64_t now, int64_t window)
{
	uint32_t i;

	for (i = 0; i < t->nfail; i++)
		if (now - t->fail[i] < window)
			return false;
	return !tally_locked(t, now) && t->consecutive == 0;
}

struct prune_cand {
	int64_t last_seen;
	char fname[TALLY_NAME_MAX];
};

static int cand_cmp(const void *a, const void *b)
{
	const struct prune_cand *x = a, *y = b;

	if (x->last_seen != y->last_seen)
		return x->last_seen < y->last_seen ? -1 : 1;
	return strcmp(x->fname, y->fname);
}

enum prune_want { WANT_EXPIRED, WANT_NO_ACCOUNT };

/* Under fname's lock, read it again and remove it (and its lock file)
 * when still `want` says so.  Returns 1 removed, 0 kept, or a negative
 * error. */
static int prune_one(int dirfd, const char *fname, int64_t now, int64_t window,
                     enum prune_want want)
{
	_cleanup_close_ int lfd = -1;
	struct sspr_tally t;
	bool exists = false;
	int r;

	/* One try: a busy tally is in use, not stale.  A bad lock file
	 * keeps its tally (sspr-cli unlock replaces it). */
	r = lock_take(dirfd, fname, 0, &lfd);
	if (r == -SSPR_E_LOCK_TIMEOUT || r == -SSPR_E_UNSAFE_FILE)
		return 0;
	if (r < 0)
		return r;
	r = tally_read(dirfd, fname, &t, &exists);
	if (r < 0)
		return 0; /* bad: kept, it refuses its name until unlocked */
	if (!exists) {
		/* Gone meanwhile: only the lock file we just made is left. */
		r = tally_unlink(dirfd, fname);
		return r < 0 ? r : 0;
	}
	if (want == WANT_EXPIRED ? !tally_expired(&t, now, window) : t.account)
		return 0;
	r = tally_unlink(dirfd, fname);
	return r < 0 ? r : 1;
}

/* FILE.lock with no FILE, or a stale ".FILE.XXXXXXXX": remove it under
 * FILE's lock. */
static int prune_leftover(int dirfd, const char *fname, const char *leftover)
{
	_cleanup_close_ int lfd = -1;
	struct stat st;
	int r;

	r = lock_take(dirfd, fname, 0, &lfd);
	if (r == -SSPR_E_LOCK_TIMEOUT || r == -SSPR_E_UNSAFE_FILE)
		return 0;
	if (r < 0)
		return r;
	/* Writers hold the lock from temp to rename: this one is stale. */
	if (leftover && unlinkat(dirfd, leftover, 0) < 0 && errno != ENOENT)
		return -errno;
	if (fstatat(dirfd, fname, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (errno != ENOENT)
		return -errno;
	return tally_unlink(dirfd, fname);
}

/* What a directory entry is: a tally of the returned kind named fname,
 * or its lock file (*ret_lock), or its temp file (*ret_temp); TK_NONE
 * for anything else (left alone). */
static enum tally_kind classify(const char *name, char fname[TALLY_NAME_MAX], bool *ret_lock,
                                bool *ret_temp)
{
	size_t len = strlen(name), sl = strlen(LOCK_SUFFIX);
	enum tally_kind k;

	*ret_lock = *ret_temp = false;
	if (len >= TALLY_NAME_MAX + 16)
		return TK_NONE;
	if (name[0] == '.') {
		/* ".FILE.XXXXXXXX" */
		if (len < 11 || name[len - 9] != '.')
			return TK_NONE;
		for (size_t i = len - 8; i < len; i++)
			if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
				return TK_NONE;
		k = tally_kind_of(name + 1, len - 10);
		*ret_temp = k != TK_NONE;
		len -= 10;
		name++;
	} else if (len > sl && strcmp(name + len - sl, LOCK_SUFFIX) == 0) {
		len -= sl;
		k = tally_kind_of(name, len);
		*ret_lock = k != TK_NONE;
	} else {
		k = tally_kind_of(name, len);
	}
	if (k != TK_NONE) {
		memcpy(fname, name, len);
		fname[len] = '\0';
	}
	return k;
}

long sspr_rl_prune(int dirfd, const struct sspr_config *c, time_t now)
{
	_cleanup_free_ struct prune_cand *cand = NULL;
	size_t ncand = 0, acand = 0, i, kept = 0;
	long removed = 0;
	struct dirent *de;
	DIR *d;
	int dfd, r = 0;

	if (dirfd < 0 || !c || now < 0)
		return -EINVAL;
	dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		r = -errno;
		(void)close(dfd);
		return r;
	}
	/* Pass 1: expired tallies, leftovers; collect the rest of the
	 * u-/s- tallies of names with no account. */
	for (;;) {
		char fname[TALLY_NAME_MAX];
		struct sspr_tally t;
		enum tally_kind k;
		bool is_lock, is_temp;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno != 0)
				r = -errno;
			break;
		}
		k = classify(de->d_name, fname, &is_lock, &is_temp);
		if (k == TK_NONE)
			continue;
		if (is_lock || is_temp) {
			r = prune_leftover(dirfd, fname, is_temp ? de->d_name : NULL);
			if (r < 0)
				break;
			continue;
		}
		if (tally_read(dirfd, fname, &t, NULL) < 0) {
			/* Unreadable or bad: counted, never dropped here. */
			memset(&t, 0, sizeof t);
			t.account = true;
		} else if (tally_expired(&t, now, kind_window(c, k))) {
			r = prune_one(dirfd, fname, now, kind_window(c, k), WANT_EXPIRED);
			if (r < 0)
				break;
			if (r == 1) {
				removed++;
				continue;
			}
		}
		if (k != TK_USER && k != TK_SOURCE)
			continue;
		kept++;
		if (t.account)
			continue;
		if (ncand == acand) {
			size_t na = acand ? acand * 2 : 64;
			struct prune_cand *nc = reallocarray(cand, na, sizeof *nc);

			if (!nc) {
				r = -ENOMEM;
				break;
			}
			cand = nc;
			acand = na;
		}
		cand[ncand].last_seen = t.last_seen;
		memcpy(cand[ncand].fname, fname, sizeof fname);
		ncand++;
	}
	(void)closedir(d);
	if (r < 0)
		goto out;
	r = 0;
	/* Pass 2: beyond max_tallies, the oldest of names with no account. */
	if (kept > c->max_tallies) {
		qsort(cand, ncand, sizeof *cand, cand_cmp);
		for (i = 0; i < ncand && kept > c->max_tallies; i++) {
			r = prune_one(dirfd, cand[i].fname, now, 0, WANT_NO_ACCOUNT);
			if (r < 0)
				goto out;
			if (r == 1) {
				removed++;
				kept--;
			}
		}
		r = 0;
	}
out:
	if (removed > 0 && fsync(dirfd) < 0 && r == 0)
		r = -SSPR_E_NOT_DURABLE;
	return r < 0 ? r : removed;
}
