/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What boot-bench reads about one host process from the host's /proc: its
 * resident and proportional memory (smaps_rollup), its thread count (status),
 * its CPU time in clock ticks (stat) and, for finer figures, the run time and
 * the number of times each of its threads was put on a CPU (schedstat).
 *
 * PSS splits every shared page between the address spaces mapping it, so PSS
 * of several processes adds up honestly; RSS counts shared pages in full for
 * each process and overcounts when summed. Processes that share one address
 * space (clone with CLONE_VM but without CLONE_THREAD, as User-mode Linux's
 * helpers do) each show that whole space: count it once (bench_proc_same_vm).
 */
#ifndef SHOAL_TESTS_BENCH_PROCFS_H
#define SHOAL_TESTS_BENCH_PROCFS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "api/error.h"

struct bench_proc_mem {
	uint64_t rss_kib;
	uint64_t pss_kib;
	uint64_t pss_own_kib; /* Pss_Anon + Pss_Shmem: not file pages another
			       * instance of the same program would share */
};

struct bench_proc_cpu {
	uint64_t ticks; /* utime + stime of every thread, dead ones included */
	uint64_t run_ns; /* schedstat: time on a CPU, threads alive now */
	uint64_t slices; /* schedstat: times put on a CPU (each wake-up is one) */
};

/* bench_proc_mem() - Rss and Pss of @pid from /proc/<pid>/smaps_rollup. */
int bench_proc_mem(pid_t pid, struct bench_proc_mem *mem, struct shoal_error *err);

/* bench_proc_same_vm() - whether @a and @b share one address space (kcmp). */
bool bench_proc_same_vm(pid_t a, pid_t b);

/* bench_proc_threads() - the Threads: line of /proc/<pid>/status. */
int bench_proc_threads(pid_t pid, struct shoal_error *err);

/* bench_proc_cpu() - CPU figures of @pid (struct bench_proc_cpu). */
int bench_proc_cpu(pid_t pid, struct bench_proc_cpu *cpu, struct shoal_error *err);

#endif /* SHOAL_TESTS_BENCH_PROCFS_H */
