/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of policy/policy.c: who may reset, rule by rule. */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "sspr/common.h"
#include "sspr/config.h"
#include "sspr/paths.h"
#include "sspr/policy.h"

#define TODAY 20000L /* 2024-10-04 */

/* The shadow file of the test root.  alice is the user who may reset. */
static const char shadow_text[] =
	"root:*:19000:0:99999:7:::\n"
	"# a comment line\n"
	"alice:$y$j9T$abcdefghijklmnop$abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG:19900:0:99999:7:::\n"
	"bang:!$y$j9T$abc$def:19900:0:99999:7:::\n"
	"star:*:19900:0:99999:7:::\n"
	"gone:$y$j9T$abc$def:19900:0:99999:7::19999:\n"
	"lastday:$y$j9T$abc$def:19900:0:99999:7::20001:\n"
	"idle:$y$j9T$abc$def:19000:0:90:7:30::\n"
	"idle0:$y$j9T$abc$def:0:0:90:7:30::\n"
	"aged:$y$j9T$abc$def:19000:0:90::::\n"
	"twice:$y$j9T$abc$def:19900:0:99999:7:::\n"
	"twice:$y$j9T$abc$xyz:19900:0:99999:7:::\n"
	"short:$y$j9T$abc$def:19900\n";

struct fixture {
	char root[64];
	struct sspr_paths paths;
	struct sspr_config c;
	struct sspr_account a;
	struct sspr_request req;
};

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* Fill a by hand: groups[0] is the primary group, as lookup does it. */
static void account_set(struct sspr_account *a, const char *name, uid_t uid,
                        const char *shell, const char *const *groups, int ngroups)
{
	sspr_account_free(a);
	memset(a, 0, sizeof *a);
	a->exists = true;
	a->uid = uid;
	a->gid = uid;
	assert_int_equal(sspr_strlcpy(a->name, name, sizeof a->name), 0);
	assert_int_equal(sspr_strlcpy(a->shell, shell, sizeof a->shell), 0);
	for (int i = 0; i < ngroups; i++) {
		a->groups[i] = strdup(groups[i]);
		assert_non_null(a->groups[i]);
	}
	a->ngroups = ngroups;
}

static void alice(struct sspr_account *a)
{
	static const char *const groups[] = { "alice", "users", "audio" };

	account_set(a, "alice", 1001, "/bin/bash", groups, 3);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char path[PATH_MAX + 16];

	assert_non_null(f);
	strcpy(f->root, "/tmp/sspr-policy-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	assert_int_equal(sspr_paths_init(&f->paths, f->root), 0);
	assert_int_equal(mkdir(f->paths.etcdir, 0755), 0);
	(void)snprintf(path, sizeof path, "%s/shadow", f->paths.etcdir);
	write_file(path, shadow_text);
	assert_int_equal(sspr_config_defaults(&f->c), 0);
	alice(&f->a);
	f->req.service = "sshd";
	f->req.rhost = NULL;
	f->req.remote = false;
	f->req.check_service = true;
	f->req.check_enrolled = true;
	f->req.enrolled = true;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX + 16];

	(void)snprintf(path, sizeof path, "%s/shadow", f->paths.etcdir);
	(void)unlink(path);
	(void)rmdir(f->paths.etcdir);
	(void)rmdir(f->root);
	sspr_account_free(&f->a);
	sspr_config_free(&f->c);
	free(f);
	return 0;
}

static struct sspr_verdict eval(struct fixture *f)
{
	struct sspr_verdict v;

	memset(&v, 0xa5, sizeof v);
	assert_int_equal(sspr_policy_evaluate(&f->c, &f->paths, &f->a, &f->req, TODAY, &v), 0);
	/* invariants: allowed iff no applied rule fails; reason from the first */
	{
		enum sspr_reason first = SSPR_R_NONE;

		for (int i = 0; i < SSPR_RULE_LAST; i++) {
			assert_true(v.rule[i].why[0] != '\0');
			assert_non_null(memchr(v.rule[i].why, '\0', sizeof v.rule[i].why));
			if (!v.rule[i].applied)
				assert_true(v.rule[i].pass);
			if (v.rule[i].applied && !v.rule[i].pass) {
				assert_int_not_equal(v.rule[i].reason, SSPR_R_NONE);
				if (first == SSPR_R_NONE)
					first = v.rule[i].reason;
			}
		}
		assert_int_equal(v.reason, first);
		assert_int_equal(v.allowed, first == SSPR_R_NONE);
	}
	return v;
}

