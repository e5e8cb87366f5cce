// SPDX-License-Identifier: GPL-2.0
/*
 * Instance processes: spawn shoal-instance through uv_spawn with one end of a
 * SOCK_SEQPACKET socketpair as its fd 3 (--control-fd 3), speak the control
 * protocol on the other end (hello and configure at once, without waiting for
 * the instance's hello, which saves a round trip per create; then wait for
 * its hello, the ok and ready, bounded by a timer), stop it politely (shutdown, then SIGKILL after
 * a grace period), and notice its death at once: libuv reaps it on SIGCHLD and calls sup_exit_cb,
 * and end of file on the channel tells the same story. The instance is untrusted: every message
 * goes through the strict decoder, and one that is refused, or one that is not expected now, kills
 * the instance. After the process is gone its cgroup (named by the instance id, see
 * instance/cgroup.c) is emptied and removed, since a monitor killed with
 * SIGKILL cannot remove it itself; only then does cb->exited run.
 *
 * Requests after ready (stats, files, exec) and the send queue are
 * sup_calls.c's; both files share struct sup_proc through sup.h.
 *
 * Instances are configured to outlive the daemon (keep_on_supervisor_exit,
 * with an adoption socket from adopt.c). One taken back by a restarted daemon
 * (sup_adopt()) is not our child: its end is seen through a pidfd instead of
 * libuv's SIGCHLD reaping, and signals go through the pidfd too, so a pid
 * reused meanwhile can never be hit.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "api/channel.h"
#include "api/log.h"
#include "daemon/shoald.h"
#include "daemon/sup.h"

void sup__why(struct sup_proc *p, const char *fmt, ...)
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
	return p->pid;
}

static void sup_signal(struct sup_proc *p, int sig)
{
	if (p->exited)
		return;
	if (p->adopted)
		syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0);
	else
		uv_process_kill(&p->proc, sig);
}

static void sup_kill(struct sup_proc *p)
{
	sup_signal(p, SIGKILL);
}

static void sup_handle_closed_cb(uv_handle_t *h)
{
	struct sup_proc *p = h->data;

	struct sup_out *o;

	if (--p->handles)
		return;
	if (p->sock >= 0)
		close(p->sock);
	if (p->net.packet_fd >= 0)
		close(p->net.packet_fd);
	if (p->adopt_fd >= 0)
		close(p->adopt_fd);
	if (p->pidfd >= 0)
		close(p->pidfd);
	adopt_unlink(p->id);
	json_decref(p->disks);
	while ((o = p->out_head)) {
		p->out_head = o->next;
		free(o);
	}
	p->cb->exited(p->arg, p->why);
	free(p);
}

static void sup_close(struct sup_proc *p)
{
	p->phase = SUP_CLOSING;
	p->handles = 3;
	uv_close((uv_handle_t *)&p->timer, sup_handle_closed_cb);
	uv_close((uv_handle_t *)&p->call_timer, sup_handle_closed_cb);
	if (p->adopted)
		uv_close((uv_handle_t *)&p->pidpoll, sup_handle_closed_cb);
	else
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
	return sup_cgroup_sweep_id(p->id);
}

bool sup_cgroup_sweep_id(const char *id)
{
	static const char *const bases[] = { "/sys/fs/cgroup/shoal", "/sys/fs/cgroup/memory/shoal",
					     "/sys/fs/cgroup/pids/shoal" };
	bool left = false;
	size_t i;

	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		char path[256], procs[300];
		FILE *f;
		int pid;

		snprintf(path, sizeof(path), "%s/%s", bases[i], id);
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

static int sup_configure(struct sup_proc *p)
{
	struct shoal_error err = { 0 };
	struct proto_msg msg;
	size_t nfds = 0;
	int fds[2 + PROTO_DISKS_MAX];
	json_t *d;
	size_t i;

	proto_msg_init(&msg, PROTO_HELLO, 0);
	msg.hello.version = PROTO_VERSION;
	msg.hello.role = PROTO_ROLE_DAEMON;
	msg.hello.software = "shoald " SHOALD_VERSION;
	if (sup__send(p, &msg))
		return -EPIPE;
	proto_msg_init(&msg, PROTO_CONFIGURE, SUP_CONFIGURE_ID);
	msg.configure.instance_id = p->id;
	msg.configure.memory_mib = p->memory_mib;
	/* The instance outlives us and waits for the next daemon on its adoption socket. */
	msg.configure.keep_on_supervisor_exit = true;
	fds[nfds] = p->adopt_fd;
	msg.configure.adopt_listen_fd = (int)nfds++;
	if (p->has_net) {
		struct proto_network *n = &msg.configure.network;
		uint32_t a = htonl(p->net.addr), g = htonl(p->net.gateway);

		msg.configure.has_network = true;
		n->fd = 0;
		memcpy(n->mac, p->net.mac, sizeof(n->mac));
		n->ipv4.family = AF_INET;
		memcpy(n->ipv4.addr, &a, 4);
		n->ipv4.prefix = p->net.prefix;
		n->gateway4.family = AF_INET;
		memcpy(n->gateway4.addr, &g, 4);
		n->ipv6.family = AF_INET6;
		memcpy(n->ipv6.addr, p->net.addr6, 16);
		n->ipv6.prefix = IPAM_V6_PREFIX;
		n->gateway6.family = AF_INET6;
		memcpy(n->gateway6.addr, p->net.gateway6, 16);
		n->mtu = p->net.mtu;
		fds[nfds] = p->net.packet_fd;
		n->fd = (int)nfds++;
	}
	/* Images the daemon opened (and keeps locked); the JSON was checked by the API. */
	json_array_foreach(p->disks, i, d)
	{
		struct proto_disk *pd = &msg.configure.disks[i];

		pd->fd = (int)nfds;
		fds[nfds++] = p->disk_fds[i];
		pd->read_only = json_is_true(json_object_get(d, "read_only"));
		pd->mount_point = json_string_value(json_object_get(d, "mount_point"));
		if (json_object_get(d, "fstype"))
			pd->fstype = json_string_value(json_object_get(d, "fstype"));
		msg.configure.ndisks = i + 1;
	}
	if (sup__send_fds(p, &msg, fds, nfds, &err)) {
		shoal_log_warn("instance %s: send configure: %s", p->id, err.msg);
		return -EPIPE;
	}
	/* The instance has its duplicates now. */
	if (p->net.packet_fd >= 0)
		close(p->net.packet_fd);
	p->net.packet_fd = -1;
	close(p->adopt_fd);
	p->adopt_fd = -1;
	p->phase = SUP_CONFIGURING;
	return 0;
}

