// SPDX-License-Identifier: GPL-2.0
/*
 * The instance's network. Host side: the supervisor passes an AF_PACKET
 * socket bound to the instance's veth, or names a host interface that the
 * instance opens itself while it can still see the host's network namespace
 * (net_open_interface(), at `configure`). Before boot, that socket becomes the
 * kernel's virtio-net device (net_add_device()). Kernel side, after boot, the
 * device gets its MTU, addresses and default routes, and lo comes up, all
 * through the kernel's own rtnetlink (skl_net.h). Without a `network` object
 * the kernel has loopback only.
 *
 * The device's IPv6 is told, before it comes up, not to do what only a host
 * that configures itself needs: duplicate address detection (the supervisor
 * leases each address to one instance, and the link-local one derives from
 * the MAC it derives from that address) and router solicitation (addresses
 * and routes come from `configure`; nothing on the link sends router
 * advertisements). Both are multicast, which a bridge floods to every other
 * instance, whose kernels wake for each: with hundreds of instances on one
 * bridge that cost grew with the square of their count. Neighbour discovery
 * itself (solicitations and advertisements for an address) is untouched, and
 * the addresses are usable at once instead of tentative for a second.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <skl.h>
#include <skl_net.h>

#include "api/cleanup.h"
#include "instance/instance.h"

int net_open_interface(const char *ifname, int *fd, struct shoal_error *err)
{
	_cleanup_close_ int sock = -1;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };

	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex)
		return shoal_error_set(err, ENOENT, "configure.network.interface '%s'", ifname);
	/*
	 * Made for protocol 0 (hooked to nothing), then bound to the interface
	 * for every protocol in one step. A socket made for ETH_P_ALL listens
	 * on every interface at once, and binding it to one then unhooks it
	 * with synchronize_net(): an RCU grace period, ~10 ms here.
	 */
	sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return shoal_error_set(err, errno, "packet socket for interface '%s'", ifname);
	if (bind(sock, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return shoal_error_set(err, errno, "bind a packet socket to interface '%s'",
				       ifname);
	*fd = steal_fd(&sock);
	return 0;
}

/*
 * Large socket buffers absorb bursts; kernel-lib's device asks for them too
 * (virtio_net.c), but by then the instance has no CAP_NET_ADMIN to go past
 * the host's rmem_max and wmem_max with, and the request fails quietly.
 */
void net_size_buffers(struct instance *in)
{
	int size = NET_PACKET_BUFFER_BYTES;

	if (in->packet_fd < 0)
		return;
	setsockopt(in->packet_fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	setsockopt(in->packet_fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
}

int net_add_device(struct instance *in, struct shoal_error *err)
{
	const struct proto_configure *cfg = &in->config.configure;
	struct skl_netdev_params p = { .packet_fd = in->packet_fd };
	char why[256];
	int dev;

	if (!cfg->has_network)
		return 0;
	memcpy(p.mac, cfg->network.mac, sizeof(p.mac));
	p.mtu = cfg->network.mtu;
	p.offloads = cfg->network.offloads;
	dev = skl_netdev_add(&p, why, sizeof(why));
	if (dev < 0)
		return shoal_error_set(err, dev, "%s", why);
	/* The device keeps a duplicate; ours is not needed any more. */
	close(in->packet_fd);
	in->packet_fd = -1;
	in->netdev = dev;
	return 0;
}

/* The kernel's name of interface @ifindex, for stats; "eth" if it will not say. */
static void net_ifname(int ifindex, char *name, size_t size)
{
	struct skl_ifreq ifr;
	long sock = skl_sys_socket(SKL_AF_INET, SKL_SOCK_DGRAM | SKL_SOCK_CLOEXEC, 0);

	snprintf(name, size, "eth");
	if (sock < 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	ifr.skl_ifr_ifindex = ifindex;
	if (skl_sys_ioctl((unsigned int)sock, SKL_SIOCGIFNAME, (unsigned long)&ifr) == 0)
		snprintf(name, size, "%.15s", ifr.skl_ifr_name);
	skl_sys_close((unsigned int)sock);
}

/* Write @value to the kernel's /proc/sys/net/ipv6/conf/@ifname/@key (procfs is mounted by now). */
static int net_ipv6_conf(const char *ifname, const char *key, const char *value,
			 struct shoal_error *err)
{
	char path[96];
	long fd, r;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", ifname, key);
	fd = skl_sys_openat(SKL_AT_FDCWD, path, SKL_O_WRONLY | SKL_O_CLOEXEC, 0);
	if (fd < 0)
		return shoal_error_set(err, (int)-fd, "network: open %s", path);
	r = skl_sys_write((unsigned int)fd, value, strlen(value));
	skl_sys_close((unsigned int)fd);
	if (r < 0)
		return shoal_error_set(err, (int)-r, "network: write %s to %s", value, path);
	return 0;
}

int net_configure(struct instance *in, struct shoal_error *err)
{
	const struct proto_network *net = &in->config.configure.network;
	char why[256];
	int ifindex, r;

	r = skl_net_lo_up(why, sizeof(why));
	if (r < 0)
		return shoal_error_set(err, r, "%s", why);
	if (in->netdev < 0)
		return 0;
	ifindex = skl_net_ifindex_by_mac(net->mac, why, sizeof(why));
	if (ifindex < 0)
		return shoal_error_set(err, ifindex, "%s", why);
	in->eth_ifindex = ifindex;
	net_ifname(ifindex, in->eth_name, sizeof(in->eth_name));
	/* Before the link is up, when the kernel would start both (see the top of this file). */
	r = net_ipv6_conf(in->eth_name, "accept_dad", "0", err);
	if (!r)
		r = net_ipv6_conf(in->eth_name, "router_solicitations", "0", err);
	if (r)
		return r;
	r = skl_net_set_mtu(ifindex, net->mtu, why, sizeof(why));
	if (!r)
		r = skl_net_link_up(ifindex, why, sizeof(why));
	if (!r && net->ipv4.family)
		r = skl_net_add_addr(ifindex, SKL_AF_INET, net->ipv4.addr, (int)net->ipv4.prefix,
				     why, sizeof(why));
	if (!r && net->ipv6.family)
		r = skl_net_add_addr(ifindex, SKL_AF_INET6, net->ipv6.addr, (int)net->ipv6.prefix,
				     why, sizeof(why));
	if (!r && net->gateway4.family)
		r = skl_net_add_default_route(SKL_AF_INET, net->gateway4.addr, why, sizeof(why));
	if (!r && net->gateway6.family) {
		/* A link-local gateway needs the device named: find it by its route. */
		r = skl_net_add_route(SKL_AF_INET6, NULL, 0, net->gateway6.addr, ifindex, why,
				      sizeof(why));
	}
	if (r < 0)
		return shoal_error_set(err, r, "network: %s", why);
	return 0;
}
