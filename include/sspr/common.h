/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared conventions: error codes, cleanup helpers, number parsing.
 *
 * Core functions return 0 on success or a negative value on failure: a
 * negative errno, or the negative of an enum sspr_err for failures that
 * errno cannot name.  Outputs are ret_* parameters, left untouched on
 * failure.  sspr_strerror() names either kind. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define SSPR_FIELD_MAX 512 /* bytes in any one field from outside */

enum sspr_err {
	SSPR_E_FIRST = 4096,       /* above every errno */
	SSPR_E_CONFIG,             /* configuration file invalid */
	SSPR_E_RECORD,             /* state record invalid */
	SSPR_E_PROTO,              /* protocol violation */
	SSPR_E_UNSAFE_FILE,        /* wrong owner, mode, type or link count */
	SSPR_E_NO_LINE,            /* user has no line in shadow */
	SSPR_E_DUP_LINE,           /* user has more than one line */
	SSPR_E_LOCKED_PW,          /* password locked ('!' or '*') */
	SSPR_E_ACCOUNT_EXPIRED,    /* shadow field 8 passed */
	SSPR_E_ACCOUNT_INACTIVE,   /* shadow field 7 ran out */
	SSPR_E_BAD_HASH,           /* hash outside the crypt alphabet */
	SSPR_E_WEAK_METHOD,        /* DES, MD5 or another weak method */
	SSPR_E_CODE_INVALID,       /* OTP code does not match */
	SSPR_E_CODE_REPLAY,        /* code matches an already used step */
	SSPR_E_LOCK_TIMEOUT,       /* could not take a lock in time */
	SSPR_E_NOT_DURABLE,        /* written, but the directory fsync failed */
	SSPR_E_TOO_LONG,           /* input over its cap */
	SSPR_E_LAST,
};

/* Name of a negative return value (errno or sspr_err); never NULL. */
const char *sspr_strerror(int err);

/* Range-checked decimal parser (sudo's strtonum): the whole string must be
 * a number in [min, max]. Returns 0, -EINVAL (not a number) or -ERANGE. */
int sspr_strtonum(const char *s, long long min, long long max, long long *ret);

/* Cleanup helpers (systemd's _cleanup_). */
#define _cleanup_(f) __attribute__((cleanup(f)))
static inline void sspr_freep(void *p) { free(*(void **)p); }
static inline void sspr_closep(int *fd) {
	if (*fd >= 0) {
		int e = errno;
		(void)close(*fd);
		errno = e;
	}
}
#define _cleanup_free_ _cleanup_(sspr_freep)
#define _cleanup_close_ _cleanup_(sspr_closep)

/* Secure buffers: sodium_malloc'd, wiped and freed by sspr_secure_free. */
void *sspr_secure_alloc(size_t len);
void sspr_secure_free(void *p);
/* gcc 12's -fanalyzer reports "use of uninitialized value" here for
 * every _cleanup_secure_ pointer, even one declared "= NULL" (a false
 * positive of its model of the cleanup attribute): silenced for this
 * line only (tests/attack/test-analyzer.sh). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wanalyzer-use-of-uninitialized-value"
static inline void sspr_secure_freep(void *p) { sspr_secure_free(*(void **)p); }
#pragma GCC diagnostic pop
#define _cleanup_secure_ _cleanup_(sspr_secure_freep)
/* Wipe a fixed buffer on scope exit: char buf[N] _cleanup_wipe_(N) is not
 * expressible, so use sspr_wipe(buf, sizeof buf) on every path or
 * _cleanup_secure_ pointers. */
void sspr_wipe(void *p, size_t len);

/* write(2) all of buf, again after EINTR and short writes.  Returns 0 or
 * a negative errno. */
int sspr_write_all(int fd, const void *buf, size_t len);

/* Length-bounded copy: returns 0, or -SSPR_E_TOO_LONG if src (with NUL)
 * does not fit in dstlen (dst then holds ""). */
int sspr_strlcpy(char *dst, const char *src, size_t dstlen);

#define SSPR_ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define SSPR_WARN_UNUSED __attribute__((warn_unused_result))
