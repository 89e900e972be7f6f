/* SPDX-License-Identifier: BSD-2-Clause */
/* Benchmark of the audit journal (issue 5): the cost of one
 * sspr_journal_append when the journal holds ~1,000 entries and when it
 * holds ~N (1,000,000 by default), measured in the same run, interleaved
 * (small, big, big, small, ...), as medians and their ratio, which should
 * be close to 1 since an append never re-reads the journal; then the
 * throughput of sspr_journal_verify over the big journal, in MB/s and
 * entries/s.
 *
 * Both journals are built through the real sspr_journal_append (each
 * append fsyncs several times), in a fresh directory under DIR: /dev/shm
 * by default, where fsync is nearly free, so that the build takes
 * minutes, not hours; -d DIR (or SSPR_BENCH_DIR) measures another file
 * system.  SSPR_BENCH_N lowers N for a quick run, SSPR_BENCH_SAMPLES sets
 * the appends measured on each side (default 2001).  Not a test: run it
 * with bench/run-journal-bench.sh. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "sspr/audit.h"
#include "sspr/common.h"
#include "sspr/journal.h"

#define SMALL 1000
#define TMPFS_MAGIC_ 0x01021994

static double now_s(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* CPU time of this process: what the figures cost when the machine is
 * shared (wall time then also counts the waits for a CPU) */
static double cpu_s(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* v sorted: the q-quantile (nearest rank) */
static double quantile(const double *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);

	return v[i < n ? i : n - 1];
}

static long env_num(const char *name, long def, long min, long max)
{
	const char *s = getenv(name);
	long long v;

	if (!s || !*s)
		return def;
	if (sspr_strtonum(s, min, max, &v) < 0) {
		fprintf(stderr, "journal-bench: %s=%s: not a number in %ld..%ld\n", name, s, min,
		        max);
		exit(2);
	}
	return (long)v;
}

/* MemAvailable of /proc/meminfo, bytes (0: unknown) */
static uint64_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb * 1024;
}

/* a realistic event: the SPEC's reset_ok line */
static void payload(char *out, size_t outlen, uint64_t i)
{
	char uid[24], dur[24];
	const struct sspr_kv kv[] = {
		{ "user", "alice" },       { "uid", uid },         { "service", "sshd" },
		{ "rhost", "192.0.2.7" },  { "tty", "ssh" },       { "method", "totp" },
		{ "session", "0123456789abcdef" }, { "duration_ms", dur },
	};

	(void)snprintf(uid, sizeof uid, "%" PRIu64, 1000 + i % 50000);
	(void)snprintf(dur, sizeof dur, "%" PRIu64, 2000 + i % 9000);
	(void)sspr_audit_format(out, outlen, "reset_ok", kv, SSPR_ELEMENTSOF(kv));
}

/* one real append; returns its wall time, *ret_cpu its CPU time */
static double append_one(const char *statedir, uint64_t i, double *ret_cpu)
{
	char p[SSPR_AUDIT_LINE_MAX];
	unsigned char pk[32];
	uint64_t seq;
	bool started;
	double t0, c0, t;
	int r;

	payload(p, sizeof p, i);
	c0 = cpu_s();
	t0 = now_s();
	r = sspr_journal_append(statedir, time(NULL), p, &seq, &started, pk);
	t = now_s() - t0;
	if (ret_cpu)
		*ret_cpu = cpu_s() - c0;
	if (r < 0) {
		fprintf(stderr, "journal-bench: append to %s: %s\n", statedir, sspr_strerror(r));
		exit(1);
	}
	return t;
}

/* Append until the journal holds n entries; progress to stderr. */
static void build(const char *statedir, uint64_t n, const char *what)
{
	double t0 = now_s();

	for (uint64_t i = 0; i < n; i++) {
		(void)append_one(statedir, i, NULL);
		if (n >= 100000 && (i + 1) % (n / 10) == 0)
			fprintf(stderr, "  %s: %" PRIu64 "/%" PRIu64 " entries, %.0f s\n", what, i + 1, n,
			        now_s() - t0);
	}
	printf("built %-5s journal: %9" PRIu64 " entries in %8.1f s (%.0f appends/s)\n", what, n,
	       now_s() - t0, (double)n / (now_s() - t0));
}

static void put_file(int dfd, const char *name, const char *p, size_t len)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, p, len) != (ssize_t)len || fsync(fd) < 0 || close(fd) < 0) {
		perror(name);
		exit(1);
	}
}

/* -f: the same journal of n entries, made with sspr_journal_sign (the
 * function every append uses) and written in one go, with the keys and
 * the state an append leaves (the format in lib/journal.c).  Only the
 * set-up is quicker: the measured appends and the verification go
 * through the real API, and the first append checks the state against
 * the segment (a mismatch stops the benchmark). */