/* One message from the instance; false when it must die for it. */
static bool sup_handle(struct sup_proc *p, struct proto_msg *msg)
{
	struct shoal_error err = { 0 };

	if (proto_check_peer(msg, PROTO_ROLE_INSTANCE, &err)) {
		sup__why(p, "protocol violation: %s", err.msg);
		return false;
	}
	/* Its hello first, once (it speaks our version: proto_check_peer above). */
	if (!p->hello_seen && msg->type != PROTO_HELLO) {
		sup__why(p, "protocol violation: %s before hello", proto_type_name(msg->type));
		return false;
	}
	switch (msg->type) {
	case PROTO_HELLO:
		if (p->hello_seen)
			break;
		p->hello_seen = true;
		return true;
	case PROTO_OK:
		if (p->phase == SUP_CONFIGURING && msg->id == SUP_CONFIGURE_ID) {
			p->phase = SUP_BOOTING;
			return true;
		}
		if (msg->id == SUP_SHUTDOWN_ID && p->phase == SUP_STOPPING)
			return true;
		if (sup__route(p, msg))
			return true;
		break;
	case PROTO_READY:
		if (p->phase != SUP_BOOTING)
			break;
		p->phase = SUP_READY;
		uv_timer_stop(&p->timer);
		/* Where its boot went, for whoever measures creates (--log-level debug). */
		shoal_log_debug(
			"instance %s: ready timings (us): total %llu, configure wait %llu, "
			"kernel %llu, rootfs %llu, network %llu, disks %llu, lock-down %llu",
			p->id, (unsigned long long)msg->ready.timings.total_us,
			(unsigned long long)msg->ready.timings.config_wait_us,
			(unsigned long long)msg->ready.timings.kernel_boot_us,
			(unsigned long long)msg->ready.timings.rootfs_us,
			(unsigned long long)msg->ready.timings.network_us,
			(unsigned long long)msg->ready.timings.disks_us,
			(unsigned long long)msg->ready.timings.lockdown_us);
		p->cb->ready(p->arg, msg->ready.timings.total_us, msg->ready.kernel_release);
		return true;
	case PROTO_ERROR:
		if (msg->id >= SUP_FIRST_CALL_ID && sup__route(p, msg))
			return true;
		if (msg->id == SUP_SHUTDOWN_ID && p->phase == SUP_STOPPING)
			return true;
		sup__why(p, "instance answered error %s: %s",
			 proto_error_code_name(msg->error.code), msg->error.message);
		return p->phase >= SUP_READY;
	case PROTO_FILE_CHUNK:
	case PROTO_FILE_END:
	case PROTO_EXEC_OUTPUT:
	case PROTO_EXEC_EXIT:
		if (p->phase >= SUP_READY && sup__route(p, msg))
			return true;
		break;
	case PROTO_FATAL:
		if (msg->fatal.message)
			sup__why(p, "fatal (%s): %s",
				 msg->fatal.reason == PROTO_FATAL_PANIC		? "panic"
				 : msg->fatal.reason == PROTO_FATAL_SIGNAL	? "signal"
				 : msg->fatal.reason == PROTO_FATAL_BOOT_FAILED ? "boot_failed"
										: "other",
				 msg->fatal.message);
		return true; /* the instance exits by itself */
	default:
		break;
	}
	sup__why(p, "protocol violation: unexpected %s", proto_type_name(msg->type));
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
				sup__why(p, "protocol violation: %s", err.msg);
				sup_kill(p);
			} else if (p->phase < SUP_READY) {
				sup__why(p, "control channel closed before ready");
			}
			if (!p->exited && p->phase < SUP_STOPPING) {
				/* The process must follow its channel; make sure it does. */
				uv_timer_stop(&p->timer);
				uv_timer_start(&p->timer, sup_timeout_cb, 3000, 0);
			}
			p->chan_down = true;
			if (p->poll_active)
				uv_poll_stop(&p->poll);
			return;
		}
		channel_close_fds(fds, &nfds); /* an instance has no business passing us any */
		shoal_log_debug("instance %s: got %s id %llu", p->id, proto_type_name(msg.type),
				(unsigned long long)msg.id);
		keep = sup_handle(p, &msg);
		proto_msg_free(&msg);
		if (!keep) {
			sup_kill(p);
			return;
		}
	}
}

