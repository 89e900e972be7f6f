/* SPDX-License-Identifier: BSD-2-Clause */
/* sspr-helper driven directly over its socket, as the module would, but
 * out of order and with bad input: the state machine must end the
 * session without a reset.  Runs in the sandbox of run-pam-test.sh. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sspr/common.h"
#include "sspr/otp.h"
#include "sspr/proto.h"
#include "sspr/record.h"
#include "sspr/paths.h"
#include "sspr/passwd.h"
#include "helper-drive.h"

#define SECRET "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
#define NOW 1764400000LL

static const char *helper;
static char conf_path[4200], shadow_path[4200], root[4096];

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);

	assert_non_null(f);
	assert_non_null(buf);
	(void)!fread(buf, 1, 65535, f);
	fclose(f);
	return buf;
}

static int setup(void **state)
{
	struct sspr_record *r = sspr_record_new();
	struct sspr_paths p;
	int fd, lock;

	(void)state;
	snprintf(root, sizeof root, "%s", getenv("SSPR_ROOT"));
	snprintf(conf_path, sizeof conf_path, "%s", getenv("SSPR_TEST_CONF"));
	snprintf(shadow_path, sizeof shadow_path, "%s/etc/shadow", root);
	helper = getenv("SSPR_HELPER");
	spit(conf_path, "services = sshd\nuse_pwquality = no\nhash = sha512\nsession_timeout = 5\n");
	spit(shadow_path, "alice:$6$abc$def:19000:0:99999:7:::\n");
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
	{
		char cmd[4400];

		snprintf(cmd, sizeof cmd, "rm -rf %.2000s/var/lib/sspr/tally %.2000s/var/lib/sspr/notices",
		         root, root);
		assert_int_equal(system(cmd), 0);
	}
	setenv("SSPR_NOW", "1764400000", 1);
	return 0;
}

static void test_reset_before_verify_ends_session(void **state)
{
	struct child c = helper_start(helper, NULL);
	char *before = slurp(shadow_path), *after;

	(void)state;
	assert_int_equal(helper_hello(&c, "alice"), SSPR_ST_OK);
	assert_int_equal(helper_call(&c, SSPR_MSG_RESET, "a new long password 123", NULL), SSPR_ST_FAIL);
	/* the session is over: nothing more is answered */
	assert_true(helper_call(&c, SSPR_MSG_VERIFY, "123456", NULL) < 0);
	assert_int_equal(helper_finish(&c), 1);
	after = slurp(shadow_path);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void test_verify_before_hello_ends_session(void **state)
{
	struct child c = helper_start(helper, NULL);
	char code[9];

	(void)state;
	helper_code_at(SECRET, NOW, code);
	assert_int_equal(helper_call(&c, SSPR_MSG_VERIFY, code, NULL), SSPR_ST_FAIL);
	assert_int_equal(helper_finish(&c), 1);
}

static void test_second_hello_ends_session(void **state)
{
	struct child c = helper_start(helper, NULL);

	(void)state;
	assert_int_equal(helper_hello(&c, "alice"), SSPR_ST_OK);
	assert_int_equal(helper_hello(&c, "alice"), SSPR_ST_FAIL);
	assert_int_equal(helper_finish(&c), 1);
}

static void test_bad_field_count_refused(void **state)
{
	struct child c = helper_start(helper, NULL);

	(void)state;
	assert_int_equal(helper_call(&c, SSPR_MSG_HELLO, "alice", NULL), SSPR_ST_FAIL);
	assert_int_equal(helper_finish(&c), 1);
}

static void test_verify_with_extra_field_refused(void **state)
{
	struct child c = helper_start(helper, NULL);
	char code[9];

	(void)state;
	helper_code_at(SECRET, NOW, code);
	assert_int_equal(helper_hello(&c, "alice"), SSPR_ST_OK);
	assert_int_equal(helper_call(&c, SSPR_MSG_VERIFY, code, "extra"), SSPR_ST_FAIL);
	assert_int_equal(helper_finish(&c), 1);
}

static void test_full_session_resets(void **state)
{
	struct child c = helper_start(helper, NULL);
	char code[9], *after;

	(void)state;
	helper_code_at(SECRET, NOW, code);
	assert_int_equal(helper_hello(&c, "alice"), SSPR_ST_OK);
	assert_int_equal(helper_call(&c, SSPR_MSG_VERIFY, code, NULL), SSPR_ST_OK);
	assert_int_equal(helper_call(&c, SSPR_MSG_RESET, "short", NULL), SSPR_ST_BAD_PASSWORD);
	assert_int_equal(helper_call(&c, SSPR_MSG_RESET, "a new long password 123", NULL), SSPR_ST_OK);
	assert_int_equal(helper_finish(&c), 0);
	after = slurp(shadow_path);
	assert_null(strstr(after, "$6$abc$def"));
	free(after);
}

