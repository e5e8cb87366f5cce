// SPDX-License-Identifier: GPL-2.0
/*
 * The verbs that follow what the daemon records: `logs` (an instance's kernel
 * console) and `events` (the daemon's stream of lifecycle events, followed
 * until interrupted). Events arrive as newline-delimited JSON; people get one
 * aligned line per event, scripts get the lines untouched with --json.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clients/cli/cli.h"

static const char logs_help[] =
	"[OPTIONS] ID\n"
	"\n"
	"Print the kernel console of instance ID (a unique prefix is enough), from its boot\n"
	"on, read in pieces of 32 KiB by cursor.\n"
	"\n"
	"  -f, --follow         keep printing new console text until interrupted\n"
	"  -h, --help           this help\n";

static volatile sig_atomic_t logs_stop;

static void logs_on_signal(int sig)
{
	(void)sig;
	logs_stop = 1;
}

int cli_logs(struct shoal_client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	long long cursor = 0;
	bool follow = false;
	char id[19];
	int opt, r;

	while ((opt = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		if (opt == 'f')
			follow = true;
		else if (opt == 'h')
			return cli_verb_help("logs", logs_help);
		else
			return cli_try_help("logs");
	}
	if (argc - optind != 1)
		return cli_usage_err("logs", "want exactly one instance id");
	r = cli_resolve_id(c, "logs", argv[optind], id);
	if (r)
		return r;
	if (follow) {
		signal(SIGINT, logs_on_signal);
		signal(SIGTERM, logs_on_signal);
	}
	/* Read until a piece comes back empty; following, poll for more after that. */
	while (!logs_stop) {
		struct shoal_error err = { 0 };
		struct http_resp resp;
		char path[96];
		json_t *j;
		const char *text;
		long long next, lost;
		bool empty;

		snprintf(path, sizeof(path), "/v1/instances/%s/logs?cursor=%lld&max_bytes=32768",
			 id, cursor);
		r = http_request(c, "GET", path, NULL, NULL, &resp, &err);
		if (r && logs_stop)
			break;
		if (r)
			return cli_transport_err("logs", c, &err);
		if (resp.status < 200 || resp.status >= 300) {
			/* An instance that ended while followed: its console is gone, not an error.
			 */
			if (follow && cursor && resp.status == 409) {
				http_resp_free(&resp);
				break;
			}
			r = cli_api_err("logs", "logs (GET /v1/instances/ID/logs)", &resp);
			http_resp_free(&resp);
			return r;
		}
		j = json_loadb(resp.body ? resp.body : "", resp.len, 0, NULL);
		http_resp_free(&resp);
		text = json_string_value(json_object_get(j, "text"));
		next = json_integer_value(json_object_get(j, "cursor"));
		lost = json_integer_value(json_object_get(j, "lost"));
		if (!text) {
			json_decref(j);
			cli_err("logs", "shoald's answer has no console text");
			return CLI_EAPI;
		}
		if (lost > 0)
			fprintf(stderr,
				"shoal: logs: %lld bytes of console were overwritten before "
				"they could be read\n",
				lost);
		fputs(text, stdout);
		fflush(stdout);
		empty = !*text;
		json_decref(j);
		if (empty && next == cursor) {
			if (!follow)
				break;
			usleep(500000);
		}
		cursor = next;
	}
	return CLI_OK;
}

static const char events_help[] =
	"[OPTIONS]\n"
	"\n"
	"Print the daemon's lifecycle events (instance created, running, destroyed, failed,\n"
	"jobs started and finished, ...): those it stored, then new ones as they happen,\n"
	"until interrupted.\n"
	"\n"
	"  -a, --after SEQ      only events after sequence number SEQ (default: all stored)\n"
	"  -N, --no-follow      stop after the stored events\n"
	"  -j, --json           print each event as the daemon sends it (one JSON per line)\n"
	"  -h, --help           this help\n";

struct events_state {
	bool json;
};

static const char *first_string(const json_t *ev, const char *const *keys)
{
	for (; *keys; keys++) {
		const char *s = json_string_value(json_object_get(ev, *keys));

		if (s)
			return s;
	}
	return NULL;
}

