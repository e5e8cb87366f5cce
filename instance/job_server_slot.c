// SPDX-License-Identifier: GPL-2.0
/*
 * A job's slots and their serving threads. Each slot has one host thread of
 * the instance bound to one kernel task (the job thread's): it waits for the
 * shim to post a call in the slot (spinning first, then sleeping on the
 * state word with a shared futex), runs it with job_sysmap_call() and posts
 * the result. Spinning matters: on two vCPUs a futex wake-up that crosses
 * CPUs costs tens of microseconds, while a forwarded call should cost about
 * one, and a program that makes one call usually makes the next one soon.
 *
 * Everything in the region is written by the job too, so the serving thread
 * trusts nothing there: it ends only on its private `released` flag, copies
 * nr and args before use, and answers with a compare-and-swap so that a
 * slot closed meanwhile stays closed. Its task sees only the slot's data
 * area as user memory (skl_task_set_user_window), whatever the job passes.
 *
 * A serving thread blocked in a kernel call (read of an empty pipe, accept)
 * is interrupted with a signal in the kernel sent from a thread of host0:
 * SIGKILL when the whole process goes, SIGUSR1 for one thread (exec, thread
 * exit, or a call the shim cancels because a signal the program handles
 * arrived), for which every job process has a handler in the kernel (never
 * run: the library kernel has no user mode and drops delivered signals, but
 * a handler makes the signal interrupt the call without ending the process).
 * Every other signal is ignored by the job's kernel processes, so that
 * SIGPIPE and friends raised by the kernel end nothing: the host's signals
 * are the shim's business.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "instance/job_server_internal.h"

/* Kernel code runs on the serving thread's stack (as on kernel-lib's threads). */
#define JOB_SLOT_STACK (256 * 1024)
/* How long a serving thread spins on its slot before it sleeps. */
#define JOB_SLOT_SPIN_NS 50000
/* Spin iterations between two reads of the clock. */
#define JOB_SLOT_SPIN_CHECK 64
/* A never-called handler address: anything but SIG_DFL (0) and SIG_IGN (1). */
#define JOB_SLOT_HANDLER 2UL

/* struct sigaction of the library kernel (generic, no sa_restorer). */
struct job_ksigaction {
	unsigned long handler;
	unsigned long flags;
	uint64_t mask;
};

static long futex_op(uint32_t *word, int op, uint32_t val, const struct timespec *timeout)
{
	return syscall(SYS_futex, word, op, val, timeout, NULL, 0);
}

static long slot_kcall4(long nr, long a0, long a1, long a2, long a3)
{
	long p[6] = { a0, a1, a2, a3 };

	return skl_syscall(nr, p);
}

static long slot_kcall(long nr, long a0, long a1, long a2)
{
	long p[6] = { a0, a1, a2 };

	return skl_syscall(nr, p);
}

static uint64_t slot_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void slot_cpu_relax(void)
{
	__builtin_ia32_pause();
}

/*
 * The job process's signal dispositions in the kernel: SIGUSR1 interrupts,
 * everything else is ignored. The struct goes through the slot's scratch
 * bytes, which are inside the task's user window once it is set.
 */
static long slot_set_signals(struct job_slot *slot)
{
	struct job_ksigaction *act =
		(struct job_ksigaction *)(void *)(slot->area.hi - JOB_SYSMAP_SCRATCH);
	long sig, r;

	for (sig = 1; sig <= 64; sig++) {
		if (sig == SKL_SIGKILL || sig == SKL_SIGSTOP)
			continue;
		memset(act, 0, sizeof(*act));
		act->handler = sig == SKL_SIGUSR1 ? JOB_SLOT_HANDLER : (unsigned long)SKL_SIG_IGN;
		r = slot_kcall4(__skl__NR_rt_sigaction, sig, (long)act, 0, sizeof(act->mask));
		if (r < 0 && r != -EINVAL)
			return r;
		if (sig == SKL_SIGUSR1 && r < 0)
			return r;
	}
	return 0;
}

