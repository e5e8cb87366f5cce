// SPDX-License-Identifier: GPL-2.0
/*
 * Tasks and host threads. Two kinds of task:
 *
 *  - kernel threads and the idle task are contexts (a stack and saved
 *    registers, host_ops context_*) that all run on one host thread, the
 *    runner (the thread that booted the kernel). Switching between two of
 *    them is a user-space context switch: no host wake-up at all;
 *  - host tasks (one per application thread that makes system calls, and
 *    host0, the init process they are all threads of) are driven by the
 *    application thread making the call, which sleeps on the task's
 *    semaphore while the task is off the CPU and leaves it parked in
 *    TASK_IDLE when it returns to the application.
 *
 * __switch_to moves the CPU lock to whoever runs next. When a host task is
 * current the runner sleeps on runner_wake, and the host thread that next
 * switches to a context hands it over (runner_next). A host task's caller
 * on its way back to the application (or out of a dying task) does not
 * sleep: it jumps back to where it left (thread.leave).
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

/* Kernel code was written for 16 KiB stacks; only touched pages cost. */
#define CONTEXT_STACK_SIZE	(64 * 1024)

struct task_struct *skl_current_task = &init_task;
/* The user-memory window of the current task (asm/uaccess.h). */
unsigned long skl_user_lo, skl_user_hi = ~0UL;
/* The task switched away from, read by the one switched to. */
struct task_struct *skl_switch_last;

static struct task_struct *host0;
static struct skl_sem *boot_done;

/* The runner: the host thread all contexts run on. */
static unsigned long runner_id;
static struct skl_sem *runner_wake;
static struct task_struct *runner_next;
static bool runner_exit;

/* Contexts of released tasks, freed once the runner is off their stack. */
#define DEAD_CONTEXTS 64
static struct skl_context *dead_contexts[DEAD_CONTEXTS];
static int dead_count;
/* The context whose stack the runner is on. */
static struct skl_context *runner_on;

static void context_start(void *arg);

void skl_load_user_window(struct task_struct *task)
{
	struct thread_struct *t = &task->thread;

	skl_user_lo = t->user_hi ? t->user_lo : 0;
	skl_user_hi = t->user_hi ? t->user_hi : ~0UL;
}

/* Marks a clone as a host task: it gets no context. */
static int host_task_fn(void *unused)
{
	return 0;
}

static bool is_context(struct task_struct *p)
{
	return p->thread.ctx && !p->thread.sem;
}

int copy_thread(struct task_struct *p, const struct kernel_clone_args *args)
{
	struct thread_struct *t = &p->thread;

	memset(t, 0, sizeof(*t));
	/* A clone of a task with a user window starts with the same one. */
	t->user_lo = current->thread.user_lo;
	t->user_hi = current->thread.user_hi;
	if (!args->fn)
		return -EINVAL;	/* no user mode: nothing to return to */
	if (args->fn == host_task_fn) {
		t->sem = skl_ops->sem_alloc(0);
		return t->sem ? 0 : -ENOMEM;
	}
	t->fn = args->fn;
	t->fn_arg = args->fn_arg;
	t->ctx = skl_ops->context_alloc(context_start, p, CONTEXT_STACK_SIZE);
	return t->ctx ? 0 : -ENOMEM;
}

static void free_dead_contexts(void)
{
	int i, kept = 0;

	for (i = 0; i < dead_count; i++) {
		if (dead_contexts[i] == runner_on)
			dead_contexts[kept++] = dead_contexts[i];
		else
			skl_ops->context_free(dead_contexts[i]);
	}
	dead_count = kept;
}

