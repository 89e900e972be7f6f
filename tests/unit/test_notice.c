/* SPDX-License-Identifier: BSD-2-Clause */
/* lib/notice.c: the next-login notice text format (pure), the sentence
 * shown, and store/take in a mkdtemp state directory. */
#include <dirent.h>
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

#include "test-util.h"

#include "sspr/common.h"
#include "sspr/notice.h"

#define T0 1764400000 /* 2025-11-29 07:06:40 UTC */

static struct sspr_notice mk(enum sspr_notice_kind kind, int64_t t, const char *service,
                             const char *rhost, const char *tty)
{
	struct sspr_notice n;

	memset(&n, 0, sizeof n);
	n.kind = kind;
	n.time = t;
	(void)snprintf(n.service, sizeof n.service, "%s", service);
	(void)snprintf(n.rhost, sizeof n.rhost, "%s", rhost);
	(void)snprintf(n.tty, sizeof n.tty, "%s", tty);
	return n;
}

static void assert_same(const struct sspr_notice *a, const struct sspr_notice *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_true(a->time == b->time);
	assert_string_equal(a->service, b->service);
	assert_string_equal(a->rhost, b->rhost);
	assert_string_equal(a->tty, b->tty);
}

/* --- format and parse ------------------------------------------------- */

static void test_format_exact(void **state)
{
	struct sspr_notice n = mk(SSPR_NOTICE_RESET, T0, "sshd", "192.0.2.7", "ssh");
	static const char want[] = "sspr-notice 1\nkind reset\ntime 1764400000\n"
	                           "service sshd\nrhost 192.0.2.7\ntty ssh\n";
	char out[1024];

	(void)state;
	assert_int_equal(sspr_notice_format(&n, out, sizeof out), (int)strlen(want));
	assert_string_equal(out, want);
	n.kind = SSPR_NOTICE_REENROLL;
	assert_true(sspr_notice_format(&n, out, sizeof out) > 0);
	assert_non_null(strstr(out, "\nkind reenroll\n"));
}

static void test_round_trip(void **state)
{
	struct sspr_notice in[] = {
		mk(SSPR_NOTICE_RESET, T0, "sshd", "192.0.2.7", "ssh"),
		mk(SSPR_NOTICE_RESET, 0, "-", "-", "-"),
		mk(SSPR_NOTICE_REENROLL, (int64_t)1 << 40, "login", "-", "tty1"),
		mk(SSPR_NOTICE_REENROLL, 1, "sudo", "2001:db8::1", "pts/3"),
	};
	char text[1024];

	(void)state;
	/* the longest values that fit */
	memset(in[3].service, 's', sizeof in[3].service - 1);
	memset(in[3].rhost, 'h', sizeof in[3].rhost - 1);
	memset(in[3].tty, 't', sizeof in[3].tty - 1);
	for (size_t i = 0; i < SSPR_ELEMENTSOF(in); i++) {
		struct sspr_notice out;
		int len = sspr_notice_format(&in[i], text, sizeof text);

		assert_true(len > 0);
		assert_int_equal((size_t)len, strlen(text));
		memset(&out, 0x5a, sizeof out);
		assert_int_equal(sspr_notice_parse(&out, text, (size_t)len), 0);
		assert_same(&out, &in[i]);
	}
}

/* format refuses what parse would refuse, and a short buffer. */
static void test_format_refuses(void **state)
{
	struct sspr_notice bad[] = {
		mk(SSPR_NOTICE_RESET, T0, "", "-", "-"),
		mk(SSPR_NOTICE_RESET, T0, "-", "", "-"),
		mk(SSPR_NOTICE_RESET, T0, "-", "-", ""),
		mk(SSPR_NOTICE_RESET, T0, "ss hd", "-", "-"),
		mk(SSPR_NOTICE_RESET, T0, "sshd", "host\nkind reenroll", "-"),
		mk(SSPR_NOTICE_RESET, T0, "sshd", "-", "tty\t1"),
		mk(SSPR_NOTICE_RESET, T0, "sshd\x7f", "-", "-"),
		mk(SSPR_NOTICE__MAX, T0, "sshd", "-", "-"),
	};
	struct sspr_notice ok = mk(SSPR_NOTICE_RESET, T0, "sshd", "-", "-");
	char text[1024];
	int len;

	(void)state;
	for (size_t i = 0; i < SSPR_ELEMENTSOF(bad); i++)
		if (sspr_notice_format(&bad[i], text, sizeof text) != -EINVAL)
			fail_msg("formatted bad notice %zu", i);
	len = sspr_notice_format(&ok, text, sizeof text);
	assert_true(len > 0);
	assert_int_equal(sspr_notice_format(&ok, text, (size_t)len), -ENOBUFS);
	assert_int_equal(sspr_notice_format(&ok, text, (size_t)len + 1), len);
}

