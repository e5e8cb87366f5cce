// SPDX-License-Identifier: GPL-2.0
/*
 * The stream program's socket shim on the library kernel: Shoal's side of
 * net-bench. Each member is the typed skl_sys_* wrapper of the same system
 * call, with the kernel's own structures and constants (prefixed SKL_), so
 * the stream program runs unchanged on the kernel booted in this process.
 * The calls already return -errno.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <skl.h>

#include "tests/bench/net-stream.h"

/* TCP_NODELAY of <linux/tcp.h>, which the renamed uapi set leaves out: the
 * value is part of Linux's ABI. */
#define NET_SKL_TCP_NODELAY 1

static struct skl_sockaddr_in lk_addr(const struct net_addr *a)
{
	struct skl_sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = SKL_AF_INET;
	sin.sin_port = htons(a->port);
	sin.sin_addr.s_addr = a->ip;
	return sin;
}

static long lk_socket(enum net_sock_type type)
{
	return skl_sys_socket(
		SKL_AF_INET,
		(type == NET_SOCK_TCP ? SKL_SOCK_STREAM : SKL_SOCK_DGRAM) | SKL_SOCK_CLOEXEC, 0);
}

static long lk_bind(int fd, const struct net_addr *addr)
{
	struct skl_sockaddr_in sin = lk_addr(addr);

	return skl_sys_bind(fd, (struct skl_sockaddr *)&sin, sizeof(sin));
}

static long lk_listen(int fd, int backlog)
{
	return skl_sys_listen(fd, backlog);
}

static long lk_accept(int fd)
{
	return skl_sys_accept4(fd, NULL, NULL, SKL_SOCK_CLOEXEC);
}

static long lk_connect(int fd, const struct net_addr *addr)
{
	struct skl_sockaddr_in sin = lk_addr(addr);

	return skl_sys_connect(fd, (struct skl_sockaddr *)&sin, sizeof(sin));
}

static long lk_read(int fd, void *buf, size_t len)
{
	return skl_sys_read((unsigned int)fd, buf, len);
}

static long lk_write(int fd, const void *buf, size_t len)
{
	return skl_sys_write((unsigned int)fd, buf, len);
}

static long lk_sendto(int fd, const void *buf, size_t len, const struct net_addr *to)
{
	struct skl_sockaddr_in sin = lk_addr(to);

	return skl_sys_sendto(fd, (void *)buf, len, 0, (struct skl_sockaddr *)&sin, sizeof(sin));
}

static long lk_recvfrom(int fd, void *buf, size_t len)
{
	return skl_sys_recvfrom(fd, buf, len, 0, NULL, NULL);
}

static long lk_close(int fd)
{
	return skl_sys_close((unsigned int)fd);
}

static long lk_setsockopt(int fd, enum net_sock_opt opt, int value)
{
	struct skl_timeval tv = { .tv_sec = value / 1000, .tv_usec = (value % 1000) * 1000 };

	switch (opt) {
	case NET_OPT_REUSEADDR:
		return skl_sys_setsockopt(fd, SKL_SOL_SOCKET, SKL_SO_REUSEADDR, (char *)&value,
					  sizeof(value));
	case NET_OPT_NODELAY:
		return skl_sys_setsockopt(fd, SKL_IPPROTO_TCP, NET_SKL_TCP_NODELAY, (char *)&value,
					  sizeof(value));
	case NET_OPT_RCVTIMEO_MS:
		return skl_sys_setsockopt(fd, SKL_SOL_SOCKET, SKL_SO_RCVTIMEO_OLD, (char *)&tv,
					  sizeof(tv));
	case NET_OPT_SNDTIMEO_MS:
		return skl_sys_setsockopt(fd, SKL_SOL_SOCKET, SKL_SO_SNDTIMEO_OLD, (char *)&tv,
					  sizeof(tv));
	}
	return -EINVAL;
}

const struct net_sock_ops net_sock_skl = {
	.name = "skl",
	.socket = lk_socket,
	.bind = lk_bind,
	.listen = lk_listen,
	.accept = lk_accept,
	.connect = lk_connect,
	.read = lk_read,
	.write = lk_write,
	.sendto = lk_sendto,
	.recvfrom = lk_recvfrom,
	.close = lk_close,
	.setsockopt = lk_setsockopt,
};
