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
 * A once-per-second timer destroys instances whose TTL has passed. Rows left
 * alive by an earlier daemon are marked failed at start: re-adoption after a
 * restart is not implemented yet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "api/log.h"
#include "daemon/shoald.h"

#define INST_READY_TIMEOUT_MS 20000
#define INST_GRACE_MS 5000
#define INST_SHUTDOWN_GRACE_MS 3000
#define INST_TTL_TICK_MS 1000

struct inst_waiter {
	inst_done_fn fn;
	void *arg;
	struct inst_waiter *next;
};

struct inst {
	struct store_instance row;
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
static bool inst_shutting_down;
static void (*inst_shutdown_done)(void);

json_t *instances_to_json(const struct store_instance *row)
{
	json_t *labels = json_loads(row->labels, 0, NULL);

	if (!labels)
		labels = json_object();
#define OPT_INT(v) ((v) ? json_integer(v) : json_null())
	return json_pack("{s:s,s:s,s:o,s:I,s:b,s:o,s:o,s:I,s:o,s:o,s:o,s:o,s:o,s:o}", "id", row->id,
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

	snprintf(in->row.state, sizeof(in->row.state), "running");
	in->row.ready_ms = shoald_now_ms();
	in->row.boot_us = (int64_t)total_us;
	snprintf(in->row.kernel_release, sizeof(in->row.kernel_release), "%s", kernel_release);
	inst_save(in);
	shoal_log_info("instance %s ready in %.1f ms", in->row.id, (double)total_us / 1000.0);
	if (in->create_done) {
		in->create_done(in->create_arg, 201, NULL, NULL, &in->row);
		in->create_done = NULL;
	}
}

static void inst_exited(void *arg, const char *why)
{
	struct inst *in = arg;
	struct inst_waiter *w;

	in->proc = NULL;
	in->row.ended_ms = shoald_now_ms();
	if (in->stopping) {
		snprintf(in->row.state, sizeof(in->row.state), "destroyed");
		snprintf(in->row.reason, sizeof(in->row.reason), "%s", in->end_reason);
	} else {
		snprintf(in->row.state, sizeof(in->row.state), "failed");
		snprintf(in->row.reason, sizeof(in->row.reason), "%s", why);
	}
	inst_save(in);
	inst_unlink(in);
	if (in->create_done) {
		char msg[STORE_REASON_MAX + 64];

		snprintf(msg, sizeof(msg), "instance %s did not become ready: %s", in->row.id, why);
		in->create_done(in->create_arg, 500, "boot_failed", msg, &in->row);
	}
	while ((w = in->waiters)) {
		in->waiters = w->next;
		w->fn(w->arg, 200, NULL, NULL, &in->row);
		free(w);
	}
	free(in);
	if (inst_shutting_down && !inst_live && inst_shutdown_done) {
		void (*done)(void) = inst_shutdown_done;

		inst_shutdown_done = NULL;
		done();
	}
}

static const struct sup_callbacks inst_callbacks = {
	.ready = inst_ready,
	.exited = inst_exited,
};

static void inst_stop(struct inst *in, const char *reason)
{
	if (in->stopping)
		return;
	in->stopping = true;
	snprintf(in->end_reason, sizeof(in->end_reason), "%s", reason);
	snprintf(in->row.state, sizeof(in->row.state), "stopping");
	inst_save(in);
	shoal_log_info("instance %s: stopping (%s)", in->row.id, reason);
	sup_stop(in->proc, inst_shutting_down ? INST_SHUTDOWN_GRACE_MS : INST_GRACE_MS);
}

void instances_create(const struct inst_spec *spec, inst_done_fn done, void *arg)
{
	struct shoal_error err = { 0 };
	unsigned char rnd[8];
	char *labels;
	struct inst *in;
	size_t i;

	if (inst_shutting_down) {
		done(arg, 503, "shutting_down", "the daemon is shutting down", NULL);
		return;
	}
	if (inst_nlive >= shoald_config.max_instances) {
		char msg[96];

		snprintf(msg, sizeof(msg), "the daemon already runs its maximum of %u instances",
			 shoald_config.max_instances);
		done(arg, 429, "too_many_instances", msg, NULL);
		return;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		done(arg, 500, "internal", "getrandom failed", NULL);
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
	strcpy(in->row.id, "i-");
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(in->row.id + 2 + 2 * i, 3, "%02x", rnd[i]);
	snprintf(in->row.state, sizeof(in->row.state), "starting");
	in->row.memory_mib = spec->memory_mib;
	in->row.network = false;
	strcpy(in->row.labels, labels);
	free(labels);
	in->row.ttl_s = spec->ttl_s;
	in->row.created_ms = shoald_now_ms();
	in->row.expires_ms = spec->ttl_s ? in->row.created_ms + spec->ttl_s * 1000 : 0;
	in->row.boot_us = -1;
	if (store_put_instance(&in->row, &err)) {
		free(in);
		done(arg, 500, "internal", err.msg, NULL);
		return;
	}
	in->proc = sup_spawn(inst_loop, in->row.id, in->row.memory_mib, INST_READY_TIMEOUT_MS,
			     &inst_callbacks, in, &err);
	if (!in->proc) {
		snprintf(in->row.state, sizeof(in->row.state), "failed");
		snprintf(in->row.reason, sizeof(in->row.reason), "%s", err.msg);
		in->row.ended_ms = shoald_now_ms();
		inst_save(in);
		done(arg, 500, "spawn_failed", err.msg, &in->row);
		free(in);
		return;
	}
	in->row.pid = sup_pid(in->proc);
	inst_save(in);
	in->create_done = done;
	in->create_arg = arg;
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

static void inst_ttl_cb(uv_timer_t *t)
{
	int64_t now = shoald_now_ms();
	struct inst *in, *next;

	(void)t;
	for (in = inst_live; in; in = next) {
		next = in->next;
		if (in->row.expires_ms && now >= in->row.expires_ms && !in->stopping)
			inst_stop(in, "ttl expired");
	}
}

int instances_init(uv_loop_t *loop, struct shoal_error *err)
{
	int n = 0, r;

	inst_loop = loop;
	r = store_mark_orphans("the daemon restarted; re-adoption is not implemented yet",
			       shoald_now_ms(), &n, err);
	if (r)
		return r;
	if (n)
		shoal_log_warn("%d instance(s) of an earlier daemon marked failed", n);
	uv_timer_init(loop, &inst_ttl_timer);
	uv_timer_start(&inst_ttl_timer, inst_ttl_cb, INST_TTL_TICK_MS, INST_TTL_TICK_MS);
	return 0;
}

void instances_shutdown(void (*done)(void))
{
	struct inst *in, *next;

	inst_shutting_down = true;
	uv_timer_stop(&inst_ttl_timer);
	uv_close((uv_handle_t *)&inst_ttl_timer, NULL);
	if (!inst_live) {
		done();
		return;
	}
	inst_shutdown_done = done;
	for (in = inst_live; in; in = next) {
		next = in->next;
		inst_stop(in, "daemon shutdown");
	}
}