/* A table of malformed notice texts, each refused with ret untouched. */
static void test_parse_rejects(void **state)
{
#define HDR "sspr-notice 1\n"
#define GOOD_TAIL "service sshd\nrhost 192.0.2.7\ntty ssh\n"
	static const char *const bad[] = {
		"",
		"sspr-notice 1",
		HDR,
		"sspr-notice 2\nkind reset\ntime 1\n" GOOD_TAIL,
		"sspr-notice 1 \nkind reset\ntime 1\n" GOOD_TAIL,
		"SSPR-NOTICE 1\nkind reset\ntime 1\n" GOOD_TAIL,
		"\nsspr-notice 1\nkind reset\ntime 1\n" GOOD_TAIL,
		HDR "kind unknown\ntime 1\n" GOOD_TAIL,
		HDR "kind Reset\ntime 1\n" GOOD_TAIL,
		HDR "kind reset reenroll\ntime 1\n" GOOD_TAIL,
		HDR "kind \ntime 1\n" GOOD_TAIL,
		HDR "kind\ntime 1\n" GOOD_TAIL,
		HDR "time 1\nkind reset\n" GOOD_TAIL,            /* out of order */
		HDR "kind reset\n" GOOD_TAIL,                    /* no time */
		HDR "kind reset\ntime \n" GOOD_TAIL,
		HDR "kind reset\ntime x\n" GOOD_TAIL,
		HDR "kind reset\ntime -1\n" GOOD_TAIL,
		HDR "kind reset\ntime 12a\n" GOOD_TAIL,
		HDR "kind reset\ntime 1099511627777\n" GOOD_TAIL, /* past 2^40 */
		HDR "kind reset\ntime 99999999999999999999\n" GOOD_TAIL,
		HDR "kind reset\ntime  1\n" GOOD_TAIL,
		HDR "kind reset\ntime 1\nrhost 192.0.2.7\nservice sshd\ntty ssh\n",
		HDR "kind reset\ntime 1\nservice sshd\ntty ssh\n", /* no rhost */
		HDR "kind reset\ntime 1\nservice sshd\nrhost 192.0.2.7\n", /* no tty */
		HDR "kind reset\ntime 1\nservice sshd\nrhost 192.0.2.7\ntty ssh", /* no final \n */
		HDR "kind reset\ntime 1\nservice sshd\nrhost 192.0.2.7\ntty ssh\n\n",
		HDR "kind reset\ntime 1\n" GOOD_TAIL "extra x\n",
		HDR "kind reset\ntime 1\n" GOOD_TAIL HDR,
		HDR "kind reset\ntime 1\nservice \nrhost 192.0.2.7\ntty ssh\n",
		HDR "kind reset\ntime 1\nservice ss hd\nrhost 192.0.2.7\ntty ssh\n",
		HDR "kind reset\ntime 1\nservice sshd\r\nrhost 192.0.2.7\ntty ssh\n",
		HDR "kind reset\ntime 1\nservice sshd\nrhost 192.0.2.7\ntty \x1b[2J\n",
		HDR "kind reset\ntime 1\nservice sshd\nrhost 192.0.2.7\ntty t\x7f\n",
		HDR "kind reset\ntime 1\nservice\tsshd\nrhost 192.0.2.7\ntty ssh\n",
		HDR "kind reset\ntime 1\nservicesshd\nrhost 192.0.2.7\ntty ssh\n",
		HDR "kind reset\ntime 1\nservice sshd\nrhost 192.0.2.7\ntty ssh\nkind reenroll\n",
		HDR "kind reset\nkind reset\ntime 1\n" GOOD_TAIL,
	};
	char text[2048];
	struct sspr_notice n, before;
	size_t len;

	(void)state;
	memset(&before, 0x5a, sizeof before);
	for (size_t i = 0; i < SSPR_ELEMENTSOF(bad); i++) {
		n = before;
		if (sspr_notice_parse(&n, bad[i], strlen(bad[i])) != -SSPR_E_RECORD)
			fail_msg("accepted: \"%s\"", bad[i]);
		assert_memory_equal(&n, &before, sizeof n);
	}

	/* values one past their field */
	len = (size_t)snprintf(text, sizeof text, HDR "kind reset\ntime 1\nservice %064d\n"
	                       "rhost -\ntty -\n", 0);
	n = before;
	assert_int_equal(sspr_notice_parse(&n, text, len), -SSPR_E_RECORD);
	len = (size_t)snprintf(text, sizeof text, HDR "kind reset\ntime 1\nservice -\n"
	                       "rhost %0256d\ntty -\n", 0);
	assert_int_equal(sspr_notice_parse(&n, text, len), -SSPR_E_RECORD);
	len = (size_t)snprintf(text, sizeof text, HDR "kind reset\ntime 1\nservice -\n"
	                       "rhost -\ntty %064d\n", 0);
	assert_int_equal(sspr_notice_parse(&n, text, len), -SSPR_E_RECORD);
	/* kind and time are read through a 256-byte buffer: one past it */
	len = (size_t)snprintf(text, sizeof text, HDR "kind %0256d\ntime 1\nservice -\n"
	                       "rhost -\ntty -\n", 0);
	assert_int_equal(sspr_notice_parse(&n, text, len), -SSPR_E_RECORD);
	len = (size_t)snprintf(text, sizeof text, HDR "kind reset\ntime %0256d\nservice -\n"
	                       "rhost -\ntty -\n", 1);
	assert_int_equal(sspr_notice_parse(&n, text, len), -SSPR_E_RECORD);
	/* the longest fit */
	len = (size_t)snprintf(text, sizeof text, HDR "kind reset\ntime 1\nservice %063d\n"
	                       "rhost %0255d\ntty %063d\n", 0, 0, 0);
	assert_int_equal(sspr_notice_parse(&n, text, len), 0);
	/* over the size cap (1024), however well formed */
	len = (size_t)snprintf(text, sizeof text, HDR "kind reset\ntime 1\nservice -\n"
	                       "rhost -\ntty -\n");
	memset(text + len, 'x', 1100);
	n = before;
	assert_int_equal(sspr_notice_parse(&n, text, len + 1100), -SSPR_E_RECORD);
	/* a length that cuts the text short */
	assert_int_equal(sspr_notice_parse(&n, text, len - 1), -SSPR_E_RECORD);
	assert_int_equal(sspr_notice_parse(&n, text, 13), -SSPR_E_RECORD);
	assert_int_equal(sspr_notice_parse(&n, text, 0), -SSPR_E_RECORD);
	assert_memory_equal(&n, &before, sizeof n);
#undef HDR
#undef GOOD_TAIL
}

