// SPDX-License-Identifier: GPL-2.0
/*
 * slot.c: the shim's half of the slot protocol of job_abi.h. The state word
 * is a futex in memory shared with the instance (MAP_SHARED memfd), so the
 * non-private futex operations are used. Each side spins a little before
 * sleeping: a forwarded call that the instance answers within microseconds
 * (most of them) then costs no futex system call at all on either side.
 * Every forwarded call runs inside the SIGSYS handler (or handler_fast_call,
 * with the same signal mask) on the thread that made it, with its own slot:
 * no lock is needed here.
 */
#include "instance/jobshim/slot.h"

#include "instance/jobshim/cpu.h"
#include "instance/jobshim/lib.h"
#include "instance/jobshim/link.h"
#include "instance/jobshim/shim.h"
#include "instance/jobshim/sig.h"
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
/*
 * A call that sleeps wakes up now and then to see whether a signal the
 * program handles is pending (it is blocked meanwhile: its handler could
 * not make a call on this busy slot), first after 1 ms, then twice as
 * long each time up to SLOT_POLL_MAX_MS: the signal's latency, and the
 * wake-ups a long wait costs (16 a second at most).
 */
#define SLOT_POLL_MAX_MS 64
/* A call interrupted that did not ask for it is posted again, so often. */
#define SLOT_REPOSTS_MAX 1000

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
	c->slot = thread_slot(&c->index, &c->prog_mask);
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

/* FUTEX_WAIT for at most @ms milliseconds: 0, -EAGAIN, -EINTR or -ETIMEDOUT. */
static long slot_futex_wait_ms(uint32_t *word, uint32_t val, long ms)
{
	long ts[2] = { ms / 1000, (ms % 1000) * 1000000 };

	return sys4(__NR_futex, (long)word, FUTEX_WAIT, (long)val, (long)ts);
}

/* Calls the kernel starts again after an SA_RESTART handler (ERESTARTSYS). */
static int slot_restartable(long nr)
{
	switch (nr) {
	case __NR_read:
	case __NR_readv:
	case __NR_pread64:
	case __NR_preadv:
	case __NR_preadv2:
	case __NR_write:
	case __NR_writev:
	case __NR_pwrite64:
	case __NR_pwritev:
	case __NR_pwritev2:
	case __NR_recvfrom:
	case __NR_recvmsg:
	case __NR_sendto:
	case __NR_sendmsg:
	case __NR_accept:
	case __NR_accept4:
	case __NR_open:
	case __NR_openat:
	case __NR_creat:
	case __NR_flock:
	case __NR_fcntl:
	case __NR_ioctl:
	case __NR_sendfile:
	case __NR_splice:
	case __NR_tee:
		return 1;
	default:
		return 0;
	}
}

/* Ask the instance to interrupt call @seq on our slot (SHOAL_LINK_CANCEL). */
static void slot_cancel(const struct slot_call *c, uint32_t seq)
{
	struct shoal_link_msg m = { 0 };

	m.op = SHOAL_LINK_CANCEL;
	m.slot = c->index;
	m.arg = seq;
	link_send(&m);
}

/*
 * Sleep until the call is answered (the spin is over). The signals the
 * program does not block and has no handler for are let through (SIGTERM,
 * SIGINT or SIGHUP at their default end a job blocked in the instance as
 * they would end it blocked in a host kernel); those with a handler stay
 * blocked, since the handler's own calls would need this busy slot, but
 * one that arrives cancels the call (*@cancelled): the instance
 * interrupts it, and the handler runs once it has returned.
 */
static uint32_t slot_sleep(struct slot_call *c, uint32_t seq, int *cancelled)
{
	struct shoal_slot *s = c->slot;
	uint64_t old, wait_mask = sig_wait_mask(c->prog_mask);
	long ms = 1, waited_ms = 0;
	uint32_t st;

	__atomic_add_fetch(&shim_g.slept, 1, __ATOMIC_RELAXED);
	shim_sigprocmask(SHIM_SIG_SETMASK, &wait_mask, &old);
	while ((st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE)) == SHOAL_SLOT_REQUEST) {
		__atomic_store_n(&s->client_waiting, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&s->state, __ATOMIC_SEQ_CST) == SHOAL_SLOT_REQUEST &&
		    slot_futex_wait_ms(&s->state, SHOAL_SLOT_REQUEST, ms) == -ETIMEDOUT) {
			waited_ms += ms;
			if (waited_ms >= 1000) {
				waited_ms = 0;
				if (link_gone()) {
					/* The instance died without closing the slot:
					 * no answer will ever come, to any thread. */
					__atomic_store_n(&shim_g.instance_gone, 1, __ATOMIC_RELAXED);
					st = SHOAL_SLOT_CLOSED;
					break;
				}
			}
		}
		__atomic_store_n(&s->client_waiting, 0, __ATOMIC_SEQ_CST);
		if (!*cancelled && sig_should_interrupt(c->prog_mask)) {
			slot_cancel(c, seq);
			*cancelled = 1;
		}
		if (ms < SLOT_POLL_MAX_MS)
			ms *= 2;
	}
	shim_sigprocmask(SHIM_SIG_SETMASK, &old, NULL);
	return st;
}

long slot_post(struct slot_call *c, long nr, const long args[6])
{
	struct shoal_slot *s = c->slot;
	int cancelled = 0, reposts = 0, i;
	uint32_t st, seq;
	long r;

again:
	st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
	if (st == SHOAL_SLOT_CLOSED)
		return -EIO;
	seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED) + 1;
	__atomic_store_n(&s->seq, seq, __ATOMIC_RELAXED);
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
	if (st == SHOAL_SLOT_REQUEST)
		st = slot_sleep(c, seq, &cancelled);
	if (st == SHOAL_SLOT_CLOSED)
		return -EIO;
	r = s->ret;
	if (r != -EINTR)
		return r;
	/* Only the instance's signals interrupt a job's kernel task. One we
	 * did not ask for (a cancel that came late for an earlier call) left
	 * the call undone: post it again. */
	if (!cancelled && ++reposts < SLOT_REPOSTS_MAX)
		goto again;
	return slot_restartable(nr) ? -SLOT_ERESTART : -EINTR;
}

void slot_end(struct slot_call *c)
{
	uint32_t done = SHOAL_SLOT_DONE;

	/* Only DONE becomes IDLE: a slot the instance closed stays closed. */
	__atomic_compare_exchange_n(&c->slot->state, &done, SHOAL_SLOT_IDLE, 0, __ATOMIC_RELEASE,
				    __ATOMIC_RELAXED);
}
