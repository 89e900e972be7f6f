/* SPDX-License-Identifier: BSD-2-Clause */
/* sspr-cli expire: force a password change at next login for many users
 * in one atomic rewrite of shadow (sspr_shadow_expire, lib/shadow.c).
 * Users come from the command line or from a group through NSS. */
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "sspr/audit.h"
#include "sspr/common.h"
#include "sspr/policy.h"
#include "sspr/shadow.h"
#include "cli.h"

#define CMD "expire"
#define NSS_BUF_MAX (1024 * 1024)

static const char usage_text[] =
	"Usage: sspr-cli expire USER...\n"
	"       sspr-cli expire --group GROUP\n"
	"\n"
	"Force a password change at the next login of every USER, or of every\n"
	"member of GROUP: their date of last password change (field 3 of\n"
	"/etc/shadow) becomes 0, as with 'passwd -e', for all of them in one\n"
	"locked, atomic rewrite of /etc/shadow.  Passwords are not changed, and\n"
	"an expired password does not stop a reset.  A batch that names any\n"
	"unknown user (unknown_user) or a user without exactly one line in\n"
	"/etc/shadow (a directory user: not_local) is refused whole: nothing is\n"
	"written.  Prints a line for each user expired.\n"
	"\n"
	"Options:\n"
	"  -g, --group GROUP   the members of GROUP: those it lists and the users\n"
	"                      whose primary group it is (found by enumerating\n"
	"                      the passwd database, which a directory service may\n"
	"                      not allow)\n"
	"  -h, --help          show this help\n";

/* The batch: names as NSS spells them, each once, with their uids. */
struct batch {
	char **name;
	uid_t *uid;
	size_t n, cap;
};

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->name[i]);
	free(b->name);
	free(b->uid);
	memset(b, 0, sizeof *b);
}

/* Add name once.  Returns 0 or -ENOMEM. */
static int batch_add(struct batch *b, const char *name, uid_t uid)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->name[i], name) == 0)
			return 0;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		char **nn = reallocarray(b->name, cap, sizeof *nn);
		uid_t *nu;

		if (!nn)
			return -ENOMEM;
		b->name = nn;
		nu = reallocarray(b->uid, cap, sizeof *nu);
		if (!nu)
			return -ENOMEM;
		b->uid = nu;
		b->cap = cap;
	}
	b->name[b->n] = strdup(name);
	if (!b->name[b->n])
		return -ENOMEM;
	b->uid[b->n++] = uid;
	return 0;
}

/* Look user up and add it.  Returns 0 or an exit code (message printed). */
static int add_user(struct cli_ctx *ctx, struct batch *b, const char *user)
{
	struct sspr_account a;
	int r;

	r = cli_lookup(ctx, user, &a);
	if (r != 0) {
		fprintf(stderr, "%s %s: nothing was changed\n", CLI_PROG, CMD);
		return r;
	}
	r = batch_add(b, a.name, a.uid);
	sspr_account_free(&a);
	return r < 0 ? cli_fail(CMD, "%s", sspr_strerror(r)) : 0;
}

/* The members of group: its member list, then every account whose primary
 * group it is.  Returns 0 or an exit code (message printed). */
static int add_group(struct cli_ctx *ctx, struct batch *b, const char *group)
{
	_cleanup_free_ char *buf = NULL;
	struct group gr, *res = NULL;
	struct passwd pw, *pres;
	size_t len = 4096;
	gid_t gid;
	int e, r;

	for (;;) {
		char *nb = realloc(buf, len);

		if (!nb)
			return cli_fail(CMD, "%s", sspr_strerror(-ENOMEM));
		buf = nb;
		e = getgrnam_r(group, &gr, buf, len, &res);
		if (e != ERANGE)
			break;
		if (len >= NSS_BUF_MAX)
			return cli_fail(CMD, "group %s: too large", cli_safe(group));
		len *= 2;
	}
	if (!res) {
		if (e != 0 && e != ENOENT && e != ESRCH && e != EBADF && e != EPERM)
			return cli_fail(CMD, "cannot look up group %s: %s", cli_safe(group),
			                sspr_strerror(-e));
		return cli_fail(CMD, "unknown group %s", cli_safe(group));
	}
	gid = res->gr_gid;
	for (char **m = res->gr_mem; m && *m; m++) {
		r = add_user(ctx, b, *m);
		if (r != 0)
			return r;
	}

	/* Primary members: only an enumeration finds them. */
	setpwent();
	for (;;) {
		e = getpwent_r(&pw, buf, len, &pres);
		if (e == ERANGE && len < NSS_BUF_MAX) {
			char *nb = realloc(buf, len * 2);

			if (!nb) {
				endpwent();
				return cli_fail(CMD, "%s", sspr_strerror(-ENOMEM));
			}
			buf = nb;
			len *= 2;
			continue;
		}
		if (e != 0 || !pres)
			break;
		if (pres->pw_gid == gid && pres->pw_name && batch_add(b, pres->pw_name,
		                                                       pres->pw_uid) < 0) {
			endpwent();
			return cli_fail(CMD, "%s", sspr_strerror(-ENOMEM));
		}
	}
	endpwent();
	if (e != 0 && e != ENOENT)
		return cli_fail(CMD, "cannot enumerate the passwd database for the members of "
		                "group %s: %s; nothing was changed", cli_safe(group),
		                sspr_strerror(-e));
	return 0;
}

