/* SPDX-License-Identifier: GPL-2.0 */
/*
 * skl_net.h: network configuration of the library kernel, from the program
 * that booted it.
 *
 * Everything here is done inside the library kernel through its own
 * rtnetlink, with the skl_sys_* system calls: the host's libnl or ip(8)
 * would configure the host's interfaces instead. Each call opens a netlink
 * socket in the kernel, sends one request with NLM_F_ACK, reads the answer
 * and closes the socket, so calls may come from any host thread once the
 * kernel is booted, concurrently too; nothing is cached between calls.
 *
 * Conventions: every function returns 0 (or an interface index > 0) on
 * success and -errno on failure: the kernel's own answer, or -EINVAL and
 * friends for arguments rejected before anything is sent. The last two
 * parameters are an optional buffer (err may be NULL) that receives, on
 * failure only, one line saying what failed with which value, e.g.
 * "add address 198.18.0.5/16 to ifindex 2: File exists"; when the kernel
 * explains itself (netlink extended ack) its words follow in parentheses.
 * Addresses are 4 (SKL_AF_INET) or 16 (SKL_AF_INET6) bytes in network
 * order; MAC addresses are 6 bytes. Nothing is kept of any pointer passed
 * in. Before skl_boot and after skl_halt every call returns -ENODEV.
 */
#ifndef SKL_NET_H
#define SKL_NET_H

#include <stddef.h>

#include <skl.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * skl_net_ifindex - index of the interface named @ifname
 *
 * Returns the index (> 0), -ENODEV if the kernel has no such interface,
 * or -EINVAL for a NULL, empty or too long (>= SKL_IFNAMSIZ) name.
 */
int skl_net_ifindex(const char *ifname, char *err, size_t errlen);

/**
 * skl_net_ifindex_by_mac - index of the interface whose address is @mac
 *
 * Walks the kernel's interfaces (an RTM_GETLINK dump) and returns the first
 * one, in index order, whose hardware address is @mac: how a program finds
 * the device that the host gave a known MAC. -ENODEV if none has it.
 */
int skl_net_ifindex_by_mac(const unsigned char mac[6], char *err,
			   size_t errlen);

/** skl_net_link_up - set IFF_UP on interface @ifindex; -ENODEV if none. */
int skl_net_link_up(int ifindex, char *err, size_t errlen);

/** skl_net_link_down - clear IFF_UP on interface @ifindex. */
int skl_net_link_down(int ifindex, char *err, size_t errlen);

/**
 * skl_net_set_mtu - set the MTU of interface @ifindex
 *
 * The driver's limits apply (-EINVAL outside them). Note that Linux takes
 * IPv6 off a device whose MTU drops below 1280 and IPv4 below 68, together
 * with their addresses; raising the MTU again does not bring those back
 * (lo gets 127.0.0.1 and ::1 again on its next link up), and adding an
 * IPv4 address meanwhile fails with -ENOBUFS.
 */
int skl_net_set_mtu(int ifindex, unsigned int mtu, char *err, size_t errlen);

/**
 * skl_net_set_mac - set the hardware address of interface @ifindex
 *
 * -EADDRNOTAVAIL for a multicast or all-zero address, -EOPNOTSUPP for a
 * device that cannot change it, -EBUSY for one that must be down first.
 */
int skl_net_set_mac(int ifindex, const unsigned char mac[6], char *err,
		    size_t errlen);

/**
 * skl_net_add_addr - add an address to interface @ifindex
 * @family: SKL_AF_INET or SKL_AF_INET6 (else -EAFNOSUPPORT)
 * @addr: 4 or 16 bytes, network order
 * @prefixlen: 0-32 or 0-128 (else -EINVAL)
 *
 * The kernel adds the prefix route too. IPv6 addresses are added without
 * duplicate address detection (IFA_F_NODAD): the host hands them out, and
 * they are usable at once instead of tentative for a second. An IPv4
 * address in 127.0.0.0/8 gets host scope, as ip(8) gives it. -EEXIST if
 * the interface already has it.
 */
int skl_net_add_addr(int ifindex, int family, const void *addr, int prefixlen,
		     char *err, size_t errlen);

/**
 * skl_net_add_addr_str - skl_net_add_addr from "198.18.0.5/16" or
 * "fd00::5/64"
 *
 * The prefix length is required: a forgotten one would silently become a
 * host route. -EINVAL, with a message quoting @cidr, for anything that is
 * not an address, a '/' and 1-3 decimal digits within the family's range.
 */
int skl_net_add_addr_str(int ifindex, const char *cidr, char *err,
			 size_t errlen);

/**
 * skl_net_add_route - add a unicast route to the main table
 * @family: SKL_AF_INET or SKL_AF_INET6
 * @dst: the destination prefix (ignored when @prefixlen is 0: default)
 * @gateway: next hop of the same family, or NULL for an on-link route
 * @ifindex: output interface, or 0 to let the kernel find it from @gateway
 *
 * One of @gateway and @ifindex is required. Routes are added with
 * RTPROT_STATIC; -EEXIST if the table already has that route. The kernel
 * checks that @gateway is reachable through a route without a gateway of
 * its own: if not, -ENETUNREACH (IPv4) or -EHOSTUNREACH (IPv6); IPv4 says
 * -ENETDOWN if that route's interface is down. Linux turns IPv6 routes through
 * lo into reject routes, so no IPv6 gateway is reachable through lo.
 */
int skl_net_add_route(int family, const void *dst, int prefixlen,
		      const void *gateway, int ifindex, char *err,
		      size_t errlen);

/**
 * skl_net_add_route_str - skl_net_add_route("10.0.0.0/8", "198.18.0.1", 0)
 * @dst: a CIDR as skl_net_add_addr_str takes it ("0.0.0.0/0" for default)
 * @gateway: an address of the same family, or NULL
 */
int skl_net_add_route_str(const char *dst, const char *gateway, int ifindex,
			  char *err, size_t errlen);

/** skl_net_add_default_route - the default route of @family via @gateway. */
int skl_net_add_default_route(int family, const void *gateway, char *err,
			      size_t errlen);

/** skl_net_add_default_route_str - the same from "198.18.0.1" or "fd00::1". */
int skl_net_add_default_route_str(const char *gateway, char *err,
				  size_t errlen);

/**
 * skl_net_add_neigh - a permanent (static) neighbour entry: @addr is @mac
 *
 * An entry already there for @addr, learned or static, is replaced: a
 * configured address must not fail because ARP or neighbour discovery got
 * there first.
 */
int skl_net_add_neigh(int ifindex, int family, const void *addr,
		      const unsigned char mac[6], char *err, size_t errlen);

/**
 * skl_net_add_neigh_str - the same from "198.18.0.1" and
 * "52:54:00:12:34:56" (six pairs of hex digits separated by ':').
 */
int skl_net_add_neigh_str(int ifindex, const char *addr, const char *mac,
			  char *err, size_t errlen);

/**
 * skl_net_lo_up - bring the loopback interface up
 *
 * Linux then gives it 127.0.0.1/8 and ::1/128 by itself.
 */
int skl_net_lo_up(char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* SKL_NET_H */
