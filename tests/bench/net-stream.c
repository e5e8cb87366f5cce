// SPDX-License-Identifier: GPL-2.0
/*
 * The stream program (see net-stream.h): one implementation of the TCP
 * stream, UDP stream and ping-pong sides, run by net-bench's nodes on host
 * sockets for the native peer and on library-kernel sockets for Shoal.
 * Nothing here knows which: every socket call goes through the shim, and
 * the clock is the host's CLOCK_MONOTONIC in both cases.
 */
#include "tests/bench/net-stream.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/cleanup.h"

/* Bounds of every blocking call, in ms: long enough for a loaded 2-CPU
 * machine, short enough that a vanished peer ends the job. */
#define ACCEPT_TIMEOUT_MS 10000
#define IO_TIMEOUT_MS 5000
/* UDP: the server's receive poll, and how long it waits after the last
 * datagram when every end marker was lost. */
#define UDP_POLL_MS 100
#define UDP_IDLE_END_MS 1000
#define UDP_END_MARKERS 20
/* Ping-pong round trips before the clock starts (connection warm-up). */
#define RR_WARMUP 100

#define BUF_SIZE (64 * 1024)
#define UDP_MAGIC 0x53686f61u /* "Shoa" */

enum udp_type { UDP_DATA = 1, UDP_END = 2 };

/* The first bytes of every datagram. */
struct udp_hdr {
	uint32_t magic;
	uint32_t type;
};

int64_t net_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* A buffer of @len bytes that is not all zeros (nothing may compress it). */
static unsigned char *pattern_buffer(size_t len)
{
	unsigned char *buf = malloc(len);
	size_t i;

	if (!buf)
		return NULL;
	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 13);
	return buf;
}

static const char *job_name(const struct net_job *job)
{
	switch (job->kind) {
	case NET_JOB_TCP_STREAM:
		return "tcp stream";
	case NET_JOB_UDP_STREAM:
		return "udp stream";
	case NET_JOB_TCP_RR:
		return "tcp ping-pong";
	}
	return "?";
}

static int set_opt(const struct net_sock_ops *ops, int fd, enum net_sock_opt opt, int value,
		   const char *what, struct shoal_error *err)
{
	long r = ops->setsockopt(fd, opt, value);

	if (r < 0)
		return shoal_error_set(err, (int)r, "%s socket: setsockopt %s", ops->name, what);
	return 0;
}

int net_stream_listen(const struct net_sock_ops *ops, const struct net_job *job,
		      struct shoal_error *err)
{
	bool tcp = job->kind != NET_JOB_UDP_STREAM;
	long fd = ops->socket(tcp ? NET_SOCK_TCP : NET_SOCK_UDP), r;

	if (fd < 0)
		return shoal_error_set(err, (int)fd, "%s: %s socket", ops->name, job_name(job));
	r = ops->setsockopt((int)fd, NET_OPT_REUSEADDR, 1);
	if (r >= 0)
		r = ops->setsockopt((int)fd, NET_OPT_RCVTIMEO_MS,
				    tcp ? ACCEPT_TIMEOUT_MS : UDP_POLL_MS);
	if (r >= 0)
		r = ops->bind((int)fd, &job->addr);
	if (r >= 0 && tcp)
		r = ops->listen((int)fd, 4);
	if (r < 0) {
		ops->close((int)fd);
		return shoal_error_set(err, (int)r, "%s: %s: bind/listen on port %u", ops->name,
				       job_name(job), job->addr.port);
	}
	return (int)fd;
}

/* Accept the one connection of a TCP job, closing the listening socket. */
static int accept_one(const struct net_sock_ops *ops, const struct net_job *job, int ls,
		      struct shoal_error *err)
{
	long fd = ops->accept(ls);

