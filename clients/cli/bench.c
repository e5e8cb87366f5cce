// SPDX-License-Identifier: GPL-2.0
/* shoal bench: written below. */
#include "clients/cli/cli.h"

int cli_bench(struct shoal_client *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	cli_err("bench", "not built yet");
	return CLI_EAPI;
}
