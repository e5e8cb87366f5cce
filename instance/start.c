// SPDX-License-Identifier: GPL-2.0
/*
 * From an accepted `configure` to `ready`, in the order it happens. This is
 * the one place that says what an instance does to itself before it serves,
 * so it reads top to bottom, bubblewrap style:
 *
 *  1. configure: check the request and open every host resource it names (the
 *     interface's packet socket, the disk images) while the process can still
 *     see the host; make the cgroup (the parent will remove it). Failures
 *     here are answered with an error and change nothing.
 *  2. pid namespace: unshare it and fork. The parent stays outside as the
 *     monitor (monitor.c): it waits, passes the exit status on, removes the
 *     cgroup. The child is pid 1 of the new namespace and becomes the
 *     instance; it dies with the monitor.
 *  3. the cgroup is joined and the jail's zygote forked (jail.c): it
 *     inherits the cgroup, so every job is counted and limited with the
 *     instance, makes namespaces of its own (the network one is ours), and
 *     keeps the one privilege jobs need (namespaces of their own) in a
 *     process that does nothing else; then our net, ipc and uts namespaces,
 *     which a thread of main() built ahead on the other CPU
 *     (sandbox_ahead.c; sandbox.c makes them here if it could not start).
 *  4. what needs host paths: the disk images become the kernel's virtio
 *     disks, and /proc/self/status is opened for stats.
 *  5. the mount namespace with its empty root (built ahead too); no
 *     capabilities, no_new_privs, rlimits; then the packet socket becomes
 *     the kernel's virtio network device, whose host thread is so born
 *     locked down like the kernel's.
 *  6. boot the library kernel, whose host threads are born locked down.
 *  7. inside the kernel: root file system, network, disks.
 *  8. seccomp: from here the process may make only the host system calls in
 *     sandbox.c's table, on every thread (TSYNC).
 *  9. `ready` with the timings of each phase.
 *
 * Why this order: the kernel's host threads must be created inside the final
 * namespaces and cgroup (they cannot move later), so everything but seccomp
 * happens before boot; seccomp comes last because booting and plumbing make
 * host calls (thread creation, memory mapping, device setup) that the running
 * instance never needs again. A failure after step 1 answers nothing more: it
 * sends `fatal` boot_failed and exits, and a boot that does not finish within
 * INSTANCE_BOOT_TIMEOUT_S is ended the same way by a watchdog.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/log.h"
#include "instance/instance.h"

/* Is @fd a listening AF_UNIX SOCK_SEQPACKET socket? */
static int start_check_listen_fd(int fd, struct shoal_error *err)
{
	int domain = 0, type = 0, listening = 0, flags;
	socklen_t len = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || domain != AF_UNIX ||
	    type != SOCK_SEQPACKET || !listening)
		return shoal_error_set(
			err, 0,
			"configure.adopt_listen_fd: not a listening AF_UNIX SEQPACKET socket");
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return shoal_error_set(err, errno, "configure.adopt_listen_fd: fcntl");
	return 0;
}

static int start_check_packet_fd(int fd, struct shoal_error *err)
{
	int domain = 0, type = 0;
	socklen_t len = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || domain != AF_PACKET ||
	    type != SOCK_RAW)
		return shoal_error_set(err, 0, "configure.network.fd: not a raw AF_PACKET socket");
	return 0;
}

int start_configure(struct instance *in, struct proto_msg *msg, int *fds, size_t nfds,
		    struct shoal_error *err)
{
	const struct proto_configure *cfg = &msg->configure;
	size_t i;
	int r;

