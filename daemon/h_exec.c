// SPDX-License-Identifier: GPL-2.0
/*
 * POST /v1/instances/{id}/exec: run a program in an instance (the protocol's
 * exec, exec_output, exec_exit). The body is strict JSON: argv (required,
 * 1..256 strings), env ("NAME=value" strings; absent: the instance's
 * default), cwd, stdin (base64, at most 64 KiB), timeout_ms (1..86400000,
 * default 60000). The instance enforces the timeout; the daemon holds the
 * answer until the job's exec_exit, or until the instance is gone.
 *
 * A job's environment is layered: the instance's defaults (PATH, HOME=/root,
 * LANG=C.UTF-8, as api/PROTOCOL.md states them), then the env given when the
 * instance was created, then the exec's env; a later NAME replaces an earlier
 * one.
 *
 * Two shapes of answer. Buffered (default): one JSON object when the job has
 * ended, with its exit code or signal and its output, base64, kept up to 1 MiB
 * per stream (the rest is counted and flagged truncated). Streamed
 * (?stream=true): newline-delimited JSON as output arrives, {"stream":
 * "stdout"|"stderr","offset":N,"data":base64} per chunk, then one line with the
 * exit (exit_code/signal, timed_out, durations, byte counts); a failure after
 * the stream began is a last line {"error":{"code","message"}}. A program the
 * instance cannot start is an ordinary HTTP error in both shapes.
 *
 * Every exec is a row of the store (argv, exit, duration, byte counts), and
 * exec.started / exec.finished events.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/base64.h"
#include "api/log.h"
#include "daemon/handlers.h"

#define EXEC_BUFFER_CAP (1024 * 1024) /* per stream, in the buffered answer */

/* The instance's own defaults (api/PROTOCOL.md, exec.env), the first layer. */
static const char *const exec_default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"LANG=C.UTF-8",
};

/* Put "NAME=value" @e into @env (replacing the same NAME); false when full. */
static bool exec_env_set(const char **env, size_t *n, const char *e)
{
	size_t len = strcspn(e, "="), i;

	for (i = 0; i < *n; i++) {
		if (!strncmp(env[i], e, len) && env[i][len] == '=') {
			env[i] = e;
			return true;
		}
	}
	if (*n == PROTO_ENV_MAX)
		return false;
	env[(*n)++] = e;
	return true;
}

struct exec_state {
	struct exec_state *next, *prev; /* exec_running: jobs that may be signalled */
	struct http_req *req; /* NULL once answered or the client left */
	char id[STORE_ID_MAX];
	bool stream;
	bool started; /* the instance said ok */
	uint64_t start_ms; /* uv_now() */
	struct store_exec rec;
	struct store_instance *row; /* read for the instance's env, freed with the state */
	char *out[2]; /* buffered: stdout, stderr */
	size_t out_len[2];
	unsigned char *stdin_buf;
};

/* Execs whose job has not ended, for POST .../exec/signal. */
static struct exec_state *exec_running;

static void exec_free(struct exec_state *st)
{
	if (st->prev)
		st->prev->next = st->next;
	else if (exec_running == st)
		exec_running = st->next;
	if (st->next)
		st->next->prev = st->prev;
	free(st->row);
	free(st->out[0]);
	free(st->out[1]);
	free(st->stdin_buf);
	free(st);
}

static json_t *exec_exit_json(const struct exec_state *st, const struct proto_exec_exit *x)
{
	return json_pack("{s:I,s:I,s:o,s:o,s:b,s:f,s:I,s:I,s:b,s:b}", "exec_id",
			 (json_int_t)st->rec.id, "job", (json_int_t)x->job, "exit_code",
			 x->exit_code >= 0 ? json_integer(x->exit_code) : json_null(), "signal",
			 x->signal > 0 ? json_integer(x->signal) : json_null(), "timed_out",
			 x->timed_out, "duration_ms", (double)x->duration_us / 1000.0,
			 "stdout_bytes", (json_int_t)x->stdout_bytes, "stderr_bytes",
			 (json_int_t)x->stderr_bytes, "stdout_truncated", x->stdout_truncated,
			 "stderr_truncated", x->stderr_truncated);
}

static json_t *exec_b64(const char *data, size_t len)
{
	char *text = malloc(base64_encoded_len(len) + 1);
	json_t *s;

	if (!text)
		return NULL;
	base64_encode((const unsigned char *)data, len, text);
	s = json_string(text);
	free(text);
	return s;
}

