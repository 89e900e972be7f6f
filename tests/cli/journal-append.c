/* SPDX-License-Identifier: BSD-2-Clause */
/* journal-append STATEDIR: append one journal entry per stdin line
 * "UNIXTIME event=NAME k=v ..." through the real sspr_journal_append, so
 * that tests can build a journal with known counts, times and durations
 * (tests/cli/test-stats.sh).  Prints the seq of each entry. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sspr/common.h"
#include "sspr/journal.h"

int main(int argc, char **argv)
{
	char line[SSPR_JOURNAL_LINE_MAX];
	unsigned long n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: journal-append STATEDIR < lines\n");
		return 2;
	}
	while (fgets(line, sizeof line, stdin)) {
		char *sp = strchr(line, ' ');
		long long t;
		uint64_t seq;
		unsigned char pk[32];
		bool started;
		int r;

		n++;
		line[strcspn(line, "\n")] = '\0';
		if (!sp) {
			fprintf(stderr, "line %lu: no time\n", n);
			return 1;
		}
		*sp = '\0';
		if (sspr_strtonum(line, 0, INT32_MAX, &t) < 0) {
			fprintf(stderr, "line %lu: bad time\n", n);
			return 1;
		}
		r = sspr_journal_append(argv[1], (time_t)t, sp + 1, &seq, &started, pk);
		if (r < 0) {
			fprintf(stderr, "line %lu: %s\n", n, sspr_strerror(r));
			return 1;
		}
		printf("%" PRIu64 "\n", seq);
	}
	return 0;
}
