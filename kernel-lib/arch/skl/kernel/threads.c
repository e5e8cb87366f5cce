// SPDX-License-Identifier: GPL-2.0
/*
 * Tasks as host threads. Every kernel task is driven by one host thread at a
 * time, which sleeps on the task's semaphore while the task is off the CPU:
 *
 *  - a kernel thread has a host thread of its own, created in copy_thread;
 *  - a host task (one per application thread that makes system calls, and
 *    host0, the init process they are all threads of) has none: the
 *    application thread that makes a system call drives it for the length
 *    of the call, then leaves it parked in TASK_IDLE and returns.
 *
 * __switch_to moves the CPU lock to the next task's host thread and wakes
 * it. The previous task's thread then sleeps on its own semaphore -- unless
 * it is a host task's caller on its way back to the application (or out of
 * a dying task), in which case it jumps back to where it left (thread.leave).
 */
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/task_work.h>
#include <linux/pid.h>
#include <linux/binfmts.h>
#include <linux/init.h>
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/init_syscalls.h>
#include <asm/switch_to.h>
#include <asm/skl.h>

struct task_struct *skl_current_task = &init_task;
/* The task switched away from, read by the thread of the task switched to. */
struct task_struct *skl_switch_last;

static struct task_struct *host0;
static struct skl_thread *host0_boot_thread;
static struct skl_sem *boot_done;

static void thread_start(void *arg);

/* Marks a clone as a host task: it gets no host thread of its own. */
static int host_task_fn(void *unused)
{
	return 0;
}

int copy_thread(struct task_struct *p, const struct kernel_clone_args *args)
{
	struct thread_struct *t = &p->thread;

	memset(t, 0, sizeof(*t));
	if (!args->fn)
		return -EINVAL;	/* no user mode: nothing to return to */
	t->sem = skl_ops->sem_alloc(0);
	if (!t->sem)
		return -ENOMEM;
	if (args->fn == host_task_fn)
		return 0;
	t->fn = args->fn;
	t->fn_arg = args->fn_arg;
	t->host_thread = skl_ops->thread_create(thread_start, p);
	if (!t->host_thread) {
		skl_ops->sem_free(t->sem);
		t->sem = NULL;
		return -ENOMEM;
	}
	t->host_id = (unsigned long)t->host_thread;
	return 0;
}

void arch_release_task_struct(struct task_struct *p)
{
	struct thread_struct *t = &p->thread;

	/* A dead kernel thread's host thread ends right after its last switch;
	 * wait for it so no host thread outlives its task. */
	if (t->host_thread)
		skl_ops->thread_join(t->host_thread);
	if (t->sem)
		skl_ops->sem_free(t->sem);
	t->host_thread = NULL;
	t->sem = NULL;
}

void flush_thread(void)
{
}

/* Halt woke us: leave the kernel for good. */
static void __noreturn thread_abandon(struct thread_struct *t)
{
	if (t->abort)
		skl_ops->jmp_buf_longjmp(t->abort);
	skl_ops->thread_exit();
}

struct task_struct *__switch_to(struct task_struct *prev,
				struct task_struct *next)
{
	struct thread_struct *pt = &prev->thread;
	struct skl_jmp_buf *leave = pt->leave;
	struct skl_sem *sem = pt->sem;
	bool dead = READ_ONCE(prev->__state) == TASK_DEAD;

	/* Everything about prev is read before next can run: a dead prev may
	 * be freed by next at once. */
	pt->leave = NULL;
	skl_switch_last = prev;
	skl_current_task = next;
	skl_cpu_set_owner(next->thread.host_id);
	skl_ops->sem_up(next->thread.sem);

	if (leave)
		skl_ops->jmp_buf_longjmp(leave);
	if (dead)
		skl_ops->thread_exit();

	skl_ops->sem_down(sem);
	if (pt->exit_now)
		thread_abandon(pt);
	return skl_switch_last;
}

static void thread_start(void *arg)
{
	struct task_struct *task = arg;
	struct thread_struct *t = &task->thread;

	skl_ops->sem_down(t->sem);
	if (t->exit_now)
		thread_abandon(t);
	schedule_tail(skl_switch_last);
	t->fn(t->fn_arg);

	/*
	 * Only kernel_init returns, after it "executed" /init (binfmt below):
	 * on a real machine it would now enter user mode as pid 1. Here pid 1
	 * becomes host0, the process every host task is a thread of, and its
	 * host thread ends.
	 */
	host0 = task;
	/* host0 never waits for children: let the kernel reap the tasks made
	 * with SKL_TASK_NEW_PROCESS when they end. */
	task->sighand->action[SIGCHLD - 1].sa.sa_handler = SIG_IGN;
	host0_boot_thread = t->host_thread;
	t->host_thread = NULL;
	skl_ops->sem_up(boot_done);
	skl_task_leave(task);
	skl_ops->thread_exit();
}

