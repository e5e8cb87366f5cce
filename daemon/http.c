// SPDX-License-Identifier: GPL-2.0
/*
 * The HTTP/1.1 server of shoald: a libuv pipe server on a Unix socket, one
 * http-parser per connection. Nothing here blocks: bytes are parsed as they
 * arrive, and a request is handed to the router only once it is complete. A
 * client cannot hold more than it is given: the request line and headers are
 * capped (431), the body is capped (413), a started request must be complete
 * within HTTP_REQUEST_TIMEOUT_MS (408) and an idle kept-alive connection is
 * closed after HTTP_IDLE_TIMEOUT_MS; beyond shoald_config.max_connections a
 * new connection gets 503 and is closed. One request is served at a time per
 * connection: reading pauses while its handler works (a create waits for the
 * instance to boot) and resumes after the reply, so pipelined requests are
 * answered in order.
 *
 * An optional second listener is TCP on 127.0.0.1 only (made by main.c in the
 * host's namespace, before the daemon leaves it). Anyone on the host can
 * connect there, so every request on it must carry "Authorization: Bearer
 * TOKEN" with the token from --token-file, compared in constant time, or it
 * is answered 401 and the connection closed before its body is read.
 */
#include <errno.h>
#include <http_parser.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/log.h"
#include "daemon/shoald.h"

struct http_conn {
	union {
		uv_pipe_t pipe; /* a client on the Unix socket */
		uv_tcp_t tcp; /* or on the loopback TCP listener */
	} h; /* first: the handle's memory is the connection's */
	bool need_auth; /* TCP: every request must carry the bearer token */
	char auth[HTTP_AUTH_MAX + 1]; /* the Authorization header's value, cut */
	size_t auth_len;
	uv_timer_t timer;
	http_parser parser;
	struct http_conn *next, *prev;
	int closing_handles; /* close callbacks still to come */
	bool closing;
	bool in_request; /* bytes of a request have arrived */
	bool busy; /* a handler holds the current request */
	bool feeding; /* inside http_conn_feed() */
	bool backlogged; /* answers not yet taken by the client: reading waits */
	bool keep_alive;
	bool failed; /* answered with an error; the connection closes after it */
	size_t header_bytes;
	char field[16]; /* name of the header being read, cut to 15 bytes */
	size_t field_len;
	bool in_value; /* the last header callback was a value */
	bool expect_continue; /* Expect: 100-continue */
	char url[HTTP_HEADER_MAX + 1];
	size_t url_len;
	char *body;
	size_t body_len;
	bool too_large; /* body over the cap: answer 413 at message end */
	size_t body_max; /* HTTP_BODY_MAX, or HTTP_FILE_MAX for a file upload */
	bool streaming; /* the answer is chunked and still going */
	struct http_req *req; /* the request a handler holds, if busy */
	char *pending; /* bytes read past the current request (pipelining) */
	size_t pending_len;
};

static uv_pipe_t http_server;
static bool http_server_open;
static uv_tcp_t http_tcp_server;
static bool http_tcp_open;
static const char *http_token; /* what "Authorization: Bearer" must say on TCP */
static struct http_conn *http_conns;
static unsigned int http_nconns;
static void (*http_stop_done)(void);

static void http_conn_close(struct http_conn *c);
static void http_timer_cb(uv_timer_t *t);
static void http_conn_resume(struct http_conn *c);

static const char *http_status_text(int status)
{
	switch (status) {
	case 403:
		return "Forbidden";
	case 502:
		return "Bad Gateway";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 415:
		return "Unsupported Media Type";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Unknown";
	}
}

static void http_check_stopped(void)
{
	if (!http_server_open && !http_tcp_open && !http_conns && http_stop_done) {
		void (*done)(void) = http_stop_done;

		http_stop_done = NULL;
		done();
	}
}

static void http_conn_handle_closed_cb(uv_handle_t *h)
{
	struct http_conn *c = h->data;

	if (--c->closing_handles)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		http_conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	http_nconns--;
	free(c->body);
	free(c->pending);
	free(c);
	http_check_stopped();
}

