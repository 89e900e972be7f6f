/* SPDX-License-Identifier: BSD-2-Clause */
/* sspr.conf: the one parser used by the module, the helper and the CLI.
 * Format and keys: sspr.conf(5); defaults: SPEC section 5. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SSPR_LIST_MAX 64      /* entries in one list key */
#define SSPR_CONF_MAX 65536   /* bytes in sspr.conf */

enum sspr_rrc { SSPR_RRC_NO, SSPR_RRC_REMOTE, SSPR_RRC_ALWAYS };
enum sspr_on_success { SSPR_ON_SUCCESS_LOGIN, SSPR_ON_SUCCESS_RELOGIN };
enum sspr_hash {
	SSPR_HASH_DEFAULT, SSPR_HASH_LOGIN_DEFS, SSPR_HASH_YESCRYPT,
	SSPR_HASH_GOST_YESCRYPT, SSPR_HASH_SCRYPT, SSPR_HASH_SHA512,
	SSPR_HASH_SHA256, SSPR_HASH_BCRYPT,
};

struct sspr_strlist {
	size_t n;
	char *v[SSPR_LIST_MAX]; /* malloc'd, owned by the list */
};

struct sspr_config {
	/* who may reset */
	struct sspr_strlist services, allow_groups, deny_groups, deny_users, deny_shells;
	unsigned min_uid, max_uid;
	bool allow_remote, conceal, self_enroll;
	/* challenge */
	unsigned window, hotp_lookahead, max_code_tries, session_timeout;
	enum sspr_rrc require_recovery_code;
	/* rate limits */
	unsigned deny, fail_interval, unlock_time, max_unlock_time, hard_deny;
	unsigned rhost_deny, global_rate, caller_rate, max_tallies;
	/* new password */
	unsigned min_length;
	bool use_pwquality, reject_reuse;
	enum sspr_hash hash;
	/* outcome, notification and audit */
	enum sspr_on_success on_success;
	bool reset_faillock;
	unsigned recovery_codes;
	char *notify_command; /* malloc'd, NULL when empty */
	char *notify_user;    /* malloc'd */
	unsigned notify_timeout; /* seconds notify_command may run */
	int syslog_facility;  /* LOG_AUTHPRIV etc. */
};

/* Called once per error with a message "FILE:LINE: what" (no newline). */
typedef void (*sspr_diag_fn)(void *userdata, const char *msg);

/* Set every key to its default. Returns 0 or -ENOMEM. Free with
 * sspr_config_free even on failure. */
int sspr_config_defaults(struct sspr_config *c);

/* Parse a whole file's text (need not be NUL-terminated) over the values
 * already in c.  Every error is reported through diag (may be NULL) and
 * parsing goes on to find the rest.  Returns 0, -SSPR_E_CONFIG if any error
 * was found, or -ENOMEM. */
int sspr_config_parse(struct sspr_config *c, const char *text, size_t len,
                      const char *fname, sspr_diag_fn diag, void *userdata);

/* Open path (O_NOFOLLOW), check it is a regular file owned by owner and
 * not writable by group or others, read at most SSPR_CONF_MAX bytes, set
 * defaults and parse.  Errors of the file itself are reported through
 * diag too.  Returns 0, -SSPR_E_CONFIG, -SSPR_E_UNSAFE_FILE, or a negative
 * errno (-ENOENT when the file is missing). */
int sspr_config_load(struct sspr_config *c, const char *path, uid_t owner,
                     sspr_diag_fn diag, void *userdata);

void sspr_config_free(struct sspr_config *c);

bool sspr_strlist_contains(const struct sspr_strlist *l, const char *s);

/* Names of enum values as written in the file. */
const char *sspr_hash_name(enum sspr_hash h);