static void assert_denied(struct fixture *f, enum sspr_rule rule, enum sspr_reason reason,
                          const char *why)
{
	struct sspr_verdict v = eval(f);

	if (v.allowed || v.reason != reason) {
		print_error("want %s, got allowed=%d reason=%s\n", sspr_reason_name(reason),
		            v.allowed, sspr_reason_name(v.reason));
		for (int i = 0; i < SSPR_RULE_LAST; i++)
			print_error("  %s: applied=%d pass=%d %s\n", sspr_rule_name(i),
			            v.rule[i].applied, v.rule[i].pass, v.rule[i].why);
	}
	assert_false(v.allowed);
	assert_int_equal(v.reason, reason);
	assert_true(v.rule[rule].applied);
	assert_false(v.rule[rule].pass);
	assert_int_equal(v.rule[rule].reason, reason);
	if (why && !strstr(v.rule[rule].why, why)) {
		print_error("why: want \"%s\" in \"%s\"\n", why, v.rule[rule].why);
		fail();
	}
}

static void assert_allowed(struct fixture *f)
{
	struct sspr_verdict v = eval(f);

	if (!v.allowed)
		for (int i = 0; i < SSPR_RULE_LAST; i++)
			print_error("  %s: applied=%d pass=%d %s\n", sspr_rule_name(i),
			            v.rule[i].applied, v.rule[i].pass, v.rule[i].why);
	assert_true(v.allowed);
	assert_int_equal(v.reason, SSPR_R_NONE);
}

static void list_set(struct sspr_strlist *l, const char *const *v, size_t n)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
	for (size_t i = 0; i < n; i++) {
		l->v[i] = strdup(v[i]);
		assert_non_null(l->v[i]);
		l->n = i + 1;
	}
}

/* ---- names ---- */

static void test_reason_names(void **state)
{
	static const char *const names[SSPR_R_LAST] = {
		"none", "unknown_user", "not_local", "not_enrolled", "service", "uid_range",
		"deny_user", "deny_group", "allow_group", "shell", "remote", "locked_password",
		"account_expired", "account_inactive", "config_error", "rate_user",
		"rate_source", "rate_global", "rate_caller",
	};

	(void)state;
	for (int i = 0; i < SSPR_R_LAST; i++)
		assert_string_equal(sspr_reason_name(i), names[i]);
	assert_string_equal(sspr_reason_name(SSPR_R_LAST), "unknown");
	assert_string_equal(sspr_reason_name((enum sspr_reason)-1), "unknown");
}

static void test_rule_names(void **state)
{
	static const char *const names[SSPR_RULE_LAST] = {
		"exists", "services", "deny_users", "uid_range", "deny_groups", "allow_groups",
		"deny_shells", "allow_remote", "local_account", "password_state", "enrolled",
	};

	(void)state;
	for (int i = 0; i < SSPR_RULE_LAST; i++)
		assert_string_equal(sspr_rule_name(i), names[i]);
	assert_string_equal(sspr_rule_name(SSPR_RULE_LAST), "unknown");
}

/* ---- each rule flips the verdict ---- */

static void test_allowed(void **state)
{
	struct fixture *f = *state;
	struct sspr_verdict v;

	assert_allowed(f);
	v = eval(f);
	for (int i = 0; i < SSPR_RULE_LAST; i++) {
		if (i == SSPR_RULE_ALLOW_GROUPS) /* empty: not applied */
			assert_false(v.rule[i].applied);
		else
			assert_true(v.rule[i].applied);
		assert_true(v.rule[i].pass);
	}
	assert_non_null(strstr(v.rule[SSPR_RULE_UID_RANGE].why, "uid 1001 in 1000..60000"));
}

