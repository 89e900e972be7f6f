/* SPDX-License-Identifier: BSD-2-Clause */
/* The reset session: HELLO, then VERIFY (at most max_code_tries), then
 * RESET (at most 3 tries, ended by the first success) only after a code
 * was accepted.  Any other order ends the session.  The transitions are
 * the table `transitions` below, as in OpenSSH's monitor.c. */
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <sodium.h>

#include "sspr-build.h"
#if HAVE_PWQUALITY
#include <pwquality.h>
#endif

#include "session.h"
#include "sspr/audit.h"
#include "sspr/faillock.h"
#include "sspr/linuxaudit.h"
#include "sspr/notice.h"
#include "sspr/notify.h"
#include "sspr/otp.h"
#include "sspr/passwd.h"
#include "sspr/proto.h"
#include "sspr/ratelimit.h"
#include "sspr/record.h"
#include "sspr/recovery.h"
#include "sspr/shadow.h"

#define SSPR_RESET_TRIES 3
#define RECORD_LOCK_MS 10000
#define PRUNE_ONE_IN 64 /* sessions, on average, between two tally prunes */
#define CHECK_FLOOR_US 8000 /* a code check answers no sooner (conceal) */

enum state {
	ST_HELLO, ST_VERIFY, ST_RECOVERY, ST_RESET,
	ST_SELF_PW, ST_SELF_CODE, ST_SELF_DO, /* self-service (sspr-cli as a user) */
	ST_END,
};

long long sspr_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long sspr_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Sleep until the monotonic clock reaches `until` (microseconds). */
static void pad_until(long long until)
{
	for (long long left; (left = until - sspr_mono_us()) > 0;) {
		struct timespec ts = { left / 1000000, (left % 1000000) * 1000 };

		(void)nanosleep(&ts, NULL);
	}
}

/* --- audit ------------------------------------------------------------ */

/* Log event with the session's common fields, then extra ones.  A name
 * that matches no account is logged only as user_hash=.  Returns the
 * journal seq of the event, 0 without one. */
static uint64_t audit(struct sspr_session *s, int prio, const char *event,
                      const struct sspr_kv *extra, size_t nextra)
{
	struct sspr_kv kv[16];
	char uid[16], caller[16], hash[17];
	size_t n = 0;

	if (s->acct.exists) {
		kv[n++] = (struct sspr_kv){ "user", s->acct.name };
		(void)snprintf(uid, sizeof uid, "%u", (unsigned)s->acct.uid);
		kv[n++] = (struct sspr_kv){ "uid", uid };
	} else if (s->user[0]) {
		sspr_audit_user_hash(s->user, s->have_hostkey ? s->hostkey : NULL,
		                     SSPR_HOSTKEY_LEN, hash);
		kv[n++] = (struct sspr_kv){ "user_hash", hash };
	}
	kv[n++] = (struct sspr_kv){ "service", s->service[0] ? s->service : "-" };
	kv[n++] = (struct sspr_kv){ "rhost", s->rhost[0] ? s->rhost : "-" };
	kv[n++] = (struct sspr_kv){ "tty", s->tty[0] ? s->tty : "-" };
	if (s->elevated) {
		(void)snprintf(caller, sizeof caller, "%u", (unsigned)s->caller_uid);
		kv[n++] = (struct sspr_kv){ "caller_uid", caller };
	}
	if (s->session_id[0])
		kv[n++] = (struct sspr_kv){ "session", s->session_id };
	for (size_t i = 0; i < nextra && n < SSPR_ELEMENTSOF(kv); i++)
		kv[n++] = extra[i];
	return sspr_audit_log(prio, event, kv, n);
}

/* A lockout, for the Linux audit record sent after the last reply. */
static void note_lockout(struct sspr_session *s, bool hard)
{
	s->la_lockout = hard ? 2 : 1;
	if (!s->acct.exists && s->user[0])
		sspr_audit_user_hash(s->user, s->have_hostkey ? s->hostkey : NULL,
		                     SSPR_HOSTKEY_LEN, s->la_user_hash);
}

/* --- after the last reply ----------------------------------------------- */

/* Linux audit records (sspr-helper(8)): the reset's result and any
 * lockout, as passwd and pam_faillock send theirs.  Only as root; never
 * an error of the session. */
static void linux_audit_records(struct sspr_session *s)
{
	struct sspr_linuxaudit_who who = {
		.user = s->acct.exists ? s->acct.name : NULL,
		.uid = s->acct.uid,
		.user_hash = s->la_user_hash,
		.rhost = s->rhost,
		.tty = s->tty,
	};

	if (!sspr_linuxaudit_enabled())
		return;
	if (s->la_chauthtok && s->acct.exists)
		(void)sspr_linuxaudit_chauthtok(&who, s->la_chauthtok > 0);
	if (s->la_lockout)
		(void)sspr_linuxaudit_lockout(&who, s->la_lockout == 2);
}

/* notify_command after a reset (sspr.conf(5), sspr-helper(8)).  The reply
 * is sent; a child of ours, in a session of its own, runs the command
 * bounded by notify_timeout and logs the outcome, while we go on and exit
 * at once: the module waits for no notifier. */
