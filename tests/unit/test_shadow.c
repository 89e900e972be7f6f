/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/shadow.c: the pure parser and editor over odd files,
 * the account checks at their edges, and the locked rewrite in a
 * temporary directory (mode, backup, stale files, refusals, lock), and the
 * expire batch (one rewrite, refused whole). */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sspr/common.h"
#include "sspr/shadow.h"

#define HASH_A "$y$j9T$abcdefghijklmnop$0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcde"
#define HASH_NEW "$6$saltsalt$newhash./0123456789"
#define TODAY 20000L

/* ---- sspr_crypt_alphabet_ok ---------------------------------------- */

static void test_alphabet(void **state)
{
	char big[SSPR_HASH_MAX + 1];

	(void)state;
	assert_true(sspr_crypt_alphabet_ok(HASH_A));
	assert_true(sspr_crypt_alphabet_ok("$2b$05$abc./XYZ=,-*"));
	assert_true(sspr_crypt_alphabet_ok("ab01234567890")); /* DES */
	assert_false(sspr_crypt_alphabet_ok(NULL));
	assert_false(sspr_crypt_alphabet_ok(""));
	assert_false(sspr_crypt_alphabet_ok("$6$a:b"));
	assert_false(sspr_crypt_alphabet_ok("$6$a\nb"));
	assert_false(sspr_crypt_alphabet_ok("$6$a\rb"));
	assert_false(sspr_crypt_alphabet_ok("$6$a b"));
	assert_false(sspr_crypt_alphabet_ok("!$6$ab"));
	assert_false(sspr_crypt_alphabet_ok("$6$\xc3\xa9"));
	memset(big, 'a', sizeof big);
	big[SSPR_HASH_MAX - 1] = '\0'; /* 511 characters: fits */
	assert_true(sspr_crypt_alphabet_ok(big));
	big[SSPR_HASH_MAX - 1] = 'a';
	big[SSPR_HASH_MAX] = '\0'; /* 512: too long */
	assert_false(sspr_crypt_alphabet_ok(big));
}

/* ---- sspr_shadow_find ---------------------------------------------- */

struct find_case {
	const char *name;
	const char *text;
	size_t len; /* 0: strlen(text) */
	const char *user;
	int ret;
	/* expected when ret == 0 */
	const char *hash;
	bool locked;
	long lastchg, max, inactive, expire;
};

static const struct find_case find_cases[] = {
	{ "plain", "root:*:19000:0:99999:7:::\nalice:" HASH_A ":19500:0:99999:7:::\n", 0,
	  "alice", 0, HASH_A, false, 19500, 99999, -1, -1 },
	{ "all fields", "alice:$6$x$y:19500:1:90:7:30:21000:\n", 0,
	  "alice", 0, "$6$x$y", false, 19500, 90, 30, 21000 },
	{ "crlf", "root:*:1::::::\r\nalice:$6$x$y:19500::::::\r\nbob:x:1::::::\r\n", 0,
	  "alice", 0, "$6$x$y", false, 19500, -1, -1, -1 },
	{ "crlf last no newline", "root:*:1::::::\r\nalice:$6$x$y:19500:0:9:7:3:5:\r", 0,
	  "alice", 0, "$6$x$y", false, 19500, 9, 3, 5 },
	{ "no trailing newline", "bob:x:1:::::::\nalice:$6$x$y:19500:0:90:7:30:20000:", 0,
	  "alice", 0, "$6$x$y", false, 19500, 90, 30, 20000 },
	{ "only line", "alice::::::::", 0,
	  "alice", 0, "", false, -1, -1, -1, -1 },
	{ "comments blanks nis",
	  "# alice:x:1:::::::\n\n   \n+alice::::::::\n-alice::::::::\n+::::::::\n"
	  "alice:$5$s$h:123::::::\n", 0,
	  "alice", 0, "$5$s$h", false, 123, -1, -1, -1 },
	{ "reserved field number", "alice:$5$s$h:123::::::42\n", 0,
	  "alice", 0, "$5$s$h", false, 123, -1, -1, -1 },
	{ "prefix short first", "al:$6$al$al:1::::::\nalice:$6$alice$x:2::::::\n", 0,
	  "al", 0, "$6$al$al", false, 1, -1, -1, -1 },
	{ "prefix long first", "alice:$6$alice$x:2::::::\nal:$6$al$al:1::::::\n", 0,
	  "alice", 0, "$6$alice$x", false, 2, -1, -1, -1 },
	{ "prefix of a name only", "alice:$6$alice$x:2::::::\n", 0,
	  "ali", -SSPR_E_NO_LINE },
	{ "longer than a name", "al:$6$al$al:1::::::\n", 0,
	  "alice", -SSPR_E_NO_LINE },
	{ "name without colon", "alice\nalice x:1:2\n", 0,
	  "alice", -SSPR_E_NO_LINE },
	{ "locked bang", "alice:!$6$x$y:19500::::::\n", 0,
	  "alice", 0, "!$6$x$y", true, 19500, -1, -1, -1 },
	{ "locked star", "alice:*:19500::::::\n", 0,
	  "alice", 0, "*", true, 19500, -1, -1, -1 },
	{ "locked double bang", "alice:!!:19500::::::\n", 0,
	  "alice", 0, "!!", true, 19500, -1, -1, -1 },
	{ "nul in another line", "bob:x\0y:1::::::\nalice:$6$x$y:7::::::\n",
	  sizeof("bob:x\0y:1::::::\nalice:$6$x$y:7::::::\n") - 1,
	  "alice", 0, "$6$x$y", false, 7, -1, -1, -1 },
	{ "empty text", "", 0, "alice", -SSPR_E_NO_LINE },
	{ "missing", "root:*:1::::::\nbob:x:1::::::\n", 0, "alice", -SSPR_E_NO_LINE },
	{ "nis only", "+alice::::::::\n", 0, "alice", -SSPR_E_NO_LINE },
	{ "duplicate", "alice:x:1::::::\nbob:x:1::::::\nalice:y:2::::::\n", 0,
	  "alice", -SSPR_E_DUP_LINE },
	{ "duplicate one malformed", "alice:x:1::::::\nalice:\n", 0,
	  "alice", -SSPR_E_DUP_LINE },
	{ "duplicate crlf", "alice:x:1::::::\r\nalice:x:1::::::\r\n", 0,
	  "alice", -SSPR_E_DUP_LINE },
	{ "too few fields", "alice:x:1:::::\n", 0, "alice", -EINVAL },
	{ "too many fields", "alice:x:1::::::::\n", 0, "alice", -EINVAL },
	{ "letters in lastchg", "alice:x:abc::::::\n", 0, "alice", -EINVAL },
	{ "blank in lastchg", "alice:x: 1::::::\n", 0, "alice", -EINVAL },
	{ "plus sign", "alice:x:+1::::::\n", 0, "alice", -EINVAL },
	{ "minus one", "alice:x:1:::-1:::\n", 0, "alice", -EINVAL },
	{ "hex", "alice:x:0x10::::::\n", 0, "alice", -EINVAL },
	{ "over int", "alice:x:1::2147483648::::\n", 0, "alice", -EINVAL },
	{ "int max", "alice:x:1::2147483647::::\n", 0,
	  "alice", 0, "x", false, 1, 2147483647, -1, -1 },
	{ "huge", "alice:x:99999999999999999999999::::::\n", 0, "alice", -EINVAL },
	{ "bad min", "alice:x:1:z:::::\n", 0, "alice", -EINVAL },
	{ "bad warn", "alice:x:1:::z:::\n", 0, "alice", -EINVAL },
	{ "bad expire", "alice:x:1:::::z:\n", 0, "alice", -EINVAL },
	{ "bad reserved", "alice:x:1::::::z\n", 0, "alice", -EINVAL },
	{ "nul in line", "alice:x\0:1::::::\n", sizeof("alice:x\0:1::::::\n") - 1,
	  "alice", -EINVAL },
	{ "blank in reserved", "alice:x:1:::::: \n", 0, "alice", -EINVAL },
	{ "bad user empty", "alice:x:1::::::\n", 0, "", -EINVAL },
	{ "bad user colon", "alice:x:1::::::\n", 0, "alice:x", -EINVAL },
	{ "bad user nl", "alice:x:1::::::\n", 0, "ali\nce", -EINVAL },
	{ "bad user plus", "+alice:x:1::::::\n", 0, "+alice", -EINVAL },
	{ "bad user minus", "-alice:x:1::::::\n", 0, "-alice", -EINVAL },
};

