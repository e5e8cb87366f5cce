// SPDX-License-Identifier: GPL-2.0
/*
 * Network configuration of the library kernel (skl_net.h) against the real
 * kernel: interfaces found by name and by MAC, link up and down, MTU and MAC
 * read back through the kernel's ioctls, IPv4 and IPv6 addresses checked
 * with an RTM_GETADDR dump of our own and by binding sockets to them, the
 * kernel's errors (-EEXIST, -ENODEV...) and our own (-EINVAL for bad text)
 * with the messages that name the value, routes and neighbours. Only lo
 * exists until virtio-net lands, so everything happens on lo; what Linux
 * does there is asserted, surprises included.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kernel-lib/include/skl_net.h"
#include "tests/kernel/knet.h"

static char err[256];

/* Fail unless a skl_net call succeeded; evaluates to its result. */
#define NET_OK(call)                                                                      \
	({                                                                                \
		int __r;                                                                  \
		err[0] = '\0';                                                            \
		__r = (call);                                                             \
		if (__r < 0)                                                              \
			harness_fail(__FILE__, __LINE__, "%s = %d: %s", #call, __r, err); \
		__r;                                                                      \
	})

/* Fail unless a skl_net call failed with @want and a message holding @text. */
#define NET_ERR(call, want, text)                                                                  \
	do {                                                                                       \
		int __r;                                                                           \
		err[0] = '\0';                                                                     \
		__r = (call);                                                                      \
		if (__r != (want))                                                                 \
			harness_fail(__FILE__, __LINE__, "%s = %d, want %d (%s): \"%s\"", #call,   \
				     __r, (int)(want), strerror(-(want)), err);                    \
		if (!strstr(err, (text)))                                                          \
			harness_fail(__FILE__, __LINE__, "%s: message \"%s\" lacks \"%s\"", #call, \
				     err, (text));                                                 \
	} while (0)

static void kboot_lo_up(void)
{
	kboot();
	NET_OK(skl_net_lo_up(err, sizeof(err)));
}

static long kinet_socket(int family, int type)
{
	return SYS_OK(skl_sys_socket(family, type | SKL_SOCK_CLOEXEC, 0));
}

static void kifreq(long fd, unsigned int cmd, struct skl_ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	strcpy(ifr->skl_ifr_name, "lo");
	SYS_OK(skl_sys_ioctl((unsigned int)fd, cmd, (unsigned long)ifr));
}

/* lo's MTU and flags as the kernel's ioctls report them. */
static int lo_mtu(void)
{
	long fd = kinet_socket(SKL_AF_INET, SKL_SOCK_DGRAM);
	struct skl_ifreq ifr;

	kifreq(fd, SKL_SIOCGIFMTU, &ifr);
	skl_sys_close((unsigned int)fd);
	return ifr.skl_ifr_mtu;
}

static unsigned int lo_flags(void)
{
	long fd = kinet_socket(SKL_AF_INET, SKL_SOCK_DGRAM);
	struct skl_ifreq ifr;

	kifreq(fd, SKL_SIOCGIFFLAGS, &ifr);
	skl_sys_close((unsigned int)fd);
	return (unsigned short)ifr.skl_ifr_flags;
}

/*
 * The data of attribute @type, of exactly @len bytes, in a message whose
 * family header has @hdrlen bytes; NULL if it has none.
 */
static const void *kattr(const struct skl_nlmsghdr *nlh, size_t hdrlen, unsigned int type,
			 size_t len)
{
	size_t off = SKL_NLMSG_ALIGN(SKL_NLMSG_HDRLEN + hdrlen);

	while (off + sizeof(struct skl_rtattr) <= nlh->nlmsg_len) {
		const struct skl_rtattr *rta = (const void *)((const char *)nlh + off);

		if (rta->rta_len < sizeof(*rta))
			break;
		if (rta->rta_type == type && rta->rta_len == SKL_RTA_LENGTH(len))
			return SKL_RTA_DATA(rta);
		off += SKL_RTA_ALIGN(rta->rta_len);
	}
	return NULL;
}

/*
 * Dump @type (RTM_GETADDR, RTM_GETNEIGH) of @family and count the entries
 * @match accepts: read independently of netconf.c's own netlink code.
 */
static int kdump(unsigned int type, int family,
		 bool (*match)(const struct skl_nlmsghdr *, const void *), const void *want)
{
	static unsigned char buf[32768];
	struct {
		struct skl_nlmsghdr nlh;
		unsigned char family[12]; /* ifaddrmsg, ndmsg: family first */
	} req = {
		.nlh = { .nlmsg_len = sizeof(req),
			 .nlmsg_type = (unsigned short)type,
			 .nlmsg_flags = SKL_NLM_F_REQUEST | SKL_NLM_F_DUMP,
			 .nlmsg_seq = 1 },
		.family = { (unsigned char)family },
	};
	int found = 0;
	long fd;

	fd = SYS_OK(
		skl_sys_socket(SKL_AF_NETLINK, SKL_SOCK_RAW | SKL_SOCK_CLOEXEC, SKL_NETLINK_ROUTE));
	CHECK_EQ_INT(skl_sys_sendto((int)fd, &req, sizeof(req), 0, NULL, 0), sizeof(req));
	for (;;) {
		struct skl_nlmsghdr *nlh = (struct skl_nlmsghdr *)buf;
		int len = (int)SYS_OK(skl_sys_recvfrom((int)fd, buf, sizeof(buf), 0, NULL, NULL));

		for (; len >= (int)sizeof(*nlh) && (int)nlh->nlmsg_len <= len;
		     nlh = SKL_NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_type == SKL_NLMSG_DONE)
				goto done;
			CHECK_EQ_INT(nlh->nlmsg_type, type - 2); /* NEW* */
			found += match(nlh, want);
		}
	}
done:
	skl_sys_close((unsigned int)fd);
	return found;
}

