// SPDX-License-Identifier: GPL-2.0
/*
 * Handlers of /v1/instances: validate the request strictly, call one function
 * of the instance manager (instances.c) or read the store, and build the
 * answer. Validation rules: memory_mib 16..65536 (default 64; 16 MiB is
 * the library kernel's minimum), ttl_s
 * 1..2592000, labels an object of at most 16 strings whose keys are 1..63
 * bytes of [A-Za-z0-9_.-/] and whose values are 0..127 bytes of
 * [A-Za-z0-9_.:/ -], network a boolean. PATCH changes ttl_s (null removes
 * it) and labels (replaced as a whole) of a live instance. The list is
 * paginated: ?limit=N (1..1000) and ?after=ID, answered with "next", the
 * cursor of the following page or null.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/proto.h"
#include "daemon/handlers.h"

#define LABELS_MAX 16
#define LABEL_KEY_MAX 63
#define LABEL_VALUE_MAX 127
#define TTL_MAX (30 * 86400)

#define LIST_LIMIT_MAX 1000

static bool chars_in(const char *s, const char *extra)
{
	for (; *s; s++) {
		char ch = *s;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || (ch && strchr(extra, ch))))
			return false;
	}
	return true;
}

static int labels_check(json_t *labels, char *msg, size_t size)
{
	const char *key;
	json_t *val;

	if (!json_is_object(labels)) {
		snprintf(msg, size, "labels must be an object of strings");
		return -EINVAL;
	}
	if (json_object_size(labels) > LABELS_MAX) {
		snprintf(msg, size, "at most %d labels", LABELS_MAX);
		return -EINVAL;
	}
	json_object_foreach(labels, key, val)
	{
		const char *v = json_string_value(val);

		if (!*key || strlen(key) > LABEL_KEY_MAX || !chars_in(key, "_.-/")) {
			snprintf(msg, size, "label key \"%.64s\": 1..63 bytes of [A-Za-z0-9_.-/]",
				 key);
			return -EINVAL;
		}
		if (!v || json_string_length(val) != strlen(v) || strlen(v) > LABEL_VALUE_MAX ||
		    !chars_in(v, "_.:/ -")) {
			snprintf(msg, size,
				 "label \"%s\": the value must be a string of 0..127 bytes of "
				 "[A-Za-z0-9_.:/ -]",
				 key);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * disks: at most PROTO_DISKS_MAX objects of image (a file name in the image
 * directory), mount_point (canonical, absolute, not "/", distinct), read_only
 * (default false) and fstype ([a-z0-9]{1,15}, default ext4); nothing else.
 */
