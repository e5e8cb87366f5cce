// SPDX-License-Identifier: GPL-2.0
/*
 * Instance processes: spawn shoal-instance through uv_spawn with one end of a
 * SOCK_SEQPACKET socketpair as its fd 3 (--control-fd 3), speak the control
 * protocol on the other end (hello, configure, then wait for ready, bounded by
 * a timer), stop it politely (shutdown, then SIGKILL after a grace period),
 * and notice its death at once: libuv reaps it on SIGCHLD and calls
 * sup_exit_cb, and end of file on the channel tells the same story. The
 * instance is untrusted: every message goes through the strict decoder, and
 * one that is refused, or one that is not expected now, kills the instance.
 * After the process is gone its cgroup (named by the instance id, see
 * instance/cgroup.c) is emptied and removed, since a monitor killed with
 * SIGKILL cannot remove it itself; only then does cb->exited run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/channel.h"
#include "api/log.h"
#include "daemon/shoald.h"

enum sup_phase {
	SUP_HELLO, /* waiting for the instance's hello */
	SUP_CONFIGURING, /* configure sent, waiting for ok */
	SUP_BOOTING, /* waiting for ready */
	SUP_READY,
	SUP_STOPPING, /* shutdown sent or signal given, grace timer running */
	SUP_CLEANUP, /* reaped; removing the cgroup */
	SUP_CLOSING, /* handles closing */
};

#define SUP_CONFIGURE_ID 1
#define SUP_SHUTDOWN_ID 2
#define SUP_CGROUP_TRIES 100
#define SUP_CGROUP_RETRY_MS 20
#define SUP_DRAIN_MAX 64

struct sup_proc {
	uv_process_t proc;
	uv_poll_t poll;
	uv_timer_t timer;
	int sock;
	bool poll_active;
	int handles; /* handles still open */
	enum sup_phase phase;
	bool exited;
	int cgroup_tries;
	char id[STORE_ID_MAX];
	uint32_t memory_mib;
	const struct sup_callbacks *cb;
	void *arg;
	char why[STORE_REASON_MAX]; /* first explanation of the end wins */
};

