// SPDX-License-Identifier: GPL-2.0
/*
 * The one route table of the API: method, path pattern, handler. A pattern is
 * a path whose segments are literal or "{name}", which matches one non-empty
 * segment and is passed to the handler. A path that matches no pattern is 404;
 * a path that matches only with another method is 405.
 */
#include <string.h>

#include "daemon/handlers.h"
#include "daemon/shoald.h"

struct route {
	const char *method;
	const char *pattern;
	void (*handler)(struct http_req *req, const char *param);
};

static const struct route routes[] = {
	{ "GET", "/v1/health", handle_health },
	{ "GET", "/v1/version", handle_version },
	{ "GET", "/metrics", handle_metrics },
	{ "GET", "/v1/events", handle_events },
	{ "POST", "/v1/instances", handle_instance_create },
	{ "GET", "/v1/instances", handle_instance_list },
	{ "GET", "/v1/instances/{id}", handle_instance_get },
	{ "PATCH", "/v1/instances/{id}", handle_instance_patch },
	{ "DELETE", "/v1/instances/{id}", handle_instance_delete },
	{ "GET", "/v1/instances/{id}/stats", handle_instance_stats },
	{ "GET", "/v1/instances/{id}/logs", handle_instance_logs },
	{ "PUT", "/v1/instances/{id}/files", handle_file_put },
	{ "GET", "/v1/instances/{id}/files", handle_file_get },
	{ "POST", "/v1/instances/{id}/exec", handle_exec },
	{ "GET", "/v1/instances/{id}/execs", handle_execs },
	{ "POST", "/v1/instances/{id}/exec/signal", handle_exec_signal },
};

#define ROUTER_PARAM_MAX 128

/* Does @path match @pattern? The one "{...}" segment, if any, goes to @param. */
static bool router_match(const char *pattern, const char *path, char *param)
{
	param[0] = '\0';
	while (*pattern && *path) {
		if (*pattern == '{') {
			const char *pend = strchr(pattern, '}');
			size_t n = strcspn(path, "/");

			if (!pend || n == 0 || n >= ROUTER_PARAM_MAX)
				return false;
			memcpy(param, path, n);
			param[n] = '\0';
			pattern = pend + 1;
			path += n;
			continue;
		}
		if (*pattern != *path)
			return false;
		pattern++;
		path++;
	}
	return !*pattern && !*path;
}

void router_dispatch(struct http_req *req)
{
	char param[ROUTER_PARAM_MAX];
	bool path_known = false;
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!router_match(routes[i].pattern, req->path, param))
			continue;
		path_known = true;
		if (strcmp(routes[i].method, req->method))
			continue;
		routes[i].handler(req, param[0] ? param : NULL);
		return;
	}
	if (path_known)
		http_reply_error(req, 405, "method_not_allowed", "%s is not allowed on %s",
				 req->method, req->path);
	else
		http_reply_error(req, 404, "not_found", "no such route: %s", req->path);
}
