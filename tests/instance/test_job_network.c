// SPDX-License-Identifier: GPL-2.0
/*
 * Jobs on the instances' own network: two instances on the two ends of one
 * veth pair (in a namespace the test makes, a guardian removes it), real
 * Debian programs as jobs. `python3 -m http.server` in A serves a 1 MiB
 * file that `curl` in B fetches byte for byte; an `iperf3` server in A and
 * client in B complete a run. The bytes crossed both library kernels: each
 * instance's interface counters grew by at least what moved. No host socket
 * carried them: a job's host network namespace is empty (the jail makes a
 * fresh one), so a host socket could reach nothing.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/instance/tinst.h"
#include "tests/kernel/knetns.h"

static const char *const addrs[2] = { "198.18.10.2", "198.18.10.3" };

struct pair {
	struct knetns ns;
	struct tinst t[2];
};

static void pair_configure(struct tinst *t, struct proto_msg *cfg, int i)
{
	static const unsigned char mac[6] = { 0x02, 0x53, 0x48, 0x00, 0x0a, 0x00 };

	tinst_configure_init(t, cfg);
	cfg->configure.memory_mib = 128;
	cfg->configure.has_network = true;
	memcpy(cfg->configure.network.mac, mac, 6);
	cfg->configure.network.mac[5] = (unsigned char)(2 + i);
	cfg->configure.network.ipv4.family = AF_INET;
	cfg->configure.network.ipv4.prefix = 24;
	CHECK(inet_pton(AF_INET, addrs[i], cfg->configure.network.ipv4.addr) == 1);
	cfg->configure.network.mtu = 1500;
	cfg->configure.network.offloads = true;
	cfg->configure.network.fd = 0;
}

/* Two ready instances, A (198.18.10.2) and B (.3), on one veth pair. */
static void pair_start(struct pair *p)
{
	struct proto_msg cfg, msg;
	uint64_t ids[2];
	int fd[2], i;

	tinst_require_root();
	if (!tinst_have_jobshim())
		SKIP("the job shim is not built");
	knetns_create(&p->ns);
	knetns_veth(&p->ns, "j0", "j1", 1500);
	fd[0] = knetns_packet_socket(&p->ns, "j0");
	fd[1] = knetns_packet_socket(&p->ns, "j1");
	for (i = 0; i < 2; i++) {
		tinst_spawn(&p->t[i], NULL);
		tinst_hello(&p->t[i]);
		pair_configure(&p->t[i], &cfg, i);
		ids[i] = tinst_send(&p->t[i], &cfg, &fd[i], 1);
		close(fd[i]);
	}
	for (i = 0; i < 2; i++) {
		tinst_expect_ok(&p->t[i], &msg, ids[i], PROTO_CONFIGURE, 10000);
		proto_msg_free(&msg);
		tinst_expect(&p->t[i], &msg, PROTO_READY, 30000);
		proto_msg_free(&msg);
	}
}

/* Bytes the instance's network interface (not lo) received and sent. */
static void iface_bytes(struct tinst *t, uint64_t *rx, uint64_t *tx)
{
	struct proto_msg msg;
	size_t i;

	*rx = *tx = 0;
	tinst_stats(t, &msg);
	for (i = 0; i < msg.ok.stats.ninterfaces; i++) {
		const struct proto_iface_stats *s = &msg.ok.stats.interfaces[i];

		if (strcmp(s->name, "lo") != 0) {
			*rx += s->rx_bytes;
			*tx += s->tx_bytes;
		}
	}
	proto_msg_free(&msg);
}

/* Start a server job in @t (not waited for). */
static void start_server(struct tinst *t, const char *const *argv, const char *cwd,
			 struct tinst_job *job)
{
	struct proto_msg msg;

	tinst_exec_init(&msg, argv);
	msg.exec.cwd = cwd;
	msg.exec.timeout_ms = 60000;
	tinst_exec_send(t, &msg, job);
	CHECK(job->job != 0);
}

static void pair_stop(struct pair *p, int server_jobs)
{
	tinst_shutdown_jobs(&p->t[0], server_jobs);
	tinst_close(&p->t[0]);
	tinst_shutdown(&p->t[1]);
	tinst_close(&p->t[1]);
	/* the guardian deletes the namespace, with the veth pair, once we go */
	close(p->ns.fd);
	close(p->ns.guard_fd);
}

