/* SPDX-License-Identifier: GPL-2.0 */
/* filter.h: the job's seccomp filter (see filter.c). */
#ifndef SHOAL_JOBSHIM_FILTER_H
#define SHOAL_JOBSHIM_FILTER_H

#include <linux/filter.h>

/*
 * Write the filter's program into @prog (room for @max instructions).
 * Returns its length, or -EINVAL when @max is too small.
 */
long filter_build(struct sock_filter *prog, unsigned int max);

/*
 * Install the filter on the calling thread with seccomp(2) and TSYNC off
 * (the first process has one thread at this point). no_new_privs must be
 * set already. Returns 0 or -errno. The filter is inherited by every thread,
 * child and execve of the job; it cannot be removed.
 */
long filter_install(void);

#endif
