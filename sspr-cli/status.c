/* SPDX-License-Identifier: BSD-2-Clause */
/* sspr-cli status: whether a user is enrolled, and how; how many recovery
 * codes are left; the rate-limit state of the name.  Never the secret.
 *
 * JSON (one object, keys stable, documented in sspr-cli(8)):
 *   {"user":"alice","uid":1001,"enrolled":true,"type":"totp",
 *    "algorithm":"sha1","digits":6,"period":30,
 *    "created":"2026-11-29T05:00:00Z","last_used":null,
 *    "recovery_codes":10,"locked":false,"locked_until":null,
 *    "hard_locked":false,"recent_failures":0,"consecutive_failures":0,
 *    "last_failure":null}
 * Not enrolled: type .. last_used are left out.  HOTP: period is null.
 * last_used is null until a code has been accepted; recovery_codes is
 * null when no set was ever issued (0 when all are used); locked_until is
 * null unless a timed lockout is running; last_failure null when none.
 * Self-service (an ordinary user's own status, through the helper): the
 * rate-limit keys locked .. last_failure are left out, as are the lock and
 * failure lines of the text. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "sspr/common.h"
#include "sspr/otp.h"
#include "sspr/policy.h"
#include "sspr/ratelimit.h"
#include "sspr/record.h"
#include "sspr/recovery.h"
#include "cli.h"

#define CMD "status"

static const char usage_text[] =
	"Usage: sspr-cli status [USER] [--json]\n"
	"\n"
	"Show whether USER is enrolled and with what kind of authenticator (type,\n"
	"algorithm, digits, period, when enrolled, when last used), how many\n"
	"recovery codes are left, and the rate-limit state of the name: whether\n"
	"it is locked (until when, or hard-locked until 'sspr-cli unlock'), the\n"
	"failures within fail_interval, the consecutive failures and the time of\n"
	"the last one.  Never shows the secret.\n"
	"\n"
	"Options:\n"
	"      --json    one JSON object: user, uid, enrolled and, when enrolled,\n"
	"                type, algorithm, digits, period, created, last_used; then\n"
	"                recovery_codes, locked, locked_until, hard_locked,\n"
	"                recent_failures, consecutive_failures, last_failure\n"
	"  -h, --help    show this help\n"
	"\n"
	"USER is required when run as root.  Exits 0 for any existing user.\n"
	"\n"
	"Self-service: an ordinary user may see their own status (USER omitted or\n"
	"their own name) when self_enroll = yes, after giving the current password\n"
	"(\"Current password: \", from the terminal, or the first line of standard\n"
	"input when that is not a terminal).  The rate-limit state is then not\n"
	"shown: no lock and failure lines, and no locked .. last_failure keys.\n";

/* What status shows besides the record. */
struct status_extra {
	bool have_codes;        /* a set was issued */
	unsigned codes_left;
	bool rl_known;          /* rl was read (admin); self-service: not shown */
	struct sspr_rl_status rl;
	time_t now;
};

static bool rl_locked(const struct status_extra *x)
{
	return x->rl.hard_locked || x->rl.locked_until > (int64_t)x->now;
}

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
                       const struct sspr_record *rec, const struct status_extra *x)
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
	if (x->have_codes)
		cli_out_fmt(o, ",\"recovery_codes\":%u", x->codes_left);
	else
		cli_out_str(o, ",\"recovery_codes\":null");
	if (!x->rl_known) {
		cli_out_str(o, "}\n");
		return;
	}
	cli_out_fmt(o, ",\"locked\":%s", rl_locked(x) ? "true" : "false");
	if (!x->rl.hard_locked && x->rl.locked_until > (int64_t)x->now)
		cli_out_fmt(o, ",\"locked_until\":\"%s\"", cli_iso8601(x->rl.locked_until, t));
	else
		cli_out_str(o, ",\"locked_until\":null");
	cli_out_fmt(o, ",\"hard_locked\":%s,\"recent_failures\":%u,"
	            "\"consecutive_failures\":%u", x->rl.hard_locked ? "true" : "false",
	            x->rl.recent_failures, x->rl.consecutive);
	if (x->rl.last_failure > 0)
		cli_out_fmt(o, ",\"last_failure\":\"%s\"", cli_iso8601(x->rl.last_failure, t));
	else
		cli_out_str(o, ",\"last_failure\":null");
	cli_out_str(o, "}\n");
}

