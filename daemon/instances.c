// SPDX-License-Identifier: GPL-2.0
/*
 * The instance manager: the domain layer between the API handlers, the store
 * and the supervisor. It keeps the instances whose process is alive in a list
 * (the count that --max-instances caps), writes every change of an instance
 * to the store before anyone is told of it, and answers the handlers through
 * callbacks once the slow part (boot, shutdown) is over. States:
 *
 *   starting -> running -> stopping -> destroyed   (DELETE, TTL, daemon stop)
 *   starting/running -> failed                     (died on its own, never ready)
 *
 * A once-per-second timer destroys instances whose TTL has passed.
 *
 * Instances outlive the daemon (adopt.c). At start, every row an earlier
 * daemon left alive is taken back over its adoption socket; one that cannot
 * be (its process died meanwhile, or does not answer) is killed if it is
 * still there, marked failed with the reason, and its veth, lease, cgroup and
 * socket removed. Veths and leases that no live instance owns go too, so a
 * restart neither loses an instance nor leaks anything.
 *
 * An instance with networking gets, before its process is spawned, an address
 * leased from the pool (ipam.c) and a veth pair on the bridge with a packet
 * socket on its inner end (netman.c), taken with the id it is named for from
 * the pairs made ahead (vethpool.c) when one is ready; both go back when the
 * process is gone, however it ended. Every change of state is also an event
 * (events.c) and counted (metrics.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "api/log.h"
#include "api/proto.h"
#include "daemon/shoald.h"

#define INST_READY_TIMEOUT_MS 20000
#define INST_GRACE_MS 5000
#define INST_SHUTDOWN_GRACE_MS 3000
#define INST_TTL_TICK_MS 1000
#define INST_POOL_MEMORY_MIB 64 /* the default shape the warm pool holds */
/* Retention, applied at start and hourly: the store must not grow without bound. */
#define INST_PRUNE_TICKS 3600
#define INST_KEEP_EVENTS 100000
#define INST_KEEP_ENDED_MS (7LL * 86400 * 1000)

struct inst_waiter {
	inst_done_fn fn;
	void *arg;
	struct inst_waiter *next;
};

struct inst {
	struct store_instance row;
	uint64_t create_start_ms; /* uv_now() at the request, for the latency histogram */
	bool pooled; /* a member of the warm pool (booting for it, or ready and unclaimed) */
	bool gone; /* the process ended; its veth is being deleted before the row is final */
	inst_done_fn start_done; /* who asked for it, until it is spawned */
	void *start_arg;
	json_t *disks; /* the disks asked for (a reference), until it ends */
	struct sup_net net; /* its network, when row.network */
	int disk_fds[PROTO_DISKS_MAX]; /* its images, open and locked for its life */
	size_t ndisks;
	struct sup_proc *proc;
	inst_done_fn create_done; /* the POST waiting for ready, if any */
	void *create_arg;
	struct inst_waiter *waiters; /* DELETEs waiting for the end */
	bool stopping;
	char end_reason[64];
	struct inst *next;
};

static uv_loop_t *inst_loop;
static uv_timer_t inst_ttl_timer;
static struct inst *inst_live;
static unsigned int inst_nlive;
static unsigned int inst_npool; /* members of the warm pool, booting or ready */
static unsigned int inst_npending; /* creates waiting for their veth pair */
static unsigned int inst_njobs; /* netlink jobs in flight (the loop waits for them at a stop) */
static bool inst_shutting_down;
static void (*inst_shutdown_done)(void);

