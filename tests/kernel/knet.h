/* SPDX-License-Identifier: GPL-2.0 */
/* Loopback helpers for the kernel's own network stack. */
#ifndef SHOAL_TESTS_KERNEL_KNET_H
#define SHOAL_TESTS_KERNEL_KNET_H

#include <arpa/inet.h>

#include "tests/kernel/kboot.h"

/* Bring the kernel's lo up through its own ioctl. */
static inline void knet_lo_up(void)
{
	struct skl_ifreq ifr;
	long s = SYS_OK(skl_sys_socket(SKL_AF_INET, SKL_SOCK_DGRAM, 0));

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.skl_ifr_name, "lo");
	SYS_OK(skl_sys_ioctl((unsigned int)s, SKL_SIOCGIFFLAGS, (unsigned long)&ifr));
	ifr.skl_ifr_flags |= SKL_IFF_UP;
	SYS_OK(skl_sys_ioctl((unsigned int)s, SKL_SIOCSIFFLAGS, (unsigned long)&ifr));
	SYS_OK(skl_sys_close((unsigned int)s));
}

static inline struct skl_sockaddr_in knet_addr(unsigned short port)
{
	struct skl_sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = SKL_AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

#endif