struct kaddr {
	int ifindex, family, prefixlen;
	const void *addr;
};

static bool kaddr_match(const struct skl_nlmsghdr *nlh, const void *arg)
{
	const struct skl_ifaddrmsg *ifa = SKL_NLMSG_DATA(nlh);
	const struct kaddr *w = arg;
	size_t alen = w->family == SKL_AF_INET ? 4 : 16;
	const void *a = kattr(nlh, sizeof(*ifa), SKL_IFA_ADDRESS, alen);

	return ifa->ifa_family == w->family && (int)ifa->ifa_index == w->ifindex &&
	       ifa->ifa_prefixlen == w->prefixlen && a && !memcmp(a, w->addr, alen);
}

/* Whether the kernel lists @addr/@prefixlen on @ifindex. */
static bool kaddr_listed(int ifindex, int family, const void *addr, int prefixlen)
{
	struct kaddr want = { ifindex, family, prefixlen, addr };

	return kdump(SKL_RTM_GETADDR, family, kaddr_match, &want) == 1;
}

struct kneigh {
	int ifindex, family;
	const void *addr;
	const unsigned char *mac;
};

static bool kneigh_match(const struct skl_nlmsghdr *nlh, const void *arg)
{
	const struct skl_ndmsg *ndm = SKL_NLMSG_DATA(nlh);
	const struct kneigh *w = arg;
	size_t alen = w->family == SKL_AF_INET ? 4 : 16;
	const void *a = kattr(nlh, sizeof(*ndm), SKL_NDA_DST, alen);
	const void *ll = kattr(nlh, sizeof(*ndm), SKL_NDA_LLADDR, 6);

	return ndm->ndm_family == w->family && ndm->ndm_ifindex == w->ifindex &&
	       ndm->ndm_state == SKL_NUD_PERMANENT && a && !memcmp(a, w->addr, alen) && ll &&
	       !memcmp(ll, w->mac, 6);
}

/* Whether the kernel lists a permanent entry @addr -> @mac on @ifindex. */
static bool kneigh_listed(int ifindex, int family, const void *addr, const unsigned char mac[6])
{
	struct kneigh want = { ifindex, family, addr, mac };

	return kdump(SKL_RTM_GETNEIGH, family, kneigh_match, &want) == 1;
}

/* bind() to @addr port 0: 0 if the kernel owns the address, else -errno. */
static long kbind(int family, const void *addr)
{
	long fd = kinet_socket(family, SKL_SOCK_DGRAM), ret;

	if (family == SKL_AF_INET) {
		struct skl_sockaddr_in sin = { .sin_family = SKL_AF_INET };

		memcpy(&sin.sin_addr, addr, 4);
		ret = skl_sys_bind((int)fd, (void *)&sin, sizeof(sin));
	} else {
		struct skl_sockaddr_in6 sin6 = { .sin6_family = SKL_AF_INET6 };

		memcpy(&sin6.sin6_addr, addr, 16);
		ret = skl_sys_bind((int)fd, (void *)&sin6, sizeof(sin6));
	}
	skl_sys_close((unsigned int)fd);
	return ret;
}