TEST_TIMEOUT(curl_in_one_instance_fetches_from_python_http_server_in_another, 180)
{
	const char *const server[] = { "/usr/bin/python3", "-m",	  "http.server", "8080",
				       "--bind",	   "198.18.10.2", NULL };
	/* the server needs a moment to listen: retry, bounded */
	const char *const client[] = {
		"/bin/sh", "-c",
		"for i in $(seq 100); do curl -sf -o /root/got http://198.18.10.2:8080/blob && "
		"sha256sum /root/got && exit 0; sleep 0.1; done; exit 1",
		NULL
	};
	const size_t size = 1 << 20;
	uint64_t rx0[2], tx0[2], rx1[2], tx1[2];
	struct tinst_job srv, cli, sum;
	const char *const hash[] = { "/usr/bin/sha256sum", "/tmp/blob", NULL };
	unsigned char *blob;
	struct pair p;
	size_t i;

	pair_start(&p);
	blob = malloc(size);
	CHECK(blob != NULL);
	for (i = 0; i < size; i++)
		blob[i] = (unsigned char)(i * 2654435761u >> 13);
	CHECK_EQ_INT(tinst_put(&p.t[0], "/tmp/blob", blob, size, 0644), PROTO_OK);
	free(blob);
	iface_bytes(&p.t[0], &rx0[0], &tx0[0]);
	iface_bytes(&p.t[1], &rx0[1], &tx0[1]);

	start_server(&p.t[0], server, "/tmp", &srv);
	tinst_run(&p.t[1], client, NULL, 60000, &cli);
	if (cli.exit.exit_code != 0)
		FAIL("curl job: exit %d, stderr: %s", cli.exit.exit_code,
		     cli.out[1] ? (char *)cli.out[1] : "");
	/* what B received is what A holds */
	tinst_run(&p.t[0], hash, NULL, 30000, &sum);
	CHECK_EQ_INT(sum.exit.exit_code, 0);
	CHECK(cli.len[0] >= 64 && sum.len[0] >= 64);
	CHECK(memcmp(cli.out[0], sum.out[0], 64) == 0);

	iface_bytes(&p.t[0], &rx1[0], &tx1[0]);
	iface_bytes(&p.t[1], &rx1[1], &tx1[1]);
	fprintf(stderr, "A sent %llu bytes, B received %llu bytes\n",
		(unsigned long long)(tx1[0] - tx0[0]), (unsigned long long)(rx1[1] - rx0[1]));
	CHECK(tx1[0] - tx0[0] >= size);
	CHECK(rx1[1] - rx0[1] >= size);
	tinst_job_free(&cli);
	tinst_job_free(&sum);
	pair_stop(&p, 1);
	tinst_job_free(&srv);
}

TEST_TIMEOUT(iperf3_between_two_instances_completes_a_run, 180)
{
	const char *const server[] = { "/usr/bin/iperf3", "-s", "-1", "-B", "198.18.10.2", NULL };
	const char *const client[] = {
		"/bin/sh", "-c",
		"for i in $(seq 100); do iperf3 -c 198.18.10.2 -t 1 -f m && exit 0; sleep 0.1; "
		"done; exit 1",
		NULL
	};
	struct tinst_job srv, cli;
	uint64_t rx0, tx0, rx1, tx1;
	struct pair p;

	pair_start(&p);
	iface_bytes(&p.t[1], &rx0, &tx0);
	start_server(&p.t[0], server, "/", &srv);
	tinst_run(&p.t[1], client, NULL, 90000, &cli);
	if (cli.exit.exit_code != 0)
		FAIL("iperf3 client: exit %d, stdout: %s stderr: %s", cli.exit.exit_code,
		     cli.out[0] ? (char *)cli.out[0] : "", cli.out[1] ? (char *)cli.out[1] : "");
	fprintf(stderr, "%s", cli.out[0]);
	CHECK(strstr((char *)cli.out[0], "receiver") != NULL);
	iface_bytes(&p.t[1], &rx1, &tx1);
	CHECK(tx1 - tx0 >= (1 << 20));
	/* the one-off server ends by itself after its one run */
	tinst_exec_wait(&p.t[0], &srv, 30000);
	CHECK_EQ_INT(srv.exit.exit_code, 0);
	tinst_job_free(&cli);
	pair_stop(&p, 0);
	tinst_job_free(&srv);
}
