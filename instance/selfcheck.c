// SPDX-License-Identifier: GPL-2.0
/*
 * --selfcheck: the kind of checks tests/kernel makes, run inside a ready,
 * locked-down instance (namespaces, no capabilities, seccomp filter loaded),
 * to show that the library kernel keeps working under the lock-down: file
 * I/O, a pipe, TCP and UDP over loopback, epoll with an eventfd, getrandom.
 * Everything runs on the instance's main thread, through system calls into
 * the instance kernel, with non-blocking sockets and ppoll inside the kernel
 * where two ends must take turns. The report goes to /run/shoal/selfcheck
 * inside the instance (one "PASS name" or "FAIL name: why" line per check,
 * then a total), where the supervisor reads it with `file_get`, and the total
 * goes to the kernel log. No host system call beyond the allow-list is made,
 * or the instance dies of SIGSYS, which is the point.
 *
 * Test-only, with --selfcheck-peer A[,MIB]: two more checks against another
 * instance at A on the same link, which runs the same (tests/instance/
 * test_network.c). net_peer_ping: this kernel sends ICMP echo requests to A
 * from a raw socket until 3 replies came (10 s at most: the peer may still be
 * booting); the peer's kernel answers them. net_peer_tcp: listen on port
 * 5201, connect to A:5201, and both ways at once send MIB MiB of a pattern
 * seeded with A's last octet and receive the peer's; the line reports the
 * FNV-1a 64 hash of what was sent and of what was received, which the test
 * compares with its own of the pattern.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <skl.h>

#include "api/log.h"
#include "instance/instance.h"

#define SELFCHECK_REPORT "/run/shoal/selfcheck"

static unsigned char selfcheck_buf[64 * 1024], selfcheck_back[64 * 1024];

struct selfcheck {
	char report[4096];
	size_t len;
	int passed, failed;
};

static void selfcheck_line(struct selfcheck *sc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void selfcheck_line(struct selfcheck *sc, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(sc->report + sc->len, sizeof(sc->report) - sc->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		sc->len += (size_t)n < sizeof(sc->report) - sc->len
				   ? (size_t)n
				   : sizeof(sc->report) - sc->len - 1;
}

static void selfcheck_fill(unsigned char *buf, size_t len, uint64_t pos)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)((pos + i) * 2654435761u >> 13);
}

/* Each check returns NULL or what went wrong (a static string). */
#define CHECK_SYS(call, what)         \
	do {                          \
		if ((long)(call) < 0) \
			return what;  \
	} while (0)

static const char *selfcheck_file_io(void)
{
	const size_t total = 4u << 20;
	size_t pos;
	long fd, n;

	fd = skl_sys_openat(SKL_AT_FDCWD, "/tmp/.selfcheck", SKL_O_RDWR | SKL_O_CREAT | SKL_O_TRUNC,
			    0600);
	CHECK_SYS(fd, "open /tmp/.selfcheck");
	for (pos = 0; pos < total; pos += sizeof(selfcheck_buf)) {
		selfcheck_fill(selfcheck_buf, sizeof(selfcheck_buf), pos);
		n = skl_sys_write((unsigned int)fd, (char *)selfcheck_buf, sizeof(selfcheck_buf));
		if (n != (long)sizeof(selfcheck_buf))
			return "write";
	}
	CHECK_SYS(skl_sys_fsync((unsigned int)fd), "fsync");
	for (pos = 0; pos < total; pos += sizeof(selfcheck_buf)) {
		n = skl_sys_pread64((unsigned int)fd, (char *)selfcheck_back,
				    sizeof(selfcheck_back), (long long)pos);
		selfcheck_fill(selfcheck_buf, sizeof(selfcheck_buf), pos);
		if (n != (long)sizeof(selfcheck_back) ||
		    memcmp(selfcheck_buf, selfcheck_back, sizeof(selfcheck_buf)))
			return "read back different bytes";
	}
	skl_sys_close((unsigned int)fd);
	CHECK_SYS(skl_sys_renameat2(SKL_AT_FDCWD, "/tmp/.selfcheck", SKL_AT_FDCWD,
				    "/tmp/.selfcheck2", 0),
		  "rename");
	CHECK_SYS(skl_sys_unlinkat(SKL_AT_FDCWD, "/tmp/.selfcheck2", 0), "unlink");
	return NULL;
}

