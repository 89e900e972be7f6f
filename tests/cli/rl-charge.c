/* SPDX-License-Identifier: BSD-2-Clause */
/* Test tool for test-cli.sh: charge failed code attempts to a name's
 * rate-limit tally through the core (sspr_rl_attempt), as the helper does,
 * so that `sspr-cli status` and `unlock` have a tally to show and clear
 * without driving a whole reset.
 *
 *   sspr-rl-charge NAME COUNT
 *
 * Paths from SSPR_ROOT, the clock from SSPR_NOW, sspr.conf from the root
 * (owned by the running user).  Prints "locked" / "hard_locked" when an
 * attempt starts a lockout and "blocked REASON" when one is refused.
 * Exit 0, or 1 on an error. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sspr/common.h"
#include "sspr/config.h"
#include "sspr/hostkey.h"
#include "sspr/paths.h"
#include "sspr/ratelimit.h"

static void diag(void *userdata, const char *msg)
{
	(void)userdata;
	fprintf(stderr, "%s\n", msg);
}

int main(int argc, char **argv)
{
	struct sspr_paths paths;
	struct sspr_config cfg;
	unsigned char key[SSPR_HOSTKEY_LEN];
	long long count;
	int dirfd = -1, r;

	if (argc != 3 || sspr_strtonum(argv[2], 1, 10000, &count) < 0) {
		fprintf(stderr, "usage: %s NAME COUNT\n", argv[0]);
		return 2;
	}
	if (sspr_paths_from_env(&paths) < 0 || !paths.test_root) {
		fprintf(stderr, "SSPR_ROOT must name a test root\n");
		return 1;
	}
	r = sspr_config_load(&cfg, paths.conf, getuid(), diag, NULL);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", paths.conf, sspr_strerror(r));
		return 1;
	}
	r = sspr_hostkey_load(paths.statedir, 1, key);
	if (r == 0)
		r = sspr_rl_open(paths.statedir, 1, &dirfd);
	for (long long i = 0; r == 0 && i < count; i++) {
		struct sspr_rl_attempt a;

		memset(&a, 0, sizeof a);
		r = sspr_rl_attempt(dirfd, &cfg, key, argv[1], true, NULL, sspr_now(), &a);
		if (r < 0)
			break;
		if (a.blocked != SSPR_R_NONE)
			printf("blocked %s\n", sspr_reason_name(a.blocked));
		if (a.hard_locked_now)
			printf("hard_locked\n");
		else if (a.locked_now)
			printf("locked\n");
	}
	sspr_wipe(key, sizeof key);
	if (dirfd >= 0)
		(void)close(dirfd);
	sspr_config_free(&cfg);
	if (r < 0) {
		fprintf(stderr, "%s\n", sspr_strerror(r));
		return 1;
	}
	return 0;
}
