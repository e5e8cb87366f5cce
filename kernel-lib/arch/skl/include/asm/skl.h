/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Arch-internal declarations shared by the files of arch/skl/kernel: the
 * host operations table, the CPU lock, IRQs, tasks and time.
 */
#ifndef _ASM_SKL_SKL_H
#define _ASM_SKL_SKL_H

#include <linux/types.h>
#include <skl/host_ops.h>

extern struct skl_host_ops *skl_ops;

struct task_struct;
struct skl_thread;

/* The CPU lock (cpu.c). */
int skl_cpu_init(void);
int skl_cpu_get(void);
int skl_cpu_try_get(void);
void skl_cpu_put(void);
void skl_cpu_put_borrowed(void);
int skl_cpu_owned(void);
unsigned long skl_cpu_owner(void);
void skl_cpu_set_owner(unsigned long thread);
void skl_cpu_wake_idle(void);
void skl_cpu_idle_wait(void);
void skl_cpu_kick_idle(void);
void skl_cpu_shutdown(void);
int skl_cpu_is_shutdown(void);
void skl_cpu_relax(void);

/* IRQs (irq.c). */
void skl_run_pending_irqs(void);
int skl_irqs_pending(void);
int skl_trigger_irq(int irq);
int skl_get_free_irq(const char *user);
void skl_put_irq(int irq);

/* Tasks (threads.c). */
extern struct task_struct *skl_switch_last;
int skl_threads_init(void);
void skl_threads_wait_boot(void);
void skl_threads_runner_start(void);
void skl_threads_shutdown(struct skl_thread *runner);
struct task_struct *skl_host0(void);
struct task_struct *skl_host_task_create(unsigned long flags);
void skl_load_user_window(struct task_struct *task);
void skl_task_enter(struct task_struct *task, bool from_current,
		    struct skl_jmp_buf *abort);
void skl_task_leave(struct task_struct *task);
void skl_task_park(struct task_struct *task);

/* Time (time.c). */
void skl_time_shutdown(void);

/* Memory (mem.c). */
extern unsigned long skl_ram_start, skl_ram_size;
void skl_bootmem_init(void);
void skl_bootmem_exit(void);

/* The API (setup.c, syscalls.c); documented where defined. */
long skl_start_kernel(struct skl_host_ops *ops, const char *cmdline);
int skl_is_running(void);
long skl_halt(void);
long skl_syscall(long nr, long *params);
long skl_thread_new_task(unsigned long flags);
long skl_thread_exit_task(void);
long skl_thread_new_task_from(unsigned long flags, long parent_tid);
long skl_task_exec(void);
long skl_task_set_user_window(unsigned long lo, unsigned long hi);

#endif
