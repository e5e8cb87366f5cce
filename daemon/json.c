// SPDX-License-Identifier: GPL-2.0
/*
 * Strict JSON request bodies: one object, no duplicate keys, no trailing data,
 * no key the handler does not know. Every failure is answered here with a 400
 * whose code says which rule was broken, so handlers only see bodies that
 * passed.
 */
#include <string.h>

#include "daemon/shoald.h"

json_t *json_body_object(struct http_req *req, const char *const *allowed)
{
	json_error_t jerr;
	const char *key;
	json_t *obj, *val;

	if (req->body_len == 0) {
		http_reply_error(req, 400, "bad_json", "a JSON object body is required");
		return NULL;
	}
	if (strlen(req->body) != req->body_len) {
		http_reply_error(req, 400, "bad_json", "the body contains a NUL byte");
		return NULL;
	}
	obj = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj) {
		http_reply_error(req, 400, "bad_json", "malformed JSON at line %d column %d: %s",
				 jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		http_reply_error(req, 400, "bad_json", "the body must be a JSON object");
		return NULL;
	}
	json_object_foreach(obj, key, val)
	{
		size_t i;

		for (i = 0; allowed[i]; i++)
			if (!strcmp(allowed[i], key))
				break;
		if (!allowed[i]) {
			/* @key lives in @obj: answer before letting it go. */
			http_reply_error(req, 400, "unknown_field", "unknown field \"%.64s\"", key);
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}
