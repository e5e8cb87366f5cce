// SPDX-License-Identifier: GPL-2.0
/*
 * Handlers of the daemon itself: GET /v1/health (the daemon answers and its
 * store is open), GET /v1/version (daemon, API and control protocol
 * versions) and GET /metrics (Prometheus text, metrics.c).
 */
#include <stdlib.h>

#include "api/proto.h"
#include "daemon/handlers.h"

void handle_health(struct http_req *req, const char *param)
{
	(void)param;
	http_reply(req, 200, json_pack("{s:s}", "status", "ok"));
}

void handle_version(struct http_req *req, const char *param)
{
	(void)param;
	http_reply(req, 200,
		   json_pack("{s:s,s:s,s:i}", "version", SHOALD_VERSION, "api", SHOALD_API_VERSION,
			     "protocol", PROTO_VERSION));
}

void handle_metrics(struct http_req *req, const char *param)
{
	size_t len = 0;
	char *text;

	(void)param;
	if (req->query) {
		http_reply_error(req, 400, "unknown_field", "/metrics takes no query parameters");
		return;
	}
	text = metrics_render(&len);
	if (!text) {
		http_reply_error(req, 500, "internal", "metrics could not be rendered");
		return;
	}
	http_reply_raw(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
	free(text);
}
