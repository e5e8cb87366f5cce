/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iperf3 between two network namespaces: net-bench's cross-check of its own
 * native figures with a tool everyone knows. The server (`iperf3 -s -1`,
 * one test and out) joins one namespace with setns, the client (`-J`) the
 * other; the figures come from the client's JSON, receiver side.
 */
#ifndef SHOAL_TESTS_BENCH_NET_IPERF_H
#define SHOAL_TESTS_BENCH_NET_IPERF_H

#include <stdbool.h>
#include <stdint.h>

#include "api/error.h"

struct net_iperf_job {
	int server_ns_fd, client_ns_fd;
	int server_cpu, client_cpu; /* pin each end there; -1: do not */
	const char *server_ip; /* the server binds and listens there */
	uint16_t port;
	bool udp; /* with -b 0: as fast as it goes */
	unsigned int size; /* -l: bytes per write or datagram */
	double seconds; /* -t */
};

struct net_iperf_result {
	double gbps; /* received, Gbit/s */
	double loss_pct; /* UDP: lost datagrams, % */
	long retransmits; /* TCP: the sender's count; -1 if not given */
};

/*
 * net_iperf_run() - one iperf3 test. @iperf3 is the program (a path or a
 * name in PATH). Every wait is bounded by the test's length plus a margin;
 * both ends are killed if they overrun.
 */
int net_iperf_run(const char *iperf3, const struct net_iperf_job *job, struct net_iperf_result *res,
		  struct shoal_error *err);

#endif /* SHOAL_TESTS_BENCH_NET_IPERF_H */
