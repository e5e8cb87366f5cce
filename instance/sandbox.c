// SPDX-License-Identifier: GPL-2.0
/*
 * The instance's lock-down: what it gives up, in the order it gives it up
 * (start.c calls these in sequence; each step says why it comes where it
 * does). This is the only file that includes <seccomp.h>, and it holds the
 * seccomp allow-list as a table: every host system call an instance makes
 * once it is ready, with the reason it needs it. The instance is the least
 * trusted process of Shoal: its kernel parses packets and file system images
 * and will run hostile jobs, so if that kernel is subverted, what it can do to
 * the host is exactly what this table allows, inside empty namespaces,
 * without capabilities, in a cgroup with limits.
 *
 * The filter is loaded with SECCOMP_FILTER_FLAG_TSYNC, so it holds on every
 * thread the kernel already made, and threads made later inherit it. A call
 * outside the table traps (SIGSYS): fatal.c sends `fatal` naming the call and
 * the process exits. A thread that blocks SIGSYS (kernel-lib's own timer and
 * device threads block every signal) is killed by the host kernel instead,
 * with the same result for the supervisor minus the message.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "api/log.h"
#include "instance/instance.h"

/*
 * The pid namespace comes first and on its own: it applies to the caller's
 * children, so the caller forks right after (start.c), and the child, pid 1
 * of a namespace holding nothing else, cannot see or signal any host process.
 */
int sandbox_unshare(struct shoal_error *err)
{
	if (unshare(CLONE_NEWPID) < 0)
		return shoal_error_set(err, errno, "unshare a pid namespace");
	return 0;
}

/*
 * Then, in the child, everything else the instance may not share: the mount
 * table (so the empty root below is ours alone), the network stack (the
 * packet socket, already bound to the veth in the supervisor's namespace,
 * keeps working; nothing new can be opened on the host's), System V IPC, and
 * the host name (set to the instance's, for whoever looks at it). Mounts
 * become private first so that nothing we do propagates back to the host.
 */
int sandbox_enter_namespaces(const char *hostname, struct shoal_error *err)
{
	if (unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
		return shoal_error_set(err, errno, "unshare mount, net, ipc and uts namespaces");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return shoal_error_set(err, errno, "make every mount private");
	if (sethostname(hostname, strlen(hostname)) < 0)
		return shoal_error_set(err, errno, "sethostname %s", hostname);
	return 0;
}

/*
 * An empty root: a tiny read-only tmpfs becomes "/" and the host's tree is
 * detached, so no host path can be opened any more, whatever the filter
 * allows. The devices (packet socket, images) and /proc/self/status were
 * opened before this and stay usable through their descriptors. /tmp is only
 * a place to mount on in our private mount table; the host's /tmp is not
 * touched. pivot_root(".", ".") stacks the old root on the new one, and the
 * detach removes it.
 */
int sandbox_pivot_empty_root(struct shoal_error *err)
{
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=4k,nr_inodes=4,mode=0555") < 0)
		return shoal_error_set(err, errno, "mount the empty root");
	if (chdir("/tmp") < 0)
		return shoal_error_set(err, errno, "chdir to the empty root");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return shoal_error_set(err, errno, "pivot_root into the empty root");
	if (umount2(".", MNT_DETACH) < 0)
		return shoal_error_set(err, errno, "detach the host's root");
	if (chdir("/") < 0)
		return shoal_error_set(err, errno, "chdir /");
	if (mount(NULL, "/", NULL,
		  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return shoal_error_set(err, errno, "make the empty root read-only");
	return 0;
}

/*
 * No capabilities, now or ever: the securebits stop uid 0 from getting them
 * back through execve and lock that choice, the bounding set is emptied, the
 * ambient set cleared, and the effective, permitted and inheritable sets
 * zeroed. This comes after the steps that need privilege (namespaces, mounts,
 * the packet socket's buffer sizes) and before the kernel boots.
 */
int sandbox_drop_capabilities(struct shoal_error *err)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	unsigned long cap;

	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
					     SECBIT_NO_SETUID_FIXUP_LOCKED |
					     SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
					     SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED) < 0)
		return shoal_error_set(err, errno, "set securebits");
	for (cap = 0; prctl(PR_CAPBSET_READ, cap) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap) < 0)
			return shoal_error_set(err, errno,
					       "drop capability %lu from the bounding set", cap);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return shoal_error_set(err, errno, "clear the ambient capabilities");
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		return shoal_error_set(err, errno, "capset: drop every capability");
	return 0;
}