/* require_recovery_code = remote: a request with an rhost needs both. */
static void test_remote_request_needs_recovery_code(void **state)
{
	struct child c;
	char code[9];

	(void)state;
	spit(conf_path, "services = sshd\nuse_pwquality = no\nhash = sha512\n"
	                "require_recovery_code = remote\n");
	c = helper_start(helper, NULL);
	helper_code_at(SECRET, NOW, code);
	assert_int_equal(helper_hello(&c, "alice"), SSPR_ST_OK);
	assert_int_equal(helper_call(&c, SSPR_MSG_VERIFY, code, NULL), SSPR_ST_NEED_RECOVERY);
	/* an OTP code is no recovery code; RESET is still out of order */
	assert_int_equal(helper_call(&c, SSPR_MSG_VERIFY, code, NULL), SSPR_ST_INVALID);
	assert_int_equal(helper_call(&c, SSPR_MSG_RESET, "a new long password 123", NULL), SSPR_ST_FAIL);
	assert_int_equal(helper_finish(&c), 1);
}

static void test_reset_tries_are_bounded(void **state)
{
	struct child c = helper_start(helper, NULL);
	char code[9];

	(void)state;
	helper_code_at(SECRET, NOW, code);
	assert_int_equal(helper_hello(&c, "alice"), SSPR_ST_OK);
	assert_int_equal(helper_call(&c, SSPR_MSG_VERIFY, code, NULL), SSPR_ST_OK);
	assert_int_equal(helper_call(&c, SSPR_MSG_RESET, "short", NULL), SSPR_ST_BAD_PASSWORD);
	assert_int_equal(helper_call(&c, SSPR_MSG_RESET, "short", NULL), SSPR_ST_BAD_PASSWORD);
	assert_int_equal(helper_call(&c, SSPR_MSG_RESET, "short", NULL), SSPR_ST_UNCHANGED);
	assert_true(helper_call(&c, SSPR_MSG_RESET, "a new long password 123", NULL) < 0);
	assert_int_equal(helper_finish(&c), 1);
}

/* session_timeout (5 s here) is the helper's own: it answers TIMEOUT
 * unasked and ends, even when the module never speaks again. */
static void test_session_timeout_enforced_by_helper(void **state)
{
	struct child c = helper_start(helper, NULL);
	struct sspr_msg r;

	(void)state;
	assert_int_equal(helper_hello(&c, "alice"), SSPR_ST_OK);
	assert_int_equal(sspr_msg_recv(c.fd, &r, 30000), 0);
	assert_int_equal(r.arg, SSPR_ST_TIMEOUT);
	assert_int_equal(helper_finish(&c), 1);
}

static void test_refuses_extra_arguments(void **state)
{
	char *const argv[] = { (char *)"sspr-helper", (char *)"--user=root", NULL };
	struct child c = helper_start(helper, argv);

	(void)state;
	assert_int_equal(helper_finish(&c), 1);
}

static void test_refuses_argc_zero(void **state)
{
	char *const argv[] = { NULL };
	struct child c = helper_start(helper, argv);

	(void)state;
	assert_int_equal(helper_finish(&c), 1);
}

static void test_refuses_terminal_on_stdin(void **state)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY), st;
	pid_t pid;

	(void)state;
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int s = open(ptsname(m), O_RDWR | O_NOCTTY);

		dup2(s, 0);
		execl(helper, "sspr-helper", (char *)NULL);
		_exit(126);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	close(m);
}

/* A config error fails closed: no session starts, whatever the error
 * (a sample of the lint table's kinds of bad line). */
static void test_config_error_fails_closed(void **state)
{
	static const char *const bad[] = {
		"services = sshd\nwindow = many\n",
		"services = sshd\nbogus_key = 1\n",
		"services = sshd\nservices = login\n",
		"services = sshd\nmin_uid = 2000\nmax_uid = 1000\n",
		"services = sshd\nhash = md5\n",
		"services = sshd\non_success = maybe\n",
		"services = sshd\nmax_code_tries = 0\n",
		"services = sshd\njust some words\n",
		"services = sshd\nconceal = perhaps\n",
		"services = sshd\nnotify_user = root\n",
		"services = sshd\nrecovery_codes = 41\n",
		"services = sshd\nsession_timeout = 4\n",
	};

	(void)state;
	for (size_t i = 0; i < SSPR_ELEMENTSOF(bad); i++) {
		struct child c;

		spit(conf_path, bad[i]);
		c = helper_start(helper, NULL);
		if (helper_hello(&c, "alice") != SSPR_ST_FAIL)
			fail_msg("config %zu accepted: %s", i, bad[i]);
		assert_int_equal(helper_finish(&c), 1);
	}
}