void sup__poll_cb(uv_poll_t *h, int status, int events)
{
	struct sup_proc *p = h->data;

	if (status < 0) {
		uv_poll_stop(h);
		return;
	}
	if ((events & UV_WRITABLE) && sup__flush(p)) {
		/* The instance stopped reading for good; what it owes us will not come. */
		sup__why(p, "control channel broken");
		sup_kill(p);
		return;
	}
	if (events & (UV_READABLE | UV_DISCONNECT))
		sup_drain(p);
}

static void sup_ended(struct sup_proc *p);

static void sup_exit_cb(uv_process_t *proc, int64_t status, int term_signal)
{
	struct sup_proc *p = proc->data;

	p->exited = true;
	sup_drain(p); /* a fatal message may still be waiting */
	if (term_signal)
		sup__why(p, "killed by signal %d", term_signal);
	else if (status >= 128)
		sup__why(p, "instance died of host signal %d", (int)(status - 128));
	else
		sup__why(p, "exited with status %d", (int)status);
	sup_ended(p);
}

static void sup_pidfd_cb(uv_poll_t *h, int status, int events)
{
	struct sup_proc *p = h->data;

	(void)status;
	(void)events;
	uv_poll_stop(h);
	if (p->exited)
		return;
	p->exited = true;
	sup_drain(p);
	sup__why(p, "the process ended (adopted: its exit status went to its first daemon)");
	sup_ended(p);
}

/* The process is gone: fail what waits, then remove its cgroup and close. */
static void sup_ended(struct sup_proc *p)
{
	shoal_log_info("instance %s (pid %d) is gone: %s", p->id, p->pid, p->why);
	p->chan_down = true;
	if (p->poll_active)
		uv_poll_stop(&p->poll);
	p->phase = SUP_CLEANUP;
	uv_timer_stop(&p->timer);
	sup__calls_fail(p);
	if (sup_cgroup_sweep(p))
		sup_close(p);
	else
		uv_timer_start(&p->timer, sup_cleanup_cb, SUP_CGROUP_RETRY_MS, SUP_CGROUP_RETRY_MS);
}

static void sup_timeout_cb(uv_timer_t *t)
{
	struct sup_proc *p = t->data;

	if (p->phase < SUP_READY)
		sup__why(p, "not ready in time");
	else
		sup__why(p, "did not stop within its grace period");
	sup_kill(p);
}

static void sup_free_cb(uv_handle_t *h)
{
	struct sup_proc *p = h->data;

	if (p->net.packet_fd >= 0)
		close(p->net.packet_fd);
	close(p->adopt_fd);
	adopt_unlink(p->id);
	json_decref(p->disks);
	free(p);
}

