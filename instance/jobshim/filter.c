// SPDX-License-Identifier: GPL-2.0
/*
 * filter.c: the seccomp filter that sends the program's system calls to the
 * shim's SIGSYS handler. The policy is data: one table of calls the program
 * may make directly, each with the reason it is safe on the host; the rest
 * of the program is SECCOMP_RET_TRAP. The shim's own calls are recognised by
 * their instruction pointer: the shim is linked inside [SHOAL_SHIM_BASE,
 * SHOAL_SHIM_LIMIT), a range that is the same in every process of every job,
 * so one filter installed once (it survives fork and execve) serves all the
 * shims that will run under it.
 *
 * The trapping part is not a security boundary: a program can jump to a
 * `syscall` instruction inside the shim. The jail (namespaces, the
 * read-only host view, its limits) is the boundary, and part of it lives
 * here: the job's deny list (filter_denied_calls, namespace flags of clone)
 * is decided before the instruction pointer is ever read, so it holds for
 * every call of the job, made from the shim's text or not. It used to be a
 * filter of its own, loaded by the jail under this one; the kernel runs
 * every filter of the stack on every call that is not in its action cache,
 * so it cost each trapped call (and each host call of the shim) one more
 * filter run (~55 ns in a test program here, too little to see in the
 * job-bench's noise). The zygote's deny filter (sandbox.c) still stacks
 * under this one.
 */
#include "instance/jobshim/filter.h"

#include "instance/job_abi.h"
#include "instance/job_denied.h"
#include "instance/jobshim/sys.h"

#include <stddef.h>

/* Calls that only touch the process's own memory, threads or clocks: they
 * mean the same on the host as in the instance, and they are frequent. */
static const unsigned short filter_fast_calls[] = {
	__NR_futex, /* thread synchronisation on the job's own memory */
	__NR_munmap, /* memory: the host owns the job's address space */
	__NR_mprotect,	      __NR_madvise,	    __NR_mremap,      __NR_brk,
	__NR_clock_gettime, /* clocks: the host's time is the job's time */
	__NR_clock_getres,    __NR_clock_nanosleep, __NR_nanosleep,   __NR_gettimeofday,
	__NR_gettid, /* identity inside the job's own pid namespace */
	__NR_getpid,	      __NR_getppid,	    __NR_getpgrp,     __NR_getpgid,
	__NR_getsid,	      __NR_getuid,	    __NR_geteuid,     __NR_getgid,
	__NR_getegid,	      __NR_getresuid,	    __NR_getresgid,   __NR_getgroups,
	__NR_getrusage, /* the job's own usage and limits */
	__NR_times,	      __NR_getrlimit,	    __NR_sched_yield, __NR_sched_getaffinity,
	__NR_getrandom, /* host entropy */
	__NR_set_robust_list, /* glibc thread start-up */
	__NR_get_robust_list, __NR_set_tid_address, __NR_membarrier,
};

/*
 * The job's deny list (instance/job_denied.h, the same list as the zygote's
 * filter): what no process of a job may do on the host, from the program or
 * from the shim's text, whatever the shim would do with it (sysclass.c
 * refuses all of these and more, but only for calls that trap): EPERM.
 * clone3 is ENOSYS (its flags are in memory), and clone with any namespace
 * flag is EPERM (FILTER_CLONE_NEW_MASK).
 */
#define FILTER_DENIED_NR(name) __NR_##name,
static const unsigned short filter_denied_calls[] = { JOB_DENIED_CALLS(FILTER_DENIED_NR) };

/* Offsets in struct seccomp_data (x86-64 is little-endian). */
#define SD_NR 0
#define SD_ARCH 4
#define SD_IP_LO 8
#define SD_IP_HI 12
#define SD_ARG_LO(i) (16 + 8 * (i))

/* CLONE_NEW* bits of clone(2)'s 32-bit flags (CLONE_NEWTIME is clone3-only). */
#define FILTER_CLONE_NEW_MASK 0x7e020000u

#define STMT(code, k) ((struct sock_filter){ (unsigned short)(code), 0, 0, (unsigned int)(k) })
#define FILTER_MAX 160

/* Emit a conditional jump at *@n to the absolute instructions @jt / @jf
 * (NEXT: the following one); BPF offsets are relative and forward only. */
#define NEXT 0xffffffffu
static void jump(struct sock_filter *prog, unsigned int *n, unsigned short code, uint32_t k,
		 unsigned int jt, unsigned int jf)
{
	unsigned int at = *n;

	prog[at].code = code;
	prog[at].k = k;
	prog[at].jt = (unsigned char)(jt == NEXT ? 0 : jt - at - 1);
	prog[at].jf = (unsigned char)(jf == NEXT ? 0 : jf - at - 1);
	*n = at + 1;
}

