// SPDX-License-Identifier: GPL-2.0
/*
 * boot-one: one library-kernel instance for boot-bench. It boots Shoal's
 * library kernel with its console off, makes one system call, and reports on
 * stdout, in one line, the CLOCK_MONOTONIC moments it reached main(), got the
 * kernel back from skl_boot() and had that first system call answered, plus
 * the CPU time the process had used by then. It then blocks on stdin so the
 * benchmark can read its memory and threads while it sits booted, and on a
 * line (or end of input) halts the kernel, timing skl_halt() from inside.
 *
 *	ready main_ns=N booted_ns=N answered_ns=N cpu_us=N getpid=1
 *	halted halt_ns=N
 *
 * CLOCK_MONOTONIC is one clock for every process on the host, so the parent
 * can subtract its own timestamp taken just before it let this process exec.
 * Run by hand: `echo | build/tests/bench/boot-one`.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <skl.h>

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* User + system CPU time of every thread of this process, dead ones included. */
static int64_t cpu_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return -1;
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_usec;
}

int main(void)
{
	int64_t main_ns = now_ns(), booted_ns, answered_ns, halt_start;
	char line[64];
	long ret, pid;

	/* The console would cost a host write per kernel message: the benchmark
	 * measures the kernel, not the terminal. */
	skl_posix_set_console_fd(-1);
	ret = skl_boot(NULL);
	booted_ns = now_ns();
	if (ret) {
		printf("error skl_boot=%ld (%s)\n", ret, strerror((int)-ret));
		return 1;
	}
	pid = skl_sys_getpid();
	answered_ns = now_ns();
	if (pid < 0) {
		printf("error getpid=%ld (%s)\n", pid, strerror((int)-pid));
		return 1;
	}
	printf("ready main_ns=%lld booted_ns=%lld answered_ns=%lld cpu_us=%lld getpid=%ld\n",
	       (long long)main_ns, (long long)booted_ns, (long long)answered_ns,
	       (long long)cpu_us(), pid);
	fflush(stdout);

	/* Sit booted until told to halt; end of input counts as the signal too,
	 * so a benchmark that died does not leave us waiting forever. */
	while (read(STDIN_FILENO, line, sizeof(line)) < 0 && errno == EINTR)
		;

	halt_start = now_ns();
	ret = skl_halt();
	if (ret) {
		printf("error skl_halt=%ld (%s)\n", ret, strerror((int)-ret));
		return 1;
	}
	printf("halted halt_ns=%lld\n", (long long)(now_ns() - halt_start));
	return 0;
}