TEST(lo_up_then_tcp_connect)
{
	struct skl_sockaddr_in addr = knet_addr(5101);
	long lfd, cfd, afd;
	char c = 0;

	kboot();
	/* Down, lo has no 127.0.0.1 and no route to it. */
	CHECK_EQ_INT(lo_flags() & SKL_IFF_UP, 0);
	cfd = kinet_socket(SKL_AF_INET, SKL_SOCK_STREAM);
	CHECK_EQ_INT(skl_sys_connect((int)cfd, (void *)&addr, sizeof(addr)), -ENETUNREACH);
	skl_sys_close((unsigned int)cfd);

	NET_OK(skl_net_lo_up(err, sizeof(err)));
	CHECK(lo_flags() & SKL_IFF_UP);
	lfd = kinet_socket(SKL_AF_INET, SKL_SOCK_STREAM);
	SYS_OK(skl_sys_bind((int)lfd, (void *)&addr, sizeof(addr)));
	SYS_OK(skl_sys_listen((int)lfd, 1));
	cfd = kinet_socket(SKL_AF_INET, SKL_SOCK_STREAM);
	SYS_OK(skl_sys_connect((int)cfd, (void *)&addr, sizeof(addr)));
	afd = SYS_OK(skl_sys_accept4((int)lfd, NULL, NULL, 0));
	CHECK_EQ_INT(skl_sys_write((unsigned int)cfd, "x", 1), 1);
	CHECK_EQ_INT(skl_sys_read((unsigned int)afd, &c, 1), 1);
	CHECK_EQ_INT(c, 'x');
	/* A second time is no error: the flag is already set. */
	NET_OK(skl_net_lo_up(NULL, 0));
	CHECK_EQ_INT(skl_halt(), 0);
}

TEST(ifindex_of_lo_and_of_a_missing_name)
{
	kboot();
	/* lo is always the first interface of a network namespace. */
	CHECK_EQ_INT(NET_OK(skl_net_ifindex("lo", err, sizeof(err))), 1);
	NET_ERR(skl_net_ifindex("nosuch0", err, sizeof(err)), -ENODEV,
		"look up interface \"nosuch0\": No such device");
	NET_ERR(skl_net_ifindex("", err, sizeof(err)), -EINVAL, "empty name");
	NET_ERR(skl_net_ifindex(NULL, err, sizeof(err)), -EINVAL, "empty name");
	NET_ERR(skl_net_ifindex("sixteen-chars-xx", err, sizeof(err)), -EINVAL,
		"\"sixteen-chars-x...\": name longer than 15");
	/* No buffer, or a tiny one, is fine. */
	CHECK_EQ_INT(skl_net_ifindex("nosuch0", NULL, 0), -ENODEV);
	CHECK_EQ_INT(skl_net_ifindex("nosuch0", err, 5), -ENODEV);
	CHECK_EQ_STR(err, "look");
	CHECK_EQ_INT(skl_halt(), 0);
}

TEST(link_down_and_up_again)
{
	kboot_lo_up();
	NET_OK(skl_net_link_down(1, err, sizeof(err)));
	CHECK_EQ_INT(lo_flags() & SKL_IFF_UP, 0);
	NET_OK(skl_net_link_up(1, err, sizeof(err)));
	CHECK(lo_flags() & SKL_IFF_UP);
	NET_ERR(skl_net_link_up(999, err, sizeof(err)), -ENODEV,
		"set link up on ifindex 999: No such device");
	NET_ERR(skl_net_link_down(0, err, sizeof(err)), -EINVAL, "ifindex 0");
	CHECK_EQ_INT(skl_halt(), 0);
}

TEST(addresses_ipv4_and_ipv6_on_lo)
{
	static const unsigned char v4[4] = { 198, 18, 255, 1 };
	static const unsigned char v4_other[4] = { 198, 18, 255, 2 };
	static const unsigned char v6[16] = { 0xfd, 0x00, 0x05, 0xee, [15] = 1 };
	static const unsigned char v6_other[16] = { 0xfd, 0x00, 0x05, 0xee, [15] = 2 };

	kboot_lo_up();
	CHECK(!kaddr_listed(1, SKL_AF_INET, v4, 32));
	CHECK_EQ_INT(kbind(SKL_AF_INET, v4), -EADDRNOTAVAIL);

	NET_OK(skl_net_add_addr_str(1, "198.18.255.1/32", err, sizeof(err)));
	NET_OK(skl_net_add_addr(1, SKL_AF_INET6, v6, 128, err, sizeof(err)));
	CHECK(kaddr_listed(1, SKL_AF_INET, v4, 32));
	CHECK(kaddr_listed(1, SKL_AF_INET6, v6, 128));
	CHECK_EQ_INT(kbind(SKL_AF_INET, v4), 0);
	CHECK_EQ_INT(kbind(SKL_AF_INET6, v6), 0);
	/* /32 and /128: the neighbours are not ours. */
	CHECK_EQ_INT(kbind(SKL_AF_INET, v4_other), -EADDRNOTAVAIL);
	CHECK_EQ_INT(kbind(SKL_AF_INET6, v6_other), -EADDRNOTAVAIL);
	CHECK_EQ_INT(skl_halt(), 0);
}

