/* SPDX-License-Identifier: BSD-2-Clause */
/* lib/journal.c: the signed, forward-evolving audit journal.  The entry
 * format and its strict parser; a chain of real appends; every kind of
 * tampering (each caught at the entry it touches); a 100,000-entry
 * journal; rotation; init; the crash states an append can leave, rolled
 * forward by hand; files planted where the journal's files should be.
 * Everything runs in a private temporary state directory, as any user. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "test-util.h"

#include "sspr/common.h"
#include "sspr/journal.h"

#define T0 ((time_t)1767225600) /* 2026-01-01T00:00:00Z */
#define PRISTINE_N 20

struct fixture {
	char dir[64];  /* mkdtemp, 0700: holds the state directories */
	unsigned n;    /* state directories made so far */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (!f || sodium_init() < 0)
		return -1;
	/* tmpfs when there is one: a real append fsyncs three times, and the
	 * tests make thousands (what they check is not the disk) */
	strcpy(f->dir, access("/dev/shm", W_OK) == 0 ? "/dev/shm/sspr-test-journal.XXXXXX"
	                                              : "/tmp/sspr-test-journal.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
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

/* --- small file helpers ------------------------------------------------- */

static void pathf(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	assert_true(w > 0 && (size_t)w < n);
}

/* A new, empty state directory (0700) under the fixture. */
static void new_statedir(struct fixture *f, char out[256])
{
	pathf(out, 256, "%s/s%u", f->dir, f->n++);
	assert_int_equal(mkdir(out, 0700), 0);
}

static void jfile(const char *statedir, const char *name, char out[512])
{
	pathf(out, 512, "%s/journal/%s", statedir, name);
}

/* The whole file (NUL-terminated, malloc'd), or NULL when it is absent. */
static char *slurp(const char *path, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t cap = 4096, len = 0;
	char *buf;

	if (fd < 0) {
		assert_int_equal(errno, ENOENT);
		return NULL;
	}
	buf = malloc(cap);
	assert_non_null(buf);
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		n = read(fd, buf + len, cap - len - 1);
		assert_true(n >= 0);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	(void)close(fd);
	if (ret_len)
		*ret_len = len;
	return buf;
}

static void spit(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void spit_in(const char *statedir, const char *name, const void *buf, size_t len)
{
	char p[512];

	jfile(statedir, name, p);
	spit(p, buf, len);
}

static char *slurp_in(const char *statedir, const char *name, size_t *ret_len)
{
	char p[512];

	jfile(statedir, name, p);
	return slurp(p, ret_len);
}

static void unlink_in(const char *statedir, const char *name)
{
	char p[512];

	jfile(statedir, name, p);
	assert_int_equal(unlink(p), 0);
}

static bool exists_in(const char *statedir, const char *name)
{
	char p[512];
	struct stat sb;

	jfile(statedir, name, p);
	return lstat(p, &sb) == 0;
}

/* Copy the journal directory of one state directory into a new one (the
 * regular files only: the journal directory is flat). */
static void copy_journal(struct fixture *f, const char *from, char to[256])
{
	char src[512], dst[512];
	struct dirent *de;
	DIR *d;

	new_statedir(f, to);
	pathf(src, sizeof src, "%s/journal", from);
	pathf(dst, sizeof dst, "%s/journal", to);
	assert_int_equal(mkdir(dst, 0700), 0);
	d = opendir(src);
	assert_non_null(d);
	while ((de = readdir(d))) {
		char a[800], b[800];
		struct stat sb;
		size_t len;
		char *buf;

		pathf(a, sizeof a, "%s/%s", src, de->d_name);
		if (lstat(a, &sb) < 0 || !S_ISREG(sb.st_mode))
			continue;
		pathf(b, sizeof b, "%s/%s", dst, de->d_name);
		buf = slurp(a, &len);
		assert_non_null(buf);
		spit(b, buf, len);
		free(buf);
	}
	closedir(d);
}

/* journal.log (or another segment) as an array of lines without '\n'. */
struct lines {
	char *v[512];
	size_t n;
};

static void load_lines(const char *statedir, const char *name, struct lines *ls)
{
	char *buf = slurp_in(statedir, name, NULL), *p, *nl;

	assert_non_null(buf);
	ls->n = 0;
	for (p = buf; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl); /* the tests start from whole files */
		assert_true(ls->n < SSPR_ELEMENTSOF(ls->v));
		ls->v[ls->n++] = strndup(p, (size_t)(nl - p));
	}
	free(buf);
}

static void save_lines(const char *statedir, const char *name, const struct lines *ls)
{
	size_t len = 0, off = 0;
	char *buf;

	for (size_t i = 0; i < ls->n; i++)
		len += strlen(ls->v[i]) + 1;
	buf = malloc(len + 1);
	assert_non_null(buf);
	for (size_t i = 0; i < ls->n; i++) {
		size_t l = strlen(ls->v[i]);

		memcpy(buf + off, ls->v[i], l);
		buf[off + l] = '\n';
		off += l + 1;
	}
	spit_in(statedir, name, buf, len);
	free(buf);
}

static void free_lines(struct lines *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		free(ls->v[i]);
	ls->n = 0;
}

/* The secret key the state file holds ("sk HEX" line), as 128 hex. */
static bool state_sk_hex(const char *statedir, const char *name, char out[129])
{
	char *buf = slurp_in(statedir, name, NULL), *p;
	bool ok = false;

	if (buf && (p = strstr(buf, "\nsk ")) && strlen(p + 4) >= 128) {
		memcpy(out, p + 4, 128);
		out[128] = '\0';
		ok = strspn(out, "0123456789abcdef") == 128;
	}
	free(buf);
	return ok;
}

/* Does any file of the journal directory hold this text? */
static bool any_file_holds(const char *statedir, const char *text)
{
	char dir[512];
	struct dirent *de;
	bool found = false;
	DIR *d;

	pathf(dir, sizeof dir, "%s/journal", statedir);
	d = opendir(dir);
	assert_non_null(d);
	while (!found && (de = readdir(d))) {
		char p[800];
		struct stat sb;
		char *buf;

		pathf(p, sizeof p, "%s/%s", dir, de->d_name);
		if (lstat(p, &sb) < 0 || !S_ISREG(sb.st_mode))
			continue;
		buf = slurp(p, NULL);
		if (buf && strstr(buf, text))
			found = true;
		free(buf);
	}
	closedir(d);
	return found;
}

/* --- journal helpers ------------------------------------------------------ */

static void append_n(const char *statedir, unsigned from, unsigned n, unsigned char first_pk[32])
{
	for (unsigned i = from; i < from + n; i++) {
		char payload[128];
		unsigned char pk[32];
		uint64_t seq = 0;
		bool started = true;

		pathf(payload, sizeof payload, "event=test n=%u user=alice", i);
		assert_int_equal(sspr_journal_append(statedir, T0 + (time_t)i, payload, &seq,
		                                     &started, pk), 0);
		assert_int_equal(seq, i);
		assert_int_equal(started, i == 1 && first_pk != NULL);
		if (i == 1 && first_pk)
			memcpy(first_pk, pk, 32);
	}
}

static int verify(const char *statedir, const unsigned char *key,
                  struct sspr_journal_report *rep)
{
	int r = sspr_journal_verify(statedir, key, rep);

	if (r != 0)
		print_message("    verify: %d bad_seq=%" PRIu64 " why=%s\n", r, rep->bad_seq,
		              rep->why);
	return r;
}

static void expect_ok(const char *statedir, const unsigned char *key, uint64_t entries)
{
	struct sspr_journal_report rep;

	assert_int_equal(verify(statedir, key, &rep), 0);
	assert_int_equal(rep.entries, entries);
}

/* Verification fails naming entry seq, with a reason containing why_sub. */
static void expect_bad(const char *statedir, const unsigned char *key, uint64_t seq,
                       const char *why_sub)
{
	struct sspr_journal_report rep;
	int r = verify(statedir, key, &rep);

	if (r == 0)
		print_message("    verify passed (entries=%" PRIu64 "), expected bad entry seq=%" PRIu64
		              "\n", rep.entries, seq);
	assert_int_equal(r, -SSPR_E_RECORD);
	assert_int_equal(rep.bad_seq, seq);
	assert_true(rep.why[0] != '\0');
	if (why_sub && !strstr(rep.why, why_sub)) {
		print_message("    why \"%s\" lacks \"%s\"\n", rep.why, why_sub);
		fail();
	}
}

/* Verification fails naming an entry in lo..hi.  Used where entry 1 is
 * touched: the chain present then starts at another seq, and the
 * verifier names the first entry it finds (which the given key, or the
 * kept key for its seq, does not sign), not the one that went missing. */
static void expect_bad_in(const char *statedir, const unsigned char *key, uint64_t lo,
                          uint64_t hi)
{
	struct sspr_journal_report rep;
	int r = verify(statedir, key, &rep);

	assert_int_equal(r, -SSPR_E_RECORD);
	if (rep.bad_seq < lo || rep.bad_seq > hi) {
		print_message("    bad_seq=%" PRIu64 ", expected %" PRIu64 "..%" PRIu64 "\n",
		              rep.bad_seq, lo, hi);
		fail();
	}
	assert_true(rep.why[0] != '\0');
}

/* A pristine journal of PRISTINE_N real appends, made once per test. */
static void make_pristine(struct fixture *f, char sd[256], unsigned char pk[32])
{
	new_statedir(f, sd);
	append_n(sd, 1, PRISTINE_N, pk);
	expect_ok(sd, pk, PRISTINE_N);
}

/* --- the entry ------------------------------------------------------------ */

static void test_sign_parse_round_trip(void **state)
{
	struct sspr_journal_signer *s = sodium_malloc(sizeof *s);
	struct sspr_journal_entry e;
	unsigned char pk[32], other[32], osk[64], sk1[64], h[32];
	char line[SSPR_JOURNAL_LINE_MAX + 1], line2[SSPR_JOURNAL_LINE_MAX + 1];
	char hex[SSPR_JOURNAL_PK_HEX], expect[256];
	const char *why = "x";
	size_t len, len2;

	(void)state;
	assert_non_null(s);
	assert_int_equal(sspr_journal_signer_new(s, pk), 0);
	assert_int_equal(s->seq, 0);
	sspr_journal_hash(pk, 32, h);
	assert_memory_equal(s->hash, h, 32);
	memcpy(sk1, s->sk, 64);

	assert_int_equal(sspr_journal_sign(s, T0 + 3661, "event=reset_ok user=alice uid=1001",
	                                   line, sizeof line, &len), 0);
	assert_int_equal(strlen(line), len);
	assert_null(strchr(line, '\n'));
	assert_int_equal(sspr_journal_parse(line, len, &e, &why), 0);
	assert_null(why);
	assert_int_equal(e.seq, 1);
	assert_int_equal(e.when, T0 + 3661);
	assert_string_equal(e.time, "2026-01-01T01:01:01Z");
	assert_memory_equal(e.prev, h, 32); /* seq 1: the hash of the first key */
	assert_int_equal(e.payload_len, strlen("event=reset_ok user=alice uid=1001"));
	assert_memory_equal(e.payload, "event=reset_ok user=alice uid=1001", e.payload_len);
	assert_int_equal(e.signed_len, len - 5 - 128);
	assert_memory_equal(line + e.signed_len, " sig=", 5);
	sspr_journal_key_hex(h, hex);
	pathf(expect, sizeof expect, "seq=1 time=2026-01-01T01:01:01Z prev=%s next=", hex);
	assert_memory_equal(line, expect, strlen(expect));
	assert_true(sspr_journal_check_sig(line, &e, pk));
	/* the signer moved on: the key that signed entry 1 is gone, the new
	 * one is the one entry 1 names */
	assert_int_equal(s->seq, 1);
	assert_true(sodium_memcmp(s->sk, sk1, 64) != 0);
	crypto_sign_ed25519_sk_to_pk(other, s->sk);
	assert_memory_equal(other, e.next, 32);
	sspr_journal_hash(line, len, h);
	assert_memory_equal(s->hash, h, 32);
	/* a different key does not verify it */
	assert_int_equal(crypto_sign_keypair(other, osk), 0);
	assert_false(sspr_journal_check_sig(line, &e, other));
	assert_false(sspr_journal_check_sig(line, &e, e.next));

	/* entry 2 chains to entry 1 and is signed by the key entry 1 named */
	{
		unsigned char next1[32];

		memcpy(next1, e.next, 32);
		assert_int_equal(sspr_journal_sign(s, T0 + 3662, "event=unlock user=bob", line2,
		                                   sizeof line2, &len2), 0);
		assert_int_equal(sspr_journal_parse(line2, len2, &e, &why), 0);
		assert_int_equal(e.seq, 2);
		assert_memory_equal(e.prev, h, 32);
		assert_true(sspr_journal_check_sig(line2, &e, next1));
		assert_false(sspr_journal_check_sig(line2, &e, pk));
	}

	/* the signer refuses what the parser would refuse */
	assert_int_equal(sspr_journal_sign(s, T0, "user=alice", line, sizeof line, &len), -EINVAL);
	assert_int_equal(sspr_journal_sign(s, T0, "event=", line, sizeof line, &len), -EINVAL);
	assert_int_equal(sspr_journal_sign(s, T0, "event=a\nseq=9", line, sizeof line, &len),
	                 -EINVAL);
	assert_int_equal(sspr_journal_sign(s, T0, "event=caf\xc3\xa9", line, sizeof line, &len),
	                 -EINVAL);
	assert_int_equal(sspr_journal_sign(s, T0, "event=a", line, 100, &len), -EINVAL);
	{
		char *big = malloc(SSPR_JOURNAL_LINE_MAX + 1);

		assert_non_null(big);
		memset(big, 'x', SSPR_JOURNAL_LINE_MAX);
		memcpy(big, "event=", 6);
		big[SSPR_JOURNAL_LINE_MAX - 200] = '\0';
		assert_int_equal(sspr_journal_sign(s, T0, big, line, sizeof line, &len), -ENOBUFS);
		free(big);
	}
	assert_int_equal(s->seq, 2); /* refusals did not advance it */

	/* key hex round trip */
	sspr_journal_key_hex(pk, hex);
	assert_int_equal(strlen(hex), 64);
	assert_int_equal(sspr_journal_key_parse(hex, other), 0);
	assert_memory_equal(other, pk, 32);
	hex[63] = '\0';
	assert_int_equal(sspr_journal_key_parse(hex, other), -EINVAL);
	hex[63] = 'g';
	assert_int_equal(sspr_journal_key_parse(hex, other), -EINVAL);
	assert_int_equal(sspr_journal_key_parse(NULL, other), -EINVAL);
	sodium_free(s);
}

/* A copy of line with the first `from` replaced by `to`. */
static char *edit(const char *line, const char *from, const char *to)
{
	const char *p = strstr(line, from);
	size_t fl = strlen(from), tl = strlen(to), ll = strlen(line);
	char *out;

	assert_non_null(p);
	out = malloc(ll - fl + tl + 1);
	assert_non_null(out);
	memcpy(out, line, (size_t)(p - line));
	memcpy(out + (p - line), to, tl);
	memcpy(out + (p - line) + tl, p + fl, ll - (size_t)(p - line) - fl + 1);
	return out;
}

/* A copy of line with the value of field tag (n chars) changed by fn. */
static char *edit_field(const char *line, const char *tag, size_t n, int (*fn)(int))
{
	char *out = strdup(line), *p;

	assert_non_null(out);
	p = strstr(out, tag);
	assert_non_null(p);
	p += strlen(tag);
	for (size_t i = 0; i < n && p[i]; i++)
		p[i] = (char)fn((unsigned char)p[i]);
	return out;
}

static int upper(int c) { return c >= 'a' && c <= 'f' ? c - 'a' + 'A' : c; }

static void test_parse_strict(void **state)
{
	struct sspr_journal_signer *s = sodium_malloc(sizeof *s);
	char line[SSPR_JOURNAL_LINE_MAX + 1], time_s[32], prev_s[80], sig_s[140], p65[80];
	struct sspr_journal_entry e;
	const char *why;
	unsigned char pk[32];
	size_t len;
	struct {
		const char *name;
		char *line;
		const char *why; /* a part of the reason */
	} bad[64];
	size_t nbad = 0, ngood = 0;
	char *good[8];

	(void)state;
	assert_non_null(s);
	assert_int_equal(sspr_journal_signer_new(s, pk), 0);
	assert_int_equal(sspr_journal_sign(s, T0, "event=reset_ok user=alice", line, sizeof line,
	                                   &len), 0);
	{
		const char *p = strstr(line, " prev=") + 6, *q = strstr(line, " sig=") + 5;

		memcpy(prev_s, p, 64);
		prev_s[64] = '\0';
		memcpy(sig_s, q, 128);
		sig_s[128] = '\0';
		pathf(time_s, sizeof time_s, "time=2026-01-01T00:00:00Z");
	}
#define BAD(n, l, w) do { bad[nbad].name = (n); bad[nbad].line = (l); bad[nbad].why = (w); nbad++; } while (0)
	BAD("seq 0", edit(line, "seq=1 ", "seq=0 "), "seq");
	BAD("leading zero", edit(line, "seq=1 ", "seq=01 "), "seq");
	BAD("negative seq", edit(line, "seq=1 ", "seq=-1 "), "seq");
	BAD("plus sign", edit(line, "seq=1 ", "seq=+1 "), "seq");
	BAD("empty seq", edit(line, "seq=1 ", "seq= "), "seq");
	BAD("seq with letter", edit(line, "seq=1 ", "seq=1a "), "seq");
	BAD("seq 2^63+1", edit(line, "seq=1 ", "seq=9223372036854775809 "), "seq");
	BAD("seq 2^64", edit(line, "seq=1 ", "seq=18446744073709551616 "), "seq");
	BAD("seq 20 digits", edit(line, "seq=1 ", "seq=99999999999999999999 "), "seq");
	BAD("no seq", edit(line, "seq=1 ", ""), "seq");
	BAD("SEQ", edit(line, "seq=1 ", "SEQ=1 "), "seq");
	BAD("leading space", edit(line, "seq=1 ", " seq=1 "), "seq");
	BAD("two spaces", edit(line, "seq=1 ", "seq=1  "), "time");
	BAD("Feb 30", edit(line, time_s, "time=2026-02-30T00:00:00Z"), "time");
	BAD("Feb 29, no leap year", edit(line, time_s, "time=2026-02-29T00:00:00Z"), "time");
	BAD("month 13", edit(line, time_s, "time=2026-13-01T00:00:00Z"), "time");
	BAD("month 0", edit(line, time_s, "time=2026-00-01T00:00:00Z"), "time");
	BAD("day 0", edit(line, time_s, "time=2026-01-00T00:00:00Z"), "time");
	BAD("hour 24", edit(line, time_s, "time=2026-01-01T24:00:00Z"), "time");
	BAD("minute 60", edit(line, time_s, "time=2026-01-01T00:60:00Z"), "time");
	BAD("second 60", edit(line, time_s, "time=2026-01-01T00:00:60Z"), "time");
	BAD("no Z", edit(line, time_s, "time=2026-01-01T00:00:00 "), "time");
	BAD("lowercase t", edit(line, time_s, "time=2026-01-01t00:00:00Z"), "time");
	BAD("offset", edit(line, time_s, "time=2026-01-01T00:00:00+01:00"), "time");
	BAD("short time", edit(line, time_s, "time=2026-1-01T00:00:00Z"), "time");
	BAD("space in time", edit(line, time_s, "time=2026-01-01 00:00:00Z"), "time");
	BAD("no time", edit(line, "time=", "tim="), "time");
	BAD("uppercase prev", edit_field(line, " prev=", 64, upper), "prev");
	BAD("uppercase next", edit_field(line, " next=", 64, upper), "next");
	BAD("uppercase sig", edit_field(line, " sig=", 128, upper), "sig");
	BAD("short prev", edit(line, prev_s, prev_s + 1), "prev");
	pathf(p65, sizeof p65, "0%s", prev_s);
	BAD("long prev", edit(line, prev_s, p65), "prev");
	BAD("prev not hex", edit(line, " prev=", " prev=g"), "prev");
	BAD("short sig", edit(line, sig_s, sig_s + 2), "sig");
	BAD("sig not hex", edit(line, " sig=", " sig=z"), "sig");
	BAD("sig not last", edit(line, " sig=", " sig=0 event=x"), "sig");
	BAD("no sig", edit(line, " sig=", " sag="), "sig");
	BAD("missing event=", edit(line, "event=", "evant="), "event");
	BAD("payload before event", edit(line, "event=", "user=x event="), "event");
	BAD("empty event", edit(line, "event=reset_ok user=alice", "event="), "");
	BAD("tab in payload", edit(line, "user=alice", "user=\talice"), "");
	BAD("DEL in payload", edit(line, "user=alice", "user=\x7f" "alice"), "");
	BAD("8-bit byte in payload", edit(line, "user=alice", "user=caf\xc3\xa9"), "");
	BAD("CR in payload", edit(line, "user=alice", "user=a\rb"), "");
	BAD("NL in payload", edit(line, "user=alice", "user=a\nb"), "");
	BAD("ESC in payload", edit(line, "user=alice", "user=\x1b[2J"), "");
	BAD("sig replaced", edit(line, sig_s, "x"), "sig");
	{
		char *half = edit(line, " prev=", " nxet=");

		BAD("prev and next swapped", edit(half, " next=", " prev="), "prev");
		free(half);
	}
	{
		/* "field after sig": the sig is not the last 128 bytes */
		char *l = malloc(strlen(line) + 16);

		assert_non_null(l);
		sprintf(l, "%s x=1", line);
		BAD("text after sig", l, "sig");
		l = malloc(strlen(line) + 2);
		assert_non_null(l);
		sprintf(l, "%s ", line);
		BAD("space after sig", l, "sig");
	}
	{
		/* too long: one byte over the cap, otherwise well formed */
		size_t big = SSPR_JOURNAL_LINE_MAX + 1;
		char *l = malloc(big + 1);
		const char *sig = strstr(line, " sig=");
		size_t head = (size_t)(strstr(line, "event=") - line);

		assert_non_null(l);
		memcpy(l, line, head);
		memcpy(l + head, "event=", 6);
		memset(l + head + 6, 'x', big - head - 6 - strlen(sig));
		memcpy(l + big - strlen(sig), sig, strlen(sig) + 1);
		assert_int_equal(strlen(l), big);
		BAD("too long", l, "too long");
	}
#undef BAD
	for (size_t i = 0; i < nbad; i++) {
		why = NULL;
		if (sspr_journal_parse(bad[i].line, strlen(bad[i].line), &e, &why) != -SSPR_E_RECORD) {
			print_message("    accepted: %s: %s\n", bad[i].name, bad[i].line);
			fail();
		}
		if (!why || (bad[i].why[0] && !strstr(why, bad[i].why))) {
			print_message("    %s: why=%s, expected it to name %s\n", bad[i].name,
			              why ? why : "(null)", bad[i].why);
			fail();
		}
		free(bad[i].line);
	}
	/* a NUL inside: the length says where the line ends */
	{
		char *l = strdup(line);

		assert_non_null(l);
		l[strstr(l, "alice") - l] = '\0';
		assert_int_equal(sspr_journal_parse(l, len, &e, &why), -SSPR_E_RECORD);
		free(l);
	}
	/* a trailing '\n' counted in len is not part of an entry */
	{
		char *l = malloc(len + 2);

		assert_non_null(l);
		memcpy(l, line, len);
		l[len] = '\n';
		l[len + 1] = '\0';
		assert_int_equal(sspr_journal_parse(l, len + 1, &e, &why), -SSPR_E_RECORD);
		free(l);
	}
	/* good edges (the parse only; the signatures no longer verify) */
	good[ngood++] = strdup(line);
	good[ngood++] = edit(line, "seq=1 ", "seq=9223372036854775808 "); /* 2^63 */
	good[ngood++] = edit(line, time_s, "time=2024-02-29T23:59:59Z");
	good[ngood++] = edit(line, time_s, "time=1970-01-01T00:00:00Z");
	good[ngood++] = edit(line, "user=alice", "user=a~b!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}");
	good[ngood++] = edit(line, "event=reset_ok user=alice", "event=x");
	for (size_t i = 0; i < ngood; i++) {
		if (sspr_journal_parse(good[i], strlen(good[i]), &e, &why) != 0) {
			print_message("    refused (%s): %s\n", why, good[i]);
			fail();
		}
		free(good[i]);
	}
	assert_int_equal(sspr_journal_parse(line, len, &e, &why), 0);
	assert_true(sspr_journal_check_sig(line, &e, pk));
	sodium_free(s);
}

/* --- a chain of real appends ---------------------------------------------------- */

struct walk { uint64_t n; bool in_order; };

static int walk_cb(void *ud, const struct sspr_journal_entry *e, const char *line, size_t len)
{
	struct walk *w = ud;

	(void)line;
	(void)len;
	if (!e || e->seq != w->n + 1)
		w->in_order = false;
	w->n++;
	return 0;
}

static void test_chain_of_1000_appends(void **state)
{
	struct fixture *f = *state;
	struct sspr_journal_report rep;
	unsigned char pk[32], kept[32];
	char sd[256], hex[SSPR_JOURNAL_PK_HEX], want[128];
	struct walk w = { 0, true };
	struct timespec a, b;
	char *keys;

	new_statedir(f, sd);
	clock_gettime(CLOCK_MONOTONIC, &a);
	append_n(sd, 1, 1000, pk); /* asserts seq 1..1000 and started only at 1 */
	clock_gettime(CLOCK_MONOTONIC, &b);
	print_message("    1000 appends: %.2f s\n",
	              (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	/* the first key is kept in keys */
	keys = slurp_in(sd, "keys", NULL);
	assert_non_null(keys);
	sspr_journal_key_hex(pk, hex);
	pathf(want, sizeof want, "1 %s\n", hex);
	assert_string_equal(keys, want);
	free(keys);
	assert_int_equal(sspr_journal_key_parse(hex, kept), 0);

	assert_int_equal(verify(sd, pk, &rep), 0);
	assert_int_equal(rep.entries, 1000);
	assert_int_equal(rep.first_seq, 1);
	assert_int_equal(rep.last_seq, 1000);
	assert_int_equal(rep.files, 1);
	assert_true(rep.state_checked);
	assert_false(rep.key_from_kept);
	assert_int_equal(rep.bad_seq, 0);
	assert_string_equal(rep.last_time, "2026-01-01T00:16:40Z");
	/* the kept key */
	assert_int_equal(verify(sd, NULL, &rep), 0);
	assert_int_equal(rep.entries, 1000);
	assert_true(rep.key_from_kept);
	/* the walk sees them in order */
	assert_int_equal(sspr_journal_foreach(sd, walk_cb, &w), 0);
	assert_int_equal(w.n, 1000);
	assert_true(w.in_order);
	/* nothing left over */
	assert_false(exists_in(sd, "state.new"));
}

/* A journal of 100,000 entries verifies (made with the pure signer into
 * journal.log and keys directly; without a state file the chain alone is
 * checked). */
static void test_100000_entries(void **state)
{
	struct fixture *f = *state;
	struct sspr_journal_signer *s = sodium_malloc(sizeof *s);
	struct sspr_journal_report rep;
	const size_t N = 100000;
	unsigned char pk[32];
	char sd[256], p[512], hex[SSPR_JOURNAL_PK_HEX], keys[80];
	char line[SSPR_JOURNAL_LINE_MAX + 1];
	struct timespec a, b, c;
	size_t cap = N * 340, off = 0;
	char *buf = malloc(cap);

	assert_non_null(s);
	assert_non_null(buf);
	new_statedir(f, sd);
	pathf(p, sizeof p, "%s/journal", sd);
	assert_int_equal(mkdir(p, 0700), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(sspr_journal_signer_new(s, pk), 0);
	for (size_t i = 1; i <= N; i++) {
		char payload[96];
		size_t len;

		pathf(payload, sizeof payload, "event=code_ok user=u%zu uid=%zu method=totp", i % 977,
		      1000 + i % 977);
		assert_int_equal(sspr_journal_sign(s, T0 + (time_t)i, payload, line, sizeof line,
		                                   &len), 0);
		if (off + len + 1 > cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		memcpy(buf + off, line, len);
		buf[off + len] = '\n';
		off += len + 1;
	}
	spit_in(sd, "journal.log", buf, off);
	buf[off] = '\0'; /* cap > off: room was made for the next line */
	sspr_journal_key_hex(pk, hex);
	pathf(keys, sizeof keys, "1 %s\n", hex);
	spit_in(sd, "keys", keys, strlen(keys));
	{
		/* the state an append would have left (its format: journal.c) */
		char hh[65], skh[129], *stf = malloc(SSPR_JOURNAL_LINE_MAX + 512);
		const char *last = memrchr(buf, '\n', off - 1);
		int w;

		assert_non_null(stf);
		last = last ? last + 1 : buf;
		sodium_bin2hex(hh, sizeof hh, s->hash, 32);
		sodium_bin2hex(skh, sizeof skh, s->sk, 64);
		w = snprintf(stf, SSPR_JOURNAL_LINE_MAX + 512,
		             "sspr-journal-state 1\nseq %zu\nhash %s\nsk %s\nsize %zu\nline %.*s\n", N,
		             hh, skh, off, (int)(buf + off - 1 - last), last);
		assert_true(w > 0);
		spit_in(sd, "state", stf, (size_t)w);
		sodium_memzero(skh, sizeof skh);
		free(stf);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);

	assert_int_equal(verify(sd, NULL, &rep), 0);
	clock_gettime(CLOCK_MONOTONIC, &c);
	assert_int_equal(rep.entries, N);
	assert_int_equal(rep.first_seq, 1);
	assert_int_equal(rep.last_seq, N);
	assert_true(rep.key_from_kept);
	assert_true(rep.state_checked);
	print_message("    100000 entries (%.1f MB): made in %.2f s, verified in %.2f s\n",
	              (double)off / 1e6,
	              (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9,
	              (double)(c.tv_sec - b.tv_sec) + (double)(c.tv_nsec - b.tv_nsec) / 1e9);

	/* and one flipped byte near the end of it is found */
	{
		char *l = buf + off - 2;
		uint64_t seq = N;

		while (l[-1] != '\n')
			l--;
		l = strstr(l, "event=") + 6;
		*l = *l == 'c' ? 'd' : 'c';
		spit_in(sd, "journal.log", buf, off);
		(void)seq;
		expect_bad(sd, NULL, N, "signature");
	}
	free(buf);
	sodium_free(s);
}

/* --- tampering ----------------------------------------------------------------- */

#define K 7

/* one hex digit of the field value at offset off changed to another lowercase one */
static void flip_hex(char *line, const char *tag, size_t off)
{
	char *p = strstr(line, tag);

	assert_non_null(p);
	p += strlen(tag) + off;
	*p = *p == '0' ? '1' : '0';
}

static void test_tamper_edit_byte(void **state)
{
	struct fixture *f = *state;
	unsigned char pk[32];
	char pristine[256], sd[256];
	struct lines ls;
	static const struct {
		const char *what;
		const char *why;
	} edits[] = {
		{ "payload", "signature" },
		{ "payload length", "signature" },
		{ "time (valid)", "signature" },
		{ "time (invalid)", "time" },
		{ "seq (to a later)", "missing" },
		{ "prev", "prev" },
		{ "next", "signature" },
		{ "sig", "signature" },
		{ "sig, last hex digit", "signature" },
		{ "sig, upper case", "" },
		{ "control byte", "" },
		{ "garbage line", "" },
		{ "line cut in two", "" },
	};

	make_pristine(f, pristine, pk);
	for (size_t t = 0; t < SSPR_ELEMENTSOF(edits); t++) {
		for (unsigned k = 1; k <= PRISTINE_N; k += (k == 1 ? K - 1 : PRISTINE_N - K)) {
			char *l;

			print_message("    edit %s of entry %u\n", edits[t].what, k);
			copy_journal(f, pristine, sd);
			load_lines(sd, "journal.log", &ls);
			l = ls.v[k - 1];
			switch (t) {
			case 0: *strstr(l, "alice") = 'A'; break;
			case 1: ls.v[k - 1] = edit(l, "user=alice", "user=alic"); free(l); break;
			case 2: { char *m = strstr(l, "time=") + 5 + 14; /* minute tens */
				*m = *m == '9' ? '0' : (char)(*m + 1); break; }
			case 3: { char *d = strstr(l, "time=") + 5 + 8; /* day tens */
				*d = '4'; break; }
			case 4: ls.v[k - 1] = edit(l, "seq=", "seq=9"); free(l); break;
			case 5: flip_hex(l, " prev=", 10); break;
			case 6: flip_hex(l, " next=", 63); break;
			case 7: flip_hex(l, " sig=", 0); break;
			case 8: flip_hex(l, " sig=", 127); break;
			case 9: ls.v[k - 1] = edit_field(l, " sig=", 128, upper); free(l); break;
			case 10: *strstr(l, "alice") = '\x01'; break;
			case 11: ls.v[k - 1] = strdup("hello world"); free(l); break;
			case 12: { char *m = strstr(l, " user="); *m = '\n'; break; }
			}
			save_lines(sd, "journal.log", &ls);
			free_lines(&ls);
			if (t == 4 && k == 1) {
				/* the chain present starts at seq=91 now */
				expect_bad_in(sd, pk, 1, 91);
				expect_bad_in(sd, NULL, 1, 91);
				continue;
			}
			expect_bad(sd, pk, k, edits[t].why[0] ? edits[t].why : NULL);
			expect_bad(sd, NULL, k, edits[t].why[0] ? edits[t].why : NULL);
		}
	}
}

static void test_tamper_delete_swap_insert(void **state)
{
	struct fixture *f = *state;
	unsigned char pk[32];
	char pristine[256], sd[256];
	struct lines ls;

	make_pristine(f, pristine, pk);

	/* delete entry k (k in the middle, and the last but one) */
	for (unsigned k = K; k <= PRISTINE_N - 1; k += PRISTINE_N - 1 - K) {
		print_message("    delete entry %u\n", k);
		copy_journal(f, pristine, sd);
		load_lines(sd, "journal.log", &ls);
		free(ls.v[k - 1]);
		memmove(&ls.v[k - 1], &ls.v[k], (ls.n - k) * sizeof ls.v[0]);
		ls.n--;
		save_lines(sd, "journal.log", &ls);
		free_lines(&ls);
		expect_bad(sd, pk, k, "missing");
		expect_bad(sd, NULL, k, "missing");
	}
	/* delete entry 1: the chain no longer starts where the first key
	 * says it does */
	print_message("    delete entry 1\n");
	copy_journal(f, pristine, sd);
	load_lines(sd, "journal.log", &ls);
	free(ls.v[0]);
	memmove(&ls.v[0], &ls.v[1], (ls.n - 1) * sizeof ls.v[0]);
	ls.n--;
	save_lines(sd, "journal.log", &ls);
	free_lines(&ls);
	expect_bad(sd, pk, 1, "missing");
	expect_bad(sd, NULL, 1, "missing");

	/* swap entries k and k+1 (and the first two, and the last two) */
	for (unsigned k = 1; k < PRISTINE_N; k += (k == 1 ? K - 1 : k == K ? PRISTINE_N - 1 - K : 99)) {
		char *tmp;

		print_message("    swap entries %u and %u\n", k, k + 1);
		copy_journal(f, pristine, sd);
		load_lines(sd, "journal.log", &ls);
		tmp = ls.v[k - 1];
		ls.v[k - 1] = ls.v[k];
		ls.v[k] = tmp;
		save_lines(sd, "journal.log", &ls);
		free_lines(&ls);
		expect_bad_in(sd, pk, k, k == 1 ? 2 : k);
		expect_bad_in(sd, NULL, k, k == 1 ? 2 : k);
	}

	/* insert a duplicate of entry k after it */
	print_message("    duplicate entry %u\n", K);
	copy_journal(f, pristine, sd);
	load_lines(sd, "journal.log", &ls);
	memmove(&ls.v[K + 1], &ls.v[K], (ls.n - K) * sizeof ls.v[0]);
	ls.v[K] = strdup(ls.v[K - 1]);
	ls.n++;
	save_lines(sd, "journal.log", &ls);
	free_lines(&ls);
	expect_bad(sd, pk, K + 1, "out of order");

	/* a duplicate of the last entry at the end */
	print_message("    duplicate of the last entry appended\n");
	copy_journal(f, pristine, sd);
	load_lines(sd, "journal.log", &ls);
	ls.v[ls.n] = strdup(ls.v[ls.n - 1]);
	ls.n++;
	save_lines(sd, "journal.log", &ls);
	free_lines(&ls);
	expect_bad(sd, pk, PRISTINE_N + 1, "out of order");

	/* insert a forged entry k+1 after entry k: right seq, right prev, a
	 * key of the forger's; every later entry renumbered and re-chained
	 * with keys of the forger's too.  Fails at k+1. */
	for (int renumber = 0; renumber <= 1; renumber++) {
		struct sspr_journal_signer *s = sodium_malloc(sizeof *s);
		struct sspr_journal_entry e;
		const char *why;
		char line[SSPR_JOURNAL_LINE_MAX + 1];
		unsigned char fpk[32];
		size_t len;

		print_message("    forged entry inserted after %u%s\n", K,
		              renumber ? ", the rest re-signed" : "");
		assert_non_null(s);
		copy_journal(f, pristine, sd);
		load_lines(sd, "journal.log", &ls);
		assert_int_equal(sspr_journal_signer_new(s, fpk), 0);
		s->seq = K;
		sspr_journal_hash(ls.v[K - 1], strlen(ls.v[K - 1]), s->hash);
		assert_int_equal(sspr_journal_sign(s, T0 + K, "event=reset_ok user=mallory", line,
		                                   sizeof line, &len), 0);
		memmove(&ls.v[K + 1], &ls.v[K], (ls.n - K) * sizeof ls.v[0]);
		ls.v[K] = strdup(line);
		ls.n++;
		if (renumber) {
			for (size_t i = K + 1; i < ls.n; i++) {
				assert_int_equal(sspr_journal_parse(ls.v[i], strlen(ls.v[i]), &e, &why), 0);
				char *pl = strndup(e.payload, e.payload_len);

				assert_int_equal(sspr_journal_sign(s, e.when, pl, line, sizeof line, &len),
				                 0);
				free(pl);
				free(ls.v[i]);
				ls.v[i] = strdup(line);
			}
		}
		save_lines(sd, "journal.log", &ls);
		free_lines(&ls);
		expect_bad(sd, pk, K + 1, "signature");
		expect_bad(sd, NULL, K + 1, "signature");
		sodium_free(s);
	}

	/* an empty line and a foreign line at the end */
	print_message("    empty line after entry %u\n", K);
	copy_journal(f, pristine, sd);
	load_lines(sd, "journal.log", &ls);
	memmove(&ls.v[K + 1], &ls.v[K], (ls.n - K) * sizeof ls.v[0]);
	ls.v[K] = strdup("");
	ls.n++;
	save_lines(sd, "journal.log", &ls);
	free_lines(&ls);
	expect_bad(sd, pk, K + 1, NULL);
}

/* Whoever reads the state directory after the fact holds only the key
 * for the entry after the last: re-signing an edited entry k with it
 * fails at k, whether the rest is left alone or re-chained. */
static void test_tamper_resign_with_state_key(void **state)
{
	struct fixture *f = *state;
	unsigned char pk[32], sk[64];
	char pristine[256], sd[256], skhex[129];
	struct lines ls;
	size_t got;

	make_pristine(f, pristine, pk);
	assert_true(state_sk_hex(pristine, "state", skhex));
	assert_int_equal(sodium_hex2bin(sk, sizeof sk, skhex, 128, NULL, &got, NULL), 0);
	assert_int_equal(got, 64);
	for (unsigned k = 1; k <= PRISTINE_N; k += (k == 1 ? K - 1 : k == K ? PRISTINE_N - K : 99)) {
		for (int mode = 0; mode < 2; mode++) {
			struct sspr_journal_entry e;
			const char *why;
			char *l, *ed, *pl;
			unsigned char sig[64];
			char sighex[129];
			size_t signed_len;

			print_message("    entry %u edited, re-signed with the state's key%s\n", k,
			              mode ? ", the rest re-chained" : "");
			copy_journal(f, pristine, sd);
			load_lines(sd, "journal.log", &ls);
			l = ls.v[k - 1];
			ed = edit(l, "user=alice", "user=mallory");
			free(l);
			/* keep every field but the payload; sign what the signature covers */
			assert_int_equal(sspr_journal_parse(ed, strlen(ed), &e, &why), 0);
			signed_len = e.signed_len;
			crypto_sign_detached(sig, NULL, (const unsigned char *)ed, signed_len, sk);
			sodium_bin2hex(sighex, sizeof sighex, sig, sizeof sig);
			memcpy(ed + signed_len + 5, sighex, 128);
			ls.v[k - 1] = ed;
			if (mode == 1) {
				/* a signer holding the state's key re-makes k..N */
				struct sspr_journal_signer *s = sodium_malloc(sizeof *s);
				char line[SSPR_JOURNAL_LINE_MAX + 1];
				size_t len;

				assert_non_null(s);
				memcpy(s->sk, sk, 64);
				s->seq = k - 1;
				memcpy(s->hash, e.prev, 32);
				for (size_t i = k - 1; i < ls.n; i++) {
					assert_int_equal(sspr_journal_parse(ls.v[i], strlen(ls.v[i]), &e,
					                                    &why), 0);
					pl = strndup(e.payload, e.payload_len);
					assert_int_equal(sspr_journal_sign(s, e.when, pl, line, sizeof line,
					                                   &len), 0);
					free(pl);
					free(ls.v[i]);
					ls.v[i] = strdup(line);
				}
				sodium_free(s);
			}
			save_lines(sd, "journal.log", &ls);
			free_lines(&ls);
			expect_bad(sd, pk, k, "signature");
			expect_bad(sd, NULL, k, "signature");
		}
	}
	sodium_memzero(sk, sizeof sk);
}

/* Truncating the tail.  The state names the last entry and holds the key
 * for the next: a journal that ends before it is caught, and the state
 * cannot be re-made for an earlier entry (its key is gone).  A cut of
 * exactly the last entry (or part of it) looks like a crash before the
 * entry reached the segment, and the state puts it back.
 *
 * What is NOT caught: a tail cut together with the state rolled back to
 * a copy taken earlier (by someone who read the state directory back
 * then), or with the state removed (then verification checks the chain
 * alone: rep.state_checked is false, and no append works any more).  The
 * seq= of the syslog copies kept elsewhere covers those. */
static void test_tamper_truncate_tail(void **state)
{
	struct fixture *f = *state;
	struct sspr_journal_report rep;
	unsigned char pk[32];
	char pristine[256], sd[256], early[256];
	struct lines ls;
	char *orig, *now;

	new_statedir(f, pristine);
	append_n(pristine, 1, 10, pk);
	copy_journal(f, pristine, early); /* a copy of the state at entry 10 */
	append_n(pristine, 11, PRISTINE_N - 10, NULL);
	orig = slurp_in(pristine, "journal.log", NULL);

	for (unsigned cut = 2; cut <= PRISTINE_N; cut += (cut == 2 ? 3 : PRISTINE_N - 5)) {
		print_message("    last %u entries cut\n", cut);
		copy_journal(f, pristine, sd);
		load_lines(sd, "journal.log", &ls);
		for (unsigned i = 0; i < cut; i++)
			free(ls.v[--ls.n]);
		save_lines(sd, "journal.log", &ls);
		free_lines(&ls);
		expect_bad(sd, pk, PRISTINE_N - cut + 1, "missing");
		expect_bad(sd, NULL, PRISTINE_N - cut + 1, NULL);
		/* and nothing can be appended after the cut */
		{
			uint64_t seq;
			bool st;
			unsigned char p2[32];

			assert_true(sspr_journal_append(sd, T0, "event=test", &seq, &st, p2) < 0);
		}
	}

	/* the last entry cut, whole or in part: put back from the state */
	for (int part = 0; part <= 1; part++) {
		size_t len;
		char *buf;

		print_message("    the last entry cut%s: rolled forward\n", part ? " in half" : "");
		copy_journal(f, pristine, sd);
		buf = slurp_in(sd, "journal.log", &len);
		len--; /* the final '\n' */
		while (buf[len - 1] != '\n')
			len--;
		if (part)
			len += 100;
		spit_in(sd, "journal.log", buf, len);
		free(buf);
		expect_ok(sd, pk, PRISTINE_N);
		now = slurp_in(sd, "journal.log", NULL);
		assert_string_equal(now, orig);
		free(now);
	}

	/* a state made up for an earlier entry does not fit: cut to 10 and
	 * put a state of the attacker's making (any key) in place */
	print_message("    cut to 10, the state replaced by one of a forger's\n");
	copy_journal(f, pristine, sd);
	load_lines(sd, "journal.log", &ls);
	while (ls.n > 10)
		free(ls.v[--ls.n]);
	save_lines(sd, "journal.log", &ls);
	{
		/* the real state at 10, with another secret key in it */
		char *st = slurp_in(early, "state", NULL), *p;
		unsigned char fpk[32], fsk[64];
		char fhex[129];

		assert_non_null(st);
		assert_int_equal(crypto_sign_keypair(fpk, fsk), 0);
		sodium_bin2hex(fhex, sizeof fhex, fsk, sizeof fsk);
		p = strstr(st, "\nsk ");
		assert_non_null(p);
		memcpy(p + 4, fhex, 128);
		spit_in(sd, "state", st, strlen(st));
		free(st);
	}
	free_lines(&ls);
	expect_bad(sd, pk, 11, "state");

	/* NOT caught (see above): the tail cut and the state rolled back to
	 * a copy taken at entry 10 */
	print_message("    cut to 10, the state rolled back to a copy taken then: not caught\n");
	copy_journal(f, pristine, sd);
	load_lines(sd, "journal.log", &ls);
	while (ls.n > 10)
		free(ls.v[--ls.n]);
	save_lines(sd, "journal.log", &ls);
	free_lines(&ls);
	{
		size_t len;
		char *st = slurp_in(early, "state", &len);

		spit_in(sd, "state", st, len);
		free(st);
	}
	assert_int_equal(verify(sd, pk, &rep), 0);
	assert_int_equal(rep.last_seq, 10);
	assert_true(rep.state_checked);

	/* caught: the tail cut and the state removed (every journal has a
	 * state from its first entry on) */
	print_message("    cut to 10, the state removed: caught\n");
	copy_journal(f, pristine, sd);
	load_lines(sd, "journal.log", &ls);
	while (ls.n > 10)
		free(ls.v[--ls.n]);
	save_lines(sd, "journal.log", &ls);
	free_lines(&ls);
	unlink_in(sd, "state");
	expect_bad(sd, pk, 11, "state is missing");
	/* and a state naming an entry the journal does not hold */
	spit_in(sd, "state", "garbage", 7);
	expect_bad(sd, pk, 11, "state is damaged");
	free(orig);
}

/* Archived head, cut tail, forged state: the state must name an entry of
 * the journal present (review finding: a state whose seq lay before the
 * first file left passed).  And the report says what was archived. */
static void test_archived_head_cut_tail(void **state)
{
	struct fixture *f = *state;
	struct sspr_journal_report rep;
	unsigned char pk[32], k4[32], rpk[32], rsk[64];
	char sd[256], forged[512], zero[65], skh[129];
	uint64_t a, b;
	struct lines ls;
	struct stat sb;
	char jpath[512];
	int w;

	new_statedir(f, sd);
	append_n(sd, 1, 3, pk);
	assert_int_equal(sspr_journal_rotate(sd, &a, &b, k4), 0);
	append_n(sd, 4, 5, NULL);
	unlink_in(sd, "journal-00000000000000000001.log"); /* the documented archive */
	assert_int_equal(verify(sd, NULL, &rep), 0);
	assert_int_equal(rep.first_seq, 4);
	assert_int_equal(rep.absent_before, 4);
	/* cut the tail to two entries, and forge a state that says "seq 1" */
	load_lines(sd, "journal.log", &ls);
	while (ls.n > 2)
		free(ls.v[--ls.n]);
	save_lines(sd, "journal.log", &ls);
	free_lines(&ls);
	jfile(sd, "journal.log", jpath);
	assert_int_equal(stat(jpath, &sb), 0);
	memset(zero, '0', 64);
	zero[64] = '\0';
	crypto_sign_keypair(rpk, rsk);
	sodium_bin2hex(skh, sizeof skh, rsk, 64);
	w = snprintf(forged, sizeof forged,
	             "sspr-journal-state 1\nseq 1\nhash %s\nsk %s\nsize %lld\nline -\n", zero, skh,
	             (long long)sb.st_size);
	assert_true(w > 0 && (size_t)w < sizeof forged);
	spit_in(sd, "state", forged, (size_t)w);
	expect_bad(sd, NULL, 4, "not in the journal present");
	expect_bad(sd, k4, 4, "not in the journal present");
}

/* --- rotation ------------------------------------------------------------------ */

static void test_rotation(void **state)
{
	struct fixture *f = *state;
	struct sspr_journal_report rep;
	unsigned char pk[32], k11[32], k21[32], bad_key[32], bsk[64];
	uint64_t first, last;
	char sd[256], sd2[256], hex[SSPR_JOURNAL_PK_HEX], want[256];
	struct sspr_journal_entry e;
	const char *why;
	struct lines ls;
	char *keys;

	new_statedir(f, sd);
	append_n(sd, 1, 10, pk);
	assert_int_equal(sspr_journal_rotate(sd, &first, &last, k11), 0);
	assert_int_equal(first, 1);
	assert_int_equal(last, 10);
	/* the kept key is the one entry 10 names for entry 11 */
	load_lines(sd, "journal-00000000000000000001.log", &ls);
	assert_int_equal(ls.n, 10);
	assert_int_equal(sspr_journal_parse(ls.v[9], strlen(ls.v[9]), &e, &why), 0);
	assert_memory_equal(e.next, k11, 32);
	free_lines(&ls);
	expect_ok(sd, pk, 10); /* no entry after a rotation yet */
	/* nothing to rotate */
	assert_int_equal(sspr_journal_rotate(sd, &first, &last, k21), -ENODATA);

	append_n(sd, 11, 10, NULL);
	assert_int_equal(sspr_journal_rotate(sd, &first, &last, k21), 0);
	assert_int_equal(first, 11);
	assert_int_equal(last, 20);
	append_n(sd, 21, 5, NULL);
	assert_int_equal(verify(sd, pk, &rep), 0);
	assert_int_equal(rep.entries, 25);
	assert_int_equal(rep.files, 3);
	assert_int_equal(rep.last_seq, 25);
	assert_true(rep.state_checked);
	expect_ok(sd, NULL, 25);

	keys = slurp_in(sd, "keys", NULL);
	sspr_journal_key_hex(pk, hex);
	pathf(want, sizeof want, "1 %s\n", hex);
	sspr_journal_key_hex(k11, hex);
	pathf(want + strlen(want), sizeof want - strlen(want), "11 %s\n", hex);
	sspr_journal_key_hex(k21, hex);
	pathf(want + strlen(want), sizeof want - strlen(want), "21 %s\n", hex);
	assert_string_equal(keys, want);
	free(keys);

	/* the first segment removed (retention): the kept key for 11 is used */
	copy_journal(f, sd, sd2);
	unlink_in(sd2, "journal-00000000000000000001.log");
	assert_int_equal(verify(sd2, NULL, &rep), 0);
	assert_int_equal(rep.entries, 15);
	assert_int_equal(rep.first_seq, 11);
	assert_true(rep.key_from_kept);
	expect_ok(sd2, k11, 15);
	/* ... while the first key says what is no longer there: seq 1.. */
	expect_bad(sd2, pk, 1, "missing");
	/* both old segments removed */
	unlink_in(sd2, "journal-00000000000000000011.log");
	expect_ok(sd2, NULL, 5);
	expect_ok(sd2, k21, 5);

	/* a middle segment removed: caught */
	copy_journal(f, sd, sd2);
	unlink_in(sd2, "journal-00000000000000000011.log");
	expect_bad(sd2, pk, 11, "missing");
	expect_bad(sd2, NULL, 11, "missing");

	/* the last rotated segment removed, the current one kept */
	copy_journal(f, sd, sd2);
	unlink_in(sd2, "journal-00000000000000000011.log");
	unlink_in(sd2, "journal-00000000000000000001.log");
	assert_int_equal(verify(sd2, NULL, &rep), 0);
	assert_int_equal(rep.first_seq, 21);

	/* a segment renamed to claim other entries */
	copy_journal(f, sd, sd2);
	{
		char a[512], b[512];

		jfile(sd2, "journal-00000000000000000011.log", a);
		jfile(sd2, "journal-00000000000000000012.log", b);
		assert_int_equal(rename(a, b), 0);
	}
	expect_bad(sd2, pk, 11, NULL);

	/* an entry edited in a rotated segment */
	copy_journal(f, sd, sd2);
	load_lines(sd2, "journal-00000000000000000011.log", &ls);
	*strstr(ls.v[4], "alice") = 'e';
	save_lines(sd2, "journal-00000000000000000011.log", &ls);
	free_lines(&ls);
	expect_bad(sd2, pk, 15, "signature");

	/* a wrong key fails at seq 1 */
	assert_int_equal(crypto_sign_keypair(bad_key, bsk), 0);
	expect_bad(sd, bad_key, 1, NULL);
	expect_bad(sd, k11, 1, NULL);
	/* a wrong kept key too */
	copy_journal(f, sd, sd2);
	sspr_journal_key_hex(bad_key, hex);
	pathf(want, sizeof want, "1 %s\n", hex);
	spit_in(sd2, "keys", want, strlen(want));
	expect_bad(sd2, NULL, 1, NULL);
	expect_ok(sd2, pk, 25);
}

/* --- init ------------------------------------------------------------------------ */

static void test_init(void **state)
{
	struct fixture *f = *state;
	struct sspr_journal_report rep;
	unsigned char pk[32], pk2[32], pk3[32], p[32], p2[32];
	uint64_t seq;
	bool started;
	char sd[256], hex[SSPR_JOURNAL_PK_HEX], want[128], dpath[512];
	unsigned aside = 0;
	struct dirent *de;
	char *keys;
	DIR *d;

	new_statedir(f, sd);
	assert_int_equal(sspr_journal_init(sd, false, pk), 0);
	keys = slurp_in(sd, "keys", NULL);
	sspr_journal_key_hex(pk, hex);
	pathf(want, sizeof want, "1 %s\n", hex);
	assert_string_equal(keys, want);
	free(keys);
	assert_int_equal(verify(sd, pk, &rep), 0);
	assert_int_equal(rep.entries, 0);
	/* refused over the chain just started, even with no entry yet */
	assert_int_equal(sspr_journal_init(sd, false, p), -EEXIST);
	/* the first append does not start another chain */
	assert_int_equal(sspr_journal_append(sd, T0, "event=test n=1", &seq, &started, p), 0);
	assert_int_equal(seq, 1);
	assert_false(started);
	expect_ok(sd, pk, 1);
	append_n(sd, 2, 4, NULL);
	assert_int_equal(sspr_journal_init(sd, false, p), -EEXIST);
	expect_ok(sd, pk, 5);

	/* --force moves the old chain aside whole */
	assert_int_equal(sspr_journal_init(sd, true, pk2), 0);
	assert_memory_not_equal(pk, pk2, 32);
	expect_ok(sd, pk2, 0);
	append_n(sd, 1, 3, NULL);
	expect_ok(sd, pk2, 3);
	expect_bad(sd, pk, 1, NULL);
	/* twice in the same second */
	assert_int_equal(sspr_journal_init(sd, true, pk3), 0);
	expect_ok(sd, pk3, 0);
	assert_int_equal(sspr_journal_append(sd, T0, "event=test", &seq, &started, p), 0);
	assert_int_equal(seq, 1);
	expect_ok(sd, pk3, 1);

	/* both old chains are still there, whole */
	d = opendir(sd);
	assert_non_null(d);
	while ((de = readdir(d))) {
		char log[800], *buf;
		unsigned n = 0;

		if (strncmp(de->d_name, "journal.replaced-", 17) != 0)
			continue;
		aside++;
		pathf(log, sizeof log, "%s/%s/journal.log", sd, de->d_name);
		buf = slurp(log, NULL);
		assert_non_null(buf);
		for (char *q = buf; (q = strchr(q, '\n')); q++)
			n++;
		assert_true(n == 5 || n == 3);
		free(buf);
	}
	closedir(d);
	assert_int_equal(aside, 2);

	/* a chain start killed after keys (and a state.new, torn or whole)
	 * and before its state: no chain yet, the next append starts one */
	for (int how = 0; how < 3; how++) {
		char *st;
		size_t slen;

		new_statedir(f, sd);
		assert_int_equal(sspr_journal_init(sd, false, pk), 0);
		st = slurp_in(sd, "state", &slen);
		unlink_in(sd, "state");
		if (how > 0)
			spit_in(sd, "state.new", st, how == 1 ? slen / 2 : slen);
		free(st);
		assert_int_equal(sspr_journal_append(sd, T0, "event=test", &seq, &started, p2), 0);
		assert_true(started);
		assert_int_equal(seq, 1);
		expect_ok(sd, p2, 1);
		expect_ok(sd, NULL, 1);
	}

	/* a journal of rotated segments only is a journal too */
	new_statedir(f, sd);
	append_n(sd, 1, 3, pk);
	{
		uint64_t a, b;
		unsigned char k[32];

		assert_int_equal(sspr_journal_rotate(sd, &a, &b, k), 0);
	}
	unlink_in(sd, "state");
	unlink_in(sd, "keys");
	pathf(dpath, sizeof dpath, "%s/journal/journal.log", sd);
	(void)unlink(dpath);
	assert_int_equal(sspr_journal_init(sd, false, p), -EEXIST);
}

/* --- crash states, made by hand ------------------------------------------------- */

/* A journal at entry 5 (`before`) and the same one after entry 6
 * (`after`): the crash states of the append of entry 6 are made from
 * their files. */
struct crash_base {
	char before[256], after[256];
	unsigned char pk[32];
	char sk5[129];  /* the key that signed entry 6 */
	char line6[SSPR_JOURNAL_LINE_MAX + 2];
};

static void crash_base(struct fixture *f, struct crash_base *cb)
{
	struct lines ls;

	new_statedir(f, cb->before);
	append_n(cb->before, 1, 5, cb->pk);
	copy_journal(f, cb->before, cb->after);
	append_n(cb->after, 6, 1, NULL);
	assert_true(state_sk_hex(cb->before, "state", cb->sk5));
	load_lines(cb->after, "journal.log", &ls);
	assert_int_equal(ls.n, 6);
	pathf(cb->line6, sizeof cb->line6, "%s", ls.v[5]);
	free_lines(&ls);
}

/* The next append rolls the crash forward (or back): the chain verifies
 * with no gap, entry 6 is the crashed one when it was committed, and the
 * key that signed entry 6 is gone from every file. */
static void after_crash(const char *sd, const struct crash_base *cb, bool committed)
{
	struct lines ls;
	uint64_t seq;
	bool started;
	unsigned char p[32];
	unsigned want = committed ? 7 : 6;

	assert_int_equal(sspr_journal_append(sd, T0 + 100, "event=after the crash", &seq,
	                                     &started, p), 0);
	assert_false(started);
	assert_int_equal(seq, want);
	expect_ok(sd, cb->pk, want);
	load_lines(sd, "journal.log", &ls);
	assert_int_equal(ls.n, want);
	if (committed)
		assert_string_equal(ls.v[5], cb->line6);
	assert_non_null(strstr(ls.v[want - 1], "event=after the crash"));
	free_lines(&ls);
	assert_false(any_file_holds(sd, cb->sk5));
	assert_false(exists_in(sd, "state.new"));
}

static void test_crash_roll_forward(void **state)
{
	struct fixture *f = *state;
	struct crash_base cb;
	char sd[256];
	size_t len, slen;
	char *buf, *st;

	crash_base(f, &cb);

	/* 1. state.new written whole beside the old state (killed before
	 * the wipe): the next writer takes state.new and writes entry 6 */
	print_message("    whole state.new beside the old state\n");
	copy_journal(f, cb.before, sd);
	st = slurp_in(cb.after, "state", &slen);
	spit_in(sd, "state.new", st, slen);
	after_crash(sd, &cb, true);

	/* 2. the same, the old state already wiped to zeros */
	print_message("    whole state.new, the old state zeroed\n");
	copy_journal(f, cb.before, sd);
	spit_in(sd, "state.new", st, slen);
	buf = slurp_in(sd, "state", &len);
	memset(buf, 0, len);
	spit_in(sd, "state", buf, len);
	free(buf);
	after_crash(sd, &cb, true);

	/* 3. a torn state.new (killed while writing it): the old state
	 * stands, entry 6 never was */
	for (size_t cut = 0; cut < slen; cut += slen / 7 + 1) {
		print_message("    state.new torn at %zu of %zu bytes\n", cut, slen);
		copy_journal(f, cb.before, sd);
		spit_in(sd, "state.new", st, cut);
		after_crash(sd, &cb, false);
	}
	/* state.new whole but for its last byte */
	copy_journal(f, cb.before, sd);
	spit_in(sd, "state.new", st, slen - 1);
	after_crash(sd, &cb, false);

	/* 4. the new state in place, the line missing from journal.log */
	print_message("    state committed, line 6 missing from journal.log\n");
	copy_journal(f, cb.after, sd);
	buf = slurp_in(cb.before, "journal.log", &len);
	spit_in(sd, "journal.log", buf, len);
	after_crash(sd, &cb, true);

	/* 5. the line torn: every length of it, without its '\n' */
	{
		size_t l6 = strlen(cb.line6);
		char *full = malloc(len + l6 + 1);

		assert_non_null(full);
		memcpy(full, buf, len);
		memcpy(full + len, cb.line6, l6);
		full[len + l6] = '\n';
		for (size_t cut = 1; cut <= l6; cut += (cut < 8 ? 1 : 37)) {
			copy_journal(f, cb.after, sd);
			spit_in(sd, "journal.log", full, len + cut);
			after_crash(sd, &cb, true);
		}
		print_message("    line 6 torn at %zu lengths: rolled forward\n", l6);
		/* zeros where line 6 should be (a power loss after the size
		 * grew): rolled forward too; other bytes there are an edit */
		copy_journal(f, cb.after, sd);
		memset(full + len + 20, 0, l6 - 20);
		spit_in(sd, "journal.log", full, len + l6 - 10);
		after_crash(sd, &cb, true);
		copy_journal(f, cb.after, sd);
		full[len + 5] ^= 1;
		spit_in(sd, "journal.log", full, len + 30);
		expect_bad(sd, cb.pk, 6, NULL);
		{
			uint64_t seq;
			bool started;
			unsigned char p[32];

			assert_true(sspr_journal_append(sd, T0, "event=x", &seq, &started, p) < 0);
		}
		memcpy(full + len, cb.line6, l6);
		/* ... and the same, verified (which rolls forward too) */
		copy_journal(f, cb.after, sd);
		spit_in(sd, "journal.log", full, len + l6 / 2);
		expect_ok(sd, cb.pk, 6);
		free(full);
	}
	free(buf);

	/* 6. the state committed, and state.new of the same (a crash after
	 * the rename is impossible, but a left-over copy must not matter) */
	copy_journal(f, cb.after, sd);
	spit_in(sd, "state.new", st, slen);
	after_crash(sd, &cb, true);
	free(st);
}

/* A crash in a rotation, after journal.log was renamed and before the
 * state followed; and a crash in the first append after a rotation, with
 * an entry of the same length as the rotated segment (the two look alike
 * by size). */
static void test_crash_rotation(void **state)
{
	struct fixture *f = *state;
	unsigned char pk[32], k[32], p[32];
	char sd[256], rot[256], sd2[256], *st, *buf;
	uint64_t a, b, seq;
	bool started;
	size_t slen, len;
	struct lines ls;

	/* 1. rename done, state not: finish the rotation */
	print_message("    rotation killed after the rename\n");
	new_statedir(f, sd);
	append_n(sd, 1, 5, pk);
	copy_journal(f, sd, sd2);
	assert_int_equal(sspr_journal_rotate(sd2, &a, &b, k), 0);
	st = slurp_in(sd, "state", &slen); /* the state before the rotation */
	spit_in(sd2, "state", st, slen);
	free(st);
	append_n(sd2, 6, 3, NULL);
	assert_false(exists_in(sd2, "state.new"));
	expect_ok(sd2, pk, 8);
	expect_ok(sd2, NULL, 8);

	/* 2. keys written, nothing else: a later rotation still works */
	print_message("    rotation killed after keys\n");
	copy_journal(f, sd, sd2);
	assert_int_equal(sspr_journal_rotate(sd2, &a, &b, k), 0);
	{
		char *keys = slurp_in(sd2, "keys", &len);
		char *jl = slurp_in(sd2, "journal-00000000000000000001.log", &slen);

		copy_journal(f, sd, sd2);
		spit_in(sd2, "keys", keys, len);
		free(keys);
		free(jl);
	}
	append_n(sd2, 6, 3, NULL);
	expect_ok(sd2, pk, 8);
	assert_int_equal(sspr_journal_rotate(sd2, &a, &b, k), 0);
	assert_int_equal(a, 1);
	append_n(sd2, 9, 2, NULL);
	expect_ok(sd2, NULL, 10);
	unlink_in(sd2, "journal-00000000000000000001.log");
	assert_int_equal(verify(sd2, NULL, &(struct sspr_journal_report){ 0 }), 0);

	/* 3. one entry, rotated; the next entry (same length) committed to
	 * the state, killed before journal.log was made: entry 2 is rolled
	 * forward, not taken for the rotated segment */
	print_message("    first append after a rotation killed before journal.log\n");
	new_statedir(f, rot);
	assert_int_equal(sspr_journal_append(rot, T0, "event=same", &seq, &started, pk), 0);
	assert_int_equal(sspr_journal_rotate(rot, &a, &b, k), 0);
	copy_journal(f, rot, sd2);
	assert_int_equal(sspr_journal_append(sd2, T0, "event=same", &seq, &started, p), 0);
	assert_int_equal(seq, 2);
	load_lines(sd2, "journal.log", &ls);
	assert_int_equal(ls.n, 1);
	buf = slurp_in(rot, "journal-00000000000000000001.log", &len);
	assert_int_equal(len, strlen(ls.v[0]) + 1); /* the same size */
	free(buf);
	for (int how = 0; how < 2; how++) {
		char sd3[256];

		copy_journal(f, sd2, sd3);
		if (how == 0)
			unlink_in(sd3, "journal.log");
		else
			spit_in(sd3, "journal.log", "", 0);
		assert_int_equal(sspr_journal_append(sd3, T0, "event=next", &seq, &started, p), 0);
		assert_int_equal(seq, 3);
		expect_ok(sd3, pk, 3);
		{
			struct lines l3;

			load_lines(sd3, "journal.log", &l3);
			assert_int_equal(l3.n, 2);
			assert_string_equal(l3.v[0], ls.v[0]);
			free_lines(&l3);
		}
	}
	free_lines(&ls);
}

/* --- planted files ---------------------------------------------------------------- */

static void test_planted_files(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = { "journal.log", "state", "keys", ".lock" };
	static const char *const kinds[] = { "symlink", "dangling symlink", "FIFO", "hard link",
	                                     "directory" };
	unsigned char pk[32], p[32];
	char pristine[256], sd[256], canary[512], jpath[512];
	struct stat cs0;

	make_pristine(f, pristine, pk);
	pathf(canary, sizeof canary, "%s/canary", f->dir);
	spit(canary, "canary\n", 7);
	assert_int_equal(stat(canary, &cs0), 0);
	alarm(60); /* a FIFO opened blocking would hang here: fail instead */

	for (size_t n = 0; n < SSPR_ELEMENTSOF(names); n++) {
		for (size_t k = 0; k < SSPR_ELEMENTSOF(kinds); k++) {
			uint64_t seq, a, b;
			bool started;
			struct sspr_journal_report rep;
			struct stat cs;
			char *c;
			int r;

			print_message("    %s at %s\n", kinds[k], names[n]);
			copy_journal(f, pristine, sd);
			jfile(sd, names[n], jpath);
			(void)unlink(jpath);
			switch (k) {
			case 0: assert_int_equal(symlink(canary, jpath), 0); break;
			case 1: assert_int_equal(symlink("/nonexistent/sspr-canary", jpath), 0); break;
			case 2: assert_int_equal(mkfifo(jpath, 0600), 0); break;
			case 3: assert_int_equal(link(canary, jpath), 0); break;
			case 4: assert_int_equal(mkdir(jpath, 0700), 0); break;
			}

			r = sspr_journal_append(sd, T0, "event=planted", &seq, &started, p);
			if (strcmp(names[n], "keys") == 0) {
				/* appends do not read keys */
				assert_true(r == 0 || r == -SSPR_E_UNSAFE_FILE);
			} else if (r != -SSPR_E_UNSAFE_FILE) {
				print_message("    append: %d (%s)\n", r, sspr_strerror(r));
				/* a directory is not a file we made: refused either way */
				assert_true(k == 4 && r < 0);
			}
			r = sspr_journal_verify(sd, NULL, &rep);
			/* (a lock that cannot be taken for another reason than a
			 * plant is read past: verification does not need it) */
			if (r != -SSPR_E_UNSAFE_FILE && !(k == 4 && r < 0) &&
			    !(k == 4 && n == 3 && r == 0)) {
				print_message("    verify: %d (%s) bad_seq=%" PRIu64 " why=%s\n", r,
				              sspr_strerror(r), rep.bad_seq, rep.why);
				fail();
			}
			r = sspr_journal_rotate(sd, &a, &b, p);
			if (r != -SSPR_E_UNSAFE_FILE && !(k == 4 && r < 0)) {
				print_message("    rotate: %d (%s)\n", r, sspr_strerror(r));
				fail();
			}
			/* the canary: same bytes, mode and inode; nothing new beside it */
			c = slurp(canary, NULL);
			assert_string_equal(c, "canary\n");
			free(c);
			assert_int_equal(stat(canary, &cs), 0);
			assert_int_equal(cs.st_mode, cs0.st_mode);
			assert_int_equal(cs.st_ino, cs0.st_ino);
			assert_int_equal(cs.st_size, 7);
			assert_true(access("/nonexistent/sspr-canary", F_OK) < 0);
			/* what was planted is still what it was */
			{
				struct stat ps;

				assert_int_equal(lstat(jpath, &ps), 0);
				switch (k) {
				case 0: case 1: assert_true(S_ISLNK(ps.st_mode)); break;
				case 2: assert_true(S_ISFIFO(ps.st_mode)); break;
				case 3: assert_int_equal(ps.st_ino, cs0.st_ino); break;
				case 4: assert_true(S_ISDIR(ps.st_mode)); break;
				}
			}
			/* the journal itself is intact once the plant is gone */
			if (k == 4)
				assert_int_equal(rmdir(jpath), 0);
			else
				assert_int_equal(unlink(jpath), 0);
			if (strcmp(names[n], ".lock") == 0) {
				expect_ok(sd, pk, PRISTINE_N);
			} else if (strcmp(names[n], "keys") == 0) {
				assert_int_equal(sspr_journal_verify(sd, pk, &rep), 0);
				assert_true(rep.entries == PRISTINE_N || rep.entries == PRISTINE_N + 1);
			}
		}
	}

	/* state.new planted (a symlink to the canary): taken for a torn one
	 * and removed, never followed */
	copy_journal(f, pristine, sd);
	jfile(sd, "state.new", jpath);
	assert_int_equal(symlink(canary, jpath), 0);
	append_n(sd, PRISTINE_N + 1, 1, NULL);
	expect_ok(sd, pk, PRISTINE_N + 1);
	{
		char *c = slurp(canary, NULL);

		assert_string_equal(c, "canary\n");
		free(c);
	}
	/* the journal directory itself a symlink */
	{
		char sd2[256], real[512];

		copy_journal(f, pristine, sd);
		new_statedir(f, sd2);
		pathf(real, sizeof real, "%s/journal", sd);
		jfile(sd2, "", jpath);
		jpath[strlen(jpath) - 1] = '\0';
		assert_int_equal(symlink(real, jpath), 0);
		{
			uint64_t seq;
			bool started;
			struct sspr_journal_report rep;

			assert_int_equal(sspr_journal_append(sd2, T0, "event=x", &seq, &started, p),
			                 -SSPR_E_UNSAFE_FILE);
			assert_int_equal(sspr_journal_verify(sd2, NULL, &rep), -SSPR_E_UNSAFE_FILE);
		}
	}
	alarm(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_parse_round_trip),
		cmocka_unit_test(test_parse_strict),
		cmocka_unit_test_setup_teardown(test_chain_of_1000_appends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_100000_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_edit_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_delete_swap_insert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_resign_with_state_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_truncate_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_archived_head_cut_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_roll_forward, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_planted_files, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	if (getenv("SSPR_TEST_FILTER")) /* e.g. test_rotation, or test_tamper_* */
		cmocka_set_test_filter(getenv("SSPR_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