/* Record the end in the store and as an event; @error is "" for a job that ran. */
static void exec_record(struct exec_state *st, const char *error)
{
	struct shoal_error err = { 0 };

	st->rec.ended_ms = shoald_now_ms();
	snprintf(st->rec.error, sizeof(st->rec.error), "%s", error);
	if (store_finish_exec(&st->rec, &err))
		shoal_log_error("exec %lld: %s", (long long)st->rec.id, err.msg);
	metrics_exec(!error[0], (double)(uv_now(uv_default_loop()) - st->start_ms));
	events_emit("exec.finished", st->id,
		    json_pack("{s:I,s:I,s:i,s:i,s:b,s:s}", "exec_id", (json_int_t)st->rec.id, "job",
			      (json_int_t)st->rec.job, "exit_code", st->rec.exit_code, "signal",
			      st->rec.signal, "timed_out", st->rec.timed_out, "error", error));
}

/* A streamed line; false when the client is gone (st->req is NULL then). */
static bool exec_line(struct exec_state *st, json_t *obj)
{
	char *text;
	size_t len;
	int r;

	if (!st->req || !obj) {
		json_decref(obj);
		return st->req != NULL;
	}
	text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (!text)
		return true;
	len = strlen(text);
	text[len] = '\n';
	r = http_stream_write(st->req, text, len + 1);
	free(text);
	return r == 0 && st->req;
}

static void exec_stream_end(struct exec_state *st)
{
	if (st->req) {
		st->req->on_gone = NULL;
		http_stream_end(st->req);
		st->req = NULL;
	}
}

static void exec_gone(struct http_req *req)
{
	struct exec_state *st = req->handler_data;

	/* Keep the call: the job's end is still recorded. */
	st->req = NULL;
	http_stream_end(req);
}

static void exec_fail(struct exec_state *st, const char *code, const char *message)
{
	if (!st->req)
		return;
	if (st->stream && st->started) {
		exec_line(st,
			  json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message));
		exec_stream_end(st);
	} else {
		http_reply_error(st->req, strcmp(code, "timeout") ? 502 : 504, code, "%s", message);
		st->req = NULL;
	}
}

static void exec_output(struct exec_state *st, const struct proto_exec_output *o)
{
	int k = o->stream == PROTO_STREAM_STDERR;
	size_t room, n;
	char *grown;

	if (st->stream) {
		exec_line(st, json_pack("{s:s,s:I,s:o}", "stream", k ? "stderr" : "stdout",
					"offset", (json_int_t)o->offset, "data",
					exec_b64((const char *)o->data.data, o->data.len)));
		return;
	}
	room = EXEC_BUFFER_CAP - st->out_len[k];
	n = o->data.len < room ? o->data.len : room;
	if (!n)
		return;
	grown = realloc(st->out[k], st->out_len[k] + n);
	if (!grown)
		return;
	memcpy(grown + st->out_len[k], o->data.data, n);
	st->out[k] = grown;
	st->out_len[k] += n;
}

static void exec_exit(struct exec_state *st, const struct proto_exec_exit *x)
{
	json_t *obj;

	st->rec.job = x->job;
	st->rec.exit_code = x->exit_code;
	st->rec.signal = x->signal;
	st->rec.timed_out = x->timed_out;
	st->rec.duration_us = (int64_t)x->duration_us;
	st->rec.stdout_bytes = (int64_t)x->stdout_bytes;
	st->rec.stderr_bytes = (int64_t)x->stderr_bytes;
	exec_record(st, "");
	if (!st->req)
		return;
	obj = exec_exit_json(st, x);
	if (st->stream) {
		exec_line(st, obj);
		exec_stream_end(st);
		return;
	}
	if (obj) {
		/* What was kept of the output is less than what was written when capped. */
		if (st->out_len[0] < x->stdout_bytes)
			json_object_set_new(obj, "stdout_truncated", json_true());
		if (st->out_len[1] < x->stderr_bytes)
			json_object_set_new(obj, "stderr_truncated", json_true());
		json_object_set_new(obj, "stdout",
				    exec_b64(st->out[0] ? st->out[0] : "", st->out_len[0]));
		json_object_set_new(obj, "stderr",
				    exec_b64(st->out[1] ? st->out[1] : "", st->out_len[1]));
	}
	http_reply(st->req, 200, obj);
	st->req = NULL;
}