	ops->close(ls);
	if (fd < 0)
		return shoal_error_set(err, (int)fd, "%s: %s: accept on port %u", ops->name,
				       job_name(job), job->addr.port);
	if (set_opt(ops, (int)fd, NET_OPT_RCVTIMEO_MS, IO_TIMEOUT_MS, "SO_RCVTIMEO", err) ||
	    set_opt(ops, (int)fd, NET_OPT_SNDTIMEO_MS, IO_TIMEOUT_MS, "SO_SNDTIMEO", err) ||
	    (job->kind == NET_JOB_TCP_RR &&
	     set_opt(ops, (int)fd, NET_OPT_NODELAY, 1, "TCP_NODELAY", err))) {
		ops->close((int)fd);
		return -EIO;
	}
	return (int)fd;
}

static int tcp_stream_serve(const struct net_sock_ops *ops, const struct net_job *job, int fd,
			    struct net_result *res, struct shoal_error *err)
{
	_cleanup_free_ unsigned char *buf = malloc(BUF_SIZE);
	int64_t first = 0, end;
	long n;

	if (!buf) {
		ops->close(fd);
		return shoal_error_set(err, ENOMEM, "tcp stream: buffer");
	}
	fd = accept_one(ops, job, fd, err);
	if (fd < 0)
		return fd;
	while ((n = ops->read(fd, buf, BUF_SIZE)) > 0) {
		if (!first)
			first = net_now_ns();
		res->bytes += (uint64_t)n;
	}
	end = net_now_ns();
	ops->close(fd);
	if (n < 0)
		return shoal_error_set(err, (int)n, "%s: tcp stream: read after %llu bytes",
				       ops->name, (unsigned long long)res->bytes);
	if (!first)
		return shoal_error_set(err, 0, "%s: tcp stream: no data", ops->name);
	res->seconds = (double)(end - first) / 1e9;
	return 0;
}

static int udp_stream_serve(const struct net_sock_ops *ops, const struct net_job *job, int fd,
			    struct net_result *res, struct shoal_error *err)
{
	_cleanup_free_ unsigned char *buf = malloc(BUF_SIZE);
	int64_t start = net_now_ns(), first = 0, last = 0;
	/* The client sends for job->seconds; past that, only stragglers. */
	int64_t give_up = start + (int64_t)((job->seconds + 10) * 1e9);

	if (!buf) {
		ops->close(fd);
		return shoal_error_set(err, ENOMEM, "udp stream: buffer");
	}
	for (;;) {
		long n = ops->recvfrom(fd, buf, BUF_SIZE);
		int64_t now = net_now_ns();
		struct udp_hdr hdr;

		if (n == -EAGAIN || n == -EINTR) {
			if (first && now - last > (int64_t)UDP_IDLE_END_MS * 1000000)
				break;
			if (now > give_up)
				break;
			continue;
		}
		if (n < 0) {
			ops->close(fd);
			return shoal_error_set(err, (int)n, "%s: udp stream: recvfrom", ops->name);
		}
		if ((size_t)n < sizeof(hdr))
			continue;
		memcpy(&hdr, buf, sizeof(hdr));
		if (hdr.magic != UDP_MAGIC)
			continue;
		if (hdr.type == UDP_END) {
			if (first)
				break;
			continue; /* a marker of an earlier job */
		}
		if (!first)
			first = now;
		last = now;
		res->datagrams++;
		res->bytes += (uint64_t)n;
	}
	ops->close(fd);
	if (!first)
		return shoal_error_set(err, 0, "%s: udp stream: nothing arrived", ops->name);
	/* The first datagram opens the window, so it does not count in it. */
	if (res->datagrams > 1 && last > first) {
		res->seconds = (double)(last - first) / 1e9;
		res->bytes -= res->bytes / res->datagrams;
	}
	return 0;
}

static int tcp_rr_serve(const struct net_sock_ops *ops, const struct net_job *job, int fd,
			struct net_result *res, struct shoal_error *err)
{
	char c;
	long n;

	fd = accept_one(ops, job, fd, err);
	if (fd < 0)
		return fd;
	while ((n = ops->read(fd, &c, 1)) == 1) {
		n = ops->write(fd, &c, 1);
		if (n != 1)
			break;
		res->rtts++;
	}
	ops->close(fd);
	if (n < 0)
		return shoal_error_set(err, (int)n, "%s: ping-pong server after %llu round trips",
				       ops->name, (unsigned long long)res->rtts);
	return 0;
}