static const char *selfcheck_pipe(void)
{
	const size_t total = 1u << 20, piece = 16 * 1024;
	int fds[2];
	size_t pos;

	CHECK_SYS(skl_sys_pipe2(fds, SKL_O_CLOEXEC), "pipe2");
	for (pos = 0; pos < total; pos += piece) {
		selfcheck_fill(selfcheck_buf, piece, pos);
		if (skl_sys_write((unsigned int)fds[1], (char *)selfcheck_buf, piece) !=
			    (long)piece ||
		    skl_sys_read((unsigned int)fds[0], (char *)selfcheck_back, piece) !=
			    (long)piece ||
		    memcmp(selfcheck_buf, selfcheck_back, piece))
			return "bytes through the pipe differ";
	}
	skl_sys_close((unsigned int)fds[0]);
	skl_sys_close((unsigned int)fds[1]);
	return NULL;
}

static struct skl_sockaddr_in selfcheck_loopback(unsigned short port)
{
	struct skl_sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = SKL_AF_INET;
	a.sin_port = port;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* Wait (inside the instance kernel) until @fd has @events; false after 5 s. */
static bool selfcheck_wait(long fd, short events)
{
	struct skl_pollfd pfd = { .fd = (int)fd, .events = events };
	struct __skl__kernel_timespec ts = { .tv_sec = 5 };

	return skl_sys_ppoll(&pfd, 1, &ts, NULL, 0) == 1;
}

static const char *selfcheck_tcp(void)
{
	const uint64_t total = 8u << 20;
	struct skl_sockaddr_in a = selfcheck_loopback(0);
	int alen = sizeof(a);
	uint64_t sent = 0, got = 0;
	long ls, cs, ss, n;

	ls = skl_sys_socket(SKL_AF_INET, SKL_SOCK_STREAM | SKL_SOCK_CLOEXEC, 0);
	CHECK_SYS(ls, "socket");
	CHECK_SYS(skl_sys_bind((int)ls, (void *)&a, sizeof(a)), "bind 127.0.0.1");
	CHECK_SYS(skl_sys_listen((int)ls, 1), "listen");
	CHECK_SYS(skl_sys_getsockname((int)ls, (void *)&a, &alen), "getsockname");
	cs = skl_sys_socket(SKL_AF_INET, SKL_SOCK_STREAM | SKL_SOCK_NONBLOCK | SKL_SOCK_CLOEXEC, 0);
	CHECK_SYS(cs, "socket");
	n = skl_sys_connect((int)cs, (void *)&a, sizeof(a));
	if (n < 0 && n != -SKL_EINPROGRESS)
		return "connect";
	if (!selfcheck_wait(ls, SKL_POLLIN))
		return "no connection to accept";
	ss = skl_sys_accept4((int)ls, NULL, NULL, SKL_SOCK_NONBLOCK | SKL_SOCK_CLOEXEC);
	CHECK_SYS(ss, "accept");
	while (got < total) {
		struct skl_pollfd pfd[2] = { { .fd = (int)cs, .events = SKL_POLLOUT },
					     { .fd = (int)ss, .events = SKL_POLLIN } };
		struct __skl__kernel_timespec ts = { .tv_sec = 5 };

		if (sent < total) {
			size_t len = sizeof(selfcheck_buf);

			if (total - sent < len)
				len = (size_t)(total - sent);
			selfcheck_fill(selfcheck_buf, len, sent);
			n = skl_sys_write((unsigned int)cs, (char *)selfcheck_buf, len);
			if (n > 0)
				sent += (uint64_t)n;
			else if (n != -SKL_EAGAIN)
				return "send";
		}
		n = skl_sys_read((unsigned int)ss, (char *)selfcheck_back, sizeof(selfcheck_back));
		if (n > 0) {
			selfcheck_fill(selfcheck_buf, (size_t)n, got);
			if (memcmp(selfcheck_buf, selfcheck_back, (size_t)n))
				return "received different bytes";
			got += (uint64_t)n;
		} else if (n == 0) {
			return "connection closed early";
		} else if (n != -SKL_EAGAIN) {
			return "receive";
		}
		if (n == -SKL_EAGAIN && skl_sys_ppoll(pfd, 2, &ts, NULL, 0) <= 0)
			return "stalled for 5 s";
	}
	skl_sys_close((unsigned int)cs);
	skl_sys_close((unsigned int)ss);
	skl_sys_close((unsigned int)ls);
	return NULL;
}

static const char *selfcheck_udp(void)
{
	struct skl_sockaddr_in a = selfcheck_loopback(0);
	int alen = sizeof(a), i;
	long rs, ws;

	rs = skl_sys_socket(SKL_AF_INET, SKL_SOCK_DGRAM | SKL_SOCK_CLOEXEC, 0);
	ws = skl_sys_socket(SKL_AF_INET, SKL_SOCK_DGRAM | SKL_SOCK_CLOEXEC, 0);
	CHECK_SYS(rs, "socket");
	CHECK_SYS(ws, "socket");
	CHECK_SYS(skl_sys_bind((int)rs, (void *)&a, sizeof(a)), "bind");
	CHECK_SYS(skl_sys_getsockname((int)rs, (void *)&a, &alen), "getsockname");
	for (i = 0; i < 100; i++) {
		unsigned char d[512];

		memset(d, i, sizeof(d));
		if (skl_sys_sendto((int)ws, d, sizeof(d), 0, (void *)&a, sizeof(a)) !=
		    (long)sizeof(d))
			return "sendto";
		if (!selfcheck_wait(rs, SKL_POLLIN) ||
		    skl_sys_recvfrom((int)rs, selfcheck_back, sizeof(selfcheck_back), 0, NULL,
				     NULL) != (long)sizeof(d) ||
		    memcmp(d, selfcheck_back, sizeof(d)))
			return "datagram lost or changed";
	}
	skl_sys_close((unsigned int)rs);
	skl_sys_close((unsigned int)ws);
	return NULL;
}

static const char *selfcheck_epoll(void)
{
	struct skl_epoll_event ev = { .events = SKL_EPOLLIN, .data = 42 }, out;
	uint64_t one = 1;
	long ep, efd;

	ep = skl_sys_epoll_create1(SKL_EPOLL_CLOEXEC);
	efd = skl_sys_eventfd2(0, SKL_EFD_CLOEXEC);
	CHECK_SYS(ep, "epoll_create1");
	CHECK_SYS(efd, "eventfd2");
	CHECK_SYS(skl_sys_epoll_ctl((int)ep, SKL_EPOLL_CTL_ADD, (int)efd, &ev), "epoll_ctl");
	if (skl_sys_epoll_pwait((int)ep, &out, 1, 0, NULL, 0) != 0)
		return "ready before the write";
	CHECK_SYS(skl_sys_write((unsigned int)efd, (char *)&one, sizeof(one)), "eventfd write");
	if (skl_sys_epoll_pwait((int)ep, &out, 1, 1000, NULL, 0) != 1 || out.data != 42)
		return "not ready after the write";
	skl_sys_close((unsigned int)efd);
	skl_sys_close((unsigned int)ep);
	return NULL;
}

static const char *selfcheck_random(void)
{
	unsigned char a[32] = { 0 }, b[32] = { 0 };

	if (skl_sys_getrandom((char *)a, sizeof(a), 0) != sizeof(a) ||
	    skl_sys_getrandom((char *)b, sizeof(b), 0) != sizeof(b) || !memcmp(a, b, sizeof(a)))
		return "getrandom";
	return NULL;
}

#define PEER_PORT 5201
#define PEER_DEADLINE_MS 10000

static uint64_t selfcheck_ms(void)
{
	return instance_now_us() / 1000;
}

/* The peer pattern: like selfcheck_fill(), but seeded by the receiver. */
static void peer_fill(unsigned char *buf, size_t len, uint64_t pos, unsigned char seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(((pos + i) * 2654435761u >> 13) ^ seed);
}

static uint64_t peer_fnv(uint64_t h, const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static uint16_t peer_csum(const unsigned char *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Echo requests to @peer until 3 replies came; NULL or what went wrong. */
static const char *peer_ping(uint32_t peer, int *replies, int *sent)
{
	const uint16_t ident = 0x5348;
	struct skl_sockaddr_in a;
	uint64_t end = selfcheck_ms() + PEER_DEADLINE_MS;
	long s;

	memset(&a, 0, sizeof(a));
	a.sin_family = SKL_AF_INET;
	a.sin_addr.s_addr = peer;
	s = skl_sys_socket(SKL_AF_INET, SKL_SOCK_RAW | SKL_SOCK_CLOEXEC, SKL_IPPROTO_ICMP);
	CHECK_SYS(s, "raw ICMP socket");
	*replies = *sent = 0;
	while (*replies < 3 && selfcheck_ms() < end) {
		unsigned char req[64] = { 8, 0 }, in[256];
		uint16_t sum;
		uint64_t wait_end = selfcheck_ms() + 200;

		req[4] = ident >> 8;
		req[5] = ident & 0xff;
		req[6] = (unsigned char)(*sent >> 8);
		req[7] = (unsigned char)*sent;
		memset(req + 8, 0xa5, sizeof(req) - 8);
		sum = peer_csum(req, sizeof(req));
		req[2] = sum >> 8;
		req[3] = sum & 0xff;
		if (skl_sys_sendto((int)s, req, sizeof(req), 0, (void *)&a, sizeof(a)) ==
		    (long)sizeof(req))
			(*sent)++;
		/* Replies, skipping what else the raw socket sees (the peer's requests). */
		while (selfcheck_ms() < wait_end) {
			struct skl_pollfd pfd = { .fd = (int)s, .events = SKL_POLLIN };
			struct __skl__kernel_timespec ts = { .tv_nsec = 20 * 1000 * 1000 };
			long n;
			size_t ihl;

			if (skl_sys_ppoll(&pfd, 1, &ts, NULL, 0) != 1)
				continue;
			n = skl_sys_recvfrom((int)s, in, sizeof(in), SKL_MSG_DONTWAIT, NULL, NULL);
			if (n < 20)
				continue;
			ihl = (size_t)(in[0] & 15) * 4;
			if ((size_t)n >= ihl + 8 && !memcmp(in + 12, &peer, 4) && in[ihl] == 0 &&
			    in[ihl + 4] == ident >> 8 && in[ihl + 5] == (ident & 0xff)) {
				(*replies)++;
				break;
			}
		}
	}
	skl_sys_close((unsigned int)s);
	return *replies >= 3 ? NULL : "fewer than 3 echo replies in 10 s";
}

struct peer_tcp {
	uint64_t total, sent, got, sent_hash, got_hash;
};

static long peer_connect(uint32_t peer)
{
	struct skl_sockaddr_in a;
	long cs, n;

	memset(&a, 0, sizeof(a));
	a.sin_family = SKL_AF_INET;
	a.sin_port = htons(PEER_PORT);
	a.sin_addr.s_addr = peer;
	cs = skl_sys_socket(SKL_AF_INET, SKL_SOCK_STREAM | SKL_SOCK_NONBLOCK | SKL_SOCK_CLOEXEC, 0);
	if (cs < 0)
		return cs;
	n = skl_sys_connect((int)cs, (void *)&a, sizeof(a));
	if (n < 0 && n != -SKL_EINPROGRESS) {
		skl_sys_close((unsigned int)cs);
		return n;
	}
	return cs;
}

/*
 * Listen, connect (again after a refusal, until the deadline), accept, then
 * send and receive at once on non-blocking sockets, waiting in ppoll.
 */
static const char *peer_tcp(uint32_t peer, struct peer_tcp *pt)
{
	const unsigned char seed = ((const unsigned char *)&peer)[3];
	struct skl_sockaddr_in a;
	uint64_t end = selfcheck_ms() + PEER_DEADLINE_MS;
	bool connected = false;
	long ls, cs = -1, ss = -1, n;
	int one = 1;
	const char *why = NULL;

	pt->sent_hash = pt->got_hash = 0xcbf29ce484222325ull;
	memset(&a, 0, sizeof(a));
	a.sin_family = SKL_AF_INET;
	a.sin_port = htons(PEER_PORT);
	ls = skl_sys_socket(SKL_AF_INET, SKL_SOCK_STREAM | SKL_SOCK_NONBLOCK | SKL_SOCK_CLOEXEC, 0);
	CHECK_SYS(ls, "socket");
	skl_sys_setsockopt((int)ls, SKL_SOL_SOCKET, SKL_SO_REUSEADDR, (char *)&one, sizeof(one));
	if (skl_sys_bind((int)ls, (void *)&a, sizeof(a)) < 0 || skl_sys_listen((int)ls, 1) < 0) {
		skl_sys_close((unsigned int)ls);
		return "listen on port 5201";
	}
	while (pt->sent < pt->total || pt->got < pt->total) {
		struct skl_pollfd pfd[3] = { { .fd = -1 }, { .fd = -1 }, { .fd = -1 } };
		struct __skl__kernel_timespec ts = { .tv_nsec = 100 * 1000 * 1000 };
		bool progress = false;

		if (selfcheck_ms() >= end) {
			why = "not done in 10 s";
			break;
		}
		if (cs < 0) {
			cs = peer_connect(peer);
			if (cs < 0) {
				why = "connect";
				break;
			}
		}
		if (ss < 0) {
			ss = skl_sys_accept4((int)ls, NULL, NULL,
					     SKL_SOCK_NONBLOCK | SKL_SOCK_CLOEXEC);
			if (ss < 0 && ss != -SKL_EAGAIN) {
				why = "accept";
				break;
			}
			progress = ss >= 0;
		}
		if (!connected) {
			int err = 0, len = sizeof(err);
			struct skl_pollfd p = { .fd = (int)cs, .events = SKL_POLLOUT };
			struct __skl__kernel_timespec zero = { 0 };

			if (skl_sys_ppoll(&p, 1, &zero, NULL, 0) == 1) {
				skl_sys_getsockopt((int)cs, SKL_SOL_SOCKET, SKL_SO_ERROR,
						   (char *)&err, &len);
				if (err) {
					/* Refused: the peer is not listening yet. */
					skl_sys_close((unsigned int)cs);
					cs = -1;
				} else {
					connected = true;
					progress = true;
				}
			}
		}
		if (connected && pt->sent < pt->total) {
			size_t len = sizeof(selfcheck_buf);

			if (pt->total - pt->sent < len)
				len = (size_t)(pt->total - pt->sent);
			peer_fill(selfcheck_buf, len, pt->sent, seed);
			n = skl_sys_write((unsigned int)cs, (char *)selfcheck_buf, len);
			if (n > 0) {
				pt->sent_hash = peer_fnv(pt->sent_hash, selfcheck_buf, (size_t)n);
				pt->sent += (uint64_t)n;
				progress = true;
			} else if (n != -SKL_EAGAIN) {
				why = "send";
				break;
			}
		}
		if (ss >= 0 && pt->got < pt->total) {
			n = skl_sys_read((unsigned int)ss, (char *)selfcheck_back,
					 sizeof(selfcheck_back));
			if (n > 0) {
				pt->got_hash = peer_fnv(pt->got_hash, selfcheck_back, (size_t)n);
				pt->got += (uint64_t)n;
				progress = true;
			} else if (n == 0) {
				why = "connection closed early";
				break;
			} else if (n != -SKL_EAGAIN) {
				why = "receive";
				break;
			}
		}
		if (progress)
			continue;
		if (ss < 0) {
			pfd[0].fd = (int)ls;
			pfd[0].events = SKL_POLLIN;
		} else if (pt->got < pt->total) {
			pfd[0].fd = (int)ss;
			pfd[0].events = SKL_POLLIN;
		}
		if (cs >= 0 && (!connected || pt->sent < pt->total)) {
			pfd[1].fd = (int)cs;
			pfd[1].events = SKL_POLLOUT;
		}
		skl_sys_ppoll(pfd, 3, &ts, NULL, 0);
	}
	if (cs >= 0)
		skl_sys_close((unsigned int)cs);
	if (ss >= 0)
		skl_sys_close((unsigned int)ss);
	skl_sys_close((unsigned int)ls);
	return why;
}

static void selfcheck_peer(struct instance *in, struct selfcheck *sc)
{
	struct peer_tcp pt = { .total = (uint64_t)in->opt.selfcheck_peer_mib << 20 };
	uint32_t peer = in->opt.selfcheck_peer;
	char addr[INET_ADDRSTRLEN];
	int replies = 0, sent = 0;
	const char *why;

	inet_ntop(AF_INET, &peer, addr, sizeof(addr));
	why = peer_ping(peer, &replies, &sent);
	selfcheck_line(sc, "%s net_peer_ping%s%s: %s %d sent %d replies\n", why ? "FAIL" : "PASS",
		       why ? " " : "", why ? why : "", addr, sent, replies);
	if (why)
		sc->failed++;
	else
		sc->passed++;
	why = peer_tcp(peer, &pt);
	selfcheck_line(
		sc, "%s net_peer_tcp%s%s: %s sent %llu fnv1a %016llx received %llu fnv1a %016llx\n",
		why ? "FAIL" : "PASS", why ? " " : "", why ? why : "", addr,
		(unsigned long long)pt.sent, (unsigned long long)pt.sent_hash,
		(unsigned long long)pt.got, (unsigned long long)pt.got_hash);
	if (why)
		sc->failed++;
	else
		sc->passed++;
}

int selfcheck_run(struct instance *in)
{
	static const struct {
		const char *name;
		const char *(*fn)(void);
	} checks[] = {
		{ "file_io", selfcheck_file_io },     { "pipe", selfcheck_pipe },
		{ "tcp_loopback", selfcheck_tcp },    { "udp_loopback", selfcheck_udp },
		{ "epoll_eventfd", selfcheck_epoll }, { "getrandom", selfcheck_random },
	};
	struct selfcheck sc = { .len = 0 };
	size_t i, off = 0;
	long fd;

	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		const char *why = checks[i].fn();

		if (why) {
			selfcheck_line(&sc, "FAIL %s: %s\n", checks[i].name, why);
			sc.failed++;
		} else {
			selfcheck_line(&sc, "PASS %s\n", checks[i].name);
			sc.passed++;
		}
	}
	if (in->opt.selfcheck_peer)
		selfcheck_peer(in, &sc);
	selfcheck_line(&sc, "selfcheck: %d passed, %d failed\n", sc.passed, sc.failed);
	skl_sys_mkdirat(SKL_AT_FDCWD, "/run/shoal", 0755);
	fd = skl_sys_openat(SKL_AT_FDCWD, SELFCHECK_REPORT,
			    SKL_O_WRONLY | SKL_O_CREAT | SKL_O_TRUNC, 0644);
	while (fd >= 0 && off < sc.len) {
		long n = skl_sys_write((unsigned int)fd, sc.report + off, sc.len - off);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (fd >= 0)
		skl_sys_close((unsigned int)fd);
	fd = skl_sys_openat(SKL_AT_FDCWD, "/dev/kmsg", SKL_O_WRONLY | SKL_O_CLOEXEC, 0);
	if (fd >= 0) {
		/* With its newline: a record without one waits for more text. */
		char line[80];
		int n = snprintf(line, sizeof(line),
				 "shoal-instance selfcheck: %d passed, %d failed\n", sc.passed,
				 sc.failed);

		skl_sys_write((unsigned int)fd, line, (size_t)n);
		skl_sys_close((unsigned int)fd);
	}
	shoal_log_info("selfcheck: %d passed, %d failed", sc.passed, sc.failed);
	return sc.failed ? -EIO : 0;
}
