/* SPDX-License-Identifier: GPL-2.0 */
/* sig.h: the program's signal calls, with SIGSYS kept for the shim. */
#ifndef SHOAL_JOBSHIM_SIG_H
#define SHOAL_JOBSHIM_SIG_H

#include "instance/jobshim/sys.h"

/* rt_sigaction: SIGSYS is pretend-stored; other masks lose SIGSYS. */
long sig_action(const long *a);

/*
 * rt_sigprocmask: edits the mask saved in @uc, which rt_sigreturn restores
 * when the handler returns (changing the live mask would be undone then).
 */
long sig_procmask(const long *a, struct shim_ucontext *uc);

/*
 * For calls that take a signal mask (ppoll, pselect6, epoll_pwait[2],
 * rt_sigsuspend, rt_sigtimedwait, signalfd4): copy the mask into @masks
 * without SIGSYS and point @a at the copy. Returns 0 or -errno (-EINVAL for
 * a mask size other than 8).
 */
long sig_strip_call_masks(long nr, long *a, uint64_t masks[3]);

/* A SIGSYS that did not come from seccomp (kill -SYS): act on the
 * program's pretend disposition: ignore, or die of SIGSYS. */
void sig_foreign_sigsys(struct shim_ucontext *uc);

/*
 * The mask a forwarded call sleeps with, given the program's own: what the
 * program blocked, every signal it has a handler for, and SIGSYS. So only
 * signals whose action is the default (terminate, stop) or ignore act
 * during the wait; one with a handler makes the shim cancel the call
 * (slot.c), and runs once the call has returned.
 */
uint64_t sig_wait_mask(uint64_t prog_mask);

/* Is a signal pending that the program handles and does not block? */
int sig_should_interrupt(uint64_t prog_mask);

/*
 * A call that was interrupted for a signal: does it start again after the
 * handler (every pending handled signal has SA_RESTART, or none is left)
 * rather than fail with EINTR?
 */
int sig_restarts(uint64_t prog_mask);

#endif