static void http_conn_close(struct http_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	if (c->req) {
		/* The handler keeps the request; its reply will only free it. */
		struct http_req *req = c->req;

		req->conn = NULL;
		c->req = NULL;
		if (req->on_gone)
			req->on_gone(req);
	}
	c->closing_handles = 2;
	uv_close((uv_handle_t *)&c->timer, http_conn_handle_closed_cb);
	uv_close((uv_handle_t *)&c->h, http_conn_handle_closed_cb);
}

struct http_write {
	uv_write_t w;
	struct http_conn *conn;
	bool close_after;
	char data[];
};

static void http_write_cb(uv_write_t *w, int status)
{
	struct http_write *hw = (struct http_write *)w;
	struct http_conn *c = hw->conn;
	bool hw_close_after = hw->close_after;

	free(hw);
	if ((status || hw_close_after) && !c->closing) {
		http_conn_close(c);
	} else if (c->backlogged && !c->closing &&
		   uv_stream_get_write_queue_size((uv_stream_t *)&c->h) <=
			   HTTP_WRITE_QUEUE_MAX / 2) {
		c->backlogged = false;
		http_conn_resume(c);
	} else if (!c->closing && c->req && c->req->on_drain &&
		   uv_stream_get_write_queue_size((uv_stream_t *)&c->h) <=
			   HTTP_STREAM_QUEUE_MAX / 4) {
		/* A streaming handler that paces itself: room for more. */
		void (*fn)(struct http_req *) = c->req->on_drain;

		c->req->on_drain = NULL;
		fn(c->req);
	}
}

/* Queue @len bytes; the connection closes after them when @close_after. */
static void http_conn_send(struct http_conn *c, const char *head, size_t head_len, const char *body,
			   size_t body_len, bool close_after)
{
	struct http_write *hw;
	uv_buf_t buf;

	if (c->closing)
		return;
	hw = malloc(sizeof(*hw) + head_len + body_len);
	if (!hw) {
		http_conn_close(c);
		return;
	}
	hw->conn = c;
	hw->close_after = close_after;
	memcpy(hw->data, head, head_len);
	if (body_len)
		memcpy(hw->data + head_len, body, body_len);
	buf = uv_buf_init(hw->data, head_len + body_len);
	if (uv_write(&hw->w, (uv_stream_t *)&c->h, &buf, 1, http_write_cb)) {
		free(hw);
		http_conn_close(c);
	}
}

static void http_conn_respond_raw(struct http_conn *c, int status, const char *ctype,
				  const char *body, size_t len, bool close_after)
{
	char head[256];
	int n;

	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
		     "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
		     status, http_status_text(status), ctype, len,
		     close_after ? "close" : "keep-alive");
	http_conn_send(c, head, (size_t)n, body, len, close_after);
}

static void http_conn_respond(struct http_conn *c, int status, json_t *body, bool close_after)
{
	char *text = NULL;
	size_t len = 0;
	char head[256];
	int n;

	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		if (text)
			len = strlen(text);
	}
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
		     status, http_status_text(status), len + (text ? 1 : 0),
		     close_after ? "close" : "keep-alive");
	if (text) {
		text[len] = '\n'; /* replaces the NUL: the body ends with a newline */
		http_conn_send(c, head, (size_t)n, text, len + 1, close_after);
	} else {
		http_conn_send(c, head, (size_t)n, NULL, 0, close_after);
	}
	free(text);
}

static json_t *http_error_body(const char *code, const char *message)
{
	return json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
}

/* Answer and close: for requests the parser could not finish. */
static void http_conn_fail(struct http_conn *c, int status, const char *code, const char *message)
{
	if (c->failed)
		return;
	c->failed = true;
	uv_read_stop((uv_stream_t *)&c->h);
	/* A client that does not read its answer is dropped all the same. */
	uv_timer_start(&c->timer, http_timer_cb, 5000, 0);
	http_conn_respond(c, status, http_error_body(code, message), true);
}

