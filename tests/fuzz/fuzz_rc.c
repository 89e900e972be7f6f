/* SPDX-License-Identifier: BSD-2-Clause */
/* Recovery-code files and typed codes: what parses formats back to the
 * same bytes; normalisation never accepts a malformed code. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sspr/recovery.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sspr_rc_set set;
	char typed[64], norm[SSPR_RC_LEN + 1], *out = NULL;
	size_t len;

	if (sspr_rc_parse(&set, (const char *)data, size) == 0) {
		if (sspr_rc_format(&set, &out, &len) != 0 || len != size || memcmp(out, data, size))
			abort();
		free(out);
	}
	if (size < sizeof typed) {
		memcpy(typed, data, size);
		typed[size] = '\0';
		if (sspr_rc_normalize(typed, norm) == 0 &&
		    (strlen(norm) != SSPR_RC_LEN || strspn(norm, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != SSPR_RC_LEN))
			abort();
	}
	return 0;
}
