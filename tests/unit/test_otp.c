/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/otp.c: RFC 6238 / RFC 4226 vectors, TOTP window edges,
 * replay, HOTP lookahead, malformed codes, otpauth URIs.  Time is passed
 * in, never read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sspr/otp.h"
#include "sspr/common.h"

/* RFC 6238 appendix A's keys: the ASCII digits repeated to 20/32/64 bytes. */
static const char key20[] = "12345678901234567890";
static const char key32[] = "12345678901234567890123456789012";
static const char key64[] = "1234567890123456789012345678901234567890123456789012345678901234";

static const uint8_t *key_for(enum sspr_otp_alg alg, size_t *len)
{
	switch (alg) {
	case SSPR_OTP_SHA256:
		*len = 32;
		return (const uint8_t *)key32;
	case SSPR_OTP_SHA512:
		*len = 64;
		return (const uint8_t *)key64;
	default:
		*len = 20;
		return (const uint8_t *)key20;
	}
}

/* RFC 6238 appendix B. */
static const struct {
	time_t t;
	enum sspr_otp_alg alg;
	const char *code;
} totp_vectors[] = {
	{ 59, SSPR_OTP_SHA1, "94287082" },
	{ 59, SSPR_OTP_SHA256, "46119246" },
	{ 59, SSPR_OTP_SHA512, "90693936" },
	{ 1111111109, SSPR_OTP_SHA1, "07081804" },
	{ 1111111109, SSPR_OTP_SHA256, "68084774" },
	{ 1111111109, SSPR_OTP_SHA512, "25091201" },
	{ 1111111111, SSPR_OTP_SHA1, "14050471" },
	{ 1111111111, SSPR_OTP_SHA256, "67062674" },
	{ 1111111111, SSPR_OTP_SHA512, "99943326" },
	{ 1234567890, SSPR_OTP_SHA1, "89005924" },
	{ 1234567890, SSPR_OTP_SHA256, "91819424" },
	{ 1234567890, SSPR_OTP_SHA512, "93441116" },
	{ 2000000000, SSPR_OTP_SHA1, "69279037" },
	{ 2000000000, SSPR_OTP_SHA256, "90698825" },
	{ 2000000000, SSPR_OTP_SHA512, "38618901" },
	{ 20000000000, SSPR_OTP_SHA1, "65353130" },
	{ 20000000000, SSPR_OTP_SHA256, "77737706" },
	{ 20000000000, SSPR_OTP_SHA512, "47863826" },
};

/* RFC 4226 appendix D. */
static const char *const hotp_vectors[10] = {
	"755224", "287082", "359152", "969429", "338314",
	"254676", "287922", "162583", "399871", "520489",
};

static struct sspr_otp_params totp6(void)
{
	struct sspr_otp_params p;

	sspr_otp_params_default(&p);
	return p;
}

static struct sspr_otp_params hotp6(void)
{
	struct sspr_otp_params p;

	sspr_otp_params_default(&p);
	p.type = SSPR_OTP_HOTP;
	return p;
}

static void gen(const struct sspr_otp_params *p, uint64_t moving, char out[9])
{
	assert_int_equal(sspr_otp_generate(p, (const uint8_t *)key20, 20, moving, out), 0);
}

static int verify(const struct sspr_otp_params *p, const char *code, time_t now,
                  unsigned window, unsigned lookahead, uint64_t *st)
{
	return sspr_otp_verify(p, (const uint8_t *)key20, 20, code, now, window, lookahead, st);
}

static int setup(void **state)
{
	(void)state;
	return sspr_otp_global_init() == 0 ? 0 : -1;
}

static void test_global_init_twice(void **state)
{
	(void)state;
	assert_int_equal(sspr_otp_global_init(), 0);
	assert_int_equal(sspr_otp_global_init(), 0);
}