static void notify_after_reset(struct sspr_session *s)
{
	struct sspr_notify_event ev = {
		.event = "reset_ok", .user = s->acct.name, .uid = s->acct.uid,
		.service = s->service, .rhost = s->rhost, .tty = s->tty,
		.method = s->method, .session = s->session_id,
		.time = s->reset_time, .seq = s->reset_seq,
	};
	struct sspr_notify_result res;
	pid_t pid;
	int null, r;

	pid = fork();
	if (pid < 0) {
		struct sspr_kv kv[] = { { "reason", "setup" }, { "error", sspr_strerror(-errno) } };

		audit(s, LOG_WARNING, "notify_fail", kv, SSPR_ELEMENTSOF(kv));
		return;
	}
	if (pid > 0)
		return;

	/* the supervisor: off the module's socket and out of its session */
	(void)setsid();
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		(void)dup2(null, STDIN_FILENO);
		(void)dup2(null, STDOUT_FILENO);
		if (null > STDERR_FILENO)
			(void)close(null);
	} else {
		(void)close(STDIN_FILENO);
		(void)close(STDOUT_FILENO);
	}
	if (s->tallyfd >= 0)
		(void)close(s->tallyfd);
	s->tallyfd = -1;
	r = sspr_notify_run(s->cfg.notify_command, s->cfg.notify_user,
	                    (long)s->cfg.notify_timeout * 1000, &ev, &res);
	{
		char st[16], pidbuf[16];
		struct sspr_kv kv[4];
		size_t n = 0;

		(void)snprintf(pidbuf, sizeof pidbuf, "%ld", (long)res.pid);
		if (r == 0) {
			kv[n++] = (struct sspr_kv){ "pid", pidbuf };
			audit(s, LOG_NOTICE, "notify_ok", kv, n);
		} else {
			kv[n++] = (struct sspr_kv){ "reason", sspr_notify_outcome_name(res.outcome) };
			if (res.outcome == SSPR_NOTIFY_EXIT || res.outcome == SSPR_NOTIFY_SIGNAL) {
				(void)snprintf(st, sizeof st, "%d", res.status);
				kv[n++] = (struct sspr_kv){
					res.outcome == SSPR_NOTIFY_EXIT ? "status" : "signal", st };
			} else if (res.error < 0) {
				kv[n++] = (struct sspr_kv){ "error", sspr_strerror(res.error) };
			}
			if (res.pid > 0)
				kv[n++] = (struct sspr_kv){ "pid", pidbuf };
			audit(s, LOG_WARNING, "notify_fail", kv, n);
		}
	}
	_exit(0);
}

static void reply(struct sspr_msg *out, enum sspr_status st, const char *text)
{
	sspr_msg_init(out, SSPR_MSG_REPLY, (uint8_t)st);
	if (text)
		(void)sspr_msg_add(out, text);
}

/* --- HELLO ------------------------------------------------------------ */

static bool name_ok(const char *u)
{
	if (!*u || *u == '-' || strlen(u) > 255)
		return false;
	for (const unsigned char *p = (const unsigned char *)u; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == ':' || *p == '/')
			return false;
	return true;
}

/* The unix_chkpwd rule: an elevated helper acts only on its caller's own
 * account, and trusts no context from the caller. */
static int become_root_for_caller(struct sspr_session *s)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwuid_r(s->caller_uid, &pw, buf, sizeof buf, &res) != 0 || !res ||
	    strcmp(res->pw_name, s->user) != 0)
		return -EPERM;
	memcpy(s->service, "-", 2);
	memcpy(s->rhost, "-", 2);
	memcpy(s->tty, "-", 2);
	/* From here the caller can no longer signal us. */
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return -errno;
	return 0;
}

static bool is_enrolled(struct sspr_session *s, int *ret_err)
{
	_cleanup_record_ struct sspr_record *rec = NULL;
	_cleanup_close_ int ufd = -1;
	int r;

	*ret_err = 0;
	r = sspr_state_open_users(s->paths.statedir, 1, &ufd);
	if (r >= 0) {
		rec = sspr_record_new();
		r = rec ? sspr_record_load(ufd, s->acct.uid, s->acct.name, rec) : -ENOMEM;
	}
	if (r == -ENOENT)
		return false;
	if (r < 0)
		*ret_err = r;
	return r == 0;
}

/* Take the request's context (HELLO or QUERY fields), become root when
 * elevated, and decide eligibility.  Returns 0, or -1 after filling a
 * FAIL reply (the session ends). */
static int load_context(struct sspr_session *s, const struct sspr_msg *in, struct sspr_msg *out)
{
	struct sspr_request req = { 0 };
	struct sspr_verdict v;
	bool enrolled = false;
	int err = 0;

	if (s->context_loaded) {
		/* QUERY then HELLO: the same user, nothing else to load */
		if (in->nfields < 5 || strcmp(in->field[0].data, s->user) != 0) {
			struct sspr_kv kv[] = { { "reason", "protocol" } };

			audit(s, LOG_WARNING, "reset_fail", kv, 1);
			reply(out, SSPR_ST_FAIL, NULL);
			return -1;
		}
		return 0;
	}
	sspr_audit_session_id(s->session_id);
	if (in->nfields < 5 || !name_ok(in->field[0].data) ||
	    sspr_strlcpy(s->user, in->field[0].data, sizeof s->user) < 0 ||
	    sspr_strlcpy(s->service, in->field[1].data, sizeof s->service) < 0 ||
	    sspr_strlcpy(s->rhost, in->field[2].data, sizeof s->rhost) < 0 ||
	    sspr_strlcpy(s->tty, in->field[3].data, sizeof s->tty) < 0) {
		struct sspr_kv kv[] = { { "reason", "protocol" } };

		s->user[0] = '\0';
		audit(s, LOG_WARNING, "reset_fail", kv, 1);
		reply(out, SSPR_ST_FAIL, NULL);
		return -1;
	}
	if (s->elevated && become_root_for_caller(s) < 0) {
		struct sspr_kv kv[] = { { "reason", "not_caller" } };

		/* the caller's context is not trusted on a refusal either */
		memcpy(s->service, "-", 2);
		memcpy(s->rhost, "-", 2);
		memcpy(s->tty, "-", 2);

		audit(s, LOG_WARNING, "denied", kv, 1);
		reply(out, SSPR_ST_FAIL, NULL);
		return -1;
	}
	if (!s->config_ok) {
		struct sspr_kv kv[] = { { "reason", "config_error" } };

		audit(s, LOG_ERR, "denied", kv, 1);
		reply(out, SSPR_ST_FAIL, NULL);
		return -1;
	}
	s->have_hostkey = sspr_hostkey_load(s->paths.statedir, 1, s->hostkey) == 0;
	if (sspr_account_lookup(s->user, &s->acct) < 0 || !s->have_hostkey) {
		struct sspr_kv kv[] = { { "reason", "state" } };

		audit(s, LOG_ERR, "reset_fail", kv, 1);
		reply(out, SSPR_ST_FAIL, NULL);
		return -1;
	}
	if (s->acct.exists)
		enrolled = is_enrolled(s, &err);

	req.service = s->service;
	req.rhost = s->rhost;
	req.remote = s->elevated || (s->rhost[0] && strcmp(s->rhost, "-") != 0);
	req.check_service = !s->elevated && !s->self_op[0];
	req.check_enrolled = false; /* decided below, so self-service can enroll */
	req.enrolled = enrolled;
	if (sspr_policy_evaluate(&s->cfg, &s->paths, &s->acct, &req, (long)(sspr_now() / 86400),
	                         &v) < 0) {
		v.allowed = false;
		v.reason = SSPR_R_CONFIG_ERROR;
	}
	s->remote = req.remote;
	s->enrolled = enrolled;
	s->policy_ok = v.allowed && err == 0;
	s->eligible = s->policy_ok && enrolled;
	if (v.allowed && !enrolled)
		v.reason = SSPR_R_NOT_ENROLLED;
	s->need_rc = s->cfg.require_recovery_code == SSPR_RRC_ALWAYS ||
	             (s->cfg.require_recovery_code == SSPR_RRC_REMOTE && req.remote);
	s->reason = err ? SSPR_R_NONE : v.reason;
	s->state_error = err != 0;
	s->context_loaded = true;
	return 0;
}

