/* SPDX-License-Identifier: BSD-2-Clause */
/* Recovery codes (include/sspr/recovery.h).
 *
 * FILE FORMAT (sspr-helper(8)): STATEDIR/users/UID.codes, same rules as
 * the enrollment record (owned by root, 0600, one link, atomic replace):
 *
 *     sspr-codes 1
 *     user alice
 *     uid 1001
 *     created 1764400000
 *     count 2
 *     code 64 hex digits (BLAKE2b-256 keyed with the host key over
 *     code 64 hex ...     "sspr-rc\0" + uid + "\0" + the normalised code)
 *
 * Keys in this order, each once; count lines "code" follow (0..100).  A
 * used code's line is removed; the file stays (count 0) so that `status`
 * can tell "all used" from "never issued". */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sspr/recovery.h"
#include "sspr/statefile.h"

#define RC_FILE_MAX (256 + 100 * 72)
static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int sspr_rc_normalize(const char *in, char out[static SSPR_RC_LEN + 1])
{
	size_t n = 0;
	bool letter = false;

	for (size_t i = 0; in[i]; i++) {
		char c = in[i];

		if (c == '-' && n == 5 && in[i + 1] != '-' && (i == 0 || in[i - 1] != '-'))
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7')) || n >= SSPR_RC_LEN)
			goto bad;
		letter |= c >= 'A';
		out[n++] = c;
	}
	if (n != SSPR_RC_LEN || !letter)
		goto bad;
	out[n] = '\0';
	return 0;
bad:
	sspr_wipe(out, SSPR_RC_LEN + 1);
	return -EINVAL;
}

bool sspr_rc_looks_like(const char *in)
{
	char t[SSPR_RC_LEN + 1];
	bool r = sspr_rc_normalize(in, t) == 0;

	sspr_wipe(t, sizeof t);
	return r;
}

static void rc_hash(const unsigned char *key, uid_t uid, const char *norm,
                    uint8_t out[SSPR_RC_HASH])
{
	crypto_generichash_state st;
	char u[16];
	int n = snprintf(u, sizeof u, "%u", (unsigned)uid);

	crypto_generichash_init(&st, key, 32, SSPR_RC_HASH);
	crypto_generichash_update(&st, (const unsigned char *)"sspr-rc", 8);
	crypto_generichash_update(&st, (const unsigned char *)u, (size_t)n + 1);
	crypto_generichash_update(&st, (const unsigned char *)norm, SSPR_RC_LEN);
	crypto_generichash_final(&st, out, SSPR_RC_HASH);
	sspr_wipe(&st, sizeof st);
}

int sspr_rc_generate(const unsigned char *key, unsigned n, struct sspr_rc_set *set,
                     char (*shown)[12])
{
	if (!key || !set || !shown || n > SSPR_RC_MAX || sodium_init() < 0)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		char norm[SSPR_RC_LEN + 1];

		/* 50 random bits; redrawn in the rare case of no letter, so a
		 * code can never be mistaken for an OTP code. */
		do {
			for (int j = 0; j < SSPR_RC_LEN; j++)
				norm[j] = b32[randombytes_uniform(32)];
			norm[SSPR_RC_LEN] = '\0';
		} while (strspn(norm, "234567") == SSPR_RC_LEN);
		memcpy(shown[i], norm, 5);
		shown[i][5] = '-';
		memcpy(shown[i] + 6, norm + 5, 5);
		shown[i][11] = '\0';
		rc_hash(key, set->uid, norm, set->hash[i]);
		sspr_wipe(norm, sizeof norm);
	}
	set->n = n;
	return 0;
}

/* --- the file ------------------------------------------------------------ */

static int next_line(const char **p, const char *end, const char *key, char *val, size_t vlen)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t klen = strlen(key), len;

	if (!nl)
		return -SSPR_E_RECORD;
	len = (size_t)(nl - *p);
	if (len <= klen + 1 || memcmp(*p, key, klen) != 0 || (*p)[klen] != ' ' ||
	    len - klen - 1 >= vlen)
		return -SSPR_E_RECORD;
	memcpy(val, *p + klen + 1, len - klen - 1);
	val[len - klen - 1] = '\0';
	if (strlen(val) != len - klen - 1)
		return -SSPR_E_RECORD; /* NUL inside */
	*p = nl + 1;
	return 0;
}

static int num(const char *s, long long max, long long *ret)
{
	if (!*s || (s[0] == '0' && s[1]) || strspn(s, "0123456789") != strlen(s))
		return -SSPR_E_RECORD;
	return sspr_strtonum(s, 0, max, ret) < 0 ? -SSPR_E_RECORD : 0;
}