static void test_params(void **state)
{
	struct sspr_otp_params p;

	(void)state;
	sspr_otp_params_default(&p);
	assert_int_equal(p.type, SSPR_OTP_TOTP);
	assert_int_equal(p.alg, SSPR_OTP_SHA1);
	assert_int_equal(p.digits, 6);
	assert_int_equal(p.period, 30);
	assert_int_equal(sspr_otp_params_check(&p), 0);
	p.digits = 8;
	assert_int_equal(sspr_otp_params_check(&p), 0);
	p.digits = 7;
	assert_int_equal(sspr_otp_params_check(&p), -EINVAL);
	p.digits = 6;
	p.period = 0;
	assert_int_equal(sspr_otp_params_check(&p), -EINVAL);
	p.period = 301;
	assert_int_equal(sspr_otp_params_check(&p), -EINVAL);
	p.period = 300;
	assert_int_equal(sspr_otp_params_check(&p), 0);
	p.period = 1;
	assert_int_equal(sspr_otp_params_check(&p), 0);
	p.alg = SSPR_OTP_SHA512;
	assert_int_equal(sspr_otp_params_check(&p), 0);
	p.type = SSPR_OTP_HOTP; /* liboath's HOTP is SHA1 only */
	assert_int_equal(sspr_otp_params_check(&p), -EINVAL);
	p.alg = SSPR_OTP_SHA256;
	assert_int_equal(sspr_otp_params_check(&p), -EINVAL);
	p.alg = SSPR_OTP_SHA1;
	assert_int_equal(sspr_otp_params_check(&p), 0);
	p.alg = (enum sspr_otp_alg)7;
	assert_int_equal(sspr_otp_params_check(&p), -EINVAL);
	p.alg = SSPR_OTP_SHA1;
	p.type = (enum sspr_otp_type)5;
	assert_int_equal(sspr_otp_params_check(&p), -EINVAL);
	assert_int_equal(sspr_otp_params_check(NULL), -EINVAL);
}

static void test_step(void **state)
{
	struct sspr_otp_params p = totp6();

	(void)state;
	assert_int_equal(sspr_otp_step(&p, 0), 0);
	assert_int_equal(sspr_otp_step(&p, 29), 0);
	assert_int_equal(sspr_otp_step(&p, 30), 1);
	assert_int_equal(sspr_otp_step(&p, 59), 1);
	assert_int_equal(sspr_otp_step(&p, 1111111109), 0x23523EC);
	assert_int_equal(sspr_otp_step(&p, 20000000000), 0x27BC86AA);
	p.period = 60;
	assert_int_equal(sspr_otp_step(&p, 119), 1);
}

static void test_rfc6238_generate(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < SSPR_ELEMENTSOF(totp_vectors); i++) {
		struct sspr_otp_params p = totp6();
		const uint8_t *key;
		size_t klen;
		char out[9];

		p.alg = totp_vectors[i].alg;
		p.digits = 8;
		key = key_for(p.alg, &klen);
		memset(out, 'x', sizeof out);
		assert_int_equal(sspr_otp_generate(&p, key, klen, sspr_otp_step(&p, totp_vectors[i].t),
		                                   out),
		                 0);
		assert_string_equal(out, totp_vectors[i].code);
	}
}

static void test_rfc6238_verify(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < SSPR_ELEMENTSOF(totp_vectors); i++) {
		struct sspr_otp_params p = totp6();
		uint64_t step, st = 0;
		const uint8_t *key;
		size_t klen;

		p.alg = totp_vectors[i].alg;
		p.digits = 8;
		key = key_for(p.alg, &klen);
		step = (uint64_t)totp_vectors[i].t / 30;
		assert_int_equal(sspr_otp_verify(&p, key, klen, totp_vectors[i].code,
		                                 totp_vectors[i].t, 0, 0, &st),
		                 0);
		assert_int_equal(st, step);
		/* The same code under another algorithm's flags does not pass. */
		st = 0;
		p.alg = (p.alg + 1) % 3;
		key = key_for(p.alg, &klen);
		assert_int_equal(sspr_otp_verify(&p, key, klen, totp_vectors[i].code,
		                                 totp_vectors[i].t, 0, 0, &st),
		                 -SSPR_E_CODE_INVALID);
		assert_int_equal(st, 0);
	}
}

static void test_rfc4226_generate_verify(void **state)
{
	struct sspr_otp_params p = hotp6();
	uint64_t c;

	(void)state;
	for (c = 0; c < 10; c++) {
		uint64_t st = c;
		char out[9];

		gen(&p, c, out);
		assert_string_equal(out, hotp_vectors[c]);
		assert_int_equal(verify(&p, hotp_vectors[c], 0, 0, 0, &st), 0);
		assert_int_equal(st, c + 1);
	}
	/* In sequence from 0 with no lookahead: each code moves the counter. */
	{
		uint64_t st = 0;

		for (c = 0; c < 10; c++) {
			assert_int_equal(verify(&p, hotp_vectors[c], 0, 0, 0, &st), 0);
			assert_int_equal(st, c + 1);
		}
	}
}

