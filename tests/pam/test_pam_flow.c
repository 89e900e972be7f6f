/* SPDX-License-Identifier: BSD-2-Clause */
/* The forgot-password flow through the real module and the real helper
 * (not setuid), driven by libpamtest under pam_wrapper and nss_wrapper in
 * a sandbox root made by run-pam-test.sh.  After each case the sandbox
 * shadow is checked line by line. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpamtest.h>
#include <security/pam_appl.h>

#include "sspr-build.h"
#include "sspr/common.h"
#include "sspr/config.h"
#include "sspr/hostkey.h"
#include "sspr/recovery.h"
#include "sspr/otp.h"
#include "sspr/passwd.h"
#include "sspr/paths.h"
#include "sspr/record.h"

#define NOW 1764400000LL /* 2025-11-29T07:06:40Z: the fixed test clock */
#define TODAY (NOW / 86400)
#define OFFER "Forgot your password? Enter a verification code to reset it, or press Enter to skip: "
#define MSG_RATE "Password reset is temporarily unavailable. Try again later."
#define NEWPW "correct horse battery staple 42"
#define ALICE_OLD "Alice-Old-Password-1"
#define SECRET "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

static char root[4096], shadow_path[4200], conf_path[4200], hostkey_path[4200];
static char *shadow_before;
static const char *pw_prompt; /* the password module's prompt, learnt */

/* --- the sandbox ------------------------------------------------------ */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static void spit(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void write_conf(const char *extra)
{
	char buf[4096];

	snprintf(buf, sizeof buf,
	         "# test policy\nservices = login sshd\nuse_pwquality = no\nhash = sha512\n%s",
	         extra ? extra : "");
	spit(conf_path, buf, 0644);
}

static void enroll(const char *user, uid_t uid)
{
	struct sspr_record *r = sspr_record_new();
	int fd = -1, lock = -1;
	struct sspr_paths p;

	assert_non_null(r);
	assert_int_equal(sspr_paths_init(&p, root), 0);
	snprintf(r->user, sizeof r->user, "%s", user);
	r->uid = uid;
	sspr_otp_params_default(&r->otp);
	assert_int_equal(sspr_base32_decode(SECRET, r->secret, SSPR_SECRET_MAX, &r->secret_len), 0);
	r->created = NOW - 86400;
	assert_int_equal(sspr_state_open_users(p.statedir, 1, &fd), 0);
	assert_int_equal(sspr_record_lock(fd, 5000, &lock), 0);
	assert_int_equal(sspr_record_store(fd, r), 0);
	close(lock);
	close(fd);
	sspr_record_free(r);
}

static void code_at(long long t, char out[9])
{
	struct sspr_otp_params p;
	uint8_t secret[64];
	size_t len;

	sspr_otp_params_default(&p);
	assert_int_equal(sspr_base32_decode(SECRET, secret, sizeof secret, &len), 0);
	assert_int_equal(sspr_otp_generate(&p, secret, len, sspr_otp_step(&p, (time_t)t), out), 0);
}

static int setup(void **state)
{
	char hash[512], shadow[4096], users[4200];
	const char *r = getenv("SSPR_ROOT"), *c = getenv("SSPR_TEST_CONF");

	(void)state;
	assert_non_null(r);
	assert_non_null(c);
	snprintf(root, sizeof root, "%s", r);
	snprintf(conf_path, sizeof conf_path, "%s", c);
	snprintf(shadow_path, sizeof shadow_path, "%s/etc/shadow", root);
	snprintf(hostkey_path, sizeof hostkey_path, "%s/var/lib/sspr/hostkey", root);
	assert_int_equal(sspr_passwd_hash(SSPR_HASH_SHA512, NULL, ALICE_OLD, hash, sizeof hash), 0);
	snprintf(shadow, sizeof shadow,
	         "root:!:19000:0:99999:7:::\n"
	         "# a comment the rewrite must keep\n"
	         "alice:%s:19000:0:99999:7:::\n"
	         "bob:%s:19000:0:99999:7:::\n"
	         "\n"
	         "carol:!%s:19000:0:99999:7:::\n"
	         "dave:%s:19000:0:99999:7:::\n"
	         "+@netgroup::::::::\n",
	         hash, hash, hash, hash);
	spit(shadow_path, shadow, 0640);
	free(shadow_before);
	shadow_before = slurp(shadow_path);
	write_conf(NULL);
	snprintf(users, sizeof users, "%s/var/lib/sspr/users", root);
	for (const char *u = "1001\0" "1002\0" "1003\0"; *u; u += strlen(u) + 1) {
		char f[4300];

		snprintf(f, sizeof f, "%s/%s", users, u);
		unlink(f);
	}
	enroll("alice", 1001);
	enroll("bob", 1002);
	enroll("carol", 1003);
	unlink(hostkey_path);
	{
		/* fresh rate-limit state for every case */
		char cmd[4400];

		snprintf(cmd, sizeof cmd, "rm -rf %.2000s/var/lib/sspr/tally %.2000s/var/lib/sspr/notices", root, root);
		assert_int_equal(system(cmd), 0);
	}
	setenv("SSPR_NOW", "1764400000", 1);
	return 0;
}

/* --- the conversation -------------------------------------------------- */

struct script {
	const char *answers[16];
	size_t next;
	bool fail_echo_on;
	char log[32][640];
	size_t nlog;
};

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct script *s = data;
	struct pam_response *r = calloc((size_t)n, sizeof *r);

	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		const char *tag = msg[i]->msg_style == PAM_PROMPT_ECHO_ON ? "E"
		                : msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ? "P"
		                : msg[i]->msg_style == PAM_ERROR_MSG ? "X" : "I";

		if (s->nlog < 32)
			snprintf(s->log[s->nlog++], sizeof s->log[0], "%s:%s", tag, msg[i]->msg);
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_ON && msg[i]->msg_style != PAM_PROMPT_ECHO_OFF)
			continue;
		if ((s->fail_echo_on && msg[i]->msg_style == PAM_PROMPT_ECHO_ON) ||
		    s->next >= 16 || !s->answers[s->next]) {
			for (int j = 0; j < i; j++)
				free(r[j].resp);
			free(r);
			return PAM_CONV_ERR;
		}
		r[i].resp = strdup(s->answers[s->next++]);
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* Run pam_authenticate for user on service; return its result and, when
 * authtok is given, PAM_AUTHTOK as the stack left it (pam_get_items). */
