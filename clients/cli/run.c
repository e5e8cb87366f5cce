// SPDX-License-Identifier: GPL-2.0
/*
 * shoal run: the one-shot batch job in one command. Create an instance with
 * the create options; with a command, run it there with its output live;
 * with --rm, destroy the instance afterwards whatever happened to the job,
 * so a script that runs `shoal run --rm -- make test` leaves nothing behind.
 * The exit status is the job's, or the creation's failure.
 */
#include <getopt.h>
#include <signal.h>
#include <string.h>

#include "clients/cli/cli.h"

static const char run_help[] =
	"[OPTIONS] [-- CMD [ARG...]]\n"
	"\n"
	"Create an instance and, given a command, run it there with its output relayed\n"
	"live. Without a command, print the new instance's id (as create does).\n"
	"\n" CLI_CREATE_HELP "  -i, --interactive    pass our stdin to the job (about 48 KiB fit)\n"
	"  -e, --env NAME=VAL   environment of the job (repeatable)\n"
	"  -w, --workdir DIR    working directory of the job\n"
	"  -T, --timeout SECS   kill the job after this long\n"
	"      --rm             destroy the instance when the command ends\n"
	"  -h, --help           this help\n"
	"\n"
	"Exit codes: the job's own; 1 if creating or running failed, 2 bad usage, 3 no daemon.\n";

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

/*
 * With --rm, Ctrl-C (or SIGTERM, SIGHUP) must not leave the instance behind.
 * While the instance is created the signal only raises a flag (the create is
 * let finish, or its instance would be orphaned in the daemon); while the
 * command runs, exec forwards the first signal to the job and gives up on a
 * second; either way the instance is destroyed before we exit, 128+N when a
 * signal N ended things.
 */
static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int cli_run(struct shoal_client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CREATE_LONGOPTS,
		{ "interactive", no_argument, NULL, 'i' },
		{ "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "rm", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_create_opts co = { 0 };
	struct cli_exec_opts eo = { 0 };
	bool rm = false;
	char *env[257];
	json_t *body, *inst = NULL;
	char id[19];
	int opt, r, nenv = 0, status;

	while ((opt = getopt_long(argc, argv, "+" CLI_CREATE_SHORTOPTS "ie:w:T:h", opts, NULL)) !=
	       -1) {
		r = cli_create_opt(&co, opt, optarg, "run");
		if (!r)
			r = cli_exec_opt(&eo, opt, optarg, "run", env, &nenv);
		if (r < 0)
			return CLI_EUSAGE;
		if (r)
			continue;
		if (opt == 'R')
			rm = true;
		else if (opt == 'h')
			return cli_verb_help("run", run_help);
		else
			return cli_try_help("run");
	}
	/* getopt consumed a leading "--"; anything left is the command. */
	eo.argv = &argv[optind];
	if (*eo.argv && !**eo.argv)
		return cli_usage_err("run", "the command is empty");
	if (!*eo.argv && (eo.stdin || eo.env || eo.cwd || eo.timeout_s > 0))
		return cli_usage_err("run", "-i, -e, -w and -T need a command after --");

	body = cli_create_body(&co);
	if (!body)
		return CLI_EAPI;
	if (rm)
		catch_signals();
	r = cli_call(c, "run", "POST", "/v1/instances", body, &inst);
	json_decref(body);
	if (r)
		return r;
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(inst, "id")) ?: "");
	json_decref(inst);
	if (!cli_id_valid(id)) {
		cli_err("run", "shoald answered the create without a valid instance id");
		return CLI_EAPI;
	}
	if (!*eo.argv) {
		printf("%s\n", id);
		if (!rm)
			return CLI_OK;
		fflush(stdout);
		return cli_destroy(c, "run", id);
	}
	if (interrupted)
		status = 128 + interrupted;
	else
		status = cli_exec_run(c, "run", id, &eo);
	if (rm) {
		r = cli_destroy(c, "run", id);
		/* The job's status wins; a failed removal still gets a non-zero status. */
		if (r && !status)
			status = r;
	} else {
		fprintf(stderr, "shoal: run: instance %s kept (shoal rm %s removes it)\n", id, id);
	}
	return status;
}