static void test_rule_service(void **state)
{
	struct fixture *f = *state;
	struct sspr_verdict v;

	f->req.service = "cron";
	assert_denied(f, SSPR_RULE_SERVICE, SSPR_R_SERVICE, "cron");
	f->req.service = NULL;
	assert_denied(f, SSPR_RULE_SERVICE, SSPR_R_SERVICE, NULL);
	f->req.service = "-";
	assert_denied(f, SSPR_RULE_SERVICE, SSPR_R_SERVICE, NULL);
	/* not checked: the elevated helper knows no service */
	f->req.check_service = false;
	assert_allowed(f);
	v = eval(f);
	assert_false(v.rule[SSPR_RULE_SERVICE].applied);
	f->req.check_service = true;
	f->req.service = "login";
	assert_allowed(f);
}

static void test_rule_deny_users(void **state)
{
	struct fixture *f = *state;
	static const char *const users[] = { "root", "alice" };

	list_set(&f->c.deny_users, users, 2);
	assert_denied(f, SSPR_RULE_DENY_USERS, SSPR_R_DENY_USER, "alice");
	list_set(&f->c.deny_users, users, 1);
	assert_allowed(f);
}

static void test_rule_uid_range(void **state)
{
	struct fixture *f = *state;
	struct sspr_verdict v;

	f->a.uid = 999;
	assert_denied(f, SSPR_RULE_UID_RANGE, SSPR_R_UID_RANGE, "uid 999 not in 1000..60000");
	f->a.uid = 60001;
	assert_denied(f, SSPR_RULE_UID_RANGE, SSPR_R_UID_RANGE, NULL);
	f->a.uid = 1000;
	assert_allowed(f);
	f->a.uid = 60000;
	assert_allowed(f);
	f->c.max_uid = 59999;
	assert_denied(f, SSPR_RULE_UID_RANGE, SSPR_R_UID_RANGE, NULL);
	f->c.min_uid = 0;
	f->c.max_uid = 4294967294U;
	f->a.uid = 4294967294U;
	v = eval(f);
	assert_true(v.rule[SSPR_RULE_UID_RANGE].pass);
}

static void test_rule_deny_groups(void **state)
{
	struct fixture *f = *state;
	static const char *const supp[] = { "alice", "users", "sudo" };
	static const char *const prim[] = { "docker", "users" };

	account_set(&f->a, "alice", 1001, "/bin/bash", supp, 3);
	assert_denied(f, SSPR_RULE_DENY_GROUPS, SSPR_R_DENY_GROUP,
	              "member of group sudo, which deny_groups lists");
	account_set(&f->a, "alice", 1001, "/bin/bash", prim, 2);
	assert_denied(f, SSPR_RULE_DENY_GROUPS, SSPR_R_DENY_GROUP, "primary group docker");
	/* not listed any more */
	list_set(&f->c.deny_groups, supp + 2, 1);
	assert_allowed(f);
}

static void test_rule_allow_groups(void **state)
{
	struct fixture *f = *state;
	static const char *const allow[] = { "staffers", "resetters" };
	static const char *const member[] = { "alice", "users", "resetters" };
	struct sspr_verdict v;

	list_set(&f->c.allow_groups, allow, 2);
	assert_denied(f, SSPR_RULE_ALLOW_GROUPS, SSPR_R_ALLOW_GROUP, NULL);
	account_set(&f->a, "alice", 1001, "/bin/bash", member, 3);
	assert_allowed(f);
	v = eval(f);
	assert_true(v.rule[SSPR_RULE_ALLOW_GROUPS].applied);
	assert_non_null(strstr(v.rule[SSPR_RULE_ALLOW_GROUPS].why, "resetters"));
	/* deny wins over allow */
	list_set(&f->c.deny_groups, member + 2, 1);
	assert_denied(f, SSPR_RULE_DENY_GROUPS, SSPR_R_DENY_GROUP, NULL);
}

static void test_rule_shell(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(sspr_strlcpy(f->a.shell, "/usr/sbin/nologin", sizeof f->a.shell), 0);
	assert_denied(f, SSPR_RULE_SHELL, SSPR_R_SHELL, "/usr/sbin/nologin");
	assert_int_equal(sspr_strlcpy(f->a.shell, "/bin/false", sizeof f->a.shell), 0);
	assert_denied(f, SSPR_RULE_SHELL, SSPR_R_SHELL, NULL);
	assert_int_equal(sspr_strlcpy(f->a.shell, "", sizeof f->a.shell), 0);
	assert_allowed(f); /* empty: /bin/sh */
	assert_int_equal(sspr_strlcpy(f->a.shell, "/bin/zsh", sizeof f->a.shell), 0);
	assert_allowed(f);
}

