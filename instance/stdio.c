// SPDX-License-Identifier: GPL-2.0
/*
 * --stdio: the control protocol for people and scripts. The process makes a
 * SEQPACKET socketpair and forks; the child goes on as an ordinary instance
 * on one end (exactly as under shoald), and this parent relays: each line
 * read from stdin is sent as one message, each message from the instance is
 * written to stdout as one line. The bridge sends the daemon's `hello` by
 * itself, so a session starts with `configure`:
 *
 *	$ shoal-instance --stdio
 *	{"type":"hello","version":1,"role":"instance","software":...,"state":"new"}
 *	{"type":"configure","id":1,"instance_id":"try","memory_mib":64,...}
 *	{"type":"ok","id":1,"request":"configure","result":{}}
 *	{"type":"ready","timings":{...},"kernel_release":"6.12..."}
 *
 * The bridge does not parse what it relays: the instance's decoder judges
 * every line and answers errors itself. End of input closes the sending
 * direction, which the instance reads as its supervisor leaving (it shuts
 * down); the bridge exits when the instance has, with its status. Without
 * descriptor passing, networks and disks are named by interface and path.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/channel.h"
#include "api/cleanup.h"
#include "api/log.h"
#include "instance/instance.h"

#define STDIO_LINE_MAX PROTO_MSG_MAX

static void stdio_write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void stdio_local_error(const char *text)
{
	_cleanup_free_ char *enc = NULL;
	size_t len;

	if (proto_encode_error(0, PROTO_ERR_TOO_LARGE, text, &enc, &len, NULL) == 0) {
		stdio_write_all(STDOUT_FILENO, enc, len);
		stdio_write_all(STDOUT_FILENO, "\n", 1);
	}
}

static int stdio_send_hello(int sock, struct shoal_error *err)
{
	struct proto_msg hello;

	proto_msg_init(&hello, PROTO_HELLO, 0);
	hello.hello.version = PROTO_VERSION;
	hello.hello.role = PROTO_ROLE_DAEMON;
	hello.hello.software = INSTANCE_SOFTWARE " --stdio";
	return channel_send_msg(sock, &hello, NULL, 0, err);
}

/* Relay until the instance closes its end. */
static void stdio_relay(int sock)
{
	static char line[STDIO_LINE_MAX + 1], packet[PROTO_MSG_MAX];
	size_t have = 0;
	bool skipping = false, input = true;

	for (;;) {
		struct pollfd pfd[2] = { { .fd = sock, .events = POLLIN },
					 { .fd = STDIN_FILENO, .events = POLLIN } };
		struct shoal_error err = { 0 };
		int fds[PROTO_FDS_MAX];
		size_t len, nfds, i, start;
		ssize_t n;
		int r;

		if (poll(pfd, input ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (pfd[0].revents) {
			r = channel_recv(sock, packet, sizeof(packet), &len, fds, &nfds, &err);
			if (r == -ECONNRESET)
				return;
			if (r == 0) {
				channel_close_fds(fds, &nfds);
				stdio_write_all(STDOUT_FILENO, packet, len);
				stdio_write_all(STDOUT_FILENO, "\n", 1);
			} else if (r != -EAGAIN) {
				shoal_log_error("stdio: %s", err.msg);
				return;
			}
		}
		if (!input || !(pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(STDIN_FILENO, line + have, STDIO_LINE_MAX - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* End of input: the supervisor leaves. */
			input = false;
			shutdown(sock, SHUT_WR);
			continue;
		}
		have += (size_t)n;
		start = 0;
		for (i = 0; i < have; i++) {
			if (line[i] != '\n')
				continue;
			if (!skipping && i > start) {
				r = channel_send(sock, line + start, i - start, NULL, 0, &err);
				if (r < 0)
					shoal_log_error("stdio: %s", err.msg);
			}
			skipping = false;
			start = i + 1;
		}
		memmove(line, line + start, have - start);
		have -= start;
		if (have == STDIO_LINE_MAX) {
			stdio_local_error("stdio: a line longer than 262144 bytes was dropped");
			skipping = true;
			have = 0;
		}
	}
}

int stdio_run(int *control_fd)
{
	struct shoal_error err = { 0 };
	int sv[2], status, devnull;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		shoal_log_error("stdio: socketpair: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		shoal_log_error("stdio: fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* The instance: stdin and stdout are the bridge's. */
		close(sv[0]);
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			close(devnull);
		}
		dup2(STDERR_FILENO, STDOUT_FILENO);
		*control_fd = sv[1];
		return 0;
	}
	close(sv[1]);
	/* Ctrl-C reaches the instance too (same process group); it shuts down and we follow. */
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (channel_setup(sv[0], &err) < 0 || stdio_send_hello(sv[0], &err) < 0)
		shoal_log_error("stdio: %s", err.msg);
	else
		stdio_relay(sv[0]);
	close(sv[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			exit(INSTANCE_EXIT_FAILURE);
	exit(WIFEXITED(status) ? WEXITSTATUS(status)
			       : INSTANCE_EXIT_SIGNAL_BASE + WTERMSIG(status));
}
