/* SPDX-License-Identifier: BSD-2-Clause */
/* Self-service (SPEC section 6): an ordinary user runs enroll, status and
 * recovery-codes for their own account.  The CLI holds no privilege and
 * decides nothing: it spawns the helper (setuid root in production), proves
 * who the user is with the current password (and a current code when
 * something is replaced), and shows what the helper answers.  The helper
 * checks, counts, stores and audits.
 *
 * The password and the code never pass through argv, the environment or
 * stdio: they are read a byte at a time into secure memory, copied into a
 * message in secure memory, and wiped once sent. */
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>

#include "sspr-build.h"
#include "sspr/common.h"
#include "sspr/proto.h"
#include "cli.h"

#define HELPER_TIMEOUT_MS 60000      /* per request; the helper has its own session_timeout */
#define SECRET_LEN (SSPR_FIELD_MAX + 1) /* a field of the protocol, and its NUL */

#define PROMPT_PASSWORD "Current password: "
#define PROMPT_CODE "Verification code: "
#define MSG_WRONG_PASSWORD "Wrong password."
#define MSG_INVALID_CODE "Invalid code."
#define MSG_RATE_LIMITED "Too many failures; try again later."

int cli_self_begin(struct cli_self *s, const char *cmd, const char *user)
{
	struct passwd pw, *res = NULL;
	char buf[16384];
	int r;

	memset(s, 0, sizeof *s);
	s->cmd = cmd;
	s->helper.fd = -1;
	s->helper.pid = -1;
	/* A closed standard fd would be taken by the socket to the helper:
	 * the password read from it, the secret written to it. */
	if (fcntl(STDOUT_FILENO, F_GETFD) < 0 && errno == EBADF)
		return cli_fail(cmd, "standard output is closed");
	for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY);

			if (n != fd) {
				if (n >= 0)
					(void)close(n);
				return cli_fail(cmd, "cannot open /dev/null");
			}
		}
	}
	s->uid = getuid();
	r = getpwuid_r(s->uid, &pw, buf, sizeof buf, &res);
	if (r != 0 || !res)
		return cli_fail(cmd, "cannot find your account (uid %u)%s%s", (unsigned)s->uid,
		                r ? ": " : "", r ? sspr_strerror(-r) : "");
	if (sspr_strlcpy(s->user, res->pw_name, sizeof s->user) < 0)
		return cli_fail(cmd, "your user name is too long");
	if (user && strcmp(user, s->user) != 0)
		return cli_fail(cmd, "%s is not you: only your own account (%s) without root",
		                cli_safe(user), cli_safe(s->user));
	s->interactive = isatty(STDIN_FILENO) == 1;
	s->req = sspr_secure_alloc(sizeof *s->req);
	s->rep = sspr_secure_alloc(sizeof *s->rep);
	if (!s->req || !s->rep)
		return cli_fail(cmd, "%s", sspr_strerror(-ENOMEM));
	return 0;
}

void cli_self_end(struct cli_self *s)
{
	/* Closing our end tells the helper we are gone; it exits. */
	if (s->started)
		(void)sspr_helper_stop(&s->helper);
	s->started = false;
	sspr_secure_free(s->req); /* wipes */
	sspr_secure_free(s->rep);
	s->req = s->rep = NULL;
}

/* --- reading the password and the code ------------------------------------ */

/* Read one line from fd into buf (len bytes with the NUL; the newline is
 * dropped), a byte at a time: nothing after it is consumed, and no copy is
 * left in a stdio buffer.  intr: a signal ends the read (a terminal).
 * Returns the length, -ENODATA at the end of input before any byte,
 * -SSPR_E_TOO_LONG, -EINVAL (a NUL byte), -EINTR or a negative errno; buf
 * is wiped on every error. */
