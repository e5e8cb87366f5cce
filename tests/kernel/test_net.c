// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's own TCP/IP stack over its loopback device: TCP between two
 * host threads (server and client) moving 64 MiB with a checksum, and UDP.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "tests/kernel/knet.h"

enum { TCP_TOTAL = 64 * 1024 * 1024, TCP_CHUNK = 64 * 1024 };

static uint32_t fnv1a(const unsigned char *p, size_t n, uint32_t h)
{
	while (n--) {
		h ^= *p++;
		h *= 16777619u;
	}
	return h;
}

struct tcp_server {
	long listen_fd;
	long received;
	uint32_t hash;
	long error;
};

static void *tcp_server_run(void *arg)
{
	static unsigned char buf[TCP_CHUNK];
	struct tcp_server *s = arg;
	long fd, n;

	s->hash = 2166136261u;
	fd = skl_sys_accept4((int)s->listen_fd, NULL, NULL, 0);
	if (fd < 0) {
		s->error = fd;
		return NULL;
	}
	while ((n = skl_sys_read((unsigned int)fd, (char *)buf, sizeof(buf))) > 0) {
		s->hash = fnv1a(buf, (size_t)n, s->hash);
		s->received += n;
	}
	if (n < 0)
		s->error = n;
	skl_sys_close((unsigned int)fd);
	return NULL;
}

TEST_TIMEOUT(tcp_loopback_64mib_checksum, 180)
{
	static unsigned char buf[TCP_CHUNK];
	struct skl_sockaddr_in addr;
	struct tcp_server server = { 0 };
	uint32_t hash = 2166136261u;
	pthread_t t;
	long fd, i, sent = 0;
	int one = 1;

	kboot();
	knet_lo_up();
	server.listen_fd = SYS_OK(skl_sys_socket(SKL_AF_INET, SKL_SOCK_STREAM, 0));
	SYS_OK(skl_sys_setsockopt((int)server.listen_fd, SKL_SOL_SOCKET, SKL_SO_REUSEADDR,
				  (char *)&one, sizeof(one)));
	addr = knet_addr(5001);
	SYS_OK(skl_sys_bind((int)server.listen_fd, (void *)&addr, sizeof(addr)));
	SYS_OK(skl_sys_listen((int)server.listen_fd, 4));
	CHECK_EQ_INT(pthread_create(&t, NULL, tcp_server_run, &server), 0);

	fd = SYS_OK(skl_sys_socket(SKL_AF_INET, SKL_SOCK_STREAM, 0));
	SYS_OK(skl_sys_connect((int)fd, (void *)&addr, sizeof(addr)));
	for (i = 0; i < TCP_TOTAL / TCP_CHUNK; i++) {
		long off = 0;
		size_t j;

		for (j = 0; j < TCP_CHUNK; j++)
			buf[j] = (unsigned char)(i * 31 + j * 13 + (j >> 8));
		hash = fnv1a(buf, TCP_CHUNK, hash);
		while (off < TCP_CHUNK) {
			long n = SYS_OK(skl_sys_write((unsigned int)fd, (char *)buf + off,
						      (size_t)(TCP_CHUNK - off)));
			off += n;
		}
		sent += off;
	}
	SYS_OK(skl_sys_close((unsigned int)fd));
	CHECK_EQ_INT(pthread_join(t, NULL), 0);
	CHECK_EQ_INT(server.error, 0);
	CHECK_EQ_INT(sent, TCP_TOTAL);
	CHECK_EQ_INT(server.received, TCP_TOTAL);
	CHECK_EQ_INT(server.hash, hash);
	CHECK_EQ_INT(skl_halt(), 0);
}

TEST(udp_loopback_datagrams)
{
	struct skl_sockaddr_in a = knet_addr(5002), b = knet_addr(5003), from;
	char buf[2048];
	long sa, sb, i;
	int fromlen;

	kboot();
	knet_lo_up();
	sa = SYS_OK(skl_sys_socket(SKL_AF_INET, SKL_SOCK_DGRAM, 0));
	sb = SYS_OK(skl_sys_socket(SKL_AF_INET, SKL_SOCK_DGRAM, 0));
	SYS_OK(skl_sys_bind((int)sa, (void *)&a, sizeof(a)));
	SYS_OK(skl_sys_bind((int)sb, (void *)&b, sizeof(b)));
	for (i = 0; i < 100; i++) {
		size_t len = 1 + (size_t)(i * 17) % 1400;

		memset(buf, (int)i, len);
		CHECK_EQ_INT(skl_sys_sendto((int)sa, buf, len, 0, (void *)&b, sizeof(b)), len);
		memset(buf, 0, sizeof(buf));
		fromlen = sizeof(from);
		CHECK_EQ_INT(
			skl_sys_recvfrom((int)sb, buf, sizeof(buf), 0, (void *)&from, &fromlen),
			len);
		CHECK_EQ_INT((unsigned char)buf[len - 1], (unsigned char)i);
		CHECK_EQ_INT(ntohs(from.sin_port), 5002);
		/* and back */
		CHECK_EQ_INT(skl_sys_sendto((int)sb, buf, len, 0, (void *)&a, sizeof(a)), len);
		CHECK_EQ_INT(skl_sys_recvfrom((int)sa, buf, sizeof(buf), 0, NULL, NULL), len);
	}
	/* Nothing bound there: the kernel answers with ICMP and the socket errors. */
	{
		struct skl_sockaddr_in c = knet_addr(5004);

		SYS_OK(skl_sys_connect((int)sa, (void *)&c, sizeof(c)));
		CHECK_EQ_INT(skl_sys_sendto((int)sa, "x", 1, 0, NULL, 0), 1);
		CHECK_EQ_INT(skl_sys_recvfrom((int)sa, buf, sizeof(buf), 0, NULL, NULL),
			     -ECONNREFUSED);
	}
	CHECK_EQ_INT(skl_halt(), 0);
}
