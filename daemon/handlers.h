/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The HTTP handlers, one file per resource (h_system.c, h_instances.c,
 * h_stats.c, h_files.c, h_exec.c, h_events.c) and what they share
 * (h_common.c). Each takes the request (which it must answer, now or later,
 * with http_reply() or a stream) and the "{...}" segment of its route
 * pattern, or NULL.
 */
#ifndef SHOAL_DAEMON_HANDLERS_H
#define SHOAL_DAEMON_HANDLERS_H

#include "api/proto.h"
#include "daemon/shoald.h"

void handle_health(struct http_req *req, const char *param);
void handle_version(struct http_req *req, const char *param);
void handle_metrics(struct http_req *req, const char *param);
void handle_events(struct http_req *req, const char *param);
void handle_instance_create(struct http_req *req, const char *param);
void handle_instance_list(struct http_req *req, const char *param);
void handle_instance_get(struct http_req *req, const char *param);
void handle_instance_patch(struct http_req *req, const char *param);
void handle_instance_delete(struct http_req *req, const char *param);
void handle_instance_stats(struct http_req *req, const char *param);
void handle_instance_logs(struct http_req *req, const char *param);
void handle_file_put(struct http_req *req, const char *param);
void handle_file_get(struct http_req *req, const char *param);
void handle_exec(struct http_req *req, const char *param);
void handle_execs(struct http_req *req, const char *param);
void handle_exec_signal(struct http_req *req, const char *param);

/* Instance ids are "i-" and 16 hex digits; anything else cannot exist. */
bool handler_id_valid(const char *id);
/*
 * The running instance @id for a request over its channel, or NULL after
 * answering @req (404 for a malformed or unknown id, 409 when not running).
 */
struct sup_proc *handler_instance(struct http_req *req, const char *id);
/* Answer @req with the HTTP form of an instance's `error` reply to @what. */
void handler_reply_proto_error(struct http_req *req, const char *what, const struct proto_error *e);

#endif /* SHOAL_DAEMON_HANDLERS_H */
