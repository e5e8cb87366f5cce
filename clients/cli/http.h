/* SPDX-License-Identifier: GPL-2.0 */
/*
 * HTTP/1.1 to shoald over its Unix socket, through libcurl. This file is the
 * only one that includes <curl/curl.h>. A struct shoal_client holds one curl
 * handle, so consecutive calls of one verb reuse one kept-alive connection;
 * a client is used by one thread at a time (bench gives each worker its own).
 */
#ifndef SHOAL_CLI_HTTP_H
#define SHOAL_CLI_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "api/error.h"

/* Where shoald listens unless --socket or $SHOAL_SOCKET says otherwise. */
#define SHOAL_DEFAULT_SOCKET "/run/shoal/shoald.sock"

struct shoal_client {
	const char *socket; /* not owned */
	void *curl; /* CURL *, made on first use */
	double timeout_s; /* whole-request bound for buffered calls; 0: none */
	double stream_timeout_s; /* the same for streamed answers; 0 (default): none */
	/*
	 * When set, called about once a second and whenever data moves while a
	 * request is in flight (on the calling thread); a non-zero return ends
	 * the request (-EINTR). Verbs use it to act on signals: forward Ctrl-C to
	 * a job, or stop and clean up instead of dying mid-request.
	 */
	int (*tick)(void *arg);
	void *tick_arg;
};

/* An answer: status and, unless streamed to a sink, the whole body. */
struct http_resp {
	long status;
	char *body; /* NUL-terminated, malloc'd; NULL when empty */
	size_t len;
	char content_type[64];
};

/* What a streamed answer's lines are handed to; return non-zero to stop reading. */
typedef int (*http_line_cb)(const char *line, size_t len, void *arg);

struct http_sink {
	http_line_cb line_cb; /* 2xx bodies split into lines (NDJSON, text) */
	void *arg;
	int fd; /* or: 2xx bodies written raw to this fd (when >= 0 and no line_cb) */
};

/* The request body, if any. */
struct http_body {
	const void *data;
	size_t len;
	const char *content_type; /* "application/json" or "application/octet-stream" */
};

/*
 * shoal_client_init() - a client of the daemon at @socket; no connection yet.
 * shoal_client_close() - free its handle (and connection).
 */
void shoal_client_init(struct shoal_client *c, const char *socket);
void shoal_client_close(struct shoal_client *c);

/*
 * http_request() - send one request and read its answer.
 * @path:   "/v1/..." with the query already escaped.
 * @body:   NULL for none.
 * @sink:   NULL to buffer the answer in @resp; else a 2xx answer goes to the
 *          sink (line by line or raw to an fd) and only error bodies are
 *          buffered. Streams are bounded by c->stream_timeout_s, not timeout_s.
 * @resp:   filled (zeroed first); free with http_resp_free().
 *
 * Returns 0 once an answer arrived, whatever its status; -errno when the
 * daemon could not be reached or the exchange broke (-ENOENT: no socket
 * file, -ECONNREFUSED: nobody listens, -ENOTSOCK, -EACCES, -ETIMEDOUT,
 * -EPROTO, -EINTR when c->tick asked to stop), with @err saying what
 * happened.
 */
int http_request(struct shoal_client *c, const char *method, const char *path,
		 const struct http_body *body, const struct http_sink *sink, struct http_resp *resp,
		 struct shoal_error *err);

void http_resp_free(struct http_resp *resp);

/* http_escape() - @s percent-escaped for a query or path; malloc'd, NULL on ENOMEM. */
char *http_escape(const char *s);

/* shoal_client_global_init() / _cleanup() - once per process, before threads. */
int shoal_client_global_init(void);
void shoal_client_global_cleanup(void);

#endif /* SHOAL_CLI_HTTP_H */
