// SPDX-License-Identifier: GPL-2.0
/*
 * Lifecycle events: every change of an instance's state (created, running,
 * stopping, destroyed, failed, updated) and every job (exec.started,
 * exec.finished) is one event, written to the store with a sequence number
 * before it is told to anyone, so that GET /v1/events can replay what a
 * client missed (?after=SEQ) and then follow new ones as they happen. The
 * subscribers are the streaming HTTP answers of h_events.c.
 */
#include <stdlib.h>

#include "api/log.h"
#include "daemon/shoald.h"

struct events_sub {
	void (*fn)(void *arg, json_t *event);
	void *arg;
	bool dead; /* unsubscribed while events were being delivered */
	struct events_sub *next;
};

static struct events_sub *events_subs;
static int events_delivering;

json_t *events_to_json(const struct store_event *ev)
{
	json_t *data = json_loads(ev->data ? ev->data : "{}", 0, NULL);

	if (!data)
		data = json_object();
	return json_pack("{s:I,s:I,s:s,s:o,s:o}", "seq", (json_int_t)ev->seq, "time_ms",
			 (json_int_t)ev->time_ms, "type", ev->type, "instance_id",
			 ev->instance_id[0] ? json_string(ev->instance_id) : json_null(), "data",
			 data);
}

static void events_sweep(void)
{
	struct events_sub **pp = &events_subs, *s;

	while ((s = *pp)) {
		if (s->dead) {
			*pp = s->next;
			free(s);
		} else {
			pp = &s->next;
		}
	}
}

void events_emit(const char *type, const char *id, json_t *data)
{
	struct shoal_error err = { 0 };
	struct store_event ev = { 0 };
	struct events_sub *s;
	json_t *obj;
	char *text;

	if (!data)
		data = json_object();
	text = json_dumps(data, JSON_COMPACT);
	json_decref(data);
	if (!text)
		return;
	ev.time_ms = shoald_now_ms();
	snprintf(ev.type, sizeof(ev.type), "%s", type);
	snprintf(ev.instance_id, sizeof(ev.instance_id), "%s", id ? id : "");
	ev.data = text;
	if (store_add_event(ev.time_ms, type, id, text, &ev.seq, &err)) {
		shoal_log_error("event %s: %s", type, err.msg);
		free(text);
		return;
	}
	if (events_subs) {
		obj = events_to_json(&ev);
		events_delivering++;
		for (s = events_subs; s; s = s->next)
			if (!s->dead && obj)
				s->fn(s->arg, obj);
		events_delivering--;
		json_decref(obj);
		if (!events_delivering)
			events_sweep();
	}
	free(text);
}

struct events_sub *events_subscribe(void (*fn)(void *arg, json_t *event), void *arg)
{
	struct events_sub *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->fn = fn;
	s->arg = arg;
	s->next = events_subs;
	events_subs = s;
	return s;
}

void events_unsubscribe(struct events_sub *sub)
{
	sub->dead = true;
	if (!events_delivering)
		events_sweep();
}
