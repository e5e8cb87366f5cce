// SPDX-License-Identifier: GPL-2.0
/*
 * System call entry from host threads. skl_syscall takes the CPU, makes the
 * calling thread drive its own host task (created on first use, bound to
 * the thread through a host TLS key), runs the call from the generic table
 * and parks the task again. No thread hand-off happens when the kernel has
 * nothing else to run but the wake-up of the idle task that schedules the
 * host task in and out.
 */
#include <linux/kernel.h>
#include <linux/syscalls.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/sched/signal.h>
#include <linux/task_work.h>
#include <linux/signal.h>
#include <linux/err.h>
#include <linux/mman.h>
#include <asm/skl.h>

typedef long (*syscall_fn)(long, long, long, long, long, long);

/* Entries the generic table names but only architectures define. */
SYSCALL_DEFINE6(mmap, unsigned long, addr, unsigned long, len,
		unsigned long, prot, unsigned long, flags,
		unsigned long, fd, off_t, offset)
{
	if (offset & ~PAGE_MASK)
		return -EINVAL;
	return ksys_mmap_pgoff(addr, len, prot, flags, fd,
			       offset >> PAGE_SHIFT);
}

SYSCALL_DEFINE0(rt_sigreturn)
{
	return -ENOSYS;	/* no user-mode signal frames */
}

#undef __SYSCALL
#define __SYSCALL(nr, call) [nr] = (syscall_fn)(call),
#define __SYSCALL_WITH_COMPAT(nr, native, compat) __SYSCALL(nr, native)

static const syscall_fn syscall_table[__NR_syscalls] = {
	[0 ... __NR_syscalls - 1] = (syscall_fn)sys_ni_syscall,
#include <asm/syscall_table_64.h>
};

/* Flags for skl_thread_new_task. */
#define SKL_TASK_NEW_PROCESS	1UL

static struct skl_tls_key *task_key;

static unsigned long clone_flags_for(unsigned long flags)
{
	if (flags & SKL_TASK_NEW_PROCESS)
		return CLONE_VM;	/* own pid, fd table and cwd */
	/* a thread of host0: shares fds, cwd and signal handlers */
	return CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
	       CLONE_THREAD | CLONE_SYSVSEM;
}

struct syscall_call {
	long nr;
	long *params;
	long ret;
	bool create;			/* make the caller a new task */
	unsigned long task_flags;	/* ... with these SKL_TASK_* flags */
	struct skl_jmp_buf abort;
};

static long run_syscall(long nr, long *p)
{
	long ret;

	if (nr < 0 || nr >= __NR_syscalls)
		return -ENOSYS;
	ret = syscall_table[nr](p[0], p[1], p[2], p[3], p[4], p[5]);

	/* What a return to user mode would do: deferred fput and friends. */
	if (unlikely(task_work_pending(current)))
		task_work_run();
	/* No signal frames to deliver to: drop what arrived, and never leak
	 * the kernel-internal restart codes. */
	if (unlikely(signal_pending(current)))
		flush_signals(current);
	if (ret == -ERESTARTSYS || ret == -ERESTARTNOINTR ||
	    ret == -ERESTARTNOHAND || ret == -ERESTART_RESTARTBLOCK)
		ret = -EINTR;
	return ret;
}

/* Runs inside jmp_buf_set so that a halt can return the caller at once. */
static void syscall_body(void *arg)
{
	struct syscall_call *call = arg;
	struct task_struct *task = NULL;

	task = skl_ops->tls_get(task_key);
	if (task && call->create) {
		call->ret = -EBUSY;
		skl_cpu_put_borrowed();
		return;
	}
	if (task) {
		skl_task_enter(task, false, &call->abort);
	} else {
		skl_task_enter(skl_host0(), false, &call->abort);
		task = skl_host_task_create(clone_flags_for(call->task_flags));
		if (IS_ERR(task)) {
			call->ret = PTR_ERR(task);
			skl_task_leave(skl_host0());
			return;
		}
		skl_ops->tls_set(task_key, task);
		skl_task_enter(task, true, &call->abort);
	}

	call->ret = run_syscall(call->nr, call->params);
	task->thread.abort = NULL;
	skl_task_park(task);
}

static long syscall_call(struct syscall_call *call)
{
	call->ret = -ENODEV;
	if (skl_cpu_get())
		return -ENODEV;
	skl_ops->jmp_buf_set(&call->abort, syscall_body, call);
	return call->ret;
}

/**
 * skl_syscall - make a system call in the library kernel
 * @nr: number from the generic table (__SKL__NR_*)
 * @params: six arguments
 *
 * The calling thread gets a kernel task of its own on its first call (a
 * thread of host0, sharing its fd table) unless skl_thread_new_task made
 * one. Returns what the kernel returned (-errno on failure), -ENOSYS for
 * an unknown number, -ENODEV once the kernel halted.
 */
long skl_syscall(long nr, long *params)
{
	struct syscall_call call = { .nr = nr, .params = params };

	if (nr < 0 || nr >= __NR_syscalls)
		return -ENOSYS;
	return syscall_call(&call);
}

/**
 * skl_thread_new_task - give the calling thread its own kernel task now
 * @flags: 0 for a thread of host0 (shared fd table and cwd), or
 *         SKL_TASK_NEW_PROCESS for a new process with copies of them
 *
 * Returns the new task's pid, -EBUSY if the thread already has a task.
 */
long skl_thread_new_task(unsigned long flags)
{
	long params[6] = { 0 };
	struct syscall_call call = { .nr = __NR_gettid, .params = params,
				     .create = true, .task_flags = flags };

	if (flags & ~SKL_TASK_NEW_PROCESS)
		return -EINVAL;
	return syscall_call(&call);
}

static void exit_body(void *arg)
{
	struct syscall_call *call = arg;
	struct task_struct *task = skl_ops->tls_get(task_key);

	skl_task_enter(task, false, &call->abort);
	skl_ops->tls_set(task_key, NULL);
	put_task_struct(task);
	task->thread.leave = &call->abort;
	do_exit(0);
}

/**
 * skl_thread_exit_task - end the calling thread's kernel task
 *
 * Its files are closed if it was the last user. Runs on its own when a
 * thread that has a task exits. Returns 0, or -ENOENT if it had none.
 */
long skl_thread_exit_task(void)
{
	struct syscall_call call = { .ret = 0 };

	if (!task_key || !skl_ops->tls_get(task_key))
		return -ENOENT;
	if (skl_cpu_get())
		return -ENODEV;
	skl_ops->jmp_buf_set(&call.abort, exit_body, &call);
	return 0;
}

static void task_key_destructor(void *task)
{
	/* The host clears the key before calling us; put it back so that
	 * skl_thread_exit_task finds the task. */
	if (skl_ops->tls_set(task_key, task) == 0)
		skl_thread_exit_task();
}

static int __init task_key_init(void)
{
	task_key = skl_ops->tls_alloc(task_key_destructor);
	return task_key ? 0 : -ENOMEM;
}
early_initcall(task_key_init);