	if (cfg->memory_mib < 16)
		return shoal_error_set(
			err, 0,
			"configure.memory_mib: %u is below the library kernel's minimum of 16",
			cfg->memory_mib);
	if (cfg->limits.host_memory_mib && cfg->limits.host_memory_mib < cfg->memory_mib)
		return shoal_error_set(err, 0,
				       "configure.limits.host_memory_mib: %u is less than "
				       "memory_mib %u",
				       cfg->limits.host_memory_mib, cfg->memory_mib);
	if (cfg->has_network && cfg->network.fd >= 0) {
		r = start_check_packet_fd(fds[cfg->network.fd], err);
		if (r < 0)
			return r;
	}
	if (cfg->keep_on_supervisor_exit) {
		r = start_check_listen_fd(fds[cfg->adopt_listen_fd], err);
		if (r < 0)
			return r;
	}

	/* The checks passed: keep the message and its descriptors for good. */
	in->config = *msg;
	memset(msg, 0, sizeof(*msg));
	for (i = 0; i < nfds; i++) {
		in->config_fds[i] = fds[i];
		fds[i] = -1;
	}
	in->config_nfds = nfds;
	cfg = &in->config.configure;
	if (cfg->has_network && cfg->network.fd >= 0) {
		in->packet_fd = in->config_fds[cfg->network.fd];
		in->config_fds[cfg->network.fd] = -1;
	}
	if (cfg->keep_on_supervisor_exit) {
		in->adopt_listen_fd = in->config_fds[cfg->adopt_listen_fd];
		in->config_fds[cfg->adopt_listen_fd] = -1;
	}

	/* Open what the instance must open itself, while it can see the host. */
	if (cfg->has_network && cfg->network.fd < 0) {
		r = net_open_interface(cfg->network.interface, &in->packet_fd, err);
		if (r < 0)
			goto fail;
	}
	r = disks_check(in, err);
	if (r < 0)
		goto fail;
	/* The cgroup, made by the process that will remove it (the monitor). */
	if (!in->opt.unconfined && !in->opt.no_cgroup) {
		uint64_t t = instance_now_us();

		r = cgroup_create(&in->cgroup, in->opt.cgroup_root, cfg->instance_id, cfg, err);
		if (r < 0)
			goto fail;
		in->timings.lockdown_us += instance_now_us() - t;
	}
	in->configured = true;
	shoal_log_info("configured as %s: %u MiB, %s, %zu disks", cfg->instance_id, cfg->memory_mib,
		       cfg->has_network ? "network" : "no network", cfg->ndisks);
	return 0;

fail:
	/* Leave nothing half-taken: close what was kept and forget the message. */
	cgroup_remove(&in->cgroup);
	if (in->packet_fd >= 0)
		close(in->packet_fd);
	in->packet_fd = -1;
	if (in->adopt_listen_fd >= 0)
		close(in->adopt_listen_fd);
	in->adopt_listen_fd = -1;
	for (i = 0; i < PROTO_DISKS_MAX; i++) {
		if (in->disk_fds[i] >= 0)
			close(in->disk_fds[i]);
		in->disk_fds[i] = -1;
	}
	for (i = 0; i < in->config_nfds; i++)
		if (in->config_fds[i] >= 0)
			close(in->config_fds[i]);
	in->config_nfds = 0;
	proto_msg_free(&in->config);
	return r;
}

static const char *start_phase;
static uint64_t start_phase_t;

/* Name the phase for the watchdog; log how long the previous one took (debug). */
static uint64_t start_phase_begin(const char *phase)
{
	uint64_t now = instance_now_us();

	if (start_phase)
		shoal_log_debug("%s: %llu us", start_phase,
				(unsigned long long)(now - start_phase_t));
	start_phase = phase;
	start_phase_t = now;
	fatal_set_phase(phase);
	return now;
}