static int disks_check(json_t *disks, const char **code, char *msg, size_t size)
{
	struct shoal_error err = { 0 };
	json_t *d, *v;
	const char *key;
	size_t i, j;

	*code = "invalid_value";
	if (!json_is_array(disks) || json_array_size(disks) > PROTO_DISKS_MAX) {
		snprintf(msg, size, "disks must be an array of at most %d objects",
			 PROTO_DISKS_MAX);
		return -EINVAL;
	}
	json_array_foreach(disks, i, d)
	{
		const char *image = json_string_value(json_object_get(d, "image"));
		const char *mp = json_string_value(json_object_get(d, "mount_point"));
		const char *fs;

		if (!json_is_object(d)) {
			snprintf(msg, size, "disks[%zu] must be an object", i);
			return -EINVAL;
		}
		json_object_foreach(d, key, v)
		{
			if (strcmp(key, "image") && strcmp(key, "mount_point") &&
			    strcmp(key, "read_only") && strcmp(key, "fstype")) {
				*code = "unknown_field";
				snprintf(msg, size, "disks[%zu]: unknown field \"%.64s\"", i, key);
				return -EINVAL;
			}
		}
		if (!image || !images_name_valid(image)) {
			snprintf(msg, size,
				 "disks[%zu].image: the file name of an image (1..%d bytes of "
				 "[A-Za-z0-9._-], not starting with '.' or '-')",
				 i, IMAGES_NAME_MAX);
			return -EINVAL;
		}
		if (!mp || !strcmp(mp, "/") || proto_check_instance_path(mp, &err)) {
			snprintf(msg, size,
				 "disks[%zu].mount_point: a canonical absolute path, not /%s%.160s",
				 i, err.msg[0] ? ": " : "", err.msg);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (!strcmp(mp, json_string_value(json_object_get(json_array_get(disks, j),
									  "mount_point")))) {
				snprintf(msg, size, "disks[%zu].mount_point: %s is used twice", i,
					 mp);
				return -EINVAL;
			}
		}
		v = json_object_get(d, "read_only");
		if (v && !json_is_boolean(v)) {
			snprintf(msg, size, "disks[%zu].read_only must be a boolean", i);
			return -EINVAL;
		}
		v = json_object_get(d, "fstype");
		fs = json_string_value(v);
		if (v && (!fs || !*fs || strlen(fs) > 15 ||
			  strspn(fs, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(fs))) {
			snprintf(msg, size, "disks[%zu].fstype: 1..15 bytes of [a-z0-9]", i);
			return -EINVAL;
		}
	}
	return 0;
}

/* env: at most INST_ENV_MAX "NAME=value" strings (NAME not empty, no '='), 16 KiB together. */
static int env_check(json_t *env, char *msg, size_t size)
{
	size_t i, total = 0;
	json_t *v;

	if (!json_is_array(env) || json_array_size(env) > INST_ENV_MAX) {
		snprintf(msg, size, "env must be an array of at most %d \"NAME=value\" strings",
			 INST_ENV_MAX);
		return -EINVAL;
	}
	json_array_foreach(env, i, v)
	{
		const char *e = json_string_value(v);
		const char *eq = e ? strchr(e, '=') : NULL;

		if (!e || strlen(e) != json_string_length(v) || !eq || eq == e ||
		    strlen(e) > PROTO_ARG_MAX) {
			snprintf(msg, size, "env[%zu] must be a \"NAME=value\" string", i);
			return -EINVAL;
		}
		total += strlen(e) + 1;
	}
	if (total > INST_ENV_BYTES) {
		snprintf(msg, size, "env holds more than %d bytes", INST_ENV_BYTES);
		return -EINVAL;
	}
	return 0;
}

static void instance_done(void *arg, int status, const char *code, const char *message,
			  const struct store_instance *row)
{
	struct http_req *req = arg;

	if (code)
		http_reply_error(req, status, code, "%s", message);
	else
		http_reply(req, status, instances_to_json(row));
}

void handle_instance_create(struct http_req *req, const char *param)
{
	static const char *const allowed[] = { "memory_mib", "labels", "ttl_s", "network",
					       "disks",	     "env",    NULL };
	const char *code;
	struct inst_spec spec = { .memory_mib = 64 };
	char msg[256];
	json_t *body, *v;

	(void)param;
	body = json_body_object(req, allowed);
	if (!body)
		return;
	v = json_object_get(body, "memory_mib");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 16 ||
		    json_integer_value(v) > 65536) {
			json_decref(body);
			http_reply_error(req, 400, "invalid_value",
					 "memory_mib must be an integer 16..65536");
			return;
		}
		spec.memory_mib = (uint32_t)json_integer_value(v);
	}
	v = json_object_get(body, "ttl_s");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > TTL_MAX) {
			json_decref(body);
			http_reply_error(req, 400, "invalid_value",
					 "ttl_s must be an integer 1..%d", TTL_MAX);
			return;
		}
		spec.ttl_s = json_integer_value(v);
	}
	v = json_object_get(body, "labels");
	if (v && labels_check(v, msg, sizeof(msg))) {
		json_decref(body);
		http_reply_error(req, 400, "invalid_value", "%s", msg);
		return;
	}
	spec.labels = v;
	v = json_object_get(body, "network");
	if (v && !json_is_boolean(v)) {
		json_decref(body);
		http_reply_error(req, 400, "invalid_value", "network must be a boolean");
		return;
	}
	spec.network = json_is_true(v);
	v = json_object_get(body, "disks");
	if (v && disks_check(v, &code, msg, sizeof(msg))) {
		json_decref(body);
		http_reply_error(req, 400, code, "%s", msg);
		return;
	}
	spec.disks = v;
	v = json_object_get(body, "env");
	if (v && env_check(v, msg, sizeof(msg))) {
		json_decref(body);
		http_reply_error(req, 400, "invalid_value", "%s", msg);
		return;
	}
	spec.env = v;
	instances_create(&spec, instance_done, req);
	json_decref(body);
}

