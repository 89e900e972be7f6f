/* SPDX-License-Identifier: BSD-2-Clause */
/* sspr-cli enroll: make a secret, store the record, show the otpauth://
 * URI and its QR code (SPEC sections 4 and 6). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <sodium.h>

#include "sspr/audit.h"
#include "sspr/common.h"
#include "sspr/otp.h"
#include "sspr/policy.h"
#include "sspr/record.h"
#include "sspr/recovery.h"
#include "cli.h"

#define CMD "enroll"
#define LOCK_TIMEOUT_MS 10000
#define SECRET_MIN 10 /* bytes of a --secret we accept (80 bits) */

static const char usage_text[] =
	"Usage: sspr-cli enroll [USER] [OPTIONS]\n"
	"\n"
	"Enroll USER's authenticator: make a new secret, store it, and print the\n"
	"otpauth:// URI (a line of its own), then a QR code of it, then the\n"
	"one-time recovery codes, one a line as XXXXX-XXXXX (recovery_codes in\n"
	"sspr.conf, default 10; 0: none).  The codes replace any earlier set.\n"
	"All of it is secret: show it to USER only.\n"
	"\n"
	"Options:\n"
	"      --hotp             counter-based HOTP instead of time-based TOTP\n"
	"      --digits 6|8       digits of a code (default 6)\n"
	"      --period S         TOTP time step in seconds, 1..300 (default 30)\n"
	"      --algorithm ALG    sha1 (default), sha256 or sha512; HOTP: sha1 only\n"
	"      --issuer NAME      issuer the app shows (default: this host's name)\n"
	"      --qr KIND          utf8 (default), ansi, svg:FILE (a new file) or none\n"
	"      --secret BASE32    use this secret (10 to 64 bytes) instead of 20 new\n"
	"                         random bytes (root only)\n"
	"      --force            replace an existing enrollment, and (root only)\n"
	"                         enroll a user whom the policy does not allow to\n"
	"                         reset\n"
	"  -h, --help             show this help\n"
	"\n"
	"As root, USER is required and standard input is never read.\n"
	"\n"
	"Self-service: an ordinary user may enroll their own account (USER omitted\n"
	"or their own name) when self_enroll = yes.  sspr-cli then asks for the\n"
	"current password (\"Current password: \", from the terminal, or the first\n"
	"line of standard input when that is not a terminal), and the helper\n"
	"makes the secret.  Replacing an existing enrollment takes --force and a\n"
	"current code as well (\"Verification code: \", or the second line of\n"
	"standard input), and is announced at the next login.  A wrong password\n"
	"or code counts against the rate limit of the name.\n"
	"\n"
	"Many authenticator apps ignore --digits, --period and --algorithm other\n"
	"than the defaults.\n";

enum {
	OPT_HOTP = 0x100, OPT_DIGITS, OPT_PERIOD, OPT_ALGORITHM, OPT_ISSUER, OPT_QR,
	OPT_SECRET, OPT_FORCE,
};

struct enroll_opts {
	const char *user;
	struct sspr_otp_params otp;
	bool hotp, period_set, algorithm_set, force;
	const char *issuer;
	struct cli_qr_opt qr;
	bool secret_set;
};

static const char *method_name(const struct sspr_otp_params *p)
{
	return p->type == SSPR_OTP_HOTP ? "hotp" : "totp";
}

static bool issuer_ok(const char *s)
{
	size_t n = strnlen(s, SSPR_FIELD_MAX + 1);

	if (n == 0 || n > SSPR_FIELD_MAX)
		return false;
	/* ':' separates issuer and account in the label */
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == ':')
			return false;
	return true;
}

/* Decode --secret into the record's secure buffer, then wipe it from argv
 * (a secret does not belong in argv; this shortens its stay in
 * /proc/PID/cmdline). */
