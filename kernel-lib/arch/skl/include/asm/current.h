/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_SKL_CURRENT_H
#define _ASM_SKL_CURRENT_H

#ifndef __ASSEMBLY__
/*
 * One CPU: "current" is the task whose host thread holds the CPU lock (or,
 * while an IRQ runs on a borrowing thread, the task it interrupted). It is
 * changed only by __switch_to, under the CPU lock.
 */
struct task_struct;
extern struct task_struct *skl_current_task;

static __always_inline struct task_struct *get_current(void)
{
	return skl_current_task;
}

#define current get_current()
#endif

#endif
