/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The shoal command line tool: what every verb file shares. One command table
 * (main.c) maps a verb to its function; each verb parses its own options,
 * talks to shoald through http.c and prints through output.c / table.c. Exit
 * codes are the contract scripts rely on, so they live here, in one place.
 */
#ifndef SHOAL_CLI_H
#define SHOAL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "clients/cli/http.h"

#define SHOAL_CLI_VERSION "0.1.0"

/* Exit codes, documented in `shoal --help` and clients/README.md. */
enum cli_exit {
	CLI_OK = 0, /* done */
	CLI_EAPI = 1, /* the daemon answered with an error (or a file could not be written) */
	CLI_EUSAGE = 2, /* bad command line */
	CLI_EUNREACH = 3, /* no daemon on the socket, or the socket path is wrong */
};

/* One verb of the command table. */
struct cli_verb {
	const char *name;
	const char *args; /* synopsis after the verb, for help */
	const char *summary; /* one line */
	int (*run)(struct shoal_client *c, int argc, char **argv);
};

/* Verb entry points (argv[0] is the verb); each returns an enum cli_exit or a job's status. */
int cli_create(struct shoal_client *c, int argc, char **argv);
int cli_ls(struct shoal_client *c, int argc, char **argv);
int cli_inspect(struct shoal_client *c, int argc, char **argv);
int cli_rm(struct shoal_client *c, int argc, char **argv);
int cli_update(struct shoal_client *c, int argc, char **argv);
int cli_run(struct shoal_client *c, int argc, char **argv);
int cli_exec(struct shoal_client *c, int argc, char **argv);
int cli_execs(struct shoal_client *c, int argc, char **argv);
int cli_cp(struct shoal_client *c, int argc, char **argv);
int cli_logs(struct shoal_client *c, int argc, char **argv);
int cli_events(struct shoal_client *c, int argc, char **argv);
int cli_stats(struct shoal_client *c, int argc, char **argv);
int cli_version(struct shoal_client *c, int argc, char **argv);
int cli_bench(struct shoal_client *c, int argc, char **argv);

/* ---- output.c: the edges where errors become messages and exit codes */

