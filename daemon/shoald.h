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
	const char *subnet; /* the address pool, "198.18.0.0/16" */
	const char *netns; /* name of the daemon's network namespace under /run/netns */
	const char *image_dir; /* disk images instances may mount, by file name */
	unsigned int warm_pool; /* instances of the default shape booted ahead */
	unsigned int veth_pool; /* veth pairs made ahead for creates with network */
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
#define HTTP_FILE_MAX (16 * 1024 * 1024) /* PUT .../files body, and GET .../files answer */
#define HTTP_AUTH_MAX 4200 /* bytes of an Authorization header kept (the token is ≤ 4096) */
#define HTTP_STREAM_QUEUE_MAX (4 * 1024 * 1024) /* a streamed answer not taken: cut off */

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
	/* Set by a handler that answers later: called once if the client goes first. */
	void (*on_gone)(struct http_req *req);
	/* Set by a streaming handler: called once when most of what it wrote has gone out. */
	void (*on_drain)(struct http_req *req);
	void *handler_data;
};

/*
 * http_server_start() - serve on the Unix socket @path (made, mode 0660) and,
 * when @tcp_fd >= 0, on that listening TCP socket, where every request must
 * carry "Authorization: Bearer @token" (borrowed for the server's life).
 */
int http_server_start(uv_loop_t *loop, const char *path, int tcp_fd, const char *token,
		      struct shoal_error *err);
/* Stop accepting, close every connection; @done runs once everything is closed. */
void http_server_stop(void (*done)(void));