json_t *instances_to_json(const struct store_instance *row)
{
	json_t *labels = json_loads(row->labels, 0, NULL);
#define OPT_INT(v) ((v) ? json_integer(v) : json_null())
	json_t *o;
	char gw[16];

	if (!labels)
		labels = json_object();
	o = json_pack("{s:s,s:s,s:o,s:I,s:b,s:o,s:o,s:I,s:o,s:o,s:o,s:o,s:o,s:o}", "id", row->id,
		      "state", row->state, "pid", OPT_INT(row->pid), "memory_mib",
		      (json_int_t)row->memory_mib, "network", row->network, "labels", labels,
		      "ttl_s", OPT_INT(row->ttl_s), "created_ms", (json_int_t)row->created_ms,
		      "ready_ms", OPT_INT(row->ready_ms), "expires_ms", OPT_INT(row->expires_ms),
		      "ended_ms", OPT_INT(row->ended_ms), "boot_ms",
		      row->boot_us >= 0 ? json_real((double)row->boot_us / 1000.0) : json_null(),
		      "kernel_release",
		      row->kernel_release[0] ? json_string(row->kernel_release) : json_null(),
		      "reason", row->reason[0] ? json_string(row->reason) : json_null());
#undef OPT_INT
#define OPT_STR(v) ((v)[0] ? json_string(v) : json_null())
	if (row->ipv4[0])
		ipam_format(ipam_gateway(), gw, sizeof(gw));
	else
		gw[0] = '\0';
	json_object_set_new(o, "address", OPT_STR(row->ipv4));
	json_object_set_new(o, "prefix", row->ipv4[0] ? json_integer(ipam_prefix()) : json_null());
	json_object_set_new(o, "gateway", OPT_STR(gw));
	json_object_set_new(o, "address6", OPT_STR(row->ipv6));
	if (row->ipv6[0]) {
		unsigned char g6[16];
		char gw6[48];

		ipam_v6_gateway(g6);
		ipam_format6(g6, gw6, sizeof(gw6));
		json_object_set_new(o, "gateway6", json_string(gw6));
	} else {
		json_object_set_new(o, "gateway6", json_null());
	}
	json_object_set_new(o, "mac", OPT_STR(row->mac));
	json_object_set_new(o, "host_interface", OPT_STR(row->veth));
	{
		json_t *disks = json_loads(row->disks[0] ? row->disks : "[]", 0, NULL);

		json_object_set_new(o, "disks", disks ? disks : json_array());
	}
	{
		json_t *env = json_loads(row->env[0] ? row->env : "[]", 0, NULL);

		json_object_set_new(o, "env", env ? env : json_array());
	}
#undef OPT_STR
	return o;
}

/* The event of @in's current state, with the row as its data. */
static void inst_event(struct inst *in, const char *type)
{
	events_emit(type, in->row.id, instances_to_json(&in->row));
}

/* Give back the veth and the address of an instance that is gone. */
static void inst_close_disks(struct inst *in)
{
	while (in->ndisks)
		close(in->disk_fds[--in->ndisks]);
}

/*
 * Open (and lock) the images of @disks for @in; on failure nothing stays open
 * and @status/@code/@msg say why, for the API.
 */
static int inst_open_disks(struct inst *in, json_t *disks, int *status, const char **code,
			   char *msg, size_t size)
{
	struct shoal_error err = { 0 };
	json_t *d;
	size_t i;
	int r;

	json_array_foreach(disks, i, d)
	{
		r = images_open(json_string_value(json_object_get(d, "image")),
				json_is_true(json_object_get(d, "read_only")), &in->disk_fds[i],
				&err);
		if (r) {
			inst_close_disks(in);
			*status = r == -ENOENT ? 404 : r == -EBUSY ? 409 : r == -EINVAL ? 400 : 500;
			*code = r == -ENOENT   ? "not_found"
				: r == -EBUSY  ? "image_busy"
				: r == -EINVAL ? "invalid_value"
					       : "internal";
			snprintf(msg, size, "%s", err.msg);
			return r;
		}
		in->ndisks = i + 1;
	}
	return 0;
}

static void inst_release_network(struct store_instance *row)
{
	struct shoal_error err = { 0 };
	uint32_t addr;
	int r;

	if (row->veth[0]) {
		r = netman_veth_del(row->veth, &err);
		if (r && r != -ENODEV)
			shoal_log_error("instance %s: %s", row->id, err.msg);
	}
	if (row->ipv4[0] && !ipam_parse(row->ipv4, &addr))
		ipam_release(addr);
}

static void inst_save(struct inst *in)
{
	struct shoal_error err = { 0 };

	if (store_put_instance(&in->row, &err))
		shoal_log_error("instance %s: %s", in->row.id, err.msg);
}

static void inst_unlink(struct inst *in)
{
	struct inst **pp;

	for (pp = &inst_live; *pp; pp = &(*pp)->next) {
		if (*pp == in) {
			*pp = in->next;
			inst_nlive--;
			return;
		}
	}
}

static void inst_ready(void *arg, uint64_t total_us, const char *kernel_release)
{
	struct inst *in = arg;

	snprintf(in->row.state, sizeof(in->row.state), in->pooled ? "pooled" : "running");
	in->row.ready_ms = shoald_now_ms();
	in->row.boot_us = (int64_t)total_us;
	snprintf(in->row.kernel_release, sizeof(in->row.kernel_release), "%s", kernel_release);
	inst_save(in);
	shoal_log_info("instance %s ready in %.1f ms%s", in->row.id, (double)total_us / 1000.0,
		       in->pooled ? " (warm pool)" : "");
	if (!in->pooled)
		metrics_create(true, (double)(uv_now(inst_loop) - in->create_start_ms));
	inst_event(in, in->pooled ? "instance.pooled" : "instance.running");
	if (in->create_done) {
		in->create_done(in->create_arg, 201, NULL, NULL, &in->row);
		in->create_done = NULL;
	}
}

