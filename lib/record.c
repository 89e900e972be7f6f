/* SPDX-License-Identifier: BSD-2-Clause */
/* Enrollment records and the state directory (SPEC section 4).
 *
 * FILE FORMAT (for sspr-helper(8))
 *
 * STATEDIR/users/UID, where UID is the user's numeric uid in decimal; a
 * regular file owned by the helper's effective uid (root), mode 0600, one
 * link.  Text, one "key value" pair a line, exactly one space between key
 * and value, every line (the last one too) ended by "\n":
 *
 *     sspr-record 1
 *     user alice
 *     uid 1001
 *     type totp
 *     algorithm sha1
 *     digits 6
 *     period 30
 *     secret GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
 *     state 56666666
 *     created 1700000000
 *     last_used 0
 *
 *   sspr-record 1  first line, exactly; the number is the format version
 *   user       login name, 1..255 bytes, no white space, control
 *              character or ':'; must equal the name asked for
 *   uid        0..4294967294; must equal the file name
 *   type       totp or hotp
 *   algorithm  sha1, sha256 or sha512 (hotp: sha1 only)
 *   digits     6 or 8
 *   period     TOTP step in seconds, 1..300; written for hotp too, where
 *              it is ignored but still range-checked
 *   secret     the shared secret, RFC 4648 base32 (upper case, no padding
 *              when written; lower case and exact padding accepted),
 *              10..64 bytes once decoded
 *   state      TOTP: the last accepted time step (0 = none yet);
 *              HOTP: the next counter expected; 0..9223372036854775807
 *   created    enrollment time, seconds since the epoch
 *   last_used  time of the last accepted code, 0 = never
 *
 * After the first line the keys may come in any order, but each exactly
 * once.  Numbers are plain decimal digits without sign or leading zeros.
 * Refused as a whole (-SSPR_E_RECORD): an unknown, duplicate or missing key,
 * a bad or out-of-range value, anything after the value, a blank line, a
 * NUL or other control byte, a line longer than 1024 bytes (without its
 * "\n"), a missing final "\n", or a file over SSPR_RECORD_MAX (4096) bytes.
 *
 * Files are replaced atomically: a new file ".UID.XXXXXXXX" (random hex)
 * is written, fsync'd and renamed over UID, then the directory fsync'd.
 * Updates happen under an fcntl write lock on users/.lock. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "sspr/common.h"
#include "sspr/otp.h"
#include "sspr/statefile.h"
#include "sspr/record.h"

#define RECORD_MAGIC "sspr-record 1"
#define RECORD_LINE_MAX 1024
#define RECORD_SECRET_MIN 10
#define RECORD_UID_MAX 4294967294LL /* (uid_t)-1 means "no uid" */
#define LOCK_POLL_NS (10 * 1000 * 1000)

struct sspr_record *sspr_record_new(void)
{
	struct sspr_record *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->secret = sspr_secure_alloc(SSPR_SECRET_MAX);
	if (!r->secret) {
		free(r);
		return NULL;
	}
	sspr_otp_params_default(&r->otp);
	return r;
}

void sspr_record_free(struct sspr_record *r)
{
	if (!r)
		return;
	sspr_secure_free(r->secret); /* wipes */
	sspr_wipe(r, sizeof *r);
	free(r);
}

/* Copy every field; the secret into dst's own secure buffer. */
static void record_copy(struct sspr_record *dst, const struct sspr_record *src)
{
	uint8_t *keep = dst->secret;

	memcpy(keep, src->secret, src->secret_len);
	if (src->secret_len < SSPR_SECRET_MAX)
		sspr_wipe(keep + src->secret_len, SSPR_SECRET_MAX - src->secret_len);
	*dst = *src;
	dst->secret = keep;
}

static bool user_name_ok(const char *s)
{
	size_t n = strnlen(s, SSPR_USER_MAX);

	if (n == 0 || n >= SSPR_USER_MAX)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c == 0x7f || c == ':')
			return false;
	}
	return true;
}

