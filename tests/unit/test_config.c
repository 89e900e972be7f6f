/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of lib/config.c: the one sspr.conf parser. */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include <cmocka.h>

#include "sspr/common.h"
#include "sspr/config.h"

/* ---- helpers ---- */

#define DIAG_MAX 64

struct diag {
	unsigned n;
	char *msg[DIAG_MAX];
};

static void diag_fn(void *userdata, const char *msg)
{
	struct diag *d = userdata;

	assert_non_null(msg);
	assert_null(strchr(msg, '\n'));
	if (d->n < DIAG_MAX)
		d->msg[d->n] = strdup(msg);
	d->n++;
}

static void diag_clear(struct diag *d)
{
	for (unsigned i = 0; i < d->n && i < DIAG_MAX; i++)
		free(d->msg[i]);
	memset(d, 0, sizeof *d);
}

static void diag_print(const struct diag *d)
{
	for (unsigned i = 0; i < d->n && i < DIAG_MAX; i++)
		print_message("  diag: %s\n", d->msg[i]);
}

/* Parse text over defaults; returns the parser's result. */
static int parse(struct sspr_config *c, const char *text, struct diag *d)
{
	assert_int_equal(sspr_config_defaults(c), 0);
	return sspr_config_parse(c, text, strlen(text), "t.conf", d ? diag_fn : NULL, d);
}

static bool list_is(const struct sspr_strlist *l, const char *const *v, size_t n)
{
	if (l->n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!l->v[i] || strcmp(l->v[i], v[i]) != 0)
			return false;
	return true;
}