/* cli_err() - print "shoal: VERB: message" on stderr; returns nothing. */
void cli_err(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cli_usage_err() - print the message and a pointer to --help; returns CLI_EUSAGE. */
int cli_usage_err(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cli_try_help() - after getopt's own message: point to --help; returns CLI_EUSAGE. */
int cli_try_help(const char *verb);

/* cli_transport_err() - report that the daemon could not be reached; returns CLI_EUNREACH. */
int cli_transport_err(const char *verb, const struct shoal_client *c,
		      const struct shoal_error *err);

/*
 * cli_api_err() - report an error answer of the daemon (@resp is not 2xx):
 * "shoal: VERB: CODE: message (HTTP n)", or, when the route does not exist in
 * this daemon (404 "no such route", 405, 501), that the daemon does not
 * support @what. Returns CLI_EAPI.
 */
int cli_api_err(const char *verb, const char *what, const struct http_resp *resp);

/*
 * cli_call() - one JSON request with the error reporting done: returns
 * CLI_OK with *@out set to the parsed answer (owned by the caller; may be NULL
 * for an empty body), or the exit code after printing why. @body may be NULL.
 */
int cli_call(struct shoal_client *c, const char *verb, const char *method, const char *path,
	     json_t *body, json_t **out);

/* cli_print_json() - @j pretty-printed on stdout, keys in the daemon's order. */
void cli_print_json(const json_t *j);

/* cli_verb_help() - print the help of @verb (usage line plus @body) on stdout; returns CLI_OK. */
int cli_verb_help(const char *verb, const char *body);

/* cli_id_valid() - whether @s has the exact form of an instance id (i- and 16 hex digits). */
bool cli_id_valid(const char *s);

/* cli_age() - "3s", "5m", "2h", "4d" since @ms (epoch milliseconds), into @buf. */
const char *cli_age(long long ms, char *buf, size_t size);

/* cli_now_ms() - wall clock in epoch milliseconds. */
long long cli_now_ms(void);

/* cli_mono_s() - monotonic clock in seconds, for durations. */
double cli_mono_s(void);

/* ---- instances.c helpers shared with run.c and bench.c */

/* The options of create, shared by run and bench (long names below). */
#define CLI_LABELS_MAX 16
struct cli_create_opts {
	long memory_mib; /* 0: the daemon's default */
	long ttl_s; /* 0: none */
	bool network;
	const char *labels[CLI_LABELS_MAX]; /* "key=value" */
	int nlabels;
	const char *disks[8]; /* "image:/mount/point[:ro]" */
	int ndisks;
	const char *env[64]; /* "NAME=value" for every job (create -e) */
	int nenv;
};
/* clang-format off */
#define CLI_CREATE_LONGOPTS                                                             \
	{ "memory", required_argument, NULL, 'm' },                                     \
	{ "label", required_argument, NULL, 'l' },                                      \
	{ "ttl", required_argument, NULL, 't' },                                        \
	{ "network", no_argument, NULL, 'N' },                                          \
	{ "disk", required_argument, NULL, 'D' }
/* clang-format on */
#define CLI_CREATE_SHORTOPTS "m:l:t:ND:"
#define CLI_CREATE_HELP                                                                           \
	"  -m, --memory MIB     memory of the instance's kernel (16..65536; daemon default 64)\n" \
	"  -l, --label K=V      a label (repeatable, at most 16)\n"                               \
	"  -t, --ttl SECONDS    destroy it automatically after this long\n"                       \
	"  -N, --network        give it a network interface and address\n"                        \
	"  -D, --disk IMG:PATH[:ro]  mount image IMG of the daemon's image folder at PATH\n"      \
	"                       (repeatable; :ro read-only)\n"

/*
 * cli_create_opt() - take one getopt result of CLI_CREATE_SHORTOPTS into @o
 * ('E', the instance's environment, too: create maps -e to it).
 * Returns 1 if @opt was a create option, 0 if not, -1 after a usage error.
 */
int cli_create_opt(struct cli_create_opts *o, int opt, const char *arg, const char *verb);

/* cli_create_body() - the CreateInstance JSON for @o (new reference), NULL on ENOMEM. */
json_t *cli_create_body(const struct cli_create_opts *o);

/* cli_parse_long() - @s as a whole decimal number in [min, max]; 0 or -EINVAL. */
int cli_parse_long(const char *s, long min, long max, long *out);

/*
 * cli_resolve_id() - the full instance id meant by @arg: a full id, or a
 * unique prefix of one (with or without "i-"), looked up in the daemon's list.
 * Returns CLI_OK with @out filled (19 bytes), or an exit code after a message.
 */
int cli_resolve_id(struct shoal_client *c, const char *verb, const char *arg, char *out);

/* cli_label_ok() - whether @s is key=value with a non-empty key. */
bool cli_label_ok(const char *s);

/* cli_destroy() - DELETE one instance, reporting errors; returns an exit code. */
int cli_destroy(struct shoal_client *c, const char *verb, const char *id);

/* cli_exec_stream() - exec.c's streamed exec, shared by run: returns the job's exit status. */
struct cli_exec_opts {
	char **argv;
	char **env; /* K=V strings, NULL-terminated or NULL */
	const char *cwd;
	double timeout_s; /* 0: the daemon's default */
	bool stdin; /* read stdin to the end and hand it to the job */
	bool json; /* print the events as NDJSON instead of the job's output */
};
int cli_exec_run(struct shoal_client *c, const char *verb, const char *id,
		 const struct cli_exec_opts *o);

/*
 * cli_exec_opt() - take one getopt result of "ie:w:T:" into @o; --env strings
 * go to @env_store (room for 257 pointers) counted by @nenv. Returns 1 if it
 * was an exec option, 0 if not, -1 after a usage error.
 */
int cli_exec_opt(struct cli_exec_opts *o, int opt, const char *arg, const char *verb,
		 char **env_store, int *nenv);

#endif /* SHOAL_CLI_H */