static bool exec_cb(void *arg, const struct proto_msg *msg)
{
	struct exec_state *st = arg;

	if (!msg) {
		exec_record(st, "the instance ended before the job did");
		exec_fail(st, "instance_error", "the instance ended before the job did");
		exec_free(st);
		return false;
	}
	switch (msg->type) {
	case PROTO_ERROR: {
		char text[STORE_REASON_MAX];

		snprintf(text, sizeof(text), "%s: %s", proto_error_code_name(msg->error.code),
			 msg->error.message);
		exec_record(st, text);
		if (st->started) /* the daemon's own timeout, after the job began */
			exec_fail(st, proto_error_code_name(msg->error.code), msg->error.message);
		else if (st->req)
			handler_reply_proto_error(st->req, "exec", &msg->error);
		st->req = NULL;
		exec_free(st);
		return false;
	}
	case PROTO_OK:
		st->started = true;
		st->rec.job = msg->ok.exec.job;
		events_emit("exec.started", st->id,
			    json_pack("{s:I,s:I}", "exec_id", (json_int_t)st->rec.id, "job",
				      (json_int_t)msg->ok.exec.job));
		if (st->stream && st->req) {
			http_stream_start(st->req, 200, "application/x-ndjson");
			st->req->handler_data = st;
			st->req->on_gone = exec_gone;
			exec_line(st, json_pack("{s:I,s:I}", "exec_id", (json_int_t)st->rec.id,
						"job", (json_int_t)msg->ok.exec.job));
		}
		return true;
	case PROTO_EXEC_OUTPUT:
		exec_output(st, &msg->exec_output);
		return true;
	case PROTO_EXEC_EXIT:
		exec_exit(st, &msg->exec_exit);
		exec_free(st);
		return false;
	default:
		return true;
	}
}

/* An array of 1..@max strings (@min 0 for env) into @out; false when it is not one. */
static bool exec_strings(json_t *arr, size_t min, size_t max, const char **out, size_t *n)
{
	json_t *v;
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) < min || json_array_size(arr) > max)
		return false;
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
			return false;
		out[i] = json_string_value(v);
	}
	*n = json_array_size(arr);
	return true;
}

