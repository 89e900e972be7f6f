/* SPDX-License-Identifier: BSD-2-Clause */
/* Benchmark of the shadow rewrite (issue 4): one user's hash rewritten in
 * shadow files of 1,000 to 1,000,000 users, side by side in the same run:
 *   ours        sspr_shadow_update() called in this process;
 *   ours+exec   the same through a fresh process (this program, exec'd),
 *               the fair match for chpasswd, which is a process too;
 *   chpasswd    `chpasswd -e -R DIR` on an identical copy (root only);
 *   floor       the least a safe rewrite does: map the file, write a
 *               copy with the new hash, fsync, rename, fsync the directory.
 * Each is run N times, interleaved (a balanced order, see `order`), each
 * run after a syncfs() so that it pays for its own writes only, and the
 * median is reported, with the ratios ours/floor and
 * ours+exec/chpasswd.  Hashes are precomputed: the cost of one yescrypt
 * hash at libxcrypt's default cost is measured and reported on its own.
 * Not a test: run it with bench/run-bench.sh. */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sspr/common.h"
#include "sspr/shadow.h"

#define MAX_SIZES 8
#define MAX_RUNS 101
#define TODAY 20000L
#define CHPASSWD "/usr/sbin/chpasswd"

enum { OURS, OURS_EXEC, CHPASSWD_, FLOOR, NCOLS };

/* The order of the contenders in round r % 4: a balanced Latin square
 * (Williams design), so that over 4 rounds each one runs right after
 * each other one exactly once.  (What a contender leaves behind, such as
 * freed blocks to discard, is paid by the next; a plain rotation would
 * always make the same one pay for chpasswd.) */
static const int order[NCOLS][NCOLS] = {
	{ 0, 1, 3, 2 }, { 1, 2, 0, 3 }, { 2, 3, 1, 0 }, { 3, 0, 2, 1 },
};

static const char *self;

static double now_ms(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* out = a + b, or die: paths here are ours and short. */
static void join(char *out, size_t size, const char *a, const char *b)
{
	if ((size_t)snprintf(out, size, "%s%s", a, b) >= size) {
		errno = ENAMETOOLONG;
		die(a);
	}
}

static void write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	size_t off = 0;

	if (fd < 0)
		die(path);
	while (off < len) {
		ssize_t k = write(fd, data + off, len - off);

		if (k < 0)
			die(path);
		off += (size_t)k;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0 || close(fd) < 0)
		die(path);
}

static void mkdir_p(const char *path)
{
	char p[PATH_MAX];

	(void)snprintf(p, sizeof p, "%s", path);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				die(p);
			*s = '/';
		}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		die(p);
}

/* A yescrypt-looking hash of the default length; any crypt alphabet
 * string is fine to the writers (none of them hashes with -e). */
