/* SPDX-License-Identifier: BSD-2-Clause */
/* Test-only preload for sanitizer builds: Debian's pam_wrapper 1.1.4
 * always dlopen()s libpam with RTLD_DEEPBIND, which the sanitizer runtime
 * refuses, and it predates PAM_WRAPPER_DISABLE_DEEPBIND.  This shim drops
 * the flag, which is what that later option does.  Never installed. */
#include <dlfcn.h>
#include <stddef.h>

void *dlopen(const char *file, int mode)
{
	static void *(*next)(const char *, int);

	if (!next)
		next = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
	return next ? next(file, mode & ~RTLD_DEEPBIND) : NULL;
}
