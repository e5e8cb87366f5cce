/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cgroup v1 memory controller as boot-bench uses it: one folder of ours
 * under the controller's mount, one child folder per measured instance, so
 * that the peak memory of everything the instance ever ran (every process and
 * thread, the kernel memory they caused, the page cache and shared memory
 * they touched first) is one number, memory.max_usage_in_bytes. The same
 * folder lists the instance's processes, which is how the benchmark finds all
 * of them to sample and, on a timeout, to kill by pid.
 *
 * Every function returns 0 (or a count) or -errno, with a message in @err.
 */
#ifndef SHOAL_TESTS_BENCH_CGROUP_H
#define SHOAL_TESTS_BENCH_CGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "api/error.h"

/* Where the v1 memory controller is mounted on Shoal's hosts. */
#define BENCH_CGROUP_MEMORY "/sys/fs/cgroup/memory"

/*
 * bench_cgroup_create() - make the folder @parent/@name, which must not exist.
 * Writes its path to @path (@len bytes). -ENOENT when @parent is missing (no
 * v1 memory controller), -EACCES/-EPERM when we are not root.
 */
int bench_cgroup_create(const char *parent, const char *name, char *path, size_t len,
			struct shoal_error *err);

/*
 * bench_cgroup_join_self() - move the calling process into @path. Uses only
 * system calls, so a child may call it between fork() and exec(). It costs an
 * RCU grace period on cgroup v1 (about 7 ms here): callers keep it out of any
 * timed span. Returns 0 or -errno (no message: there is nowhere to put one).
 */
int bench_cgroup_join_self(const char *path);

/*
 * bench_cgroup_pids() - the processes in @path (cgroup.procs), at most @max
 * of them in @pids. Returns how many there are (may exceed @max) or -errno.
 */
int bench_cgroup_pids(const char *path, pid_t *pids, int max, struct shoal_error *err);

/* bench_cgroup_read_u64() - the number in the file @path/@file. */
int bench_cgroup_read_u64(const char *path, const char *file, uint64_t *value,
			  struct shoal_error *err);

/* bench_cgroup_kill() - SIGKILL every process listed in @path; returns how many. */
int bench_cgroup_kill(const char *path);

/*
 * bench_cgroup_remove() - empty @path (killing whatever is still in it, by
 * pid) and remove it, retrying for up to @timeout_ms while the host finishes
 * taking the dead processes out. A missing folder is not an error.
 */
int bench_cgroup_remove(const char *path, int timeout_ms, struct shoal_error *err);

#endif /* SHOAL_TESTS_BENCH_CGROUP_H */