/* --- abuse: brute force and replay (issue: policy and abuse resistance) -- */

static void set_now(long long t)
{
	char v[32];

	snprintf(v, sizeof v, "%lld", t);
	setenv("SSPR_NOW", v, 1);
}

/* One wrong-code session of `tries` attempts for user; returns how many
 * attempts the helper checked (answered INVALID, EXHAUSTED, or
 * RATE_LIMITED "invalid") as opposed to refused unchecked. */
static int wrong_session(const char *user, int tries)
{
	struct child c = helper_start(helper, NULL);
	int checked = 0;

	if (helper_hello(&c, user) != SSPR_ST_OK) {
		helper_finish(&c);
		return 0;
	}
	for (int i = 0; i < tries; i++) {
		struct sspr_msg m, r;

		sspr_msg_init(&m, SSPR_MSG_VERIFY, 0);
		assert_int_equal(sspr_msg_add(&m, "000000"), 0);
		if (sspr_msg_send(c.fd, &m) < 0 || sspr_msg_recv(c.fd, &r, 20000) < 0)
			break;
		if (r.arg == SSPR_ST_INVALID || r.arg == SSPR_ST_EXHAUSTED ||
		    (r.arg == SSPR_ST_RATE_LIMITED && r.nfields))
			checked++;
		if (r.arg != SSPR_ST_INVALID)
			break;
	}
	helper_finish(&c);
	return checked;
}

/* 16 parallel callers sending wrong codes for one name: at most `deny`
 * checks per lockout window, and at most `hard_deny` in all before an
 * admin unlock, whatever the clock does. */
static void test_parallel_brute_force_is_bounded(void **state)
{
	int total = 0;

	(void)state;
	spit(conf_path, "services = sshd\nuse_pwquality = no\nhash = sha512\n"
	                "deny = 5\nhard_deny = 12\nfail_interval = 86400\n"
	                "unlock_time = 60\nmax_unlock_time = 60\nmax_code_tries = 10\n"
	                "global_rate = 100000\nrhost_deny = 100000\n");
	for (int round = 0; round < 5; round++) {
		int fds[16][2], checked = 0;

		set_now(NOW + round * 3600LL);
		for (int i = 0; i < 16; i++) {
			pid_t pid;

			assert_int_equal(pipe(fds[i]), 0);
			pid = fork();
			assert_true(pid >= 0);
			if (pid == 0) {
				int n = wrong_session("alice", 4);

				(void)!write(fds[i][1], &n, sizeof n);
				_exit(0);
			}
			close(fds[i][1]);
		}
		for (int i = 0; i < 16; i++) {
			int n = 0;

			assert_int_equal(read(fds[i][0], &n, sizeof n), (ssize_t)sizeof n);
			close(fds[i][0]);
			checked += n;
		}
		while (wait(NULL) > 0)
			;
		print_message("round %d: %d of 64 attempts checked\n", round, checked);
		assert_true(checked <= 5);
		total += checked;
	}
	/* 5 + 5 + 2, then hard-locked: nothing more is ever checked */
	assert_int_equal(total, 12);
}

/* Two sessions submit the same TOTP code at once, 1000 times: exactly one
 * of each pair is accepted. */
