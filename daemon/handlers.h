/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The HTTP handlers, one file per resource (h_system.c, h_instances.c). Each
 * takes the request (which it must answer, now or later, with http_reply())
 * and the "{...}" segment of its route pattern, or NULL.
 */
#ifndef SHOAL_DAEMON_HANDLERS_H
#define SHOAL_DAEMON_HANDLERS_H

#include "daemon/shoald.h"

void handle_health(struct http_req *req, const char *param);
void handle_version(struct http_req *req, const char *param);
void handle_instance_create(struct http_req *req, const char *param);
void handle_instance_list(struct http_req *req, const char *param);
void handle_instance_get(struct http_req *req, const char *param);
void handle_instance_delete(struct http_req *req, const char *param);

#endif /* SHOAL_DAEMON_HANDLERS_H */
