// SPDX-License-Identifier: GPL-2.0
/*
 * The instance's seccomp allow-list (sandbox.c loads it as the last step of
 * the lock-down). It is compiled to BPF when the program is built, by
 * instance/gen/seccomp_bpf_gen.c with libseccomp, so that nothing is compiled
 * on the way to ready; this file is linked into both that tool and the
 * instance (which prints the table and reports its size).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "instance/instance.h"
#include "instance/sandbox_allow.h"

/*
 * The seccomp allow-list: every host system call a ready instance makes, on
 * any of its threads, and why. Calls made only while booting (thread and
 * socket creation, opening files, mounting, ...) are not here: by the time
 * the filter is loaded they are done. Some calls are allowed only with
 * certain arguments: no executable memory can be made (so code can only be
 * what was loaded before the filter), and socket options are limited to what
 * the control channel sets.
 */
enum sandbox_arg_rule {
	ARG_ANY = 0,
	ARG_NO_PROT_EXEC, /* argument 2 (prot) without PROT_EXEC */
	ARG_SOL_SOCKET, /* argument 1 (level) is SOL_SOCKET */
	ARG_SO_SNDBUF, /* argument 1 is SOL_SOCKET and argument 2 is SO_SNDBUF */
	ARG_CLONE_THREAD, /* argument 0 (flags) makes a thread: CLONE_VM | CLONE_THREAD, no
			     namespace */
	ARG_F_ADD_SEALS, /* argument 1 (cmd) is F_ADD_SEALS */
};

/* clone flags a thread has, and those a new thread may not have (namespaces). */
#define SANDBOX_CLONE_THREAD (CLONE_VM | CLONE_THREAD)
#define SANDBOX_CLONE_MASK                                                                    \
	(CLONE_VM | CLONE_THREAD | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | \
	 CLONE_NEWUTS | CLONE_NEWUSER | CLONE_NEWCGROUP)

static const struct sandbox_syscall {
	const char *name;
	enum sandbox_arg_rule rule;
	const char *why;
} sandbox_allowed[] = {
	/* Threads and time: the kernel's CPU lock, semaphores, timers. */
	{ "futex", ARG_ANY, "mutexes, condition variables, semaphores of the host operations" },
	{ "restart_syscall", ARG_ANY, "an allowed call interrupted by a signal resumes" },
	{ "rt_sigreturn", ARG_ANY, "return from the SIGALRM / fatal / shutdown handlers" },
	{ "rt_sigprocmask", ARG_ANY, "glibc masks signals around thread exit at halt" },
	{ "gettid", ARG_ANY, "the host operation gettid; fatal reports name the thread" },
	{ "getpid", ARG_ANY, "log lines carry the pid" },
	{ "exit", ARG_ANY, "a kernel thread ends (halt)" },
	/*
	 * A thread created just before the filter may start after it: glibc's
	 * thread start registers these (with every signal blocked, so a trap
	 * there would kill the process without a word), and our kernel
	 * threads set an alternate signal stack for fatal.c.
	 */
	{ "set_robust_list", ARG_ANY, "glibc registers a new thread's robust futex list" },
	{ "rseq", ARG_ANY, "glibc registers a new thread's restartable sequence area" },
	{ "sigaltstack", ARG_ANY, "a new kernel thread's stack for fatal signal handlers" },
	{ "exit_group", ARG_ANY, "the process ends" },
	/* Memory: the allocator and thread stacks; never executable. */
	{ "mmap", ARG_NO_PROT_EXEC, "malloc of large blocks (decoded messages, chunks)" },
	{ "munmap", ARG_ANY, "free of large blocks; the kernel's RAM at halt" },
	{ "mprotect", ARG_NO_PROT_EXEC, "malloc growing a heap arena" },
	{ "mremap", ARG_ANY, "realloc of large blocks" },
	{ "madvise", ARG_ANY, "malloc trimming; glibc returning a dead thread's stack" },
	{ "brk", ARG_ANY, "malloc growing the main heap" },
	/* The control channel. */
	{ "recvmsg", ARG_ANY, "receive a control message with its descriptors" },
	{ "sendmsg", ARG_ANY, "send a control message (and the fatal one)" },
	{ "ppoll", ARG_ANY, "the control loop's wait, with shutdown signals unblocked" },
	{ "accept4", ARG_ANY, "a restarted supervisor connects on adopt_listen_fd" },
	{ "getsockopt", ARG_SOL_SOCKET, "channel_setup() checks an adoption connection" },
	{ "setsockopt", ARG_SO_SNDBUF, "channel_setup() sizes an adoption connection's buffer" },
	{ "close", ARG_ANY, "a closed connection; device descriptors at halt" },
	{ "write", ARG_ANY, "log lines to stderr; the network device's eventfd" },
	{ "read", ARG_ANY, "the network device's eventfd" },
	{ "pread64", ARG_ANY, "stats: /proc/self/status through its descriptor" },
	/* The network device (virtio-net on the packet socket). */
	{ "poll", ARG_ANY, "the network device's poller waits for frames or a wake-up" },
	{ "recvmmsg", ARG_ANY, "receive frames from the veth" },
	{ "sendmmsg", ARG_ANY, "send frames to the veth" },
	/* Disks (virtio-blk on image files). */
	{ "preadv", ARG_ANY, "read disk sectors" },
	{ "pwritev", ARG_ANY, "write disk sectors" },
	{ "fdatasync", ARG_ANY, "flush a disk" },
	/*
	 * Jobs (job.c, job_io.c, job_server*.c): each job gets stdio threads
	 * and serving threads, a shared region and links, made while the
	 * instance is locked down. New processes are the zygote's business,
	 * never the instance's: clone is allowed for threads only (and clone3,
	 * whose flags a filter cannot read, fails with ENOSYS so that glibc
	 * falls back to clone).
	 */
	{ "clone", ARG_CLONE_THREAD, "pthread_create: a job's stdio and serving threads" },
	{ "memfd_create", ARG_ANY, "a job's shared region" },
	{ "ftruncate", ARG_ANY, "size a job's region" },
	{ "fcntl", ARG_F_ADD_SEALS, "seal a job's region's size" },
	{ "eventfd2", ARG_ANY, "a job server's event and wake-up descriptors" },
	{ "socketpair", ARG_ANY, "a job process's link (SEQPACKET)" },
};