TEST(address_with_prefix_on_lo_makes_the_whole_prefix_local)
{
	static const unsigned char inside[4] = { 198, 19, 7, 9 };
	static const unsigned char mine[4] = { 198, 19, 0, 1 };

	kboot_lo_up();
	NET_OK(skl_net_add_addr_str(1, "198.19.0.1/16", err, sizeof(err)));
	CHECK(kaddr_listed(1, SKL_AF_INET, mine, 16));
	/*
	 * On a loopback device Linux makes the prefix route a local one, as
	 * it does for 127.0.0.0/8: every address in it can be bound.
	 */
	CHECK_EQ_INT(kbind(SKL_AF_INET, inside), 0);
	CHECK_EQ_INT(skl_halt(), 0);
}

TEST(same_address_twice_is_eexist)
{
	kboot_lo_up();
	NET_OK(skl_net_add_addr_str(1, "198.18.255.1/32", err, sizeof(err)));
	NET_ERR(skl_net_add_addr_str(1, "198.18.255.1/32", err, sizeof(err)), -EEXIST,
		"add address 198.18.255.1/32 to ifindex 1: File exists");
	NET_OK(skl_net_add_addr_str(1, "fd00:5ee::1/128", err, sizeof(err)));
	NET_ERR(skl_net_add_addr_str(1, "fd00:5ee::1/128", err, sizeof(err)), -EEXIST,
		"add address fd00:5ee::1/128 to ifindex 1: File exists");
	/* lo already has 127.0.0.1/8 and ::1/128 of its own. */
	NET_ERR(skl_net_add_addr_str(1, "127.0.0.1/8", err, sizeof(err)), -EEXIST, "127.0.0.1/8");
	NET_ERR(skl_net_add_addr_str(1, "::1/128", err, sizeof(err)), -EEXIST, "::1/128");
	CHECK_EQ_INT(skl_halt(), 0);
}

TEST(bad_cidr_strings_are_einval)
{
	static const struct {
		const char *cidr, *why;
	} cases[] = {
		{ "198.18.0.5/33", "prefix length must be 0-32" },
		{ "fd00::/129", "prefix length must be 0-128" },
		{ "nonsense", "missing /prefixlen" },
		{ "nonsense/8", "not an IPv4 or IPv6 address" },
		{ "198.18.0.5", "missing /prefixlen" },
		{ "198.18.0.5/", "prefix length must be 0-32" },
		{ "198.18.0.5/-1", "prefix length must be 0-32" },
		{ "198.18.0.5/ 8", "prefix length must be 0-32" },
		{ "198.18.0.5/8x", "prefix length must be 0-32" },
		{ "198.18.0.5/0032", "prefix length must be 0-32" },
		{ "198.18.0/16", "not an IPv4 or IPv6 address" },
		{ " 198.18.0.5/16", "not an IPv4 or IPv6 address" },
		{ "fd00::5::1/64", "not an IPv4 or IPv6 address" },
		{ "", "missing /prefixlen" },
	};
	unsigned int i;

	/* Nothing reaches the kernel: no boot needed, and none done. */
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[128];

		snprintf(want, sizeof(want), "add address \"%s\" to ifindex 1: %s", cases[i].cidr,
			 cases[i].why);
		NET_ERR(skl_net_add_addr_str(1, cases[i].cidr, err, sizeof(err)), -EINVAL, want);
	}
	NET_ERR(skl_net_add_addr_str(1, NULL, err, sizeof(err)), -EINVAL, "no address");
}

