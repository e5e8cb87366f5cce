/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
#ifndef _UAPI_ASM_SKL_PTRACE_H
#define _UAPI_ASM_SKL_PTRACE_H

/*
 * There is no user mode and so no saved user registers: the caller of a
 * system call keeps its own registers on its own host thread.
 */
struct user_regs_struct {
	unsigned long unused;
};

#endif
