// SPDX-License-Identifier: GPL-2.0
/*
 * net-bench: how fast Shoal's network path is, printed beside native Linux
 * measured in the same run over the same kind of link. Two library kernels,
 * each booted in a process of its own with a virtio-net device on one end of
 * a veth pair (offloads on, and again with offloads off), run the stream
 * program of net-stream.c on their own sockets; two host processes in two
 * network namespaces joined by a veth pair run the very same program on host
 * sockets; iperf3 between those two namespaces cross-checks the native
 * figures. Measured: TCP stream with 1 KiB and 64 KiB writes, UDP stream
 * with 1 KiB and 65507-byte datagrams (received goodput and loss), and 1-byte
 * TCP ping-pong (median and p99 round trip). Each figure is the median of a
 * few runs of a fixed length, interleaved over the peers so that the drift
 * of this noisy machine spreads over all of them. It prints figures and
 * ratios, with the goals of issue 4 as information; it never passes or fails
 * on a figure.
 *
 * It needs root (namespaces, packet sockets). Everything it makes -- three
 * namespaces shoal-nb<pid>-{a,b,k} with their veths, the node processes,
 * iperf3 -- is removed on every way out: normal end, error, SIGINT, SIGTERM,
 * SIGHUP; and if net-bench is SIGKILLed, its children die with it
 * (PR_SET_PDEATHSIG) and a guardian process deletes the namespaces.
 * Addresses are from 198.18.0.0/16 and traffic never leaves the namespaces.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "api/error.h"
#include "tests/bench/net-iperf.h"
#include "tests/bench/net-node.h"
#include "tests/bench/net-proc.h"
#include "tests/bench/net-report.h"
#include "tests/bench/net-stream.h"
#include "tests/bench/netns.h"
#include "tests/bench/program.h"

/* Bounds, in ms, on top of a run's own length. */
#define NODE_START_TIMEOUT 30000
#define LISTEN_TIMEOUT 10000
#define RESULT_MARGIN 30000
#define STOP_TIMEOUT 5000 /* a node's halt after its pair closed */
/* Between two runs: let the last one's connections and queues settle. */
#define SETTLE_MS 300
#define PORT_BASE 20000

