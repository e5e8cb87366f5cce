// SPDX-License-Identifier: GPL-2.0
/*
 * The control channel: one loop on the main thread that reads the
 * supervisor's messages, answers each request through one table (type,
 * states in which it is accepted, handler), and sends what the instance has
 * to say through a queue, so that a supervisor that is slow to read never
 * blocks the instance and the instance never stops reading (api/PROTOCOL.md,
 * section 1). Every wait is a ppoll() with a deadline; SIGTERM, SIGINT and
 * SIGHUP are unblocked only inside it, so a shutdown signal is seen without a
 * race.
 *
 * The socket is non-blocking. A refused message is answered with an `error`
 * carrying its id (or 0) and changes nothing; only a version mismatch or a
 * first message that is not `hello` closes the channel, as the protocol says.
 * When the supervisor's end closes, the instance shuts down, or, when
 * `configure` said keep_on_supervisor_exit, waits on adopt_listen_fd for a
 * restarted supervisor to adopt it (section 8).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/channel.h"
#include "api/cleanup.h"
#include "api/log.h"
#include "instance/instance.h"

/* Stop reading requests while this much output waits for the supervisor. */
#define CONTROL_QUEUE_HIGH (4u << 20)
/* Download chunks are made only while the queue is below this. */
#define CONTROL_QUEUE_PUMP (512u << 10)
/* Messages handled per loop turn before output gets its turn. */
#define CONTROL_BATCH 32

struct control_out {
	struct control_out *next;
	size_t len;
	char text[];
};

struct control {
	struct instance *in;
	int sock; /* the connected supervisor, or -1 */
	bool hello_received;
	bool adoption; /* sock came through adopt_listen_fd: hello, then adopt */
	uint64_t handshake_deadline_us; /* for an adoption connection; 0: none */
	uint64_t orphan_deadline_us; /* waiting for adoption until; 0: not orphaned */
	struct control_out *head, *tail;
	size_t queued;
	bool stop;
	int exit_status;
	sigset_t wait_mask; /* the thread's mask inside ppoll: shutdown signals open */
	uint64_t trim_at_us; /* unmap the program's text if nothing woke us by then; 0: none */
	bool trimmed_idle; /* trimmed since the last wake-up */
};

static volatile sig_atomic_t control_signal;

static void control_signal_cb(int sig)
{
	control_signal = sig;
}

static const int control_shutdown_signals[] = { SIGTERM, SIGINT, SIGHUP };

