// SPDX-License-Identifier: GPL-2.0
/*
 * Requests to a ready instance and what streams back, and the queue of what
 * the daemon sends it. A call (struct sup_call) is one request: its reply is
 * matched by id and checked to answer the request's type, the stream after it
 * by stream id (file_get's chunks) or job id (exec's output and exit), and
 * each is bounded in time (sup_call_timer_cb). Messages to the instance go
 * through a queue, since a SEQPACKET socket takes only a few packets at a
 * time (net.unix.max_dgram_qlen) and the loop must never wait for it: what
 * does not fit now is sent when the poll says the socket is writable again.
 * The process side (spawn, adopt, stop, reap) is supervisor.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/channel.h"
#include "api/log.h"
#include "daemon/shoald.h"
#include "daemon/sup.h"

/* The instance is gone: every call still waiting hears so, once. */
void sup__calls_fail(struct sup_proc *p)
{
	struct sup_call *c;

	while ((c = p->calls)) {
		p->calls = c->next;
		if (c->fn)
			c->fn(c->arg, NULL);
		free(c);
	}
}

void sup__poll_update(struct sup_proc *p)
{
	if (!p->poll_active || p->chan_down)
		return;
	uv_poll_start(&p->poll, UV_READABLE | UV_DISCONNECT | (p->want_write ? UV_WRITABLE : 0),
		      sup__poll_cb);
}

/* Send what waits in the queue, as far as the socket takes it. */
int sup__flush(struct sup_proc *p)
{
	struct sup_out *o;
	int r;

	while ((o = p->out_head)) {
		r = channel_send(p->sock, o->text, o->len, NULL, 0, NULL);
		if (r == -EAGAIN)
			break;
		if (r)
			return r;
		p->out_head = o->next;
		if (!p->out_head)
			p->out_tail = NULL;
		free(o);
	}
	if (p->want_write != (p->out_head != NULL)) {
		p->want_write = p->out_head != NULL;
		sup__poll_update(p);
	}
	return 0;
}

/* Encode @msg and send it after whatever is queued; @fds only go with an empty queue. */
int sup__send_fds(struct sup_proc *p, struct proto_msg *msg, const int *fds, size_t nfds,
		  struct shoal_error *err)
{
	char *text = NULL;
	struct sup_out *o;
	size_t len;
	int r;

	r = proto_encode(msg, &text, &len, err);
	if (r)
		return r;
	if (!p->out_head) {
		r = channel_send(p->sock, text, len, fds, nfds, err);
		if (r != -EAGAIN) {
			free(text);
			return r;
		}
		if (nfds) {
			free(text);
			return shoal_error_set(err, EAGAIN, "instance %s: channel full", p->id);
		}
	}
	o = malloc(sizeof(*o) + len);
	if (!o) {
		free(text);
		return shoal_error_set(err, ENOMEM, "instance %s: send queue", p->id);
	}
	o->next = NULL;
	o->len = len;
	memcpy(o->text, text, len);
	free(text);
	if (p->out_tail)
		p->out_tail->next = o;
	else
		p->out_head = o;
	p->out_tail = o;
	if (!p->want_write) {
		p->want_write = true;
		sup__poll_update(p);
	}
	return 0;
}

int sup__send(struct sup_proc *p, struct proto_msg *msg)
{
	struct shoal_error err = { 0 };
	int r = sup__send_fds(p, msg, NULL, 0, &err);

	if (r)
		shoal_log_warn("instance %s: send %s: %s", p->id, proto_type_name(msg->type),
			       err.msg);
	return r;
}

static struct sup_call *sup_call_find(struct sup_proc *p, uint64_t id, struct sup_call ***link)
{
	struct sup_call **pp;

	for (pp = &p->calls; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			if (link)
				*link = pp;
			return *pp;
		}
	}
	return NULL;
}

static struct sup_call *sup_call_find_job(struct sup_proc *p, uint64_t job, struct sup_call ***link)
{
	struct sup_call **pp;

	for (pp = &p->calls; *pp; pp = &(*pp)->next) {
		if ((*pp)->type == PROTO_EXEC && (*pp)->job == job) {
			*link = pp;
			return *pp;
		}
	}
	return NULL;
}

/* Hand @msg to the call at *@link; unlink and free it when it is done. */
static void sup_call_deliver(struct sup_call **link, const struct proto_msg *msg)
{
	struct sup_call *c = *link;
	bool keep;

	if (c->fn) {
		keep = c->fn(c->arg, msg);
	} else {
		/* Detached: a download that started is stopped; the rest is dropped. */
		if (msg->type == PROTO_OK && c->type == PROTO_FILE_GET) {
			struct proto_msg end;

			proto_msg_init(&end, PROTO_FILE_END, 0);
			end.file_end.stream = c->id;
			end.file_end.has_error = true;
			end.file_end.error.code = PROTO_ERR_CANCELLED;
			end.file_end.error.message = "the client went away";
			sup__send(c->proc, &end);
		}
		keep = false;
	}
	if (!keep) {
		*link = c->next;
		free(c);
	}
}