static void http_timer_cb(uv_timer_t *t)
{
	struct http_conn *c = t->data;

	if (c->failed) {
		http_conn_close(c);
	} else if (c->in_request && !c->busy) {
		shoal_log_info("http: request not complete within %d ms, closing",
			       HTTP_REQUEST_TIMEOUT_MS);
		http_conn_fail(c, 408, "request_timeout", "the request was not complete in time");
	} else if (!c->busy) {
		http_conn_close(c);
	}
}

static void http_conn_reset_request(struct http_conn *c)
{
	c->in_request = false;
	c->header_bytes = 0;
	c->field_len = 0;
	c->field[0] = '\0';
	c->in_value = false;
	c->expect_continue = false;
	c->url_len = 0;
	free(c->body);
	c->body = NULL;
	c->body_len = 0;
	c->too_large = false;
	c->body_max = HTTP_BODY_MAX;
	c->auth_len = 0;
	c->auth[0] = '\0';
}

static int http_on_message_begin(http_parser *p)
{
	struct http_conn *c = p->data;

	http_conn_reset_request(c);
	c->in_request = true;
	uv_timer_start(&c->timer, http_timer_cb, HTTP_REQUEST_TIMEOUT_MS, 0);
	return 0;
}

static int http_count_header(struct http_conn *c, size_t len)
{
	c->header_bytes += len;
	if (c->header_bytes > HTTP_HEADER_MAX) {
		http_conn_fail(c, 431, "header_too_large",
			       "request line and headers exceed 8192 bytes");
		return 1;
	}
	return 0;
}

static int http_on_url(http_parser *p, const char *at, size_t len)
{
	struct http_conn *c = p->data;

	if (http_count_header(c, len))
		return 1;
	memcpy(c->url + c->url_len, at, len);
	c->url_len += len;
	c->url[c->url_len] = '\0';
	return 0;
}

static int http_on_header_field(http_parser *p, const char *at, size_t len)
{
	struct http_conn *c = p->data;
	size_t n;

	if (http_count_header(c, len))
		return 1;
	if (c->in_value) {
		c->field_len = 0;
		c->in_value = false;
	}
	n = len < sizeof(c->field) - 1 - c->field_len ? len : sizeof(c->field) - 1 - c->field_len;
	memcpy(c->field + c->field_len, at, n);
	c->field_len += n;
	c->field[c->field_len] = '\0';
	return 0;
}

static int http_on_header_value(http_parser *p, const char *at, size_t len)
{
	struct http_conn *c = p->data;

	if (http_count_header(c, len))
		return 1;
	c->in_value = true;
	if (c->need_auth && !strcasecmp(c->field, "authorization")) {
		size_t n = len < HTTP_AUTH_MAX - c->auth_len ? len : HTTP_AUTH_MAX - c->auth_len;

		memcpy(c->auth + c->auth_len, at, n);
		c->auth_len += n;
		c->auth[c->auth_len] = '\0';
	}
	/* curl sends Expect: 100-continue with larger bodies and waits a second for it. */
	if (!strcasecmp(c->field, "expect") && len == 12 && !strncasecmp(at, "100-continue", 12))
		c->expect_continue = true;
	return 0;
}

/* Does the Authorization header say "Bearer <token>"? In constant time for a given length. */
static bool http_authorized(const struct http_conn *c)
{
	size_t tlen = strlen(http_token), i;
	unsigned char diff = 0;

	if (c->auth_len != 7 + tlen || strncmp(c->auth, "Bearer ", 7))
		return false;
	for (i = 0; i < tlen; i++)
		diff |= (unsigned char)(c->auth[7 + i] ^ http_token[i]);
	return diff == 0;
}