static bool list_eq(const struct sspr_strlist *a, const struct sspr_strlist *b)
{
	return list_is(a, (const char *const *)b->v, b->n);
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void assert_config_equal(const struct sspr_config *a, const struct sspr_config *b)
{
	assert_true(list_eq(&a->services, &b->services));
	assert_true(list_eq(&a->allow_groups, &b->allow_groups));
	assert_true(list_eq(&a->deny_groups, &b->deny_groups));
	assert_true(list_eq(&a->deny_users, &b->deny_users));
	assert_true(list_eq(&a->deny_shells, &b->deny_shells));
	assert_int_equal(a->min_uid, b->min_uid);
	assert_int_equal(a->max_uid, b->max_uid);
	assert_int_equal(a->allow_remote, b->allow_remote);
	assert_int_equal(a->conceal, b->conceal);
	assert_int_equal(a->self_enroll, b->self_enroll);
	assert_int_equal(a->window, b->window);
	assert_int_equal(a->hotp_lookahead, b->hotp_lookahead);
	assert_int_equal(a->max_code_tries, b->max_code_tries);
	assert_int_equal(a->session_timeout, b->session_timeout);
	assert_int_equal(a->require_recovery_code, b->require_recovery_code);
	assert_int_equal(a->deny, b->deny);
	assert_int_equal(a->fail_interval, b->fail_interval);
	assert_int_equal(a->unlock_time, b->unlock_time);
	assert_int_equal(a->max_unlock_time, b->max_unlock_time);
	assert_int_equal(a->hard_deny, b->hard_deny);
	assert_int_equal(a->rhost_deny, b->rhost_deny);
	assert_int_equal(a->global_rate, b->global_rate);
	assert_int_equal(a->caller_rate, b->caller_rate);
	assert_int_equal(a->max_tallies, b->max_tallies);
	assert_int_equal(a->min_length, b->min_length);
	assert_int_equal(a->use_pwquality, b->use_pwquality);
	assert_int_equal(a->reject_reuse, b->reject_reuse);
	assert_int_equal(a->hash, b->hash);
	assert_int_equal(a->on_success, b->on_success);
	assert_int_equal(a->reset_faillock, b->reset_faillock);
	assert_int_equal(a->recovery_codes, b->recovery_codes);
	assert_true(str_eq(a->notify_command, b->notify_command));
	assert_true(str_eq(a->notify_user, b->notify_user));
	assert_int_equal(a->notify_timeout, b->notify_timeout);
	assert_int_equal(a->syslog_facility, b->syslog_facility);
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
	static const char *const services[] = { "login", "sshd", "gdm-password",
	                                        "lightdm", "sddm" };
	static const char *const deny_groups[] = { "root", "sudo", "wheel", "adm", "admin",
		"staff", "shadow", "disk", "docker", "lxd", "libvirt" };
	static const char *const deny_users[] = { "root" };
	static const char *const deny_shells[] = { "/usr/sbin/nologin", "/sbin/nologin",
	                                           "/bin/false", "/usr/bin/false" };
	struct sspr_config c;

	(void)state;
	assert_int_equal(sspr_config_defaults(&c), 0);
	assert_true(list_is(&c.services, services, SSPR_ELEMENTSOF(services)));
	assert_int_equal(c.allow_groups.n, 0);
	assert_true(list_is(&c.deny_groups, deny_groups, SSPR_ELEMENTSOF(deny_groups)));
	assert_true(list_is(&c.deny_users, deny_users, SSPR_ELEMENTSOF(deny_users)));
	assert_int_equal(c.min_uid, 1000);
	assert_int_equal(c.max_uid, 60000);
	assert_true(list_is(&c.deny_shells, deny_shells, SSPR_ELEMENTSOF(deny_shells)));
	assert_true(c.allow_remote);
	assert_true(c.conceal);
	assert_true(c.self_enroll);
	assert_int_equal(c.window, 1);
	assert_int_equal(c.hotp_lookahead, 10);
	assert_int_equal(c.max_code_tries, 3);
	assert_int_equal(c.session_timeout, 300);
	assert_int_equal(c.require_recovery_code, SSPR_RRC_NO);
	assert_int_equal(c.deny, 5);
	assert_int_equal(c.fail_interval, 900);
	assert_int_equal(c.unlock_time, 900);
	assert_int_equal(c.max_unlock_time, 86400);
	assert_int_equal(c.hard_deny, 20);
	assert_int_equal(c.rhost_deny, 20);
	assert_int_equal(c.global_rate, 60);
	assert_int_equal(c.caller_rate, 5);
	assert_int_equal(c.max_tallies, 100000);
	assert_int_equal(c.min_length, 12);
	assert_true(c.use_pwquality);
	assert_true(c.reject_reuse);
	assert_int_equal(c.hash, SSPR_HASH_DEFAULT);
	assert_int_equal(c.on_success, SSPR_ON_SUCCESS_LOGIN);
	assert_true(c.reset_faillock);
	assert_int_equal(c.recovery_codes, 10);
	assert_null(c.notify_command);
	assert_string_equal(c.notify_user, "nobody");
	assert_int_equal(c.notify_timeout, 10);
	assert_int_equal(c.syslog_facility, LOG_AUTHPRIV);
	sspr_config_free(&c);
}

static void test_free_twice(void **state)
{
	struct sspr_config c;

	(void)state;
	assert_int_equal(sspr_config_defaults(&c), 0);
	sspr_config_free(&c);
	sspr_config_free(&c);
	assert_int_equal(c.services.n, 0);
	assert_null(c.notify_user);
	/* a freed config can take defaults again (the helper does this) */
	assert_int_equal(parse(&c, "notify_command = /bin/true\n", NULL), 0);
	sspr_config_free(&c);
	sspr_config_free(NULL);
}

static void test_empty_text(void **state)
{
	struct sspr_config c, d;
	struct diag dg = { 0 };

	(void)state;
	assert_int_equal(sspr_config_defaults(&d), 0);
	assert_int_equal(sspr_config_defaults(&c), 0);
	assert_int_equal(sspr_config_parse(&c, "", 0, "t.conf", diag_fn, &dg), 0);
	assert_int_equal(sspr_config_parse(&c, NULL, 0, "t.conf", diag_fn, &dg), 0);
	{
		static const char text[] = "\n\n   \n\t\n# only comments\n\r\n";

		assert_int_equal(sspr_config_parse(&c, text, sizeof text - 1, "t.conf", diag_fn,
		                                   &dg), 0);
	}
	assert_int_equal(dg.n, 0);
	assert_config_equal(&c, &d);
	sspr_config_free(&c);
	sspr_config_free(&d);
}

/* ---- the shipped file ---- */

static char *read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	assert_non_null(f);
	buf = malloc(SSPR_CONF_MAX + 1);
	assert_non_null(buf);
	n = fread(buf, 1, SSPR_CONF_MAX + 1, f);
	assert_true(n <= SSPR_CONF_MAX);
	assert_int_equal(fclose(f), 0);
	*ret_len = n;
	return buf;
}

static void test_shipped_conf(void **state)
{
	const char *src = getenv("SSPR_SRCDIR");
	char path[PATH_MAX];
	struct sspr_config c, d;
	struct diag dg = { 0 };
	char *text;
	size_t len;

	(void)state;
	if (!src)
		skip();
	assert_true((size_t)snprintf(path, sizeof path, "%s/policy/sspr.conf", src) <
	            sizeof path);
	text = read_file(path, &len);
	assert_int_equal(sspr_config_defaults(&d), 0);
	assert_int_equal(sspr_config_defaults(&c), 0);
	/* scramble c first, so "equals defaults" means the file sets it all */
	c.min_uid = 7;
	c.window = 9;
	c.syslog_facility = LOG_LOCAL3;
	c.hash = SSPR_HASH_BCRYPT;
	assert_int_equal(sspr_config_parse(&c, text, len, path, diag_fn, &dg), 0);
	diag_print(&dg);
	assert_int_equal(dg.n, 0);
	assert_config_equal(&c, &d);
	free(text);
	sspr_config_free(&c);
	sspr_config_free(&d);
}

/* ---- values ---- */