static void inst_check_shutdown(void)
{
	if (inst_shutting_down && !inst_live && !inst_njobs && inst_shutdown_done) {
		void (*done)(void) = inst_shutdown_done;

		inst_shutdown_done = NULL;
		done();
	}
}

static void inst_free(struct inst *in)
{
	json_decref(in->disks);
	free(in);
}

/* The process is gone and so is its veth: the row is final, and everyone waiting is told. */
static void inst_exit_finish(struct inst *in)
{
	struct inst_waiter *w;
	uint32_t addr;

	if (in->row.ipv4[0] && !ipam_parse(in->row.ipv4, &addr))
		ipam_release(addr);
	inst_close_disks(in);
	inst_save(in);
	inst_unlink(in);
	if (in->pooled)
		inst_npool--; /* the TTL tick fills the pool again */
	if (in->create_done)
		metrics_create(false, (double)(uv_now(inst_loop) - in->create_start_ms));
	else if (!in->stopping && !in->pooled)
		metrics_instance_failed();
	inst_event(in, in->stopping ? "instance.destroyed" : "instance.failed");
	if (in->create_done) {
		char msg[STORE_REASON_MAX + 64];

		snprintf(msg, sizeof(msg), "instance %s did not become ready: %s", in->row.id,
			 in->row.reason);
		if (in->stopping && inst_shutting_down)
			in->create_done(in->create_arg, 503, "shutting_down", msg, &in->row);
		else
			in->create_done(in->create_arg, 500, "boot_failed", msg, &in->row);
	}
	while ((w = in->waiters)) {
		in->waiters = w->next;
		w->fn(w->arg, 200, NULL, NULL, &in->row);
		free(w);
	}
	inst_free(in);
	inst_check_shutdown();
}

static void inst_exit_veth_gone(void *arg, int r, int packet_fd, const char *msg)
{
	struct inst *in = arg;

	(void)packet_fd;
	inst_njobs--;
	if (r && r != -ENODEV)
		shoal_log_error("instance %s: %s", in->row.id, msg);
	inst_exit_finish(in);
}

static void inst_exited(void *arg, const char *why)
{
	struct shoal_error err = { 0 };
	struct inst *in = arg;

	in->proc = NULL;
	in->gone = true;
	in->row.ended_ms = shoald_now_ms();
	if (in->stopping) {
		snprintf(in->row.state, sizeof(in->row.state), "destroyed");
		snprintf(in->row.reason, sizeof(in->row.reason), "%s", in->end_reason);
	} else {
		snprintf(in->row.state, sizeof(in->row.state), "failed");
		snprintf(in->row.reason, sizeof(in->row.reason), "%s", why);
	}
	/* The veth goes first (off the loop), then the lease and the row: nothing is reused early.
	 */
	if (in->row.veth[0]) {
		inst_njobs++;
		if (!netman_veth_del_async(inst_loop, in->row.veth, inst_exit_veth_gone, in, &err))
			return;
		inst_njobs--;
		shoal_log_error("instance %s: %s", in->row.id, err.msg);
	}
	inst_exit_finish(in);
}

static const struct sup_callbacks inst_callbacks = {
	.ready = inst_ready,
	.exited = inst_exited,
};

struct inst_release {
	uint32_t addr;
};

static void inst_release_done(void *arg, int r, int packet_fd, const char *msg)
{
	struct inst_release *rel = arg;

	(void)packet_fd;
	inst_njobs--;
	if (r && r != -ENODEV)
		shoal_log_error("network: %s", msg);
	ipam_release(rel->addr);
	free(rel);
	inst_check_shutdown();
}

/* The veth and lease of a create that did not happen: the veth first, off the loop. */
static void inst_release_async(const struct store_instance *row)
{
	struct shoal_error err = { 0 };
	struct inst_release *rel;
	uint32_t addr;

	if (!row->ipv4[0] || ipam_parse(row->ipv4, &addr))
		return;
	rel = malloc(sizeof(*rel));
	if (rel) {
		rel->addr = addr;
		inst_njobs++;
		if (!netman_veth_del_async(inst_loop, row->veth, inst_release_done, rel, &err))
			return;
		inst_njobs--;
		free(rel);
		shoal_log_error("network: %s", err.msg);
	}
	ipam_release(addr);
}

static void inst_stop(struct inst *in, const char *reason)
{
	if (in->stopping || in->gone)
		return;
	in->stopping = true;
	snprintf(in->end_reason, sizeof(in->end_reason), "%s", reason);
	snprintf(in->row.state, sizeof(in->row.state), "stopping");
	inst_save(in);
	inst_event(in, "instance.stopping");
	shoal_log_info("instance %s: stopping (%s)", in->row.id, reason);
	sup_stop(in->proc, inst_shutting_down ? INST_SHUTDOWN_GRACE_MS : INST_GRACE_MS);
}

