// SPDX-License-Identifier: GPL-2.0
/*
 * The SEQPACKET transport declared in channel.h. The receive side is written
 * around one rule: descriptors are collected from the control data before
 * anything else is judged, and from then on every exit either hands them to
 * the caller or closes them. The kernel installs passed descriptors into our
 * table as soon as recvmsg() returns, whether or not we like the message that
 * carried them, so a check that returned early would leak them.
 */
#include "channel.h"

#include "cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* sk_sndbuf must exceed a datagram by this much (see unix_dgram_sendmsg()). */
#define CHANNEL_SNDBUF_SLACK 32

/* Ancillary data: descriptors arrive as SCM_PIDFD too when SO_PASSPIDFD is on. */
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif

union channel_control {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(int) * PROTO_FDS_MAX)];
};

int channel_setup(int sock, struct shoal_error *err)
{
	int domain = 0, type = 0, size = 0;
	socklen_t optlen = sizeof(domain);

	if (getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &domain, &optlen) < 0)
		return shoal_error_set(err, errno, "control socket %d", sock);
	optlen = sizeof(type);
	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &optlen) < 0)
		return shoal_error_set(err, errno, "control socket %d", sock);
	if (domain != AF_UNIX || type != SOCK_SEQPACKET)
		return shoal_error_set(err, EPROTOTYPE,
				       "control socket %d is not AF_UNIX SOCK_SEQPACKET", sock);

	/* The kernel doubles the value and caps it at net.core.wmem_max (times two). */
	size = 2 * (PROTO_MSG_MAX + CHANNEL_SNDBUF_SLACK);
	if (setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) < 0)
		return shoal_error_set(err, errno, "raise send buffer of control socket %d", sock);
	optlen = sizeof(size);
	if (getsockopt(sock, SOL_SOCKET, SO_SNDBUF, &size, &optlen) < 0)
		return shoal_error_set(err, errno, "control socket %d", sock);
	if (size < PROTO_MSG_MAX + CHANNEL_SNDBUF_SLACK)
		return shoal_error_set(
			err, ENOBUFS,
			"send buffer of control socket %d is %d bytes, below the %d a "
			"message needs (raise net.core.wmem_max)",
			sock, size, PROTO_MSG_MAX + CHANNEL_SNDBUF_SLACK);
	return 0;
}

int channel_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds,
		 struct shoal_error *err)
{
	union channel_control control;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (len == 0 || len > PROTO_MSG_MAX)
		return shoal_error_set(err, EMSGSIZE, "send: message of %zu bytes, must be 1..%d",
				       len, PROTO_MSG_MAX);
	if (nfds > PROTO_FDS_MAX)
		return shoal_error_set(err, EINVAL, "send: %zu descriptors, at most %d", nfds,
				       PROTO_FDS_MAX);
	if (nfds) {
		struct cmsghdr *cmsg;

		memset(&control, 0, sizeof(control));
		mh.msg_control = control.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
	}

	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN)
			return -EAGAIN;
		return shoal_error_set(err, errno, "send %zu-byte message with %zu descriptors",
				       len, nfds);
	}
	/* A SEQPACKET send is all or nothing; anything else is a broken kernel contract. */
	if ((size_t)n != len)
		return shoal_error_set(err, EIO, "send: %zd of %zu bytes went out", n, len);
	return 0;
}

void channel_close_fds(int *fds, size_t *nfds)
{
	size_t i;

	for (i = 0; i < *nfds; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
	*nfds = 0;
}

/*
 * Move every descriptor in @mh's control data into @fds, closing those beyond
 * PROTO_FDS_MAX. Returns false if some had to be closed.
 */
static bool channel_take_fds(struct msghdr *mh, int *fds, size_t *nfds)
{
	struct cmsghdr *cmsg;
	bool all = true;

	for (cmsg = CMSG_FIRSTHDR(mh); cmsg; cmsg = CMSG_NXTHDR(mh, cmsg)) {
		size_t n, i;

		if (cmsg->cmsg_level != SOL_SOCKET ||
		    (cmsg->cmsg_type != SCM_RIGHTS && cmsg->cmsg_type != SCM_PIDFD))
			continue; /* credentials and labels carry no descriptors */
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(fd));
			if (cmsg->cmsg_type == SCM_RIGHTS && *nfds < PROTO_FDS_MAX) {
				fds[(*nfds)++] = fd;
			} else {
				close(fd);
				all = false;
			}
		}
	}
	return all;
}