static void test_values(void **state)
{
	static const char text[] =
		"services = sshd\n"
		"deny_groups = wheel\n"
		"deny_users = root toor\n"
		"min_uid = 500\n"
		"max_uid = 4294967294\n"
		"deny_shells = /bin/false\n"
		"allow_remote = no\n"
		"conceal = no\n"
		"self_enroll = no\n"
		"window = 0\n"
		"hotp_lookahead = 100\n"
		"max_code_tries = 10\n"
		"session_timeout = 30\n"
		"require_recovery_code = remote\n"
		"deny = 1\n"
		"fail_interval = 604800\n"
		"unlock_time = 0\n"
		"max_unlock_time = 31536000\n"
		"hard_deny = 100000\n"
		"rhost_deny = 1\n"
		"global_rate = 100000\n"
		"caller_rate = 10000\n"
		"max_tallies = 100\n"
		"min_length = 6\n"
		"use_pwquality = no\n"
		"reject_reuse = no\n"
		"hash = sha512\n"
		"on_success = relogin\n"
		"reset_faillock = no\n"
		"recovery_codes = 0\n"
		"notify_command = /usr/local/bin/notify --user=x -v\n"
		"notify_user = sspr-notify\n"
		"notify_timeout = 300\n"
		"syslog_facility = local7\n";
	static const char *const deny_users[] = { "root", "toor" };
	struct sspr_config c;
	struct diag dg = { 0 };

	(void)state;
	assert_int_equal(parse(&c, text, &dg), 0);
	diag_print(&dg);
	assert_int_equal(dg.n, 0);
	assert_int_equal(c.services.n, 1);
	assert_string_equal(c.services.v[0], "sshd");
	assert_true(list_is(&c.deny_users, deny_users, 2));
	assert_int_equal(c.min_uid, 500);
	assert_int_equal(c.max_uid, 4294967294U);
	assert_false(c.allow_remote);
	assert_false(c.conceal);
	assert_false(c.self_enroll);
	assert_int_equal(c.window, 0);
	assert_int_equal(c.hotp_lookahead, 100);
	assert_int_equal(c.max_code_tries, 10);
	assert_int_equal(c.session_timeout, 30);
	assert_int_equal(c.require_recovery_code, SSPR_RRC_REMOTE);
	assert_int_equal(c.deny, 1);
	assert_int_equal(c.fail_interval, 604800);
	assert_int_equal(c.unlock_time, 0);
	assert_int_equal(c.max_unlock_time, 31536000);
	assert_int_equal(c.hard_deny, 100000);
	assert_int_equal(c.rhost_deny, 1);
	assert_int_equal(c.global_rate, 100000);
	assert_int_equal(c.caller_rate, 10000);
	assert_int_equal(c.max_tallies, 100);
	assert_int_equal(c.min_length, 6);
	assert_false(c.use_pwquality);
	assert_false(c.reject_reuse);
	assert_int_equal(c.hash, SSPR_HASH_SHA512);
	assert_int_equal(c.on_success, SSPR_ON_SUCCESS_RELOGIN);
	assert_false(c.reset_faillock);
	assert_int_equal(c.recovery_codes, 0);
	assert_string_equal(c.notify_command, "/usr/local/bin/notify --user=x -v");
	assert_string_equal(c.notify_user, "sspr-notify");
	assert_int_equal(c.notify_timeout, 300);
	assert_int_equal(c.syslog_facility, LOG_LOCAL7);
	sspr_config_free(&c);
}