static void print_text(struct cli_out *o, const struct sspr_account *a,
                       const struct sspr_record *rec, const struct status_extra *x)
{
	char t[32];

	cli_out_fmt(o, "user:           %s\n", cli_safe(a->name));
	cli_out_fmt(o, "uid:            %u\n", (unsigned)a->uid);
	cli_out_fmt(o, "enrolled:       %s\n", rec ? "yes" : "no");
	if (rec) {
		cli_out_fmt(o, "type:           %s\n",
		            rec->otp.type == SSPR_OTP_TOTP ? "totp" : "hotp");
		cli_out_fmt(o, "algorithm:      %s\n", alg_name(rec->otp.alg));
		cli_out_fmt(o, "digits:         %u\n", rec->otp.digits);
		if (rec->otp.type == SSPR_OTP_TOTP)
			cli_out_fmt(o, "period:         %u\n", rec->otp.period);
		cli_out_fmt(o, "created:        %s\n", cli_iso8601(rec->created, t));
		cli_out_fmt(o, "last used:      %s\n",
		            rec->last_used > 0 ? cli_iso8601(rec->last_used, t) : "never");
	}
	if (x->have_codes)
		cli_out_fmt(o, "recovery codes: %u left\n", x->codes_left);
	else
		cli_out_str(o, "recovery codes: none issued\n");
	if (!x->rl_known)
		return;
	if (x->rl.hard_locked)
		cli_out_str(o, "lock:           hard-locked (until sspr-cli unlock)\n");
	else if (x->rl.locked_until > (int64_t)x->now)
		cli_out_fmt(o, "lock:           locked until %s\n",
		            cli_iso8601(x->rl.locked_until, t));
	else
		cli_out_str(o, "lock:           not locked\n");
	cli_out_fmt(o, "failures:       %u recent, %u consecutive\n", x->rl.recent_failures,
	            x->rl.consecutive);
	cli_out_fmt(o, "last failure:   %s\n",
	            x->rl.last_failure > 0 ? cli_iso8601(x->rl.last_failure, t) : "never");
}

/* Recovery codes left: 0, or an exit code (message printed). */
static int load_codes(int usersfd, const struct sspr_account *a, struct status_extra *x)
{
	_cleanup_free_ struct sspr_rc_set *set = calloc(1, sizeof *set);
	int r;

	if (!set)
		return cli_fail(CMD, "%s", sspr_strerror(-ENOMEM));
	r = usersfd < 0 ? -ENOENT : sspr_rc_load(usersfd, a->uid, a->name, set);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return cli_fail(CMD, "cannot read the recovery codes of %s (uid %u): %s",
		                cli_safe(a->name), (unsigned)a->uid, sspr_strerror(r));
	x->have_codes = true;
	x->codes_left = set->n;
	return 0;
}

/* The name's rate-limit tally (none: all zero): 0, or an exit code. */
static int load_tally(struct cli_ctx *ctx, const struct sspr_account *a,
                      struct status_extra *x)
{
	_cleanup_secure_ unsigned char *key = NULL;
	_cleanup_close_ int dirfd = -1;
	int r;

	/* No host key or no tally directory: no failure was ever counted. */
	r = cli_hostkey(ctx, 0, &key);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return cli_fail(CMD, "cannot load the host key in %s: %s", ctx->paths.statedir,
		                sspr_strerror(r));
	r = sspr_rl_open(ctx->paths.statedir, 0, &dirfd);
	if (r == -ENOENT)
		return 0;
	if (r == 0)
		r = sspr_rl_status(dirfd, &ctx->cfg, key, a->name, x->now, &x->rl);
	if (r < 0)
		return cli_fail(CMD, "cannot read the rate-limit state of %s: %s",
		                cli_safe(a->name), sspr_strerror(r));
	return 0;
}

/* The helper's self-service answer: "enrolled=no", or "enrolled=yes
 * type=T algorithm=A digits=N period=N created=N last_used=N
 * recovery_codes=N" (-1: none issued).  Unknown keys are skipped.
 * Returns 0 or -SSPR_E_PROTO. */
static int parse_self_status(const char *text, struct sspr_record *rec, bool *ret_enrolled,
                             struct status_extra *x)
{
	static const char *const keys[] = { "enrolled", "type", "algorithm", "digits", "period",
		                            "created", "last_used", "recovery_codes" };
	unsigned seen = 0;
	const char *p = text;

