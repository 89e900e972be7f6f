/* SPDX-License-Identifier: BSD-2-Clause */
/* Recovery codes (SPEC section 4): the set enroll issues, and
 * sspr-cli recovery-codes, which replaces it.  Codes are made by the core
 * (sspr_rc_generate, keyed with the host key), shown once from secure
 * memory, and stored only as hashes, under the record lock. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "sspr/audit.h"
#include "sspr/common.h"
#include "sspr/policy.h"
#include "sspr/record.h"
#include "sspr/recovery.h"
#include "cli.h"

#define CMD "recovery-codes"
#define LOCK_TIMEOUT_MS 10000

static const char usage_text[] =
	"Usage: sspr-cli recovery-codes [USER]\n"
	"\n"
	"Issue a new set of one-time recovery codes for USER, who must be\n"
	"enrolled, and print them one a line as XXXXX-XXXXX.  The previous set\n"
	"is void.  Each code works once, at the verification-code prompt, in any\n"
	"case and with or without the dash.  The codes are shown only now and\n"
	"stored only as keyed hashes: give them to USER only.  How many:\n"
	"recovery_codes in sspr.conf (default 10).\n"
	"\n"
	"Options:\n"
	"  -h, --help    show this help\n"
	"\n"
	"As root, USER is required and standard input is never read.  Exits 1\n"
	"when USER is not enrolled (not_enrolled) or recovery_codes is 0.\n"
	"\n"
	"Self-service: an ordinary user may renew their own codes (USER omitted or\n"
	"their own name) when self_enroll = yes, after giving the current password\n"
	"(\"Current password: \", from the terminal, or the first line of standard\n"
	"input when that is not a terminal) and, when a set exists, a current code\n"
	"(\"Verification code: \", or the second line; one of the old recovery\n"
	"codes works too).  Replacing a set is announced at the next login.\n";

int cli_rc_make(struct cli_ctx *ctx, const struct sspr_account *a, unsigned n,
                struct cli_rc *ret)
{
	_cleanup_secure_ unsigned char *key = NULL;
	int r;

	memset(ret, 0, sizeof *ret);
	if (n == 0 || n > SSPR_RC_MAX)
		return cli_fail(ctx->cmd, "cannot issue %u recovery codes (1..%d)", n, SSPR_RC_MAX);
	r = cli_hostkey(ctx, 1, &key);
	if (r < 0)
		return cli_fail(ctx->cmd, "cannot load the host key in %s: %s",
		                ctx->paths.statedir, sspr_strerror(r));
	ret->set = calloc(1, sizeof *ret->set);
	ret->shown = sspr_secure_alloc((size_t)n * sizeof ret->shown[0]);
	if (!ret->set || !ret->shown) {
		cli_rc_free(ret);
		return cli_fail(ctx->cmd, "%s", sspr_strerror(-ENOMEM));
	}
	if (sspr_strlcpy(ret->set->user, a->name, sizeof ret->set->user) < 0) {
		cli_rc_free(ret);
		return cli_fail(ctx->cmd, "user name too long");
	}
	ret->set->uid = a->uid;
	ret->set->created = (int64_t)sspr_now();
	r = sspr_rc_generate(key, n, ret->set, ret->shown);
	if (r < 0) {
		cli_rc_free(ret);
		return cli_fail(ctx->cmd, "cannot make recovery codes: %s", sspr_strerror(r));
	}
	ret->n = n;
	return 0;
}

void cli_rc_show(const struct cli_rc *rc, struct cli_out *o)
{
	for (unsigned i = 0; i < rc->n; i++) {
		cli_out_add(o, rc->shown[i], strnlen(rc->shown[i], sizeof rc->shown[i]));
		cli_out_add(o, "\n", 1);
	}
}

void cli_rc_free(struct cli_rc *rc)
{
	if (rc->set) {
		sspr_wipe(rc->set, sizeof *rc->set);
		free(rc->set);
	}
	sspr_secure_free(rc->shown); /* wipes */
	memset(rc, 0, sizeof *rc);
}

void cli_rc_audit(const struct cli_ctx *ctx, const struct sspr_account *a, unsigned count,
                  bool durable)
{
	char uidbuf[16], byuid[16], cnt[16];
	struct sspr_kv kv[5] = {
		{ "user", a->name },
		{ "uid", cli_uid_str(a->uid, uidbuf) },
		{ "count", cnt },
		{ "by_uid", cli_uid_str(ctx->caller, byuid) },
	};
	size_t n = 4;

	(void)snprintf(cnt, sizeof cnt, "%u", count);
	if (!durable) {
		kv[n].key = "durable";
		kv[n++].value = "no";
	}
	sspr_audit_log(LOG_NOTICE, "recovery_codes", kv, n);
}

/* Whether a is enrolled: 0 (yes) or an exit code (message printed).
 * again: the check under the lock, after the codes were shown. */
static int check_enrolled(int usersfd, const struct sspr_account *a, bool again)
{
	_cleanup_record_ struct sspr_record *rec = sspr_record_new();
	int r;

	if (!rec)
		return cli_fail(CMD, "%s", sspr_strerror(-ENOMEM));
	r = sspr_record_load(usersfd, a->uid, a->name, rec);
	if (r == 0)
		return 0;
	if (r == -ENOENT)
		return cli_fail(CMD, "%s is not enrolled (%s)%s", cli_safe(a->name),
		                sspr_reason_name(SSPR_R_NOT_ENROLLED),
		                again ? "; nothing was stored, discard the codes shown above" : "");
	return cli_fail(CMD, "cannot read the enrollment of %s (uid %u): %s%s",
	                cli_safe(a->name), (unsigned)a->uid, sspr_strerror(r),
	                again ? "; nothing was stored, discard the codes shown above" : "");
}

