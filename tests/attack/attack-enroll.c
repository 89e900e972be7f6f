/* SPDX-License-Identifier: BSD-2-Clause */
/* Test tool of the attack suite: enroll a user with a known secret and,
 * optionally, a set of recovery codes, through the library alone (so the
 * suite does not depend on sspr-cli).  Honours SSPR_ROOT.
 *   attack-enroll USER BASE32SECRET totp|hotp [NCODES]
 * Prints the recovery codes, one a line.  Exit 0, or 1 with a line on
 * stderr. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sspr/common.h"
#include "sspr/hostkey.h"
#include "sspr/otp.h"
#include "sspr/paths.h"
#include "sspr/record.h"
#include "sspr/recovery.h"

static int die(const char *what, int r)
{
	fprintf(stderr, "attack-enroll: %s: %s\n", what, sspr_strerror(r));
	return 1;
}

int main(int argc, char **argv)
{
	_cleanup_record_ struct sspr_record *rec = NULL;
	_cleanup_close_ int usersfd = -1, lockfd = -1;
	static struct sspr_rc_set set;
	static char shown[SSPR_RC_MAX][12];
	unsigned char key[SSPR_HOSTKEY_LEN];
	struct sspr_paths paths;
	struct passwd *pw;
	unsigned ncodes = 0;
	size_t len = 0;
	int r;

	if (argc < 4 || argc > 5 || (strcmp(argv[3], "totp") != 0 && strcmp(argv[3], "hotp") != 0)) {
		fputs("usage: attack-enroll USER BASE32SECRET totp|hotp [NCODES]\n", stderr);
		return 2;
	}
	if (argc == 5)
		ncodes = (unsigned)strtoul(argv[4], NULL, 10);
	if (ncodes > SSPR_RC_MAX)
		return die("NCODES", -EINVAL);
	pw = getpwnam(argv[1]);
	if (!pw)
		return die(argv[1], -ENOENT);
	rec = sspr_record_new();
	if (!rec)
		return die("record", -ENOMEM);
	r = sspr_base32_decode(argv[2], rec->secret, SSPR_SECRET_MAX, &len);
	if (r < 0)
		return die("secret", r);
	rec->secret_len = len;
	if (sspr_strlcpy(rec->user, pw->pw_name, sizeof rec->user) < 0)
		return die("user", -SSPR_E_TOO_LONG);
	rec->uid = pw->pw_uid;
	sspr_otp_params_default(&rec->otp);
	if (argv[3][0] == 'h')
		rec->otp.type = SSPR_OTP_HOTP;
	rec->created = (int64_t)sspr_now();

	r = sspr_paths_from_env(&paths);
	if (r == 0)
		r = sspr_hostkey_load(paths.statedir, 1, key);
	if (r == 0)
		r = sspr_state_open_users(paths.statedir, 1, &usersfd);
	if (r < 0)
		return die(paths.statedir, r);
	r = sspr_record_lock(usersfd, 5000, &lockfd);
	if (r == 0)
		r = sspr_record_store(usersfd, rec);
	if (r == 0 && ncodes > 0) {
		(void)snprintf(set.user, sizeof set.user, "%s", pw->pw_name);
		set.uid = pw->pw_uid;
		set.created = (int64_t)sspr_now();
		r = sspr_rc_generate(key, ncodes, &set, shown);
		if (r == 0)
			r = sspr_rc_store(usersfd, &set);
		for (unsigned i = 0; r == 0 && i < ncodes; i++)
			printf("%s\n", shown[i]);
	}
	if (r == -SSPR_E_NOT_DURABLE)
		r = 0;
	if (r < 0)
		return die("store", r);
	return 0;
}
