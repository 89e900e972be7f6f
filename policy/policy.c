/* SPDX-License-Identifier: BSD-2-Clause */
/* The policy engine: who may reset (SPEC sections 2, 3, 5).
 *
 * Every rule is evaluated, also after one failed, so that `sspr-cli policy
 * check` can explain all of them; the verdict's reason is that of the first
 * failing rule in enum sspr_rule order.  The engine does no logging. */
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sspr/common.h"
#include "sspr/policy.h"
#include "sspr/shadow.h"

#define NSS_BUF_MAX (1024 * 1024) /* largest getpwnam_r/getgrgid_r buffer */

static const char *const reason_names[SSPR_R_LAST] = {
	[SSPR_R_NONE] = "none",
	[SSPR_R_UNKNOWN_USER] = "unknown_user",
	[SSPR_R_NOT_LOCAL] = "not_local",
	[SSPR_R_NOT_ENROLLED] = "not_enrolled",
	[SSPR_R_SERVICE] = "service",
	[SSPR_R_UID_RANGE] = "uid_range",
	[SSPR_R_DENY_USER] = "deny_user",
	[SSPR_R_DENY_GROUP] = "deny_group",
	[SSPR_R_ALLOW_GROUP] = "allow_group",
	[SSPR_R_SHELL] = "shell",
	[SSPR_R_REMOTE] = "remote",
	[SSPR_R_LOCKED_PASSWORD] = "locked_password",
	[SSPR_R_ACCOUNT_EXPIRED] = "account_expired",
	[SSPR_R_ACCOUNT_INACTIVE] = "account_inactive",
	[SSPR_R_CONFIG_ERROR] = "config_error",
	[SSPR_R_RATE_USER] = "rate_user",
	[SSPR_R_RATE_SOURCE] = "rate_source",
	[SSPR_R_RATE_GLOBAL] = "rate_global",
	[SSPR_R_RATE_CALLER] = "rate_caller",
};

static const char *const rule_names[SSPR_RULE_LAST] = {
	[SSPR_RULE_EXISTS] = "exists",
	[SSPR_RULE_SERVICE] = "services",
	[SSPR_RULE_DENY_USERS] = "deny_users",
	[SSPR_RULE_UID_RANGE] = "uid_range",
	[SSPR_RULE_DENY_GROUPS] = "deny_groups",
	[SSPR_RULE_ALLOW_GROUPS] = "allow_groups",
	[SSPR_RULE_SHELL] = "deny_shells",
	[SSPR_RULE_REMOTE] = "allow_remote",
	[SSPR_RULE_LOCAL] = "local_account",
	[SSPR_RULE_PASSWORD] = "password_state",
	[SSPR_RULE_ENROLLED] = "enrolled",
};

const char *sspr_reason_name(enum sspr_reason r)
{
	if ((unsigned)r < SSPR_R_LAST && reason_names[r])
		return reason_names[r];
	return "unknown";
}

const char *sspr_rule_name(enum sspr_rule r)
{
	if ((unsigned)r < SSPR_RULE_LAST && rule_names[r])
		return rule_names[r];
	return "unknown";
}

/* ---- NSS ---- */

void sspr_account_free(struct sspr_account *a)
{
	if (!a)
		return;
	for (int i = 0; i < a->ngroups && i < SSPR_GROUPS_MAX; i++) {
		free(a->groups[i]);
		a->groups[i] = NULL;
	}
	a->ngroups = 0;
}

/* "Not found" as getpwnam_r(3) and getgrgid_r(3) may spell it. */
static bool nss_not_found(int e)
{
	return e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM;
}

static size_t nss_initial(int name)
{
	long n = sysconf(name);

	return n > 0 && n <= NSS_BUF_MAX ? (size_t)n : 1024;
}

/* Name of group gid, malloc'd in *ret: its name, or its number when it has
 * none.  Returns 0, -ENOMEM or -EIO. */
