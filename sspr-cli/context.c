/* SPDX-License-Identifier: BSD-2-Clause */
/* What every acting subcommand does first: decide whether it acts as
 * admin, find the paths, load sspr.conf with the one parser, open the
 * audit log; and the shared reporting of lookups and verdicts. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "sspr/audit.h"
#include "sspr/common.h"
#include "sspr/hostkey.h"
#include "cli.h"

#define DIAG_MAX 32 /* config messages kept; the rest are counted */

struct diag_list {
	char *msg[DIAG_MAX];
	size_t n, dropped;
};

static void diag_collect(void *userdata, const char *msg)
{
	struct diag_list *d = userdata;

	if (d->n < DIAG_MAX && (d->msg[d->n] = strdup(msg)))
		d->n++;
	else
		d->dropped++;
}

static void diag_free(struct diag_list *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->msg[i]);
	d->n = 0;
}

int cli_ctx_init(struct cli_ctx *ctx, const char *cmd)
{
	int r;

	memset(ctx, 0, sizeof *ctx);
	ctx->cmd = cmd;
	ctx->caller = getuid();
	r = sspr_paths_from_env(&ctx->paths);
	if (r < 0)
		return cli_fail(cmd, "SSPR_ROOT: %s",
		                r == -EINVAL ? "must be an absolute path" : sspr_strerror(r));
	/* Admin: root, or anyone in a test root (SPEC section 8; SSPR_ROOT is
	 * read with secure_getenv, so never when elevated).  SSPR_CLI_SELF=1
	 * asks for the path of an ordinary user instead, so that tests can
	 * drive self-service in a test root. */
	ctx->admin = (geteuid() == 0 || ctx->paths.test_root) && !cli_self_forced();
	return 0;
}

bool cli_self_forced(void)
{
	const char *v = secure_getenv("SSPR_CLI_SELF");

	return v && strcmp(v, "1") == 0;
}

int cli_ctx_load_config(struct cli_ctx *ctx)
{
	struct diag_list d = { .n = 0 };
	uid_t owner = ctx->paths.test_root ? getuid() : 0;
	int r;

	r = sspr_config_load(&ctx->cfg, ctx->paths.conf, owner, diag_collect, &d);
	ctx->cfg_loaded = true;
	if (r == -ENOENT) {
		/* No sspr.conf: every key at its default (sspr-cli(8)). */
		diag_free(&d);
		sspr_config_free(&ctx->cfg);
		r = sspr_config_defaults(&ctx->cfg);
		if (r < 0)
			return cli_fail(ctx->cmd, "%s", sspr_strerror(r));
	}
	/* an admin's events go to the signed journal too (SPEC section 7) */
	if (ctx->admin)
		sspr_audit_use_journal(ctx->paths.statedir);
	if (r < 0) {
		sspr_audit_open(CLI_PROG, LOG_AUTHPRIV);
		for (size_t i = 0; i < d.n; i++) {
			struct sspr_kv kv[] = { { "error", d.msg[i] } };

			fprintf(stderr, "%s %s: %s\n", CLI_PROG, ctx->cmd, d.msg[i]);
			sspr_audit_log(LOG_ERR, "config_error", kv, SSPR_ELEMENTSOF(kv));
		}
		if (d.n == 0) {
			struct sspr_kv kv[] = { { "error", sspr_strerror(r) } };

			fprintf(stderr, "%s %s: %s: %s\n", CLI_PROG, ctx->cmd, ctx->paths.conf,
			        sspr_strerror(r));
			sspr_audit_log(LOG_ERR, "config_error", kv, SSPR_ELEMENTSOF(kv));
		}
		if (d.dropped)
			fprintf(stderr, "%s %s: ... and %zu more\n", CLI_PROG, ctx->cmd, d.dropped);
		diag_free(&d);
		return cli_fail(ctx->cmd, "refusing to act on a bad configuration (%s)",
		                sspr_reason_name(SSPR_R_CONFIG_ERROR));
	}
	diag_free(&d);
	sspr_audit_open(CLI_PROG, ctx->cfg.syslog_facility);
	return 0;
}

void cli_ctx_done(struct cli_ctx *ctx)
{
	if (ctx->cfg_loaded) {
		sspr_config_free(&ctx->cfg);
		ctx->cfg_loaded = false;
		closelog();
	}
}

int cli_lookup(struct cli_ctx *ctx, const char *user, struct sspr_account *ret)
{
	int r;

	memset(ret, 0, sizeof *ret);
	r = sspr_account_lookup(user, ret);
	if (r < 0) {
		memset(ret, 0, sizeof *ret);
		return cli_fail(ctx->cmd, "cannot look up user %s: %s", cli_safe(user),
		                sspr_strerror(r));
	}
	if (!ret->exists) {
		sspr_account_free(ret);
		return cli_fail(ctx->cmd, "unknown user %s (%s)", cli_safe(user),
		                sspr_reason_name(SSPR_R_UNKNOWN_USER));
	}
	return 0;
}

void cli_verdict_text(const struct sspr_verdict *v, char *out, size_t len)
{
	for (int i = 0; i < SSPR_RULE_LAST; i++) {
		const struct sspr_rule_verdict *rv = &v->rule[i];

		if (rv->applied && !rv->pass) {
			(void)snprintf(out, len, "rule %s: %s (%s)", sspr_rule_name(i), rv->why,
			               sspr_reason_name(rv->reason));
			return;
		}
	}
	(void)snprintf(out, len, "(%s)", sspr_reason_name(v->reason));
}

int cli_hostkey(const struct cli_ctx *ctx, int create, unsigned char **ret)
{
	_cleanup_secure_ unsigned char *key = sspr_secure_alloc(SSPR_HOSTKEY_LEN);
	int r;

	if (!key)
		return -ENOMEM;
	r = sspr_hostkey_load(ctx->paths.statedir, create, key);
	if (r < 0)
		return r;
	*ret = key;
	key = NULL;
	return 0;
}

const char *cli_printable(const char *s, char *buf, size_t len)
{
	size_t i;

	if (len == 0)
		return "";
	for (i = 0; s && s[i] && i + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	buf[i] = '\0';
	return buf;
}

const char *cli_uid_str(uid_t uid, char buf[static 16])
{
	(void)snprintf(buf, 16, "%u", (unsigned)uid);
	return buf;
}

bool cli_admin_one_user(struct cli_ctx *ctx, int argc, char **argv, const char *usage_text,
                        const char *refusal, struct sspr_account *acct, int *ret_exit)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *user;
	int c;

	while ((c = cli_getopt(ctx->cmd, argc, argv, ":h", longopts)) != -1) {
		*ret_exit = c == 'h' ? cli_help(usage_text) : CLI_EXIT_USAGE;
		return false;
	}
	if (optind >= argc) {
		*ret_exit = cli_usage_error(ctx->cmd, "USER is required");
		return false;
	}
	user = argv[optind++];
	if (optind < argc) {
		*ret_exit = cli_usage_error(ctx->cmd, "unexpected argument '%s'", cli_safe(argv[optind]));
		return false;
	}
	*ret_exit = cli_ctx_init(ctx, ctx->cmd);
	if (*ret_exit != 0)
		return false;
	if (!ctx->admin) {
		*ret_exit = cli_fail(ctx->cmd, "%s", refusal);
		return false;
	}
	*ret_exit = cli_ctx_load_config(ctx);
	if (*ret_exit == 0)
		*ret_exit = cli_lookup(ctx, user, acct);
	return *ret_exit == 0;
}
