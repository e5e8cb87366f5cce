/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_SKL_UACCESS_H
#define _ASM_SKL_UACCESS_H

/*
 * "User" memory is host memory of the process the kernel lives in, so any
 * address could be copied from. A task whose calls are made on behalf of
 * somebody less trusted (a job's system calls, whose pointers the job
 * chose) gets a window: only [skl_user_lo, skl_user_hi) passes access_ok.
 * __switch_to loads the window of the task it switches to; tasks without
 * one see the whole address space.
 */
extern unsigned long skl_user_lo, skl_user_hi;

static inline int __access_ok(const void __user *ptr, unsigned long size)
{
	unsigned long addr = (unsigned long)ptr;

	return addr >= skl_user_lo && addr <= skl_user_hi &&
	       size <= skl_user_hi - addr;
}
#define __access_ok __access_ok

/* strncpy_from_user and strnlen_user stop at the window's end. */
#define TASK_SIZE_MAX skl_user_hi

#include <asm-generic/uaccess.h>

#endif