/* Self-service: a new set for the caller, made by the helper after the
 * current password (and a current code when a set exists). */
static int recovery_codes_self(const char *user)
{
	_cleanup_(cli_self_end) struct cli_self self = { .cmd = CMD };
	_cleanup_(cli_out_free) struct cli_out out = { .buf = NULL };
	int r;

	r = cli_self_begin(&self, CMD, user);
	if (r != 0)
		return r;
	r = cli_self_auth(&self, "recovery-codes", true, NULL);
	if (r == 0)
		r = cli_self_do(&self, NULL, 0);
	if (r != 0)
		return r;
	r = self.rep->nfields == 2 ? cli_self_codes(self.rep->field[1].data, &out) : -EINVAL;
	if (r == 0)
		return cli_fail(CMD, "no recovery codes were issued (recovery_codes = 0 in "
		                "sspr.conf); any earlier set is void");
	if (r < 0)
		return cli_fail(CMD, "the helper's answer cannot be shown; run 'sspr-cli "
		                "recovery-codes' again");
	r = cli_out_write(&out, STDOUT_FILENO);
	if (r < 0)
		return cli_fail(CMD, "cannot write the output: %s; the new codes are stored and the "
		                "old ones void: run 'sspr-cli recovery-codes' again",
		                sspr_strerror(r));
	return CLI_EXIT_OK;
}

int cli_recovery_codes(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(cli_ctx_done) struct cli_ctx ctx = { .cmd = CMD };
	_cleanup_(sspr_account_free) struct sspr_account acct = { .exists = false };
	_cleanup_(cli_out_free) struct cli_out out = { .buf = NULL };
	_cleanup_(cli_rc_free) struct cli_rc rc = { .n = 0 };
	_cleanup_close_ int usersfd = -1;
	_cleanup_close_ int lockfd = -1;
	const char *user = NULL;
	bool durable = true;
	int c, r;

	while ((c = cli_getopt(CMD, argc, argv, ":h", longopts)) != -1) {
		switch (c) {
		case 'h':
			return cli_help(usage_text);
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		user = argv[optind++];
	if (optind < argc)
		return cli_usage_error(CMD, "unexpected argument '%s'", cli_safe(argv[optind]));

	r = cli_ctx_init(&ctx, CMD);
	if (r != 0)
		return r;
	if (!ctx.admin)
		return recovery_codes_self(user);
	if (!user)
		return cli_usage_error(CMD, "USER is required when run as root");
	r = cli_ctx_load_config(&ctx);
	if (r != 0)
		return r;
	r = cli_lookup(&ctx, user, &acct);
	if (r != 0)
		return r;
	if (ctx.cfg.recovery_codes == 0)
		return cli_fail(CMD, "recovery_codes = 0 in %s: no recovery codes are issued",
		                ctx.paths.conf);

	r = sspr_state_open_users(ctx.paths.statedir, 0, &usersfd);
	if (r == -ENOENT)
		return cli_fail(CMD, "%s is not enrolled (%s)", cli_safe(acct.name),
		                sspr_reason_name(SSPR_R_NOT_ENROLLED));
	if (r < 0)
		return cli_fail(CMD, "state directory %s: %s", ctx.paths.statedir,
		                sspr_strerror(r));
	/* Records are replaced by rename: this first check needs no lock. */
	r = check_enrolled(usersfd, &acct, false);
	if (r != 0)
		return r;
	r = cli_rc_make(&ctx, &acct, ctx.cfg.recovery_codes, &rc);
	if (r != 0)
		return r;

	/* Shown first, without the lock (a paused terminal must not stall
	 * resets): if that fails, the old set stays valid. */
	cli_rc_show(&rc, &out);
	r = cli_out_write(&out, STDOUT_FILENO);
	if (r < 0)
		return cli_fail(CMD, "cannot write the output: %s; the old codes are still valid",
		                sspr_strerror(r));

	r = sspr_record_lock(usersfd, LOCK_TIMEOUT_MS, &lockfd);
	if (r < 0)
		return cli_fail(CMD, "cannot lock %s: %s; nothing was stored, discard the codes "
		                "shown above", ctx.paths.usersdir, sspr_strerror(r));
	r = check_enrolled(usersfd, &acct, true);
	if (r != 0)
		return r;
	r = sspr_rc_store(usersfd, rc.set);
	if (r == -SSPR_E_NOT_DURABLE) {
		cli_warn(CMD, "the recovery codes of %s are in place, but %s could not be synced",
		         cli_safe(acct.name), ctx.paths.usersdir);
		durable = false;
	} else if (r < 0) {
		return cli_fail(CMD, "cannot store the recovery codes of %s: %s; nothing was "
		                "stored, discard the codes shown above", cli_safe(acct.name),
		                sspr_strerror(r));
	}
	cli_rc_audit(&ctx, &acct, rc.n, durable);
	return CLI_EXIT_OK;
}