static void audit(const struct cli_ctx *ctx, const char *user, uid_t uid, bool durable)
{
	char uidbuf[16], byuid[16];
	struct sspr_kv kv[4] = {
		{ "user", user },
		{ "uid", cli_uid_str(uid, uidbuf) },
		{ "by_uid", cli_uid_str(ctx->caller, byuid) },
	};
	size_t n = 3;

	if (!durable) {
		kv[n].key = "durable";
		kv[n++].value = "no";
	}
	sspr_audit_log(LOG_NOTICE, "expire", kv, n);
}

/* The refusal of sspr_shadow_expire, naming the user it was about. */
static int refused(const struct cli_ctx *ctx, const struct batch *b, int r, size_t bad)
{
	const char *who = bad < b->n ? cli_safe(b->name[bad]) : NULL;

	if (who && r == -SSPR_E_NO_LINE)
		return cli_fail(CMD, "%s has no line in %s/shadow (%s); nothing was changed", who,
		                ctx->paths.etcdir, sspr_reason_name(SSPR_R_NOT_LOCAL));
	if (who && r == -SSPR_E_DUP_LINE)
		return cli_fail(CMD, "%s has more than one line in %s/shadow; nothing was "
		                "changed", who, ctx->paths.etcdir);
	if (who && r == -EINVAL)
		return cli_fail(CMD, "the line of %s in %s/shadow is malformed; nothing was "
		                "changed", who, ctx->paths.etcdir);
	return cli_fail(CMD, "cannot rewrite %s/shadow: %s; nothing was changed",
	                ctx->paths.etcdir, sspr_strerror(r));
}

int cli_expire(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "group", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(cli_ctx_done) struct cli_ctx ctx = { .cmd = CMD };
	_cleanup_(batch_free) struct batch b = { .n = 0 };
	const char *group = NULL;
	size_t bad = SIZE_MAX;
	bool durable = true;
	int c, r;

	while ((c = cli_getopt(CMD, argc, argv, ":g:h", longopts)) != -1) {
		switch (c) {
		case 'h':
			return cli_help(usage_text);
		case 'g':
			if (group)
				return cli_usage_error(CMD, "--group given twice");
			group = optarg;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (group && optind < argc)
		return cli_usage_error(CMD, "USER and --group exclude each other");
	if (!group && optind >= argc)
		return cli_usage_error(CMD, "USER or --group GROUP is required");
	if (group && !*group)
		return cli_usage_error(CMD, "--group: empty group name");

	r = cli_ctx_init(&ctx, CMD);
	if (r != 0)
		return r;
	if (!ctx.admin)
		return cli_fail(CMD, "only root may expire passwords");
	r = cli_ctx_load_config(&ctx);
	if (r != 0)
		return r;

	if (group) {
		r = add_group(&ctx, &b, group);
		if (r != 0)
			return r;
		if (b.n == 0) {
			printf("Group %s has no members: nothing to expire.\n", cli_safe(group));
			return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
		}
	} else {
		for (int i = optind; i < argc; i++) {
			r = add_user(&ctx, &b, argv[i]);
			if (r != 0)
				return r;
		}
	}

	r = sspr_shadow_expire(ctx.paths.etcdir, (const char *const *)b.name, b.n, &bad);
	if (r == -SSPR_E_NOT_DURABLE) {
		cli_warn(CMD, "%s/shadow is rewritten, but %s could not be synced", ctx.paths.etcdir,
		         ctx.paths.etcdir);
		durable = false;
	} else if (r < 0) {
		return refused(&ctx, &b, r, bad);
	}
	for (size_t i = 0; i < b.n; i++) {
		audit(&ctx, b.name[i], b.uid[i], durable);
		printf("Expired the password of %s (uid %u).\n", cli_safe(b.name[i]),
		       (unsigned)b.uid[i]);
	}
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