void arch_release_task_struct(struct task_struct *p)
{
	struct thread_struct *t = &p->thread;

	if (t->sem)
		skl_ops->sem_free(t->sem);
	t->sem = NULL;
	if (!t->ctx)
		return;
	/* We may be running on this very stack (the runner asleep in a dead
	 * task's last switch): free it on the next switch instead. */
	if (dead_count == DEAD_CONTEXTS)
		free_dead_contexts();
	dead_contexts[dead_count++] = t->ctx;
	t->ctx = NULL;
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

/* On the runner, after a context was resumed: tidy up, or end at halt. */
static void context_resumed(void)
{
	if (unlikely(runner_exit))
		skl_ops->thread_exit();
	free_dead_contexts();
}

struct task_struct *__switch_to(struct task_struct *prev,
				struct task_struct *next)
{
	struct thread_struct *pt = &prev->thread;
	struct skl_jmp_buf *leave = pt->leave;
	struct skl_context *prev_ctx = pt->ctx;
	struct skl_sem *prev_sem = pt->sem;
	bool from_context = is_context(prev);

	/* pid 1 becomes host0 once it switches away after its exec. */
	if (unlikely(pt->becoming_host)) {
		pt->becoming_host = 0;
		pt->sem = skl_ops->sem_alloc(0);
		if (!pt->sem)
			panic("skl: no semaphore for host0\n");
		skl_ops->sem_up(boot_done);
	}
	/* A task's last switch returns its driver out of skl_thread_exit_task. */
	if (unlikely(READ_ONCE(prev->__state) == TASK_DEAD) && pt->dead_leave)
		leave = pt->dead_leave;
	pt->leave = NULL;
	pt->detached = 0;
	skl_switch_last = prev;
	skl_current_task = next;
	skl_load_user_window(next);

	if (is_context(next)) {
		skl_cpu_set_owner(runner_id);
		if (from_context) {
			runner_on = next->thread.ctx;
			skl_ops->context_switch(prev_ctx, next->thread.ctx);
			context_resumed();
			return skl_switch_last;
		}
		/* A host task's thread hands the CPU to the runner. */
		runner_next = next;
		skl_ops->sem_up(runner_wake);
	} else {
		skl_cpu_set_owner(next->thread.host_id);
		skl_ops->sem_up(next->thread.sem);
		if (from_context) {
			struct task_struct *resume;

			/* The runner waits while host tasks have the CPU, on
			 * prev's stack; it resumes whichever context a host
			 * thread picks next. */
			skl_ops->sem_down(runner_wake);
			if (unlikely(runner_exit))
				skl_ops->thread_exit();
			resume = runner_next;
			if (resume->thread.ctx != prev_ctx) {
				runner_on = resume->thread.ctx;
				skl_ops->context_switch(prev_ctx,
							resume->thread.ctx);
			}
			context_resumed();
			return skl_switch_last;
		}
	}

	/* prev is a host task, and this is its driving thread. */
	if (leave)
		skl_ops->jmp_buf_longjmp(leave);
	skl_ops->sem_down(prev_sem);
	if (pt->exit_now)
		thread_abandon(pt);
	return skl_switch_last;
}

static void context_start(void *arg)
{
	struct task_struct *task = arg;
	struct thread_struct *t = &task->thread;

	context_resumed();
	schedule_tail(skl_switch_last);
	t->fn(t->fn_arg);

	/*
	 * Only kernel_init returns, after it "executed" /init (binfmt below):
	 * on a real machine it would now enter user mode as pid 1. Here pid 1
	 * becomes host0, the process every host task is a thread of: a host
	 * task from its next switch on. Its context is never resumed.
	 */
	host0 = task;
	/* host0 never waits for children: let the kernel reap the tasks made
	 * with SKL_TASK_NEW_PROCESS when they end. */
	task->sighand->action[SIGCHLD - 1].sa.sa_handler = SIG_IGN;
	t->becoming_host = 1;
	for (;;) {
		set_current_state(TASK_IDLE);
		schedule();
	}
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
 * The driver of task (current) goes back to the application but leaves the
 * task current and frees the CPU: if the same thread calls again before
 * anything else needs the CPU, no switch happens at all. Whoever takes the
 * CPU next and needs it for another task switches the parked task away on
 * its behalf (skl_task_leave from a borrowing thread); the next timer tick
 * does so too, so that an idle kernel really idles (no tick).
 */
void skl_task_park(struct task_struct *task)
{
	task->thread.detached = 1;
	set_current_state(TASK_IDLE);
	skl_cpu_put_borrowed();
}

/*
 * Make the calling thread drive task. The caller holds the CPU, either on
 * top of whatever task is current while the CPU is free -- the idle task or
 * a parked host task -- (from_current false), or as the driver of the
 * current task, which it leaves (from_current true). Returns holding the
 * CPU with task current.
 */
void skl_task_enter(struct task_struct *task, bool from_current,
		    struct skl_jmp_buf *abort)
{
	task->thread.host_id = skl_ops->thread_self();
	task->thread.abort = abort;
	if (current == task) {
		task->thread.detached = 0;
		__set_current_state(TASK_RUNNING);
		return;
	}
	wake_up_process(task);
	if (from_current || !is_idle_task(current))
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
	runner_wake = skl_ops->sem_alloc(0);
	/* The idle task is the runner's own stack: a save area is enough. */
	init_task.thread.ctx = skl_ops->context_alloc(NULL, NULL, 0);
	if (!boot_done || !runner_wake || !init_task.thread.ctx)
		return -ENOMEM;
	return 0;
}

/* Called on the runner before it starts the kernel. */
void skl_threads_runner_start(void)
{
	runner_id = skl_ops->thread_self();
	runner_on = init_task.thread.ctx;
}

void skl_threads_wait_boot(void)
{
	skl_ops->sem_down(boot_done);
}

/*
 * Halt, called by the halting thread holding the CPU as a host task: every
 * host task's driver blocked in the kernel escapes through its abort
 * buffer, the runner ends (it is asleep on runner_wake, since a host task
 * is current), and the caller joins it. Contexts are freed with it.
 */
void skl_threads_shutdown(struct skl_thread *runner)
{
	struct task_struct *g, *p;

	for_each_process_thread(g, p) {
		if (p == current || !p->thread.sem)
			continue;
		p->thread.exit_now = 1;
		skl_ops->sem_up(p->thread.sem);
	}
	runner_exit = true;
	skl_ops->sem_up(runner_wake);
	skl_cpu_kick_idle();
	if (runner)
		skl_ops->thread_join(runner);

	for_each_process_thread(g, p) {
		if (p->thread.ctx)
			skl_ops->context_free(p->thread.ctx);
		p->thread.ctx = NULL;
	}
	skl_ops->context_free(init_task.thread.ctx);
	init_task.thread.ctx = NULL;
	runner_on = NULL;
	free_dead_contexts();
}
