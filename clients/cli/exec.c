// SPDX-License-Identifier: GPL-2.0
/*
 * shoal exec: run a program in an instance and relay its output live. The
 * daemon answers POST /v1/instances/{id}/exec?stream=true with newline-
 * delimited JSON events as the job writes (output chunks, base64, tagged with
 * their stream), ending with one exit event; each chunk is written to our own
 * stdout or stderr the moment it arrives, so a long job reads like a local
 * one. A buffered answer (one JSON object with stdout, stderr and exit_code)
 * is understood too. We exit with the job's code, or 128+N when a signal N
 * ended it, as a shell does, so `shoal exec` composes in scripts.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/base64.h"
#include "clients/cli/cli.h"
#include "clients/cli/table.h"

/* The daemon keeps stdin inline in the request; the control protocol's limit is 64 KiB. */
#define STDIN_MAX (64u << 10)
/* The job timeout the instance applies when we give none (api/PROTOCOL.md, exec). */
#define EXEC_DEFAULT_TIMEOUT_S 60
/* How long past the job's timeout we still wait for the daemon to end the stream. */
#define EXEC_MARGIN_S 30

struct exec_state {
	const char *verb;
	struct shoal_client *c;
	const char *id;
	json_int_t exec_id; /* from the started event; 0 until then */
	bool forwarded; /* the first signal went to the job */
	bool json;
	bool done;
	int status; /* the job's exit status once done */
	bool failed; /* an error event */
};

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Write a base64 chunk (or plain text, if it is not base64) to @fd. */
static void relay(int fd, const char *data, size_t len)
{
	unsigned char *buf = malloc(base64_decoded_max(len) + 1);
	long n = buf ? base64_decode(data, len, buf) : -ENOMEM;

	if (n >= 0)
		write_all(fd, buf, (size_t)n);
	else
		write_all(fd, data, len);
	free(buf);
}

static void relay_field(const json_t *ev, const char *key, int fd)
{
	const json_t *v = json_object_get(ev, key);

	if (json_is_string(v))
		relay(fd, json_string_value(v), json_string_length(v));
}

