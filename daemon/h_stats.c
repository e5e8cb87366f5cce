// SPDX-License-Identifier: GPL-2.0
/*
 * What a running instance says about itself over its control channel:
 * GET /v1/instances/{id}/stats (`stats`: uptime, the kernel's memory and the
 * host's resident set, its interfaces' counters, host threads and the size of
 * its seccomp allow-list) and GET /v1/instances/{id}/logs (`console`: its
 * kernel's log). The answer comes when the instance replies; if it dies
 * first, 502.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/handlers.h"

static json_t *stats_to_json(const struct proto_stats_result *s)
{
	json_t *ifaces = json_array();
	size_t i;

	for (i = 0; i < s->ninterfaces; i++) {
		const struct proto_iface_stats *f = &s->interfaces[i];

		json_array_append_new(
			ifaces,
			json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "name", f->name,
				  "rx_bytes", (json_int_t)f->rx_bytes, "rx_packets",
				  (json_int_t)f->rx_packets, "rx_errors", (json_int_t)f->rx_errors,
				  "rx_dropped", (json_int_t)f->rx_dropped, "tx_bytes",
				  (json_int_t)f->tx_bytes, "tx_packets", (json_int_t)f->tx_packets,
				  "tx_errors", (json_int_t)f->tx_errors, "tx_dropped",
				  (json_int_t)f->tx_dropped));
	}
	return json_pack("{s:I,s:{s:I,s:I,s:I},s:o,s:i,s:i,s:i}", "uptime_us",
			 (json_int_t)s->uptime_us, "memory", "kernel_total_bytes",
			 (json_int_t)s->memory.kernel_total_bytes, "kernel_free_bytes",
			 (json_int_t)s->memory.kernel_free_bytes, "host_rss_bytes",
			 (json_int_t)s->memory.host_rss_bytes, "interfaces", ifaces, "host_threads",
			 (int)s->host_threads, "host_syscalls_allowed",
			 (int)s->host_syscalls_allowed, "jobs_running", (int)s->jobs_running);
}

static bool stats_reply_cb(void *arg, const struct proto_msg *msg)
{
	struct http_req *req = arg;

	if (!msg)
		http_reply_error(req, 502, "instance_error",
				 "the instance ended before it answered");
	else if (msg->type == PROTO_ERROR)
		handler_reply_proto_error(req, "stats", &msg->error);
	else
		http_reply(req, 200, stats_to_json(&msg->ok.stats));
	return false;
}

void handle_instance_stats(struct http_req *req, const char *param)
{
	struct shoal_error err = { 0 };
	struct sup_proc *p = handler_instance(req, param);
	struct sup_call *call;
	struct proto_msg msg;

	if (!p)
		return;
	if (req->query) {
		http_reply_error(req, 400, "unknown_field", "stats takes no query parameters");
		return;
	}
	proto_msg_init(&msg, PROTO_STATS, 0);
	if (sup_call_start(p, &msg, stats_reply_cb, req, SUP_CALL_TIMEOUT_MS, &call, &err))
		http_reply_error(req, 502, "instance_error", "%s", err.msg);
}

static bool logs_reply_cb(void *arg, const struct proto_msg *msg)
{
	struct http_req *req = arg;

	if (!msg)
		http_reply_error(req, 502, "instance_error",
				 "the instance ended before it answered");
	else if (msg->type == PROTO_ERROR)
		handler_reply_proto_error(req, "console", &msg->error);
	else
		http_reply(req, 200,
			   json_pack("{s:s,s:I,s:I}", "text", msg->ok.console.text, "cursor",
				     (json_int_t)msg->ok.console.cursor, "lost",
				     (json_int_t)msg->ok.console.lost));
	return false;
}

/*
 * GET /v1/instances/{id}/logs: the instance kernel's console, read
 * incrementally (`console`): ?cursor=N continues where the last answer's
 * cursor left off, ?max_bytes=M (1..32768) bounds one answer.
 */
void handle_instance_logs(struct http_req *req, const char *param)
{
	struct shoal_error err = { 0 };
	struct sup_proc *p = handler_instance(req, param);
	const char *cursor;
	struct sup_call *call;
	struct proto_msg msg;
	char key[16], val[24], *end;
	unsigned long long v;
	int r;

	if (!p)
		return;
	proto_msg_init(&msg, PROTO_CONSOLE, 0);
	cursor = req->query;
	while ((r = http_query_next(&cursor, key, sizeof(key), val, sizeof(val))) > 0) {
		errno = 0;
		v = strtoull(val, &end, 10);
		if (errno || end == val || *end || *val == '-') {
			r = -EINVAL;
			break;
		}
		if (!strcmp(key, "cursor") && v <= PROTO_COUNTER_MAX) {
			msg.console.cursor = v;
		} else if (!strcmp(key, "max_bytes") && v >= 1 && v <= PROTO_CONSOLE_MAX) {
			msg.console.max_bytes = (uint32_t)v;
		} else if (strcmp(key, "cursor") && strcmp(key, "max_bytes")) {
			http_reply_error(req, 400, "unknown_field",
					 "unknown query parameter \"%s\"", key);
			return;
		} else {
			r = -EINVAL;
			break;
		}
	}
	if (r < 0) {
		http_reply_error(req, 400, "invalid_value",
				 "cursor is a byte offset, max_bytes an integer 1..%d",
				 PROTO_CONSOLE_MAX);
		return;
	}
	if (sup_call_start(p, &msg, logs_reply_cb, req, SUP_CALL_TIMEOUT_MS, &call, &err))
		http_reply_error(req, 502, "instance_error", "%s", err.msg);
}
