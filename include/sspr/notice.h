/* SPDX-License-Identifier: BSD-2-Clause */
/* Next-login notices (SPEC section 7): the helper leaves one after a reset
 * or a self-service re-enrollment in STATEDIR/notices/UID.KIND; the
 * module's session part shows it once and removes it. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum sspr_notice_kind { SSPR_NOTICE_RESET, SSPR_NOTICE_REENROLL, SSPR_NOTICE__MAX };

struct sspr_notice {
	enum sspr_notice_kind kind;
	int64_t time;
	char service[64];  /* "-" when unknown */
	char rhost[256];   /* "-" when local */
	char tty[64];
};

/* Pure: "sspr-notice 1\nkind reset\ntime N\nservice S\nrhost R\ntty T\n". */
int sspr_notice_parse(struct sspr_notice *n, const char *text, size_t len);
int sspr_notice_format(const struct sspr_notice *n, char *out, size_t outlen);

/* The sentence shown: "Your password was reset on 2026-11-29 14:03 UTC
 * from 192.0.2.7 (sshd)." (from the tty without a remote host;
 * "Your authenticator was re-enrolled on ..." for a re-enrollment). */
int sspr_notice_text(const struct sspr_notice *n, char *out, size_t outlen);

/* Leave a notice for uid (replacing one of the same kind). */
int sspr_notice_store(const char *statedir, uid_t uid, const struct sspr_notice *n);

/* Take (read and remove) uid's notices, oldest first: up to max into
 * ret; *ret_n set.  Unsafe or corrupt files are removed unread. */
int sspr_notice_take(const char *statedir, uid_t uid, struct sspr_notice *ret, size_t max,
                     size_t *ret_n);
