/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Network namespaces and veth pairs for the kernel tests. Everything a test
 * makes lives in one namespace named after its pid, which a guardian
 * process deletes when the test process ends -- however it ends: a failed
 * check exits at once and the runner kills timed-out cases, so cleanup
 * cannot be left to the test itself. Addresses are from 198.18.0.0/16 and
 * traffic never leaves the namespace.
 */
#ifndef SHOAL_TESTS_KERNEL_KNETNS_H
#define SHOAL_TESTS_KERNEL_KNETNS_H

#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness.h"

struct knetns {
	char name[32];
	int fd; /* the namespace, for setns */
	int guard_fd; /* write end of the guardian's pipe */
};

/* Run a shell command line; its exit status (or -1). Output goes to stderr. */
static inline int knetns_sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * Make namespace shoal-t<pid> and a guardian that deletes it once this
 * process is gone (it holds the read end of a pipe only we write to).
 */
static inline void knetns_create(struct knetns *ns)
{
	char path[64];
	int pipefd[2];
	pid_t pid;

	if (geteuid() != 0)
		harness_skip(__FILE__, __LINE__, "needs root for network namespaces");
	snprintf(ns->name, sizeof(ns->name), "shoal-t%d", (int)getpid());
	if (knetns_sh("ip netns add %s", ns->name))
		harness_fail(__FILE__, __LINE__, "ip netns add %s failed", ns->name);
	if (pipe(pipefd))
		harness_fail(__FILE__, __LINE__, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		char buf;
		int i;

		/* Out of the test's process group, so a timeout kill of the
		 * case does not take the guardian with it. */
		setsid();
		for (i = 3; i < 1024; i++)
			if (i != pipefd[0])
				close(i);
		while (read(pipefd[0], &buf, 1) > 0)
			;
		execlp("ip", "ip", "netns", "del", ns->name, (char *)NULL);
		_exit(127);
	}
	close(pipefd[0]);
	/* The write end stays open (close-on-exec) for our whole life;
	 * forked helpers close it (knetns_forked). */
	fcntl(pipefd[1], F_SETFD, FD_CLOEXEC);
	ns->guard_fd = pipefd[1];
	snprintf(path, sizeof(path), "/run/netns/%s", ns->name);
	ns->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns->fd < 0)
		harness_fail(__FILE__, __LINE__, "open %s: %s", path, strerror(errno));
}

/*
 * In a child the test forked: die with the test process, and do not keep
 * the guardian waiting.
 */
static inline void knetns_forked(struct knetns *ns)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close(ns->guard_fd);
}

/* Run a command inside the namespace. */
#define knetns_exec(ns, fmt, ...) knetns_sh("ip netns exec %s " fmt, (ns)->name, ##__VA_ARGS__)

/* A veth pair a <-> b inside the namespace, both up, with this MTU. */
static inline void knetns_veth(struct knetns *ns, const char *a, const char *b, int mtu)
{
	if (knetns_exec(ns, "ip link add %s mtu %d type veth peer name %s mtu %d", a, mtu, b,
			mtu) ||
	    knetns_exec(ns, "ip link set %s up", a) || knetns_exec(ns, "ip link set %s up", b))
		harness_fail(__FILE__, __LINE__, "veth %s/%s in %s", a, b, ns->name);
}

/* Enter / leave the namespace for the calling thread. */
static inline int knetns_enter(struct knetns *ns)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	if (self < 0 || setns(ns->fd, CLONE_NEWNET))
		harness_fail(__FILE__, __LINE__, "setns into %s: %s", ns->name, strerror(errno));
	return self;
}

static inline void knetns_leave(int self)
{
	if (setns(self, CLONE_NEWNET))
		harness_fail(__FILE__, __LINE__, "setns back: %s", strerror(errno));
	close(self);
}

/* A raw packet socket bound to ifname inside the namespace. */
static inline int knetns_packet_socket(struct knetns *ns, const char *ifname)
{
	int self = knetns_enter(ns);
	struct sockaddr_ll sll;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	if (fd < 0)
		harness_fail(__FILE__, __LINE__, "packet socket: %s", strerror(errno));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		harness_fail(__FILE__, __LINE__, "bind packet socket to %s: %s", ifname,
			     strerror(errno));
	knetns_leave(self);
	return fd;
}

#endif
