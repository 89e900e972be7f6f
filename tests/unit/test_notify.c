/* SPDX-License-Identifier: BSD-2-Clause */
/* lib/notify.c: the split of notify_command, the environment, the account
 * it runs as, and runs of real scripts: the fields and nothing else, exit
 * statuses, exec errors, fds, and the kill at the bound (checked by the
 * kill: the recorded pid is gone, not by a clock).  As root the scripts run
 * as "nobody" of the real passwd, so the work directory is world-usable. */
#include <setjmp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sspr/notify.h"
#include "test-util.h"

static char dir[256];

static const struct sspr_notify_event ev0 = {
	.event = "reset_ok", .user = "alice", .uid = 1001, .service = "sshd",
	.rhost = "192.0.2.7", .tty = "ssh", .method = "totp",
	.session = "0123456789abcdef", .time = 1764425005, .seq = 42,
};

static const char *run_user(void)
{
	return geteuid() == 0 ? "nobody" : NULL;
}

static void spit(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);

	assert_non_null(buf);
	if (!f)
		return buf;
	(void)!fread(buf, 1, 65535, f);
	fclose(f);
	return buf;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/sspr-notify-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	/* the notifier may run as nobody: it needs to reach its script and
	 * write its output here */
	assert_int_equal(chmod(dir, 01777), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(dir);
	return 0;
}

static void test_split(void **state)
{
	char buf[256], *argv[SSPR_NOTIFY_ARGS_MAX + 1];
	char many[400];
	size_t o = 0;

	(void)state;
	assert_int_equal(sspr_notify_split("/usr/local/sbin/sspr-notify", buf, sizeof buf, argv), 1);
	assert_string_equal(argv[0], "/usr/local/sbin/sspr-notify");
	assert_null(argv[1]);
	assert_int_equal(sspr_notify_split(" \t/bin/x  -a\tb=c  'd e' ", buf, sizeof buf, argv), 5);
	assert_string_equal(argv[0], "/bin/x");
	assert_string_equal(argv[1], "-a");
	assert_string_equal(argv[2], "b=c");
	assert_string_equal(argv[3], "'d"); /* no shell: quotes are bytes */
	assert_string_equal(argv[4], "e'");
	assert_null(argv[5]);
	assert_int_equal(sspr_notify_split("", buf, sizeof buf, argv), -EINVAL);
	assert_int_equal(sspr_notify_split("   ", buf, sizeof buf, argv), -EINVAL);
	assert_int_equal(sspr_notify_split("mail -s x", buf, sizeof buf, argv), -EINVAL);
	assert_int_equal(sspr_notify_split("./x", buf, sizeof buf, argv), -EINVAL);
	assert_int_equal(sspr_notify_split(NULL, buf, sizeof buf, argv), -EINVAL);
	assert_int_equal(sspr_notify_split("/bin/x", buf, 4, argv), -SSPR_E_TOO_LONG);
	o += (size_t)snprintf(many, sizeof many, "/bin/x");
	for (int i = 0; i < SSPR_NOTIFY_ARGS_MAX - 1; i++)
		o += (size_t)snprintf(many + o, sizeof many - o, " a");
	assert_int_equal(sspr_notify_split(many, buf, sizeof buf, argv), SSPR_NOTIFY_ARGS_MAX);
	(void)snprintf(many + o, sizeof many - o, " b");
	assert_int_equal(sspr_notify_split(many, buf, sizeof buf, argv), -E2BIG);
}

static void test_env(void **state)
{
	static const char *const want[] = {
		"SSPR_EVENT=reset_ok", "SSPR_USER=alice", "SSPR_UID=1001", "SSPR_SERVICE=sshd",
		"SSPR_RHOST=192.0.2.7", "SSPR_TTY=ssh", "SSPR_METHOD=totp",
		"SSPR_SESSION=0123456789abcdef", "SSPR_TIME=2025-11-29T14:03:25Z", "SSPR_SEQ=42",
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	};
	struct sspr_notify_event ev = ev0;
	char buf[2048], *env[SSPR_NOTIFY_ENV_MAX + 1];
	int n;

	(void)state;
	n = sspr_notify_env(&ev, buf, sizeof buf, env);
	assert_int_equal(n, (int)SSPR_ELEMENTSOF(want));
	for (size_t i = 0; i < SSPR_ELEMENTSOF(want); i++)
		assert_string_equal(env[i], want[i]);
	assert_null(env[n]);

	/* no seq: no SSPR_SEQ; missing values are "-"; controls become '?' */
	ev.seq = 0;
	ev.rhost = NULL;
	ev.tty = "";
	ev.service = "ss\nBcc: evil@example.org\r\x7f";
	n = sspr_notify_env(&ev, buf, sizeof buf, env);
	assert_int_equal(n, (int)SSPR_ELEMENTSOF(want) - 1);
	assert_string_equal(env[3], "SSPR_SERVICE=ss?Bcc: evil@example.org??");
	assert_string_equal(env[4], "SSPR_RHOST=-");
	assert_string_equal(env[5], "SSPR_TTY=-");
	for (int i = 0; i < n; i++)
		assert_null(strstr(env[i], "SSPR_SEQ"));
	assert_int_equal(sspr_notify_env(&ev, buf, 40, env), -SSPR_E_TOO_LONG);
}

