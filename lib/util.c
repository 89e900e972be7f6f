/* SPDX-License-Identifier: BSD-2-Clause */
#include <limits.h>
#include <string.h>

#include <sodium.h>

#include "sspr/common.h"

static const char *const sspr_err_names[SSPR_E_LAST - SSPR_E_FIRST] = {
	[SSPR_E_CONFIG - SSPR_E_FIRST] = "configuration error",
	[SSPR_E_RECORD - SSPR_E_FIRST] = "invalid state record",
	[SSPR_E_PROTO - SSPR_E_FIRST] = "protocol error",
	[SSPR_E_UNSAFE_FILE - SSPR_E_FIRST] = "unsafe file (owner, mode, type or links)",
	[SSPR_E_NO_LINE - SSPR_E_FIRST] = "user has no line in the shadow file",
	[SSPR_E_DUP_LINE - SSPR_E_FIRST] = "user has more than one line in the shadow file",
	[SSPR_E_LOCKED_PW - SSPR_E_FIRST] = "password is locked",
	[SSPR_E_ACCOUNT_EXPIRED - SSPR_E_FIRST] = "account has expired",
	[SSPR_E_ACCOUNT_INACTIVE - SSPR_E_FIRST] = "account is inactive",
	[SSPR_E_BAD_HASH - SSPR_E_FIRST] = "hash outside the crypt alphabet",
	[SSPR_E_WEAK_METHOD - SSPR_E_FIRST] = "weak or unsupported hash method",
	[SSPR_E_CODE_INVALID - SSPR_E_FIRST] = "invalid code",
	[SSPR_E_CODE_REPLAY - SSPR_E_FIRST] = "code already used",
	[SSPR_E_LOCK_TIMEOUT - SSPR_E_FIRST] = "timed out waiting for a lock",
	[SSPR_E_NOT_DURABLE - SSPR_E_FIRST] = "written, durability unknown",
	[SSPR_E_TOO_LONG - SSPR_E_FIRST] = "input too long",
};

const char *sspr_strerror(int err)
{
	/* negated as unsigned: -INT_MIN does not fit an int */
	unsigned e = err < 0 ? 0u - (unsigned)err : (unsigned)err;

	if (e > SSPR_E_FIRST && e < SSPR_E_LAST && sspr_err_names[e - SSPR_E_FIRST])
		return sspr_err_names[e - SSPR_E_FIRST];
	if (e > 0 && e < SSPR_E_FIRST)
		return strerrordesc_np((int)e) ? strerrordesc_np((int)e) : "unknown error";
	return "unknown error";
}

int sspr_strtonum(const char *s, long long min, long long max, long long *ret)
{
	long long v = 0;
	bool neg = false;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	if (*p == '-') {
		neg = true;
		p++;
	} else if (*p == '+') {
		p++;
	}
	if (!*p)
		return -EINVAL;
	for (; *p; p++) {
		int d;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		d = *p - '0';
		if (neg) {
			if (v < (LLONG_MIN + d) / 10)
				return -ERANGE;
			v = v * 10 - d;
		} else {
			if (v > (LLONG_MAX - d) / 10)
				return -ERANGE;
			v = v * 10 + d;
		}
	}
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

void *sspr_secure_alloc(size_t len)
{
	void *p;

	if (sodium_init() < 0)
		return NULL;
	p = sodium_malloc(len ? len : 1);
	if (p)
		memset(p, 0, len ? len : 1);
	return p;
}

void sspr_secure_free(void *p)
{
	if (p)
		sodium_free(p); /* wipes before freeing */
}

void sspr_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}

int sspr_strlcpy(char *dst, const char *src, size_t dstlen)
{
	size_t n = strnlen(src, dstlen);

	if (dstlen == 0)
		return -SSPR_E_TOO_LONG;
	if (n >= dstlen) {
		dst[0] = '\0';
		return -SSPR_E_TOO_LONG;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

int sspr_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
