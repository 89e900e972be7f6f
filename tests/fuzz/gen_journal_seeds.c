/* SPDX-License-Identifier: BSD-2-Clause */
/* Writes the seed corpus of fuzz_journal into DIR: real entries made by
 * sspr_journal_sign from the fuzz target's fixed first key (so that their
 * signatures and chains verify there), whole journals in the target's
 * SEG \f ... \f CURRENT [\v STATE] layout, and broken ones: edited,
 * dropped, swapped, torn, overlong and malformed lines.  Built on demand:
 *   ninja -C BUILD tests/fuzz/gen_journal_seeds
 *   BUILD/tests/fuzz/gen_journal_seeds tests/fuzz/corpus/journal */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sspr/audit.h"
#include "sspr/journal.h"

#define NENT 9

static const unsigned char fixed_seed[32] = "sspr fuzz journal fixed seed 01";
static const char *outdir;
static int nout;

static void out(const char *name, const char *p, size_t len)
{
	char path[4096];
	FILE *f;

	(void)snprintf(path, sizeof path, "%s/%s", outdir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	nout++;
}

static void outs(const char *name, const char *s)
{
	out(name, s, strlen(s));
}

/* The chain: NENT entries and the signer after each. */
static char lines[NENT][SSPR_JOURNAL_LINE_MAX + 1];
static size_t lens[NENT];
static char states[NENT][SSPR_JOURNAL_LINE_MAX + 512];

static void make_chain(void)
{
	static const struct sspr_kv kv[][8] = {
		{ { "user", "alice" }, { "uid", "1001" }, { "service", "sshd" },
		  { "rhost", "192.0.2.7" }, { "tty", "ssh" }, { "method", "totp" },
		  { "session", "0123456789abcdef" }, { "duration_ms", "5123" } },
		{ { "user", "ev\"il\\ user=root\n" }, { "rhost", "" }, { "tty", "\x01\xff" } },
		{ { "reason", "not enrolled" }, { "user_hash", "89abcdef01234567" } },
	};
	static const char *const events[] = { "enroll", "reset_start", "code_fail", "code_ok",
		                              "reset_ok", "denied", "locked", "rate_limited",
		                              "journal_rotate" };
	struct sspr_journal_signer s = { 0 };
	unsigned char pk[32];
	size_t off = 0;

	if (sodium_init() < 0 || crypto_sign_seed_keypair(pk, s.sk, fixed_seed) != 0)
		exit(1);
	sspr_journal_hash(pk, sizeof pk, s.hash);
	for (int i = 0; i < NENT; i++) {
		char payload[SSPR_AUDIT_LINE_MAX], hash[65], sk[129];
		const struct sspr_kv *k = kv[i % 3];
		size_t n = i % 3 == 0 ? 8 : i % 3 == 1 ? 3 : 2;

		(void)sspr_audit_format(payload, sizeof payload, events[i], k, n);
		if (sspr_journal_sign(&s, 1764424980 + 61 * i, payload, lines[i], sizeof lines[i],
		                      &lens[i]) != 0)
			exit(1);
		off += lens[i] + 1;
		sodium_bin2hex(hash, sizeof hash, s.hash, 32);
		sodium_bin2hex(sk, sizeof sk, s.sk, 64);
		(void)snprintf(states[i], sizeof states[i],
		               "sspr-journal-state 1\nseq %" PRIu64 "\nhash %s\nsk %s\nsize %zu\n"
		               "line %s\n",
		               s.seq, hash, sk, off, lines[i]);
	}
}

/* Join entries [a, b) as lines into buf at *o. */
static void join(char *buf, size_t *o, int a, int b)
{
	for (int i = a; i < b; i++) {
		memcpy(buf + *o, lines[i], lens[i]);
		*o += lens[i];
		buf[(*o)++] = '\n';
	}
}

int main(int argc, char **argv)
{
	static char buf[16 * (SSPR_JOURNAL_LINE_MAX + 600)];
	char name[64];
	size_t o;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	make_chain();

	/* single entries, as they are */
	for (int i = 0; i < 3; i++) {
		(void)snprintf(name, sizeof name, "line-%d", i + 1);
		out(name, lines[i], lens[i]);
	}

	/* whole journals */
	o = 0;
	join(buf, &o, 0, NENT);
	out("journal-ok", buf, o);
	memcpy(buf + o, "\v", 1);
	memcpy(buf + o + 1, states[NENT - 1], strlen(states[NENT - 1]));
	out("journal-ok-state", buf, o + 1 + strlen(states[NENT - 1]));
	/* state one entry ahead: the last line was lost (rolled forward) */
	o = 0;
	join(buf, &o, 0, NENT - 1);
	buf[o++] = '\v';
	memcpy(buf + o, states[NENT - 1], strlen(states[NENT - 1]));
	out("journal-state-ahead", buf, o + strlen(states[NENT - 1]));
	/* torn last line, with the state that has it */
	o = 0;
	join(buf, &o, 0, NENT);
	o -= 40;
	buf[o++] = '\v';
	memcpy(buf + o, states[NENT - 1], strlen(states[NENT - 1]));
	out("journal-torn-state", buf, o + strlen(states[NENT - 1]));
	/* a state with no pending line (after a rotation) */
	{
		char st[SSPR_JOURNAL_LINE_MAX + 512];
		char *l = strstr(states[3], "\nline ");

		memcpy(st, states[3], (size_t)(l - states[3]));
		strcpy(st + (l - states[3]), "\nline -\n");
		o = 0;
		join(buf, &o, 0, 4);
		buf[o++] = '\v';
		memcpy(buf + o, st, strlen(st));
		out("journal-state-noline", buf, o + strlen(st));
	}
	/* rotated: 1-3 | 4-6 | 7-9 */
	o = 0;
	join(buf, &o, 0, 3);
	buf[o++] = '\f';
	join(buf, &o, 3, 6);
	buf[o++] = '\f';
	join(buf, &o, 6, NENT);
	out("journal-rotated", buf, o);
	/* rotated, then an empty current segment */
	o = 0;
	join(buf, &o, 0, 4);
	buf[o++] = '\f';
	out("journal-rotated-empty", buf, o);

	/* tampered journals */
	o = 0;
	join(buf, &o, 0, 5);
	buf[lens[0] + 1 + lens[1] + 1 + 60] ^= 1; /* a byte of entry 3's prev= */
	out("tamper-edit", buf, o);
	o = 0;
	join(buf, &o, 0, 2);
	join(buf, &o, 3, 5);
	out("tamper-drop", buf, o);
	o = 0;
	join(buf, &o, 0, 2);
	join(buf, &o, 3, 4);
	join(buf, &o, 2, 3);
	out("tamper-swap", buf, o);
	o = 0;
	join(buf, &o, 0, 3);
	o--;
	out("tamper-torn", buf, o);
	o = 0;
	join(buf, &o, 0, 2);
	memset(buf + o, 'x', SSPR_JOURNAL_LINE_MAX + 10);
	o += SSPR_JOURNAL_LINE_MAX + 10;
	buf[o++] = '\n';
	join(buf, &o, 2, 3);
	out("tamper-overlong", buf, o);
	o = 0;
	join(buf, &o, 0, 2);
	buf[o - 1] = '\r';
	buf[o++] = '\n';
	out("tamper-crlf", buf, o);
	o = 0;
	join(buf, &o, 1, 4); /* the first entry dropped: no key for seq 2 */
	out("tamper-head", buf, o);

	/* malformed single lines */
	{
		static const struct { const char *name, *from, *to; } edits[] = {
			{ "bad-seq0", "seq=1 ", "seq=0 " },
			{ "bad-seq-lead0", "seq=1 ", "seq=01 " },
			{ "bad-seq-huge", "seq=1 ", "seq=9223372036854775809 " },
			{ "bad-seq-max", "seq=1 ", "seq=9223372036854775808 " },
			{ "bad-time-feb30", "2025-11-29T", "2025-02-30T" },
			{ "bad-time-leap", "2025-11-29T", "2024-02-29T" },
			{ "bad-time-60s", ":00Z", ":60Z" },
			{ "bad-prev-upper", "prev=", "prev=A" },
			{ "bad-noevent", "event=", "evant=" },
			{ "bad-sig-tag", " sig=", " sog=" },
		};

		for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
			char *at = strstr(lines[0], edits[i].from);
			size_t fl = strlen(edits[i].from), tl = strlen(edits[i].to);

			if (!at)
				continue;
			o = (size_t)(at - lines[0]);
			memcpy(buf, lines[0], o);
			memcpy(buf + o, edits[i].to, tl);
			memcpy(buf + o + tl, at + fl, lens[0] - o - fl);
			out(edits[i].name, buf, o + tl + lens[0] - o - fl);
		}
	}
	memcpy(buf, lines[1], lens[1]);
	buf[lens[1] - 140] = '\t';
	out("bad-ctl", buf, lens[1]);
	out("bad-short", lines[0], 60);
	outs("bad-empty-lines", "\n\n\n");
	outs("bad-fields", "seq=1 time=2025-11-29T14:03:00Z prev= next= event=x sig=\n");
	outs("payload-quoted", "seq=1 time=2025-11-29T14:03:00Z prev=00 event=x "
	                       "user=\"a\\\"b\\\\c\\x41\\x00\" k= z=\"\n");
	printf("%d seeds written to %s\n", nout, outdir);
	return 0;
}