/*
 * The jail's zygote (jail_zygote.c) keeps two capabilities and nothing else:
 * CAP_SYS_ADMIN, to give each job fresh pid, net, ipc and uts namespaces,
 * and CAP_SETPCAP, so that a job's first process can empty its own bounding
 * set. The securebits are those of the instance (uid 0 gains nothing
 * through execve, locked), so even these two cannot pass into a program.
 */
int sandbox_zygote_capabilities(struct shoal_error *err)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	unsigned long cap;

	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
					     SECBIT_NO_SETUID_FIXUP_LOCKED |
					     SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
					     SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED) < 0)
		return shoal_error_set(err, errno, "zygote: set securebits");
	for (cap = 0; prctl(PR_CAPBSET_READ, cap) >= 0; cap++)
		if (cap != CAP_SYS_ADMIN && cap != CAP_SETPCAP && prctl(PR_CAPBSET_DROP, cap) < 0)
			return shoal_error_set(err, errno, "zygote: drop capability %lu", cap);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return shoal_error_set(err, errno, "zygote: clear the ambient capabilities");
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (1u << CAP_SYS_ADMIN) | (1u << CAP_SETPCAP);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return shoal_error_set(err, errno, "zygote: capset");
	return 0;
}

/*
 * What a job may never do on the host, whatever the shim's own filter lets
 * through: these calls fail with EPERM as they would for an unprivileged
 * user (they would anyway, without capabilities; the filter makes it hold
 * if a capability check ever has a hole). clone3 fails with ENOSYS because
 * its flags cannot be inspected: libc falls back to clone, whose namespace
 * flags are refused here. Loaded in the job's first process right before
 * it becomes the shim, so it holds for every process of the job.
 */
static const char *const sandbox_job_denied[] = {
	"ptrace",
	"process_vm_readv",
	"process_vm_writev",
	"mount",
	"umount2",
	"pivot_root",
	"chroot",
	"unshare",
	"setns",
	"kexec_load",
	"kexec_file_load",
	"init_module",
	"finit_module",
	"delete_module",
	"bpf",
	"perf_event_open",
	"keyctl",
	"add_key",
	"request_key",
	"reboot",
	"swapon",
	"swapoff",
	"acct",
	"userfaultfd",
	"open_by_handle_at",
	"name_to_handle_at",
	"fsopen",
	"fsmount",
	"fsconfig",
	"fspick",
	"move_mount",
	"open_tree",
	"mount_setattr",
	"quotactl",
	"syslog",
	"iopl",
	"ioperm",
};

/*
 * The deny-list, for a job (@zygote false) or for the zygote itself (true).
 * A seccomp filter is inherited by every child and survives execve, so the
 * zygote's filter also holds for every job; the job's adds the namespace
 * flags the zygote needs for the reapers (pid, net, ipc, uts).
 */