static int run(const char *service, const char *user, struct script *s, char *authtok, size_t len)
{
	struct pam_testcase tests[] = {
		pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
		pam_test(PAMTEST_GETENVLIST, PAM_SUCCESS),
	};
	enum pamtest_err e;

	e = _pamtest_conv(service, user, conv, s, tests, 2, NULL);
	if (authtok) {
		authtok[0] = '\0';
		for (char **v = tests[1].case_out.envlist; v && *v; v++)
			if (strncmp(*v, "PAM_AUTHTOK=", 12) == 0)
				snprintf(authtok, len, "%s", *v + 12);
	}
	if (tests[1].case_out.envlist)
		pamtest_free_env(tests[1].case_out.envlist);
	assert_true(e == PAMTEST_ERR_OK || e == PAMTEST_ERR_CASE);
	return tests[0].op_rv;
}

static void expect_log(const struct script *s, ...)
{
	va_list ap;
	size_t i = 0;
	const char *want;

	va_start(ap, s);
	while ((want = va_arg(ap, const char *))) {
		if (i >= s->nlog)
			fail_msg("transcript ended before \"%s\"", want);
		if (strcmp(want, "PW") == 0)
			assert_true(s->log[i][0] == 'P'); /* the password module's prompt */
		else if (strcmp(s->log[i], want) != 0)
			fail_msg("transcript line %zu: got \"%s\", want \"%s\"", i, s->log[i], want);
		i++;
	}
	va_end(ap);
	if (i != s->nlog)
		fail_msg("transcript has %zu extra lines, first \"%s\"", s->nlog - i, s->log[i]);
}

/* --- the shadow checks -------------------------------------------------- */