static int http_on_headers_complete(http_parser *p)
{
	struct http_conn *c = p->data;

	if (c->need_auth && !http_authorized(c)) {
		http_conn_fail(c, 401, "unauthorized",
			       "requests over TCP need \"Authorization: Bearer\" with the token");
		return 3;
	}
	const char *q = memchr(c->url, '?', c->url_len);
	size_t plen = q ? (size_t)(q - c->url) : c->url_len;

	/* File uploads are raw bytes with a cap of their own; every other body is JSON. */
	c->body_max = HTTP_BODY_MAX;
	if (p->method == HTTP_PUT && plen > 6 && !memcmp(c->url + plen - 6, "/files", 6))
		c->body_max = HTTP_FILE_MAX;
	if (p->content_length != ULLONG_MAX && p->content_length > c->body_max) {
		/* Refuse before the body comes: 3 makes http-parser stop with an error. */
		http_conn_fail(c, 413, "body_too_large",
			       c->body_max == HTTP_BODY_MAX ? "request body exceeds 65536 bytes"
							    : "file exceeds 16777216 bytes");
		return 3;
	}
	if (c->expect_continue) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

		http_conn_send(c, cont, sizeof(cont) - 1, NULL, 0, false);
	}
	return 0;
}

static int http_on_body(http_parser *p, const char *at, size_t len)
{
	struct http_conn *c = p->data;
	char *nb;

	if (c->too_large || c->body_len + len > c->body_max) {
		c->too_large = true;
		free(c->body);
		c->body = NULL;
		c->body_len = 0;
		/* Stop at once rather than read an endless body. */
		http_conn_fail(c, 413, "body_too_large",
			       c->body_max == HTTP_BODY_MAX ? "request body exceeds 65536 bytes"
							    : "file exceeds 16777216 bytes");
		return 1;
	}
	nb = realloc(c->body, c->body_len + len + 1);
	if (!nb)
		return 1;
	memcpy(nb + c->body_len, at, len);
	c->body = nb;
	c->body_len += len;
	c->body[c->body_len] = '\0';
	return 0;
}

static int http_on_message_complete(http_parser *p)
{
	struct http_conn *c = p->data;
	struct http_req *req;
	char *q;

	uv_timer_stop(&c->timer);
	c->keep_alive = http_should_keep_alive(p);
	if (c->too_large) {
		http_conn_fail(c, 413, "body_too_large", "request body exceeds 65536 bytes");
		return 1;
	}
	req = calloc(1, sizeof(*req));
	if (!req)
		return 1;
	req->conn = c;
	req->method = http_method_str(p->method);
	q = strchr(c->url, '?');
	if (q) {
		*q = '\0';
		req->query = strdup(q + 1);
	}
	req->path = strdup(c->url);
	req->body = c->body ? c->body : strdup("");
	req->body_len = c->body_len;
	c->body = NULL;
	c->body_len = 0;
	if (!req->path || !req->body || (q && !req->query)) {
		free(req->path);
		free(req->query);
		free(req->body);
		free(req);
		return 1;
	}
	c->busy = true;
	c->req = req;
	c->in_request = false;
	/* One request at a time: pause until its reply is on the way. */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings http_settings = {
	.on_message_begin = http_on_message_begin,
	.on_url = http_on_url,
	.on_header_field = http_on_header_field,
	.on_header_value = http_on_header_value,
	.on_headers_complete = http_on_headers_complete,
	.on_body = http_on_body,
	.on_message_complete = http_on_message_complete,
};

static void http_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char slab[64 * 1024];

	(void)h;
	(void)suggested;
	*buf = uv_buf_init(slab, sizeof(slab));
}

static void http_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* Ready for the next request of the connection: parser running, reading, idle timer. */
static int http_conn_restart(struct http_conn *c)
{
	c->busy = false;
	http_parser_pause(&c->parser, 0);
	http_conn_reset_request(c);
	if (uv_read_start((uv_stream_t *)&c->h, http_alloc_cb, http_read_cb)) {
		http_conn_close(c);
		return -1;
	}
	uv_timer_start(&c->timer, http_timer_cb, HTTP_IDLE_TIMEOUT_MS, 0);
	return 0;
}

