/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The transport of the control protocol: one message per packet on an AF_UNIX
 * SOCK_SEQPACKET socket, with up to PROTO_FDS_MAX descriptors passed beside it
 * as SCM_RIGHTS. SEQPACKET gives message boundaries and ordering for free, so
 * there is no framing to parse; what is left is getting the edges right:
 * received descriptors are close-on-exec from the moment they exist
 * (MSG_CMSG_CLOEXEC), a packet or a descriptor list that did not fit is an
 * error rather than a silently shortened message, and on every error path the
 * descriptors that did arrive are closed, so a hostile peer cannot make the
 * receiver leak them.
 *
 * The functions work on blocking and non-blocking sockets alike; they retry
 * EINTR and return -EAGAIN (without touching @err, as it is not a failure) when
 * a non-blocking socket is not ready, so the daemon's libuv loop can poll the
 * socket and call them when it is. A socket must be used by one thread at a
 * time for receiving and one for sending.
 */
#ifndef SHOAL_API_CHANNEL_H
#define SHOAL_API_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "api/error.h"
#include "api/proto.h"

/*
 * channel_setup() - check that @sock is an AF_UNIX SOCK_SEQPACKET socket and
 * make its send buffer hold a PROTO_MSG_MAX message (the default of about 208
 * KiB does not). Call it on each end before use; the daemon calls it on both
 * ends of the socketpair, the instance again on the end it inherits.
 * Returns 0, -ENOTSOCK / -EPROTOTYPE for a wrong descriptor, or -ENOBUFS when
 * net.core.wmem_max keeps the buffer too small.
 */
int channel_setup(int sock, struct shoal_error *err);

/*
 * channel_send() - send @len bytes (1..PROTO_MSG_MAX) as one packet with the
 * @nfds (0..PROTO_FDS_MAX) descriptors @fds. The descriptors stay the caller's
 * (the peer gets duplicates). Never raises SIGPIPE: a closed peer is -EPIPE.
 */
int channel_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds,
		 struct shoal_error *err);

/*
 * channel_recv() - receive one packet into @buf (@size bytes) and its
 * descriptors into @fds, which must have room for PROTO_FDS_MAX.
 * On success *@len is the packet's length and *@nfds the number of descriptors
 * received, which the caller now owns (close-on-exec). Errors, each with no
 * descriptor left open and *@nfds = 0:
 *   -ECONNRESET  the peer closed its end (end of file);
 *   -EMSGSIZE    the packet was longer than @size, or more descriptors came
 *                than PROTO_FDS_MAX (the rest were discarded by the kernel);
 *   -EBADMSG     an empty packet;
 *   -EAGAIN      nothing to read on a non-blocking socket (@err untouched);
 *   other        recvmsg()'s errno.
 */
int channel_recv(int sock, void *buf, size_t size, size_t *len, int *fds, size_t *nfds,
		 struct shoal_error *err);

/*
 * channel_send_msg() - encode @msg (proto_encode()) and send it with @fds;
 * @nfds must equal proto_msg_nfds(@msg), the descriptors the message names,
 * in index order.
 */
int channel_send_msg(int sock, const struct proto_msg *msg, const int *fds, size_t nfds,
		     struct shoal_error *err);

/*
 * channel_recv_msg() - receive one packet and decode it (proto_decode()).
 * @fds needs room for PROTO_FDS_MAX. On success @msg must be released with
 * proto_msg_free() and the *@nfds descriptors in @fds belong to the caller:
 * fds[i] is the descriptor the message calls index i. On any error, including
 * a packet the decoder refuses and a descriptor count that differs from what
 * the message names (-EINVAL), every received descriptor is closed; @msg holds
 * nothing to free but keeps its type and id when they could be read, so the
 * caller can answer with channel_send_error(sock, msg->id, ...).
 */
int channel_recv_msg(int sock, struct proto_msg *msg, int *fds, size_t *nfds,
		     struct shoal_error *err);

/*
 * channel_send_error() - answer request @id (0: no particular request) with
 * an error of @code and @message (sanitised by proto_encode_error()).
 */
int channel_send_error(int sock, uint64_t id, enum proto_error_code code, const char *message,
		       struct shoal_error *err);

/* channel_close_fds() - close the *@nfds descriptors in @fds, mark them -1, set *@nfds to 0. */
void channel_close_fds(int *fds, size_t *nfds);

#endif /* SHOAL_API_CHANNEL_H */
