/* SPDX-License-Identifier: BSD-2-Clause */
/* Rate limits (SPEC sections 2, 4, 5): tallies under STATEDIR/tally/,
 * versioned text records, one file per key, each updated atomically
 * under its own lock.  Tallies of names are keyed by a keyed hash of the
 * name asked for, whether or not such an account exists, so lockouts
 * look the same for every name. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "sspr/config.h"
#include "sspr/policy.h"

#define SSPR_TALLY_VERSION 1
#define SSPR_TALLY_MAX 16384      /* bytes in one tally file */
#define SSPR_TALLY_TIMES_MAX 1000 /* failure times kept (deny <= 1000) */

/* One tally (a name, a source, the host, or a caller). */
struct sspr_tally {
	uint32_t nfail;                       /* entries in fail[] */
	int64_t fail[SSPR_TALLY_TIMES_MAX];   /* failure times within fail_interval, oldest first */
	uint32_t consecutive;                 /* failures since the last success */
	uint32_t lockouts;                    /* consecutive lockouts (doubling) */
	int64_t locked_until;                 /* 0: not locked */
	bool hard_locked;                     /* hard_deny reached: only unlock helps */
	bool account;                         /* the name matched an account when last written */
	int64_t last_seen;                    /* last write */
};

/* Pure parser/formatter of a tally file (fuzzed).  Strict: "sspr-tally 1"
 * first, each key once, numbers range-checked, fail times ascending.
 * Returns 0 or -SSPR_E_RECORD. format: *ret malloc'd. */
int sspr_tally_parse(struct sspr_tally *t, const char *text, size_t len);
int sspr_tally_format(const struct sspr_tally *t, char **ret, size_t *ret_len);

/* Open (creating when create) STATEDIR/tally, checked like the users dir
 * (owned by the effective uid, not group/other writable, O_NOFOLLOW). */
int sspr_rl_open(const char *statedir, int create, int *ret_dirfd);

/* Charge one reset session start at `now`: against global_rate (sessions
 * per minute host-wide) when !per_caller, else against caller_rate for
 * caller (an elevated helper's non-root caller).  Over the limit: returns
 * 0 with *ret_reason = SSPR_R_RATE_GLOBAL or SSPR_R_RATE_CALLER and
 * charges nothing; else *ret_reason = SSPR_R_NONE.  A tally holds at most
 * SSPR_TALLY_TIMES_MAX times, so a global_rate, caller_rate or rhost_deny
 * above it is enforced as SSPR_TALLY_TIMES_MAX (never more lenient). */
int sspr_rl_session(int dirfd, const struct sspr_config *c, bool per_caller, uid_t caller,
                    time_t now, enum sspr_reason *ret_reason);

struct sspr_rl_attempt {
	enum sspr_reason blocked;   /* != NONE: refused before any check */
	bool locked_now;            /* this attempt started a lockout (log `locked`) */
	bool hard_locked_now;       /* this attempt reached hard_deny */
	int64_t locked_until;       /* when locked_now */
};

/* Before one code (or current-password) check for `name` from `source`
 * (NULL: none): when the name is locked or hard-locked, or the source is
 * over rhost_deny failures within fail_interval, refuse (ret->blocked =
 * SSPR_R_RATE_USER / SSPR_R_RATE_SOURCE) without counting.  Otherwise
 * count the attempt as a failure of name and source and make it durable
 * (fsync of file and directory) before returning; when the count reaches
 * deny within fail_interval the name is locked for unlock_time doubled
 * per consecutive lockout (capped by max_unlock_time), and at hard_deny
 * consecutive failures until sspr_rl_unlock: reported in ret, and the
 * attempt in progress still gets its check.  key: the host key.
 * Returns 0 or a negative error (fail closed: treat as blocked). */
int sspr_rl_attempt(int dirfd, const struct sspr_config *c, const unsigned char *key,
                    const char *name, bool account_exists, const char *source, time_t now,
                    struct sspr_rl_attempt *ret);

/* After an accepted check: take back the failure sspr_rl_attempt counted
 * for this attempt and clear the name's consecutive count and lockout
 * doubling (the source's count is taken back too). */
int sspr_rl_success(int dirfd, const struct sspr_config *c, const unsigned char *key,
                    const char *name, const char *source, time_t now);

struct sspr_rl_status {
	unsigned recent_failures;   /* within fail_interval */
	unsigned consecutive;
	unsigned lockouts;
	int64_t locked_until;       /* 0 or in the past: not locked */
	bool hard_locked;
	int64_t last_failure;       /* 0: none */
};

/* State of name's tally (all zero when there is none). */
int sspr_rl_status(int dirfd, const struct sspr_config *c, const unsigned char *key,
                   const char *name, time_t now, struct sspr_rl_status *ret);

/* Clear name's tally (sspr-cli unlock), whatever its content (a corrupt
 * or unsafe file too), and its lock file. Returns 0 also when there was
 * none; *ret_was_locked tells whether it was locked at `now` (a corrupt
 * or unsafe tally counts as locked: it refused the name). */
int sspr_rl_unlock(int dirfd, const unsigned char *key, const char *name, time_t now,
                   bool *ret_was_locked);

/* Remove expired tallies (no failure within fail_interval -- 60 s for the
 * session rates --, not locked, and no consecutive failures pending: a
 * tally whose doubling or hard_deny count still matters is kept until a
 * success or sspr-cli unlock), stale lock and temp files, then, beyond
 * max_tallies u-/s- files, the oldest (by last_seen) tallies with no
 * account.  Each file is removed under its lock; busy ones are skipped.
 * Returns the number of tallies removed or a negative error. */
long sspr_rl_prune(int dirfd, const struct sspr_config *c, time_t now);
