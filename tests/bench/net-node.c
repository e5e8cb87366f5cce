// SPDX-License-Identifier: GPL-2.0
/*
 * net-bench's nodes (see net-node.h): the child's setup and job loop, and
 * the parent's side of their SEQPACKET conversation. A Shoal node is set up
 * like a Shoal instance would be: packet socket on the veth end in the
 * namespace, virtio-net device with offloads on or off, skl_boot, then the
 * interface's MTU, link and address through the kernel's own rtnetlink.
 */
#include "tests/bench/net-node.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <skl.h>
#include <skl_net.h>

#include "tests/bench/net-proc.h"
#include "tests/bench/netns.h"

enum msg_type { MSG_READY = 1, MSG_LISTENING, MSG_DONE, MSG_ERROR };

/* net-bench -> node */
struct node_cmd {
	int server; /* 1: serve @job, 0: be its client */
	struct net_job job;
};

/* node -> net-bench */
struct node_msg {
	int type;
	int err; /* MSG_ERROR: the -errno */
	struct net_result res;
	struct net_node_stats stats;
	char text[SHOAL_ERROR_MSG_MAX];
};

/* ---- the child ---- */

/* Boot the node's own kernel on a virtio-net device over @cfg->ifname and
 * give the interface its MTU and address. Returns the device number. */
static int shoal_setup(const struct net_node_cfg *cfg, struct shoal_error *err)
{
	struct skl_netdev_params p = { .mtu = cfg->mtu, .offloads = cfg->offloads };
	struct skl_boot_params bp = { .mem_bytes = cfg->mem_bytes, .loglevel = 4 };
	const char *console = getenv("SKL_CONSOLE");
	unsigned char mac[6];
	char msg[256] = "";
	int dev, ifindex;
	long ret;

	p.packet_fd = netns_packet_socket(cfg->ifname, err);
	if (p.packet_fd < 0)
		return p.packet_fd;
	dev = skl_netdev_add(&p, msg, sizeof(msg));
	close(p.packet_fd);
	if (dev < 0)
		return shoal_error_set(err, dev, "%s", msg);
	/* SKL_CONSOLE=1 shows the kernel's warnings, as in the kernel tests. */
	if (!console)
		skl_posix_set_console_fd(-1);
	ret = skl_boot(&bp);
	if (ret)
		return shoal_error_set(err, (int)ret, "skl_boot (%lu MiB)", cfg->mem_bytes >> 20);
	/* /proc of the kernel, for its counters (udp_rcvbuf_errors). */
	ret = skl_sys_mkdirat(SKL_AT_FDCWD, "/proc", 0555);
	if (!ret || ret == -SKL_EEXIST)
		ret = skl_sys_mount((char *)"proc", (char *)"/proc", (char *)"proc", 0, NULL);
	if (ret)
		return shoal_error_set(err, (int)ret, "mount proc in the library kernel");
	if (skl_netdev_mac(dev, mac))
		return shoal_error_set(err, ENODEV, "skl_netdev_mac %d", dev);
	ifindex = skl_net_ifindex_by_mac(mac, msg, sizeof(msg));
	if (ifindex < 0)
		return shoal_error_set(err, ifindex, "%s", msg);
	ret = skl_net_set_mtu(ifindex, cfg->mtu, msg, sizeof(msg));
	if (!ret)
		ret = skl_net_link_up(ifindex, msg, sizeof(msg));
	if (!ret)
		ret = skl_net_add_addr_str(ifindex, cfg->cidr, msg, sizeof(msg));
	if (ret)
		return shoal_error_set(err, (int)ret, "%s", msg);
	return dev;
}