/* A reply or stream message for a call; false when it breaks the protocol. */
bool sup__route(struct sup_proc *p, struct proto_msg *msg)
{
	struct sup_call **link, *c;

	switch (msg->type) {
	case PROTO_OK:
	case PROTO_ERROR:
		c = sup_call_find(p, msg->id, &link);
		if (!c || c->replied)
			return false;
		if (msg->type == PROTO_OK && msg->ok.request != c->type) {
			sup__why(p, "protocol violation: ok for %s answers a %s",
				 proto_type_name(msg->ok.request), proto_type_name(c->type));
			return false;
		}
		c->replied = true;
		if (msg->type == PROTO_OK && c->type == PROTO_EXEC)
			c->job = msg->ok.exec.job;
		sup_call_deliver(link, msg);
		return true;
	case PROTO_FILE_CHUNK:
	case PROTO_FILE_END:
		c = sup_call_find(p,
				  msg->type == PROTO_FILE_CHUNK ? msg->file_chunk.stream
								: msg->file_end.stream,
				  &link);
		/* A stream that ended (or was abandoned) may still have chunks in flight. */
		if (c && c->type == PROTO_FILE_GET && c->replied)
			sup_call_deliver(link, msg);
		return true;
	case PROTO_EXEC_OUTPUT:
	case PROTO_EXEC_EXIT:
		c = sup_call_find_job(p,
				      msg->type == PROTO_EXEC_OUTPUT ? msg->exec_output.job
								     : msg->exec_exit.job,
				      &link);
		if (c)
			sup_call_deliver(link, msg);
		return true;
	default:
		return false;
	}
}

/*
 * A call whose time is up is answered for the instance, with a timeout
 * error, and forgotten: what the instance still sends for it is dropped, and
 * a download that had started is cancelled.
 */
static void sup_call_timer_cb(uv_timer_t *t)
{
	struct sup_proc *p = t->data;
	uint64_t now = uv_now(t->loop);
	struct sup_call **pp = &p->calls, *c;
	struct proto_msg msg;

	while ((c = *pp)) {
		if (now < c->deadline) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		shoal_log_warn("instance %s: no end of %s %llu in time", p->id,
			       proto_type_name(c->type), (unsigned long long)c->id);
		if (c->type == PROTO_FILE_GET && c->replied) {
			proto_msg_init(&msg, PROTO_FILE_END, 0);
			msg.file_end.stream = c->id;
			msg.file_end.has_error = true;
			msg.file_end.error.code = PROTO_ERR_CANCELLED;
			msg.file_end.error.message = "the daemon's time for it is up";
			sup__send(p, &msg);
		}
		if (c->fn) {
			proto_msg_init(&msg, PROTO_ERROR, c->id);
			msg.error.code = PROTO_ERR_TIMEOUT;
			msg.error.message = "the instance did not finish in time";
			c->fn(c->arg, &msg);
		}
		free(c);
	}
	if (!p->calls)
		uv_timer_stop(t);
}

int sup_call_start(struct sup_proc *p, struct proto_msg *msg, sup_msg_fn fn, void *arg,
		   unsigned int timeout_ms, struct sup_call **call, struct shoal_error *err)
{
	struct sup_call *c;
	int r;

	if (p->phase != SUP_READY || p->exited || p->chan_down)
		return shoal_error_set(err, EAGAIN, "instance %s is not ready", p->id);
	c = calloc(1, sizeof(*c));
	if (!c)
		return shoal_error_set(err, ENOMEM, "instance %s: call", p->id);
	c->proc = p;
	c->id = p->next_id++;
	c->type = msg->type;
	c->fn = fn;
	c->arg = arg;
	msg->id = c->id;
	r = sup__send_fds(p, msg, NULL, 0, err);
	if (r) {
		free(c);
		return r;
	}
	c->deadline = uv_now(p->call_timer.loop) + timeout_ms;
	c->next = p->calls;
	p->calls = c;
	if (!uv_is_active((uv_handle_t *)&p->call_timer))
		uv_timer_start(&p->call_timer, sup_call_timer_cb, 1000, 1000);
	*call = c;
	return 0;
}

uint64_t sup_call_id(const struct sup_call *c)
{
	return c->id;
}

int sup_call_send(struct sup_call *c, struct proto_msg *msg, struct shoal_error *err)
{
	return sup__send_fds(c->proc, msg, NULL, 0, err);
}

void sup_call_detach(struct sup_call *c)
{
	c->fn = NULL;
	c->arg = NULL;
}
