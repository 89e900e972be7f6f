/* SPDX-License-Identifier: BSD-2-Clause */
/* pam_sspr: the "forgot password" branch of the auth stack (pam_sspr(8)).
 *
 * This file holds pam_sm_* and the conversation only.  The helper decides
 * everything (codes, policy, the shadow rewrite); the module asks the user
 * and relays.  It never exits or aborts: it lives inside sshd and login. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <pwd.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>

#include "sspr-build.h"
#include "sspr/config.h"
#include "sspr/helper_client.h"
#include "sspr/notice.h"
#include "sspr/paths.h"
#include "sspr/proto.h"

#define PROMPT_OFFER "Forgot your password? Enter a verification code to reset it, or press Enter to skip: "
#define PROMPT_CODE "Verification code: "
#define PROMPT_RECOVERY "Recovery code: "
#define PROMPT_NEW "New password: "
#define PROMPT_RETYPE "Retype new password: "
#define MSG_INVALID "Invalid code."
#define MSG_MISMATCH "Sorry, passwords do not match."
#define MSG_UNCHANGED "Password unchanged."
#define MSG_TIMEOUT "Password reset timed out."
#define MSG_RATE "Password reset is temporarily unavailable. Try again later."
#define MSG_DONE "Your password has been reset."
#define RESET_TRIES 3
#define DATA_RESET_HERE "pam_sspr_reset_here"
#define ENV_RESET_HERE "PAM_SSPR_RESET_HERE"
#define HELPER_REPLY_MS 30000 /* the helper answers fast; a shadow lock waits 15 s */

struct args {
	const char *trigger;
	bool debug;
};

/* The outcome of the branch, turned into a PAM code in one place. */
enum outcome {
	OUT_IGNORE,   /* the branch did not run: let the stack go on */
	OUT_FAIL,     /* the branch ran and did not reset */
	OUT_RESET,    /* password reset */
};

struct branch {
	pam_handle_t *pamh;
	struct args args;
	struct sspr_config cfg;
	struct sspr_helper helper;
	const char *user;
	const char *typed;   /* PAM_AUTHTOK at entry, for the "same as password" rule */
	char *answer;        /* last conversation answer (wiped) */
};

static void parse_args(pam_handle_t *pamh, int argc, const char **argv, struct args *a)
{
	memset(a, 0, sizeof *a);
	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], "trigger=", 8) == 0 && argv[i][8])
			a->trigger = argv[i] + 8;
		else if (strcmp(argv[i], "debug") == 0)
			a->debug = true;
		else
			pam_syslog(pamh, LOG_ERR, "unknown option: %s", argv[i]);
	}
}

