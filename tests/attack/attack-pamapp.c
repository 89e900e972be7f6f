/* SPDX-License-Identifier: BSD-2-Clause */
/* Test tool of the attack suite: a PAM application with a hostile
 * conversation, for the module under pam_wrapper (run-pam-test.sh's
 * sandbox, service "sshd": pam_matrix, then pam_sspr).
 *   attack-pamapp hostile CODE
 *       one authentication per hostile answer to the module's prompts:
 *       no reply array, a NULL reply, an empty one, 1 MiB (digits and
 *       letters), PAM_CONV_ERR, PAM_BUF_ERR, and after a right CODE a new
 *       password of 1 MiB; prints "CASE: pam result" for each.
 *   attack-pamapp loop N
 *       N authentications (a wrong password; then, one in ten, a wrong
 *       code and an empty answer, else an empty answer to the offer);
 *       fails (exit 1) when open fds grew between the 10th and the last
 *       (and the heap in use, by more than 64 KiB, outside valgrind,
 *       which keeps its own books).
 * The password module's own prompt ("Password: ") always gets a wrong
 * password: only pam_sspr meets the hostile answers. */
#include <dirent.h>
#include <malloc.h>
#include <security/pam_appl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_NORESP, K_NULL, K_EMPTY, K_BIG_DIGITS, K_BIG_ALPHA, K_CONV_ERR, K_BUF_ERR,
            K_BIG_PASSWORD, K_LOOP };

struct ctx {
	enum kind kind;
	const char *code;
	unsigned calls;
	long round;
};

#define BIG (1024 * 1024)

static char *big(char c)
{
	char *s = malloc(BIG + 1);

	if (s) {
		memset(s, c, BIG);
		s[BIG] = '\0';
	}
	return s;
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct ctx *c = data;
	struct pam_response *r;

	*resp = NULL;
	r = calloc((size_t)n, sizeof *r);
	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		const char *m = msg[i]->msg ? msg[i]->msg : "";
		bool prompt = msg[i]->msg_style == PAM_PROMPT_ECHO_ON ||
		              msg[i]->msg_style == PAM_PROMPT_ECHO_OFF;

		if (!prompt)
			continue;
		if (strncmp(m, "Password", 8) == 0) { /* pam_matrix */
			r[i].resp = strdup("wrong-password");
			continue;
		}
		c->calls++;
		switch (c->kind) {
		case K_NORESP:
			free(r);
			return PAM_SUCCESS; /* success, and no reply array at all */
		case K_NULL:
			break;
		case K_EMPTY:
			r[i].resp = strdup("");
			break;
		case K_BIG_DIGITS:
			r[i].resp = big('1');
			break;
		case K_BIG_ALPHA:
			r[i].resp = big('A');
			break;
		case K_CONV_ERR:
			free(r);
			return PAM_CONV_ERR;
		case K_BUF_ERR:
			free(r);
			return PAM_BUF_ERR;
		case K_BIG_PASSWORD:
			r[i].resp = c->calls == 1 ? strdup(c->code) : big('p');
			break;
		case K_LOOP:
			/* one in ten: a wrong code (the helper runs), then an
			 * empty answer; else an empty answer to the offer */
			r[i].resp = strdup(c->calls == 1 && c->round % 10 == 0 ? "000000" : "");
			break;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

static int authenticate(struct ctx *c)
{
	struct pam_conv pc = { conv, c };
	pam_handle_t *h = NULL;
	int r;

	c->calls = 0;
	r = pam_start("sshd", "alice", &pc, &h);
	if (r != PAM_SUCCESS)
		return r;
	(void)pam_set_item(h, PAM_RHOST, "192.0.2.7");
	r = pam_authenticate(h, 0);
	(void)pam_end(h, r);
	return r;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own */
}

int main(int argc, char **argv)
{
	static const struct { enum kind k; const char *name; } cases[] = {
		{ K_NORESP, "no reply array" }, { K_NULL, "NULL reply" }, { K_EMPTY, "empty reply" },
		{ K_BIG_DIGITS, "1 MiB of digits" }, { K_BIG_ALPHA, "1 MiB of letters" },
		{ K_CONV_ERR, "PAM_CONV_ERR" }, { K_BUF_ERR, "PAM_BUF_ERR" },
		{ K_BIG_PASSWORD, "right code, then a 1 MiB new password" },
	};
	struct ctx c = { 0 };

	if (argc == 3 && strcmp(argv[1], "hostile") == 0) {
		c.code = argv[2];
		for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
			int r;

			c.kind = cases[i].k;
			r = authenticate(&c);
			printf("%s: %s (%d), %u module prompts\n", cases[i].name,
			       r == PAM_SUCCESS ? "PAM_SUCCESS" : "refused", r, c.calls);
			fflush(stdout);
			if (r == PAM_SUCCESS)
				return 1;
		}
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "loop") == 0) {
		long n = strtol(argv[2], NULL, 10);
		int fd0 = -1;
		size_t heap0 = 0;

		c.kind = K_LOOP;
		for (long i = 1; i <= n; i++) {
			int r;

			c.round = i;
			r = authenticate(&c);
			if (r == PAM_SUCCESS) {
				fprintf(stderr, "authentication %ld succeeded\n", i);
				return 1;
			}
			if (i == 10) {
				fd0 = count_fds();
				heap0 = mallinfo2().uordblks;
			}
		}
		{
			int fd1 = count_fds();
			size_t heap1 = mallinfo2().uordblks;

			printf("after %ld authentications: fds %d -> %d, heap in use %zu -> %zu bytes\n",
			       n, fd0, fd1, heap0, heap1);
			if (n >= 10 && (fd1 != fd0 || heap1 > heap0 + 65536))
				return 1;
		}
		return 0;
	}
	fputs("usage: attack-pamapp hostile CODE | loop N\n", stderr);
	return 2;
}
