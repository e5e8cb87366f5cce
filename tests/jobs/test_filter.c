// SPDX-License-Identifier: GPL-2.0
/*
 * The shim's seccomp filter (instance/jobshim/filter.c), built hosted and
 * installed in a forked child, checked by what each call does: the fast
 * calls run without a trap, the rest of the program's calls trap, calls
 * from the shim's address range run as they are, and the job's deny list
 * (once a filter of the jail's own, now part of this one) answers EPERM
 * for every call, also for one made from the shim's range, which a
 * program can always reach by jumping there.
 *
 * The child stands in for the shim with a `syscall` gadget mapped at
 * SHOAL_SHIM_BASE and a SIGSYS handler that runs every trapped call
 * through it; it writes what it saw into shared memory and the parent
 * checks it. Run as root, the denied calls would succeed without the
 * filter (unshare, clone of a namespace, mount's argument checks).
 */
#include <errno.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "instance/job_abi.h"
#include "instance/jobshim/filter.h"
#include "tests/harness.h"

/* mov rdi,rax; rsi,rdi; rdx,rsi; rcx,rdx; r8,r10; r9,r8; 8(rsp),r9; syscall; ret */
static const unsigned char gadget_code[] = { 0x48, 0x89, 0xf8, 0x48, 0x89, 0xf7, 0x48, 0x89, 0xd6,
					     0x48, 0x89, 0xca, 0x4d, 0x89, 0xc2, 0x4d, 0x89, 0xc8,
					     0x4c, 0x8b, 0x4c, 0x24, 0x08, 0x0f, 0x05, 0xc3 };

typedef long (*gadget_fn)(long nr, long a0, long a1, long a2, long a3, long a4, long a5);
static gadget_fn gadget;

/* What the child saw, in memory shared with the parent. */
struct seen {
	int ready;
	long traps;
	long getppid, getppid_traps;
	long getpriority_traps;
	long unshare_errno, unshare_traps;
	long shim_unshare, shim_mount, shim_clone_ns, shim_clone3, shim_ptrace;
	long shim_getpriority_traps;
	long clone_ns_errno, clone_ns_traps;
	long x32_errno;
	long anon_mmap_traps, file_mmap_traps;
};
static struct seen *seen;

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	greg_t *g = ((ucontext_t *)ctx)->uc_mcontext.gregs;

	(void)sig;
	seen->traps++;
	g[REG_RAX] = gadget(si->si_syscall, g[REG_RDI], g[REG_RSI], g[REG_RDX], g[REG_R10],
			    g[REG_R8], g[REG_R9]);
}

/* Runs as the filtered child; returns through exit_group from the gadget. */
static void child(void)
{
	struct sigaction sa;
	void *p;
	long r, t;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    filter_install())
		_exit(2);

	t = seen->traps;
	seen->getppid = syscall(SYS_getppid);
	seen->getppid_traps = seen->traps - t;

	t = seen->traps;
	syscall(SYS_getpriority, PRIO_PROCESS, 0);
	seen->getpriority_traps = seen->traps - t;

	t = seen->traps;
	r = syscall(SYS_unshare, CLONE_NEWUTS);
	seen->unshare_errno = r < 0 ? errno : 0;
	seen->unshare_traps = seen->traps - t;

	t = seen->traps;
	r = syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0);
	if (r == 0)
		gadget(SYS_exit_group, 0, 0, 0, 0, 0, 0); /* a namespace child: a failure */
	seen->clone_ns_errno = r < 0 ? errno : 0;
	seen->clone_ns_traps = seen->traps - t;

	/* From the shim's range: the deny list still holds... */
	seen->shim_unshare = gadget(SYS_unshare, CLONE_NEWUTS, 0, 0, 0, 0, 0);
	seen->shim_mount = gadget(SYS_mount, 0, 0, 0, 0, 0, 0);
	seen->shim_ptrace = gadget(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0, 0, 0);
	r = gadget(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0, 0);
	if (r == 0)
		gadget(SYS_exit_group, 0, 0, 0, 0, 0, 0);
	seen->shim_clone_ns = r;
	seen->shim_clone3 = gadget(SYS_clone3, 0, 0, 0, 0, 0, 0);
	/* ...and everything else runs without a trap. */
	t = seen->traps;
	gadget(SYS_getpriority, PRIO_PROCESS, 0, 0, 0, 0, 0);
	seen->shim_getpriority_traps = seen->traps - t;

	r = syscall(0x40000000 | SYS_getpid);
	seen->x32_errno = r < 0 ? errno : 0;

	t = seen->traps;
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	seen->anon_mmap_traps = seen->traps - t;
	if (p != MAP_FAILED)
		munmap(p, 4096);
	t = seen->traps;
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 0, 0);
	seen->file_mmap_traps = seen->traps - t;

	seen->ready = 1;
	gadget(SYS_exit_group, 0, 0, 0, 0, 0, 0);
}

TEST(filter_traps_allows_and_denies)
{
	struct sock_filter small[8];
	void *code;
	pid_t pid;
	int st;

	CHECK_EQ_INT(filter_build(small, 8), -EINVAL);

	seen = mmap(NULL, sizeof(*seen), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(seen != MAP_FAILED);
	memset(seen, 0, sizeof(*seen));
	code = mmap((void *)(SHOAL_SHIM_BASE + 0x1000), 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(code == (void *)(SHOAL_SHIM_BASE + 0x1000));
	memcpy(code, gadget_code, sizeof(gadget_code));
	CHECK(mprotect(code, 4096, PROT_READ | PROT_EXEC) == 0);
	gadget = (gadget_fn)code;

	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		child();
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_EQ_INT(seen->ready, 1);

	CHECK_EQ_INT(seen->getppid, getpid());
	CHECK_EQ_INT(seen->getppid_traps, 0); /* a fast call */
	CHECK_EQ_INT(seen->getpriority_traps, 1); /* the program's: trapped */
	CHECK_EQ_INT(seen->shim_getpriority_traps, 0); /* the shim's: runs */
	CHECK_EQ_INT(seen->unshare_errno, EPERM);
	CHECK_EQ_INT(seen->unshare_traps, 0); /* denied by the filter, not the handler */
	CHECK_EQ_INT(seen->clone_ns_errno, EPERM);
	CHECK_EQ_INT(seen->clone_ns_traps, 0);
	CHECK_EQ_INT(seen->shim_unshare, -EPERM);
	CHECK_EQ_INT(seen->shim_mount, -EPERM);
	CHECK_EQ_INT(seen->shim_ptrace, -EPERM);
	CHECK_EQ_INT(seen->shim_clone_ns, -EPERM);
	CHECK_EQ_INT(seen->shim_clone3, -ENOSYS);
	CHECK_EQ_INT(seen->x32_errno, ENOSYS);
	CHECK_EQ_INT(seen->anon_mmap_traps, 0);
	CHECK_EQ_INT(seen->file_mmap_traps, 1);
	munmap(code, 4096);
	munmap(seen, sizeof(*seen));
}
