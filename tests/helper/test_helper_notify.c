/* SPDX-License-Identifier: BSD-2-Clause */
/* notify_command through the real helper: a whole reset over the socket,
 * then the notifier.  The test process is a child subreaper, so the
 * helper's notify supervisor (orphaned when the helper exits) comes back
 * to us and we can wait for it: no sleeps.
 *   - the script gets the event's fields and nothing else (no SSPR_ROOT,
 *     LD_*, NSS_WRAPPER_*, HOME), as notify_user when root;
 *   - one that never exits is killed at notify_timeout while the reset has
 *     long completed: the helper exits 0 while it still runs, and once
 *     the supervisor is done the pid it recorded is gone;
 *   - an exec failure and a non-zero exit leave the reset done;
 *   - no reset, no notifier.
 * The audit lines (notify_ok, notify_fail reason=...) are checked by
 * test-notify.sh, which runs this under a /dev/log of its own; the pids
 * and scenarios are written to $SSPR_TEST_NOTIFY_OUT for it.
 * Runs in the sandbox of run-pam-test.sh. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sspr/common.h"
#include "sspr/otp.h"
#include "sspr/paths.h"
#include "sspr/proto.h"
#include "sspr/record.h"
#include "helper-drive.h"

#define SECRET "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
#define NOW 1764400000LL
#define NOTIFY_UID 64000 /* sspr-notify, added to the sandbox's passwd */

static const char *helper;
static char conf_path[4200], shadow_path[4200], root[4096];
static char dir[256]; /* scripts and their output: reachable by notify_user */
static bool cannot_switch; /* root of a user namespace without NOTIFY_UID */

/* As root of a user namespace that maps no other uid (unshare -r), the
 * helper cannot become notify_user: nothing to test here. */
