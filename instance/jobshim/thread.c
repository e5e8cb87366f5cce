// SPDX-License-Identifier: GPL-2.0
/*
 * thread.c: tid -> slot. Each job thread needs its own slot (a forwarded
 * call blocks in its own kernel task), but the shim cannot keep per-thread
 * data in TLS (the program owns %fs), and new threads start without the
 * shim seeing them (the filter lets thread clones through). So the slot is
 * found by the host tid in a small table, and a thread that is not in it
 * registers on its first forwarded call. The table is tiny (one process
 * has at most SHOAL_SLOTS_MAX threads with slots) and searched linearly.
 */
#include "instance/jobshim/thread.h"

#include "instance/jobshim/link.h"
#include "instance/jobshim/lock.h"
#include "instance/jobshim/shim.h"
#include "instance/jobshim/sys.h"

static struct {
	struct shim_lock lock;
	unsigned int n;
	int32_t tid[SHOAL_SLOTS_MAX];
	uint32_t slot[SHOAL_SLOTS_MAX];
	uint64_t prog_mask[SHOAL_SLOTS_MAX]; /* see thread_set_prog_mask() */
} threads;

/*
 * The calling thread's tid, usually without a system call (a gettid costs
 * as much as a tenth of a forwarded call here, and every call needs the
 * tid). The key is the thread pointer, %fs, read with rdfsbase where the
 * CPU and kernel allow it (AT_HWCAP2): each thread has its own TLS block,
 * whatever stacks it runs on. One word per entry, (fs >> 3) << 20 | tid,
 * so a racing update is never read torn; tids of 2^20 and more (never in
 * a job's own pid namespace) are not cached. Entries go when their thread
 * exits (thread_exit), all of them at fork (thread_reset), and those of a
 * thread that moves its %fs (arch_prctl, which the filter traps for this).
 */
#define TID_CACHE 64
#define TID_BITS 20
#define HWCAP2_FSGSBASE (1UL << 1)
static uint64_t tid_cache[TID_CACHE];

static uint64_t fs_base(void)
{
	uint64_t fs;

	if (!(shim_g.aux.hwcap2 & HWCAP2_FSGSBASE))
		return 0;
	__asm__ volatile("rdfsbase %0" : "=r"(fs));
	return fs;
}

int32_t thread_tid(void)
{
	uint64_t fs = fs_base(), key = fs >> 3, *e, v;
	int32_t tid;

	if (!fs)
		return (int32_t)shim_gettid();
	e = &tid_cache[(key ^ (key >> 6)) % TID_CACHE];
	v = __atomic_load_n(e, __ATOMIC_RELAXED);
	if (v && v >> TID_BITS == key)
		return (int32_t)(v & ((1UL << TID_BITS) - 1));
	tid = (int32_t)shim_gettid();
	if (tid > 0 && tid < (1 << TID_BITS) && key < (1UL << (64 - TID_BITS)))
		__atomic_store_n(e, key << TID_BITS | (uint64_t)tid, __ATOMIC_RELAXED);
	return tid;
}

void thread_forget_tid(int32_t tid)
{
	unsigned int i;

	for (i = 0; i < TID_CACHE; i++) {
		uint64_t v = __atomic_load_n(&tid_cache[i], __ATOMIC_RELAXED);

		if (v && (int32_t)(v & ((1UL << TID_BITS) - 1)) == tid)
			__atomic_compare_exchange_n(&tid_cache[i], &v, 0, 0, __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED);
	}
}

/* The table index of @tid, or -1. */
static long find(int32_t tid)
{
	unsigned int i;

	for (i = 0; i < threads.n; i++) {
		if (threads.tid[i] == tid)
			return i;
	}
	return -1;
}

struct shoal_slot *thread_slot(unsigned int *index, uint64_t *prog_mask)
{
	int32_t tid = thread_tid();
	struct shoal_link_msg m = { 0 };
	struct shoal_link_reply rep;
	uint64_t mask = ~0UL;
	long s, i;

	shim_lock(&threads.lock);
	i = find(tid);
	s = i < 0 ? -1L : (long)threads.slot[i];
	if (i >= 0)
		mask = threads.prog_mask[i];
	shim_unlock(&threads.lock);
	if (s < 0) {
		/* The new thread's kernel task is cloned from a live one of
		 * this process (the main thread may have exited already). */
		m.op = SHOAL_LINK_THREAD;
		shim_lock(&threads.lock);
		m.slot = threads.n ? threads.slot[0] : shim_g.slot;
		shim_unlock(&threads.lock);
		if (link_call(&m, &rep, NULL) || rep.err || rep.slot >= SHOAL_SLOTS_MAX)
			return NULL;
		s = rep.slot;
		shim_lock(&threads.lock);
		if (threads.n < SHOAL_SLOTS_MAX) {
			threads.tid[threads.n] = tid;
			threads.slot[threads.n] = (uint32_t)s;
			threads.prog_mask[threads.n] = ~0UL;
			threads.n++;
		}
		shim_unlock(&threads.lock);
	}
	if (index)
		*index = (unsigned int)s;
	if (prog_mask)
		*prog_mask = mask;
	return (struct shoal_slot *)(shim_g.region + SHOAL_SLOT_OFFSET(s));
}

long thread_set_prog_mask(uint64_t mask)
{
	int32_t tid = thread_tid();
	long i;

	/* One lookup for a registered thread (every forwarded call comes
	 * here first); the first call of a thread registers it, then looks
	 * again. */
	for (;;) {
		shim_lock(&threads.lock);
		i = find(tid);
		if (i >= 0)
			threads.prog_mask[i] = mask;
		shim_unlock(&threads.lock);
		if (i >= 0)
			return 0;
		if (!thread_slot(NULL, NULL))
			return -EIO;
	}
}

void thread_exit(void)
{
	int32_t tid = (int32_t)shim_gettid();
	struct shoal_link_msg m = { 0 };
	unsigned int i;
	long s = -1;

	thread_forget_tid(tid);
	shim_lock(&threads.lock);
	for (i = 0; i < threads.n; i++) {
		if (threads.tid[i] == tid) {
			s = threads.slot[i];
			threads.n--;
			threads.tid[i] = threads.tid[threads.n];
			threads.slot[i] = threads.slot[threads.n];
			threads.prog_mask[i] = threads.prog_mask[threads.n];
			break;
		}
	}
	shim_unlock(&threads.lock);
	if (s < 0)
		return; /* never made a forwarded call: no slot to release */
	m.op = SHOAL_LINK_THREAD_EXIT;
	m.slot = (uint32_t)s;
	link_send(&m);
}

void thread_reset(unsigned int slot)
{
	unsigned int i;

	shim_lock_reset(&threads.lock);
	for (i = 0; i < TID_CACHE; i++)
		tid_cache[i] = 0; /* the parent's threads' tids */
	threads.n = 1;
	threads.tid[0] = (int32_t)shim_gettid();
	threads.slot[0] = slot;
	threads.prog_mask[0] = ~0UL;
}