static ssize_t read_line(int fd, char *buf, size_t len, bool intr)
{
	size_t n = 0;
	bool any = false, too_long = false, nul = false;
	char c = 0;
	ssize_t r = 0;

	for (;;) {
		ssize_t k = read(fd, &c, 1);

		if (k < 0) {
			if (errno == EINTR && !intr)
				continue;
			r = -errno;
			break;
		}
		if (k == 0) {
			if (!any)
				r = -ENODATA;
			break;
		}
		any = true;
		if (c == '\n')
			break;
		if (c == '\0')
			nul = true;
		if (n + 1 < len)
			buf[n++] = c;
		else
			too_long = true;
	}
	sspr_wipe(&c, sizeof c);
	if (r == 0 && too_long)
		r = -SSPR_E_TOO_LONG;
	else if (r == 0 && nul)
		r = -EINVAL;
	if (r < 0) {
		sspr_wipe(buf, len);
		return r;
	}
	buf[n] = '\0';
	return (ssize_t)n;
}

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	caught = sig;
}

/* Signals that end a read from the terminal; the terminal is restored
 * before they take their usual effect. */
static const int tty_signals[] = { SIGINT, SIGHUP, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN,
	                           SIGTTOU };

/* Prompt on stderr and read a line from the terminal on stdin, with echo
 * off unless echo.  Returns as read_line; -ENOTTY when echo cannot be
 * turned off (nothing is read then). */
static ssize_t tty_read(const char *prompt, bool echo, char *buf, size_t len)
{
	struct sigaction sa, old[SSPR_ELEMENTSOF(tty_signals)];
	struct termios saved, quiet;
	bool restore = false;
	ssize_t r;

	caught = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: a signal ends the read */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < SSPR_ELEMENTSOF(tty_signals); i++)
		(void)sigaction(tty_signals[i], &sa, &old[i]);
	if (!echo && tcgetattr(STDIN_FILENO, &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
	}
	if (!echo && !restore) {
		r = caught ? -EINTR : -ENOTTY;
	} else {
		(void)!write(STDERR_FILENO, prompt, strlen(prompt));
		r = read_line(STDIN_FILENO, buf, len, true);
	}
	if (restore) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		(void)!write(STDERR_FILENO, "\n", 1); /* the newline typed was not echoed */
	}
	for (size_t i = 0; i < SSPR_ELEMENTSOF(tty_signals); i++)
		(void)sigaction(tty_signals[i], &old[i], NULL);
	if (caught) {
		sspr_wipe(buf, len);
		(void)raise(caught); /* its usual effect, now that the terminal is back */
		return -EINTR;
	}
	return r;
}

