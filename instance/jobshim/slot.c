// SPDX-License-Identifier: GPL-2.0
/*
 * slot.c: the shim's half of the slot protocol of job_abi.h. The state word
 * is a futex in memory shared with the instance (MAP_SHARED memfd), so the
 * non-private futex operations are used. Each side spins a little before
 * sleeping: a forwarded call that the instance answers within microseconds
 * (most of them) then costs no futex system call at all on either side.
 * Every forwarded call runs inside the SIGSYS handler on the thread that
 * made it, with its own slot: no lock is needed here.
 */
#include "instance/jobshim/slot.h"

#include "instance/jobshim/cpu.h"
#include "instance/jobshim/lib.h"
#include "instance/jobshim/shim.h"
#include "instance/jobshim/sys.h"
#include "instance/jobshim/thread.h"

/*
 * Pauses before sleeping (a few microseconds). Short: the instance's
 * serving thread spins on its side too, and on a host with few CPUs a long
 * spin here steals the CPU the answer needs (in a few noisy runs on two
 * CPUs, a 200 MB pipe between two jobs was about twice as fast with 50-100
 * than with 4000). Measure again with figures from a quiet machine.
 */
#define SLOT_SPINS 100
/* Pauses after which a thread on the serving thread's CPU stops spinning
 * (a cross-CPU answer usually comes within ~200 ns, 8 or 9 pauses here). */
#define SLOT_CPU_CHECK 16
#define SLOT_POLLHUP 0x10

/* Is the serving thread's CPU (its own hint, job_abi.h) ours? */
static int slot_server_here(const struct shoal_slot *s)
{
	uint32_t sc = __atomic_load_n(&s->server_cpu, __ATOMIC_RELAXED);
	long cpu;

	if (!sc)
		return 0;
	cpu = cpu_current();
	return cpu >= 0 && (uint32_t)cpu + 1 == sc;
}

/* Has the instance's end of the link closed (the instance is gone)? */
static int link_gone(void)
{
	struct {
		int fd;
		short events, revents;
	} p = { shim_g.link_fd, 0, 0 };
	long ts[2] = { 0, 0 };

	if (shim_g.link_fd < 0)
		return 0;
	return sys4(__NR_ppoll, (long)&p, 1, (long)ts, 0) == 1 && (p.revents & SLOT_POLLHUP);
}

long slot_begin(struct slot_call *c)
{
	if (__atomic_load_n(&shim_g.instance_gone, __ATOMIC_RELAXED))
		return -EIO;
	c->slot = thread_slot(NULL, &c->wait_mask);
	if (!c->slot)
		return -EIO;
	c->data = (char *)c->slot + SHOAL_SLOT_HEADER;
	c->used = 0;
	/* A call whose results were never taken (cannot happen: every path
	 * ends its calls) must not block the next one. Looked at before the
	 * compare-and-swap: a locked instruction takes the cache line from the
	 * serving thread that polls it, even when it fails. */
	if (__atomic_load_n(&c->slot->state, __ATOMIC_RELAXED) == SHOAL_SLOT_DONE)
		slot_end(c);
	return 0;
}

void *slot_alloc(struct slot_call *c, size_t len)
{
	size_t at = (c->used + 15) & ~(size_t)15;

	if (at > SLOT_DATA_MAX || len > SLOT_DATA_MAX - at)
		return NULL;
	c->used = at + len;
	return c->data + at;
}

void *slot_copy_in(struct slot_call *c, const void *src, size_t len)
{
	void *p = slot_alloc(c, len);

	if (p && len)
		shim_memcpy(p, src, len);
	return p;
}

long slot_addr(const void *p)
{
	if (!p)
		return 0;
	return (long)(shim_g.instance_base + ((unsigned long)p - SHOAL_REGION_JOB_ADDR));
}

long slot_post(struct slot_call *c, long nr, const long args[6])
{
	struct shoal_slot *s = c->slot;
	uint32_t st;
	int i;

	st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
	if (st == SHOAL_SLOT_CLOSED)
		return -EIO;
	s->nr = nr;
	for (i = 0; i < 6; i++)
		s->args[i] = args[i];
	s->ret = -ENOSYS;
	if (shim_g.debug) /* see sigsys_cb */
		__atomic_add_fetch(&shim_g.forwarded, 1, __ATOMIC_RELAXED);
	/* Sequentially consistent with the load of server_waiting: either
	 * the instance sees REQUEST before it sleeps, or we see it sleeping
	 * and wake it. */
	__atomic_store_n(&s->state, SHOAL_SLOT_REQUEST, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&s->server_waiting, __ATOMIC_SEQ_CST))
		shim_futex_wake(&s->state, 1);

	st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
	for (i = 0; i < SLOT_SPINS && st == SHOAL_SLOT_REQUEST; i++) {
		/* The serving thread on our CPU cannot answer while we
		 * spin: sleep now, which lets it run. */
		if (i == SLOT_CPU_CHECK && slot_server_here(s))
			break;
		__builtin_ia32_pause();
		st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
	}
	if (st == SHOAL_SLOT_REQUEST) {
		/*
		 * A long call (a blocking read, a poll): let the signals the
		 * program did not block and has no handler for through, so
		 * that SIGTERM, SIGINT or SIGHUP end a job blocked in the
		 * instance as they would end it blocked in a host kernel.
		 * Signals with a handler stay blocked until the call returns:
		 * the handler's own calls would need this busy slot.
		 */
		uint64_t old;

		__atomic_add_fetch(&shim_g.slept, 1, __ATOMIC_RELAXED);
		shim_sigprocmask(SHIM_SIG_SETMASK, &c->wait_mask, &old);
		while ((st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE)) == SHOAL_SLOT_REQUEST) {
			__atomic_store_n(&s->client_waiting, 1, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&s->state, __ATOMIC_SEQ_CST) == SHOAL_SLOT_REQUEST &&
			    shim_futex_wait_timeout(&s->state, SHOAL_SLOT_REQUEST, 1) ==
				    -ETIMEDOUT &&
			    link_gone()) {
				/* The instance died without closing the slot: no
				 * answer will ever come, to any thread. */
				__atomic_store_n(&shim_g.instance_gone, 1, __ATOMIC_RELAXED);
				st = SHOAL_SLOT_CLOSED;
				break;
			}
			__atomic_store_n(&s->client_waiting, 0, __ATOMIC_SEQ_CST);
		}
		shim_sigprocmask(SHIM_SIG_SETMASK, &old, NULL);
	}
	if (st == SHOAL_SLOT_CLOSED)
		return -EIO;
	return s->ret;
}

void slot_end(struct slot_call *c)
{
	uint32_t done = SHOAL_SLOT_DONE;

	/* Only DONE becomes IDLE: a slot the instance closed stays closed. */
	__atomic_compare_exchange_n(&c->slot->state, &done, SHOAL_SLOT_IDLE, 0, __ATOMIC_RELEASE,
				    __ATOMIC_RELAXED);
}
