/* SPDX-License-Identifier: GPL-2.0 */
/* handler.h: the SIGSYS handler, where every trapped call arrives. */
#ifndef SHOAL_JOBSHIM_HANDLER_H
#define SHOAL_JOBSHIM_HANDLER_H

#include "instance/jobshim/sys.h"

/*
 * Install the SIGSYS handler (SA_SIGINFO, the shim's own restorer, every
 * signal but the synchronous faults blocked while it runs). Returns 0 or
 * -errno. Called at every shim start: execve resets handlers.
 */
long handler_install(void);

/*
 * Run host call @nr with @a with the program's signal mask in place, so
 * that a blocking call (wait4, a read of a pipe, pause) is interrupted by the
 * program's signals as it would be without the shim. The program's handlers
 * then run nested in ours, which is safe: the shim holds no lock here.
 */
long handler_host_call(long nr, const long *a, const struct shim_ucontext *uc);

/*
 * A call from a rewritten site (patch.c, through shim_fast_entry): run it as
 * the SIGSYS handler would, with the handler's signal mask while it runs.
 * @regs: the six argument registers, left as they were.
 */
long handler_fast_call(long nr, const long *regs);

/* The blocked mask the handler runs with (every signal but the faults). */
extern const uint64_t handler_mask;

#endif