static void audit_denied(struct sspr_session *s)
{
	struct sspr_kv kv[] = { { "reason", s->state_error ? "state" : sspr_reason_name(s->reason) } };

	audit(s, LOG_WARNING, "denied", kv, 1);
}

/* conceal = no: may this user reset?  Charges nothing, logs no start. */
static enum state on_query(struct sspr_session *s, const struct sspr_msg *in,
                           struct sspr_msg *out)
{
	if (s->context_loaded) {
		struct sspr_kv kv[] = { { "reason", "protocol" } };

		audit(s, LOG_WARNING, "reset_fail", kv, 1);
		reply(out, SSPR_ST_FAIL, NULL);
		return ST_END;
	}
	if (in->nfields != 5 || load_context(s, in, out) < 0) {
		if (in->nfields != 5)
			reply(out, SSPR_ST_FAIL, NULL);
		return ST_END;
	}
	if (!s->eligible) {
		audit_denied(s);
		reply(out, SSPR_ST_FAIL, NULL);
		return ST_END;
	}
	reply(out, SSPR_ST_OK, NULL);
	return ST_HELLO;
}

/* global_rate for root callers, caller_rate for each other caller (so
 * that a local user cannot use up the host's budget).  Returns 0, or -1
 * after filling the reply. */
static int charge_session(struct sspr_session *s, struct sspr_msg *out)
{
	enum sspr_reason why = SSPR_R_NONE;
	int r;

	r = sspr_rl_open(s->paths.statedir, 1, &s->tallyfd);
	if (r == 0)
		r = sspr_rl_session(s->tallyfd, &s->cfg, s->elevated && s->caller_uid != 0,
		                    s->caller_uid, sspr_now(), &why);
	if (r < 0) {
		struct sspr_kv kv[] = { { "reason", "state" }, { "error", sspr_strerror(r) } };

		audit(s, LOG_ERR, "reset_fail", kv, SSPR_ELEMENTSOF(kv));
		reply(out, SSPR_ST_FAIL, NULL);
		return -1;
	}
	if (why != SSPR_R_NONE) {
		struct sspr_kv kv[] = { { "reason", sspr_reason_name(why) } };

		audit(s, LOG_WARNING, "rate_limited", kv, 1);
		reply(out, SSPR_ST_RATE_LIMITED, NULL);
		return -1;
	}
	return 0;
}

static enum state on_hello(struct sspr_session *s, const struct sspr_msg *in,
                           struct sspr_msg *out)
{
	if (in->nfields != 5 || load_context(s, in, out) < 0) {
		if (in->nfields != 5)
			reply(out, SSPR_ST_FAIL, NULL);
		return ST_END;
	}
	if (charge_session(s, out) < 0)
		return ST_END;
	audit(s, LOG_NOTICE, "reset_start", NULL, 0);
	if (!s->eligible)
		audit_denied(s);
	/* conceal: the same answer whoever asked; the reason is only logged. */
	reply(out, SSPR_ST_OK, NULL);
	return ST_VERIFY;
}

/* --- VERIFY and the recovery-code step -------------------------------- */

/* Same work as a real check, for a user who can never pass: an OTP
 * computation over the window, or a recovery-code hash. */
static void dummy_check(const struct sspr_session *s, const char *code)
{
	unsigned char secret[32]; /* a host-key-sized random key, or an OTP secret */
	struct sspr_otp_params p;
	uint64_t state = 0;

	randombytes_buf(secret, sizeof secret);
	if (sspr_rc_looks_like(code)) {
		struct sspr_rc_set set = { .uid = 0 };
		char shown[1][12];

		(void)sspr_rc_generate(secret, 1, &set, shown);
		sspr_wipe(shown, sizeof shown);
	} else {
		sspr_otp_params_default(&p);
		(void)!sspr_otp_verify(&p, secret, sizeof secret, code, sspr_now(), s->cfg.window,
		                       0, &state);
	}
	sspr_wipe(secret, sizeof secret);
}

/* Check an OTP code (recovery = false) or a recovery code against the
 * user's state, under the record lock: two sessions never accept one
 * TOTP step or one recovery code. */