static bool labels_match(const struct store_instance *row, const char *key, const char *value)
{
	json_t *labels = json_loads(row->labels, 0, NULL);
	const char *v = json_string_value(json_object_get(labels, key));
	bool match = v && !strcmp(v, value);

	json_decref(labels);
	return match;
}

#define LIST_LABELS_MAX 8

struct list_ctx {
	char keys[LIST_LABELS_MAX][LABEL_KEY_MAX + 1];
	char vals[LIST_LABELS_MAX][LABEL_VALUE_MAX + 1];
	size_t nlabels;
	bool has_after;
	int64_t after_ms; /* the ?after row's place in creation order */
	char after_id[STORE_ID_MAX];
	size_t limit, taken;
	bool more;
	char last[STORE_ID_MAX];
	json_t *list;
};

/* One row of the list: past the cursor, matching every label, within the limit. */
static bool list_row_cb(void *arg, const struct store_instance *row)
{
	struct list_ctx *lc = arg;
	size_t l;

	if (lc->has_after &&
	    (row->created_ms < lc->after_ms ||
	     (row->created_ms == lc->after_ms && strcmp(row->id, lc->after_id) <= 0)))
		return true;
	for (l = 0; l < lc->nlabels; l++)
		if (!labels_match(row, lc->keys[l], lc->vals[l]))
			return true;
	if (lc->limit && lc->taken == lc->limit) {
		lc->more = true;
		return false;
	}
	json_array_append_new(lc->list, instances_to_json(row));
	snprintf(lc->last, sizeof(lc->last), "%s", row->id);
	lc->taken++;
	return true;
}

void handle_instance_list(struct http_req *req, const char *param)
{
	static const char *const states[] = { "starting",  "running", "pooled", "stopping",
					      "destroyed", "failed",  NULL };
	char key[32], val[LABEL_KEY_MAX + LABEL_VALUE_MAX + 2], state[16] = "", after[32] = "";
	const char *cursor = req->query;
	struct shoal_error err = { 0 };
	struct list_ctx *lc;
	char *end;
	size_t i;
	int r;

	(void)param;
	lc = calloc(1, sizeof(*lc));
	if (!lc) {
		http_reply_error(req, 500, "internal", "out of memory");
		return;
	}
	while ((r = http_query_next(&cursor, key, sizeof(key), val, sizeof(val))) > 0) {
		if (!strcmp(key, "state")) {
			for (i = 0; states[i] && strcmp(states[i], val); i++)
				;
			if (!states[i]) {
				http_reply_error(req, 400, "invalid_value",
						 "unknown state \"%.32s\"", val);
				goto out;
			}
			strcpy(state, val);
		} else if (!strcmp(key, "label")) {
			char *eq = strchr(val, '=');

			if (!eq || eq == val || lc->nlabels == LIST_LABELS_MAX ||
			    (size_t)(eq - val) > LABEL_KEY_MAX ||
			    strlen(eq + 1) > LABEL_VALUE_MAX) {
				http_reply_error(req, 400, "invalid_value",
						 "label filters are key=value, at most %d",
						 LIST_LABELS_MAX);
				goto out;
			}
			*eq = '\0';
			strcpy(lc->keys[lc->nlabels], val);
			strcpy(lc->vals[lc->nlabels++], eq + 1);
		} else if (!strcmp(key, "limit")) {
			unsigned long v;

			errno = 0;
			v = strtoul(val, &end, 10);
			if (errno || end == val || *end || *val == '-' || v < 1 ||
			    v > LIST_LIMIT_MAX) {
				http_reply_error(req, 400, "invalid_value",
						 "limit must be an integer 1..%d", LIST_LIMIT_MAX);
				goto out;
			}
			lc->limit = v;
		} else if (!strcmp(key, "after")) {
			if (!handler_id_valid(val)) {
				http_reply_error(req, 400, "invalid_value",
						 "after must be an instance id");
				goto out;
			}
			strcpy(after, val);
		} else {
			http_reply_error(req, 400, "unknown_field",
					 "unknown query parameter \"%s\"", key);
			goto out;
		}
	}
	if (r < 0) {
		http_reply_error(req, 400, "invalid_value", "malformed query string");
		goto out;
	}
	if (after[0]) {
		/* The cursor is a place in creation order, whatever the filters of this page. */
		struct store_instance *row = malloc(sizeof(*row));

		r = row ? store_get_instance(after, row, &err) : -ENOMEM;
		if (!r) {
			lc->has_after = true;
			lc->after_ms = row->created_ms;
			snprintf(lc->after_id, sizeof(lc->after_id), "%s", row->id);
		}
		free(row);
		if (r == -ENOENT) {
			http_reply_error(req, 400, "invalid_value", "after: no instance %s", after);
			goto out;
		} else if (r) {
			http_reply_error(req, 500, "internal", "%s",
					 err.msg[0] ? err.msg : "out of memory");
			goto out;
		}
	}
	lc->list = json_array();
	if (store_each_instance(state[0] ? state : NULL, list_row_cb, lc, &err)) {
		json_decref(lc->list);
		http_reply_error(req, 500, "internal", "%s", err.msg);
		goto out;
	}
	/* The cursor of the next page is the last row of this one. */
	http_reply(req, 200,
		   json_pack("{s:o,s:o}", "instances", lc->list, "next",
			     lc->more ? json_string(lc->last) : json_null()));
out:
	free(lc);
}