TEST(bad_binary_address_arguments)
{
	static const unsigned char v4[4] = { 198, 18, 0, 5 };

	kboot_lo_up();
	NET_ERR(skl_net_add_addr(1, SKL_AF_PACKET, v4, 16, err, sizeof(err)), -EAFNOSUPPORT,
		"add address: family 17 is not IPv4 or IPv6");
	NET_ERR(skl_net_add_addr(1, SKL_AF_INET, v4, 33, err, sizeof(err)), -EINVAL,
		"prefix length 33 out of range 0-32");
	NET_ERR(skl_net_add_addr(1, SKL_AF_INET6, v4, -1, err, sizeof(err)), -EINVAL,
		"prefix length -1 out of range 0-128");
	NET_ERR(skl_net_add_addr(1, SKL_AF_INET, NULL, 16, err, sizeof(err)), -EINVAL,
		"no address");
	NET_ERR(skl_net_add_addr(0, SKL_AF_INET, v4, 16, err, sizeof(err)), -EINVAL,
		"add address 198.18.0.5/16 to ifindex 0");
	NET_ERR(skl_net_add_addr(42, SKL_AF_INET, v4, 16, err, sizeof(err)), -ENODEV,
		"add address 198.18.0.5/16 to ifindex 42: No such device");
	CHECK_EQ_INT(skl_halt(), 0);
}

TEST(mtu_set_and_read_back)
{
	kboot_lo_up();
	CHECK_EQ_INT(lo_mtu(), 65536);
	NET_OK(skl_net_set_mtu(1, 9000, err, sizeof(err)));
	CHECK_EQ_INT(lo_mtu(), 9000);
	NET_OK(skl_net_set_mtu(1, 1500, err, sizeof(err)));
	CHECK_EQ_INT(lo_mtu(), 1500);
	/* Above INT_MAX is negative to the kernel. */
	NET_ERR(skl_net_set_mtu(1, 0x80000000u, err, sizeof(err)), -EINVAL,
		"set MTU 2147483648 on ifindex 1: Invalid argument");
	CHECK_EQ_INT(lo_mtu(), 1500);
	NET_ERR(skl_net_set_mtu(77, 1500, err, sizeof(err)), -ENODEV,
		"set MTU 1500 on ifindex 77: No such device");
	CHECK_EQ_INT(skl_halt(), 0);
}

/*
 * lo has no MTU limits of its own, but IP has: below 1280 the kernel takes
 * IPv6 off the device and below 68 IPv4, with their addresses. Raising the
 * MTU again does not give lo back 127.0.0.1 and ::1 (only going up does),
 * and while IPv4 is off, adding an IPv4 address fails with -ENOBUFS.
 */
TEST(mtu_below_ip_minimums_drops_lo_addresses)
{
	static const unsigned char v4[4] = { 127, 0, 0, 1 };
	static const unsigned char v6[16] = { [15] = 1 };

	kboot_lo_up();
	CHECK_EQ_INT(kbind(SKL_AF_INET, v4), 0);
	CHECK_EQ_INT(kbind(SKL_AF_INET6, v6), 0);
	NET_OK(skl_net_set_mtu(1, 1279, err, sizeof(err)));
	CHECK_EQ_INT(kbind(SKL_AF_INET, v4), 0);
	CHECK_EQ_INT(kbind(SKL_AF_INET6, v6), -EADDRNOTAVAIL);
	NET_OK(skl_net_set_mtu(1, 67, err, sizeof(err)));
	CHECK_EQ_INT(kbind(SKL_AF_INET, v4), -EADDRNOTAVAIL);
	NET_ERR(skl_net_add_addr_str(1, "198.18.0.5/16", err, sizeof(err)), -ENOBUFS,
		"add address 198.18.0.5/16 to ifindex 1: ");

	NET_OK(skl_net_set_mtu(1, 65536, err, sizeof(err)));
	CHECK_EQ_INT(kbind(SKL_AF_INET, v4), -EADDRNOTAVAIL);
	CHECK_EQ_INT(kbind(SKL_AF_INET6, v6), -EADDRNOTAVAIL);
	NET_OK(skl_net_link_down(1, err, sizeof(err)));
	NET_OK(skl_net_link_up(1, err, sizeof(err)));
	CHECK_EQ_INT(kbind(SKL_AF_INET, v4), 0);
	CHECK_EQ_INT(kbind(SKL_AF_INET6, v6), 0);
	CHECK_EQ_INT(skl_halt(), 0);
}

