/* SPDX-License-Identifier: BSD-2-Clause */
/* sspr-pamclient: a tiny PAM application for the demo and manual tests.
 * pam_start(SERVICE, USER), then pam_authenticate with a conversation that
 * shows every prompt and message as a terminal login would, and takes the
 * answers from the terminal (echo off for hidden prompts) or, when stdin is
 * not a terminal, one line of stdin each.  No answer left: the
 * conversation fails (PAM_CONV_ERR), as a program would.
 *
 * usage: sspr-pamclient [--rhost HOST] [--tty TTY] [--session] SERVICE USER
 *   --session   after a successful authentication, also run
 *               pam_acct_mgmt, pam_open_session and pam_close_session
 * Exit: 0 PAM_SUCCESS, 1 authentication (or account/session) refused,
 *       2 usage or PAM start error. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <security/pam_appl.h>

static bool interactive;

static void wipe(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
}

/* One answer: a line of stdin without its newline, or NULL at the end. */
static char *read_answer(bool echo)
{
	struct termios old, quiet;
	bool restore = false;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (interactive && !echo && tcgetattr(STDIN_FILENO, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
	}
	n = getline(&line, &cap, stdin);
	if (restore)
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	if (n < 0) {
		if (line)
			explicit_bzero(line, cap);
		free(line);
		return NULL;
	}
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	/* On a terminal the user's typing shows itself; otherwise show a
	 * visible answer as it would appear, a hidden one as nothing. */
	if (!interactive)
		printf("%s\n", echo ? line : "");
	return line;
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r;

	(void)data;
	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof *r);
	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		const char *text = msg[i]->msg ? msg[i]->msg : "";

		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_ON:
		case PAM_PROMPT_ECHO_OFF:
			fputs(text, stdout);
			(void)fflush(stdout);
			r[i].resp = read_answer(msg[i]->msg_style == PAM_PROMPT_ECHO_ON);
			if (!r[i].resp) {
				printf("\n[no answer left: conversation error]\n");
				goto fail;
			}
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			printf("%s\n", text);
			break;
		default:
			goto fail;
		}
	}
	(void)fflush(stdout);
	*resp = r;
	return PAM_SUCCESS;
fail:
	(void)fflush(stdout);
	for (int i = 0; i < n; i++) {
		wipe(r[i].resp);
		free(r[i].resp);
	}
	free(r);
	return PAM_CONV_ERR;
}

static void usage(void)
{
	fprintf(stderr, "usage: sspr-pamclient [--rhost HOST] [--tty TTY] [--session] SERVICE USER\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rhost", required_argument, NULL, 'r' },
		{ "tty", required_argument, NULL, 't' },
		{ "session", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rhost = NULL, *tty = NULL;
	struct pam_conv pc = { conv, NULL };
	pam_handle_t *pamh = NULL;
	bool session = false;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			rhost = optarg;
			break;
		case 't':
			tty = optarg;
			break;
		case 's':
			session = true;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (argc - optind != 2) {
		usage();
		return 2;
	}
	interactive = isatty(STDIN_FILENO) == 1;

	r = pam_start(argv[optind], argv[optind + 1], &pc, &pamh);
	if (r != PAM_SUCCESS) {
		fprintf(stderr, "sspr-pamclient: pam_start: %s\n", pam_strerror(NULL, r));
		return 2;
	}
	if ((rhost && (r = pam_set_item(pamh, PAM_RHOST, rhost)) != PAM_SUCCESS) ||
	    (tty && (r = pam_set_item(pamh, PAM_TTY, tty)) != PAM_SUCCESS)) {
		fprintf(stderr, "sspr-pamclient: pam_set_item: %s\n", pam_strerror(pamh, r));
		(void)pam_end(pamh, r);
		return 2;
	}

	r = pam_authenticate(pamh, 0);
	printf("[pam_authenticate: %s]\n", pam_strerror(pamh, r));
	if (r == PAM_SUCCESS && session) {
		r = pam_acct_mgmt(pamh, 0);
		printf("[pam_acct_mgmt: %s]\n", pam_strerror(pamh, r));
		if (r == PAM_SUCCESS) {
			r = pam_open_session(pamh, 0);
			printf("[pam_open_session: %s]\n", pam_strerror(pamh, r));
			if (r == PAM_SUCCESS) {
				r = pam_close_session(pamh, 0);
				printf("[pam_close_session: %s]\n", pam_strerror(pamh, r));
			}
		}
	}
	(void)fflush(stdout);
	(void)pam_end(pamh, r);
	return r == PAM_SUCCESS ? 0 : 1;
}
