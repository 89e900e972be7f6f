/* SPDX-License-Identifier: BSD-2-Clause */
/* sspr.conf parser: any text parses or reports errors; never crashes. */
#include "sspr/config.h"
#include "sspr/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void diag(void *ud, const char *msg)
{
	(void)msg;
	(*(unsigned *)ud)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sspr_config c;
	unsigned errors = 0;
	int r;

	if (size > SSPR_CONF_MAX)
		return 0;
	if (sspr_config_defaults(&c) == 0) {
		r = sspr_config_parse(&c, (const char *)data, size, "fuzz.conf", diag, &errors);
		/* an error return always comes with a message, and vice versa */
		if ((r == -SSPR_E_CONFIG) != (errors > 0))
			abort();
	}
	sspr_config_free(&c);
	return 0;
}