TEST(mac_set_read_back_and_found_by_mac)
{
	static const unsigned char mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
	static const unsigned char other[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x02 };
	static const unsigned char multicast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	static const unsigned char zero[6];
	struct skl_ifreq ifr;
	long fd;

	kboot_lo_up();
	/* lo's address is all zeroes until someone sets one. */
	CHECK_EQ_INT(NET_OK(skl_net_ifindex_by_mac(zero, err, sizeof(err))), 1);
	NET_OK(skl_net_set_mac(1, mac, err, sizeof(err)));
	fd = kinet_socket(SKL_AF_INET, SKL_SOCK_DGRAM);
	kifreq(fd, SKL_SIOCGIFHWADDR, &ifr);
	skl_sys_close((unsigned int)fd);
	CHECK(!memcmp(ifr.skl_ifr_hwaddr.sa_data, mac, 6));
	CHECK_EQ_INT(NET_OK(skl_net_ifindex_by_mac(mac, err, sizeof(err))), 1);
	NET_ERR(skl_net_ifindex_by_mac(other, err, sizeof(err)), -ENODEV,
		"no interface has MAC 02:00:5e:10:00:02");
	/* eth_mac_addr takes only valid unicast addresses. */
	NET_ERR(skl_net_set_mac(1, multicast, err, sizeof(err)), -EADDRNOTAVAIL,
		"set MAC 01:00:5e:00:00:01 on ifindex 1: Cannot assign requested address");
	NET_ERR(skl_net_set_mac(1, zero, err, sizeof(err)), -EADDRNOTAVAIL,
		"set MAC 00:00:00:00:00:00 on ifindex 1");
	CHECK_EQ_INT(skl_halt(), 0);
}

/*
 * A default route needs a gateway the kernel can reach, and the only device
 * is lo. The families differ:
 *  - IPv4 accepts it. An address with a prefix on lo makes the whole prefix
 *    local (see above), so the gateway resolves to a local route through
 *    lo, which fib_check_nh_v4_gw takes (RTN_LOCAL is allowed).
 *  - IPv6 refuses it with -EHOSTUNREACH, and no text: the kernel turns
 *    every IPv6 route through lo into a reject route (fib6_is_reject, "they
 *    would result in kernel looping"), so the prefix route of fd00:5ee::5/64
 *    cannot carry a gateway. A gateway that is our own address is refused
 *    with -EINVAL and says so.
 */
TEST(default_route_via_a_gateway_on_lo)
{
	kboot_lo_up();
	/* Nothing routes to it yet. */
	NET_ERR(skl_net_add_default_route_str("198.18.0.1", err, sizeof(err)), -ENETUNREACH,
		"add default route via 198.18.0.1: ");
	NET_OK(skl_net_add_addr_str(1, "198.18.0.5/16", err, sizeof(err)));
	NET_OK(skl_net_add_default_route_str("198.18.0.1", err, sizeof(err)));
	NET_ERR(skl_net_add_default_route_str("198.18.0.2", err, sizeof(err)), -EEXIST,
		"add default route via 198.18.0.2: File exists");

	NET_OK(skl_net_add_addr_str(1, "fd00:5ee::5/64", err, sizeof(err)));
	NET_ERR(skl_net_add_default_route_str("fd00:5ee::1", err, sizeof(err)), -EHOSTUNREACH,
		"add default route via fd00:5ee::1: No route to host");
	NET_ERR(skl_net_add_route_str("::/0", "fd00:5ee::5", 1, err, sizeof(err)), -EINVAL,
		"Invalid argument (Gateway can not be a local address)");

	NET_ERR(skl_net_add_default_route_str("gateway", err, sizeof(err)), -EINVAL,
		"via \"gateway\": not an IPv4 or IPv6 address");
	NET_ERR(skl_net_add_default_route(SKL_AF_INET, NULL, err, sizeof(err)), -EINVAL,
		"add default route: no gateway");
	CHECK_EQ_INT(skl_halt(), 0);
}

/* With the link down, the gateway's route is there but unusable. */
TEST(route_via_a_gateway_on_a_down_link)
{
	kboot_lo_up();
	NET_OK(skl_net_add_addr_str(1, "198.18.0.5/16", err, sizeof(err)));
	NET_OK(skl_net_link_down(1, err, sizeof(err)));
	NET_ERR(skl_net_add_route_str("10.0.0.0/8", "198.18.0.9", 0, err, sizeof(err)), -ENETDOWN,
		"add route 10.0.0.0/8 via 198.18.0.9: Network is down");
	CHECK_EQ_INT(skl_halt(), 0);
}