/* A code for step S, tried at S*30 + offset. */
static const uint64_t S = 56666666; /* 2023-11-14 */

static void test_totp_window_edges(void **state)
{
	static const struct {
		int offset;
		bool ok_w1, ok_w0;
	} edges[] = {
		{ -61, false, false },
		{ -31, false, false }, /* step S-2 */
		{ -30, true, false },  /* step S-1, first second */
		{ -1, true, false },   /* step S-1, last second */
		{ 0, true, true },     /* step S */
		{ 29, true, true },    /* step S, last second */
		{ 30, true, false },   /* step S+1 */
		{ 31, true, false },
		{ 59, true, false },   /* step S+1, last second */
		{ 60, false, false },  /* step S+2 */
	};
	struct sspr_otp_params p = totp6();
	char code[9], other[9];
	size_t i;
	int d;

	(void)state;
	gen(&p, S, code);
	/* The table relies on S's code differing from its neighbours'. */
	for (d = -3; d <= 3; d++) {
		if (d == 0)
			continue;
		gen(&p, S + (uint64_t)d, other);
		assert_string_not_equal(code, other);
	}
	for (i = 0; i < SSPR_ELEMENTSOF(edges); i++) {
		time_t now = (time_t)(S * 30) + edges[i].offset;
		uint64_t st = 0;
		int r;

		r = verify(&p, code, now, 1, 0, &st);
		if (edges[i].ok_w1) {
			if (r != 0)
				fail_msg("window 1, offset %d: refused (%d)", edges[i].offset, r);
			assert_int_equal(st, S);
		} else {
			if (r != -SSPR_E_CODE_INVALID)
				fail_msg("window 1, offset %d: got %d", edges[i].offset, r);
			assert_int_equal(st, 0);
		}
		st = 0;
		r = verify(&p, code, now, 0, 0, &st);
		if (edges[i].ok_w0) {
			if (r != 0)
				fail_msg("window 0, offset %d: refused (%d)", edges[i].offset, r);
			assert_int_equal(st, S);
		} else {
			if (r != -SSPR_E_CODE_INVALID)
				fail_msg("window 0, offset %d: got %d", edges[i].offset, r);
			assert_int_equal(st, 0);
		}
	}
}

static void test_totp_replay(void **state)
{
	struct sspr_otp_params p = totp6();
	time_t now = (time_t)(S * 30) + 10;
	uint64_t st = 0;
	char code[9], next[9];

	(void)state;
	gen(&p, S, code);
	assert_int_equal(verify(&p, code, now, 1, 0, &st), 0);
	assert_int_equal(st, S);
	/* The same code again, at the same or a later moment: spent. */
	assert_int_equal(verify(&p, code, now, 1, 0, &st), -SSPR_E_CODE_REPLAY);
	assert_int_equal(st, S);
	assert_int_equal(verify(&p, code, now + 25, 1, 0, &st), -SSPR_E_CODE_REPLAY);
	assert_int_equal(st, S);
	/* The next step's code is fine and moves the state on. */
	gen(&p, S + 1, next);
	assert_int_equal(verify(&p, next, now, 1, 0, &st), 0);
	assert_int_equal(st, S + 1);
}

static void test_totp_older_step_refused(void **state)
{
	struct sspr_otp_params p = totp6();
	time_t now = (time_t)(S * 30);
	uint64_t st = 0;
	char code[9], older[9];

	(void)state;
	gen(&p, S, code);
	gen(&p, S - 1, older);
	assert_int_equal(verify(&p, code, now, 1, 0, &st), 0);
	assert_int_equal(st, S);
	/* S-1 is inside the window but below the last accepted step. */
	assert_int_equal(verify(&p, older, now, 1, 0, &st), -SSPR_E_CODE_REPLAY);
	assert_int_equal(st, S);
	/* A state ahead of the clock (e.g. clock set back) refuses all. */
	st = S + 5;
	assert_int_equal(verify(&p, code, now, 1, 0, &st), -SSPR_E_CODE_REPLAY);
	assert_int_equal(st, S + 5);
}