static int check_code(struct sspr_session *s, const char *code, bool recovery)
{
	_cleanup_record_ struct sspr_record *rec = NULL;
	_cleanup_close_ int ufd = -1;
	_cleanup_close_ int lockfd = -1;
	time_t now = sspr_now();
	int r;

	r = sspr_state_open_users(s->paths.statedir, 0, &ufd);
	if (r < 0)
		return r;
	r = sspr_record_lock(ufd, RECORD_LOCK_MS, &lockfd);
	if (r < 0)
		return r;
	if (recovery) {
		unsigned left = 0;

		r = sspr_rc_consume(ufd, s->hostkey, s->acct.uid, s->acct.name, code, &left);
		if (r == -ENOENT)
			r = -SSPR_E_CODE_INVALID;
		if (r == 0)
			memcpy(s->method, "recovery", 9);
		return r;
	}
	rec = sspr_record_new();
	if (!rec)
		return -ENOMEM;
	/* Re-read under the lock. */
	r = sspr_record_load(ufd, s->acct.uid, s->acct.name, rec);
	if (r < 0)
		return r;
	r = sspr_otp_verify(&rec->otp, rec->secret, rec->secret_len, code, now, s->cfg.window,
	                    s->cfg.hotp_lookahead, &rec->state);
	if (r < 0)
		return r;
	rec->last_used = now;
	r = sspr_record_store(ufd, rec);
	if (r < 0)
		return r;
	memcpy(s->method, rec->otp.type == SSPR_OTP_HOTP ? "hotp" : "totp", 5);
	return 0;
}

/* One code attempt in the OTP step (rc_step false) or the recovery-code
 * step.  A recovery code is accepted at the OTP prompt, unless policy
 * asks for one after the OTP code: then it counts as a wrong code. */
static enum state attempt(struct sspr_session *s, const struct sspr_msg *in,
                          struct sspr_msg *out, bool rc_step)
{
	char tries[16];
	struct sspr_rl_attempt rl;
	const char *code;
	long long t0;
	bool as_rc;
	int r = -SSPR_E_CODE_INVALID, e;

	s->code_tries++;
	(void)snprintf(tries, sizeof tries, "%u", s->code_tries);
	if (in->nfields != 1) {
		struct sspr_kv kv[] = { { "reason", "protocol" } };

		audit(s, LOG_WARNING, "reset_fail", kv, 1);
		reply(out, SSPR_ST_FAIL, NULL);
		return ST_END;
	}
	code = in->field[0].data;
	as_rc = sspr_rc_looks_like(code);

	/* Counted, durably, before the check: killing us mid-check never
	 * yields a free guess.  Keyed by the name asked for, whoever it is. */
	e = sspr_rl_attempt(s->tallyfd, &s->cfg, s->hostkey, s->user, s->acct.exists,
	                    s->elevated ? NULL : s->rhost, sspr_now(), &rl);
	if (e < 0) {
		struct sspr_kv kv[] = { { "reason", "state" }, { "error", sspr_strerror(e) } };

		audit(s, LOG_ERR, "reset_fail", kv, SSPR_ELEMENTSOF(kv));
		reply(out, SSPR_ST_FAIL, NULL);
		return ST_END;
	}
	if (rl.blocked != SSPR_R_NONE) {
		struct sspr_kv kv[] = { { "reason", sspr_reason_name(rl.blocked) } };

		audit(s, LOG_WARNING, "rate_limited", kv, 1);
		reply(out, SSPR_ST_RATE_LIMITED, NULL);
		return ST_END;
	}
	t0 = sspr_mono_us();
	if (!s->eligible || (as_rc && s->need_rc && !rc_step) || (rc_step && !as_rc))
		dummy_check(s, code);
	else
		r = check_code(s, code, as_rc);
	/* The same work for everyone is not the same time (a real check
	 * reads the user's record under its lock): every check takes at
	 * least CHECK_FLOOR_US, so the answer's timing tells no name apart. */
	pad_until(t0 + CHECK_FLOOR_US);
	if (r == 0 && sspr_rl_success(s->tallyfd, &s->cfg, s->hostkey, s->user,
	                              s->elevated ? NULL : s->rhost, sspr_now()) < 0)
		r = -EIO; /* fail closed: the success could not be recorded */

	if (r == 0) {
		struct sspr_kv kv[] = { { "method", s->method }, { "try", tries } };
		bool more = !rc_step && s->need_rc;

		audit(s, LOG_NOTICE, "code_ok", kv, SSPR_ELEMENTSOF(kv));
		if (s->self_op[0]) {
			reply(out, SSPR_ST_OK, NULL);
			return ST_SELF_DO;
		}
		if (more) {
			s->code_tries = 0; /* the recovery step has its own tries */
			reply(out, SSPR_ST_NEED_RECOVERY, NULL);
			return ST_RECOVERY;
		}
		reply(out, SSPR_ST_OK, NULL);
		return ST_RESET;
	}
	if (r != -SSPR_E_CODE_INVALID && r != -SSPR_E_CODE_REPLAY && r != -EINVAL) {
		struct sspr_kv kv[] = { { "reason", "state" }, { "error", sspr_strerror(r) } };

		audit(s, LOG_ERR, "reset_fail", kv, SSPR_ELEMENTSOF(kv));
		reply(out, SSPR_ST_FAIL, NULL);
		return ST_END;
	}
	{
		struct sspr_kv kv[] = { { "try", tries }, { "step", rc_step ? "recovery" : "code" },
		                        { "replay", r == -SSPR_E_CODE_REPLAY ? "yes" : "no" } };

		audit(s, LOG_WARNING, "code_fail", kv, SSPR_ELEMENTSOF(kv));
	}
	if (rl.locked_now || rl.hard_locked_now) {
		char until[24];
		struct sspr_kv kv[] = { { "until", until }, { "hard", rl.hard_locked_now ? "yes" : "no" } };

		(void)snprintf(until, sizeof until, "%lld", (long long)rl.locked_until);
		if (rl.hard_locked_now)
			memcpy(until, "unlock", 7);
		audit(s, LOG_WARNING, "locked", kv, SSPR_ELEMENTSOF(kv));
		note_lockout(s, rl.hard_locked_now);
		/* "invalid": the module says "Invalid code." before the notice */
		reply(out, SSPR_ST_RATE_LIMITED, "invalid");
		return ST_END;
	}
	if (s->code_tries >= s->cfg.max_code_tries) {
		struct sspr_kv kv[] = { { "reason", "max_code_tries" } };

		audit(s, LOG_WARNING, "reset_fail", kv, 1);
		reply(out, SSPR_ST_EXHAUSTED, NULL);
		return ST_END;
	}
	reply(out, SSPR_ST_INVALID, NULL);
	return s->self_op[0] ? ST_SELF_CODE : rc_step ? ST_RECOVERY : ST_VERIFY;
}

