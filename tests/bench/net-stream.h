/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stream program of net-bench: TCP stream, UDP stream and TCP 1-byte
 * ping-pong, sender and receiver, written once against a tiny socket shim
 * (struct net_sock_ops) so that exactly the same code runs on host sockets
 * (net-sock-host.c, the native peer) and on library-kernel sockets
 * (net-sock-skl.c, Shoal). Only the shim knows which system calls it makes;
 * the logic, the buffers, the clocks (host CLOCK_MONOTONIC in both) and the
 * way a figure is computed are shared.
 *
 * What each job measures:
 *   NET_JOB_TCP_STREAM  the client writes @size-byte writes for @seconds and
 *                       closes; the server reads with 64 KiB reads and times
 *                       its first byte to end of stream: goodput.
 *   NET_JOB_UDP_STREAM  the client sends @size-byte datagrams as fast as the
 *                       socket takes them for @seconds, then a few end
 *                       markers; the server counts what arrives between its
 *                       first and last data datagram: goodput, and with the
 *                       client's count, loss.
 *   NET_JOB_TCP_RR      the client writes 1 byte and reads the 1-byte answer,
 *                       round trip after round trip, for @seconds, timing
 *                       each (TCP_NODELAY on both ends): median and p99.
 *
 * Every blocking call has a receive or send timeout, so a peer that vanished
 * ends a job with -EAGAIN instead of hanging it.
 */
#ifndef SHOAL_TESTS_BENCH_NET_STREAM_H
#define SHOAL_TESTS_BENCH_NET_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "api/error.h"

/* An IPv4 address (network order) and a port (host order). */
struct net_addr {
	uint32_t ip;
	uint16_t port;
};

enum net_sock_type { NET_SOCK_TCP, NET_SOCK_UDP };

/* Socket options the program uses, independent of either ABI's numbers. */
enum net_sock_opt {
	NET_OPT_REUSEADDR, /* value: 0/1 */
	NET_OPT_NODELAY, /* value: 0/1 (TCP) */
	NET_OPT_RCVTIMEO_MS, /* value: milliseconds; also bounds accept */
	NET_OPT_SNDTIMEO_MS, /* value: milliseconds */
};

/*
 * The shim. Every member returns >= 0 on success (a descriptor, a count) or
 * -errno, like the library kernel's own calls. Descriptors belong to the
 * implementation's world (host or library kernel) and never cross over.
 */
struct net_sock_ops {
	const char *name;
	long (*socket)(enum net_sock_type type);
	long (*bind)(int fd, const struct net_addr *addr);
	long (*listen)(int fd, int backlog);
	long (*accept)(int fd);
	long (*connect)(int fd, const struct net_addr *addr);
	long (*read)(int fd, void *buf, size_t len);
	long (*write)(int fd, const void *buf, size_t len);
	long (*sendto)(int fd, const void *buf, size_t len, const struct net_addr *to);
	long (*recvfrom)(int fd, void *buf, size_t len);
	long (*close)(int fd);
	long (*setsockopt)(int fd, enum net_sock_opt opt, int value);
};

/* Host sockets (the native peer) and library-kernel sockets (Shoal). */
extern const struct net_sock_ops net_sock_host;
extern const struct net_sock_ops net_sock_skl;

enum net_job_kind { NET_JOB_TCP_STREAM, NET_JOB_UDP_STREAM, NET_JOB_TCP_RR };

struct net_job {
	enum net_job_kind kind;
	uint32_t size; /* bytes per write or datagram; 1 for NET_JOB_TCP_RR */
	double seconds; /* how long the client sends */
	struct net_addr addr; /* the server's address and port */
};

/* What one side saw. Fields a side has no figure for stay 0. */
struct net_result {
	double seconds; /* server: first to last data received; client: sending time */
	uint64_t bytes; /* payload bytes received (server) or sent (client) */
	uint64_t datagrams; /* UDP: data datagrams received (server) or sent (client) */
	uint64_t send_errors; /* UDP client: sends refused (-ENOBUFS, -EAGAIN) */
	uint64_t rtts; /* ping-pong client: round trips timed */
	double rtt_median_us, rtt_p99_us;
};

/*
 * net_stream_listen() - the server's socket for @job, bound (and listening,
 * for TCP) on @job->addr, so the client may start once it returns.
 * Returns the descriptor or -errno.
 */
int net_stream_listen(const struct net_sock_ops *ops, const struct net_job *job,
		      struct shoal_error *err);

/*
 * net_stream_serve() - the server's side of @job on the socket from
 * net_stream_listen(), which it closes. Fills @res; 0 or -errno.
 */
int net_stream_serve(const struct net_sock_ops *ops, const struct net_job *job, int fd,
		     struct net_result *res, struct shoal_error *err);

/* net_stream_client() - the client's side of @job. Fills @res; 0 or -errno. */
int net_stream_client(const struct net_sock_ops *ops, const struct net_job *job,
		      struct net_result *res, struct shoal_error *err);

/* net_now_ns() - host CLOCK_MONOTONIC in nanoseconds. */
int64_t net_now_ns(void);

#endif /* SHOAL_TESTS_BENCH_NET_STREAM_H */
