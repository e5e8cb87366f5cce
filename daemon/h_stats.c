// SPDX-License-Identifier: GPL-2.0
/*
 * GET /v1/instances/{id}/stats: the instance's own view of itself, asked over
 * its control channel (`stats`): uptime, the kernel's memory and the host's
 * resident set, its interfaces' counters, host threads and the size of its
 * seccomp allow-list. The answer comes when the instance replies; if it dies
 * first, 502.
 */
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
			 (json_int_t)s->memory.host_rss_bytes, "interfaces", ifaces,
			 "host_threads", (int)s->host_threads, "host_syscalls_allowed",
			 (int)s->host_syscalls_allowed, "jobs_running", (int)s->jobs_running);
}

static bool stats_reply_cb(void *arg, const struct proto_msg *msg)
{
	struct http_req *req = arg;

	if (!msg)
		http_reply_error(req, 502, "instance_error", "the instance ended before it answered");
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
	if (sup_call_start(p, &msg, stats_reply_cb, req, &call, &err))
		http_reply_error(req, 502, "instance_error", "%s", err.msg);
}
