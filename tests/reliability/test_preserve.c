/* SPDX-License-Identifier: BSD-2-Clause */
/* Preservation property (issue 4): over generated shadow files (comments,
 * blank and blank-looking lines, NIS +/- lines, names that share a prefix
 * with the target, odd and malformed lines of other users, random bytes,
 * LF and CRLF endings, no final newline), a reset changes only the
 * target line's fields 2 and 3, and an expire only field 3 of each listed
 * user; every other byte, line ending included, stays.  On disk, the
 * rewrite writes exactly the pure edit, or (refused) changes nothing.
 * 3000 files (200 on disk); RELIABILITY_LONG=1: 100000 (5000).
 * SSPR_SEED=N replays a run (the seed is printed). */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sspr/common.h"
#include "sspr/shadow.h"

#define TODAY 20123L
#define HASH "$y$j9T$newsaltnewsaltnewsa/$NEWHASHnewhash0123456789./NEWHASHnewhash01"
#define MAX_TEXT (64 * 1024)
#define NOTHER 6

static uint64_t rng;
static unsigned iterations = 3000, disk_every = 15;

static uint64_t next(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static unsigned pick(unsigned n)
{
	return (unsigned)(next() % n);
}

struct gen {
	char text[MAX_TEXT];
	size_t len;
	/* byte ranges [start, end) of each line, terminator included */
	size_t nlines;
	size_t start[256], end[256];
	/* the lines of users we target (alice, and for expire the others) */
	long target[1 + NOTHER];
	const char *names[1 + NOTHER];
	size_t ntargets;
};

static void put(struct gen *g, const char *s, size_t n)
{
	assert_true(g->len + n < MAX_TEXT);
	memcpy(g->text + g->len, s, n);
	g->len += n;
}

static void puts_(struct gen *g, const char *s)
{
	put(g, s, strlen(s));
}

static void put_number_field(struct gen *g, bool allow_empty)
{
	char buf[24];

	if (allow_empty && pick(3) == 0)
		return;
	switch (pick(4)) {
	case 0: (void)snprintf(buf, sizeof buf, "0"); break;
	case 1: (void)snprintf(buf, sizeof buf, "%u", pick(100000)); break;
	case 2: (void)snprintf(buf, sizeof buf, "%u", 2147483647u - pick(10)); break;
	default: (void)snprintf(buf, sizeof buf, "%u", pick(100)); break;
	}
	puts_(g, buf);
}

static void put_hash_field(struct gen *g)
{
	static const char alpha[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz$";
	unsigned n;

	switch (pick(6)) {
	case 0: return; /* empty */
	case 1: puts_(g, "*"); return;
	case 2: puts_(g, "!"); break; /* locked, then a hash */
	case 3: puts_(g, "!!"); return;
	default: break;
	}
	puts_(g, pick(2) ? "$y$j9T$" : "$6$");
	n = 10 + pick(80);
	for (unsigned i = 0; i < n; i++)
		put(g, &alpha[pick(sizeof alpha - 1)], 1);
}

/* A well-formed line for name: nine fields, random values. */
static void put_entry(struct gen *g, const char *name)
{
	puts_(g, name);
	puts_(g, ":");
	put_hash_field(g);
	for (int f = 3; f <= 9; f++) {
		puts_(g, ":");
		put_number_field(g, true);
	}
}

/* Names that are not alice but look close, and the other targets. */
static const char *const near_names[] = {
	"al", "alic", "alice2", "alicealice", "Alice", "xalice", "ali ce", "alice.x",
	"bob", "root", "daemon", "a",
};
static const char *const other_targets[NOTHER] = {
	"u1", "u22", "user-3", "w.4", "alice_", "alic3",
};

static void put_other_line(struct gen *g)
{
	static const char junk[] = "abc:xyz \t#+-!*$\x01\x7f\xc3\xa9\xff" "0123456789";
	unsigned n;

	switch (pick(11)) {
	case 0: /* comment, possibly naming alice */
		puts_(g, pick(2) ? "# alice:x:1:::::::" : "#");
		break;
	case 1: /* blank */
		break;
	case 2: /* blank-looking */
		puts_(g, pick(2) ? " " : "\t \t");
		break;
	case 3: /* NIS */
		puts_(g, (const char *const[]){ "+alice::::::::", "-alice:x:1::::::", "+@netgroup::::::::",
		                                "+", "-@grp", "+::::::::" }[pick(6)]);
		break;
	case 4: case 5: case 6: /* a near name's entry */
		put_entry(g, near_names[pick(SSPR_ELEMENTSOF(near_names))]);
		break;
	case 7: /* too few or too many fields, bad numbers */
		puts_(g, near_names[pick(SSPR_ELEMENTSOF(near_names))]);
		puts_(g, (const char *const[]){ ":x:1", ":x:1::::::::::", ":x:abc::::::", ":x:-1::::::",
		                                ":x: 1::::::", "", ":", "::::::::" }[pick(8)]);
		break;
	case 8: /* a line with a NUL byte */
		put(g, "nul:x\0y:1::::::", 15);
		break;
	case 9: /* a lone CR inside a line */
		puts_(g, "cr:x\r:1::::::");
		break;
	default: /* random bytes (never "alice:" at the start: not a letter a) */
		n = pick(40);
		put(g, "~", 1);
		for (unsigned i = 0; i < n; i++)
			put(g, &junk[pick(sizeof junk - 1)], 1);
		break;
	}
}

static void put_ending(struct gen *g, bool last)
{
	unsigned k = pick(last ? 5 : 3);

	if (k == 1)
		puts_(g, "\r\n");
	else if (k == 3)
		; /* no final newline */
	else if (k == 4)
		puts_(g, "\r"); /* a CR and no newline */
	else
		puts_(g, "\n");
}

/* A shadow text with alice's line and, when others, each of the other
 * targets once, among n other lines. */
static void generate(struct gen *g, bool others)
{
	unsigned n = pick(40);
	unsigned total = n + 1 + (others ? NOTHER : 0);
	bool placed[1 + NOTHER] = { false };
	unsigned left = 1 + (others ? NOTHER : 0);

	g->len = 0;
	g->nlines = 0;
	g->ntargets = 1 + (others ? NOTHER : 0);
	g->names[0] = "alice";
	for (size_t i = 0; i < NOTHER; i++)
		g->names[1 + i] = other_targets[i];
	for (unsigned i = 0; i < total; i++) {
		/* place a target with probability left / remaining lines */
		bool target = pick(total - i) < left;

		g->start[g->nlines] = g->len;
		if (target) {
			unsigned k;

			do
				k = pick((unsigned)g->ntargets);
			while (placed[k]);
			placed[k] = true;
			left--;
			g->target[k] = (long)g->nlines;
			put_entry(g, g->names[k]);
		} else {
			put_other_line(g);
		}
		put_ending(g, i == total - 1);
		g->end[g->nlines] = g->len;
		g->nlines++;
	}
	assert_int_equal(left, 0);
}

/* Split [s, e) of buf into content (without "\n" or a "\r" before it or
 * at the end) and ending. */
static void split_ending(const char *buf, size_t s, size_t e, size_t *ret_cend)
{
	size_t c = e;

	if (c > s && buf[c - 1] == '\n')
		c--;
	if (c > s && buf[c - 1] == '\r')
		c--;
	*ret_cend = c;
}

/* The fields of a line (content only): n fields into f/flen. */
static size_t fields(const char *p, size_t n, const char *f[12], size_t flen[12])
{
	size_t k = 0, b = 0;

	for (size_t i = 0; i <= n && k < 12; i++) {
		if (i < n && p[i] != ':')
			continue;
		f[k] = p + b;
		flen[k] = i - b;
		k++;
		b = i + 1;
	}
	return k;
}

static bool field_is(const char *f, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(f, s, n) == 0;
}

/* Check out against g: every line the same but the targets', whose fields
 * other than the changed ones are the same too.  want2 NULL: field 2 kept. */
static void check_edit(const struct gen *g, const char *out, size_t outlen, size_t ntargets,
                       const char *want2, const char *want3)
{
	size_t pos = 0;

	for (size_t i = 0; i < g->nlines; i++) {
		size_t s = g->start[i], e = g->end[i], oe, cend, ocend;
		long t = -1;

		/* the same line in out ends where its ending ends */
		oe = pos;
		while (oe < outlen && out[oe] != '\n')
			oe++;
		if (oe < outlen)
			oe++;
		for (size_t k = 0; k < ntargets; k++)
			if (g->target[k] == (long)i)
				t = (long)k;
		if (t < 0) {
			if (oe - pos != e - s || memcmp(out + pos, g->text + s, e - s) != 0)
				fail_msg("line %zu changed", i);
		} else {
			const char *fa[12], *fb[12];
			size_t la[12], lb[12], na, nb;

			split_ending(g->text, s, e, &cend);
			split_ending(out, pos, oe, &ocend);
			/* the same ending */
			if (e - cend != oe - ocend || memcmp(g->text + cend, out + ocend, e - cend) != 0)
				fail_msg("line %zu: ending changed", i);
			na = fields(g->text + s, cend - s, fa, la);
			nb = fields(out + pos, ocend - pos, fb, lb);
			assert_int_equal(na, 9);
			assert_int_equal(nb, 9);
			for (size_t f = 0; f < 9; f++) {
				if (f == 1 && want2) {
					assert_true(field_is(fb[f], lb[f], want2));
				} else if (f == 2) {
					assert_true(field_is(fb[f], lb[f], want3));
				} else if (la[f] != lb[f] || memcmp(fa[f], fb[f], la[f]) != 0) {
					fail_msg("line %zu: field %zu changed", i, f + 1);
				}
			}
		}
		pos = oe;
	}
	assert_int_equal(pos, outlen);
}

static void test_reset_property(void **state)
{
	static struct gen g;
	char today[24];

	(void)state;
	(void)snprintf(today, sizeof today, "%ld", TODAY);
	for (unsigned it = 0; it < iterations; it++) {
		char *out = NULL;
		size_t outlen = 0;
		int r;

		generate(&g, false);
		r = sspr_shadow_edit(g.text, g.len, "alice", HASH, TODAY, &out, &outlen);
		if (r != 0)
			fail_msg("iteration %u: edit refused: %s", it, sspr_strerror(r));
		check_edit(&g, out, outlen, 1, HASH, today);
		free(out);
	}
}

static void test_expire_property(void **state)
{
	static struct gen g;

	(void)state;
	for (unsigned it = 0; it < iterations; it++) {
		const char *users[1 + NOTHER];
		char *out = NULL;
		size_t outlen = 0, n, bad = (size_t)-1;
		int r;

		generate(&g, true);
		/* a random non-empty subset of the targets, in random order, and
		 * sometimes a name twice */
		n = 1 + pick(1 + NOTHER);
		for (size_t i = 0; i < 1 + NOTHER; i++)
			users[i] = g.names[i];
		for (size_t i = NOTHER; i > 0; i--) {
			size_t j = pick((unsigned)i + 1);
			const char *tn = users[i];
			long tt = g.target[i];

			users[i] = users[j], users[j] = tn;
			/* keep g's target order in step with names */
			g.target[i] = g.target[j], g.target[j] = tt;
			g.names[i] = g.names[j], g.names[j] = tn;
		}
		if (n > 1 && pick(4) == 0)
			users[n - 1] = users[0];
		r = sspr_shadow_edit_expire(g.text, g.len, users, n, &out, &outlen, &bad);
		if (r != 0)
			fail_msg("iteration %u: expire refused: %s (%zu)", it, sspr_strerror(r), bad);
		/* the listed ones are the first n of g.names (but a repeat) */
		check_edit(&g, out, outlen, users[n - 1] == users[0] && n > 1 ? n - 1 : n, NULL, "0");
		free(out);
	}
}

/* Damaged targets are refused, never half-edited: a second alice line, or
 * alice's line with a field too many or too few. */
static void test_refusal_property(void **state)
{
	static struct gen g;

	(void)state;
	for (unsigned it = 0; it < iterations / 4; it++) {
		static char text[MAX_TEXT + 64];
		char *out = (char *)&out;
		size_t outlen = 4242, len, cut;
		int r, want;

		generate(&g, false);
		cut = g.start[g.target[0]];
		memcpy(text, g.text, g.len);
		len = g.len;
		switch (pick(3)) {
		case 0: /* a duplicate line at the end */
			memcpy(text + len, "\nalice:x:1::::::", 16);
			len += 16;
			want = -SSPR_E_DUP_LINE;
			break;
		case 1: /* one field more */
			memmove(text + cut + 6 + 1, text + cut + 6, len - cut - 6);
			text[cut + 6] = ':';
			len++;
			want = -EINVAL;
			break;
		default: /* one field less: drop the first ':' after the name */
			memmove(text + cut + 5, text + cut + 6, len - cut - 6);
			len--;
			want = -EINVAL;
			break;
		}
		r = sspr_shadow_edit(text, len, "alice", HASH, TODAY, &out, &outlen);
		if (r != want && !(want == -EINVAL && r == -SSPR_E_NO_LINE))
			fail_msg("iteration %u: got %s, want %s", it, sspr_strerror(r), sspr_strerror(want));
		assert_true(out == (char *)&out && outlen == 4242);
	}
}

/* ---- on disk ------------------------------------------------------------ */

static void spit(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static char *slurp(const char *path, size_t *ret_len)
{
	char *buf = malloc(MAX_TEXT * 2);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_non_null(buf);
	assert_true(fd >= 0);
	n = read(fd, buf, MAX_TEXT * 2);
	assert_true(n >= 0);
	assert_int_equal(close(fd), 0);
	*ret_len = (size_t)n;
	return buf;
}

static void test_disk_property(void **state)
{
	static struct gen g;
	char dir[] = "/tmp/sspr-preserve.XXXXXX", path[64], bak[64];

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof path, "%s/shadow", dir);
	(void)snprintf(bak, sizeof bak, "%s/shadow-", dir);
	for (unsigned it = 0; it < iterations / disk_every; it++) {
		struct sspr_shadow_info info;
		char *want = NULL, *got;
		size_t wantlen = 0, gotlen;
		int r, chk;

		generate(&g, true);
		spit(path, g.text, g.len);
		/* what the checks say decides between a rewrite and a refusal */
		chk = sspr_shadow_find(g.text, g.len, "alice", &info);
		assert_int_equal(chk, 0);
		chk = sspr_shadow_check(&info, TODAY);
		r = sspr_shadow_update(dir, "alice", HASH, TODAY);
		assert_int_equal(r, chk);
		got = slurp(path, &gotlen);
		if (r == 0) {
			assert_int_equal(sspr_shadow_edit(g.text, g.len, "alice", HASH, TODAY, &want,
			                                  &wantlen), 0);
			assert_int_equal(gotlen, wantlen);
			assert_memory_equal(got, want, wantlen);
			free(want);
			free(got);
			/* shadow- is the file before */
			got = slurp(bak, &gotlen);
		}
		assert_int_equal(gotlen, g.len);
		assert_memory_equal(got, g.text, g.len);
		free(got);

		/* and an expire batch over the same file */
		spit(path, g.text, g.len);
		assert_int_equal(sspr_shadow_expire(dir, g.names, 1 + NOTHER, NULL), 0);
		assert_int_equal(sspr_shadow_edit_expire(g.text, g.len, g.names, 1 + NOTHER, &want,
		                                         &wantlen, NULL), 0);
		got = slurp(path, &gotlen);
		assert_int_equal(gotlen, wantlen);
		assert_memory_equal(got, want, wantlen);
		free(want);
		free(got);
	}
	(void)unlink(path);
	(void)unlink(bak);
	(void)snprintf(path, sizeof path, "%s/.pwd.lock", dir);
	(void)unlink(path);
	assert_int_equal(rmdir(dir), 0); /* nothing else left behind */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_property),
		cmocka_unit_test(test_expire_property),
		cmocka_unit_test(test_refusal_property),
		cmocka_unit_test(test_disk_property),
	};
	const char *seed = getenv("SSPR_SEED");
	const char *lng = getenv("RELIABILITY_LONG");
	long long v;

	if (seed && sspr_strtonum(seed, 1, LLONG_MAX, &v) == 0)
		rng = (uint64_t)v;
	else
		rng = (uint64_t)time(NULL) * 2654435761u | 1;
	if (lng && strcmp(lng, "1") == 0)
		iterations = 100000, disk_every = 20;
	printf("preservation property: seed %llu, %u files (%u on disk)\n",
	       (unsigned long long)rng, iterations, iterations / disk_every);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