static enum state on_verify(struct sspr_session *s, const struct sspr_msg *in,
                            struct sspr_msg *out)
{
	return attempt(s, in, out, false);
}

static enum state on_recovery(struct sspr_session *s, const struct sspr_msg *in,
                              struct sspr_msg *out)
{
	return attempt(s, in, out, true);
}

/* --- RESET ------------------------------------------------------------ */

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* The new-password rules. Returns 0 or writes the reason to why. */
static int password_refused(struct sspr_session *s, const char *pw, char *why, size_t len)
{
	struct sspr_shadow_info info;
	int r = 0;

	if (utf8_chars(pw) < s->cfg.min_length) {
		(void)snprintf(why, len, "it is shorter than %u characters", s->cfg.min_length);
		return 1;
	}
	if (s->cfg.reject_reuse && sspr_shadow_lookup(s->paths.etcdir, s->acct.name, &info) == 0) {
		if (sspr_passwd_matches(pw, info.hash)) {
			(void)snprintf(why, len, "it is the same as the old one");
			r = 1;
		}
		sspr_wipe(&info, sizeof info);
		if (r)
			return r;
	}
#if HAVE_PWQUALITY
	if (s->cfg.use_pwquality) {
		pwquality_settings_t *pq = pwquality_default_settings();
		char path[PATH_MAX];
		void *aux = NULL;
		int q;

		if (!pq) {
			(void)snprintf(why, len, "cannot check the password quality");
			return 1;
		}
		if (snprintf(path, sizeof path, "%s/etc/security/pwquality.conf", s->paths.root) >=
		    (int)sizeof path)
			path[0] = '\0';
		(void)pwquality_read_config(pq, s->paths.test_root ? path : NULL, NULL);
		q = pwquality_check(pq, pw, NULL, s->acct.name, &aux);
		if (q < 0) {
			char buf[PWQ_MAX_ERROR_MESSAGE_LEN];

			(void)snprintf(why, len, "%s", pwquality_strerror(buf, sizeof buf, q, aux));
			r = 1;
		}
		pwquality_free_settings(pq);
	}
#endif
	return r;
}

/* Tell the user at the next login (the module's session part). */
static void leave_notice(struct sspr_session *s, enum sspr_notice_kind kind)
{
	struct sspr_notice n = { .kind = kind, .time = sspr_now() };
	int r;

	(void)snprintf(n.service, sizeof n.service, "%s", s->service[0] ? s->service : "-");
	(void)snprintf(n.rhost, sizeof n.rhost, "%s", s->rhost[0] ? s->rhost : "-");
	(void)snprintf(n.tty, sizeof n.tty, "%s", s->tty[0] ? s->tty : "-");
	/* values from outside: no blanks or controls in the notice file */
	for (char *f[] = { n.service, n.rhost, n.tty, NULL }, **q = f; *q; q++)
		for (char *c = *q; *c; c++)
			if ((unsigned char)*c <= 0x20 || *c == 0x7f)
				*c = '?';
	r = sspr_notice_store(s->paths.statedir, s->acct.uid, &n);
	if (r < 0) {
		struct sspr_kv kv[] = { { "error", sspr_strerror(r) } };

		audit(s, LOG_WARNING, "notice_fail", kv, 1);
	}
}

static enum state on_reset(struct sspr_session *s, const struct sspr_msg *in,
                           struct sspr_msg *out)
{
	char why[256], hash[SSPR_HASH_MAX], ms[24];
	const char *pw;
	int r;

	s->reset_tries++;
	if (in->nfields != 1) {
		struct sspr_kv kv[] = { { "reason", "protocol" } };

		audit(s, LOG_WARNING, "reset_fail", kv, 1);
		reply(out, SSPR_ST_FAIL, NULL);
		return ST_END;
	}
	pw = in->field[0].data;
	if (password_refused(s, pw, why, sizeof why)) {
		struct sspr_kv kv[] = { { "reason", why } };

		audit(s, LOG_NOTICE, "quality_fail", kv, SSPR_ELEMENTSOF(kv));
		if (s->reset_tries >= SSPR_RESET_TRIES) {
			struct sspr_kv kv2[] = { { "reason", "password_rules" } };

			audit(s, LOG_WARNING, "reset_fail", kv2, SSPR_ELEMENTSOF(kv2));
			s->la_chauthtok = -1;
			reply(out, SSPR_ST_UNCHANGED, why);
			return ST_END;
		}
		reply(out, SSPR_ST_BAD_PASSWORD, why);
		return ST_RESET;
	}
	r = sspr_passwd_hash(s->cfg.hash, s->paths.login_defs, pw, hash, sizeof hash);
	if (r == 0)
		r = sspr_shadow_update(s->paths.etcdir, s->acct.name, hash, (long)(sspr_now() / 86400));
	sspr_wipe(hash, sizeof hash);
	(void)snprintf(ms, sizeof ms, "%lld", sspr_mono_ms() - s->start_ms);
	if (r == 0 || r == -SSPR_E_NOT_DURABLE) {
		const char *faillock = "no";

		if (s->cfg.reset_faillock) {
			/* so that the new password lets in a user whom wrong
			 * passwords had locked out with pam_faillock */
			bool cleared = false;
			int e = sspr_faillock_reset(s->paths.root, s->acct.name, &cleared);

			faillock = e < 0 ? "error" : cleared ? "cleared" : "none";
		}
		struct sspr_kv kv[] = { { "method", s->method }, { "durable", r == 0 ? "yes" : "no" },
		                        { "faillock", faillock }, { "duration_ms", ms } };

		s->reset_time = sspr_now();
		s->reset_seq = audit(s, LOG_NOTICE, "reset_ok", kv, SSPR_ELEMENTSOF(kv));
		s->la_chauthtok = 1; /* Linux audit and notify_command: after the reply */
		leave_notice(s, SSPR_NOTICE_RESET);
		reply(out, SSPR_ST_OK, NULL);
		return ST_END;
	}
	{
		struct sspr_kv kv[] = { { "reason", "write" }, { "error", sspr_strerror(r) },
		                        { "duration_ms", ms } };

		audit(s, LOG_ERR, "reset_fail", kv, SSPR_ELEMENTSOF(kv));
		s->la_chauthtok = -1;
	}
	reply(out, SSPR_ST_FAIL, NULL);
	return ST_END;
}

