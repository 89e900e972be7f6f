/* SPDX-License-Identifier: BSD-2-Clause */
/* Shadow line lookup and whole-file edit: for any file, an edit either is
 * refused or changes exactly one line, and no other byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sspr/shadow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char hash[] = "$6$salt$abcdefghijklmnopqrstuv";
	struct sspr_shadow_info info;
	char *out = NULL;
	size_t outlen = 0;

	(void)sspr_shadow_find((const char *)data, size, "alice", &info);
	if (sspr_shadow_edit((const char *)data, size, "alice", hash, 20000, &out, &outlen) == 0) {
		size_t pre = 0, post = 0;

		/* common prefix and suffix cover all but one line */
		while (pre < size && pre < outlen && data[pre] == (uint8_t)out[pre])
			pre++;
		while (post < size - pre && post < outlen - pre &&
		       data[size - 1 - post] == (uint8_t)out[outlen - 1 - post])
			post++;
		/* the bytes between them lie within one line, in and out */
		if (memchr(data + pre, '\n', size - pre - post) ||
		    memchr(out + pre, '\n', outlen - pre - post))
			abort();
		if (sspr_shadow_find(out, outlen, "alice", &info) != 0 ||
		    strcmp(info.hash, hash) != 0 || info.lastchg != 20000)
			abort();
		free(out);
	}
	return 0;
}