static int take_secret(char *arg, struct sspr_record *rec)
{
	size_t len = 0;
	int r;

	r = sspr_base32_decode(arg, rec->secret, SSPR_SECRET_MAX, &len);
	sspr_wipe(arg, strlen(arg));
	if (r == -ENOBUFS)
		return cli_usage_error(CMD, "--secret: longer than %d bytes", SSPR_SECRET_MAX);
	if (r < 0)
		return cli_usage_error(CMD, "--secret: not valid base32 (RFC 4648: A-Z, 2-7)");
	if (len < SECRET_MIN)
		return cli_usage_error(CMD, "--secret: %zu bytes; at least %d needed", len,
		                       SECRET_MIN);
	rec->secret_len = len;
	return 0;
}

static int parse(int argc, char **argv, struct enroll_opts *o, struct sspr_record *rec,
                 bool *help)
{
	static const struct option longopts[] = {
		{ "hotp", no_argument, NULL, OPT_HOTP },
		{ "digits", required_argument, NULL, OPT_DIGITS },
		{ "period", required_argument, NULL, OPT_PERIOD },
		{ "algorithm", required_argument, NULL, OPT_ALGORITHM },
		{ "issuer", required_argument, NULL, OPT_ISSUER },
		{ "qr", required_argument, NULL, OPT_QR },
		{ "secret", required_argument, NULL, OPT_SECRET },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long long v;
	int c, r;

	sspr_otp_params_default(&o->otp);
	o->qr.kind = CLI_QR_UTF8;
	while ((c = cli_getopt(CMD, argc, argv, ":h", longopts)) != -1) {
		switch (c) {
		case 'h':
			*help = true;
			return 0;
		case OPT_HOTP:
			o->hotp = true;
			break;
		case OPT_DIGITS:
			if (sspr_strtonum(optarg, 6, 8, &v) < 0 || v == 7)
				return cli_usage_error(CMD, "--digits: '%s' is not 6 or 8",
				                       cli_safe(optarg));
			o->otp.digits = (unsigned)v;
			break;
		case OPT_PERIOD:
			if (sspr_strtonum(optarg, 1, 300, &v) < 0)
				return cli_usage_error(CMD, "--period: '%s' is not a number of "
				                       "seconds in 1..300", cli_safe(optarg));
			o->otp.period = (unsigned)v;
			o->period_set = true;
			break;
		case OPT_ALGORITHM:
			if (strcasecmp(optarg, "sha1") == 0)
				o->otp.alg = SSPR_OTP_SHA1;
			else if (strcasecmp(optarg, "sha256") == 0)
				o->otp.alg = SSPR_OTP_SHA256;
			else if (strcasecmp(optarg, "sha512") == 0)
				o->otp.alg = SSPR_OTP_SHA512;
			else
				return cli_usage_error(CMD, "--algorithm: '%s' is not sha1, "
				                       "sha256 or sha512", cli_safe(optarg));
			o->algorithm_set = true;
			break;
		case OPT_ISSUER:
			if (!issuer_ok(optarg))
				return cli_usage_error(CMD, "--issuer: must be 1 to %d bytes "
				                       "without ':' or control characters",
				                       SSPR_FIELD_MAX);
			o->issuer = optarg;
			break;
		case OPT_QR:
			if (cli_qr_parse(optarg, &o->qr) < 0)
				return cli_usage_error(CMD, "--qr: '%s' is not utf8, ansi, "
				                       "svg:FILE or none", cli_safe(optarg));
			break;
		case OPT_SECRET:
			r = take_secret(optarg, rec);
			if (r != 0)
				return r;
			o->secret_set = true;
			break;
		case OPT_FORCE:
			o->force = true;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		o->user = argv[optind++];
	if (optind < argc)
		return cli_usage_error(CMD, "unexpected argument '%s'", cli_safe(argv[optind]));
	if (o->hotp) {
		if (o->period_set)
			return cli_usage_error(CMD, "--hotp and --period contradict each other "
			                       "(HOTP has no time step)");
		if (o->algorithm_set && o->otp.alg != SSPR_OTP_SHA1)
			return cli_usage_error(CMD, "--hotp works with --algorithm sha1 only");
		o->otp.type = SSPR_OTP_HOTP;
	}
	if (sspr_otp_params_check(&o->otp) < 0)
		return cli_usage_error(CMD, "this combination of OTP parameters is not "
		                       "supported");
	return 0;
}

/* The eligibility check: policy rules for a local enrollment.  Returns 0
 * (go on; *ret_override names the rule --force overrode, if any) or an
 * exit code. */
static int check_policy(struct cli_ctx *ctx, const struct sspr_account *a, bool force,
                        const char **ret_override)
{
	struct sspr_request req = { .check_service = false, .remote = false,
	                            .check_enrolled = false };
	struct sspr_verdict v;
	char why[256];
	int r;

	*ret_override = NULL;
	r = sspr_policy_evaluate(&ctx->cfg, &ctx->paths, a, &req, (long)(sspr_now() / 86400), &v);
	if (r < 0)
		return cli_fail(CMD, "cannot evaluate the policy for %s: %s", cli_safe(a->name),
		                sspr_strerror(r));
	if (v.allowed)
		return 0;
	cli_verdict_text(&v, why, sizeof why);
	if (!force)
		return cli_fail(CMD, "%s may not reset a password: %s; --force enrolls anyway",
		                cli_safe(a->name), why);
	cli_warn(CMD, "%s may not reset a password: %s; enrolling anyway (--force)",
	         cli_safe(a->name), why);
	*ret_override = sspr_reason_name(v.reason);
	return 0;
}

/* Whether a record exists for a (to be replaced only with --force).
 * Takes the record lock and keeps it in *ret_lockfd.  again: the second
 * check, just before the store.  Returns 0 or an exit code. */
static int check_existing(int usersfd, const struct sspr_account *a, bool force, bool again,
                          int *ret_lockfd, bool *ret_replaced)
{
	_cleanup_record_ struct sspr_record *old = sspr_record_new();
	int r;

	*ret_replaced = false;
	if (!old)
		return cli_fail(CMD, "%s", sspr_strerror(-ENOMEM));
	r = sspr_record_lock(usersfd, LOCK_TIMEOUT_MS, ret_lockfd);
	if (r < 0)
		return cli_fail(CMD, "cannot lock the enrollment records: %s%s", sspr_strerror(r),
		                again ? "; nothing was enrolled, discard the code shown above"
		                      : "");
	r = sspr_record_load(usersfd, a->uid, a->name, old);
	if (r == -ENOENT)
		return 0;
	if (!force) {
		if (again)
			return cli_fail(CMD, "%s was enrolled by someone else meanwhile; nothing "
			                "was enrolled, discard the code shown above",
			                cli_safe(a->name));
		if (r == 0)
			return cli_fail(CMD, "%s is already enrolled (use --force to replace)",
			                cli_safe(a->name));
		return cli_fail(CMD, "the existing record of %s (uid %u) cannot be used: %s "
		                "(use --force to replace it)", cli_safe(a->name),
		                (unsigned)a->uid, sspr_strerror(r));
	}
	if (r < 0 && !again)
		cli_warn(CMD, "replacing the unusable record of %s (uid %u): %s",
		         cli_safe(a->name), (unsigned)a->uid, sspr_strerror(r));
	*ret_replaced = true;
	return 0;
}

/* After the record: store the new recovery codes (the old set is void), or
 * with recovery_codes = 0 remove any old set.  Under the record lock.
 * Returns 0 or an exit code (message printed). */
static int store_codes(struct cli_ctx *ctx, int usersfd, const struct sspr_account *a,
                       const struct cli_rc *rc)
{
	int r;

	if (rc->n == 0) {
		r = sspr_rc_remove(usersfd, a->uid);
		if (r == 0 || r == -ENOENT)
			return 0;
		if (r == -SSPR_E_NOT_DURABLE) {
			cli_warn(CMD, "the old recovery codes of %s are removed, but %s could not "
			         "be synced", cli_safe(a->name), ctx->paths.usersdir);
			return 0;
		}
		return cli_fail(CMD, "%s is enrolled, but the old recovery codes could not be "
		                "removed: %s; run 'sspr-cli revoke' and enroll again",
		                cli_safe(a->name), sspr_strerror(r));
	}
	r = sspr_rc_store(usersfd, rc->set);
	if (r == 0 || r == -SSPR_E_NOT_DURABLE) {
		if (r < 0)
			cli_warn(CMD, "the recovery codes of %s are in place, but %s could not be "
			         "synced", cli_safe(a->name), ctx->paths.usersdir);
		cli_rc_audit(ctx, a, rc->n, r == 0);
		return 0;
	}
	/* The old set must not outlive the enrollment it belonged to. */
	(void)sspr_rc_remove(usersfd, a->uid);
	return cli_fail(CMD, "%s is enrolled, but the recovery codes could not be stored: %s; "
	                "discard the codes shown above and run 'sspr-cli recovery-codes %s'",
	                cli_safe(a->name), sspr_strerror(r), cli_safe(a->name));
}

/* The default issuer: this host's name. */
static void default_issuer(char *buf, size_t len)
{
	if (gethostname(buf, len) < 0 || buf[0] == '\0' || !issuer_ok(buf))
		(void)sspr_strlcpy(buf, "sspr", len);
	buf[len - 1] = '\0';
}

static const char *alg_name(enum sspr_otp_alg a)
{
	return a == SSPR_OTP_SHA256 ? "sha256" : a == SSPR_OTP_SHA512 ? "sha512" : "sha1";
}

/* A URI from the helper, fit to print: otpauth://, no control bytes. */
static bool uri_ok(const char *s)
{
	if (strncmp(s, "otpauth://", 10) != 0)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* Self-service: the caller's own enrollment, made by the helper after the
 * current password (and a current code to replace one).  The output has
 * the layout of the admin's. */
static int enroll_self(const struct enroll_opts *o)
{
	_cleanup_(cli_self_end) struct cli_self self = { .cmd = CMD };
	_cleanup_(cli_out_free) struct cli_out out = { .buf = NULL };
	_cleanup_(cli_out_free) struct cli_out svg = { .buf = NULL };
	const char *svg_path = o->qr.kind == CLI_QR_SVG ? o->qr.svg_path : NULL;
	char host[256], digits[16], period[16];
	const char *issuer = o->issuer, *uri, *codes;
	const char *fields[5];
	int svgfd = -1, r;

	if (o->secret_set)
		return cli_usage_error(CMD, "--secret is for root only; the helper makes your "
		                       "secret");
	r = cli_self_begin(&self, CMD, o->user);
	if (r != 0)
		return r;
	if (!issuer) {
		default_issuer(host, sizeof host);
		issuer = host;
	}
	(void)snprintf(digits, sizeof digits, "%u", o->otp.digits);
	(void)snprintf(period, sizeof period, "%u", o->otp.period);
	fields[0] = method_name(&o->otp);
	fields[1] = alg_name(o->otp.alg);
	fields[2] = digits;
	fields[3] = period;
	fields[4] = issuer;

	/* The SVG file is claimed first: a name already taken costs no
	 * password try and changes nothing. */
	if (svg_path) {
		r = cli_new_file_create(svg_path, &svgfd);
		if (r == -EEXIST)
			return cli_fail(CMD, "%s already exists; refusing to overwrite it", svg_path);
		if (r < 0)
			return cli_fail(CMD, "cannot write %s: %s", svg_path, sspr_strerror(r));
	}
	r = cli_self_auth(&self, "enroll", o->force,
	                  "you are already enrolled (use --force to replace it; that takes "
	                  "a current code too)");
	if (r == 0)
		r = cli_self_do(&self, fields, SSPR_ELEMENTSOF(fields));
	if (r != 0) {
		if (svgfd >= 0)
			cli_new_file_discard(svg_path, svgfd);
		return r;
	}

	/* Enrolled now: what the app needs, as the admin's enroll shows it. */
	uri = self.rep->nfields == 2 ? self.rep->field[0].data : "";
	codes = self.rep->nfields == 2 ? self.rep->field[1].data : "";
	cli_out_str(&out, uri);
	cli_out_str(&out, "\n");
	r = uri_ok(uri) ? 0 : -SSPR_E_PROTO;
	if (r == 0)
		r = cli_qr_render(uri, o->qr.kind == CLI_QR_SVG ? CLI_QR_NONE : o->qr.kind, &out);
	if (r == 0 && svg_path)
		r = cli_qr_render(uri, CLI_QR_SVG, &svg);
	if (r == 0 && cli_self_codes(codes, &out) < 0)
		r = -SSPR_E_PROTO;
	if (r < 0) {
		if (svgfd >= 0)
			cli_new_file_discard(svg_path, svgfd);
		return cli_fail(CMD, "you are enrolled, but the helper's answer cannot be shown "
		                "(%s); run 'sspr-cli enroll --force' again",
		                r == -SSPR_E_PROTO ? "malformed" : sspr_strerror(r));
	}
	r = cli_out_write(&out, STDOUT_FILENO);
	if (r < 0) {
		if (svgfd >= 0)
			cli_new_file_discard(svg_path, svgfd);
		return cli_fail(CMD, "cannot write the output: %s; you are enrolled with a secret "
		                "nobody saw: run 'sspr-cli enroll --force' again",
		                sspr_strerror(r));
	}
	if (svg_path) {
		r = cli_new_file_finish(svg_path, svgfd, &svg);
		if (r < 0)
			return cli_fail(CMD, "you are enrolled, but %s cannot be written: %s; use "
			                "the URI above", svg_path, sspr_strerror(r));
		fprintf(stderr, "%s %s: QR code written to %s; it holds the secret: delete it "
		        "once scanned\n", CLI_PROG, CMD, svg_path);
	}
	return CLI_EXIT_OK;
}

int cli_enroll(int argc, char **argv)
{
	_cleanup_(cli_ctx_done) struct cli_ctx ctx = { .cmd = CMD };
	_cleanup_(sspr_account_free) struct sspr_account acct = { .exists = false };
	_cleanup_(cli_out_free) struct cli_out out = { .buf = NULL };
	_cleanup_(cli_out_free) struct cli_out svg = { .buf = NULL };
	_cleanup_record_ struct sspr_record *rec = sspr_record_new();
	_cleanup_secure_ char *b32 = sspr_secure_alloc(SSPR_B32_MAX);
	_cleanup_secure_ char *uri = NULL;
	_cleanup_(cli_rc_free) struct cli_rc rc = { .n = 0 };
	_cleanup_close_ int usersfd = -1;
	_cleanup_close_ int lockfd = -1;
	struct enroll_opts o = { .user = NULL };
	const char *override = NULL;
	char host[256], uidbuf[16], byuid[16];
	bool help = false, replaced = false, durable = true, svg_written = false;
	int r;

	if (!rec || !b32)
		return cli_fail(CMD, "%s", sspr_strerror(-ENOMEM));
	r = parse(argc, argv, &o, rec, &help);
	if (r != 0)
		return r;
	if (help)
		return cli_help(usage_text);

	r = cli_ctx_init(&ctx, CMD);
	if (r != 0)
		return r;
	if (!ctx.admin)
		return enroll_self(&o);
	if (!o.user)
		return cli_usage_error(CMD, "USER is required when run as root");
	r = cli_ctx_load_config(&ctx);
	if (r != 0)
		return r;
	r = cli_lookup(&ctx, o.user, &acct);
	if (r != 0)
		return r;
	r = check_policy(&ctx, &acct, o.force, &override);
	if (r != 0)
		return r;

	/* A first check for an existing record; the lock is not held while
	 * the output is written (a paused terminal must not stall resets),
	 * so the check is made again under the lock of the store. */
	r = sspr_state_open_users(ctx.paths.statedir, 1, &usersfd);
	if (r < 0)
		return cli_fail(CMD, "state directory %s: %s", ctx.paths.statedir,
		                sspr_strerror(r));
	r = check_existing(usersfd, &acct, o.force, false, &lockfd, &replaced);
	sspr_closep(&lockfd);
	lockfd = -1;
	if (r != 0)
		return r;

	/* The record */
	if (!o.secret_set) {
		randombytes_buf(rec->secret, SSPR_SECRET_LEN);
		rec->secret_len = SSPR_SECRET_LEN;
	}
	if (sspr_strlcpy(rec->user, acct.name, sizeof rec->user) < 0)
		return cli_fail(CMD, "user name too long");
	rec->uid = acct.uid;
	rec->otp = o.otp;
	rec->state = 0; /* TOTP: no step used yet; HOTP: counter 0 comes next */
	rec->created = (int64_t)sspr_now();
	rec->last_used = 0;

	/* What the user's app needs */
	if (!o.issuer) {
		default_issuer(host, sizeof host);
		o.issuer = host;
	}
	r = sspr_base32_encode(rec->secret, rec->secret_len, b32, SSPR_B32_MAX);
	if (r == 0)
		r = sspr_otpauth_uri(&rec->otp, o.issuer, acct.name, b32, rec->state, &uri);
	if (r < 0)
		return cli_fail(CMD, "cannot make the otpauth:// URI: %s", sspr_strerror(r));
	cli_out_str(&out, uri);
	cli_out_str(&out, "\n");
	r = cli_qr_render(uri, o.qr.kind == CLI_QR_SVG ? CLI_QR_NONE : o.qr.kind, &out);
	if (r == 0 && o.qr.kind == CLI_QR_SVG)
		r = cli_qr_render(uri, CLI_QR_SVG, &svg);
	if (r < 0)
		return cli_fail(CMD, "cannot make the QR code: %s", sspr_strerror(r));
	if (ctx.cfg.recovery_codes > 0) {
		r = cli_rc_make(&ctx, &acct, ctx.cfg.recovery_codes, &rc);
		if (r != 0)
			return r;
		cli_rc_show(&rc, &out);
	}

	/* Show it first: if that fails, nothing has changed. */
	if (o.qr.kind == CLI_QR_SVG) {
		r = cli_write_new_file(o.qr.svg_path, &svg);
		if (r == -EEXIST)
			return cli_fail(CMD, "%s already exists; refusing to overwrite it",
			                o.qr.svg_path);
		if (r < 0)
			return cli_fail(CMD, "cannot write %s: %s", o.qr.svg_path,
			                sspr_strerror(r));
		svg_written = true;
	}
	r = cli_out_write(&out, STDOUT_FILENO);
	if (r < 0) {
		if (svg_written)
			(void)unlink(o.qr.svg_path);
		return cli_fail(CMD, "cannot write the output: %s; nothing was enrolled",
		                sspr_strerror(r));
	}

	r = check_existing(usersfd, &acct, o.force, true, &lockfd, &replaced);
	if (r != 0) {
		if (svg_written)
			(void)unlink(o.qr.svg_path);
		return r;
	}
	r = sspr_record_store(usersfd, rec);
	if (r == -SSPR_E_NOT_DURABLE) {
		cli_warn(CMD, "the record of %s is in place, but %s could not be synced",
		         cli_safe(acct.name), ctx.paths.usersdir);
		durable = false;
	} else if (r < 0) {
		if (svg_written)
			(void)unlink(o.qr.svg_path);
		return cli_fail(CMD, "cannot store the record of %s: %s; nothing was enrolled, "
		                "discard the code shown above", cli_safe(acct.name),
		                sspr_strerror(r));
	}
	{
		struct sspr_kv kv[8] = {
			{ "user", acct.name },
			{ "uid", cli_uid_str(acct.uid, uidbuf) },
			{ "method", method_name(&rec->otp) },
			{ "by_uid", cli_uid_str(ctx.caller, byuid) },
			{ "replaced", replaced ? "yes" : "no" },
		};
		size_t n = 5;

		if (override) {
			kv[n].key = "override";
			kv[n++].value = override;
		}
		if (!durable) {
			kv[n].key = "durable";
			kv[n++].value = "no";
		}
		sspr_audit_log(LOG_NOTICE, "enroll", kv, n);
	}
	r = store_codes(&ctx, usersfd, &acct, &rc);
	if (r != 0)
		return r;
	if (o.qr.kind == CLI_QR_SVG)
		fprintf(stderr, "%s %s: QR code written to %s; it holds the secret: delete it "
		        "once scanned\n", CLI_PROG, CMD, o.qr.svg_path);
	return CLI_EXIT_OK;
}
