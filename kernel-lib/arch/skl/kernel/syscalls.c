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
#include <linux/fdtable.h>
#include <linux/pid.h>
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
	/* own pid, fd table and cwd; reaped at exit by a parent ignoring
	 * SIGCHLD (host0, and the job tasks that inherit its actions) */
	if (flags & SKL_TASK_NEW_PROCESS)
		return CLONE_VM | SIGCHLD;
	/* a thread of host0: shares fds, cwd and signal handlers */
	return CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
	       CLONE_THREAD | CLONE_SYSVSEM;
}

struct syscall_call {
	long nr;
	long *params;
	long ret;
	long (*fn)(void);		/* run this instead of nr */
	bool create;			/* make the caller a new task */
	unsigned long task_flags;	/* ... with these SKL_TASK_* flags */
	long parent_tid;		/* ... cloned from this task, not host0 */
	struct skl_jmp_buf abort;
};

static long run_syscall(struct syscall_call *call)
{
	long nr = call->nr, *p = call->params;
	long ret;

	if (call->fn)
		ret = call->fn();
	else if (nr < 0 || nr >= __NR_syscalls)
		return -ENOSYS;
	else
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

/*
 * A new host task for the calling thread, cloned from host0 or from the
 * host task call->parent_tid. Returns holding the CPU as the driver of the
 * task it was cloned from, or with nothing current on error. Borrowing the
 * parent is safe because its own driver is outside the kernel meanwhile
 * (the caller's promise): the parent is parked or switched out, exactly as
 * when another caller's system call switches a parked task away.
 */
static struct task_struct *create_task(struct syscall_call *call)
{
	struct task_struct *parent = skl_host0(), *task;

	skl_task_enter(parent, false, &call->abort);
	if (call->parent_tid) {
		parent = find_get_task_by_vpid(call->parent_tid);
		if (!parent || !parent->thread.sem || parent == current ||
		    (parent->flags & PF_EXITING)) {
			if (parent)
				put_task_struct(parent);
			skl_task_leave(current);
			return ERR_PTR(parent ? -EINVAL : -ESRCH);
		}
		skl_task_enter(parent, true, &call->abort);
		put_task_struct(parent);
	}
	task = skl_host_task_create(clone_flags_for(call->task_flags));
	if (IS_ERR(task))
		skl_task_leave(parent);
	return task;
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
		task = create_task(call);
		if (IS_ERR(task)) {
			call->ret = PTR_ERR(task);
			return;
		}
		skl_ops->tls_set(task_key, task);
		skl_task_enter(task, true, &call->abort);
	}

	call->ret = run_syscall(call);
	task->thread.abort = NULL;
	skl_task_park(task);
}

/*
 * One task creation at a time. Creating borrows host0 (and the parent task)
 * from whatever runs; two creators in flight could both be waiting on
 * host0's semaphore, and the one whose post the other took waited forever
 * (four jobs starting at once wedged the kernel in one run of four). A
 * creation is short and never blocks in the kernel, so a host mutex costs
 * nothing measurable.
 */
static struct skl_mutex *create_lock;

static long syscall_call(struct syscall_call *call)
{
	bool creating = call->create;

	if (creating)
		skl_ops->mutex_lock(create_lock);
	call->ret = -ENODEV;
	if (skl_cpu_get()) {
		if (creating)
			skl_ops->mutex_unlock(create_lock);
		return -ENODEV;
	}
	skl_ops->jmp_buf_set(&call->abort, syscall_body, call);
	if (creating)
		skl_ops->mutex_unlock(create_lock);
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
	/* A first call: the task first (under create_lock), then the call,
	 * which may block, outside it. */
	if (unlikely(task_key && !skl_ops->tls_get(task_key))) {
		long ret = skl_thread_new_task(0);

		if (ret < 0 && ret != -EBUSY)
			return ret;
	}
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

/**
 * skl_thread_new_task_from - give the calling thread a task cloned from another
 * @flags: SKL_TASK_NEW_PROCESS for a new process with copies of the parent's
 *         fd table and cwd (what fork gives a child), or 0 for a thread of
 *         the parent's process (sharing them)
 * @parent_tid: the kernel thread id of a host task whose own driving thread
 *         stays outside the kernel until this returns
 *
 * Returns the new task's thread id, -EBUSY if the thread already has a
 * task, -ESRCH if there is no such task, -EINVAL if it is not a host task.
 */
long skl_thread_new_task_from(unsigned long flags, long parent_tid)
{
	long params[6] = { 0 };
	struct syscall_call call = { .nr = __NR_gettid, .params = params,
				     .create = true, .task_flags = flags,
				     .parent_tid = parent_tid };

	if (flags & ~SKL_TASK_NEW_PROCESS)
		return -EINVAL;
	if (parent_tid <= 0)
		return -ESRCH;
	return syscall_call(&call);
}

static long call_fn(long (*fn)(void))
{
	long params[6] = { 0 };
	struct syscall_call call = { .params = params, .fn = fn };

	return syscall_call(&call);
}

/* What a successful execve does to the files of the task. */
static long task_exec(void)
{
	int err = unshare_files();

	if (err)
		return err;
	do_close_on_exec(current->files);
	return 0;
}

/**
 * skl_task_exec - close the calling thread task's close-on-exec fds
 *
 * What a successful execve does to its fd table (first unshared from
 * threads that may still share it). Returns 0 or -errno.
 */
long skl_task_exec(void)
{
	return call_fn(task_exec);
}

static unsigned long window_lo, window_hi;

static long task_set_window(void)
{
	current->thread.user_lo = window_lo;
	current->thread.user_hi = window_hi;
	skl_load_user_window(current);
	return 0;
}

/**
 * skl_task_set_user_window - restrict what the task's calls see as user memory
 * @lo: first address
 * @hi: end (exclusive), > lo
 *
 * From now on system calls of the calling thread's task (and tasks cloned
 * from it) fail with -EFAULT when given a pointer outside [lo, hi).
 */
long skl_task_set_user_window(unsigned long lo, unsigned long hi)
{
	long params[6] = { 0 };
	struct syscall_call call = { .params = params, .ret = -ENODEV };

	if (hi <= lo)
		return -EINVAL;
	/* The CPU lock serialises every task_set_window: the globals carry
	 * the values into it without a second argument path. */
	if (skl_cpu_get())
		return -ENODEV;
	window_lo = lo;
	window_hi = hi;
	call.fn = task_set_window;
	skl_ops->jmp_buf_set(&call.abort, syscall_body, &call);
	return call.ret;
}

static void exit_body(void *arg)
{
	struct syscall_call *call = arg;
	struct task_struct *task = skl_ops->tls_get(task_key);

	skl_task_enter(task, false, &call->abort);
	skl_ops->tls_set(task_key, NULL);
	put_task_struct(task);
	/* Not leave: do_exit may switch away and come back (a wake-up it
	 * makes can reschedule) before its last switch, the dead one. */
	task->thread.dead_leave = &call->abort;
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
	create_lock = skl_ops->mutex_alloc(0);
	return task_key && create_lock ? 0 : -ENOMEM;
}
early_initcall(task_key_init);
