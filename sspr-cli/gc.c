/* SPDX-License-Identifier: BSD-2-Clause */
/* sspr-cli gc: drop the enrollment records and recovery codes of accounts
 * that no longer exist (no account has the uid, or that account has
 * another name now), and recovery codes left without a record; then prune
 * expired rate-limit tallies (sspr_rl_prune).  Under the record lock. */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "sspr/audit.h"
#include "sspr/common.h"
#include "sspr/ratelimit.h"
#include "sspr/record.h"
#include "sspr/recovery.h"
#include "sspr/statefile.h"
#include "cli.h"

#define CMD "gc"
#define LOCK_TIMEOUT_MS 10000
#define NSS_BUF_MAX (1024 * 1024)
#define UID_MAX_VALID 4294967294LL /* (uid_t)-1 is no uid */
#define CODES_SUFFIX ".codes"

static const char usage_text[] =
	"Usage: sspr-cli gc [--dry-run]\n"
	"\n"
	"Remove the enrollment records (users/UID in the state directory) and\n"
	"recovery codes (users/UID.codes) of accounts that no longer exist: no\n"
	"account has that uid, or the account with that uid has another name now\n"
	"(the record is void then).  Recovery codes without an enrollment record\n"
	"go too.  A file that cannot be read, or whose account cannot be looked\n"
	"up, is reported and kept.  Then expired rate-limit tallies are pruned.\n"
	"Prints a line for each file removed, then the count.  Exits 1 when a\n"
	"file was kept for an error.\n"
	"\n"
	"Options:\n"
	"  -n, --dry-run   show what would be removed; change nothing\n"
	"  -h, --help      show this help\n";

