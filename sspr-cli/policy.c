/* SPDX-License-Identifier: BSD-2-Clause */
/* sspr-cli policy check | lint.
 *
 * check: the verdict of every rule of the policy engine (policy/) for one
 * user and request, what a reset would then require, and the decision.
 * lint: sspr.conf through the one parser (lib/config.c), every error as
 * FILE:LINE: on stderr. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "sspr-build.h"
#include "sspr/audit.h"
#include "sspr/common.h"
#include "sspr/config.h"
#include "sspr/policy.h"
#include "sspr/record.h"
#include "cli.h"

#define CMD "policy"
#define CMD_CHECK "policy check"
#define CMD_LINT "policy lint"

static const char usage_text[] =
	"Usage: sspr-cli policy check USER [--rhost HOST] [--service NAME]\n"
	"       sspr-cli policy lint [FILE]\n"
	"\n"
	"check  explain whether USER may reset their password: every rule of\n"
	"       the policy, its verdict and why, the decision, and what a reset\n"
	"       would require\n"
	"lint   check a configuration file (default: the sspr.conf in use)\n"
	"\n"
	"Options:\n"
	"  -h, --help    show this help\n"
	"\n"
	"Run 'sspr-cli policy check --help' or 'sspr-cli policy lint --help' for\n"
	"more.\n";

static const char check_usage_text[] =
	"Usage: sspr-cli policy check USER [--rhost HOST] [--service NAME]\n"
	"\n"
	"Evaluate every rule of the policy in sspr.conf for a password reset by\n"
	"USER, as the helper would for a request from HOST through the PAM\n"
	"service NAME, and print one line per rule:\n"
	"\n"
	"    RULE  pass|FAIL|n/a  WHY\n"
	"\n"
	"in this order: exists, services, deny_users, uid_range, deny_groups,\n"
	"allow_groups, deny_shells, allow_remote, local_account, password_state,\n"
	"enrolled (n/a: the rule does not apply to this request).  Then the\n"
	"decision, 'decision: allowed' or 'decision: refused (REASON)' with the\n"
	"reason code of the first failing rule, whether a recovery code would be\n"
	"asked for (require_recovery_code), and the rules a new password must\n"
	"pass (min_length, pwquality, reject_reuse).  Rate limits are not part\n"
	"of the policy: see 'sspr-cli status'.\n"
	"\n"
	"Options:\n"
	"      --rhost HOST     a remote request from HOST (as PAM_RHOST over\n"
	"                       SSH); without it, or empty, a local request\n"
	"      --service NAME   check the PAM service against services; without\n"
	"                       it that rule is n/a\n"
	"  -h, --help           show this help\n"
	"\n"
	"Exit status: 0 allowed, 1 refused (also for a user who does not exist:\n"
	"unknown_user) or failed, 2 usage error.\n";

static const char lint_usage_text[] =
	"Usage: sspr-cli policy lint [FILE]\n"
	"\n"
	"Check FILE (default: the sspr.conf in use) with the parser of the\n"
	"module, the helper and the CLI.  Every error goes to standard error as\n"
	"'FILE:LINE: what' ('FILE: what' for the file as a whole); when there is\n"
	"none, 'FILE: ok' goes to standard output.  For the sspr.conf in use (no\n"
	"FILE, or FILE is that file) a missing file, and an owner other than root\n"
	"or a file writable by group or others, are errors too, since the helper\n"
	"refuses such a file; any other FILE is checked for its content only.\n"
	"\n"
	"Options:\n"
	"  -h, --help    show this help\n"
	"\n"
	"Exit status: 0 no error, 1 errors found (or FILE unreadable), 2 usage\n"
	"error.\n";

/* --- check --------------------------------------------------------------- */

enum { OPT_RHOST = 0x100, OPT_SERVICE };

static const char *verdict_word(const struct sspr_rule_verdict *rv)
{
	if (!rv->applied)
		return "n/a";
	return rv->pass ? "pass" : "FAIL";
}

/* Whether this request would be asked for a recovery code, and why. */
static void print_rrc(struct cli_out *o, const struct sspr_config *c, bool remote)
{
	switch (c->require_recovery_code) {
	case SSPR_RRC_ALWAYS:
		cli_out_str(o, "require_recovery_code: always (asked for this request)\n");
		break;
	case SSPR_RRC_REMOTE:
		cli_out_fmt(o, "require_recovery_code: remote (%s)\n",
		            remote ? "asked for this request: remote"
		                   : "not asked for this request: local");
		break;
	default:
		cli_out_str(o, "require_recovery_code: no (not asked for this request)\n");
		break;
	}
}

static void print_pw_rules(struct cli_out *o, const struct sspr_config *c)
{
	cli_out_fmt(o, "min_length: %u\n", c->min_length);
	if (!c->use_pwquality)
		cli_out_str(o, "pwquality: no (use_pwquality = no)\n");
	else if (HAVE_PWQUALITY)
		cli_out_str(o, "pwquality: yes\n");
	else
		cli_out_str(o, "pwquality: no (not built with libpwquality)\n");
	cli_out_fmt(o, "reject_reuse: %s\n", c->reject_reuse ? "yes" : "no");
}

