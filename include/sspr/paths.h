/* SPDX-License-Identifier: BSD-2-Clause */
/* Every path the project uses, under one root prefix (SPEC section 8). */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <time.h>

struct sspr_paths {
	char root[PATH_MAX];       /* "" in production, SSPR_ROOT in tests */
	char conf[PATH_MAX];       /* root + CONFDIR/sspr.conf */
	char etcdir[PATH_MAX];     /* root + /etc (shadow, passwd, .pwd.lock) */
	char login_defs[PATH_MAX]; /* root + /etc/login.defs */
	char statedir[PATH_MAX];   /* root + STATEDIR */
	char usersdir[PATH_MAX];   /* statedir/users */
	bool test_root;            /* true when root came from SSPR_ROOT */
};

/* Fill paths from root (NULL or "" for the real system).
 * Returns 0 or -ENAMETOOLONG / -EINVAL (root not absolute). */
int sspr_paths_init(struct sspr_paths *p, const char *root);

/* Fill paths from SSPR_ROOT, read with secure_getenv (so ignored when
 * elevated).  Returns as sspr_paths_init. */
int sspr_paths_from_env(struct sspr_paths *p);

/* The clock: SSPR_NOW (secure_getenv, whole seconds) when set and valid,
 * else time(NULL). */
time_t sspr_now(void);
