/* SPDX-License-Identifier: BSD-2-Clause */
/* sspr-cli status: whether a user is enrolled, and how; never the secret.
 *
 * JSON (one object, keys stable, documented in sspr-cli(8)):
 *   {"user":"alice","uid":1001,"enrolled":true,"type":"totp",
 *    "algorithm":"sha1","digits":6,"period":30,
 *    "created":"2026-11-29T05:00:00Z","last_used":null}
 * Not enrolled: only user, uid and enrolled.  HOTP: period is null.
 * last_used is null until a code has been accepted. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "sspr/common.h"
#include "sspr/otp.h"
#include "sspr/policy.h"
#include "sspr/record.h"
#include "cli.h"

#define CMD "status"

static const char usage_text[] =
	"Usage: sspr-cli status [USER] [--json]\n"
	"\n"
	"Show whether USER is enrolled and with what kind of authenticator:\n"
	"type, algorithm, digits, period, when enrolled and when last used.\n"
	"Never shows the secret.\n"
	"\n"
	"Options:\n"
	"      --json    one JSON object: user, uid, enrolled and, when enrolled,\n"
	"                type, algorithm, digits, period, created, last_used\n"
	"  -h, --help    show this help\n"
	"\n"
	"USER is required when run as root.\n";

enum { OPT_JSON = 0x100 };

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

static void print_json(struct cli_out *o, const struct sspr_account *a,
                       const struct sspr_record *rec)
{
	char t[32];

	cli_out_str(o, "{\"user\":");
	cli_out_json_str(o, a->name);
	cli_out_fmt(o, ",\"uid\":%u,\"enrolled\":%s", (unsigned)a->uid, rec ? "true" : "false");
	if (rec) {
		bool totp = rec->otp.type == SSPR_OTP_TOTP;

		cli_out_fmt(o, ",\"type\":\"%s\",\"algorithm\":\"%s\",\"digits\":%u",
		            totp ? "totp" : "hotp", alg_name(rec->otp.alg), rec->otp.digits);
		if (totp)
			cli_out_fmt(o, ",\"period\":%u", rec->otp.period);
		else
			cli_out_str(o, ",\"period\":null");
		cli_out_fmt(o, ",\"created\":\"%s\"", cli_iso8601(rec->created, t));
		if (rec->last_used > 0)
			cli_out_fmt(o, ",\"last_used\":\"%s\"", cli_iso8601(rec->last_used, t));
		else
			cli_out_str(o, ",\"last_used\":null");
	}
	cli_out_str(o, "}\n");
}

static void print_text(struct cli_out *o, const struct sspr_account *a,
                       const struct sspr_record *rec)
{
	char t[32];

	cli_out_fmt(o, "user:      %s\n", cli_safe(a->name));
	cli_out_fmt(o, "uid:       %u\n", (unsigned)a->uid);
	cli_out_fmt(o, "enrolled:  %s\n", rec ? "yes" : "no");
	if (!rec)
		return;
	cli_out_fmt(o, "type:      %s\n", rec->otp.type == SSPR_OTP_TOTP ? "totp" : "hotp");
	cli_out_fmt(o, "algorithm: %s\n", alg_name(rec->otp.alg));
	cli_out_fmt(o, "digits:    %u\n", rec->otp.digits);
	if (rec->otp.type == SSPR_OTP_TOTP)
		cli_out_fmt(o, "period:    %u\n", rec->otp.period);
	cli_out_fmt(o, "created:   %s\n", cli_iso8601(rec->created, t));
	cli_out_fmt(o, "last_used: %s\n",
	            rec->last_used > 0 ? cli_iso8601(rec->last_used, t) : "never");
}

int cli_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(cli_ctx_done) struct cli_ctx ctx = { .cmd = CMD };
	_cleanup_(sspr_account_free) struct sspr_account acct = { .exists = false };
	_cleanup_(cli_out_free) struct cli_out out = { .buf = NULL };
	_cleanup_record_ struct sspr_record *rec = NULL;
	_cleanup_close_ int usersfd = -1;
	const char *user = NULL;
	bool json = false, enrolled = false;
	int c, r;

	while ((c = cli_getopt(CMD, argc, argv, ":h", longopts)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage_text, stdout);
			return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
		case OPT_JSON:
			json = true;
			break;
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
	if (!ctx.admin) {
		fprintf(stderr, "%s: self-service status is not available yet; run as root\n",
		        CLI_PROG);
		return CLI_EXIT_FAIL;
	}
	if (!user)
		return cli_usage_error(CMD, "USER is required when run as root");
	r = cli_ctx_load_config(&ctx);
	if (r != 0)
		return r;
	r = cli_lookup(&ctx, user, &acct);
	if (r != 0)
		return r;

	rec = sspr_record_new();
	if (!rec)
		return cli_fail(CMD, "%s", sspr_strerror(-ENOMEM));
	/* Records are replaced by rename: a read needs no lock. */
	r = sspr_state_open_users(ctx.paths.statedir, 0, &usersfd);
	if (r == 0)
		r = sspr_record_load(usersfd, acct.uid, acct.name, rec);
	if (r == 0)
		enrolled = true;
	else if (r != -ENOENT) /* -ENOENT: no state directory, or no record */
		return cli_fail(CMD, "cannot read the enrollment of %s (uid %u): %s",
		                cli_safe(acct.name), (unsigned)acct.uid, sspr_strerror(r));

	if (json)
		print_json(&out, &acct, enrolled ? rec : NULL);
	else
		print_text(&out, &acct, enrolled ? rec : NULL);
	r = cli_out_write(&out, STDOUT_FILENO);
	if (r < 0)
		return cli_fail(CMD, "cannot write the output: %s", sspr_strerror(r));
	return CLI_EXIT_OK;
}