static void test_concurrent_replay_accepts_once(void **state)
{
	int trials = getenv("SSPR_REPLAY_TRIALS") ? atoi(getenv("SSPR_REPLAY_TRIALS")) : 1000;
	int bad = 0;

	(void)state;
	spit(conf_path, "services = sshd\nuse_pwquality = no\nhash = sha512\n"
	                "global_rate = 100000\ndeny = 1000\nhard_deny = 100000\nrhost_deny = 100000\n");
	for (int t = 0; t < trials; t++) {
		struct child a, b;
		char code[9];
		int ra, rb;

		set_now(NOW + 30LL * t);
		{
			struct sspr_otp_params p;
			uint8_t sec[64];
			size_t n;

			sspr_otp_params_default(&p);
			assert_int_equal(sspr_base32_decode(SECRET, sec, sizeof sec, &n), 0);
			assert_int_equal(sspr_otp_generate(&p, sec, n,
			                                   sspr_otp_step(&p, (time_t)(NOW + 30LL * t)), code), 0);
		}
		a = helper_start(helper, NULL);
		b = helper_start(helper, NULL);
		assert_int_equal(helper_hello(&a, "alice"), SSPR_ST_OK);
		assert_int_equal(helper_hello(&b, "alice"), SSPR_ST_OK);
		{
			struct sspr_msg m, r1, r2;

			sspr_msg_init(&m, SSPR_MSG_VERIFY, 0);
			assert_int_equal(sspr_msg_add(&m, code), 0);
			/* both requests in flight before either answer is read */
			assert_int_equal(sspr_msg_send(a.fd, &m), 0);
			assert_int_equal(sspr_msg_send(b.fd, &m), 0);
			assert_int_equal(sspr_msg_recv(a.fd, &r1, 20000), 0);
			assert_int_equal(sspr_msg_recv(b.fd, &r2, 20000), 0);
			ra = r1.arg;
			rb = r2.arg;
		}
		helper_finish(&a);
		helper_finish(&b);
		if ((ra == SSPR_ST_OK) + (rb == SSPR_ST_OK) != 1) {
			print_error("trial %d: replies %d and %d\n", t, ra, rb);
			bad++;
		}
	}
	print_message("%d trials, %d without exactly one success\n", trials, bad);
	assert_int_equal(bad, 0);
}

/* --- self-service ----------------------------------------------------------- */

static void self_shadow(void)
{
	char h[512], text[1200];

	assert_int_equal(sspr_passwd_hash(SSPR_HASH_SHA512, NULL, "Current-Pass-1", h, sizeof h), 0);
	snprintf(text, sizeof text, "alice:%s:19000:0:99999:7:::\ndave:%s:19000:0:99999:7:::\n", h, h);
	spit(shadow_path, text);
}

static int self_start(struct child *c, const char *user, const char *op)
{
	struct sspr_msg m, r;

	sspr_msg_init(&m, SSPR_MSG_SELF, 0);
	assert_int_equal(sspr_msg_add(&m, user), 0);
	assert_int_equal(sspr_msg_add(&m, "sspr-cli"), 0);
	assert_int_equal(sspr_msg_add(&m, ""), 0);
	assert_int_equal(sspr_msg_add(&m, "pts/1"), 0);
	assert_int_equal(sspr_msg_add(&m, ""), 0);
	assert_int_equal(sspr_msg_add(&m, op), 0);
	assert_int_equal(sspr_msg_send(c->fd, &m), 0);
	assert_int_equal(sspr_msg_recv(c->fd, &r, 20000), 0);
	return r.arg;
}

static int self_do_enroll(struct child *c, struct sspr_msg *r)
{
	struct sspr_msg m;

	sspr_msg_init(&m, SSPR_MSG_SELF_DO, 0);
	assert_int_equal(sspr_msg_add(&m, "totp"), 0);
	assert_int_equal(sspr_msg_add(&m, "sha1"), 0);
	assert_int_equal(sspr_msg_add(&m, "6"), 0);
	assert_int_equal(sspr_msg_add(&m, "30"), 0);
	assert_int_equal(sspr_msg_add(&m, "testhost"), 0);
	assert_int_equal(sspr_msg_send(c->fd, &m), 0);
	assert_int_equal(sspr_msg_recv(c->fd, r, 20000), 0);
	return r->arg;
}

static void test_self_enroll_new_user(void **state)
{
	struct child c = helper_start(helper, NULL);
	struct sspr_msg r;
	char path[4400];

	(void)state;
	self_shadow();
	assert_int_equal(self_start(&c, "dave", "enroll"), SSPR_ST_OK);
	assert_int_equal(helper_call(&c, SSPR_MSG_PASSWORD, "wrong", NULL), SSPR_ST_INVALID);
	assert_int_equal(helper_call(&c, SSPR_MSG_PASSWORD, "Current-Pass-1", NULL), SSPR_ST_OK);
	assert_int_equal(self_do_enroll(&c, &r), SSPR_ST_OK);
	assert_int_equal(r.nfields, 2);
	assert_true(strncmp(r.field[0].data, "otpauth://totp/testhost:dave?secret=", 36) == 0);
	/* 10 codes XXXXX-XXXXX, space separated */
	assert_int_equal(strlen(r.field[1].data), 10 * 11 + 9);
	helper_finish(&c);
	snprintf(path, sizeof path, "%s/var/lib/sspr/users/1004", root);
	assert_int_equal(access(path, F_OK), 0);
	/* a first enrollment leaves no notice */
	snprintf(path, sizeof path, "%s/var/lib/sspr/notices/1004.reenroll", root);
	assert_int_not_equal(access(path, F_OK), 0);
}

