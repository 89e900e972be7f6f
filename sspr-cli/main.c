/* SPDX-License-Identifier: BSD-2-Clause */
/* sspr-cli: the admin command line of pam_sspr (SPEC section 6), and the
 * self-service of ordinary users for their own account (self.c).
 *
 * Thin: each subcommand parses its options, calls the core and reports.
 * Exit codes: 0 success, 1 refused or failed, 2 usage error.  Help goes to
 * stdout, every error to stderr. */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <sodium.h>

#include "sspr-build.h"
#include "sspr/audit.h"
#include "sspr/common.h"
#include "cli.h"

static const struct cli_command commands[] = {
	{ "enroll", cli_enroll, "enroll a user's authenticator, issue recovery codes" },
	{ "status", cli_status, "show a user's enrollment, recovery codes and lock state" },
	{ "revoke", cli_revoke, "remove a user's enrollment and recovery codes" },
	{ "recovery-codes", cli_recovery_codes, "issue a new set of recovery codes" },
	{ "unlock", cli_unlock, "clear a user's rate-limit lockout and failures" },
	{ "policy", cli_policy, "check: explain the policy for a user; lint: sspr.conf" },
	{ "expire", cli_expire, "force a password change at next login" },
	{ "gc", cli_gc, "drop records of accounts that no longer exist" },
	{ "audit", cli_audit, "the signed audit journal: init, show, verify, rotate" },
	{ "stats", cli_stats, "reset success, failures, lockouts, time to reset" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s [--help] [--version] COMMAND [ARGS...]\n"
	           "\n"
	           "Administer pam_sspr, self-service password reset.\n"
	           "\n"
	           "Commands:\n", CLI_PROG);
	for (size_t i = 0; i < SSPR_ELEMENTSOF(commands); i++)
		fprintf(f, "  %-14s  %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n"
	           "Options:\n"
	           "  -h, --help     show this help\n"
	           "  -V, --version  show the version\n"
	           "\n"
	           "Every command but policy lint needs root, except self-service: an\n"
	           "ordinary user may run enroll, status and recovery-codes for their own\n"
	           "account when self_enroll = yes, after giving the current password.\n"
	           "\n"
	           "Testing aids (ignored when run setuid): SSPR_ROOT=DIR takes every path\n"
	           "from a test root and acts as admin; SSPR_CLI_SELF=1 takes the\n"
	           "self-service path even there (or as root); SSPR_HELPER=PATH runs that\n"
	           "helper for self-service.\n"
	           "\n"
	           "Run '%s COMMAND --help' for the options of a command; see sspr-cli(8).\n",
	        CLI_PROG);
}

/* --- messages ----------------------------------------------------------- */

static void vmsg(const char *cmd, const char *prefix, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vmsg(const char *cmd, const char *prefix, const char *fmt, va_list ap)
{
	if (cmd)
		fprintf(stderr, "%s %s: %s", CLI_PROG, cmd, prefix);
	else
		fprintf(stderr, "%s: %s", CLI_PROG, prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(cmd, "", fmt, ap);
	va_end(ap);
	return CLI_EXIT_FAIL;
}

void cli_warn(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(cmd, "warning: ", fmt, ap);
	va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(cmd, "", fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "Try '%s %s --help'.\n", CLI_PROG, cmd);
	else
		fprintf(stderr, "Try '%s --help'.\n", CLI_PROG);
	return CLI_EXIT_USAGE;
}

int cli_help(const char *text)
{
	fputs(text, stdout);
	return fflush(stdout) == 0 && !ferror(stdout) ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

const char *cli_safe(const char *s)
{
	static char buf[2][SSPR_FIELD_MAX * 4 + 3];
	static int which;
	char *b = buf[which];

	which ^= 1;
	if (!s)
		return "-";
	if (strnlen(s, SSPR_FIELD_MAX + 1) > SSPR_FIELD_MAX ||
	    sspr_audit_escape(s, b, sizeof buf[0]) < 0)
		return "(name too long)";
	return b;
}

int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts)
{
	int c = getopt_long(argc, argv, shortopts, longopts, NULL);
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	size_t n;

	switch (c) {
	case ':':
		if (optopt > 0 && optopt < 128 && strncmp(arg, "--", 2) != 0)
			(void)cli_usage_error(cmd, "option '-%c' needs a value", optopt);
		else
			(void)cli_usage_error(cmd, "option '%s' needs a value", cli_safe(arg));
		return '?';
	case '?':
		if (strncmp(arg, "--", 2) == 0) {
			n = strcspn(arg, "=");
			if (optopt != 0 && arg[n] == '=')
				(void)cli_usage_error(cmd, "option '%.*s' takes no value",
				                      (int)n, arg);
			else
				(void)cli_usage_error(cmd, "unknown option '%s'",
				                      cli_safe(arg));
		} else if (optopt > 0 && optopt < 128 && optopt > ' ') {
			(void)cli_usage_error(cmd, "unknown option '-%c'", optopt);
		} else {
			(void)cli_usage_error(cmd, "unknown option '%s'", cli_safe(arg));
		}
		return '?';
	default:
		return c;
	}
}

/* --- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name;
	int c, first;

	/* The output of enroll holds a secret: no core dumps, no group or
	 * other access to anything we create, and a reader that goes away
	 * is a write error, not a signal. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(077);
	(void)signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0)
		return cli_fail(NULL, "cannot initialise libsodium");

	opterr = 0;
	/* '+': stop at the command name; its options are its own. */
	while ((c = cli_getopt(NULL, argc, argv, "+:hV", opts)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
		case 'V':
			printf("%s %s\n", CLI_PROG, SSPR_VERSION);
			return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error(NULL, "no command given");
	first = optind;
	name = argv[first];
	for (size_t i = 0; i < SSPR_ELEMENTSOF(commands); i++) {
		if (strcmp(name, commands[i].name) != 0)
			continue;
		/* The command parses its own argv, argv[0] being its name;
		 * optind 0 makes glibc's getopt start afresh. */
		optind = 0;
		return commands[i].fn(argc - first, argv + first);
	}
	return cli_usage_error(NULL, "unknown command '%s'", cli_safe(name));
}
