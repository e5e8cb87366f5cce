// SPDX-License-Identifier: GPL-2.0
/*
 * Handlers of the daemon itself: GET /v1/health (the daemon answers and its
 * store is open) and GET /v1/version (daemon, API and control protocol
 * versions).
 */
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
