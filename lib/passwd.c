/* SPDX-License-Identifier: BSD-2-Clause */
/* New-password hashing and checking with libxcrypt's crypt(3) (SPEC
 * section 3).  All hashing is libxcrypt's; salts come from its own
 * OS randomness (crypt_gensalt with no random bytes given). */
#include <crypt.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "sspr/common.h"
#include "sspr/passwd.h"
#include "sspr/shadow.h"

#define LOGIN_DEFS_MAX (1024 * 1024) /* bytes of login.defs we read */
#define DEFS_VALUE_MAX 64

/* The methods we write; anything else (DES, bigcrypt, MD5, NT, SunMD5,
 * sha1crypt...) is weak and refused. */
static const char *const strong_prefixes[] = {
	"$y$", "$gy$", "$7$", "$6$", "$5$", "$2b$",
};

static bool strong_prefix(const char *p)
{
	for (size_t i = 0; i < SSPR_ELEMENTSOF(strong_prefixes); i++)
		if (strcmp(p, strong_prefixes[i]) == 0)
			return true;
	return false;
}

/* ---- login.defs (what chpasswd follows) ---------------------------- */

/* The keys we use; the last occurrence wins, as in shadow's getdef. */
struct login_defs {
	char method[DEFS_VALUE_MAX];
	char sha_min[DEFS_VALUE_MAX], sha_max[DEFS_VALUE_MAX];
	char bcrypt_min[DEFS_VALUE_MAX], bcrypt_max[DEFS_VALUE_MAX];
	char yescrypt_cost[DEFS_VALUE_MAX];
};

static int read_file(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -SSPR_E_UNSAFE_FILE;
	if (st.st_size > LOGIN_DEFS_MAX)
		return -SSPR_E_TOO_LONG;
	/* One byte more than the cap tells a file that grew past it. */
	buf = malloc(LOGIN_DEFS_MAX + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t k = read(fd, buf + len, LOGIN_DEFS_MAX + 1 - len);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > LOGIN_DEFS_MAX)
			return -SSPR_E_TOO_LONG;
	}
	*ret = buf;
	buf = NULL;
	*ret_len = len;
	return 0;
}

static const struct {
	const char *key;
	size_t off;
} defs_keys[] = {
	{ "ENCRYPT_METHOD", offsetof(struct login_defs, method) },
	{ "SHA_CRYPT_MIN_ROUNDS", offsetof(struct login_defs, sha_min) },
	{ "SHA_CRYPT_MAX_ROUNDS", offsetof(struct login_defs, sha_max) },
	{ "BCRYPT_MIN_ROUNDS", offsetof(struct login_defs, bcrypt_min) },
	{ "BCRYPT_MAX_ROUNDS", offsetof(struct login_defs, bcrypt_max) },
	{ "YESCRYPT_COST_FACTOR", offsetof(struct login_defs, yescrypt_cost) },
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Tokenise as shadow's getdef does: a line is "KEY VALUE"; blanks before
 * the key, blank and '#' lines are skipped; the value is the first word
 * after the key, quotes and blanks around it dropped, the rest of the line
 * ignored.  Unknown keys are ignored (login.defs holds many). */
static int parse_login_defs(const char *text, size_t len, struct login_defs *d)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		const char *p = text + pos, *e = text + end;
		const char *key, *val;
		size_t klen, vlen;
		char *dst = NULL;

		pos = end + 1;
		while (p < e && is_blank(*p))
			p++;
		if (p == e || *p == '#')
			continue;
		key = p;
		while (p < e && !is_blank(*p))
			p++;
		klen = (size_t)(p - key);
		while (p < e && (is_blank(*p) || *p == '"'))
			p++;
		val = p;
		while (p < e && !is_blank(*p) && *p != '"')
			p++;
		vlen = (size_t)(p - val);

		for (size_t i = 0; i < SSPR_ELEMENTSOF(defs_keys); i++)
			if (strlen(defs_keys[i].key) == klen &&
			    memcmp(defs_keys[i].key, key, klen) == 0)
				dst = (char *)d + defs_keys[i].off;
		if (!dst)
			continue;
		if (vlen == 0 || vlen >= DEFS_VALUE_MAX || memchr(val, '\0', vlen))
			return -EINVAL;
		memcpy(dst, val, vlen);
		dst[vlen] = '\0';
	}
	return 0;
}

/* A number key: unset or -1 (shadow's "not set") gives -1; anything that
 * is not a number is an error rather than a silent default. */
static int defs_number(const char *v, long long *ret)
{
	long long n;

	if (!*v) {
		*ret = -1;
		return 0;
	}
	if (sspr_strtonum(v, -1, LLONG_MAX, &n) < 0)
		return -EINVAL;
	*ret = n;
	return 0;
}

