// SPDX-License-Identifier: GPL-2.0
/*
 * Many instances at once: 100 locked-down instances are spawned and
 * configured together, all become ready, all answer stats, all shut down,
 * and nothing is left behind (every process reaped with status 0, every
 * cgroup removed). The spread of their
 * ready times is printed for information; nothing here judges time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/instance/tinst.h"

#define MANY 100

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

TEST_TIMEOUT(hundred_instances_at_once, 300)
{
	static struct tinst t[MANY];
	uint64_t total[MANY], ids[MANY];
	uint64_t rss = 0;
	struct proto_msg msg;
	char dir[256];
	int i;

	tinst_require_root();
	for (i = 0; i < MANY; i++)
		tinst_spawn(&t[i], NULL);
	for (i = 0; i < MANY; i++) {
		tinst_hello(&t[i]);
		tinst_configure_init(&t[i], &msg);
		ids[i] = tinst_send(&t[i], &msg, NULL, 0);
	}
	for (i = 0; i < MANY; i++) {
		tinst_expect_ok(&t[i], &msg, ids[i], PROTO_CONFIGURE, 30000);
		proto_msg_free(&msg);
		tinst_expect(&t[i], &msg, PROTO_READY, 60000);
		total[i] = msg.ready.timings.total_us - msg.ready.timings.config_wait_us;
		proto_msg_free(&msg);
	}
	for (i = 0; i < MANY; i++) {
		tinst_stats(&t[i], &msg);
		CHECK(msg.ok.stats.host_syscalls_allowed > 0);
		rss += msg.ok.stats.memory.host_rss_bytes;
		proto_msg_free(&msg);
	}
	qsort(total, MANY, sizeof(total[0]), cmp_u64);
	printf("%d instances ready; configure to ready: median %llu us, p99 %llu us, max "
	       "%llu us; mean RSS %llu KiB\n",
	       MANY, (unsigned long long)total[MANY / 2],
	       (unsigned long long)total[MANY * 99 / 100], (unsigned long long)total[MANY - 1],
	       (unsigned long long)(rss / MANY / 1024));
	for (i = 0; i < MANY; i++) {
		proto_msg_init(&msg, PROTO_SHUTDOWN, 0);
		ids[i] = tinst_send(&t[i], &msg, NULL, 0);
	}
	for (i = 0; i < MANY; i++) {
		tinst_expect_ok(&t[i], &msg, ids[i], PROTO_SHUTDOWN, 30000);
		proto_msg_free(&msg);
		tinst_expect_eof(&t[i], 10000);
		CHECK(tinst_wait_exit(&t[i], 10000));
		CHECK(WIFEXITED(t[i].status) && WEXITSTATUS(t[i].status) == 0);
		tinst_close(&t[i]);
		snprintf(dir, sizeof(dir), "/sys/fs/cgroup/pids/shoal/%s", t[i].id);
		CHECK(access(dir, F_OK) != 0);
		snprintf(dir, sizeof(dir), "/sys/fs/cgroup/memory/shoal/%s", t[i].id);
		CHECK(access(dir, F_OK) != 0);
	}
}