static void test_find_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < SSPR_ELEMENTSOF(find_cases); i++) {
		const struct find_case *c = &find_cases[i];
		size_t len = c->len ? c->len : strlen(c->text);
		struct sspr_shadow_info info, untouched;
		int r;

		memset(&info, 0xa5, sizeof info);
		untouched = info;
		r = sspr_shadow_find(c->text, len, c->user, &info);
		if (r != c->ret)
			fail_msg("%s: got %d (%s), want %d", c->name, r, sspr_strerror(r), c->ret);
		if (r < 0) {
			if (memcmp(&info, &untouched, sizeof info) != 0)
				fail_msg("%s: output changed on failure", c->name);
			continue;
		}
		if (strcmp(info.hash, c->hash) != 0)
			fail_msg("%s: hash '%s', want '%s'", c->name, info.hash, c->hash);
		if (info.locked != c->locked || info.lastchg != c->lastchg ||
		    info.max != c->max || info.inactive != c->inactive ||
		    info.expire != c->expire)
			fail_msg("%s: got locked=%d lastchg=%ld max=%ld inactive=%ld expire=%ld",
			         c->name, info.locked, info.lastchg, info.max, info.inactive,
			         info.expire);
	}
}

static void test_find_args(void **state)
{
	struct sspr_shadow_info info;
	char big[SSPR_HASH_MAX + 32];

	(void)state;
	assert_int_equal(sspr_shadow_find(NULL, 0, "alice", &info), -SSPR_E_NO_LINE);
	assert_int_equal(sspr_shadow_find(NULL, 5, "alice", &info), -EINVAL);
	assert_int_equal(sspr_shadow_find("alice:x:1::::::", 15, NULL, &info), -EINVAL);
	assert_int_equal(sspr_shadow_find("alice:x:1::::::", 15, "alice", NULL), -EINVAL);
	/* len is honoured: the text need not be NUL-terminated. */
	assert_int_equal(sspr_shadow_find("alice:x:1::::::\nalice:y:2::::::\n", 16, "alice", &info), 0);
	assert_string_equal(info.hash, "x");
	/* A hash field that does not fit the info is a malformed line. */
	memcpy(big, "alice:", 6);
	memset(big + 6, 'a', SSPR_HASH_MAX);
	memcpy(big + 6 + SSPR_HASH_MAX, ":1::::::", 8);
	assert_int_equal(sspr_shadow_find(big, 6 + SSPR_HASH_MAX + 8, "alice", &info), -EINVAL);
}

/* ---- sspr_shadow_edit ---------------------------------------------- */

struct edit_case {
	const char *name;
	const char *text;
	const char *user;
	const char *hash;
	long today;
	int ret;
	const char *want;
};

static const struct edit_case edit_cases[] = {
	{ "plain", "root:*:19000:0:99999:7:::\nalice:" HASH_A ":19500:0:99999:7:::\nbob:x:1:::::::\n",
	  "alice", HASH_NEW, TODAY, 0,
	  "root:*:19000:0:99999:7:::\nalice:" HASH_NEW ":20000:0:99999:7:::\nbob:x:1:::::::\n" },
	{ "keeps fields 4-9", "alice:old:1:2:3:4:5:6:7\n", "alice", HASH_NEW, TODAY, 0,
	  "alice:" HASH_NEW ":20000:2:3:4:5:6:7\n" },
	{ "empty lastchg", "alice:old:::::::\n", "alice", HASH_NEW, 5, 0,
	  "alice:" HASH_NEW ":5::::::\n" },
	{ "lastchg zero", "alice:old:0::::::\n", "alice", HASH_NEW, TODAY, 0,
	  "alice:" HASH_NEW ":20000::::::\n" },
	{ "empty hash", "alice::1::::::\n", "alice", HASH_NEW, TODAY, 0,
	  "alice:" HASH_NEW ":20000::::::\n" },
	{ "crlf", "# head\r\nalice:old:1::::::\r\nbob:x:1::::::\r\n", "alice", HASH_NEW, TODAY, 0,
	  "# head\r\nalice:" HASH_NEW ":20000::::::\r\nbob:x:1::::::\r\n" },
	{ "no trailing newline", "bob:x:1::::::\nalice:old:1:0:99999:7:::", "alice", HASH_NEW, TODAY, 0,
	  "bob:x:1::::::\nalice:" HASH_NEW ":20000:0:99999:7:::" },
	{ "no trailing newline crlf", "bob:x:1::::::\r\nalice:old:1:0:99999:7:::\r", "alice",
	  HASH_NEW, TODAY, 0,
	  "bob:x:1::::::\r\nalice:" HASH_NEW ":20000:0:99999:7:::\r" },
	{ "odd lines kept",
	  "# comment: alice:x:1\n\n\t\n+alice::::::::\n-@grp::::::::\n+\ngarbage line\n"
	  "alice:old:1::::::\n  spaces  \nxyz:::\n",
	  "alice", HASH_NEW, TODAY, 0,
	  "# comment: alice:x:1\n\n\t\n+alice::::::::\n-@grp::::::::\n+\ngarbage line\n"
	  "alice:" HASH_NEW ":20000::::::\n  spaces  \nxyz:::\n" },
	{ "prefix user al", "al:old:1::::::\nalice:keep:2::::::\nalbert:keep:3::::::\n", "al",
	  HASH_NEW, TODAY, 0,
	  "al:" HASH_NEW ":20000::::::\nalice:keep:2::::::\nalbert:keep:3::::::\n" },
	{ "prefix user alice", "al:keep:1::::::\nalice:old:2::::::\n", "alice", HASH_NEW, TODAY, 0,
	  "al:keep:1::::::\nalice:" HASH_NEW ":20000::::::\n" },
	{ "locked is editable", "alice:!old:1::::::\n", "alice", HASH_NEW, TODAY, 0,
	  "alice:" HASH_NEW ":20000::::::\n" },
	{ "missing", "bob:x:1::::::\n", "alice", HASH_NEW, TODAY, -SSPR_E_NO_LINE, NULL },
	{ "dup", "alice:a:1::::::\nalice:a:1::::::\n", "alice", HASH_NEW, TODAY, -SSPR_E_DUP_LINE, NULL },
	{ "malformed target", "alice:a:x::::::\n", "alice", HASH_NEW, TODAY, -EINVAL, NULL },
	{ "malformed fields later", "alice:a:1:::::q:\n", "alice", HASH_NEW, TODAY, -EINVAL, NULL },
	{ "short target", "alice:a:1\n", "alice", HASH_NEW, TODAY, -EINVAL, NULL },
	{ "hash empty", "alice:a:1::::::\n", "alice", "", TODAY, -SSPR_E_BAD_HASH, NULL },
	{ "hash colon", "alice:a:1::::::\n", "alice", "$6$a:b", TODAY, -SSPR_E_BAD_HASH, NULL },
	{ "hash newline", "alice:a:1::::::\n", "alice", "$6$a\nb", TODAY, -SSPR_E_BAD_HASH, NULL },
	{ "hash blank", "alice:a:1::::::\n", "alice", "$6$a b", TODAY, -SSPR_E_BAD_HASH, NULL },
	{ "hash NULL", "alice:a:1::::::\n", "alice", NULL, TODAY, -SSPR_E_BAD_HASH, NULL },
	{ "hash crypt failure", "alice:a:1::::::\n", "alice", "*0", TODAY, -SSPR_E_BAD_HASH, NULL },
	{ "hash locking", "alice:a:1::::::\n", "alice", "*", TODAY, -SSPR_E_BAD_HASH, NULL },
	{ "today zero", "alice:a:1::::::\n", "alice", HASH_NEW, 0, -EINVAL, NULL },
	{ "today negative", "alice:a:1::::::\n", "alice", HASH_NEW, -5, -EINVAL, NULL },
	{ "today huge", "alice:a:1::::::\n", "alice", HASH_NEW, (long)INT_MAX + 1, -EINVAL, NULL },
	{ "bad user", "alice:a:1::::::\n", "alice:a", HASH_NEW, TODAY, -EINVAL, NULL },
};