void handle_exec(struct http_req *req, const char *param)
{
	static const char *const allowed[] = { "argv", "env", "cwd", "stdin", "timeout_ms", NULL };
	struct shoal_error err = { 0 };
	char key[16], val[16], *argv_text;
	const char *cursor = req->query;
	const char *layer[PROTO_ENV_MAX];
	struct exec_state *st;
	struct sup_call *call;
	struct proto_msg msg;
	struct sup_proc *p;
	bool stream = false;
	json_t *body, *v, *inst_env = NULL;
	size_t nlayer = 0, i;
	long n;
	int r;

	p = handler_instance(req, param);
	if (!p)
		return;
	while ((r = http_query_next(&cursor, key, sizeof(key), val, sizeof(val))) > 0) {
		if (strcmp(key, "stream")) {
			http_reply_error(req, 400, "unknown_field",
					 "unknown query parameter \"%s\"", key);
			return;
		}
		if (strcmp(val, "true") && strcmp(val, "false")) {
			http_reply_error(req, 400, "invalid_value", "stream must be true or false");
			return;
		}
		stream = !strcmp(val, "true");
	}
	if (r < 0) {
		http_reply_error(req, 400, "invalid_value", "malformed query string");
		return;
	}
	body = json_body_object(req, allowed);
	if (!body)
		return;
	st = calloc(1, sizeof(*st));
	if (!st) {
		json_decref(body);
		http_reply_error(req, 500, "internal", "out of memory");
		return;
	}
	proto_msg_init(&msg, PROTO_EXEC, 0);
	if (!exec_strings(json_object_get(body, "argv"), 1, PROTO_ARGV_MAX, msg.exec.argv,
			  &msg.exec.argc) ||
	    !msg.exec.argv[0][0]) {
		http_reply_error(req, 400, "invalid_value",
				 "argv must be an array of 1..%d strings, the first not empty",
				 PROTO_ARGV_MAX);
		goto out;
	}
	v = json_object_get(body, "env");
	if (v) {
		if (!exec_strings(v, 0, PROTO_ENV_MAX, msg.exec.env, &msg.exec.nenv)) {
			http_reply_error(
				req, 400, "invalid_value",
				"env must be an array of at most %d \"NAME=value\" strings",
				PROTO_ENV_MAX);
			goto out;
		}
		for (i = 0; i < msg.exec.nenv; i++) {
			const char *eq = strchr(msg.exec.env[i], '=');

			if (!eq || eq == msg.exec.env[i]) {
				http_reply_error(req, 400, "invalid_value",
						 "env[%zu]: \"%.64s\" is not NAME=value", i,
						 msg.exec.env[i]);
				goto out;
			}
		}
		msg.exec.has_env = true;
	}
	/* Layers: defaults, the instance's env, the exec's env. */
	st->row = malloc(sizeof(*st->row));
	if (st->row && !store_get_instance(param, st->row, NULL))
		inst_env = json_loads(st->row->env, 0, NULL);
	if (json_array_size(inst_env)) {
		for (i = 0; i < sizeof(exec_default_env) / sizeof(exec_default_env[0]); i++)
			exec_env_set(layer, &nlayer, exec_default_env[i]);
		json_array_foreach(inst_env, i, v)
			exec_env_set(layer, &nlayer, json_string_value(v));
		for (i = 0; i < msg.exec.nenv; i++) {
			if (!exec_env_set(layer, &nlayer, msg.exec.env[i])) {
				http_reply_error(req, 400, "invalid_value",
						 "more than %d environment entries", PROTO_ENV_MAX);
				goto out;
			}
		}
		memcpy(msg.exec.env, layer, nlayer * sizeof(layer[0]));
		msg.exec.nenv = nlayer;
		msg.exec.has_env = true;
	}
	v = json_object_get(body, "cwd");
	if (v) {
		if (!json_is_string(v) || proto_check_instance_path(json_string_value(v), &err)) {
			http_reply_error(req, 400, "invalid_value",
					 "cwd must be a canonical absolute path%s%s",
					 err.msg[0] ? ": " : "", err.msg);
			goto out;
		}
		msg.exec.cwd = json_string_value(v);
	}
	v = json_object_get(body, "stdin");
	if (v) {
		const char *s = json_string_value(v);

		st->stdin_buf = s ? malloc(base64_decoded_max(strlen(s)) + 1) : NULL;
		n = st->stdin_buf ? base64_decode(s, strlen(s), st->stdin_buf) : -EINVAL;
		if (n < 0 || n > PROTO_STDIN_INLINE_MAX) {
			http_reply_error(req, 400, "invalid_value",
					 "stdin must be canonical base64 of at most %d bytes",
					 PROTO_STDIN_INLINE_MAX);
			goto out;
		}
		msg.exec.stdin_data.data = st->stdin_buf;
		msg.exec.stdin_data.len = (size_t)n;
	}
	v = json_object_get(body, "timeout_ms");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > PROTO_TIMEOUT_MS_MAX) {
			http_reply_error(req, 400, "invalid_value",
					 "timeout_ms must be an integer 1..%d",
					 PROTO_TIMEOUT_MS_MAX);
			goto out;
		}
		msg.exec.timeout_ms = (uint32_t)json_integer_value(v);
	}
	if (!stream)
		msg.exec.output_cap = EXEC_BUFFER_CAP;
	st->req = req;
	st->stream = stream;
	st->start_ms = uv_now(uv_default_loop());
	st->rec.exit_code = -1;
	st->rec.signal = -1;
	snprintf(st->id, sizeof(st->id), "%s", param);
	argv_text = json_dumps(json_object_get(body, "argv"), JSON_COMPACT);
	r = argv_text ? store_add_exec(param, argv_text, shoald_now_ms(), &st->rec.id, &err)
		      : -ENOMEM;
	free(argv_text);
	if (r) {
		http_reply_error(req, 500, "internal", "%s",
				 err.msg[0] ? err.msg : "out of memory");
		goto out;
	}
	r = sup_call_start(p, &msg, exec_cb, st, msg.exec.timeout_ms + SUP_EXEC_GRACE_MS, &call,
			   &err);
	json_decref(inst_env); /* the message is encoded and sent (or queued) */
	inst_env = NULL;
	if (!r) {
		st->next = exec_running;
		if (exec_running)
			exec_running->prev = st;
		exec_running = st;
	}
	if (r) {
		exec_record(st, err.msg);
		/* The encoder refuses what the instance would (an env entry without '=', ...). */
		if (r == -EINVAL || r == -EMSGSIZE)
			http_reply_error(req, 400, "invalid_value", "%s", err.msg);
		else if (r == -EAGAIN)
			http_reply_error(req, 409, "not_running", "%s", err.msg);
		else
			http_reply_error(req, 502, "instance_error", "%s", err.msg);
		goto out;
	}
	json_decref(body);
	return;
out:
	json_decref(inst_env);
	json_decref(body);
	exec_free(st);
}

