// SPDX-License-Identifier: GPL-2.0
/* Small arch hooks: the idle loop's wait, stack dumps, register dumps. */
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/sched/debug.h>
#include <linux/sched/task.h>
#include <linux/sched/signal.h>
#include <linux/cpu.h>
#include <linux/printk.h>
#include <linux/ptrace.h>
#include <linux/regset.h>
#include <linux/seq_file.h>
#include <linux/io.h>
#include <asm/skl.h>

/*
 * Entered with IRQs off. Like a halt instruction, let IRQs in and sleep
 * until there is something to do: the CPU lock is freed so that system
 * calls, timers and devices can take it, and the thread that makes work
 * runnable hands it back (cpu.c).
 */
void arch_cpu_idle(void)
{
	skl_irq_flags = ARCH_IRQ_ENABLED;
	skl_cpu_idle_wait();
	if (init_task.thread.exit_now)
		skl_ops->thread_exit();
	skl_irq_flags = ARCH_IRQ_DISABLED;
}

void show_stack(struct task_struct *task, unsigned long *sp,
		const char *loglvl)
{
	printk("%sCall trace not available (host thread %lx)\n", loglvl,
	       task ? task->thread.host_id : 0UL);
}

void show_regs(struct pt_regs *regs)
{
	show_regs_print_info(KERN_DEFAULT);
}

/* No user mode, so nothing to trace: ptrace requests fail. */
long arch_ptrace(struct task_struct *child, long request, unsigned long addr,
		 unsigned long data)
{
	return -EIO;
}

void ptrace_disable(struct task_struct *child)
{
}

const struct user_regset_view *task_user_regset_view(struct task_struct *task)
{
	return NULL;
}

static int cpuinfo_show(struct seq_file *m, void *v)
{
	seq_printf(m, "processor\t: 0\nmodel name\t: skl library kernel\n");
	return 0;
}

static void *cpuinfo_start(struct seq_file *m, loff_t *pos)
{
	return *pos == 0 ? (void *)1 : NULL;
}

static void *cpuinfo_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return NULL;
}

static void cpuinfo_stop(struct seq_file *m, void *v)
{
}

const struct seq_operations cpuinfo_op = {
	.start	= cpuinfo_start,
	.next	= cpuinfo_next,
	.stop	= cpuinfo_stop,
	.show	= cpuinfo_show,
};

int skl_iomem_access(const volatile void __iomem *addr, void *val, int size,
		     int write)
{
	int ret = skl_ops->iomem_access((unsigned long)addr, val, size, write);

	if (ret && !write)
		memset(val, 0xff, size);
	return ret;
}

/*
 * For a debugger attached to a wedged kernel: `call skl_debug_dump()` then
 * `x/s skl_debug_buf` shows every task's state and the host side of it.
 * Reads without locks: a snapshot for people, never used by the kernel.
 */
char skl_debug_buf[16384];
void skl_debug_dump(void);
void skl_debug_dump(void)
{
	struct task_struct *g, *t;
	int n;

	n = scnprintf(skl_debug_buf, sizeof(skl_debug_buf),
		      "current %d need_resched %d cpu owner %lx\n", current->pid, need_resched(),
		      skl_cpu_owner());
	for_each_process_thread(g, t) {
		n += scnprintf(skl_debug_buf + n, sizeof(skl_debug_buf) - n,
			       "%d/%d %s %px state %x on_rq %d ctx %d sem %px host %lx det %d leave %d exit %x\n",
			       t->tgid, t->pid, t->comm, t, READ_ONCE(t->__state), t->on_rq,
			       t->thread.ctx != NULL, t->thread.sem, t->thread.host_id,
			       t->thread.detached, t->thread.leave != NULL, t->exit_state);
	}
}