/* What is measured, in the order of a round. */
static const struct meas {
	const char *key; /* --only */
	enum net_job_kind kind;
	uint32_t size;
	bool iperf; /* iperf3 has this one too */
	enum net_figure fig, fig2; /* Gbit/s + loss, or median + p99 */
} meas[] = {
	{ "tcp_1k", NET_JOB_TCP_STREAM, 1024, true, NET_FIG_TCP_1K_GBPS, NET_FIGURES },
	{ "tcp_64k", NET_JOB_TCP_STREAM, 65536, true, NET_FIG_TCP_64K_GBPS, NET_FIGURES },
	{ "udp_1k", NET_JOB_UDP_STREAM, 1024, true, NET_FIG_UDP_1K_GBPS, NET_FIG_UDP_1K_LOSS },
	{ "udp_64k", NET_JOB_UDP_STREAM, 65507, true, NET_FIG_UDP_64K_GBPS, NET_FIG_UDP_64K_LOSS },
	{ "tcp_rr", NET_JOB_TCP_RR, 1, false, NET_FIG_RR_MEDIAN_US, NET_FIG_RR_P99_US },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The namespaces: the native server's, the native client's, and the one
 * holding both Shoal veth pairs (their host ends carry no address). */
enum { NS_A, NS_B, NS_K, NS_COUNT };
static const char *const ns_tags[NS_COUNT] = { "a", "b", "k" };

/* One pair of nodes: a server and a client at the two ends of a veth. */
struct pair {
	struct net_node_cfg srv_cfg, cli_cfg;
	const char *srv_ip;
	struct net_node srv, cli;
	bool up;
};

static struct net_report report = {
	.peers = {
		[NET_PEER_NATIVE] = { .name = "native",
				      .what = "the stream program on host sockets, two network "
					      "namespaces joined by a veth pair" },
		[NET_PEER_IPERF] = { .name = "iperf3",
				     .what = "iperf3 -s -1 / iperf3 -c -J between the same two "
					     "namespaces" },
		[NET_PEER_SHOAL] = { .name = "shoal",
				     .what = "the stream program on two library kernels, one per "
					     "process, virtio-net on a veth pair, offloads on" },
		[NET_PEER_SHOAL_NOOFF] = { .name = "shoal-nooffload",
					   .what = "the same with the devices' offloads off" },
	},
};

static struct {
	struct netns_set ns;
	struct pair pairs[NET_PEERS]; /* all but NET_PEER_IPERF */
	char iperf3[256];
	unsigned int port; /* the next one to use */
	bool verbose;
	bool wanted[N(meas)];
	int server_cpu, client_cpu; /* --pin; -1: not pinned */
} ctx;

static void on_signal(int sig)
{
	(void)sig;
	net_interrupted = 1;
}

static void cleanup(void)
{
	int p;

	/* The way out is bounded by its own timeouts: a signal that ended the
	 * run must not cut short the deletion of the namespaces too. */
	net_interrupted = 0;
	/* Each node halts its kernel and exits once its pair closes. */
	for (p = 0; p < NET_PEERS; p++) {
		net_node_stop(&ctx.pairs[p].cli, STOP_TIMEOUT);
		net_node_stop(&ctx.pairs[p].srv, STOP_TIMEOUT);
	}
	net_proc_kill_all();
	netns_set_destroy(&ctx.ns);
}

/* The veths and the nodes' configuration. */
static int setup_topology(int mtu, unsigned long mem_bytes, struct shoal_error *err)
{
	static const struct {
		enum net_peer peer;
		bool offloads;
		const char *a, *b, *cidr_a, *cidr_b, *ip_a;
	} shoal[] = {
		{ NET_PEER_SHOAL, true, "k1a", "k1b", "198.18.2.1/24", "198.18.2.2/24",
		  "198.18.2.1" },
		{ NET_PEER_SHOAL_NOOFF, false, "k0a", "k0b", "198.18.3.1/24", "198.18.3.2/24",
		  "198.18.3.1" },
	};
	struct pair *native = &ctx.pairs[NET_PEER_NATIVE];
	size_t i;
	int ret;

	ret = netns_veth(&ctx.ns, NS_A, "na", "198.18.1.1/24", NS_B, "nb", "198.18.1.2/24", mtu,
			 err);
	if (ret)
		return ret;
	native->srv_cfg = (struct net_node_cfg){ .ns_fd = ctx.ns.fd[NS_A], .cpu = ctx.server_cpu };
	native->cli_cfg = (struct net_node_cfg){ .ns_fd = ctx.ns.fd[NS_B], .cpu = ctx.client_cpu };
	native->srv_ip = "198.18.1.1";

	for (i = 0; i < N(shoal); i++) {
		struct pair *pr = &ctx.pairs[shoal[i].peer];
		struct net_node_cfg cfg = { .shoal = true,
					    .ns_fd = ctx.ns.fd[NS_K],
					    .offloads = shoal[i].offloads,
					    .mtu = (unsigned int)mtu,
					    .mem_bytes = mem_bytes };

		ret = netns_veth(&ctx.ns, NS_K, shoal[i].a, NULL, NS_K, shoal[i].b, NULL, mtu, err);
		if (ret)
			return ret;
		pr->srv_cfg = cfg;
		pr->srv_cfg.cpu = ctx.server_cpu;
		pr->srv_cfg.ifname = shoal[i].a;
		pr->srv_cfg.cidr = shoal[i].cidr_a;
		pr->cli_cfg = cfg;
		pr->cli_cfg.cpu = ctx.client_cpu;
		pr->cli_cfg.ifname = shoal[i].b;
		pr->cli_cfg.cidr = shoal[i].cidr_b;
		pr->srv_ip = shoal[i].ip_a;
	}
	return 0;
}

/* A pair that failed a job: kill it at once, it may be stuck in the job. */
static void pair_down(struct pair *pr)
{
	net_node_stop(&pr->cli, 0);
	net_node_stop(&pr->srv, 0);
	pr->up = false;
}

static int pair_up(enum net_peer peer, struct shoal_error *err)
{
	struct pair *pr = &ctx.pairs[peer];
	char name[48];
	int ret;

	if (pr->up)
		return 0;
	snprintf(name, sizeof(name), "%s server", report.peers[peer].name);
	ret = net_node_start(&pr->srv, name, &pr->srv_cfg, NODE_START_TIMEOUT, err);
	if (ret)
		return ret;
	snprintf(name, sizeof(name), "%s client", report.peers[peer].name);
	ret = net_node_start(&pr->cli, name, &pr->cli_cfg, NODE_START_TIMEOUT, err);
	if (ret) {
		pair_down(pr);
		return ret;
	}
	pr->up = true;
	return 0;
}

static void record(enum net_figure fig, enum net_peer peer, double v)
{
	if (fig < NET_FIGURES)
		bench_series_add(&report.fig[fig][peer], v);
}

/* One run of @m by a pair of nodes. */
static int run_nodes(enum net_peer peer, const struct meas *m, double seconds,
		     struct shoal_error *err)
{
	struct pair *pr = &ctx.pairs[peer];
	struct net_job job = { .kind = m->kind, .size = m->size, .seconds = seconds };
	struct net_result srv, cli;
	struct net_node_stats sst, cst;
	int timeout = (int)(seconds * 1000) + RESULT_MARGIN, ret;

	ret = pair_up(peer, err);
	if (ret)
		return ret;
	inet_pton(AF_INET, pr->srv_ip, &job.addr.ip);
	job.addr.port = (uint16_t)ctx.port++;
	ret = net_node_listen(&pr->srv, &job, LISTEN_TIMEOUT, err);
	if (!ret)
		ret = net_node_client(&pr->cli, &job, err);
	if (!ret)
		ret = net_node_result(&pr->cli, &cli, &cst, timeout, err);
	if (!ret)
		ret = net_node_result(&pr->srv, &srv, &sst, RESULT_MARGIN, err);
	if (ret) {
		pair_down(pr);
		return ret;
	}
	if (m->kind == NET_JOB_TCP_RR) {
		record(m->fig, peer, cli.rtt_median_us);
		record(m->fig2, peer, cli.rtt_p99_us);
	} else {
		double gbps = srv.seconds > 0 ? (double)srv.bytes * 8 / srv.seconds / 1e9 : 0;

		record(m->fig, peer, gbps);
		if (m->kind == NET_JOB_UDP_STREAM)
			record(m->fig2, peer,
			       cli.datagrams && srv.datagrams <= cli.datagrams
				       ? 100.0 * (double)(cli.datagrams - srv.datagrams) /
						 (double)cli.datagrams
				       : 0);
	}
	if (ctx.verbose) {
		fprintf(stderr,
			"net-bench: %-15s %-7s server %.3f s %llu B %llu dgrams; client %.3f s "
			"%llu B %llu dgrams %llu refused",
			report.peers[peer].name, m->key, srv.seconds, (unsigned long long)srv.bytes,
			(unsigned long long)srv.datagrams, cli.seconds,
			(unsigned long long)cli.bytes, (unsigned long long)cli.datagrams,
			(unsigned long long)cli.send_errors);
		if (m->kind == NET_JOB_TCP_RR)
			fprintf(stderr, "; rtt median %.1f p99 %.1f us over %llu",
				cli.rtt_median_us, cli.rtt_p99_us, (unsigned long long)cli.rtts);
		if (m->kind == NET_JOB_UDP_STREAM)
			fprintf(stderr, "; server UDP RcvbufErrors %llu",
				(unsigned long long)sst.udp_rcvbuf_errors);
		if (pr->srv_cfg.shoal)
			fprintf(stderr,
				"; devices: server rx %llu (dropped %llu) tx %llu, client rx %llu "
				"tx %llu (dropped %llu)",
				(unsigned long long)sst.rx_packets,
				(unsigned long long)sst.rx_dropped,
				(unsigned long long)sst.tx_packets,
				(unsigned long long)cst.rx_packets,
				(unsigned long long)cst.tx_packets,
				(unsigned long long)cst.tx_dropped);
		fputc('\n', stderr);
	}
	return 0;
}

static int run_iperf(const struct meas *m, double seconds, struct shoal_error *err)
{
	struct net_iperf_job job = { .server_ns_fd = ctx.ns.fd[NS_A],
				     .client_ns_fd = ctx.ns.fd[NS_B],
				     .server_cpu = ctx.server_cpu,
				     .client_cpu = ctx.client_cpu,
				     .server_ip = "198.18.1.1",
				     .port = (uint16_t)ctx.port++,
				     .udp = m->kind == NET_JOB_UDP_STREAM,
				     .size = m->size,
				     .seconds = seconds };
	struct net_iperf_result res;
	int ret = net_iperf_run(ctx.iperf3, &job, &res, err);

	if (ret)
		return ret;
	record(m->fig, NET_PEER_IPERF, res.gbps);
	if (job.udp)
		record(m->fig2, NET_PEER_IPERF, res.loss_pct);
	if (ctx.verbose)
		fprintf(stderr,
			"net-bench: %-15s %-7s %.3f Gbit/s, loss %.1f %%, retransmits %ld\n",
			"iperf3", m->key, res.gbps, res.loss_pct, res.retransmits);
	return 0;
}

/* A comma-separated list of names into @on (indexed like @names). */
static bool parse_list(const char *arg, const char *const *names, size_t n, bool *on)
{
	char buf[256], *tok, *save = NULL;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", arg);
	memset(on, 0, n * sizeof(*on));
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < n && strcmp(tok, names[i]); i++)
			;
		if (i == n)
			return false;
		on[i] = true;
	}
	return true;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: net-bench [--seconds S] [--repeats N] [--quick] [--json] [--mtu M]\n"
		   "                 [--mem-mib M] [--only LIST] [--peers LIST] [--iperf3 PATH]\n"
		   "                 [--pin none|same|split] [--verbose]\n"
		   "\n"
		   "Measures TCP and UDP stream throughput and TCP ping-pong latency between two\n"
		   "Shoal library kernels over a veth pair (offloads on and off), beside native\n"
		   "Linux between two namespaces and iperf3, each run S seconds (default 3), N\n"
		   "times (default 3), as a table or JSON. --quick: one run of 1 s unless given.\n"
		   "--pin same: every process on CPU 0; split: servers on CPU 0, clients on 1;\n"
		   "none (default): where the scheduler puts them. --verbose: each run on stderr.\n"
		   "LIST: tcp_1k,tcp_64k,udp_1k,udp_64k,tcp_rr / native,iperf3,shoal,"
		   "shoal-nooffload.\n"
		   "Needs root. Figures only: the exit status says whether the benchmark could\n"
		   "run, never whether a figure is good.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "repeats", required_argument, NULL, 'r' },
		{ "quick", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "mem-mib", required_argument, NULL, 'M' },
		{ "only", required_argument, NULL, 'o' },
		{ "peers", required_argument, NULL, 'p' },
		{ "iperf3", required_argument, NULL, 'i' },
		{ "pin", required_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *meas_names[N(meas)], *peer_names[NET_PEERS], *iperf3 = "iperf3";
	struct sigaction sa = { .sa_handler = on_signal };
	struct shoal_error err = { 0 };
	bool json = false, peers_on[NET_PEERS], seconds_given = false, repeats_given = false;
	int c, round, total = 0, done = 0;
	size_t m;
	struct utsname un;
	time_t now;
	struct tm tm;

	report.seconds = 3;
	report.repeats = 3;
	report.mtu = 1500;
	report.shoal_mem_mib = 64;
	report.pin = "none";
	ctx.server_cpu = ctx.client_cpu = -1;
	for (m = 0; m < N(meas); m++) {
		meas_names[m] = meas[m].key;
		ctx.wanted[m] = true;
	}
	for (c = 0; c < NET_PEERS; c++) {
		peer_names[c] = report.peers[c].name;
		peers_on[c] = true;
	}
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 's':
			report.seconds = strtod(optarg, &end);
			if (*end || !(report.seconds >= 0.1 && report.seconds <= 600))
				goto bad;
			seconds_given = true;
			break;
		case 'r':
			report.repeats = (int)strtol(optarg, &end, 10);
			if (*end || report.repeats < 1 || report.repeats > 1000)
				goto bad;
			repeats_given = true;
			break;
		case 'q':
			report.quick = true;
			break;
		case 'j':
			json = true;
			break;
		case 'm':
			report.mtu = (int)strtol(optarg, &end, 10);
			if (*end || report.mtu < 576 || report.mtu > 65000)
				goto bad;
			break;
		case 'M':
			report.shoal_mem_mib = strtoul(optarg, &end, 10);
			if (*end || report.shoal_mem_mib < 16 || report.shoal_mem_mib > 16384)
				goto bad;
			break;
		case 'o':
			if (!parse_list(optarg, meas_names, N(meas), ctx.wanted))
				goto bad;
			break;
		case 'p':
			if (!parse_list(optarg, peer_names, NET_PEERS, peers_on))
				goto bad;
			break;
		case 'i':
			iperf3 = optarg;
			break;
		case 'P':
			if (!strcmp(optarg, "none")) {
				ctx.server_cpu = ctx.client_cpu = -1;
			} else if (!strcmp(optarg, "same")) {
				ctx.server_cpu = ctx.client_cpu = 0;
			} else if (!strcmp(optarg, "split")) {
				ctx.server_cpu = 0;
				ctx.client_cpu = 1;
			} else {
				goto bad;
			}
			report.pin = optarg;
			break;
		case 'v':
			ctx.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	if (report.quick) {
		if (!seconds_given)
			report.seconds = 1;
		if (!repeats_given)
			report.repeats = 1;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "net-bench: needs root (network namespaces, packet sockets)\n");
		return 1;
	}
	for (c = 0; c < NET_PEERS; c++)
		if (!peers_on[c])
			snprintf(report.peers[c].skipped, sizeof(report.peers[c].skipped),
				 "not in --peers");
	if (!report.peers[NET_PEER_IPERF].skipped[0] &&
	    !bench_find_program(iperf3, ctx.iperf3, sizeof(ctx.iperf3)))
		snprintf(report.peers[NET_PEER_IPERF].skipped,
			 sizeof(report.peers[NET_PEER_IPERF].skipped),
			 "%s not found (package iperf3; `make deps`)", iperf3);

	/* Waits end early on these, and the exit path cleans up. No
	 * SA_RESTART: a blocking call must return so the flag is seen. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ctx.port = PORT_BASE;
	for (c = 0; c < NET_PEERS; c++)
		ctx.pairs[c].srv.ctl = ctx.pairs[c].cli.ctl = -1;
	ctx.ns.guard_fd = -1;
	atexit(cleanup);

	if (netns_set_init(&ctx.ns, ns_tags, NS_COUNT, &err) || netns_set_create(&ctx.ns, &err) ||
	    setup_topology(report.mtu, report.shoal_mem_mib << 20, &err)) {
		fprintf(stderr, "net-bench: setup: %s\n", err.msg);
		return 1;
	}

	for (c = 0; c < NS_COUNT; c++)
		snprintf(report.namespaces[c], sizeof(report.namespaces[c]), "%s", ctx.ns.name[c]);
	for (m = 0; m < N(meas); m++)
		for (c = 0; c < NET_PEERS; c++)
			if (ctx.wanted[m] && !report.peers[c].skipped[0] &&
			    (c != NET_PEER_IPERF || meas[m].iperf))
				total++;
	total *= report.repeats;

	/* Rounds: every measurement once per round, its peers in an order that
	 * turns from round to round. */
	for (round = 0; round < report.repeats; round++) {
		for (m = 0; m < N(meas); m++) {
			int k;

			if (!ctx.wanted[m])
				continue;
			for (k = 0; k < NET_PEERS; k++) {
				enum net_peer peer = (enum net_peer)((k + round) % NET_PEERS);
				struct net_peer_info *pi = &report.peers[peer];
				int ret;

				if (pi->skipped[0] || (peer == NET_PEER_IPERF && !meas[m].iperf))
					continue;
				if (isatty(STDERR_FILENO) && !ctx.verbose)
					fprintf(stderr, "\rnet-bench: run %d/%d   ", ++done, total);
				pi->runs++;
				ret = peer == NET_PEER_IPERF
					      ? run_iperf(&meas[m], report.seconds, &err)
					      : run_nodes(peer, &meas[m], report.seconds, &err);
				if (net_interrupted) {
					fprintf(stderr, "\nnet-bench: interrupted; cleaning up\n");
					return 130;
				}
				if (ret) {
					fprintf(stderr, "\nnet-bench: %s %s: %s\n", pi->name,
						meas[m].key, err.msg);
					shoal_error_clear(&err);
					pi->failed++;
				}
				if (net_proc_sleep_ms(SETTLE_MS)) {
					fprintf(stderr, "\nnet-bench: interrupted; cleaning up\n");
					return 130;
				}
			}
		}
	}
	if (isatty(STDERR_FILENO) && !ctx.verbose)
		fputc('\n', stderr);

	report.cpus = sysconf(_SC_NPROCESSORS_ONLN);
	snprintf(report.host_kernel, sizeof(report.host_kernel), "%s",
		 uname(&un) == 0 ? un.release : "?");
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(report.when, sizeof(report.when), "%Y-%m-%d %H:%M UTC", &tm);
	if (json)
		net_report_json(stdout, &report);
	else
		net_report_table(stdout, &report);
	net_report_free(&report);
	return 0;

bad:
	usage(stderr);
	return 2;
}