static void test_resolve_user(void **state)
{
	gid_t groups[64];
	int n = 64;
	uid_t uid = 4242;
	gid_t gid = 4242;

	(void)state;
	assert_int_equal(sspr_notify_resolve_user("root", &uid, &gid, groups, &n), -EPERM);
	assert_int_equal(uid, 4242); /* untouched on failure */
	n = 64;
	assert_int_equal(sspr_notify_resolve_user("no-such-user-sspr", &uid, &gid, groups, &n),
	                 -ENOENT);
	n = 64;
	assert_int_equal(sspr_notify_resolve_user("", &uid, &gid, groups, &n), -ENOENT);
	n = 64;
	if (sspr_notify_resolve_user("nobody", &uid, &gid, groups, &n) == 0) {
		assert_int_not_equal(uid, 0);
		assert_int_not_equal(gid, 0);
		assert_true(n >= 1);
	}
}

/* Run script text with ev0; returns the result code. */
static int run_script(const char *text, long timeout_ms, struct sspr_notify_result *res)
{
	char script[300], cmd[700];

	snprintf(script, sizeof script, "%s/notify.sh", dir);
	spit(script, text, 0755);
	snprintf(cmd, sizeof cmd, "%s %s/out arg2", script, dir);
	return sspr_notify_run(cmd, run_user(), timeout_ms, &ev0, res);
}

static void test_run_env_and_nothing_else(void **state)
{
	struct sspr_notify_result res;
	char path[300], *out, *args, *fds;
	char uidline[32];

	(void)state;
	setenv("SSPR_ROOT", "/leak", 1);
	setenv("LD_PRELOAD", "", 1);
	setenv("HOME", "/root-home-leak", 1);
	assert_int_equal(run_script("#!/bin/sh\n"
	                            "env > \"$1.env\"\n"
	                            "printf '%s\\n' \"$0\" \"$@\" > \"$1.args\"\n"
	                            "id -u > \"$1.uid\"\n"
	                            "ls /proc/self/fd > \"$1.fds\" 2>&1\n"
	                            "pwd > \"$1.cwd\"\n"
	                            "exit 0\n", 20000, &res), 0);
	unsetenv("SSPR_ROOT");
	unsetenv("LD_PRELOAD");
	assert_int_equal(res.outcome, SSPR_NOTIFY_OK);
	assert_true(res.pid > 0);
	snprintf(path, sizeof path, "%s/out.env", dir);
	out = slurp(path);
	/* exactly these lines, in any order (sh may add PWD, SHLVL, _) */
	{
		static const char *const want[] = {
			"SSPR_EVENT=reset_ok\n", "SSPR_USER=alice\n", "SSPR_UID=1001\n",
			"SSPR_SERVICE=sshd\n", "SSPR_RHOST=192.0.2.7\n", "SSPR_TTY=ssh\n",
			"SSPR_METHOD=totp\n", "SSPR_SESSION=0123456789abcdef\n",
			"SSPR_TIME=2025-11-29T14:03:25Z\n", "SSPR_SEQ=42\n",
			"PATH=/usr/sbin:/usr/bin:/sbin:/bin\n",
		};
		char *line, *save = NULL;

		for (size_t i = 0; i < SSPR_ELEMENTSOF(want); i++)
			assert_non_null(strstr(out, want[i]));
		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			bool known = strncmp(line, "PWD=", 4) == 0 ||
			             strncmp(line, "SHLVL=", 6) == 0 || strncmp(line, "_=", 2) == 0 ||
			             strncmp(line, "OLDPWD=", 7) == 0;

			for (size_t i = 0; i < SSPR_ELEMENTSOF(want); i++)
				known |= strncmp(line, want[i], strlen(want[i]) - 1) == 0;
			if (!known)
				fail_msg("unexpected variable in the notifier's environment: %s", line);
		}
	}
	free(out);
	snprintf(path, sizeof path, "%s/out.args", dir);
	args = slurp(path);
	{
		char want[600];

		snprintf(want, sizeof want, "%s/notify.sh\n%s/out\narg2\n", dir, dir);
		assert_string_equal(args, want);
	}
	free(args);
	snprintf(path, sizeof path, "%s/out.uid", dir);
	out = slurp(path);
	assert_int_not_equal(atoi(out), 0);
	snprintf(uidline, sizeof uidline, "%u\n", (unsigned)getuid());
	if (geteuid() != 0)
		assert_string_equal(out, uidline);
	free(out);
	/* fds of ls itself: 0 1 2 and the one it lists with */
	snprintf(path, sizeof path, "%s/out.fds", dir);
	fds = slurp(path);
	assert_string_equal(fds, "0\n1\n2\n3\n");
	free(fds);
	snprintf(path, sizeof path, "%s/out.cwd", dir);
	out = slurp(path);
	assert_string_equal(out, "/\n");
	free(out);
}