static int group_name(gid_t gid, char **ret)
{
	size_t len = nss_initial(_SC_GETGR_R_SIZE_MAX);
	char *buf = NULL;
	struct group gr, *res = NULL;
	char num[24];
	int e;

	for (;;) {
		char *nb = realloc(buf, len);

		if (!nb) {
			free(buf);
			return -ENOMEM;
		}
		buf = nb;
		e = getgrgid_r(gid, &gr, buf, len, &res);
		if (e != ERANGE)
			break;
		if (len >= NSS_BUF_MAX) {
			free(buf);
			return -EIO;
		}
		len *= 2;
	}
	if (res && res->gr_name) {
		*ret = strdup(res->gr_name);
	} else if (nss_not_found(e)) {
		(void)snprintf(num, sizeof num, "%u", (unsigned)gid);
		*ret = strdup(num);
	} else {
		free(buf);
		return e == ENOMEM ? -ENOMEM : -EIO;
	}
	free(buf);
	return *ret ? 0 : -ENOMEM;
}

/* The gids of user (primary gid first), bounded by SSPR_GROUPS_MAX.
 * Returns the count, or -EIO (more groups than we can hold: deny_groups
 * could not be applied, so fail closed). */
static int group_list(const char *user, gid_t gid, gid_t out[SSPR_GROUPS_MAX])
{
	int n = 32;

	for (int tries = 0; tries < 8; tries++) {
		int want = n;

		if (getgrouplist(user, gid, out, &want) >= 0) {
			if (want < 0 || want > n)
				return -EIO;
			return want;
		}
		if (want <= n) /* no progress */
			want = n * 2;
		if (n >= SSPR_GROUPS_MAX)
			return -EIO;
		n = want > SSPR_GROUPS_MAX ? SSPR_GROUPS_MAX : want;
	}
	return -EIO;
}

/* gcc 12's -fanalyzer reports the group names as leaked at the return,
 * not following their ownership into *ret by the struct copy: a false
 * positive, silenced for this function only (tests/attack/test-analyzer.sh). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
int sspr_account_lookup(const char *user, struct sspr_account *ret)
{
	struct sspr_account a;
	size_t len = nss_initial(_SC_GETPW_R_SIZE_MAX);
	_cleanup_free_ char *buf = NULL;
	struct passwd pw, *res = NULL;
	gid_t gids[SSPR_GROUPS_MAX];
	int e, n, r;

	memset(&a, 0, sizeof a);
	if (!ret)
		return -EINVAL;
	/* a name we cannot hold cannot be an account we act on */
	if (!user || !*user || strlen(user) >= sizeof a.name) {
		memset(ret, 0, sizeof *ret);
		return 0;
	}
	for (;;) {
		char *nb = realloc(buf, len);

		if (!nb)
			return -ENOMEM;
		buf = nb;
		e = getpwnam_r(user, &pw, buf, len, &res);
		if (e != ERANGE)
			break;
		if (len >= NSS_BUF_MAX)
			return -EIO;
		len *= 2;
	}
	if (!res) {
		if (!nss_not_found(e))
			return e == ENOMEM ? -ENOMEM : -EIO;
		memset(ret, 0, sizeof *ret);
		return 0;
	}
	a.exists = true;
	a.uid = res->pw_uid;
	a.gid = res->pw_gid;
	if (sspr_strlcpy(a.name, res->pw_name ? res->pw_name : "", sizeof a.name) < 0 ||
	    sspr_strlcpy(a.shell, res->pw_shell ? res->pw_shell : "", sizeof a.shell) < 0)
		return -EIO; /* a shell we cannot hold cannot be checked */

	n = group_list(a.name, a.gid, gids);
	if (n < 0)
		return n;
	/* primary group first, then the others once each */
	r = group_name(a.gid, &a.groups[0]);
	if (r < 0)
		return r;
	a.ngroups = 1;
	for (int i = 0; i < n; i++) {
		bool seen = gids[i] == a.gid;

		for (int j = 0; j < i && !seen; j++)
			seen = gids[j] == gids[i];
		if (seen)
			continue;
		if (a.ngroups >= SSPR_GROUPS_MAX) {
			sspr_account_free(&a);
			return -EIO;
		}
		r = group_name(gids[i], &a.groups[a.ngroups]);
		if (r < 0) {
			sspr_account_free(&a);
			return r;
		}
		a.ngroups++;
	}
	*ret = a;
	return 0;
}
#pragma GCC diagnostic pop