/* --- parser ------------------------------------------------------------- */

enum rec_key {
	K_USER,
	K_UID,
	K_TYPE,
	K_ALGORITHM,
	K_DIGITS,
	K_PERIOD,
	K_SECRET,
	K_STATE,
	K_CREATED,
	K_LAST_USED,
	K__MAX,
};

static const char *const rec_key_names[K__MAX] = {
	[K_USER] = "user",         [K_UID] = "uid",         [K_TYPE] = "type",
	[K_ALGORITHM] = "algorithm", [K_DIGITS] = "digits", [K_PERIOD] = "period",
	[K_SECRET] = "secret",     [K_STATE] = "state",     [K_CREATED] = "created",
	[K_LAST_USED] = "last_used",
};

/* Canonical decimal only: digits, no sign, no leading zero. */
static int parse_num(const char *s, long long min, long long max, long long *ret)
{
	const char *p;

	if (!*s || (s[0] == '0' && s[1] != '\0'))
		return -EINVAL;
	for (p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	return sspr_strtonum(s, min, max, ret);
}

static int parse_field(struct sspr_record *t, enum rec_key k, const char *v)
{
	long long n;
	size_t len = 0;

	switch (k) {
	case K_USER:
		if (!user_name_ok(v))
			return -EINVAL;
		return sspr_strlcpy(t->user, v, sizeof t->user) < 0 ? -EINVAL : 0;
	case K_UID:
		if (parse_num(v, 0, RECORD_UID_MAX, &n) < 0)
			return -EINVAL;
		t->uid = (uid_t)n;
		return 0;
	case K_TYPE:
		if (strcmp(v, "totp") == 0)
			t->otp.type = SSPR_OTP_TOTP;
		else if (strcmp(v, "hotp") == 0)
			t->otp.type = SSPR_OTP_HOTP;
		else
			return -EINVAL;
		return 0;
	case K_ALGORITHM:
		if (strcmp(v, "sha1") == 0)
			t->otp.alg = SSPR_OTP_SHA1;
		else if (strcmp(v, "sha256") == 0)
			t->otp.alg = SSPR_OTP_SHA256;
		else if (strcmp(v, "sha512") == 0)
			t->otp.alg = SSPR_OTP_SHA512;
		else
			return -EINVAL;
		return 0;
	case K_DIGITS:
		if (parse_num(v, 6, 8, &n) < 0 || (n != 6 && n != 8))
			return -EINVAL;
		t->otp.digits = (unsigned)n;
		return 0;
	case K_PERIOD:
		if (parse_num(v, 1, 300, &n) < 0)
			return -EINVAL;
		t->otp.period = (unsigned)n;
		return 0;
	case K_SECRET:
		if (sspr_base32_decode(v, t->secret, SSPR_SECRET_MAX, &len) < 0 ||
		    len < RECORD_SECRET_MIN)
			return -EINVAL;
		t->secret_len = len;
		return 0;
	case K_STATE:
		if (parse_num(v, 0, INT64_MAX, &n) < 0)
			return -EINVAL;
		t->state = (uint64_t)n;
		return 0;
	case K_CREATED:
		if (parse_num(v, 0, INT64_MAX, &n) < 0)
			return -EINVAL;
		t->created = n;
		return 0;
	case K_LAST_USED:
		if (parse_num(v, 0, INT64_MAX, &n) < 0)
			return -EINVAL;
		t->last_used = n;
		return 0;
	default:
		return -EINVAL;
	}
}

/* One line (without "\n", NUL-terminated, no control bytes) into t. */
static int parse_line(struct sspr_record *t, char *line, bool seen[K__MAX])
{
	char *sp = strchr(line, ' ');
	const char *v;
	size_t k;

	if (!sp)
		return -EINVAL;
	*sp = '\0';
	v = sp + 1;
	/* "key value" and nothing else: one token after one space. */
	if (!*v || strchr(v, ' '))
		return -EINVAL;
	for (k = 0; k < K__MAX; k++)
		if (strcmp(line, rec_key_names[k]) == 0)
			break;
	if (k == K__MAX || seen[k])
		return -EINVAL;
	seen[k] = true;
	return parse_field(t, (enum rec_key)k, v);
}

int sspr_record_parse(struct sspr_record *r, const char *text, size_t len)
{
	uint8_t secret[SSPR_SECRET_MAX];
	char line[RECORD_LINE_MAX + 1];
	struct sspr_record t;
	bool seen[K__MAX] = { false };
	size_t pos = 0, k;
	bool first = true;
	int ret = -SSPR_E_RECORD;

	memset(&t, 0, sizeof t);
	t.secret = secret;
	t.uid = (uid_t)-1;
	if (!r || !r->secret || !text || len == 0 || len > SSPR_RECORD_MAX ||
	    text[len - 1] != '\n')
		goto out;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t ll, i;

		/* text ends in '\n', so nl is never NULL here. */
		ll = (size_t)(nl - (text + pos));
		if (ll > RECORD_LINE_MAX)
			goto out;
		for (i = 0; i < ll; i++) {
			unsigned char c = (unsigned char)text[pos + i];

			/* NUL, CR, TAB and the other controls: never valid. */
			if (c < ' ' || c == 0x7f)
				goto out;
		}
		memcpy(line, text + pos, ll);
		line[ll] = '\0';
		pos += ll + 1;
		if (first) {
			if (strcmp(line, RECORD_MAGIC) != 0)
				goto out;
			first = false;
			continue;
		}
		if (parse_line(&t, line, seen) < 0)
			goto out;
	}
	for (k = 0; k < K__MAX; k++)
		if (!seen[k])
			goto out;
	if (sspr_otp_params_check(&t.otp) < 0)
		goto out;
	record_copy(r, &t);
	ret = 0;
out:
	sspr_wipe(line, sizeof line);
	sspr_wipe(secret, sizeof secret);
	sspr_wipe(&t, sizeof t);
	return ret;
}