/*
 * The warm pool (--warm-pool N): N instances of the default shape (64 MiB, no
 * network, no disks) booted ahead, in state "pooled", so that a create of
 * that shape is answered at once: it claims one (labels, TTL and env are the
 * daemon's to set, so nothing has to reach the instance) and the pool fills
 * again behind it.
 */
static bool inst_pool_fits(const struct inst_spec *spec)
{
	return shoald_config.warm_pool && spec->memory_mib == INST_POOL_MEMORY_MIB &&
	       !spec->network && !json_array_size(spec->disks);
}

static struct inst *inst_pool_take(void)
{
	struct inst *in;

	for (in = inst_live; in; in = in->next)
		if (in->pooled && !in->stopping && !in->gone && !strcmp(in->row.state, "pooled"))
			return in;
	return NULL;
}

static int inst_set_labels_env(struct store_instance *row, const struct inst_spec *spec);
static void inst_pool_fill(void);

static bool inst_claim(const struct inst_spec *spec, inst_done_fn done, void *arg)
{
	struct inst *in = inst_pool_take();
	struct store_instance saved;

	if (!in)
		return false;
	saved = in->row;
	if (inst_set_labels_env(&in->row, spec)) {
		in->row = saved;
		return false;
	}
	in->pooled = false;
	inst_npool--;
	in->row.created_ms = shoald_now_ms();
	in->row.ttl_s = spec->ttl_s;
	in->row.expires_ms = spec->ttl_s ? in->row.created_ms + spec->ttl_s * 1000 : 0;
	snprintf(in->row.state, sizeof(in->row.state), "running");
	inst_save(in);
	metrics_create(true, 0);
	inst_event(in, "instance.created");
	inst_event(in, "instance.running");
	shoal_log_info("instance %s taken from the warm pool", in->row.id);
	done(arg, 201, NULL, NULL, &in->row);
	inst_pool_fill();
	return true;
}

/* labels and env of @spec into @row; -E2BIG when they do not fit. */
static int inst_set_labels_env(struct store_instance *row, const struct inst_spec *spec)
{
	char *labels = spec->labels ? json_dumps(spec->labels, JSON_COMPACT | JSON_SORT_KEYS)
				    : strdup("{}");
	char *env = spec->env ? json_dumps(spec->env, JSON_COMPACT) : strdup("[]");
	int r = 0;

	if (!labels || !env || strlen(labels) >= sizeof(row->labels) ||
	    strlen(env) >= sizeof(row->env))
		r = -E2BIG;
	else {
		strcpy(row->labels, labels);
		strcpy(row->env, env);
	}
	free(labels);
	free(env);
	return r;
}

static void inst_start(const struct inst_spec *spec, bool pooled, inst_done_fn done, void *arg);

void instances_create(const struct inst_spec *spec, inst_done_fn done, void *arg)
{
	if (!inst_shutting_down && inst_pool_fits(spec) && inst_claim(spec, done, arg))
		return;
	inst_start(spec, false, done, arg);
}

static void inst_pool_done(void *arg, int status, const char *code, const char *message,
			   const struct store_instance *row)
{
	(void)arg;
	(void)row;
	if (code)
		shoal_log_warn("warm pool: %d %s: %s", status, code, message);
}

static void inst_pool_fill(void)
{
	struct inst_spec spec = { .memory_mib = INST_POOL_MEMORY_MIB };

	while (!inst_shutting_down && inst_npool < shoald_config.warm_pool &&
	       inst_nlive + inst_npending < shoald_config.max_instances) {
		unsigned int before = inst_npool;

		inst_start(&spec, true, inst_pool_done, NULL);
		if (inst_npool == before)
			break; /* it failed: the next tick tries again */
	}
}

static void inst_spawn(struct inst *in);
static void inst_veth_added(void *arg, int r, int packet_fd, const char *msg);

int instances_new_id(char id[STORE_ID_MAX])
{
	unsigned char rnd[8];
	size_t i;

	/* 64 random bits: unique in practice, and not to be guessed from another id. */
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	strcpy(id, "i-");
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(id + 2 + 2 * i, 3, "%02x", rnd[i]);
	return 0;
}

