// SPDX-License-Identifier: GPL-2.0
/*
 * The stream program's socket shim on host sockets: the native peer of
 * net-bench. Each member is the glibc call of the same name with the result
 * turned into the library kernel's convention (-errno on failure), so the
 * stream program sees the two worlds alike.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tests/bench/net-stream.h"

static long ret(long r)
{
	return r < 0 ? -errno : r;
}

static struct sockaddr_in host_addr(const struct net_addr *a)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(a->port);
	sin.sin_addr.s_addr = a->ip;
	return sin;
}

static long host_socket(enum net_sock_type type)
{
	return ret(socket(AF_INET, (type == NET_SOCK_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC,
			  0));
}

static long host_bind(int fd, const struct net_addr *addr)
{
	struct sockaddr_in sin = host_addr(addr);

	return ret(bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
}

static long host_listen(int fd, int backlog)
{
	return ret(listen(fd, backlog));
}

static long host_accept(int fd)
{
	return ret(accept4(fd, NULL, NULL, SOCK_CLOEXEC));
}

static long host_connect(int fd, const struct net_addr *addr)
{
	struct sockaddr_in sin = host_addr(addr);

	return ret(connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
}

static long host_read(int fd, void *buf, size_t len)
{
	return ret(read(fd, buf, len));
}

static long host_write(int fd, const void *buf, size_t len)
{
	return ret(write(fd, buf, len));
}

static long host_sendto(int fd, const void *buf, size_t len, const struct net_addr *to)
{
	struct sockaddr_in sin = host_addr(to);

	return ret(sendto(fd, buf, len, 0, (struct sockaddr *)&sin, sizeof(sin)));
}

static long host_recvfrom(int fd, void *buf, size_t len)
{
	return ret(recvfrom(fd, buf, len, 0, NULL, NULL));
}

static long host_close(int fd)
{
	return ret(close(fd));
}

static long host_setsockopt(int fd, enum net_sock_opt opt, int value)
{
	struct timeval tv = { .tv_sec = value / 1000, .tv_usec = (value % 1000) * 1000 };

	switch (opt) {
	case NET_OPT_REUSEADDR:
		return ret(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &value, sizeof(value)));
	case NET_OPT_NODELAY:
		return ret(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, sizeof(value)));
	case NET_OPT_RCVTIMEO_MS:
		return ret(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	case NET_OPT_SNDTIMEO_MS:
		return ret(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	}
	return -EINVAL;
}

const struct net_sock_ops net_sock_host = {
	.name = "host",
	.socket = host_socket,
	.bind = host_bind,
	.listen = host_listen,
	.accept = host_accept,
	.connect = host_connect,
	.read = host_read,
	.write = host_write,
	.sendto = host_sendto,
	.recvfrom = host_recvfrom,
	.close = host_close,
	.setsockopt = host_setsockopt,
};