TEST(routes_to_a_prefix)
{
	static const unsigned char dst[4] = { 203, 0, 113, 0 };

	kboot_lo_up();
	/* On-link through lo, then the same prefix again. */
	NET_OK(skl_net_add_route(SKL_AF_INET, dst, 24, NULL, 1, err, sizeof(err)));
	NET_ERR(skl_net_add_route_str("203.0.113.0/24", NULL, 1, err, sizeof(err)), -EEXIST,
		"add route 203.0.113.0/24 dev ifindex 1: File exists");
	NET_OK(skl_net_add_route_str("2001:db8::/32", NULL, 1, err, sizeof(err)));
	/* Via a gateway that the new on-link route reaches. */
	NET_OK(skl_net_add_route_str("192.0.2.0/24", "203.0.113.1", 0, err, sizeof(err)));
	NET_ERR(skl_net_add_route_str("10.0.0.0/8", NULL, 0, err, sizeof(err)), -EINVAL,
		"add route 10.0.0.0/8: needs a gateway or an interface");
	NET_ERR(skl_net_add_route_str("10.0.0.0/8", "fd00::1", 0, err, sizeof(err)), -EINVAL,
		"via fd00::1: families differ");
	NET_ERR(skl_net_add_route_str("10.0.0.0/88", NULL, 1, err, sizeof(err)), -EINVAL,
		"add route \"10.0.0.0/88\": prefix length must be 0-32");
	/* Host bits set: the kernel's own check, with its own words. */
	NET_ERR(skl_net_add_route_str("10.0.0.5/8", NULL, 1, err, sizeof(err)), -EINVAL,
		"add route 10.0.0.5/8 dev ifindex 1: Invalid argument (");
	CHECK_EQ_INT(skl_halt(), 0);
}

/*
 * lo is IFF_LOOPBACK, not IFF_NOARP: ARP and neighbour discovery create its
 * entries as NUD_NOARP, but an administrator's update may override that, so
 * Linux accepts a permanent entry on lo and lists it. Nothing uses it: lo
 * never resolves a neighbour. IPv4 has a twist: on a loopback or
 * point-to-point device ARP keys every entry by 0.0.0.0 (arp_constructor),
 * so all IPv4 neighbours of lo are one entry, the last MAC given.
 *
 * TODO(virtio-net): on a real ethernet device, add 198.18.0.1 and fd00::1
 * with skl_net_add_neigh_str, check that an RTM_GETNEIGH dump shows them
 * NUD_PERMANENT with that lladdr, that adding again replaces (0, not
 * -EEXIST), and that a packet to 198.18.0.1 leaves with that destination
 * MAC and no ARP request first.
 */
TEST(neighbour_on_lo)
{
	static const unsigned char mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	static const unsigned char mac2[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };
	static const unsigned char v4[4] = { 198, 18, 0, 9 };
	static const unsigned char any4[4] = { 0 };
	static const unsigned char v6[16] = { 0xfd, [15] = 9 };

	kboot_lo_up();
	CHECK(!kneigh_listed(1, SKL_AF_INET, any4, mac));
	NET_OK(skl_net_add_neigh(1, SKL_AF_INET, v4, mac, err, sizeof(err)));
	CHECK(kneigh_listed(1, SKL_AF_INET, any4, mac));
	CHECK(!kneigh_listed(1, SKL_AF_INET, v4, mac));
	/* Another address, another MAC: the same entry, replaced. */
	NET_OK(skl_net_add_neigh_str(1, "198.18.0.10", "52:54:00:12:34:57", err, sizeof(err)));
	CHECK(kneigh_listed(1, SKL_AF_INET, any4, mac2));
	CHECK(!kneigh_listed(1, SKL_AF_INET, any4, mac));
	/* IPv6 keeps its addresses; adding again replaces, no -EEXIST. */
	NET_OK(skl_net_add_neigh_str(1, "fd00::9", "52:54:00:12:34:56", err, sizeof(err)));
	CHECK(kneigh_listed(1, SKL_AF_INET6, v6, mac));
	NET_OK(skl_net_add_neigh(1, SKL_AF_INET6, v6, mac2, err, sizeof(err)));
	CHECK(kneigh_listed(1, SKL_AF_INET6, v6, mac2));
	CHECK(!kneigh_listed(1, SKL_AF_INET6, v6, mac));

	NET_ERR(skl_net_add_neigh_str(2, "198.18.0.9", "52:54:00:12:34:56", err, sizeof(err)),
		-ENODEV,
		"add neighbour 198.18.0.9 lladdr 52:54:00:12:34:56 on ifindex 2: No such device");
	NET_ERR(skl_net_add_neigh_str(1, "198.18.0.9", "52:54:00:12:34", err, sizeof(err)), -EINVAL,
		"lladdr \"52:54:00:12:34\": not a MAC address");
	NET_ERR(skl_net_add_neigh_str(1, "198.18.0.9", "52:54:00:12:34:5g", err, sizeof(err)),
		-EINVAL, "not a MAC address");
	NET_ERR(skl_net_add_neigh_str(1, "198.18.0.9", "52:54:00:12:34:56:", err, sizeof(err)),
		-EINVAL, "not a MAC address");
	NET_ERR(skl_net_add_neigh_str(1, "198.18.0.9", "5254.0012.3456", err, sizeof(err)), -EINVAL,
		"not a MAC address");
	NET_ERR(skl_net_add_neigh_str(1, "localhost", "52:54:00:12:34:56", err, sizeof(err)),
		-EINVAL, "add neighbour \"localhost\": not an IPv4 or IPv6");
	NET_ERR(skl_net_add_neigh(1, SKL_AF_INET, v4, NULL, err, sizeof(err)), -EINVAL,
		"add neighbour 198.18.0.9: no MAC address");
	CHECK_EQ_INT(skl_halt(), 0);
}