/* Steps 3 to 9, in the instance process. */
static int start_boot(struct instance *in, struct shoal_error *err)
{
	const struct proto_configure *cfg = &in->config.configure;
	bool confined = !in->opt.unconfined;
	struct proto_msg ready;
	int netns_fd = -1;
	uint64_t t;
	int r;

	fatal_boot_watchdog(true);

	/*
	 * 3. The cgroup first: the zygote forked next must be in it, and with
	 * it every job process.
	 */
	t = start_phase_begin("join the cgroup");
	if (confined) {
		r = cgroup_join(&in->cgroup, err);
		if (r < 0)
			return r;
	}
	/*
	 * The jail's zygote: forked while the process is single-threaded, can
	 * still see the host's /usr and has its capabilities. It is forked
	 * before our own mount namespace exists, so that it stays in the one
	 * we came from and makes its own there: our pivot_root below can never
	 * move its root, and nothing here waits for it. It builds the jail
	 * while we boot, on the other CPU; jail_finish() collects its ready.
	 */
	start_phase_begin("jail");
	r = job_init(in, err);
	if (!r)
		r = jail_start(in, err);
	if (r < 0)
		return r;
	/*
	 * Namespaces: a mount table, network stack, IPC and host name of our
	 * own, built ahead by sandbox_ahead.c's thread (made here if it could
	 * not start). The network namespace, empty, is the jobs' too: the
	 * zygote joins it (jail_go) rather than making another.
	 */
	start_phase_begin("namespaces");
	r = kernel_ram_reserve(in, err);
	if (r < 0)
		return r;
	/* Waiting for the builder: fault in the kernel's memory map meanwhile. */
	while (confined && in->ahead.sock[0] >= 0 && !sandbox_ahead_done(&in->ahead) &&
	       kernel_ram_warm_step())
		;
	if (confined) {
		r = in->ahead.sock[0] >= 0
			    ? sandbox_ahead_enter_namespaces(&in->ahead, cfg->hostname, err)
			    : sandbox_enter_namespaces(cfg->hostname, err);
		if (r < 0)
			return r;
		netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (netns_fd < 0)
			return shoal_error_set(err, errno, "open our network namespace");
	}
	in->timings.lockdown_us += instance_now_us() - t;

	/*
	 * 4. What needs host paths, while they are still there: the disk
	 * images, reopened through /proc/self/fd with the access each asks
	 * for (disks.c), the unwinder (kernel.c) and our own status for stats.
	 */
	t = start_phase_begin("disk devices");
	r = disks_attach(in, err);
	if (!r)
		r = kernel_prepare(err);
	if (r < 0)
		return r;
	in->timings.disks_us += instance_now_us() - t;
	/* stats reads the process's own status; after the empty root only this fd can. */
	in->status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (in->status_fd < 0)
		return shoal_error_set(err, errno, "open /proc/self/status");

	/*
	 * 5. Empty root; no capabilities, no_new_privs, rlimits; then the
	 * network device. Its host thread (the packet poller) must be born
	 * after all of them: a thread keeps the capabilities it was born with
	 * (they are per thread) and the mount namespace too, and entering one
	 * with setns() is only allowed while we have no other thread. The
	 * socket's buffers are sized first, while that still takes no more
	 * than asking (CAP_NET_ADMIN).
	 */
	t = start_phase_begin("empty root");
	if (confined) {
		r = in->ahead.fds[SANDBOX_AHEAD_MNT] >= 0
			    ? sandbox_ahead_enter_root(&in->ahead, err)
			    : sandbox_pivot_empty_root(err);
		if (r < 0)
			return r;
	}
	net_size_buffers(in);
	in->timings.lockdown_us += instance_now_us() - t;
	t = start_phase_begin("capabilities, no_new_privs, rlimits");
	if (confined) {
		r = sandbox_drop_capabilities(err);
		if (!r)
			r = sandbox_no_new_privs(err);
		if (!r)
			r = sandbox_set_rlimits(cfg, err);
		if (r < 0)
			return r;
	}
	in->timings.lockdown_us += instance_now_us() - t;
	t = start_phase_begin("network device");
	r = net_add_device(in, err);
	if (r < 0)
		return r;
	if (cfg->has_network)
		in->timings.network_us += instance_now_us() - t;
	/* Our namespaces and root are made: the zygote may build the jail now. */
	jail_go(in, netns_fd);
	if (netns_fd >= 0)
		close(netns_fd);

	/* 6. The kernel. */
	t = start_phase_begin("kernel boot");
	r = kernel_boot(in, err);
	if (r < 0)
		return r;
	in->timings.kernel_boot_us = instance_now_us() - t;

	/* 7. Inside the kernel: root file system, network, disks. */
	t = start_phase_begin("root file system");
	r = rootfs_setup(in, err);
	if (r < 0)
		return r;
	in->timings.rootfs_us = instance_now_us() - t;
	t = start_phase_begin("network configuration");
	r = net_configure(in, err);
	if (r < 0)
		return r;
	if (in->netdev >= 0)
		in->timings.network_us += instance_now_us() - t;
	t = start_phase_begin("disk mounts");
	r = disks_mount(in, err);
	if (r < 0)
		return r;
	if (cfg->ndisks)
		in->timings.disks_us += instance_now_us() - t;
	else
		in->timings.disks_us = 0;

	/* The jail was built meanwhile, on the other CPU: its ready (recv) comes
	 * before seccomp. */
	start_phase_begin("jail ready");
	jail_finish(in);

	/* 8. seccomp: only the host calls the running instance needs, on every thread. */
	t = start_phase_begin("seccomp");
	if (confined) {
		r = sandbox_seccomp_load(&in->syscalls_allowed, err);
		if (r < 0)
			return r;
		in->locked_down = true;
	}
	in->timings.lockdown_us += instance_now_us() - t;

	fatal_set_phase("checks");
	if (in->opt.selfcheck)
		selfcheck_run(in);
	if (in->opt.test_forbidden) {
		/* Test-only: a locked-down instance must die of SIGSYS right here. */
		long ret = !strcmp(in->opt.test_forbidden, "open")
				   ? open("/proc/self/status", O_RDONLY | O_CLOEXEC)
				   : socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		shoal_log_warn("--test-forbidden %s was allowed (%ld): the instance is not locked "
			       "down",
			       in->opt.test_forbidden, ret);
		if (ret >= 0)
			close((int)ret);
	}

	/* 9. Ready. */
	start_phase_begin(NULL);
	fatal_boot_watchdog(false);
	fatal_set_phase(NULL);
	in->state = PROTO_STATE_READY;
	in->timings.total_us = instance_now_us() - in->t_start_us;
	proto_msg_init(&ready, PROTO_READY, 0);
	ready.ready.timings = in->timings;
	ready.ready.kernel_release = in->kernel_release;
	control_send(in, &ready);
	shoal_log_info("ready in %llu us (kernel %llu us, lock-down %llu us)",
		       (unsigned long long)in->timings.total_us,
		       (unsigned long long)in->timings.kernel_boot_us,
		       (unsigned long long)in->timings.lockdown_us);
	return 0;
}

int start_instance(struct instance *in, struct shoal_error *err)
{
	uint64_t t = instance_now_us();
	pid_t pid;
	int r;

	if (!in->opt.unconfined) {
		/*
		 * 2. A pid namespace applies to the children of the caller, so
		 * the instance proper is a child: pid 1 of a namespace that
		 * holds nothing else. The parent becomes the monitor.
		 */
		start_phase_begin("pid namespace and fork");
		r = sandbox_unshare(err);
		if (r < 0) {
			cgroup_remove(&in->cgroup);
			return r;
		}
		pid = fork();
		if (pid < 0) {
			r = shoal_error_set(err, errno, "fork the instance");
			cgroup_remove(&in->cgroup);
			return r;
		}
		if (pid > 0)
			monitor_run(in, pid);
		/* The instance must not outlive its monitor (it would leak the cgroup). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	}
	in->timings.lockdown_us += instance_now_us() - t;
	r = start_boot(in, err);
	if (r < 0)
		fatal_exit(PROTO_FATAL_BOOT_FAILED, err->msg);
	return 0;
}
