// SPDX-License-Identifier: GPL-2.0
/*
 * The instance's lock-down: what it gives up, in the order it gives it up
 * (start.c calls these in sequence; each step says why it comes where it
 * does). The seccomp allow-list is a table in sandbox_allow.c: every host
 * system call an instance makes once it is ready, with the reason it needs
 * it, compiled to BPF when the program is built. The instance is the least
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
#include "instance/job_denied.h"
#include "instance/sandbox_allow.h"

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
 * The zygote, once its root is built: it never mounts, unshares, joins a
 * namespace, traces, loads a module or a BPF program again, so neither can
 * a subverted zygote, CAP_SYS_ADMIN notwithstanding (instance/job_denied.h:
 * EPERM). It keeps clone with the four namespace flags of a reaper (pid,
 * net, ipc, uts); clone3 is ENOSYS, its flags being out of a filter's
 * reach. A filter is inherited by every child and survives execve, so this
 * one holds for every job too, under the shim's own (which denies the same
 * list and every namespace flag). It runs on every job call the shim's
 * filter does not let through by number alone, so libseccomp lays it out as
 * a binary tree: a few comparisons instead of one per denied call.
 */
int sandbox_zygote_filter_load(struct shoal_error *err)
{
#define SANDBOX_DENIED_NR(name) SCMP_SYS(name),
	static const int denied[] = { JOB_DENIED_CALLS(SANDBOX_DENIED_NR) };
	static const unsigned long ns[] = { CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWCGROUP };
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	size_t i;
	int r;

	if (!ctx)
		return shoal_error_set(err, ENOMEM, "zygote filter: seccomp_init");
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (i = 0; !r && i < sizeof(denied) / sizeof(denied[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0);
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* One rule per namespace flag: a filter compares with equality only. */
	for (i = 0; !r && i < sizeof(ns) / sizeof(ns[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, ns[i], ns[i]));
	if (!r)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return shoal_error_set(err, -r, "zygote filter: libseccomp");
	return 0;
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
 * The filter itself is compiled when the program is built: libseccomp turns
 * sandbox_allow.c's table into BPF in instance/gen/seccomp_bpf_gen.c, which
 * writes it as C, with the name of every system call for fatal.c's message
 * (build/instance/gen/sandbox_bpf.c). Compiling it here took ~0.1 ms of
 * every start, and the names another ~0.1 ms; loading it is one system call.
 * Every call outside the table traps; calls of another architecture's ABI
 * (int 0x80) kill the process.
 */
const char *sandbox_syscall_name(long nr)
{
	if (nr >= 0 && nr < SANDBOX_NR_NAMES && sandbox_nr_names[nr])
		return sandbox_nr_names[nr];
	return "?";
}

int sandbox_seccomp_load(uint32_t *allowed, struct shoal_error *err)
{
	struct sock_fprog fprog = { .len = sandbox_bpf_len,
				    .filter = (struct sock_filter *)sandbox_bpf };
	long r;

	/* TSYNC: on every thread the kernel made; no_new_privs was set at step 5. */
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog);
	if (r < 0)
		return shoal_error_set(err, errno, "seccomp: load the filter");
	if (r > 0)
		return shoal_error_set(err, EBUSY, "seccomp: thread %ld cannot take the filter", r);
	*allowed = sandbox_seccomp_count();
	return 0;
}