static void test_rule_remote(void **state)
{
	struct fixture *f = *state;

	f->req.remote = true;
	f->req.rhost = "192.0.2.7";
	assert_allowed(f);
	f->c.allow_remote = false;
	assert_denied(f, SSPR_RULE_REMOTE, SSPR_R_REMOTE, "192.0.2.7");
	f->req.rhost = NULL; /* elevated caller: remote without a host */
	assert_denied(f, SSPR_RULE_REMOTE, SSPR_R_REMOTE, NULL);
	f->req.remote = false;
	assert_allowed(f);
}

static void test_rule_local(void **state)
{
	struct fixture *f = *state;
	static const char *const groups[] = { "carol" };
	struct sspr_verdict v;

	account_set(&f->a, "carol", 1002, "/bin/bash", groups, 1);
	assert_denied(f, SSPR_RULE_LOCAL, SSPR_R_NOT_LOCAL, "carol");
	v = eval(f);
	assert_false(v.rule[SSPR_RULE_PASSWORD].applied);
	/* two lines: not a line the rewrite would touch */
	account_set(&f->a, "twice", 1002, "/bin/bash", groups, 1);
	assert_denied(f, SSPR_RULE_LOCAL, SSPR_R_NOT_LOCAL, "more than one line");
	/* a malformed line */
	account_set(&f->a, "short", 1002, "/bin/bash", groups, 1);
	assert_denied(f, SSPR_RULE_LOCAL, SSPR_R_NOT_LOCAL, NULL);
}

static void test_rule_local_no_shadow(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX + 16];

	(void)snprintf(path, sizeof path, "%s/shadow", f->paths.etcdir);
	assert_int_equal(unlink(path), 0);
	assert_denied(f, SSPR_RULE_LOCAL, SSPR_R_NOT_LOCAL, NULL);
}

static void test_rule_password(void **state)
{
	struct fixture *f = *state;
	static const char *const groups[] = { "x" };
	struct sspr_verdict v;

	account_set(&f->a, "bang", 1003, "/bin/bash", groups, 1);
	assert_denied(f, SSPR_RULE_PASSWORD, SSPR_R_LOCKED_PASSWORD, "locked");
	v = eval(f);
	assert_true(v.rule[SSPR_RULE_LOCAL].pass);
	account_set(&f->a, "star", 1003, "/bin/bash", groups, 1);
	assert_denied(f, SSPR_RULE_PASSWORD, SSPR_R_LOCKED_PASSWORD, NULL);
	account_set(&f->a, "gone", 1003, "/bin/bash", groups, 1);
	assert_denied(f, SSPR_RULE_PASSWORD, SSPR_R_ACCOUNT_EXPIRED, "2024-10-03");
	account_set(&f->a, "idle", 1003, "/bin/bash", groups, 1);
	assert_denied(f, SSPR_RULE_PASSWORD, SSPR_R_ACCOUNT_INACTIVE, NULL);

	/* not a bar: expiry still ahead, lastchg 0, password merely aged */
	account_set(&f->a, "lastday", 1003, "/bin/bash", groups, 1);
	assert_allowed(f);
	account_set(&f->a, "idle0", 1003, "/bin/bash", groups, 1);
	assert_allowed(f);
	account_set(&f->a, "aged", 1003, "/bin/bash", groups, 1);
	assert_allowed(f);
	/* the day of expiry itself is expired (pam_unix) */
	account_set(&f->a, "lastday", 1003, "/bin/bash", groups, 1);
	assert_int_equal(sspr_policy_evaluate(&f->c, &f->paths, &f->a, &f->req, 20001, &v), 0);
	assert_int_equal(v.reason, SSPR_R_ACCOUNT_EXPIRED);
}

static void test_rule_enrolled(void **state)
{
	struct fixture *f = *state;
	struct sspr_verdict v;

	f->req.enrolled = false;
	assert_denied(f, SSPR_RULE_ENROLLED, SSPR_R_NOT_ENROLLED, "not enrolled");
	f->req.check_enrolled = false;
	assert_allowed(f);
	v = eval(f);
	assert_false(v.rule[SSPR_RULE_ENROLLED].applied);
}

