// SPDX-License-Identifier: GPL-2.0
/*
 * shoal: the command line tool of Shoal. This file holds the one command
 * table and the global options (--socket, $SHOAL_SOCKET); each verb lives in
 * the file of its group and parses its own options. The daemon is reached
 * only through http.c, and every error ends at an edge (output.c) as one line
 * on stderr and one of the exit codes below, which scripts may rely on.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "clients/cli/cli.h"

static const struct cli_verb verbs[] = {
	{ "run", "[OPTIONS] [-- CMD [ARG...]]",
	  "create an instance, optionally run a command in it and remove it", cli_run },
	{ "create", "[OPTIONS]", "create an instance and print its id", cli_create },
	{ "ls", "[OPTIONS]", "list instances (table, or --json)", cli_ls },
	{ "inspect", "ID...", "print instances as JSON", cli_inspect },
	{ "exec", "[OPTIONS] ID -- CMD [ARG...]", "run a command in an instance, output live",
	  cli_exec },
	{ "execs", "ID", "the jobs run in an instance and how they ended", cli_execs },
	{ "cp", "SRC DST", "copy a file between the host and an instance (ID:PATH)", cli_cp },
	{ "rm", "ID... | --all | --label K=V", "destroy instances", cli_rm },
	{ "update", "[OPTIONS] ID", "change an instance's TTL or labels", cli_update },
	{ "logs", "ID", "print an instance's kernel console", cli_logs },
	{ "events", "[--json]", "follow the daemon's lifecycle events", cli_events },
	{ "stats", "[OPTIONS] [ID...]", "live resource use of instances (top-style)", cli_stats },
	{ "bench", "[OPTIONS]", "stress-test instance creation and report latencies", cli_bench },
	{ "version", "[--json]", "versions of this tool and of the daemon", cli_version },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: shoal [--socket PATH] VERB [ARGS...]\n"
		   "\n"
		   "Drive shoald, Shoal's supervisor daemon, over its Unix socket.\n"
		   "\n"
		   "Verbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f,
		"\n"
		"Options:\n"
		"  -s, --socket PATH  the daemon's socket (default $SHOAL_SOCKET, else %s)\n"
		"  -h, --help         this help; 'shoal VERB --help' for a verb's\n"
		"  -V, --version      this tool's version\n"
		"\n"
		"Exit codes: 0 done, 1 the daemon refused or failed the request, 2 bad usage,\n"
		"3 the daemon could not be reached; exec and run exit with the job's own code.\n",
		SHOAL_DEFAULT_SOCKET);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *sock = getenv("SHOAL_SOCKET");
	struct shoal_client c;
	const struct cli_verb *verb = NULL;
	char prog[32];
	int opt, r;

	if (!sock || !*sock)
		sock = SHOAL_DEFAULT_SOCKET;
	/* "+": the first word that is not an option is the verb; its options are its own. */
	while ((opt = getopt_long(argc, argv, "+s:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (!*optarg)
				return cli_usage_err(NULL, "--socket needs a path");
			sock = optarg;
			break;
		case 'h':
			usage(stdout);
			return CLI_OK;
		case 'V':
			printf("shoal %s\n", SHOAL_CLI_VERSION);
			return CLI_OK;
		default:
			fprintf(stderr, "Try 'shoal --help'.\n");
			return CLI_EUSAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CLI_EUSAGE;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[optind], verbs[i].name))
			verb = &verbs[i];
	if (!verb)
		return cli_usage_err(NULL, "unknown verb '%s'", argv[optind]);

	/* A reader that goes away (shoal ls | head) ends us quietly, as any filter. */
	signal(SIGPIPE, SIG_DFL);
	if (shoal_client_global_init()) {
		cli_err(NULL, "cannot initialise libcurl");
		return CLI_EAPI;
	}
	shoal_client_init(&c, sock);
	argv += optind;
	argc -= optind;
	/* getopt names the program in its messages: "shoal ls: unrecognized option". */
	snprintf(prog, sizeof(prog), "shoal %s", verb->name);
	argv[0] = prog;
	optind = 0; /* GNU getopt: start afresh on the verb's own argv */
	r = verb->run(&c, argc, argv);
	shoal_client_close(&c);
	shoal_client_global_cleanup();
	fflush(stdout);
	return r;
}
