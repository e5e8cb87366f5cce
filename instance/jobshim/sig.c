// SPDX-License-Identifier: GPL-2.0
/*
 * sig.c: the shim owns SIGSYS, the program owns every other signal. If the
 * program could block SIGSYS or install its own handler for it, its next
 * trapped call would kill it (a seccomp trap with SIGSYS blocked is fatal)
 * or bypass the shim. So: its SIGSYS disposition is stored here and never
 * installed; SIGSYS is removed from every mask it hands to the kernel. A
 * SIGSYS from kill(2) honours the stored disposition as far as ignore or
 * die; a program's own SIGSYS handler never runs (an honest gap).
 */
#include "instance/jobshim/sig.h"

#include "instance/jobshim/handler.h"
#include "instance/jobshim/lib.h"
#include "instance/jobshim/shim.h"

#define SIG_NOT_SYS (~SHIM_SIGBIT(SHIM_SIGSYS))
#define SIG_UNBLOCKABLE (SHIM_SIGBIT(SHIM_SIGKILL) | SHIM_SIGBIT(SHIM_SIGSTOP))

long sig_action(const long *a)
{
	const struct shim_sigaction *act = (const void *)a[1];
	struct shim_sigaction *old = (void *)a[2], copy;
	long r;

	if (a[3] != 8)
		return -EINVAL;
	if (a[0] == SHIM_SIGSYS) {
		if (old)
			shim_memcpy(old, shim_g.sigsys_action, sizeof(*old));
		if (act)
			shim_memcpy(shim_g.sigsys_action, act, sizeof(*act));
		return 0;
	}
	if (act) {
		shim_memcpy(&copy, act, sizeof(copy));
		copy.mask &= SIG_NOT_SYS;
		act = &copy;
	}
	r = sys4(__NR_rt_sigaction, a[0], (long)act, (long)old, 8);
	/* Which signals run program code (slot.c's wait mask needs it), and
	 * which of those restart an interrupted call (handler.c). */
	if (!r && act && a[0] >= 1 && a[0] <= 64) {
		if (act->handler > 1 /* neither SIG_DFL nor SIG_IGN */)
			__atomic_or_fetch(&shim_g.handled, SHIM_SIGBIT(a[0]), __ATOMIC_RELAXED);
		else
			__atomic_and_fetch(&shim_g.handled, ~SHIM_SIGBIT(a[0]), __ATOMIC_RELAXED);
		if (act->flags & SHIM_SA_RESTART)
			__atomic_or_fetch(&shim_g.restart, SHIM_SIGBIT(a[0]), __ATOMIC_RELAXED);
		else
			__atomic_and_fetch(&shim_g.restart, ~SHIM_SIGBIT(a[0]), __ATOMIC_RELAXED);
	}
	return r;
}

long sig_procmask(const long *a, struct shim_ucontext *uc)
{
	const uint64_t *set = (const void *)a[1];
	uint64_t *old = (void *)a[2], cur = uc->uc_sigmask, v;

	if (a[3] != 8)
		return -EINVAL;
	if (set) {
		v = *set;
		switch (a[0]) {
		case SHIM_SIG_BLOCK:
			cur |= v;
			break;
		case SHIM_SIG_UNBLOCK:
			cur &= ~v;
			break;
		case SHIM_SIG_SETMASK:
			cur = v;
			break;
		default:
			return -EINVAL;
		}
	}
	if (old)
		*old = uc->uc_sigmask;
	uc->uc_sigmask = cur & SIG_NOT_SYS & ~SIG_UNBLOCKABLE;
	return 0;
}

/* Replace the mask pointer a[@i] (size in a[@sz], -1: fixed 8) by a copy. */
static long strip_at(long *a, int i, int sz, uint64_t *copy)
{
	if (!a[i])
		return 0;
	if (sz >= 0 && a[sz] != 8)
		return -EINVAL;
	*copy = *(const uint64_t *)a[i] & SIG_NOT_SYS;
	a[i] = (long)copy;
	return 0;
}

long sig_strip_call_masks(long nr, long *a, uint64_t masks[3])
{
	switch (nr) {
	case __NR_rt_sigsuspend:
		return strip_at(a, 0, 1, &masks[0]);
	case __NR_rt_sigtimedwait:
		return strip_at(a, 0, 3, &masks[0]);
	case __NR_signalfd4:
		return strip_at(a, 1, 2, &masks[0]);
	case __NR_ppoll:
		return strip_at(a, 3, 4, &masks[0]);
	case __NR_epoll_pwait:
	case __NR_epoll_pwait2:
		return strip_at(a, 4, 5, &masks[0]);
	case __NR_pselect6: {
		/* The sixth argument points at { const sigset_t *, size_t }:
		 * a new pair { &masks[0], 8 } in masks[1..2]. */
		const uint64_t *pair = (const void *)a[5];

		if (!pair || !pair[0])
			return 0;
		if (pair[1] != 8)
			return -EINVAL;
		masks[0] = *(const uint64_t *)pair[0] & SIG_NOT_SYS;
		masks[1] = (uint64_t)&masks[0];
		masks[2] = 8;
		a[5] = (long)&masks[1];
		return 0;
	}
	default:
		return 0;
	}
}

void sig_foreign_sigsys(struct shim_ucontext *uc)
{
	struct shim_sigaction dfl = { 0, 0, 0, 0 };
	uint64_t unblock = SHIM_SIGBIT(SHIM_SIGSYS);

	(void)uc;
	if (shim_g.sigsys_action[0] == 1 /* SIG_IGN */)
		return;
	/* SIG_DFL, or a handler we cannot run: die of SIGSYS, as the
	 * program's parent expects from an unhandled SIGSYS. */
	sys4(__NR_rt_sigaction, SHIM_SIGSYS, (long)&dfl, 0, 8);
	shim_sigprocmask(SHIM_SIG_UNBLOCK, &unblock, NULL);
	sys3(__NR_tgkill, shim_getpid(), shim_gettid(), SHIM_SIGSYS);
	shim_exit_group(128 + SHIM_SIGSYS);
}

uint64_t sig_wait_mask(uint64_t prog_mask)
{
	return prog_mask | __atomic_load_n(&shim_g.handled, __ATOMIC_RELAXED) |
	       SHIM_SIGBIT(SHIM_SIGSYS);
}

/* Pending signals that would run a handler of the program's if unblocked. */
static uint64_t sig_pending_handled(uint64_t prog_mask)
{
	uint64_t pending = 0;

	if (sys2(__NR_rt_sigpending, (long)&pending, 8))
		return 0;
	return pending & __atomic_load_n(&shim_g.handled, __ATOMIC_RELAXED) & ~prog_mask &
	       SIG_NOT_SYS;
}

int sig_should_interrupt(uint64_t prog_mask)
{
	return sig_pending_handled(prog_mask) != 0;
}

int sig_restarts(uint64_t prog_mask)
{
	uint64_t pending = sig_pending_handled(prog_mask);

	/* No handler to run (the signal went to another thread meanwhile):
	 * the kernel would restart too. */
	return (pending & ~__atomic_load_n(&shim_g.restart, __ATOMIC_RELAXED)) == 0;
}
