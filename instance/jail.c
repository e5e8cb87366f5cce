// SPDX-License-Identifier: GPL-2.0
/*
 * The instance's side of the jail: fork the zygote (jail_zygote.c) at the
 * one moment it can still be given what jobs need, and speak to it. The
 * zygote is forked after the instance joined its cgroup (jobs are counted
 * with the instance) and before the instance makes its own namespaces,
 * pivots into its empty root and drops its capabilities. It makes mount,
 * net, ipc and uts namespaces of its own: being still in the mount namespace
 * the instance came from, it is never moved by the instance's pivot_root,
 * and the instance need not wait for it until jail_finish(), just before
 * seccomp. It starts building once the instance says go (jail_go(), after
 * the instance's own namespaces and empty root: both take the same host
 * locks), and is done on the other CPU while the kernel boots.
 *
 * Every send is one SEQPACKET packet and never blocks for long: the zygote
 * reads its socket continuously. Replies and job ends arrive on the same
 * socket, which the control loop polls (job.c reads them).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/log.h"
#include "instance/instance.h"

#define JAIL_READY_TIMEOUT_MS 10000

static void jail_ready(struct instance *in, ssize_t n, const struct jail_msg *m);
static int jail_sendmsg(int sock, const void *buf, size_t len, const int *fds, size_t nfds);

int jail_start(struct instance *in, struct shoal_error *err)
{
	pid_t self = getpid(), pid;
	int sv[2];

	in->jail_up = false;
	in->jail_fd = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return shoal_error_set(err, errno, "jail: socketpair");
	/* Single-threaded still (the kernel has not booted): fork is safe. */
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return shoal_error_set(err, errno, "jail: fork the zygote");
	}
	if (pid == 0) {
		close(sv[0]);
		jail_zygote_run(sv[1], self, &in->config.configure);
	}
	close(sv[1]);
	in->jail_fd = sv[0];
	in->jail_pid = pid;
	in->jail_pending = true;
	return 0;
}

/* The zygote's READY (or its failure, or silence): jobs work, or exec says why. */
static void jail_ready(struct instance *in, ssize_t n, const struct jail_msg *m)
{
	in->jail_pending = false;
	if (n != (ssize_t)sizeof(*m) || m->op != JAIL_READY || m->err) {
		/* No jobs for this instance; everything else works. exec says why. */
		if (n == (ssize_t)sizeof(*m) && m->op == JAIL_READY)
			snprintf(in->jail_why, sizeof(in->jail_why), "%.*s",
				 (int)sizeof(m->text) - 1, m->text);
		else
			snprintf(in->jail_why, sizeof(in->jail_why),
				 "the jail's zygote did not start");
		shoal_log_warn("jobs disabled: %s", in->jail_why);
		kill(in->jail_pid, SIGKILL);
		waitpid(in->jail_pid, NULL, 0);
		close(in->jail_fd);
		in->jail_fd = -1;
		in->jail_pid = 0;
		return;
	}
	in->jail_up = true;
}

void jail_go(struct instance *in, int netns_fd)
{
	struct jail_msg m = { .op = JAIL_GO };

	/* A zygote that died already shows in jail_finish(). */
	if (in->jail_pending)
		jail_sendmsg(in->jail_fd, &m, sizeof(m), &netns_fd, netns_fd >= 0 ? 1 : 0);
}

void jail_finish(struct instance *in)
{
	struct pollfd pfd = { .fd = in->jail_fd, .events = POLLIN };
	struct jail_msg m;
	ssize_t n;

	if (!in->jail_pending)
		return;
	n = poll(&pfd, 1, JAIL_READY_TIMEOUT_MS) == 1 ? recv(in->jail_fd, &m, sizeof(m), 0) : -1;
	jail_ready(in, n, &m);
}

/* One SEQPACKET packet to the zygote, with up to two descriptors. */
static int jail_sendmsg(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 2)];
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (nfds > 2)
		return -EINVAL;
	if (nfds) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	for (;;) {
		if (sendmsg(sock, &mh, MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

static int jail_send(struct instance *in, const void *buf, size_t len, const int *fds, size_t nfds)
{
	if (!in->jail_up)
		return -ENOTCONN;
	return jail_sendmsg(in->jail_fd, buf, len, fds, nfds);
}

int jail_spawn(struct instance *in, uint64_t job, const char *const *argv, size_t argc,
	       const char *const *env, size_t envc, int link_fd, int region_fd, bool in_instance)
{
	struct jail_msg m = { .op = JAIL_SPAWN, .job = job, .in_instance = in_instance };
	int fds[2] = { link_fd, region_fd };
	size_t len = sizeof(m), i, l;
	char *buf;
	int r;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	for (i = 0; i < envc; i++)
		len += strlen(env[i]) + 1;
	if (len > JAIL_MSG_MAX)
		return -E2BIG;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	m.argc = (uint32_t)argc;
	m.envc = (uint32_t)envc;
	memcpy(buf, &m, sizeof(m));
	len = sizeof(m);
	for (i = 0; i < argc + envc; i++) {
		const char *s = i < argc ? argv[i] : env[i - argc];

		l = strlen(s) + 1;
		memcpy(buf + len, s, l);
		len += l;
	}
	r = jail_send(in, buf, len, fds, 2);
	free(buf);
	return r;
}

int jail_signal(struct instance *in, uint64_t job, int sig, bool group)
{
	struct jail_msg m = { .op = JAIL_SIGNAL, .job = job, .sig = sig, .group = group };

	return jail_send(in, &m, sizeof(m), NULL, 0);
}

int jail_kill(struct instance *in, uint64_t job)
{
	struct jail_msg m = { .op = JAIL_KILL, .job = job };

	return jail_send(in, &m, sizeof(m), NULL, 0);
}

int jail_read(struct instance *in, struct jail_msg *msg)
{
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(*msg) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (!in->jail_up)
		return -ECONNRESET;
	/* recvmsg, not recv: the seccomp allow-list has recvmsg only. */
	n = recvmsg(in->jail_fd, &mh, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -EAGAIN;
	if (n <= 0) {
		shoal_log_error("the jail's zygote is gone: no more jobs");
		close(in->jail_fd);
		in->jail_fd = -1;
		in->jail_up = false;
		snprintf(in->jail_why, sizeof(in->jail_why), "the jail's zygote ended");
		return -ECONNRESET;
	}
	if (n != (ssize_t)sizeof(*msg))
		return -EAGAIN; /* not ours to understand: skipped */
	return 0;
}
