// SPDX-License-Identifier: GPL-2.0
/* Finding the programs a benchmark's peers need (see program.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/bench/program.h"

bool bench_find_program(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char dirs[4096], *dir, *save = NULL;

	if (strchr(name, '/')) {
		snprintf(out, len, "%s", name);
		return access(out, X_OK) == 0;
	}
	/* A $PATH longer than this is cut, as if its last entries were not there. */
	snprintf(dirs, sizeof(dirs), "%s",
		 path && *path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
	for (dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save))
		if ((size_t)snprintf(out, len, "%s/%s", dir, name) < len && access(out, X_OK) == 0)
			return true;
	return false;
}
