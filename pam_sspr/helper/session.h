/* SPDX-License-Identifier: BSD-2-Clause */
/* One reset session of sspr-helper: the state machine of STYLE.md. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include "sspr/config.h"
#include "sspr/hostkey.h"
#include "sspr/paths.h"
#include "sspr/policy.h"

struct sspr_session {
	/* set up by main() before the session starts */
	struct sspr_paths paths;
	struct sspr_config cfg;
	bool config_ok;
	bool elevated;          /* setuid: real uid != effective uid */
	uid_t caller_uid;       /* real uid at start */
	int fd;                 /* the socket to the module (stdin) */
	int tallyfd;            /* STATEDIR/tally, opened at HELLO */
	long long deadline_ms;  /* monotonic: start + session_timeout */
	long long start_ms;

	/* from HELLO (context fields replaced by "-" when elevated) */
	char user[256], service[64], rhost[256], tty[64];
	char session_id[17];
	struct sspr_account acct;
	bool eligible;          /* policy allows and the user is enrolled */
	bool need_rc;           /* require_recovery_code applies */
	bool enrolled;          /* the user has an enrollment record */
	bool policy_ok;         /* every policy rule but enrollment passes */
	char self_op[16];       /* self-service: enroll, status, recovery-codes */
	bool remote;            /* rhost set, or an elevated caller */
	bool context_loaded;    /* QUERY or HELLO seen */
	bool state_error;       /* the user's state could not be read */
	enum sspr_reason reason;
	unsigned char hostkey[SSPR_HOSTKEY_LEN];
	bool have_hostkey;

	unsigned code_tries;    /* VERIFY messages seen */
	unsigned reset_tries;   /* RESET messages seen */
	char method[12];        /* totp, hotp or recovery once a code was accepted */

	/* done after the last reply (sspr_session_run): Linux audit records
	 * and notify_command, which must not delay the answer */
	int la_chauthtok;       /* 1: reset done, -1: reset failed, 0: none */
	int la_lockout;         /* 1: timed lockout, 2: hard, 0: none */
	char la_user_hash[17];  /* a locked name that matches no account */
	time_t reset_time;      /* of reset_ok, for notify_command */
	uint64_t reset_seq;     /* journal seq of reset_ok, 0 if none */
};

/* Run the session over s->fd until it ends.  Returns the helper's exit
 * status: 0 when a password was reset, 1 otherwise. */
int sspr_session_run(struct sspr_session *s);

long long sspr_mono_ms(void);
long long sspr_mono_us(void);
