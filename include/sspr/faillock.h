/* SPDX-License-Identifier: BSD-2-Clause */
/* Clearing a user's pam_faillock tally after a reset (reset_faillock). */
#pragma once

#include <stdbool.h>

/* The tally directory: `dir` of root/etc/security/faillock.conf, else
 * /var/run/faillock, prefixed with root.  Returns 0 or -ENAMETOOLONG. */
int sspr_faillock_dir(const char *root, char *out, size_t outlen);

/* Truncate dir/user (what `faillock --user USER --reset` does), opened
 * O_NOFOLLOW|O_NONBLOCK and checked to be a regular file.  *ret_cleared
 * tells whether there was a tally to clear.  Returns 0 (also when there
 * is none) or a negative error. */
int sspr_faillock_reset(const char *root, const char *user, bool *ret_cleared);
