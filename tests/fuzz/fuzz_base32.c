/* SPDX-License-Identifier: BSD-2-Clause */
/* base32: what decodes re-encodes to the canonical form and decodes to
 * the same bytes again. */
#include <stdlib.h>
#include <string.h>

#include "sspr/otp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[256], enc[512];
	uint8_t a[256], b[256];
	size_t na, nb;

	if (size >= sizeof in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if (strlen(in) != size)
		return 0;
	if (sspr_base32_decode(in, a, sizeof a, &na) != 0)
		return 0;
	if (sspr_base32_encode(a, na, enc, sizeof enc) != 0 ||
	    sspr_base32_decode(enc, b, sizeof b, &nb) != 0 || na != nb || memcmp(a, b, na) != 0)
		abort();
	return 0;
}
