// SPDX-License-Identifier: GPL-2.0
/*
 * handler.c: the SIGSYS handler. The seccomp filter turns every system call
 * of the program that is not on its fast list into a SIGSYS; the kernel
 * delivers it here with the call's number in siginfo and its arguments in
 * the saved registers. The handler decides where the call runs, runs it and
 * writes the result into the saved %rax; returning from the handler
 * (rt_sigreturn) resumes the program after its `syscall` instruction as if
 * the kernel had answered.
 *
 * The calls that the shim must own whatever the mode come first: signal
 * dispositions and masks (SIGSYS is the shim's), process creation and
 * execve (the shim must survive them), exits, and the calls no job may make.
 * Then passthrough mode runs the rest on the host as it is, and forwarding
 * mode hands it to forward.c.
 */
#include "instance/jobshim/handler.h"

#include "instance/jobshim/exec.h"
#include "instance/jobshim/forward.h"
#include "instance/jobshim/patch.h"
#include "instance/jobshim/shim.h"
#include "instance/jobshim/sig.h"
#include "instance/jobshim/slot.h"
#include "instance/jobshim/sysclass.h"
#include "instance/jobshim/sys.h"
#include "instance/jobshim/thread.h"

void shim_restorer(void);

/* Synchronous faults stay deliverable: a fault inside the handler must
 * not turn into a hang or a silent kill with the signal blocked. */
const uint64_t handler_mask =
	~(SHIM_SIGBIT(4) | SHIM_SIGBIT(5) | SHIM_SIGBIT(7) | SHIM_SIGBIT(8) | SHIM_SIGBIT(11));

#define SYS_SECCOMP_CODE 1 /* si_code of a seccomp SIGSYS */

/* Host calls that can wait for long: signals must reach the program meanwhile. */
static int host_call_may_block(long nr)
{
	switch (nr) {
	case __NR_wait4:
	case __NR_waitid:
	case __NR_pause:
	case __NR_rt_sigsuspend:
	case __NR_rt_sigtimedwait:
	case __NR_semop:
	case __NR_semtimedop:
	case __NR_msgrcv:
	case __NR_msgsnd:
	case __NR_flock:
	case __NR_poll:
	case __NR_ppoll:
	case __NR_select:
	case __NR_pselect6:
	case __NR_epoll_wait:
	case __NR_epoll_pwait:
	case __NR_epoll_pwait2:
	case __NR_read:
	case __NR_readv:
	case __NR_write:
	case __NR_writev:
	case __NR_fcntl:
		return 1;
	default:
		return 0;
	}
}

long handler_host_call(long nr, const long *a, const struct shim_ucontext *uc)
{
	uint64_t mask = uc->uc_sigmask & ~SHIM_SIGBIT(SHIM_SIGSYS);
	long r;

	/* Two sigprocmask calls cost a third of a trapped call: only a call
	 * that may wait needs the program's own mask while it runs. */
	if (!host_call_may_block(nr))
		return sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);

	shim_sigprocmask(SHIM_SIG_SETMASK, &mask, NULL);
	r = sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	shim_sigprocmask(SHIM_SIG_SETMASK, &handler_mask, NULL);
	return r;
}

