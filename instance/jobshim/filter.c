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
 * The filter is not a security boundary: a program can jump to a `syscall`
 * instruction inside the shim. The jail (namespaces, the read-only host
 * view, its own limits) is the boundary; this filter only makes an honest
 * program's calls reach the right kernel.
 */
#include "instance/jobshim/filter.h"

#include "instance/job_abi.h"
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
	__NR_get_robust_list, __NR_set_tid_address, __NR_rseq,	      __NR_membarrier,
};

/* Offsets in struct seccomp_data (x86-64 is little-endian). */
#define SD_NR 0
#define SD_ARCH 4
#define SD_IP_LO 8
#define SD_IP_HI 12
#define SD_ARG_LO(i) (16 + 8 * (i))

/* CLONE_NEW* bits of clone(2)'s 32-bit flags (CLONE_NEWTIME is clone3-only). */
#define FILTER_CLONE_NEW_MASK 0x7e020000u

#define STMT(code, k) ((struct sock_filter){ (unsigned short)(code), 0, 0, (unsigned int)(k) })
#define FILTER_MAX 96

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

long filter_install(void)
{
	static struct sock_filter prog[FILTER_MAX];
	unsigned int nfast = sizeof(filter_fast_calls) / sizeof(filter_fast_calls[0]);
	unsigned int n = 0, i, program, clone_check, mmap_check, trap, allow, enosys;
	struct sock_fprog fprog;

	/*
	 * Classic BPF jumps only forward, so the layout is: 7 instructions of
	 * head (architecture (3), load nr, x32, rt_sigreturn, clone3), the fast
	 * calls, 4 of the shim's instruction pointer, 3 for the program's
	 * other calls (reload nr, clone, mmap) and RET TRAP, the clone check
	 * (3), the mmap check (2), then the shared returns TRAP, ALLOW,
	 * ERRNO(ENOSYS).
	 *
	 * Every decision that depends on the number alone comes before the
	 * first load of the instruction pointer: the kernel's seccomp action
	 * cache (a bitmap per architecture, filled when a filter is attached)
	 * then knows that rt_sigreturn and the fast calls are always allowed
	 * and skips the filter stack for them (this filter and the jail's
	 * deny filters under it: the cache is kept only for numbers that
	 * every filter of the stack allows whatever the arguments). The
	 * sigreturn of every trapped call is one of them, and so are futex,
	 * clock_gettime and the shim's own futex wake-ups. A filter that reads
	 * the instruction pointer first is never cached: every call, and
	 * every sigreturn, ran the whole stack.
	 */
	program = 7 + nfast + 4;
	clone_check = program + 4;
	mmap_check = clone_check + 3;
	trap = mmap_check + 2;
	allow = trap + 1;
	enosys = allow + 1;

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
	for (i = 0; i < nfast; i++)
		jump(prog, &n, BPF_JMP | BPF_JEQ | BPF_K, filter_fast_calls[i], allow, NEXT);
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
	/* clone_check: CLONE_THREAD set and no namespace bits. */
	prog[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, SD_ARG_LO(0));
	jump(prog, &n, BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, NEXT, trap);
	jump(prog, &n, BPF_JMP | BPF_JSET | BPF_K, FILTER_CLONE_NEW_MASK, trap, allow);
	/* mmap_check: flags are the fourth argument. */
	prog[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, SD_ARG_LO(3));
	jump(prog, &n, BPF_JMP | BPF_JSET | BPF_K, MAP_ANONYMOUS, allow, trap);
	prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
	prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);

	if (n > FILTER_MAX || n != enosys + 1)
		return -EINVAL;
	fprog.len = (unsigned short)n;
	fprog.filter = prog;
	return sys3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, (long)&fprog);
}