int channel_recv(int sock, void *buf, size_t size, size_t *len, int *fds, size_t *nfds,
		 struct shoal_error *err)
{
	union channel_control control;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n;
	bool all;

	*len = 0;
	*nfds = 0;
	/* MSG_TRUNC makes recvmsg() return the packet's real length, for the message. */
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN)
			return -EAGAIN;
		return shoal_error_set(err, errno, "receive from control socket %d", sock);
	}

	all = channel_take_fds(&mh, fds, nfds);
	if (!all || (mh.msg_flags & MSG_CTRUNC)) {
		channel_close_fds(fds, nfds);
		return shoal_error_set(err, EMSGSIZE,
				       "receive: message came with more than %d "
				       "descriptors",
				       PROTO_FDS_MAX);
	}
	if ((mh.msg_flags & MSG_TRUNC) || (size_t)n > size) {
		channel_close_fds(fds, nfds);
		return shoal_error_set(err, EMSGSIZE, "receive: message of %zd bytes, at most %zu",
				       n, size);
	}
	if (n == 0) {
		/* SEQPACKET reports the peer's close as a zero-length read. */
		if (*nfds == 0)
			return shoal_error_set(err, ECONNRESET,
					       "control channel closed by the peer");
		channel_close_fds(fds, nfds);
		return shoal_error_set(err, EBADMSG, "receive: empty message with descriptors");
	}
	*len = (size_t)n;
	return 0;
}

int channel_send_msg(int sock, const struct proto_msg *msg, const int *fds, size_t nfds,
		     struct shoal_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len, want = proto_msg_nfds(msg);
	int r;

	if (nfds != want)
		return shoal_error_set(err, EINVAL, "send %s: it names %zu descriptors, %zu given",
				       proto_type_name(msg->type), want, nfds);
	r = proto_encode(msg, &text, &len, err);
	if (r < 0)
		return r;
	return channel_send(sock, text, len, fds, nfds, err);
}

int channel_recv_msg(int sock, struct proto_msg *msg, int *fds, size_t *nfds,
		     struct shoal_error *err)
{
	_cleanup_free_ char *buf = malloc(PROTO_MSG_MAX);
	enum proto_type type;
	size_t len, want;
	uint64_t id;
	int r;

	memset(msg, 0, sizeof(*msg));
	*nfds = 0;
	if (!buf)
		return shoal_error_set(err, ENOMEM, "receive buffer of %d bytes", PROTO_MSG_MAX);
	r = channel_recv(sock, buf, PROTO_MSG_MAX, &len, fds, nfds, err);
	if (r < 0)
		return r;
	r = proto_decode(buf, len, msg, err);
	if (r < 0) {
		channel_close_fds(fds, nfds);
		return r;
	}
	/* Every descriptor must be named by the message, and every name must have one. */
	want = proto_msg_nfds(msg);
	if (want != *nfds) {
		r = shoal_error_set(err, 0, "%s: names %zu descriptors but %zu came with it",
				    proto_type_name(msg->type), want, *nfds);
		type = msg->type;
		id = msg->id;
		proto_msg_free(msg);
		msg->type = type;
		msg->id = id;
		channel_close_fds(fds, nfds);
		return r;
	}
	return 0;
}

int channel_send_error(int sock, uint64_t id, enum proto_error_code code, const char *message,
		       struct shoal_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = proto_encode_error(id, code, message, &text, &len, err);

	if (r < 0)
		return r;
	return channel_send(sock, text, len, NULL, 0, err);
}