/* " key=value", leaving out what says nothing (null, -1 codes, false flags). */
static void field_print(const char *key, const json_t *v)
{
	char *t;

	if (!v || json_is_null(v) || json_is_false(v) ||
	    (json_is_integer(v) && json_integer_value(v) < 0) ||
	    (json_is_object(v) && !json_object_size(v)))
		return;
	if (json_is_string(v)) {
		printf("  %s=%s", key, json_string_value(v));
		return;
	}
	t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(6));
	printf("  %s=%s", key, t ? t : "?");
	free(t);
}

static int event_line_cb(const char *line, size_t len, void *arg)
{
	static const char *const data_keys[] = { "state",  "pid",	"reason",      "ttl_s",
						 "labels", "exec_id",	"argv",	       "exit_code",
						 "signal", "timed_out", "duration_ms", "error",
						 NULL };
	static const char *const type_keys[] = { "type", "event", "kind", NULL };
	static const char *const id_keys[] = { "id", "instance", "instance_id", NULL };
	static const char *const ts_keys[] = { "ts_ms", "time_ms", "at_ms", "created_ms", NULL };
	struct events_state *st = arg;
	const char *type, *id, *key;
	char when[32] = "-";
	json_t *ev, *v, *data;

	if (!len)
		return 0;
	if (st->json) {
		fwrite(line, 1, len, stdout);
		fputc('\n', stdout);
		fflush(stdout);
		return 0;
	}
	ev = json_loadb(line, len, 0, NULL);
	if (!json_is_object(ev)) {
		printf("%s\n", line);
		json_decref(ev);
		return 0;
	}
	for (const char *const *k = ts_keys; *k; k++) {
		v = json_object_get(ev, *k);
		if (json_is_integer(v)) {
			long long ms = json_integer_value(v);
			time_t s = (time_t)(ms / 1000);
			struct tm tm;

			localtime_r(&s, &tm);
			strftime(when, sizeof(when), "%H:%M:%S", &tm);
			snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03lld",
				 ms % 1000);
			break;
		}
	}
	type = first_string(ev, type_keys);
	id = first_string(ev, id_keys);
	printf("%s  %-18s %s", when, type ? type : "?", id ? id : "-");
	/* Other top-level fields, then the few fields of "data" a person scans for. */
	json_object_foreach(ev, key, v)
	{
		const char *const *lists[] = { type_keys, id_keys, ts_keys };
		bool shown = !strcmp(key, "data") || !strcmp(key, "seq");

		for (int l = 0; l < 3 && !shown; l++)
			for (const char *const *k = lists[l]; *k; k++)
				if (!strcmp(key, *k))
					shown = true;
		if (!shown)
			field_print(key, v);
	}
	data = json_object_get(ev, "data");
	for (const char *const *k = data_keys; *k; k++)
		field_print(*k, json_object_get(data, *k));
	putchar('\n');
	fflush(stdout);
	json_decref(ev);
	return 0;
}

int cli_events(struct shoal_client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "after", required_argument, NULL, 'a' },
		{ "no-follow", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct events_state st = { 0 };
	char path[96] = "/v1/events";
	bool follow = true;
	long after = -1;
	struct http_sink sink = { .line_cb = event_line_cb, .arg = &st, .fd = -1 };
	struct shoal_error err = { 0 };
	struct http_resp resp;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "ja:Nh", opts, NULL)) != -1) {
		if (opt == 'j')
			st.json = true;
		else if (opt == 'N')
			follow = false;
		else if (opt == 'a' && cli_parse_long(optarg, 0, (1L << 53), &after))
			return cli_usage_err("events", "--after wants a sequence number, not '%s'",
					     optarg);
		else if (opt == 'a')
			continue;
		else if (opt == 'h')
			return cli_verb_help("events", events_help);
		else
			return cli_try_help("events");
	}
	if (optind < argc)
		return cli_usage_err("events", "unexpected argument '%s'", argv[optind]);
	if (after >= 0)
		snprintf(path, sizeof(path), "/v1/events?after=%ld%s", after,
			 follow ? "" : "&follow=false");
	else if (!follow)
		snprintf(path, sizeof(path), "/v1/events?follow=false");
	r = http_request(c, "GET", path, NULL, &sink, &resp, &err);
	if (r)
		return cli_transport_err("events", c, &err);
	if (resp.status < 200 || resp.status >= 300)
		r = cli_api_err("events", "events (GET /v1/events)", &resp);
	http_resp_free(&resp);
	return r;
}
