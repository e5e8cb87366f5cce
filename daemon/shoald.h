/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The internal interfaces of shoald, one section per file. Everything runs on
 * the one libuv loop of main.c, so nothing here is thread-safe and nothing
 * needs to be. Fallible functions follow api/error.h: 0 or -errno, with a
 * struct shoal_error last. Only http.c touches client sockets, only store.c
 * touches SQL, only supervisor.c touches instance processes; the handlers
 * (h_*.c) parse and validate requests and call one domain function of
 * instances.c, which ties store and supervisor together.
 */
#ifndef SHOAL_DAEMON_SHOALD_H
#define SHOAL_DAEMON_SHOALD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "api/error.h"

#define SHOALD_VERSION "0.1.0"
#define SHOALD_API_VERSION "v1"

/* ---- main.c: daemon-wide configuration */

struct shoald_config {
	const char *socket_path;
	const char *state_dir;
	const char *instance_bin;
	unsigned int max_instances;
	unsigned int max_connections;
};

extern struct shoald_config shoald_config;

/* Milliseconds since the epoch (wall clock, for rows); monotonic time comes from uv_now(). */
int64_t shoald_now_ms(void);

/* ---- http.c: the HTTP/1.1 server on a Unix socket */

#define HTTP_HEADER_MAX (8 * 1024) /* request line + headers: 431 beyond */
#define HTTP_BODY_MAX (64 * 1024) /* request body: 413 beyond */
#define HTTP_REQUEST_TIMEOUT_MS 10000 /* a started request must be complete by then */
#define HTTP_IDLE_TIMEOUT_MS 60000 /* a kept-alive connection without a request */
#define HTTP_WRITE_QUEUE_MAX (256 * 1024) /* answers queued to a client that does not read */

struct http_conn;

/*
 * One request. The handler that receives it owns it until it calls
 * http_reply() (now or later, from another callback), which sends the answer
 * and frees the request. If the client goes away first, the request stays
 * valid and http_reply() only frees it.
 */
struct http_req {
	struct http_conn *conn; /* NULL once the client is gone */
	const char *method; /* "GET", "POST", ... */
	char *path; /* decoded of nothing: the raw path without the query */
	char *query; /* raw query string after '?', or NULL */
	char *body; /* NUL-terminated, body_len bytes */
	size_t body_len;
};

int http_server_start(uv_loop_t *loop, const char *path, struct shoal_error *err);
/* Stop accepting, close every connection; @done runs once everything is closed. */
void http_server_stop(void (*done)(void));

/* Answer @req with @status and @body (stolen; NULL: no body) and free @req. */
void http_reply(struct http_req *req, int status, json_t *body);
/* Answer with {"error":{"code":@code,"message":...}}. */
void http_reply_error(struct http_req *req, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * http_query_next() - the next key=value pair of a query string, percent-
 * decoded into @key and @val. *@cursor starts at req->query and advances.
 * Returns 1 with a pair, 0 at the end, -EINVAL for a pair that does not fit or
 * decode.
 */
int http_query_next(const char **cursor, char *key, size_t key_size, char *val, size_t val_size);

/* ---- router.c: the one route table */

void router_dispatch(struct http_req *req);

/* ---- json.c: helpers for strict request bodies */

/*
 * json_body_object() - parse @req's body as one JSON object and check that
 * every key is in @allowed (NULL-terminated). On failure the request has been
 * answered (400) and NULL is returned; otherwise the caller owns the object.
 */
json_t *json_body_object(struct http_req *req, const char *const *allowed);

/* ---- store.c: SQLite, the only <sqlite3.h> user */

#define STORE_ID_MAX 32
#define STORE_STATE_MAX 16
#define STORE_LABELS_MAX 4096 /* JSON text of the labels object */
#define STORE_REASON_MAX 512

/* One instance as the database keeps it. Times are ms since the epoch, 0: not yet. */
struct store_instance {
	char id[STORE_ID_MAX];
	char state[STORE_STATE_MAX]; /* starting running stopping destroyed failed */
	int64_t pid; /* 0 before spawn */
	uint32_t memory_mib;
	bool network;
	char labels[STORE_LABELS_MAX]; /* a JSON object of strings */
	int64_t ttl_s; /* 0: none */
	int64_t created_ms;
	int64_t ready_ms;
	int64_t expires_ms; /* 0: never */
	int64_t ended_ms;
	int64_t boot_us; /* total_us of the ready timings; -1 before ready */
	char kernel_release[72];
	char reason[STORE_REASON_MAX]; /* why it ended, "" while alive */
};

int store_open(const char *path, struct shoal_error *err);
void store_close(void);
int store_put_instance(const struct store_instance *row, struct shoal_error *err);
/* Returns 0, -ENOENT when there is no such row, or another -errno. */
int store_get_instance(const char *id, struct store_instance *row, struct shoal_error *err);
/*
 * store_list_instances() - rows in creation order, optionally only those in
 * @state (NULL: all); *@rows is malloc()ed (caller frees), *@n its length.
 */
int store_list_instances(const char *state, struct store_instance **rows, size_t *n,
			 struct shoal_error *err);
/* Rows in a live state left by an earlier daemon: mark them failed with @reason. */
int store_mark_orphans(const char *reason, int64_t now_ms, int *count, struct shoal_error *err);

/* ---- supervisor.c: instance processes */

struct sup_proc;

struct sup_callbacks {
	/* The instance sent ready: boot time and kernel release. */
	void (*ready)(void *arg, uint64_t total_us, const char *kernel_release);
	/* The process is gone (reaped, handles closed); @why says how it ended. */
	void (*exited)(void *arg, const char *why);
};

/*
 * sup_spawn() - start shoal-instance for @id with @memory_mib on a fresh
 * socketpair, speak hello and configure, and call cb->ready once it is ready,
 * or kill it if it is not within @ready_timeout_ms. cb->exited comes exactly
 * once, after the process is reaped, whatever happened before. Returns the
 * process (its pid through sup_pid()) or NULL with @err set.
 */
struct sup_proc *sup_spawn(uv_loop_t *loop, const char *id, uint32_t memory_mib,
			   unsigned int ready_timeout_ms, const struct sup_callbacks *cb, void *arg,
			   struct shoal_error *err);
pid_t sup_pid(const struct sup_proc *p);
/* Ask for a shutdown, SIGKILL after @grace_ms; cb->exited follows. */
void sup_stop(struct sup_proc *p, unsigned int grace_ms);

/* ---- instances.c: the instance manager (the domain layer of the API) */

struct inst_spec {
	uint32_t memory_mib;
	json_t *labels; /* borrowed object of strings */
	int64_t ttl_s; /* 0: none */
};

/* Result of a domain call: 0 and @row, or an HTTP status, a code and a message. */
typedef void (*inst_done_fn)(void *arg, int status, const char *code, const char *message,
			     const struct store_instance *row);

int instances_init(uv_loop_t *loop, struct shoal_error *err);
void instances_create(const struct inst_spec *spec, inst_done_fn done, void *arg);
void instances_destroy(const char *id, inst_done_fn done, void *arg);
/* Stop every instance (daemon shutdown); @done runs when all are gone. */
void instances_shutdown(void (*done)(void));
/* Row to API JSON. */
json_t *instances_to_json(const struct store_instance *row);

#endif /* SHOAL_DAEMON_SHOALD_H */