/* A NUL byte inside a value is malformed text, as everywhere else in the
 * project (SPEC framing; value_ok refuses every other control byte).  The
 * parser copies the bytes up to '\n' and then checks the value with
 * strlen, so "tty ssh\0junk" is taken as "ssh" and "time 12\0x" as 12. */
static void test_parse_rejects_nul(void **state)
{
	static const struct { const char *text; size_t len; } t[] = {
#define T(s) { s, sizeof s - 1 }
		T("sspr-notice 1\nkind reset\ntime 1\nservice sshd\nrhost 192.0.2.7\ntty ssh\0junk\n"),
		T("sspr-notice 1\nkind reset\ntime 12\0x\nservice sshd\nrhost 192.0.2.7\ntty ssh\n"),
		T("sspr-notice 1\nkind reset\0\ntime 1\nservice sshd\nrhost 192.0.2.7\ntty ssh\n"),
#undef T
	};
	int accepted = 0;

	(void)state;
	for (size_t i = 0; i < SSPR_ELEMENTSOF(t); i++) {
		struct sspr_notice n;

		if (sspr_notice_parse(&n, t[i].text, t[i].len) != -SSPR_E_RECORD) {
			print_error("accepted a NUL inside a value: case %zu\n", i);
			accepted++;
		}
	}
	assert_int_equal(accepted, 0);
}

/* --- the sentence ----------------------------------------------------- */