	while (*p) {
		char kv[64], *val;
		size_t n = strcspn(p, " ");
		long long v = 0;
		size_t k;

		if (n == 0 || n >= sizeof kv)
			return -SSPR_E_PROTO;
		memcpy(kv, p, n);
		kv[n] = '\0';
		p += n;
		if (*p == ' ' && *++p == '\0')
			return -SSPR_E_PROTO;
		val = strchr(kv, '=');
		if (!val)
			return -SSPR_E_PROTO;
		*val++ = '\0';
		for (k = 0; k < SSPR_ELEMENTSOF(keys) && strcmp(kv, keys[k]) != 0; k++)
			;
		if (k == SSPR_ELEMENTSOF(keys))
			continue;
		if (seen & (1u << k))
			return -SSPR_E_PROTO;
		seen |= 1u << k;
		switch (k) {
		case 0:
			if (strcmp(val, "yes") != 0 && strcmp(val, "no") != 0)
				return -SSPR_E_PROTO;
			*ret_enrolled = strcmp(val, "yes") == 0;
			break;
		case 1:
			if (strcmp(val, "totp") != 0 && strcmp(val, "hotp") != 0)
				return -SSPR_E_PROTO;
			rec->otp.type = strcmp(val, "hotp") == 0 ? SSPR_OTP_HOTP : SSPR_OTP_TOTP;
			break;
		case 2:
			if (strcmp(val, "sha1") == 0)
				rec->otp.alg = SSPR_OTP_SHA1;
			else if (strcmp(val, "sha256") == 0)
				rec->otp.alg = SSPR_OTP_SHA256;
			else if (strcmp(val, "sha512") == 0)
				rec->otp.alg = SSPR_OTP_SHA512;
			else
				return -SSPR_E_PROTO;
			break;
		case 3:
			if (sspr_strtonum(val, 6, 8, &v) < 0)
				return -SSPR_E_PROTO;
			rec->otp.digits = (unsigned)v;
			break;
		case 4:
			if (sspr_strtonum(val, 1, 300, &v) < 0)
				return -SSPR_E_PROTO;
			rec->otp.period = (unsigned)v;
			break;
		case 5:
		case 6:
			if (sspr_strtonum(val, 0, INT64_MAX, &v) < 0)
				return -SSPR_E_PROTO;
			if (k == 5)
				rec->created = v;
			else
				rec->last_used = v;
			break;
		case 7:
			if (sspr_strtonum(val, -1, SSPR_RC_MAX, &v) < 0)
				return -SSPR_E_PROTO;
			x->have_codes = v >= 0;
			x->codes_left = v >= 0 ? (unsigned)v : 0;
			break;
		}
	}
	if (!(seen & 1u))
		return -SSPR_E_PROTO;
	/* enrolled: everything about the authenticator */
	if (*ret_enrolled && (seen & 0x7eu) != 0x7eu)
		return -SSPR_E_PROTO;
	return 0;
}

/* Self-service: the caller's own status, from the helper after the
 * current password; no rate-limit state. */
static int status_self(const char *user, bool json)
{
	_cleanup_(cli_self_end) struct cli_self self = { .cmd = CMD };
	_cleanup_(cli_out_free) struct cli_out out = { .buf = NULL };
	_cleanup_record_ struct sspr_record *rec = sspr_record_new();
	struct sspr_account acct = { .exists = true };
	struct status_extra x = { .now = sspr_now(), .rl_known = false };
	bool enrolled = false;
	int r;

	if (!rec)
		return cli_fail(CMD, "%s", sspr_strerror(-ENOMEM));
	r = cli_self_begin(&self, CMD, user);
	if (r != 0)
		return r;
	r = cli_self_auth(&self, "status", false, "unexpected answer from the helper");
	if (r == 0)
		r = cli_self_do(&self, NULL, 0);
	if (r != 0)
		return r;
	if (self.rep->nfields != 1 ||
	    parse_self_status(self.rep->field[0].data, rec, &enrolled, &x) < 0)
		return cli_fail(NULL, "unexpected answer from the helper");
	(void)sspr_strlcpy(acct.name, self.user, sizeof acct.name);
	acct.uid = self.uid;
	if (json)
		print_json(&out, &acct, enrolled ? rec : NULL, &x);
	else
		print_text(&out, &acct, enrolled ? rec : NULL, &x);
	r = cli_out_write(&out, STDOUT_FILENO);
	if (r < 0)
		return cli_fail(CMD, "cannot write the output: %s", sspr_strerror(r));
	return CLI_EXIT_OK;
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
	struct status_extra x = { .now = sspr_now(), .rl_known = true };
	bool json = false, enrolled = false;
	int c, r;

	while ((c = cli_getopt(CMD, argc, argv, ":h", longopts)) != -1) {
		switch (c) {
		case 'h':
			return cli_help(usage_text);
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
	if (!ctx.admin)
		return status_self(user, json);
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

	r = load_codes(usersfd, &acct, &x);
	if (r != 0)
		return r;
	r = load_tally(&ctx, &acct, &x);
	if (r != 0)
		return r;

	if (json)
		print_json(&out, &acct, enrolled ? rec : NULL, &x);
	else
		print_text(&out, &acct, enrolled ? rec : NULL, &x);
	r = cli_out_write(&out, STDOUT_FILENO);
	if (r < 0)
		return cli_fail(CMD, "cannot write the output: %s", sspr_strerror(r));
	return CLI_EXIT_OK;
}
