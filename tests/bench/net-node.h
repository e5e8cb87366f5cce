/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A node of net-bench: one process at one end of a veth pair that runs the
 * stream program's jobs it is sent, as server or as client. A native node
 * joins its network namespace with setns and uses host sockets; a Shoal
 * node opens a packet socket on its veth end, hands it to a virtio-net
 * device, boots a library kernel of its own (one per process: a kernel
 * cannot be booted twice in one process), configures the interface inside
 * that kernel and uses its sockets. Both run the same loop with the same
 * stream program; only the socket shim differs.
 *
 * The node and net-bench speak over a SOCK_SEQPACKET pair, one message per
 * step: the node says it is ready (or why setup failed); for each job it is
 * sent, a server says when it listens and both sides say what they saw. End
 * of file on the pair (net-bench closed it or died) halts the node.
 */
#ifndef SHOAL_TESTS_BENCH_NET_NODE_H
#define SHOAL_TESTS_BENCH_NET_NODE_H

#include <stdbool.h>
#include <sys/types.h>

#include "api/error.h"
#include "tests/bench/net-stream.h"

struct net_node_cfg {
	bool shoal; /* false: native (host sockets) */
	int ns_fd; /* the network namespace to join */
	int cpu; /* pin the node to this CPU; -1: let the scheduler choose */
	/* Shoal only: */
	const char *ifname; /* veth end for the packet socket */
	const char *cidr; /* address inside the kernel, "198.18.2.1/24" */
	bool offloads;
	unsigned int mtu;
	unsigned long mem_bytes; /* kernel RAM */
};

/* Counters of one job (deltas), to see where packets went. */
struct net_node_stats {
	/* Shoal: what the virtio-net device moved between kernel and socket */
	uint64_t rx_packets, rx_dropped, tx_packets, tx_dropped;
	/* the node's stack (host or library kernel): UDP datagrams dropped
	 * because the socket's receive buffer was full (/proc/net/snmp) */
	uint64_t udp_rcvbuf_errors;
};

struct net_node {
	pid_t pid; /* 0: not running */
	int ctl;
	char name[32];
};

/*
 * net_node_start() - fork the node for @cfg and wait up to @timeout_ms for
 * it to be ready (for Shoal: booted and configured). @name is for messages.
 * On failure nothing is left running.
 */
int net_node_start(struct net_node *node, const char *name, const struct net_node_cfg *cfg,
		   int timeout_ms, struct shoal_error *err);

/* net_node_listen() - make @node the server of @job; returns once it listens. */
int net_node_listen(struct net_node *node, const struct net_job *job, int timeout_ms,
		    struct shoal_error *err);

/* net_node_client() - make @node the client of @job; returns at once. */
int net_node_client(struct net_node *node, const struct net_job *job, struct shoal_error *err);

/*
 * net_node_result() - what @node saw in its current job, within @timeout_ms.
 * @stats (may be NULL) gets the node's counters for the job.
 */
int net_node_result(struct net_node *node, struct net_result *res, struct net_node_stats *stats,
		    int timeout_ms, struct shoal_error *err);

/*
 * net_node_stop() - close the pair (the node halts its kernel and exits),
 * wait up to @timeout_ms, then kill it. Safe on a stopped node.
 */
void net_node_stop(struct net_node *node, int timeout_ms);

#endif /* SHOAL_TESTS_BENCH_NET_NODE_H */