static long dispatch(long nr, long *a, struct shim_ucontext *uc)
{
	long r;

	switch (nr) {
	case __NR_rt_sigaction:
		return sig_action(a);
	case __NR_rt_sigprocmask:
		return sig_procmask(a, uc);
	case __NR_clone:
	case __NR_fork:
	case __NR_vfork:
		return exec_fork(nr, a, uc);
	case __NR_execve:
	case __NR_execveat:
		return exec_execve(nr, a, uc);
	case __NR_exit:
		exec_exit_thread((int)a[0]);
	case __NR_exit_group:
		exec_exit_group((int)a[0]);
	case __NR_arch_prctl:
		/* %fs keys the tid cache (thread.c): a thread moving it
		 * must not leave its old key behind. */
		r = sys2(nr, a[0], a[1]);
		if (a[0] == 0x1002 /* ARCH_SET_FS */)
			thread_forget_tid((int32_t)shim_gettid());
		return r;
	case __NR_readlink:
	case __NR_readlinkat:
		if (exec_readlink_exe(nr, a, &r))
			return r;
		break;
	default:
		break;
	}
	switch (sysclass_of(nr)) {
	case SC_DENY:
		return -EPERM;
	case SC_ENOSYS:
		return -ENOSYS;
	default:
		break;
	}
	/* Masks passed to ppoll, pselect6, epoll_pwait, sigsuspend...: never
	 * with SIGSYS. The copies live in this frame. */
	{
		uint64_t masks[3];

		r = sig_strip_call_masks(nr, a, masks);
		if (r)
			return r;
		if (shim_g.passthrough)
			return handler_host_call(nr, a, uc);
		return forward_syscall(nr, a, uc);
	}
}

static void sigsys_cb(int sig, struct shim_siginfo *si, struct shim_ucontext *uc)
{
	struct sigcontext_64 *mc = &uc->mc;
	long a[6], r;

	(void)sig;
	if (si->si_code != SYS_SECCOMP_CODE) {
		/* A SIGSYS someone sent: the program's pretend disposition. */
		sig_foreign_sigsys(uc);
		return;
	}
	/* Counted only for SHOAL_SHIM_DEBUG: a locked add on a word every
	 * thread of the process shares is not free on every call. */
	if (shim_g.debug)
		__atomic_add_fetch(&shim_g.traps, 1, __ATOMIC_RELAXED);
	a[0] = (long)mc->di;
	a[1] = (long)mc->si;
	a[2] = (long)mc->dx;
	a[3] = (long)mc->r10;
	a[4] = (long)mc->r8;
	a[5] = (long)mc->r9;
	r = dispatch(si->syscall, a, uc);
	if (r == -SLOT_ERESTART) {
		if (sig_restarts(uc->uc_sigmask)) {
			/* Once the handler ran (rt_sigreturn delivers the
			 * signal first), the call starts again: back onto its
			 * syscall instruction, with its number in %rax. The
			 * argument registers are untouched. */
			mc->ip -= 2;
			mc->ax = (uint64_t)si->syscall;
			return;
		}
		r = -EINTR;
	}
	mc->ax = (uint64_t)r;
	patch_consider(mc->ip, si->syscall);
}

long handler_fast_call(long nr, const long *regs)
{
	struct shim_ucontext uc; /* only its signal mask is read, for fast_nr_ok's calls */
	long a[6], r;
	int i, restart;

	if (shim_g.debug)
		__atomic_add_fetch(&shim_g.fast, 1, __ATOMIC_RELAXED);
	do {
		/* The calls may change their argument array (masks are copied). */
		for (i = 0; i < 6; i++)
			a[i] = regs[i];
		/* What delivering SIGSYS would have done: the handler's mask in
		 * place, the program's kept to come back to. */
		shim_sigprocmask(SHIM_SIG_SETMASK, &handler_mask, &uc.uc_sigmask);
		r = dispatch(nr, a, &uc);
		restart = r == -SLOT_ERESTART && sig_restarts(uc.uc_sigmask);
		if (r == -SLOT_ERESTART && !restart)
			r = -EINTR;
		/* A signal that cancelled the call has its handler run here. */
		shim_sigprocmask(SHIM_SIG_SETMASK, &uc.uc_sigmask, NULL);
	} while (restart);
	return r;
}

long handler_install(void)
{
	struct shim_sigaction sa;

	sa.handler = (uint64_t)sigsys_cb;
	sa.flags = SHIM_SA_SIGINFO | SHIM_SA_RESTORER;
	sa.restorer = (uint64_t)shim_restorer;
	sa.mask = handler_mask;
	return sys4(__NR_rt_sigaction, SHIM_SIGSYS, (long)&sa, 0, 8);
}