static void expect_shadow_unchanged(void)
{
	char *now = slurp(shadow_path);
	struct stat st;

	assert_non_null(now);
	assert_string_equal(now, shadow_before);
	assert_int_equal(stat(shadow_path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	free(now);
}

/* Only user's fields 2 and 3 changed; field 2 verifies newpw. */
static void expect_shadow_reset(const char *user, const char *newpw)
{
	char *now = slurp(shadow_path), *bak, bakpath[4300];
	char *a = shadow_before, *b = now;
	size_t ulen = strlen(user);
	struct stat st;
	bool seen = false;

	assert_non_null(now);
	while (*a || *b) {
		char *ae = strchr(a, '\n'), *be = strchr(b, '\n');
		size_t al = ae ? (size_t)(ae - a) : strlen(a), bl = be ? (size_t)(be - b) : strlen(b);

		if (strncmp(a, user, ulen) == 0 && a[ulen] == ':') {
			char line[1024], *f[9], *save = NULL, *p;
			char want_tail[256], got_tail[256];
			int k = 0;

			seen = true;
			assert_true(bl < sizeof line);
			memcpy(line, b, bl);
			line[bl] = '\0';
			/* strsep keeps empty fields */
			p = line;
			while (k < 9 && (f[k] = strsep(&p, ":")))
				k++;
			(void)save;
			assert_int_equal(k, 9);
			assert_string_equal(f[0], user);
			assert_true(sspr_passwd_matches(newpw, f[1]));
			assert_int_equal(atol(f[2]), TODAY);
			/* fields 4-9 unchanged */
			snprintf(want_tail, sizeof want_tail, "%.*s", (int)al, a);
			snprintf(got_tail, sizeof got_tail, "%s:%s:%s:%s:%s:%s", f[3], f[4], f[5], f[6],
			         f[7], f[8]);
			{
				char *t = want_tail;

				for (int skip = 0; skip < 3; skip++)
					t = strchr(t, ':') + 1;
				assert_string_equal(got_tail, t);
			}
		} else {
			assert_int_equal(al, bl);
			assert_memory_equal(a, b, al);
		}
		a += al + (ae ? 1 : 0);
		b += bl + (be ? 1 : 0);
		if (!ae || !be)
			assert_true(!ae && !be);
	}
	assert_true(seen);
	assert_int_equal(stat(shadow_path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_uid, getuid());
	snprintf(bakpath, sizeof bakpath, "%s-", shadow_path);
	bak = slurp(bakpath);
	assert_non_null(bak);
	assert_string_equal(bak, shadow_before); /* shadow- is the previous version */
	free(bak);
	free(now);
}

static bool helper_ran(void)
{
	return access(hostkey_path, F_OK) == 0;
}

/* --- the cases ----------------------------------------------------------- */

static void test_primary_happy_path(void **state)
{
	struct script s = { .answers = { "wrong-password", NULL, NEWPW, NEWPW } };
	char code[9], tok[256];

	(void)state;
	code_at(NOW, code);
	s.answers[1] = code;
	assert_int_equal(run("sshd", "alice", &s, tok, sizeof tok), PAM_SUCCESS);
	expect_log(&s, "PW", "E:" OFFER, "P:New password: ", "P:Retype new password: ",
	           "I:Your password has been reset.", NULL);
	assert_string_equal(tok, NEWPW);
	expect_shadow_reset("alice", NEWPW);
}

static void test_trigger_happy_path(void **state)
{
	struct script s = { .answers = { "reset", NULL, NEWPW, NEWPW } };
	char code[9], tok[256];

	(void)state;
	code_at(NOW, code);
	s.answers[1] = code;
	assert_int_equal(run("login", "alice", &s, tok, sizeof tok), PAM_SUCCESS);
	expect_log(&s, "PW", "E:Verification code: ", "P:New password: ",
	           "P:Retype new password: ", "I:Your password has been reset.", NULL);
	assert_string_equal(tok, NEWPW);
	expect_shadow_reset("alice", NEWPW);
}

static void test_trigger_other_word_is_ignored(void **state)
{
	struct script s = { .answers = { "old-password-1", "old-password-1" } };

	(void)state;
	assert_int_equal(run("login", "alice", &s, NULL, 0), PAM_SUCCESS);
	for (size_t i = 0; i < s.nlog; i++)
		assert_null(strstr(s.log[i], "code"));
	assert_false(helper_ran());
	expect_shadow_unchanged();
}

static void test_wrong_then_right_code(void **state)
{
	struct script s = { .answers = { "wrong-password", "000000", NULL, NEWPW, NEWPW } };
	char code[9];

	(void)state;
	code_at(NOW, code);
	if (strcmp(code, "000000") == 0)
		s.answers[1] = "111111";
	s.answers[2] = code;
	assert_int_equal(run("sshd", "alice", &s, NULL, 0), PAM_SUCCESS);
	expect_log(&s, "PW", "E:" OFFER, "X:Invalid code.", "E:Verification code: ",
	           "P:New password: ", "P:Retype new password: ",
	           "I:Your password has been reset.", NULL);
	expect_shadow_reset("alice", NEWPW);
}

#define WRONG_CODES_LOG "PW", "E:" OFFER, "X:Invalid code.", "E:Verification code: ", \
	"X:Invalid code.", "E:Verification code: ", "X:Invalid code.", NULL

static void wrong_codes(const char *user)
{
	struct script s = { .answers = { "wrong-password", "000001", "000002", "000003", "000004" } };

	assert_int_equal(run("sshd", user, &s, NULL, 0), PAM_AUTH_ERR);
	expect_log(&s, WRONG_CODES_LOG);
	expect_shadow_unchanged();
}

static void test_too_many_wrong_codes(void **state)
{
	(void)state;
	wrong_codes("alice");
}

/* Ineligible, unenrolled and unknown users see exactly what a wrong code
 * shows, even when they hold the right code (conceal = yes). */
static void right_code_never_accepted(const char *user)
{
	struct script s = { .answers = { "wrong-password", NULL, NULL, NULL } };
	char code[9];

	code_at(NOW, code);
	s.answers[1] = s.answers[2] = s.answers[3] = code;
	assert_int_equal(run("sshd", user, &s, NULL, 0), PAM_AUTH_ERR);
	expect_log(&s, WRONG_CODES_LOG);
	assert_true(helper_ran());
	expect_shadow_unchanged();
}

static void test_locked_account_never_reset(void **state)
{
	(void)state;
	right_code_never_accepted("carol");
}

static void test_denied_group_never_reset(void **state)
{
	(void)state;
	right_code_never_accepted("bob");
}

static void test_unenrolled_user_same_prompts(void **state)
{
	(void)state;
	right_code_never_accepted("dave");
}

static void test_unknown_user_same_prompts(void **state)
{
	(void)state;
	right_code_never_accepted("ghost");
}

static void test_answer_equal_to_password(void **state)
{
	struct script s = { .answers = { "wrong-password", "wrong-password", NULL, NEWPW, NEWPW } };
	char code[9];

	(void)state;
	code_at(NOW, code);
	s.answers[2] = code;
	assert_int_equal(run("sshd", "alice", &s, NULL, 0), PAM_SUCCESS);
	expect_log(&s, "PW", "E:" OFFER, "X:Invalid code.", "E:Verification code: ",
	           "P:New password: ", "P:Retype new password: ",
	           "I:Your password has been reset.", NULL);
	expect_shadow_reset("alice", NEWPW);
}

static void test_password_as_every_code_uses_up_tries(void **state)
{
	struct script s = { .answers = { "wrong-password", "wrong-password", "wrong-password",
	                                 "wrong-password", "wrong-password" } };

	(void)state;
	assert_int_equal(run("sshd", "alice", &s, NULL, 0), PAM_AUTH_ERR);
	expect_log(&s, WRONG_CODES_LOG);
	expect_shadow_unchanged();
}

static void test_mismatched_new_passwords(void **state)
{
	struct script s = { .answers = { "wrong-password", NULL, NEWPW, NEWPW "x", NEWPW, NEWPW } };
	char code[9];

	(void)state;
	code_at(NOW, code);
	s.answers[1] = code;
	assert_int_equal(run("sshd", "alice", &s, NULL, 0), PAM_SUCCESS);
	expect_log(&s, "PW", "E:" OFFER, "P:New password: ", "P:Retype new password: ",
	           "X:Sorry, passwords do not match.", "P:New password: ",
	           "P:Retype new password: ", "I:Your password has been reset.", NULL);
	expect_shadow_reset("alice", NEWPW);
}

static void test_new_password_rules(void **state)
{
	struct script s = { .answers = { "wrong-password", NULL, "short", "short", ALICE_OLD,
	                                 ALICE_OLD, "x", "y" } };
	char code[9];

	(void)state;
	code_at(NOW, code);
	s.answers[1] = code;
	assert_int_equal(run("sshd", "alice", &s, NULL, 0), PAM_AUTH_ERR);
	expect_log(&s, "PW", "E:" OFFER, "P:New password: ", "P:Retype new password: ",
	           "X:BAD PASSWORD: it is shorter than 12 characters", "P:New password: ",
	           "P:Retype new password: ", "X:BAD PASSWORD: it is the same as the old one",
	           "P:New password: ", "P:Retype new password: ",
	           "X:Sorry, passwords do not match.", "X:Password unchanged.", NULL);
	expect_shadow_unchanged();
}

static void test_skipped_offer_starts_no_helper(void **state)
{
	struct script s = { .answers = { "wrong-password", "" } };

	(void)state;
	assert_int_equal(run("sshd", "alice", &s, NULL, 0), PAM_AUTH_ERR);
	expect_log(&s, "PW", "E:" OFFER, NULL);
	assert_false(helper_ran());
	expect_shadow_unchanged();
}

static void test_empty_code_ends_branch(void **state)
{
	struct script s = { .answers = { "wrong-password", "000001", "" } };

	(void)state;
	assert_int_equal(run("sshd", "alice", &s, NULL, 0), PAM_AUTH_ERR);
	expect_log(&s, "PW", "E:" OFFER, "X:Invalid code.", "E:Verification code: ", NULL);
	expect_shadow_unchanged();
}

/* sshd's password authentication fails every ECHO_ON prompt. */
static void test_conversation_without_echo_on(void **state)
{
	struct script s = { .answers = { "wrong-password" }, .fail_echo_on = true };

	(void)state;
	assert_int_equal(run("sshd", "alice", &s, NULL, 0), PAM_AUTH_ERR);
	expect_log(&s, "PW", "E:" OFFER, NULL);
	assert_false(helper_ran());
	expect_shadow_unchanged();
}

static void test_service_not_listed(void **state)
{
	struct script s = { .answers = { "wrong-password" } };

	(void)state;
	assert_int_equal(run("sudo", "alice", &s, NULL, 0), PAM_AUTH_ERR);
	expect_log(&s, "PW", NULL);
	assert_false(helper_ran());
	expect_shadow_unchanged();
}

static void test_config_error_disables_branch(void **state)
{
	struct script s = { .answers = { "wrong-password" } };

	(void)state;
	write_conf("max_code_tries = lots\n");
	assert_int_equal(run("sshd", "alice", &s, NULL, 0), PAM_AUTH_ERR);
	expect_log(&s, "PW", NULL);
	assert_false(helper_ran());
	expect_shadow_unchanged();
}

static void test_on_success_relogin(void **state)
{
	struct script s = { .answers = { "wrong-password", NULL, NEWPW, NEWPW } };
	char code[9];

	(void)state;
	write_conf("on_success = relogin\n");
	code_at(NOW, code);
	s.answers[1] = code;
	assert_int_equal(run("sshd", "alice", &s, NULL, 0), PAM_AUTH_ERR);
	expect_log(&s, "PW", "E:" OFFER, "P:New password: ", "P:Retype new password: ",
	           "I:Your password has been reset.", NULL);
	expect_shadow_reset("alice", NEWPW);
}

static void test_code_never_accepted_twice(void **state)
{
	struct script s1 = { .answers = { "wrong-password", NULL, NEWPW, NEWPW } };
	struct script s2 = { .answers = { "wrong-password", NULL, "" } };
	char code[9];

	(void)state;
	code_at(NOW, code);
	s1.answers[1] = s2.answers[1] = code;
	assert_int_equal(run("sshd", "alice", &s1, NULL, 0), PAM_SUCCESS);
	free(shadow_before);
	shadow_before = slurp(shadow_path);
	/* the same step, a few seconds later */
	setenv("SSPR_NOW", "1764400005", 1);
	assert_int_equal(run("sshd", "alice", &s2, NULL, 0), PAM_AUTH_ERR);
	expect_log(&s2, "PW", "E:" OFFER, "X:Invalid code.", "E:Verification code: ", NULL);
	expect_shadow_unchanged();
}

static void test_max_code_tries_from_config(void **state)
{
	struct script s = { .answers = { "wrong-password", "000001", "000002" } };

	(void)state;
	write_conf("max_code_tries = 1\n");
	assert_int_equal(run("sshd", "alice", &s, NULL, 0), PAM_AUTH_ERR);
	expect_log(&s, "PW", "E:" OFFER, "X:Invalid code.", NULL);
	expect_shadow_unchanged();
}

/* Issue n recovery codes for alice with the sandbox host key. */
static void issue_codes(unsigned n, char (*shown)[12])
{
	struct sspr_rc_set *set = calloc(1, sizeof *set);
	unsigned char key[SSPR_HOSTKEY_LEN];
	struct sspr_paths p;
	int fd, lock;

	assert_non_null(set);
	assert_int_equal(sspr_paths_init(&p, root), 0);
	assert_int_equal(sspr_hostkey_load(p.statedir, 1, key), 0);
	snprintf(set->user, sizeof set->user, "alice");
	set->uid = 1001;
	set->created = NOW;
	assert_int_equal(sspr_rc_generate(key, n, set, shown), 0);
	assert_int_equal(sspr_state_open_users(p.statedir, 1, &fd), 0);
	assert_int_equal(sspr_record_lock(fd, 5000, &lock), 0);
	assert_int_equal(sspr_rc_store(fd, set), 0);
	close(lock);
	close(fd);
	free(set);
}

static void test_recovery_code_at_code_prompt(void **state)
{
	struct script s = { .answers = { "wrong-password", NULL, NEWPW, NEWPW } };
	struct script s2 = { .answers = { "wrong-password", NULL, "" } };
	char codes[3][12];

	(void)state;
	issue_codes(3, codes);
	s.answers[1] = codes[1];
	assert_int_equal(run("sshd", "alice", &s, NULL, 0), PAM_SUCCESS);
	expect_log(&s, "PW", "E:" OFFER, "P:New password: ", "P:Retype new password: ",
	           "I:Your password has been reset.", NULL);
	expect_shadow_reset("alice", NEWPW);
	/* each code once */
	free(shadow_before);
	shadow_before = slurp(shadow_path);
	s2.answers[1] = codes[1];
	assert_int_equal(run("sshd", "alice", &s2, NULL, 0), PAM_AUTH_ERR);
	expect_log(&s2, "PW", "E:" OFFER, "X:Invalid code.", "E:Verification code: ", NULL);
	expect_shadow_unchanged();
}

static void test_required_recovery_code(void **state)
{
	struct script s = { .answers = { "wrong-password", NULL, "ABCDE-FGHIJ", NULL, NEWPW,
	                                 NEWPW } };
	char codes[2][12], code[9];

	(void)state;
	write_conf("require_recovery_code = always\n");
	issue_codes(2, codes);
	code_at(NOW, code);
	s.answers[1] = code;
	s.answers[3] = codes[0];
	assert_int_equal(run("sshd", "alice", &s, NULL, 0), PAM_SUCCESS);
	expect_log(&s, "PW", "E:" OFFER, "E:Recovery code: ", "X:Invalid code.",
	           "E:Recovery code: ", "P:New password: ", "P:Retype new password: ",
	           "I:Your password has been reset.", NULL);
	expect_shadow_reset("alice", NEWPW);
}

/* When policy asks for both, a recovery code at the OTP prompt is a wrong
 * code: it cannot stand in for the authenticator. */
static void test_required_recovery_code_is_not_an_otp(void **state)
{
	struct script s = { .answers = { "wrong-password", NULL, "" } };
	char codes[2][12];

	(void)state;
	write_conf("require_recovery_code = always\n");
	issue_codes(2, codes);
	s.answers[1] = codes[0];
	assert_int_equal(run("sshd", "alice", &s, NULL, 0), PAM_AUTH_ERR);
	expect_log(&s, "PW", "E:" OFFER, "X:Invalid code.", "E:Verification code: ", NULL);
	expect_shadow_unchanged();
}

/* conceal = no: the helper is asked first; who cannot reset sees nothing. */
static void test_conceal_no_silent_for_ineligible(void **state)
{
	static const char *const users[] = { "dave", "ghost", "carol", "bob" };

	(void)state;
	write_conf("conceal = no\n");
	for (size_t i = 0; i < SSPR_ELEMENTSOF(users); i++) {
		struct script s = { .answers = { "wrong-password" } };

		assert_int_equal(run("sshd", users[i], &s, NULL, 0), PAM_AUTH_ERR);
		expect_log(&s, "PW", NULL);
	}
	expect_shadow_unchanged();
}

static void test_conceal_no_offers_to_eligible(void **state)
{
	struct script s = { .answers = { "wrong-password", NULL, NEWPW, NEWPW } };
	char code[9];

	(void)state;
	write_conf("conceal = no\n");
	code_at(NOW, code);
	s.answers[1] = code;
	assert_int_equal(run("sshd", "alice", &s, NULL, 0), PAM_SUCCESS);
	expect_log(&s, "PW", "E:" OFFER, "P:New password: ", "P:Retype new password: ",
	           "I:Your password has been reset.", NULL);
	expect_shadow_reset("alice", NEWPW);
}

/* deny = 3: the attempt that reaches the limit gets "Invalid code." and
 * the notice; then even the right code is refused, for any name alike. */
static void lockout(const char *user)
{
	struct script s1 = { .answers = { "wrong-password", "000001", "000002", "000003" } };
	struct script s2 = { .answers = { "wrong-password", NULL } };
	char code[9];

	assert_int_equal(run("sshd", user, &s1, NULL, 0), PAM_AUTH_ERR);
	expect_log(&s1, "PW", "E:" OFFER, "X:Invalid code.", "E:Verification code: ",
	           "X:Invalid code.", "E:Verification code: ", "X:Invalid code.", "X:" MSG_RATE, NULL);
	code_at(NOW, code);
	s2.answers[1] = code;
	assert_int_equal(run("sshd", user, &s2, NULL, 0), PAM_AUTH_ERR);
	expect_log(&s2, "PW", "E:" OFFER, "X:" MSG_RATE, NULL);
	expect_shadow_unchanged();
}

static void test_lockout_refuses_right_code(void **state)
{
	(void)state;
	write_conf("deny = 3\n");
	lockout("alice");
}

static void test_lockout_looks_the_same_for_unknown_name(void **state)
{
	(void)state;
	write_conf("deny = 3\n");
	lockout("ghost");
}

static void test_lockout_expires(void **state)
{
	struct script s = { .answers = { "wrong-password", NULL, NEWPW, NEWPW } };
	char code[9];

	(void)state;
	write_conf("deny = 3\nunlock_time = 600\nmax_unlock_time = 600\n");
	lockout("alice");
	setenv("SSPR_NOW", "1764400601", 1);
	code_at(1764400601, code);
	s.answers[1] = code;
	assert_int_equal(run("sshd", "alice", &s, NULL, 0), PAM_SUCCESS);
	expect_shadow_reset("alice", NEWPW);
}

static void test_global_rate(void **state)
{
	(void)state;
	write_conf("global_rate = 2\n");
	for (int i = 0; i < 3; i++) {
		struct script s = { .answers = { "wrong-password", "000001", "" } };

		assert_int_equal(run("sshd", "dave", &s, NULL, 0), PAM_AUTH_ERR);
		if (i < 2)
			expect_log(&s, "PW", "E:" OFFER, "X:Invalid code.", "E:Verification code: ", NULL);
		else
			expect_log(&s, "PW", "E:" OFFER, "X:" MSG_RATE, NULL);
	}
	expect_shadow_unchanged();
}

/* reset_faillock: a user locked out by pam_faillock after wrong passwords
 * can log in again once the password was reset (the stack's password
 * module here, pam_matrix, keeps its own password: the old one). */
static void faillock_case(bool reset_faillock, int want_after)
{
	struct script s = { .answers = { "wrong-password", NULL, NEWPW, NEWPW } };
	char code[9], conf[256];

	snprintf(conf, sizeof conf,
	         "services = gdm-password\nuse_pwquality = no\nhash = sha512\nreset_faillock = %s\n",
	         reset_faillock ? "yes" : "no");
	spit(conf_path, conf, 0644);
	{
		char cmd[4400];

		snprintf(cmd, sizeof cmd, "rm -f '%s/faillock/alice'", root);
		assert_int_equal(system(cmd), 0);
	}
	for (int i = 0; i < 3; i++) {
		struct script w = { .answers = { "wrong-password", "" } };

		assert_int_not_equal(run("gdm-password", "alice", &w, NULL, 0), PAM_SUCCESS);
	}
	{
		struct script ok = { .answers = { "old-password-1" } };

		/* locked out: even the right password fails now */
		assert_int_not_equal(run("gdm-password", "alice", &ok, NULL, 0), PAM_SUCCESS);
	}
	code_at(NOW, code);
	s.answers[1] = code;
	(void)run("gdm-password", "alice", &s, NULL, 0);
	expect_shadow_reset("alice", NEWPW);
	{
		struct script ok = { .answers = { "old-password-1" } };

		int r = run("gdm-password", "alice", &ok, NULL, 0);

		if (want_after == PAM_SUCCESS)
			assert_int_equal(r, PAM_SUCCESS);
		else
			assert_int_not_equal(r, PAM_SUCCESS);
	}
}

static void test_reset_clears_faillock(void **state)
{
	(void)state;
	faillock_case(true, PAM_SUCCESS);
}

static void test_reset_faillock_no_keeps_tally(void **state)
{
	(void)state;
	faillock_case(false, PAM_AUTH_ERR);
}

/* pam_authenticate then pam_open_session in one transaction. */
static void run_auth_session(const char *service, const char *user, struct script *s,
                             int *ret_auth, int *ret_sess)
{
	struct pam_testcase tests[] = {
		pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
		pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
	};

	(void)_pamtest_conv(service, user, conv, s, tests, 2, NULL);
	*ret_auth = tests[0].op_rv;
	*ret_sess = tests[1].op_rv;
}

static int run_session(const char *service, const char *user, struct script *s)
{
	struct pam_testcase tests[] = { pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS) };

	(void)_pamtest_conv(service, user, conv, s, tests, 1, NULL);
	return tests[0].op_rv;
}

/* After a reset the next session (not the resetting one) shows the
 * notice once, in the SPEC's words; and nothing otherwise. */
static void test_next_login_notice_once(void **state)
{
	struct script s = { .answers = { "wrong-password", NULL, NEWPW, NEWPW } };
	struct script s2 = { 0 }, s3 = { 0 }, s0 = { 0 };
	char code[9];
	int a, ses;

	(void)state;
	spit(conf_path, "services = lightdm sshd\nuse_pwquality = no\nhash = sha512\n", 0644);
	/* no reset yet: no notice */
	(void)run_session("lightdm", "alice", &s0);
	assert_int_equal(s0.nlog, 0);
	setenv("PAM_RHOST", "192.0.2.7", 1);
	setenv("PAM_TTY", "ssh", 1);
	code_at(NOW, code);
	s.answers[1] = code;
	run_auth_session("lightdm", "alice", &s, &a, &ses);
	unsetenv("PAM_RHOST");
	unsetenv("PAM_TTY");
	assert_int_equal(a, PAM_SUCCESS);
	/* the resetting transaction's own session: nothing */
	expect_log(&s, "PW", "E:" OFFER, "P:New password: ", "P:Retype new password: ",
	           "I:Your password has been reset.", NULL);
	/* the next login: the notice, once */
	assert_int_equal(run_session("sshd", "alice", &s2), PAM_SUCCESS);
	expect_log(&s2, "I:Your password was reset on 2025-11-29 07:06 UTC from 192.0.2.7 (lightdm).",
	           NULL);
	(void)run_session("sshd", "alice", &s3);
	assert_int_equal(s3.nlog, 0);
}

/* libpwquality decides too (use_pwquality = yes), with the user's name for
 * its user checks; its message is shown as BAD PASSWORD: <reason>. */
static void test_pwquality_refusal(void **state)
{
	int rc;
	struct script s = { .answers = { "wrong-password", NULL, "alice-alice-alice",
	                                 "alice-alice-alice", NEWPW, NEWPW } };
	char code[9];

	(void)state;
#if !HAVE_PWQUALITY
	skip();
#endif
	spit(conf_path, "services = sshd\nuse_pwquality = yes\nhash = sha512\n", 0644);
	code_at(NOW, code);
	s.answers[1] = code;
	rc = run("sshd", "alice", &s, NULL, 0);
	expect_log(&s, "PW", "E:" OFFER, "P:New password: ", "P:Retype new password: ",
	           "X:BAD PASSWORD: The password contains the user name in some form",
	           "P:New password: ", "P:Retype new password: ",
	           "I:Your password has been reset.", NULL);
	assert_int_equal(rc, PAM_SUCCESS);
	expect_shadow_reset("alice", NEWPW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_primary_happy_path, setup),
		cmocka_unit_test_setup(test_trigger_happy_path, setup),
		cmocka_unit_test_setup(test_trigger_other_word_is_ignored, setup),
		cmocka_unit_test_setup(test_wrong_then_right_code, setup),
		cmocka_unit_test_setup(test_too_many_wrong_codes, setup),
		cmocka_unit_test_setup(test_locked_account_never_reset, setup),
		cmocka_unit_test_setup(test_denied_group_never_reset, setup),
		cmocka_unit_test_setup(test_unenrolled_user_same_prompts, setup),
		cmocka_unit_test_setup(test_unknown_user_same_prompts, setup),
		cmocka_unit_test_setup(test_answer_equal_to_password, setup),
		cmocka_unit_test_setup(test_password_as_every_code_uses_up_tries, setup),
		cmocka_unit_test_setup(test_mismatched_new_passwords, setup),
		cmocka_unit_test_setup(test_new_password_rules, setup),
		cmocka_unit_test_setup(test_skipped_offer_starts_no_helper, setup),
		cmocka_unit_test_setup(test_empty_code_ends_branch, setup),
		cmocka_unit_test_setup(test_conversation_without_echo_on, setup),
		cmocka_unit_test_setup(test_service_not_listed, setup),
		cmocka_unit_test_setup(test_config_error_disables_branch, setup),
		cmocka_unit_test_setup(test_on_success_relogin, setup),
		cmocka_unit_test_setup(test_code_never_accepted_twice, setup),
		cmocka_unit_test_setup(test_max_code_tries_from_config, setup),
		cmocka_unit_test_setup(test_recovery_code_at_code_prompt, setup),
		cmocka_unit_test_setup(test_required_recovery_code, setup),
		cmocka_unit_test_setup(test_required_recovery_code_is_not_an_otp, setup),
		cmocka_unit_test_setup(test_conceal_no_silent_for_ineligible, setup),
		cmocka_unit_test_setup(test_conceal_no_offers_to_eligible, setup),
		cmocka_unit_test_setup(test_lockout_refuses_right_code, setup),
		cmocka_unit_test_setup(test_lockout_looks_the_same_for_unknown_name, setup),
		cmocka_unit_test_setup(test_lockout_expires, setup),
		cmocka_unit_test_setup(test_global_rate, setup),
		cmocka_unit_test_setup(test_reset_clears_faillock, setup),
		cmocka_unit_test_setup(test_reset_faillock_no_keeps_tally, setup),
		cmocka_unit_test_setup(test_next_login_notice_once, setup),
		cmocka_unit_test_setup(test_pwquality_refusal, setup),
	};

	(void)pw_prompt;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
