/* SPDX-License-Identifier: BSD-2-Clause */
/* Drives the audit journal for the crash sweep (journal-crash.sh): the
 * real appends, rotations and verification of lib/journal.c, nothing
 * else, so that the syscalls strace counts are the journal's.
 *
 *   sspr-journal-driver append STATEDIR PAYLOAD [N]  N appends (default 1)
 *   sspr-journal-driver rotate STATEDIR
 *   sspr-journal-driver verify STATEDIR [KEYHEX]
 *   sspr-journal-driver resign STATEDIR SEQ  (a tamper: entry SEQ of
 *       journal.log gets another payload, signed with the secret key read
 *       from the state file, as someone reading it after the fact would)
 *
 * verify prints "ok entries=N first=F last=L files=K state=0|1" and exits
 * 0, or "bad entry seq=N: WHY" and exits 1; any other failure prints
 * "error: ..." and exits 2 (append and rotate too). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sspr/common.h"
#include "sspr/journal.h"

#define T0 ((time_t)1767225600)

static char *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0 ||
	    !(buf = malloc((size_t)n + 1)) || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "error: cannot read %s\n", path);
		exit(2);
	}
	fclose(f);
	buf[n] = '\0';
	*ret_len = (size_t)n;
	return buf;
}

static int resign(const char *statedir, const char *seqarg)
{
	char path[4096], want[32], hex[129], *log, *st, *p, *line, *nl = NULL;
	unsigned char sk[64], sig[64];
	struct sspr_journal_entry e;
	const char *why;
	size_t len, slen, got, head;
	FILE *f;

	if (sodium_init() < 0)
		return 2;
	(void)snprintf(path, sizeof path, "%s/journal/state", statedir);
	st = slurp(path, &slen);
	p = strstr(st, "\nsk ");
	if (!p || sodium_hex2bin(sk, sizeof sk, p + 4, 128, NULL, &got, NULL) != 0 || got != 64) {
		fprintf(stderr, "error: no sk in the state\n");
		return 2;
	}
	(void)snprintf(path, sizeof path, "%s/journal/journal.log", statedir);
	log = slurp(path, &len);
	(void)snprintf(want, sizeof want, "seq=%s ", seqarg);
	for (line = log; line < log + len; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		if (strncmp(line, want, strlen(want)) == 0)
			break;
	}
	if (line >= log + len || !nl ||
	    sspr_journal_parse(line, (size_t)(nl - line), &e, &why) < 0) {
		fprintf(stderr, "error: no entry %s in journal.log\n", seqarg);
		return 2;
	}
	/* the same fields, another payload, signed with the state's key */
	head = (size_t)(e.payload - line);
	f = fopen(path, "wb");
	if (!f)
		return 2;
	{
		char signed_part[SSPR_JOURNAL_LINE_MAX + 1];
		int w = snprintf(signed_part, sizeof signed_part, "%.*sevent=forged user=mallory",
		                 (int)head, line);

		crypto_sign_detached(sig, NULL, (const unsigned char *)signed_part, (size_t)w, sk);
		sodium_bin2hex(hex, sizeof hex, sig, sizeof sig);
		fwrite(log, 1, (size_t)(line - log), f);
		fprintf(f, "%s sig=%s\n", signed_part, hex);
		fwrite(nl + 1, 1, len - (size_t)(nl + 1 - log), f);
	}
	sodium_memzero(sk, sizeof sk);
	sodium_memzero(st, slen);
	free(st);
	free(log);
	return fclose(f) == 0 ? 0 : 2;
}

static int usage(void)
{
	fprintf(stderr, "usage: sspr-journal-driver append|rotate|verify|resign STATEDIR ...\n");
	return 2;
}

int main(int argc, char **argv)
{
	int r;

	if (argc < 3)
		return usage();
	if (strcmp(argv[1], "append") == 0 && (argc == 4 || argc == 5)) {
		long long n = 1;

		if (argc == 5 && sspr_strtonum(argv[4], 1, 10000000, &n) < 0)
			return usage();
		for (long long i = 0; i < n; i++) {
			unsigned char pk[32];
			uint64_t seq = 0;
			bool started = false;

			r = sspr_journal_append(argv[2], T0 + (time_t)i, argv[3], &seq, &started, pk);
			if (r < 0) {
				printf("error: append: %s\n", sspr_strerror(r));
				return 2;
			}
			if (started) {
				char hex[SSPR_JOURNAL_PK_HEX];

				sspr_journal_key_hex(pk, hex);
				printf("first_key=%s\n", hex);
			}
			printf("seq=%" PRIu64 "\n", seq);
		}
		return 0;
	}
	if (strcmp(argv[1], "rotate") == 0 && argc == 3) {
		unsigned char pk[32];
		uint64_t first, last;

		r = sspr_journal_rotate(argv[2], &first, &last, pk);
		if (r < 0) {
			printf("error: rotate: %s\n", sspr_strerror(r));
			return 2;
		}
		printf("rotated %" PRIu64 "..%" PRIu64 "\n", first, last);
		return 0;
	}
	if (strcmp(argv[1], "verify") == 0 && (argc == 3 || argc == 4)) {
		struct sspr_journal_report rep;
		unsigned char key[32];

		if (argc == 4 && sspr_journal_key_parse(argv[3], key) < 0)
			return usage();
		r = sspr_journal_verify(argv[2], argc == 4 ? key : NULL, &rep);
		if (r == -SSPR_E_RECORD) {
			printf("bad entry seq=%" PRIu64 ": %s\n", rep.bad_seq, rep.why);
			return 1;
		}
		if (r < 0) {
			printf("error: verify: %s\n", sspr_strerror(r));
			return 2;
		}
		printf("ok entries=%" PRIu64 " first=%" PRIu64 " last=%" PRIu64 " files=%u state=%d\n",
		       rep.entries, rep.first_seq, rep.last_seq, rep.files, rep.state_checked);
		return 0;
	}
	if (strcmp(argv[1], "resign") == 0 && argc == 4)
		return resign(argv[2], argv[3]);
	return usage();
}
