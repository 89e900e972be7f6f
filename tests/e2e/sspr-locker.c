/* SPDX-License-Identifier: BSD-2-Clause */
/* sspr-locker: a stand-in for a screen locker in the end-to-end tests.
 *
 * A screen locker runs as the logged-in user, without privilege, and asks
 * PAM to authenticate that user again: pam_start(SERVICE, <its own name>),
 * pam_authenticate, then pam_setcred(PAM_REINITIALIZE_CRED) on success
 * (as xscreensaver and swaylock do).  pam_unix then checks the password
 * through its setuid unix_chkpwd, and pam_sspr reaches the setuid
 * sspr-helper.  This one takes the answers to the prompts from stdin, one
 * line each (a conversation error when none is left), and prints every
 * prompt and message on a line of its own, hidden answers as nothing.
 *
 * usage: sspr-locker SERVICE [USER]
 *   USER   the account to authenticate instead of the caller's own (a
 *          locker does not do this; the test does, to show that the
 *          helper refuses to act on another account)
 * Exit: 0 authenticated, 1 refused, 2 usage, running as root, PAM start
 *       error. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <security/pam_appl.h>

static void free_responses(struct pam_response *r, int n)
{
	for (int i = 0; i < n; i++) {
		if (r[i].resp) {
			explicit_bzero(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	}
	free(r);
}

static char *read_line(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);

	if (n < 0) {
		free(line);
		return NULL;
	}
	if (n > 0 && line[n - 1] == '\n')
		line[n - 1] = '\0';
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
			r[i].resp = read_line();
			if (!r[i].resp) {
				printf("%s\n[no answer left: conversation error]\n", text);
				(void)fflush(stdout);
				free_responses(r, n);
				return PAM_CONV_ERR;
			}
			printf("%s%s\n", text, msg[i]->msg_style == PAM_PROMPT_ECHO_ON ? r[i].resp : "");
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			printf("%s\n", text);
			break;
		default:
			free_responses(r, n);
			return PAM_CONV_ERR;
		}
	}
	(void)fflush(stdout);
	*resp = r;
	return PAM_SUCCESS;
}

int main(int argc, char **argv)
{
	struct pam_conv pc = { conv, NULL };
	pam_handle_t *pamh = NULL;
	const struct passwd *pw;
	const char *user;
	int r;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: sspr-locker SERVICE [USER]\n");
		return 2;
	}
	if (getuid() == 0 || geteuid() != getuid()) {
		fprintf(stderr, "sspr-locker: runs as an ordinary user, without privilege\n");
		return 2;
	}
	pw = getpwuid(getuid());
	if (!pw) {
		fprintf(stderr, "sspr-locker: uid %u has no account\n", (unsigned)getuid());
		return 2;
	}
	user = argc == 3 ? argv[2] : pw->pw_name;

	r = pam_start(argv[1], user, &pc, &pamh);
	if (r != PAM_SUCCESS) {
		fprintf(stderr, "sspr-locker: pam_start: %s\n", pam_strerror(NULL, r));
		return 2;
	}
	r = pam_authenticate(pamh, 0);
	printf("[pam_authenticate: %s]\n", pam_strerror(pamh, r));
	if (r == PAM_SUCCESS) {
		int c = pam_setcred(pamh, PAM_REINITIALIZE_CRED);

		printf("[pam_setcred: %s]\n", pam_strerror(pamh, c));
	}
	(void)fflush(stdout);
	(void)pam_end(pamh, r);
	return r == PAM_SUCCESS ? 0 : 1;
}
