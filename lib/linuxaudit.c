/* SPDX-License-Identifier: BSD-2-Clause */
/* Linux audit records (linuxaudit.h).  One netlink socket per record,
 * opened and closed here: a reset sends at most a couple. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sspr-build.h"
#if HAVE_LIBAUDIT
#include <libaudit.h>
#endif

#include "sspr/common.h"
#include "sspr/linuxaudit.h"

bool sspr_linuxaudit_enabled(void)
{
	return HAVE_LIBAUDIT && geteuid() == 0;
}

#if HAVE_LIBAUDIT
/* No audit here, or not allowed to send: not an error of ours. */
static bool unavailable(int e)
{
	return e == EINVAL || e == EPROTONOSUPPORT || e == EAFNOSUPPORT || e == EPERM ||
	       e == ECONNREFUSED || e == EACCES;
}

/* libaudit writes hostname= and terminal= as given (unquoted): pass a
 * value from outside only when it cannot forge a field, else "?". */
static const char *field(const char *v)
{
	if (!v || !*v || strcmp(v, "-") == 0 || strlen(v) > 255)
		return "?";
	for (const char *c = v; *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/@+-",
		            *c))
			return "?";
	return v;
}

/* addr= for rhost: the address itself when rhost is one; otherwise "?"
 * (never NULL: libaudit would resolve the name, a DNS wait). */
static const char *addr_of(const char *rhost)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (rhost && (inet_pton(AF_INET, rhost, buf) == 1 || inet_pton(AF_INET6, rhost, buf) == 1))
		return rhost;
	return "?";
}

static int open_fd(int *ret_fd)
{
	int fd;

	if (!sspr_linuxaudit_enabled())
		return 0;
	fd = audit_open();
	if (fd < 0)
		return unavailable(errno) ? 0 : -errno;
	*ret_fd = fd;
	return 1;
}

static int sent(int rc, int fd)
{
	int e = errno;

	audit_close(fd);
	if (rc > 0)
		return 0;
	return unavailable(e) ? 0 : -(e ? e : EIO);
}
#endif

int sspr_linuxaudit_chauthtok(const struct sspr_linuxaudit_who *who, bool success)
{
#if HAVE_LIBAUDIT
	const char *host = field(who->rhost);
	int fd = -1, r, rc;

	r = open_fd(&fd);
	if (r <= 0)
		return r;
	/* as libpam writes its USER_CHAUTHTOK for passwd(1): no program
	 * name, op=, the account by name (libaudit writes acct="NAME" only
	 * when the id is -1, else id=N), host, address, terminal, result */
	errno = 0;
	rc = audit_log_acct_message(fd, AUDIT_USER_CHAUTHTOK, NULL, "sspr-reset",
	                            who->user ? who->user : "?", (unsigned)-1,
	                            host, addr_of(strcmp(host, "?") ? host : NULL),
	                            field(who->tty), success ? 1 : 0);
	return sent(rc, fd);
#else
	(void)who;
	(void)success;
	return 0;
#endif
}

int sspr_linuxaudit_lockout(const struct sspr_linuxaudit_who *who, bool hard)
{
#if HAVE_LIBAUDIT
	const char *host = field(who->rhost);
	char msg[512];
	char *acct = NULL;
	int fd = -1, r, rc, w;

	r = open_fd(&fd);
	if (r <= 0)
		return r;
	/* as pam_faillock does (AUDIT_ANOM_LOGIN_FAILURES, op=, result 1);
	 * a name that matches no account is not written in clear */
	if (who->user) {
		acct = audit_encode_nv_string("acct", who->user, 0);
		if (!acct) {
			audit_close(fd);
			return -ENOMEM;
		}
		w = snprintf(msg, sizeof msg, "op=sspr-lockout %s uid=%u hard=%s", acct,
		             (unsigned)who->uid, hard ? "yes" : "no");
	} else {
		w = snprintf(msg, sizeof msg, "op=sspr-lockout acct=? user_hash=%s hard=%s",
		             field(who->user_hash), hard ? "yes" : "no");
	}
	free(acct);
	if (w < 0 || (size_t)w >= sizeof msg) {
		audit_close(fd);
		return -SSPR_E_TOO_LONG;
	}
	errno = 0;
	rc = audit_log_user_message(fd, AUDIT_ANOM_LOGIN_FAILURES, msg, host,
	                            addr_of(strcmp(host, "?") ? host : NULL), field(who->tty), 1);
	return sent(rc, fd);
#else
	(void)who;
	(void)hard;
	return 0;
#endif
}