/*
 * The job's first process: a new process made from host0 (a copy of its fd
 * table), whose 0, 1, 2 become the kernel fds it was given and which keeps
 * no other of host0's fds.
 */
static long slot_make_first(struct job_slot *slot)
{
	long tid = skl_thread_new_task(SKL_TASK_NEW_PROCESS), high[3], r = 0;
	int i;

	if (tid < 0)
		return tid;
	/* Moved above 2 first: a kfd may itself be 0, 1 or 2. */
	for (i = 0; i < 3; i++) {
		high[i] = -1;
		if (slot->kfds[i] >= 0 && r >= 0)
			r = high[i] = slot_kcall(__skl__NR_fcntl, slot->kfds[i], SKL_F_DUPFD, 3);
	}
	for (i = 0; i < 3 && r >= 0; i++) {
		if (high[i] >= 0)
			r = slot_kcall(__skl__NR_dup3, high[i], i, 0);
		else
			slot_kcall(__skl__NR_close, i, 0, 0);
	}
	if (r >= 0)
		r = slot_kcall(__skl__NR_close_range, 3, ~0U, 0);
	if (r >= 0)
		r = slot_kcall(__skl__NR_umask, 022, 0, 0);
	if (r >= 0 && slot->cwd)
		r = slot_kcall(__skl__NR_chdir, (long)slot->cwd, 0, 0);
	if (r >= 0)
		r = slot_set_signals(slot);
	if (r < 0) {
		skl_thread_exit_task();
		return r;
	}
	return tid;
}

static long slot_make_task(struct job_slot *slot)
{
	long tid, r;

	if (!skl_thread_new_task_from || !skl_task_set_user_window || !skl_task_exec)
		return -ENOSYS;
	if (slot->how == JOB_TASK_FIRST)
		tid = slot_make_first(slot);
	else
		tid = skl_thread_new_task_from(
			slot->how == JOB_TASK_FORK ? SKL_TASK_NEW_PROCESS : 0, slot->parent_tid);
	if (tid < 0)
		return tid;
	r = skl_task_set_user_window((unsigned long)slot->area.lo, (unsigned long)slot->area.hi);
	if (r < 0) {
		skl_thread_exit_task();
		return r;
	}
	return tid;
}

static bool slot_should_stop(struct job_slot *slot)
{
	return __atomic_load_n(&slot->released, __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&slot->op, __ATOMIC_ACQUIRE) != JOB_OP_NONE;
}

/*
 * Where we poll from, for the job thread (job_abi.h): on two CPUs shared
 * with other work, the job thread and its serving thread often land on one
 * CPU, where the job thread's spin can only delay the answer (a forwarded
 * call cost ~15 us that way instead of ~2). Written only when it changes:
 * the word shares the cache line the job thread writes its call into.
 * sched_getcpu reads glibc's rseq area (or the vDSO): no system call, which
 * matters here: getcpu is not on the instance's allow-list (sandbox_allow.c).
 */
static void slot_note_cpu(struct shoal_slot *sh)
{
	int cpu = sched_getcpu();
	uint32_t v = cpu >= 0 ? (uint32_t)cpu + 1 : 0;

	if (__atomic_load_n(&sh->server_cpu, __ATOMIC_RELAXED) != v)
		__atomic_store_n(&sh->server_cpu, v, __ATOMIC_RELAXED);
}