/* RcvbufErrors of the Udp line of /proc/net/snmp, read from @text. */
static uint64_t snmp_udp_rcvbuf_errors(const char *text)
{
	const char *line = strstr(text, "\nUdp: ");
	unsigned long long v[5];

	/* The first Udp line names the fields, the second has the values. */
	if (line)
		line = strstr(line + 1, "\nUdp: ");
	if (!line ||
	    sscanf(line, "\nUdp: %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4]) != 5)
		return 0;
	return v[4];
}

/* The counter from the node's own stack: the host's /proc (the node is in
 * its namespace) or the library kernel's (mounted at boot). */
static uint64_t udp_rcvbuf_errors(bool shoal)
{
	char buf[4096];
	long fd, n;

	if (shoal) {
		fd = skl_sys_openat(SKL_AT_FDCWD, "/proc/net/snmp", SKL_O_RDONLY, 0);
		if (fd < 0)
			return 0;
		n = skl_sys_read((unsigned int)fd, buf, sizeof(buf) - 1);
		skl_sys_close((unsigned int)fd);
	} else {
		fd = open("/proc/net/snmp", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return 0;
		n = read((int)fd, buf, sizeof(buf) - 1);
		close((int)fd);
	}
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return snmp_udp_rcvbuf_errors(buf);
}

static void node_stats(bool shoal, int netdev, struct net_node_stats *st)
{
	struct skl_netdev_stats d = { 0 };

	if (netdev >= 0)
		skl_netdev_stats(netdev, &d);
	st->rx_packets = d.rx_packets;
	st->rx_dropped = d.rx_dropped;
	st->tx_packets = d.tx_packets;
	st->tx_dropped = d.tx_dropped;
	st->udp_rcvbuf_errors = udp_rcvbuf_errors(shoal);
}

static void send_msg(int ctl, struct node_msg *m)
{
	/* A parent that is gone will not read it; we notice at the next recv. */
	(void)send(ctl, m, sizeof(*m), MSG_NOSIGNAL);
}

static void send_error(int ctl, int ret, const struct shoal_error *err)
{
	struct node_msg m = { .type = MSG_ERROR, .err = ret < 0 ? ret : -EIO };

	snprintf(m.text, sizeof(m.text), "%s", err->msg[0] ? err->msg : strerror(-m.err));
	send_msg(ctl, &m);
}

/* One job, on either side. */
static void node_job(int ctl, const struct net_sock_ops *ops, int netdev,
		     const struct node_cmd *cmd)
{
	struct shoal_error err = { 0 };
	struct node_msg m = { .type = MSG_DONE };
	struct net_node_stats a, b;
	int ret, fd;

	node_stats(ops == &net_sock_skl, netdev, &a);
	if (cmd->server) {
		struct node_msg listening = { .type = MSG_LISTENING };

		fd = net_stream_listen(ops, &cmd->job, &err);
		if (fd < 0) {
			send_error(ctl, fd, &err);
			return;
		}
		send_msg(ctl, &listening);
		ret = net_stream_serve(ops, &cmd->job, fd, &m.res, &err);
	} else {
		ret = net_stream_client(ops, &cmd->job, &m.res, &err);
	}
	if (ret) {
		send_error(ctl, ret, &err);
		return;
	}
	node_stats(ops == &net_sock_skl, netdev, &b);
	m.stats.rx_packets = b.rx_packets - a.rx_packets;
	m.stats.rx_dropped = b.rx_dropped - a.rx_dropped;
	m.stats.tx_packets = b.tx_packets - a.tx_packets;
	m.stats.tx_dropped = b.tx_dropped - a.tx_dropped;
	m.stats.udp_rcvbuf_errors = b.udp_rcvbuf_errors - a.udp_rcvbuf_errors;
	send_msg(ctl, &m);
}

__attribute__((noreturn)) static void node_main(int ctl, const struct net_node_cfg *cfg)
{
	const struct net_sock_ops *ops = cfg->shoal ? &net_sock_skl : &net_sock_host;
	struct node_msg ready = { .type = MSG_READY };
	struct shoal_error err = { 0 };
	struct node_cmd cmd;
	int netdev = -1, ret, fd;

	/* Nothing of the parent's but our two descriptors: another node's
	 * pair kept open here would never see its end of file. */
	for (fd = 3; fd < 1024; fd++)
		if (fd != ctl && fd != cfg->ns_fd)
			close(fd);
	ret = netns_enter(cfg->ns_fd, &err);
	/* Before the kernel boots: every thread it makes inherits the mask. */
	if (!ret && cfg->cpu >= 0)
		ret = net_proc_pin(cfg->cpu, &err);
	if (!ret && cfg->shoal) {
		netdev = shoal_setup(cfg, &err);
		ret = netdev < 0 ? netdev : 0;
	}
	close(cfg->ns_fd);
	if (ret) {
		send_error(ctl, ret, &err);
		_exit(1);
	}
	send_msg(ctl, &ready);
	for (;;) {
		ssize_t n = recv(ctl, &cmd, sizeof(cmd), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof(cmd))
			break;
		node_job(ctl, ops, netdev, &cmd);
	}
	if (cfg->shoal)
		skl_halt();
	_exit(0);
}

/* ---- the parent ---- */

/* The node's next message, of type @want; errors carry the node's text. */
static int recv_msg(struct net_node *node, int want, struct node_msg *m, int timeout_ms,
		    struct shoal_error *err)
{
	ssize_t n;
	int r;

	r = net_proc_poll_in(node->ctl, timeout_ms);
	if (r < 0)
		return shoal_error_set(err, r, "%s: waiting", node->name);
	if (r == 0)
		return shoal_error_set(err, ETIMEDOUT, "%s: no answer within %d ms", node->name,
				       timeout_ms);
	n = recv(node->ctl, m, sizeof(*m), MSG_DONTWAIT);
	if (n < 0)
		return shoal_error_set(err, errno, "%s: recv", node->name);
	if (n == 0)
		return shoal_error_set(err, EPIPE, "%s: the node exited", node->name);
	if (n != sizeof(*m))
		return shoal_error_set(err, EPROTO, "%s: %zd-byte message", node->name, n);
	if (m->type == MSG_ERROR)
		return shoal_error_set(err, m->err, "%s: %s", node->name, m->text);
	if (m->type != want)
		return shoal_error_set(err, EPROTO, "%s: message %d, expected %d", node->name,
				       m->type, want);
	return 0;
}

static int send_cmd(struct net_node *node, int server, const struct net_job *job,
		    struct shoal_error *err)
{
	struct node_cmd cmd = { .server = server, .job = *job };

	if (send(node->ctl, &cmd, sizeof(cmd), MSG_NOSIGNAL) != sizeof(cmd))
		return shoal_error_set(err, errno, "%s: send job", node->name);
	return 0;
}

int net_node_start(struct net_node *node, const char *name, const struct net_node_cfg *cfg,
		   int timeout_ms, struct shoal_error *err)
{
	struct node_msg m;
	int sv[2], ret;
	pid_t pid;

	memset(node, 0, sizeof(*node));
	node->ctl = -1;
	snprintf(node->name, sizeof(node->name), "%s", name);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return shoal_error_set(err, errno, "%s: socketpair", name);
	pid = net_proc_fork(err);
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return pid;
	}
	if (pid == 0) {
		close(sv[0]);
		node_main(sv[1], cfg);
	}
	close(sv[1]);
	node->pid = pid;
	node->ctl = sv[0];
	ret = recv_msg(node, MSG_READY, &m, timeout_ms, err);
	if (ret)
		net_node_stop(node, 0);
	return ret;
}

int net_node_listen(struct net_node *node, const struct net_job *job, int timeout_ms,
		    struct shoal_error *err)
{
	struct node_msg m;
	int ret = send_cmd(node, 1, job, err);

	return ret ? ret : recv_msg(node, MSG_LISTENING, &m, timeout_ms, err);
}

int net_node_client(struct net_node *node, const struct net_job *job, struct shoal_error *err)
{
	return send_cmd(node, 0, job, err);
}

int net_node_result(struct net_node *node, struct net_result *res, struct net_node_stats *stats,
		    int timeout_ms, struct shoal_error *err)
{
	struct node_msg m;
	int ret = recv_msg(node, MSG_DONE, &m, timeout_ms, err);

	if (ret)
		return ret;
	*res = m.res;
	if (stats)
		*stats = m.stats;
	return 0;
}

void net_node_stop(struct net_node *node, int timeout_ms)
{
	if (node->ctl >= 0)
		close(node->ctl);
	node->ctl = -1;
	/* On a timeout the wait kills and reaps the node itself. */
	if (node->pid > 0)
		(void)net_proc_wait(node->pid, timeout_ms, NULL, NULL);
	node->pid = 0;
}