/*
 * A client that sends requests but does not read the answers would make us
 * queue answers without bound: past HTTP_WRITE_QUEUE_MAX bytes queued, the
 * next request waits (the idle timer runs) until the queue drains.
 */
static bool http_conn_check_backlog(struct http_conn *c)
{
	if (uv_stream_get_write_queue_size((uv_stream_t *)&c->h) <= HTTP_WRITE_QUEUE_MAX)
		return false;
	shoal_log_debug("http: a client is not reading its answers; its requests wait");
	c->backlogged = true;
	c->busy = false;
	uv_timer_start(&c->timer, http_timer_cb, HTTP_IDLE_TIMEOUT_MS, 0);
	return true;
}

/*
 * Feed bytes to the parser. A complete request is dispatched; what follows it
 * is kept until the request is answered. A request answered at once (most
 * are) is followed in this same loop rather than by recursion, so a burst of
 * pipelined requests cannot grow the stack.
 */
static void http_conn_feed(struct http_conn *c, const char *data, size_t len)
{
	char *owned = NULL;

	c->feeding = true;
	for (;;) {
		size_t used = http_parser_execute(&c->parser, &http_settings, data, len);
		enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);

		if (c->closing || c->failed)
			break;
		if (e == HPE_PAUSED) {
			if (used < len) {
				c->pending = malloc(len - used);
				if (!c->pending) {
					http_conn_close(c);
					break;
				}
				memcpy(c->pending, data + used, len - used);
				c->pending_len = len - used;
			}
			uv_read_stop((uv_stream_t *)&c->h);
			router_dispatch(c->req);
			if (c->closing || c->busy || http_conn_check_backlog(c))
				break; /* answered later, the connection ends, or backlog */
			free(owned);
			owned = c->pending;
			data = owned;
			len = c->pending_len;
			c->pending = NULL;
			c->pending_len = 0;
			if (http_conn_restart(c) || !owned)
				break;
			continue;
		}
		if (e != HPE_OK) {
			if (e == HPE_HEADER_OVERFLOW)
				http_conn_fail(c, 431, "header_too_large",
					       "request headers are too large");
			else
				http_conn_fail(c, 400, "bad_request", http_errno_description(e));
			break;
		}
		if (!c->in_request) /* between requests: idle timeout */
			uv_timer_start(&c->timer, http_timer_cb, HTTP_IDLE_TIMEOUT_MS, 0);
		break;
	}
	free(owned);
	c->feeding = false;
}

static void http_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct http_conn *c = s->data;

	if (nread < 0) {
		http_conn_close(c);
		return;
	}
	if (nread == 0)
		return;
	http_conn_feed(c, buf->base, (size_t)nread);
}

/* After a reply given later (from another callback): go on with the connection. */
static void http_conn_resume(struct http_conn *c)
{
	char *pending;
	size_t len;

	if (http_conn_check_backlog(c))
		return;
	pending = c->pending;
	len = c->pending_len;
	c->pending = NULL;
	c->pending_len = 0;
	if (!http_conn_restart(c) && pending)
		http_conn_feed(c, pending, len);
	free(pending);
}

void http_reply(struct http_req *req, int status, json_t *body)
{
	struct http_conn *c = req->conn;

	if (c && !c->closing) {
		bool close_after = !c->keep_alive || !http_server_open;

		c->req = NULL;
		http_conn_respond(c, status, body, close_after);
		if (!close_after && c->feeding)
			c->busy = false; /* http_conn_feed() goes on by itself */
		else if (!close_after)
			http_conn_resume(c);
	} else if (body) {
		json_decref(body);
	}
	shoal_log_debug("http: %s %s -> %d", req->method, req->path, status);
	free(req->path);
	free(req->query);
	free(req->body);
	free(req);
}

void http_reply_error(struct http_req *req, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	http_reply(req, status, http_error_body(code, msg));
}