/* --- formatter ---------------------------------------------------------- */

static const char *type_name(enum sspr_otp_type t)
{
	return t == SSPR_OTP_HOTP ? "hotp" : "totp";
}

static const char *alg_name(enum sspr_otp_alg a)
{
	switch (a) {
	case SSPR_OTP_SHA256:
		return "sha256";
	case SSPR_OTP_SHA512:
		return "sha512";
	default:
		return "sha1";
	}
}

int sspr_record_format(const struct sspr_record *r, char **ret, size_t *ret_len)
{
	char b32[SSPR_B32_MAX];
	_cleanup_secure_ char *buf = NULL;
	int n, ret_val = -EINVAL;

	if (!r || !ret || !ret_len || !r->secret || !user_name_ok(r->user) ||
	    (long long)r->uid > RECORD_UID_MAX || sspr_otp_params_check(&r->otp) < 0 ||
	    r->secret_len < RECORD_SECRET_MIN || r->secret_len > SSPR_SECRET_MAX ||
	    r->state > (uint64_t)INT64_MAX || r->created < 0 || r->last_used < 0)
		return -EINVAL;
	if (sspr_base32_encode(r->secret, r->secret_len, b32, sizeof b32) < 0)
		goto out;
	buf = sspr_secure_alloc(SSPR_RECORD_MAX + 1);
	if (!buf) {
		ret_val = -ENOMEM;
		goto out;
	}
	n = snprintf(buf, SSPR_RECORD_MAX + 1,
	             RECORD_MAGIC "\n"
	             "user %s\n"
	             "uid %u\n"
	             "type %s\n"
	             "algorithm %s\n"
	             "digits %u\n"
	             "period %u\n"
	             "secret %s\n"
	             "state %" PRIu64 "\n"
	             "created %" PRId64 "\n"
	             "last_used %" PRId64 "\n",
	             r->user, (unsigned)r->uid, type_name(r->otp.type), alg_name(r->otp.alg),
	             r->otp.digits, r->otp.period, b32, r->state, r->created, r->last_used);
	if (n < 0 || n > SSPR_RECORD_MAX)
		goto out;
	*ret = buf;
	*ret_len = (size_t)n;
	buf = NULL;
	ret_val = 0;
out:
	sspr_wipe(b32, sizeof b32);
	return ret_val;
}

