// SPDX-License-Identifier: GPL-2.0
/*
 * What a running instance keeps mapped. Booting runs most of the program's
 * code once; once idle, the instance unmaps its read-only segments
 * (instance/trim.c, control.c) and only the code it runs again comes back. Read from
 * the host in /proc/PID/smaps of the instance process.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/proto.h"
#include "tests/harness.h"
#include "tests/instance/tinst.h"

#define TEXT_WAIT_MS 3000

/* Size and resident size (KiB) of @pid's executable mapping of shoal-instance. */
static void program_text(pid_t pid, unsigned long *size_kib, unsigned long *rss_kib)
{
	char path[64], line[512];
	bool in_text = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		FAIL("open %s", path);
	*size_kib = *rss_kib = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end, kib;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) == 3) {
			in_text = !strcmp(perms, "r-xp") && strstr(line, "/shoal-instance");
			if (in_text)
				*size_kib += (end - start) >> 10;
		} else if (in_text && sscanf(line, "Rss: %lu kB", &kib) == 1) {
			*rss_kib += kib;
		}
	}
	fclose(f);
	if (!*size_kib)
		FAIL("process %d maps no shoal-instance text", (int)pid);
}

TEST(boot_only_code_is_unmapped_once_ready)
{
	unsigned long size, rss = 0;
	struct proto_msg stats;
	struct tinst t;
	pid_t inner;
	int waited;

	tinst_require_root();
	tinst_start(&t, NULL, NULL);
	inner = tinst_inner_pid(&t);
	/*
	 * Booting touches nearly all of the text (88 % measured when it was
	 * kept); an instance idle for INSTANCE_IDLE_TRIM_MS (250 ms) unmaps
	 * it, and what it runs idle afterwards is a fraction. A bounded wait.
	 */
	for (waited = 0; waited < TEXT_WAIT_MS; waited += 50) {
		program_text(inner, &size, &rss);
		if (rss * 2 < size)
			break;
		usleep(50 * 1000);
	}
	printf("instance text: %lu of %lu KiB resident\n", rss, size);
	CHECK(rss * 2 < size);
	/* Code that runs again comes back: the instance still serves. */
	tinst_stats(&t, &stats);
	CHECK(stats.ok.stats.uptime_us > 0);
	proto_msg_free(&stats);
	program_text(inner, &size, &rss);
	printf("after stats: %lu of %lu KiB resident\n", rss, size);
	tinst_shutdown(&t);
}