/* ---- precedence ---- */

static void test_precedence(void **state)
{
	struct fixture *f = *state;
	static const char *const groups[] = { "x", "sudo" };
	struct sspr_verdict v;
	int failing = 0;

	/* everything wrong at once: the reason is the first rule's, and every
	 * rule still says why */
	account_set(&f->a, "bang", 999, "/bin/false", groups, 2);
	f->req.service = "cron";
	f->req.remote = true;
	f->c.allow_remote = false;
	f->req.enrolled = false;
	{
		static const char *const deny[] = { "bang" };
		static const char *const allow[] = { "wheel" };

		list_set(&f->c.deny_users, deny, 1);
		list_set(&f->c.allow_groups, allow, 1);
	}
	v = eval(f);
	assert_int_equal(v.reason, SSPR_R_SERVICE);
	for (int i = 0; i < SSPR_RULE_LAST; i++)
		if (v.rule[i].applied && !v.rule[i].pass)
			failing++;
	assert_int_equal(failing, SSPR_RULE_LAST - 2); /* all but exists and local */

	/* peel off one at a time, in rule order */
	f->req.service = "sshd";
	assert_denied(f, SSPR_RULE_DENY_USERS, SSPR_R_DENY_USER, NULL);
	f->c.deny_users.n = 0;
	free(f->c.deny_users.v[0]);
	f->c.deny_users.v[0] = NULL;
	assert_denied(f, SSPR_RULE_UID_RANGE, SSPR_R_UID_RANGE, NULL);
	f->a.uid = 1500;
	assert_denied(f, SSPR_RULE_DENY_GROUPS, SSPR_R_DENY_GROUP, NULL);
	free(f->a.groups[1]);
	f->a.groups[1] = strdup("wheel");
	assert_non_null(f->a.groups[1]);
	list_set(&f->c.deny_groups, groups + 1, 1);
	assert_denied(f, SSPR_RULE_SHELL, SSPR_R_SHELL, NULL);
	assert_int_equal(sspr_strlcpy(f->a.shell, "/bin/sh", sizeof f->a.shell), 0);
	assert_denied(f, SSPR_RULE_REMOTE, SSPR_R_REMOTE, NULL);
	f->req.remote = false;
	assert_denied(f, SSPR_RULE_PASSWORD, SSPR_R_LOCKED_PASSWORD, NULL);
	assert_int_equal(sspr_strlcpy(f->a.name, "alice", sizeof f->a.name), 0);
	assert_denied(f, SSPR_RULE_ENROLLED, SSPR_R_NOT_ENROLLED, NULL);
	f->req.enrolled = true;
	assert_allowed(f);
}

static void test_precedence_allow_group(void **state)
{
	struct fixture *f = *state;
	static const char *const allow[] = { "wheel" };

	list_set(&f->c.allow_groups, allow, 1);
	f->req.enrolled = false;
	/* allow_groups comes before the enrollment */
	assert_denied(f, SSPR_RULE_ALLOW_GROUPS, SSPR_R_ALLOW_GROUP, NULL);
	/* and deny_users before the uid range */
	f->a.uid = 0;
	assert_int_equal(sspr_strlcpy(f->a.name, "root", sizeof f->a.name), 0);
	assert_denied(f, SSPR_RULE_DENY_USERS, SSPR_R_DENY_USER, NULL);
}

/* ---- unknown users ---- */

static void test_unknown_user(void **state)
{
	struct fixture *f = *state;
	struct sspr_verdict v;

	sspr_account_free(&f->a);
	memset(&f->a, 0, sizeof f->a);
	assert_denied(f, SSPR_RULE_EXISTS, SSPR_R_UNKNOWN_USER, NULL);
	v = eval(f);
	for (int i = SSPR_RULE_DENY_USERS; i < SSPR_RULE_LAST; i++)
		if (i != SSPR_RULE_REMOTE)
			assert_false(v.rule[i].applied);
	/* request rules still explain themselves */
	assert_true(v.rule[SSPR_RULE_SERVICE].applied);
	f->req.service = "cron";
	assert_denied(f, SSPR_RULE_EXISTS, SSPR_R_UNKNOWN_USER, NULL);
	v = eval(f);
	assert_false(v.rule[SSPR_RULE_SERVICE].pass);

	/* a NULL account and a NULL request are an unknown user, locally */
	assert_int_equal(sspr_policy_evaluate(&f->c, &f->paths, NULL, NULL, TODAY, &v), 0);
	assert_false(v.allowed);
	assert_int_equal(v.reason, SSPR_R_UNKNOWN_USER);
	assert_int_equal(sspr_policy_evaluate(NULL, &f->paths, &f->a, &f->req, TODAY, &v),
	                 -EINVAL);
}