static void test_edit_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < SSPR_ELEMENTSOF(edit_cases); i++) {
		const struct edit_case *c = &edit_cases[i];
		char *out = (char *)&out; /* sentinels: untouched on failure */
		size_t outlen = 4242;
		int r;

		r = sspr_shadow_edit(c->text, strlen(c->text), c->user, c->hash, c->today,
		                     &out, &outlen);
		if (r != c->ret)
			fail_msg("%s: got %d (%s), want %d", c->name, r, sspr_strerror(r), c->ret);
		if (r < 0) {
			if (out != (char *)&out || outlen != 4242)
				fail_msg("%s: outputs changed on failure", c->name);
			continue;
		}
		if (outlen != strlen(c->want) || memcmp(out, c->want, outlen) != 0)
			fail_msg("%s: got\n%.*s\nwant\n%s", c->name, (int)outlen, out, c->want);
		free(out);
	}
}

/* Every byte around the target line survives, whatever the bytes are. */
static void test_edit_bytes(void **state)
{
	char head[2048], tail[2048], *text, *out = NULL;
	const char *line = "alice:old:1:0:99999:7:::\n";
	const char *want = "alice:" HASH_NEW ":20000:0:99999:7:::\n";
	size_t hl = 0, tl = 0, len, outlen = 0;
	unsigned seed = 12345;

	(void)state;
	/* Lines of random bytes (but never a line starting with "alice:"). */
	for (size_t i = 0; i < sizeof head; i++) {
		seed = seed * 1103515245u + 12345u;
		head[i] = (char)(seed >> 16);
		seed = seed * 1103515245u + 12345u;
		tail[i] = (char)(seed >> 16);
	}
	for (size_t i = 0; i < sizeof head; i += 37)
		head[i] = '\n', tail[i] = '\n';
	head[sizeof head - 1] = '\n';
	hl = sizeof head;
	tl = sizeof tail;
	for (size_t i = 0; i + 1 < hl; i++)
		if (head[i] == '\n' && head[i + 1] == 'a')
			head[i + 1] = 'b';
	for (size_t i = 0; i + 1 < tl; i++)
		if (tail[i] == '\n' && tail[i + 1] == 'a')
			tail[i + 1] = 'b';
	if (tail[0] == 'a')
		tail[0] = 'b';

	len = hl + strlen(line) + tl;
	text = malloc(len);
	assert_non_null(text);
	memcpy(text, head, hl);
	memcpy(text + hl, line, strlen(line));
	memcpy(text + hl + strlen(line), tail, tl);
	assert_int_equal(sspr_shadow_edit(text, len, "alice", HASH_NEW, TODAY, &out, &outlen), 0);
	assert_int_equal(outlen, hl + strlen(want) + tl);
	assert_memory_equal(out, head, hl);
	assert_memory_equal(out + hl, want, strlen(want));
	assert_memory_equal(out + hl + strlen(want), tail, tl);
	free(out);
	free(text);
}

/* ---- sspr_shadow_edit_expire ----------------------------------------- */

struct expire_case {
	const char *name;
	const char *text;
	const char *users[4];
	size_t n;
	int ret;
	size_t bad;       /* expected *ret_bad when ret < 0 and a name is at fault */
	const char *want; /* when ret == 0 */
};

#define NO_BAD ((size_t)-1)

static const struct expire_case expire_cases[] = {
	{ "batch", "# c\nroot:*:19000:0:99999:7:::\nalice:$6$a:19500:0:99999:7:::\n"
	  "bob:$6$b::0:99999:7:::\ncarol:!$6$c:1:::::99:\n",
	  { "alice", "bob", "carol" }, 3, 0, NO_BAD,
	  "# c\nroot:*:19000:0:99999:7:::\nalice:$6$a:0:0:99999:7:::\n"
	  "bob:$6$b:0:0:99999:7:::\ncarol:!$6$c:0:::::99:\n" },
	{ "order and duplicates in the list", "a:x:1::::::\nb:x:2::::::\nc:x:3::::::\n",
	  { "c", "a", "c" }, 3, 0, NO_BAD, "a:x:0::::::\nb:x:2::::::\nc:x:0::::::\n" },
	{ "crlf and no final newline", "a:x:1::::::\r\nb:x:22222::::::\r\nc:x:3::::::",
	  { "b", "c" }, 2, 0, NO_BAD, "a:x:1::::::\r\nb:x:0::::::\r\nc:x:0::::::" },
	{ "prefix names", "al:x:1::::::\nalice:x:2::::::\nalbert:x:3::::::\n",
	  { "al" }, 1, 0, NO_BAD, "al:x:0::::::\nalice:x:2::::::\nalbert:x:3::::::\n" },
	{ "nis and comments ignored", "+a::::::::\n# a:x:1\n-a::::::::\na:x:1::::::\n",
	  { "a" }, 1, 0, NO_BAD, "+a::::::::\n# a:x:1\n-a::::::::\na:x:0::::::\n" },
	{ "missing mid-batch", "a:x:1::::::\nb:x:2::::::\nc:x:3::::::\n",
	  { "a", "ghost", "c" }, 3, -SSPR_E_NO_LINE, 1, NULL },
	{ "duplicate line", "a:x:1::::::\nb:x:2::::::\nb:y:3::::::\n",
	  { "a", "b" }, 2, -SSPR_E_DUP_LINE, 1, NULL },
	{ "first offender named", "a:x:1::::::\nb:x:2::::::\nb:y:3::::::\n",
	  { "zz", "b" }, 2, -SSPR_E_NO_LINE, 0, NULL },
	{ "malformed line", "a:x:1::::::\nb:x:2::\n",
	  { "a", "b" }, 2, -EINVAL, 1, NULL },
	{ "malformed field", "a:x:1::::::\nb:x:2:q:::::\n",
	  { "b" }, 1, -EINVAL, 0, NULL },
	{ "bad name", "a:x:1::::::\n", { "a", "b:c" }, 2, -EINVAL, 1, NULL },
	{ "nis name", "+a:x:1::::::\n", { "+a" }, 1, -EINVAL, 0, NULL },
	{ "empty batch", "a:x:1::::::\n", { NULL }, 0, -EINVAL, NO_BAD, NULL },
};

