/* SPDX-License-Identifier: BSD-2-Clause */
/* Spawning the helper, as pam_unix's _unix_run_helper_binary does: fixed
 * path, empty environment, sanitized fds, SIGCHLD at its default while the
 * child lives, waitpid over EINTR, bounded waits. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "sspr/helper_client.h"

#define ENV_MAX 10

/* Test variables passed on only under SSPR_ROOT (SPEC section 8). */
static const char *const test_vars[] = {
	"SSPR_ROOT", "SSPR_NOW", "LD_PRELOAD", "NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP",
	/* sanitizer builds of the test suite only */
	"ASAN_OPTIONS", "UBSAN_OPTIONS",
};

static void free_env(char **env)
{
	for (size_t i = 0; env[i]; i++)
		free(env[i]);
}

static int build_env(char **env)
{
	size_t n = 0;

	env[0] = NULL;
	if (!secure_getenv("SSPR_ROOT"))
		return 0;
	for (size_t i = 0; i < SSPR_ELEMENTSOF(test_vars); i++) {
		const char *v = secure_getenv(test_vars[i]);
		size_t len;

		if (!v)
			continue;
		len = strlen(test_vars[i]) + 1 + strlen(v) + 1;
		env[n] = malloc(len);
		if (!env[n]) {
			free_env(env);
			return -ENOMEM;
		}
		(void)snprintf(env[n], len, "%s=%s", test_vars[i], v);
		env[++n] = NULL;
	}
	return 0;
}

int sspr_helper_start(const char *path, struct sspr_helper *ret)
{
	char *env[ENV_MAX] = { NULL };
	char *argv[] = { (char *)"sspr-helper", NULL };
	int sv[2], r, devnull;
	pid_t pid;

	r = build_env(env);
	if (r < 0)
		return r;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		free_env(env);
		return r;
	}
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid = fork();
	if (pid == 0) {
		/* child: async-signal-safe calls only */
		struct sigaction sa;

		if (dup2(sv[1], STDIN_FILENO) < 0 || dup2(sv[1], STDOUT_FILENO) < 0 ||
		    (devnull >= 0 && dup2(devnull, STDERR_FILENO) < 0))
			_exit(127);
		(void)close_range(3, ~0U, 0);
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_DFL;
		for (int sig = 1; sig < NSIG; sig++)
			(void)sigaction(sig, &sa, NULL);
		{
			sigset_t none;

			sigemptyset(&none);
			(void)sigprocmask(SIG_SETMASK, &none, NULL);
		}
		/* As pam_unix: a root caller makes its real uid root too, so
		 * the helper knows it is not being run by a user. */
		if (geteuid() == 0 && setuid(0) < 0)
			_exit(127);
		execve(path, argv, env);
		_exit(127);
	}
	r = pid < 0 ? -errno : 0;
	if (devnull >= 0)
		(void)close(devnull);
	(void)close(sv[1]);
	free_env(env);
	if (r < 0) {
		(void)close(sv[0]);
		return r;
	}
	ret->pid = pid;
	ret->fd = sv[0];
	return 0;
}

int sspr_helper_call(struct sspr_helper *h, const struct sspr_msg *req,
                     struct sspr_msg *ret, int timeout_ms)
{
	int r = sspr_msg_send(h->fd, req);

	/* A helper that ended (timeout) may have left its last reply
	 * queued: read it even when the write failed. */
	if (r < 0 && r != -EPIPE && r != -ECONNRESET)
		return r;
	return sspr_msg_recv(h->fd, ret, timeout_ms);
}

int sspr_helper_stop(struct sspr_helper *h)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int status = 0;

	if (h->fd >= 0)
		(void)close(h->fd);
	h->fd = -1;
	if (h->pid <= 0)
		return -ECHILD;
	/* The helper exits on EOF; give it 5 s (a shadow rewrite in flight
	 * finishes well within that), then kill it. */
	for (int i = 0; i < 500; i++) {
		pid_t w = waitpid(h->pid, &status, WNOHANG);

		if (w == h->pid) {
			h->pid = -1;
			return WIFEXITED(status) ? WEXITSTATUS(status) : -EINTR;
		}
		if (w < 0 && errno != EINTR) {
			h->pid = -1;
			return -errno;
		}
		(void)nanosleep(&tick, NULL);
	}
	(void)kill(h->pid, SIGKILL);
	while (waitpid(h->pid, &status, 0) < 0 && errno == EINTR)
		;
	h->pid = -1;
	return -ETIMEDOUT;
}
