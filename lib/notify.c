/* SPDX-License-Identifier: BSD-2-Clause */
/* notify_command: run a command after a reset (notify.h, sspr-helper(8)).
 *
 * Everything that can fail slowly or needs NSS (the split, the
 * environment, the account of notify_user and its groups) is done before
 * the fork; the child only makes system calls: signals back to their
 * defaults, a session of its own, /dev/null on 0-2 and close-on-exec on
 * the rest, setgroups/setresgid/setresuid (checked, and checked that root
 * cannot be regained), then execve.  A failure in the child is reported
 * through a close-on-exec pipe as (stage, errno).  The parent waits with
 * SIGCHLD blocked (sigtimedwait), so the bound is exact without polling;
 * at the bound the process group and the process get SIGKILL. */
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "sspr/notify.h"

#define NOTIFY_GROUPS_MAX 256
#define NOTIFY_COMMAND_MAX 1025 /* a line of sspr.conf (lib/config.c) */

enum stage { STAGE_SETUP = 1, STAGE_USER = 2, STAGE_EXEC = 3 };

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int sspr_notify_split(const char *command, char *storage, size_t storagelen,
                      char *argv[static SSPR_NOTIFY_ARGS_MAX + 1])
{
	size_t n = 0;
	char *p;

	if (!command)
		return -EINVAL;
	if (sspr_strlcpy(storage, command, storagelen) < 0)
		return -SSPR_E_TOO_LONG;
	p = storage;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		if (n == SSPR_NOTIFY_ARGS_MAX)
			return -E2BIG;
		argv[n++] = p;
		while (*p && !is_blank(*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
	argv[n] = NULL;
	if (n == 0 || argv[0][0] != '/')
		return -EINVAL;
	return (int)n;
}

/* Append "NAME=value" (value sanitised) at *o in storage. */
static int put(char *storage, size_t len, size_t *o, char **slot, const char *name,
               const char *value)
{
	size_t start = *o;
	int w;

	if (!value || !*value)
		value = "-";
	w = snprintf(storage + start, len - start, "%s=%s", name, value);
	if (w < 0 || (size_t)w >= len - start)
		return -SSPR_E_TOO_LONG;
	for (char *c = storage + start + strlen(name) + 1; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	*slot = storage + start;
	*o = start + (size_t)w + 1;
	return 0;
}

int sspr_notify_env(const struct sspr_notify_event *ev, char *storage, size_t storagelen,
                    char *env[static SSPR_NOTIFY_ENV_MAX + 1])
{
	char uid[24], when[32], seq[24];
	struct tm tm;
	time_t t = ev->time;
	size_t o = 0, n = 0;
	int r = 0;

	(void)snprintf(uid, sizeof uid, "%lu", (unsigned long)ev->uid);
	if (!gmtime_r(&t, &tm) || strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		memcpy(when, "-", 2);
	(void)snprintf(seq, sizeof seq, "%llu", (unsigned long long)ev->seq);
	if (storagelen == 0)
		return -SSPR_E_TOO_LONG;
	r = put(storage, storagelen, &o, &env[n++], "SSPR_EVENT", ev->event);
	if (!r) r = put(storage, storagelen, &o, &env[n++], "SSPR_USER", ev->user);
	if (!r) r = put(storage, storagelen, &o, &env[n++], "SSPR_UID", uid);
	if (!r) r = put(storage, storagelen, &o, &env[n++], "SSPR_SERVICE", ev->service);
	if (!r) r = put(storage, storagelen, &o, &env[n++], "SSPR_RHOST", ev->rhost);
	if (!r) r = put(storage, storagelen, &o, &env[n++], "SSPR_TTY", ev->tty);
	if (!r) r = put(storage, storagelen, &o, &env[n++], "SSPR_METHOD", ev->method);
	if (!r) r = put(storage, storagelen, &o, &env[n++], "SSPR_SESSION", ev->session);
	if (!r) r = put(storage, storagelen, &o, &env[n++], "SSPR_TIME", when);
	if (!r && ev->seq)
		r = put(storage, storagelen, &o, &env[n++], "SSPR_SEQ", seq);
	if (!r) {
		const char *eq = strchr(SSPR_NOTIFY_PATH, '=');

		r = put(storage, storagelen, &o, &env[n++], "PATH", eq + 1);
	}
	if (r < 0)
		return r;
	env[n] = NULL;
	return (int)n;
}

int sspr_notify_resolve_user(const char *name, uid_t *ret_uid, gid_t *ret_gid,
                             gid_t *groups, int *ngroups)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int n = *ngroups, e;

	if (!name || !*name)
		return -ENOENT;
	e = getpwnam_r(name, &pw, buf, sizeof buf, &res);
	if (e != 0)
		return -e;
	if (!res)
		return -ENOENT;
	if (pw.pw_uid == 0 || pw.pw_gid == 0)
		return -EPERM;
	if (getgrouplist(name, pw.pw_gid, groups, &n) < 0) {
		*ngroups = n;
		return -E2BIG;
	}
	for (int i = 0; i < n; i++)
		if (groups[i] == 0)
			return -EPERM;
	*ngroups = n;
	*ret_uid = pw.pw_uid;
	*ret_gid = pw.pw_gid;
	return 0;
}

const char *sspr_notify_outcome_name(enum sspr_notify_outcome o)
{
	static const char *const names[] = {
		[SSPR_NOTIFY_OK] = "ok",         [SSPR_NOTIFY_EXIT] = "exit",
		[SSPR_NOTIFY_SIGNAL] = "signal", [SSPR_NOTIFY_TIMEOUT] = "timeout",
		[SSPR_NOTIFY_EXEC] = "exec",     [SSPR_NOTIFY_USER] = "user",
		[SSPR_NOTIFY_COMMAND] = "command", [SSPR_NOTIFY_SETUP] = "setup",
	};

	return (unsigned)o < SSPR_ELEMENTSOF(names) && names[o] ? names[o] : "setup";
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child: report (stage, errno) on the pipe and exit. */
static _Noreturn void child_fail(int fd, enum stage stage, int err)
{
	int msg[2] = { (int)stage, err > 0 ? err : EIO };

	(void)!write(fd, msg, sizeof msg);
	_exit(127);
}

struct creds {
	bool switch_user;
	uid_t uid;
	gid_t gid;
	gid_t groups[NOTIFY_GROUPS_MAX];
	int ngroups;
};

/* The child, between fork and execve: system calls only. */
static _Noreturn void child(int errfd, pid_t parent, const struct creds *cr, char *const argv[],
                            char *const env[])
{
	struct sigaction dfl;
	sigset_t none;
	int null;

	/* signals: defaults and an empty mask (the helper ignores SIGPIPE
	 * and SIGXFSZ; ignored dispositions would survive execve) */
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);

	/* a session and process group of its own: killed as a group, and out
	 * of reach of the login's terminal and its signals */
	if (setsid() < 0)
		child_fail(errfd, STAGE_SETUP, errno);

	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		child_fail(errfd, STAGE_SETUP, errno);
	for (int fd = 0; fd <= 2; fd++)
		if (dup2(null, fd) < 0)
			child_fail(errfd, STAGE_SETUP, errno);
	/* every other fd is closed at execve (errfd included: that is how
	 * the parent learns that execve succeeded) */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		struct rlimit rl;
		int max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		          rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;

		for (int fd = 3; fd < max; fd++)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	if (chdir("/") < 0)
		child_fail(errfd, STAGE_SETUP, errno);

	if (cr->switch_user) {
		uid_t ru, eu, su;
		gid_t rg, eg, sg;

		if (setgroups((size_t)cr->ngroups, cr->groups) < 0 ||
		    setresgid(cr->gid, cr->gid, cr->gid) < 0 ||
		    setresuid(cr->uid, cr->uid, cr->uid) < 0)
			child_fail(errfd, STAGE_USER, errno);
		if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
			child_fail(errfd, STAGE_USER, errno);
		if (ru != cr->uid || eu != cr->uid || su != cr->uid || rg != cr->gid ||
		    eg != cr->gid || sg != cr->gid)
			child_fail(errfd, STAGE_USER, EPERM);
		/* root must be gone for good */
		if (setuid(0) == 0 || setgid(0) == 0)
			child_fail(errfd, STAGE_USER, EPERM);
	} else if (geteuid() == 0 || getuid() == 0) {
		child_fail(errfd, STAGE_USER, EPERM); /* never as root */
	}
	/* if the waiting process dies, so does the notifier (set after the
	 * uid change, which would clear it) */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != parent)
		child_fail(errfd, STAGE_SETUP, ESRCH);

	execve(argv[0], argv, env);
	child_fail(errfd, STAGE_EXEC, errno);
}

static void set_result(struct sspr_notify_result *ret, enum sspr_notify_outcome o, int status,
                       int error)
{
	ret->outcome = o;
	ret->status = status;
	ret->error = error;
}

static int result_code(const struct sspr_notify_result *ret)
{
	switch (ret->outcome) {
	case SSPR_NOTIFY_OK:
		return 0;
	case SSPR_NOTIFY_TIMEOUT:
		return -ETIMEDOUT;
	case SSPR_NOTIFY_EXIT:
	case SSPR_NOTIFY_SIGNAL:
		return -ECHILD;
	default:
		return ret->error < 0 ? ret->error : -EIO;
	}
}

/* Wait for pid until deadline (monotonic ms), SIGCHLD blocked by the
 * caller.  Returns 1 (reaped, *status set), 0 (deadline), or -errno. */
static int wait_until(pid_t pid, long long deadline, const sigset_t *chld, int *status)
{
	for (;;) {
		long long left;
		struct timespec ts;
		pid_t w = waitpid(pid, status, WNOHANG);

		if (w == pid)
			return 1;
		if (w < 0 && errno != EINTR)
			return -errno;
		left = deadline - mono_ms();
		if (left <= 0)
			return 0;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		/* any SIGCHLD wakes us (another child too): waitpid decides */
		(void)sigtimedwait(chld, NULL, &ts);
	}
}

int sspr_notify_run(const char *command, const char *user, long timeout_ms,
                    const struct sspr_notify_event *ev, struct sspr_notify_result *ret)
{
	char argbuf[NOTIFY_COMMAND_MAX], envbuf[4096];
	char *argv[SSPR_NOTIFY_ARGS_MAX + 1], *env[SSPR_NOTIFY_ENV_MAX + 1];
	struct creds cr;
	struct sigaction dfl, old_chld;
	sigset_t chld, old_mask;
	int pfd[2], status = 0, msg[2], r;
	pid_t pid, self = getpid();
	ssize_t n;

	memset(ret, 0, sizeof *ret);
	memset(&cr, 0, sizeof cr);
	r = sspr_notify_split(command, argbuf, sizeof argbuf, argv);
	if (r < 0) {
		set_result(ret, SSPR_NOTIFY_COMMAND, 0, r);
		return r;
	}
	r = sspr_notify_env(ev, envbuf, sizeof envbuf, env);
	if (r < 0) {
		set_result(ret, SSPR_NOTIFY_SETUP, 0, r);
		return r;
	}
	if (geteuid() == 0) {
		cr.switch_user = true;
		cr.ngroups = NOTIFY_GROUPS_MAX;
		r = sspr_notify_resolve_user(user, &cr.uid, &cr.gid, cr.groups, &cr.ngroups);
		if (r < 0) {
			set_result(ret, SSPR_NOTIFY_USER, 0, r);
			return r;
		}
	}

	/* SIGCHLD: blocked (so it stays pending for sigtimedwait) and not
	 * ignored (so the child is not reaped behind our back) */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	if (sigprocmask(SIG_BLOCK, &chld, &old_mask) < 0) {
		r = -errno;
		set_result(ret, SSPR_NOTIFY_SETUP, 0, r);
		return r;
	}
	(void)sigaction(SIGCHLD, &dfl, &old_chld);

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		r = -errno;
		set_result(ret, SSPR_NOTIFY_SETUP, 0, r);
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		(void)close(pfd[0]);
		(void)close(pfd[1]);
		set_result(ret, SSPR_NOTIFY_SETUP, 0, r);
		goto out;
	}
	if (pid == 0) {
		(void)close(pfd[0]);
		child(pfd[1], self, &cr, argv, env);
	}
	(void)close(pfd[1]);
	ret->pid = pid;

	r = wait_until(pid, mono_ms() + (timeout_ms > 0 ? timeout_ms : 0), &chld, &status);
	if (r == 0) {
		/* the bound: the whole group (what it started), then itself in
		 * case setsid() had not run yet */
		(void)kill(-pid, SIGKILL);
		(void)kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		(void)close(pfd[0]);
		set_result(ret, SSPR_NOTIFY_TIMEOUT, 0, 0);
		r = result_code(ret);
		goto out;
	}
	if (r < 0) {
		(void)close(pfd[0]);
		set_result(ret, SSPR_NOTIFY_SETUP, 0, r);
		goto out;
	}
	/* reaped: did it get as far as execve?  (the pipe holds what the
	 * child wrote before it exited; nothing after a successful exec) */
	do
		n = read(pfd[0], msg, sizeof msg);
	while (n < 0 && errno == EINTR);
	(void)close(pfd[0]);
	if (n == (ssize_t)sizeof msg)
		set_result(ret, msg[0] == STAGE_EXEC ? SSPR_NOTIFY_EXEC :
		                msg[0] == STAGE_USER ? SSPR_NOTIFY_USER : SSPR_NOTIFY_SETUP,
		           0, -msg[1]);
	else if (WIFEXITED(status))
		set_result(ret, WEXITSTATUS(status) == 0 ? SSPR_NOTIFY_OK : SSPR_NOTIFY_EXIT,
		           WEXITSTATUS(status), 0);
	else
		set_result(ret, SSPR_NOTIFY_SIGNAL, WIFSIGNALED(status) ? WTERMSIG(status) : 0, 0);
	r = result_code(ret);
out:
	(void)sigaction(SIGCHLD, &old_chld, NULL);
	(void)sigprocmask(SIG_SETMASK, &old_mask, NULL);
	return r;
}
