/* SPDX-License-Identifier: BSD-2-Clause */
/* sspr-cli unlock: clear the rate-limit tally of a user's name (the
 * lockout, its doubling, the failure counts, a hard lock).  The tally is
 * found by the keyed hash of the name, made by the core (ratelimit.h). */
#include <getopt.h>
#include <stdio.h>
#include <syslog.h>

#include "sspr/audit.h"
#include "sspr/common.h"
#include "sspr/policy.h"
#include "sspr/ratelimit.h"
#include "cli.h"

#define CMD "unlock"

static const char usage_text[] =
	"Usage: sspr-cli unlock USER\n"
	"\n"
	"Clear the rate-limit state of USER's name: a lockout (timed or hard,\n"
	"after hard_deny consecutive failures), the lockout doubling and the\n"
	"failure counts.  Says whether USER was locked; exits 0 either way.  The\n"
	"limits per source host and host-wide are not changed.\n"
	"\n"
	"Options:\n"
	"  -h, --help    show this help\n";

static void audit(const struct cli_ctx *ctx, const struct sspr_account *a, bool was_locked)
{
	char uidbuf[16], byuid[16];
	struct sspr_kv kv[] = {
		{ "user", a->name },
		{ "uid", cli_uid_str(a->uid, uidbuf) },
		{ "by_uid", cli_uid_str(ctx->caller, byuid) },
		{ "was_locked", was_locked ? "yes" : "no" },
	};

	sspr_audit_log(LOG_NOTICE, "unlock", kv, SSPR_ELEMENTSOF(kv));
}

int cli_unlock(int argc, char **argv)
{
	_cleanup_(cli_ctx_done) struct cli_ctx ctx = { .cmd = CMD };
	_cleanup_(sspr_account_free) struct sspr_account acct = { .exists = false };
	_cleanup_secure_ unsigned char *key = NULL;
	_cleanup_close_ int dirfd = -1;
	bool was_locked = false;
	int r;

	if (!cli_admin_one_user(&ctx, argc, argv, usage_text, "only root may unlock a user", &acct,
	                        &r))
		return r;

	/* No host key or no tally directory: nothing was ever counted. */
	r = cli_hostkey(&ctx, 0, &key);
	if (r == 0)
		r = sspr_rl_open(ctx.paths.statedir, 0, &dirfd);
	if (r == 0)
		r = sspr_rl_unlock(dirfd, key, acct.name, sspr_now(), &was_locked);
	if (r < 0 && r != -ENOENT)
		return cli_fail(CMD, "cannot clear the rate-limit state of %s: %s",
		                cli_safe(acct.name), sspr_strerror(r));
	audit(&ctx, &acct, was_locked);
	if (was_locked)
		printf("Unlocked %s; the failure counts are cleared.\n", cli_safe(acct.name));
	else
		printf("%s was not locked; the failure counts are cleared.\n",
		       cli_safe(acct.name));
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
