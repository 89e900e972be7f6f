/* SPDX-License-Identifier: BSD-2-Clause */
/* Linux audit records (libaudit), beside syslog and the journal, the way
 * passwd(1), pam_unix and pam_faillock report theirs (sspr-helper(8)):
 *   a password set by a reset  AUDIT_USER_CHAUTHTOK (1108), op=sspr-reset,
 *                              acct=, res=success|failed
 *   a lockout (event locked)   AUDIT_ANOM_LOGIN_FAILURES (2100),
 *                              op=sspr-lockout acct= (or user_hash=) uid= hard=
 * Sent only with effective uid 0 (an unprivileged test root sends none)
 * and only in a build with libaudit (meson -Dlibaudit).  A kernel without
 * audit, or a container that may not send (EINVAL, EPROTONOSUPPORT,
 * EAFNOSUPPORT, EPERM, ECONNREFUSED), is no error: nothing is sent.  A
 * record never blocks or fails a reset: callers ignore the result. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct sspr_linuxaudit_who {
	const char *user;       /* the account; NULL when the name matches none */
	uid_t uid;              /* with user */
	const char *user_hash;  /* instead of user for a name that matches no account */
	const char *rhost;      /* NULL, "" or "-": none */
	const char *tty;        /* NULL, "" or "-": none */
};

/* True when records are sent: a libaudit build running with euid 0. */
bool sspr_linuxaudit_enabled(void);

/* A password change by reset and its result.  Returns 0 (sent, or audit
 * unavailable), or a negative errno of a failed send. */
int sspr_linuxaudit_chauthtok(const struct sspr_linuxaudit_who *who, bool success);

/* A lockout: hard (only `sspr-cli unlock` ends it) or timed.  Returns as
 * sspr_linuxaudit_chauthtok. */
int sspr_linuxaudit_lockout(const struct sspr_linuxaudit_who *who, bool hard);