int sspr_rc_parse(struct sspr_rc_set *set, const char *text, size_t len)
{
	const char *p = text, *end;
	struct sspr_rc_set *t;
	char val[300];
	long long v;
	int r = -SSPR_E_RECORD;

	if (!set || !text || len > RC_FILE_MAX)
		return -SSPR_E_RECORD;
	end = text + len; /* not before the NULL check: NULL + len is undefined */
	t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	if (len < 13 || memcmp(p, "sspr-codes 1\n", 13) != 0)
		goto out;
	p += 13;
	if (next_line(&p, end, "user", val, sizeof val) < 0 || !*val || strlen(val) > 255 ||
	    strpbrk(val, " \t:/"))
		goto out;
	memcpy(t->user, val, strlen(val) + 1);
	if (next_line(&p, end, "uid", val, sizeof val) < 0 || num(val, 4294967294LL, &v) < 0)
		goto out;
	t->uid = (uid_t)v;
	if (next_line(&p, end, "created", val, sizeof val) < 0 || num(val, INT64_MAX, &v) < 0)
		goto out;
	t->created = v;
	if (next_line(&p, end, "count", val, sizeof val) < 0 || num(val, SSPR_RC_MAX, &v) < 0)
		goto out;
	t->n = (unsigned)v;
	for (unsigned i = 0; i < t->n; i++) {
		size_t bl;

		if (next_line(&p, end, "code", val, sizeof val) < 0 ||
		    strlen(val) != 2 * SSPR_RC_HASH || strspn(val, "0123456789abcdef") != strlen(val) ||
		    sodium_hex2bin(t->hash[i], SSPR_RC_HASH, val, strlen(val), NULL, &bl, NULL) != 0 ||
		    bl != SSPR_RC_HASH)
			goto out;
	}
	if (p != end)
		goto out;
	*set = *t;
	r = 0;
out:
	sspr_wipe(t, sizeof *t);
	free(t);
	return r;
}

int sspr_rc_format(const struct sspr_rc_set *set, char **ret, size_t *ret_len)
{
	size_t cap = RC_FILE_MAX + 1, o;
	char *buf;
	int n;

	if (!set || set->n > SSPR_RC_MAX || !*set->user)
		return -EINVAL;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	n = snprintf(buf, cap, "sspr-codes 1\nuser %s\nuid %u\ncreated %" PRId64 "\ncount %u\n",
	             set->user, (unsigned)set->uid, set->created, set->n);
	if (n < 0 || (size_t)n >= cap) {
		free(buf);
		return -EINVAL;
	}
	o = (size_t)n;
	for (unsigned i = 0; i < set->n; i++) {
		memcpy(buf + o, "code ", 5);
		o += 5;
		sodium_bin2hex(buf + o, 2 * SSPR_RC_HASH + 1, set->hash[i], SSPR_RC_HASH);
		o += 2 * SSPR_RC_HASH;
		buf[o++] = '\n';
	}
	*ret = buf;
	*ret_len = o;
	return 0;
}

static void codes_name(char out[24], uid_t uid)
{
	(void)snprintf(out, 24, "%u.codes", (unsigned)uid);
}

int sspr_rc_load(int usersfd, uid_t uid, const char *user, struct sspr_rc_set *ret)
{
	_cleanup_secure_ char *buf = NULL;
	struct sspr_rc_set *t;
	char name[24];
	size_t len;
	int r;

	codes_name(name, uid);
	r = sspr_state_read(usersfd, name, RC_FILE_MAX, &buf, &len);
	if (r < 0)
		return r;
	t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	r = sspr_rc_parse(t, buf, len);
	if (r == 0 && (t->uid != uid || strcmp(t->user, user) != 0))
		r = -SSPR_E_RECORD;
	if (r == 0)
		*ret = *t;
	free(t);
	return r;
}

int sspr_rc_store(int usersfd, const struct sspr_rc_set *set)
{
	_cleanup_free_ char *text = NULL;
	char name[24];
	size_t len;
	int r;

	r = sspr_rc_format(set, &text, &len);
	if (r < 0)
		return r;
	codes_name(name, set->uid);
	return sspr_state_write(usersfd, name, text, len);
}

int sspr_rc_remove(int usersfd, uid_t uid)
{
	char name[24];

	codes_name(name, uid);
	if (unlinkat(usersfd, name, 0) < 0)
		return -errno;
	return fsync(usersfd) < 0 ? -SSPR_E_NOT_DURABLE : 0;
}

int sspr_rc_consume(int usersfd, const unsigned char *key, uid_t uid, const char *user,
                    const char *code, unsigned *ret_left)
{
	struct sspr_rc_set *set;
	char norm[SSPR_RC_LEN + 1];
	uint8_t h[SSPR_RC_HASH];
	unsigned match = SSPR_RC_MAX;
	int r;

	if (!key || !code || sspr_rc_normalize(code, norm) < 0)
		return -SSPR_E_CODE_INVALID;
	set = calloc(1, sizeof *set);
	if (!set) {
		sspr_wipe(norm, sizeof norm);
		return -ENOMEM;
	}
	r = sspr_rc_load(usersfd, uid, user, set);
	if (r < 0)
		goto out;
	rc_hash(key, uid, norm, h);
	/* every stored hash is compared, whichever matches */
	for (unsigned i = 0; i < set->n; i++)
		if (sodium_memcmp(h, set->hash[i], SSPR_RC_HASH) == 0)
			match = i;
	if (match == SSPR_RC_MAX) {
		r = -SSPR_E_CODE_INVALID;
		goto out;
	}
	memmove(set->hash[match], set->hash[match + 1],
	        (size_t)(set->n - match - 1) * SSPR_RC_HASH);
	set->n--;
	/* used up durably before it is reported accepted */
	r = sspr_rc_store(usersfd, set);
	if (r == 0 && ret_left)
		*ret_left = set->n;
out:
	sspr_wipe(norm, sizeof norm);
	sspr_wipe(h, sizeof h);
	free(set);
	return r;
}
