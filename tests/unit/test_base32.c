/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/base32.c: RFC 4648 vectors, round trips, rejects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "sspr/otp.h"

/* RFC 4648 section 10. */
static const struct {
	const char *raw;
	const char *unpadded;
	const char *padded;
} rfc_vectors[] = {
	{ "", "", "" },
	{ "f", "MY", "MY======" },
	{ "fo", "MZXQ", "MZXQ====" },
	{ "foo", "MZXW6", "MZXW6===" },
	{ "foob", "MZXW6YQ", "MZXW6YQ=" },
	{ "fooba", "MZXW6YTB", "MZXW6YTB" },
	{ "foobar", "MZXW6YTBOI", "MZXW6YTBOI======" },
};

static void test_rfc4648_encode(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < SSPR_ELEMENTSOF(rfc_vectors); i++) {
		char out[32];

		memset(out, 'x', sizeof out);
		assert_int_equal(sspr_base32_encode((const uint8_t *)rfc_vectors[i].raw,
		                                    strlen(rfc_vectors[i].raw), out, sizeof out),
		                 0);
		assert_string_equal(out, rfc_vectors[i].unpadded);
	}
}

static void check_decodes_to(const char *in, const char *raw)
{
	uint8_t out[32];
	size_t len = 999;

	assert_int_equal(sspr_base32_decode(in, out, sizeof out, &len), 0);
	assert_int_equal(len, strlen(raw));
	if (len)
		assert_memory_equal(out, raw, len);
}

static void test_rfc4648_decode(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < SSPR_ELEMENTSOF(rfc_vectors); i++) {
		char lower[32];
		size_t j;

		check_decodes_to(rfc_vectors[i].unpadded, rfc_vectors[i].raw);
		check_decodes_to(rfc_vectors[i].padded, rfc_vectors[i].raw);
		for (j = 0; rfc_vectors[i].padded[j]; j++) {
			char c = rfc_vectors[i].padded[j];

			lower[j] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
		}
		lower[j] = '\0';
		check_decodes_to(lower, rfc_vectors[i].raw);
	}
}

static void test_round_trip_all_lengths(void **state)
{
	size_t len;
	int rep;

	(void)state;
	assert_true(sodium_init() >= 0);
	for (rep = 0; rep < 8; rep++) {
		for (len = 0; len <= 40; len++) {
			uint8_t in[40], out[40];
			char enc[72];
			size_t got = 999;

			randombytes_buf(in, sizeof in);
			assert_int_equal(sspr_base32_encode(in, len, enc, sizeof enc), 0);
			assert_int_equal(strlen(enc), (len * 8 + 4) / 5);
			assert_int_equal(sspr_base32_decode(enc, out, sizeof out, &got), 0);
			assert_int_equal(got, len);
			if (len)
				assert_memory_equal(in, out, len);
		}
	}
}

static void test_encode_exact_buffer(void **state)
{
	uint8_t in[5] = { 1, 2, 3, 4, 5 };
	char out[9];

	(void)state;
	/* 5 bytes need 8 characters and a NUL. */
	assert_int_equal(sspr_base32_encode(in, 5, out, 9), 0);
	assert_int_equal(strlen(out), 8);
	assert_int_equal(sspr_base32_encode(in, 5, out, 8), -ENOBUFS);
	assert_int_equal(sspr_base32_encode(in, 0, out, 1), 0);
	assert_string_equal(out, "");
	assert_int_equal(sspr_base32_encode(in, 0, out, 0), -ENOBUFS);
}

static void test_decode_nobufs(void **state)
{
	uint8_t out[8];
	size_t len = 777;

	(void)state;
	assert_int_equal(sspr_base32_decode("MZXW6YTB", out, 4, &len), -ENOBUFS);
	assert_int_equal(len, 777);
	assert_int_equal(sspr_base32_decode("MZXW6YTB", out, 5, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(out, "fooba", 5);
}

static const char *const rejects[] = {
	"M",                  /* impossible lengths: 1, 3, 6 mod 8 */
	"MZX",
	"MZXW6Y",
	"MZXW6YTBM",
	"MZ",                 /* non-zero trailing bits, 2 leftover */
	"MZXR",               /* 4 leftover */
	"MZXW7",              /* 1 leftover */
	"MZXW6YR",            /* 3 leftover */
	"MZ======",
	"MY=",                /* padding, but not the right amount */
	"MY=====",
	"MY=======",
	"MZXW6YQ==",
	"MZXW6YTB========",   /* a whole block of padding */
	"=",
	"========",
	"MY======MY",         /* padding in the middle */
	"M=Y=====",
	"MZXW6YT1",           /* outside the alphabet */
	"MZXW6YT0",
	"MZXW6YT8",
	"MZXW6YT9",
	"MZXW6YT-",
	"MZXW6YT+",
	"MZXW6YT/",
	"MZXW6YT@",
	"MZXW6YT[",
	"MZXW6YT{",
	"MZXW 6YTB",          /* white space anywhere */
	" MZXW6YTB",
	"MZXW6YTB ",
	"MZXW6YTB\n",
	"MZXW6YT\tB",
	"MZXW6YT\xc3\x84",    /* non-ASCII */
	"MZXW6YT\x80",
};

static void test_rejects(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < SSPR_ELEMENTSOF(rejects); i++) {
		uint8_t out[32];
		size_t len = 4242;
		int r = sspr_base32_decode(rejects[i], out, sizeof out, &len);

		if (r != -EINVAL)
			fail_msg("accepted or wrong error (%d) for \"%s\"", r, rejects[i]);
		assert_int_equal(len, 4242);
	}
}

static void test_null_args(void **state)
{
	uint8_t out[8];
	size_t len;

	(void)state;
	assert_int_equal(sspr_base32_decode(NULL, out, sizeof out, &len), -EINVAL);
	assert_int_equal(sspr_base32_decode("MY", out, sizeof out, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_encode),
		cmocka_unit_test(test_rfc4648_decode),
		cmocka_unit_test(test_round_trip_all_lengths),
		cmocka_unit_test(test_encode_exact_buffer),
		cmocka_unit_test(test_decode_nobufs),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_null_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
