/* SPDX-License-Identifier: BSD-2-Clause */
/* Audit lines: "event=NAME key=value ...", one line per event.  Values
 * that come from outside (user names, rhost, tty) are escaped so that no
 * value can end the line or start a field of its own. */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <sodium.h>

#include "sspr/audit.h"
#include "sspr/common.h"
#include "sspr/journal.h"
#include "sspr/paths.h"

static bool bare_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("._:/@+,-", c) != NULL;
}

long sspr_audit_escape(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)in;
	bool bare = *p != '\0';
	size_t o = 0;

	for (const unsigned char *q = p; *q && bare; q++)
		bare = bare_ok(*q);
	if (bare) {
		size_t n = strlen(in);

		if (n + 1 > outlen)
			return -ENOBUFS;
		memcpy(out, in, n + 1);
		return (long)n;
	}
	/* quoted form: every output byte is printable ASCII */
#define PUT(c) do { if (o + 1 >= outlen) return -ENOBUFS; out[o++] = (char)(c); } while (0)
	PUT('"');
	for (; *p; p++) {
		if (*p == '"' || *p == '\\') {
			PUT('\\');
			PUT(*p);
		} else if (*p < 0x20 || *p > 0x7e) {
			PUT('\\');
			PUT('x');
			PUT(hex[*p >> 4]);
			PUT(hex[*p & 15]);
		} else {
			PUT(*p);
		}
	}
	PUT('"');
#undef PUT
	out[o] = '\0';
	return (long)o;
}

long sspr_audit_format(char *out, size_t outlen, const char *event,
                       const struct sspr_kv *kv, size_t n)
{
	static const char trunc[] = " truncated=1";
	char val[SSPR_AUDIT_LINE_MAX];
	size_t o;
	int w;

	if (outlen < 64)
		return -ENOBUFS;
	w = snprintf(out, outlen, "event=%s", event);
	if (w < 0 || (size_t)w >= outlen)
		return -ENOBUFS;
	o = (size_t)w;
	for (size_t i = 0; i < n; i++) {
		long e = sspr_audit_escape(kv[i].value ? kv[i].value : "-", val, sizeof val);
		size_t need;

		if (e < 0)
			goto truncated;
		need = 1 + strlen(kv[i].key) + 1 + (size_t)e;
		if (o + need + sizeof trunc > outlen)
			goto truncated;
		o += (size_t)snprintf(out + o, outlen - o, " %s=%s", kv[i].key, val);
	}
	return (long)o;
truncated:
	memcpy(out + o, trunc, sizeof trunc);
	return -ENOBUFS;
}

void sspr_audit_open(const char *ident, int facility)
{
	openlog(ident, LOG_PID, facility);
}

static char journal_dir[4096];

void sspr_audit_use_journal(const char *statedir)
{
	if (!statedir || sspr_strlcpy(journal_dir, statedir, sizeof journal_dir) < 0)
		journal_dir[0] = '\0';
}

uint64_t sspr_audit_log(int prio, const char *event, const struct sspr_kv *kv, size_t n)
{
	char line[SSPR_AUDIT_LINE_MAX + 32];
	unsigned char pk[32];
	char pkhex[SSPR_JOURNAL_PK_HEX];
	uint64_t seq = 0;
	bool started = false;
	int r;

	(void)sspr_audit_format(line, SSPR_AUDIT_LINE_MAX, event, kv, n);
	if (!journal_dir[0]) {
		syslog(prio, "%s", line);
		return 0;
	}
	r = sspr_journal_append(journal_dir, sspr_now(), line, &seq, &started, pk);
	if (started) {
		sspr_journal_key_hex(pk, pkhex);
		syslog(LOG_NOTICE, "event=journal_start first_key=%s", pkhex);
	}
	if (r < 0) {
		char err[SSPR_AUDIT_LINE_MAX];
		struct sspr_kv ekv[] = { { "error", sspr_strerror(r) }, { "lost", event } };

		/* The event still reaches syslog; the journal failure is its
		 * own line, and never stops what is being logged. */
		(void)sspr_audit_format(err, sizeof err, "journal_error", ekv, SSPR_ELEMENTSOF(ekv));
		syslog(LOG_ERR, "%s", err);
		syslog(prio, "%s seq=-", line);
		return 0;
	}
	syslog(prio, "%s seq=%llu", line, (unsigned long long)seq);
	return seq;
}

void sspr_audit_session_id(char out[static 17])
{
	unsigned char b[8];

	if (sodium_init() < 0) {
		memcpy(out, "0000000000000000", 17);
		return;
	}
	randombytes_buf(b, sizeof b);
	sodium_bin2hex(out, 17, b, sizeof b);
}

void sspr_audit_user_hash(const char *name, const unsigned char *key, size_t keylen,
                          char out[static 17])
{
	unsigned char h[8];

	if (sodium_init() < 0 ||
	    crypto_generichash(h, sizeof h, (const unsigned char *)name, strlen(name),
	                       key, key ? keylen : 0) != 0) {
		memcpy(out, "0000000000000000", 17);
		return;
	}
	sodium_bin2hex(out, 17, h, sizeof h);
}

/* --- reading lines back --------------------------------------------------- */

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int sspr_audit_next_field(const char **p, const char *end, char *key, size_t keylen,
                          char *val, size_t vallen)
{
	const char *q = *p;
	size_t k = 0, o = 0;

	while (q < end && *q == ' ')
		q++;
	if (q == end) {
		*p = q;
		return 0;
	}
	while (q < end && ((*q >= 'a' && *q <= 'z') || *q == '_' || (*q >= '0' && *q <= '9'))) {
		if (k + 1 >= keylen)
			return -EINVAL;
		key[k++] = *q++;
	}
	if (k == 0 || q == end || *q != '=')
		return -EINVAL;
	key[k] = '\0';
	q++;
	if (q < end && *q == '"') {
		for (q++;; q++) {
			int c;

			if (q == end)
				return -EINVAL;
			if (*q == '"') {
				q++;
				break;
			}
			if (*q == '\\') {
				if (++q == end)
					return -EINVAL;
				if (*q == '"' || *q == '\\') {
					c = (unsigned char)*q;
				} else if (*q == 'x' && end - q >= 3 && hexval(q[1]) >= 0 &&
				           hexval(q[2]) >= 0) {
					c = hexval(q[1]) * 16 + hexval(q[2]);
					q += 2;
				} else {
					return -EINVAL;
				}
			} else {
				c = (unsigned char)*q;
			}
			if (c == 0 || o + 1 >= vallen)
				return -EINVAL;
			val[o++] = (char)c;
		}
		if (q < end && *q != ' ')
			return -EINVAL;
	} else {
		while (q < end && *q != ' ') {
			if (!bare_ok((unsigned char)*q) || o + 1 >= vallen)
				return -EINVAL;
			val[o++] = *q++;
		}
		if (o == 0)
			return -EINVAL;
	}
	val[o] = '\0';
	*p = q;
	return 1;
}
