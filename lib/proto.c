/* SPDX-License-Identifier: BSD-2-Clause */
/* Module <-> helper framing; see include/sspr/proto.h for the format.
 * The codec is pure so that it can be fuzzed; the two I/O helpers read
 * and write whole frames with a deadline. */
#include <poll.h>
#include <sys/socket.h>
#include <string.h>
#include <time.h>

#include "sspr/proto.h"

void sspr_msg_wipe(struct sspr_msg *m)
{
	sspr_wipe(m, sizeof *m);
}

void sspr_msg_init(struct sspr_msg *m, uint8_t type, uint8_t arg)
{
	sspr_msg_wipe(m);
	m->type = type;
	m->arg = arg;
}

int sspr_msg_add(struct sspr_msg *m, const char *s)
{
	size_t n;

	if (!s)
		s = "";
	if (m->nfields >= SSPR_MSG_FIELDS)
		return -ENOBUFS;
	n = strnlen(s, SSPR_FIELD_MAX + 1);
	if (n > SSPR_FIELD_MAX)
		return -SSPR_E_TOO_LONG;
	memcpy(m->field[m->nfields].data, s, n);
	m->field[m->nfields].data[n] = '\0';
	m->field[m->nfields].len = (uint16_t)n;
	m->nfields++;
	return 0;
}

long sspr_msg_encode(const struct sspr_msg *m, uint8_t *out, size_t outlen)
{
	size_t body = 4, pos;

	if (m->nfields > SSPR_MSG_FIELDS)
		return -EINVAL;
	for (unsigned i = 0; i < m->nfields; i++) {
		if (m->field[i].len > SSPR_FIELD_MAX ||
		    memchr(m->field[i].data, '\0', m->field[i].len))
			return -EINVAL;
		body += 2 + m->field[i].len;
	}
	if (body > SSPR_MSG_MAX)
		return -SSPR_E_TOO_LONG;
	if (outlen < 4 + body)
		return -ENOBUFS;
	out[0] = (uint8_t)(body >> 24);
	out[1] = (uint8_t)(body >> 16);
	out[2] = (uint8_t)(body >> 8);
	out[3] = (uint8_t)body;
	out[4] = SSPR_PROTO_VERSION;
	out[5] = m->type;
	out[6] = m->arg;
	out[7] = m->nfields;
	pos = 8;
	for (unsigned i = 0; i < m->nfields; i++) {
		out[pos++] = (uint8_t)(m->field[i].len >> 8);
		out[pos++] = (uint8_t)m->field[i].len;
		memcpy(out + pos, m->field[i].data, m->field[i].len);
		pos += m->field[i].len;
	}
	return (long)pos;
}

int sspr_msg_decode(const uint8_t *body, size_t len, struct sspr_msg *ret)
{
	struct sspr_msg m;
	size_t pos = 4;
	int r = -SSPR_E_PROTO;

	memset(&m, 0, sizeof m);
	if (len < 4 || len > SSPR_MSG_MAX || body[0] != SSPR_PROTO_VERSION)
		goto out;
	m.type = body[1];
	m.arg = body[2];
	m.nfields = body[3];
	if (m.nfields > SSPR_MSG_FIELDS)
		goto out;
	for (unsigned i = 0; i < m.nfields; i++) {
		size_t n;

		if (len - pos < 2)
			goto out;
		n = ((size_t)body[pos] << 8) | body[pos + 1];
		pos += 2;
		if (n > SSPR_FIELD_MAX || len - pos < n || memchr(body + pos, '\0', n))
			goto out;
		memcpy(m.field[i].data, body + pos, n);
		m.field[i].data[n] = '\0';
		m.field[i].len = (uint16_t)n;
		pos += n;
	}
	if (pos != len)
		goto out;
	*ret = m;
	r = 0;
out:
	sspr_wipe(&m, sizeof m);
	return r;
}

int sspr_msg_send(int fd, const struct sspr_msg *m)
{
	uint8_t buf[4 + SSPR_MSG_MAX];
	long n = sspr_msg_encode(m, buf, sizeof buf);
	size_t done = 0;
	int r = 0;

	if (n < 0)
		return (int)n;
	while (done < (size_t)n) {
		ssize_t w = send(fd, buf + done, (size_t)n - done, MSG_NOSIGNAL);

		if (w < 0 && errno == ENOTSOCK)
			w = write(fd, buf + done, (size_t)n - done);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		done += (size_t)w;
	}
	sspr_wipe(buf, sizeof buf);
	return r;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read exactly len bytes before the deadline (-1: none). */
static int read_full(int fd, uint8_t *buf, size_t len, long long deadline)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n;

		if (deadline >= 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			long long left = deadline - now_ms();
			int p;

			if (left <= 0)
				return -ETIMEDOUT;
			p = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
			if (p < 0 && errno == EINTR)
				continue;
			if (p < 0)
				return -errno;
			if (p == 0)
				continue; /* re-check the deadline */
		}
		n = read(fd, buf + done, len - done);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPIPE;
		done += (size_t)n;
	}
	return 0;
}

int sspr_msg_recv(int fd, struct sspr_msg *ret, int timeout_ms)
{
	uint8_t hdr[4], body[SSPR_MSG_MAX];
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	size_t len;
	int r;

	r = read_full(fd, hdr, sizeof hdr, deadline);
	if (r < 0)
		return r;
	len = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) | hdr[3];
	if (len < 4 || len > SSPR_MSG_MAX)
		return -SSPR_E_PROTO; /* never read past the cap */
	r = read_full(fd, body, len, deadline);
	if (r == 0)
		r = sspr_msg_decode(body, len, ret);
	sspr_wipe(body, sizeof body);
	return r;
}
