/* SPDX-License-Identifier: BSD-2-Clause */
/* The helper's protocol decoder: any body either decodes to a message
 * that re-encodes to the same bytes, or is refused. */
#include <stdlib.h>
#include <string.h>

#include "sspr/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[4 + SSPR_MSG_MAX];
	struct sspr_msg m;
	long n;

	if (sspr_msg_decode(data, size, &m) != 0)
		return 0;
	n = sspr_msg_encode(&m, out, sizeof out);
	if (n < 0 || (size_t)n != size + 4 || memcmp(out + 4, data, size) != 0)
		abort();
	return 0;
}