static void fake_hash(char *out, size_t size, unsigned long i)
{
	static const char a[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	char salt[23], h[44];
	unsigned long x = i * 2654435761UL + 12345;

	for (int k = 0; k < 22; k++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
		salt[k] = a[(x >> 33) % 64];
	for (int k = 0; k < 43; k++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
		h[k] = a[(x >> 33) % 64];
	salt[22] = h[43] = '\0';
	(void)snprintf(out, size, "$y$j9T$%s$%s", salt, h);
}

struct tree {
	char base[PATH_MAX];
	char ours[PATH_MAX], chp[PATH_MAX], floor_[PATH_MAX];
	char user[32];
	size_t size;
};

/* Three identical etc directories with n users: ours/etc, chp/etc (a
 * root for chpasswd -R: passwd, group, shadow, gshadow, login.defs) and
 * floor/etc. */
static void make_tree(struct tree *t, const char *dir, unsigned long n)
{
	size_t cap = n * 160 + 4096, slen = 0, plen = 0, glen = 0;
	char *sh = malloc(cap), *pw = malloc(cap), *gr = malloc(4096), p[PATH_MAX];
	char hash[128];

	if (!sh || !pw || !gr)
		die("malloc");
	if ((size_t)snprintf(t->base, sizeof t->base, "%s/users-%lu", dir, n) >= sizeof t->base)
		die("path too long");
	join(t->ours, sizeof t->ours, t->base, "/ours/etc");
	join(t->chp, sizeof t->chp, t->base, "/chp");
	join(t->floor_, sizeof t->floor_, t->base, "/floor/etc");
	(void)snprintf(t->user, sizeof t->user, "u%07lu", n / 2);
	slen += (size_t)sprintf(sh + slen, "root:*:19000:0:99999:7:::\n");
	plen += (size_t)sprintf(pw + plen, "root:x:0:0:root:/root:/bin/bash\n");
	glen += (size_t)sprintf(gr + glen, "root:x:0:\nusers:x:100:\n");
	for (unsigned long i = 0; i < n; i++) {
		fake_hash(hash, sizeof hash, i);
		slen += (size_t)sprintf(sh + slen, "u%07lu:%s:%lu:0:99999:7:::\n", i, hash,
		                        19000 + i % 900);
		plen += (size_t)sprintf(pw + plen, "u%07lu:x:%lu:100::/nonexistent:/usr/sbin/nologin\n",
		                        i, 100000 + i);
	}
	t->size = slen;
	mkdir_p(t->ours);
	mkdir_p(t->floor_);
	join(p, sizeof p, t->chp, "/etc");
	mkdir_p(p);
	join(p, sizeof p, t->ours, "/shadow");
	write_file(p, sh, slen, 0640);
	join(p, sizeof p, t->floor_, "/shadow");
	write_file(p, sh, slen, 0640);
	join(p, sizeof p, t->chp, "/etc/shadow");
	write_file(p, sh, slen, 0640);
	join(p, sizeof p, t->chp, "/etc/passwd");
	write_file(p, pw, plen, 0644);
	join(p, sizeof p, t->chp, "/etc/group");
	write_file(p, gr, glen, 0644);
	join(p, sizeof p, t->chp, "/etc/gshadow");
	write_file(p, "root:*::\nusers:*::\n", 19, 0640);
	join(p, sizeof p, t->chp, "/etc/login.defs");
	write_file(p, "ENCRYPT_METHOD YESCRYPT\n", 24, 0644);
	free(sh);
	free(pw);
	free(gr);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0)
		fprintf(stderr, "sspr-bench: cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

/* Our own directory, made above. */
static void rm_tree(const char *base)
{
	(void)nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- the contenders -------------------------------------------------- */

static double run_ours(const struct tree *t, const char *hash)
{
	double t0 = now_ms();
	int r = sspr_shadow_update(t->ours, t->user, hash, TODAY);

	if (r < 0 && r != -SSPR_E_NOT_DURABLE) {
		fprintf(stderr, "sspr-bench: ours: %s\n", sspr_strerror(r));
		exit(1);
	}
	return now_ms() - t0;
}

static double run_ours_exec(const struct tree *t, const char *hash)
{
	double t0 = now_ms();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		execl(self, "sspr-bench", "--write-one", t->ours, t->user, hash, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "sspr-bench: ours+exec failed\n");
		exit(1);
	}
	return now_ms() - t0;
}

static double run_chpasswd(const struct tree *t, const char *hash)
{
	char line[256];
	int fds[2], status;
	double t0;
	pid_t pid;
	size_t n;

	n = (size_t)snprintf(line, sizeof line, "%s:%s\n", t->user, hash);
	t0 = now_ms();
	if (pipe(fds) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		(void)dup2(fds[0], 0);
		(void)close(fds[0]);
		(void)close(fds[1]);
		execl(CHPASSWD, "chpasswd", "-e", "-R", t->chp, (char *)NULL);
		_exit(127);
	}
	(void)close(fds[0]);
	if (write(fds[1], line, n) != (ssize_t)n)
		die("write to chpasswd");
	(void)close(fds[1]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "sspr-bench: chpasswd -e -R %s failed\n", t->chp);
		exit(1);
	}
	return now_ms() - t0;
}

/* The floor: the least a safe rewrite does.  The old file mapped (no
 * read copy, as ours), a new file written from it with the new hash at
 * its known place, fsync, rename, fsync the directory.  No lock, no
 * search, no checks, no backup, no temporary name to make. */
static double run_floor(const struct tree *t, const char *hash, size_t hash_off)
{
	char src[PATH_MAX], tmp[PATH_MAX];
	double t0 = now_ms();
	struct iovec iov[3];
	struct stat st;
	char *map;
	int fd, dfd, out;

	join(src, sizeof src, t->floor_, "/shadow");
	join(tmp, sizeof tmp, t->floor_, "/shadow.tmp");
	fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		die(src);
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (map == MAP_FAILED)
		die("mmap");
	(void)close(fd);
	iov[0] = (struct iovec){ map, hash_off };
	iov[1] = (struct iovec){ (void *)(uintptr_t)hash, strlen(hash) };
	iov[2] = (struct iovec){ map + hash_off + strlen(hash),
	                         (size_t)st.st_size - hash_off - strlen(hash) };
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (out < 0)
		die(tmp);
	if (writev(out, iov, 3) != st.st_size)
		die("writev"); /* a regular file on a local disk: no short write */
	/* Unmapped before the rename, so the old file is freed there, before
	 * the directory fsync, as ours frees the old shadow- before its own
	 * (else the freeing, and the discard of its blocks, would fall into
	 * the next contender's journal commit). */
	(void)munmap(map, (size_t)st.st_size);
	if (fsync(out) < 0 || close(out) < 0 || rename(tmp, src) < 0)
		die(tmp);
	dfd = open(t->floor_, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0 || close(dfd) < 0)
		die(t->floor_);
	return now_ms() - t0;
}

/* ---- hashing ----------------------------------------------------------- */

static double hash_median(int n)
{
	double v[MAX_RUNS];

	for (int i = 0; i < n; i++) {
		struct crypt_data cd;
		char salt[CRYPT_GENSALT_OUTPUT_SIZE];
		double t0 = now_ms();

		memset(&cd, 0, sizeof cd);
		if (!crypt_gensalt_rn(NULL, 0, NULL, 0, salt, sizeof salt))
			die("crypt_gensalt_rn");
		if (!crypt_rn("correct horse battery staple", salt, &cd, sizeof cd))
			die("crypt_rn");
		v[i] = now_ms() - t0;
	}
	return median(v, n);
}

static void usage(void)
{
	fputs("usage: sspr-bench [-n RUNS] [-d DIR] [-s N,N,...] [--no-chpasswd] [--keep]\n"
	      "  -n RUNS   runs of each contender per size (default 8, at most 101;\n"
	      "            a multiple of 4 keeps the order balanced)\n"
	      "  -d DIR    where the files go (default /var/tmp; fsync is measured there)\n"
	      "  -s SIZES  user counts (default 1000,10000,100000,1000000)\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "no-chpasswd", no_argument, NULL, 'C' },
		{ "keep", no_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long sizes[MAX_SIZES] = { 1000, 10000, 100000, 1000000 };
	int nsizes = 4, runs = 8, c;
	const char *dir = "/var/tmp";
	bool with_chpasswd = true, keep = false;
	char workdir[PATH_MAX], hashes[2][128];
	long long v;
	int wfd;

	if (argc == 5 && strcmp(argv[1], "--write-one") == 0) {
		int r = sspr_shadow_update(argv[2], argv[3], argv[4], TODAY);

		return r == 0 || r == -SSPR_E_NOT_DURABLE ? 0 : 1;
	}
	while ((c = getopt_long(argc, argv, "n:d:s:", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (sspr_strtonum(optarg, 1, MAX_RUNS, &v) < 0)
				usage();
			runs = (int)v;
			break;
		case 'd':
			dir = optarg;
			break;
		case 's':
			nsizes = 0;
			for (char *tok = strtok(optarg, ","); tok; tok = strtok(NULL, ",")) {
				if (nsizes == MAX_SIZES || sspr_strtonum(tok, 1, 5000000, &v) < 0)
					usage();
				sizes[nsizes++] = (unsigned long)v;
			}
			break;
		case 'C':
			with_chpasswd = false;
			break;
		case 'K':
			keep = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	/* ours+exec runs this program again, by its real path */
	{
		static char exe[PATH_MAX];
		ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);

		if (k < 0)
			die("/proc/self/exe");
		exe[k] = '\0';
		self = exe;
	}
	if (with_chpasswd && (geteuid() != 0 || access(CHPASSWD, X_OK) < 0)) {
		fprintf(stderr, "sspr-bench: chpasswd -R needs root and %s; leaving it out\n", CHPASSWD);
		with_chpasswd = false;
	}
	join(workdir, sizeof workdir, dir, "/sspr-bench.XXXXXX");
	if (!mkdtemp(workdir))
		die(workdir);
	wfd = open(workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (wfd < 0)
		die(workdir);
	fake_hash(hashes[0], sizeof hashes[0], 7777777);
	fake_hash(hashes[1], sizeof hashes[1], 8888888);

	printf("sspr-bench: %d runs each, interleaved; medians in ms; files in %s\n", runs, dir);
	printf("one yescrypt hash at libxcrypt's default cost (excluded below): %.1f ms (median of %d)\n\n",
	       hash_median(runs < 5 ? 5 : runs), runs < 5 ? 5 : runs);
	printf("%9s %9s | %9s %9s %9s %9s | %10s %18s\n", "users", "MB", "ours", "ours+exec",
	       "chpasswd", "floor", "ours/floor", "ours+exec/chpasswd");
	fflush(stdout);

	for (int si = 0; si < nsizes; si++) {
		double t[NCOLS][MAX_RUNS], med[NCOLS];
		struct tree tr;
		size_t hash_off;
		char probe[80];

		make_tree(&tr, workdir, sizes[si]);
		/* where the user's hash sits, for the floor */
		{
			char path[PATH_MAX], *text, *p;
			struct stat st;
			int fd;

			join(path, sizeof path, tr.floor_, "/shadow");
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || fstat(fd, &st) < 0)
				die(path);
			text = malloc((size_t)st.st_size + 1);
			if (!text || read(fd, text, (size_t)st.st_size) != st.st_size)
				die(path);
			text[st.st_size] = '\0';
			(void)close(fd);
			(void)snprintf(probe, sizeof probe, "\n%s:", tr.user);
			p = strstr(text, probe);
			if (!p)
				die("user line");
			hash_off = (size_t)(p - text) + strlen(probe);
			free(text);
		}
		for (int r = 0; r < runs; r++) {
			const char *h = hashes[r % 2];

			for (int k = 0; k < NCOLS; k++) {
				int col = order[r % NCOLS][k];

				/* Untimed: flush what the previous contender left
				 * dirty (chpasswd does not fsync its backup), else
				 * the next fsync pays for it (ext4 data=ordered). */
				if (syncfs(wfd) < 0)
					die("syncfs");
				switch (col) {
				case OURS: t[col][r] = run_ours(&tr, h); break;
				case OURS_EXEC: t[col][r] = run_ours_exec(&tr, h); break;
				case CHPASSWD_: t[col][r] = with_chpasswd ? run_chpasswd(&tr, h) : 0; break;
				default: t[col][r] = run_floor(&tr, h, hash_off); break;
				}
			}
		}
		for (int k = 0; k < NCOLS; k++)
			med[k] = median(t[k], runs);
		if (with_chpasswd)
			printf("%9lu %9.1f | %9.2f %9.2f %9.2f %9.2f | %9.2fx %9.3fx (%.0fx faster)\n",
			       sizes[si], (double)tr.size / 1e6, med[OURS], med[OURS_EXEC],
			       med[CHPASSWD_], med[FLOOR], med[OURS] / med[FLOOR],
			       med[OURS_EXEC] / med[CHPASSWD_], med[CHPASSWD_] / med[OURS_EXEC]);
		else
			printf("%9lu %9.1f | %9.2f %9.2f %9s %9.2f | %9.2fx %18s\n", sizes[si],
			       (double)tr.size / 1e6, med[OURS], med[OURS_EXEC], "-", med[FLOOR],
			       med[OURS] / med[FLOOR], "-");
		fflush(stdout);
		if (!keep)
			rm_tree(tr.base);
	}
	(void)close(wfd);
	if (!keep)
		(void)rmdir(workdir);
	return 0;
}
