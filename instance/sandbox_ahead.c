// SPDX-License-Identifier: GPL-2.0
/*
 * The instance's mount, network, IPC and UTS namespaces, and its empty root,
 * built ahead on the other CPU. Making them is most of the lock-down's time
 * (a network namespace alone ~0.4 ms on this host, the empty root ~0.2 ms),
 * and nothing in them depends on the `configure` request except the host
 * name. So main() starts a builder thread before the control channel is even
 * up; it works while the process says hello, waits for `configure`, checks it,
 * makes the cgroup and forks into the pid namespace. The instance process
 * (the child) then only enters what was built: setns() of each namespace,
 * a few microseconds each, at the points of start.c where it made them itself
 * before.
 *
 * Why a thread and not the instance itself: unshare() and pivot_root() act on
 * the calling thread only (its nsproxy and, with CLONE_NEWNS, an fs_struct of
 * its own), so the builder changes nothing for the main thread, which keeps
 * seeing the host to open the interface, the images and the cgroup. The
 * builder hands the namespaces over as descriptors of /proc/thread-self/ns
 * through a socketpair (SCM_RIGHTS); the pid-namespace fork comes between, so
 * the descriptors arrive in the child, and the thread ends in the parent,
 * which becomes the monitor and joins it before closing everything.
 *
 * The mount namespace is entered last ("empty root" in start.c): setns() puts
 * root and working directory at the namespace's root, which the builder's
 * pivot_root made the tiny read-only tmpfs, with the host's tree detached,
 * exactly as sandbox_pivot_empty_root() leaves a process that runs it itself.
 *
 * Accounting: the namespaces' kernel memory is charged to the cgroup of the
 * process that made them, the parent, before the instance joins its own; a
 * few tens of KiB per instance that its memory limit no longer counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/log.h"
#include "instance/instance.h"

/* What the builder sends with the descriptors: 0, or why it failed. */
struct ahead_report {
	int err;
	char what[160];
};

static const char *const ahead_ns_names[SANDBOX_AHEAD_NS] = { "net", "ipc", "uts", "mnt" };

static int ahead_fail(struct ahead_report *rep, const char *what)
{
	rep->err = errno ? errno : EIO;
	snprintf(rep->what, sizeof(rep->what), "%.159s", what);
	return -1;
}

static int ahead_build(struct ahead_report *rep, int fds[SANDBOX_AHEAD_FDS])
{
	struct shoal_error err = { 0 };
	char path[64];
	int i;

	/*
	 * A descriptor table of our own first: what we open here must not be
	 * inherited by the instance if main() forks while we work.
	 */
	if (unshare(CLONE_FILES) < 0)
		return ahead_fail(rep, "unshare the descriptor table");
	/* The same namespaces and the same root sandbox_enter_namespaces() and
	 * sandbox_pivot_empty_root() make, for this thread only. */
	if (unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
		return ahead_fail(rep, "unshare mount, net, ipc and uts namespaces");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return ahead_fail(rep, "make every mount private");
	/* Named while /proc is still there: the empty root has none. */
	for (i = 0; i < SANDBOX_AHEAD_NS; i++) {
		snprintf(path, sizeof(path), "/proc/thread-self/ns/%s", ahead_ns_names[i]);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			return ahead_fail(rep, "open /proc/thread-self/ns");
	}
	if (sandbox_pivot_empty_root(&err) < 0) {
		errno = err.err;
		return ahead_fail(rep, err.msg);
	}
	/* The empty root itself: setns() alone would not find it if we run chrooted. */
	fds[SANDBOX_AHEAD_ROOT] = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fds[SANDBOX_AHEAD_ROOT] < 0)
		return ahead_fail(rep, "open the empty root");
	return 0;
}

/* @p: the socket to send on, by value (main() may return while we work). */
static void *ahead_thread(void *p)
{
	int sock = (int)(intptr_t)p;
	struct ahead_report rep = { 0 };
	int fds[SANDBOX_AHEAD_FDS] = { -1, -1, -1, -1, -1 };
	char cbuf[CMSG_SPACE(sizeof(fds))];
	struct iovec iov = { .iov_base = &rep, .iov_len = sizeof(rep) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	int i;

	if (ahead_build(&rep, fds) == 0) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(fds));
		memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	}
	while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
	for (i = 0; i < SANDBOX_AHEAD_FDS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return NULL;
}

/*
 * On any CPU but this one. Left to itself, the scheduler starts a new thread
 * on its parent's CPU when the other is idle, and the builder then runs only
 * once the main thread waits: one after the other, nothing gained (measured).
 */
