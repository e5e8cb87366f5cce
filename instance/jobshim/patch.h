/* SPDX-License-Identifier: GPL-2.0 */
/*
 * patch.h: rewriting a program's hot system call sites into calls of the
 * shim (patch.c), so that they stop paying for a SIGSYS.
 */
#ifndef SHOAL_JOBSHIM_PATCH_H
#define SHOAL_JOBSHIM_PATCH_H

#include <stdint.h>

/*
 * Call @nr trapped at @ip (the address after its `syscall` instruction), in
 * the SIGSYS handler after the call ran. A site that traps often enough and
 * has the shape `mov $nr, %eax; syscall` in read-only program text is
 * rewritten to jump to a stub that calls shim_fast_entry (start.S).
 */
void patch_consider(unsigned long ip, long nr);

/* Off for this process and its children (SHOAL_SHIM_PATCH=0, tests). */
void patch_disable(void);

/* Sites rewritten by this process (SHOAL_SHIM_DEBUG). */
unsigned long patch_count(void);

/* The child of a fork: its lock starts free (no other thread exists). */
void patch_after_fork(void);

#endif