static long long clamp(long long v, long long lo, long long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* A MIN/MAX pair as shadow reads it (one set stands for both), except
 * that we take the minimum instead of a random value between them.
 * Both unset gives def; the result is kept within [lo, hi]. */
static int defs_rounds(const char *vmin, const char *vmax, long long def,
                       long long lo, long long hi, unsigned long *ret)
{
	long long mn, mx, v;
	int r;

	r = defs_number(vmin, &mn);
	if (r < 0)
		return r;
	r = defs_number(vmax, &mx);
	if (r < 0)
		return r;
	if (mn == -1 && mx == -1)
		v = def;
	else if (mn == -1)
		v = mx;
	else
		v = mn; /* also when min > max: shadow then raises max to min */
	*ret = (unsigned long)clamp(v, lo, hi);
	return 0;
}

/* The method and cost ENCRYPT_METHOD and its keys ask for.  Unset,
 * DES, MD5 or unknown values are refused: shadow would fall back to DES
 * (or MD5 with MD5_CRYPT_ENAB), both weak. */
static int login_defs_method(const char *path, const char **ret_prefix,
                             unsigned long *ret_count)
{
	struct login_defs d = { 0 };
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	unsigned long count = 0;
	const char *prefix;
	long long cost;
	int r;

	if (!path)
		return -EINVAL;
	r = read_file(path, &text, &len);
	if (r < 0)
		return r;
	r = parse_login_defs(text, len, &d);
	if (r < 0)
		return r;

	/* Names are case-sensitive in shadow's salt.c too. */
	if (strcmp(d.method, "SHA512") == 0 || strcmp(d.method, "SHA256") == 0) {
		prefix = strcmp(d.method, "SHA512") == 0 ? "$6$" : "$5$";
		/* shadow's SHA_ROUNDS_DEFAULT, MIN and MAX; 5000 is also
		 * libxcrypt's default, written without "rounds=". */
		r = defs_rounds(d.sha_min, d.sha_max, 5000, 1000, 999999999, &count);
	} else if (strcmp(d.method, "YESCRYPT") == 0) {
		prefix = "$y$";
		r = defs_number(d.yescrypt_cost, &cost);
		if (r == 0)
			count = (unsigned long)clamp(cost == -1 ? 5 : cost, 1, 11);
	} else if (strcmp(d.method, "BCRYPT") == 0) {
		prefix = "$2b$";
		r = defs_rounds(d.bcrypt_min, d.bcrypt_max, 13, 4, 31, &count);
	} else {
		return -SSPR_E_WEAK_METHOD;
	}
	if (r < 0)
		return r;
	*ret_prefix = prefix;
	*ret_count = count;
	return 0;
}

/* ---- hashing ------------------------------------------------------- */

static int method_of(enum sspr_hash hash, const char *login_defs,
                     const char **ret_prefix, unsigned long *ret_count)
{
	const char *prefix;

	switch (hash) {
	case SSPR_HASH_DEFAULT:
		/* What crypt_gensalt(NULL, 0, ...) picks: libxcrypt's preferred
		 * method at its default cost (yescrypt on Debian 12). */
		prefix = crypt_preferred_method();
		if (!prefix || !strong_prefix(prefix))
			return -SSPR_E_WEAK_METHOD;
		break;
	case SSPR_HASH_LOGIN_DEFS:
		return login_defs_method(login_defs, ret_prefix, ret_count);
	case SSPR_HASH_YESCRYPT:
		prefix = "$y$";
		break;
	case SSPR_HASH_GOST_YESCRYPT:
		prefix = "$gy$";
		break;
	case SSPR_HASH_SCRYPT:
		prefix = "$7$";
		break;
	case SSPR_HASH_SHA512:
		prefix = "$6$";
		break;
	case SSPR_HASH_SHA256:
		prefix = "$5$";
		break;
	case SSPR_HASH_BCRYPT:
		prefix = "$2b$";
		break;
	default:
		return -EINVAL;
	}
	/* Named methods take libxcrypt's default cost, as pam_unix does
	 * without rounds=. */
	*ret_prefix = prefix;
	*ret_count = 0;
	return 0;
}

/* struct crypt_data is ~32 KiB and holds the password while hashing:
 * on the heap, zeroed (libxcrypt requires it), wiped before free. */
static struct crypt_data *crypt_data_new(void)
{
	return calloc(1, sizeof(struct crypt_data));
}

static void crypt_data_free(struct crypt_data *cd)
{
	if (cd) {
		sspr_wipe(cd, sizeof *cd);
		free(cd);
	}
}

int sspr_passwd_hash(enum sspr_hash hash, const char *login_defs,
                     const char *password, char *out, size_t outlen)
{
	_cleanup_free_ char *setting = NULL;
	struct crypt_data *cd = NULL;
	const char *prefix = NULL, *res;
	unsigned long count = 0;
	size_t n;
	int r;

	if (!password || !out)
		return -EINVAL;
	r = method_of(hash, login_defs, &prefix, &count);
	if (r < 0)
		return r;

	/* No random bytes given: libxcrypt takes them from the OS. */
	errno = 0;
	setting = crypt_gensalt_ra(prefix, count, NULL, 0);
	if (!setting)
		return errno ? -errno : -EINVAL;
	cd = crypt_data_new();
	if (!cd)
		return -ENOMEM;
	errno = 0;
	res = crypt_rn(password, setting, cd, (int)sizeof *cd);
	if (!res || res[0] == '*') {
		r = errno ? -errno : -EINVAL;
		goto out;
	}
	/* Trust but verify: the method asked for, in the crypt alphabet (so
	 * no ':' or newline can reach the shadow file). */
	if (strncmp(res, prefix, strlen(prefix)) != 0 || !sspr_crypt_alphabet_ok(res)) {
		r = -SSPR_E_BAD_HASH;
		goto out;
	}
	n = strlen(res);
	if (n >= outlen) {
		r = -ENOBUFS;
		goto out;
	}
	memcpy(out, res, n + 1);
	r = 0;
out:
	crypt_data_free(cd);
	return r;
}

bool sspr_passwd_matches(const char *password, const char *hash)
{
	struct crypt_data *cd;
	const char *res;
	bool ok = false;
	size_t n;

	/* A locked or empty hash never matches; neither does a string that
	 * is no hash at all. */
	if (!password || !sspr_crypt_alphabet_ok(hash) || hash[0] == '*')
		return false;
	if (sodium_init() < 0)
		return false;
	cd = crypt_data_new();
	if (!cd)
		return false;
	res = crypt_rn(password, hash, cd, (int)sizeof *cd);
	n = strlen(hash);
	if (res && res[0] != '*' && strlen(res) == n)
		ok = sodium_memcmp(res, hash, n) == 0;
	crypt_data_free(cd);
	return ok;
}