static void inst_start(const struct inst_spec *spec, bool pooled, inst_done_fn done, void *arg)
{
	struct shoal_error err = { 0 };
	int pool_fd = -1;
	char *labels;
	struct inst *in;
	uint32_t addr;
	int r;

	if (inst_shutting_down) {
		done(arg, 503, "shutting_down", "the daemon is shutting down", NULL);
		return;
	}
	if (inst_nlive + inst_npending >= shoald_config.max_instances) {
		char msg[96];

		snprintf(msg, sizeof(msg), "the daemon already runs its maximum of %u instances",
			 shoald_config.max_instances);
		done(arg, 429, "too_many_instances", msg, NULL);
		return;
	}
	in = calloc(1, sizeof(*in));
	labels = spec->labels ? json_dumps(spec->labels, JSON_COMPACT | JSON_SORT_KEYS)
			      : strdup("{}");
	if (!in || !labels || strlen(labels) >= sizeof(in->row.labels)) {
		free(in);
		free(labels);
		done(arg, 500, "internal", "out of memory", NULL);
		return;
	}
	/* A network create may trade this id for a pooled veth pair's (below). */
	if (instances_new_id(in->row.id)) {
		free(in);
		free(labels);
		done(arg, 500, "internal", "getrandom failed", NULL);
		return;
	}
	snprintf(in->row.state, sizeof(in->row.state), "starting");
	in->row.memory_mib = spec->memory_mib;
	strcpy(in->row.labels, labels);
	free(labels);
	if (spec->disks && json_array_size(spec->disks)) {
		char *text = json_dumps(spec->disks, JSON_COMPACT);
		const char *code = "internal";
		char msg[SHOAL_ERROR_MSG_MAX];
		int status = 500;

		if (!text || strlen(text) >= sizeof(in->row.disks)) {
			free(text);
			free(in);
			done(arg, 400, "invalid_value", "the disks are too long to keep", NULL);
			return;
		}
		strcpy(in->row.disks, text);
		free(text);
		if (inst_open_disks(in, spec->disks, &status, &code, msg, sizeof(msg))) {
			free(in);
			done(arg, status, code, msg, NULL);
			return;
		}
	} else {
		strcpy(in->row.disks, "[]");
	}
	if (spec->env) {
		char *text = json_dumps(spec->env, JSON_COMPACT);

		if (!text || strlen(text) >= sizeof(in->row.env)) {
			free(text);
			inst_close_disks(in);
			free(in);
			done(arg, 400, "invalid_value", "env is too long to keep", NULL);
			return;
		}
		strcpy(in->row.env, text);
		free(text);
	} else {
		strcpy(in->row.env, "[]");
	}
	in->row.ttl_s = spec->ttl_s;
	in->row.created_ms = shoald_now_ms();
	in->row.expires_ms = spec->ttl_s ? in->row.created_ms + spec->ttl_s * 1000 : 0;
	in->row.boot_us = -1;
	in->create_start_ms = uv_now(inst_loop);
	if (spec->network) {
		uint32_t used, total;

		/*
		 * A veth pair made ahead (vethpool.c) brings the id it was named
		 * for; the address is still leased here, to that id. A full pool
		 * is refused before anything is made or taken.
		 */
		ipam_counts(&used, &total);
		if (used < total)
			vethpool_take(in->row.id, &pool_fd);
		r = ipam_alloc(in->row.id, &addr, &err);
		if (r) {
			if (pool_fd >= 0)
				vethpool_discard(in->row.id, pool_fd);
			inst_close_disks(in);
			free(in);
			if (r == -ENOSPC)
				done(arg, 503, "pool_exhausted", err.msg, NULL);
			else
				done(arg, 500, "internal", err.msg, NULL);
			return;
		}
		in->row.network = true;
		ipam_format(addr, in->row.ipv4, sizeof(in->row.ipv4));
		ipam_mac(addr, in->net.mac);
		snprintf(in->row.mac, sizeof(in->row.mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 in->net.mac[0], in->net.mac[1], in->net.mac[2], in->net.mac[3],
			 in->net.mac[4], in->net.mac[5]);
		netman_veth_names(in->row.id, in->row.veth, (char[NETMAN_IFNAME_SIZE]){ 0 });
		in->net.addr = addr;
		in->net.gateway = ipam_gateway();
		ipam_v6(addr, in->net.addr6);
		ipam_v6_gateway(in->net.gateway6);
		ipam_format6(in->net.addr6, in->row.ipv6, sizeof(in->row.ipv6));
		in->net.prefix = ipam_prefix();
		in->net.mtu = NETMAN_MTU;
		in->net.packet_fd = -1;
	}
	in->pooled = pooled;
	in->start_done = done;
	in->start_arg = arg;
	if (in->ndisks)
		in->disks = json_incref(spec->disks);
	if (pooled)
		inst_npool++;
	if (!in->row.network) {
		inst_spawn(in);
		return;
	}
	if (pool_fd >= 0) {
		in->net.packet_fd = pool_fd;
		shoal_log_debug("instance %s: veth pair from the pool", in->row.id);
		inst_spawn(in);
		return;
	}
	/* The veth pair is made off the loop; the create goes on in inst_veth_added(). */
	inst_npending++;
	inst_njobs++;
	if (netman_veth_add_async(inst_loop, in->row.id, NETMAN_MTU, false, inst_veth_added, in,
				  &err))
		inst_veth_added(in, -EIO, -1, err.msg); /* it counts both off */
}

/* Before a create is answered, it fails: undo what was made, answer, forget it. */
static void inst_start_failed(struct inst *in, int status, const char *code, const char *msg)
{
	if (in->pooled)
		inst_npool--;
	inst_close_disks(in);
	in->start_done(in->start_arg, status, code, msg, NULL);
	inst_free(in);
}

static void inst_veth_added(void *arg, int r, int packet_fd, const char *msg)
{
	struct inst *in = arg;
	uint32_t addr = in->net.addr;

	inst_njobs--;
	inst_npending--;
	if (r) {
		ipam_release(addr);
		inst_start_failed(in, 500, "network_failed", msg);
		inst_check_shutdown();
		return;
	}
	in->net.packet_fd = packet_fd;
	if (inst_shutting_down) {
		close(packet_fd);
		inst_release_async(&in->row);
		inst_start_failed(in, 503, "shutting_down", "the daemon is shutting down");
		inst_check_shutdown();
		return;
	}
	shoal_log_debug("instance %s: veth pair in %.2f ms", in->row.id,
			(double)(uv_now(inst_loop) - in->create_start_ms));
	inst_spawn(in);
}

/* The row, then the process; what was made before (disks, network) comes with @in. */
static void inst_spawn(struct inst *in)
{
	struct shoal_error err = { 0 };

	if (store_put_instance(&in->row, &err)) {
		if (in->row.network) {
			close(in->net.packet_fd);
			inst_release_async(&in->row);
		}
		inst_start_failed(in, 500, "internal", err.msg);
		return;
	}
	inst_event(in, "instance.created");
	/* sup_spawn() takes the packet socket in every case. */
	in->proc = sup_spawn(inst_loop, in->row.id, in->row.memory_mib,
			     in->row.network ? &in->net : NULL, in->disks, in->disk_fds,
			     INST_READY_TIMEOUT_MS, &inst_callbacks, in, &err);
	in->net.packet_fd = -1;
	if (!in->proc) {
		snprintf(in->row.state, sizeof(in->row.state), "failed");
		snprintf(in->row.reason, sizeof(in->row.reason), "%s", err.msg);
		in->row.ended_ms = shoald_now_ms();
		if (in->row.network)
			inst_release_async(&in->row);
		inst_close_disks(in);
		inst_save(in);
		metrics_create(false, 0);
		inst_event(in, "instance.failed");
		if (in->pooled)
			inst_npool--;
		in->start_done(in->start_arg, 500, "spawn_failed", err.msg, &in->row);
		inst_free(in);
		return;
	}
	in->row.pid = sup_pid(in->proc);
	inst_save(in);
	if (!in->pooled) {
		in->create_done = in->start_done;
		in->create_arg = in->start_arg;
	}
	in->next = inst_live;
	inst_live = in;
	inst_nlive++;
}

void instances_destroy(const char *id, inst_done_fn done, void *arg)
{
	struct shoal_error err = { 0 };
	struct store_instance row;
	struct inst_waiter *w;
	struct inst *in;
	int r;

	for (in = inst_live; in; in = in->next) {
		if (strcmp(in->row.id, id))
			continue;
		w = calloc(1, sizeof(*w));
		if (!w) {
			done(arg, 500, "internal", "out of memory", NULL);
			return;
		}
		w->fn = done;
		w->arg = arg;
		w->next = in->waiters;
		in->waiters = w;
		inst_stop(in, "destroyed by request");
		return;
	}
	/* Not alive: an instance that already ended is answered as it is. */
	r = store_get_instance(id, &row, &err);
	if (r == -ENOENT)
		done(arg, 404, "not_found", "no such instance", NULL);
	else if (r)
		done(arg, 500, "internal", err.msg, NULL);
	else
		done(arg, 200, NULL, NULL, &row);
}

/* Events beyond the newest 100000, and instances and exec records ended a week ago. */
static void inst_prune(void)
{
	struct shoal_error err = { 0 };
	int events = 0, rows = 0;

	if (store_prune(INST_KEEP_EVENTS, shoald_now_ms() - INST_KEEP_ENDED_MS, &events, &rows,
			&err))
		shoal_log_error("%s", err.msg);
	else if (events || rows)
		shoal_log_info("store: pruned %d event(s) and %d ended instance(s)", events, rows);
}

static void inst_ttl_cb(uv_timer_t *t)
{
	static unsigned int ticks;
	int64_t now = shoald_now_ms();
	struct inst *in, *next;

	(void)t;
	if (++ticks % INST_PRUNE_TICKS == 0)
		inst_prune();
	inst_pool_fill();
	vethpool_tick(); /* after a failed make, the veth pool tries again here */
	for (in = inst_live; in; in = next) {
		next = in->next;
		if (in->row.expires_ms && now >= in->row.expires_ms && !in->stopping)
			inst_stop(in, "ttl expired");
	}
}

/* Veths in our namespace that no live instance owns: an earlier daemon's. */
static int inst_sweep_veths(struct shoal_error *err)
{
	char(*names)[NETMAN_IFNAME_SIZE] = NULL;
	struct inst *in;
	size_t n, i;
	int r;

	r = netman_veth_list(&names, &n, err);
	if (r)
		return r;
	for (i = 0; i < n; i++) {
		for (in = inst_live; in && strcmp(in->row.veth, names[i]); in = in->next)
			;
		if (in)
			continue;
		shoal_log_warn("network: removing veth %s left by an earlier daemon", names[i]);
		netman_veth_del(names[i], NULL);
	}
	free(names);
	return 0;
}

/*
 * A process an earlier daemon left that cannot be adopted: kill it if it is
 * still a shoal-instance (through a pidfd, so that a pid reused since cannot
 * be hit).
 */
static void inst_kill_leftover(const struct store_instance *row)
{
	char path[64], cmd[256] = "";
	ssize_t n;
	int pidfd, fd;

	if (row->pid <= 0)
		return;
	pidfd = (int)syscall(SYS_pidfd_open, (pid_t)row->pid, 0);
	if (pidfd < 0)
		return;
	snprintf(path, sizeof(path), "/proc/%lld/cmdline", (long long)row->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, cmd, sizeof(cmd) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		cmd[n] = '\0';
		if (strstr(cmd, "shoal-instance")) {
			shoal_log_warn("instance %s: killing pid %lld, which could not be adopted",
				       row->id, (long long)row->pid);
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		}
	}
	close(pidfd);
}

/* Take back one instance an earlier daemon left alive, or mark it failed. */
static void inst_adopt(struct store_instance *row)
{
	struct shoal_error err = { 0 };
	struct adopt_result res = { 0 };
	bool was_stopping = !strcmp(row->state, "stopping");
	struct inst *in;
	int sock, r;

	if (strcmp(row->state, "starting") && row->pid > 0) {
		r = adopt_connect(row->id, &sock, &res, &err);
		if (!r && !res.ready) {
			close(sock);
			r = shoal_error_set(&err, 0, "it is no longer ready");
		}
		if (!r) {
			in = calloc(1, sizeof(*in));
			if (!in) {
				close(sock);
				shoal_error_set(&err, ENOMEM, "adopt");
			} else {
				in->row = *row;
				in->pooled = !strcmp(row->state, "pooled");
				if (in->pooled)
					inst_npool++;
				else
					snprintf(in->row.state, sizeof(in->row.state), "running");
				in->proc = sup_adopt(inst_loop, row->id, (pid_t)row->pid, sock,
						     &inst_callbacks, in, &err);
				if (in->proc) {
					json_t *disks = json_loads(row->disks, 0, NULL);
					const char *code;
					char msg[SHOAL_ERROR_MSG_MAX];
					int status;

					/* The images' locks died with the first daemon: take them
					 * again. */
					if (json_is_array(disks) &&
					    inst_open_disks(in, disks, &status, &code, msg,
							    sizeof(msg)))
						shoal_log_warn("instance %s: %s", row->id, msg);
					json_decref(disks);
					in->next = inst_live;
					inst_live = in;
					inst_nlive++;
					inst_save(in);
					shoal_log_info(
						"instance %s (pid %lld) adopted, up %.1f s, %zu "
						"job(s) running",
						row->id, (long long)row->pid,
						(double)res.uptime_us / 1e6, res.njobs);
					inst_event(in, "instance.adopted");
					if (was_stopping)
						inst_stop(in, "stopped after the daemon restarted");
					return;
				}
				free(in);
			}
		}
	} else {
		shoal_error_set(&err, 0, "it was not ready yet");
	}
	inst_kill_leftover(row);
	/* Its monitor is gone too: nobody else removes its cgroups. */
	if (!sup_cgroup_sweep_id(row->id))
		sup_cgroup_sweep_id(row->id);
	shoal_log_warn("instance %s: not adopted: %s", row->id, err.msg);
	snprintf(row->state, sizeof(row->state), "failed");
	snprintf(row->reason, sizeof(row->reason),
		 "the daemon restarted and could not adopt it: %.400s", err.msg);
	row->ended_ms = shoald_now_ms();
	inst_release_network(row);
	adopt_unlink(row->id);
	if (store_put_instance(row, &err))
		shoal_log_error("instance %s: %s", row->id, err.msg);
	events_emit("instance.failed", row->id, instances_to_json(row));
}

static int inst_adopt_all(struct shoal_error *err)
{
	static const char *const live[] = { "starting", "running", "pooled", "stopping" };
	struct store_instance *rows;
	size_t i, j, n;
	int r;

	for (i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
		r = store_list_instances(live[i], &rows, &n, err);
		if (r)
			return r;
		for (j = 0; j < n; j++)
			inst_adopt(&rows[j]);
		free(rows);
	}
	return 0;
}

int instances_init(uv_loop_t *loop, struct shoal_error *err)
{
	int n = 0, r;

	inst_loop = loop;
	r = adopt_init(err);
	if (!r)
		r = inst_adopt_all(err);
	if (!r)
		r = store_abandon_execs(
			"the daemon restarted while the job ran; its end is not known",
			shoald_now_ms(), &n, err);
	if (r)
		return r;
	if (n)
		shoal_log_warn("%d job record(s) of an earlier daemon left without an end", n);
	r = store_drop_orphan_leases(&n, err);
	if (r)
		return r;
	if (n)
		shoal_log_warn("%d address lease(s) of an earlier daemon released", n);
	inst_prune();
	r = ipam_load(err);
	if (r)
		return r;
	r = inst_sweep_veths(err);
	if (r)
		return r;
	uv_timer_init(loop, &inst_ttl_timer);
	uv_timer_start(&inst_ttl_timer, inst_ttl_cb, INST_TTL_TICK_MS, INST_TTL_TICK_MS);
	inst_pool_fill();
	return 0;
}

void instances_shutdown(void (*done)(void))
{
	struct inst *in, *next;

	inst_shutting_down = true;
	uv_timer_stop(&inst_ttl_timer);
	uv_close((uv_handle_t *)&inst_ttl_timer, NULL);
	inst_shutdown_done = done;
	for (in = inst_live; in; in = next) {
		next = in->next;
		inst_stop(in, "daemon shutdown");
	}
	/* Done now if nothing lives and no netlink job is in flight; else when the last ends. */
	inst_check_shutdown();
}

struct sup_proc *instances_proc(const char *id, int *status, const char **code, char *msg,
				size_t size)
{
	struct shoal_error err = { 0 };
	struct store_instance row;
	struct inst *in;
	int r;

	for (in = inst_live; in; in = in->next) {
		if (strcmp(in->row.id, id))
			continue;
		if (in->stopping || !in->proc || strcmp(in->row.state, "running")) {
			*status = 409;
			*code = "not_running";
			snprintf(msg, size, "instance %s is %s", id, in->row.state);
			return NULL;
		}
		return in->proc;
	}
	r = store_get_instance(id, &row, &err);
	if (r == -ENOENT) {
		*status = 404;
		*code = "not_found";
		snprintf(msg, size, "no instance %s", id);
	} else if (r) {
		*status = 500;
		*code = "internal";
		snprintf(msg, size, "%s", err.msg);
	} else {
		*status = 409;
		*code = "not_running";
		snprintf(msg, size, "instance %s is %s", id, row.state);
	}
	return NULL;
}

void instances_patch(const char *id, const struct inst_patch *patch, inst_done_fn done, void *arg)
{
	struct shoal_error err = { 0 };
	struct store_instance row;
	char *labels = NULL;
	struct inst *in;
	int r;

	for (in = inst_live; in && strcmp(in->row.id, id); in = in->next)
		;
	if (!in) {
		r = store_get_instance(id, &row, &err);
		if (r == -ENOENT)
			done(arg, 404, "not_found", "no such instance", NULL);
		else if (r)
			done(arg, 500, "internal", err.msg, NULL);
		else
			done(arg, 409, "not_running", "the instance has ended; it cannot change",
			     NULL);
		return;
	}
	if (in->stopping || in->pooled || in->gone) {
		done(arg, 409, "not_running",
		     in->pooled ? "the instance is in the warm pool" : "the instance is stopping",
		     NULL);
		return;
	}
	if (patch->labels) {
		labels = json_dumps(patch->labels, JSON_COMPACT | JSON_SORT_KEYS);
		if (!labels || strlen(labels) >= sizeof(in->row.labels)) {
			free(labels);
			done(arg, 500, "internal", "out of memory", NULL);
			return;
		}
		strcpy(in->row.labels, labels);
		free(labels);
	}
	if (patch->set_ttl) {
		/* A new TTL counts from now: PATCH extends (or shortens) a lease. */
		in->row.ttl_s = patch->ttl_s;
		in->row.expires_ms = patch->ttl_s ? shoald_now_ms() + patch->ttl_s * 1000 : 0;
	}
	inst_save(in);
	inst_event(in, "instance.updated");
	done(arg, 200, NULL, NULL, &in->row);
}