static void test_state_untouched_on_failure(void **state)
{
	struct sspr_otp_params t = totp6(), h = hotp6();
	const uint64_t sentinel = 12345;
	uint64_t st;
	char code[9];

	(void)state;
	gen(&t, S, code);
	code[0] = code[0] == '9' ? '0' : (char)(code[0] + 1);
	st = sentinel;
	assert_int_equal(verify(&t, code, (time_t)(S * 30), 1, 0, &st), -SSPR_E_CODE_INVALID);
	assert_int_equal(st, sentinel);
	st = sentinel;
	assert_int_equal(verify(&t, "12a456", (time_t)(S * 30), 1, 0, &st), -EINVAL);
	assert_int_equal(st, sentinel);
	gen(&h, sentinel + 4, code); /* just past lookahead 3 */
	st = sentinel;
	assert_int_equal(verify(&h, code, 0, 0, 3, &st), -SSPR_E_CODE_INVALID);
	assert_int_equal(st, sentinel);
	st = sentinel;
	assert_int_equal(verify(&h, "", 0, 0, 3, &st), -EINVAL);
	assert_int_equal(st, sentinel);
	/* Bad params and secrets too. */
	t.digits = 7;
	assert_int_equal(verify(&t, "1234567", 0, 1, 0, &st), -EINVAL);
	assert_int_equal(st, sentinel);
	assert_int_equal(sspr_otp_verify(&h, NULL, 20, "123456", 0, 0, 0, &st), -EINVAL);
	assert_int_equal(sspr_otp_verify(&h, (const uint8_t *)key20, 0, "123456", 0, 0, 0, &st),
	                 -EINVAL);
	assert_int_equal(st, sentinel);
	assert_int_equal(verify(&h, "123456", 0, 0, 0, NULL), -EINVAL);
	/* A clock before the epoch has no TOTP step. */
	t.digits = 6;
	gen(&t, 0, code);
	assert_int_equal(verify(&t, code, -1, 1, 0, &st), -EINVAL);
	assert_int_equal(st, sentinel);
}

static void test_hotp_lookahead(void **state)
{
	struct sspr_otp_params p = hotp6();
	const uint64_t c0 = 100;
	const unsigned la = 5;
	char code[9];
	uint64_t st;

	(void)state;
	/* Exactly at the edge of the lookahead: accepted. */
	gen(&p, c0 + la, code);
	st = c0;
	assert_int_equal(verify(&p, code, 0, 0, la, &st), 0);
	assert_int_equal(st, c0 + la + 1);
	/* One past it: refused, counter kept. */
	gen(&p, c0 + la + 1, code);
	st = c0;
	assert_int_equal(verify(&p, code, 0, 0, la, &st), -SSPR_E_CODE_INVALID);
	assert_int_equal(st, c0);
	/* lookahead 0: only the current counter. */
	gen(&p, c0 + 1, code);
	st = c0;
	assert_int_equal(verify(&p, code, 0, 0, 0, &st), -SSPR_E_CODE_INVALID);
	assert_int_equal(st, c0);
	gen(&p, c0, code);
	assert_int_equal(verify(&p, code, 0, 0, 0, &st), 0);
	assert_int_equal(st, c0 + 1);
}

static void test_hotp_advance_and_reuse(void **state)
{
	struct sspr_otp_params p = hotp6();
	char c3[9], c1[9], c4[9];
	uint64_t st = 0;

	(void)state;
	gen(&p, 3, c3);
	gen(&p, 1, c1);
	gen(&p, 4, c4);
	assert_int_equal(verify(&p, c3, 0, 0, 10, &st), 0);
	assert_int_equal(st, 4);
	/* Used again: refused. Skipped-over counter: refused. */
	assert_int_equal(verify(&p, c3, 0, 0, 10, &st), -SSPR_E_CODE_INVALID);
	assert_int_equal(verify(&p, c1, 0, 0, 10, &st), -SSPR_E_CODE_INVALID);
	assert_int_equal(st, 4);
	/* The next one still works. */
	assert_int_equal(verify(&p, c4, 0, 0, 10, &st), 0);
	assert_int_equal(st, 5);
	/* The counter never wraps back to 0. */
	st = UINT64_MAX;
	assert_int_equal(verify(&p, hotp_vectors[0], 0, 0, 10, &st), -SSPR_E_CODE_INVALID);
	assert_int_equal(st, UINT64_MAX);
}