int net_stream_serve(const struct net_sock_ops *ops, const struct net_job *job, int fd,
		     struct net_result *res, struct shoal_error *err)
{
	memset(res, 0, sizeof(*res));
	switch (job->kind) {
	case NET_JOB_TCP_STREAM:
		return tcp_stream_serve(ops, job, fd, res, err);
	case NET_JOB_UDP_STREAM:
		return udp_stream_serve(ops, job, fd, res, err);
	case NET_JOB_TCP_RR:
		return tcp_rr_serve(ops, job, fd, res, err);
	}
	ops->close(fd);
	return shoal_error_set(err, EINVAL, "job kind %d", (int)job->kind);
}

/* A connected TCP socket with both timeouts set. */
static int tcp_connect(const struct net_sock_ops *ops, const struct net_job *job,
		       struct shoal_error *err)
{
	long fd = ops->socket(NET_SOCK_TCP), r;

	if (fd < 0)
		return shoal_error_set(err, (int)fd, "%s: %s: socket", ops->name, job_name(job));
	if (set_opt(ops, (int)fd, NET_OPT_RCVTIMEO_MS, IO_TIMEOUT_MS, "SO_RCVTIMEO", err) ||
	    set_opt(ops, (int)fd, NET_OPT_SNDTIMEO_MS, IO_TIMEOUT_MS, "SO_SNDTIMEO", err) ||
	    (job->kind == NET_JOB_TCP_RR &&
	     set_opt(ops, (int)fd, NET_OPT_NODELAY, 1, "TCP_NODELAY", err))) {
		ops->close((int)fd);
		return -EIO;
	}
	r = ops->connect((int)fd, &job->addr);
	if (r < 0) {
		ops->close((int)fd);
		return shoal_error_set(err, (int)r, "%s: %s: connect to port %u", ops->name,
				       job_name(job), job->addr.port);
	}
	return (int)fd;
}

static int tcp_stream_client(const struct net_sock_ops *ops, const struct net_job *job,
			     struct net_result *res, struct shoal_error *err)
{
	_cleanup_free_ unsigned char *buf = pattern_buffer(job->size);
	int64_t start, deadline, now;
	int fd;

	if (!buf)
		return shoal_error_set(err, ENOMEM, "tcp stream: %u-byte buffer", job->size);
	fd = tcp_connect(ops, job, err);
	if (fd < 0)
		return fd;
	start = now = net_now_ns();
	deadline = start + (int64_t)(job->seconds * 1e9);
	while (now < deadline) {
		size_t off = 0;

		while (off < job->size) {
			long n = ops->write(fd, buf + off, job->size - off);

			if (n <= 0) {
				ops->close(fd);
				return shoal_error_set(err, n ? (int)n : EPIPE,
						       "%s: tcp stream: write after %llu bytes",
						       ops->name, (unsigned long long)res->bytes);
			}
			off += (size_t)n;
		}
		res->bytes += job->size;
		now = net_now_ns();
	}
	res->seconds = (double)(now - start) / 1e9;
	ops->close(fd);
	return 0;
}

static int udp_stream_client(const struct net_sock_ops *ops, const struct net_job *job,
			     struct net_result *res, struct shoal_error *err)
{
	_cleanup_free_ unsigned char *buf = NULL;
	struct udp_hdr hdr = { .magic = UDP_MAGIC, .type = UDP_DATA };
	size_t len = job->size < sizeof(hdr) ? sizeof(hdr) : job->size;
	int64_t start, deadline, now;
	long fd, n;
	int i;

