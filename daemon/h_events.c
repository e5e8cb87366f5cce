// SPDX-License-Identifier: GPL-2.0
/*
 * GET /v1/events: lifecycle events as newline-delimited JSON (one object per
 * line, application/x-ndjson), streamed. The events stored after ?after=SEQ
 * (default 0: all) come first, in order, then new ones as they happen, until
 * the client leaves or the daemon stops; with ?follow=false the answer ends
 * after the stored ones. The replay goes a page at a time, the next page when
 * the client has taken most of the last (http.c's on_drain), so a long
 * history neither fills the daemon's memory nor trips the cut-off for slow
 * streams. The last page and the subscription happen in the same loop turn,
 * so no event falls between them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/handlers.h"

#define EVENTS_PAGE 500

struct events_stream {
	struct http_req *req;
	struct events_sub *sub;
	int64_t last; /* seq of the last event written */
	unsigned int page_count; /* events of the page being replayed */
	bool follow;
	bool failed;
};

/* Write one event line; -EPIPE when the client is gone (then @req may be freed already). */
static int events_write(struct http_req *req, json_t *ev)
{
	char *text;
	size_t len;
	int r;

	text = json_dumps(ev, JSON_COMPACT);
	if (!text)
		return 0;
	len = strlen(text);
	text[len] = '\n'; /* replaces the NUL: one event per line */
	r = http_stream_write(req, text, len + 1);
	free(text);
	return r;
}

static void events_replay_cb(void *arg, const struct store_event *ev)
{
	struct events_stream *st = arg;
	json_t *obj = events_to_json(ev);

	st->last = ev->seq;
	st->page_count++;
	/*
	 * A failed write closes the connection, whose on_gone ends the stream; it is
	 * held off during a page (see events_replay) and seen from st->failed.
	 */
	if (obj && !st->failed && events_write(st->req, obj))
		st->failed = true;
	json_decref(obj);
}

static void events_end(struct events_stream *st)
{
	if (st->sub)
		events_unsubscribe(st->sub);
	http_stream_end(st->req);
	free(st);
}

static void events_live_cb(void *arg, json_t *ev)
{
	struct events_stream *st = arg;

	/* A failed write closed the connection and on_gone freed @st: touch nothing after. */
	events_write(st->req, ev);
}

static void events_gone(struct http_req *req)
{
	events_end(req->handler_data);
}

static void events_drain(struct http_req *req);

/* One page of stored events; then the next page later, or live events, or the end. */
static void events_replay(struct events_stream *st)
{
	struct shoal_error err = { 0 };
	struct http_req *req = st->req;

	st->page_count = 0;
	req->on_gone = NULL; /* a write that fails inside the page must not free @st under us */
	if (store_list_events(st->last, EVENTS_PAGE, events_replay_cb, st, &err))
		st->failed = true;
	if (st->failed || !req->conn || (!st->follow && st->page_count < EVENTS_PAGE)) {
		events_end(st);
		return;
	}
	req->on_gone = events_gone;
	if (st->page_count == EVENTS_PAGE) {
		req->on_drain = events_drain;
		return;
	}
	st->sub = events_subscribe(events_live_cb, st);
	if (!st->sub)
		events_end(st);
}

static void events_drain(struct http_req *req)
{
	events_replay(req->handler_data);
}

void handle_events(struct http_req *req, const char *param)
{
	char key[16], val[32], *end;
	const char *cursor = req->query;
	struct events_stream *st;
	int64_t after = 0;
	bool follow = true;
	int r;

	(void)param;
	while ((r = http_query_next(&cursor, key, sizeof(key), val, sizeof(val))) > 0) {
		if (!strcmp(key, "after")) {
			errno = 0;
			after = strtoll(val, &end, 10);
			if (errno || end == val || *end || after < 0) {
				http_reply_error(req, 400, "invalid_value",
						 "after must be an event sequence number >= 0");
				return;
			}
		} else if (!strcmp(key, "follow")) {
			if (strcmp(val, "true") && strcmp(val, "false")) {
				http_reply_error(req, 400, "invalid_value",
						 "follow must be true or false");
				return;
			}
			follow = !strcmp(val, "true");
		} else {
			http_reply_error(req, 400, "unknown_field",
					 "unknown query parameter \"%s\"", key);
			return;
		}
	}
	if (r < 0) {
		http_reply_error(req, 400, "invalid_value", "malformed query string");
		return;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		http_reply_error(req, 500, "internal", "out of memory");
		return;
	}
	st->req = req;
	st->last = after;
	st->follow = follow;
	req->handler_data = st;
	http_stream_start(req, 200, "application/x-ndjson");
	events_replay(st);
}