/* Until a call is posted (returns true) or the link thread wants us (false). */
static bool slot_wait_request(struct job_slot *slot)
{
	struct shoal_slot *sh = slot->sh;
	uint64_t deadline = 0;
	unsigned int spins = 0;
	uint32_t st;

	slot_note_cpu(sh);
	for (;;) {
		st = __atomic_load_n(&sh->state, __ATOMIC_ACQUIRE);
		if (st == SHOAL_SLOT_REQUEST)
			return true;
		if (slot_should_stop(slot))
			return false;
		if (++spins < JOB_SLOT_SPIN_CHECK) {
			slot_cpu_relax();
			continue;
		}
		spins = 0;
		slot_note_cpu(sh);
		if (!deadline) {
			deadline = slot_now_ns() + JOB_SLOT_SPIN_NS;
			continue;
		}
		if (slot_now_ns() < deadline)
			continue;
		/* Sleep. The shim reads server_waiting after it stores REQUEST;
		 * we read state after we store server_waiting: one of the two
		 * sees the other (both sequentially consistent). */
		__atomic_store_n(&sh->server_waiting, 1, __ATOMIC_SEQ_CST);
		st = __atomic_load_n(&sh->state, __ATOMIC_SEQ_CST);
		if (st != SHOAL_SLOT_REQUEST && !slot_should_stop(slot))
			futex_op(&sh->state, FUTEX_WAIT, st, NULL);
		__atomic_store_n(&sh->server_waiting, 0, __ATOMIC_RELAXED);
		deadline = 0;
	}
}

/*
 * Announce a call, unless the link thread holds the task (it is cloning it):
 * then wait until it lets go. The two flags are written then the other's
 * read, both sequentially consistent, so at most one side goes on.
 */
static bool slot_enter_call(struct job_slot *slot)
{
	for (;;) {
		__atomic_store_n(&slot->in_call, 1, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&slot->hold, __ATOMIC_SEQ_CST))
			return true;
		__atomic_store_n(&slot->in_call, 0, __ATOMIC_SEQ_CST);
		while (__atomic_load_n(&slot->hold, __ATOMIC_SEQ_CST)) {
			if (__atomic_load_n(&slot->released, __ATOMIC_ACQUIRE))
				return false;
			futex_op(&slot->hold, FUTEX_WAIT_PRIVATE, 1, NULL);
		}
	}
}

int job_slot_hold(struct job_slot *slot)
{
	__atomic_store_n(&slot->hold, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&slot->in_call, __ATOMIC_SEQ_CST))
		return 0;
	job_slot_unhold(slot);
	return -EBUSY;
}