static void test_expire_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < SSPR_ELEMENTSOF(expire_cases); i++) {
		const struct expire_case *c = &expire_cases[i];
		char *out = (char *)&out;
		size_t outlen = 4242, bad = NO_BAD;
		int r;

		r = sspr_shadow_edit_expire(c->text, strlen(c->text), c->users, c->n, &out,
		                            &outlen, &bad);
		if (r != c->ret)
			fail_msg("%s: got %d (%s), want %d", c->name, r, sspr_strerror(r), c->ret);
		if (r < 0) {
			if (out != (char *)&out || outlen != 4242)
				fail_msg("%s: outputs changed on failure", c->name);
			if (bad != c->bad)
				fail_msg("%s: bad index %zu, want %zu", c->name, bad, c->bad);
			continue;
		}
		if (outlen != strlen(c->want) || memcmp(out, c->want, outlen) != 0)
			fail_msg("%s: got\n%.*s\nwant\n%s", c->name, (int)outlen, out, c->want);
		free(out);
	}
}

/* Many users, listed in random order, in a large file: each listed line
 * gets lastchg 0, no other byte moves. */
static void test_expire_many(void **state)
{
	enum { USERS = 3000 };
	char *text, *want, *out = NULL, **names;
	const char **list;
	size_t len = 0, wlen = 0, outlen = 0, n = 0, bad = NO_BAD;
	unsigned seed = 99;

	(void)state;
	text = malloc(USERS * 64);
	want = malloc(USERS * 64);
	names = calloc(USERS, sizeof *names);
	list = calloc(USERS, sizeof *list);
	assert_non_null(text);
	assert_non_null(want);
	assert_non_null(names);
	assert_non_null(list);
	for (size_t i = 0; i < USERS; i++) {
		bool pick;

		seed = seed * 1103515245u + 12345u;
		pick = (seed >> 16) % 3 == 0;
		assert_true(asprintf(&names[i], "u%zu", i) > 0);
		len += (size_t)sprintf(text + len, "u%zu:$6$s$h%zu:%zu:0:99999:7:::\n", i, i, 10000 + i);
		if (pick) {
			wlen += (size_t)sprintf(want + wlen, "u%zu:$6$s$h%zu:0:0:99999:7:::\n", i, i);
			list[n++] = names[i];
		} else {
			wlen += (size_t)sprintf(want + wlen, "u%zu:$6$s$h%zu:%zu:0:99999:7:::\n", i, i,
			                        10000 + i);
		}
	}
	/* shuffle the list */
	for (size_t i = n - 1; i > 0; i--) {
		size_t j;
		const char *t;

		seed = seed * 1103515245u + 12345u;
		j = (seed >> 8) % (i + 1);
		t = list[i], list[i] = list[j], list[j] = t;
	}
	assert_int_equal(sspr_shadow_edit_expire(text, len, list, n, &out, &outlen, &bad), 0);
	assert_int_equal(outlen, wlen);
	assert_memory_equal(out, want, wlen);
	free(out);
	for (size_t i = 0; i < USERS; i++)
		free(names[i]);
	free(names);
	free(list);
	free(text);
	free(want);
}

/* ---- sspr_shadow_check --------------------------------------------- */

static struct sspr_shadow_info mkinfo(bool locked, long lastchg, long max, long inactive,
                                      long expire)
{
	struct sspr_shadow_info i = { 0 };

	i.locked = locked;
	i.lastchg = lastchg;
	i.max = max;
	i.inactive = inactive;
	i.expire = expire;
	return i;
}

static void test_check(void **state)
{
	struct sspr_shadow_info i;

	(void)state;
	i = mkinfo(false, 19000, -1, -1, -1);
	assert_int_equal(sspr_shadow_check(&i, TODAY), 0);
	assert_int_equal(sspr_shadow_check(NULL, TODAY), -EINVAL);

	/* locked */
	i = mkinfo(true, 19000, -1, -1, -1);
	assert_int_equal(sspr_shadow_check(&i, TODAY), -SSPR_E_LOCKED_PW);

	/* expire: the day before is fine, the day itself and after are not */
	i = mkinfo(false, 19000, -1, -1, TODAY);
	assert_int_equal(sspr_shadow_check(&i, TODAY - 1), 0);
	assert_int_equal(sspr_shadow_check(&i, TODAY), -SSPR_E_ACCOUNT_EXPIRED);
	assert_int_equal(sspr_shadow_check(&i, TODAY + 1), -SSPR_E_ACCOUNT_EXPIRED);
	/* expire 0 is expired (pam_unix reads it so) */
	i = mkinfo(false, 19000, -1, -1, 0);
	assert_int_equal(sspr_shadow_check(&i, TODAY), -SSPR_E_ACCOUNT_EXPIRED);

	/* inactivity: lastchg 100, max 10, inactive 5: inactive from day 115 */
	i = mkinfo(false, 100, 10, 5, -1);
	assert_int_equal(sspr_shadow_check(&i, 109), 0);
	assert_int_equal(sspr_shadow_check(&i, 110), 0); /* password expired: no bar */
	assert_int_equal(sspr_shadow_check(&i, 114), 0);
	assert_int_equal(sspr_shadow_check(&i, 115), -SSPR_E_ACCOUNT_INACTIVE);
	assert_int_equal(sspr_shadow_check(&i, 116), -SSPR_E_ACCOUNT_INACTIVE);
	/* inactive 0: inactive as soon as the password expires */
	i = mkinfo(false, 100, 10, 0, -1);
	assert_int_equal(sspr_shadow_check(&i, 109), 0);
	assert_int_equal(sspr_shadow_check(&i, 110), -SSPR_E_ACCOUNT_INACTIVE);
	/* no inactivity without max, without inactive, with aging off */
	i = mkinfo(false, 100, -1, 5, -1);
	assert_int_equal(sspr_shadow_check(&i, TODAY), 0);
	i = mkinfo(false, 100, 10, -1, -1);
	assert_int_equal(sspr_shadow_check(&i, TODAY), 0);
	i = mkinfo(false, -1, 10, 5, -1);
	assert_int_equal(sspr_shadow_check(&i, TODAY), 0);
	/* lastchg 0 (sspr-cli expire): inactivity not applied */
	i = mkinfo(false, 0, 10, 5, -1);
	assert_int_equal(sspr_shadow_check(&i, TODAY), 0);
	/* ... but expiry still is */
	i = mkinfo(false, 0, 10, 5, TODAY);
	assert_int_equal(sspr_shadow_check(&i, TODAY), -SSPR_E_ACCOUNT_EXPIRED);
	/* lastchg in the future: not inactive */
	i = mkinfo(false, TODAY + 10, 0, 0, -1);
	assert_int_equal(sspr_shadow_check(&i, TODAY), 0);
	/* no overflow with huge max + inactive */
	i = mkinfo(false, 1, LONG_MAX, LONG_MAX, -1);
	assert_int_equal(sspr_shadow_check(&i, TODAY), 0);
	/* locked wins over expired; expired over inactive */
	i = mkinfo(true, 100, 10, 5, 50);
	assert_int_equal(sspr_shadow_check(&i, TODAY), -SSPR_E_LOCKED_PW);
	i = mkinfo(false, 100, 10, 5, 50);
	assert_int_equal(sspr_shadow_check(&i, TODAY), -SSPR_E_ACCOUNT_EXPIRED);
}