void http_reply_raw(struct http_req *req, int status, const char *ctype, const char *data,
		    size_t len)
{
	struct http_conn *c = req->conn;

	if (c && !c->closing) {
		bool close_after = !c->keep_alive || !http_server_open;

		c->req = NULL;
		http_conn_respond_raw(c, status, ctype, data, len, close_after);
		if (!close_after && c->feeding)
			c->busy = false;
		else if (!close_after)
			http_conn_resume(c);
	}
	shoal_log_debug("http: %s %s -> %d (%zu bytes)", req->method, req->path, status, len);
	free(req->path);
	free(req->query);
	free(req->body);
	free(req);
}

/*
 * While an answer streams, the connection is read only to notice the client
 * leaving (end of file). Bytes of a next request are kept for after the
 * stream, up to a bound; beyond it reading stops.
 */
static void http_stream_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct http_conn *c = s->data;
	char *grown;

	if (nread < 0) {
		http_conn_close(c);
		return;
	}
	if (nread == 0)
		return;
	if (c->pending_len + (size_t)nread > HTTP_HEADER_MAX + HTTP_BODY_MAX) {
		uv_read_stop(s);
		return;
	}
	grown = realloc(c->pending, c->pending_len + (size_t)nread);
	if (!grown) {
		http_conn_close(c);
		return;
	}
	memcpy(grown + c->pending_len, buf->base, (size_t)nread);
	c->pending = grown;
	c->pending_len += (size_t)nread;
}

void http_stream_start(struct http_req *req, int status, const char *ctype)
{
	struct http_conn *c = req->conn;
	char head[256];
	int n;

	if (!c || c->closing)
		return;
	c->streaming = true;
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n"
		     "Cache-Control: no-store\r\nConnection: %s\r\n\r\n",
		     status, http_status_text(status), ctype,
		     c->keep_alive && http_server_open ? "keep-alive" : "close");
	http_conn_send(c, head, (size_t)n, NULL, 0, false);
	/* Also from inside http_conn_feed(), which stopped reading and stays away while busy. */
	uv_read_start((uv_stream_t *)&c->h, http_alloc_cb, http_stream_read_cb);
}

int http_stream_write(struct http_req *req, const char *data, size_t len)
{
	struct http_conn *c = req->conn;
	char head[32];
	int n;

	if (!c || c->closing)
		return -EPIPE;
	if (!len)
		return 0;
	/* A client that does not take its stream is cut off rather than buffered for. */
	if (uv_stream_get_write_queue_size((uv_stream_t *)&c->h) > HTTP_STREAM_QUEUE_MAX) {
		shoal_log_info("http: a streaming client does not read; closing it");
		http_conn_close(c);
		return -EPIPE;
	}
	n = snprintf(head, sizeof(head), "%zx\r\n", len);
	http_conn_send(c, head, (size_t)n, data, len, false);
	http_conn_send(c, "\r\n", 2, NULL, 0, false);
	return c->closing ? -EPIPE : 0;
}

void http_stream_end(struct http_req *req)
{
	struct http_conn *c = req->conn;

	req->on_gone = NULL;
	if (c && !c->closing) {
		bool close_after = !c->keep_alive || !http_server_open;

		c->req = NULL;
		c->streaming = false;
		uv_read_stop((uv_stream_t *)&c->h);
		http_conn_send(c, "0\r\n\r\n", 5, NULL, 0, close_after);
		if (!close_after && c->feeding)
			c->busy = false;
		else if (!close_after)
			http_conn_resume(c);
	}
	free(req->path);
	free(req->query);
	free(req->body);
	free(req);
}

