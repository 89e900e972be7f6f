/* SPDX-License-Identifier: BSD-2-Clause */
/* The host key: 32 random bytes in STATEDIR/hostkey (0600), created on
 * first use.  It keys the user_hash= of audit lines (and, later, the
 * recovery-code hashes and rate-limit tally names). */
#pragma once

#include <stddef.h>

#define SSPR_HOSTKEY_LEN 32

/* Load (creating when create and missing) statedir/hostkey into key.
 * The state directory is opened O_NOFOLLOW and must be owned by the
 * effective uid and not group/other writable; the file must be a regular
 * file owned by the effective uid, one link, mode 0600, exactly
 * SSPR_HOSTKEY_LEN bytes.  Returns 0, -SSPR_E_UNSAFE_FILE, or a negative
 * errno. key is untouched on failure. */
int sspr_hostkey_load(const char *statedir, int create, unsigned char key[SSPR_HOSTKEY_LEN]);
