// SPDX-License-Identifier: GPL-2.0
/*
 * The CPU lock. The library kernel has one CPU, and "running on the CPU"
 * means holding this lock: exactly one host thread runs kernel code at a
 * time. The lock has an owner (a host thread id) and a depth; it changes
 * hands in three ways:
 *
 *  - skl_cpu_get/skl_cpu_put, by a host thread that wants to run kernel
 *    code while the CPU is free (a system call entering, a timer or device
 *    thread raising an IRQ). While the CPU is free the current task is the
 *    idle task or a host task parked by its driver (threads.c), and such a
 *    thread runs on top of it, as a real interrupt would;
 *  - __switch_to hands it to the host thread of the next task (threads.c);
 *  - skl_cpu_wake_idle hands it to the idle task's thread, which is asleep
 *    in arch_cpu_idle, when an IRQ or a system call made work runnable.
 *
 * The lock's state is guarded by a host mutex. Threads that find the CPU
 * taken sleep on one semaphore and retry; at halt every one of them is woken
 * and told to give up.
 */
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/errno.h>
#include <linux/hardirq.h>
#include <linux/tick.h>
#include <asm/skl.h>

static struct {
	struct skl_mutex *lock;
	unsigned long owner;
	unsigned int depth;
	unsigned int sleepers;
	struct skl_sem *sleep;
	/* The idle task's host thread waits here while the CPU is free. */
	struct skl_sem *idle_wake;
	unsigned long idle_thread;
	bool shutdown;
} cpu;

int skl_cpu_init(void)
{
	cpu.lock = skl_ops->mutex_alloc(0);
	cpu.sleep = skl_ops->sem_alloc(0);
	cpu.idle_wake = skl_ops->sem_alloc(0);
	if (!cpu.lock || !cpu.sleep || !cpu.idle_wake)
		return -ENOMEM;
	return 0;
}

unsigned long skl_cpu_owner(void)
{
	return cpu.owner;
}

int skl_cpu_owned(void)
{
	return cpu.owner == skl_ops->thread_self();
}

/* Blocks until the calling thread holds the CPU; -ENODEV once halted. */
int skl_cpu_get(void)
{
	unsigned long self = skl_ops->thread_self();

	skl_ops->mutex_lock(cpu.lock);
	while (!cpu.shutdown && cpu.owner && cpu.owner != self) {
		cpu.sleepers++;
		skl_ops->mutex_unlock(cpu.lock);
		skl_ops->sem_down(cpu.sleep);
		skl_ops->mutex_lock(cpu.lock);
		cpu.sleepers--;
	}
	if (cpu.shutdown) {
		skl_ops->mutex_unlock(cpu.lock);
		return -ENODEV;
	}
	cpu.owner = self;
	cpu.depth++;
	skl_ops->mutex_unlock(cpu.lock);
	return 0;
}

/* Like skl_cpu_get but never waits: -EBUSY if another thread holds it. */
int skl_cpu_try_get(void)
{
	unsigned long self = skl_ops->thread_self();
	int ret = 0;

	skl_ops->mutex_lock(cpu.lock);
	if (cpu.shutdown)
		ret = -ENODEV;
	else if (cpu.owner && cpu.owner != self)
		ret = -EBUSY;
	else {
		cpu.owner = self;
		cpu.depth++;
	}
	skl_ops->mutex_unlock(cpu.lock);
	return ret;
}

/*
 * Give the CPU up. IRQs that other threads left pending while we held it
 * run first, in the same critical section that frees the lock, so an IRQ
 * raised while we were leaving is never lost.
 */
void skl_cpu_put(void)
{
	skl_ops->mutex_lock(cpu.lock);
	while (cpu.depth == 1 && skl_irqs_pending() && !irqs_disabled() &&
	       !in_interrupt()) {
		skl_ops->mutex_unlock(cpu.lock);
		skl_run_pending_irqs();
		skl_ops->mutex_lock(cpu.lock);
	}
	if (--cpu.depth == 0) {
		cpu.owner = 0;
		if (cpu.sleepers)
			skl_ops->sem_up(cpu.sleep);
	}
	skl_ops->mutex_unlock(cpu.lock);
}

