/* SPDX-License-Identifier: GPL-2.0 */
/* thread.h: which slot each host thread of the process uses (thread.c). */
#ifndef SHOAL_JOBSHIM_THREAD_H
#define SHOAL_JOBSHIM_THREAD_H

#include <stdint.h>

#include "instance/job_abi.h"

/*
 * The slot of the calling thread; a thread seen for the first time asks the
 * instance for one (SHOAL_LINK_THREAD). Returns NULL when no slot can be
 * had (the instance is gone, or SHOAL_SLOTS_MAX threads are alive). Sets
 * *@index to the slot number when @index is not NULL, *@prog_mask to the
 * mask thread_set_prog_mask() last stored when @prog_mask is not NULL.
 */
struct shoal_slot *thread_slot(unsigned int *index, uint64_t *prog_mask);

/*
 * Remember the program's own signal mask for the calling thread's next
 * forwarded call (slot.c waits with it, and knows from it which signals may
 * interrupt the call); registers the thread if needed. Returns 0, or -EIO
 * when it cannot have a slot.
 */
long thread_set_prog_mask(uint64_t mask);

/* The calling thread ends: release its slot (SHOAL_LINK_THREAD_EXIT). */
void thread_exit(void);

/* The caller's host tid, from a cache keyed by its thread pointer (%fs). */
int32_t thread_tid(void);
/* Drop cached entries of @tid (its %fs moved, or it ends). */
void thread_forget_tid(int32_t tid);

/* Start afresh with only the calling thread on @slot (start-up, fork). */
void thread_reset(unsigned int slot);

#endif
