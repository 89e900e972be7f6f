/* SPDX-License-Identifier: BSD-2-Clause */
/* RFC 4648 base32 (section 6), written here rather than taken from liboath:
 * oath_base32_decode skips spaces and allocates with plain malloc, and
 * secrets must be decoded strictly into the caller's secure buffer. */
#include <string.h>

#include "sspr/common.h"
#include "sspr/otp.h"

static const char b32_alphabet[32] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* Value of one base32 character, or -1. */
static int b32_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

int sspr_base32_encode(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	size_t need, i, o = 0;
	unsigned buf = 0, bits = 0;

	if (len > (SIZE_MAX - 5) / 8)
		return -ENOBUFS;
	need = (len * 8 + 4) / 5 + 1;
	if (!out || outlen < need)
		return -ENOBUFS;
	for (i = 0; i < len; i++) {
		buf = (buf << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32_alphabet[(buf >> bits) & 31];
		}
		buf &= (1u << bits) - 1; /* keep only the unused bits */
	}
	if (bits > 0)
		out[o++] = b32_alphabet[(buf << (5 - bits)) & 31];
	out[o] = '\0';
	sspr_wipe(&buf, sizeof buf); /* bits of the secret */
	return 0;
}

int sspr_base32_decode(const char *in, uint8_t *out, size_t outcap, size_t *ret_len)
{
	/* '=' count required after n mod 8 data characters; -1: impossible. */
	static const int pad_for_rem[8] = { 0, -1, 6, -1, 4, 3, -1, 1 };
	size_t n, total, npad = 0, need, i, o = 0;
	unsigned buf = 0, bits = 0;
	int r = 0;

	if (!in || !ret_len)
		return -EINVAL;
	total = strlen(in);
	n = total;
	while (n > 0 && in[n - 1] == '=') {
		n--;
		npad++;
	}
	if (pad_for_rem[n % 8] < 0)
		return -EINVAL;
	/* Padding is optional, but when present it must be exactly the
	 * amount that completes the last quantum. */
	if (npad != 0 && (n % 8 == 0 || npad != (size_t)pad_for_rem[n % 8]))
		return -EINVAL;
	need = n * 5 / 8;
	if (need > outcap)
		return -ENOBUFS;
	for (i = 0; i < n; i++) {
		int v = b32_value((unsigned char)in[i]);

		if (v < 0) {
			r = -EINVAL; /* any other byte, '=' in the middle too */
			goto fail;
		}
		buf = (buf << 5) | (unsigned)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(buf >> bits);
			buf &= (1u << bits) - 1;
		}
	}
	/* Leftover bits must be zero, so each byte string has one encoding. */
	if (buf != 0) {
		r = -EINVAL;
		goto fail;
	}
	*ret_len = o;
	sspr_wipe(&buf, sizeof buf);
	return 0;
fail:
	sspr_wipe(out, o);
	sspr_wipe(&buf, sizeof buf);
	return r;
}