int control_create(struct instance *in, int sock, struct shoal_error *err)
{
	struct sigaction sa = { .sa_handler = control_signal_cb };
	struct control *c;
	sigset_t block;
	size_t i;
	int r, flags;

	c = calloc(1, sizeof(*c));
	if (!c)
		return shoal_error_set(err, ENOMEM, "control channel state");
	c->in = in;
	c->sock = sock;
	in->ctl = c;

	r = channel_setup(sock, err);
	if (r < 0)
		return r;
	flags = fcntl(sock, F_GETFL);
	if (flags < 0 || fcntl(sock, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(sock, F_SETFD, FD_CLOEXEC) < 0)
		return shoal_error_set(err, errno, "control socket %d: fcntl", sock);
	fatal_set_socket(sock);

	/* A closed supervisor is -EPIPE from send, never a signal. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	for (i = 0; i < sizeof(control_shutdown_signals) / sizeof(int); i++) {
		sigaction(control_shutdown_signals[i], &sa, NULL);
		sigaddset(&block, control_shutdown_signals[i]);
	}
	if (sigprocmask(SIG_BLOCK, &block, &c->wait_mask) < 0)
		return shoal_error_set(err, errno, "sigprocmask");
	for (i = 0; i < sizeof(control_shutdown_signals) / sizeof(int); i++)
		sigdelset(&c->wait_mask, control_shutdown_signals[i]);
	return 0;
}

int control_socket(struct instance *in)
{
	return in->ctl->sock;
}

bool control_connected(struct instance *in)
{
	return in->ctl->sock >= 0 && !in->ctl->adoption;
}

size_t control_queued(struct instance *in)
{
	return in->ctl->queued;
}

static void control_queue_clear(struct control *c)
{
	while (c->head) {
		struct control_out *o = c->head;

		c->head = o->next;
		free(o);
	}
	c->tail = NULL;
	c->queued = 0;
}

void control_forget(struct instance *in)
{
	struct control *c = in->ctl;

	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
	control_queue_clear(c);
}

/* Queue a copy of @len bytes of encoded @text. */
static int control_queue(struct control *c, const char *text, size_t len)
{
	struct control_out *o;

	if (c->sock < 0)
		return -ENOTCONN; /* nobody to tell: dropped (section 8) */
	o = malloc(sizeof(*o) + len);
	if (!o)
		return -ENOMEM;
	o->next = NULL;
	o->len = len;
	memcpy(o->text, text, len);
	if (c->tail)
		c->tail->next = o;
	else
		c->head = o;
	c->tail = o;
	c->queued += len;
	return 0;
}

int control_send(struct instance *in, const struct proto_msg *msg)
{
	struct shoal_error err = { 0 };
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	if (in->ctl->sock < 0)
		return -ENOTCONN;
	r = proto_encode(msg, &text, &len, &err);
	if (r < 0) {
		/* A bug: we built something our own codec refuses. Say so instead. */
		shoal_log_error("cannot encode %s: %s", proto_type_name(msg->type), err.msg);
		if (msg->type == PROTO_OK)
			control_send_error(in, msg->id, -EIO, err.msg);
		return r;
	}
	return control_queue(in->ctl, text, len);
}

void control_send_error(struct instance *in, uint64_t id, int r, const char *text)
{
	_cleanup_free_ char *enc = NULL;
	size_t len;

	/* proto_encode_error() sanitises any text, so a refusal can always be answered. */
	if (in->ctl->sock < 0 ||
	    proto_encode_error(id, proto_error_code_from_errno(r), text, &enc, &len, NULL) < 0)
		return;
	control_queue(in->ctl, enc, len);
}

static void control_disconnected(struct control *c);

/* Send what the socket takes now. */
static void control_try_flush(struct control *c)
{
	while (c->head && c->sock >= 0) {
		struct control_out *o = c->head;
		struct shoal_error err = { 0 };
		int r = channel_send(c->sock, o->text, o->len, NULL, 0, &err);

		if (r == -EAGAIN)
			return;
		if (r < 0) {
			shoal_log_info("control channel: %s", err.msg);
			control_disconnected(c);
			return;
		}
		c->head = o->next;
		if (!c->head)
			c->tail = NULL;
		c->queued -= o->len;
		free(o);
	}
}

void control_flush(struct instance *in, int timeout_ms)
{
	struct control *c = in->ctl;
	uint64_t end = instance_now_us() + (uint64_t)timeout_ms * 1000;

	for (;;) {
		struct pollfd pfd = { .fd = c->sock, .events = POLLOUT };
		uint64_t now;

		control_try_flush(c);
		if (!c->head || c->sock < 0)
			return;
		now = instance_now_us();
		if (now >= end)
			return;
		poll(&pfd, 1, (int)((end - now + 999) / 1000));
	}
}

static void control_send_hello(struct control *c)
{
	struct instance *in = c->in;
	struct proto_msg msg;

	proto_msg_init(&msg, PROTO_HELLO, 0);
	msg.hello.version = PROTO_VERSION;
	msg.hello.role = PROTO_ROLE_INSTANCE;
	msg.hello.software = INSTANCE_SOFTWARE;
	msg.hello.state = in->state;
	if (in->configured)
		msg.hello.instance_id = in->config.configure.instance_id;
	control_send(in, &msg);
}

/*
 * End the jobs (SIGTERM, then SIGKILL after @grace_ms; their exec_exit is
 * sent), halt, answer request @id (0: nobody asked), and leave the loop with
 * status 0.
 */
static void control_shutdown(struct control *c, uint64_t id, const char *why, uint32_t grace_ms)
{
	struct instance *in = c->in;
	struct proto_msg msg;

	shoal_log_info("shutting down: %s", why);
	in->state = PROTO_STATE_STOPPING;
	job_stop_all(in, grace_ms);
	files_cancel_all(in, true, "the instance is shutting down");
	disks_unmount(in);
	kernel_halt(in);
	job_release_all(in);
	if (id) {
		proto_msg_init_ok(&msg, id, PROTO_SHUTDOWN);
		control_send(in, &msg);
	}
	control_flush(in, INSTANCE_ORPHAN_TIMEOUT_MS);
	c->stop = true;
	c->exit_status = INSTANCE_EXIT_OK;
}

/* Close the connection; what comes next is section 8's choice. */
static void control_close(struct control *c)
{
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
	fatal_set_socket(-1);
	control_queue_clear(c);
	c->hello_received = false;
	c->handshake_deadline_us = 0;
}

static void control_disconnected(struct control *c)
{
	struct instance *in = c->in;
	const struct proto_configure *cfg = &in->config.configure;
	bool was_adoption = c->adoption;

	control_close(c);
	c->adoption = false;
	if (c->stop)
		return;
	if (was_adoption) {
		shoal_log_info("adoption connection closed; still waiting");
		return;
	}
	if (in->configured && cfg->keep_on_supervisor_exit && in->adopt_listen_fd >= 0 &&
	    in->state == PROTO_STATE_READY) {
		c->orphan_deadline_us = instance_now_us() + (uint64_t)cfg->adopt_wait_ms * 1000;
		files_cancel_all(in, false, "the supervisor left");
		shoal_log_info("supervisor left; waiting %u ms for adoption", cfg->adopt_wait_ms);
		return;
	}
	control_shutdown(c, 0, "the supervisor closed the control channel",
			 INSTANCE_ORPHAN_TIMEOUT_MS);
}

/* Close after a protocol violation at the start (version, no hello). */
static void control_refuse_peer(struct control *c)
{
	bool first = !c->adoption && !c->in->configured;
	char sink[256];
	struct iovec iov = { .iov_base = sink, .iov_len = sizeof(sink) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int i;

	control_flush(c->in, 1000);
	/*
	 * Requests the peer pipelined behind its hello are not acted on, but
	 * they are read: closing a socket with unread messages makes the
	 * peer's next receive fail with ECONNRESET, and the error just sent
	 * (version_mismatch, say) would never be read. Bounded: a peer that
	 * keeps sending is cut off all the same. Descriptors passed with them
	 * are closed by the kernel (no room for them here).
	 */
	for (i = 0; c->sock >= 0 && i < 64; i++)
		if (recvmsg(c->sock, &mh, MSG_DONTWAIT) <= 0) /* recvmsg: in the allow-list */
			break;
	control_disconnected(c);
	if (first)
		c->exit_status = INSTANCE_EXIT_PROTOCOL;
}

/* Request handlers. @msg is freed and @fds closed by the caller unless taken. */

static void control_configure(struct control *c, struct proto_msg *msg, int *fds, size_t nfds)
{
	struct instance *in = c->in;
	struct shoal_error err = { 0 };
	struct proto_msg ok;
	uint64_t id = msg->id;
	int r;

	in->timings.config_wait_us = instance_now_us() - in->t_start_us;
	r = start_configure(in, msg, fds, nfds, &err);
	if (r < 0) {
		control_send_error(in, id, r, err.msg);
		return;
	}
	proto_msg_init_ok(&ok, id, PROTO_CONFIGURE);
	control_send(in, &ok);
	control_flush(in, 0);
	in->state = PROTO_STATE_BOOTING;
	r = start_instance(in, &err);
	if (r < 0)
		fatal_exit(PROTO_FATAL_BOOT_FAILED, err.msg);
}

static void control_stats(struct control *c, struct proto_msg *msg, int *fds, size_t nfds)
{
	struct shoal_error err = { 0 };
	struct proto_msg ok;
	int r;

	(void)fds;
	(void)nfds;
	proto_msg_init_ok(&ok, msg->id, PROTO_STATS);
	r = stats_collect(c->in, &ok.ok.stats, &err);
	if (r < 0)
		control_send_error(c->in, msg->id, r, err.msg);
	else
		control_send(c->in, &ok);
}

static void control_console(struct control *c, struct proto_msg *msg, int *fds, size_t nfds)
{
	static char text[PROTO_CONSOLE_MAX + 1];
	struct shoal_error err = { 0 };
	struct proto_msg ok;
	int r;

	(void)fds;
	(void)nfds;
	proto_msg_init_ok(&ok, msg->id, PROTO_CONSOLE);
	r = console_read(msg->console.cursor, msg->console.max_bytes, text, &ok.ok.console, &err);
	if (r < 0)
		control_send_error(c->in, msg->id, r, err.msg);
	else
		control_send(c->in, &ok);
}

static void control_file_put(struct control *c, struct proto_msg *msg, int *fds, size_t nfds)
{
	struct shoal_error err = { 0 };
	int r;

	(void)fds;
	(void)nfds;
	r = files_put_begin(c->in, msg->id, &msg->file_put, &err);
	if (r < 0)
		control_send_error(c->in, msg->id, r, err.msg);
	/* The answer comes at file_end, or at the first failure. */
}

static void control_file_get(struct control *c, struct proto_msg *msg, int *fds, size_t nfds)
{
	struct shoal_error err = { 0 };
	struct proto_msg ok;
	int r;

	(void)fds;
	(void)nfds;
	proto_msg_init_ok(&ok, msg->id, PROTO_FILE_GET);
	r = files_get_begin(c->in, msg->id, &msg->file_get, &ok.ok.file_get, &err);
	if (r < 0)
		control_send_error(c->in, msg->id, r, err.msg);
	else
		control_send(c->in, &ok); /* before the first chunk: the queue keeps order */
}

static void control_exec(struct control *c, struct proto_msg *msg, int *fds, size_t nfds)
{
	(void)fds;
	(void)nfds;
	job_exec(c->in, msg->id, &msg->exec); /* answered when the zygote has spawned it */
}

static void control_exec_signal(struct control *c, struct proto_msg *msg, int *fds, size_t nfds)
{
	(void)fds;
	(void)nfds;
	job_signal(c->in, msg->id, &msg->exec_signal);
}

static void control_shutdown_request(struct control *c, struct proto_msg *msg, int *fds,
				     size_t nfds)
{
	(void)fds;
	(void)nfds;
	control_shutdown(c, msg->id, "asked by the supervisor", msg->shutdown.timeout_ms);
}

#define STATE(s) (1u << PROTO_STATE_##s)

/* Which request is accepted when (PROTOCOL.md, section 7), and who handles it. */
static const struct control_request {
	enum proto_type type;
	unsigned int states;
	void (*handle)(struct control *c, struct proto_msg *msg, int *fds, size_t nfds);
} control_requests[] = {
	{ PROTO_CONFIGURE, STATE(NEW), control_configure },
	{ PROTO_STATS, STATE(BOOTING) | STATE(READY), control_stats },
	{ PROTO_CONSOLE, STATE(BOOTING) | STATE(READY), control_console },
	{ PROTO_FILE_PUT, STATE(READY), control_file_put },
	{ PROTO_FILE_GET, STATE(READY), control_file_get },
	{ PROTO_EXEC, STATE(READY), control_exec },
	{ PROTO_EXEC_SIGNAL, STATE(READY), control_exec_signal },
	{ PROTO_SHUTDOWN, STATE(NEW) | STATE(BOOTING) | STATE(READY), control_shutdown_request },
	/* adopt: only as the first request of an adoption connection (below). */
	{ PROTO_ADOPT, 0, NULL },
};

static void control_adopt(struct control *c, const struct proto_msg *msg)
{
	struct instance *in = c->in;
	struct proto_msg ok;
	char text[200];

	if (msg->type != PROTO_ADOPT) {
		snprintf(text, sizeof(text), "%s: an adoption connection must send adopt first",
			 proto_type_name(msg->type));
		control_send_error(in, msg->id, -EALREADY, text);
		control_refuse_peer(c);
		return;
	}
	if (strcmp(msg->adopt.instance_id, in->config.configure.instance_id)) {
		snprintf(text, sizeof(text), "adopt: this is instance '%.64s', not '%.64s'",
			 in->config.configure.instance_id, msg->adopt.instance_id);
		control_send_error(in, msg->id, -ENOENT, text);
		control_refuse_peer(c);
		return;
	}
	proto_msg_init_ok(&ok, msg->id, PROTO_ADOPT);
	ok.ok.adopt.instance_id = in->config.configure.instance_id;
	ok.ok.adopt.state = in->state;
	ok.ok.adopt.uptime_us = in->t_booted_us ? instance_now_us() - in->t_booted_us : 0;
	job_adopt_result(in, &ok.ok.adopt);
	control_send(in, &ok);
	job_send_kept(in); /* the exec_exit events no supervisor could take */
	c->adoption = false;
	c->handshake_deadline_us = 0;
	c->orphan_deadline_us = 0;
	shoal_log_info("adopted by a new supervisor");
}

static void control_dispatch(struct control *c, struct proto_msg *msg, int *fds, size_t nfds)
{
	struct instance *in = c->in;
	char text[160];
	size_t i;

	if (!c->hello_received) {
		if (msg->type != PROTO_HELLO) {
			snprintf(text, sizeof(text),
				 "%s before hello: the first message must be hello",
				 proto_type_name(msg->type));
			control_send_error(in, msg->id, -EALREADY, text);
			control_refuse_peer(c);
			return;
		}
		c->hello_received = true;
		return;
	}
	switch (msg->type) {
	case PROTO_HELLO:
		control_send_error(in, 0, -EALREADY, "hello: the handshake is already done");
		return;
	case PROTO_ERROR:
		shoal_log_warn("the supervisor reports: %s: %s",
			       proto_error_code_name(msg->error.code), msg->error.message);
		return;
	case PROTO_FILE_CHUNK:
		files_chunk(in, &msg->file_chunk);
		return;
	case PROTO_FILE_END:
		files_end(in, &msg->file_end);
		return;
	case PROTO_EXEC_INPUT:
		job_input(in, &msg->exec_input);
		return;
	default:
		break;
	}
	if (c->adoption) {
		control_adopt(c, msg);
		return;
	}
	for (i = 0; i < sizeof(control_requests) / sizeof(control_requests[0]); i++) {
		const struct control_request *r = &control_requests[i];

		if (r->type != msg->type)
			continue;
		if (!(r->states & (1u << in->state)) || !r->handle) {
			snprintf(text, sizeof(text), "%s: not accepted while the instance is %s",
				 proto_type_name(msg->type), proto_state_name(in->state));
			control_send_error(in, msg->id, -EALREADY, text);
			return;
		}
		r->handle(c, msg, fds, nfds);
		return;
	}
	snprintf(text, sizeof(text), "%s: not a request the instance takes",
		 proto_type_name(msg->type));
	control_send_error(in, msg->id, -EPROTO, text);
}

/* Receive and handle one message. Returns false when there was nothing to read. */
static bool control_receive(struct control *c)
{
	struct instance *in = c->in;
	struct shoal_error err = { 0 };
	struct proto_msg msg;
	int fds[PROTO_FDS_MAX];
	size_t nfds = 0, i;
	int r;

	r = channel_recv_msg(c->sock, &msg, fds, &nfds, &err);
	if (r == -EAGAIN)
		return false;
	if (r == -ECONNRESET) {
		control_disconnected(c);
		return false;
	}
	if (r == -EPROTONOSUPPORT) {
		control_send_error(in, 0, r, err.msg);
		control_refuse_peer(c);
		return false;
	}
	if (r == -EINVAL || r == -EMSGSIZE || r == -EBADMSG || r == -ENOMEM) {
		/* Refused: answered, nothing changes. Events and unreadable ids get 0. */
		uint64_t id = msg.type != PROTO_NONE ? msg.id : 0;

		control_send_error(in, id, r, err.msg);
		return true;
	}
	if (r < 0) {
		shoal_log_warn("control channel: %s", err.msg);
		control_disconnected(c);
		return false;
	}
	if (proto_check_peer(&msg, PROTO_ROLE_DAEMON, &err) < 0) {
		control_send_error(in, msg.id, -EPROTO, err.msg);
	} else {
		control_dispatch(c, &msg, fds, nfds);
	}
	proto_msg_free(&msg);
	for (i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return c->sock >= 0;
}

static void control_accept(struct control *c)
{
	int fd = accept4(c->in->adopt_listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct shoal_error err = { 0 };

	if (fd < 0)
		return;
	if (channel_setup(fd, &err) < 0) {
		shoal_log_warn("adoption connection: %s", err.msg);
		close(fd);
		return;
	}
	c->sock = fd;
	c->adoption = true;
	c->hello_received = false;
	c->handshake_deadline_us = instance_now_us() + INSTANCE_ADOPT_HANDSHAKE_MS * 1000ull;
	fatal_set_socket(fd);
	control_send_hello(c);
}

/* The nearest deadline (the channel's or a job's) as a ppoll timeout. */
static struct timespec *control_timeout(struct control *c, struct timespec *ts)
{
	uint64_t deadline = 0, now = instance_now_us(), wait = UINT64_MAX;

	if (c->handshake_deadline_us)
		deadline = c->handshake_deadline_us;
	if (c->orphan_deadline_us && (!deadline || c->orphan_deadline_us < deadline))
		deadline = c->orphan_deadline_us;
	if (deadline)
		wait = deadline > now ? deadline - now : 0;
	if (job_next_deadline_us(c->in) < wait)
		wait = job_next_deadline_us(c->in); /* relative already */
	/* Just ready, or woken since the last trim: trim once idle. */
	if (c->in->state == PROTO_STATE_READY && !c->trim_at_us && !c->trimmed_idle)
		c->trim_at_us = now + INSTANCE_IDLE_TRIM_MS * 1000ULL;
	if (c->trim_at_us && (c->trim_at_us > now ? c->trim_at_us - now : 0) < wait)
		wait = c->trim_at_us > now ? c->trim_at_us - now : 0;
	if (wait == UINT64_MAX)
		return NULL;
	ts->tv_sec = (time_t)(wait / 1000000);
	ts->tv_nsec = (long)(wait % 1000000) * 1000;
	return ts;
}

static void control_check_deadlines(struct control *c)
{
	uint64_t now = instance_now_us();

	if (c->handshake_deadline_us && now >= c->handshake_deadline_us) {
		shoal_log_info("adoption connection did not adopt in time; closed");
		control_disconnected(c);
	}
	if (c->orphan_deadline_us && now >= c->orphan_deadline_us && !c->stop) {
		c->orphan_deadline_us = 0;
		if (c->sock >= 0)
			control_close(c);
		control_shutdown(c, 0, "no supervisor adopted the instance in time",
				 INSTANCE_ORPHAN_TIMEOUT_MS);
	}
}

/*
 * An instance that has had nothing to do for INSTANCE_IDLE_TRIM_MS unmaps
 * the program's text again (trim.c): booting and a burst of requests fault in
 * code that an idle instance does not run (measured: a lone idle instance
 * kept 1.6 MiB of text mapped after the trim that follows `ready`, ~0.1 MiB
 * after this one). The pages stay in the page cache; the next request maps
 * what it runs again, a few dozen faults.
 */
static void control_idle_trim(struct control *c, bool woke)
{
	uint64_t now = instance_now_us();

	if (c->in->state != PROTO_STATE_READY)
		return;
	if (woke) {
		c->trim_at_us = now + INSTANCE_IDLE_TRIM_MS * 1000ULL;
		c->trimmed_idle = false;
	} else if (c->trim_at_us && now >= c->trim_at_us) {
		trim_program_text();
		c->trim_at_us = 0;
		c->trimmed_idle = true;
	}
}

int control_run(struct instance *in)
{
	struct control *c = in->ctl;

	control_send_hello(c);
	while (!c->stop) {
		/* The channel (or the adoption listener), then the jobs' descriptors. */
		struct pollfd pfd[1 + 2 + PROTO_JOBS_MAX];
		struct timespec ts;
		nfds_t n = 0, nctl;
		int r, i;

		if (c->sock >= 0) {
			pfd[n].fd = c->sock;
			pfd[n].events = 0;
			if (c->queued < CONTROL_QUEUE_HIGH)
				pfd[n].events |= POLLIN;
			if (c->head || files_want_pump(in) || job_want_pump(in))
				pfd[n].events |= POLLOUT;
			n++;
		} else if (c->orphan_deadline_us && in->adopt_listen_fd >= 0) {
			pfd[n].fd = in->adopt_listen_fd;
			pfd[n].events = POLLIN;
			n++;
		}
		nctl = n;
		n += job_poll_fds(in, pfd + n, sizeof(pfd) / sizeof(pfd[0]) - n);
		r = ppoll(pfd, n, control_timeout(c, &ts), &c->wait_mask);
		if (r < 0 && errno != EINTR) {
			shoal_log_error("ppoll: %s", strerror(errno));
			fatal_exit(PROTO_FATAL_INTERNAL, "the control loop's ppoll failed");
		}
		if (control_signal) {
			int sig = control_signal;

			control_signal = 0;
			control_shutdown(c, 0, strsignal(sig), INSTANCE_ORPHAN_TIMEOUT_MS);
			break;
		}
		control_check_deadlines(c);
		if (c->stop)
			continue;
		control_idle_trim(c, r > 0);
		/* Jobs: their events, timeouts and output, whatever woke us. */
		job_poll_done(in, pfd + nctl, n - nctl);
		if (r <= 0 || !nctl) {
			control_try_flush(c);
			continue;
		}
		if (c->sock < 0) {
			if (pfd[0].revents & POLLIN)
				control_accept(c);
			continue;
		}
		if (pfd[0].revents & POLLOUT) {
			control_try_flush(c);
			while (c->sock >= 0 && c->queued < CONTROL_QUEUE_PUMP && files_pump(in))
				control_try_flush(c);
			job_pump(in);
		}
		if (c->sock >= 0 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			for (i = 0; i < CONTROL_BATCH && c->sock >= 0 && !c->stop; i++)
				if (!control_receive(c))
					break;
		}
		control_try_flush(c);
	}
	return c->exit_status;
}
