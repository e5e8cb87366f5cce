/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sys.h: raw x86-64 system calls for the freestanding shim. There is no libc
 * in the shim (the program's libc owns %fs and errno), so every call is an
 * inline `syscall` instruction placed in the shim's own text: the seccomp
 * filter lets a call through only when its instruction pointer lies inside
 * [SHOAL_SHIM_BASE, SHOAL_SHIM_LIMIT). Calls return the kernel's raw value,
 * >= 0 or -errno. The constants come from the kernel's uapi headers, which
 * need no libc.
 */
#ifndef SHOAL_JOBSHIM_SYS_H
#define SHOAL_JOBSHIM_SYS_H

#include <stddef.h>
#include <stdint.h>

#include <asm/unistd.h>
#include <asm/errno.h>
#include <asm/fcntl.h>
#include <linux/mman.h>
#include <asm/sigcontext.h>
#include <linux/auxvec.h>
#include <linux/elf.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <linux/audit.h>
#include <linux/prctl.h>
#include <linux/stat.h>

#ifndef AT_FDCWD
#define AT_FDCWD -100
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#define SHIM_SIGSYS 31
#define SHIM_SIGKILL 9
#define SHIM_SIGSTOP 19
#define SHIM_SIG_SETMASK 2
#define SHIM_SIG_BLOCK 0
#define SHIM_SIG_UNBLOCK 1
#define SHIM_SA_SIGINFO 0x4
#define SHIM_SA_RESTART 0x10000000
#define SHIM_SA_RESTORER 0x04000000
#define SHIM_SA_ONSTACK 0x08000000
#define SHIM_SIGCHLD 17
#define SHIM_PAGE 4096UL
#define SHIM_F_DUPFD 0
#define SHIM_F_GETFD 1
#define SHIM_F_SETFD 2
#define SHIM_F_DUPFD_CLOEXEC 1030
#define SHIM_FD_CLOEXEC 1
#define SHIM_SIGBIT(s) (1UL << ((s)-1))

static inline long sys0(long n)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"(n) : "rcx", "r11", "memory");
	return r;
}

static inline long sys1(long n, long a)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a) : "rcx", "r11", "memory");
	return r;
}

static inline long sys2(long n, long a, long b)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return r;
}

static inline long sys3(long n, long a, long b, long c)
{
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return r;
}

static inline long sys4(long n, long a, long b, long c, long d)
{
	long r;
	register long r10 __asm__("r10") = d;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return r;
}

static inline long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	long r;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return r;
}

/* The kernel's struct sigaction for rt_sigaction on x86-64 (not glibc's). */
struct shim_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

/* The kernel's ucontext on x86-64, as the SIGSYS handler receives it. */
struct shim_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	uint64_t ss_sp;
	int32_t ss_flags;
	int32_t ss_pad;
	uint64_t ss_size;
	struct sigcontext_64 mc;
	uint64_t uc_sigmask;
};

/* The parts of the kernel's siginfo a seccomp SIGSYS fills in. */
struct shim_siginfo {
	int32_t si_signo;
	int32_t si_errno;
	int32_t si_code;
	int32_t pad;
	uint64_t call_addr;
	int32_t syscall;
	uint32_t arch;
	char rest[128 - 24];
};

static inline long shim_openat(int dirfd, const char *path, int flags, int mode)
{
	return sys4(__NR_openat, dirfd, (long)path, flags, mode);
}

static inline long shim_close(int fd)
{
	return sys1(__NR_close, fd);
}

static inline long shim_read(int fd, void *buf, size_t len)
{
	return sys3(__NR_read, fd, (long)buf, (long)len);
}

static inline long shim_write(int fd, const void *buf, size_t len)
{
	return sys3(__NR_write, fd, (long)buf, (long)len);
}

static inline long shim_pread(int fd, void *buf, size_t len, long off)
{
	return sys4(__NR_pread64, fd, (long)buf, (long)len, off);
}

static inline long shim_mmap(unsigned long addr, size_t len, int prot, int flags, int fd, long off)
{
	return sys6(__NR_mmap, (long)addr, (long)len, prot, flags, fd, off);
}

static inline long shim_munmap(unsigned long addr, size_t len)
{
	return sys2(__NR_munmap, (long)addr, (long)len);
}

static inline long shim_mprotect(unsigned long addr, size_t len, int prot)
{
	return sys3(__NR_mprotect, (long)addr, (long)len, prot);
}

static inline long shim_fcntl(int fd, int cmd, long arg)
{
	return sys3(__NR_fcntl, fd, cmd, arg);
}

static inline long shim_gettid(void)
{
	return sys0(__NR_gettid);
}

static inline long shim_getpid(void)
{
	return sys0(__NR_getpid);
}

static inline __attribute__((noreturn)) void shim_exit_group(int status)
{
	for (;;)
		sys1(__NR_exit_group, status);
}

static inline long shim_futex_wait(uint32_t *word, uint32_t val)
{
	return sys4(__NR_futex, (long)word, FUTEX_WAIT, val, 0);
}

/* FUTEX_WAIT for at most @secs seconds: 0, -EAGAIN, -EINTR or -ETIMEDOUT. */
static inline long shim_futex_wait_timeout(uint32_t *word, uint32_t val, long secs)
{
	long ts[2] = { secs, 0 };

	return sys4(__NR_futex, (long)word, FUTEX_WAIT, val, (long)ts);
}

static inline long shim_futex_wake(uint32_t *word, int n)
{
	return sys3(__NR_futex, (long)word, FUTEX_WAKE, n);
}

static inline long shim_sigprocmask(int how, const uint64_t *set, uint64_t *old)
{
	return sys4(__NR_rt_sigprocmask, how, (long)set, (long)old, 8);
}

#endif
