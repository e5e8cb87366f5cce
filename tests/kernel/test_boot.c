// SPDX-License-Identifier: GPL-2.0
/*
 * Boot, identity and halt of the library kernel, and the shape of the
 * library: only the API is global in the kernel object.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/kernel/kboot.h"

TEST(boot_and_halt)
{
	kboot();
	CHECK_EQ_INT(skl_is_running(), 1);
	CHECK_EQ_INT(skl_halt(), 0);
	CHECK_EQ_INT(skl_is_running(), 0);
	/* After the halt, calls fail cleanly and a second halt is refused. */
	CHECK_EQ_INT(skl_sys_getpid(), -ENODEV);
	CHECK_EQ_INT(skl_halt(), -ENODEV);
}

TEST(one_kernel_per_process)
{
	kboot();
	CHECK_EQ_INT(skl_boot(NULL), -EALREADY);
	CHECK_EQ_INT(skl_halt(), 0);
}

TEST(bad_boot_params_are_refused)
{
	struct skl_boot_params small = { .mem_bytes = 1024 * 1024 };
	struct skl_boot_params loud = { .loglevel = 9 };

	CHECK_EQ_INT(skl_boot(&small), -EINVAL);
	CHECK_EQ_INT(skl_boot(&loud), -EINVAL);
	CHECK_EQ_INT(skl_is_running(), 0);
}

TEST(uname_says_6_12)
{
	struct skl_new_utsname u;

	kboot();
	memset(&u, 0, sizeof(u));
	SYS_OK(skl_sys_uname(&u));
	CHECK_EQ_STR(u.sysname, "Linux");
	CHECK(strncmp(u.release, "6.12.", 5) == 0);
	CHECK_EQ_INT(skl_halt(), 0);
}

TEST(first_thread_is_in_process_1)
{
	kboot();
	CHECK_EQ_INT(skl_sys_getpid(), 1);
	CHECK(skl_sys_gettid() > 1);
	CHECK_EQ_INT(skl_halt(), 0);
}

TEST(invalid_syscall_is_enosys)
{
	long params[6] = { 0 };

	kboot();
	CHECK_EQ_INT(skl_syscall(100000, params), -ENOSYS);
	CHECK_EQ_INT(skl_syscall(-1, params), -ENOSYS);
	CHECK_EQ_INT(skl_syscall(1000, params), -ENOSYS);
	/* A number inside the table that nothing implements (lookup_dcookie). */
	CHECK_EQ_INT(skl_syscall(18, params), -ENOSYS);
	CHECK_EQ_INT(skl_halt(), 0);
}

TEST(mem_parameter_sets_ram)
{
	struct skl_boot_params params = { .mem_bytes = 32UL << 20, .loglevel = 4 };
	struct skl_sysinfo info;

	skl_posix_set_console_fd(-1);
	CHECK_EQ_INT(skl_boot(&params), 0);
	memset(&info, 0, sizeof(info));
	SYS_OK(skl_sys_sysinfo(&info));
	CHECK(info.totalram * info.mem_unit <= 32UL << 20);
	CHECK(info.totalram * info.mem_unit > 24UL << 20);
	CHECK_EQ_INT(skl_halt(), 0);
}

/* 200 boots, each in a fresh process, all succeed. */
TEST_TIMEOUT(boot_200_fresh_processes, 300)
{
	int i;

	for (i = 0; i < 200; i++) {
		int status;
		pid_t pid = fork();

		CHECK(pid >= 0);
		if (pid == 0) {
			struct skl_new_utsname u;

			skl_posix_set_console_fd(-1);
			if (skl_boot(NULL) || skl_sys_uname(&u) || skl_halt())
				_exit(1);
			_exit(0);
		}
		CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			FAIL("boot %d: status 0x%x", i, status);
	}
}

/* Only the API is global in the kernel object: nothing else can clash. */
TEST(only_api_symbols_are_global)
{
	/* The kernel object does not depend on SANITIZE: always build/kernel. */
	const char *obj = "build/kernel/skl-kernel.o";
	char cmd[512], line[256];
	int n = 0, bad = 0;
	FILE *p;

	CHECK(access(obj, R_OK) == 0);
	snprintf(cmd, sizeof(cmd), "nm -g --defined-only %s", obj);
	p = popen(cmd, "r");
	CHECK(p != NULL);
	while (fgets(line, sizeof(line), p)) {
		char *name = strrchr(line, ' ');

		n++;
		if (!name || strncmp(name + 1, "skl_", 4) != 0) {
			fprintf(stderr, "leaked symbol: %s", line);
			bad++;
		}
	}
	CHECK_EQ_INT(pclose(p), 0);
	CHECK_EQ_INT(bad, 0);
	CHECK(n >= 5);
}

/*
 * A file of this process's /proc opened once, before any boot, and read
 * with pread: the instance's lock-down allows pread, not open.
 */
static int proc_self_fd(const char *name)
{
	static int fds[2] = { -1, -1 };
	int i = strcmp(name, "status") == 0 ? 0 : 1;
	char path[64];

	if (fds[i] < 0) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)getpid(), name);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
	}
	return fds[i];
}

/* Threads of this host process, from the host's /proc. */
static int host_thread_count(void)
{
	char buf[4096], *p;
	int threads = -1;
	ssize_t n = pread(proc_self_fd("status"), buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strstr(buf, "\nThreads:");
	if (p)
		sscanf(p + 1, "Threads: %d", &threads);
	return threads;
}

TEST(halt_leaves_no_host_threads)
{
	int before = host_thread_count(), during;

	CHECK(before >= 1);
	kboot();
	during = host_thread_count();
	CHECK(during > before);
	fprintf(stderr, "host threads: %d before boot, %d booted\n", before, during);
	CHECK_EQ_INT(skl_halt(), 0);
	CHECK_EQ_INT(host_thread_count(), before);
}

/* CPU time of this process (utime + stime of /proc/self/stat), in us. */
static long cpu_us(void)
{
	char buf[1024], *p;
	unsigned long ut = 0, st = 0;
	ssize_t n = pread(proc_self_fd("stat"), buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strrchr(buf, ')'); /* after the command name, which may hold spaces */
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (long)(ut + st) * (1000000L / sysconf(_SC_CLK_TCK));
}

/*
 * An idle kernel burns no CPU: no busy loop, and no periodic tick once the
 * last caller's task is parked. Over one second of host sleep the whole
 * process may use a little (the tick that parks the task, page faults), but
 * a spinning thread would show the full second.
 */
TEST(idle_kernel_uses_no_cpu)
{
	long before, used;

	CHECK(proc_self_fd("stat") >= 0);
	kboot();
	SYS_OK(skl_sys_getpid());
	ksleep_ms(100); /* let boot-time work settle */
	before = cpu_us();
	ksleep_ms(1000);
	used = cpu_us() - before;
	fprintf(stderr, "CPU used while idle for 1 s: %ld us\n", used);
	CHECK(used < 50 * 1000);
	CHECK_EQ_INT(skl_halt(), 0);
}
