/* SPDX-License-Identifier: BSD-2-Clause */
/* The audit journal (lib/journal.c): the entry parser, and for inputs of
 * several lines the line reader, the chain verifier and the walk.
 *
 * Every input is first parsed as one entry; an entry that parses must
 * describe the line consistently, its signature is checked against the
 * fixed key below, and its payload is walked field by field with
 * sspr_audit_next_field: each value read back must survive
 * sspr_audit_escape and a second read unchanged.
 *
 * An input holding a '\n' is also written as a journal directory (made
 * once per process under /dev/shm, else TMPDIR): keys "1 <fixed key>\n",
 * and the input split as
 *     SEG \f SEG \f ... \f CURRENT [\v STATE]
 * each SEG a rotated segment named by the seq of its first line, CURRENT
 * journal.log and STATE the state file (the bytes '\f' and '\v' never
 * occur in a real entry).  sspr_journal_verify and sspr_journal_foreach
 * then run over it.  Seeds: tests/fuzz/gen_journal_seeds.c, whose lines
 * start from this same key. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "sspr/audit.h"
#include "sspr/common.h"
#include "sspr/journal.h"

#define INPUT_MAX (64 * 1024)
#define SEGS_MAX 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The first key of every seed chain (gen_journal_seeds.c uses the same). */
static const unsigned char fixed_seed[32] = "sspr fuzz journal fixed seed 01";
static unsigned char fixed_pk[32];
static char statedir[64];
static int jfd = -1;

static void setup(void)
{
	unsigned char sk[64];
	const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");

	if (sodium_init() < 0)
		abort();
	if (crypto_sign_seed_keypair(fixed_pk, sk, fixed_seed) != 0)
		abort();
	sodium_memzero(sk, sizeof sk);
	if (snprintf(statedir, sizeof statedir, "%s/fuzz-journal.XXXXXX", tmp ? tmp : "/tmp") >=
	        (int)sizeof statedir ||
	    !mkdtemp(statedir))
		abort();
	{
		char p[128];

		(void)snprintf(p, sizeof p, "%s/journal", statedir);
		if (mkdir(p, 0700) < 0)
			abort();
		jfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (jfd < 0)
			abort();
	}
}

static void empty_dir(void);

static void cleanup(void)
{
	char p[128];

	if (jfd < 0)
		return;
	/* what a run leaves is removed by the next one; this is the last */
	empty_dir();
	(void)snprintf(p, sizeof p, "%s/journal", statedir);
	(void)rmdir(p);
	(void)rmdir(statedir);
}

static void put(const char *name, const void *p, size_t len)
{
	int fd = openat(jfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		abort();
	if (len && write(fd, p, len) != (ssize_t)len)
		abort();
	if (close(fd) < 0)
		abort();
}

/* Empty the journal directory: every name a run can leave behind. */
static void empty_dir(void)
{
	int dfd = dup(jfd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;

	if (!d)
		abort();
	rewinddir(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			(void)unlinkat(jfd, de->d_name, 0);
	closedir(d);
}

/* Walk the payload; every value must round-trip through the escaper. */
static void walk_payload(const char *p, const char *end)
{
	static char key[64], val[SSPR_JOURNAL_LINE_MAX + 1], esc[4 * SSPR_JOURNAL_LINE_MAX + 8],
		key2[64], val2[SSPR_JOURNAL_LINE_MAX + 1];
	int r;

	while ((r = sspr_audit_next_field(&p, end, key, sizeof key, val, sizeof val)) == 1) {
		const char *q = esc, *qend;
		long n;

		if (p > end || !key[0])
			abort();
		n = sspr_audit_escape(val, esc + strlen(key) + 1, sizeof esc - strlen(key) - 1);
		if (n < 0)
			abort();
		memcpy(esc, key, strlen(key));
		esc[strlen(key)] = '=';
		qend = esc + strlen(key) + 1 + n;
		if (sspr_audit_next_field(&q, qend, key2, sizeof key2, val2, sizeof val2) != 1 ||
		    q != qend || strcmp(key, key2) != 0 || strcmp(val, val2) != 0)
			abort();
	}
	if (r == 0 && p != end)
		abort();
}

static void check_entry(const char *line, size_t len)
{
	struct sspr_journal_entry e;
	const char *why = NULL;

	if (sspr_journal_parse(line, len, &e, &why) != 0) {
		if (!why)
			abort();
		return;
	}
	if (why || e.seq == 0 || e.seq > (UINT64_C(1) << 63) || e.signed_len + 5 + 128 != len ||
	    e.payload < line || e.payload + e.payload_len != line + e.signed_len ||
	    memcmp(e.payload, "event=", 6) != 0 || strlen(e.time) != 20 ||
	    memcmp(line + e.signed_len, " sig=", 5) != 0)
		abort();
	(void)sspr_journal_check_sig(line, &e, fixed_pk);
	walk_payload(e.payload, e.payload + e.payload_len);
}

static int count_cb(void *ud, const struct sspr_journal_entry *e, const char *line, size_t len)
{
	size_t *n = ud;

	if (e && (e->signed_len + 5 + 128 != len || e->payload + e->payload_len > line + len))
		abort();
	(*n)++;
	return 0;
}

static void check_dir(const char *data, size_t size)
{
	char keys[8 + SSPR_JOURNAL_PK_HEX], hex[SSPR_JOURNAL_PK_HEX];
	struct sspr_journal_report rep;
	const char *p = data, *end = data + size, *vt;
	size_t lines = 0;
	int nseg = 0, r;

	empty_dir();
	sspr_journal_key_hex(fixed_pk, hex);
	(void)snprintf(keys, sizeof keys, "1 %s\n", hex);
	put("keys", keys, strlen(keys));
	vt = memchr(data, '\v', size);
	if (vt) {
		put("state", vt + 1, (size_t)(end - vt - 1));
		end = vt;
	}
	for (;;) {
		const char *ff = memchr(p, '\f', (size_t)(end - p));
		char name[40];
		unsigned long long first = 0;

		if (!ff || nseg == SEGS_MAX) {
			put("journal.log", p, (size_t)(end - p));
			break;
		}
		/* named by the seq its first line claims (1 when none) */
		if (ff - p > 4 && memcmp(p, "seq=", 4) == 0)
			for (const char *d = p + 4; d < ff && *d >= '0' && *d <= '9' &&
			                            first < 10000000000000000000ULL / 10; d++)
				first = first * 10 + (unsigned long long)(*d - '0');
		if (first == 0)
			first = 1;
		(void)snprintf(name, sizeof name, "journal-%020llu.log", first);
		put(name, p, (size_t)(ff - p));
		nseg++;
		p = ff + 1;
	}
	r = sspr_journal_verify(statedir, NULL, &rep);
	if (r == 0 && (rep.bad_seq || rep.entries != (rep.entries ? rep.last_seq - rep.first_seq + 1
	                                                          : 0)))
		abort();
	if (r == -SSPR_E_RECORD && !rep.why[0])
		abort();
	(void)sspr_journal_foreach(statedir, count_cb, &lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	char *copy;

	if (size > INPUT_MAX)
		return 0;
	if (!ready) {
		setup();
		atexit(cleanup);
		ready = true;
	}
	/* an exact-size copy, so that ASan sees any read past the end */
	copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	check_entry(copy, size);
	if (memchr(copy, '\n', size)) {
		const char *nl = memchr(copy, '\n', size);

		check_entry(copy, (size_t)(nl - copy)); /* the first line alone */
		check_dir(copy, size);
	}
	free(copy);
	return 0;
}
