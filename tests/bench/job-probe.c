// SPDX-License-Identifier: GPL-2.0
/*
 * job-probe: the per-call cost of system calls, printed as one JSON line.
 * job-bench runs it twice: natively and as a job inside an instance (it is
 * static, so the same binary runs from the instance's /tmp). Each figure is
 * the best of three timed loops of N calls, in nanoseconds per call:
 *   pipe_call_ns  a 1-byte write, then a 1-byte read, on one pipe (in a job:
 *                 both forwarded to the instance kernel);
 *   getppid_ns    getppid (in a job: a host call the seccomp filter lets
 *                 through without a trap);
 *   trapped_host_ns  getpriority (in a job: trapped, run on the host by the
 *                 shim's handler).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	double best[3] = { 1e18, 1e18, 1e18 };
	int fds[2], round, kind;
	char c = 'x';

	if (n < 1 || pipe(fds))
		return 1;
	for (round = 0; round < 3; round++) {
		for (kind = 0; kind < 3; kind++) {
			double t = now_ns(), dt;
			long i;

			for (i = 0; i < n; i++) {
				if (kind == 0) {
					if (write(fds[1], &c, 1) != 1 || read(fds[0], &c, 1) != 1)
						return 2;
				} else if (kind == 1) {
					syscall(SYS_getppid);
				} else {
					getpriority(PRIO_PROCESS, 0);
				}
			}
			dt = (now_ns() - t) / (double)n / (kind == 0 ? 2 : 1);
			if (dt < best[kind])
				best[kind] = dt;
		}
	}
	printf("{\"pipe_call_ns\": %.1f, \"getppid_ns\": %.1f, \"trapped_host_ns\": %.1f}\n",
	       best[0], best[1], best[2]);
	return 0;
}