static void http_connection_cb(uv_stream_t *server, int status)
{
	struct http_conn *c;

	if (status < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	if (server == (uv_stream_t *)&http_tcp_server) {
		uv_tcp_init(server->loop, &c->h.tcp);
		c->need_auth = true;
	} else {
		uv_pipe_init(server->loop, &c->h.pipe, 0);
	}
	uv_timer_init(server->loop, &c->timer);
	c->h.pipe.data = c; /* the union's members share the handle's data field */
	c->timer.data = c;
	c->next = http_conns;
	if (http_conns)
		http_conns->prev = c;
	http_conns = c;
	http_nconns++;
	if (uv_accept(server, (uv_stream_t *)&c->h)) {
		http_conn_close(c);
		return;
	}
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	if (http_nconns > shoald_config.max_connections) {
		http_conn_respond(
			c, 503,
			http_error_body("too_many_connections", "the connection limit is reached"),
			true);
		return;
	}
	if (uv_read_start((uv_stream_t *)&c->h, http_alloc_cb, http_read_cb)) {
		http_conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, http_timer_cb, HTTP_IDLE_TIMEOUT_MS, 0);
}

int http_server_start(uv_loop_t *loop, const char *path, int tcp_fd, const char *token,
		      struct shoal_error *err)
{
	int r;

	if (tcp_fd >= 0) {
		/* Bound and listening already, on 127.0.0.1 in the host's namespace. */
		uv_tcp_init(loop, &http_tcp_server);
		http_tcp_open = true;
		http_token = token;
		r = uv_tcp_open(&http_tcp_server, tcp_fd);
		if (!r)
			r = uv_listen((uv_stream_t *)&http_tcp_server, 128, http_connection_cb);
		if (r)
			return shoal_error_set(err, -r, "TCP listener");
	}

	unlink(path);
	r = uv_pipe_init(loop, &http_server, 0);
	if (r)
		return shoal_error_set(err, r, "uv_pipe_init");
	http_server_open = true;
	r = uv_pipe_bind(&http_server, path);
	if (r)
		return shoal_error_set(err, -r, "bind %s", path);
	if (chmod(path, 0660))
		return shoal_error_set(err, errno, "chmod 0660 %s", path);
	r = uv_listen((uv_stream_t *)&http_server, 128, http_connection_cb);
	if (r)
		return shoal_error_set(err, -r, "listen on %s", path);
	return 0;
}

static void http_server_closed_cb(uv_handle_t *h)
{
	(void)h;
	http_check_stopped();
}

void http_server_stop(void (*done)(void))
{
	struct http_conn *c, *next;

	http_stop_done = done;
	if (http_server_open) {
		http_server_open = false;
		uv_close((uv_handle_t *)&http_server, http_server_closed_cb);
	}
	if (http_tcp_open) {
		http_tcp_open = false;
		uv_close((uv_handle_t *)&http_tcp_server, http_server_closed_cb);
	}
	for (c = http_conns; c; c = next) {
		next = c->next;
		http_conn_close(c);
	}
	http_check_stopped();
}

static int http_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Percent-decode [@s, @end) into @out; -EINVAL if it does not fit or decode. */
static int http_decode(const char *s, const char *end, char *out, size_t size)
{
	size_t n = 0;

	while (s < end) {
		int ch = (unsigned char)*s;

		if (ch == '%') {
			int hi, lo;

			if (end - s < 3)
				return -EINVAL;
			hi = http_hex(s[1]);
			lo = http_hex(s[2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -EINVAL;
			ch = hi * 16 + lo;
			s += 3;
		} else {
			if (ch == '+')
				ch = ' ';
			s++;
		}
		if (n + 1 >= size)
			return -EINVAL;
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	return 0;
}

int http_query_next(const char **cursor, char *key, size_t key_size, char *val, size_t val_size)
{
	const char *s = *cursor, *amp, *eq;

	while (s && *s == '&')
		s++;
	if (!s || !*s)
		return 0;
	amp = strchr(s, '&');
	if (!amp)
		amp = s + strlen(s);
	eq = memchr(s, '=', (size_t)(amp - s));
	*cursor = amp;
	if (http_decode(s, eq ? eq : amp, key, key_size))
		return -EINVAL;
	if (http_decode(eq ? eq + 1 : amp, amp, val, val_size))
		return -EINVAL;
	return 1;
}
