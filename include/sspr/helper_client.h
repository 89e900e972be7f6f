/* SPDX-License-Identifier: BSD-2-Clause */
/* The caller's side of the helper (the module, and sspr-cli run by a
 * user): spawn, talk, reap. */
#pragma once

#include <sys/types.h>

#include "sspr/proto.h"

struct sspr_helper {
	pid_t pid;
	int fd; /* our end of the socket pair */
};

/* Spawn the helper at path with only fds 0-2 (0 and 1: the socket) and an
 * empty environment but for the test variables of SPEC section 8.  When
 * the module runs with euid 0 the child sets its real uid to 0 too.
 * Returns 0 or a negative errno. */
int sspr_helper_start(const char *path, struct sspr_helper *ret);

/* Send req and wait for the reply (at most timeout_ms). */
int sspr_helper_call(struct sspr_helper *h, const struct sspr_msg *req,
                     struct sspr_msg *ret, int timeout_ms);

/* Close the socket and reap the child (waiting a bounded time, then
 * SIGKILL).  Returns the exit status or a negative errno. */
int sspr_helper_stop(struct sspr_helper *h);