static int sandbox_deny_filter_load(bool zygote, struct shoal_error *err)
{
	static const unsigned long job_ns[] = { CLONE_NEWNS,	CLONE_NEWPID, CLONE_NEWNET,
						CLONE_NEWIPC,	CLONE_NEWUTS, CLONE_NEWUSER,
						CLONE_NEWCGROUP };
	static const unsigned long zygote_ns[] = { CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWCGROUP };
	const unsigned long *ns = zygote ? zygote_ns : job_ns;
	size_t nns = zygote ? sizeof(zygote_ns) / sizeof(zygote_ns[0])
			    : sizeof(job_ns) / sizeof(job_ns[0]);
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	size_t i;
	int r = 0;

	if (!ctx)
		return shoal_error_set(err, ENOMEM, "deny filter: seccomp_init");
	for (i = 0; !r && i < sizeof(sandbox_job_denied) / sizeof(sandbox_job_denied[0]); i++) {
		int nr = seccomp_syscall_resolve_name(sandbox_job_denied[i]);

		if (nr != __NR_SCMP_ERROR)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* One rule per namespace flag: a filter compares with equality only. */
	for (i = 0; !r && i < nns; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, ns[i], ns[i]));
	if (!r)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return shoal_error_set(err, -r, "%s filter: libseccomp", zygote ? "zygote" : "job");
	return 0;
}

int sandbox_job_filter_load(struct shoal_error *err)
{
	return sandbox_deny_filter_load(false, err);
}

/*
 * The zygote, once its root is built: it never mounts, unshares, joins a
 * namespace, traces, loads a module or a BPF program again, so neither can
 * a subverted zygote, CAP_SYS_ADMIN notwithstanding. It keeps clone with
 * the four namespace flags of a reaper.
 */
int sandbox_zygote_filter_load(struct shoal_error *err)
{
	return sandbox_deny_filter_load(true, err);
}

/* No execve can grant anything (setuid, file capabilities); seccomp requires it too. */
int sandbox_no_new_privs(struct shoal_error *err)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return shoal_error_set(err, errno, "set no_new_privs");
	return 0;
}

/*
 * Resource limits, for what a cgroup does not bound or where there is none:
 * descriptors (configure's max_open_files), processes (max_processes; the
 * pids cgroup is what holds for uid 0, which RLIMIT_NPROC exempts), no core
 * files (a core would hold the kernel's memory), no locked memory, no POSIX
 * message queues, and address space: the kernel's RAM, plus room for thread
 * stacks and the allocator, plus, per job that may run at once, its shared
 * region and its threads' stacks (JOB_HOST_AS_MIB).
 */
