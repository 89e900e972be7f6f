/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared by the unit tests that work in a temporary directory. */
#pragma once

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Remove a test's temporary tree, whatever modes a test left on it. */
static void rm_rf(const char *path)
{
	struct dirent *de;
	DIR *d;

	(void)chmod(path, 0700);
	d = opendir(path);
	if (d) {
		while ((de = readdir(d))) {
			char p[512];

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			(void)snprintf(p, sizeof p, "%s/%s", path, de->d_name);
			if (de->d_type == DT_DIR)
				rm_rf(p);
			else
				(void)unlink(p);
		}
		closedir(d);
	}
	(void)rmdir(path);
}