static void build_fast(const char *statedir, uint64_t n, const char *what)
{
	struct sspr_journal_signer *s = sspr_secure_alloc(sizeof *s);
	char *line = malloc(SSPR_JOURNAL_LINE_MAX + 1), *st = sspr_secure_alloc(16384);
	char p[SSPR_AUDIT_LINE_MAX], path[4300], hex[SSPR_JOURNAL_PK_HEX], keys[128], hash[65],
		sk[129];
	unsigned char pk[32];
	uint64_t size = 0;
	size_t len = 0;
	double t0 = now_s();
	time_t when = time(NULL) - (time_t)n;
	FILE *f;
	int dfd, w;

	if (!s || !line || !st || sspr_journal_signer_new(s, pk) < 0)
		exit(1);
	(void)snprintf(path, sizeof path, "%s/journal", statedir);
	if (mkdir(path, 0700) < 0 || (dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		perror(path);
		exit(1);
	}
	sspr_journal_key_hex(pk, hex);
	w = snprintf(keys, sizeof keys, "1 %s\n", hex);
	put_file(dfd, "keys", keys, (size_t)w);
	w = openat(dfd, "journal.log", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (w < 0 || !(f = fdopen(w, "w"))) {
		perror("journal.log");
		exit(1);
	}
	(void)setvbuf(f, NULL, _IOFBF, 1 << 20);
	for (uint64_t i = 0; i < n; i++) {
		payload(p, sizeof p, i);
		if (sspr_journal_sign(s, when + (time_t)i, p, line, SSPR_JOURNAL_LINE_MAX + 1,
		                      &len) < 0 ||
		    fwrite(line, 1, len, f) != len || putc('\n', f) == EOF) {
			perror("journal.log");
			exit(1);
		}
		size += len + 1;
		if (n >= 100000 && (i + 1) % (n / 10) == 0)
			fprintf(stderr, "  %s: %" PRIu64 "/%" PRIu64 " entries, %.0f s\n", what, i + 1, n,
			        now_s() - t0);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) < 0 || fclose(f) != 0) {
		perror("journal.log");
		exit(1);
	}
	sodium_bin2hex(hash, sizeof hash, s->hash, 32);
	sodium_bin2hex(sk, sizeof sk, s->sk, 64);
	w = snprintf(st, 16384,
	             "sspr-journal-state 1\nseq %" PRIu64 "\nhash %s\nsk %s\nsize %" PRIu64
	             "\nline %.*s\n",
	             s->seq, hash, sk, size, (int)len, line);
	sodium_memzero(sk, sizeof sk);
	put_file(dfd, "state", st, (size_t)w);
	(void)fsync(dfd);
	(void)close(dfd);
	sspr_secure_free(st);
	sspr_secure_free(s);
	free(line);
	printf("built %-5s journal: %9" PRIu64 " entries in %8.1f s (%.0f entries/s, -f: "
	       "signed in memory and written at once)\n",
	       what, n, now_s() - t0, (double)n / (now_s() - t0));
}

static uint64_t file_size(const char *statedir)
{
	char p[4300];
	struct stat sb;

	(void)snprintf(p, sizeof p, "%s/journal/journal.log", statedir);
	return stat(p, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *dir = getenv("SSPR_BENCH_DIR");
	long n = env_num("SSPR_BENCH_N", 1000000, 2 * SMALL, 100000000);
	long samples = env_num("SSPR_BENCH_SAMPLES", 2001, 11, 1000001);
	char root[4096], small[4200], big[4200];
	struct sspr_journal_report rep;
	struct statvfs vfs;
	struct statfs fs;
	double *ts, *tb, *cs, *cb, t0, c0, tv, cv, ms, mb;
	uint64_t need, bytes, avail;
	bool keep = false, fast = false;
	int c, r;

	while ((c = getopt(argc, argv, "d:fk")) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'f':
			fast = true;
			break;
		case 'k':
			keep = true;
			break;
		default:
			fprintf(stderr, "usage: journal-bench [-d DIR] [-f (build the big journal\n"
			                "fast: signed in memory, written at once)] [-k (keep them)]\n"
			                "env: SSPR_BENCH_N (default 1000000), SSPR_BENCH_SAMPLES "
			                "(default 2001), SSPR_BENCH_DIR (default /dev/shm)\n");
			return 2;
		}
	}
	if (!dir || !*dir)
		dir = "/dev/shm";
	umask(077);

	/* room: ~420 bytes an entry (a reset_ok line), with a margin */
	need = (uint64_t)(n + SMALL + 2 * samples) * 420 * 5 / 4 + (64 << 20);
	if (statvfs(dir, &vfs) < 0 || statfs(dir, &fs) < 0) {
		perror(dir);
		return 1;
	}
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	printf("journal-bench: N=%ld small=%d samples=%ld dir=%s (%s, %.0f MB free, need ~%.0f MB)\n",
	       n, SMALL, samples, dir, fs.f_type == TMPFS_MAGIC_ ? "tmpfs" : "not tmpfs",
	       (double)avail / 1e6, (double)need / 1e6);
	if (avail < need) {
		fprintf(stderr, "journal-bench: not enough space in %s; lower SSPR_BENCH_N or use -d\n",
		        dir);
		return 1;
	}
	if (fs.f_type == TMPFS_MAGIC_ && mem_available() && mem_available() < need) {
		fprintf(stderr, "journal-bench: %s is tmpfs and only %.0f MB of memory is available\n",
		        dir, (double)mem_available() / 1e6);
		return 1;
	}

	if (snprintf(root, sizeof root, "%s/sspr-journal-bench.XXXXXX", dir) >= (int)sizeof root ||
	    !mkdtemp(root)) {
		perror(dir);
		return 1;
	}
	(void)snprintf(small, sizeof small, "%s/small", root);
	(void)snprintf(big, sizeof big, "%s/big", root);
	if (mkdir(small, 0700) < 0 || mkdir(big, 0700) < 0) {
		perror(root);
		return 1;
	}

	if (fast)
		build_fast(big, (uint64_t)n, "big");
	else
		build(big, (uint64_t)n, "big");
	build(small, SMALL, "small");

	/* interleaved: small, big, big, small, ... so neither always goes
	 * first; each side grows by `samples` entries */
	ts = calloc((size_t)samples, sizeof *ts);
	tb = calloc((size_t)samples, sizeof *tb);
	cs = calloc((size_t)samples, sizeof *cs);
	cb = calloc((size_t)samples, sizeof *cb);
	if (!ts || !tb || !cs || !cb)
		return 1;
	for (long i = 0; i < samples; i++) {
		if (i % 2 == 0) {
			ts[i] = append_one(small, (uint64_t)i, &cs[i]);
			tb[i] = append_one(big, (uint64_t)i, &cb[i]);
		} else {
			tb[i] = append_one(big, (uint64_t)i, &cb[i]);
			ts[i] = append_one(small, (uint64_t)i, &cs[i]);
		}
	}
	qsort(ts, (size_t)samples, sizeof *ts, cmp_double);
	qsort(tb, (size_t)samples, sizeof *tb, cmp_double);
	qsort(cs, (size_t)samples, sizeof *cs, cmp_double);
	qsort(cb, (size_t)samples, sizeof *cb, cmp_double);
	printf("append at %7d entries: median %7.1f us  (p10 %7.1f, p90 %7.1f), CPU median %7.1f us\n",
	       SMALL, quantile(ts, (size_t)samples, .5) * 1e6,
	       quantile(ts, (size_t)samples, .1) * 1e6, quantile(ts, (size_t)samples, .9) * 1e6,
	       quantile(cs, (size_t)samples, .5) * 1e6);
	printf("append at %7ld entries: median %7.1f us  (p10 %7.1f, p90 %7.1f), CPU median %7.1f us\n",
	       n, quantile(tb, (size_t)samples, .5) * 1e6, quantile(tb, (size_t)samples, .1) * 1e6,
	       quantile(tb, (size_t)samples, .9) * 1e6, quantile(cb, (size_t)samples, .5) * 1e6);
	printf("ratio %ld/%d: %.3f (wall medians), %.3f (CPU medians)\n", n, SMALL,
	       quantile(tb, (size_t)samples, .5) / quantile(ts, (size_t)samples, .5),
	       quantile(cb, (size_t)samples, .5) / quantile(cs, (size_t)samples, .5));

	/* verification of the whole big journal, from the kept first key */
	bytes = file_size(big);
	c0 = cpu_s();
	t0 = now_s();
	r = sspr_journal_verify(big, NULL, &rep);
	tv = now_s() - t0;
	cv = cpu_s() - c0;
	if (r < 0) {
		fprintf(stderr, "journal-bench: verify: %s (seq=%" PRIu64 ": %s)\n",
		        sspr_strerror(r), rep.bad_seq, rep.why);
		return 1;
	}
	mb = (double)bytes / 1e6;
	ms = tv * 1e3;
	printf("verify: %" PRIu64 " entries, %.1f MB in %.1f ms: %.1f MB/s, %.0f entries/s\n",
	       rep.entries, mb, ms, mb / tv, (double)rep.entries / tv);
	printf("verify, by CPU time (%.1f s): %.1f MB/s, %.0f entries/s\n", cv, mb / cv,
	       (double)rep.entries / cv);

	if (!keep) {
		if (nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
			perror(root);
	} else {
		printf("kept: %s\n", root);
	}
	free(ts);
	free(tb);
	free(cs);
	free(cb);
	return 0;
}