/* __switch_to: the CPU now belongs to the host thread of the next task. */
void skl_cpu_set_owner(unsigned long thread)
{
	skl_ops->mutex_lock(cpu.lock);
	cpu.owner = thread;
	skl_ops->mutex_unlock(cpu.lock);
}

/*
 * Called by a thread that holds the CPU on top of the idle task after it
 * made work runnable: the idle task must run the scheduler, so its thread
 * gets the CPU (and the caller must not touch it any more).
 */
void skl_cpu_wake_idle(void)
{
	skl_cpu_set_owner(cpu.idle_thread);
	skl_ops->sem_up(cpu.idle_wake);
}

/*
 * The idle task has nothing to run: free the CPU and sleep until another
 * thread hands it back with skl_cpu_wake_idle. Returns with the CPU held.
 * Returns at once if running pending IRQs made something runnable.
 */
void skl_cpu_idle_wait(void)
{
	cpu.idle_thread = skl_ops->thread_self();

	skl_ops->mutex_lock(cpu.lock);
	for (;;) {
		if (cpu.shutdown || need_resched()) {
			skl_ops->mutex_unlock(cpu.lock);
			return;
		}
		if (!skl_irqs_pending())
			break;
		skl_ops->mutex_unlock(cpu.lock);
		skl_run_pending_irqs();
		skl_ops->mutex_lock(cpu.lock);
	}
	cpu.depth = 0;
	cpu.owner = 0;
	if (cpu.sleepers)
		skl_ops->sem_up(cpu.sleep);
	skl_ops->mutex_unlock(cpu.lock);

	skl_ops->sem_down(cpu.idle_wake);
}

/*
 * A thread that borrowed the CPU (it is not the current task's thread)
 * gives it back. If what it did made a task runnable, idle must schedule:
 * hand the CPU to idle's thread instead of freeing it.
 */
void skl_cpu_put_borrowed(void)
{
	for (;;) {
		if (skl_irqs_pending() && !irqs_disabled() && cpu.depth == 1)
			skl_run_pending_irqs();
		/*
		 * On a real CPU an interrupt ends the idle task's halt and its
		 * loop runs once more, stopping the tick if nothing needs it.
		 * Here the idle thread slept through the IRQ we ran for it:
		 * while its tick still runs, let it go round once more.
		 */
		if (cpu.depth == 1 && !cpu.shutdown && is_idle_task(current) &&
		    !tick_nohz_tick_stopped()) {
			skl_cpu_wake_idle();
			return;
		}
		if (cpu.depth == 1 && need_resched() && !cpu.shutdown) {
			/* Something became runnable: the current task must
			 * schedule. Idle does so on its own thread; a parked
			 * host task has nobody, so we do it on its behalf. */
			if (is_idle_task(current))
				skl_cpu_wake_idle();
			else
				skl_task_leave(current);
			return;
		}
		skl_ops->mutex_lock(cpu.lock);
		if (cpu.depth == 1 && skl_irqs_pending() && !irqs_disabled()) {
			skl_ops->mutex_unlock(cpu.lock);
			continue;
		}
		if (--cpu.depth == 0) {
			cpu.owner = 0;
			if (cpu.sleepers)
				skl_ops->sem_up(cpu.sleep);
		}
		skl_ops->mutex_unlock(cpu.lock);
		return;
	}
}

/*
 * Halt: from now on nobody new gets the CPU; every thread waiting for it is
 * woken and gives up. The caller keeps the CPU.
 */
void skl_cpu_shutdown(void)
{
	unsigned int i, sleepers;

	skl_ops->mutex_lock(cpu.lock);
	cpu.shutdown = true;
	cpu.owner = skl_ops->thread_self();
	sleepers = cpu.sleepers;
	skl_ops->mutex_unlock(cpu.lock);
	for (i = 0; i < sleepers; i++)
		skl_ops->sem_up(cpu.sleep);
}

int skl_cpu_is_shutdown(void)
{
	return cpu.shutdown;
}

/* The idle task's thread, woken at halt, must return from arch_cpu_idle. */
void skl_cpu_kick_idle(void)
{
	skl_ops->sem_up(cpu.idle_wake);
}

void skl_cpu_relax(void)
{
	if (skl_irqs_pending() && !irqs_disabled() && !in_interrupt() &&
	    skl_cpu_owned())
		skl_run_pending_irqs();
}
