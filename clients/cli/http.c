// SPDX-License-Identifier: GPL-2.0
/*
 * The transport of the shoal CLI: libcurl speaking HTTP/1.1 over shoald's Unix
 * socket (CURLOPT_UNIX_SOCKET_PATH; the host part of the URL is ignored). It
 * turns curl's error codes into -errno values with a message that names the
 * socket, because "the daemon is not running" is the most common failure a
 * user meets and must read as such. Answers are either buffered whole or, for
 * streamed endpoints (exec, events, file downloads), handed on as they arrive
 * so output appears live and large files never sit in memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "clients/cli/http.h"

/* Largest buffered answer kept: a list of every instance fits many times over. */
#define RESP_MAX (64u << 20)
#define LINE_MAX_BYTES (16u << 20)

struct xfer {
	CURL *curl;
	const struct http_sink *sink;
	struct http_resp *resp;
	bool to_sink; /* decided at the first byte: a 2xx answer with a sink */
	bool decided;
	bool stopped; /* the line callback asked to stop */
	bool too_big;
	int write_errno;
	char *line; /* partial line of a streamed answer */
	size_t line_len, line_cap;
};

int shoal_client_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_NOTHING) == CURLE_OK ? 0 : -ENOMEM;
}

void shoal_client_global_cleanup(void)
{
	curl_global_cleanup();
}

void shoal_client_init(struct shoal_client *c, const char *socket)
{
	c->socket = socket;
	c->curl = NULL;
	c->timeout_s = 120;
	c->stream_timeout_s = 0;
	c->tick = NULL;
	c->tick_arg = NULL;
}

void shoal_client_close(struct shoal_client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
}

void http_resp_free(struct http_resp *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
}

char *http_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *copy = e ? strdup(e) : NULL;

	curl_free(e);
	return copy;
}

static int buf_append(struct http_resp *resp, const char *data, size_t n)
{
	char *b;

	if (resp->len + n > RESP_MAX)
		return -EFBIG;
	b = realloc(resp->body, resp->len + n + 1);
	if (!b)
		return -ENOMEM;
	memcpy(b + resp->len, data, n);
	resp->len += n;
	b[resp->len] = '\0';
	resp->body = b;
	return 0;
}

/* Hand every complete line in the pending buffer to the callback. */
static int lines_feed(struct xfer *x, const char *data, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (x->line_len + 1 >= x->line_cap) {
			size_t cap = x->line_cap ? x->line_cap * 2 : 4096;
			char *l;

			if (cap > LINE_MAX_BYTES)
				return -EFBIG;
			l = realloc(x->line, cap);
			if (!l)
				return -ENOMEM;
			x->line = l;
			x->line_cap = cap;
		}
		if (data[i] == '\n') {
			x->line[x->line_len] = '\0';
			if (x->sink->line_cb(x->line, x->line_len, x->sink->arg)) {
				x->stopped = true;
				return -ECANCELED;
			}
			x->line_len = 0;
			continue;
		}
		x->line[x->line_len++] = data[i];
	}
	return 0;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	int r;

	if (!x->decided) {
		long status = 0;

		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
		x->to_sink = x->sink && status >= 200 && status < 300;
		x->decided = true;
	}
	if (!x->to_sink) {
		r = buf_append(x->resp, data, n);
		if (r) {
			x->too_big = true;
			return 0;
		}
		return n;
	}
	if (x->sink->line_cb) {
		r = lines_feed(x, data, n);
		return r ? 0 : n;
	}
	for (size_t off = 0; off < n;) {
		ssize_t w = write(x->sink->fd, data + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			x->write_errno = errno;
			return 0;
		}
		off += (size_t)w;
	}
	return n;
}

/* Called by curl about once a second, and whenever data moves. */
static int xferinfo_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct shoal_client *c = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return c->tick ? c->tick(c->tick_arg) : 0;
}

/* The socket path's own problem, told before curl's vaguer one. */
static int socket_problem(const char *path, struct shoal_error *err)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return shoal_error_set(err, errno,
				       "cannot reach shoald at %s (is it running? "
				       "--socket or SHOAL_SOCKET name another socket)",
				       path);
	if (!S_ISSOCK(st.st_mode))
		return shoal_error_set(err, ENOTSOCK, "cannot reach shoald: %s is not a socket",
				       path);
	return 0;
}