static void test_malformed_codes(void **state)
{
	static const char *const bad6[] = {
		"", "12345", "1234567", "12345a", "abcdef", " 12345", "12345 ", "123 456",
		"-12345", "+12345", "12345\n", "１２３４５６",
	};
	struct sspr_otp_params t = totp6(), h = hotp6();
	char good[9];
	size_t i;

	(void)state;
	for (i = 0; i < SSPR_ELEMENTSOF(bad6); i++) {
		uint64_t st = 7;

		if (verify(&t, bad6[i], (time_t)(S * 30), 1, 0, &st) != -EINVAL)
			fail_msg("TOTP accepted malformed \"%s\"", bad6[i]);
		if (verify(&h, bad6[i], 0, 0, 10, &st) != -EINVAL)
			fail_msg("HOTP accepted malformed \"%s\"", bad6[i]);
		assert_int_equal(st, 7);
	}
	{
		uint64_t st = 0;

		assert_int_equal(verify(&t, NULL, 0, 1, 0, &st), -EINVAL);
	}
	/* The right code with a digit too many or too few is malformed. */
	gen(&t, S, good);
	{
		char longer[10], shorter[9];
		uint64_t st = 0;

		memcpy(longer, good, 6);
		longer[6] = '0';
		longer[7] = '\0';
		memcpy(shorter, good, 5);
		shorter[5] = '\0';
		assert_int_equal(verify(&t, longer, (time_t)(S * 30), 1, 0, &st), -EINVAL);
		assert_int_equal(verify(&t, shorter, (time_t)(S * 30), 1, 0, &st), -EINVAL);
		assert_int_equal(st, 0);
		assert_int_equal(verify(&t, good, (time_t)(S * 30), 1, 0, &st), 0);
	}
	/* 8-digit params refuse a 6-digit code. */
	t.digits = 8;
	{
		uint64_t st = 0;

		assert_int_equal(verify(&t, "123456", 0, 1, 0, &st), -EINVAL);
		assert_int_equal(verify(&t, "1234567", 0, 1, 0, &st), -EINVAL);
	}
}

static void test_generate_args(void **state)
{
	struct sspr_otp_params p = totp6();
	char out[9];

	(void)state;
	assert_int_equal(sspr_otp_generate(&p, NULL, 20, 1, out), -EINVAL);
	assert_int_equal(sspr_otp_generate(&p, (const uint8_t *)key20, 0, 1, out), -EINVAL);
	assert_int_equal(sspr_otp_generate(&p, (const uint8_t *)key20, SSPR_SECRET_MAX + 1, 1,
	                                   out),
	                 -EINVAL);
	/* moving * period would overflow time_t */
	assert_int_equal(sspr_otp_generate(&p, (const uint8_t *)key20, 20, UINT64_MAX / 2, out),
	                 -EINVAL);
	p.digits = 8;
	assert_int_equal(sspr_otp_generate(&p, (const uint8_t *)key20, 20, 1, out), 0);
	assert_int_equal(strlen(out), 8);
}

/* --- otpauth URI ------------------------------------------------------ */

#define B32_KEY20 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

static void check_uri(const struct sspr_otp_params *p, const char *issuer, const char *account,
                      const char *b32, uint64_t counter, const char *want)
{
	char *uri = NULL;

	assert_int_equal(sspr_otpauth_uri(p, issuer, account, b32, counter, &uri), 0);
	assert_non_null(uri);
	assert_string_equal(uri, want);
	sspr_secure_free(uri);
}

static void test_uri_totp(void **state)
{
	struct sspr_otp_params p = totp6();

	(void)state;
	check_uri(&p, "Example", "alice", B32_KEY20, 0,
	          "otpauth://totp/Example:alice?secret=" B32_KEY20
	          "&issuer=Example&algorithm=SHA1&digits=6&period=30");
	/* Lower case and padding are made canonical. */
	check_uri(&p, "Example", "alice", "gezdgnbvgy3tqojqgezdgnbvgy3tqojq", 0,
	          "otpauth://totp/Example:alice?secret=" B32_KEY20
	          "&issuer=Example&algorithm=SHA1&digits=6&period=30");
	p.alg = SSPR_OTP_SHA512;
	p.digits = 8;
	p.period = 60;
	check_uri(&p, "Example", "alice", B32_KEY20, 99,
	          "otpauth://totp/Example:alice?secret=" B32_KEY20
	          "&issuer=Example&algorithm=SHA512&digits=8&period=60");
	p.alg = SSPR_OTP_SHA256;
	check_uri(&p, "Example", "alice", B32_KEY20, 0,
	          "otpauth://totp/Example:alice?secret=" B32_KEY20
	          "&issuer=Example&algorithm=SHA256&digits=8&period=60");
}

