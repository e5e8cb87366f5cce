/* SPDX-License-Identifier: GPL-2.0 */
/*
 * forward_io.h: forwarded calls whose arguments nest pointers or that need
 * the host's help (see forward_io.c), and helpers forward.c shares with it.
 */
#ifndef SHOAL_JOBSHIM_FORWARD_IO_H
#define SHOAL_JOBSHIM_FORWARD_IO_H

#include "instance/jobshim/sys.h"

/* readv/writev family, sendmsg/recvmsg/sendmmsg/recvmmsg, poll, select,
 * epoll_wait family, ioctl, mmap. */
long forward_io(long nr, long *a, struct shim_ucontext *uc);

/* A kernel call with value arguments only, in the caller's slot. */
long fwd_kcall(long nr, long a0, long a1, long a2, long a3, long a4, long a5);

/* Give the host fd @host a placeholder kernel fd; returns it or -errno
 * (the host fd is closed on failure). */
long fwd_placeholder_new(int host, int cloexec);

#endif
