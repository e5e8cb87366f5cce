// SPDX-License-Identifier: GPL-2.0
/*
 * Failure stays inside the instance and says what it was: a kernel panic and
 * a failed boot after configure end the process with a `fatal` message and a
 * matching exit status; a boot that hangs is ended by the watchdog; a
 * configure that cannot work is refused up front and changes nothing; SIGTERM
 * shuts the instance down cleanly, cgroup included.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/instance/tinst.h"

/* Configure @cfg, expect ok, then fatal of @reason within @timeout_ms; exit status @status. */
static void expect_fatal(struct tinst *t, struct proto_msg *cfg, const int *fds, size_t nfds,
			 enum proto_fatal_reason reason, const char *text, int timeout_ms,
			 int status)
{
	struct proto_msg msg;
	uint64_t id = tinst_send(t, cfg, fds, nfds);
	char dir[256];

	tinst_expect_ok(t, &msg, id, PROTO_CONFIGURE, 10000);
	proto_msg_free(&msg);
	tinst_expect(t, &msg, PROTO_FATAL, timeout_ms);
	printf("fatal: %s\n", msg.fatal.message);
	CHECK_EQ_INT(msg.fatal.reason, reason);
	CHECK(strstr(msg.fatal.message, text) != NULL);
	proto_msg_free(&msg);
	tinst_expect_eof(t, 5000);
	CHECK(tinst_wait_exit(t, 5000));
	CHECK(WIFEXITED(t->status));
	CHECK_EQ_INT(WEXITSTATUS(t->status), status);
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup/pids/shoal/%s", t->id);
	CHECK(access(dir, F_OK) != 0);
}

TEST(a_kernel_panic_is_reported_as_fatal)
{
	struct proto_msg cfg;
	struct tinst t;

	tinst_require_root();
	tinst_spawn(&t, NULL);
	tinst_hello(&t);
	tinst_configure_init(&t, &cfg);
	/* No init to run: the kernel panics late in its boot, as a real one would. */
	cfg.configure.kernel_cmdline = "rdinit=/nonexistent";
	expect_fatal(&t, &cfg, NULL, 0, PROTO_FATAL_PANIC, "Kernel panic - not syncing", 20000, 4);
}

TEST(a_failed_mount_after_configure_is_boot_failed)
{
	struct proto_msg cfg;
	struct tinst t;
	int fd;

	tinst_require_root();
	/* An image of zeros: no file system the kernel can mount. */
	fd = memfd_create("zeros", MFD_CLOEXEC);
	CHECK(fd >= 0 && ftruncate(fd, 8 << 20) == 0);
	tinst_spawn(&t, NULL);
	tinst_hello(&t);
	tinst_configure_init(&t, &cfg);
	cfg.configure.disks[0].fd = 0;
	cfg.configure.disks[0].mount_point = "/data";
	cfg.configure.disks[0].fstype = "ext4";
	cfg.configure.ndisks = 1;
	expect_fatal(&t, &cfg, &fd, 1, PROTO_FATAL_BOOT_FAILED, "mount /dev/vda", 20000, 3);
	close(fd);
}

TEST(an_fstype_the_kernel_lacks_is_boot_failed)
{
	struct proto_msg cfg;
	struct tinst t;
	int fd;

	tinst_require_root();
	fd = memfd_create("zeros", MFD_CLOEXEC);
	CHECK(fd >= 0 && ftruncate(fd, 8 << 20) == 0);
	tinst_spawn(&t, NULL);
	tinst_hello(&t);
	tinst_configure_init(&t, &cfg);
	cfg.configure.disks[0].fd = 0;
	cfg.configure.disks[0].mount_point = "/data";
	cfg.configure.disks[0].fstype = "xfs";
	cfg.configure.ndisks = 1;
	expect_fatal(&t, &cfg, &fd, 1, PROTO_FATAL_BOOT_FAILED, "has no xfs", 20000, 3);
	close(fd);
}

TEST_TIMEOUT(a_panic_before_the_console_is_reported_as_fatal, 90)
{
	struct proto_msg cfg;
	struct tinst t;

	tinst_require_root();
	tinst_spawn(&t, NULL);
	tinst_hello(&t);
	tinst_configure_init(&t, &cfg);
	/*
	 * More RAM than RLIMIT_AS lets the process map (memory, 1 GiB and 192
	 * MiB per job that may run: about 4 GiB here): the kernel panics in
	 * its first steps, before its console exists. kernel-lib registers its
	 * panic hook first of all, so this is still a prompt "panic" report
	 * (with no console text to quote), not a hang for the watchdog.
	 */
	cfg.configure.kernel_cmdline = "mem=65536M";
	expect_fatal(&t, &cfg, NULL, 0, PROTO_FATAL_PANIC, "panicked", 40000, 4);
}

/*
 * A mem= in kernel_cmdline wins over memory_mib (it comes after): the RAM
 * the instance mapped ahead for memory_mib is given back and the kernel gets
 * the size it asked for.
 */
TEST(mem_in_kernel_cmdline_wins_over_memory_mib)
{
	struct proto_msg cfg, ready, stats;
	struct tinst t;

	tinst_require_root();
	tinst_spawn(&t, NULL);
	tinst_hello(&t);
	tinst_configure_init(&t, &cfg);
	cfg.configure.kernel_cmdline = "mem=96M";
	tinst_boot(&t, &cfg, NULL, 0, &ready);
	proto_msg_free(&ready);
	tinst_stats(&t, &stats);
	printf("kernel memory: %llu bytes\n",
	       (unsigned long long)stats.ok.stats.memory.kernel_total_bytes);
	CHECK(stats.ok.stats.memory.kernel_total_bytes > 64ull << 20 &&
	      stats.ok.stats.memory.kernel_total_bytes <= 96ull << 20);
	proto_msg_free(&stats);
	tinst_shutdown(&t);
}

