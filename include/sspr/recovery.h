/* SPDX-License-Identifier: BSD-2-Clause */
/* One-time recovery codes (SPEC section 4): 10 characters of the base32
 * alphabet (50 bits), shown as XXXXX-XXXXX, accepted in any case with or
 * without the dash; stored only as BLAKE2b hashes keyed with the host key
 * in STATEDIR/users/UID.codes; each accepted once. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sspr/common.h"

#define SSPR_RC_LEN 10        /* characters of a code, without the dash */
#define SSPR_RC_MAX 100       /* codes in one set */
#define SSPR_RC_HASH 32

struct sspr_rc_set {
	char user[256];
	uid_t uid;
	int64_t created;
	unsigned n;
	uint8_t hash[SSPR_RC_MAX][SSPR_RC_HASH];
};

/* Normalise what a user typed: strip one '-' after the fifth character,
 * upper-case; 10 characters of [A-Z2-7] with at least one letter.
 * Returns 0 (out holds 10 chars + NUL) or -EINVAL. */
int sspr_rc_normalize(const char *in, char out[static SSPR_RC_LEN + 1]);

/* True when in has the shape of a recovery code (letters; so never an
 * OTP code, which is digits only). */
bool sspr_rc_looks_like(const char *in);

/* Make n (<= SSPR_RC_MAX) fresh codes for uid: display forms "XXXXX-XXXXX"
 * into shown[i] (12 bytes each, caller-provided, wipe after showing) and
 * their hashes into set (user, uid, created filled by the caller).
 * key: the host key (32 bytes). Returns 0 or -EINVAL. */
int sspr_rc_generate(const unsigned char *key, unsigned n, struct sspr_rc_set *set,
                     char (*shown)[12]);

/* Pure parser/formatter of a UID.codes file (fuzzed).  Format:
 *   sspr-codes 1 / user NAME / uid N / created N / count N / then N lines
 *   "code HEX64".  Returns 0 or -SSPR_E_RECORD; format: *ret malloc'd. */
int sspr_rc_parse(struct sspr_rc_set *set, const char *text, size_t len);
int sspr_rc_format(const struct sspr_rc_set *set, char **ret, size_t *ret_len);

/* State files, in the users directory, under the record lock (record.h).
 * load: -ENOENT when the user has no codes; store replaces the whole set
 * atomically (the old set is void); remove deletes it. */
int sspr_rc_load(int usersfd, uid_t uid, const char *user, struct sspr_rc_set *ret);
int sspr_rc_store(int usersfd, const struct sspr_rc_set *set);
int sspr_rc_remove(int usersfd, uid_t uid);

/* Accept code once: hash it, compare against every stored hash in
 * constant time, and on a match remove that hash from the set and store
 * it.  Call with the record lock held.  Returns 0 (accepted; *ret_left
 * codes remain), -SSPR_E_CODE_INVALID, -ENOENT (no codes), or an error. */
SSPR_WARN_UNUSED
int sspr_rc_consume(int usersfd, const unsigned char *key, uid_t uid, const char *user,
                    const char *code, unsigned *ret_left);