/* One event of the stream (or the whole buffered answer). */
static int event_cb(const char *line, size_t len, void *arg)
{
	struct exec_state *st = arg;
	const char *stream;
	json_error_t jerr;
	json_t *ev, *code, *sig, *err;

	if (!len)
		return 0;
	ev = json_loadb(line, len, 0, &jerr);
	if (!json_is_object(ev)) {
		cli_err(st->verb, "shoald sent a bad event: %s", jerr.text);
		json_decref(ev);
		st->failed = true;
		return 1;
	}
	if (!st->exec_id && json_is_integer(json_object_get(ev, "exec_id")))
		st->exec_id = json_integer_value(json_object_get(ev, "exec_id"));
	if (st->json) {
		fwrite(line, 1, len, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
	stream = json_string_value(json_object_get(ev, "stream"));
	if (!st->json && stream && json_object_get(ev, "data"))
		relay_field(ev, "data", !strcmp(stream, "stderr") ? 2 : 1);
	else if (!st->json && !stream) {
		/* The buffered shape: whole outputs in one object. */
		relay_field(ev, "stdout", 1);
		relay_field(ev, "stderr", 2);
	}
	err = json_object_get(ev, "error");
	if (err) {
		const char *m = json_string_value(json_object_get(err, "message"));
		const char *c = json_string_value(json_object_get(err, "code"));

		cli_err(st->verb, "%s: %s", c ? c : "error",
			m ? m : (json_is_string(err) ? json_string_value(err) : "the job failed"));
		st->failed = true;
		json_decref(ev);
		return 1;
	}
	code = json_object_get(ev, "exit_code");
	sig = json_object_get(ev, "signal");
	if (json_is_integer(code)) {
		st->status = (int)json_integer_value(code);
		st->done = true;
	} else if (json_is_integer(sig)) {
		st->status = 128 + (int)json_integer_value(sig);
		st->done = true;
		if (!st->json && json_is_true(json_object_get(ev, "timed_out")))
			cli_err(st->verb, "the job timed out and was killed");
	}
	json_decref(ev);
	return 0;
}

/*
 * Signals while a job runs. The first SIGINT, SIGTERM or SIGHUP goes to the
 * job (POST .../exec/signal, its whole process group), as if it ran here:
 * it decides how to end, and we still relay its last output and exit with
 * its status. A second signal, or one before the job started, stops waiting.
 */
static volatile sig_atomic_t exec_sig, exec_nsig;

static void exec_on_signal(int sig)
{
	exec_sig = sig;
	exec_nsig++;
}

static void exec_forward(struct exec_state *st)
{
	struct shoal_client sc;
	struct shoal_error err = { 0 };
	struct http_resp resp;
	char path[96], body[96];
	struct http_body b = { .data = body, .content_type = "application/json" };

	/* Its own connection: the stream holds the other one. */
	shoal_client_init(&sc, st->c->socket);
	sc.timeout_s = 10;
	snprintf(path, sizeof(path), "/v1/instances/%s/exec/signal", st->id);
	b.len = (size_t)snprintf(body, sizeof(body), "{\"exec_id\":%lld,\"signal\":%d}",
				 (long long)st->exec_id, (int)exec_sig);
	if (http_request(&sc, "POST", path, &b, NULL, &resp, &err))
		cli_err(st->verb, "could not pass signal %d to the job: %s", (int)exec_sig,
			err.msg);
	else if (resp.status != 200)
		cli_api_err(st->verb, "signals (POST /v1/instances/ID/exec/signal)", &resp);
	if (!err.err)
		http_resp_free(&resp);
	shoal_client_close(&sc);
}

static int exec_tick(void *arg)
{
	struct exec_state *st = arg;

	if (!exec_nsig)
		return 0;
	if (exec_nsig > 1 || !st->exec_id)
		return 1;
	if (!st->forwarded) {
		st->forwarded = true;
		exec_forward(st);
	}
	return 0;
}

static json_t *exec_body(const struct cli_exec_opts *o, const char *verb)
{
	json_t *body = json_object(), *argv = json_array();

	for (char **a = o->argv; *a; a++)
		json_array_append_new(argv, json_string(*a));
	json_object_set_new(body, "argv", argv);
	if (o->env && *o->env) {
		json_t *env = json_array();

		for (char **e = o->env; *e; e++)
			json_array_append_new(env, json_string(*e));
		json_object_set_new(body, "env", env);
	}
	if (o->cwd)
		json_object_set_new(body, "cwd", json_string(o->cwd));
	if (o->timeout_s > 0)
		json_object_set_new(body, "timeout_ms",
				    json_integer((json_int_t)(o->timeout_s * 1000)));
	if (o->stdin) {
		unsigned char *in = malloc(STDIN_MAX + 1);
		size_t n = 0;
		char *b64;

		while (in && n <= STDIN_MAX) {
			ssize_t r = read(0, in + n, STDIN_MAX + 1 - n);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			n += (size_t)r;
		}
		if (!in || n > STDIN_MAX) {
			cli_err(verb, "stdin is over %u KiB, more than a job takes inline",
				STDIN_MAX >> 10);
			free(in);
			json_decref(body);
			return NULL;
		}
		b64 = malloc(base64_encoded_len(n) + 1);
		if (b64) {
			base64_encode(in, n, b64);
			json_object_set_new(body, "stdin", json_string(b64));
		}
		free(b64);
		free(in);
	}
	return body;
}

int cli_exec_run(struct shoal_client *c, const char *verb, const char *id,
		 const struct cli_exec_opts *o)
{
	struct exec_state st = { .verb = verb, .c = c, .id = id, .json = o->json };
	struct http_sink sink = { .line_cb = event_cb, .arg = &st, .fd = -1 };
	struct sigaction sa = { .sa_handler = exec_on_signal }, old[3];
	static const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	struct shoal_error err = { 0 };
	struct http_resp resp;
	struct http_body b;
	char path[96], *text;
	json_t *body;
	int r;

	body = exec_body(o, verb);
	if (!body)
		return CLI_EAPI;
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (!text)
		return CLI_EAPI;
	b = (struct http_body){ .data = text,
				.len = strlen(text),
				.content_type = "application/json" };
	snprintf(path, sizeof(path), "/v1/instances/%s/exec?stream=true", id);
	/*
	 * The instance kills the job at its timeout (ours, or the protocol's
	 * default of 60 s) and the daemon then ends the stream; past that and a
	 * margin, the daemon itself is stuck, and we stop waiting for it.
	 */
	c->stream_timeout_s =
		(o->timeout_s > 0 ? o->timeout_s : EXEC_DEFAULT_TIMEOUT_S) + EXEC_MARGIN_S;
	exec_sig = exec_nsig = 0;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	c->tick = exec_tick;
	c->tick_arg = &st;
	r = http_request(c, "POST", path, &b, &sink, &resp, &err);
	c->tick = NULL;
	c->tick_arg = NULL;
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	c->stream_timeout_s = 0;
	free(text);
	if (r == -EINTR)
		return 128 + exec_sig; /* gave up waiting after a second signal */
	if (r)
		return cli_transport_err(verb, c, &err);
	if (resp.status < 200 || resp.status >= 300) {
		r = cli_api_err(verb, "exec (POST /v1/instances/ID/exec)", &resp);
		/* The one way a user's own input makes the body too large. */
		if (resp.status == 413 && o->stdin)
			cli_err(verb, "stdin goes inline in the request, base64: about 48 KiB fit; "
				      "copy larger input in with shoal cp");
		http_resp_free(&resp);
		return r;
	}
	http_resp_free(&resp);
	fflush(stdout);
	if (st.failed)
		return CLI_EAPI;
	if (!st.done) {
		cli_err(verb, "the exec stream ended without the job's exit status");
		return CLI_EAPI;
	}
	return st.status;
}

static const char exec_help[] =
	"[OPTIONS] ID -- CMD [ARG...]\n"
	"\n"
	"Run CMD in instance ID (a unique prefix is enough). Its stdout and stderr are\n"
	"relayed live to ours; shoal exits with its exit code (128+N if signal N ended it).\n"
	"\n"
	"  -i, --interactive    pass our stdin to the job (read to its end first; about 48 KiB "
	"fit)\n"
	"  -e, --env NAME=VAL   environment of the job (repeatable; replaces the default one)\n"
	"  -w, --workdir DIR    working directory in the instance (default /)\n"
	"  -T, --timeout SECS   kill the job after this long (default 60); shoal gives up\n"
	"                       waiting for the daemon 30 s after that\n"
	"  -j, --json           print the daemon's NDJSON events instead of the output\n"
	"  -h, --help           this help\n"
	"\n"
	"Ctrl-C (SIGINT), SIGTERM and SIGHUP are passed to the job, which decides how to end;\n"
	"a second one stops waiting for it.\n"
	"\n"
	"Exit codes: the job's own; 1 if the daemon refused it, 2 bad usage, 3 no daemon.\n";

int cli_exec_opt(struct cli_exec_opts *o, int opt, const char *arg, const char *verb,
		 char **env_store, int *nenv)
{
	long secs;

	switch (opt) {
	case 'i':
		o->stdin = true;
		return 1;
	case 'e':
		if (!strchr(arg, '=') || arg[0] == '=')
			return cli_usage_err(verb, "--env wants NAME=VALUE, not '%s'", arg), -1;
		if (*nenv == 256)
			return cli_usage_err(verb, "at most 256 --env"), -1;
		env_store[(*nenv)++] = (char *)arg;
		env_store[*nenv] = NULL;
		o->env = env_store;
		return 1;
	case 'w':
		o->cwd = arg;
		return 1;
	case 'T':
		if (cli_parse_long(arg, 1, 86400, &secs))
			return cli_usage_err(verb, "--timeout wants 1..86400 seconds, not '%s'",
					     arg),
			       -1;
		o->timeout_s = (double)secs;
		return 1;
	default:
		return 0;
	}
}

int cli_exec(struct shoal_client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interactive", no_argument, NULL, 'i' },
		{ "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_exec_opts o = { 0 };
	char *env[257];
	char id[19];
	int opt, r, nenv = 0;

	/* "+": stop at the id, so the command's own options stay the command's. */
	while ((opt = getopt_long(argc, argv, "+ie:w:T:jh", opts, NULL)) != -1) {
		r = cli_exec_opt(&o, opt, optarg, "exec", env, &nenv);
		if (r < 0)
			return CLI_EUSAGE;
		if (r)
			continue;
		if (opt == 'j')
			o.json = true;
		else if (opt == 'h')
			return cli_verb_help("exec", exec_help);
		else
			return cli_try_help("exec");
	}
	if (optind >= argc)
		return cli_usage_err("exec", "which instance? usage: shoal exec ID -- CMD...");
	if (optind + 1 < argc && !strcmp(argv[optind + 1], "--"))
		o.argv = &argv[optind + 2];
	else
		o.argv = &argv[optind + 1];
	if (!*o.argv)
		return cli_usage_err("exec", "no command: usage: shoal exec ID -- CMD...");
	if (!**o.argv)
		return cli_usage_err("exec", "the command is empty");
	r = cli_resolve_id(c, "exec", argv[optind], id);
	if (r)
		return r;
	return cli_exec_run(c, "exec", id, &o);
}

/* ---- execs: the exec records of an instance */

static const char execs_help[] =
	"[OPTIONS] ID\n"
	"\n"
	"The jobs run in instance ID, oldest first: when, how long, how they "
	"ended, and what\n"
	"they were. The daemon keeps them after the instance ended.\n"
	"\n"
	"  -j, --json           the daemon's JSON ({\"execs\": [...]})\n"
	"  -h, --help           this help\n";

static void exec_ended(const json_t *rec, char *buf, size_t size)
{
	const json_t *code = json_object_get(rec, "exit_code"),
		     *sig = json_object_get(rec, "signal");
	const char *error = json_string_value(json_object_get(rec, "error"));

	if (json_is_integer(code))
		snprintf(buf, size, "exit %lld", (long long)json_integer_value(code));
	else if (json_is_integer(sig))
		snprintf(buf, size, "signal %lld%s", (long long)json_integer_value(sig),
			 json_is_true(json_object_get(rec, "timed_out")) ? " (timeout)" : "");
	else if (error)
		snprintf(buf, size, "error: %.60s", error);
	else
		snprintf(buf, size, "running");
}

int cli_execs(struct shoal_client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const head[] = { "EXEC", "STARTED", "DURATION", "ENDED",
					    "OUT",  "ERR",     "COMMAND" };
	bool json = false;
	char id[19], path[64];
	json_t *list = NULL, *rec;
	struct table t;
	size_t i;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (opt == 'j')
			json = true;
		else if (opt == 'h')
			return cli_verb_help("execs", execs_help);
		else
			return cli_try_help("execs");
	}
	if (argc - optind != 1)
		return cli_usage_err("execs", "want exactly one instance id");
	r = cli_resolve_id(c, "execs", argv[optind], id);
	if (r)
		return r;
	snprintf(path, sizeof(path), "/v1/instances/%s/execs", id);
	r = cli_call(c, "execs", "GET", path, NULL, &list);
	if (r)
		return r;
	if (json) {
		cli_print_json(list);
		json_decref(list);
		return CLI_OK;
	}
	table_init(&t, (int)(sizeof(head) / sizeof(head[0])), head);
	json_array_foreach(json_object_get(list, "execs"), i, rec)
	{
		char num[24], started[24] = "-", dur[32] = "-", ended[96], out[24], err[24];
		char cmd[256] = "";
		const char *row[] = { num, started, dur, ended, out, err, cmd };
		size_t k, n = 0;
		json_t *a;

		snprintf(num, sizeof(num), "%lld",
			 (long long)json_integer_value(json_object_get(rec, "exec_id")));
		if (json_is_integer(json_object_get(rec, "started_ms"))) {
			cli_age(json_integer_value(json_object_get(rec, "started_ms")), started,
				sizeof(started) - 4);
			strcat(started, " ago");
		}
		if (json_is_number(json_object_get(rec, "duration_ms")))
			snprintf(dur, sizeof(dur), "%.1f ms",
				 json_number_value(json_object_get(rec, "duration_ms")));
		exec_ended(rec, ended, sizeof(ended));
		snprintf(out, sizeof(out), "%lld B",
			 (long long)json_integer_value(json_object_get(rec, "stdout_bytes")));
		snprintf(err, sizeof(err), "%lld B",
			 (long long)json_integer_value(json_object_get(rec, "stderr_bytes")));
		json_array_foreach(json_object_get(rec, "argv"), k, a)
		{
			if (n < sizeof(cmd))
				n += snprintf(cmd + n, sizeof(cmd) - n, "%s%s", k ? " " : "",
					      json_string_value(a) ?: "");
		}
		table_add(&t, row);
	}
	table_print(&t, stdout);
	table_free(&t);
	json_decref(list);
	return CLI_OK;
}
