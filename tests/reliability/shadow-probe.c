/* SPDX-License-Identifier: BSD-2-Clause */
/* Test tool: questions about a shadow file, for the reliability scripts.
 *   sspr-shadow-probe verify FILE USER PASSWORD   exit 0 when USER's hash
 *                                                  in FILE verifies PASSWORD
 *   sspr-shadow-probe field FILE USER N           print field N (1-9) of
 *                                                  USER's only line
 *   sspr-shadow-probe parse FILE                  exit 0 when every line
 *           that is not blank, a comment or a NIS line has nine fields
 *           with numeric fields 3-9, and no name has two lines
 *   sspr-shadow-probe sweep-reset TMPL WORK       make WORK hold exactly
 *           TMPL's shadow and shadow- (bytes, owner, mode), nothing else
 *   sspr-shadow-probe sweep-check TMPL NEW WORK USER HASH TODAY
 *           after a killed or failed run in WORK, print one line of
 *           words: state=old|new|torn parse= owner= inode= backup= (ok or
 *           bad), then run the writer once more (USER's hash to HASH)
 *           and add next= (ok or the error) and left=N (temporary files
 *           left after it)
 * The sweep-* commands let the sweeps spawn one process a point for all
 * their bookkeeping.  Exit status 1 for "no", 2 for a usage or I/O
 * error. */
#include <crypt.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sspr/common.h"
#include "sspr/shadow.h"

#define FILE_MAX (512L * 1024 * 1024)

/* The whole file, NUL-terminated (sized by fstat: these files do not
 * grow while we look). */
static char *slurp(const char *path, size_t *ret_len)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && st.st_size < FILE_MAX)
		buf = malloc((size_t)st.st_size + 1);
	while (buf && n < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + n, (size_t)st.st_size - n);

		if (k <= 0) {
			free(buf);
			buf = NULL;
			break;
		}
		n += (size_t)k;
	}
	(void)close(fd);
	if (buf)
		buf[n] = '\0';
	*ret_len = n;
	return buf;
}

/* Every entry line well formed and every name once. */
static int parse_all(const char *text, size_t len)
{
	size_t pos = 0, lines = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		char name[SSPR_FIELD_MAX];
		struct sspr_shadow_info info;
		const char *colon;
		size_t nlen;
		int r;

		colon = memchr(text + pos, ':', end - pos);
		if (end > pos && text[pos] != '#' && text[pos] != '+' && text[pos] != '-' &&
		    text[pos] != '\r') {
			if (!colon) {
				fprintf(stderr, "line %zu: no ':'\n", lines + 1);
				return 1;
			}
			nlen = (size_t)(colon - (text + pos));
			if (nlen == 0 || nlen >= sizeof name) {
				fprintf(stderr, "line %zu: bad name\n", lines + 1);
				return 1;
			}
			memcpy(name, text + pos, nlen);
			name[nlen] = '\0';
			r = sspr_shadow_find(text, len, name, &info);
			if (r < 0) {
				fprintf(stderr, "line %zu (%s): %s\n", lines + 1, name, sspr_strerror(r));
				return 1;
			}
		}
		lines++;
		pos = end + 1;
	}
	return 0;
}

static bool same_file(const char *path, const char *text, size_t len)
{
	size_t n = 0;
	char *got = slurp(path, &n);
	bool same = got && n == len && memcmp(got, text, len) == 0;

	free(got);
	return same;
}

static int copy_file(const char *from, const char *to)
{
	struct stat st;
	size_t len = 0;
	char *text = slurp(from, &len);
	int fd, r = 0;

	if (!text || stat(from, &st) < 0)
		return -1;
	fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0 ||
	    fchown(fd, st.st_uid, st.st_gid) < 0 || fchmod(fd, st.st_mode & 07777) < 0)
		r = -1;
	if (fd >= 0 && close(fd) < 0)
		r = -1;
	free(text);
	return r;
}

/* Remove everything in dir (flat: the writer makes no directories). */
static int empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[4096];
	int r = 0;

	if (!d)
		return mkdir(dir, 0755);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			(void)snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
			if (unlink(p) < 0)
				r = -1;
		}
	(void)closedir(d);
	return r;
}

static int sweep_reset(const char *tmpl, const char *work)
{
	char a[4096], b[4096];

	if (empty_dir(work) < 0)
		return 2;
	for (int i = 0; i < 2; i++) {
		const char *n = i ? "shadow-" : "shadow";

		(void)snprintf(a, sizeof a, "%s/%s", tmpl, n);
		(void)snprintf(b, sizeof b, "%s/%s", work, n);
		if (copy_file(a, b) < 0) {
			perror(b);
			return 2;
		}
	}
	return 0;
}