static bool uid_mapped(uid_t uid)
{
	unsigned long in, out, count;
	bool found = false;
	FILE *f = fopen("/proc/self/uid_map", "r");

	if (!f)
		return true;
	while (fscanf(f, "%lu %lu %lu", &in, &out, &count) == 3)
		found |= uid >= in && uid - in < count;
	fclose(f);
	return found;
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

static void report(const char *fmt, ...)
{
	const char *path = getenv("SSPR_TEST_NOTIFY_OUT");
	va_list ap;
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "a");
	assert_non_null(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	assert_int_equal(fclose(f), 0);
}

/* Wait for every other child: the notify supervisor, reparented to us. */
static void reap_all(void)
{
	int st;

	while (waitpid(-1, &st, 0) > 0 || errno == EINTR)
		;
	assert_int_equal(errno, ECHILD);
}

/* A whole reset; returns the helper's exit status.  *c is finished. */
static int do_reset(bool good_code)
{
	struct child c = helper_start(helper, NULL);
	char code[9];

	helper_code_at(SECRET, NOW, code);
	if (!good_code)
		code[0] = code[0] == '0' ? '1' : '0';
	assert_int_equal(helper_hello(&c, "alice"), SSPR_ST_OK);
	if (!good_code) {
		assert_int_equal(helper_call(&c, SSPR_MSG_VERIFY, code, NULL), SSPR_ST_INVALID);
		return helper_finish(&c);
	}
	assert_int_equal(helper_call(&c, SSPR_MSG_VERIFY, code, NULL), SSPR_ST_OK);
	assert_int_equal(helper_call(&c, SSPR_MSG_RESET, "a new long password 123", NULL), SSPR_ST_OK);
	return helper_finish(&c);
}

/* sspr.conf with notify_command = dir/SCRIPT ARGS (SCRIPT written from
 * text unless NULL) and notify_timeout = secs. */
static void configure(const char *script, const char *text, const char *args, unsigned secs)
{
	char path[400], conf[1200];

	snprintf(path, sizeof path, "%s/%s", dir, script);
	if (text)
		spit(path, text, 0755);
	snprintf(conf, sizeof conf,
	         "services = sshd\nuse_pwquality = no\nhash = sha512\nsession_timeout = 30\n"
	         "notify_command = %s %s\nnotify_user = sspr-notify\nnotify_timeout = %u\n",
	         path, args, secs);
	spit(conf_path, conf, 0644);
}

static bool shadow_was_reset(void)
{
	char *after = slurp(shadow_path);
	bool r = strstr(after, "alice:$6$") && !strstr(after, "$6$abc$def");

	free(after);
	return r;
}

static int setup(void **state)
{
	struct sspr_record *r = sspr_record_new();
	struct sspr_paths p;
	int fd, lock;
	char cmd[4400];

	(void)state;
	spit(shadow_path, "alice:$6$abc$def:19000:0:99999:7:::\n", 0600);
	assert_int_equal(sspr_paths_init(&p, root), 0);
	snprintf(r->user, sizeof r->user, "alice");
	r->uid = 1001;
	sspr_otp_params_default(&r->otp);
	assert_int_equal(sspr_base32_decode(SECRET, r->secret, SSPR_SECRET_MAX, &r->secret_len), 0);
	assert_int_equal(sspr_state_open_users(p.statedir, 1, &fd), 0);
	assert_int_equal(sspr_record_lock(fd, 5000, &lock), 0);
	assert_int_equal(sspr_record_store(fd, r), 0);
	close(lock);
	close(fd);
	sspr_record_free(r);
	snprintf(cmd, sizeof cmd, "rm -rf %.2000s/var/lib/sspr/tally %.2000s/var/lib/sspr/notices",
	         root, root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static int group_setup(void **state)
{
	char line[200], path[4200];
	FILE *f;

	(void)state;
	/* the helper inherits this HOME: it must not reach the notifier */
	setenv("HOME", "/root-home-must-not-leak", 1);
	snprintf(root, sizeof root, "%s", getenv("SSPR_ROOT"));
	snprintf(conf_path, sizeof conf_path, "%s", getenv("SSPR_TEST_CONF"));
	snprintf(shadow_path, sizeof shadow_path, "%s/etc/shadow", root);
	helper = getenv("SSPR_HELPER");
	setenv("SSPR_NOW", "1764400000", 1);
	/* notify_user of the sandbox (nss_wrapper reads these files) */
	snprintf(path, sizeof path, "%s/etc/passwd", root);
	f = fopen(path, "a");
	assert_non_null(f);
	snprintf(line, sizeof line, "sspr-notify:x:%d:%d::/nonexistent:/usr/sbin/nologin\n",
	         NOTIFY_UID, NOTIFY_UID);
	fputs(line, f);
	assert_int_equal(fclose(f), 0);
	snprintf(path, sizeof path, "%s/etc/group", root);
	f = fopen(path, "a");
	assert_non_null(f);
	fprintf(f, "sspr-notify:x:%d:\n", NOTIFY_UID);
	assert_int_equal(fclose(f), 0);
	snprintf(dir, sizeof dir, "/tmp/sspr-notify.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 01777), 0);
	cannot_switch = geteuid() == 0 && !uid_mapped(NOTIFY_UID);
	if (cannot_switch)
		print_message("SKIP: root of a user namespace without uid %d\n", NOTIFY_UID);
	/* the notify supervisor outlives the helper: it comes back to us */
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_fields_and_nothing_else(void **state)
{
	static const char *const want[] = {
		"SSPR_EVENT=reset_ok", "SSPR_USER=alice", "SSPR_UID=1001", "SSPR_SERVICE=sshd",
		"SSPR_RHOST=192.0.2.7", "SSPR_TTY=ssh", "SSPR_METHOD=totp",
		"SSPR_TIME=2025-11-29T07:06:40Z", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	};
	char path[400], *env, *uid, *line, *save = NULL;
	char session[17] = "", seq[24] = "";

	(void)state;
	if (cannot_switch)
		skip();
	/* the dump is written as notify_user, to argv[1].env and .uid */
	snprintf(path, sizeof path, "%s/out", dir);
	configure("dump.sh", "#!/bin/sh\nenv > \"$1.env\"\nid -u > \"$1.uid\"\nexit 0\n",
	          path, 20);
	assert_int_equal(do_reset(true), 0);
	assert_true(shadow_was_reset());
	reap_all();

	snprintf(path, sizeof path, "%s/out.env", dir);
	env = slurp(path);
	for (size_t i = 0; i < SSPR_ELEMENTSOF(want); i++) {
		char w[100];

		snprintf(w, sizeof w, "%s\n", want[i]);
		if (!strstr(env, w))
			fail_msg("%s missing from the notifier's environment:\n%s", want[i], env);
	}
	for (line = strtok_r(env, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		bool known = strncmp(line, "PWD=", 4) == 0 || strncmp(line, "SHLVL=", 6) == 0 ||
		             strncmp(line, "_=", 2) == 0 || strncmp(line, "OLDPWD=", 7) == 0 ||
		             strncmp(line, "SSPR_SEQ=", 9) == 0;

		if (strncmp(line, "SSPR_SESSION=", 13) == 0) {
			assert_int_equal(strlen(line + 13), 16);
			assert_int_equal(strspn(line + 13, "0123456789abcdef"), 16);
			memcpy(session, line + 13, 17);
			known = true;
		}
		if (strncmp(line, "SSPR_SEQ=", 9) == 0) {
			/* the journal entry of reset_ok */
			assert_true(strspn(line + 9, "0123456789") == strlen(line + 9) && line[9]);
			assert_true(strlen(line + 9) < sizeof seq);
			memcpy(seq, line + 9, strlen(line + 9) + 1);
		}
		for (size_t i = 0; i < SSPR_ELEMENTSOF(want); i++)
			known |= strcmp(line, want[i]) == 0;
		if (!known)
			fail_msg("unexpected in the notifier's environment: %s", line);
	}
	assert_true(session[0]);
	assert_true(seq[0]);
	free(env);
	/* test-notify.sh finds the reset_ok line with this session and seq */
	report("fields session=%s seq=%s", session, seq);

	snprintf(path, sizeof path, "%s/out.uid", dir);
	uid = slurp(path);
	if (geteuid() == 0)
		assert_int_equal(atoi(uid), NOTIFY_UID); /* notify_user, not root */
	else
		assert_int_equal(atoi(uid), (int)getuid()); /* test root: ourselves */
	free(uid);
}

/* Never exits: killed with its group at notify_timeout; the reset is done
 * and the helper gone long before. */
static void test_never_exits_is_killed(void **state)
{
	char path[400], *text;
	pid_t pid;
	int st;

	(void)state;
	if (cannot_switch)
		skip();
	/* argv[1]: where the script writes its pid before it becomes sleep */
	snprintf(path, sizeof path, "%s/hang.pid", dir);
	configure("hang.sh",
	          "#!/bin/sh\n"
	          "echo $$ > \"$1.tmp\" && mv \"$1.tmp\" \"$1\"\n"
	          "exec sleep 1000\n",
	          path, 3);
	assert_int_equal(do_reset(true), 0); /* the helper has exited, status 0 */
	assert_true(shadow_was_reset());
	/* ... while the supervisor still waits on the notifier: the reset did
	 * not wait for it */
	assert_int_equal(waitpid(-1, &st, WNOHANG), 0);
	reap_all();
	text = slurp(path);
	pid = (pid_t)atoi(text);
	free(text);
	assert_true(pid > 1);
	/* killed (and reaped by the supervisor): no such process */
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	report("timeout pid=%d", (int)pid);
}

static void test_exec_failure_reset_ok(void **state)
{
	char conf[1200];

	(void)state;
	if (cannot_switch)
		skip();
	snprintf(conf, sizeof conf,
	         "services = sshd\nuse_pwquality = no\nhash = sha512\n"
	         "notify_command = %s/no-such-notifier --x\nnotify_user = sspr-notify\n", dir);
	spit(conf_path, conf, 0644);
	assert_int_equal(do_reset(true), 0);
	assert_true(shadow_was_reset());
	reap_all();
	report("exec");
}

static void test_exit_status_reset_ok(void **state)
{
	(void)state;
	if (cannot_switch)
		skip();
	configure("fail.sh", "#!/bin/sh\nexit 7\n", "", 20);
	assert_int_equal(do_reset(true), 0);
	assert_true(shadow_was_reset());
	reap_all();
	report("exit");
}

/* Only after a reset: a wrong code runs nothing. */
static void test_no_reset_no_notifier(void **state)
{
	char path[400];
	struct stat st;

	(void)state;
	if (cannot_switch)
		skip();
	snprintf(path, sizeof path, "%s/ran", dir);
	configure("mark.sh", "#!/bin/sh\ntouch \"$1\"\n", path, 20);
	assert_int_equal(do_reset(false), 1);
	assert_false(shadow_was_reset());
	reap_all();
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
	/* and the same script does run after a reset */
	assert_int_equal(do_reset(true), 0);
	reap_all();
	assert_int_equal(stat(path, &st), 0);
	report("ok");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_fields_and_nothing_else, setup),
		cmocka_unit_test_setup(test_never_exits_is_killed, setup),
		cmocka_unit_test_setup(test_exec_failure_reset_ok, setup),
		cmocka_unit_test_setup(test_exit_status_reset_ok, setup),
		cmocka_unit_test_setup(test_no_reset_no_notifier, setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