/* --- self-service (sspr-cli enroll/status/recovery-codes as a user) ------ */

static bool rc_set_exists(struct sspr_session *s, unsigned *ret_left)
{
	_cleanup_close_ int ufd = -1;
	struct sspr_rc_set *set = calloc(1, sizeof *set);
	bool r = false;

	*ret_left = 0;
	if (set && sspr_state_open_users(s->paths.statedir, 0, &ufd) == 0 &&
	    sspr_rc_load(ufd, s->acct.uid, s->acct.name, set) == 0) {
		*ret_left = set->n;
		r = true;
	}
	free(set);
	return r;
}

/* SELF: user, service, rhost, tty, ruser, operation.  Only with
 * self_enroll = yes, for the caller's own account (an elevated helper
 * refuses any other in load_context). */
static enum state on_self(struct sspr_session *s, const struct sspr_msg *in,
                          struct sspr_msg *out)
{
	static const char *const ops[] = { "enroll", "status", "recovery-codes" };
	bool known = false;

	if (in->nfields != 6) {
		reply(out, SSPR_ST_FAIL, NULL);
		return ST_END;
	}
	for (size_t i = 0; i < SSPR_ELEMENTSOF(ops); i++)
		known |= strcmp(in->field[5].data, ops[i]) == 0;
	if (!known || sspr_strlcpy(s->self_op, in->field[5].data, sizeof s->self_op) < 0) {
		reply(out, SSPR_ST_FAIL, "unknown operation");
		return ST_END;
	}
	/* set before the context: `services` is about logins, not the CLI */
	if (load_context(s, in, out) < 0)
		return ST_END;
	if (!s->acct.exists) {
		reply(out, SSPR_ST_FAIL, "unknown_user");
		return ST_END;
	}
	if (strcmp(s->self_op, "recovery-codes") == 0 && s->cfg.recovery_codes == 0) {
		reply(out, SSPR_ST_FAIL, "no recovery codes are issued here (recovery_codes = 0)");
		return ST_END;
	}
	if (!s->cfg.self_enroll) {
		struct sspr_kv kv[] = { { "reason", "self_enroll" }, { "op", s->self_op } };

		audit(s, LOG_WARNING, "denied", kv, SSPR_ELEMENTSOF(kv));
		reply(out, SSPR_ST_FAIL, "self-service is off (self_enroll = no)");
		return ST_END;
	}
	if (charge_session(s, out) < 0)
		return ST_END;
	reply(out, SSPR_ST_OK, NULL);
	return ST_SELF_PW;
}

/* The current password, checked against shadow and counted like a code. */
static enum state on_self_password(struct sspr_session *s, const struct sspr_msg *in,
                                   struct sspr_msg *out)
{
	struct sspr_shadow_info info;
	struct sspr_rl_attempt rl;
	char tries[16];
	bool ok = false, need_code;
	unsigned left;
	int e;

	s->code_tries++;
	(void)snprintf(tries, sizeof tries, "%u", s->code_tries);
	if (in->nfields != 1) {
		reply(out, SSPR_ST_FAIL, NULL);
		return ST_END;
	}
	e = sspr_rl_attempt(s->tallyfd, &s->cfg, s->hostkey, s->user, true, NULL, sspr_now(), &rl);
	if (e < 0 || rl.blocked != SSPR_R_NONE) {
		struct sspr_kv kv[] = { { "reason", e < 0 ? "state" : sspr_reason_name(rl.blocked) } };

		audit(s, LOG_WARNING, e < 0 ? "reset_fail" : "rate_limited", kv, 1);
		reply(out, e < 0 ? SSPR_ST_FAIL : SSPR_ST_RATE_LIMITED, NULL);
		return ST_END;
	}
	if (sspr_shadow_lookup(s->paths.etcdir, s->acct.name, &info) == 0) {
		ok = !info.locked && sspr_passwd_matches(in->field[0].data, info.hash);
		sspr_wipe(&info, sizeof info);
	}
	if (!ok) {
		struct sspr_kv kv[] = { { "try", tries }, { "step", "password" }, { "op", s->self_op } };

		audit(s, LOG_WARNING, "code_fail", kv, SSPR_ELEMENTSOF(kv));
		if (rl.locked_now || rl.hard_locked_now) {
			struct sspr_kv kl[] = { { "hard", rl.hard_locked_now ? "yes" : "no" } };

			audit(s, LOG_WARNING, "locked", kl, SSPR_ELEMENTSOF(kl));
			note_lockout(s, rl.hard_locked_now);
			reply(out, SSPR_ST_RATE_LIMITED, "invalid");
			return ST_END;
		}
		if (s->code_tries >= s->cfg.max_code_tries) {
			struct sspr_kv kf[] = { { "reason", "max_code_tries" }, { "op", s->self_op } };

			audit(s, LOG_WARNING, "reset_fail", kf, SSPR_ELEMENTSOF(kf));
			reply(out, SSPR_ST_EXHAUSTED, NULL);
			return ST_END;
		}
		reply(out, SSPR_ST_INVALID, NULL);
		return ST_SELF_PW;
	}
	if (sspr_rl_success(s->tallyfd, &s->cfg, s->hostkey, s->user, NULL, sspr_now()) < 0) {
		reply(out, SSPR_ST_FAIL, NULL);
		return ST_END;
	}
	s->code_tries = 0;
	if (strcmp(s->self_op, "status") != 0 && !s->policy_ok) {
		audit_denied(s);
		reply(out, SSPR_ST_FAIL, sspr_reason_name(s->reason));
		return ST_END;
	}
	if (strcmp(s->self_op, "recovery-codes") == 0 && !s->enrolled) {
		reply(out, SSPR_ST_FAIL, "not_enrolled");
		return ST_END;
	}
	/* Replacing what exists takes a current code too, so a phished
	 * password alone cannot plant a lasting reset path. */
	need_code = (strcmp(s->self_op, "enroll") == 0 && s->enrolled) ||
	            (strcmp(s->self_op, "recovery-codes") == 0 && rc_set_exists(s, &left));
	if (need_code) {
		s->eligible = true; /* the code step checks the user's own state */
		s->need_rc = false;
		reply(out, SSPR_ST_OK, "code");
		return ST_SELF_CODE;
	}
	reply(out, SSPR_ST_OK, NULL);
	return ST_SELF_DO;
}