int sandbox_set_rlimits(const struct proto_configure *cfg, struct shoal_error *err)
{
	const struct {
		int resource;
		const char *name;
		rlim_t value;
	} limits[] = {
		{ RLIMIT_NOFILE, "RLIMIT_NOFILE", cfg->limits.max_open_files },
		{ RLIMIT_NPROC, "RLIMIT_NPROC", cfg->limits.max_processes },
		{ RLIMIT_CORE, "RLIMIT_CORE", 0 },
		{ RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK", 0 },
		{ RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE", 0 },
		{ RLIMIT_AS, "RLIMIT_AS",
		  ((rlim_t)cfg->memory_mib + 1024 + (rlim_t)cfg->limits.max_jobs * JOB_HOST_AS_MIB)
			  << 20 },
	};
	size_t i;

	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		struct rlimit rl = { limits[i].value, limits[i].value };

#ifdef __SANITIZE_ADDRESS__
		/* AddressSanitizer reserves terabytes of shadow: no address space limit. */
		if (limits[i].resource == RLIMIT_AS)
			continue;
#endif

		if (setrlimit(limits[i].resource, &rl) < 0)
			return shoal_error_set(err, errno, "setrlimit %s %llu", limits[i].name,
					       (unsigned long long)limits[i].value);
	}
	return 0;
}

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

/* Names of host system calls by number, for fatal.c's SIGSYS message. */
#define SANDBOX_NR_NAMES 512
static const char *sandbox_nr_names[SANDBOX_NR_NAMES];

const char *sandbox_syscall_name(long nr)
{
	if (nr >= 0 && nr < SANDBOX_NR_NAMES && sandbox_nr_names[nr])
		return sandbox_nr_names[nr];
	return "?";
}

void sandbox_name_syscalls(void)
{
	int nr;

	if (sandbox_nr_names[0])
		return;
	/* Resolved ahead: a signal handler cannot call libseccomp (it allocates). */
	for (nr = 0; nr < SANDBOX_NR_NAMES; nr++)
		sandbox_nr_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
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

/*
 * The filter is compiled ahead of its load: libseccomp turns the table into
 * BPF in ~0.1 ms, which would otherwise be spent on the way to ready.
 * control.c calls sandbox_seccomp_prepare() right after sending hello, while
 * the supervisor answers; the load is then one system call. The names of the
 * system calls, for fatal.c's message (another ~0.1 ms), are resolved just
 * after ready (start.c): until then a forbidden call is reported by number. Every other call traps; calls of
 * another architecture's ABI (int 0x80) kill the process.
 */
static struct sock_filter *sandbox_prog;
static unsigned short sandbox_prog_len;

static int sandbox_compile(scmp_filter_ctx ctx, struct shoal_error *err)
{
	struct sock_filter *prog = NULL;
	size_t len = 0, cap = 0;
	int pipefd[2], r = 0;
	ssize_t n;

	/* libseccomp 2.5 exports only to a descriptor; a pipe holds any filter (32 KiB). */
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return shoal_error_set(err, errno, "seccomp: pipe for the filter");
	r = seccomp_export_bpf(ctx, pipefd[1]);
	close(pipefd[1]);
	if (r < 0) {
		close(pipefd[0]);
		return shoal_error_set(err, r, "seccomp: compile the filter");
	}
	for (;;) {
		if (len == cap) {
			void *grown = realloc(prog, (cap = cap ? cap * 2 : 128) * sizeof(*prog));

			if (!grown) {
				r = shoal_error_set(err, ENOMEM, "seccomp: the filter");
				break;
			}
			prog = grown;
		}
		n = read(pipefd[0], (char *)prog + len * sizeof(*prog),
			 (cap - len) * sizeof(*prog));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || n % sizeof(*prog)) {
			r = shoal_error_set(err, n < 0 ? errno : EPROTO, "seccomp: read the filter");
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n / sizeof(*prog);
	}
	close(pipefd[0]);
	if (!r && (len == 0 || len > BPF_MAXINSNS))
		r = shoal_error_set(err, E2BIG, "seccomp: a filter of %zu instructions", len);
	if (r < 0) {
		free(prog);
		return r;
	}
	sandbox_prog = prog;
	sandbox_prog_len = (unsigned short)len;
	return 0;
}

int sandbox_seccomp_prepare(struct shoal_error *err)
{
	scmp_filter_ctx ctx;
	size_t i;
	int r;

	if (sandbox_prog)
		return 0;
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return shoal_error_set(err, ENOMEM, "seccomp_init");
	for (i = 0; i < SANDBOX_NALLOWED; i++) {
		r = sandbox_add_rule(ctx, &sandbox_allowed[i], err);
		if (r < 0) {
			seccomp_release(ctx);
			return r;
		}
	}
	r = sandbox_compile(ctx, err);
	seccomp_release(ctx);
	return r;
}

int sandbox_seccomp_load(uint32_t *allowed, struct shoal_error *err)
{
	struct sock_fprog fprog;
	long r;

	r = sandbox_seccomp_prepare(err);
	if (r < 0)
		return (int)r;
	fprog = (struct sock_fprog){ .len = sandbox_prog_len, .filter = sandbox_prog };
	/* TSYNC: on every thread the kernel made; no_new_privs was set at step 5. */
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog);
	if (r < 0)
		return shoal_error_set(err, errno, "seccomp: load the filter");
	if (r > 0)
		return shoal_error_set(err, EBUSY, "seccomp: thread %ld cannot take the filter", r);
	*allowed = (uint32_t)SANDBOX_NALLOWED;
	return 0;
}