/* --- state directory ---------------------------------------------------- */

int sspr_state_open_users(const char *statedir, int create, int *ret_fd)
{
	return sspr_state_open_dir(statedir, "users", create, ret_fd);
}

/* errno of an O_NOFOLLOW open: a symlink where a file should be is an
 * unsafe file, not a missing one. */
static int open_errno(int e)
{
	return (e == ELOOP || e == ENOTDIR) ? -SSPR_E_UNSAFE_FILE : -e;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sspr_record_lock(int usersfd, int timeout_ms, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	int64_t deadline;
	int r;

	if (usersfd < 0 || !ret_fd)
		return -EINVAL;
	fd = openat(usersfd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return open_errno(errno);
	r = sspr_state_check_file(fd);
	if (r < 0)
		return r;
	deadline = monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		struct timespec ts = { 0, LOCK_POLL_NS };

		if (fcntl(fd, F_SETLK, &fl) == 0)
			break;
		if (errno != EACCES && errno != EAGAIN && errno != EINTR)
			return -errno;
		/* F_SETLKW cannot time out without signals; poll instead.
		 * The lock is per process (POSIX record lock): take it once
		 * and keep no other fd on .lock open. */
		if (monotonic_ms() >= deadline)
			return -SSPR_E_LOCK_TIMEOUT;
		(void)nanosleep(&ts, NULL);
	}
	*ret_fd = fd;
	fd = -1;
	return 0;
}

static void uid_name(char out[16], uid_t uid)
{
	(void)snprintf(out, 16, "%u", (unsigned)uid);
}

int sspr_record_load(int usersfd, uid_t uid, const char *user, struct sspr_record *r)
{
	_cleanup_record_ struct sspr_record *t = NULL;
	_cleanup_secure_ char *buf = NULL;
	char name[16];
	size_t got = 0;
	int ret;

	if (usersfd < 0 || !user || !r || !r->secret || uid == (uid_t)-1)
		return -EINVAL;
	uid_name(name, uid);
	ret = sspr_state_read(usersfd, name, SSPR_RECORD_MAX, &buf, &got);
	if (ret < 0)
		return ret;
	t = sspr_record_new();
	if (!t)
		return -ENOMEM;
	ret = sspr_record_parse(t, buf, got);
	if (ret < 0)
		return ret;
	/* The file name and the name asked for must both match the content:
	 * a record renamed or copied to another uid is refused. */
	if (t->uid != uid || strcmp(t->user, user) != 0)
		return -SSPR_E_RECORD;
	record_copy(r, t);
	return 0;
}

int sspr_record_store(int usersfd, const struct sspr_record *r)
{
	_cleanup_secure_ char *text = NULL;
	char name[16];
	size_t len = 0;
	int ret;

	if (usersfd < 0 || !r || r->uid == (uid_t)-1)
		return -EINVAL;
	ret = sspr_record_format(r, &text, &len);
	if (ret < 0)
		return ret;
	uid_name(name, r->uid);
	return sspr_state_write(usersfd, name, text, len);
}

int sspr_record_remove(int usersfd, uid_t uid)
{
	char name[16];

	if (usersfd < 0 || uid == (uid_t)-1)
		return -EINVAL;
	uid_name(name, uid);
	if (unlinkat(usersfd, name, 0) < 0)
		return -errno;
	if (fsync(usersfd) < 0)
		return -SSPR_E_NOT_DURABLE;
	return 0;
}
