/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sspr-build.h"
#include "sspr/common.h"
#include "sspr/paths.h"

static int join(char *out, size_t len, const char *a, const char *b)
{
	int n = snprintf(out, len, "%s%s", a, b);

	return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

int sspr_paths_init(struct sspr_paths *p, const char *root)
{
	struct sspr_paths t;
	int r;

	memset(&t, 0, sizeof t);
	if (root && *root) {
		size_t n;

		if (root[0] != '/')
			return -EINVAL;
		r = sspr_strlcpy(t.root, root, sizeof t.root);
		if (r < 0)
			return -ENAMETOOLONG;
		n = strlen(t.root);
		while (n > 1 && t.root[n - 1] == '/')
			t.root[--n] = '\0';
		if (strcmp(t.root, "/") == 0)
			t.root[0] = '\0';
		t.test_root = true;
	}
	if ((r = join(t.conf, sizeof t.conf, t.root, SSPR_CONFDIR "/sspr.conf")) < 0 ||
	    (r = join(t.etcdir, sizeof t.etcdir, t.root, "/etc")) < 0 ||
	    (r = join(t.login_defs, sizeof t.login_defs, t.root, "/etc/login.defs")) < 0 ||
	    (r = join(t.statedir, sizeof t.statedir, t.root, SSPR_STATEDIR)) < 0 ||
	    (r = join(t.usersdir, sizeof t.usersdir, t.statedir, "/users")) < 0)
		return r;
	*p = t;
	return 0;
}

int sspr_paths_from_env(struct sspr_paths *p)
{
	return sspr_paths_init(p, secure_getenv("SSPR_ROOT"));
}

time_t sspr_now(void)
{
	const char *s = secure_getenv("SSPR_NOW");
	long long v;

	if (s && sspr_strtonum(s, 0, (long long)1 << 40, &v) == 0)
		return (time_t)v;
	return time(NULL);
}
