/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What net-bench collects and how it shows it. Each figure (a throughput, a
 * loss, a latency) has one series of samples per peer, one sample per run;
 * the report gives their median (and min, max, every sample in the JSON),
 * the ratio Shoal/native of the medians, and the goals of issue 4 beside
 * Shoal's ratios, as information: nothing here decides an exit status.
 * The table and the JSON are driven by the same lists, so a figure cannot
 * be in one and missing from the other.
 */
#ifndef SHOAL_TESTS_BENCH_NET_REPORT_H
#define SHOAL_TESTS_BENCH_NET_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "tests/bench/report.h"

enum net_peer {
	NET_PEER_NATIVE, /* the stream program on host sockets, two namespaces */
	NET_PEER_IPERF, /* iperf3 between the same two namespaces */
	NET_PEER_SHOAL, /* the stream program on two library kernels, offloads on */
	NET_PEER_SHOAL_NOOFF, /* the same with offloads off */
	NET_PEERS
};

enum net_figure {
	NET_FIG_TCP_1K_GBPS,
	NET_FIG_TCP_64K_GBPS,
	NET_FIG_UDP_1K_GBPS,
	NET_FIG_UDP_1K_LOSS,
	NET_FIG_UDP_64K_GBPS,
	NET_FIG_UDP_64K_LOSS,
	NET_FIG_RR_MEDIAN_US,
	NET_FIG_RR_P99_US,
	NET_FIGURES
};

struct net_peer_info {
	const char *name; /* column and JSON key */
	const char *what; /* one line on what runs */
	char skipped[160]; /* why it did not run at all, or "" */
	int runs, failed; /* runs tried, runs that did not complete */
};

struct net_report {
	/* settings */
	double seconds;
	int repeats;
	int mtu;
	unsigned long shoal_mem_mib;
	bool quick;
	const char *pin; /* "none", "same" or "split" */
	char namespaces[3][32]; /* the ones it made (all gone when it ends) */
	/* host */
	long cpus;
	char host_kernel[128];
	char when[64];
	struct net_peer_info peers[NET_PEERS];
	struct bench_series fig[NET_FIGURES][NET_PEERS];
};

/* net_report_table() - the human table; goals as information below it. */
void net_report_table(FILE *f, const struct net_report *r);

/* net_report_json() - one JSON document; every field always present, null
 * where there is no figure. */
void net_report_json(FILE *f, const struct net_report *r);

/* net_report_free() - release every series. */
void net_report_free(struct net_report *r);

#endif /* SHOAL_TESTS_BENCH_NET_REPORT_H */