struct sup_proc *sup_spawn(uv_loop_t *loop, const char *id, uint32_t memory_mib,
			   struct sup_net *net, json_t *disks, const int *disk_fds,
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
		if (net)
			close(net->packet_fd);
		shoal_error_set(err, ENOMEM, "instance %s", id);
		return NULL;
	}
	if (net) {
		p->net = *net;
		p->has_net = true;
	} else {
		p->net.packet_fd = -1;
	}
	p->next_id = SUP_FIRST_CALL_ID;
	p->pidfd = -1;
	p->adopt_fd = -1;
	snprintf(p->id, sizeof(p->id), "%s", id);
	p->memory_mib = memory_mib;
	if (adopt_listen(id, &p->adopt_fd, err)) {
		if (p->net.packet_fd >= 0)
			close(p->net.packet_fd);
		free(p);
		return NULL;
	}
	p->cb = cb;
	p->arg = arg;
	p->sock = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		shoal_error_set(err, errno, "socketpair for instance %s", id);
		sv[0] = sv[1] = -1;
	}
	if (sv[0] < 0 || channel_setup(sv[0], err) || channel_setup(sv[1], err)) {
		if (sv[0] >= 0) {
			close(sv[0]);
			close(sv[1]);
		}
		if (p->net.packet_fd >= 0)
			close(p->net.packet_fd);
		close(p->adopt_fd);
		adopt_unlink(id);
		free(p);
		return NULL;
	}
	if (disks && json_array_size(disks)) {
		p->disks = json_incref(disks);
		memcpy(p->disk_fds, disk_fds, json_array_size(disks) * sizeof(int));
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
	p->pid = p->proc.pid;
	p->sock = sv[0];
	fcntl(p->sock, F_SETFL, fcntl(p->sock, F_GETFL) | O_NONBLOCK);
	uv_timer_init(loop, &p->timer);
	p->timer.data = p;
	uv_timer_init(loop, &p->call_timer);
	p->call_timer.data = p;
	uv_poll_init(loop, &p->poll, p->sock);
	p->poll.data = p;
	p->poll_active = true;
	uv_poll_start(&p->poll, UV_READABLE | UV_DISCONNECT, sup__poll_cb);
	uv_timer_start(&p->timer, sup_timeout_cb, ready_timeout_ms, 0);
	shoal_log_info("instance %s: spawned pid %d", id, p->proc.pid);
	/* hello and configure now (PROTOCOL.md section 3); a failed send shows as
	 * the instance's end, which the poll and exit callbacks handle. */
	if (sup_configure(p))
		sup__why(p, "could not send configure");
	return p;
}

struct sup_proc *sup_adopt(uv_loop_t *loop, const char *id, pid_t pid, int sock,
			   const struct sup_callbacks *cb, void *arg, struct shoal_error *err)
{
	struct sup_proc *p;
	int pidfd;

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		shoal_error_set(err, errno, "pidfd of instance %s (pid %d)", id, (int)pid);
		close(sock);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		close(pidfd);
		close(sock);
		shoal_error_set(err, ENOMEM, "instance %s", id);
		return NULL;
	}
	snprintf(p->id, sizeof(p->id), "%s", id);
	p->adopted = true;
	p->pidfd = pidfd;
	p->pid = pid;
	p->adopt_fd = -1;
	p->net.packet_fd = -1;
	p->next_id = SUP_FIRST_CALL_ID;
	p->cb = cb;
	p->arg = arg;
	p->sock = sock;
	p->hello_seen = true; /* adopt.c read it */
	p->phase = SUP_READY;
	uv_timer_init(loop, &p->timer);
	p->timer.data = p;
	uv_timer_init(loop, &p->call_timer);
	p->call_timer.data = p;
	uv_poll_init(loop, &p->pidpoll, pidfd);
	p->pidpoll.data = p;
	uv_poll_start(&p->pidpoll, UV_READABLE, sup_pidfd_cb);
	uv_poll_init(loop, &p->poll, p->sock);
	p->poll.data = p;
	p->poll_active = true;
	uv_poll_start(&p->poll, UV_READABLE | UV_DISCONNECT, sup__poll_cb);
	shoal_log_info("instance %s: adopted pid %d", id, (int)pid);
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
		if (sup__send(p, &msg))
			sup_signal(p, SIGTERM);
	} else {
		sup_signal(p, SIGTERM);
	}
	p->phase = SUP_STOPPING;
	uv_timer_stop(&p->timer);
	uv_timer_start(&p->timer, sup_timeout_cb, grace_ms, 0);
}
