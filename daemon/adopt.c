// SPDX-License-Identifier: GPL-2.0
/*
 * Re-adoption: how instances outlive a daemon that dies (kill -9, a crash, an
 * upgrade) and how the next daemon takes them back (api/PROTOCOL.md §8). Each
 * instance is configured with keep_on_supervisor_exit and a listening
 * SEQPACKET socket the daemon binds at STATE_DIR/adopt/ID.sock; when its
 * control channel reads end of file it keeps running and waits there. A new
 * daemon on the same state directory connects, says hello, reads the
 * instance's hello (which names it), sends `adopt` naming the instance it
 * expects, and from the `ok` on the connection is the control channel.
 *
 * The handshake here is synchronous, with a short timeout per step: it runs
 * at start, before the API socket is bound, when there is nobody to serve
 * yet; a live instance answers in well under a millisecond, a dead one
 * refuses the connection at once, and a hung one costs ADOPT_STEP_MS.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/channel.h"
#include "api/cleanup.h"
#include "api/log.h"
#include "daemon/shoald.h"

#define ADOPT_STEP_MS 2000
#define ADOPT_REQUEST_ID 3

static int adopt_path(const char *id, struct sockaddr_un *sa, struct shoal_error *err)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/adopt/%s.sock",
		     shoald_config.state_dir, id) >= (int)sizeof(sa->sun_path))
		return shoal_error_set(err, ENAMETOOLONG, "adoption socket of %s in %s", id,
				       shoald_config.state_dir);
	return 0;
}

int adopt_init(struct shoal_error *err)
{
	struct sockaddr_un sa;
	char dir[PATH_MAX];
	int r;

	/* Every id has the same length: a state dir too long for one is too long for all. */
	r = adopt_path("i-0000000000000000", &sa, err);
	if (r)
		return r;

	snprintf(dir, sizeof(dir), "%s/adopt", shoald_config.state_dir);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return shoal_error_set(err, errno, "mkdir %s", dir);
	return 0;
}

int adopt_listen(const char *id, int *fd, struct shoal_error *err)
{
	_cleanup_close_ int sock = -1;
	struct sockaddr_un sa;
	int r;

	r = adopt_path(id, &sa, err);
	if (r)
		return r;
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return shoal_error_set(err, errno, "adoption socket of %s", id);
	unlink(sa.sun_path);
	if (bind(sock, (struct sockaddr *)&sa, sizeof(sa)))
		return shoal_error_set(err, errno, "bind %s", sa.sun_path);
	/* Only the daemon (root) may connect: the state directory is 0700 as well. */
	chmod(sa.sun_path, 0600);
	if (listen(sock, 1)) {
		r = shoal_error_set(err, errno, "listen on %s", sa.sun_path);
		unlink(sa.sun_path);
		return r;
	}
	*fd = steal_fd(&sock);
	return 0;
}

void adopt_unlink(const char *id)
{
	struct sockaddr_un sa;

	if (!adopt_path(id, &sa, NULL))
		unlink(sa.sun_path);
}

/* Receive one message within ADOPT_STEP_MS; descriptors are closed unread. */
static int adopt_recv(int sock, struct proto_msg *msg, struct shoal_error *err)
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	int fds[PROTO_FDS_MAX];
	size_t nfds = 0;
	int r;

	for (;;) {
		r = channel_recv_msg(sock, msg, fds, &nfds, err);
		if (r != -EAGAIN)
			break;
		r = poll(&pfd, 1, ADOPT_STEP_MS);
		if (r == 0)
			return shoal_error_set(err, ETIMEDOUT, "no answer within %d ms",
					       ADOPT_STEP_MS);
		if (r < 0 && errno != EINTR)
			return shoal_error_set(err, errno, "poll");
	}
	if (r)
		return r;
	channel_close_fds(fds, &nfds);
	if (proto_check_peer(msg, PROTO_ROLE_INSTANCE, err)) {
		proto_msg_free(msg);
		return -EPROTO;
	}
	return 0;
}

int adopt_connect(const char *id, int *out, struct adopt_result *res, struct shoal_error *err)
{
	_cleanup_close_ int sock = -1;
	struct sockaddr_un sa;
	struct proto_msg msg;
	int r;

	r = adopt_path(id, &sa, err);
	if (r)
		return r;
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (sock < 0)
		return shoal_error_set(err, errno, "socket");
	/* A listening socket answers a local connect at once, or refuses it. */
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)))
		return shoal_error_set(err, errno, "connect to %s", sa.sun_path);
	r = channel_setup(sock, err);
	if (r)
		return r;
	proto_msg_init(&msg, PROTO_HELLO, 0);
	msg.hello.version = PROTO_VERSION;
	msg.hello.role = PROTO_ROLE_DAEMON;
	msg.hello.software = "shoald " SHOALD_VERSION;
	r = channel_send_msg(sock, &msg, NULL, 0, err);
	if (r)
		return r;
	/* Nothing but hello may go before the peer's hello is in. */
	r = adopt_recv(sock, &msg, err);
	if (r)
		return r;
	r = msg.type != PROTO_HELLO || !msg.hello.instance_id || strcmp(msg.hello.instance_id, id);
	proto_msg_free(&msg);
	if (r)
		return shoal_error_set(err, 0, "the instance's hello does not name %s", id);
	proto_msg_init(&msg, PROTO_ADOPT, ADOPT_REQUEST_ID);
	msg.adopt.instance_id = id;
	r = channel_send_msg(sock, &msg, NULL, 0, err);
	if (r)
		return r;
	/*
	 * Then the ok of adopt. Exec_exit events kept while no daemon was there
	 * follow it, for the caller's loop to read (and drop: no call waits).
	 */
	r = adopt_recv(sock, &msg, err);
	if (r)
		return r;
	if (msg.type == PROTO_ERROR && msg.id == ADOPT_REQUEST_ID) {
		r = shoal_error_set(err, 0, "adopt refused: %s: %s",
				    proto_error_code_name(msg.error.code), msg.error.message);
		proto_msg_free(&msg);
		return r;
	}
	if (msg.type != PROTO_OK || msg.id != ADOPT_REQUEST_ID || msg.ok.request != PROTO_ADOPT) {
		r = shoal_error_set(err, 0, "%s where the adopt reply was due",
				    proto_type_name(msg.type));
		proto_msg_free(&msg);
		return r;
	}
	res->ready = msg.ok.adopt.state == PROTO_STATE_READY;
	res->uptime_us = msg.ok.adopt.uptime_us;
	res->njobs = msg.ok.adopt.njobs;
	proto_msg_free(&msg);
	*out = steal_fd(&sock);
	return 0;
}