TEST(a_configure_that_cannot_work_is_refused_and_changes_nothing)
{
	struct proto_msg cfg, ready;
	struct tinst t;
	uint64_t id;
	int pipefd[2];

	tinst_require_root();
	tinst_spawn(&t, NULL);
	tinst_hello(&t);
	/* Less memory than the library kernel boots with. */
	tinst_configure_init(&t, &cfg);
	cfg.configure.memory_mib = 8;
	id = tinst_send(&t, &cfg, NULL, 0);
	tinst_expect_error(&t, id, PROTO_ERR_BAD_REQUEST, 5000);
	/* A disk image that does not exist. */
	tinst_configure_init(&t, &cfg);
	cfg.configure.disks[0].path = "/nonexistent/shoal-test.img";
	cfg.configure.disks[0].mount_point = "/data";
	cfg.configure.disks[0].fstype = "ext4";
	cfg.configure.ndisks = 1;
	id = tinst_send(&t, &cfg, NULL, 0);
	tinst_expect_error(&t, id, PROTO_ERR_NOT_FOUND, 5000);
	/* A "packet socket" that is a pipe. */
	CHECK(pipe(pipefd) == 0);
	tinst_configure_init(&t, &cfg);
	cfg.configure.has_network = true;
	cfg.configure.network.fd = 0;
	cfg.configure.network.mac[0] = 0x02;
	cfg.configure.network.mac[5] = 0x01;
	id = tinst_send(&t, &cfg, &pipefd[0], 1);
	tinst_expect_error(&t, id, PROTO_ERR_BAD_REQUEST, 5000);
	close(pipefd[0]);
	close(pipefd[1]);
	/* A disk passed read-only that is not configured read_only. */
	{
		int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

		tinst_configure_init(&t, &cfg);
		cfg.configure.disks[0].fd = 0;
		cfg.configure.disks[0].mount_point = "/data";
		cfg.configure.disks[0].fstype = "ext4";
		cfg.configure.ndisks = 1;
		id = tinst_send(&t, &cfg, &fd, 1);
		tinst_expect_error(&t, id, PROTO_ERR_BAD_REQUEST, 5000);
		close(fd);
	}
	/* Still new, still configurable. */
	tinst_configure_init(&t, &cfg);
	tinst_boot(&t, &cfg, NULL, 0, &ready);
	proto_msg_free(&ready);
	tinst_shutdown(&t);
}

TEST(sigterm_shuts_the_instance_down)
{
	struct tinst t;
	char dir[256];

	tinst_require_root();
	tinst_start(&t, NULL, NULL);
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup/pids/shoal/%s", t.id);
	CHECK(kill(t.pid, SIGTERM) == 0);
	tinst_expect_eof(&t, 5000);
	CHECK(tinst_wait_exit(&t, 5000));
	CHECK(WIFEXITED(t.status));
	CHECK_EQ_INT(WEXITSTATUS(t.status), 0);
	CHECK(access(dir, F_OK) != 0);
}

TEST(a_fatal_signal_is_reported_before_the_exit)
{
	struct proto_msg msg;
	struct tinst t;

	tinst_require_root();
	tinst_start(&t, NULL, NULL);
	/* As if the instance had faulted: the same handler runs. */
	CHECK(kill(tinst_inner_pid(&t), SIGBUS) == 0);
	tinst_expect(&t, &msg, PROTO_FATAL, 5000);
	printf("fatal: %s\n", msg.fatal.message);
	CHECK_EQ_INT(msg.fatal.reason, PROTO_FATAL_SIGNAL);
	CHECK_EQ_INT(msg.fatal.signal, SIGBUS);
	CHECK(strstr(msg.fatal.message, "SIGBUS") != NULL);
	proto_msg_free(&msg);
	tinst_expect_eof(&t, 5000);
	CHECK(tinst_wait_exit(&t, 5000));
	CHECK(WIFEXITED(t.status));
	CHECK_EQ_INT(WEXITSTATUS(t.status), 128 + SIGBUS);
}

TEST(a_cgroup_in_use_under_the_same_name_is_refused)
{
	struct proto_msg cfg, ready;
	struct tinst t;
	char dir[256], procs[300], pid[32];
	uint64_t id;
	pid_t sleeper;
	FILE *f;

	tinst_require_root();
	tinst_spawn(&t, NULL);
	tinst_hello(&t);
	/* Someone else's process already lives in a cgroup of that name. */
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup/pids/shoal/%s", t.id);
	if (access("/sys/fs/cgroup/pids", F_OK))
		SKIP("no cgroup v1 pids hierarchy on this host");
	mkdir("/sys/fs/cgroup/pids/shoal", 0755);
	CHECK(mkdir(dir, 0755) == 0);
	sleeper = fork();
	if (sleeper == 0) {
		pause();
		_exit(0);
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	f = fopen(procs, "w");
	CHECK(f != NULL);
	snprintf(pid, sizeof(pid), "%d", (int)sleeper);
	fputs(pid, f);
	CHECK(fclose(f) == 0);
	tinst_configure_init(&t, &cfg);
	id = tinst_send(&t, &cfg, NULL, 0);
	tinst_expect_error(&t, id, PROTO_ERR_EXISTS, 5000);
	/* Gone again: the configure goes through, and the leftover is replaced. */
	kill(sleeper, SIGKILL);
	waitpid(sleeper, NULL, 0);
	tinst_configure_init(&t, &cfg);
	tinst_boot(&t, &cfg, NULL, 0, &ready);
	proto_msg_free(&ready);
	tinst_shutdown(&t);
	CHECK(access(dir, F_OK) != 0);
}