/* Whether a is enrolled, as the helper would see it: a record that cannot
 * be used counts as none (with a warning). */
static bool is_enrolled(struct cli_ctx *ctx, const struct sspr_account *a)
{
	_cleanup_record_ struct sspr_record *rec = sspr_record_new();
	_cleanup_close_ int usersfd = -1;
	int r;

	if (!a->exists)
		return false;
	if (!rec) {
		cli_warn(CMD_CHECK, "%s; taken as not enrolled", sspr_strerror(-ENOMEM));
		return false;
	}
	r = sspr_state_open_users(ctx->paths.statedir, 0, &usersfd);
	if (r == 0)
		r = sspr_record_load(usersfd, a->uid, a->name, rec);
	if (r < 0 && r != -ENOENT)
		cli_warn(CMD_CHECK, "the enrollment of %s (uid %u) cannot be used: %s; taken as "
		         "not enrolled", cli_safe(a->name), (unsigned)a->uid, sspr_strerror(r));
	return r == 0;
}

static int policy_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rhost", required_argument, NULL, OPT_RHOST },
		{ "service", required_argument, NULL, OPT_SERVICE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(cli_ctx_done) struct cli_ctx ctx = { .cmd = CMD_CHECK };
	_cleanup_(sspr_account_free) struct sspr_account acct = { .exists = false };
	_cleanup_(cli_out_free) struct cli_out out = { .buf = NULL };
	struct sspr_request req = { .check_enrolled = true };
	struct sspr_verdict v;
	const char *user;
	char why[sizeof v.rule[0].why];
	int c, r, width = 0;

	while ((c = cli_getopt(CMD_CHECK, argc, argv, ":h", longopts)) != -1) {
		switch (c) {
		case 'h':
			return cli_help(check_usage_text);
		case OPT_RHOST:
			if (strnlen(optarg, SSPR_FIELD_MAX + 1) > SSPR_FIELD_MAX)
				return cli_usage_error(CMD_CHECK, "--rhost: longer than %d bytes",
				                       SSPR_FIELD_MAX);
			req.rhost = optarg;
			break;
		case OPT_SERVICE:
			if (strnlen(optarg, SSPR_FIELD_MAX + 1) > SSPR_FIELD_MAX)
				return cli_usage_error(CMD_CHECK, "--service: longer than %d bytes",
				                       SSPR_FIELD_MAX);
			req.service = optarg;
			req.check_service = true;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error(CMD_CHECK, "USER is required");
	user = argv[optind++];
	if (optind < argc)
		return cli_usage_error(CMD_CHECK, "unexpected argument '%s'",
		                       cli_safe(argv[optind]));
	req.remote = req.rhost && *req.rhost;

	r = cli_ctx_init(&ctx, CMD_CHECK);
	if (r != 0)
		return r;
	if (!ctx.admin)
		return cli_fail(CMD_CHECK, "only root may check the policy for a user (it reads "
		                "the shadow file and the enrollment records)");
	r = cli_ctx_load_config(&ctx);
	if (r != 0)
		return r;
	/* An unknown user is a verdict here, not an error. */
	r = sspr_account_lookup(user, &acct);
	if (r < 0)
		return cli_fail(CMD_CHECK, "cannot look up user %s: %s", cli_safe(user),
		                sspr_strerror(r));
	req.enrolled = is_enrolled(&ctx, &acct);
	r = sspr_policy_evaluate(&ctx.cfg, &ctx.paths, &acct, &req, (long)(sspr_now() / 86400),
	                         &v);
	if (r < 0)
		return cli_fail(CMD_CHECK, "cannot evaluate the policy: %s", sspr_strerror(r));

	for (int i = 0; i < SSPR_RULE_LAST; i++) {
		int w = (int)strlen(sspr_rule_name(i));

		width = w > width ? w : width;
	}
	for (int i = 0; i < SSPR_RULE_LAST; i++)
		cli_out_fmt(&out, "%-*s  %-4s  %s\n", width, sspr_rule_name(i),
		            verdict_word(&v.rule[i]),
		            cli_printable(v.rule[i].why, why, sizeof why));
	if (v.allowed)
		cli_out_str(&out, "decision: allowed\n");
	else
		cli_out_fmt(&out, "decision: refused (%s)\n", sspr_reason_name(v.reason));
	print_rrc(&out, &ctx.cfg, req.remote);
	print_pw_rules(&out, &ctx.cfg);
	r = cli_out_write(&out, STDOUT_FILENO);
	if (r < 0)
		return cli_fail(CMD_CHECK, "cannot write the output: %s", sspr_strerror(r));
	return v.allowed ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* --- lint ---------------------------------------------------------------- */

struct lint_diag {
	unsigned errors;
	bool audit; /* the configuration in use: audit config_error */
};

static void lint_report(void *userdata, const char *msg)
{
	struct lint_diag *d = userdata;

	d->errors++;
	fprintf(stderr, "%s\n", msg);
	if (d->audit) {
		struct sspr_kv kv[] = { { "error", msg } };

		sspr_audit_log(LOG_ERR, "config_error", kv, SSPR_ELEMENTSOF(kv));
	}
}

/* Read path whole (following links: any FILE may be linted), at most
 * SSPR_CONF_MAX bytes.  Returns 0 (*ret malloc'd), or reports the error
 * through d and returns -1. */
static int lint_read(const char *path, struct lint_diag *d, char **ret, size_t *ret_len,
                     struct stat *ret_st)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	char msg[PATH_MAX + 128];
	size_t got = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 || fstat(fd, ret_st) < 0) {
		(void)snprintf(msg, sizeof msg, "%s: %s", path, sspr_strerror(-errno));
		lint_report(d, msg);
		return -1;
	}
	if (!S_ISREG(ret_st->st_mode)) {
		(void)snprintf(msg, sizeof msg, "%s: not a regular file", path);
		lint_report(d, msg);
		return -1;
	}
	buf = malloc(SSPR_CONF_MAX + 1);
	if (!buf) {
		(void)snprintf(msg, sizeof msg, "%s: %s", path, sspr_strerror(-ENOMEM));
		lint_report(d, msg);
		return -1;
	}
	while (got < SSPR_CONF_MAX + 1) {
		ssize_t n = read(fd, buf + got, SSPR_CONF_MAX + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			(void)snprintf(msg, sizeof msg, "%s: %s", path, sspr_strerror(-errno));
			lint_report(d, msg);
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*ret = buf;
	buf = NULL;
	*ret_len = got; /* over SSPR_CONF_MAX: the parser says so */
	return 0;
}

/* Whether path names the configured sspr.conf (the same file, or the
 * same name when neither exists). */
static bool is_configured(const struct cli_ctx *ctx, const char *path)
{
	struct stat a, b;

	if (stat(path, &a) == 0 && stat(ctx->paths.conf, &b) == 0)
		return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	return strcmp(path, ctx->paths.conf) == 0;
}

static int policy_lint(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_ctx ctx;
	struct lint_diag d = { .errors = 0 };
	struct sspr_config cfg;
	_cleanup_free_ char *text = NULL;
	const char *path;
	struct stat st;
	size_t len = 0;
	bool configured, load_parsed = false;
	int c, r;

	while ((c = cli_getopt(CMD_LINT, argc, argv, ":h", longopts)) != -1) {
		switch (c) {
		case 'h':
			return cli_help(lint_usage_text);
		default:
			return CLI_EXIT_USAGE;
		}
	}
	path = optind < argc ? argv[optind++] : NULL;
	if (optind < argc)
		return cli_usage_error(CMD_LINT, "unexpected argument '%s'",
		                       cli_safe(argv[optind]));
	if (path && !*path)
		return cli_usage_error(CMD_LINT, "FILE is empty");

	r = cli_ctx_init(&ctx, CMD_LINT);
	if (r != 0)
		return r;
	if (!path)
		path = ctx.paths.conf;
	configured = is_configured(&ctx, path);
	d.audit = configured;
	if (configured)
		sspr_audit_open(CLI_PROG, LOG_AUTHPRIV); /* the file's own facility is in doubt */

	memset(&cfg, 0, sizeof cfg);
	if (configured) {
		/* Exactly what the module and the helper do with it; its
		 * content is still worth checking when only its owner, mode
		 * or a symbolic link made them refuse it. */
		r = sspr_config_load(&cfg, ctx.paths.conf, ctx.paths.test_root ? getuid() : 0,
		                     lint_report, &d);
		sspr_config_free(&cfg);
		load_parsed = r != -SSPR_E_UNSAFE_FILE ||
		              stat(path, &st) < 0 || !S_ISREG(st.st_mode);
		if (r == -ENOMEM) {
			(void)cli_fail(CMD_LINT, "%s", sspr_strerror(r));
			d.errors++;
		}
	}
	/* The content, when the load did not get to it, or of any other FILE. */
	if (!load_parsed && lint_read(path, &d, &text, &len, &st) == 0) {
		r = sspr_config_defaults(&cfg);
		if (r == 0)
			r = sspr_config_parse(&cfg, text, len, path, lint_report, &d);
		sspr_config_free(&cfg);
		if (r == -ENOMEM) {
			(void)cli_fail(CMD_LINT, "%s", sspr_strerror(r));
			d.errors++;
		}
	}
	if (configured)
		closelog();
	if (d.errors > 0)
		return CLI_EXIT_FAIL;
	printf("%s: ok\n", path);
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* --- the group --------------------------------------------------------------- */

int cli_policy(int argc, char **argv)
{
	const char *sub;

	if (argc < 2)
		return cli_usage_error(CMD, "check or lint expected");
	sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)
		return cli_help(usage_text);
	/* The subcommand parses its own argv, argv[0] being its name. */
	if (strcmp(sub, "check") == 0)
		return policy_check(argc - 1, argv + 1);
	if (strcmp(sub, "lint") == 0)
		return policy_lint(argc - 1, argv + 1);
	if (sub[0] == '-')
		return cli_usage_error(CMD, "unknown option '%s'", cli_safe(sub));
	return cli_usage_error(CMD, "unknown subcommand '%s' (check or lint expected)",
	                       cli_safe(sub));
}