static void execs_row_cb(void *arg, const struct store_exec *e, const char *argv_json,
			 int64_t started_ms)
{
	json_t *argv = json_loads(argv_json ? argv_json : "[]", 0, NULL);
	json_t *list = arg;

	json_array_append_new(
		list,
		json_pack("{s:I,s:o,s:o,s:I,s:o,s:o,s:o,s:b,s:f,s:I,s:I,s:o}", "exec_id",
			  (json_int_t)e->id, "job",
			  e->job ? json_integer((json_int_t)e->job) : json_null(), "argv",
			  argv ? argv : json_array(), "started_ms", (json_int_t)started_ms,
			  "ended_ms", e->ended_ms ? json_integer(e->ended_ms) : json_null(),
			  "exit_code", e->exit_code >= 0 ? json_integer(e->exit_code) : json_null(),
			  "signal", e->signal > 0 ? json_integer(e->signal) : json_null(),
			  "timed_out", e->timed_out, "duration_ms", (double)e->duration_us / 1000.0,
			  "stdout_bytes", (json_int_t)e->stdout_bytes, "stderr_bytes",
			  (json_int_t)e->stderr_bytes, "error",
			  e->error[0] ? json_string(e->error) : json_null()));
}

/* GET /v1/instances/{id}/execs: the exec records of an instance, alive or ended, oldest first. */
void handle_execs(struct http_req *req, const char *param)
{
	struct shoal_error err = { 0 };
	struct store_instance *row;
	json_t *list;
	int r;

	if (!handler_id_valid(param)) {
		http_reply_error(req, 404, "not_found", "no instance %.40s", param);
		return;
	}
	if (req->query) {
		http_reply_error(req, 400, "unknown_field", "execs takes no query parameters");
		return;
	}
	row = malloc(sizeof(*row));
	r = row ? store_get_instance(param, row, &err) : -ENOMEM;
	free(row);
	if (r == -ENOENT) {
		http_reply_error(req, 404, "not_found", "no instance %s", param);
		return;
	}
	list = json_array();
	if (r || store_each_exec(param, execs_row_cb, list, &err)) {
		json_decref(list);
		http_reply_error(req, 500, "internal", "%s",
				 err.msg[0] ? err.msg : "out of memory");
		return;
	}
	http_reply(req, 200, json_pack("{s:o}", "execs", list));
}

static bool exec_signal_cb(void *arg, const struct proto_msg *msg)
{
	struct http_req *req = arg;

	if (!msg)
		http_reply_error(req, 502, "instance_error",
				 "the instance ended before it answered");
	else if (msg->type == PROTO_ERROR)
		handler_reply_proto_error(req, "exec_signal", &msg->error);
	else
		http_reply(req, 200, json_object());
	return false;
}

/*
 * POST /v1/instances/{id}/exec/signal: send a signal ({"exec_id", "signal"
 * (default 15), "group" (default true: the job's whole process group)}) to a
 * job that is running. Its end is reported as usual, by its exec's answer.
 */
void handle_exec_signal(struct http_req *req, const char *param)
{
	static const char *const allowed[] = { "exec_id", "signal", "group", NULL };
	struct shoal_error err = { 0 };
	struct exec_state *st;
	struct sup_call *call;
	struct proto_msg msg;
	struct sup_proc *p;
	json_t *body, *v;
	json_int_t id;

	p = handler_instance(req, param);
	if (!p)
		return;
	body = json_body_object(req, allowed);
	if (!body)
		return;
	proto_msg_init(&msg, PROTO_EXEC_SIGNAL, 0);
	v = json_object_get(body, "exec_id");
	id = json_integer_value(v);
	if (!json_is_integer(v) || id < 1) {
		json_decref(body);
		http_reply_error(req, 400, "invalid_value", "exec_id must be an exec's id");
		return;
	}
	v = json_object_get(body, "signal");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 1 ||
		  json_integer_value(v) > PROTO_SIGNAL_MAX)) {
		json_decref(body);
		http_reply_error(req, 400, "invalid_value", "signal must be an integer 1..%d",
				 PROTO_SIGNAL_MAX);
		return;
	}
	if (v)
		msg.exec_signal.signal = (int)json_integer_value(v);
	v = json_object_get(body, "group");
	if (v && !json_is_boolean(v)) {
		json_decref(body);
		http_reply_error(req, 400, "invalid_value", "group must be a boolean");
		return;
	}
	if (v)
		msg.exec_signal.group = json_is_true(v);
	json_decref(body);
	for (st = exec_running; st; st = st->next)
		if (st->rec.id == id && !strcmp(st->id, param))
			break;
	if (!st || !st->started) {
		http_reply_error(req, st ? 409 : 404, st ? "not_running" : "not_found",
				 "exec %lld of %s is %s", (long long)id, param,
				 st ? "not started yet" : "not running");
		return;
	}
	msg.exec_signal.job = st->rec.job;
	if (sup_call_start(p, &msg, exec_signal_cb, req, SUP_CALL_TIMEOUT_MS, &call, &err))
		http_reply_error(req, 502, "instance_error", "%s", err.msg);
}
