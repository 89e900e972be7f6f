/* SPDX-License-Identifier: BSD-2-Clause */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sspr/common.h"
#include "sspr/notice.h"
#include "sspr/statefile.h"

#define NOTICE_MAX 1024
static const char *const kind_names[SSPR_NOTICE__MAX] = { "reset", "reenroll" };

static bool value_ok(const char *v, size_t max)
{
	size_t n = strlen(v);

	if (n == 0 || n >= max)
		return false;
	for (; *v; v++)
		if ((unsigned char)*v <= 0x20 || *v == 0x7f)
			return false;
	return true;
}

int sspr_notice_format(const struct sspr_notice *n, char *out, size_t outlen)
{
	int w;

	if (n->kind >= SSPR_NOTICE__MAX || !value_ok(n->service, sizeof n->service) ||
	    !value_ok(n->rhost, sizeof n->rhost) || !value_ok(n->tty, sizeof n->tty))
		return -EINVAL;
	w = snprintf(out, outlen, "sspr-notice 1\nkind %s\ntime %" PRId64 "\nservice %s\nrhost %s\ntty %s\n",
	             kind_names[n->kind], n->time, n->service, n->rhost, n->tty);
	return w < 0 || (size_t)w >= outlen ? -ENOBUFS : w;
}

static int take_line(const char **p, const char *end, const char *key, char *val, size_t vlen)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t kl = strlen(key), n;

	if (!nl || (size_t)(nl - *p) <= kl + 1 || memcmp(*p, key, kl) || (*p)[kl] != ' ' ||
	    memchr(*p, '\0', (size_t)(nl - *p)))
		return -SSPR_E_RECORD;
	n = (size_t)(nl - *p) - kl - 1;
	if (n >= vlen)
		return -SSPR_E_RECORD;
	memcpy(val, *p + kl + 1, n);
	val[n] = '\0';
	if (!value_ok(val, vlen))
		return -SSPR_E_RECORD;
	*p = nl + 1;
	return 0;
}

int sspr_notice_parse(struct sspr_notice *ret, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	struct sspr_notice n;
	char v[256];
	long long t;

	memset(&n, 0, sizeof n);
	if (len > NOTICE_MAX || len < 14 || memcmp(p, "sspr-notice 1\n", 14) != 0)
		return -SSPR_E_RECORD;
	p += 14;
	if (take_line(&p, end, "kind", v, sizeof v) < 0)
		return -SSPR_E_RECORD;
	n.kind = SSPR_NOTICE__MAX;
	for (int k = 0; k < SSPR_NOTICE__MAX; k++)
		if (strcmp(v, kind_names[k]) == 0)
			n.kind = (enum sspr_notice_kind)k;
	if (n.kind == SSPR_NOTICE__MAX || take_line(&p, end, "time", v, sizeof v) < 0 ||
	    sspr_strtonum(v, 0, (long long)1 << 40, &t) < 0 ||
	    take_line(&p, end, "service", n.service, sizeof n.service) < 0 ||
	    take_line(&p, end, "rhost", n.rhost, sizeof n.rhost) < 0 ||
	    take_line(&p, end, "tty", n.tty, sizeof n.tty) < 0 || p != end)
		return -SSPR_E_RECORD;
	n.time = t;
	*ret = n;
	return 0;
}

int sspr_notice_text(const struct sspr_notice *n, char *out, size_t outlen)
{
	char when[32];
	struct tm tm;
	time_t t = (time_t)n->time;
	bool remote = strcmp(n->rhost, "-") != 0;
	int w;

	if (!gmtime_r(&t, &tm) || strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		return -EINVAL;
	/* An elevated helper trusts no context from its caller: it records
	 * "-", and the sentence says what it knows. */
	const char *from = remote ? n->rhost : strcmp(n->tty, "-") != 0 ? n->tty : "this machine";

	/* login(1) gives "/dev/tty1": the terminal is "tty1" */
	if (!remote && strncmp(from, "/dev/", 5) == 0 && from[5])
		from += 5;
	bool svc = strcmp(n->service, "-") != 0;

	w = snprintf(out, outlen, "Your %s on %s from %s%s%s%s.",
	             n->kind == SSPR_NOTICE_RESET ? "password was reset" : "authenticator was re-enrolled",
	             when, from, svc ? " (" : "", svc ? n->service : "", svc ? ")" : "");
	return w < 0 || (size_t)w >= outlen ? -ENOBUFS : 0;
}

static int open_notices(const char *statedir, int create, int *ret_fd)
{
	return sspr_state_open_dir(statedir, "notices", create, ret_fd);
}

int sspr_notice_store(const char *statedir, uid_t uid, const struct sspr_notice *n)
{
	_cleanup_close_ int dfd = -1;
	char name[40], text[NOTICE_MAX];
	int r, len;

	len = sspr_notice_format(n, text, sizeof text);
	if (len < 0)
		return len;
	r = open_notices(statedir, 1, &dfd);
	if (r < 0)
		return r;
	(void)snprintf(name, sizeof name, "%u.%s", (unsigned)uid, kind_names[n->kind]);
	return sspr_state_write(dfd, name, text, (size_t)len);
}

int sspr_notice_take(const char *statedir, uid_t uid, struct sspr_notice *ret, size_t max,
                     size_t *ret_n)
{
	_cleanup_close_ int dfd = -1;
	size_t n = 0;
	int r;

	*ret_n = 0;
	r = open_notices(statedir, 0, &dfd);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (int k = 0; k < SSPR_NOTICE__MAX; k++) {
		_cleanup_secure_ char *buf = NULL;
		char name[40];
		size_t len;

		(void)snprintf(name, sizeof name, "%u.%s", (unsigned)uid, kind_names[k]);
		r = sspr_state_read(dfd, name, NOTICE_MAX, &buf, &len);
		if (r == -ENOENT)
			continue;
		/* shown once: removed whatever it held */
		(void)unlinkat(dfd, name, 0);
		if (r == 0 && n < max && sspr_notice_parse(&ret[n], buf, len) == 0)
			n++;
	}
	/* oldest first */
	if (n == 2 && ret[0].time > ret[1].time) {
		struct sspr_notice t = ret[0];

		ret[0] = ret[1];
		ret[1] = t;
	}
	*ret_n = n;
	return 0;
}