static size_t leftovers(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += strncmp(de->d_name, ".sspr-shadow", 12) == 0;
	(void)closedir(d);
	return n;
}

static int sweep_check(char **argv)
{
	const char *tmpl = argv[0], *newf = argv[1], *work = argv[2];
	char p[4096], q[4096];
	struct stat ts, ws, wb;
	size_t oldlen = 0, newlen = 0, oldbaklen = 0, len = 0;
	char *old, *new, *oldbak, *cur;
	long long today;
	const char *state;
	int r;

	(void)snprintf(p, sizeof p, "%s/shadow", tmpl);
	(void)snprintf(q, sizeof q, "%s/shadow-", tmpl);
	old = slurp(p, &oldlen);
	oldbak = slurp(q, &oldbaklen);
	new = slurp(newf, &newlen);
	if (!old || !oldbak || !new || stat(p, &ts) < 0 ||
	    sspr_strtonum(argv[5], 1, 1000000, &today) < 0)
		return 2;
	(void)snprintf(p, sizeof p, "%s/shadow", work);
	(void)snprintf(q, sizeof q, "%s/shadow-", work);
	cur = slurp(p, &len);
	if (!cur || stat(p, &ws) < 0)
		return 2;
	state = len == oldlen && memcmp(cur, old, len) == 0 ? "old" :
	        len == newlen && memcmp(cur, new, len) == 0 ? "new" : "torn";
	printf("state=%s parse=%s owner=%s", state, parse_all(cur, len) == 0 ? "ok" : "bad",
	       ws.st_uid == ts.st_uid && ws.st_gid == ts.st_gid &&
	       (ws.st_mode & 07777) == (ts.st_mode & 07777) ? "ok" : "bad");
	if (stat(q, &wb) < 0) {
		printf(" inode=ok backup=bad");
	} else {
		printf(" inode=%s backup=%s",
		       wb.st_dev == ws.st_dev && wb.st_ino == ws.st_ino ? "bad" : "ok",
		       same_file(q, oldbak, oldbaklen) || same_file(q, old, oldlen) ? "ok" : "bad");
	}
	r = sspr_shadow_update(work, argv[3], argv[4], (long)today);
	printf(" next=%s left=%zu\n", r == 0 ? "ok" : sspr_strerror(r), leftovers(work));
	free(old);
	free(oldbak);
	free(new);
	free(cur);
	return 0;
}

/* field N of user's only line, as it is in the text */
static int print_field(const char *text, const char *user, const char *nstr)
{
	size_t ulen = strlen(user);
	long long n;

	if (sspr_strtonum(nstr, 1, 9, &n) < 0)
		return 2;
	for (const char *p = text; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, user, ulen) == 0 && p[ulen] == ':') {
			const char *f = p;

			for (long long i = 1; i < n && f; i++) {
				f = strchr(f, ':');
				if (f)
					f++;
			}
			if (!f)
				return 1;
			printf("%.*s\n", (int)strcspn(f, ":\r\n"), f);
			return 0;
		}
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct sspr_shadow_info info;
	size_t len = 0;
	char *text;
	int r;

	if (argc == 4 && strcmp(argv[1], "sweep-reset") == 0)
		return sweep_reset(argv[2], argv[3]);
	if (argc == 8 && strcmp(argv[1], "sweep-check") == 0)
		return sweep_check(argv + 2);
	if (argc < 3)
		return 2;
	text = slurp(argv[2], &len);
	if (!text) {
		perror(argv[2]);
		return 2;
	}
	if (strcmp(argv[1], "parse") == 0 && argc == 3) {
		r = parse_all(text, len);
	} else if (argc != 5) {
		r = 2;
	} else if ((r = sspr_shadow_find(text, len, argv[3], &info)) < 0) {
		fprintf(stderr, "%s: %s\n", argv[3], sspr_strerror(r));
		r = 1;
	} else if (strcmp(argv[1], "verify") == 0) {
		struct crypt_data cd;
		const char *h;

		/* crypt_rn, not crypt_r: ASan intercepts crypt_r and, with
		 * libcrypt then dropped as not needed, calls a NULL. */
		memset(&cd, 0, sizeof cd);
		h = crypt_rn(argv[4], info.hash, &cd, sizeof cd);
		r = h && h[0] != '*' && strcmp(h, info.hash) == 0 ? 0 : 1;
	} else if (strcmp(argv[1], "field") == 0) {
		r = print_field(text, argv[3], argv[4]);
	} else {
		r = 2;
	}
	free(text);
	return r;
}
