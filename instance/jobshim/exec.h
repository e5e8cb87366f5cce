/* SPDX-License-Identifier: GPL-2.0 */
/* exec.h: process creation, execve and exits under the shim (exec.c). */
#ifndef SHOAL_JOBSHIM_EXEC_H
#define SHOAL_JOBSHIM_EXEC_H

#include "instance/jobshim/sys.h"

/* clone without CLONE_THREAD, fork, vfork: a host fork returning through
 * the handler in both processes. Returns the child's pid, 0, or -errno. */
long exec_fork(long nr, const long *a, struct shim_ucontext *uc);

/* execve, execveat: check the target, then re-execute the shim with it.
 * Returns only on failure (-errno). */
long exec_execve(long nr, const long *a, struct shim_ucontext *uc);

/*
 * readlink/readlinkat of "/proc/self/exe": the program's file, not the
 * shim's (nor, when forwarding, the instance's idea of it). Returns 1 with
 * *@ret set when it answered, 0 for any other path.
 */
int exec_readlink_exe(long nr, const long *a, long *ret);

void exec_exit_thread(int status) __attribute__((noreturn));
void exec_exit_group(int status) __attribute__((noreturn));

#endif
