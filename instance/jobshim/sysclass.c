// SPDX-License-Identifier: GPL-2.0
/*
 * sysclass.c: the shim's policy, one entry per x86-64 system call. A job is
 * an unmodified program whose world is split in two: its memory, threads,
 * signals and processes are host things (the host runs them faster and
 * knows them), its files, sockets, pipes and polls belong to the instance's
 * kernel (that is what makes it a job *of the instance*). Each entry says
 * which side runs a call and, for forwarded calls, how each argument is
 * copied into the slot (sysclass.h). Calls nobody in a job may make answer
 * EPERM and never reach a kernel; calls missing here answer ENOSYS.
 *
 * Sizes are the x86-64 structures: struct stat 144, statx 256, statfs 120,
 * utsname 390, epoll_event 12, timespec 16, itimerspec 32, open_how 24.
 */
#include "instance/jobshim/sysclass.h"

#include <asm/unistd.h>

/*
 * One argument: its kind and parameter. The table lists them flat and
 * brace elision fills .arg pairwise: one call per line stays readable (and
 * clang-format keeps it so), hence -Wmissing-braces is off for the table.
 */
#define V SA_VAL, 0
#define FD SA_FD, 0
#define DFD SA_DIRFD, 0
#define DFD2 SA_DIRFD2, 0
#define P SA_PATH, 0
#define P2 SA_PATH2, 0
#define STR SA_STR, 0
#define IN(i) SA_IN, i
#define OUT(i) SA_OUT, i
#define ORET(i) SA_OUTRET, i
#define INF(n) SA_INFIX, n
#define OUTF(n) SA_OUTFIX, n
#define IOF(n) SA_INOUTFIX, n
#define INLP(i) SA_INLENP, i
#define OUTLP(i) SA_OUTLENP, i