enum { THREADS = 4, ADDRS_PER_THREAD = 64 };

struct adder {
	int id;
	int failed;
	char err[256];
};

/* Add 198.18.<id>.<1..64>/32 to lo, each call with its own socket. */
static void *adder_run(void *arg)
{
	struct adder *a = arg;
	int i;

	for (i = 1; i <= ADDRS_PER_THREAD && !a->failed; i++) {
		unsigned char v4[4] = { 198, 18, (unsigned char)a->id, (unsigned char)i };

		if (skl_net_add_addr(1, SKL_AF_INET, v4, 32, a->err, sizeof(a->err)))
			a->failed = i;
	}
	return NULL;
}

static bool kaddr_in_198_18(const struct skl_nlmsghdr *nlh, const void *arg)
{
	const struct skl_ifaddrmsg *ifa = SKL_NLMSG_DATA(nlh);
	const unsigned char *a = kattr(nlh, sizeof(*ifa), SKL_IFA_ADDRESS, 4);

	(void)arg;
	return a && a[0] == 198 && a[1] == 18 && ifa->ifa_prefixlen == 32;
}

/*
 * Calls from several host threads at once all land, and no call leaves a
 * netlink socket behind in the kernel's fd table (which every host thread
 * shares): the lowest free descriptor is the same before and after.
 */
TEST(concurrent_calls_and_no_leaked_sockets)
{
	struct adder adders[THREADS];
	pthread_t t[THREADS];
	long fd_before, fd_after;
	int i;

	kboot_lo_up();
	fd_before = kinet_socket(SKL_AF_INET, SKL_SOCK_DGRAM);
	skl_sys_close((unsigned int)fd_before);

	for (i = 0; i < THREADS; i++) {
		adders[i] = (struct adder){ .id = i };
		CHECK_EQ_INT(pthread_create(&t[i], NULL, adder_run, &adders[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		CHECK_EQ_INT(pthread_join(t[i], NULL), 0);
		if (adders[i].failed)
			FAIL("thread %d, address %d: %s", i, adders[i].failed, adders[i].err);
	}
	CHECK_EQ_INT(kdump(SKL_RTM_GETADDR, SKL_AF_INET, kaddr_in_198_18, NULL),
		     THREADS * ADDRS_PER_THREAD);

	/* Failures close their socket too. */
	for (i = 0; i < 50; i++) {
		CHECK_EQ_INT(skl_net_add_addr_str(1, "198.18.0.1/32", NULL, 0), -EEXIST);
		CHECK_EQ_INT(skl_net_ifindex("nosuch0", NULL, 0), -ENODEV);
		CHECK_EQ_INT(skl_net_ifindex_by_mac((const unsigned char *)"\2\0\0\0\0\7", NULL, 0),
			     -ENODEV);
	}
	fd_after = kinet_socket(SKL_AF_INET, SKL_SOCK_DGRAM);
	CHECK_EQ_INT(fd_after, fd_before);
	CHECK_EQ_INT(skl_halt(), 0);
}

TEST(calls_before_boot_are_enodev)
{
	NET_ERR(skl_net_ifindex("lo", err, sizeof(err)), -ENODEV,
		"look up interface \"lo\": No such device");
	NET_ERR(skl_net_lo_up(err, sizeof(err)), -ENODEV, "\"lo\"");
}
