/* SPDX-License-Identifier: BSD-2-Clause */
/* TOTP/HOTP through liboath (SPEC section 4: no HMAC of our own) and
 * otpauth:// URIs.  liboath generates the candidate codes; we compare them
 * in constant time in a callback and add the replay rule liboath lacks. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <liboath/oath.h>
#include <sodium.h>

#include "sspr/common.h"
#include "sspr/otp.h"

#define OTP_PERIOD_MAX 300

void sspr_otp_params_default(struct sspr_otp_params *p)
{
	p->type = SSPR_OTP_TOTP;
	p->alg = SSPR_OTP_SHA1;
	p->digits = 6;
	p->period = 30;
}

int sspr_otp_params_check(const struct sspr_otp_params *p)
{
	if (!p)
		return -EINVAL;
	if (p->type != SSPR_OTP_TOTP && p->type != SSPR_OTP_HOTP)
		return -EINVAL;
	if (p->alg != SSPR_OTP_SHA1 && p->alg != SSPR_OTP_SHA256 && p->alg != SSPR_OTP_SHA512)
		return -EINVAL;
	/* liboath's HOTP knows SHA1 only, and so do authenticator apps. */
	if (p->type == SSPR_OTP_HOTP && p->alg != SSPR_OTP_SHA1)
		return -EINVAL;
	if (p->digits != 6 && p->digits != 8)
		return -EINVAL;
	if (p->period < 1 || p->period > OTP_PERIOD_MAX)
		return -EINVAL;
	return 0;
}

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_init_rc = OATH_OK;

static void oath_init_once(void)
{
	oath_init_rc = oath_init();
	if (oath_init_rc == OATH_OK && sodium_init() < 0)
		oath_init_rc = OATH_CRYPTO_ERROR;
}

int sspr_otp_global_init(void)
{
	if (pthread_once(&oath_once, oath_init_once) != 0)
		return -EIO;
	return oath_init_rc == OATH_OK ? 0 : -EIO;
}