static int curl_failed(struct shoal_client *c, CURLcode rc, struct xfer *x, struct shoal_error *err)
{
	long os_errno = 0;
	int r;

	curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &os_errno);
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		r = socket_problem(c->socket, err);
		if (r)
			return r;
		return shoal_error_set(err, os_errno ? (int)os_errno : ECONNREFUSED,
				       "cannot reach shoald at %s (nothing listens there: is the "
				       "daemon running?)",
				       c->socket);
	case CURLE_ABORTED_BY_CALLBACK:
		return shoal_error_set(err, EINTR, "interrupted");
	case CURLE_OPERATION_TIMEDOUT:
		return shoal_error_set(err, ETIMEDOUT, "shoald at %s did not answer in time",
				       c->socket);
	case CURLE_WRITE_ERROR:
		if (x->write_errno)
			return shoal_error_set(err, x->write_errno, "writing the answer");
		if (x->too_big)
			return shoal_error_set(err, EFBIG, "the answer is larger than %u MiB",
					       RESP_MAX >> 20);
		return shoal_error_set(err, EPROTO, "a streamed line is over %u MiB",
				       LINE_MAX_BYTES >> 20);
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		/* The daemon went away (or cut us off) in the middle of an exchange. */
		return shoal_error_set(err, os_errno ? (int)os_errno : ECONNRESET,
				       "shoald at %s closed the connection before it finished "
				       "answering",
				       c->socket);
	default:
		return shoal_error_set(err, EPROTO, "talking to shoald at %s: %s", c->socket,
				       curl_easy_strerror(rc));
	}
}

int http_request(struct shoal_client *c, const char *method, const char *path,
		 const struct http_body *body, const struct http_sink *sink, struct http_resp *resp,
		 struct shoal_error *err)
{
	struct curl_slist *hdrs = NULL;
	struct xfer x = { .sink = sink, .resp = resp };
	char url[4096], ctype[96];
	const char *ct = NULL;
	CURLcode rc;
	int r = 0;

	memset(resp, 0, sizeof(*resp));
	if (strlen(path) + 16 > sizeof(url))
		return shoal_error_set(err, ENAMETOOLONG, "request path too long");
	if (!c->curl) {
		c->curl = curl_easy_init();
		if (!c->curl)
			return shoal_error_set(err, ENOMEM, "curl_easy_init");
	} else {
		curl_easy_reset(c->curl);
	}
	x.curl = c->curl;
	snprintf(url, sizeof(url), "http://shoald%s", path);

	curl_easy_setopt(c->curl, CURLOPT_UNIX_SOCKET_PATH, c->socket);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "shoal-cli/0.1");
	if (!sink && c->timeout_s > 0)
		curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)(c->timeout_s * 1000));
	if (sink && c->stream_timeout_s > 0)
		curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)(c->stream_timeout_s * 1000));
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &x);
	if (c->tick) {
		curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
		curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, c);
		curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
	}
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
	/* The daemon answers Expect: 100-continue, but waiting for it costs a round trip. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (body) {
		ct = body->content_type ? body->content_type : "application/json";
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", ct);
		hdrs = curl_slist_append(hdrs, ctype);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body->data ? body->data : "");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
	}
	if (!hdrs) {
		r = shoal_error_set(err, ENOMEM, "curl_slist_append");
		goto out;
	}
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);

	rc = curl_easy_perform(c->curl);
	if (rc == CURLE_WRITE_ERROR && x.stopped)
		rc = CURLE_OK; /* the caller asked to stop reading a stream */
	if (rc != CURLE_OK) {
		r = curl_failed(c, rc, &x, err);
		goto out;
	}
	/* A final line without its newline still counts. */
	if (x.to_sink && sink->line_cb && x.line_len && !x.stopped) {
		x.line[x.line_len] = '\0';
		sink->line_cb(x.line, x.line_len, sink->arg);
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	{
		char *t = NULL;

		curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &t);
		if (t)
			snprintf(resp->content_type, sizeof(resp->content_type), "%s", t);
	}
out:
	if (r)
		http_resp_free(resp);
	curl_slist_free_all(hdrs);
	free(x.line);
	return r;
}