static enum state on_self_code(struct sspr_session *s, const struct sspr_msg *in,
                               struct sspr_msg *out)
{
	return attempt(s, in, out, false);
}

/* New recovery codes for the user, stored under the record lock. */
static int issue_codes(struct sspr_session *s, int ufd, char *joined, size_t len)
{
	struct sspr_rc_set *set = calloc(1, sizeof *set);
	char (*shown)[12] = calloc(SSPR_RC_MAX, 12);
	size_t o = 0;
	int r;

	if (!set || !shown) {
		free(set);
		free(shown);
		return -ENOMEM;
	}
	(void)snprintf(set->user, sizeof set->user, "%s", s->acct.name);
	set->uid = s->acct.uid;
	set->created = sspr_now();
	r = sspr_rc_generate(s->hostkey, s->cfg.recovery_codes, set, shown);
	if (r == 0)
		r = sspr_rc_store(ufd, set);
	joined[0] = '\0';
	for (unsigned i = 0; r == 0 && i < set->n && o + 13 < len; i++)
		o += (size_t)snprintf(joined + o, len - o, "%s%s", i ? " " : "", shown[i]);
	sspr_wipe(shown, SSPR_RC_MAX * 12);
	free(shown);
	free(set);
	return r == -SSPR_E_NOT_DURABLE ? 0 : r;
}

static int self_enroll(struct sspr_session *s, const struct sspr_msg *in, char *uri_out,
                       size_t urilen, char *codes, size_t codelen)
{
	_cleanup_record_ struct sspr_record *rec = sspr_record_new();
	_cleanup_close_ int ufd = -1;
	_cleanup_close_ int lockfd = -1;
	_cleanup_secure_ char *uri = NULL;
	char b32[SSPR_B32_MAX];
	long long v;
	int r;

	if (!rec || in->nfields != 5)
		return -EINVAL;
	sspr_otp_params_default(&rec->otp);
	rec->otp.type = strcmp(in->field[0].data, "hotp") == 0 ? SSPR_OTP_HOTP : SSPR_OTP_TOTP;
	if (strcmp(in->field[0].data, "hotp") != 0 && strcmp(in->field[0].data, "totp") != 0)
		return -EINVAL;
	if (strcmp(in->field[1].data, "sha1") == 0)
		rec->otp.alg = SSPR_OTP_SHA1;
	else if (strcmp(in->field[1].data, "sha256") == 0)
		rec->otp.alg = SSPR_OTP_SHA256;
	else if (strcmp(in->field[1].data, "sha512") == 0)
		rec->otp.alg = SSPR_OTP_SHA512;
	else
		return -EINVAL;
	if (sspr_strtonum(in->field[2].data, 6, 8, &v) < 0)
		return -EINVAL;
	rec->otp.digits = (unsigned)v;
	if (sspr_strtonum(in->field[3].data, 1, 300, &v) < 0)
		return -EINVAL;
	rec->otp.period = (unsigned)v;
	if (sspr_otp_params_check(&rec->otp) < 0 || !in->field[4].data[0])
		return -EINVAL;
	(void)snprintf(rec->user, sizeof rec->user, "%s", s->acct.name);
	rec->uid = s->acct.uid;
	randombytes_buf(rec->secret, SSPR_SECRET_LEN);
	rec->secret_len = SSPR_SECRET_LEN;
	rec->created = sspr_now();
	r = sspr_base32_encode(rec->secret, rec->secret_len, b32, sizeof b32);
	if (r == 0)
		r = sspr_otpauth_uri(&rec->otp, in->field[4].data, s->acct.name, b32, 0, &uri);
	sspr_wipe(b32, sizeof b32);
	if (r < 0)
		return r;
	if (strlen(uri) >= urilen)
		return -ENOBUFS;
	r = sspr_state_open_users(s->paths.statedir, 1, &ufd);
	if (r == 0)
		r = sspr_record_lock(ufd, RECORD_LOCK_MS, &lockfd);
	if (r == 0)
		r = sspr_record_store(ufd, rec);
	if (r == -SSPR_E_NOT_DURABLE)
		r = 0;
	if (r == 0 && s->cfg.recovery_codes > 0)
		r = issue_codes(s, ufd, codes, codelen);
	else if (r == 0 && sspr_rc_remove(ufd, s->acct.uid) == -SSPR_E_NOT_DURABLE)
		r = 0; /* no codes here: an old set must not outlive the enrollment */
	if (r == 0)
		memcpy(uri_out, uri, strlen(uri) + 1);
	return r;
}

static void self_status(struct sspr_session *s, char *out, size_t len)
{
	_cleanup_record_ struct sspr_record *rec = sspr_record_new();
	_cleanup_close_ int ufd = -1;
	unsigned left = 0;
	bool have_rc = rc_set_exists(s, &left);
	static const char *const algs[] = { "sha1", "sha256", "sha512" };

	if (!rec || sspr_state_open_users(s->paths.statedir, 0, &ufd) < 0 ||
	    sspr_record_load(ufd, s->acct.uid, s->acct.name, rec) < 0) {
		(void)snprintf(out, len, "enrolled=no");
		return;
	}
	(void)snprintf(out, len,
	               "enrolled=yes type=%s algorithm=%s digits=%u period=%u created=%lld "
	               "last_used=%lld recovery_codes=%d",
	               rec->otp.type == SSPR_OTP_HOTP ? "hotp" : "totp", algs[rec->otp.alg],
	               rec->otp.digits, rec->otp.period, (long long)rec->created,
	               (long long)rec->last_used, have_rc ? (int)left : -1);
}

