/* SPDX-License-Identifier: BSD-2-Clause */
/* Test tool: enroll a user with a known secret through the library alone,
 * so the reliability tests do not depend on sspr-cli.
 *   sspr-rel-enroll USER BASE32SECRET totp|hotp
 * Writes STATEDIR/users/UID for the real system paths (run it in a mount
 * namespace where STATEDIR is a private copy).  Exit 0, or 1 with a line on
 * stderr. */
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "sspr/common.h"
#include "sspr/otp.h"
#include "sspr/paths.h"
#include "sspr/record.h"

static int die(const char *what, int r)
{
	fprintf(stderr, "sspr-rel-enroll: %s: %s\n", what, sspr_strerror(r));
	return 1;
}

int main(int argc, char **argv)
{
	_cleanup_record_ struct sspr_record *rec = NULL;
	_cleanup_close_ int usersfd = -1, lockfd = -1;
	struct sspr_paths paths;
	struct passwd *pw;
	size_t len = 0;
	int r;

	if (argc != 4 || (strcmp(argv[3], "totp") != 0 && strcmp(argv[3], "hotp") != 0)) {
		fputs("usage: sspr-rel-enroll USER BASE32SECRET totp|hotp\n", stderr);
		return 2;
	}
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
	rec->state = 0;
	rec->created = (int64_t)sspr_now();
	rec->last_used = 0;

	r = sspr_paths_init(&paths, NULL);
	if (r == 0)
		r = sspr_state_open_users(paths.statedir, 1, &usersfd);
	if (r < 0)
		return die(paths.statedir, r);
	r = sspr_record_lock(usersfd, 5000, &lockfd);
	if (r == 0)
		r = sspr_record_store(usersfd, rec);
	if (r < 0)
		return die("store", r);
	return 0;
}