static void test_text(void **state)
{
	static const struct {
		enum sspr_notice_kind kind;
		const char *service, *rhost, *tty, *want;
	} t[] = {
		{ SSPR_NOTICE_RESET, "sshd", "192.0.2.7", "ssh",
		  "Your password was reset on 2025-11-29 07:06 UTC from 192.0.2.7 (sshd)." },
		{ SSPR_NOTICE_RESET, "login", "-", "tty1",
		  "Your password was reset on 2025-11-29 07:06 UTC from tty1 (login)." },
		/* login(1) sets PAM_TTY to the device path */
		{ SSPR_NOTICE_RESET, "login", "-", "/dev/tty1",
		  "Your password was reset on 2025-11-29 07:06 UTC from tty1 (login)." },
		{ SSPR_NOTICE_RESET, "login", "-", "/dev/pts/0",
		  "Your password was reset on 2025-11-29 07:06 UTC from pts/0 (login)." },
		{ SSPR_NOTICE_REENROLL, "sshd", "192.0.2.7", "ssh",
		  "Your authenticator was re-enrolled on 2025-11-29 07:06 UTC from 192.0.2.7 (sshd)." },
		{ SSPR_NOTICE_REENROLL, "login", "-", "tty1",
		  "Your authenticator was re-enrolled on 2025-11-29 07:06 UTC from tty1 (login)." },
		{ SSPR_NOTICE_RESET, "-", "-", "-",
		  "Your password was reset on 2025-11-29 07:06 UTC from this machine." },
		{ SSPR_NOTICE_REENROLL, "-", "-", "-",
		  "Your authenticator was re-enrolled on 2025-11-29 07:06 UTC from this machine." },
		{ SSPR_NOTICE_RESET, "-", "192.0.2.7", "-",
		  "Your password was reset on 2025-11-29 07:06 UTC from 192.0.2.7." },
		{ SSPR_NOTICE_RESET, "sudo", "-", "-",
		  "Your password was reset on 2025-11-29 07:06 UTC from this machine (sudo)." },
	};
	char out[256];

	(void)state;
	for (size_t i = 0; i < SSPR_ELEMENTSOF(t); i++) {
		struct sspr_notice n = mk(t[i].kind, T0, t[i].service, t[i].rhost, t[i].tty);

		memset(out, 'Z', sizeof out);
		assert_int_equal(sspr_notice_text(&n, out, sizeof out), 0);
		assert_string_equal(out, t[i].want);
	}
}

static void test_text_time_and_buffer(void **state)
{
	struct sspr_notice n = mk(SSPR_NOTICE_RESET, 0, "-", "-", "-");
	const char *want = "Your password was reset on 1970-01-01 00:00 UTC from this machine.";
	char out[128];

	(void)state;
	assert_int_equal(sspr_notice_text(&n, out, sizeof out), 0);
	assert_string_equal(out, want);
	/* exactly enough room, then one byte short */
	assert_int_equal(sspr_notice_text(&n, out, strlen(want) + 1), 0);
	assert_string_equal(out, want);
	assert_int_equal(sspr_notice_text(&n, out, strlen(want)), -ENOBUFS);
}

/* --- store and take --------------------------------------------------- */

struct fixture {
	char dir[64];        /* mkdtemp: the state dir */
	char notices[96];    /* dir/notices */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/sspr-test-notice.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	(void)snprintf(f->notices, sizeof f->notices, "%s/notices", f->dir);
	*state = f;
	return 0;
}


static int teardown(void **state)
{
	struct fixture *f = *state;

	rm_rf(f->dir);
	free(f);
	return 0;
}

static bool exists(const struct fixture *f, const char *name)
{
	char p[256];
	struct stat st;

	(void)snprintf(p, sizeof p, "%s/%s", f->notices, name);
	return lstat(p, &st) == 0;
}