/* Replacing an enrollment takes a current code too, and is announced. */
static void test_self_reenroll_needs_code(void **state)
{
	struct child c = helper_start(helper, NULL);
	struct sspr_msg r;
	char code[9], path[4400];

	(void)state;
	self_shadow();
	helper_code_at(SECRET, NOW, code);
	assert_int_equal(self_start(&c, "alice", "enroll"), SSPR_ST_OK);
	sspr_msg_init(&r, 0, 0);
	{
		struct sspr_msg m;

		sspr_msg_init(&m, SSPR_MSG_PASSWORD, 0);
		assert_int_equal(sspr_msg_add(&m, "Current-Pass-1"), 0);
		assert_int_equal(sspr_msg_send(c.fd, &m), 0);
		assert_int_equal(sspr_msg_recv(c.fd, &r, 20000), 0);
		assert_int_equal(r.arg, SSPR_ST_OK);
		assert_string_equal(r.field[0].data, "code");
	}
	/* SELF_DO before the code: out of order, the session ends */
	{
		struct child c2 = helper_start(helper, NULL);

		assert_int_equal(self_start(&c2, "alice", "enroll"), SSPR_ST_OK);
		assert_int_equal(helper_call(&c2, SSPR_MSG_PASSWORD, "Current-Pass-1", NULL), SSPR_ST_OK);
		assert_int_equal(self_do_enroll(&c2, &r), SSPR_ST_FAIL);
		helper_finish(&c2);
	}
	assert_int_equal(helper_call(&c, SSPR_MSG_VERIFY, "000000", NULL), SSPR_ST_INVALID);
	assert_int_equal(helper_call(&c, SSPR_MSG_VERIFY, code, NULL), SSPR_ST_OK);
	assert_int_equal(self_do_enroll(&c, &r), SSPR_ST_OK);
	helper_finish(&c);
	snprintf(path, sizeof path, "%s/var/lib/sspr/notices/1001.reenroll", root);
	assert_int_equal(access(path, F_OK), 0);
}

static void test_self_service_off(void **state)
{
	struct child c;

	(void)state;
	self_shadow();
	spit(conf_path, "services = sshd\nuse_pwquality = no\nself_enroll = no\n");
	c = helper_start(helper, NULL);
	assert_int_equal(self_start(&c, "dave", "enroll"), SSPR_ST_FAIL);
	helper_finish(&c);
}

static void test_self_status(void **state)
{
	struct child c = helper_start(helper, NULL);
	struct sspr_msg m, r;

	(void)state;
	self_shadow();
	assert_int_equal(self_start(&c, "alice", "status"), SSPR_ST_OK);
	assert_int_equal(helper_call(&c, SSPR_MSG_PASSWORD, "Current-Pass-1", NULL), SSPR_ST_OK);
	sspr_msg_init(&m, SSPR_MSG_SELF_DO, 0);
	assert_int_equal(sspr_msg_send(c.fd, &m), 0);
	assert_int_equal(sspr_msg_recv(c.fd, &r, 20000), 0);
	assert_int_equal(r.arg, SSPR_ST_OK);
	assert_non_null(strstr(r.field[0].data, "enrolled=yes type=totp algorithm=sha1 digits=6"));
	helper_finish(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_before_verify_ends_session, setup),
		cmocka_unit_test_setup(test_verify_before_hello_ends_session, setup),
		cmocka_unit_test_setup(test_second_hello_ends_session, setup),
		cmocka_unit_test_setup(test_bad_field_count_refused, setup),
		cmocka_unit_test_setup(test_verify_with_extra_field_refused, setup),
		cmocka_unit_test_setup(test_full_session_resets, setup),
		cmocka_unit_test_setup(test_reset_tries_are_bounded, setup),
		cmocka_unit_test_setup(test_remote_request_needs_recovery_code, setup),
		cmocka_unit_test_setup(test_session_timeout_enforced_by_helper, setup),
		cmocka_unit_test_setup(test_refuses_extra_arguments, setup),
		cmocka_unit_test_setup(test_refuses_argc_zero, setup),
		cmocka_unit_test_setup(test_refuses_terminal_on_stdin, setup),
		cmocka_unit_test_setup(test_config_error_fails_closed, setup),
		cmocka_unit_test_setup(test_self_enroll_new_user, setup),
		cmocka_unit_test_setup(test_self_reenroll_needs_code, setup),
		cmocka_unit_test_setup(test_self_service_off, setup),
		cmocka_unit_test_setup(test_self_status, setup),
		cmocka_unit_test_setup(test_parallel_brute_force_is_bounded, setup),
		cmocka_unit_test_setup(test_concurrent_replay_accepts_once, setup),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
