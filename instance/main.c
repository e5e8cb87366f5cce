// SPDX-License-Identifier: GPL-2.0
/*
 * shoal-instance: one Shoal instance, the host process that hosts one library
 * kernel and serves its supervisor over the control protocol
 * (api/PROTOCOL.md). This file reads the command line and hands over to the
 * control channel; what happens after that reads top to bottom in start.c.
 *
 *	shoal-instance --control-fd N     the supervisor's SEQPACKET socket is fd N
 *	shoal-instance --stdio            JSON lines on stdin, replies on stdout
 *
 * The process starts privileged (the daemon runs as root) and unconfined, and
 * stays so only until `configure` has been accepted: then it locks itself down
 * before its kernel boots (see start.c and sandbox.c).
 */
#include <errno.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/log.h"
#include "api/proto.h"
#include "instance/instance.h"

uint64_t instance_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void instance_options_usage(void)
{
	fputs("usage: shoal-instance (--control-fd N | --stdio) [options]\n"
	      "\n"
	      "  --control-fd N       serve the supervisor on inherited SOCK_SEQPACKET socket N\n"
	      "  --stdio              read JSON messages from stdin, one per line, and write what\n"
	      "                       the instance sends to stdout (a daemon hello is sent for "
	      "you)\n"
	      "  --unconfined         skip the lock-down (namespaces, cgroup, capabilities,\n"
	      "                       seccomp): for development only, never used by shoald\n"
	      "  --no-cgroup          lock down, but do not make a cgroup\n"
	      "  --cgroup-root DIR    make the cgroup under DIR (default: detected, see README)\n"
	      "  --selfcheck          after lock-down, run the kernel checks and write the report\n"
	      "                       to /run/shoal/selfcheck inside the instance\n"
	      "  --selfcheck-peer A[,M] test-only: with --selfcheck, also ping the instance at\n"
	      "                       IPv4 address A and exchange M MiB (default 4) with it over\n"
	      "                       TCP port 5201, both ways (see README, Tests)\n"
	      "  --test-forbidden C   test-only: after lock-down, make the forbidden host call C\n"
	      "                       (open or socket); the instance must die of SIGSYS\n"
	      "  --print-seccomp      print the seccomp allow-list and exit\n"
	      "  --log-level LEVEL    error, warn, info (default) or debug; logs go to stderr\n",
	      stderr);
}

enum {
	OPT_CONTROL_FD = 256,
	OPT_STDIO,
	OPT_UNCONFINED,
	OPT_NO_CGROUP,
	OPT_CGROUP_ROOT,
	OPT_SELFCHECK,
	OPT_SELFCHECK_PEER,
	OPT_TEST_FORBIDDEN,
	OPT_PRINT_SECCOMP,
	OPT_LOG_LEVEL,
	OPT_HELP,
};