static void test_run_exit_status(void **state)
{
	struct sspr_notify_result res;

	(void)state;
	assert_int_equal(run_script("#!/bin/sh\nexit 3\n", 20000, &res), -ECHILD);
	assert_int_equal(res.outcome, SSPR_NOTIFY_EXIT);
	assert_int_equal(res.status, 3);
	assert_string_equal(sspr_notify_outcome_name(res.outcome), "exit");
	assert_int_equal(run_script("#!/bin/sh\nkill -TERM $$\n", 20000, &res), -ECHILD);
	assert_int_equal(res.outcome, SSPR_NOTIFY_SIGNAL);
	assert_int_equal(res.status, SIGTERM);
}

static void test_run_exec_error(void **state)
{
	struct sspr_notify_result res;
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof cmd, "%s/does-not-exist -x", dir);
	assert_int_equal(sspr_notify_run(cmd, run_user(), 20000, &ev0, &res), -ENOENT);
	assert_int_equal(res.outcome, SSPR_NOTIFY_EXEC);
	assert_int_equal(res.error, -ENOENT);
	assert_string_equal(sspr_notify_outcome_name(res.outcome), "exec");
	/* not executable */
	snprintf(cmd, sizeof cmd, "%s/plain", dir);
	spit(cmd, "#!/bin/sh\nexit 0\n", 0644);
	assert_int_equal(sspr_notify_run(cmd, run_user(), 20000, &ev0, &res), -EACCES);
	assert_int_equal(res.outcome, SSPR_NOTIFY_EXEC);
	/* a relative command is refused before any fork */
	assert_int_equal(sspr_notify_run("sh -c true", run_user(), 20000, &ev0, &res), -EINVAL);
	assert_int_equal(res.outcome, SSPR_NOTIFY_COMMAND);
	assert_int_equal(res.pid, 0);
}

/* A notifier that never exits is killed at the bound: its pid (recorded
 * by the script before it becomes `sleep`) and the background child it
 * left in its process group are gone once sspr_notify_run returns. */
static void test_run_killed_at_bound(void **state)
{
	struct sspr_notify_result res;
	char path[300], *pid_text, *bg_text;
	pid_t pid, bg;

	(void)state;
	assert_int_equal(run_script("#!/bin/sh\n"
	                            "sleep 1000 &\n"
	                            "echo $! > \"$1.bgpid\"\n"
	                            "echo $$ > \"$1.pid.tmp\" && mv \"$1.pid.tmp\" \"$1.pid\"\n"
	                            "exec sleep 1000\n", 1000, &res), -ETIMEDOUT);
	assert_int_equal(res.outcome, SSPR_NOTIFY_TIMEOUT);
	assert_string_equal(sspr_notify_outcome_name(res.outcome), "timeout");
	snprintf(path, sizeof path, "%s/out.pid", dir);
	pid_text = slurp(path);
	snprintf(path, sizeof path, "%s/out.bgpid", dir);
	bg_text = slurp(path);
	pid = (pid_t)atoi(pid_text);
	bg = (pid_t)atoi(bg_text);
	assert_true(pid > 0);
	assert_int_equal(pid, res.pid);
	/* reaped by sspr_notify_run: no such process (nor a zombie) */
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	/* the background sleep got SIGKILL with the group; it was reparented,
	 * so wait until whoever reaps it has (no clock: a bounded loop of
	 * checks of /proc/PID/stat, which says Z or is gone) */
	assert_true(bg > 0);
	for (int i = 0; i < 100000; i++) {
		char st[64], buf[256];
		FILE *f;

		snprintf(st, sizeof st, "/proc/%d/stat", (int)bg);
		f = fopen(st, "r");
		if (!f)
			break;
		if (fgets(buf, sizeof buf, f) && strstr(buf, ") Z ")) {
			fclose(f);
			break;
		}
		fclose(f);
		sched_yield();
		assert_true(i < 99999);
	}
	free(pid_text);
	free(bg_text);
}

static void test_run_user_refused(void **state)
{
	struct sspr_notify_result res;
	char cmd[300];

	(void)state;
	if (geteuid() != 0)
		skip(); /* not root: runs as the current user, no account switch */
	snprintf(cmd, sizeof cmd, "%s/x", dir);
	spit(cmd, "#!/bin/sh\nexit 0\n", 0755);
	assert_int_equal(sspr_notify_run(cmd, "root", 20000, &ev0, &res), -EPERM);
	assert_int_equal(res.outcome, SSPR_NOTIFY_USER);
	assert_int_equal(res.pid, 0);
	assert_int_equal(sspr_notify_run(cmd, "no-such-user-sspr", 20000, &ev0, &res), -ENOENT);
	assert_int_equal(res.outcome, SSPR_NOTIFY_USER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_resolve_user),
		cmocka_unit_test(test_run_env_and_nothing_else),
		cmocka_unit_test(test_run_exit_status),
		cmocka_unit_test(test_run_exec_error),
		cmocka_unit_test(test_run_killed_at_bound),
		cmocka_unit_test(test_run_user_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
