/* SPDX-License-Identifier: BSD-2-Clause */
/* Test tool: the shadow writer alone, so that strace sees nothing else.
 *   sspr-shadow-driver update ETCDIR USER HASH [TODAY]
 *   sspr-shadow-driver expire ETCDIR USER...
 *   sspr-shadow-driver naive-update ETCDIR USER HASH TODAY
 * naive-update is a deliberately unsafe writer (truncate in place, two
 * writes) that the sweeps run to show they catch a torn file.
 * TODAY defaults to the current day.  Exit status: 0 written and durable,
 * 3 written but durability unknown (SPEC section 3: a success with
 * durable=no), 1 failed with the old file in place, 2 usage.  Nothing is
 * printed on success, one line on stderr otherwise. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sspr/common.h"
#include "sspr/shadow.h"

#define EXIT_NOT_DURABLE 3

/* What the sweeps must catch: the new text written over the old file. */
static int naive_update(const char *etcdir, const char *user, const char *hash, long today)
{
	char path[4096], *old, *new = NULL;
	size_t newlen = 0, half;
	ssize_t n;
	int fd, r;

	if (snprintf(path, sizeof path, "%s/shadow", etcdir) >= (int)sizeof path)
		return -ENAMETOOLONG;
	old = malloc(SSPR_SHADOW_MAX);
	if (!old)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, old, SSPR_SHADOW_MAX);
	if (fd >= 0)
		(void)close(fd);
	r = n < 0 ? -errno : sspr_shadow_edit(old, (size_t)n, user, hash, today, &new, &newlen);
	free(old);
	if (r < 0)
		return r;
	half = newlen / 2;
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0 || write(fd, new, half) != (ssize_t)half ||
	    write(fd, new + half, newlen - half) != (ssize_t)(newlen - half))
		r = -errno;
	if (fd >= 0 && close(fd) < 0 && r == 0)
		r = -errno;
	free(new);
	return r;
}

static int usage(void)
{
	fputs("usage: sspr-shadow-driver update ETCDIR USER HASH [TODAY]\n"
	      "       sspr-shadow-driver expire ETCDIR USER...\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	size_t bad = (size_t)-1;
	int r;

	if (argc < 4)
		return usage();
	if (strcmp(argv[1], "update") == 0 && (argc == 5 || argc == 6)) {
		long long today = (long long)(time(NULL) / 86400);

		if (argc == 6 && sspr_strtonum(argv[5], 1, 1000000, &today) < 0)
			return usage();
		r = sspr_shadow_update(argv[2], argv[3], argv[4], (long)today);
	} else if (strcmp(argv[1], "naive-update") == 0 && argc == 6) {
		long long today;

		if (sspr_strtonum(argv[5], 1, 1000000, &today) < 0)
			return usage();
		r = naive_update(argv[2], argv[3], argv[4], (long)today);
	} else if (strcmp(argv[1], "expire") == 0) {
		r = sspr_shadow_expire(argv[2], (const char *const *)(argv + 3), (size_t)argc - 3,
		                       &bad);
	} else {
		return usage();
	}
	if (r == 0)
		return 0;
	if (r == -SSPR_E_NOT_DURABLE) {
		fprintf(stderr, "sspr-shadow-driver: written, durability unknown\n");
		return EXIT_NOT_DURABLE;
	}
	if (bad != (size_t)-1)
		fprintf(stderr, "sspr-shadow-driver: %s: %s\n", argv[3 + bad], sspr_strerror(r));
	else
		fprintf(stderr, "sspr-shadow-driver: %s\n", sspr_strerror(r));
	return 1;
}
