// SPDX-License-Identifier: GPL-2.0
/*
 * PUT and GET /v1/instances/{id}/files?path=P: a file's raw bytes into and
 * out of an instance, through the control protocol's file streams
 * (file_put/file_get, file_chunk, file_end). The path must be canonical and
 * absolute (proto_check_instance_path(): no "..", ".", "//" or trailing "/"),
 * and is resolved by the instance's own kernel inside its own root, never on
 * the host. Both directions are capped at HTTP_FILE_MAX bytes and held in the
 * daemon's memory while they move: an upload is the request body (refused
 * from Content-Length beyond the cap), a download is gathered and answered
 * with its Content-Length once complete. PUT takes ?mode= (octal permission
 * bits, default 644) and ?parents=true (make missing directories).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/handlers.h"

struct file_get {
	struct http_req *req;
	struct sup_call *call;
	unsigned char *buf;
	size_t size, got;
};

/* ?path= (required, canonical), and for PUT ?mode= and ?parents=. */
static int files_query(struct http_req *req, bool put, char *path, size_t size, uint32_t *mode,
		       bool *parents)
{
	const char *cursor = req->query;
	struct shoal_error err = { 0 };
	char key[16], val[PROTO_PATH_MAX + 2];
	int r;

	path[0] = '\0';
	for (;;) {
		r = http_query_next(&cursor, key, sizeof(key), val, sizeof(val));
		if (r == 0)
			break;
		if (r < 0) {
			http_reply_error(req, 400, "invalid_value",
					 "malformed query string (or a path over %d bytes)",
					 PROTO_PATH_MAX);
			return -EINVAL;
		}
		if (!strcmp(key, "path")) {
			if (strlen(val) >= size) {
				http_reply_error(req, 400, "invalid_value",
						 "path is longer than %d bytes", PROTO_PATH_MAX);
				return -EINVAL;
			}
			memcpy(path, val, strlen(val) + 1);
		} else if (put && !strcmp(key, "mode")) {
			char *end;
			unsigned long m = strtoul(val, &end, 8);

			if (end == val || *end || *val == '-' || m > 07777) {
				http_reply_error(req, 400, "invalid_value",
						 "mode must be octal permission bits 0..7777");
				return -EINVAL;
			}
			*mode = (uint32_t)m;
		} else if (put && !strcmp(key, "parents")) {
			if (strcmp(val, "true") && strcmp(val, "false")) {
				http_reply_error(req, 400, "invalid_value",
						 "parents must be true or false");
				return -EINVAL;
			}
			*parents = !strcmp(val, "true");
		} else {
			http_reply_error(req, 400, "unknown_field",
					 "unknown query parameter \"%s\"", key);
			return -EINVAL;
		}
	}
	if (!path[0]) {
		http_reply_error(req, 400, "invalid_value", "the path query parameter is required");
		return -EINVAL;
	}
	if (proto_check_instance_path(path, &err)) {
		http_reply_error(req, 400, "invalid_value", "path: %s", err.msg);
		return -EINVAL;
	}
	return 0;
}

struct file_put {
	struct http_req *req;
	char path[PROTO_PATH_MAX + 1];
};

static bool files_put_cb(void *arg, const struct proto_msg *msg)
{
	struct file_put *fp = arg;
	struct http_req *req = fp->req;

	if (!msg)
		http_reply_error(req, 502, "instance_error",
				 "the instance ended during the upload");
	else if (msg->type == PROTO_ERROR)
		handler_reply_proto_error(req, "file_put", &msg->error);
	else if (msg->type == PROTO_OK)
		http_reply(req, 200,
			   json_pack("{s:s,s:I}", "path", fp->path, "size",
				     (json_int_t)msg->ok.file_put.size));
	else
		return true; /* nothing else belongs to an upload */
	free(fp);
	return false;
}