/* Forwarded, with the argument kinds in order. */
#define F(name, ...) [__NR_##name] = { .cls = SC_FORWARD, .arg = { __VA_ARGS__ } }
/* Forwarded; routed to the host it makes a placeholder (open and friends). */
#define FOPEN(name, ...) [__NR_##name] = { .cls = SC_FORWARD, .newfd = 1, .arg = { __VA_ARGS__ } }
/* Forwarded; a long buffer goes in chunks (1) or is clamped (2). */
#define FCH(name, ch, off, ...) \
	[__NR_##name] = { .cls = SC_FORWARD, .chunk = ch, .offarg = off, .arg = { __VA_ARGS__ } }
#define H(name, ...) [__NR_##name] = { .cls = SC_HOST, .arg = { __VA_ARGS__ } }
#define HFD(name) [__NR_##name] = { .cls = SC_HOSTFD }
#define D(name) [__NR_##name] = { .cls = SC_DENY }
#define S(name) [__NR_##name] = { .cls = SC_SPECIAL }

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-braces"
static const struct sys_desc sysclass_table[SYSCLASS_MAX] = {
	/* Reading and writing. Writes go in chunks until done (a blocking
	 * write must complete); reads return at most one chunk. */
	FCH(read, 2, 0, FD, ORET(2), V),
	FCH(write, 1, 0, FD, IN(2), V),
	FCH(pread64, 2, 0, FD, ORET(2), V, V),
	FCH(pwrite64, 1, 4, FD, IN(2), V, V),
	S(readv),
	S(writev),
	S(preadv),
	S(pwritev),
	S(preadv2),
	S(pwritev2),
	F(lseek, FD, V, V),
	F(sendfile, FD, FD, IOF(8), V),
	F(splice, FD, IOF(8), FD, IOF(8), V, V),
	F(tee, FD, FD, V, V),
	F(copy_file_range, FD, IOF(8), FD, IOF(8), V, V),
	F(readahead, FD, V, V),
	F(fadvise64, FD, V, V, V),
	F(fallocate, FD, V, V, V),
	F(fsync, FD),
	F(fdatasync, FD),
	F(syncfs, FD),
	F(sync),
	F(sync_file_range, FD, V, V, V),
	F(flock, FD, V),
	F(ftruncate, FD, V),
	FCH(getdents64, 2, 0, FD, ORET(2), V),
	S(ioctl),
	S(fcntl),

	/* The descriptor table: mirrored in the placeholder table. */
	S(close),
	S(close_range),
	S(dup),
	S(dup2),
	S(dup3),

	/* Opening: routed by path. */
	FOPEN(open, P, V, V),
	FOPEN(openat, DFD, P, V, V),
	FOPEN(openat2, DFD, P, IN(3), V),
	FOPEN(creat, P, V),

	/* Names: routed by path; a host path runs on the (read-only) host. */
	F(stat, P, OUTF(144)),
	F(lstat, P, OUTF(144)),
	F(fstat, FD, OUTF(144)),
	F(newfstatat, DFD, P, OUTF(144), V),
	F(statx, DFD, P, V, V, OUTF(256)),
	F(statfs, P, OUTF(120)),
	F(fstatfs, FD, OUTF(120)),
	F(access, P, V),
	F(faccessat, DFD, P, V),
	F(faccessat2, DFD, P, V, V),
	F(readlink, P, ORET(2), V),
	F(readlinkat, DFD, P, ORET(3), V),
	F(truncate, P, V),
	F(mkdir, P, V),
	F(mkdirat, DFD, P, V),
	F(rmdir, P),
	F(unlink, P),
	F(unlinkat, DFD, P, V),
	F(rename, P, P2),
	F(renameat, DFD, P, DFD2, P2),
	F(renameat2, DFD, P, DFD2, P2, V),
	F(link, P, P2),
	F(linkat, DFD, P, DFD2, P2, V),
	F(symlink, STR, P),
	F(symlinkat, STR, DFD, P),
	F(chmod, P, V),
	F(fchmod, FD, V),
	F(fchmodat, DFD, P, V),
	F(chown, P, V, V),
	F(lchown, P, V, V),
	F(fchown, FD, V, V),
	F(fchownat, DFD, P, V, V, V),
	F(mknod, P, V, V),
	F(mknodat, DFD, P, V, V),
	F(utime, P, INF(16)),
	F(utimes, P, INF(32)),
	F(futimesat, DFD, P, INF(32)),
	F(utimensat, DFD, P, INF(32), V),
	F(setxattr, P, STR, IN(3), V, V),
	F(lsetxattr, P, STR, IN(3), V, V),
	F(fsetxattr, FD, STR, IN(3), V, V),
	F(getxattr, P, STR, ORET(3), V),
	F(lgetxattr, P, STR, ORET(3), V),
	F(fgetxattr, FD, STR, ORET(3), V),
	F(listxattr, P, ORET(2), V),
	F(llistxattr, P, ORET(2), V),
	F(flistxattr, FD, ORET(2), V),
	F(removexattr, P, STR),
	F(lremovexattr, P, STR),
	F(fremovexattr, FD, STR),
	/* The cwd lives in the kernel task: chdir always goes there, even
	 * for a host directory (which the instance may not have). */
	F(chdir, STR),
	F(fchdir, V),
	FCH(getcwd, 2, 0, ORET(1), V),
	F(umask, V),

	/* Pipes, events, timers, notifications: kernel objects. */
	F(pipe, OUTF(8)),
	F(pipe2, OUTF(8), V),
	F(eventfd, V),
	F(eventfd2, V, V),
	F(timerfd_create, V, V),
	F(timerfd_settime, FD, V, INF(32), OUTF(32)),
	F(timerfd_gettime, FD, OUTF(32)),
	F(inotify_init),
	F(inotify_init1, V),
	F(inotify_add_watch, FD, STR, V),
	F(inotify_rm_watch, FD, V),
	F(fanotify_init, V, V),
	F(epoll_create, V),
	F(epoll_create1, V),
	F(epoll_ctl, FD, V, V, INF(12)),
	S(epoll_wait),
	S(epoll_pwait),
	S(epoll_pwait2),
	S(poll),
	S(ppoll),
	S(select),
	S(pselect6),

	/* Sockets: the instance's network. */
	F(socket, V, V, V),
	F(socketpair, V, V, V, OUTF(8)),
	F(bind, FD, IN(2), V),
	F(connect, FD, IN(2), V),
	F(listen, FD, V),
	F(accept, FD, OUTLP(2), IOF(4)),
	F(accept4, FD, OUTLP(2), IOF(4), V),
	F(getsockname, FD, OUTLP(2), IOF(4)),
	F(getpeername, FD, OUTLP(2), IOF(4)),
	FCH(sendto, 1, 0, FD, IN(2), V, V, IN(5), V),
	FCH(recvfrom, 2, 0, FD, ORET(2), V, V, OUTLP(5), IOF(4)),
	F(setsockopt, FD, V, V, IN(4), V),
	F(getsockopt, FD, V, V, OUTLP(4), IOF(4)),
	F(shutdown, FD, V),
	S(sendmsg),
	S(recvmsg),
	S(sendmmsg),
	S(recvmmsg),

	/* The instance's identity. */
	F(uname, OUTF(390)),
	F(sethostname, IN(1), V),
	F(setdomainname, IN(1), V),

	/* Memory: the host owns the address space. File mappings are the
	 * shim's (placeholder: host file; kernel fd: a private copy). */
	S(mmap),
	H(munmap),
	H(mprotect),
	H(madvise),
	H(mremap),
	H(msync),
	H(mincore),
	H(brk),
	H(mlock),
	H(mlock2),
	H(munlock),
	H(mlockall),
	H(munlockall),
	H(mbind),
	H(set_mempolicy),
	H(get_mempolicy),
	H(migrate_pages),
	H(move_pages),
	H(set_mempolicy_home_node),
	H(pkey_mprotect),
	H(pkey_alloc),
	H(pkey_free),
	H(membarrier),
	H(shmget),
	H(shmat),
	H(shmctl),
	H(shmdt),
	H(semget),
	H(semop),
	H(semctl),
	H(semtimedop),
	H(msgget),
	H(msgsnd),
	H(msgrcv),
	H(msgctl),

	/* Threads and synchronisation. */
	H(futex),
	H(futex_waitv),
	H(set_tid_address),
	H(set_robust_list),
	H(get_robust_list),
	H(rseq),
	H(arch_prctl),
	H(restart_syscall),

	/* Signals (dispositions and masks are the shim's: sig.c). */
	S(rt_sigaction),
	S(rt_sigprocmask),
	H(rt_sigpending),
	H(rt_sigsuspend),
	H(rt_sigtimedwait),
	H(rt_sigqueueinfo),
	H(rt_tgsigqueueinfo),
	H(sigaltstack),
	H(pause),
	H(alarm),
	H(setitimer),
	H(getitimer),
	H(timer_create),
	H(timer_settime),
	H(timer_gettime),
	H(timer_getoverrun),
	H(timer_delete),
	H(kill),
	H(tkill),
	H(tgkill),
	H(pidfd_send_signal, FD, V, V, V),
	HFD(signalfd),
	HFD(signalfd4),

	/* Processes: the job's own pid namespace on the host. */
	S(clone),
	S(fork),
	S(vfork),
	S(execve),
	S(execveat),
	S(exit),
	S(exit_group),
	H(wait4),
	H(waitid),
	HFD(pidfd_open),
	H(getpid),
	H(getppid),
	H(gettid),
	H(getpgid),
	H(setpgid),
	H(getpgrp),
	H(getsid),
	H(setsid),
	H(getuid),
	H(geteuid),
	H(getgid),
	H(getegid),
	H(getresuid),
	H(getresgid),
	H(setuid),
	H(setgid),
	H(setreuid),
	H(setregid),
	H(setresuid),
	H(setresgid),
	H(setfsuid),
	H(setfsgid),
	H(getgroups),
	H(setgroups),
	H(capget),
	H(capset),
	H(prctl),
	H(personality),
	H(getrlimit),
	H(setrlimit),
	H(prlimit64),
	H(getrusage),
	H(times),
	H(sysinfo),
	H(getpriority),
	H(setpriority),
	H(sched_setparam),
	H(sched_getparam),
	H(sched_setscheduler),
	H(sched_getscheduler),
	H(sched_get_priority_max),
	H(sched_get_priority_min),
	H(sched_rr_get_interval),
	H(sched_setaffinity),
	H(sched_getaffinity),
	H(sched_setattr),
	H(sched_getattr),
	H(sched_yield),
	H(ioprio_set),
	H(ioprio_get),
	H(getcpu),
	HFD(memfd_create),

	/* Time and entropy: the host's. */
	H(clock_gettime),
	H(clock_getres),
	H(clock_nanosleep),
	H(nanosleep),
	H(gettimeofday),
	H(time),
	H(getrandom),

	/* Never from a job: they would reach past the instance. */
	D(ptrace),
	D(process_vm_readv),
	D(process_vm_writev),
	D(process_madvise),
	D(process_mrelease),
	D(kcmp),
	D(pidfd_getfd),
	D(mount),
	D(umount2),
	D(pivot_root),
	D(chroot),
	D(setns),
	D(unshare),
	D(seccomp),
	D(bpf),
	D(perf_event_open),
	D(userfaultfd),
	D(keyctl),
	D(add_key),
	D(request_key),
	D(reboot),
	D(kexec_load),
	D(kexec_file_load),
	D(init_module),
	D(finit_module),
	D(delete_module),
	D(create_module),
	D(uselib),
	D(swapon),
	D(swapoff),
	D(acct),
	D(syslog),
	D(vhangup),
	D(iopl),
	D(ioperm),
	D(modify_ldt),
	D(quotactl),
	D(quotactl_fd),
	D(settimeofday),
	D(clock_settime),
	D(clock_adjtime),
	D(adjtimex),
	D(name_to_handle_at),
	D(open_by_handle_at),
	D(open_tree),
	D(move_mount),
	D(fsopen),
	D(fsconfig),
	D(fsmount),
	D(fspick),
	D(mount_setattr),
	D(landlock_create_ruleset),
	D(landlock_add_rule),
	D(landlock_restrict_self),
	D(lookup_dcookie),
	D(nfsservctl),
	F(fanotify_mark, FD, V, V, DFD, P),
};
#pragma GCC diagnostic pop

const struct sys_desc *sysclass_desc(long nr)
{
	static const struct sys_desc none = { .cls = SC_ENOSYS };

	if (nr < 0 || nr >= SYSCLASS_MAX)
		return &none;
	return &sysclass_table[nr];
}