static void ahead_elsewhere(pthread_attr_t *attr)
{
	int here = sched_getcpu();
	cpu_set_t set;

	if (here < 0 || sched_getaffinity(0, sizeof(set), &set) < 0 || !CPU_ISSET(here, &set))
		return;
	CPU_CLR(here, &set);
	if (CPU_COUNT(&set) > 0)
		pthread_attr_setaffinity_np(attr, sizeof(set), &set);
}

void sandbox_ahead_init(struct sandbox_ahead *a)
{
	int i;

	a->started = false;
	a->sock[0] = a->sock[1] = -1;
	for (i = 0; i < SANDBOX_AHEAD_FDS; i++)
		a->fds[i] = -1;
}

int sandbox_ahead_start(struct sandbox_ahead *a)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, a->sock) < 0)
		return -errno;
	/* No signal handler of ours runs on the builder. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	ahead_elsewhere(&attr);
	r = pthread_create(&a->thread, &attr, ahead_thread, (void *)(intptr_t)a->sock[1]);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		close(a->sock[0]);
		close(a->sock[1]);
		a->sock[0] = a->sock[1] = -1;
		return -r;
	}
	a->started = true;
	return 0;
}

void sandbox_ahead_join(struct sandbox_ahead *a)
{
	if (!a->started)
		return;
	pthread_join(a->thread, NULL);
	a->started = false;
}

/* Receive what the builder made (waiting for it if it is still at work). */
static int ahead_receive(struct sandbox_ahead *a, struct shoal_error *err)
{
	struct ahead_report rep = { 0 };
	char cbuf[CMSG_SPACE(sizeof(a->fds))];
	struct iovec iov = { .iov_base = &rep, .iov_len = sizeof(rep) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;

	close(a->sock[1]); /* the builder's end, inherited: not ours to write */
	a->sock[1] = -1;
	do
		n = recvmsg(a->sock[0], &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	close(a->sock[0]);
	a->sock[0] = -1;
	if (n != (ssize_t)sizeof(rep))
		return shoal_error_set(err, n < 0 ? errno : EIO,
				       "namespaces built ahead: no report from the builder");
	if (rep.err)
		return shoal_error_set(err, rep.err, "%.*s", (int)sizeof(rep.what) - 1, rep.what);
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(a->fds)))
		return shoal_error_set(err, EIO, "namespaces built ahead: descriptors missing");
	memcpy(a->fds, CMSG_DATA(cm), sizeof(a->fds));
	return 0;
}

bool sandbox_ahead_done(struct sandbox_ahead *a)
{
	struct pollfd pfd = { .fd = a->sock[0], .events = POLLIN };

	return poll(&pfd, 1, 0) != 0;
}

int sandbox_ahead_enter_namespaces(struct sandbox_ahead *a, const char *hostname,
				   struct shoal_error *err)
{
	static const int types[] = { CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS };
	int i, r;

	r = ahead_receive(a, err);
	if (r < 0)
		return r;
	for (i = 0; i < 3; i++) {
		if (setns(a->fds[i], types[i]) < 0)
			return shoal_error_set(err, errno, "enter the %s namespace built ahead",
					       ahead_ns_names[i]);
		close(a->fds[i]);
		a->fds[i] = -1;
	}
	if (sethostname(hostname, strlen(hostname)) < 0)
		return shoal_error_set(err, errno, "sethostname %s", hostname);
	return 0;
}

int sandbox_ahead_enter_root(struct sandbox_ahead *a, struct shoal_error *err)
{
	int mnt = a->fds[SANDBOX_AHEAD_MNT], root = a->fds[SANDBOX_AHEAD_ROOT], r = 0;

	a->fds[SANDBOX_AHEAD_MNT] = a->fds[SANDBOX_AHEAD_ROOT] = -1;
	/*
	 * setns() sets root and working directory to the top of the mount
	 * namespace's root: our empty root when the builder ran at the top of
	 * the host's tree, not when the program runs chrooted (the empty root
	 * then sits deeper). So root is then set from the builder's own.
	 */
	if (setns(mnt, CLONE_NEWNS) < 0)
		r = shoal_error_set(err, errno, "enter the mount namespace built ahead");
	else if (fchdir(root) < 0 || chroot(".") < 0 || chdir("/") < 0)
		r = shoal_error_set(err, errno, "enter the empty root built ahead");
	close(mnt);
	close(root);
	return r;
}