long filter_build(struct sock_filter *prog, unsigned int max)
{
	unsigned int nfast = sizeof(filter_fast_calls) / sizeof(filter_fast_calls[0]);
	unsigned int ndeny = sizeof(filter_denied_calls) / sizeof(filter_denied_calls[0]);
	unsigned int n = 0, i, numbers, program, clone_check, mmap_check, trap, allow, enosys,
		     eperm;

	/*
	 * Classic BPF jumps only forward, so the layout is: the head (3 for
	 * the architecture, load nr, x32, rt_sigreturn, clone3, rseq, 4 for the
	 * namespace flags of clone), the fast calls, the denied calls, 4 of
	 * the shim's instruction pointer, 3 for the program's other calls
	 * (reload nr, clone, mmap) and RET TRAP, the clone check (2), the mmap
	 * check (2), then the shared returns TRAP, ALLOW, ERRNO(ENOSYS),
	 * ERRNO(EPERM).
	 *
	 * Every decision that depends on the number alone comes before the
	 * first load of the instruction pointer: the kernel's seccomp action
	 * cache (a bitmap per architecture, filled when a filter is attached)
	 * then knows that rt_sigreturn and the fast calls are always allowed
	 * and skips the filter stack for them (this filter and the zygote's
	 * deny filter under it: the cache is kept only for numbers that every
	 * filter of the stack allows whatever the arguments). The sigreturn of
	 * every trapped call is one of them, and so are futex, clock_gettime
	 * and the shim's own futex wake-ups. A filter that reads the
	 * instruction pointer first is never cached: every call, and every
	 * sigreturn, ran the whole stack.
	 */
	numbers = 12;
	program = numbers + nfast + ndeny + 4;
	clone_check = program + 4;
	mmap_check = clone_check + 2;
	trap = mmap_check + 2;
	allow = trap + 1;
	enosys = allow + 1;
	eperm = enosys + 1;
	if (eperm + 1 > max)
		return -EINVAL;

	/* Foreign architectures (i386 `int 0x80`) have other numbers. */
	prog[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, SD_ARCH);
	jump(prog, &n, BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 3, NEXT);
	prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	prog[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, SD_NR);
	/* x32 numbers (bit 30) are not served (the shim makes none). */
	jump(prog, &n, BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, enosys, NEXT);
	/* Returning from any signal handler, ours included, must work. */
	jump(prog, &n, BPF_JMP | BPF_JEQ | BPF_K, __NR_rt_sigreturn, allow, NEXT);
	/* clone3 passes its flags in memory the filter cannot read: glibc
	 * falls back to clone on ENOSYS (the shim never calls clone3). */
	jump(prog, &n, BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, enosys, NEXT);
	/* No restartable sequences: with an rseq area registered, the kernel
	 * updates it on every signal delivery, so each trapped call paid for
	 * it (~90 ns a trap in A/B runs here). rseq is optional by design
	 * (kernels without CONFIG_RSEQ): glibc takes ENOSYS as "not
	 * available" and its sched_getcpu falls back to the vDSO. */
	jump(prog, &n, BPF_JMP | BPF_JEQ | BPF_K, __NR_rseq, enosys, NEXT);
	/* No new namespace, from anywhere (the deny list's clone rule). Only
	 * clone reads an argument here; the other numbers skip it, so the
	 * action cache still sees them decided by the number alone. */
	jump(prog, &n, BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, NEXT, numbers);
	prog[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, SD_ARG_LO(0));
	jump(prog, &n, BPF_JMP | BPF_JSET | BPF_K, FILTER_CLONE_NEW_MASK, eperm, NEXT);
	prog[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, SD_NR);
	/* numbers: */
	for (i = 0; i < nfast; i++)
		jump(prog, &n, BPF_JMP | BPF_JEQ | BPF_K, filter_fast_calls[i], allow, NEXT);
	for (i = 0; i < ndeny; i++)
		jump(prog, &n, BPF_JMP | BPF_JEQ | BPF_K, filter_denied_calls[i], eperm, NEXT);
	/* Calls from the shim's own text run as they are. */
	prog[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, SD_IP_HI);
	jump(prog, &n, BPF_JMP | BPF_JEQ | BPF_K, SHOAL_SHIM_BASE >> 32, NEXT, program);
	prog[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, SD_IP_LO);
	jump(prog, &n, BPF_JMP | BPF_JGE | BPF_K, (uint32_t)SHOAL_SHIM_LIMIT, NEXT, allow);
	/* program: the program's other calls, by number. */
	prog[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, SD_NR);
	/* New threads share everything with their process: let them start
	 * directly; they register with the instance on their first call. */
	jump(prog, &n, BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, clone_check, NEXT);
	/* Anonymous mappings are pure host memory; file mappings trap. */
	jump(prog, &n, BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, mmap_check, NEXT);
	prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
	/* clone_check: CLONE_THREAD set (namespace bits were refused above). */
	prog[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, SD_ARG_LO(0));
	jump(prog, &n, BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, allow, trap);
	/* mmap_check: flags are the fourth argument. */
	prog[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, SD_ARG_LO(3));
	jump(prog, &n, BPF_JMP | BPF_JSET | BPF_K, MAP_ANONYMOUS, allow, trap);
	prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
	prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
	prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);

	if (n != eperm + 1)
		return -EINVAL;
	return n;
}

long filter_install(void)
{
	static struct sock_filter prog[FILTER_MAX];
	struct sock_fprog fprog;
	long n = filter_build(prog, FILTER_MAX);

	if (n < 0)
		return n;
	fprog.len = (unsigned short)n;
	fprog.filter = prog;
	return sys3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, (long)&fprog);
}
