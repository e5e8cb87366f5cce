// SPDX-License-Identifier: GPL-2.0
/*
 * Namespaces, their guardian and veth pairs for net-bench (see netns.h). The
 * configuration is done with ip(8), run through net_proc_run() so that every
 * command is bounded by a timeout like any other wait of the benchmark.
 */
#include "tests/bench/netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/bench/net-proc.h"

#define CMD_TIMEOUT_MS 10000

/*
 * The guardian: out of our session (a terminal's ^C or a process-group kill
 * does not reach it), every descriptor closed but the pipe, it waits for
 * end of file and then deletes each namespace, quietly: the normal way out
 * has usually deleted them already.
 */
__attribute__((noreturn)) static void guardian_run(const struct netns_set *set, int rfd)
{
	char buf;
	int i, null;

	setsid();
	for (i = 0; i < 1024; i++)
		if (i != rfd)
			close(i);
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	for (;;) {
		ssize_t r = read(rfd, &buf, 1);

		if (r == 0 || (r < 0 && errno != EINTR))
			break;
	}
	for (i = 0; i < set->n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			execlp("ip", "ip", "netns", "del", set->name[i], (char *)NULL);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	_exit(0);
}

int netns_set_init(struct netns_set *set, const char *const tags[], int n, struct shoal_error *err)
{
	int pipefd[2], i;
	pid_t pid;

	memset(set, 0, sizeof(*set));
	set->guard_fd = -1;
	if (n > NETNS_MAX)
		return shoal_error_set(err, EINVAL, "%d namespaces (at most %d)", n, NETNS_MAX);
	set->n = n;
	for (i = 0; i < n; i++) {
		snprintf(set->name[i], NETNS_NAME_MAX, "shoal-nb%d-%s", (int)getpid(), tags[i]);
		set->fd[i] = -1;
	}
	if (pipe2(pipefd, O_CLOEXEC))
		return shoal_error_set(err, errno, "pipe");
	/* A plain fork, not net_proc_fork: the guardian must outlive us. */
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return shoal_error_set(err, errno, "fork the namespace guardian");
	}
	if (pid == 0)
		guardian_run(set, pipefd[0]);
	close(pipefd[0]);
	/* Close-on-exec, and closed in every child net_proc_fork() makes: no
	 * command, iperf3 or node may keep the guardian waiting. */
	set->guard_fd = pipefd[1];
	net_proc_close_in_children(set->guard_fd);
	return 0;
}

int netns_set_create(struct netns_set *set, struct shoal_error *err)
{
	char path[64];
	int i, ret;

	for (i = 0; i < set->n; i++) {
		ret = net_proc_run(CMD_TIMEOUT_MS, err, "ip netns add %s", set->name[i]);
		if (ret)
			return ret;
		set->made[i] = true;
		snprintf(path, sizeof(path), "/run/netns/%s", set->name[i]);
		set->fd[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (set->fd[i] < 0)
			return shoal_error_set(err, errno, "open %s", path);
		ret = net_proc_run(CMD_TIMEOUT_MS, err,
				   "ip -n %s link set lo up && ip netns exec %s sysctl -q -w "
				   "net.ipv6.conf.all.disable_ipv6=1 "
				   "net.ipv6.conf.default.disable_ipv6=1 >/dev/null",
				   set->name[i], set->name[i]);
		if (ret)
			return ret;
	}
	return 0;
}

void netns_set_destroy(struct netns_set *set)
{
	struct shoal_error err = { 0 };
	int i;

	for (i = 0; i < set->n; i++) {
		if (set->fd[i] >= 0)
			close(set->fd[i]);
		set->fd[i] = -1;
		if (set->made[i] &&
		    net_proc_run(CMD_TIMEOUT_MS, &err, "ip netns del %s", set->name[i])) {
			fprintf(stderr, "net-bench: %s (the guardian will retry)\n", err.msg);
			shoal_error_clear(&err);
		}
		set->made[i] = false;
	}
	if (set->guard_fd >= 0)
		close(set->guard_fd);
	set->guard_fd = -1;
}

int netns_veth(const struct netns_set *set, int ns_a, const char *a, const char *cidr_a, int ns_b,
	       const char *b, const char *cidr_b, int mtu, struct shoal_error *err)
{
	const char *na = set->name[ns_a], *nb = set->name[ns_b];
	int ret;

	ret = net_proc_run(CMD_TIMEOUT_MS, err,
			   "ip -n %s link add %s mtu %d type veth peer name %s mtu %d netns %s", na,
			   a, mtu, b, mtu, nb);
	if (!ret && cidr_a)
		ret = net_proc_run(CMD_TIMEOUT_MS, err, "ip -n %s addr add %s dev %s", na, cidr_a,
				   a);
	if (!ret && cidr_b)
		ret = net_proc_run(CMD_TIMEOUT_MS, err, "ip -n %s addr add %s dev %s", nb, cidr_b,
				   b);
	if (!ret)
		ret = net_proc_run(CMD_TIMEOUT_MS, err, "ip -n %s link set %s up", na, a);
	if (!ret)
		ret = net_proc_run(CMD_TIMEOUT_MS, err, "ip -n %s link set %s up", nb, b);
	return ret;
}

int netns_enter(int fd, struct shoal_error *err)
{
	if (setns(fd, CLONE_NEWNET))
		return shoal_error_set(err, errno, "setns into network namespace fd %d", fd);
	return 0;
}

int netns_packet_socket(const char *ifname, struct shoal_error *err)
{
	struct sockaddr_ll sll;
	/* Protocol 0, bound for all at once: no RCU wait (see instance/net.c). */
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return shoal_error_set(err, errno, "packet socket for %s", ifname);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		int e = sll.sll_ifindex ? errno : ENODEV;

		close(fd);
		return shoal_error_set(err, e, "bind packet socket to %s", ifname);
	}
	return fd;
}