static int map_oath_error(int rc)
{
	switch (rc) {
	case OATH_INVALID_OTP:
		return -SSPR_E_CODE_INVALID;
	case OATH_INVALID_DIGITS:
	case OATH_INVALID_HEX:
	case OATH_INVALID_BASE32:
	case OATH_TOO_SMALL_BUFFER:
		return -EINVAL;
	case OATH_MALLOC_ERROR:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

static int totp_flags(enum sspr_otp_alg alg)
{
	switch (alg) {
	case SSPR_OTP_SHA256:
		return OATH_TOTP_HMAC_SHA256;
	case SSPR_OTP_SHA512:
		return OATH_TOTP_HMAC_SHA512;
	default:
		return 0;
	}
}

uint64_t sspr_otp_step(const struct sspr_otp_params *p, time_t now)
{
	if (!p || p->period == 0 || now < 0)
		return 0;
	return (uint64_t)now / p->period;
}

/* The code a user typed, for the callback. */
struct code_cmp {
	const char *code;
	size_t len;
};

/* strcmp-like callback for liboath: 0 only on a match, positive otherwise.
 * The length check leaks only the length, which is public (p->digits);
 * the digits themselves are compared in constant time. */
static int code_cmp_cb(void *handle, const char *test_otp)
{
	const struct code_cmp *c = handle;

	if (!c || !test_otp)
		return -1;
	if (strnlen(test_otp, c->len + 1) != c->len)
		return 1;
	return sodium_memcmp(test_otp, c->code, c->len) == 0 ? 0 : 1;
}

static bool code_well_formed(const char *code, unsigned digits)
{
	size_t i;

	if (!code || strnlen(code, digits + 1) != digits)
		return false;
	for (i = 0; i < digits; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	return true;
}

static bool secret_ok(const uint8_t *secret, size_t secret_len)
{
	return secret && secret_len > 0 && secret_len <= SSPR_SECRET_MAX;
}

static int totp_verify(const struct sspr_otp_params *p, const uint8_t *secret,
                       size_t secret_len, struct code_cmp *cmp, time_t now,
                       unsigned window, uint64_t *io_state)
{
	uint64_t matched = 0;
	int pos = 0;
	int rc;

	if (now < 0)
		return -EINVAL;
	rc = oath_totp_validate4_callback((const char *)secret, secret_len, now, p->period, 0,
	                                  p->digits, window, &pos, &matched, totp_flags(p->alg),
	                                  code_cmp_cb, cmp);
	if (rc < 0)
		return map_oath_error(rc);
	/* A step at or below the last accepted one is spent (SPEC 4). */
	if (matched <= *io_state)
		return -SSPR_E_CODE_REPLAY;
	*io_state = matched;
	return 0;
}

static int hotp_verify(const struct sspr_otp_params *p, const uint8_t *secret,
                       size_t secret_len, struct code_cmp *cmp, unsigned lookahead,
                       uint64_t *io_state)
{
	uint64_t start = *io_state;
	size_t window = lookahead;
	int rc;

	/* Keep start + window + 1 representable, so the counter never wraps
	 * back to codes already used. */
	if (start == UINT64_MAX)
		return -SSPR_E_CODE_INVALID;
	if (window > UINT64_MAX - 1 - start)
		window = (size_t)(UINT64_MAX - 1 - start);
	rc = oath_hotp_validate_callback((const char *)secret, secret_len, start, window,
	                                 p->digits, code_cmp_cb, cmp);
	if (rc < 0)
		return map_oath_error(rc);
	/* rc is the offset of the matching counter from start. */
	*io_state = start + (uint64_t)rc + 1;
	return 0;
}

int sspr_otp_verify(const struct sspr_otp_params *p, const uint8_t *secret,
                    size_t secret_len, const char *code, time_t now,
                    unsigned window, unsigned lookahead, uint64_t *io_state)
{
	struct code_cmp cmp;
	int r;

	if (!io_state || sspr_otp_params_check(p) < 0 || !secret_ok(secret, secret_len))
		return -EINVAL;
	/* Malformed input never reaches liboath. */
	if (!code_well_formed(code, p->digits))
		return -EINVAL;
	r = sspr_otp_global_init();
	if (r < 0)
		return r;
	cmp.code = code;
	cmp.len = p->digits;
	if (p->type == SSPR_OTP_TOTP)
		return totp_verify(p, secret, secret_len, &cmp, now, window, io_state);
	return hotp_verify(p, secret, secret_len, &cmp, lookahead, io_state);
}

int sspr_otp_generate(const struct sspr_otp_params *p, const uint8_t *secret,
                      size_t secret_len, uint64_t moving, char out[static 9])
{
	char tmp[16];
	int rc, r;

	if (sspr_otp_params_check(p) < 0 || !secret_ok(secret, secret_len))
		return -EINVAL;
	r = sspr_otp_global_init();
	if (r < 0)
		return r;
	memset(tmp, 0, sizeof tmp);
	if (p->type == SSPR_OTP_TOTP) {
		/* liboath takes a time, not a step: any time inside the step. */
		if (moving > (uint64_t)INT64_MAX / p->period)
			return -EINVAL;
		rc = oath_totp_generate2((const char *)secret, secret_len,
		                         (time_t)(moving * p->period), p->period, 0, p->digits,
		                         totp_flags(p->alg), tmp);
	} else {
		rc = oath_hotp_generate((const char *)secret, secret_len, moving, p->digits, false,
		                        OATH_HOTP_DYNAMIC_TRUNCATION, tmp);
	}
	if (rc != OATH_OK) {
		sspr_wipe(tmp, sizeof tmp);
		return map_oath_error(rc);
	}
	memcpy(out, tmp, p->digits);
	out[p->digits] = '\0';
	sspr_wipe(tmp, sizeof tmp);
	return 0;
}

/* --- otpauth:// URI ---------------------------------------------------- */

static bool uri_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* Append s percent-encoded (RFC 3986: only unreserved characters kept, so
 * ':' '&' '=' '?' '/' '%' and spaces never pass through); with out NULL
 * just count.  Returns the length written or needed. */
static size_t pct_encode(char *out, const char *s)
{
	static const char hex[16] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (uri_unreserved(c)) {
			if (out)
				out[n] = (char)c;
			n++;
		} else {
			if (out) {
				out[n] = '%';
				out[n + 1] = hex[c >> 4];
				out[n + 2] = hex[c & 15];
			}
			n += 3;
		}
	}
	return n;
}

static const char *alg_uri_name(enum sspr_otp_alg alg)
{
	switch (alg) {
	case SSPR_OTP_SHA256:
		return "SHA256";
	case SSPR_OTP_SHA512:
		return "SHA512";
	default:
		return "SHA1";
	}
}

static bool label_part_ok(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strnlen(s, SSPR_FIELD_MAX + 1);
	return n > 0 && n <= SSPR_FIELD_MAX;
}

int sspr_otpauth_uri(const struct sspr_otp_params *p, const char *issuer,
                     const char *account, const char *b32secret,
                     uint64_t counter, char **ret)
{
	_cleanup_secure_ uint8_t *raw = NULL;
	_cleanup_secure_ char *canon = NULL;
	_cleanup_secure_ char *buf = NULL;
	char tail[96];
	size_t rawlen = 0, ei, ea, len, o;
	int n, r;

	if (!ret || sspr_otp_params_check(p) < 0 || !label_part_ok(issuer) ||
	    !label_part_ok(account) || !b32secret)
		return -EINVAL;

	/* Validate the secret and write it canonically (upper case, no
	 * padding), as Google's format asks. */
	raw = sspr_secure_alloc(SSPR_SECRET_MAX);
	canon = sspr_secure_alloc(SSPR_B32_MAX);
	if (!raw || !canon)
		return -ENOMEM;
	r = sspr_base32_decode(b32secret, raw, SSPR_SECRET_MAX, &rawlen);
	if (r < 0)
		return -EINVAL;
	if (rawlen == 0)
		return -EINVAL;
	r = sspr_base32_encode(raw, rawlen, canon, SSPR_B32_MAX);
	if (r < 0)
		return -EINVAL;

	if (p->type == SSPR_OTP_TOTP)
		n = snprintf(tail, sizeof tail, "&algorithm=%s&digits=%u&period=%u",
		             alg_uri_name(p->alg), p->digits, p->period);
	else
		n = snprintf(tail, sizeof tail, "&algorithm=%s&digits=%u&counter=%" PRIu64,
		             alg_uri_name(p->alg), p->digits, counter);
	if (n < 0 || (size_t)n >= sizeof tail)
		return -EINVAL;

	ei = pct_encode(NULL, issuer);
	ea = pct_encode(NULL, account);
	/* otpauth://TYPE/ + issuer + ':' + account + ?secret= + S + &issuer= + issuer + tail */
	len = strlen("otpauth://totp/") + ei + 1 + ea + strlen("?secret=") + strlen(canon) +
	      strlen("&issuer=") + ei + (size_t)n + 1;
	buf = sspr_secure_alloc(len);
	if (!buf)
		return -ENOMEM;
	o = 0;
#define PUT(s)                                          \
	do {                                            \
		size_t l_ = strlen(s);                  \
		memcpy(buf + o, (s), l_);               \
		o += l_;                                \
	} while (0)
	PUT(p->type == SSPR_OTP_TOTP ? "otpauth://totp/" : "otpauth://hotp/");
	o += pct_encode(buf + o, issuer);
	PUT(":");
	o += pct_encode(buf + o, account);
	PUT("?secret=");
	PUT(canon);
	PUT("&issuer=");
	o += pct_encode(buf + o, issuer);
	PUT(tail);
#undef PUT
	buf[o] = '\0';
	*ret = buf;
	buf = NULL;
	return 0;
}