static void debug(const struct branch *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void debug(const struct branch *b, const char *fmt, ...)
{
	va_list ap;

	if (!b->args.debug)
		return;
	va_start(ap, fmt);
	pam_vsyslog(b->pamh, LOG_DEBUG, fmt, ap);
	va_end(ap);
}

static void drop_answer(struct branch *b)
{
	if (b->answer) {
		explicit_bzero(b->answer, strlen(b->answer));
		free(b->answer);
		b->answer = NULL;
	}
}

/* Ask one question.  Returns PAM_SUCCESS with b->answer set (maybe ""),
 * or PAM_CONV_ERR when the conversation failed or gave no answer. */
static int ask(struct branch *b, int style, const char *prompt)
{
	char *resp = NULL;
	int r;

	drop_answer(b);
	r = pam_prompt(b->pamh, style, &resp, "%s", prompt);
	if (r != PAM_SUCCESS || !resp) {
		if (resp) {
			explicit_bzero(resp, strlen(resp));
			free(resp);
		}
		return PAM_CONV_ERR;
	}
	if (strnlen(resp, SSPR_FIELD_MAX + 1) > SSPR_FIELD_MAX)
		resp[SSPR_FIELD_MAX] = '\0'; /* longer than any code or password we take */
	b->answer = resp;
	return PAM_SUCCESS;
}

static void tell(struct branch *b, int style, const char *text)
{
	(void)pam_prompt(b->pamh, style, NULL, "%s", text);
}

static int call(struct branch *b, uint8_t type, const char *const *fields, size_t n,
                struct sspr_msg *rep)
{
	_cleanup_msg_ struct sspr_msg req;
	int r;

	sspr_msg_init(&req, type, 0);
	for (size_t i = 0; i < n; i++) {
		r = sspr_msg_add(&req, fields[i]);
		if (r < 0)
			return r;
	}
	r = sspr_helper_call(&b->helper, &req, rep, HELPER_REPLY_MS);
	if (r == 0 && rep->type != SSPR_MSG_REPLY)
		r = -SSPR_E_PROTO;
	return r;
}

static enum outcome ended_by(struct branch *b, uint8_t status)
{
	if (status == SSPR_ST_RATE_LIMITED)
		tell(b, PAM_ERROR_MSG, MSG_RATE);
	else if (status == SSPR_ST_TIMEOUT)
		tell(b, PAM_ERROR_MSG, MSG_TIMEOUT);
	return OUT_FAIL;
}

static const char *item_str(pam_handle_t *pamh, int item)
{
	const void *v = NULL;

	if (pam_get_item(pamh, item, &v) != PAM_SUCCESS || !v)
		return "";
	return v;
}

/* Send HELLO (or QUERY) with the request's context; returns the reply's
 * status or a negative error. */
static int hello(struct branch *b, uint8_t type)
{
	_cleanup_msg_ struct sspr_msg rep;
	const char *f[] = { b->user, item_str(b->pamh, PAM_SERVICE), item_str(b->pamh, PAM_RHOST),
	                    item_str(b->pamh, PAM_TTY), item_str(b->pamh, PAM_RUSER) };
	/* Context fields are informational; cut them to fit rather than fail. */
	char cut[SSPR_ELEMENTSOF(f)][SSPR_FIELD_MAX + 1];
	int r;

	for (size_t i = 1; i < SSPR_ELEMENTSOF(f); i++) {
		(void)snprintf(cut[i], sizeof cut[i], "%s", f[i]);
		f[i] = cut[i];
	}
	r = call(b, type, f, SSPR_ELEMENTSOF(f), &rep);
	if (r < 0)
		return r;
	return rep.arg;
}

static int start_helper(struct branch *b)
{
	const char *path = secure_getenv("SSPR_HELPER");
	int r;

	if (b->helper.pid > 0)
		return 0;
	if (!path || !*path)
		path = SSPR_HELPER_PATH;
	r = sspr_helper_start(path, &b->helper);
	if (r < 0)
		pam_syslog(b->pamh, LOG_ERR, "cannot start %s: %s", path, sspr_strerror(r));
	return r;
}

/* conceal = no: ask the helper first, and stay silent for a user who
 * cannot reset. */
static bool may_offer(struct branch *b)
{
	int r;

	if (b->cfg.conceal)
		return true;
	if (start_helper(b) < 0)
		return false;
	r = hello(b, SSPR_MSG_QUERY);
	if (r < 0)
		pam_syslog(b->pamh, LOG_ERR, "helper: %s", sspr_strerror(r));
	debug(b, "helper says the user %s reset", r == SSPR_ST_OK ? "may" : "may not");
	return r == SSPR_ST_OK;
}

/* Steps 2 and 3: a code loop of max_code_tries attempts; the first answer
 * is already in b->answer, later ones are asked with `prompt`.  Returns
 * OUT_RESET when the helper accepted a code, with *ret_more set when it
 * wants a recovery code next. */
static enum outcome code_loop(struct branch *b, const char *prompt, bool *ret_more)
{
	unsigned tries = 0;

	*ret_more = false;
	for (;;) {
		_cleanup_msg_ struct sspr_msg rep;
		const char *code = b->answer;
		int r;

		if (!*code)
			return OUT_FAIL; /* empty answer: skip, not counted */
		tries++;
		if (b->typed && *b->typed && strcmp(code, b->typed) == 0) {
			/* A locker answering every prompt with the password: a
			 * try, but never sent to the helper nor counted there. */
			debug(b, "answer equal to the password: not sent");
			tell(b, PAM_ERROR_MSG, MSG_INVALID);
			if (tries >= b->cfg.max_code_tries)
				return OUT_FAIL;
		} else {
			const char *f[] = { code };

			r = call(b, SSPR_MSG_VERIFY, f, 1, &rep);
			drop_answer(b);
			if (r < 0) {
				pam_syslog(b->pamh, LOG_ERR, "helper: %s", sspr_strerror(r));
				return OUT_FAIL;
			}
			switch (rep.arg) {
			case SSPR_ST_OK:
				return OUT_RESET;
			case SSPR_ST_NEED_RECOVERY:
				*ret_more = true;
				return OUT_RESET;
			case SSPR_ST_INVALID:
				tell(b, PAM_ERROR_MSG, MSG_INVALID);
				break;
			case SSPR_ST_EXHAUSTED:
				tell(b, PAM_ERROR_MSG, MSG_INVALID);
				return OUT_FAIL;
			case SSPR_ST_RATE_LIMITED:
				/* "invalid": this attempt was checked, was wrong, and
				 * reached the limit; else it was refused unchecked. */
				if (rep.nfields && strcmp(rep.field[0].data, "invalid") == 0)
					tell(b, PAM_ERROR_MSG, MSG_INVALID);
				return ended_by(b, rep.arg);
			default:
				return ended_by(b, rep.arg);
			}
			if (tries >= b->cfg.max_code_tries)
				return OUT_FAIL;
		}
		if (ask(b, PAM_PROMPT_ECHO_ON, prompt) != PAM_SUCCESS)
			return OUT_FAIL;
	}
}

static enum outcome verify_codes(struct branch *b)
{
	bool more = false;

	if (code_loop(b, PROMPT_CODE, &more) != OUT_RESET)
		return OUT_FAIL;
	if (!more)
		return OUT_RESET;
	/* Step 3: the recovery code policy asks for, with its own tries. */
	if (ask(b, PAM_PROMPT_ECHO_ON, PROMPT_RECOVERY) != PAM_SUCCESS)
		return OUT_FAIL;
	if (code_loop(b, PROMPT_RECOVERY, &more) != OUT_RESET || more)
		return OUT_FAIL;
	return OUT_RESET;
}

/* Step 4: the new password, up to RESET_TRIES tries in all. */
static enum outcome new_password(struct branch *b)
{
	for (unsigned tries = 1; tries <= RESET_TRIES; tries++) {
		_cleanup_msg_ struct sspr_msg rep;
		char *first;
		int r;

		if (ask(b, PAM_PROMPT_ECHO_OFF, PROMPT_NEW) != PAM_SUCCESS)
			return OUT_FAIL;
		first = b->answer;
		b->answer = NULL;
		r = ask(b, PAM_PROMPT_ECHO_OFF, PROMPT_RETYPE);
		if (r != PAM_SUCCESS || strcmp(first, b->answer) != 0) {
			explicit_bzero(first, strlen(first));
			free(first);
			if (r != PAM_SUCCESS)
				return OUT_FAIL;
			tell(b, PAM_ERROR_MSG, MSG_MISMATCH);
			continue;
		}
		explicit_bzero(first, strlen(first));
		free(first);
		{
			const char *f[] = { b->answer };

			r = call(b, SSPR_MSG_RESET, f, 1, &rep);
		}
		if (r < 0) {
			pam_syslog(b->pamh, LOG_ERR, "helper: %s", sspr_strerror(r));
			return OUT_FAIL;
		}
		switch (rep.arg) {
		case SSPR_ST_OK:
			r = pam_set_item(b->pamh, PAM_AUTHTOK, b->answer);
			drop_answer(b);
			if (r != PAM_SUCCESS)
				pam_syslog(b->pamh, LOG_ERR, "cannot set PAM_AUTHTOK: %s",
				           pam_strerror(b->pamh, r));
			tell(b, PAM_TEXT_INFO, MSG_DONE);
			return OUT_RESET;
		case SSPR_ST_BAD_PASSWORD:
		case SSPR_ST_UNCHANGED: {
			char msg[SSPR_FIELD_MAX + 32];

			(void)snprintf(msg, sizeof msg, "BAD PASSWORD: %s",
			               rep.nfields ? rep.field[0].data : "refused");
			tell(b, PAM_ERROR_MSG, msg);
			if (rep.arg == SSPR_ST_UNCHANGED)
				tries = RESET_TRIES;
			break;
		}
		default:
			drop_answer(b);
			return ended_by(b, rep.arg);
		}
		drop_answer(b);
	}
	tell(b, PAM_ERROR_MSG, MSG_UNCHANGED);
	return OUT_FAIL;
}

static void config_diag(void *userdata, const char *msg)
{
	pam_syslog(userdata, LOG_ERR, "%s", msg);
}

static enum outcome run_branch(struct branch *b)
{
	struct sspr_paths paths;
	const char *service = item_str(b->pamh, PAM_SERVICE);
	const void *tok = NULL;
	int r;

	if (sspr_paths_from_env(&paths) < 0) {
		pam_syslog(b->pamh, LOG_ERR, "bad SSPR_ROOT");
		return OUT_IGNORE;
	}
	/* the load starts from fresh defaults: free the ones set up by
	 * pam_sm_authenticate first (they leaked once per authentication) */
	sspr_config_free(&b->cfg);
	r = sspr_config_load(&b->cfg, paths.conf, paths.test_root ? getuid() : 0, config_diag,
	                     b->pamh);
	if (r < 0) {
		pam_syslog(b->pamh, LOG_ERR, "%s: %s; reset branch disabled", paths.conf,
		           sspr_strerror(r));
		return OUT_IGNORE;
	}
	if (!sspr_strlist_contains(&b->cfg.services, service)) {
		debug(b, "service %s not in services: branch off", service);
		return OUT_IGNORE;
	}
	if (pam_get_user(b->pamh, &b->user, NULL) != PAM_SUCCESS || !b->user || !*b->user)
		return OUT_IGNORE;

	if (b->args.trigger) {
		/* Before the password module: get the password (so it is
		 * PAM_AUTHTOK for the next one) and act only on the word. */
		const char *pw = NULL;

		if (pam_get_authtok(b->pamh, PAM_AUTHTOK, &pw, NULL) != PAM_SUCCESS || !pw ||
		    strcmp(pw, b->args.trigger) != 0)
			return OUT_IGNORE;
		b->typed = NULL;
		if (!may_offer(b))
			return OUT_IGNORE;
		if (ask(b, PAM_PROMPT_ECHO_ON, PROMPT_CODE) != PAM_SUCCESS)
			return OUT_IGNORE;
	} else {
		if (pam_get_item(b->pamh, PAM_AUTHTOK, &tok) == PAM_SUCCESS)
			b->typed = tok;
		if (!may_offer(b))
			return OUT_IGNORE;
		if (ask(b, PAM_PROMPT_ECHO_ON, PROMPT_OFFER) != PAM_SUCCESS) {
			debug(b, "conversation cannot ask: branch off");
			return OUT_IGNORE;
		}
	}
	if (!*b->answer)
		return OUT_FAIL; /* skipped: no helper started */

	if (start_helper(b) < 0)
		return OUT_FAIL;
	r = hello(b, SSPR_MSG_HELLO);
	if (r != SSPR_ST_OK) {
		if (r < 0)
			pam_syslog(b->pamh, LOG_ERR, "helper: %s", sspr_strerror(r));
		else
			(void)ended_by(b, (uint8_t)r);
		return OUT_FAIL;
	}
	if (verify_codes(b) != OUT_RESET)
		return OUT_FAIL;
	return new_password(b);
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct branch b;
	struct sigaction dfl, old;
	enum outcome o;
	int st;

	(void)flags;
	memset(&b, 0, sizeof b);
	b.pamh = pamh;
	b.helper.fd = -1;
	b.helper.pid = -1;
	parse_args(pamh, argc, argv, &b.args);
	if (sspr_config_defaults(&b.cfg) < 0)
		return PAM_IGNORE;

	/* waitpid needs SIGCHLD at its default while our child lives. */
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	(void)sigaction(SIGCHLD, &dfl, &old);
	o = run_branch(&b);
	drop_answer(&b);
	if (b.helper.pid > 0) {
		st = sspr_helper_stop(&b.helper);
		debug(&b, "helper exit status %d", st);
	}
	(void)sigaction(SIGCHLD, &old, NULL);

	/* This transaction's own session shows no notice of its reset.  sshd
	 * authenticates in a child process and brings back only the PAM
	 * environment, so the mark is kept there too (and removed again by
	 * the session part, before the environment reaches the user). */
	if (o == OUT_RESET) {
		(void)pam_set_data(pamh, DATA_RESET_HERE, (void *)DATA_RESET_HERE, NULL);
		(void)pam_putenv(pamh, ENV_RESET_HERE "=1");
	}
	st = o == OUT_IGNORE ? PAM_IGNORE
	   : o == OUT_FAIL ? PAM_AUTH_ERR
	   : b.cfg.on_success == SSPR_ON_SUCCESS_LOGIN ? PAM_SUCCESS : PAM_AUTH_ERR;
	debug(&b, "branch outcome %d: %s", (int)o, pam_strerror(pamh, st));
	sspr_config_free(&b.cfg);
	return st;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh; (void)flags; (void)argc; (void)argv;
	return PAM_IGNORE;
}

/* The session part: show, once, the notice the helper left after a reset
 * or a re-enrollment, at the first session other than one opened by the
 * resetting transaction itself. */
PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct sspr_notice n[SSPR_NOTICE__MAX];
	struct sspr_paths paths;
	const struct passwd *pw;
	const void *here = NULL;
	const char *user = NULL;
	size_t count = 0;
	struct args a;

	parse_args(pamh, argc, argv, &a);
	if (pam_getenv(pamh, ENV_RESET_HERE)) {
		(void)pam_putenv(pamh, ENV_RESET_HERE); /* no name=value: removes it */
		return PAM_IGNORE;
	}
	if (pam_get_data(pamh, DATA_RESET_HERE, &here) == PAM_SUCCESS && here)
		return PAM_IGNORE;
	if ((flags & PAM_SILENT) || pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !user ||
	    sspr_paths_from_env(&paths) < 0)
		return PAM_IGNORE;
	pw = pam_modutil_getpwnam(pamh, user);
	if (!pw)
		return PAM_IGNORE;
	if (sspr_notice_take(paths.statedir, pw->pw_uid, n, SSPR_ELEMENTSOF(n), &count) < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot read the reset notices of %s", user);
		return PAM_IGNORE;
	}
	for (size_t i = 0; i < count; i++) {
		char text[512];

		if (sspr_notice_text(&n[i], text, sizeof text) == 0)
			(void)pam_prompt(pamh, PAM_TEXT_INFO, NULL, "%s", text);
	}
	return count ? PAM_SUCCESS : PAM_IGNORE;
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh; (void)flags; (void)argc; (void)argv;
	return PAM_IGNORE;
}
