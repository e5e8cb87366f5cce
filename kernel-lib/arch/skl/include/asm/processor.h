/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_SKL_PROCESSOR_H
#define _ASM_SKL_PROCESSOR_H

#ifndef __ASSEMBLY__
#include <skl/host_ops.h>

/*
 * Per-task host state. A kernel thread (and the idle task) is a context
 * that runs on the one "runner" host thread; a host task is driven by
 * whichever application thread made the system call (host_id changes).
 */
struct thread_struct {
	/* Kernel threads and idle: the saved context; NULL for host tasks. */
	struct skl_context *ctx;
	/* Host tasks: the driving host thread sleeps here while the task is
	 * off the CPU; __switch_to wakes it when the task is picked again. */
	struct skl_sem *sem;
	/* thread_self() of the host thread driving a host task. */
	unsigned long host_id;
	/* A host task left current by its driver, which went back to the
	 * application holding nothing: the next call from the same thread
	 * needs no switch at all. */
	int detached;
	/* pid 1 after its "exec" of /init: from its next switch on, a host
	 * task (host0) and no longer a context. */
	int becoming_host;
	/* While set, switching away from this task returns the driving host
	 * thread to this context instead of sleeping on sem: a host task's
	 * caller going back to the application, or a thread that borrowed the
	 * CPU. */
	struct skl_jmp_buf *leave;
	/* The same for the task's last switch, once it is dead: its driver
	 * returns from skl_thread_exit_task. */
	struct skl_jmp_buf *dead_leave;
	/* Kernel thread entry, run when its context is first switched in. */
	int (*fn)(void *);
	void *fn_arg;
	/* Where the driving host thread of a host task escapes to if the
	 * kernel halts while it waits inside a system call. */
	struct skl_jmp_buf *abort;
	/* Set at halt: a host thread woken with it set ends itself (or
	 * escapes through abort). */
	int exit_now;
	/* User memory of this task's system calls: [user_lo, user_hi), or
	 * everything while user_hi is 0 (skl_task_set_user_window). */
	unsigned long user_lo, user_hi;
};

#define INIT_THREAD { }

void skl_cpu_relax(void);

static inline void cpu_relax(void)
{
	/* A loop polling jiffies or a flag set by an IRQ must let IRQs
	 * that other host threads queued run, or it would spin forever. */
	skl_cpu_relax();
}

#define TASK_SIZE	(~0UL)
#define TASK_UNMAPPED_BASE 0
#define STACK_TOP	TASK_SIZE
#define STACK_TOP_MAX	STACK_TOP

#define KSTK_EIP(tsk)	(0)
#define KSTK_ESP(tsk)	(0)

static inline unsigned long __get_wchan(struct task_struct *p)
{
	return 0;
}

static inline void start_thread(void *regs, unsigned long pc,
				unsigned long sp)
{
}

#define current_text_addr() ({ __label__ _l; _l: &&_l; })

#endif /* __ASSEMBLY__ */
#endif
