// SPDX-License-Identifier: GPL-2.0
/*
 * The edges of the CLI: where an error becomes one line on stderr and an exit
 * code, and where answers become JSON on stdout. Every message starts with
 * "shoal: VERB:" so a script's log says which call failed. A daemon that
 * lacks an endpoint (an older shoald, or a feature not built yet) is told
 * apart from a missing instance, because the user's fix differs: upgrade the
 * daemon rather than check the id.
 */
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "clients/cli/cli.h"

void cli_err(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "shoal: %s%s", verb ? verb : "", verb ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_err(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "shoal: %s%s", verb ? verb : "", verb ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'shoal %s%s--help'.\n", verb ? verb : "", verb ? " " : "");
	return CLI_EUSAGE;
}

int cli_try_help(const char *verb)
{
	fprintf(stderr, "Try 'shoal %s --help'.\n", verb);
	return CLI_EUSAGE;
}

int cli_transport_err(const char *verb, const struct shoal_client *c, const struct shoal_error *err)
{
	(void)c;
	cli_err(verb, "%s", err->msg);
	return CLI_EUNREACH;
}

/* Whether the daemon said it has no such endpoint, as opposed to no such instance. */
static bool resp_unsupported(const struct http_resp *resp, const char *message)
{
	if (resp->status == 501 || resp->status == 405)
		return true;
	return resp->status == 404 && message && !strncmp(message, "no such route", 13);
}

int cli_api_err(const char *verb, const char *what, const struct http_resp *resp)
{
	json_t *j = NULL;
	const char *code = NULL, *message = NULL;

	if (resp->body && strstr(resp->content_type, "json"))
		j = json_loadb(resp->body, resp->len, 0, NULL);
	if (j) {
		json_t *e = json_object_get(j, "error");

		code = json_string_value(json_object_get(e, "code"));
		message = json_string_value(json_object_get(e, "message"));
	}
	if (resp_unsupported(resp, message) && what &&
	    !(resp->status == 501 && code && strcmp(code, "unsupported"))) {
		cli_err(verb, "this shoald does not support %s (HTTP %ld%s%s)", what, resp->status,
			message ? ": " : "", message ? message : "");
	} else if (code) {
		cli_err(verb, "%s: %s (HTTP %ld)", code, message ? message : "", resp->status);
	} else {
		cli_err(verb, "HTTP %ld from shoald%s%.200s", resp->status, resp->len ? ": " : "",
			resp->body ? resp->body : "");
	}
	json_decref(j);
	return CLI_EAPI;
}

int cli_call(struct shoal_client *c, const char *verb, const char *method, const char *path,
	     json_t *body, json_t **out)
{
	struct shoal_error err = { 0 };
	struct http_resp resp;
	struct http_body b = { 0 };
	char *text = NULL;
	json_error_t jerr;
	int r;

	*out = NULL;
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		if (!text) {
			cli_err(verb, "out of memory");
			return CLI_EAPI;
		}
		b.data = text;
		b.len = strlen(text);
		b.content_type = "application/json";
	}
	r = http_request(c, method, path, body ? &b : NULL, NULL, &resp, &err);
	free(text);
	if (r)
		return cli_transport_err(verb, c, &err);
	if (resp.status < 200 || resp.status >= 300) {
		char what[256];

		snprintf(what, sizeof(what), "%s %s", method, path);
		r = cli_api_err(verb, what, &resp);
		http_resp_free(&resp);
		return r;
	}
	if (resp.len) {
		*out = json_loadb(resp.body, resp.len, 0, &jerr);
		if (!*out) {
			cli_err(verb, "shoald answered %s %s with bad JSON: %s", method, path,
				jerr.text);
			http_resp_free(&resp);
			return CLI_EAPI;
		}
	}
	http_resp_free(&resp);
	return CLI_OK;
}

void cli_print_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
	fputc('\n', stdout);
}

int cli_verb_help(const char *verb, const char *body)
{
	printf("usage: shoal [--socket PATH] %s %s", verb, body);
	return CLI_OK;
}

bool cli_id_valid(const char *s)
{
	if (strlen(s) != 18 || strncmp(s, "i-", 2))
		return false;
	for (int i = 2; i < 18; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

long long cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double cli_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *cli_age(long long ms, char *buf, size_t size)
{
	long long s = (cli_now_ms() - ms) / 1000;

	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, size, "%llds", s);
	else if (s < 7200)
		snprintf(buf, size, "%lldm", s / 60);
	else if (s < 172800)
		snprintf(buf, size, "%lldh", s / 3600);
	else
		snprintf(buf, size, "%lldd", s / 86400);
	return buf;
}
