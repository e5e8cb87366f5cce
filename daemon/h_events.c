// SPDX-License-Identifier: GPL-2.0
/*
 * GET /v1/events: lifecycle events as newline-delimited JSON (one object per
 * line, application/x-ndjson), streamed. The events stored after ?after=SEQ
 * (default 0: all) come first, in order, then new ones as they happen, until
 * the client leaves or the daemon stops; with ?follow=false the answer ends
 * after the stored ones. Replay and subscription happen in the same loop turn,
 * so no event falls between them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/handlers.h"

#define EVENTS_PAGE 1000

struct events_stream {
	struct http_req *req;
	struct events_sub *sub;
	int64_t last; /* seq of the last event written */
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
	/* on_gone is not set yet during the replay: a failure only marks the stream. */
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

void handle_events(struct http_req *req, const char *param)
{
	char key[16], val[32], *end;
	const char *cursor = req->query;
	struct shoal_error err = { 0 };
	struct events_stream *st;
	int64_t after = 0;
	bool follow = true;
	int64_t before;
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
			http_reply_error(req, 400, "unknown_field", "unknown query parameter \"%s\"",
					 key);
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
	http_stream_start(req, 200, "application/x-ndjson");
	do {
		before = st->last;
		if (store_list_events(st->last, EVENTS_PAGE, events_replay_cb, st, &err)) {
			st->failed = true;
			break;
		}
	} while (st->last != before && !st->failed);
	if (!follow || st->failed || !req->conn) {
		events_end(st);
		return;
	}
	st->sub = events_subscribe(events_live_cb, st);
	if (!st->sub) {
		events_end(st);
		return;
	}
	req->handler_data = st;
	req->on_gone = events_gone;
}