#define SANDBOX_NALLOWED (sizeof(sandbox_allowed) / sizeof(sandbox_allowed[0]))

uint32_t sandbox_seccomp_count(void)
{
	return (uint32_t)SANDBOX_NALLOWED;
}

void sandbox_seccomp_print(void)
{
	size_t i;

	for (i = 0; i < SANDBOX_NALLOWED; i++)
		printf("%-16s %-24s %s\n", sandbox_allowed[i].name,
		       sandbox_allowed[i].rule == ARG_NO_PROT_EXEC   ? "prot without PROT_EXEC"
		       : sandbox_allowed[i].rule == ARG_SOL_SOCKET   ? "level SOL_SOCKET"
		       : sandbox_allowed[i].rule == ARG_SO_SNDBUF    ? "SOL_SOCKET/SO_SNDBUF"
		       : sandbox_allowed[i].rule == ARG_CLONE_THREAD ? "threads, no namespace"
		       : sandbox_allowed[i].rule == ARG_F_ADD_SEALS  ? "F_ADD_SEALS"
								     : "",
		       sandbox_allowed[i].why);
	printf("%zu host system calls allowed\n", SANDBOX_NALLOWED);
}

static int sandbox_add_rule(scmp_filter_ctx ctx, const struct sandbox_syscall *s,
			    struct shoal_error *err)
{
	int nr = seccomp_syscall_resolve_name(s->name), r;

	if (nr == __NR_SCMP_ERROR)
		return shoal_error_set(err, ENOSYS, "seccomp: no system call named %s", s->name);
	switch (s->rule) {
	case ARG_NO_PROT_EXEC:
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
		break;
	case ARG_SOL_SOCKET:
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET));
		break;
	case ARG_SO_SNDBUF:
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 2, SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
				     SCMP_A2(SCMP_CMP_EQ, SO_SNDBUF));
		break;
	case ARG_CLONE_THREAD:
		r = seccomp_rule_add(
			ctx, SCMP_ACT_ALLOW, nr, 1,
			SCMP_A0(SCMP_CMP_MASKED_EQ, SANDBOX_CLONE_MASK, SANDBOX_CLONE_THREAD));
		/* clone3's flags are behind a pointer: ENOSYS, and glibc uses clone. */
		if (!r)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
		break;
	case ARG_F_ADD_SEALS:
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A1(SCMP_CMP_EQ, F_ADD_SEALS));
		break;
	default:
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		break;
	}
	if (r < 0)
		return shoal_error_set(err, r, "seccomp: allow %s", s->name);
	return 0;
}

int sandbox_allow_rules(scmp_filter_ctx ctx, struct shoal_error *err)
{
	size_t i;
	int r;

	for (i = 0; i < SANDBOX_NALLOWED; i++) {
		r = sandbox_add_rule(ctx, &sandbox_allowed[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}