static void test_enums(void **state)
{
	static const struct {
		const char *value;
		enum sspr_hash h;
	} hashes[] = {
		{ "default", SSPR_HASH_DEFAULT }, { "login.defs", SSPR_HASH_LOGIN_DEFS },
		{ "yescrypt", SSPR_HASH_YESCRYPT }, { "gost-yescrypt", SSPR_HASH_GOST_YESCRYPT },
		{ "scrypt", SSPR_HASH_SCRYPT }, { "sha512", SSPR_HASH_SHA512 },
		{ "sha256", SSPR_HASH_SHA256 }, { "bcrypt", SSPR_HASH_BCRYPT },
	};
	static const struct {
		const char *value;
		int f;
	} facilities[] = {
		{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV }, { "daemon", LOG_DAEMON },
		{ "user", LOG_USER }, { "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	static const struct {
		const char *value;
		enum sspr_rrc r;
	} rrcs[] = {
		{ "no", SSPR_RRC_NO }, { "remote", SSPR_RRC_REMOTE }, { "always", SSPR_RRC_ALWAYS },
	};
	struct sspr_config c;
	char line[128];

	(void)state;
	for (size_t i = 0; i < SSPR_ELEMENTSOF(hashes); i++) {
		(void)snprintf(line, sizeof line, "hash = %s\n", hashes[i].value);
		assert_int_equal(parse(&c, line, NULL), 0);
		assert_int_equal(c.hash, hashes[i].h);
		assert_string_equal(sspr_hash_name(c.hash), hashes[i].value);
		sspr_config_free(&c);
	}
	assert_string_equal(sspr_hash_name((enum sspr_hash)99), "unknown");
	for (size_t i = 0; i < SSPR_ELEMENTSOF(facilities); i++) {
		(void)snprintf(line, sizeof line, "syslog_facility = %s\n", facilities[i].value);
		assert_int_equal(parse(&c, line, NULL), 0);
		assert_int_equal(c.syslog_facility, facilities[i].f);
		sspr_config_free(&c);
	}
	for (size_t i = 0; i < SSPR_ELEMENTSOF(rrcs); i++) {
		(void)snprintf(line, sizeof line, "require_recovery_code = %s\n", rrcs[i].value);
		assert_int_equal(parse(&c, line, NULL), 0);
		assert_int_equal(c.require_recovery_code, rrcs[i].r);
		sspr_config_free(&c);
	}
	assert_int_equal(parse(&c, "on_success = login\nconceal = yes\n", NULL), 0);
	assert_int_equal(c.on_success, SSPR_ON_SUCCESS_LOGIN);
	assert_true(c.conceal);
	sspr_config_free(&c);
}

/* ---- syntax ---- */

static void test_comments(void **state)
{
	struct sspr_config c;
	struct diag dg = { 0 };

	(void)state;
	assert_int_equal(parse(&c,
		"# a comment\n"
		"   # an indented comment\n"
		"\t#\n"
		"deny_users = root#x bob # the rest is a comment\n"
		"services=sshd#1\n"
		"notify_command = /usr/bin/notify a#b --x=#y\t# comment\n"
		"  allow_groups\t=\tusers   staff-ish  \r\n"
		"min_uid = 2000 # trailing\n"
		"notify_user = n#1\n", &dg), 0);
	diag_print(&dg);
	assert_int_equal(dg.n, 0);
	assert_int_equal(c.deny_users.n, 2);
	assert_string_equal(c.deny_users.v[0], "root#x");
	assert_string_equal(c.deny_users.v[1], "bob");
	assert_int_equal(c.services.n, 1);
	assert_string_equal(c.services.v[0], "sshd#1");
	assert_string_equal(c.notify_command, "/usr/bin/notify a#b --x=#y");
	assert_int_equal(c.allow_groups.n, 2);
	assert_string_equal(c.allow_groups.v[0], "users");
	assert_string_equal(c.allow_groups.v[1], "staff-ish");
	assert_int_equal(c.min_uid, 2000);
	assert_string_equal(c.notify_user, "n#1");
	sspr_config_free(&c);

	/* a value that is only a comment is empty */
	assert_int_equal(parse(&c, "deny_users = # nobody\n", &dg), 0);
	assert_int_equal(c.deny_users.n, 0);
	sspr_config_free(&c);
	/* the last line needs no newline */
	assert_int_equal(parse(&c, "window = 3", &dg), 0);
	assert_int_equal(c.window, 3);
	sspr_config_free(&c);
	/* a comment after a value with no white space is part of it */
	assert_int_equal(parse(&c, "window = 3#4\n", &dg), -SSPR_E_CONFIG);
	assert_int_equal(dg.n, 1);
	assert_non_null(strstr(dg.msg[0], "t.conf:1: window"));
	diag_clear(&dg);
	sspr_config_free(&c);
}

static void test_lists(void **state)
{
	static const char *const two[] = { "a", "b" };
	struct sspr_config c;
	struct diag dg = { 0 };
	char text[2048];
	size_t o;

	(void)state;
	/* a list key replaces the default, it does not add to it */
	assert_int_equal(parse(&c, "deny_groups = a b\n", &dg), 0);
	assert_true(list_is(&c.deny_groups, two, 2));
	assert_false(sspr_strlist_contains(&c.deny_groups, "root"));
	assert_true(sspr_strlist_contains(&c.deny_groups, "b"));
	sspr_config_free(&c);

	/* empty lists */
	assert_int_equal(parse(&c, "allow_groups =\ndeny_groups =   \nservices=\n"
	                           "deny_users =\t\ndeny_shells =\n", &dg), 0);
	assert_int_equal(c.allow_groups.n, 0);
	assert_int_equal(c.deny_groups.n, 0);
	assert_int_equal(c.services.n, 0);
	assert_int_equal(c.deny_users.n, 0);
	assert_int_equal(c.deny_shells.n, 0);
	assert_false(sspr_strlist_contains(&c.services, "sshd"));
	sspr_config_free(&c);

	/* tabs and runs of blanks separate entries */
	assert_int_equal(parse(&c, "services =\ta  \t b\t\n", &dg), 0);
	assert_true(list_is(&c.services, two, 2));
	sspr_config_free(&c);

	/* exactly SSPR_LIST_MAX entries is fine, one more is not */
	o = (size_t)snprintf(text, sizeof text, "deny_users =");
	for (int i = 0; i < SSPR_LIST_MAX; i++)
		o += (size_t)snprintf(text + o, sizeof text - o, " u%d", i);
	(void)snprintf(text + o, sizeof text - o, "\n");
	assert_int_equal(parse(&c, text, &dg), 0);
	assert_int_equal(c.deny_users.n, SSPR_LIST_MAX);
	assert_string_equal(c.deny_users.v[SSPR_LIST_MAX - 1], "u63");
	sspr_config_free(&c);
	text[o] = '\0';
	(void)snprintf(text + o, sizeof text - o, " extra\n");
	assert_int_equal(parse(&c, text, &dg), -SSPR_E_CONFIG);
	assert_int_equal(dg.n, 1);
	assert_non_null(strstr(dg.msg[0], "t.conf:1: deny_users"));
	/* a refused list leaves the one before in place */
	assert_true(sspr_strlist_contains(&c.deny_users, "root"));
	diag_clear(&dg);
	sspr_config_free(&c);

	assert_false(sspr_strlist_contains(NULL, "x"));
	assert_false(sspr_strlist_contains(&c.services, NULL));
}

static void test_notify(void **state)
{
	struct sspr_config c;

	(void)state;
	assert_int_equal(parse(&c, "notify_command =\n", NULL), 0);
	assert_null(c.notify_command);
	sspr_config_free(&c);
	assert_int_equal(parse(&c, "notify_command = /bin/mail\n", NULL), 0);
	assert_string_equal(c.notify_command, "/bin/mail");
	sspr_config_free(&c);
	assert_int_equal(parse(&c, "notify_user = daemon\n", NULL), 0);
	assert_string_equal(c.notify_user, "daemon");
	sspr_config_free(&c);
	assert_int_equal(parse(&c, "notify_timeout = 1\n", NULL), 0);
	assert_int_equal(c.notify_timeout, 1);
	sspr_config_free(&c);
	assert_int_equal(parse(&c, "notify_timeout = 300\n", NULL), 0);
	assert_int_equal(c.notify_timeout, 300);
	sspr_config_free(&c);
}

/* ---- errors ---- */

struct bad {
	const char *text;
	unsigned line;     /* line the error is reported at */
	const char *what;  /* substring of the message (key or value) */
};

static const struct bad bad_configs[] = {
	{ "frobnicate = yes\n", 1, "frobnicate" },
	{ "# ok\nMin_uid = 5\n", 2, "Min_uid" },
	{ "window = 1\nwindow = 2\n", 2, "duplicate key window" },
	{ "deny_users = a\n\ndeny_users = b\n", 3, "deny_users" },
	{ "deny_users root\n", 1, "missing '='" },
	{ "\n\njust words\n", 3, "just words" },
	{ "= yes\n", 1, "missing key" },
	{ "conceal = maybe\n", 1, "conceal = \"maybe\"" },
	{ "allow_remote = true\n", 1, "allow_remote = \"true\"" },
	{ "self_enroll = YES\n", 1, "self_enroll" },
	{ "use_pwquality =\n", 1, "use_pwquality" },
	{ "min_uid = abc\n", 1, "min_uid = \"abc\"" },
	{ "min_uid = -1\n", 1, "min_uid = \"-1\"" },
	{ "max_uid = 4294967295\n", 1, "max_uid = \"4294967295\"" },
	{ "max_uid = 99999999999999999999999\n", 1, "max_uid" },
	{ "window = 11\n", 1, "window = \"11\": out of range 0..10" },
	{ "hotp_lookahead = 101\n", 1, "hotp_lookahead" },
	{ "max_code_tries = 0\n", 1, "max_code_tries = \"0\"" },
	{ "max_code_tries = 11\n", 1, "max_code_tries" },
	{ "session_timeout = 4\n", 1, "session_timeout" },
	{ "session_timeout = 3601\n", 1, "session_timeout" },
	{ "deny = 0\n", 1, "deny = \"0\"" },
	{ "deny = 1001\n", 1, "deny" },
	{ "fail_interval = 0\n", 1, "fail_interval" },
	{ "fail_interval = 604801\n", 1, "fail_interval" },
	{ "unlock_time = 31536001\n", 1, "unlock_time" },
	{ "hard_deny = 0\n", 1, "hard_deny" },
	{ "rhost_deny = 100001\n", 1, "rhost_deny" },
	{ "global_rate = 0\n", 1, "global_rate" },
	{ "caller_rate = 10001\n", 1, "caller_rate" },
	{ "max_tallies = 99\n", 1, "max_tallies" },
	{ "max_tallies = 10000001\n", 1, "max_tallies" },
	{ "min_length = 5\n", 1, "min_length = \"5\"" },
	{ "min_length = 513\n", 1, "min_length" },
	{ "recovery_codes = 41\n", 1, "recovery_codes" },
	{ "window = +1\n", 1, "window = \"+1\"" },
	{ "window = 0x1\n", 1, "window = \"0x1\"" },
	{ "window = 1 2\n", 1, "window = \"1 2\"" },
	{ "window =\n", 1, "window" },
	{ "require_recovery_code = sometimes\n", 1, "require_recovery_code = \"sometimes\"" },
	{ "on_success = logout\n", 1, "on_success = \"logout\"" },
	{ "hash = md5\n", 1, "weak hash method" },
	{ "hash = des\n", 1, "hash = \"des\": weak" },
	{ "hash = SHA1\n", 1, "weak hash method" },
	{ "hash = argon2\n", 1, "hash = \"argon2\": unknown" },
	{ "hash = SHA512\n", 1, "hash = \"SHA512\"" },
	{ "syslog_facility = kern\n", 1, "syslog_facility = \"kern\"" },
	{ "syslog_facility = local8\n", 1, "syslog_facility" },
	{ "notify_command = mail -s x\n", 1, "notify_command = \"mail -s x\"" },
	{ "notify_user = root\n", 1, "notify_user = \"root\"" },
	{ "notify_user =\n", 1, "notify_user" },
	{ "notify_user = 0\n", 1, "notify_user = \"0\"" },
	{ "notify_user = a b\n", 1, "notify_user = \"a b\"" },
	{ "notify_timeout = 0\n", 1, "notify_timeout = \"0\": out of range 1..300" },
	{ "notify_timeout = 301\n", 1, "notify_timeout" },
	{ "notify_timeout = 5s\n", 1, "notify_timeout = \"5s\"" },
	{ "deny_shells = /bin/false nologin\n", 1, "nologin" },
	{ "min_uid = 2000\nmax_uid = 1999\n", 2, "max_uid = \"1999\"" },
	{ "max_uid = 500\n# x\nmin_uid = 600\n", 3, "min_uid = \"600\"" },
	{ "max_uid = 999\n", 1, "max_uid" },
	{ "unlock_time = 100\nmax_unlock_time = 99\n", 2, "max_unlock_time" },
	{ "max_unlock_time = 60\n", 1, "max_unlock_time" },
	{ "hard_deny = 4\n", 1, "hard_deny = \"4\"" },
	{ "hard_deny = 10\ndeny = 11\n", 2, "deny = \"11\"" },
	{ "window = 1\002\n", 1, "control character" },
	{ "conceal = yes\n\033[1m = 2\n", 2, "control character" },
};

static void test_bad_configs(void **state)
{
	(void)state;
	assert_true(SSPR_ELEMENTSOF(bad_configs) >= 25);
	for (size_t i = 0; i < SSPR_ELEMENTSOF(bad_configs); i++) {
		const struct bad *b = &bad_configs[i];
		struct sspr_config c;
		struct diag dg = { 0 };
		char prefix[32];
		int r;

		r = parse(&c, b->text, &dg);
		if (r != -SSPR_E_CONFIG || dg.n != 1) {
			print_error("case %zu: %s: r=%d, %u messages\n", i, b->text, r, dg.n);
			diag_print(&dg);
		}
		assert_int_equal(r, -SSPR_E_CONFIG);
		assert_int_equal(dg.n, 1);
		(void)snprintf(prefix, sizeof prefix, "t.conf:%u: ", b->line);
		if (strncmp(dg.msg[0], prefix, strlen(prefix)) != 0 ||
		    !strstr(dg.msg[0], b->what)) {
			print_error("case %zu: want \"%s\" ... \"%s\", got \"%s\"\n", i, prefix,
			            b->what, dg.msg[0]);
			fail();
		}
		/* no diag callback: same verdict */
		sspr_config_free(&c);
		assert_int_equal(parse(&c, b->text, NULL), -SSPR_E_CONFIG);
		sspr_config_free(&c);
		diag_clear(&dg);
	}
}

static void test_multiple_errors(void **state)
{
	static const char text[] =
		"# several mistakes, all reported\n"   /* 1 */
		"window = 99\n"                        /* 2 */
		"conceal = yes\n"                      /* 3 ok */
		"colour = blue\n"                      /* 4 */
		"no equals sign here\n"                /* 5 */
		"conceal = no\n"                       /* 6 duplicate */
		"hash = md5\n"                         /* 7 */
		"\n"                                   /* 8 */
		"min_length = 12\n"                    /* 9 ok */
		"notify_user = root\n";                /* 10 */
	static const unsigned lines[] = { 2, 4, 5, 6, 7, 10 };
	struct sspr_config c;
	struct diag dg = { 0 };

	(void)state;
	assert_int_equal(parse(&c, text, &dg), -SSPR_E_CONFIG);
	diag_print(&dg);
	assert_int_equal(dg.n, SSPR_ELEMENTSOF(lines));
	for (size_t i = 0; i < SSPR_ELEMENTSOF(lines); i++) {
		char prefix[32];

		(void)snprintf(prefix, sizeof prefix, "t.conf:%u: ", lines[i]);
		assert_memory_equal(dg.msg[i], prefix, strlen(prefix));
	}
	/* the good lines were applied, the first of a duplicate wins */
	assert_true(c.conceal);
	assert_int_equal(c.window, 1);
	diag_clear(&dg);
	sspr_config_free(&c);
}

static void test_nul_and_long_lines(void **state)
{
	static const char nul[] = "window = 2\nconceal = y\0es\nmin_length = 20\n";
	struct sspr_config c;
	struct diag dg = { 0 };
	char *big;
	size_t o;

	(void)state;
	assert_int_equal(sspr_config_defaults(&c), 0);
	assert_int_equal(sspr_config_parse(&c, nul, sizeof nul - 1, "t.conf", diag_fn, &dg),
	                 -SSPR_E_CONFIG);
	assert_int_equal(dg.n, 1);
	assert_non_null(strstr(dg.msg[0], "t.conf:2: NUL byte"));
	assert_int_equal(c.window, 2);
	assert_int_equal(c.min_length, 20);
	diag_clear(&dg);
	sspr_config_free(&c);

	/* a line of 1024 bytes is fine, 1025 is not */
	big = malloc(SSPR_CONF_MAX + 2);
	assert_non_null(big);
	o = (size_t)snprintf(big, 64, "deny_users = ");
	memset(big + o, 'x', 1024 - o);
	big[1024] = '\n';
	assert_int_equal(sspr_config_defaults(&c), 0);
	assert_int_equal(sspr_config_parse(&c, big, 1025, "t.conf", diag_fn, &dg), 0);
	assert_int_equal(strlen(c.deny_users.v[0]), 1024 - o);
	sspr_config_free(&c);
	memset(big + o, 'x', 1025 - o);
	big[1025] = '\n';
	assert_int_equal(sspr_config_defaults(&c), 0);
	assert_int_equal(sspr_config_parse(&c, big, 1026, "t.conf", diag_fn, &dg),
	                 -SSPR_E_CONFIG);
	assert_int_equal(dg.n, 1);
	assert_non_null(strstr(dg.msg[0], "t.conf:1: line longer than 1024"));
	/* the message stays short: the value is cut */
	assert_true(strlen(dg.msg[0]) < 200);
	diag_clear(&dg);
	sspr_config_free(&c);

	/* a text over the file cap */
	memset(big, '\n', SSPR_CONF_MAX + 1);
	assert_int_equal(sspr_config_defaults(&c), 0);
	assert_int_equal(sspr_config_parse(&c, big, SSPR_CONF_MAX, "t.conf", diag_fn, &dg), 0);
	assert_int_equal(sspr_config_parse(&c, big, SSPR_CONF_MAX + 1, "t.conf", diag_fn, &dg),
	                 -SSPR_E_CONFIG);
	assert_int_equal(dg.n, 1);
	assert_non_null(strstr(dg.msg[0], "t.conf: larger than"));
	diag_clear(&dg);
	sspr_config_free(&c);
	free(big);
}

/* ---- load ---- */

struct tmp {
	char dir[64];
	char file[128];
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof *t);

	assert_non_null(t);
	strcpy(t->dir, "/tmp/sspr-conf-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	(void)snprintf(t->file, sizeof t->file, "%s/sspr.conf", t->dir);
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;
	char path[160];

	(void)unlink(t->file);
	(void)snprintf(path, sizeof path, "%s/link.conf", t->dir);
	(void)unlink(path);
	(void)snprintf(path, sizeof path, "%s/sub", t->dir);
	(void)rmdir(path);
	(void)rmdir(t->dir);
	free(t);
	return 0;
}

static void write_conf(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void test_load(void **state)
{
	struct tmp *t = *state;
	struct sspr_config c;
	struct diag dg = { 0 };
	static const char text[] = "window = 4\n";

	write_conf(t->file, text, strlen(text), 0644);
	assert_int_equal(sspr_config_load(&c, t->file, getuid(), diag_fn, &dg), 0);
	assert_int_equal(dg.n, 0);
	assert_int_equal(c.window, 4);
	assert_int_equal(c.min_uid, 1000); /* defaults under the file */
	sspr_config_free(&c);

	/* 0600 and 0640, 0444 are fine too */
	assert_int_equal(chmod(t->file, 0600), 0);
	assert_int_equal(sspr_config_load(&c, t->file, getuid(), diag_fn, &dg), 0);
	sspr_config_free(&c);
	assert_int_equal(chmod(t->file, 0444), 0);
	assert_int_equal(sspr_config_load(&c, t->file, getuid(), diag_fn, &dg), 0);
	sspr_config_free(&c);
	assert_int_equal(dg.n, 0);
}

static void test_load_errors_reported(void **state)
{
	struct tmp *t = *state;
	struct sspr_config c;
	struct diag dg = { 0 };
	static const char text[] = "window = 40\nbogus = 1\n";
	char prefix[200];

	write_conf(t->file, text, strlen(text), 0644);
	assert_int_equal(sspr_config_load(&c, t->file, getuid(), diag_fn, &dg),
	                 -SSPR_E_CONFIG);
	assert_int_equal(dg.n, 2);
	(void)snprintf(prefix, sizeof prefix, "%s:1: window", t->file);
	assert_non_null(strstr(dg.msg[0], prefix));
	(void)snprintf(prefix, sizeof prefix, "%s:2: ", t->file);
	assert_non_null(strstr(dg.msg[1], prefix));
	diag_clear(&dg);
	sspr_config_free(&c);
}

static void test_load_unsafe(void **state)
{
	struct tmp *t = *state;
	struct sspr_config c;
	struct diag dg = { 0 };
	static const char text[] = "window = 4\n";
	static const mode_t bad_modes[] = { 0666, 0664, 0646, 0622, 0602, 0620 };
	char link[160], sub[160];

	write_conf(t->file, text, strlen(text), 0644);
	/* wrong owner */
	assert_int_equal(sspr_config_load(&c, t->file, getuid() + 1, diag_fn, &dg),
	                 -SSPR_E_UNSAFE_FILE);
	assert_int_equal(dg.n, 1);
	assert_non_null(strstr(dg.msg[0], t->file));
	assert_non_null(strstr(dg.msg[0], "must be owned by"));
	assert_non_null(strstr(dg.msg[0], "not writable by group or others"));
	/* the config holds defaults, and can be freed */
	assert_int_equal(c.window, 1);
	sspr_config_free(&c);
	diag_clear(&dg);

	/* writable by group or others */
	for (size_t i = 0; i < SSPR_ELEMENTSOF(bad_modes); i++) {
		assert_int_equal(chmod(t->file, bad_modes[i]), 0);
		assert_int_equal(sspr_config_load(&c, t->file, getuid(), diag_fn, &dg),
		                 -SSPR_E_UNSAFE_FILE);
		assert_int_equal(dg.n, 1);
		assert_non_null(strstr(dg.msg[0], "not writable by group or others"));
		sspr_config_free(&c);
		diag_clear(&dg);
	}
	assert_int_equal(chmod(t->file, 0644), 0);

	/* a symlink, even to a good file */
	(void)snprintf(link, sizeof link, "%s/link.conf", t->dir);
	assert_int_equal(symlink(t->file, link), 0);
	assert_int_equal(sspr_config_load(&c, link, getuid(), diag_fn, &dg),
	                 -SSPR_E_UNSAFE_FILE);
	assert_int_equal(dg.n, 1);
	assert_non_null(strstr(dg.msg[0], "symbolic link"));
	sspr_config_free(&c);
	diag_clear(&dg);

	/* a directory */
	(void)snprintf(sub, sizeof sub, "%s/sub", t->dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(sspr_config_load(&c, sub, getuid(), diag_fn, &dg),
	                 -SSPR_E_UNSAFE_FILE);
	assert_int_equal(dg.n, 1);
	sspr_config_free(&c);
	diag_clear(&dg);
}

static void test_load_missing_and_big(void **state)
{
	struct tmp *t = *state;
	struct sspr_config c;
	struct diag dg = { 0 };
	char path[160];
	char *big;

	(void)snprintf(path, sizeof path, "%s/nonexistent.conf", t->dir);
	assert_int_equal(sspr_config_load(&c, path, getuid(), diag_fn, &dg), -ENOENT);
	assert_int_equal(dg.n, 1);
	assert_non_null(strstr(dg.msg[0], path));
	sspr_config_free(&c);
	diag_clear(&dg);

	/* no diag callback is fine too */
	assert_int_equal(sspr_config_load(&c, path, getuid(), NULL, NULL), -ENOENT);
	sspr_config_free(&c);

	/* over the size cap */
	big = malloc(SSPR_CONF_MAX + 1);
	assert_non_null(big);
	memset(big, '\n', SSPR_CONF_MAX + 1);
	write_conf(t->file, big, SSPR_CONF_MAX + 1, 0644);
	assert_int_equal(sspr_config_load(&c, t->file, getuid(), diag_fn, &dg),
	                 -SSPR_E_CONFIG);
	assert_int_equal(dg.n, 1);
	assert_non_null(strstr(dg.msg[0], "larger than"));
	sspr_config_free(&c);
	diag_clear(&dg);
	/* exactly at the cap is fine */
	write_conf(t->file, big, SSPR_CONF_MAX, 0644);
	assert_int_equal(sspr_config_load(&c, t->file, getuid(), diag_fn, &dg), 0);
	sspr_config_free(&c);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_free_twice),
		cmocka_unit_test(test_empty_text),
		cmocka_unit_test(test_shipped_conf),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_enums),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_multiple_errors),
		cmocka_unit_test(test_nul_and_long_lines),
		cmocka_unit_test_setup_teardown(test_load, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_load_errors_reported, tmp_setup,
		                                tmp_teardown),
		cmocka_unit_test_setup_teardown(test_load_unsafe, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_load_missing_and_big, tmp_setup,
		                                tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
