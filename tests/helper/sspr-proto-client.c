/* SPDX-License-Identifier: BSD-2-Clause */
/* Test tool: speaks the helper protocol as the module would, from a
 * script on the command line, and prints each reply's status.
 *   sspr-proto-client HELPER CMD... with CMD one of
 *     hello USER SERVICE RHOST   verify CODE   reset PASSWORD   trykill
 * trykill sends SIGKILL to the helper and prints "kill: EPERM" or
 * "kill: ok" (an elevated helper must be out of its caller's reach).
 * Exit status: the helper's exit status. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sspr/proto.h"

static const char *const names[SSPR_ST_LAST] = {
	"OK", "INVALID", "EXHAUSTED", "RATE_LIMITED", "NEED_RECOVERY", "BAD_PASSWORD",
	"TIMEOUT", "FAIL", "UNCHANGED",
};

static int call(int fd, struct sspr_msg *m)
{
	struct sspr_msg r;
	int e = sspr_msg_send(fd, m);

	if (e == 0)
		e = sspr_msg_recv(fd, &r, 30000);
	if (e < 0) {
		printf("reply: none (%s)\n", sspr_strerror(e));
		return e;
	}
	printf("reply: %s\n", r.arg < SSPR_ST_LAST ? names[r.arg] : "?");
	return 0;
}

int main(int argc, char **argv)
{
	int sv[2], st;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: %s HELPER CMD...\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 2;
	pid = fork();
	if (pid == 0) {
		dup2(sv[1], 0);
		dup2(sv[1], 1);
		close(sv[0]);
		close(sv[1]);
		unsetenv("PAM_WRAPPER"); /* the helper is no PAM application */
		execl(argv[1], "sspr-helper", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	for (int i = 2; i < argc; i++) {
		struct sspr_msg m;

		if (strcmp(argv[i], "hello") == 0 && i + 3 < argc) {
			sspr_msg_init(&m, SSPR_MSG_HELLO, 0);
			(void)sspr_msg_add(&m, argv[i + 1]);
			(void)sspr_msg_add(&m, argv[i + 2]);
			(void)sspr_msg_add(&m, argv[i + 3]);
			(void)sspr_msg_add(&m, "pts/9");
			(void)sspr_msg_add(&m, "");
			i += 3;
		} else if ((strcmp(argv[i], "verify") == 0 || strcmp(argv[i], "reset") == 0) &&
		           i + 1 < argc) {
			sspr_msg_init(&m, argv[i][0] == 'v' ? SSPR_MSG_VERIFY : SSPR_MSG_RESET, 0);
			(void)sspr_msg_add(&m, argv[i + 1]);
			i += 1;
		} else if (strcmp(argv[i], "trykill") == 0) {
			printf("kill: %s\n", kill(pid, SIGKILL) == 0 ? "ok"
			                     : errno == EPERM ? "EPERM" : strerror(errno));
			fflush(stdout);
			continue;
		} else {
			fprintf(stderr, "bad command: %s\n", argv[i]);
			return 2;
		}
		if (call(sv[0], &m) < 0)
			break;
		fflush(stdout);
	}
	close(sv[0]);
	if (waitpid(pid, &st, 0) != pid)
		return 2;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
