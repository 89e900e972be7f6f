/* SPDX-License-Identifier: BSD-2-Clause */
/* sspr-cli revoke: remove a user's enrollment record, under the record
 * lock.  A user who is not enrolled is a refusal (not_enrolled). */
#include <getopt.h>
#include <stdio.h>
#include <syslog.h>

#include "sspr/audit.h"
#include "sspr/common.h"
#include "sspr/policy.h"
#include "sspr/record.h"
#include "sspr/recovery.h"
#include "cli.h"

#define CMD "revoke"
#define LOCK_TIMEOUT_MS 10000

static const char usage_text[] =
	"Usage: sspr-cli revoke USER\n"
	"\n"
	"Remove USER's enrollment and recovery codes: neither their\n"
	"authenticator nor a recovery code resets the password any more.  Exits 1\n"
	"when USER is not enrolled (not_enrolled).\n"
	"\n"
	"Options:\n"
	"  -h, --help    show this help\n";

static int not_enrolled(const struct sspr_account *a)
{
	return cli_fail(CMD, "%s is not enrolled (%s)", cli_safe(a->name),
	                sspr_reason_name(SSPR_R_NOT_ENROLLED));
}

int cli_revoke(int argc, char **argv)
{
	_cleanup_(cli_ctx_done) struct cli_ctx ctx = { .cmd = CMD };
	_cleanup_(sspr_account_free) struct sspr_account acct = { .exists = false };
	_cleanup_close_ int usersfd = -1;
	_cleanup_close_ int lockfd = -1;
	char uidbuf[16], byuid[16];
	bool durable = true;
	int r;

	if (!cli_admin_one_user(&ctx, argc, argv, usage_text, "only root may revoke an enrollment",
	                        &acct, &r))
		return r;

	r = sspr_state_open_users(ctx.paths.statedir, 0, &usersfd);
	if (r == -ENOENT)
		return not_enrolled(&acct);
	if (r < 0)
		return cli_fail(CMD, "state directory %s: %s", ctx.paths.statedir,
		                sspr_strerror(r));
	r = sspr_record_lock(usersfd, LOCK_TIMEOUT_MS, &lockfd);
	if (r < 0)
		return cli_fail(CMD, "cannot lock %s: %s", ctx.paths.usersdir, sspr_strerror(r));
	r = sspr_record_remove(usersfd, acct.uid);
	if (r == -ENOENT) {
		/* recovery codes without a record are void anyway: tidy up */
		(void)sspr_rc_remove(usersfd, acct.uid);
		return not_enrolled(&acct);
	}
	if (r == 0 || r == -SSPR_E_NOT_DURABLE) {
		int rc = sspr_rc_remove(usersfd, acct.uid);

		if (rc == -SSPR_E_NOT_DURABLE && r == 0)
			r = rc;
		else if (rc < 0 && rc != -ENOENT && rc != -SSPR_E_NOT_DURABLE)
			cli_warn(CMD, "cannot remove the recovery codes of %s: %s (they are void "
			         "without an enrollment)", cli_safe(acct.name), sspr_strerror(rc));
	}
	if (r == -SSPR_E_NOT_DURABLE) {
		cli_warn(CMD, "the record of %s is removed, but %s could not be synced",
		         cli_safe(acct.name), ctx.paths.usersdir);
		durable = false;
	} else if (r < 0) {
		return cli_fail(CMD, "cannot remove the record of %s: %s", cli_safe(acct.name),
		                sspr_strerror(r));
	}
	{
		struct sspr_kv kv[4] = {
			{ "user", acct.name },
			{ "uid", cli_uid_str(acct.uid, uidbuf) },
			{ "by_uid", cli_uid_str(ctx.caller, byuid) },
		};
		size_t n = 3;

		if (!durable) {
			kv[n].key = "durable";
			kv[n++].value = "no";
		}
		sspr_audit_log(LOG_NOTICE, "revoke", kv, n);
	}
	printf("Revoked the enrollment of %s.\n", cli_safe(acct.name));
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
