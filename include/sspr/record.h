/* SPDX-License-Identifier: BSD-2-Clause */
/* Enrollment records: STATEDIR/users/UID (SPEC section 4).
 * Text format, one "key value" per line, first line "sspr-record 1";
 * documented in sspr-helper(8). */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "sspr/otp.h"

#define SSPR_RECORD_VERSION 1
#define SSPR_RECORD_MAX 4096   /* bytes in one record file */
#define SSPR_USER_MAX 256      /* bytes in a user name, with NUL */

struct sspr_record {
	char user[SSPR_USER_MAX];
	uid_t uid;
	struct sspr_otp_params otp;
	uint8_t *secret;       /* sodium_malloc'd, SSPR_SECRET_MAX bytes */
	size_t secret_len;
	uint64_t state;        /* TOTP: last accepted step; HOTP: next counter */
	int64_t created;       /* seconds since the epoch */
	int64_t last_used;     /* 0 = never */
};

/* Allocate an empty record (secret buffer in secure memory). NULL on OOM. */
struct sspr_record *sspr_record_new(void);
/* Wipe and free; NULL is fine. */
void sspr_record_free(struct sspr_record *r);
static inline void sspr_record_freep(struct sspr_record **r) { sspr_record_free(*r); }
#define _cleanup_record_ _cleanup_(sspr_record_freep)

/* Pure parser of a record file's text (len bytes, need not end in NUL).
 * Strict: every key exactly once, known keys only, values range-checked.
 * Returns 0 or -SSPR_E_RECORD. */
int sspr_record_parse(struct sspr_record *r, const char *text, size_t len);

/* Serialise into secure memory: *ret (free with sspr_secure_free),
 * *ret_len bytes. Returns 0, -EINVAL or -ENOMEM. */
int sspr_record_format(const struct sspr_record *r, char **ret, size_t *ret_len);

/* Open (creating when create) the users directory below statedir: each
 * directory opened O_NOFOLLOW|O_DIRECTORY, must be owned by the effective
 * uid and not writable by group or others.  *ret_fd is the users dir. */
int sspr_state_open_users(const char *statedir, int create, int *ret_fd);

/* Take the record lock (fcntl write lock on users/.lock), waiting at most
 * timeout_ms.  *ret_fd holds the lock until closed. */
int sspr_record_lock(int usersfd, int timeout_ms, int *ret_fd);

/* Load users/UID: opened O_NOFOLLOW, fstat-checked (regular, owned by the
 * effective uid, one link, mode 0600), at most SSPR_RECORD_MAX bytes,
 * parsed; user name and uid must both match.  Returns 0, -ENOENT (not
 * enrolled), -SSPR_E_UNSAFE_FILE, -SSPR_E_RECORD, or a negative errno. */
int sspr_record_load(int usersfd, uid_t uid, const char *user, struct sspr_record *r);

/* Atomically replace users/UID (temp + fsync + rename + dir fsync), mode
 * 0600. Call with the record lock held.  Returns 0, a negative errno
 * (users/UID unchanged), or -SSPR_E_NOT_DURABLE: the new record is in
 * place but the directory fsync failed. */
int sspr_record_store(int usersfd, const struct sspr_record *r);

/* Remove users/UID; -ENOENT when there was none; -SSPR_E_NOT_DURABLE
 * when removed but the directory fsync failed. */
int sspr_record_remove(int usersfd, uid_t uid);
