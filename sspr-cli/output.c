/* SPDX-License-Identifier: BSD-2-Clause */
/* Output of the CLI: a buffer in secure memory (enroll's output holds the
 * secret), JSON strings, timestamps, and new files that never replace
 * anything. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sspr/common.h"
#include "cli.h"

static bool out_grow(struct cli_out *o, size_t need)
{
	size_t cap;
	char *nb;

	if (o->failed)
		return false;
	if (need <= o->cap)
		return true;
	cap = o->cap ? o->cap : 4096;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			o->failed = true;
			return false;
		}
		cap *= 2;
	}
	nb = sspr_secure_alloc(cap);
	if (!nb) {
		o->failed = true;
		return false;
	}
	if (o->len)
		memcpy(nb, o->buf, o->len);
	sspr_secure_free(o->buf); /* wipes */
	o->buf = nb;
	o->cap = cap;
	return true;
}

void cli_out_add(struct cli_out *o, const void *p, size_t n)
{
	if (n > SIZE_MAX - o->len || !out_grow(o, o->len + n))
		return;
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

void cli_out_str(struct cli_out *o, const char *s)
{
	cli_out_add(o, s, strlen(s));
}

void cli_out_fmt(struct cli_out *o, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0) {
		o->failed = true;
	} else if ((size_t)n < sizeof tmp) {
		cli_out_add(o, tmp, (size_t)n);
	} else {
		char *big = sspr_secure_alloc((size_t)n + 1);

		if (!big) {
			o->failed = true;
		} else {
			va_start(ap, fmt);
			(void)vsnprintf(big, (size_t)n + 1, fmt, ap);
			va_end(ap);
			cli_out_add(o, big, (size_t)n);
			sspr_secure_free(big);
		}
	}
	sspr_wipe(tmp, sizeof tmp);
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char c = p[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

void cli_out_json_str(struct cli_out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	cli_out_add(o, "\"", 1);
	while (*p) {
		unsigned char c = *p;
		size_t n;

		switch (c) {
		case '"':
			cli_out_str(o, "\\\"");
			break;
		case '\\':
			cli_out_str(o, "\\\\");
			break;
		case '\n':
			cli_out_str(o, "\\n");
			break;
		case '\r':
			cli_out_str(o, "\\r");
			break;
		case '\t':
			cli_out_str(o, "\\t");
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				cli_out_fmt(o, "\\u%04x", c);
			} else if (c < 0x80) {
				cli_out_add(o, p, 1);
			} else if ((n = utf8_len(p)) > 0) {
				cli_out_add(o, p, n);
				p += n;
				continue;
			} else {
				cli_out_str(o, "\\ufffd");
			}
			break;
		}
		p++;
	}
	cli_out_add(o, "\"", 1);
}

int cli_out_write(const struct cli_out *o, int fd)
{
	const char *p = o->buf;
	size_t left = o->len;

	if (o->failed)
		return -ENOMEM;
	while (left > 0) {
		ssize_t n = write(fd, p, left);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		left -= (size_t)n;
	}
	return 0;
}

void cli_out_free(struct cli_out *o)
{
	sspr_secure_free(o->buf);
	o->buf = NULL;
	o->len = o->cap = 0;
	o->failed = false;
}

const char *cli_iso8601(int64_t t, char buf[static 32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(buf, 32, "@%lld", (long long)t);
	return buf;
}

int cli_new_file_create(const char *path, int *ret_fd)
{
	/* O_EXCL: never overwrite, never follow a planted symlink. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);

	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

int cli_new_file_finish(const char *path, int fd, const struct cli_out *o)
{
	int r = cli_out_write(o, fd);

	if (r == 0 && fsync(fd) < 0 && errno != EINVAL)
		r = -errno;
	if (close(fd) < 0 && errno != EINTR && r == 0)
		r = -errno;
	if (r < 0)
		(void)unlink(path);
	return r;
}

void cli_new_file_discard(const char *path, int fd)
{
	(void)close(fd);
	(void)unlink(path);
}

int cli_write_new_file(const char *path, const struct cli_out *o)
{
	int fd = -1, r;

	if (o->failed)
		return -ENOMEM;
	r = cli_new_file_create(path, &fd);
	if (r < 0)
		return r;
	return cli_new_file_finish(path, fd, o);
}