void job_slot_unhold(struct job_slot *slot)
{
	__atomic_store_n(&slot->hold, 0, __ATOMIC_SEQ_CST);
	futex_op(&slot->hold, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
}

static void slot_serve_one(struct job_slot *slot)
{
	struct shoal_slot *sh = slot->sh;
	uint32_t expected = SHOAL_SLOT_REQUEST;
	long args[6], nr, ret;
	int i;

	if (!slot_enter_call(slot))
		return;
	/* One copy each: the job may change the slot while the call runs. */
	nr = (long)__atomic_load_n(&sh->nr, __ATOMIC_RELAXED);
	for (i = 0; i < 6; i++)
		args[i] = (long)__atomic_load_n(&sh->args[i], __ATOMIC_RELAXED);
	ret = job_sysmap_call(nr, args, &slot->area);
	__atomic_store_n(&slot->in_call, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&sh->ret, ret, __ATOMIC_RELAXED);
	if (__atomic_compare_exchange_n(&sh->state, &expected, SHOAL_SLOT_DONE, false,
					__ATOMIC_SEQ_CST, __ATOMIC_RELAXED) &&
	    __atomic_load_n(&sh->client_waiting, __ATOMIC_SEQ_CST))
		futex_op(&sh->state, FUTEX_WAKE, INT_MAX, NULL);
	__atomic_store_n(&slot->calls, slot->calls + 1, __ATOMIC_RELAXED);
}

static void slot_run_op(struct job_slot *slot)
{
	uint32_t op = __atomic_load_n(&slot->op, __ATOMIC_ACQUIRE);
	long r = -EINVAL;

	if (op == JOB_OP_EXEC) {
		r = skl_task_exec();
		/* A successful exec reset the SIGUSR1 handler to the default. */
		if (r >= 0)
			r = slot_set_signals(slot);
	}
	slot->op_ret = r;
	__atomic_store_n(&slot->op, JOB_OP_NONE, __ATOMIC_RELEASE);
	__atomic_store_n(&slot->op_done, 1, __ATOMIC_RELEASE);
	futex_op(&slot->op_done, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
}

static void *slot_main(void *arg)
{
	struct job_slot *slot = arg;
	uint64_t one = 1;
	long tid = slot_make_task(slot);

	slot->start_ret = tid;
	__atomic_store_n(&slot->started, 1, __ATOMIC_RELEASE);
	futex_op(&slot->started, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
	if (tid < 0)
		return NULL;

	for (;;) {
		if (slot_wait_request(slot))
			slot_serve_one(slot);
		if (__atomic_load_n(&slot->released, __ATOMIC_ACQUIRE))
			break;
		if (__atomic_load_n(&slot->op, __ATOMIC_ACQUIRE) != JOB_OP_NONE)
			slot_run_op(slot);
	}
	/*
	 * A process that goes closes its fds with a call of its own before its
	 * tasks end, not in the exit: what the close wakes (a reader of its
	 * pipe in another process) is then woken by an ordinary call. The
	 * library kernel loses the CPU hand-off when a dying task's exit wakes
	 * a task blocked in a call (kernel-lib issue, see the report of
	 * tests/kernel/test_job_server exit_wakes_reader); for a dying process
	 * the two are the same thing anyway.
	 */
	if (__atomic_load_n(&slot->close_fds, __ATOMIC_ACQUIRE))
		slot_kcall(__skl__NR_close_range, 0, ~0U, 0);
	skl_thread_exit_task();
	__atomic_store_n(&slot->exited, 1, __ATOMIC_RELEASE);
	/* The link thread joins us and frees the slot. */
	if (write(slot->s->wake_fd, &one, sizeof(one)) < 0) {
		/* An eventfd write fails only when its counter is full: it is readable anyway. */
	}
	return NULL;
}

struct job_slot *job_slot_alloc(struct job_server *s, struct job_proc *proc)
{
	unsigned int i, index;
	struct job_slot *slot;

	for (i = 0; i < SHOAL_SLOTS_MAX; i++) {
		/* Round robin: a slot just released may still be touched by a
		 * thread of the job that has not learnt it yet. */
		index = (s->next_slot + i) % SHOAL_SLOTS_MAX;
		if (!s->slots[index].used)
			break;
	}
	if (i == SHOAL_SLOTS_MAX)
		return NULL;
	s->next_slot = index + 1;
	slot = &s->slots[index];
	memset(slot, 0, sizeof(*slot));
	slot->s = s;
	slot->index = index;
	slot->used = true;
	slot->proc = proc;
	slot->sh = (struct shoal_slot *)(void *)(s->region + SHOAL_SLOT_OFFSET(index));
	slot->area.lo = s->region + SHOAL_SLOT_OFFSET(index) + SHOAL_SLOT_HEADER;
	slot->area.hi = slot->area.lo + SHOAL_SLOT_DATA;
	slot->kfds[0] = slot->kfds[1] = slot->kfds[2] = -1;
	memset(slot->sh, 0, sizeof(*slot->sh));
	proc->nslots++;
	return slot;
}

static void slot_free(struct job_slot *slot)
{
	__atomic_add_fetch(&slot->s->calls_freed, __atomic_load_n(&slot->calls, __ATOMIC_RELAXED),
			   __ATOMIC_RELAXED);
	__atomic_store_n(&slot->calls, 0, __ATOMIC_RELAXED);
	slot->proc->nslots--;
	slot->used = false;
	slot->thread_running = false;
}

/* A host thread for the kernel: its stack size, host signals blocked. */
static int slot_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	static const int faults[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS, SIGABRT };
	sigset_t mask, old;
	pthread_attr_t attr;
	size_t i;
	int r;

	/* Host signals are for the main thread; faults stay deliverable so
	 * that fatal.c reports them (as on the kernel's own threads). */
	sigfillset(&mask);
	for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		sigdelset(&mask, faults[i]);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, JOB_SLOT_STACK);
	pthread_sigmask(SIG_SETMASK, &mask, &old);
	r = pthread_create(thread, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return r;
}

long job_slot_start(struct job_slot *slot, enum job_task_how how, long parent_tid)
{
	int r;

	slot->how = how;
	slot->parent_tid = parent_tid;
	r = slot_thread_create(&slot->thread, slot_main, slot);
	if (r) {
		slot_free(slot);
		return -r;
	}
	slot->thread_running = true;
	while (!__atomic_load_n(&slot->started, __ATOMIC_ACQUIRE))
		futex_op(&slot->started, FUTEX_WAIT_PRIVATE, 0, NULL);
	if (slot->start_ret < 0) {
		pthread_join(slot->thread, NULL);
		slot_free(slot);
		return slot->start_ret;
	}
	slot->tid = slot->start_ret;
	return slot->tid;
}

static void slot_interrupt(struct job_slot *slot, int signal)
{
	if (signal && !__atomic_load_n(&slot->exited, __ATOMIC_ACQUIRE))
		slot_kcall(__skl__NR_tgkill, slot->proc->kpid, slot->tid, signal);
}

void job_slot_release(struct job_slot *slot, int signal, bool close_fds)
{
	struct shoal_slot *sh = slot->sh;

	if (close_fds)
		__atomic_store_n(&slot->close_fds, 1, __ATOMIC_RELEASE);
	if (!slot->thread_running || __atomic_load_n(&slot->released, __ATOMIC_RELAXED))
		return;
	/* Flag first, then signal: a call that starts after the flag is set
	 * still finds the signal pending and returns at once. */
	__atomic_store_n(&slot->released, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&sh->state, SHOAL_SLOT_CLOSED, __ATOMIC_SEQ_CST);
	futex_op(&sh->state, FUTEX_WAKE, INT_MAX, NULL);
	slot_interrupt(slot, signal);
}

void job_slot_cancel(struct job_slot *slot, uint32_t seq)
{
	struct shoal_slot *sh = slot->sh;

	/* Only the call the shim means: one that ended meanwhile is not
	 * interrupted, and a later one rarely (the shim posts that one again
	 * when it did not ask for it). */
	if (__atomic_load_n(&slot->released, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&sh->state, __ATOMIC_ACQUIRE) != SHOAL_SLOT_REQUEST ||
	    __atomic_load_n(&sh->seq, __ATOMIC_ACQUIRE) != seq)
		return;
	slot_interrupt(slot, SKL_SIGUSR1);
}

int job_slot_wait(struct job_slot *slot, int timeout_ms)
{
	int waited = 0;

	while (!__atomic_load_n(&slot->exited, __ATOMIC_ACQUIRE)) {
		if (timeout_ms >= 0 && waited >= timeout_ms)
			return -ETIMEDOUT;
		if (timeout_ms >= 0 && __atomic_load_n(&slot->s->stopping, __ATOMIC_ACQUIRE))
			return -ECANCELED;
		/* Again now and then: the first one may have come between two
		 * calls, or the call may have retried. */
		if (waited % 100 == 98)
			slot_interrupt(slot, SKL_SIGUSR1);
		futex_op(&slot->sh->state, FUTEX_WAKE, INT_MAX, NULL);
		poll(NULL, 0, 2); /* poll, not nanosleep: already allowed */
		waited += 2;
	}
	return 0;
}

void job_slot_reap(struct job_server *s)
{
	bool changed = false;
	unsigned int i;

	for (i = 0; i < SHOAL_SLOTS_MAX; i++) {
		struct job_slot *slot = &s->slots[i];

		if (!slot->used || !slot->thread_running ||
		    !__atomic_load_n(&slot->exited, __ATOMIC_ACQUIRE))
			continue;
		pthread_join(slot->thread, NULL);
		slot_free(slot);
	}
	for (i = 0; i < JOB_PROCS_MAX; i++) {
		struct job_proc *proc = &s->procs[i];

		if (proc->used && proc->anchor.running &&
		    __atomic_load_n(&proc->anchor.exited, __ATOMIC_ACQUIRE))
			job_anchor_join(&proc->anchor);
		if (proc->used && proc->link < 0 && proc->nslots == 0 && !proc->anchor.running) {
			proc->used = false;
			__atomic_sub_fetch(&s->nprocs, 1, __ATOMIC_SEQ_CST);
			changed = true;
		}
	}
	if (changed)
		job_server_notify(s);
}

long job_slot_run_op(struct job_slot *slot, enum job_slot_op op)
{
	struct timespec tick = { 0, 1000 * 1000 };

	__atomic_store_n(&slot->op_done, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->op, op, __ATOMIC_SEQ_CST);
	/* The serving thread may be about to sleep on the state word, which
	 * this does not change: wake it until it took the work. */
	while (!__atomic_load_n(&slot->op_done, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&slot->exited, __ATOMIC_ACQUIRE))
			return -ESRCH;
		/* A job that keeps the thread in a call must not keep destroy waiting. */
		if (__atomic_load_n(&slot->s->stopping, __ATOMIC_ACQUIRE))
			return -ECANCELED;
		futex_op(&slot->sh->state, FUTEX_WAKE, INT_MAX, NULL);
		futex_op(&slot->op_done, FUTEX_WAIT_PRIVATE, 0, &tick);
	}
	return slot->op_ret;
}

static void *anchor_main(void *arg)
{
	struct job_anchor *a = arg;
	uint64_t one = 1;
	long tid = skl_thread_new_task_from(0, a->parent_tid);

	a->start_ret = tid;
	__atomic_store_n(&a->started, 1, __ATOMIC_RELEASE);
	futex_op(&a->started, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
	if (tid < 0)
		return NULL;
	while (!__atomic_load_n(&a->quit, __ATOMIC_ACQUIRE))
		futex_op(&a->quit, FUTEX_WAIT_PRIVATE, 0, NULL);
	/* As a serving thread of a process that goes (see slot_main). */
	if (__atomic_load_n(&a->close_fds, __ATOMIC_ACQUIRE))
		slot_kcall(__skl__NR_close_range, 0, ~0U, 0);
	skl_thread_exit_task();
	__atomic_store_n(&a->exited, 1, __ATOMIC_RELEASE);
	if (write(a->s->wake_fd, &one, sizeof(one)) < 0) {
		/* Full counter: readable anyway. */
	}
	return NULL;
}

long job_anchor_start(struct job_server *s, struct job_anchor *a, long from_tid)
{
	int r;

	memset(a, 0, sizeof(*a));
	a->s = s;
	a->parent_tid = from_tid;
	r = slot_thread_create(&a->thread, anchor_main, a);
	if (r)
		return -r;
	while (!__atomic_load_n(&a->started, __ATOMIC_ACQUIRE))
		futex_op(&a->started, FUTEX_WAIT_PRIVATE, 0, NULL);
	if (a->start_ret < 0) {
		pthread_join(a->thread, NULL);
		return a->start_ret;
	}
	a->running = true;
	a->tid = a->start_ret;
	return a->tid;
}

void job_anchor_stop(struct job_anchor *a, bool close_fds)
{
	if (!a->running)
		return;
	if (close_fds)
		__atomic_store_n(&a->close_fds, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&a->quit, 1, __ATOMIC_RELEASE);
	futex_op(&a->quit, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
}

void job_anchor_join(struct job_anchor *a)
{
	if (!a->running)
		return;
	/* Its task ends at once: it is never in a call. */
	pthread_join(a->thread, NULL);
	a->running = false;
}