/* ---- evaluation ---- */

static void verdict(struct sspr_rule_verdict *v, bool pass, enum sspr_reason reason,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void verdict(struct sspr_rule_verdict *v, bool pass, enum sspr_reason reason,
                    const char *fmt, ...)
{
	va_list ap;

	v->applied = true;
	v->pass = pass;
	v->reason = pass ? SSPR_R_NONE : reason;
	va_start(ap, fmt);
	(void)vsnprintf(v->why, sizeof v->why, fmt, ap);
	va_end(ap);
}

static void not_applied(struct sspr_rule_verdict *v, const char *why)
{
	v->applied = false;
	v->pass = true;
	v->reason = SSPR_R_NONE;
	(void)snprintf(v->why, sizeof v->why, "%s", why);
}

/* "2024-05-01" for a day count since the epoch. */
static const char *day_str(char *buf, size_t len, long day)
{
	time_t t = (time_t)day * 86400;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%d", &tm) == 0)
		(void)snprintf(buf, len, "day %ld", day);
	return buf;
}

static void eval_shadow(const struct sspr_paths *paths, const struct sspr_account *a,
                        long today, struct sspr_rule_verdict *local,
                        struct sspr_rule_verdict *pw)
{
	struct sspr_shadow_info info;
	char d1[32], d2[32];
	int r;

	memset(&info, 0, sizeof info);
	r = sspr_shadow_lookup(paths->etcdir, a->name, &info);
	if (r < 0) {
		if (r == -SSPR_E_NO_LINE || r == -ENOENT)
			verdict(local, false, SSPR_R_NOT_LOCAL, "no line for %s in %s/shadow",
			        a->name, paths->etcdir);
		else if (r == -SSPR_E_DUP_LINE)
			verdict(local, false, SSPR_R_NOT_LOCAL,
			        "more than one line for %s in %s/shadow", a->name, paths->etcdir);
		else if (r == -EINVAL)
			verdict(local, false, SSPR_R_NOT_LOCAL,
			        "no usable line for %s in %s/shadow (malformed)", a->name,
			        paths->etcdir);
		else
			verdict(local, false, SSPR_R_NOT_LOCAL, "cannot read %s/shadow: %s",
			        paths->etcdir, sspr_strerror(r));
		not_applied(pw, "no usable shadow line");
		goto out;
	}
	verdict(local, true, SSPR_R_NONE, "%s has a line in %s/shadow", a->name,
	        paths->etcdir);
	if (info.locked) {
		verdict(pw, false, SSPR_R_LOCKED_PASSWORD,
		        "password is locked ('!' or '*')");
		goto out;
	}
	r = sspr_shadow_check(&info, today);
	switch (r) {
	case 0:
		if (info.expire >= 0)
			verdict(pw, true, SSPR_R_NONE, "password not locked, account expires %s",
			        day_str(d1, sizeof d1, info.expire));
		else
			verdict(pw, true, SSPR_R_NONE,
			        "password not locked, account does not expire");
		break;
	case -SSPR_E_LOCKED_PW:
		verdict(pw, false, SSPR_R_LOCKED_PASSWORD, "password is locked ('!' or '*')");
		break;
	case -SSPR_E_ACCOUNT_EXPIRED:
		verdict(pw, false, SSPR_R_ACCOUNT_EXPIRED, "account expired %s (today %s)",
		        day_str(d1, sizeof d1, info.expire), day_str(d2, sizeof d2, today));
		break;
	case -SSPR_E_ACCOUNT_INACTIVE:
		verdict(pw, false, SSPR_R_ACCOUNT_INACTIVE,
		        "inactive: password changed %s, max %ld and inactive %ld days ran out",
		        day_str(d1, sizeof d1, info.lastchg), info.max, info.inactive);
		break;
	default:
		verdict(pw, false, SSPR_R_LOCKED_PASSWORD, "shadow state not usable: %s",
		        sspr_strerror(r));
		break;
	}
out:
	sspr_wipe(&info, sizeof info);
}

/* The name of the first group of a that list l holds, or NULL. */
static const char *member_of(const struct sspr_account *a, const struct sspr_strlist *l,
                             bool *primary)
{
	for (int i = 0; i < a->ngroups && i < SSPR_GROUPS_MAX; i++)
		if (a->groups[i] && sspr_strlist_contains(l, a->groups[i])) {
			*primary = i == 0;
			return a->groups[i];
		}
	return NULL;
}

/* The rules about an account that exists. */
static void eval_account(const struct sspr_config *c, const struct sspr_paths *paths,
                         const struct sspr_account *a, const struct sspr_request *req,
                         long today, struct sspr_rule_verdict *rv)
{
	const char *g;
	bool primary = false;

	/* deny_users */
	if (sspr_strlist_contains(&c->deny_users, a->name))
		verdict(&rv[SSPR_RULE_DENY_USERS], false, SSPR_R_DENY_USER,
		        "%s is listed in deny_users", a->name);
	else
		verdict(&rv[SSPR_RULE_DENY_USERS], true, SSPR_R_NONE,
		        "%s is not in deny_users", a->name);

	/* uid range */
	if (a->uid >= c->min_uid && a->uid <= c->max_uid)
		verdict(&rv[SSPR_RULE_UID_RANGE], true, SSPR_R_NONE, "uid %u in %u..%u",
		        (unsigned)a->uid, c->min_uid, c->max_uid);
	else
		verdict(&rv[SSPR_RULE_UID_RANGE], false, SSPR_R_UID_RANGE,
		        "uid %u not in %u..%u", (unsigned)a->uid, c->min_uid, c->max_uid);

	/* deny_groups: primary or supplementary */
	g = member_of(a, &c->deny_groups, &primary);
	if (g)
		verdict(&rv[SSPR_RULE_DENY_GROUPS], false, SSPR_R_DENY_GROUP,
		        "%s group %s, which deny_groups lists",
		        primary ? "primary" : "member of", g);
	else
		verdict(&rv[SSPR_RULE_DENY_GROUPS], true, SSPR_R_NONE,
		        "member of no group that deny_groups lists");

	/* allow_groups: only when set */
	if (c->allow_groups.n == 0) {
		not_applied(&rv[SSPR_RULE_ALLOW_GROUPS], "allow_groups is empty: everyone "
		            "not denied");
	} else {
		g = member_of(a, &c->allow_groups, &primary);
		if (g)
			verdict(&rv[SSPR_RULE_ALLOW_GROUPS], true, SSPR_R_NONE,
			        "%s group %s, which allow_groups lists",
			        primary ? "primary" : "member of", g);
		else
			verdict(&rv[SSPR_RULE_ALLOW_GROUPS], false, SSPR_R_ALLOW_GROUP,
			        "member of no group that allow_groups lists");
	}

	/* deny_shells */
	if (sspr_strlist_contains(&c->deny_shells, a->shell))
		verdict(&rv[SSPR_RULE_SHELL], false, SSPR_R_SHELL,
		        "shell %s, which deny_shells lists", a->shell);
	else
		verdict(&rv[SSPR_RULE_SHELL], true, SSPR_R_NONE,
		        "shell %s is not in deny_shells", *a->shell ? a->shell : "(default)");

	/* local_account, password_state */
	eval_shadow(paths, a, today, &rv[SSPR_RULE_LOCAL], &rv[SSPR_RULE_PASSWORD]);

	/* enrolled */
	if (!req->check_enrolled)
		not_applied(&rv[SSPR_RULE_ENROLLED], "not checked for this request");
	else if (req->enrolled)
		verdict(&rv[SSPR_RULE_ENROLLED], true, SSPR_R_NONE, "%s is enrolled", a->name);
	else
		verdict(&rv[SSPR_RULE_ENROLLED], false, SSPR_R_NOT_ENROLLED,
		        "%s is not enrolled", a->name);
}

int sspr_policy_evaluate(const struct sspr_config *c, const struct sspr_paths *paths,
                         const struct sspr_account *a, const struct sspr_request *req,
                         long today, struct sspr_verdict *ret)
{
	static const struct sspr_request local_req = { 0 };
	struct sspr_verdict v;
	struct sspr_rule_verdict *rv = v.rule;

	if (!c || !paths || !ret)
		return -EINVAL;
	if (!req)
		req = &local_req;
	memset(&v, 0, sizeof v);

	/* exists */
	if (a && a->exists)
		verdict(&rv[SSPR_RULE_EXISTS], true, SSPR_R_NONE, "%s exists (uid %u)", a->name,
		        (unsigned)a->uid);
	else
		verdict(&rv[SSPR_RULE_EXISTS], false, SSPR_R_UNKNOWN_USER,
		        "no such user");

	/* services: a property of the request, applied for any user */
	if (!req->check_service)
		not_applied(&rv[SSPR_RULE_SERVICE], "not checked for this request");
	else if (!req->service || !*req->service || strcmp(req->service, "-") == 0)
		verdict(&rv[SSPR_RULE_SERVICE], false, SSPR_R_SERVICE, "service unknown");
	else if (sspr_strlist_contains(&c->services, req->service))
		verdict(&rv[SSPR_RULE_SERVICE], true, SSPR_R_NONE,
		        "service %s is in services", req->service);
	else
		verdict(&rv[SSPR_RULE_SERVICE], false, SSPR_R_SERVICE,
		        "service %s is not in services", req->service);

	/* allow_remote: also a property of the request */
	if (!req->remote)
		verdict(&rv[SSPR_RULE_REMOTE], true, SSPR_R_NONE, "local request");
	else if (c->allow_remote)
		verdict(&rv[SSPR_RULE_REMOTE], true, SSPR_R_NONE,
		        "remote request (from %s), allow_remote = yes",
		        req->rhost && *req->rhost ? req->rhost : "unknown host");
	else
		verdict(&rv[SSPR_RULE_REMOTE], false, SSPR_R_REMOTE,
		        "remote request (from %s), allow_remote = no",
		        req->rhost && *req->rhost ? req->rhost : "unknown host");

	if (a && a->exists) {
		eval_account(c, paths, a, req, today, rv);
	} else {
		static const enum sspr_rule account_rules[] = {
			SSPR_RULE_DENY_USERS, SSPR_RULE_UID_RANGE, SSPR_RULE_DENY_GROUPS,
			SSPR_RULE_ALLOW_GROUPS, SSPR_RULE_SHELL, SSPR_RULE_LOCAL,
			SSPR_RULE_PASSWORD, SSPR_RULE_ENROLLED,
		};

		for (size_t i = 0; i < SSPR_ELEMENTSOF(account_rules); i++)
			not_applied(&rv[account_rules[i]], "no such user");
	}

	v.allowed = true;
	v.reason = SSPR_R_NONE;
	for (int i = 0; i < SSPR_RULE_LAST; i++)
		if (rv[i].applied && !rv[i].pass) {
			v.allowed = false;
			v.reason = rv[i].reason;
			break;
		}
	*ret = v;
	return 0;
}
