/* SPDX-License-Identifier: BSD-2-Clause */
/* The shadow file: reading one user's state, and the atomic rewrite of
 * SPEC section 3.  Password hashing with crypt(3) is in passwd.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define SSPR_SHADOW_MAX (256L * 1024 * 1024) /* bytes of shadow we read */
#define SSPR_HASH_MAX 512

struct sspr_shadow_info {
	bool locked;      /* hash starts with '!' or '*' */
	long lastchg;     /* field 3, -1 when empty */
	long inactive;    /* field 7, -1 when empty */
	long expire;      /* field 8, -1 when empty */
	long max;         /* field 5, -1 when empty */
	char hash[SSPR_HASH_MAX]; /* field 2 (for reject_reuse); wipe after use */
};

/* Parse the line naming user out of a whole shadow text (pure).
 * Returns 0, -SSPR_E_NO_LINE, -SSPR_E_DUP_LINE or -EINVAL (line malformed). */
int sspr_shadow_find(const char *text, size_t len, const char *user,
                     struct sspr_shadow_info *ret);

/* Whether info allows a reset on day `today` (days since the epoch):
 * 0, -SSPR_E_LOCKED_PW, -SSPR_E_ACCOUNT_EXPIRED or -SSPR_E_ACCOUNT_INACTIVE.
 * An expired password is no bar; with lastchg 0 inactivity is not applied. */
int sspr_shadow_check(const struct sspr_shadow_info *info, long today);

/* Pure edit: copy text with the user's line changed in field 2 (hash) and
 * field 3 (lastchg = today) only, every other byte unchanged.  Exactly one
 * line must name the user.  *ret is malloc'd.  Returns 0, -SSPR_E_NO_LINE,
 * -SSPR_E_DUP_LINE, -SSPR_E_BAD_HASH, -EINVAL or -ENOMEM. */
int sspr_shadow_edit(const char *text, size_t len, const char *user,
                     const char *hash, long today, char **ret, size_t *ret_len);

/* Read user's entry from etcdir/shadow (no lock; for eligibility). */
int sspr_shadow_lookup(const char *etcdir, const char *user, struct sspr_shadow_info *ret);

/* The rewrite of SPEC section 3 in etcdir: take the lckpwdf-compatible
 * lock on etcdir/.pwd.lock (bounded wait), remove stale temporary files,
 * read shadow, refuse when sspr_shadow_check fails, edit, write a temp
 * file (same owner, group, mode, SELinux context), fsync, hard-link the
 * old file, rename the new one over shadow, rename the link over shadow-,
 * fsync the directory.  shadow and shadow- are never the same inode.
 * Returns 0 (durable), -SSPR_E_NOT_DURABLE (the new file is in place but
 * the directory fsync or the backup rename failed: a success to report
 * with durable=no), or a negative error with the old file in place
 * (-EFBIG when the new file would exceed RLIMIT_FSIZE, checked before any
 * write so no SIGXFSZ is raised). */
int sspr_shadow_update(const char *etcdir, const char *user, const char *hash,
                       long today);

/* lckpwdf()'s bound on the wait for etcdir/.pwd.lock. */
#define SSPR_SHADOW_LOCK_TIMEOUT_MS 15000

/* sspr_shadow_update with its own bound on the wait for the lock
 * (-SSPR_E_LOCK_TIMEOUT past it); for tests of lock contention. */
int sspr_shadow_update_timeout(const char *etcdir, const char *user, const char *hash,
                               long today, unsigned lock_timeout_ms);

/* True when s is non-empty, contains only crypt(3) hash characters
 * ([./0-9A-Za-z$*=,-]) and is shorter than SSPR_HASH_MAX. */
bool sspr_crypt_alphabet_ok(const char *s);

/* Pure batch edit for `sspr-cli expire`: copy text with field 3 (lastchg)
 * of every listed user's line set to "0", every other byte unchanged.  A
 * name listed twice counts once.  Every listed user needs exactly one
 * well-formed line, else nothing is produced and *ret_bad (may be NULL)
 * is set to the index in users of the first offender.  *ret is malloc'd.
 * Returns 0, -SSPR_E_NO_LINE, -SSPR_E_DUP_LINE, -EINVAL (n == 0, a bad
 * name, a malformed line) or -ENOMEM. */
int sspr_shadow_edit_expire(const char *text, size_t len, const char *const *users, size_t n,
                            char **ret, size_t *ret_len, size_t *ret_bad);

/* `sspr-cli expire`: in ONE locked rewrite of etcdir/shadow (exactly as
 * sspr_shadow_update: lock, stale files, temp, fsync, backup link, rename,
 * directory fsync), set lastchg to 0 for users[0..n).  Atomic for the
 * batch: if any user has no line, more than one line or a malformed line,
 * nothing is written and *ret_bad (may be NULL) names the first offender
 * by its index in users.  Locked or expired accounts are no bar (this
 * changes no password).  Returns 0, -SSPR_E_NOT_DURABLE (written; report
 * durable=no), or a negative error with the file unchanged:
 * -SSPR_E_NO_LINE, -SSPR_E_DUP_LINE, -EINVAL, -SSPR_E_LOCK_TIMEOUT,
 * -ENOMEM, -EFBIG or an I/O errno. */
int sspr_shadow_expire(const char *etcdir, const char *const *users, size_t n,
                       size_t *ret_bad);
