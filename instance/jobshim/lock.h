/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lock.h: a spinlock that yields the CPU after a short spin. The shim has no
 * libc (no pthread mutexes) and its critical sections are short table edits,
 * except the link lock, held across one request and its reply; sched_yield
 * keeps a waiter from burning a core meanwhile. A process that forks resets
 * its locks in the child (the other threads do not exist there).
 */
#ifndef SHOAL_JOBSHIM_LOCK_H
#define SHOAL_JOBSHIM_LOCK_H

#include <stdint.h>

#include <asm/unistd.h>

struct shim_lock {
	uint32_t held;
};

static inline void shim_lock(struct shim_lock *l)
{
	unsigned int spins = 0;

	while (__atomic_exchange_n(&l->held, 1, __ATOMIC_ACQUIRE)) {
		if (++spins < 100) {
			__builtin_ia32_pause();
		} else {
			long r;

			__asm__ volatile("syscall"
					 : "=a"(r)
					 : "a"((long)__NR_sched_yield)
					 : "rcx", "r11", "memory");
		}
	}
}

static inline void shim_unlock(struct shim_lock *l)
{
	__atomic_store_n(&l->held, 0, __ATOMIC_RELEASE);
}

static inline void shim_lock_reset(struct shim_lock *l)
{
	l->held = 0;
}

#endif
