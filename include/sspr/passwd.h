/* SPDX-License-Identifier: BSD-2-Clause */
/* New-password hashing and checking with libxcrypt's crypt(3). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "sspr/config.h"

/* Hash password with the method `hash` selects (SPEC section 3); for
 * SSPR_HASH_LOGIN_DEFS read ENCRYPT_METHOD and its cost keys from
 * login_defs.  Writes the hash (NUL-terminated) to out.  Returns 0,
 * -SSPR_E_WEAK_METHOD (DES, MD5, ...), -SSPR_E_BAD_HASH, -ENOBUFS or
 * another negative errno. */
int sspr_passwd_hash(enum sspr_hash hash, const char *login_defs,
                     const char *password, char *out, size_t outlen);

/* True when password verifies against hash (constant-time compare).
 * False for locked, empty or malformed hashes. */
bool sspr_passwd_matches(const char *password, const char *hash);
