/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the host kernel accounts to an instance, read from /proc: an instance
 * is a process tree (its monitor, the process hosting its kernel, its jobs),
 * so CPU time, resident memory and threads are summed over the tree rooted at
 * the pid the daemon reports. Used by `shoal stats` and `shoal bench`, which
 * run on the daemon's host (they reach it over a Unix socket).
 */
#ifndef SHOAL_CLI_PROCFS_H
#define SHOAL_CLI_PROCFS_H

#include <stdbool.h>

/* proc_ticks() - user + system clock ticks of @pid; false when it is gone. */
bool proc_ticks(long long pid, unsigned long long *ticks);

/* proc_status() - VmRSS (KiB) and Threads of @pid; -1 each when unknown. */
void proc_status(long long pid, long long *rss_kib, long *threads);

/*
 * proc_tree() - ticks, resident KiB and threads of @pid and its descendants
 * (at most 256 processes). False when @pid itself is gone.
 */
bool proc_tree(long long pid, unsigned long long *ticks, long long *rss_kib, long *threads);

#endif /* SHOAL_CLI_PROCFS_H */