	buf = pattern_buffer(len);
	if (!buf)
		return shoal_error_set(err, ENOMEM, "udp stream: %zu-byte buffer", len);
	memcpy(buf, &hdr, sizeof(hdr));
	fd = ops->socket(NET_SOCK_UDP);
	if (fd < 0)
		return shoal_error_set(err, (int)fd, "%s: udp stream: socket", ops->name);
	if (set_opt(ops, (int)fd, NET_OPT_SNDTIMEO_MS, IO_TIMEOUT_MS, "SO_SNDTIMEO", err)) {
		ops->close((int)fd);
		return -EIO;
	}
	start = now = net_now_ns();
	deadline = start + (int64_t)(job->seconds * 1e9);
	while (now < deadline) {
		n = ops->sendto((int)fd, buf, len, &job->addr);
		if (n == (long)len) {
			res->datagrams++;
			res->bytes += len;
		} else if (n == -ENOBUFS || n == -EAGAIN || n == -ECONNREFUSED || n == -EINTR) {
			/* Refused by a full queue (or an ICMP error of a
			 * previous job's port): not sent, not lost. */
			res->send_errors++;
		} else {
			ops->close((int)fd);
			return shoal_error_set(err, n < 0 ? (int)n : EIO,
					       "%s: udp stream: sendto returned %ld", ops->name, n);
		}
		now = net_now_ns();
	}
	res->seconds = (double)(now - start) / 1e9;
	/* The end, said often: datagrams get lost, and the server's queue may
	 * still be full of data when the first markers come. */
	hdr.type = UDP_END;
	memcpy(buf, &hdr, sizeof(hdr));
	for (i = 0; i < UDP_END_MARKERS; i++) {
		ops->sendto((int)fd, buf, sizeof(hdr), &job->addr);
		sleep_ms(2);
	}
	ops->close((int)fd);
	return 0;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

static int tcp_rr_client(const struct net_sock_ops *ops, const struct net_job *job,
			 struct net_result *res, struct shoal_error *err)
{
	_cleanup_free_ float *us = NULL;
	size_t n = 0, cap = 0, rank;
	int64_t start, deadline, t0, t1 = 0;
	int fd, i;
	char c = 'x';

	fd = tcp_connect(ops, job, err);
	if (fd < 0)
		return fd;
	start = net_now_ns();
	deadline = start + (int64_t)(job->seconds * 1e9);
	for (i = 0;; i++) {
		long w, r;

		t0 = net_now_ns();
		if (t0 >= deadline && i >= RR_WARMUP)
			break;
		w = ops->write(fd, &c, 1);
		r = w == 1 ? ops->read(fd, &c, 1) : w;
		if (r != 1) {
			ops->close(fd);
			return shoal_error_set(err, r < 0 ? (int)r : EPIPE,
					       "%s: ping-pong after %d round trips", ops->name, i);
		}
		t1 = net_now_ns();
		if (i < RR_WARMUP)
			continue;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 65536;
			float *nus = realloc(us, ncap * sizeof(*nus));

			if (!nus) {
				ops->close(fd);
				return shoal_error_set(err, ENOMEM, "ping-pong: %zu samples", ncap);
			}
			us = nus;
			cap = ncap;
		}
		us[n++] = (float)((double)(t1 - t0) / 1e3);
	}
	ops->close(fd);
	res->seconds = (double)(t1 - start) / 1e9;
	res->rtts = n;
	res->bytes = n;
	if (!n)
		return shoal_error_set(err, 0, "%s: ping-pong: no round trip timed", ops->name);
	qsort(us, n, sizeof(*us), cmp_float);
	res->rtt_median_us = n % 2 ? us[n / 2] : (us[n / 2 - 1] + us[n / 2]) / 2;
	/* nearest rank */
	rank = (99 * n + 99) / 100;
	res->rtt_p99_us = us[rank - 1];
	return 0;
}

int net_stream_client(const struct net_sock_ops *ops, const struct net_job *job,
		      struct net_result *res, struct shoal_error *err)
{
	memset(res, 0, sizeof(*res));
	switch (job->kind) {
	case NET_JOB_TCP_STREAM:
		return tcp_stream_client(ops, job, res, err);
	case NET_JOB_UDP_STREAM:
		return udp_stream_client(ops, job, res, err);
	case NET_JOB_TCP_RR:
		return tcp_rr_client(ops, job, res, err);
	}
	return shoal_error_set(err, EINVAL, "job kind %d", (int)job->kind);
}