/* ---- NSS ---- */

static void test_lookup_root(void **state)
{
	struct sspr_account a;
	bool has_root = false;

	(void)state;
	memset(&a, 0x5a, sizeof a); /* lookup must not read what was there */
	assert_int_equal(sspr_account_lookup("root", &a), 0);
	assert_true(a.exists);
	assert_int_equal(a.uid, 0);
	assert_string_equal(a.name, "root");
	assert_true(a.shell[0] == '/' || a.shell[0] == '\0');
	assert_true(a.ngroups >= 1);
	assert_true(a.ngroups <= SSPR_GROUPS_MAX);
	for (int i = 0; i < a.ngroups; i++) {
		assert_non_null(a.groups[i]);
		if (strcmp(a.groups[i], "root") == 0)
			has_root = true;
	}
	assert_true(has_root); /* gid 0 is root's primary group */
	sspr_account_free(&a);
	assert_int_equal(a.ngroups, 0);
	sspr_account_free(&a);
}

static void test_lookup_missing(void **state)
{
	struct sspr_account a;

	(void)state;
	memset(&a, 0x5a, sizeof a);
	assert_int_equal(sspr_account_lookup("sspr-no-such-user-4711", &a), 0);
	assert_false(a.exists);
	assert_int_equal(a.ngroups, 0);
	sspr_account_free(&a);
	assert_int_equal(sspr_account_lookup("", &a), 0);
	assert_false(a.exists);
	assert_int_equal(sspr_account_lookup(NULL, &a), 0);
	assert_false(a.exists);
	{
		char longname[400];

		memset(longname, 'a', sizeof longname - 1);
		longname[sizeof longname - 1] = '\0';
		assert_int_equal(sspr_account_lookup(longname, &a), 0);
		assert_false(a.exists);
	}
	sspr_account_free(&a);
}

static void test_lookup_then_evaluate(void **state)
{
	struct fixture *f = *state;
	struct sspr_verdict v;

	/* the real root under default policy: denied by name first */
	sspr_account_free(&f->a);
	assert_int_equal(sspr_account_lookup("root", &f->a), 0);
	v = eval(f);
	assert_false(v.allowed);
	assert_int_equal(v.reason, SSPR_R_DENY_USER);
	assert_false(v.rule[SSPR_RULE_UID_RANGE].pass);
	assert_false(v.rule[SSPR_RULE_DENY_GROUPS].pass);
	assert_non_null(strstr(v.rule[SSPR_RULE_DENY_GROUPS].why, "root"));
	/* root's shadow line in the test root is "*": locked */
	assert_int_equal(v.rule[SSPR_RULE_PASSWORD].reason, SSPR_R_LOCKED_PASSWORD);

	sspr_account_free(&f->a);
	assert_int_equal(sspr_account_lookup("sspr-no-such-user-4711", &f->a), 0);
	v = eval(f);
	assert_int_equal(v.reason, SSPR_R_UNKNOWN_USER);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_rule_names),
		T(test_allowed),
		T(test_rule_service),
		T(test_rule_deny_users),
		T(test_rule_uid_range),
		T(test_rule_deny_groups),
		T(test_rule_allow_groups),
		T(test_rule_shell),
		T(test_rule_remote),
		T(test_rule_local),
		T(test_rule_local_no_shadow),
		T(test_rule_password),
		T(test_rule_enrolled),
		T(test_precedence),
		T(test_precedence_allow_group),
		T(test_unknown_user),
		cmocka_unit_test(test_lookup_root),
		cmocka_unit_test(test_lookup_missing),
		T(test_lookup_then_evaluate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
