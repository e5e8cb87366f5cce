// SPDX-License-Identifier: GPL-2.0
/*
 * What the handlers share: the form of an instance id, finding the running
 * instance a request is for, and how an instance's error reply becomes an
 * HTTP answer. The mapping keeps the instance's message (it names the path or
 * program) and gives each protocol code one stable API code and status.
 */
#include <string.h>

#include "daemon/handlers.h"

bool handler_id_valid(const char *id)
{
	size_t i;

	if (!id || strlen(id) != 18 || strncmp(id, "i-", 2))
		return false;
	for (i = 2; i < 18; i++)
		if (!strchr("0123456789abcdef", id[i]))
			return false;
	return true;
}

struct sup_proc *handler_instance(struct http_req *req, const char *id)
{
	const char *code = "internal";
	struct sup_proc *p;
	int status = 500;
	char msg[128];

	if (!handler_id_valid(id)) {
		http_reply_error(req, 404, "not_found", "no instance %.40s", id ? id : "");
		return NULL;
	}
	p = instances_proc(id, &status, &code, msg, sizeof(msg));
	if (!p)
		http_reply_error(req, status, code, "%s", msg);
	return p;
}

void handler_reply_proto_error(struct http_req *req, const char *what, const struct proto_error *e)
{
	static const struct {
		enum proto_error_code proto;
		int status;
		const char *code;
	} map[] = {
		{ PROTO_ERR_BAD_REQUEST, 400, "invalid_value" },
		{ PROTO_ERR_NOT_FOUND, 404, "not_found" },
		{ PROTO_ERR_EXISTS, 409, "exists" },
		{ PROTO_ERR_BAD_STATE, 409, "not_running" },
		{ PROTO_ERR_PERMISSION, 403, "permission" },
		{ PROTO_ERR_TOO_LARGE, 413, "too_large" },
		{ PROTO_ERR_LIMIT, 429, "limit" },
		{ PROTO_ERR_TIMEOUT, 504, "timeout" },
		{ PROTO_ERR_UNSUPPORTED, 501, "unsupported" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].proto == e->code) {
			http_reply_error(req, map[i].status, map[i].code, "%s: %s", what,
					 e->message);
			return;
		}
	}
	/* io, cancelled, internal, version: the instance failed, not the request. */
	http_reply_error(req, 502, "instance_error", "%s: %s (%s)", what, e->message,
			 proto_error_code_name(e->code));
}