static const struct option long_options[] = {
	{ "control-fd", required_argument, NULL, OPT_CONTROL_FD },
	{ "stdio", no_argument, NULL, OPT_STDIO },
	{ "unconfined", no_argument, NULL, OPT_UNCONFINED },
	{ "no-cgroup", no_argument, NULL, OPT_NO_CGROUP },
	{ "cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT },
	{ "selfcheck", no_argument, NULL, OPT_SELFCHECK },
	{ "selfcheck-peer", required_argument, NULL, OPT_SELFCHECK_PEER },
	{ "test-forbidden", required_argument, NULL, OPT_TEST_FORBIDDEN },
	{ "print-seccomp", no_argument, NULL, OPT_PRINT_SECCOMP },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* Returns 0, or an exit status (usage errors: 1; --help, --print-seccomp: 0) as -1 - status. */
/* --selfcheck-peer A.B.C.D[,MIB] (test-only): 0, or -1 if malformed. */
static int main_parse_peer(const char *arg, struct instance_options *opt)
{
	char addr[INET_ADDRSTRLEN];
	const char *comma = strchr(arg, ',');
	size_t len = comma ? (size_t)(comma - arg) : strlen(arg);
	unsigned long mib = 4;
	char *end;

	if (len >= sizeof(addr))
		return -1;
	memcpy(addr, arg, len);
	addr[len] = 0;
	if (inet_pton(AF_INET, addr, &opt->selfcheck_peer) != 1 || !opt->selfcheck_peer)
		return -1;
	if (comma) {
		errno = 0;
		mib = strtoul(comma + 1, &end, 10);
		if (errno || end == comma + 1 || *end || mib < 1 || mib > 1024)
			return -1;
	}
	opt->selfcheck_peer_mib = (uint32_t)mib;
	return 0;
}

static int main_parse_options(int argc, char **argv, struct instance_options *opt)
{
	int c;

	opt->control_fd = -1;
	opt->log_level = SHOAL_LOG_INFO;
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		char *end;
		long v;

		switch (c) {
		case OPT_CONTROL_FD:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0 || v > 65535) {
				fprintf(stderr,
					"shoal-instance: --control-fd '%s' is not a descriptor\n",
					optarg);
				return -2;
			}
			opt->control_fd = (int)v;
			break;
		case OPT_STDIO:
			opt->stdio = true;
			break;
		case OPT_UNCONFINED:
			opt->unconfined = true;
			break;
		case OPT_NO_CGROUP:
			opt->no_cgroup = true;
			break;
		case OPT_CGROUP_ROOT:
			opt->cgroup_root = optarg;
			break;
		case OPT_SELFCHECK:
			opt->selfcheck = true;
			break;
		case OPT_SELFCHECK_PEER:
			if (main_parse_peer(optarg, opt)) {
				fprintf(stderr,
					"shoal-instance: --selfcheck-peer '%s': IPv4 address, then "
					"optionally ,MIB (1..1024)\n",
					optarg);
				return -2;
			}
			break;
		case OPT_TEST_FORBIDDEN:
			if (strcmp(optarg, "open") && strcmp(optarg, "socket")) {
				fprintf(stderr,
					"shoal-instance: --test-forbidden '%s': open or socket\n",
					optarg);
				return -2;
			}
			opt->test_forbidden = optarg;
			break;
		case OPT_PRINT_SECCOMP:
			sandbox_seccomp_print();
			return -1;
		case OPT_LOG_LEVEL:
			if (shoal_log_level_parse(optarg, &opt->log_level)) {
				fprintf(stderr,
					"shoal-instance: --log-level '%s' is not one of "
					"error, warn, info, debug\n",
					optarg);
				return -2;
			}
			break;
		case OPT_HELP:
			instance_options_usage();
			return -1;
		default:
			instance_options_usage();
			return -2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "shoal-instance: unexpected argument '%s'\n", argv[optind]);
		return -2;
	}
	if (opt->stdio == (opt->control_fd >= 0)) {
		fprintf(stderr, "shoal-instance: give exactly one of --control-fd N and --stdio\n");
		instance_options_usage();
		return -2;
	}
	return 0;
}

/* Nothing open, nothing made: every descriptor -1. */
static int main_init_instance(struct instance *in)
{
	size_t i;

	in->state = PROTO_STATE_NEW;
	in->packet_fd = -1;
	in->adopt_listen_fd = -1;
	in->status_fd = -1;
	in->netdev = -1;
	for (i = 0; i < PROTO_DISKS_MAX; i++)
		in->disk_fds[i] = -1;
	for (i = 0; i < CGROUP_MAX_DIRS; i++)
		in->cgroup.procs_fds[i] = -1;
	return files_create(in);
}

int main(int argc, char **argv)
{
	struct instance in = { .t_start_us = instance_now_us() };
	struct shoal_error err = { 0 };
	int r;

	r = main_parse_options(argc, argv, &in.opt);
	if (r < 0)
		return -1 - r;
	/* glibc's fatal messages (a corrupted heap, a failed assertion) would
	 * open /dev/tty, which the lock-down forbids: a SIGSYS would hide the
	 * message. Ask for stderr instead. */
	setenv("LIBC_FATAL_STDERR_", "1", 1);
	shoal_log_setup(STDERR_FILENO, in.opt.log_level, SHOAL_LOG_TEXT, "instance");

	/*
	 * --stdio: a bridge process keeps stdin and stdout and relays lines to
	 * and from a socketpair; this process goes on as the instance on the
	 * other end, exactly as under a daemon.
	 */
	if (in.opt.stdio && stdio_run(&in.opt.control_fd) < 0)
		return INSTANCE_EXIT_FAILURE;
	/* The namespaces and empty root, built on the other CPU from now on. */
	sandbox_ahead_init(&in.ahead);
	r = in.opt.unconfined ? 0 : sandbox_ahead_start(&in.ahead);
	if (r < 0)
		shoal_log_warn("cannot build the namespaces ahead (%s): made at boot instead",
			       strerror(-r));

	/* jansson reads /dev/urandom once; do it while the process may still open files. */
	proto_init();
	if (main_init_instance(&in) < 0) {
		shoal_log_error("out of memory");
		return INSTANCE_EXIT_FAILURE;
	}
	if (fatal_setup() < 0) {
		shoal_log_error("cannot install the fatal signal handlers: %s", strerror(errno));
		return INSTANCE_EXIT_FAILURE;
	}
	if (control_create(&in, in.opt.control_fd, &err) < 0) {
		shoal_log_error("%s", err.msg);
		return INSTANCE_EXIT_FAILURE;
	}
	return control_run(&in);
}
