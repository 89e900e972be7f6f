/* SPDX-License-Identifier: BSD-2-Clause */
/* Tally parser: a tally that parses formats back to text of the same
 * length (every value is canonical, only the key order may differ) that
 * parses to the same tally. */
#include <stdlib.h>
#include <string.h>

#include "sspr/ratelimit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_or_abort(const struct sspr_tally *a, const struct sspr_tally *b)
{
	if (a->nfail != b->nfail || a->consecutive != b->consecutive ||
	    a->lockouts != b->lockouts || a->locked_until != b->locked_until ||
	    a->hard_locked != b->hard_locked || a->account != b->account ||
	    a->last_seen != b->last_seen ||
	    memcmp(a->fail, b->fail, a->nfail * sizeof a->fail[0]) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sspr_tally a, b;
	char *text = NULL;
	size_t len = 0;
	uint32_t i;

	memset(&a, 0x5a, sizeof a);
	if (sspr_tally_parse(&a, (const char *)data, size) != 0) {
		/* A refused parse leaves the tally alone. */
		for (i = 0; i < sizeof a; i++)
			if (((const unsigned char *)&a)[i] != 0x5a)
				abort();
		return 0;
	}
	if (a.nfail > SSPR_TALLY_TIMES_MAX)
		abort();
	for (i = 1; i < a.nfail; i++)
		if (a.fail[i] < a.fail[i - 1])
			abort();
	if (sspr_tally_format(&a, &text, &len) != 0 || len != size ||
	    sspr_tally_parse(&b, text, len) != 0)
		abort();
	same_or_abort(&a, &b);
	free(text);
	return 0;
}
