/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_SKL_SYSCALL_H
#define _ASM_SKL_SYSCALL_H

#include <linux/err.h>
#include <linux/sched.h>

/*
 * System calls enter from host threads with their arguments in a host
 * array, not in saved registers; tracers (ptrace) see nothing.
 */
struct task_struct;
struct pt_regs;

static inline int syscall_get_nr(struct task_struct *task, struct pt_regs *regs)
{
	return -1;
}

static inline void syscall_rollback(struct task_struct *task,
				    struct pt_regs *regs)
{
}

static inline long syscall_get_error(struct task_struct *task,
				     struct pt_regs *regs)
{
	return 0;
}

static inline long syscall_get_return_value(struct task_struct *task,
					    struct pt_regs *regs)
{
	return 0;
}

static inline void syscall_set_return_value(struct task_struct *task,
					    struct pt_regs *regs,
					    int error, long val)
{
}

static inline void syscall_get_arguments(struct task_struct *task,
					 struct pt_regs *regs,
					 unsigned long *args)
{
	memset(args, 0, 6 * sizeof(*args));
}

static inline int syscall_get_arch(struct task_struct *task)
{
	return 0;
}

#endif
