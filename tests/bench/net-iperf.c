// SPDX-License-Identifier: GPL-2.0
/*
 * iperf3 runs for net-bench (see net-iperf.h). The client may only start
 * once the server listens, and with -1 a probe connection would count as
 * the one test: so readiness is read from the server's own view of its
 * namespace, /proc/<pid>/net/tcp, until its port shows in state LISTEN.
 */
#include "tests/bench/net-iperf.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/cleanup.h"
#include "tests/bench/net-proc.h"
#include "tests/bench/net-stream.h"
#include "tests/bench/netns.h"

#define LISTEN_TIMEOUT_MS 5000
#define MARGIN_MS 15000
#define OUT_MAX (1 << 20)

/* A child that joins @ns_fd (pinned to @cpu unless -1) and execs @argv,
 * stdout to @out_fd (or /dev/null when -1). Its stderr goes to /dev/null
 * too: with -J, iperf3's errors are in its JSON, and it warns about every
 * UDP datagram larger than the MSS. */
static pid_t spawn_in(int ns_fd, int cpu, char *const argv[], int out_fd, struct shoal_error *err)
{
	pid_t pid = net_proc_fork(err);
	int null;

	if (pid != 0)
		return pid;
	null = open("/dev/null", O_WRONLY);
	if (out_fd < 0)
		out_fd = null;
	if (null < 0 || dup2(out_fd, STDOUT_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0 ||
	    netns_enter(ns_fd, NULL) || (cpu >= 0 && net_proc_pin(cpu, NULL)))
		_exit(127);
	execvp(argv[0], argv);
	_exit(127);
}

/* Does /proc/<pid>/net/tcp list a socket on @port in state LISTEN (0A)? */
static bool listening(pid_t pid, uint16_t port)
{
	_cleanup_fclose_ FILE *f = NULL;
	char path[64], line[256];

	snprintf(path, sizeof(path), "/proc/%d/net/tcp", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned int lport, st;
		char laddr[16];

		if (sscanf(line, " %*d: %8[0-9A-Fa-f]:%x %*8[0-9A-Fa-f]:%*x %x", laddr, &lport,
			   &st) == 3 &&
		    lport == port && st == 0x0a)
			return true;
	}
	return false;
}

/* Read @fd to its end (or @timeout_ms) into a NUL-terminated buffer. */
static char *read_all(int fd, int timeout_ms, struct shoal_error *err)
{
	int64_t deadline = net_now_ns() + (int64_t)timeout_ms * 1000000;
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);

	if (!buf) {
		shoal_error_set(err, ENOMEM, "iperf3 output");
		return NULL;
	}
	for (;;) {
		int left = (int)((deadline - net_now_ns()) / 1000000), r;
		ssize_t n;

		r = net_proc_poll_in(fd, left > 0 ? left : 0);
		if (r <= 0) {
			shoal_error_set(err, r ? r : ETIMEDOUT, "iperf3 client: output");
			free(buf);
			return NULL;
		}
		if (len + 1 == cap) {
			char *nbuf = cap < OUT_MAX ? realloc(buf, cap * 2) : NULL;

			if (!nbuf) {
				shoal_error_set(err, ENOMEM, "iperf3 output over %zu bytes", len);
				free(buf);
				return NULL;
			}
			buf = nbuf;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

static double num(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_number(v) ? json_number_value(v) : -1;
}

/* The figures of the client's JSON (iperf3 3.12: end.sum_received). */
static int parse(const char *out, const struct net_iperf_job *job, struct net_iperf_result *res,
		 struct shoal_error *err)
{
	json_error_t jerr;
	json_t *doc = json_loads(out, 0, &jerr), *end, *recv, *sent, *e;
	int ret = 0;

	if (!doc)
		return shoal_error_set(err, 0, "iperf3: not JSON (%s, line %d)", jerr.text,
				       jerr.line);
	e = json_object_get(doc, "error");
	end = json_object_get(doc, "end");
	recv = json_object_get(end, "sum_received");
	sent = json_object_get(end, "sum_sent");
	if (json_is_string(e))
		ret = shoal_error_set(err, 0, "iperf3: %s", json_string_value(e));
	else if (num(recv, "bits_per_second") < 0)
		ret = shoal_error_set(err, 0, "iperf3: no end.sum_received.bits_per_second");
	if (!ret) {
		res->gbps = num(recv, "bits_per_second") / 1e9;
		res->loss_pct = job->udp ? num(recv, "lost_percent") : 0;
		res->retransmits = job->udp ? -1 : (long)num(sent, "retransmits");
	}
	json_decref(doc);
	return ret;
}

int net_iperf_run(const char *iperf3, const struct net_iperf_job *job, struct net_iperf_result *res,
		  struct shoal_error *err)
{
	char port[16], secs[32], len[16];
	char *srv_argv[] = { (char *)iperf3,	     "-s", "-1", "-B",
			     (char *)job->server_ip, "-p", port, NULL };
	char *cli_argv[16];
	_cleanup_free_ char *out = NULL;
	int64_t deadline;
	int pipefd[2], i = 0, st, ret;
	pid_t srv, cli;

	memset(res, 0, sizeof(*res));
	snprintf(port, sizeof(port), "%u", job->port);
	snprintf(secs, sizeof(secs), "%g", job->seconds);
	snprintf(len, sizeof(len), "%u", job->size);
	cli_argv[i++] = (char *)iperf3;
	cli_argv[i++] = "-c";
	cli_argv[i++] = (char *)job->server_ip;
	cli_argv[i++] = "-p";
	cli_argv[i++] = port;
	cli_argv[i++] = "-t";
	cli_argv[i++] = secs;
	cli_argv[i++] = "-l";
	cli_argv[i++] = len;
	cli_argv[i++] = "-J";
	if (job->udp) {
		cli_argv[i++] = "-u";
		cli_argv[i++] = "-b";
		cli_argv[i++] = "0";
	}
	cli_argv[i] = NULL;

	srv = spawn_in(job->server_ns_fd, job->server_cpu, srv_argv, -1, err);
	if (srv < 0)
		return srv;
	deadline = net_now_ns() + (int64_t)LISTEN_TIMEOUT_MS * 1000000;
	while (!listening(srv, job->port)) {
		siginfo_t si = { 0 };

		/* WNOWAIT: a server that died stays unreaped for the kill. */
		waitid(P_PID, (id_t)srv, &si, WEXITED | WNOHANG | WNOWAIT);
		if (net_now_ns() > deadline || si.si_pid == srv) {
			net_proc_kill(srv);
			return shoal_error_set(err, ETIMEDOUT,
					       "iperf3 server: not listening on %s:%s",
					       job->server_ip, port);
		}
		ret = net_proc_sleep_ms(5);
		if (ret) {
			net_proc_kill(srv);
			return shoal_error_set(err, ret, "iperf3 server");
		}
	}
	if (pipe2(pipefd, O_CLOEXEC)) {
		net_proc_kill(srv);
		return shoal_error_set(err, errno, "pipe");
	}
	cli = spawn_in(job->client_ns_fd, job->client_cpu, cli_argv, pipefd[1], err);
	close(pipefd[1]);
	if (cli < 0) {
		close(pipefd[0]);
		net_proc_kill(srv);
		return cli;
	}
	out = read_all(pipefd[0], (int)(job->seconds * 1000) + MARGIN_MS, err);
	close(pipefd[0]);
	ret = net_proc_wait(cli, out ? MARGIN_MS : 0, &st, err);
	if (!ret && out)
		ret = parse(out, job, res, err);
	else if (!ret)
		ret = -EIO;
	/* -1: the server ends after its one test (or is killed here). */
	if (net_proc_wait(srv, ret ? 0 : MARGIN_MS, NULL, ret ? NULL : err) && !ret)
		ret = -ETIMEDOUT;
	return ret;
}