static void sup_why(struct sup_proc *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sup_why(struct sup_proc *p, const char *fmt, ...)
{
	va_list ap;

	if (p->why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
}

pid_t sup_pid(const struct sup_proc *p)
{
	return p->proc.pid;
}

static void sup_kill(struct sup_proc *p)
{
	if (!p->exited)
		uv_process_kill(&p->proc, SIGKILL);
}

static void sup_handle_closed_cb(uv_handle_t *h)
{
	struct sup_proc *p = h->data;

	if (--p->handles)
		return;
	if (p->sock >= 0)
		close(p->sock);
	p->cb->exited(p->arg, p->why);
	free(p);
}

static void sup_close(struct sup_proc *p)
{
	p->phase = SUP_CLOSING;
	p->handles = 2;
	uv_close((uv_handle_t *)&p->timer, sup_handle_closed_cb);
	uv_close((uv_handle_t *)&p->proc, sup_handle_closed_cb);
	if (p->poll_active) {
		p->handles++;
		uv_close((uv_handle_t *)&p->poll, sup_handle_closed_cb);
		p->poll_active = false;
	}
}

/* Kill what is left in the instance's cgroups and remove them; true when none is left. */
static bool sup_cgroup_sweep(struct sup_proc *p)
{
	static const char *const bases[] = { "/sys/fs/cgroup/shoal", "/sys/fs/cgroup/memory/shoal",
					     "/sys/fs/cgroup/pids/shoal" };
	bool left = false;
	size_t i;

	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		char path[256], procs[300];
		FILE *f;
		int pid;

		snprintf(path, sizeof(path), "%s/%s", bases[i], p->id);
		if (rmdir(path) == 0 || errno == ENOENT)
			continue;
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
		f = fopen(procs, "re");
		if (f) {
			while (fscanf(f, "%d", &pid) == 1)
				if (pid > 1)
					kill(pid, SIGKILL);
			fclose(f);
		}
		left = true;
	}
	return !left;
}

static void sup_cleanup_cb(uv_timer_t *t)
{
	struct sup_proc *p = t->data;

	if (sup_cgroup_sweep(p) || ++p->cgroup_tries >= SUP_CGROUP_TRIES) {
		if (p->cgroup_tries >= SUP_CGROUP_TRIES)
			shoal_log_warn("instance %s: cgroup not removed after %d ms", p->id,
				       SUP_CGROUP_TRIES * SUP_CGROUP_RETRY_MS);
		uv_timer_stop(&p->timer);
		sup_close(p);
	}
}

static int sup_send(struct sup_proc *p, struct proto_msg *msg)
{
	struct shoal_error err = { 0 };
	int r = channel_send_msg(p->sock, msg, NULL, 0, &err);

	if (r)
		shoal_log_warn("instance %s: send %s: %s", p->id, proto_type_name(msg->type),
			       err.msg);
	return r;
}

static int sup_configure(struct sup_proc *p)
{
	struct proto_msg msg;

	proto_msg_init(&msg, PROTO_HELLO, 0);
	msg.hello.version = PROTO_VERSION;
	msg.hello.role = PROTO_ROLE_DAEMON;
	msg.hello.software = "shoald " SHOALD_VERSION;
	if (sup_send(p, &msg))
		return -EPIPE;
	proto_msg_init(&msg, PROTO_CONFIGURE, SUP_CONFIGURE_ID);
	msg.configure.instance_id = p->id;
	msg.configure.memory_mib = p->memory_mib;
	msg.configure.keep_on_supervisor_exit = false;
	if (sup_send(p, &msg))
		return -EPIPE;
	p->phase = SUP_CONFIGURING;
	return 0;
}

/* One message from the instance; false when it must die for it. */
static bool sup_handle(struct sup_proc *p, struct proto_msg *msg)
{
	struct shoal_error err = { 0 };

	if (proto_check_peer(msg, PROTO_ROLE_INSTANCE, &err)) {
		sup_why(p, "protocol violation: %s", err.msg);
		return false;
	}
	switch (msg->type) {
	case PROTO_HELLO:
		if (p->phase != SUP_HELLO)
			break;
		if (sup_configure(p))
			sup_why(p, "could not send configure");
		return true;
	case PROTO_OK:
		if (p->phase == SUP_CONFIGURING && msg->id == SUP_CONFIGURE_ID) {
			p->phase = SUP_BOOTING;
			return true;
		}
		if (msg->id == SUP_SHUTDOWN_ID && p->phase == SUP_STOPPING)
			return true;
		break;
	case PROTO_READY:
		if (p->phase != SUP_BOOTING)
			break;
		p->phase = SUP_READY;
		uv_timer_stop(&p->timer);
		p->cb->ready(p->arg, msg->ready.timings.total_us, msg->ready.kernel_release);
		return true;
	case PROTO_ERROR:
		sup_why(p, "instance answered error %s: %s", proto_error_code_name(msg->error.code),
			msg->error.message);
		return p->phase >= SUP_READY;
	case PROTO_FATAL:
		if (msg->fatal.message)
			sup_why(p, "fatal (%s): %s",
				msg->fatal.reason == PROTO_FATAL_PANIC	       ? "panic"
				: msg->fatal.reason == PROTO_FATAL_SIGNAL      ? "signal"
				: msg->fatal.reason == PROTO_FATAL_BOOT_FAILED ? "boot_failed"
									       : "other",
				msg->fatal.message);
		return true; /* the instance exits by itself */
	default:
		break;
	}
	sup_why(p, "protocol violation: unexpected %s", proto_type_name(msg->type));
	return false;
}

static void sup_timeout_cb(uv_timer_t *t);

/*
 * Read the messages waiting on the channel, at most SUP_DRAIN_MAX per call: an
 * instance that sends without pause must not keep the loop to itself (the poll
 * calls again while more is waiting).
 */
static void sup_drain(struct sup_proc *p)
{
	int i;

	for (i = 0; i < SUP_DRAIN_MAX; i++) {
		struct shoal_error err = { 0 };
		int fds[PROTO_FDS_MAX];
		struct proto_msg msg;
		size_t nfds = 0;
		bool keep;
		int r;

		r = channel_recv_msg(p->sock, &msg, fds, &nfds, &err);
		if (r == -EAGAIN)
			return;
		if (r) {
			if (r != -ECONNRESET) {
				sup_why(p, "protocol violation: %s", err.msg);
				sup_kill(p);
			} else if (p->phase < SUP_READY) {
				sup_why(p, "control channel closed before ready");
			}
			if (!p->exited && p->phase < SUP_STOPPING) {
				/* The process must follow its channel; make sure it does. */
				uv_timer_stop(&p->timer);
				uv_timer_start(&p->timer, sup_timeout_cb, 3000, 0);
			}
			if (p->poll_active)
				uv_poll_stop(&p->poll);
			return;
		}
		channel_close_fds(fds, &nfds); /* an instance has no business passing us any */
		keep = sup_handle(p, &msg);
		proto_msg_free(&msg);
		if (!keep) {
			sup_kill(p);
			return;
		}
	}
}

static void sup_poll_cb(uv_poll_t *h, int status, int events)
{
	struct sup_proc *p = h->data;

	(void)events;
	if (status < 0) {
		uv_poll_stop(h);
		return;
	}
	sup_drain(p);
}

static void sup_exit_cb(uv_process_t *proc, int64_t status, int term_signal)
{
	struct sup_proc *p = proc->data;

	p->exited = true;
	sup_drain(p); /* a fatal message may still be waiting */
	if (term_signal)
		sup_why(p, "killed by signal %d", term_signal);
	else if (status >= 128)
		sup_why(p, "instance died of host signal %d", (int)(status - 128));
	else
		sup_why(p, "exited with status %d", (int)status);
	shoal_log_info("instance %s (pid %d) is gone: %s", p->id, proc->pid, p->why);
	if (p->poll_active) {
		uv_poll_stop(&p->poll);
	}
	p->phase = SUP_CLEANUP;
	uv_timer_stop(&p->timer);
	if (sup_cgroup_sweep(p))
		sup_close(p);
	else
		uv_timer_start(&p->timer, sup_cleanup_cb, SUP_CGROUP_RETRY_MS, SUP_CGROUP_RETRY_MS);
}

static void sup_timeout_cb(uv_timer_t *t)
{
	struct sup_proc *p = t->data;

	if (p->phase < SUP_READY)
		sup_why(p, "not ready in time");
	else
		sup_why(p, "did not stop within its grace period");
	sup_kill(p);
}

static void sup_free_cb(uv_handle_t *h)
{
	free(h->data);
}

struct sup_proc *sup_spawn(uv_loop_t *loop, const char *id, uint32_t memory_mib,
			   unsigned int ready_timeout_ms, const struct sup_callbacks *cb, void *arg,
			   struct shoal_error *err)
{
	char *args[] = { (char *)shoald_config.instance_bin, "--control-fd", "3", NULL };
	uv_stdio_container_t stdio[4];
	uv_process_options_t opt;
	struct sup_proc *p;
	int sv[2], r;

	p = calloc(1, sizeof(*p));
	if (!p) {
		shoal_error_set(err, ENOMEM, "instance %s", id);
		return NULL;
	}
	snprintf(p->id, sizeof(p->id), "%s", id);
	p->memory_mib = memory_mib;
	p->cb = cb;
	p->arg = arg;
	p->sock = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		shoal_error_set(err, errno, "socketpair for instance %s", id);
		free(p);
		return NULL;
	}
	if (channel_setup(sv[0], err) || channel_setup(sv[1], err)) {
		close(sv[0]);
		close(sv[1]);
		free(p);
		return NULL;
	}
	memset(&opt, 0, sizeof(opt));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_INHERIT_FD;
	stdio[1].data.fd = 2; /* the instance's output joins the daemon's log */
	stdio[2].flags = UV_INHERIT_FD;
	stdio[2].data.fd = 2;
	stdio[3].flags = UV_INHERIT_FD;
	stdio[3].data.fd = sv[1];
	opt.file = shoald_config.instance_bin;
	opt.args = args;
	opt.stdio = stdio;
	opt.stdio_count = 4;
	opt.exit_cb = sup_exit_cb;
	p->proc.data = p;
	r = uv_spawn(loop, &p->proc, &opt);
	close(sv[1]);
	if (r) {
		shoal_error_set(err, -r, "spawn %s", shoald_config.instance_bin);
		close(sv[0]);
		/* A failed uv_spawn still initialised the handle: close it before freeing. */
		p->handles = 1;
		p->why[0] = '\0';
		uv_close((uv_handle_t *)&p->proc, sup_free_cb);
		return NULL;
	}
	p->sock = sv[0];
	fcntl(p->sock, F_SETFL, fcntl(p->sock, F_GETFL) | O_NONBLOCK);
	uv_timer_init(loop, &p->timer);
	p->timer.data = p;
	uv_poll_init(loop, &p->poll, p->sock);
	p->poll.data = p;
	p->poll_active = true;
	uv_poll_start(&p->poll, UV_READABLE | UV_DISCONNECT, sup_poll_cb);
	uv_timer_start(&p->timer, sup_timeout_cb, ready_timeout_ms, 0);
	shoal_log_info("instance %s: spawned pid %d", id, p->proc.pid);
	return p;
}

void sup_stop(struct sup_proc *p, unsigned int grace_ms)
{
	struct proto_msg msg;

	if (p->exited || p->phase >= SUP_STOPPING)
		return;
	if (p->phase == SUP_READY) {
		proto_msg_init(&msg, PROTO_SHUTDOWN, SUP_SHUTDOWN_ID);
		msg.shutdown.timeout_ms = grace_ms / 2;
		if (sup_send(p, &msg))
			uv_process_kill(&p->proc, SIGTERM);
	} else {
		uv_process_kill(&p->proc, SIGTERM);
	}
	p->phase = SUP_STOPPING;
	uv_timer_stop(&p->timer);
	uv_timer_start(&p->timer, sup_timeout_cb, grace_ms, 0);
}