/* ---- sspr_shadow_update in a temporary directory ---------------------- */

struct tmp {
	char dir[64];
	char path[128];
};

static const char *at(struct tmp *t, const char *name)
{
	(void)snprintf(t->path, sizeof t->path, "%s/%s", t->dir, name);
	return t->path;
}

static void spit(struct tmp *t, const char *name, const char *data, size_t len, mode_t mode)
{
	int fd = open(at(t, name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static char *slurp(struct tmp *t, const char *name, size_t *len)
{
	char *buf = malloc(1 << 20);
	int fd = open(at(t, name), O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_non_null(buf);
	assert_true(fd >= 0);
	n = read(fd, buf, 1 << 20);
	assert_true(n >= 0);
	assert_int_equal(close(fd), 0);
	*len = (size_t)n;
	return buf;
}

static void assert_file(struct tmp *t, const char *name, const char *want, size_t wantlen)
{
	size_t len;
	char *got = slurp(t, name, &len);

	if (len != wantlen || memcmp(got, want, len) != 0)
		fail_msg("%s: got\n%.*s\nwant\n%.*s", name, (int)len, got, (int)wantlen, want);
	free(got);
}

/* The directory holds exactly the names given (plus . and ..). */
static void assert_dir(struct tmp *t, const char *const *names, size_t n)
{
	DIR *d = opendir(t->dir);
	struct dirent *de;
	size_t seen = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		bool known = false;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		for (size_t i = 0; i < n; i++)
			known |= strcmp(de->d_name, names[i]) == 0;
		if (!known)
			fail_msg("unexpected file %s", de->d_name);
		seen++;
	}
	assert_int_equal(closedir(d), 0);
	assert_int_equal(seen, n);
}

static const char *const after_ok[] = { "shadow", "shadow-", ".pwd.lock" };

static int setup_tmp(void **state)
{
	struct tmp *t = calloc(1, sizeof *t);

	if (!t)
		return -1;
	strcpy(t->dir, "/tmp/sspr-test-shadow.XXXXXX");
	if (!mkdtemp(t->dir)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[512];

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		(void)snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		if (unlink(p) < 0)
			rm_tree(p); /* a directory */
	}
	(void)closedir(d);
	(void)rmdir(dir);
}

static int teardown_tmp(void **state)
{
	struct tmp *t = *state;

	(void)chmod(t->dir, 0700);
	rm_tree(t->dir);
	free(t);
	return 0;
}

static const char shadow_text[] =
	"# local accounts\r\n"
	"root:*:19000:0:99999:7:::\n"
	"\n"
	"al:$6$al$al:19001:0:99999:7:::\n"
	"alice:$6$old$oldhash:19500:0:99999:7:::\r\n"
	"+nisuser::::::::\n"
	"locked:!$6$x$y:19500:0:99999:7:::\n"
	"gone:$6$x$y:19500:0:99999:7::19999:\n"
	"idle:$6$x$y:19000:0:10:7:5::\n"
	"fresh:$6$x$y:0:0:10:7:5::\n"
	"dup:a:1::::::\n"
	"dup:b:2::::::\n"
	"bad:a:x::::::\n"
	"weird line without colons\n"
	"last:$5$s$h:19600::::::";

static const char old_backup[] = "previous backup\n";

static void put_shadow(struct tmp *t)
{
	spit(t, "shadow", shadow_text, sizeof shadow_text - 1, 0640);
	spit(t, "shadow-", old_backup, sizeof old_backup - 1, 0600);
}

static void test_update_ok(void **state)
{
	struct tmp *t = *state;
	struct stat before, after, bak, lock;
	char *want = NULL;
	size_t wantlen = 0;

	put_shadow(t);
	/* stale files of an interrupted run, and a stranger's file */
	spit(t, ".sspr-shadow.0123456789abcdef", "x", 1, 0600);
	spit(t, ".sspr-shadow-bak.0123456789abcdef", "x", 1, 0600);
	spit(t, ".sspr-shadowfoo", "keep", 4, 0600);
	assert_int_equal(stat(at(t, "shadow"), &before), 0);

	assert_int_equal(sspr_shadow_edit(shadow_text, sizeof shadow_text - 1, "alice", HASH_NEW,
	                                  TODAY, &want, &wantlen), 0);
	assert_int_equal(sspr_shadow_update(t->dir, "alice", HASH_NEW, TODAY), 0);

	/* the new file: only alice's fields 2 and 3 changed, CRLF kept */
	assert_file(t, "shadow", want, wantlen);
	{
		const char *line = "\nalice:" HASH_NEW ":20000:0:99999:7:::\r\n";

		assert_non_null(memmem(want, wantlen, line, strlen(line)));
	}
	assert_int_equal(stat(at(t, "shadow"), &after), 0);
	assert_int_equal(after.st_mode & 07777, 0640);
	assert_int_equal(after.st_uid, before.st_uid);
	assert_int_equal(after.st_gid, before.st_gid);
	assert_int_equal(after.st_nlink, 1);
	assert_true(after.st_ino != before.st_ino);
	/* shadow- is the old file itself, not a copy */
	assert_file(t, "shadow-", shadow_text, sizeof shadow_text - 1);
	assert_int_equal(stat(at(t, "shadow-"), &bak), 0);
	assert_int_equal(bak.st_ino, before.st_ino);
	assert_int_equal(bak.st_nlink, 1);
	/* the lock file as lckpwdf makes it */
	assert_int_equal(stat(at(t, ".pwd.lock"), &lock), 0);
	assert_true(S_ISREG(lock.st_mode));
	assert_int_equal(lock.st_mode & 07777, 0600);
	/* stale files gone, nothing of ours left, the stranger's kept */
	{
		const char *const names[] = { "shadow", "shadow-", ".pwd.lock", ".sspr-shadowfoo" };

		assert_dir(t, names, SSPR_ELEMENTSOF(names));
	}

	/* a second reset: shadow- becomes the first result */
	assert_int_equal(sspr_shadow_update(t->dir, "last", HASH_NEW, TODAY + 1), 0);
	assert_file(t, "shadow-", want, wantlen);
	{
		size_t len;
		char *got = slurp(t, "shadow", &len);
		const char *tailw = "last:" HASH_NEW ":20001::::::";

		/* the last line had no newline, and still has none */
		assert_true(len > strlen(tailw));
		assert_memory_equal(got + len - strlen(tailw), tailw, strlen(tailw));
		assert_memory_equal(got, want, wantlen - strlen("last:$5$s$h:19600::::::"));
		free(got);
	}
	free(want);
}

static void test_update_first_backup(void **state)
{
	struct tmp *t = *state;

	spit(t, "shadow", shadow_text, sizeof shadow_text - 1, 0600);
	assert_int_equal(sspr_shadow_update(t->dir, "al", HASH_NEW, TODAY), 0);
	assert_file(t, "shadow-", shadow_text, sizeof shadow_text - 1);
	assert_dir(t, after_ok, SSPR_ELEMENTSOF(after_ok));
}

/* Each refusal leaves shadow byte-identical (same inode) and shadow- alone. */
static void test_update_refused(void **state)
{
	static const struct {
		const char *user, *hash;
		long today;
		int ret;
	} cases[] = {
		{ "locked", HASH_NEW, TODAY, -SSPR_E_LOCKED_PW },
		{ "root", HASH_NEW, TODAY, -SSPR_E_LOCKED_PW },
		{ "gone", HASH_NEW, 19999, -SSPR_E_ACCOUNT_EXPIRED },
		{ "idle", HASH_NEW, 19015, -SSPR_E_ACCOUNT_INACTIVE },
		{ "nobody", HASH_NEW, TODAY, -SSPR_E_NO_LINE },
		{ "nisuser", HASH_NEW, TODAY, -SSPR_E_NO_LINE },
		{ "ali", HASH_NEW, TODAY, -SSPR_E_NO_LINE },
		{ "dup", HASH_NEW, TODAY, -SSPR_E_DUP_LINE },
		{ "bad", HASH_NEW, TODAY, -EINVAL },
		{ "alice", "$6$a:b", TODAY, -SSPR_E_BAD_HASH },
		{ "alice", "", TODAY, -SSPR_E_BAD_HASH },
		{ "alice", HASH_NEW, 0, -EINVAL },
		{ "+nisuser", HASH_NEW, TODAY, -EINVAL },
		{ "", HASH_NEW, TODAY, -EINVAL },
	};
	struct tmp *t = *state;
	struct stat before, after, bak;

	put_shadow(t);
	assert_int_equal(stat(at(t, "shadow"), &before), 0);
	assert_int_equal(stat(at(t, "shadow-"), &bak), 0);
	for (size_t i = 0; i < SSPR_ELEMENTSOF(cases); i++) {
		struct stat s, b;
		int r = sspr_shadow_update(t->dir, cases[i].user, cases[i].hash, cases[i].today);

		if (r != cases[i].ret)
			fail_msg("%s: got %d (%s), want %d", cases[i].user, r, sspr_strerror(r),
			         cases[i].ret);
		assert_file(t, "shadow", shadow_text, sizeof shadow_text - 1);
		assert_file(t, "shadow-", old_backup, sizeof old_backup - 1);
		assert_int_equal(stat(at(t, "shadow"), &s), 0);
		assert_int_equal(stat(at(t, "shadow-"), &b), 0);
		assert_int_equal(s.st_ino, before.st_ino);
		assert_int_equal(b.st_ino, bak.st_ino);
	}
	/* checks before the lock leave no lock file behind; the others made it */
	{
		const char *const names[] = { "shadow", "shadow-", ".pwd.lock" };

		assert_dir(t, names, SSPR_ELEMENTSOF(names));
	}
	/* an expired password (max passed, lastchg 0) is no bar */
	assert_int_equal(sspr_shadow_update(t->dir, "fresh", HASH_NEW, TODAY), 0);
	assert_int_equal(stat(at(t, "shadow"), &after), 0);
	assert_true(after.st_ino != before.st_ino);
}

/* The old file is kept when a step before the rename fails: here shadow-
 * is a directory, so the backup rename fails. */
static void test_update_fail_before_rename(void **state)
{
	struct tmp *t = *state;
	const char *const names[] = { "shadow", "shadow-", ".pwd.lock" };

	spit(t, "shadow", shadow_text, sizeof shadow_text - 1, 0640);
	assert_int_equal(mkdir(at(t, "shadow-"), 0700), 0);
	spit(t, "shadow-/x", "x", 1, 0600);
	assert_true(sspr_shadow_update(t->dir, "alice", HASH_NEW, TODAY) < 0);
	assert_file(t, "shadow", shadow_text, sizeof shadow_text - 1);
	assert_dir(t, names, SSPR_ELEMENTSOF(names)); /* no temp, no backup link */
}

static void test_update_bad_files(void **state)
{
	struct tmp *t = *state;
	char big[sizeof(((struct tmp *)0)->dir) + 16];

	/* no shadow at all */
	assert_int_equal(sspr_shadow_update(t->dir, "alice", HASH_NEW, TODAY), -ENOENT);
	assert_int_equal(sspr_shadow_lookup(t->dir, "alice", &(struct sspr_shadow_info){ 0 }),
	                 -ENOENT);
	/* shadow a symlink: never followed */
	spit(t, "real", shadow_text, sizeof shadow_text - 1, 0600);
	assert_int_equal(symlink("real", at(t, "shadow")), 0);
	assert_int_equal(sspr_shadow_update(t->dir, "alice", HASH_NEW, TODAY), -ELOOP);
	assert_file(t, "real", shadow_text, sizeof shadow_text - 1);
	assert_int_equal(unlink(at(t, "shadow")), 0);
	/* shadow a directory */
	assert_int_equal(mkdir(at(t, "shadow"), 0700), 0);
	assert_int_equal(sspr_shadow_update(t->dir, "alice", HASH_NEW, TODAY),
	                 -SSPR_E_UNSAFE_FILE);
	assert_int_equal(rmdir(at(t, "shadow")), 0);
	/* shadow a FIFO: refused without blocking */
	assert_int_equal(mkfifo(at(t, "shadow"), 0600), 0);
	assert_int_equal(sspr_shadow_update(t->dir, "alice", HASH_NEW, TODAY),
	                 -SSPR_E_UNSAFE_FILE);
	assert_int_equal(unlink(at(t, "shadow")), 0);
	/* the lock file a symlink: refused */
	assert_int_equal(unlink(at(t, ".pwd.lock")), 0);
	assert_int_equal(symlink("real", at(t, ".pwd.lock")), 0);
	spit(t, "shadow", shadow_text, sizeof shadow_text - 1, 0600);
	assert_int_equal(sspr_shadow_update(t->dir, "alice", HASH_NEW, TODAY), -ELOOP);
	assert_file(t, "shadow", shadow_text, sizeof shadow_text - 1);
	assert_int_equal(unlink(at(t, ".pwd.lock")), 0);
	/* etcdir missing or not a directory */
	(void)snprintf(big, sizeof big, "%s/nope", t->dir);
	assert_int_equal(sspr_shadow_update(big, "alice", HASH_NEW, TODAY), -ENOENT);
	assert_int_equal(sspr_shadow_update(at(t, "real"), "alice", HASH_NEW, TODAY), -ENOTDIR);
	assert_int_equal(sspr_shadow_update(NULL, "alice", HASH_NEW, TODAY), -EINVAL);
}

static void test_lookup(void **state)
{
	struct tmp *t = *state;
	struct sspr_shadow_info info;

	put_shadow(t);
	assert_int_equal(sspr_shadow_lookup(t->dir, "alice", &info), 0);
	assert_string_equal(info.hash, "$6$old$oldhash");
	assert_int_equal(info.lastchg, 19500);
	assert_int_equal(info.max, 99999);
	assert_false(info.locked);
	assert_int_equal(sspr_shadow_lookup(t->dir, "locked", &info), 0);
	assert_true(info.locked);
	assert_int_equal(sspr_shadow_lookup(t->dir, "dup", &info), -SSPR_E_DUP_LINE);
	assert_int_equal(sspr_shadow_lookup(t->dir, "nobody", &info), -SSPR_E_NO_LINE);
	assert_int_equal(sspr_shadow_lookup(t->dir, "bad", &info), -EINVAL);
	/* lookup takes no lock and writes nothing */
	assert_dir(t, (const char *const[]){ "shadow", "shadow-" }, 2);
}

/* Owner and group of the old file carry over (needs root to chown). */
static void test_update_owner(void **state)
{
	struct tmp *t = *state;
	struct stat st;

	if (geteuid() != 0)
		skip();
	put_shadow(t);
	assert_int_equal(chown(at(t, "shadow"), 0, 42), 0);
	assert_int_equal(chmod(at(t, "shadow"), 0640), 0);
	assert_int_equal(sspr_shadow_update(t->dir, "alice", HASH_NEW, TODAY), 0);
	assert_int_equal(stat(at(t, "shadow"), &st), 0);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_gid, 42);
	assert_int_equal(st.st_mode & 07777, 0640);

	assert_int_equal(chown(at(t, "shadow"), 4321, 8765), 0);
	assert_int_equal(chmod(at(t, "shadow"), 0400), 0);
	assert_int_equal(sspr_shadow_update(t->dir, "alice", HASH_A, TODAY), 0);
	assert_int_equal(stat(at(t, "shadow"), &st), 0);
	assert_int_equal(st.st_uid, 4321);
	assert_int_equal(st.st_gid, 8765);
	assert_int_equal(st.st_mode & 07777, 0400);
}

/* ---- sspr_shadow_expire on disk ----------------------------------------- */

static void test_expire_update(void **state)
{
	struct tmp *t = *state;
	const char *users[] = { "alice", "locked", "fresh", "last" };
	struct stat before, after, bak;
	char *want = NULL;
	size_t wantlen = 0, bad = NO_BAD;

	put_shadow(t);
	spit(t, ".sspr-shadow.stale", "x", 1, 0600);
	assert_int_equal(stat(at(t, "shadow"), &before), 0);
	assert_int_equal(sspr_shadow_edit_expire(shadow_text, sizeof shadow_text - 1, users, 4,
	                                         &want, &wantlen, &bad), 0);
	assert_int_equal(sspr_shadow_expire(t->dir, users, 4, &bad), 0);
	assert_int_equal(bad, NO_BAD);
	assert_file(t, "shadow", want, wantlen);
	assert_non_null(memmem(want, wantlen, "\nalice:$6$old$oldhash:0:0:99999:7:::\r\n", 37));
	assert_non_null(memmem(want, wantlen, "\nlast:$5$s$h:0::::::", 19));
	assert_file(t, "shadow-", shadow_text, sizeof shadow_text - 1);
	assert_int_equal(stat(at(t, "shadow"), &after), 0);
	assert_int_equal(stat(at(t, "shadow-"), &bak), 0);
	assert_int_equal(bak.st_ino, before.st_ino);
	assert_true(after.st_ino != before.st_ino);
	assert_int_equal(after.st_mode & 07777, 0640);
	assert_dir(t, after_ok, SSPR_ELEMENTSOF(after_ok));
	free(want);
}

/* A batch with a bad name in the middle writes nothing at all: shadow is
 * the same inode with the same bytes, shadow- untouched, no temp file. */
static void test_expire_refused_whole(void **state)
{
	static const struct {
		const char *users[4];
		size_t n;
		int ret;
		size_t bad;
	} cases[] = {
		{ { "alice", "nobody", "fresh" }, 3, -SSPR_E_NO_LINE, 1 },
		{ { "alice", "fresh", "dup" }, 3, -SSPR_E_DUP_LINE, 2 },
		{ { "alice", "bad", "fresh" }, 3, -EINVAL, 1 },
		{ { "alice", "nisuser", "fresh" }, 3, -SSPR_E_NO_LINE, 1 },
		{ { "alice", "+nisuser" }, 2, -EINVAL, 1 },
		{ { "ali", "alice" }, 2, -SSPR_E_NO_LINE, 0 },
		{ { NULL }, 0, -EINVAL, NO_BAD },
	};
	struct tmp *t = *state;
	struct stat before, bak;
	const char *const names[] = { "shadow", "shadow-", ".pwd.lock" };

	put_shadow(t);
	assert_int_equal(stat(at(t, "shadow"), &before), 0);
	assert_int_equal(stat(at(t, "shadow-"), &bak), 0);
	for (size_t i = 0; i < SSPR_ELEMENTSOF(cases); i++) {
		size_t bad = NO_BAD;
		struct stat s, b;
		int r = sspr_shadow_expire(t->dir, cases[i].users, cases[i].n, &bad);

		if (r != cases[i].ret || bad != cases[i].bad)
			fail_msg("case %zu: got %d (%s) bad %zu, want %d bad %zu", i, r,
			         sspr_strerror(r), bad, cases[i].ret, cases[i].bad);
		assert_file(t, "shadow", shadow_text, sizeof shadow_text - 1);
		assert_file(t, "shadow-", old_backup, sizeof old_backup - 1);
		assert_int_equal(stat(at(t, "shadow"), &s), 0);
		assert_int_equal(stat(at(t, "shadow-"), &b), 0);
		assert_int_equal(s.st_ino, before.st_ino);
		assert_int_equal(s.st_mtime, before.st_mtime);
		assert_int_equal(b.st_ino, bak.st_ino);
	}
	assert_int_equal(sspr_shadow_expire(t->dir, NULL, 1, NULL), -EINVAL);
	assert_int_equal(sspr_shadow_expire(NULL, (const char *const[]){ "alice" }, 1, NULL),
	                 -EINVAL);
	/* the names are checked before the lock, the lines under it */
	assert_dir(t, names, SSPR_ELEMENTSOF(names));
}

/* ---- what a crash or a limit leaves ------------------------------------ */

/* A crash between linking the old file and the switch leaves shadow with
 * a second name (.sspr-shadow-bak.*); the next run removes it, and shadow
 * and shadow- are never one inode. */
static void test_update_after_crash_link(void **state)
{
	struct tmp *t = *state;
	char stale[128];
	struct stat s, b;

	put_shadow(t);
	(void)snprintf(stale, sizeof stale, "%s/.sspr-shadow-bak.00ff", t->dir);
	assert_int_equal(link(at(t, "shadow"), stale), 0);
	spit(t, ".sspr-shadow.00ff", "partial", 7, 0600);
	assert_int_equal(sspr_shadow_update(t->dir, "alice", HASH_NEW, TODAY), 0);
	assert_dir(t, after_ok, SSPR_ELEMENTSOF(after_ok));
	assert_file(t, "shadow-", shadow_text, sizeof shadow_text - 1);
	assert_int_equal(stat(at(t, "shadow"), &s), 0);
	assert_int_equal(stat(at(t, "shadow-"), &b), 0);
	assert_true(s.st_ino != b.st_ino);
	assert_int_equal(s.st_nlink, 1);
	assert_int_equal(b.st_nlink, 1);
}

/* shadow- a second name of shadow on entry (an older writer that crashed
 * between its backup and its switch, or `ln shadow shadow-`): renaming the
 * link over shadow- is then a no-op, and the temporary name must still
 * go. */
static void test_update_backup_already_linked(void **state)
{
	struct tmp *t = *state;
	char bak[128];
	struct stat s, b;

	spit(t, "shadow", shadow_text, sizeof shadow_text - 1, 0640);
	(void)snprintf(bak, sizeof bak, "%s/shadow-", t->dir);
	assert_int_equal(link(at(t, "shadow"), bak), 0);
	assert_int_equal(sspr_shadow_update(t->dir, "alice", HASH_NEW, TODAY), 0);
	assert_dir(t, after_ok, SSPR_ELEMENTSOF(after_ok));
	assert_file(t, "shadow-", shadow_text, sizeof shadow_text - 1);
	assert_int_equal(stat(at(t, "shadow"), &s), 0);
	assert_int_equal(stat(at(t, "shadow-"), &b), 0);
	assert_true(s.st_ino != b.st_ino);
	assert_int_equal(b.st_nlink, 1);
}

/* Under an RLIMIT_FSIZE smaller than the new file the update fails
 * cleanly with -EFBIG (no SIGXFSZ, no partial temp file), in a child so
 * the limit stays there. */
static void test_update_fsize_limit(void **state)
{
	struct tmp *t = *state;
	int status;
	pid_t pid;

	put_shadow(t);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { 100, 100 };

		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(10);
		_exit(sspr_shadow_update(t->dir, "alice", HASH_NEW, TODAY) == -EFBIG ? 0 : 11);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		fail_msg("child killed by signal %d", WTERMSIG(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_file(t, "shadow", shadow_text, sizeof shadow_text - 1);
	assert_file(t, "shadow-", old_backup, sizeof old_backup - 1);
	assert_dir(t, after_ok, SSPR_ELEMENTSOF(after_ok));
}

/* ---- the lock -------------------------------------------------------- */

/* A child takes the lock as lckpwdf() does (fcntl locks belong to a
 * process, so it must be another one), reports 'L', and keeps it until
 * the parent writes to `release` or `hold_ms` passes.  Just before it lets
 * go it reports whether shadow is still the original text: 'U' unchanged
 * or 'C' changed.  Exit status 0 when all went well. */
static pid_t lock_holder(struct tmp *t, int hold_ms, int *ret_report, int *ret_release)
{
	int report[2], release[2];
	pid_t pid;

	assert_int_equal(pipe(report), 0);
	assert_int_equal(pipe(release), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		struct pollfd pfd = { .fd = release[0], .events = POLLIN };
		char buf[sizeof shadow_text];
		int fd, sfd;
		ssize_t n;
		char c;

		(void)close(report[0]);
		(void)close(release[1]);
		fd = open(at(t, ".pwd.lock"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
			_exit(2);
		if (write(report[1], "L", 1) != 1)
			_exit(3);
		(void)poll(&pfd, 1, hold_ms); /* hold the lock for a moment */
		sfd = open(at(t, "shadow"), O_RDONLY | O_CLOEXEC);
		n = sfd >= 0 ? read(sfd, buf, sizeof buf) : -1;
		c = n == (ssize_t)sizeof shadow_text - 1 &&
		    memcmp(buf, shadow_text, (size_t)n) == 0 ? 'U' : 'C';
		if (write(report[1], &c, 1) != 1)
			_exit(4);
		_exit(0); /* exit releases the lock */
	}
	(void)close(report[1]);
	(void)close(release[0]);
	*ret_report = report[0];
	*ret_release = release[1];
	return pid;
}

static void wait_child(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The update waits while another process holds the lock, and succeeds once
 * it is released; it never writes while the lock is held. */
static void test_lock_wait(void **state)
{
	struct tmp *t = *state;
	int rep, rel;
	pid_t pid;
	char c;

	put_shadow(t);
	pid = lock_holder(t, 300, &rep, &rel);
	assert_int_equal(read(rep, &c, 1), 1);
	assert_int_equal(c, 'L');
	/* blocks until the child lets go (300 ms), far within the 15 s bound */
	assert_int_equal(sspr_shadow_update(t->dir, "alice", HASH_NEW, TODAY), 0);
	assert_int_equal(read(rep, &c, 1), 1);
	assert_int_equal(c, 'U'); /* nothing written while the child held the lock */
	wait_child(pid);
	(void)close(rep);
	(void)close(rel);
	assert_file(t, "shadow-", shadow_text, sizeof shadow_text - 1);
	assert_dir(t, after_ok, SSPR_ELEMENTSOF(after_ok));
}

/* The wait is bounded: past the timeout, -SSPR_E_LOCK_TIMEOUT, nothing
 * written. */
static void test_lock_timeout(void **state)
{
	struct tmp *t = *state;
	int rep, rel;
	pid_t pid;
	char c;

	put_shadow(t);
	pid = lock_holder(t, 60000, &rep, &rel);
	assert_int_equal(read(rep, &c, 1), 1);
	assert_int_equal(c, 'L');
	assert_int_equal(sspr_shadow_update_timeout(t->dir, "alice", HASH_NEW, TODAY, 200),
	                 -SSPR_E_LOCK_TIMEOUT);
	assert_int_equal(sspr_shadow_update_timeout(t->dir, "alice", HASH_NEW, TODAY, 0),
	                 -SSPR_E_LOCK_TIMEOUT);
	assert_int_equal(write(rel, "x", 1), 1); /* let the child go */
	assert_int_equal(read(rep, &c, 1), 1);
	assert_int_equal(c, 'U');
	wait_child(pid);
	(void)close(rep);
	(void)close(rel);
	assert_file(t, "shadow", shadow_text, sizeof shadow_text - 1);
	assert_file(t, "shadow-", old_backup, sizeof old_backup - 1);
	/* and with the lock free it goes through */
	assert_int_equal(sspr_shadow_update_timeout(t->dir, "alice", HASH_NEW, TODAY, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alphabet),
		cmocka_unit_test(test_find_table),
		cmocka_unit_test(test_find_args),
		cmocka_unit_test(test_edit_table),
		cmocka_unit_test(test_edit_bytes),
		cmocka_unit_test(test_expire_table),
		cmocka_unit_test(test_expire_many),
		cmocka_unit_test(test_check),
		cmocka_unit_test_setup_teardown(test_update_ok, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_update_first_backup, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_update_refused, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_update_fail_before_rename, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_update_bad_files, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_lookup, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_update_owner, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_expire_update, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_expire_refused_whole, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_update_after_crash_link, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_update_backup_already_linked, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_update_fsize_limit, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_lock_wait, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_lock_timeout, setup_tmp, teardown_tmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