static void test_uri_percent_encoding(void **state)
{
	struct sspr_otp_params p = totp6();

	(void)state;
	check_uri(&p, "ACME Corp", "a:b", B32_KEY20, 0,
	          "otpauth://totp/ACME%20Corp:a%3Ab?secret=" B32_KEY20
	          "&issuer=ACME%20Corp&algorithm=SHA1&digits=6&period=30");
	check_uri(&p, "x&y=z?/#%", "al.ice_-~@host", B32_KEY20, 0,
	          "otpauth://totp/x%26y%3Dz%3F%2F%23%25:al.ice_-~%40host?secret=" B32_KEY20
	          "&issuer=x%26y%3Dz%3F%2F%23%25&algorithm=SHA1&digits=6&period=30");
	check_uri(&p, "H\xc3\xa4user", "bob", B32_KEY20, 0,
	          "otpauth://totp/H%C3%A4user:bob?secret=" B32_KEY20
	          "&issuer=H%C3%A4user&algorithm=SHA1&digits=6&period=30");
}

static void test_uri_hotp(void **state)
{
	struct sspr_otp_params p = hotp6();

	(void)state;
	check_uri(&p, "Example", "alice", B32_KEY20, 0,
	          "otpauth://hotp/Example:alice?secret=" B32_KEY20
	          "&issuer=Example&algorithm=SHA1&digits=6&counter=0");
	p.digits = 8;
	check_uri(&p, "ACME Corp", "bob", B32_KEY20, 18446744073709551615ULL,
	          "otpauth://hotp/ACME%20Corp:bob?secret=" B32_KEY20
	          "&issuer=ACME%20Corp&algorithm=SHA1&digits=8&counter=18446744073709551615");
}

static void test_uri_rejects(void **state)
{
	struct sspr_otp_params p = totp6();
	char *uri = (char *)0x1;
	char big[SSPR_FIELD_MAX + 2];

	(void)state;
	assert_int_equal(sspr_otpauth_uri(&p, "", "alice", B32_KEY20, 0, &uri), -EINVAL);
	assert_int_equal(sspr_otpauth_uri(&p, "Example", "", B32_KEY20, 0, &uri), -EINVAL);
	assert_int_equal(sspr_otpauth_uri(&p, NULL, "alice", B32_KEY20, 0, &uri), -EINVAL);
	assert_int_equal(sspr_otpauth_uri(&p, "Example", NULL, B32_KEY20, 0, &uri), -EINVAL);
	assert_int_equal(sspr_otpauth_uri(&p, "Example", "alice", "", 0, &uri), -EINVAL);
	assert_int_equal(sspr_otpauth_uri(&p, "Example", "alice", "GEZ1", 0, &uri), -EINVAL);
	assert_int_equal(sspr_otpauth_uri(&p, "Example", "alice", NULL, 0, &uri), -EINVAL);
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(sspr_otpauth_uri(&p, big, "alice", B32_KEY20, 0, &uri), -EINVAL);
	p.digits = 7;
	assert_int_equal(sspr_otpauth_uri(&p, "Example", "alice", B32_KEY20, 0, &uri), -EINVAL);
	assert_ptr_equal(uri, (char *)0x1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_global_init_twice),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_step),
		cmocka_unit_test(test_rfc6238_generate),
		cmocka_unit_test(test_rfc6238_verify),
		cmocka_unit_test(test_rfc4226_generate_verify),
		cmocka_unit_test(test_totp_window_edges),
		cmocka_unit_test(test_totp_replay),
		cmocka_unit_test(test_totp_older_step_refused),
		cmocka_unit_test(test_state_untouched_on_failure),
		cmocka_unit_test(test_hotp_lookahead),
		cmocka_unit_test(test_hotp_advance_and_reuse),
		cmocka_unit_test(test_malformed_codes),
		cmocka_unit_test(test_generate_args),
		cmocka_unit_test(test_uri_totp),
		cmocka_unit_test(test_uri_percent_encoding),
		cmocka_unit_test(test_uri_hotp),
		cmocka_unit_test(test_uri_rejects),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