/* Answer @req with @status and @body (stolen; NULL: no body) and free @req. */
void http_reply(struct http_req *req, int status, json_t *body);
/* Answer with {"error":{"code":@code,"message":...}}. */
void http_reply_error(struct http_req *req, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Answer with @len bytes of @data (copied) of type @ctype, and free @req. */
void http_reply_raw(struct http_req *req, int status, const char *ctype, const char *data,
		    size_t len);
/*
 * A streamed answer (chunked): start it, write pieces (-EPIPE once the client
 * is gone or too slow to take them), end it (which frees @req). While it
 * streams, a client that leaves is noticed and req->on_gone called.
 */
void http_stream_start(struct http_req *req, int status, const char *ctype);
int http_stream_write(struct http_req *req, const char *data, size_t len);
void http_stream_end(struct http_req *req);

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
#define STORE_DISKS_MAX 8192 /* JSON text of the disks array */
#define STORE_ENV_MAX 20480 /* JSON text of the env array (16 KiB of strings, escaped) */
#define INST_ENV_MAX 64 /* entries of an instance's env */
#define INST_ENV_BYTES (16 * 1024) /* bytes of its strings together */

/* One instance as the database keeps it. Times are ms since the epoch, 0: not yet. */
struct store_instance {
	char id[STORE_ID_MAX];
	char state[STORE_STATE_MAX]; /* starting running pooled stopping destroyed failed */
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
	char ipv4[16]; /* leased address, "" without network */
	char ipv6[48]; /* the IPv6 address that goes with it */
	char mac[18];
	char veth[16]; /* host end of its veth pair on the bridge, "" without */
	char disks[STORE_DISKS_MAX]; /* JSON array of the disks asked for, "[]" */
	char env[STORE_ENV_MAX]; /* JSON array of "NAME=value" for its jobs, "[]" */
};

/* One lifecycle event; @data is a JSON object's text, valid during the callback. */
struct store_event {
	int64_t seq;
	int64_t time_ms;
	char type[32];
	char instance_id[STORE_ID_MAX];
	const char *data;
};

/* One exec record as it ends. */
struct store_exec {
	int64_t id;
	uint64_t job;
	int64_t ended_ms;
	int exit_code; /* -1: none */
	int signal; /* -1: none */
	bool timed_out;
	int64_t duration_us;
	int64_t stdout_bytes, stderr_bytes;
	char error[256]; /* why it could not run, "" */
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
/*
 * store_each_instance() - the same rows, one at a time through @fn (the row is
 * valid during the call only), until @fn returns false: memory does not grow
 * with the table. @fn must not write to the store.
 */
int store_each_instance(const char *state, bool (*fn)(void *arg, const struct store_instance *row),
			void *arg, struct shoal_error *err);
/* Exec records without an end (an earlier daemon's): close them with @reason. */
int store_abandon_execs(const char *reason, int64_t now_ms, int *count, struct shoal_error *err);
/* Address leases (ipam.c): one row per leased address, host byte order. */
int store_put_lease(uint32_t addr, const char *id, int64_t now_ms, struct shoal_error *err);
int store_delete_lease(uint32_t addr, struct shoal_error *err);
int store_list_leases(void (*fn)(void *arg, uint32_t addr, const char *id), void *arg,
		      struct shoal_error *err);
/* Delete leases whose instance is not in a live state; *@count of them. */
int store_drop_orphan_leases(int *count, struct shoal_error *err);
/* Events: append one (its sequence number in *@seq), list those after @after. */
int store_add_event(int64_t time_ms, const char *type, const char *id, const char *data,
		    int64_t *seq, struct shoal_error *err);
int store_list_events(int64_t after, unsigned int limit,
		      void (*fn)(void *arg, const struct store_event *ev), void *arg,
		      struct shoal_error *err);
/* Exec records: one row when a job is asked for, completed when it ends. */
int store_add_exec(const char *id, const char *argv_json, int64_t started_ms, int64_t *exec_id,
		   struct shoal_error *err);
int store_finish_exec(const struct store_exec *e, struct shoal_error *err);
/* Exec records of instance @id, oldest first; @argv_json is the argv array's text. */
int store_each_exec(const char *id,
		    void (*fn)(void *arg, const struct store_exec *e, const char *argv_json,
			       int64_t started_ms),
		    void *arg, struct shoal_error *err);
/*
 * Retention: keep the newest @keep_events events; forget instances that ended
 * and exec records that ended before @ended_before_ms. *@events and
 * *@instances say how many went.
 */
int store_prune(int64_t keep_events, int64_t ended_before_ms, int *events, int *instances,
		struct shoal_error *err);
/* Rows per state, for metrics. */
int store_count_states(void (*fn)(void *arg, const char *state, int64_t n), void *arg,
		       struct shoal_error *err);

/* ---- ipam.c: the address pool; addresses are host byte order */

/* Parse --subnet (prefix 8..30); nothing is leased until ipam_load(). */
int ipam_init(const char *cidr, struct shoal_error *err);
void ipam_fini(void);
/* Read the leases the store holds (after orphans were dropped). */
int ipam_load(struct shoal_error *err);
uint32_t ipam_gateway(void);
unsigned int ipam_prefix(void);
/* Lease a free address to @id (stored before it is returned); -ENOSPC when none is free. */
int ipam_alloc(const char *id, uint32_t *addr, struct shoal_error *err);
void ipam_release(uint32_t addr);
int ipam_parse(const char *s, uint32_t *addr);
void ipam_format(uint32_t addr, char *buf, size_t size);
void ipam_mac(uint32_t addr, unsigned char mac[6]);
void ipam_counts(uint32_t *used, uint32_t *total);
#define IPAM_V6_PREFIX 64
/* The IPv6 address that goes with IPv4 @addr, and the bridge's. */
void ipam_v6(uint32_t addr, unsigned char out[16]);
void ipam_v6_gateway(unsigned char out[16]);
void ipam_format6(const unsigned char a[16], char *buf, size_t size);

/* ---- images.c: disk images, by name, from --image-dir */

#define IMAGES_NAME_MAX 128

int images_init(struct shoal_error *err);
void images_fini(void);
/* 1..128 bytes of [A-Za-z0-9._-], not starting with '.' or '-'. */
bool images_name_valid(const char *name);
/*
 * images_open() - open image @name (no symlink, a regular file), read-only or
 * read-write, and lock it for that use (shared / exclusive): -EBUSY when that
 * use conflicts with an instance's, -ENOENT when there is no such image. The
 * caller owns *@fd and holds the lock until it closes it.
 */
int images_open(const char *name, bool read_only, int *fd, struct shoal_error *err);

/* ---- netman.c: the daemon's network namespace, bridge and veth pairs (netlink) */

#define SHOALD_BRIDGE "shoal0"
#define NETMAN_IFNAME_SIZE 16
#define NETMAN_MTU 1500

/*
 * netman_init() - move the calling (loop) thread into the network namespace
 * /run/netns/@netns, made if missing, and make sure it holds lo and the bridge
 * with the pool's gateway address, up. Call before any thread exists.
 */
int netman_init(const char *netns, struct shoal_error *err);
/* Close netlink and remove the namespace's name (a clean stop: no instance is left). */
void netman_fini(void);
/* The names of @id's veth ends: @host on the bridge, @inner the instance's. */
void netman_veth_names(const char *id, char *host, char *inner);
/* Delete the pair whose host end is @host, now (at start only); -ENODEV when there is none. */
int netman_veth_del(const char *host, struct shoal_error *err);
/*
 * On the thread pool, @done on the loop thread after: @r 0 or -errno (@msg
 * says what failed), @packet_fd the caller's for an add.
 * netman_veth_add_async(): the veth pair of instance @id, host end on the
 * bridge, both up, and a raw packet socket bound to the inner end
 * (PACKET_VNET_HDR on); a @held socket receives nothing until
 * netman_packet_listen(). netman_veth_del_async(): delete the pair whose host
 * end is @host (-ENODEV when there is none).
 */
typedef void (*netman_done_fn)(void *arg, int r, int packet_fd, const char *msg);
int netman_veth_add_async(uv_loop_t *loop, const char *id, unsigned int mtu, bool held,
			  netman_done_fn done, void *arg, struct shoal_error *err);
/* A held packet socket starts receiving every frame of its veth (one bind, on any thread). */
int netman_packet_listen(int fd, struct shoal_error *err);
int netman_veth_del_async(uv_loop_t *loop, const char *host, netman_done_fn done, void *arg,
			  struct shoal_error *err);
/* Host ends of every instance veth in the namespace (malloc()ed; caller frees). */
int netman_veth_list(char (**names)[NETMAN_IFNAME_SIZE], size_t *n, struct shoal_error *err);

/* ---- vethpool.c: veth pairs made ahead (--veth-pool), each named for a future instance id */

/* Start filling the pool (after the start's sweep of leftover veths). Loop thread only. */
void vethpool_start(uv_loop_t *loop);
/* Make more if the pool is short (after a take; instances.c's 1 s tick calls vethpool_tick(),
 * which also retries after a failed make). */
void vethpool_fill(void);
void vethpool_tick(void);
/*
 * vethpool_take() - a ready pair: the id it is named for into @id (the
 * instance must take it) and its packet socket, now receiving, into
 * *@packet_fd (the caller's). false when none is ready: make one as before.
 */
bool vethpool_take(char id[STORE_ID_MAX], int *packet_fd);
/* A taken pair that is not used after all: its socket closed, the pair deleted off the loop. */
void vethpool_discard(const char *id, int packet_fd);
/* Stop making pairs and delete those the pool holds; @done once no netlink job is left. */
void vethpool_stop(void (*done)(void));
void vethpool_counts(unsigned int *ready, uint64_t *takes, uint64_t *misses);

/* ---- supervisor.c: instance processes and their control channel */

#define SUP_CALL_TIMEOUT_MS 10000 /* stats, console */
#define SUP_FILE_TIMEOUT_MS 120000 /* a file of up to HTTP_FILE_MAX either way */
#define SUP_EXEC_GRACE_MS 15000 /* past the job's own timeout, which the instance enforces */

struct sup_proc;
struct sup_call;
struct proto_msg;

struct sup_callbacks {
	/* The instance sent ready: boot time and kernel release. */
	void (*ready)(void *arg, uint64_t total_us, const char *kernel_release);
	/* The process is gone (reaped, handles closed); @why says how it ended. */
	void (*exited)(void *arg, const char *why);
};

/* The network an instance gets; NULL: loopback only. */
struct sup_net {
	int packet_fd; /* AF_PACKET socket on its veth; sup_spawn() takes it in every case */
	unsigned char mac[6];
	uint32_t addr, gateway; /* host byte order */
	unsigned int prefix;
	unsigned char addr6[16], gateway6[16]; /* prefix IPAM_V6_PREFIX */
	unsigned int mtu;
};

/*
 * sup_spawn() - start shoal-instance for @id with @memory_mib (and @net, or
 * NULL; and @disks, a JSON array or NULL, whose images are open as @disk_fds,
 * which stay the caller's) on a fresh socketpair, speak hello and configure, and call cb->ready
 * once it is ready, or kill it if it is not within @ready_timeout_ms.
 * cb->exited comes exactly once, after the process is reaped, whatever
 * happened before. Returns the process (its pid through sup_pid()) or NULL
 * with @err set.
 */
struct sup_proc *sup_spawn(uv_loop_t *loop, const char *id, uint32_t memory_mib,
			   struct sup_net *net, json_t *disks, const int *disk_fds,
			   unsigned int ready_timeout_ms, const struct sup_callbacks *cb, void *arg,
			   struct shoal_error *err);
pid_t sup_pid(const struct sup_proc *p);
/*
 * sup_cgroup_sweep_id() - kill what is left in instance @id's cgroups and
 * remove them (one pass); true when none is left. For an instance no
 * supervised process stands for (it died while no daemon ran).
 */
bool sup_cgroup_sweep_id(const char *id);
/* Ask for a shutdown, SIGKILL after @grace_ms; cb->exited follows. */
void sup_stop(struct sup_proc *p, unsigned int grace_ms);

/*
 * A request to a ready instance and what follows it. @fn gets the `ok` or
 * `error` reply, then the stream that belongs to it: file_chunk and file_end
 * whose stream is the request's id (file_get), exec_output and exec_exit of
 * the job the exec's `ok` named. It returns true to go on receiving, false
 * when it is done (the call is freed then). If the instance goes first, @fn
 * gets NULL, once, and the call is freed. @fn must not stop the process.
 */
typedef bool (*sup_msg_fn)(void *arg, const struct proto_msg *msg);

/*
 * sup_call_start() - send request @msg (its id is assigned here) and route
 * what answers it to @fn. A call not done within @timeout_ms gets an `error`
 * with code timeout (the instance's, made up by us) and is forgotten. -EAGAIN
 * when the instance is not ready (booting, stopping, gone), -EPIPE when the
 * channel is broken.
 */
int sup_call_start(struct sup_proc *p, struct proto_msg *msg, sup_msg_fn fn, void *arg,
		   unsigned int timeout_ms, struct sup_call **call, struct shoal_error *err);
uint64_t sup_call_id(const struct sup_call *c);
/* Send stream data of the call (file_chunk / file_end of an upload), queued in order. */
int sup_call_send(struct sup_call *c, struct proto_msg *msg, struct shoal_error *err);
/* The caller lost interest: @fn is never called again; a download is cancelled. */
void sup_call_detach(struct sup_call *c);

/* ---- adopt.c: instances that outlive the daemon, and taking them back */

struct adopt_result {
	bool ready; /* the instance says it is ready (not stopping) */
	uint64_t uptime_us;
	size_t njobs; /* jobs still running in it */
};

/* Make STATE_DIR/adopt. */
int adopt_init(struct shoal_error *err);
/* A listening SEQPACKET socket at STATE_DIR/adopt/@id.sock, for the instance to wait on. */
int adopt_listen(const char *id, int *fd, struct shoal_error *err);
void adopt_unlink(const char *id);
/*
 * adopt_connect() - connect to @id's adoption socket, hello both ways, adopt;
 * on success *@sock (non-blocking) is its control channel. Blocks for at most
 * a few seconds: call at start only.
 */
int adopt_connect(const char *id, int *sock, struct adopt_result *res, struct shoal_error *err);

/*
 * sup_adopt() - a supervised process for instance @id, pid @pid, already
 * ready on channel @sock (taken in every case). Its end is noticed through a
 * pidfd, since it is not our child (its exit status is not ours to read).
 */
struct sup_proc *sup_adopt(uv_loop_t *loop, const char *id, pid_t pid, int sock,
			   const struct sup_callbacks *cb, void *arg, struct shoal_error *err);

/* ---- instances.c: the instance manager (the domain layer of the API) */

struct inst_spec {
	uint32_t memory_mib;
	json_t *labels; /* borrowed object of strings */
	int64_t ttl_s; /* 0: none */
	bool network; /* a veth, an address and a packet socket */
	json_t *disks; /* borrowed, validated array of {image, mount_point, read_only, fstype}, or
			  NULL */
	json_t *env; /* borrowed, validated array of "NAME=value" for every job, or NULL */
};

/* PATCH: what changes. */
struct inst_patch {
	bool set_ttl;
	int64_t ttl_s; /* with set_ttl: 0 removes the TTL, else expires ttl_s from now */
	json_t *labels; /* borrowed; NULL: unchanged, else replaces them all */
};

/* Result of a domain call: 0 and @row, or an HTTP status, a code and a message. */
typedef void (*inst_done_fn)(void *arg, int status, const char *code, const char *message,
			     const struct store_instance *row);

int instances_init(uv_loop_t *loop, struct shoal_error *err);
/* A fresh instance id, "i-" and 16 hex digits of getrandom(); -EIO if it fails. */
int instances_new_id(char id[STORE_ID_MAX]);
void instances_create(const struct inst_spec *spec, inst_done_fn done, void *arg);
void instances_destroy(const char *id, inst_done_fn done, void *arg);
/* Stop every instance (daemon shutdown); @done runs when all are gone. */
void instances_shutdown(void (*done)(void));
/* Row to API JSON. */
json_t *instances_to_json(const struct store_instance *row);
void instances_patch(const char *id, const struct inst_patch *patch, inst_done_fn done, void *arg);
/*
 * instances_proc() - the process of running instance @id, for requests over
 * its channel; NULL with an HTTP @status, @code and @msg when there is none
 * (404 unknown, 409 not running).
 */
struct sup_proc *instances_proc(const char *id, int *status, const char **code, char *msg,
				size_t size);

/* ---- events.c: lifecycle events, stored and streamed */

/* Store event @type of instance @id (NULL: none) with @data (stolen; NULL: {}) and tell
 * every subscriber. */
void events_emit(const char *type, const char *id, json_t *data);
json_t *events_to_json(const struct store_event *ev);
struct events_sub;
/* @fn gets each new event as a JSON object (borrowed) until events_unsubscribe(). */
struct events_sub *events_subscribe(void (*fn)(void *arg, json_t *event), void *arg);
void events_unsubscribe(struct events_sub *sub);

/* ---- metrics.c: counters and histograms for GET /metrics */

void metrics_create(bool ok, double ms);
void metrics_instance_failed(void);
void metrics_exec(bool ok, double ms);
/* The Prometheus text exposition (malloc()ed, caller frees); NULL on failure. */
char *metrics_render(size_t *len);

#endif /* SHOAL_DAEMON_SHOALD_H */