static void put(const struct fixture *f, const char *name, const char *text, mode_t mode)
{
	char p[256];
	int fd;

	(void)snprintf(p, sizeof p, "%s/%s", f->notices, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void test_store_take(void **state)
{
	struct fixture *f = *state;
	struct sspr_notice reset = mk(SSPR_NOTICE_RESET, T0 + 60, "sshd", "192.0.2.7", "ssh");
	struct sspr_notice re = mk(SSPR_NOTICE_REENROLL, T0, "login", "-", "tty1");
	struct sspr_notice got[4];
	struct stat st;
	size_t n = 99;

	assert_int_equal(sspr_notice_store(f->dir, 1001, &reset), 0);
	assert_int_equal(sspr_notice_store(f->dir, 1001, &re), 0);
	assert_int_equal(lstat(f->notices, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_true(exists(f, "1001.reset"));
	assert_true(exists(f, "1001.reenroll"));

	/* oldest first: the re-enrollment came before the reset */
	assert_int_equal(sspr_notice_take(f->dir, 1001, got, SSPR_ELEMENTSOF(got), &n), 0);
	assert_int_equal(n, 2);
	assert_same(&got[0], &re);
	assert_same(&got[1], &reset);
	/* removed: shown once */
	assert_false(exists(f, "1001.reset"));
	assert_false(exists(f, "1001.reenroll"));
	n = 99;
	assert_int_equal(sspr_notice_take(f->dir, 1001, got, SSPR_ELEMENTSOF(got), &n), 0);
	assert_int_equal(n, 0);
}

static void test_take_order_other_way(void **state)
{
	struct fixture *f = *state;
	struct sspr_notice reset = mk(SSPR_NOTICE_RESET, T0, "sshd", "192.0.2.7", "ssh");
	struct sspr_notice re = mk(SSPR_NOTICE_REENROLL, T0 + 60, "login", "-", "tty1");
	struct sspr_notice got[2];
	size_t n;

	assert_int_equal(sspr_notice_store(f->dir, 1001, &re), 0);
	assert_int_equal(sspr_notice_store(f->dir, 1001, &reset), 0);
	assert_int_equal(sspr_notice_take(f->dir, 1001, got, SSPR_ELEMENTSOF(got), &n), 0);
	assert_int_equal(n, 2);
	assert_same(&got[0], &reset);
	assert_same(&got[1], &re);
}

/* A second notice of the same kind replaces the first. */
static void test_store_replaces(void **state)
{
	struct fixture *f = *state;
	struct sspr_notice a = mk(SSPR_NOTICE_RESET, T0, "sshd", "192.0.2.7", "ssh");
	struct sspr_notice b = mk(SSPR_NOTICE_RESET, T0 + 5, "login", "-", "tty2");
	struct sspr_notice got[2];
	size_t n;

	assert_int_equal(sspr_notice_store(f->dir, 1001, &a), 0);
	assert_int_equal(sspr_notice_store(f->dir, 1001, &b), 0);
	assert_int_equal(sspr_notice_take(f->dir, 1001, got, SSPR_ELEMENTSOF(got), &n), 0);
	assert_int_equal(n, 1);
	assert_same(&got[0], &b);
}

/* Another user's notices are neither returned nor removed. */
static void test_take_other_uid(void **state)
{
	struct fixture *f = *state;
	struct sspr_notice a = mk(SSPR_NOTICE_RESET, T0, "sshd", "192.0.2.7", "ssh");
	struct sspr_notice got[2];
	size_t n = 99;

	assert_int_equal(sspr_notice_store(f->dir, 1002, &a), 0);
	assert_int_equal(sspr_notice_take(f->dir, 1001, got, SSPR_ELEMENTSOF(got), &n), 0);
	assert_int_equal(n, 0);
	assert_true(exists(f, "1002.reset"));
	/* 100 is not a prefix match for 1002 */
	assert_int_equal(sspr_notice_take(f->dir, 100, got, SSPR_ELEMENTSOF(got), &n), 0);
	assert_int_equal(n, 0);
	assert_true(exists(f, "1002.reset"));
	assert_int_equal(sspr_notice_take(f->dir, 1002, got, SSPR_ELEMENTSOF(got), &n), 0);
	assert_int_equal(n, 1);
}

/* No notices directory yet: nothing to take, nothing created. */
static void test_take_none(void **state)
{
	struct fixture *f = *state;
	struct sspr_notice got[2];
	struct stat st;
	size_t n = 99;

	assert_int_equal(sspr_notice_take(f->dir, 1001, got, SSPR_ELEMENTSOF(got), &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(lstat(f->notices, &st), -1);
}

/* A corrupt notice is removed without being returned; a good one beside
 * it still is. */
static void test_take_corrupt_removed(void **state)
{
	struct fixture *f = *state;
	struct sspr_notice re = mk(SSPR_NOTICE_REENROLL, T0, "login", "-", "tty1");
	struct sspr_notice got[2];
	size_t n = 99;

	assert_int_equal(sspr_notice_store(f->dir, 1001, &re), 0);
	put(f, "1001.reset", "sspr-notice 1\nkind reset\ntime soon\n", 0600);
	assert_int_equal(sspr_notice_take(f->dir, 1001, got, SSPR_ELEMENTSOF(got), &n), 0);
	assert_int_equal(n, 1);
	assert_same(&got[0], &re);
	assert_false(exists(f, "1001.reset"));
	assert_false(exists(f, "1001.reenroll"));

	/* an empty one, alone */
	put(f, "1001.reset", "", 0600);
	n = 99;
	assert_int_equal(sspr_notice_take(f->dir, 1001, got, SSPR_ELEMENTSOF(got), &n), 0);
	assert_int_equal(n, 0);
	assert_false(exists(f, "1001.reset"));
}

/* Unsafe files (group/other readable, a symlink, a FIFO) are removed
 * unread; a symlink's target is untouched. */
static void test_take_unsafe_removed(void **state)
{
	struct fixture *f = *state;
	static const char good[] = "sspr-notice 1\nkind reset\ntime 1\nservice -\nrhost -\ntty -\n";
	struct sspr_notice re = mk(SSPR_NOTICE_REENROLL, T0, "login", "-", "tty1");
	struct sspr_notice got[2];
	char target[128], link[256], fifo[256];
	struct stat st;
	size_t n = 99;

	assert_int_equal(sspr_notice_store(f->dir, 1001, &re), 0);
	put(f, "1001.reset", good, 0644);
	assert_int_equal(sspr_notice_take(f->dir, 1001, got, SSPR_ELEMENTSOF(got), &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(got[0].kind, SSPR_NOTICE_REENROLL);
	assert_false(exists(f, "1001.reset"));

	(void)snprintf(target, sizeof target, "%s/target", f->dir);
	(void)snprintf(link, sizeof link, "%s/1001.reset", f->notices);
	(void)snprintf(fifo, sizeof fifo, "%s/1001.reenroll", f->notices);
	{
		int fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, good, sizeof good - 1), (ssize_t)sizeof good - 1);
		assert_int_equal(close(fd), 0);
	}
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	n = 99;
	alarm(10); /* a blocking open of the FIFO would hang */
	assert_int_equal(sspr_notice_take(f->dir, 1001, got, SSPR_ELEMENTSOF(got), &n), 0);
	alarm(0);
	assert_int_equal(n, 0);
	assert_false(exists(f, "1001.reset"));
	assert_false(exists(f, "1001.reenroll"));
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_size, (off_t)sizeof good - 1);
}

/* A state dir others can write into is refused, by store and by take. */
static void test_unsafe_statedir(void **state)
{
	struct fixture *f = *state;
	struct sspr_notice a = mk(SSPR_NOTICE_RESET, T0, "sshd", "192.0.2.7", "ssh");
	struct sspr_notice got[2];
	size_t n = 99;

	assert_int_equal(sspr_notice_store(f->dir, 1001, &a), 0);
	assert_int_equal(chmod(f->notices, 0777), 0);
	assert_int_equal(sspr_notice_take(f->dir, 1001, got, SSPR_ELEMENTSOF(got), &n),
	                 -SSPR_E_UNSAFE_FILE);
	assert_int_equal(n, 0);
	assert_int_equal(sspr_notice_store(f->dir, 1001, &a), -SSPR_E_UNSAFE_FILE);
	assert_int_equal(chmod(f->notices, 0700), 0);
	assert_int_equal(chmod(f->dir, 0777), 0);
	assert_int_equal(sspr_notice_take(f->dir, 1001, got, SSPR_ELEMENTSOF(got), &n),
	                 -SSPR_E_UNSAFE_FILE);
	assert_int_equal(sspr_notice_store(f->dir, 1001, &a), -SSPR_E_UNSAFE_FILE);
	assert_int_equal(chmod(f->dir, 0700), 0);
	assert_true(exists(f, "1001.reset"));
}

/* store formats first: a bad notice leaves nothing on disk. */
static void test_store_refuses_bad(void **state)
{
	struct fixture *f = *state;
	struct sspr_notice bad = mk(SSPR_NOTICE_RESET, T0, "ss hd", "-", "-");
	struct stat st;

	assert_int_equal(sspr_notice_store(f->dir, 1001, &bad), -EINVAL);
	assert_int_equal(lstat(f->notices, &st), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_exact),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_format_refuses),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_parse_rejects_nul),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_text_time_and_buffer),
		cmocka_unit_test_setup_teardown(test_store_take, setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_order_other_way, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_other_uid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_corrupt_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_unsafe_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_statedir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_refuses_bad, setup, teardown),
	};

	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