static enum state on_self_do(struct sspr_session *s, const struct sspr_msg *in,
                             struct sspr_msg *out)
{
	char a[SSPR_FIELD_MAX + 1], b[SSPR_FIELD_MAX + 1];
	bool replaced = s->enrolled;
	int r = 0;

	a[0] = b[0] = '\0';
	if (strcmp(s->self_op, "status") == 0) {
		self_status(s, a, sizeof a);
		reply(out, SSPR_ST_OK, a);
		return ST_END;
	}
	if (strcmp(s->self_op, "enroll") == 0) {
		r = self_enroll(s, in, a, sizeof a, b, sizeof b);
	} else {
		_cleanup_close_ int ufd = -1;
		_cleanup_close_ int lockfd = -1;
		unsigned left;

		replaced = rc_set_exists(s, &left);
		r = sspr_state_open_users(s->paths.statedir, 0, &ufd);
		if (r == 0)
			r = sspr_record_lock(ufd, RECORD_LOCK_MS, &lockfd);
		if (r == 0)
			r = issue_codes(s, ufd, b, sizeof b);
	}
	if (r < 0) {
		struct sspr_kv kv[] = { { "op", s->self_op }, { "error", sspr_strerror(r) } };

		audit(s, LOG_ERR, "reset_fail", kv, SSPR_ELEMENTSOF(kv));
		reply(out, SSPR_ST_FAIL, sspr_strerror(r));
		return ST_END;
	}
	{
		char n[16];
		struct sspr_kv kv[] = { { "self", "yes" }, { "replaced", replaced ? "yes" : "no" },
		                        { "count", n } };

		(void)snprintf(n, sizeof n, "%u", s->cfg.recovery_codes);
		audit(s, LOG_NOTICE, strcmp(s->self_op, "enroll") == 0 ? "enroll" : "recovery_codes",
		      kv, SSPR_ELEMENTSOF(kv));
	}
	if (replaced)
		leave_notice(s, SSPR_NOTICE_REENROLL);
	sspr_msg_init(out, SSPR_MSG_REPLY, SSPR_ST_OK);
	(void)sspr_msg_add(out, a);
	(void)sspr_msg_add(out, b);
	sspr_wipe(a, sizeof a);
	sspr_wipe(b, sizeof b);
	return ST_END;
}

/* --- the machine ------------------------------------------------------ */

typedef enum state (*handler_fn)(struct sspr_session *, const struct sspr_msg *,
                                 struct sspr_msg *);

static const struct {
	enum state state;
	uint8_t type;
	handler_fn fn;
} transitions[] = {
	{ ST_HELLO, SSPR_MSG_QUERY, on_query },
	{ ST_HELLO, SSPR_MSG_HELLO, on_hello },
	{ ST_VERIFY, SSPR_MSG_VERIFY, on_verify },
	{ ST_RECOVERY, SSPR_MSG_VERIFY, on_recovery },
	{ ST_RESET, SSPR_MSG_RESET, on_reset },
	{ ST_HELLO, SSPR_MSG_SELF, on_self },
	{ ST_SELF_PW, SSPR_MSG_PASSWORD, on_self_password },
	{ ST_SELF_CODE, SSPR_MSG_VERIFY, on_self_code },
	{ ST_SELF_DO, SSPR_MSG_SELF_DO, on_self_do },
};

int sspr_session_run(struct sspr_session *s)
{
	_cleanup_msg_ struct sspr_msg in;
	_cleanup_msg_ struct sspr_msg out;
	enum state st = ST_HELLO;
	bool reset_done = false;

	memset(&in, 0, sizeof in);
	memset(&out, 0, sizeof out);
	while (st != ST_END) {
		long long left = s->deadline_ms - sspr_mono_ms();
		handler_fn fn = NULL;
		int r;

		r = left > 0 ? sspr_msg_recv(s->fd, &in, (int)(left > 0x7fffffff ? 0x7fffffff : left))
		             : -ETIMEDOUT;
		if (r == -ETIMEDOUT) {
			struct sspr_kv kv[] = { { "reason", "timeout" } };

			if (st != ST_HELLO)
				audit(s, LOG_NOTICE, "reset_fail", kv, 1);
			reply(&out, SSPR_ST_TIMEOUT, NULL);
			(void)sspr_msg_send(s->fd, &out);
			break;
		}
		if (r < 0) {
			/* The module went away (the user gave up, or the module
			 * ended the branch) or sent garbage. */
			struct sspr_kv kv[] = { { "reason", r == -EPIPE ? "abandoned" : "protocol" } };

			if (st != ST_HELLO)
				audit(s, LOG_NOTICE, "reset_fail", kv, 1);
			break;
		}
		for (size_t i = 0; i < SSPR_ELEMENTSOF(transitions); i++)
			if (transitions[i].state == st && transitions[i].type == in.type)
				fn = transitions[i].fn;
		if (!fn) {
			struct sspr_kv kv[] = { { "reason", "protocol" } };

			audit(s, LOG_WARNING, "reset_fail", kv, 1);
			reply(&out, SSPR_ST_FAIL, NULL);
			(void)sspr_msg_send(s->fd, &out);
			break;
		}
		st = fn(s, &in, &out);
		if (st == ST_END && in.type == SSPR_MSG_RESET && out.arg == SSPR_ST_OK)
			reset_done = true;
		sspr_msg_wipe(&in);
		if (sspr_msg_send(s->fd, &out) < 0)
			break;
	}
	/* The user has the last answer: now what must not delay it.  The
	 * notifier first: the module kills a helper that lingers (5 s), and
	 * libaudit waits for the kernel's acknowledgement. */
	if (reset_done && s->cfg.notify_command)
		notify_after_reset(s);
	linux_audit_records(s);
	/* Keep the tally state bounded (max_tallies, expired names) without a
	 * timer: once in a while, after the user has the last answer. */
	if (s->tallyfd >= 0 && randombytes_uniform(PRUNE_ONE_IN) == 0)
		(void)sspr_rl_prune(s->tallyfd, &s->cfg, sspr_now());
	return reset_done ? 0 : 1;
}
