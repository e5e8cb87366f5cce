/* SPDX-License-Identifier: GPL-2.0 */
/* cpu.h: the calling thread's CPU without a system call (see cpu.c). */
#ifndef SHOAL_JOBSHIM_CPU_H
#define SHOAL_JOBSHIM_CPU_H

/* The CPU number, or -1 when the CPU has neither RDPID nor RDTSCP. A
 * snapshot: the thread may move right after. */
long cpu_current(void);

#endif