static void schedule_fn(void *unused)
{
	schedule();
}

/*
 * The calling thread drives task (current) and returns to its caller, out of
 * the kernel. The task is parked in TASK_IDLE: nothing but its driver's
 * return wakes it, and signals do not.
 */
void skl_task_leave(struct task_struct *task)
{
	struct skl_jmp_buf jb;

	for (;;) {
		set_current_state(TASK_IDLE);
		task->thread.leave = &jb;
		if (skl_ops->jmp_buf_set(&jb, schedule_fn, NULL))
			return;	/* switched away: the CPU is someone else's */
		/* Woken before the switch: nobody else to run. Park again. */
		task->thread.leave = NULL;
	}
}

/*
 * Make the calling thread drive task. The caller holds the CPU, either on
 * top of the idle task (from_current false) or as the driver of the current
 * task, which it leaves (from_current true). Returns holding the CPU with
 * task current.
 */
void skl_task_enter(struct task_struct *task, bool from_current,
		    struct skl_jmp_buf *abort)
{
	task->thread.host_id = skl_ops->thread_self();
	task->thread.abort = abort;
	if (current == task) {
		__set_current_state(TASK_RUNNING);
		return;
	}
	wake_up_process(task);
	if (from_current)
		skl_task_leave(current);
	else
		skl_cpu_wake_idle();

	skl_ops->sem_down(task->thread.sem);
	if (task->thread.exit_now)
		thread_abandon(&task->thread);
	schedule_tail(skl_switch_last);
}

struct task_struct *skl_host0(void)
{
	return host0;
}

/*
 * A new host task, a thread of host0 (sharing its files and fs) unless
 * flags ask otherwise. The caller drives host0. Returns a referenced task.
 */
struct task_struct *skl_host_task_create(unsigned long flags)
{
	struct task_struct *task;
	pid_t pid;

	pid = user_mode_thread(host_task_fn, NULL, flags);
	if (pid < 0)
		return ERR_PTR(pid);
	rcu_read_lock();
	task = find_task_by_vpid(pid);
	if (task)
		get_task_struct(task);
	rcu_read_unlock();
	return task ? task : ERR_PTR(-ESRCH);
}

/*
 * pid 1 "executes" /init through this format: it takes the exec (so pid 1
 * has an mm and is a process like any other) and returns to thread_start.
 */
static int load_host0(struct linux_binprm *bprm)
{
	int ret;

	if (strcmp(bprm->filename, "/init"))
		return -ENOEXEC;
	ret = begin_new_exec(bprm);
	if (ret)
		return ret;
	setup_new_exec(bprm);
	finalize_exec(bprm);
	return 0;
}

static struct linux_binfmt host0_format = {
	.module = THIS_MODULE,
	.load_binary = load_host0,
};

static int __init host0_format_init(void)
{
	struct file *f;

	register_binfmt(&host0_format);
	f = filp_open("/init", O_CREAT | O_WRONLY | O_TRUNC, 0700);
	if (IS_ERR(f))
		return PTR_ERR(f);
	/* Closed now, not later from a workqueue: an open writer would make
	 * the exec fail with ETXTBSY. */
	__fput_sync(f);
	return 0;
}
late_initcall(host0_format_init);

int skl_threads_init(void)
{
	boot_done = skl_ops->sem_alloc(0);
	init_task.thread.sem = skl_ops->sem_alloc(0);
	if (!boot_done || !init_task.thread.sem)
		return -ENOMEM;
	return 0;
}

void skl_threads_wait_boot(void)
{
	skl_ops->sem_down(boot_done);
}

/*
 * Halt, called by the halting thread holding the CPU: wake every host
 * thread parked in the kernel with exit_now set and wait for the ones the
 * kernel created. Host tasks' callers escape through their abort buffer.
 */
void skl_threads_shutdown(struct skl_thread *idle_thread)
{
	struct task_struct *g, *p;
	struct skl_thread **threads;
	int n = 0, max = 0, i;

	for_each_process_thread(g, p)
		max++;
	threads = kmalloc_array(max + 2, sizeof(*threads), GFP_ATOMIC);

	for_each_process_thread(g, p) {
		if (p == current)
			continue;
		p->thread.exit_now = 1;
		if (p->thread.host_thread && threads)
			threads[n++] = p->thread.host_thread;
		p->thread.host_thread = NULL;
		if (p->thread.sem)
			skl_ops->sem_up(p->thread.sem);
	}
	init_task.thread.exit_now = 1;
	skl_ops->sem_up(init_task.thread.sem);
	skl_cpu_kick_idle();
	if (threads) {
		if (idle_thread)
			threads[n++] = idle_thread;
		if (host0_boot_thread)
			threads[n++] = host0_boot_thread;
		for (i = 0; i < n; i++)
			skl_ops->thread_join(threads[i]);
	}
	host0_boot_thread = NULL;
}