/* Blanks and a carriage return around a code are no part of it. */
static void trim(char *s)
{
	size_t n = strlen(s), b = strspn(s, " \t");

	while (n > b && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	if (b > 0) {
		memmove(s, s + b, n - b + 1);
		sspr_wipe(s + n - b + 1, b);
	}
}

/* The current password (code = false) or a current code: from the
 * terminal, else the next line of stdin.  Returns 0 or an exit code
 * (message printed). */
static int get_secret(struct cli_self *s, bool code, char *buf, size_t len)
{
	const char *what = code ? "code" : "password";
	ssize_t r;

	if (s->interactive)
		r = tty_read(code ? PROMPT_CODE : PROMPT_PASSWORD, code, buf, len);
	else
		r = read_line(STDIN_FILENO, buf, len, false);
	if (r > 0 && code) {
		trim(buf);
		r = (ssize_t)strlen(buf);
	}
	if (r == -EINTR)
		return cli_fail(s->cmd, "cancelled");
	if (r == -ENOTTY)
		return cli_fail(s->cmd, "cannot turn off echo on the terminal to read your password");
	if (r == -SSPR_E_TOO_LONG)
		return cli_fail(s->cmd, "the %s is longer than %d bytes", what, SSPR_FIELD_MAX);
	if (r == -EINVAL)
		return cli_fail(s->cmd, "the %s holds a NUL byte", what);
	if ((r == 0 || r == -ENODATA) && !s->interactive)
		return cli_fail(s->cmd, code ? "a current code is needed: give it on the second line "
		                               "of standard input"
		                             : "no password: give your current password on the "
		                               "first line of standard input");
	if (r == 0 || r == -ENODATA)
		return cli_fail(s->cmd, "no %s given", what);
	if (r < 0)
		return cli_fail(s->cmd, "cannot read the %s from standard input: %s", what,
		                sspr_strerror((int)r));
	return 0;
}

/* --- talking to the helper ------------------------------------------------- */

static int helper_error(struct cli_self *s, int r)
{
	int st;

	if (r != -EPIPE && r != -ECONNRESET) {
		if (r == -ETIMEDOUT)
			return cli_fail(NULL, "the helper %s did not answer in time", s->helper_path);
		return cli_fail(NULL, "cannot talk to the helper %s: %s", s->helper_path,
		                sspr_strerror(r));
	}
	st = sspr_helper_stop(&s->helper);
	s->started = false;
	if (st == 127)
		return cli_fail(NULL, "cannot run the helper %s (self-service needs it installed "
		                "setuid root; see sspr-helper(8))", s->helper_path);
	return cli_fail(NULL, "the helper %s ended unexpectedly", s->helper_path);
}

/* Send s->req (wiped afterwards), the reply into s->rep.  Returns 0 or an
 * exit code (message printed). */
static int call(struct cli_self *s)
{
	int r = sspr_helper_call(&s->helper, s->req, s->rep, HELPER_TIMEOUT_MS);

	sspr_msg_wipe(s->req);
	if (r == 0 && s->rep->type != SSPR_MSG_REPLY)
		r = -SSPR_E_PROTO;
	return r < 0 ? helper_error(s, r) : 0;
}

/* A reply that ends the session: its message.  wrong: what a wrong answer
 * is called ("Wrong password." or "Invalid code.").  Returns
 * CLI_EXIT_FAIL. */
static int refused(const struct cli_self *s, const char *wrong)
{
	const struct sspr_msg *m = s->rep;
	char text[SSPR_FIELD_MAX + 1];

	switch (m->arg) {
	case SSPR_ST_INVALID:
	case SSPR_ST_EXHAUSTED:
		fprintf(stderr, "%s\n", wrong);
		return CLI_EXIT_FAIL;
	case SSPR_ST_RATE_LIMITED:
		/* "invalid": this answer was checked, was wrong, and reached
		 * the limit; else it was refused unchecked */
		if (m->nfields == 1 && strcmp(m->field[0].data, "invalid") == 0)
			fprintf(stderr, "%s\n", wrong);
		fprintf(stderr, "%s\n", MSG_RATE_LIMITED);
		return CLI_EXIT_FAIL;
	case SSPR_ST_TIMEOUT:
		return cli_fail(NULL, "the session timed out (session_timeout); start again");
	case SSPR_ST_FAIL:
		if (m->nfields >= 1 && m->field[0].data[0])
			return cli_fail(NULL, "refused: %s",
			                cli_printable(m->field[0].data, text, sizeof text));
		return cli_fail(NULL, "refused (the reason is in the system log)");
	default:
		return cli_fail(NULL, "unexpected answer from the helper (status %u)", m->arg);
	}
}

/* The terminal on stdin, as login names it ("pts/1"), or "". */
static void own_tty(char *buf, size_t len)
{
	if (ttyname_r(STDIN_FILENO, buf, len) != 0) {
		buf[0] = '\0';
		return;
	}
	if (strncmp(buf, "/dev/", 5) == 0)
		memmove(buf, buf + 5, strlen(buf + 5) + 1);
}

/* Spawn the helper (SSPR_HELPER, read with secure_getenv, else the
 * installed one) and send SELF for op.  Returns 0 or an exit code
 * (message printed). */
static int start(struct cli_self *s, const char *op)
{
	const char *path = secure_getenv("SSPR_HELPER");
	char tty[SSPR_FIELD_MAX + 1];
	/* user, service, rhost, tty, ruser, operation */
	const char *f[] = { s->user, CLI_PROG, "", tty, "", op };
	int r;

	s->helper_path = path && *path ? path : SSPR_HELPER_PATH;
	r = sspr_helper_start(s->helper_path, &s->helper);
	if (r < 0)
		return cli_fail(NULL, "cannot start the helper %s: %s", s->helper_path,
		                sspr_strerror(r));
	s->started = true;
	own_tty(tty, sizeof tty);
	sspr_msg_init(s->req, SSPR_MSG_SELF, 0);
	for (size_t i = 0; i < SSPR_ELEMENTSOF(f); i++)
		if (sspr_msg_add(s->req, f[i]) < 0)
			return cli_fail(s->cmd, "cannot make the request: a field is too long");
	r = call(s);
	if (r != 0)
		return r;
	return s->rep->arg == SSPR_ST_OK ? 0 : refused(s, MSG_WRONG_PASSWORD);
}

/* One answer (the password, or a code) until the helper accepts it, asked
 * again on the terminal while the helper allows.  Returns 0 (s->rep: the
 * OK reply) or an exit code (message printed). */
static int answer(struct cli_self *s, bool code)
{
	_cleanup_secure_ char *secret = sspr_secure_alloc(SECRET_LEN);
	const char *wrong = code ? MSG_INVALID_CODE : MSG_WRONG_PASSWORD;
	int r;

	if (!secret)
		return cli_fail(s->cmd, "%s", sspr_strerror(-ENOMEM));
	for (;;) {
		r = get_secret(s, code, secret, SECRET_LEN);
		if (r != 0)
			return r;
		sspr_msg_init(s->req, code ? SSPR_MSG_VERIFY : SSPR_MSG_PASSWORD, 0);
		r = sspr_msg_add(s->req, secret);
		sspr_wipe(secret, SECRET_LEN);
		if (r < 0)
			return cli_fail(s->cmd, "the %s cannot be sent: %s",
			                code ? "code" : "password", sspr_strerror(r));
		r = call(s);
		if (r != 0)
			return r;
		if (s->rep->arg == SSPR_ST_OK)
			return 0;
		if (s->rep->arg != SSPR_ST_INVALID || !s->interactive)
			return refused(s, wrong);
		fprintf(stderr, "%s\n", wrong); /* and ask again */
	}
}

int cli_self_auth(struct cli_self *s, const char *op, bool replace_ok, const char *refuse_text)
{
	int r;

	r = start(s, op);
	if (r == 0)
		r = answer(s, false);
	if (r != 0)
		return r;
	if (s->rep->nfields == 0)
		return 0;
	if (s->rep->nfields != 1 || strcmp(s->rep->field[0].data, "code") != 0)
		return cli_fail(NULL, "unexpected answer from the helper");
	/* Replacing what exists takes a current code too. */
	if (!replace_ok)
		return cli_fail(s->cmd, "%s", refuse_text);
	return answer(s, true);
}

int cli_self_do(struct cli_self *s, const char *const *fields, size_t nfields)
{
	int r;

	sspr_msg_init(s->req, SSPR_MSG_SELF_DO, 0);
	for (size_t i = 0; i < nfields; i++)
		if (sspr_msg_add(s->req, fields[i]) < 0)
			return cli_fail(s->cmd, "cannot make the request: a field is too long");
	r = call(s);
	if (r != 0)
		return r;
	return s->rep->arg == SSPR_ST_OK ? 0 : refused(s, MSG_INVALID_CODE);
}

/* XXXXX-XXXXX of the base32 alphabet */
static bool code_ok(const char *p)
{
	for (int i = 0; i < 11; i++) {
		char c = p[i];

		if (i == 5 ? c != '-' : !((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7')))
			return false;
	}
	return true;
}

int cli_self_codes(const char *joined, struct cli_out *o)
{
	const char *p = joined;
	int n = 0;

	for (;;) {
		size_t k;

		p += strspn(p, " ");
		if (!*p)
			return n;
		k = strcspn(p, " ");
		if (k != 11 || !code_ok(p))
			return -EINVAL;
		cli_out_add(o, p, k);
		cli_out_add(o, "\n", 1);
		p += k;
		n++;
	}
}
