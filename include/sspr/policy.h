/* SPDX-License-Identifier: BSD-2-Clause */
/* The policy engine: who may reset (SPEC sections 2, 3, 5).
 * One place decides, rule by rule, with a reason code for each. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "sspr/config.h"
#include "sspr/paths.h"

enum sspr_reason {
	SSPR_R_NONE = 0,
	SSPR_R_UNKNOWN_USER, SSPR_R_NOT_LOCAL, SSPR_R_NOT_ENROLLED,
	SSPR_R_SERVICE, SSPR_R_UID_RANGE, SSPR_R_DENY_USER, SSPR_R_DENY_GROUP,
	SSPR_R_ALLOW_GROUP, SSPR_R_SHELL, SSPR_R_REMOTE, SSPR_R_LOCKED_PASSWORD,
	SSPR_R_ACCOUNT_EXPIRED, SSPR_R_ACCOUNT_INACTIVE, SSPR_R_CONFIG_ERROR,
	SSPR_R_RATE_USER, SSPR_R_RATE_SOURCE, SSPR_R_RATE_GLOBAL, SSPR_R_RATE_CALLER,
	SSPR_R_LAST,
};

/* "unknown_user" etc. (SPEC section 6). */
const char *sspr_reason_name(enum sspr_reason r);

#define SSPR_GROUPS_MAX 256

/* A user as NSS sees it (getpwnam_r, getgrouplist). */
struct sspr_account {
	bool exists;
	uid_t uid;
	gid_t gid;
	char name[256];
	char shell[256];
	int ngroups;
	char *groups[SSPR_GROUPS_MAX]; /* group names, malloc'd */
};

/* Look user up through NSS. Returns 0 (also when the user does not
 * exist: exists=false), or -ENOMEM/-EIO. Free with sspr_account_free. */
int sspr_account_lookup(const char *user, struct sspr_account *ret);
void sspr_account_free(struct sspr_account *a);

/* The context of one request. */
struct sspr_request {
	const char *service;  /* NULL or "-" when unknown (elevated helper) */
	const char *rhost;    /* NULL/"" for local */
	bool remote;          /* rhost set, or elevated caller (SPEC 2) */
	bool check_service;   /* apply `services` */
	bool check_enrolled;  /* apply not_enrolled */
	bool enrolled;
};

enum sspr_rule {
	SSPR_RULE_EXISTS, SSPR_RULE_SERVICE, SSPR_RULE_DENY_USERS, SSPR_RULE_UID_RANGE,
	SSPR_RULE_DENY_GROUPS, SSPR_RULE_ALLOW_GROUPS, SSPR_RULE_SHELL, SSPR_RULE_REMOTE,
	SSPR_RULE_LOCAL, SSPR_RULE_PASSWORD, SSPR_RULE_ENROLLED,
	SSPR_RULE_LAST,
};

struct sspr_rule_verdict {
	bool applied;           /* false: rule not evaluated (not applicable) */
	bool pass;
	enum sspr_reason reason;/* when !pass */
	char why[160];          /* human explanation */
};

struct sspr_verdict {
	bool allowed;
	enum sspr_reason reason;          /* first failing rule's reason */
	struct sspr_rule_verdict rule[SSPR_RULE_LAST];
};

/* Name of a rule for `policy check` ("services", "deny_users", ...). */
const char *sspr_rule_name(enum sspr_rule r);

/* Evaluate every rule for account a under config c and request req, with
 * shadow state read from paths->etcdir and today's date.  Fills ret. */
int sspr_policy_evaluate(const struct sspr_config *c, const struct sspr_paths *paths,
                         const struct sspr_account *a, const struct sspr_request *req,
                         long today, struct sspr_verdict *ret);