void handle_instance_get(struct http_req *req, const char *param)
{
	struct shoal_error err = { 0 };
	struct store_instance row;
	int r;

	if (!handler_id_valid(param)) {
		http_reply_error(req, 404, "not_found", "no instance %.40s", param);
		return;
	}
	r = store_get_instance(param, &row, &err);
	if (r == -ENOENT)
		http_reply_error(req, 404, "not_found", "no instance %s", param);
	else if (r)
		http_reply_error(req, 500, "internal", "%s", err.msg);
	else
		http_reply(req, 200, instances_to_json(&row));
}

void handle_instance_delete(struct http_req *req, const char *param)
{
	if (!handler_id_valid(param)) {
		http_reply_error(req, 404, "not_found", "no instance %.40s", param);
		return;
	}
	instances_destroy(param, instance_done, req);
}

void handle_instance_patch(struct http_req *req, const char *param)
{
	static const char *const allowed[] = { "labels", "ttl_s", NULL };
	struct inst_patch patch = { 0 };
	char msg[256];
	json_t *body, *v;

	if (!handler_id_valid(param)) {
		http_reply_error(req, 404, "not_found", "no instance %.40s", param);
		return;
	}
	body = json_body_object(req, allowed);
	if (!body)
		return;
	v = json_object_get(body, "ttl_s");
	if (v) {
		if (!json_is_null(v) && (!json_is_integer(v) || json_integer_value(v) < 1 ||
					 json_integer_value(v) > TTL_MAX)) {
			json_decref(body);
			http_reply_error(req, 400, "invalid_value",
					 "ttl_s must be an integer 1..%d, or null for none",
					 TTL_MAX);
			return;
		}
		patch.set_ttl = true;
		patch.ttl_s = json_is_null(v) ? 0 : json_integer_value(v);
	}
	v = json_object_get(body, "labels");
	if (v && labels_check(v, msg, sizeof(msg))) {
		json_decref(body);
		http_reply_error(req, 400, "invalid_value", "%s", msg);
		return;
	}
	patch.labels = v;
	if (!patch.set_ttl && !patch.labels) {
		json_decref(body);
		http_reply_error(req, 400, "invalid_value",
				 "nothing to change: give ttl_s or labels");
		return;
	}
	instances_patch(param, &patch, instance_done, req);
	json_decref(body);
}