/* One uid found in the users directory. */
struct entry {
	uid_t uid;
	bool record, codes;
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

static void entries_free(struct entries *e)
{
	free(e->v);
	memset(e, 0, sizeof *e);
}

/* The uid a file name stands for: "UID" (record) or "UID.codes".  Only
 * canonical decimal (no sign, no leading zero). */
static bool parse_name(const char *name, uid_t *uid, bool *codes)
{
	char num[16];
	size_t n = strspn(name, "0123456789");
	long long v;

	if (n == 0 || n >= sizeof num || (name[0] == '0' && n > 1))
		return false;
	if (name[n] == '\0')
		*codes = false;
	else if (strcmp(name + n, CODES_SUFFIX) == 0)
		*codes = true;
	else
		return false;
	memcpy(num, name, n);
	num[n] = '\0';
	if (sspr_strtonum(num, 0, UID_MAX_VALID, &v) < 0)
		return false;
	*uid = (uid_t)v;
	return true;
}

static int entries_scan(int usersfd, struct entries *e)
{
	DIR *d;
	struct dirent *de;
	int fd = openat(usersfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		int r = -errno;

		(void)close(fd);
		return r;
	}
	errno = 0;
	while ((de = readdir(d))) {
		struct entry *x = NULL;
		uid_t uid;
		bool codes;

		if (!parse_name(de->d_name, &uid, &codes))
			continue;
		for (size_t i = 0; i < e->n && !x; i++)
			if (e->v[i].uid == uid)
				x = &e->v[i];
		if (!x) {
			if (e->n == e->cap) {
				size_t cap = e->cap ? e->cap * 2 : 64;
				struct entry *nv = reallocarray(e->v, cap, sizeof *nv);

				if (!nv) {
					(void)closedir(d);
					return -ENOMEM;
				}
				e->v = nv;
				e->cap = cap;
			}
			x = &e->v[e->n++];
			memset(x, 0, sizeof *x);
			x->uid = uid;
		}
		if (codes)
			x->codes = true;
		else
			x->record = true;
		errno = 0;
	}
	if (errno != 0) {
		int r = -errno;

		(void)closedir(d);
		return r;
	}
	(void)closedir(d);
	return 0;
}

/* The account with uid: 0 and *ret_name (malloc'd; NULL when there is
 * none), or a negative error (lookup failed: keep everything). */
static int account_of(uid_t uid, char **ret_name)
{
	_cleanup_free_ char *buf = NULL;
	struct passwd pw, *res = NULL;
	size_t len = 4096;
	int e;

	for (;;) {
		char *nb = realloc(buf, len);

		if (!nb)
			return -ENOMEM;
		buf = nb;
		e = getpwuid_r(uid, &pw, buf, len, &res);
		if (e != ERANGE)
			break;
		if (len >= NSS_BUF_MAX)
			return -EIO;
		len *= 2;
	}
	if (!res) {
		/* "not found" as getpwuid_r(3) may spell it */
		if (e != 0 && e != ENOENT && e != ESRCH && e != EBADF && e != EPERM)
			return -e;
		*ret_name = NULL;
		return 0;
	}
	*ret_name = strdup(res->pw_name ? res->pw_name : "");
	return *ret_name ? 0 : -ENOMEM;
}

/* The user name a state file names: 0, or a negative error. */
static int file_user(int usersfd, const char *name, bool codes, char *user, size_t len)
{
	_cleanup_secure_ char *text = NULL;
	size_t tlen = 0;
	int r;

	r = sspr_state_read(usersfd, name, codes ? 256 + SSPR_RC_MAX * 72 : SSPR_RECORD_MAX,
	                    &text, &tlen);
	if (r < 0)
		return r;
	if (codes) {
		_cleanup_free_ struct sspr_rc_set *set = calloc(1, sizeof *set);

		if (!set)
			return -ENOMEM;
		r = sspr_rc_parse(set, text, tlen);
		if (r == 0)
			r = sspr_strlcpy(user, set->user, len);
	} else {
		_cleanup_record_ struct sspr_record *rec = sspr_record_new();

		if (!rec)
			return -ENOMEM;
		r = sspr_record_parse(rec, text, tlen);
		if (r == 0)
			r = sspr_strlcpy(user, rec->user, len);
	}
	return r;
}

struct gc_run {
	int usersfd;
	bool dry_run;
	unsigned removed, kept;
	const char *statedir;
};

static void drop(struct gc_run *g, const char *name, const char *why)
{
	int r = 0;

	if (!g->dry_run && unlinkat(g->usersfd, name, 0) < 0)
		r = -errno;
	if (r < 0 && r != -ENOENT) {
		cli_warn(CMD, "cannot remove users/%s: %s", name, sspr_strerror(r));
		g->kept++;
		return;
	}
	printf("%s users/%s (%s)\n", g->dry_run ? "would remove" : "removed", name, why);
	g->removed++;
}

/* Decide about the files of one uid. */
static void collect(struct gc_run *g, const struct entry *x)
{
	_cleanup_free_ char *account = NULL;
	char rname[16], cname[24], why[SSPR_USER_MAX * 2 + 64], user[SSPR_USER_MAX];
	bool record_gone = !x->record;
	int r;

	(void)snprintf(rname, sizeof rname, "%u", (unsigned)x->uid);
	(void)snprintf(cname, sizeof cname, "%u%s", (unsigned)x->uid, CODES_SUFFIX);
	r = account_of(x->uid, &account);
	if (r < 0) {
		cli_warn(CMD, "cannot look up uid %u: %s; its files are kept", (unsigned)x->uid,
		         sspr_strerror(r));
		g->kept += x->record + x->codes;
		return;
	}
	if (x->record) {
		r = file_user(g->usersfd, rname, false, user, sizeof user);
		if (r < 0 && account) {
			/* the account exists: not ours to judge (status says more) */
			cli_warn(CMD, "users/%s cannot be used (%s); kept", rname, sspr_strerror(r));
		} else if (r == -SSPR_E_UNSAFE_FILE || (r < 0 && r != -SSPR_E_RECORD)) {
			cli_warn(CMD, "users/%s: %s; kept", rname, sspr_strerror(r));
			g->kept++;
		} else if (!account) {
			(void)snprintf(why, sizeof why, "no account has uid %u", (unsigned)x->uid);
			drop(g, rname, why);
			record_gone = true;
		} else if (strcmp(account, user) != 0) {
			(void)snprintf(why, sizeof why, "uid %u is %s now, not %s", (unsigned)x->uid,
			               cli_safe(account), cli_safe(user));
			drop(g, rname, why);
			record_gone = true;
		}
	}
	if (x->codes) {
		r = file_user(g->usersfd, cname, true, user, sizeof user);
		if (r == -SSPR_E_UNSAFE_FILE || (r < 0 && r != -SSPR_E_RECORD)) {
			cli_warn(CMD, "users/%s: %s; kept", cname, sspr_strerror(r));
			g->kept++;
			return;
		}
		if (!account)
			(void)snprintf(why, sizeof why, "no account has uid %u", (unsigned)x->uid);
		else if (r == 0 && strcmp(account, user) != 0)
			(void)snprintf(why, sizeof why, "uid %u is %s now, not %s", (unsigned)x->uid,
			               cli_safe(account), cli_safe(user));
		else if (record_gone)
			(void)snprintf(why, sizeof why, "no enrollment record");
		else if (r < 0) {
			cli_warn(CMD, "users/%s cannot be used (%s); kept", cname, sspr_strerror(r));
			return;
		} else
			return;
		drop(g, cname, why);
	}
}

static void audit(const struct cli_ctx *ctx, unsigned removed, long tallies)
{
	char rm[16], tl[24], byuid[16];
	struct sspr_kv kv[] = {
		{ "removed", rm },
		{ "tallies_pruned", tl },
		{ "by_uid", cli_uid_str(ctx->caller, byuid) },
	};

	(void)snprintf(rm, sizeof rm, "%u", removed);
	(void)snprintf(tl, sizeof tl, "%ld", tallies);
	sspr_audit_log(LOG_NOTICE, "gc", kv, SSPR_ELEMENTSOF(kv));
}

/* Prune expired tallies: the number pruned, or a negative error. */
static long prune_tallies(struct cli_ctx *ctx)
{
	_cleanup_close_ int dirfd = -1;
	int r = sspr_rl_open(ctx->paths.statedir, 0, &dirfd);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return sspr_rl_prune(dirfd, &ctx->cfg, sspr_now());
}

int cli_gc(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(cli_ctx_done) struct cli_ctx ctx = { .cmd = CMD };
	_cleanup_(entries_free) struct entries e = { .n = 0 };
	_cleanup_close_ int usersfd = -1;
	_cleanup_close_ int lockfd = -1;
	struct gc_run g = { .dry_run = false };
	long tallies = 0;
	int c, r;

	while ((c = cli_getopt(CMD, argc, argv, ":nh", longopts)) != -1) {
		switch (c) {
		case 'h':
			return cli_help(usage_text);
		case 'n':
			g.dry_run = true;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(CMD, "unexpected argument '%s'", cli_safe(argv[optind]));

	r = cli_ctx_init(&ctx, CMD);
	if (r != 0)
		return r;
	if (!ctx.admin)
		return cli_fail(CMD, "only root may remove records");
	r = cli_ctx_load_config(&ctx);
	if (r != 0)
		return r;

	r = sspr_state_open_users(ctx.paths.statedir, 0, &usersfd);
	if (r < 0 && r != -ENOENT)
		return cli_fail(CMD, "state directory %s: %s", ctx.paths.statedir,
		                sspr_strerror(r));
	if (r == 0) {
		r = sspr_record_lock(usersfd, LOCK_TIMEOUT_MS, &lockfd);
		if (r < 0)
			return cli_fail(CMD, "cannot lock %s: %s", ctx.paths.usersdir,
			                sspr_strerror(r));
		r = entries_scan(usersfd, &e);
		if (r < 0)
			return cli_fail(CMD, "cannot read %s: %s", ctx.paths.usersdir,
			                sspr_strerror(r));
		g.usersfd = usersfd;
		for (size_t i = 0; i < e.n; i++)
			collect(&g, &e.v[i]);
		if (g.removed > 0 && !g.dry_run && fsync(usersfd) < 0)
			cli_warn(CMD, "%s could not be synced", ctx.paths.usersdir);
		sspr_closep(&lockfd);
		lockfd = -1;
	}
	if (!g.dry_run) {
		tallies = prune_tallies(&ctx);
		if (tallies < 0) {
			cli_warn(CMD, "cannot prune the rate-limit tallies: %s",
			         sspr_strerror((int)tallies));
			tallies = 0;
		}
		audit(&ctx, g.removed, tallies);
	}
	printf("%s %u file%s", g.dry_run ? "Would remove" : "Removed", g.removed,
	       g.removed == 1 ? "" : "s");
	if (!g.dry_run)
		printf(", pruned %ld expired rate-limit tall%s", tallies, tallies == 1 ? "y" : "ies");
	if (g.kept)
		printf("; kept %u that could not be checked (see above)", g.kept);
	printf(".\n");
	return fflush(stdout) == 0 && g.kept == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
