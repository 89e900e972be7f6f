/* SPDX-License-Identifier: BSD-2-Clause */
/* Test tool of the attack suite: a library that, once loaded into a
 * process (LD_PRELOAD, LD_AUDIT, a gconv module from GCONV_PATH), creates
 * the file "<its own path>.ran".  A hostile environment must never get it
 * loaded into the setuid helper. */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

__attribute__((constructor)) static void ran(void)
{
	Dl_info info;
	char path[PATH_MAX];
	int fd;

	if (!dladdr((void *)ran, &info) || !info.dli_fname)
		return;
	if (snprintf(path, sizeof path, "%s.ran", info.dli_fname) >= (int)sizeof path)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		(void)close(fd);
}

/* LD_AUDIT wants this; gconv wants gconv_init/gconv, which it never gets
 * to call once the constructor has run (the test looks only for .ran). */
unsigned int la_version(unsigned int v);
unsigned int la_version(unsigned int v)
{
	return v;
}
int gconv_init(void *step);
int gconv_init(void *step)
{
	(void)step;
	return 1; /* __GCONV_NOCONV */
}
int gconv(void *a, void *b, const unsigned char **c, const unsigned char *d,
          unsigned char **e, size_t *f, int g, int h);
int gconv(void *a, void *b, const unsigned char **c, const unsigned char *d,
          unsigned char **e, size_t *f, int g, int h)
{
	(void)a; (void)b; (void)c; (void)d; (void)e; (void)f; (void)g; (void)h;
	return 1;
}