void handle_file_put(struct http_req *req, const char *param)
{
	struct shoal_error err = { 0 };
	struct file_put *fp;
	struct sup_call *call;
	struct proto_msg msg;
	bool parents = false;
	uint32_t mode = 0644;
	struct sup_proc *p;
	size_t off, n;

	p = handler_instance(req, param);
	if (!p)
		return;
	fp = calloc(1, sizeof(*fp));
	if (!fp) {
		http_reply_error(req, 500, "internal", "out of memory");
		return;
	}
	fp->req = req;
	if (files_query(req, true, fp->path, sizeof(fp->path), &mode, &parents)) {
		free(fp);
		return;
	}
	proto_msg_init(&msg, PROTO_FILE_PUT, 0);
	msg.file_put.path = fp->path;
	msg.file_put.size = req->body_len;
	msg.file_put.mode = mode;
	msg.file_put.parents = parents;
	if (sup_call_start(p, &msg, files_put_cb, fp, SUP_FILE_TIMEOUT_MS, &call, &err)) {
		free(fp);
		http_reply_error(req, 502, "instance_error", "%s", err.msg);
		return;
	}
	/* The chunks follow at once, queued; the instance answers after file_end. */
	for (off = 0; off < req->body_len; off += n) {
		n = req->body_len - off < PROTO_CHUNK_MAX ? req->body_len - off : PROTO_CHUNK_MAX;
		proto_msg_init(&msg, PROTO_FILE_CHUNK, 0);
		msg.file_chunk.stream = sup_call_id(call);
		msg.file_chunk.offset = off;
		msg.file_chunk.data.data = (const unsigned char *)req->body + off;
		msg.file_chunk.data.len = n;
		if (sup_call_send(call, &msg, &err))
			break;
	}
	proto_msg_init(&msg, PROTO_FILE_END, 0);
	msg.file_end.stream = sup_call_id(call);
	if (!err.err)
		sup_call_send(call, &msg, &err);
	/* A send that failed leaves the call to end with the instance: answered then. */
}

static void files_get_free(struct file_get *g)
{
	free(g->buf);
	free(g);
}

static bool files_get_cb(void *arg, const struct proto_msg *msg)
{
	struct file_get *g = arg;
	struct http_req *req = g->req;

	if (!msg) {
		http_reply_error(req, 502, "instance_error",
				 "the instance ended during the download");
		files_get_free(g);
		return false;
	}
	switch (msg->type) {
	case PROTO_ERROR:
		handler_reply_proto_error(req, "file_get", &msg->error);
		break;
	case PROTO_OK:
		if (msg->ok.file_get.size > HTTP_FILE_MAX) {
			struct proto_msg end;

			proto_msg_init(&end, PROTO_FILE_END, 0);
			end.file_end.stream = sup_call_id(g->call);
			end.file_end.has_error = true;
			end.file_end.error.code = PROTO_ERR_CANCELLED;
			end.file_end.error.message = "larger than the daemon's cap";
			sup_call_send(g->call, &end, NULL);
			http_reply_error(req, 413, "too_large",
					 "the file has %llu bytes; at most %d",
					 (unsigned long long)msg->ok.file_get.size, HTTP_FILE_MAX);
			break;
		}
		g->size = msg->ok.file_get.size;
		g->buf = malloc(g->size ? g->size : 1);
		if (!g->buf) {
			http_reply_error(req, 500, "internal", "out of memory");
			break;
		}
		return true;
	case PROTO_FILE_CHUNK:
		if (msg->file_chunk.offset != g->got ||
		    msg->file_chunk.data.len > g->size - g->got) {
			http_reply_error(req, 502, "instance_error",
					 "the instance sent a chunk out of place");
			break;
		}
		memcpy(g->buf + g->got, msg->file_chunk.data.data, msg->file_chunk.data.len);
		g->got += msg->file_chunk.data.len;
		return true;
	case PROTO_FILE_END:
		if (msg->file_end.has_error)
			handler_reply_proto_error(req, "file_get", &msg->file_end.error);
		else if (g->got != g->size)
			http_reply_error(req, 502, "instance_error",
					 "the file changed size while it was read");
		else
			http_reply_raw(req, 200, "application/octet-stream", (const char *)g->buf,
				       g->size);
		break;
	default:
		return true;
	}
	files_get_free(g);
	return false;
}

void handle_file_get(struct http_req *req, const char *param)
{
	char path[PROTO_PATH_MAX + 1];
	struct shoal_error err = { 0 };
	struct proto_msg msg;
	struct file_get *g;
	struct sup_proc *p;

	p = handler_instance(req, param);
	if (!p || files_query(req, false, path, sizeof(path), NULL, NULL))
		return;
	g = calloc(1, sizeof(*g));
	if (!g) {
		http_reply_error(req, 500, "internal", "out of memory");
		return;
	}
	g->req = req;
	proto_msg_init(&msg, PROTO_FILE_GET, 0);
	msg.file_get.path = path;
	if (sup_call_start(p, &msg, files_get_cb, g, SUP_FILE_TIMEOUT_MS, &g->call, &err)) {
		free(g);
		http_reply_error(req, 502, "instance_error", "%s", err.msg);
	}
}
