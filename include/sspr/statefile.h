/* SPDX-License-Identifier: BSD-2-Clause */
/* Small state files under a checked directory: read whole (bounded, into
 * secure memory) and replace atomically.  Shared by the enrollment
 * records, the recovery codes and the rate-limit tallies. */
#pragma once

#include <stddef.h>

/* Open statedir/sub (creating both, 0700, when create): each opened
 * O_NOFOLLOW|O_DIRECTORY, owned by the effective uid, not writable by
 * group or others.  *ret_fd is sub.  Returns 0, -SSPR_E_UNSAFE_FILE or
 * a negative errno. */
int sspr_state_open_dir(const char *statedir, const char *sub, int create, int *ret_fd);

/* Open name in dirfd (O_NOFOLLOW|O_NONBLOCK: a symlink or FIFO planted
 * there neither redirects nor blocks us), check it (regular, owned by the
 * effective uid, one link, no group/other bits) and read it whole.  *ret
 * is secure memory of cap+1 bytes (free with sspr_secure_free), *ret_len
 * the bytes read.  Returns 0, -ENOENT, -SSPR_E_UNSAFE_FILE,
 * -SSPR_E_RECORD (larger than cap) or a negative errno. */
int sspr_state_read(int dirfd, const char *name, size_t cap, char **ret, size_t *ret_len);

/* Replace name in dirfd with data: an unpredictable temporary file
 * (O_EXCL|O_NOFOLLOW, 0600) written, fsync'd, closed, renamed over name,
 * then the directory fsync'd.  Returns 0, -SSPR_E_NOT_DURABLE (in place,
 * durability unknown) or a negative error (name untouched). */
int sspr_state_write(int dirfd, const char *name, const void *data, size_t len);

/* Check an open fd as sspr_state_read does. */
int sspr_state_check_file(int fd);
