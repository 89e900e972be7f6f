/* SPDX-License-Identifier: BSD-2-Clause */
/* Enrollment record parser: a record that parses formats back to text
 * that parses to the same record. */
#include <stdlib.h>
#include <string.h>

#include "sspr/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sspr_record *a = sspr_record_new(), *b = sspr_record_new();
	char *text = NULL;
	size_t len = 0;

	if (!a || !b)
		abort();
	if (sspr_record_parse(a, (const char *)data, size) == 0) {
		if (sspr_record_format(a, &text, &len) != 0 ||
		    sspr_record_parse(b, text, len) != 0 ||
		    strcmp(a->user, b->user) != 0 || a->uid != b->uid ||
		    a->secret_len != b->secret_len ||
		    memcmp(a->secret, b->secret, a->secret_len) != 0 || a->state != b->state)
			abort();
		sspr_secure_free(text);
	}
	sspr_record_free(a);
	sspr_record_free(b);
	return 0;
}
