// SPDX-License-Identifier: GPL-2.0
/*
 * Network configuration of the library kernel through its own rtnetlink
 * (skl_net.h). A program cannot use libnl or ip(8) for this: they talk to
 * the host's kernel. So this file has a small netlink message builder of its
 * own (one nlmsghdr, one family header, flat rtattrs, 4-byte alignment), and
 * one transaction: open an AF_NETLINK socket inside the library kernel, send
 * the request with NLM_F_ACK, read until the NLMSG_ERROR ack (or NLMSG_DONE
 * of a dump) with our sequence number, and return its error. Extended acks
 * are switched on so that the kernel's own explanation ("Nexthop has invalid
 * gateway") reaches the caller's message. Addresses are parsed and printed
 * with the host's inet_pton/inet_ntop; AF_INET and AF_INET6 have the same
 * values on both sides.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel-lib/include/skl_net.h"

/* The largest request we build: a header and a few small attributes. */
#define NET_MSG_MAX 512
/*
 * Receive buffer. A netlink dump fills messages up to the size of the
 * largest buffer the reader has offered (capped at 32 KiB), so this one is
 * always large enough; MSG_TRUNC tells us if it ever is not.
 */
#define NET_RECV_MAX 32768

/* Longest text of an address with its prefix: "ffff:...:255.255.255.255/128" */
#define NET_ADDRSTR_MAX (INET6_ADDRSTRLEN + 4)

struct net_msg {
	union {
		struct skl_nlmsghdr nlh;
		unsigned char buf[NET_MSG_MAX];
	};
};

/* What the kernel said besides the errno (NLMSGERR_ATTR_MSG), or "". */
struct net_reply {
	char text[128];
};

/* Called for each message of a reply other than the ack; < 0 aborts with
 * that error, > 0 stops reading with success, 0 goes on. */
typedef int (*net_msg_cb)(const struct skl_nlmsghdr *nlh, void *arg);

static unsigned int net_seq;

static void net_close_fd(long *fd)
{
	if (*fd >= 0)
		skl_sys_close((unsigned int)*fd);
}

static void net_free(void *p)
{
	free(*(void **)p);
}

/* Write a message to the caller's buffer, if it gave one. */
static void __attribute__((format(printf, 3, 4)))
net_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * The message of a request the kernel refused: "<what>: <strerror>" and the
 * kernel's own words in parentheses when it gave some. Returns @ret.
 */
static int __attribute__((format(printf, 5, 6)))
net_fail(char *err, size_t errlen, int ret, const struct net_reply *reply,
	 const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!err || !errlen)
		return ret;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	n = strlen(err);
	if (reply && reply->text[0])
		snprintf(err + n, errlen - n, ": %s (%s)", strerror(-ret),
			 reply->text);
	else
		snprintf(err + n, errlen - n, ": %s", strerror(-ret));
	return ret;
}

/* --- message builder --- */

/*
 * Start a request of @type with the family header of @hdrlen bytes right
 * after the nlmsghdr; returns that header, zeroed.
 */
static void *net_msg_init(struct net_msg *m, unsigned int type,
			  unsigned int flags, size_t hdrlen)
{
	memset(m, 0, sizeof(*m));
	m->nlh.nlmsg_len = SKL_NLMSG_LENGTH(hdrlen);
	m->nlh.nlmsg_type = (unsigned short)type;
	m->nlh.nlmsg_flags = (unsigned short)(SKL_NLM_F_REQUEST | flags);
	return SKL_NLMSG_DATA(&m->nlh);
}

/*
 * Append one attribute at the next aligned offset. The buffer was zeroed,
 * so the padding is too. Requests are built from fixed-size pieces that
 * fit, so running out of room is a bug here: -EMSGSIZE.
 */
static int net_msg_put(struct net_msg *m, unsigned int type, const void *data,
		       size_t len)
{
	size_t off = SKL_NLMSG_ALIGN(m->nlh.nlmsg_len);
	struct skl_rtattr *rta;

	if (off + SKL_RTA_SPACE(len) > sizeof(m->buf))
		return -EMSGSIZE;
	rta = (struct skl_rtattr *)(m->buf + off);
	rta->rta_type = (unsigned short)type;
	rta->rta_len = (unsigned short)SKL_RTA_LENGTH(len);
	if (len)
		memcpy(SKL_RTA_DATA(rta), data, len);
	m->nlh.nlmsg_len = (unsigned int)(off + SKL_RTA_SPACE(len));
	return 0;
}

static int net_msg_put_u32(struct net_msg *m, unsigned int type, unsigned int v)
{
	return net_msg_put(m, type, &v, sizeof(v));
}

/* --- one transaction --- */

/*
 * The kernel's explanation from the TLVs after an ack or a dump's DONE,
 * which start @off bytes into the message.
 */
static void net_reply_text(const struct skl_nlmsghdr *nlh, size_t off,
			   struct net_reply *reply)
{
	const unsigned char *p = (const unsigned char *)nlh;
	size_t end = nlh->nlmsg_len;

	if (!(nlh->nlmsg_flags & SKL_NLM_F_ACK_TLVS))
		return;
	off = SKL_NLMSG_ALIGN(off);
	while (off + sizeof(struct skl_rtattr) <= end) {
		const struct skl_rtattr *a =
			(const struct skl_rtattr *)(p + off);
		size_t len = a->rta_len;

		if (len < sizeof(*a) || off + len > end)
			return;
		if (a->rta_type == SKL_NLMSGERR_ATTR_MSG &&
		    len > SKL_RTA_LENGTH(0)) {
			size_t n = len - SKL_RTA_LENGTH(0);

			if (n >= sizeof(reply->text))
				n = sizeof(reply->text) - 1;
			memcpy(reply->text, SKL_RTA_DATA(a), n);
			reply->text[n] = '\0';
			/* One line: cut at a newline, if any. */
			reply->text[strcspn(reply->text, "\n")] = '\0';
			return;
		}
		off += SKL_RTA_ALIGN(len);
	}
}

/* Decode NLMSG_ERROR: its error (0 for an ack) and explanation. */
static int net_parse_ack(const struct skl_nlmsghdr *nlh,
			 struct net_reply *reply)
{
	const struct skl_nlmsgerr *e = SKL_NLMSG_DATA(nlh);
	size_t off = SKL_NLMSG_HDRLEN + sizeof(*e);

	if (nlh->nlmsg_len < off)
		return -EPROTO;
	/* Unless capped, the kernel echoes our request before the TLVs. */
	if (!(nlh->nlmsg_flags & SKL_NLM_F_CAPPED) &&
	    e->msg.nlmsg_len >= sizeof(e->msg))
		off += SKL_NLMSG_ALIGN(e->msg.nlmsg_len - sizeof(e->msg));
	net_reply_text(nlh, off, reply);
	if (e->error > 0)
		return -EPROTO;
	return e->error;
}

/* Decode NLMSG_DONE: a dump's end carries its error, and maybe TLVs. */
static int net_parse_done(const struct skl_nlmsghdr *nlh,
			  struct net_reply *reply)
{
	int error = 0;

	if (nlh->nlmsg_len >= SKL_NLMSG_LENGTH(sizeof(int))) {
		memcpy(&error, SKL_NLMSG_DATA(nlh), sizeof(int));
		net_reply_text(nlh, SKL_NLMSG_LENGTH(sizeof(int)), reply);
	}
	return error > 0 ? -EPROTO : error;
}

/* Open a netlink route socket inside the kernel, extended acks on. */
static long net_open(void)
{
	int one = 1;
	long fd;

	if (!skl_is_running())
		return -ENODEV;
	fd = skl_sys_socket(SKL_AF_NETLINK, SKL_SOCK_RAW | SKL_SOCK_CLOEXEC,
			    SKL_NETLINK_ROUTE);
	if (fd < 0)
		return fd;
	/*
	 * Both are optional: without EXT_ACK we lose the kernel's text,
	 * without CAP_ACK an error echoes our request back. Neither failure
	 * changes the answer.
	 */
	skl_sys_setsockopt((int)fd, SKL_SOL_NETLINK, SKL_NETLINK_EXT_ACK,
			   (char *)&one, sizeof(one));
	skl_sys_setsockopt((int)fd, SKL_SOL_NETLINK, SKL_NETLINK_CAP_ACK,
			   (char *)&one, sizeof(one));
	return fd;
}

/*
 * Send @m and read the reply: every message of it goes to @cb (may be NULL),
 * until the ack (requests carry NLM_F_ACK) or the DONE of a dump. Returns
 * the kernel's error, 0, or a local -errno; @reply gets the kernel's text.
 */
static int net_talk(struct net_msg *m, net_msg_cb cb, void *arg,
		    struct net_reply *reply)
{
	long fd __attribute__((cleanup(net_close_fd))) = net_open();
	unsigned char *buf __attribute__((cleanup(net_free))) = NULL;
	struct skl_sockaddr_nl kernel = { .nl_family = SKL_AF_NETLINK };
	unsigned int seq;
	long n;

	reply->text[0] = '\0';
	if (fd < 0)
		return (int)fd;
	buf = malloc(NET_RECV_MAX);
	if (!buf)
		return -ENOMEM;
	seq = __atomic_add_fetch(&net_seq, 1, __ATOMIC_RELAXED);
	m->nlh.nlmsg_seq = seq;
	n = skl_sys_sendto((int)fd, m, m->nlh.nlmsg_len, 0,
			   (struct skl_sockaddr *)&kernel, sizeof(kernel));
	if (n < 0)
		return (int)n;
	if (n != m->nlh.nlmsg_len)
		return -EPROTO;

	for (;;) {
		struct skl_sockaddr_nl from;
		int fromlen = sizeof(from);
		const struct skl_nlmsghdr *nlh;
		size_t off;
		int ret;

		n = skl_sys_recvfrom((int)fd, buf, NET_RECV_MAX, SKL_MSG_TRUNC,
				     (struct skl_sockaddr *)&from, &fromlen);
		/* The answer is queued already: an interrupted wait retries. */
		if (n == -EINTR)
			continue;
		if (n < 0)
			return (int)n;
		if (n > NET_RECV_MAX)
			return -EMSGSIZE;
		if (n == 0)
			return -EPROTO;
		/* Only the kernel (port 0) answers requests. */
		if (from.nl_pid != 0)
			continue;
		/* SKL_NLMSG_OK/NEXT, without their signed/unsigned compare. */
		for (off = 0; off + sizeof(*nlh) <= (size_t)n;
		     off += SKL_NLMSG_ALIGN(nlh->nlmsg_len)) {
			nlh = (const struct skl_nlmsghdr *)(buf + off);
			if (nlh->nlmsg_len < sizeof(*nlh) ||
			    nlh->nlmsg_len > (size_t)n - off)
				return -EPROTO;
			if (nlh->nlmsg_seq != seq)
				continue;
			switch (nlh->nlmsg_type) {
			case SKL_NLMSG_ERROR:
				return net_parse_ack(nlh, reply);
			case SKL_NLMSG_DONE:
				return net_parse_done(nlh, reply);
			case SKL_NLMSG_NOOP:
			case SKL_NLMSG_OVERRUN:
				continue;
			}
			if (!cb)
				continue;
			ret = cb(nlh, arg);
			if (ret)
				return ret < 0 ? ret : 0;
		}
	}
}

/* --- addresses as text --- */

static const char net_not_ip[] = "not an IPv4 or IPv6 address";
static const char net_not_mac[] = "not a MAC address like 52:54:00:12:34:56";

static size_t net_addr_len(int family)
{
	return family == SKL_AF_INET ? 4 : 16;
}

static int net_host_af(int family)
{
	return family == SKL_AF_INET ? AF_INET : AF_INET6;
}

static bool net_family_ok(int family)
{
	return family == SKL_AF_INET || family == SKL_AF_INET6;
}

/* "198.18.0.5" or "fd00::5" for messages; never fails for 4/16 bytes. */
static const char *net_ntop(int family, const void *addr, char *buf, size_t len)
{
	if (!inet_ntop(net_host_af(family), addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

static void net_mac_str(const unsigned char mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
}

/*
 * Parse an address of either family ("198.18.0.1", "fd00::1"). Returns
 * its family, or -EINVAL.
 */
static int net_pton(const char *s, void *addr)
{
	if (inet_pton(AF_INET, s, addr) == 1)
		return SKL_AF_INET;
	if (inet_pton(AF_INET6, s, addr) == 1)
		return SKL_AF_INET6;
	return -EINVAL;
}

/*
 * Parse "address/prefixlen". Returns the family, or -EINVAL with @why set
 * to what is wrong with it.
 */
static int net_parse_cidr(const char *cidr, void *addr, int *prefixlen,
			  const char **why)
{
	char host[NET_ADDRSTR_MAX];
	const char *slash, *p;
	int family, max, len = 0;

	slash = strchr(cidr, '/');
	if (!slash) {
		*why = "missing /prefixlen";
		return -EINVAL;
	}
	if ((size_t)(slash - cidr) >= sizeof(host)) {
		*why = net_not_ip;
		return -EINVAL;
	}
	memcpy(host, cidr, (size_t)(slash - cidr));
	host[slash - cidr] = '\0';
	family = net_pton(host, addr);
	if (family < 0) {
		*why = net_not_ip;
		return -EINVAL;
	}
	max = family == SKL_AF_INET ? 32 : 128;
	for (p = slash + 1; *p >= '0' && *p <= '9' && p - slash <= 3; p++)
		len = len * 10 + (*p - '0');
	if (p == slash + 1 || *p || len > max) {
		*why = family == SKL_AF_INET ? "prefix length must be 0-32"
					     : "prefix length must be 0-128";
		return -EINVAL;
	}
	*prefixlen = len;
	return family;
}

static int net_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse "52:54:00:12:34:56" strictly: six pairs of hex digits. */
static int net_parse_mac(const char *s, unsigned char mac[6])
{
	int i, hi, lo;

	for (i = 0; i < 6; i++) {
		hi = net_hex(s[0]);
		lo = hi < 0 ? -1 : net_hex(s[1]);
		if (lo < 0 || s[2] != (i < 5 ? ':' : '\0'))
			return -EINVAL;
		mac[i] = (unsigned char)(hi << 4 | lo);
		s += 3;
	}
	return 0;
}

/* --- interfaces --- */

struct net_link_query {
	const unsigned char *mac;
	int ifindex;
};

/* Reply to a single RTM_GETLINK: remember the index. */
static int net_link_index_cb(const struct skl_nlmsghdr *nlh, void *arg)
{
	struct net_link_query *q = arg;
	const struct skl_ifinfomsg *ifi = SKL_NLMSG_DATA(nlh);

	if (nlh->nlmsg_type != SKL_RTM_NEWLINK ||
	    nlh->nlmsg_len < SKL_NLMSG_LENGTH(sizeof(*ifi)))
		return 0;
	q->ifindex = ifi->ifi_index;
	return 0;
}

/* One link of an RTM_GETLINK dump: stop at the first with our MAC. */
static int net_link_mac_cb(const struct skl_nlmsghdr *nlh, void *arg)
{
	struct net_link_query *q = arg;
	const struct skl_ifinfomsg *ifi = SKL_NLMSG_DATA(nlh);
	const struct skl_rtattr *rta;
	int len;

	if (nlh->nlmsg_type != SKL_RTM_NEWLINK ||
	    nlh->nlmsg_len < SKL_NLMSG_LENGTH(sizeof(*ifi)))
		return 0;
	len = SKL_IFLA_PAYLOAD(nlh);
	for (rta = SKL_IFLA_RTA(ifi); SKL_RTA_OK(rta, len);
	     rta = SKL_RTA_NEXT(rta, len)) {
		if (rta->rta_type == SKL_IFLA_ADDRESS &&
		    SKL_RTA_PAYLOAD(rta) == 6 &&
		    !memcmp(SKL_RTA_DATA(rta), q->mac, 6)) {
			q->ifindex = ifi->ifi_index;
			return 1;
		}
	}
	return 0;
}

int skl_net_ifindex(const char *ifname, char *err, size_t errlen)
{
	struct net_link_query q = { 0 };
	struct skl_ifinfomsg *ifi;
	struct net_reply reply;
	struct net_msg m;
	size_t len;
	int ret;

	if (!ifname || !ifname[0]) {
		net_errf(err, errlen, "look up interface: empty name");
		return -EINVAL;
	}
	len = strnlen(ifname, SKL_IFNAMSIZ);
	if (len >= SKL_IFNAMSIZ) {
		net_errf(err, errlen,
			 "look up interface \"%.*s...\": name longer than %d",
			 SKL_IFNAMSIZ - 1, ifname, SKL_IFNAMSIZ - 1);
		return -EINVAL;
	}
	ifi = net_msg_init(&m, SKL_RTM_GETLINK, SKL_NLM_F_ACK, sizeof(*ifi));
	ifi->ifi_family = SKL_AF_UNSPEC;
	ret = net_msg_put(&m, SKL_IFLA_IFNAME, ifname, len + 1);
	if (!ret)
		ret = net_talk(&m, net_link_index_cb, &q, &reply);
	if (!ret && q.ifindex <= 0)
		ret = -EPROTO;
	if (ret)
		return net_fail(err, errlen, ret, &reply,
				"look up interface \"%s\"", ifname);
	return q.ifindex;
}

int skl_net_ifindex_by_mac(const unsigned char mac[6], char *err, size_t errlen)
{
	struct net_link_query q = { .mac = mac };
	struct skl_ifinfomsg *ifi;
	struct net_reply reply;
	struct net_msg m;
	char macs[18];
	int ret;

	if (!mac) {
		net_errf(err, errlen, "look up interface by MAC: no address");
		return -EINVAL;
	}
	net_mac_str(mac, macs);
	ifi = net_msg_init(&m, SKL_RTM_GETLINK, SKL_NLM_F_DUMP, sizeof(*ifi));
	ifi->ifi_family = SKL_AF_UNSPEC;
	ret = net_talk(&m, net_link_mac_cb, &q, &reply);
	if (ret)
		return net_fail(err, errlen, ret, &reply,
				"look up interface by MAC %s", macs);
	if (q.ifindex <= 0) {
		net_errf(err, errlen, "no interface has MAC %s", macs);
		return -ENODEV;
	}
	return q.ifindex;
}

/*
 * RTM_SETLINK on @ifindex: @flags within @change, and attribute @type of
 * @len bytes if @data. @what names the change for the message.
 */
static int net_setlink(int ifindex, unsigned int flags, unsigned int change,
		       unsigned int type, const void *data, size_t len,
		       const char *what, char *err, size_t errlen)
{
	struct skl_ifinfomsg *ifi;
	struct net_reply reply;
	struct net_msg m;
	int ret = 0;

	if (ifindex <= 0) {
		net_errf(err, errlen, "%s on ifindex %d: no such index", what,
			 ifindex);
		return -EINVAL;
	}
	ifi = net_msg_init(&m, SKL_RTM_SETLINK, SKL_NLM_F_ACK, sizeof(*ifi));
	ifi->ifi_family = SKL_AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	/* A zero ifi_change means "all flags" to the kernel: never send it
	 * with flags we do not mean. */
	ifi->ifi_change = change;
	if (data)
		ret = net_msg_put(&m, type, data, len);
	if (!ret)
		ret = net_talk(&m, NULL, NULL, &reply);
	if (ret)
		return net_fail(err, errlen, ret, &reply, "%s on ifindex %d",
				what, ifindex);
	return 0;
}

int skl_net_link_up(int ifindex, char *err, size_t errlen)
{
	return net_setlink(ifindex, SKL_IFF_UP, SKL_IFF_UP, 0, NULL, 0,
			   "set link up", err, errlen);
}

int skl_net_link_down(int ifindex, char *err, size_t errlen)
{
	return net_setlink(ifindex, 0, SKL_IFF_UP, 0, NULL, 0, "set link down",
			   err, errlen);
}

int skl_net_set_mtu(int ifindex, unsigned int mtu, char *err, size_t errlen)
{
	char what[32];

	snprintf(what, sizeof(what), "set MTU %u", mtu);
	return net_setlink(ifindex, 0, 0, SKL_IFLA_MTU, &mtu, sizeof(mtu), what,
			   err, errlen);
}

int skl_net_set_mac(int ifindex, const unsigned char mac[6], char *err,
		    size_t errlen)
{
	char what[32], macs[18];

	if (!mac) {
		net_errf(err, errlen, "set MAC on ifindex %d: no address",
			 ifindex);
		return -EINVAL;
	}
	net_mac_str(mac, macs);
	snprintf(what, sizeof(what), "set MAC %s", macs);
	return net_setlink(ifindex, 0, 0, SKL_IFLA_ADDRESS, mac, 6, what, err,
			   errlen);
}

int skl_net_lo_up(char *err, size_t errlen)
{
	int ifindex = skl_net_ifindex("lo", err, errlen);

	if (ifindex < 0)
		return ifindex;
	return skl_net_link_up(ifindex, err, errlen);
}

/* --- addresses --- */

/* Arguments common to address, route and neighbour calls. */
static int net_check_addr(int family, const void *addr, int prefixlen,
			  const char *what, char *err, size_t errlen)
{
	int max = family == SKL_AF_INET ? 32 : 128;

	if (!net_family_ok(family)) {
		net_errf(err, errlen, "%s: family %d is not IPv4 or IPv6", what,
			 family);
		return -EAFNOSUPPORT;
	}
	if (!addr) {
		net_errf(err, errlen, "%s: no address", what);
		return -EINVAL;
	}
	if (prefixlen < 0 || prefixlen > max) {
		net_errf(err, errlen, "%s: prefix length %d out of range 0-%d",
			 what, prefixlen, max);
		return -EINVAL;
	}
	return 0;
}

int skl_net_add_addr(int ifindex, int family, const void *addr, int prefixlen,
		     char *err, size_t errlen)
{
	char a[INET6_ADDRSTRLEN];
	struct skl_ifaddrmsg *ifa;
	struct net_reply reply;
	struct net_msg m;
	size_t len;
	int ret;

	ret = net_check_addr(family, addr, prefixlen, "add address", err,
			     errlen);
	if (ret)
		return ret;
	net_ntop(family, addr, a, sizeof(a));
	if (ifindex <= 0) {
		net_errf(err, errlen,
			 "add address %s/%d to ifindex %d: no such index", a,
			 prefixlen, ifindex);
		return -EINVAL;
	}
	len = net_addr_len(family);
	ifa = net_msg_init(&m, SKL_RTM_NEWADDR,
			   SKL_NLM_F_ACK | SKL_NLM_F_CREATE | SKL_NLM_F_EXCL,
			   sizeof(*ifa));
	ifa->ifa_family = (unsigned char)family;
	ifa->ifa_prefixlen = (unsigned char)prefixlen;
	ifa->ifa_index = (unsigned int)ifindex;
	ifa->ifa_scope = SKL_RT_SCOPE_UNIVERSE;
	if (family == SKL_AF_INET6) {
		ifa->ifa_flags = SKL_IFA_F_NODAD;
	} else if (((const unsigned char *)addr)[0] == 127) {
		ifa->ifa_scope = SKL_RT_SCOPE_HOST;
	}
	/* IFA_LOCAL is the address; IFA_ADDRESS the peer, the same unless
	 * point-to-point. IPv6 reads either. */
	ret = net_msg_put(&m, SKL_IFA_LOCAL, addr, len);
	if (!ret)
		ret = net_msg_put(&m, SKL_IFA_ADDRESS, addr, len);
	if (!ret)
		ret = net_talk(&m, NULL, NULL, &reply);
	if (ret)
		return net_fail(err, errlen, ret, &reply,
				"add address %s/%d to ifindex %d", a, prefixlen,
				ifindex);
	return 0;
}

int skl_net_add_addr_str(int ifindex, const char *cidr, char *err,
			 size_t errlen)
{
	unsigned char addr[16];
	const char *why;
	int family, prefixlen;

	if (!cidr) {
		net_errf(err, errlen, "add address: no address");
		return -EINVAL;
	}
	family = net_parse_cidr(cidr, addr, &prefixlen, &why);
	if (family < 0) {
		net_errf(err, errlen, "add address \"%s\" to ifindex %d: %s",
			 cidr, ifindex, why);
		return family;
	}
	return skl_net_add_addr(ifindex, family, addr, prefixlen, err, errlen);
}

/* --- routes --- */

int skl_net_add_route(int family, const void *dst, int prefixlen,
		      const void *gateway, int ifindex, char *err,
		      size_t errlen)
{
	static const unsigned char any[16];
	char d[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN + 8], o[24];
	struct net_reply reply;
	struct skl_rtmsg *rtm;
	struct net_msg m;
	size_t len;
	int ret;

	if (!prefixlen && !dst)
		dst = any;
	ret = net_check_addr(family, dst, prefixlen, "add route", err, errlen);
	if (ret)
		return ret;
	net_ntop(family, dst, d, sizeof(d));
	g[0] = o[0] = '\0';
	if (gateway) {
		strcpy(g, " via ");
		net_ntop(family, gateway, g + 5, sizeof(g) - 5);
	}
	if (ifindex)
		snprintf(o, sizeof(o), " dev ifindex %d", ifindex);
	if (ifindex < 0 || (!gateway && !ifindex)) {
		net_errf(err, errlen, "add route %s/%d%s%s: %s", d, prefixlen,
			 g, o,
			 ifindex < 0 ? "bad ifindex"
				     : "needs a gateway or an interface");
		return -EINVAL;
	}

	len = net_addr_len(family);
	rtm = net_msg_init(&m, SKL_RTM_NEWROUTE,
			   SKL_NLM_F_ACK | SKL_NLM_F_CREATE | SKL_NLM_F_EXCL,
			   sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_dst_len = (unsigned char)prefixlen;
	rtm->rtm_table = SKL_RT_TABLE_MAIN;
	rtm->rtm_protocol = SKL_RTPROT_STATIC;
	rtm->rtm_type = SKL_RTN_UNICAST;
	/* Without a gateway the destination is on the link itself. */
	rtm->rtm_scope = gateway ? SKL_RT_SCOPE_UNIVERSE : SKL_RT_SCOPE_LINK;
	ret = 0;
	if (prefixlen)
		ret = net_msg_put(&m, SKL_RTA_DST, dst, len);
	if (!ret && gateway)
		ret = net_msg_put(&m, SKL_RTA_GATEWAY, gateway, len);
	if (!ret && ifindex)
		ret = net_msg_put_u32(&m, SKL_RTA_OIF, (unsigned int)ifindex);
	if (!ret)
		ret = net_talk(&m, NULL, NULL, &reply);
	if (ret) {
		if (!prefixlen)
			return net_fail(err, errlen, ret, &reply,
					"add default route%s%s", g, o);
		return net_fail(err, errlen, ret, &reply, "add route %s/%d%s%s",
				d, prefixlen, g, o);
	}
	return 0;
}

int skl_net_add_route_str(const char *dst, const char *gateway, int ifindex,
			  char *err, size_t errlen)
{
	unsigned char daddr[16], gaddr[16];
	const char *why;
	int family, gfamily, prefixlen;

	if (!dst) {
		net_errf(err, errlen, "add route: no destination");
		return -EINVAL;
	}
	family = net_parse_cidr(dst, daddr, &prefixlen, &why);
	if (family < 0) {
		net_errf(err, errlen, "add route \"%s\": %s", dst, why);
		return family;
	}
	if (gateway) {
		gfamily = net_pton(gateway, gaddr);
		if (gfamily < 0) {
			net_errf(err, errlen, "add route %s via \"%s\": %s",
				 dst, gateway, net_not_ip);
			return -EINVAL;
		}
		if (gfamily != family) {
			net_errf(err, errlen,
				 "add route %s via %s: families differ", dst,
				 gateway);
			return -EINVAL;
		}
	}
	return skl_net_add_route(family, daddr, prefixlen,
				 gateway ? gaddr : NULL, ifindex, err, errlen);
}

int skl_net_add_default_route(int family, const void *gateway, char *err,
			      size_t errlen)
{
	if (!gateway && net_family_ok(family)) {
		net_errf(err, errlen, "add default route: no gateway");
		return -EINVAL;
	}
	return skl_net_add_route(family, NULL, 0, gateway, 0, err, errlen);
}

int skl_net_add_default_route_str(const char *gateway, char *err, size_t errlen)
{
	unsigned char addr[16];
	int family;

	if (!gateway) {
		net_errf(err, errlen, "add default route: no gateway");
		return -EINVAL;
	}
	family = net_pton(gateway, addr);
	if (family < 0) {
		net_errf(err, errlen, "add default route via \"%s\": %s",
			 gateway, net_not_ip);
		return -EINVAL;
	}
	return skl_net_add_default_route(family, addr, err, errlen);
}

/* --- neighbours --- */

int skl_net_add_neigh(int ifindex, int family, const void *addr,
		      const unsigned char mac[6], char *err, size_t errlen)
{
	char a[INET6_ADDRSTRLEN], macs[18];
	struct net_reply reply;
	struct skl_ndmsg *ndm;
	struct net_msg m;
	int ret;

	ret = net_check_addr(family, addr, 0, "add neighbour", err, errlen);
	if (ret)
		return ret;
	net_ntop(family, addr, a, sizeof(a));
	if (!mac) {
		net_errf(err, errlen, "add neighbour %s: no MAC address", a);
		return -EINVAL;
	}
	net_mac_str(mac, macs);
	if (ifindex <= 0) {
		net_errf(err, errlen,
			 "add neighbour %s on ifindex %d: no such index", a,
			 ifindex);
		return -EINVAL;
	}
	/* Replace, not exclusive: ARP or ND may have learned it already. */
	ndm = net_msg_init(&m, SKL_RTM_NEWNEIGH,
			   SKL_NLM_F_ACK | SKL_NLM_F_CREATE | SKL_NLM_F_REPLACE,
			   sizeof(*ndm));
	ndm->ndm_family = (unsigned char)family;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = SKL_NUD_PERMANENT;
	ret = net_msg_put(&m, SKL_NDA_DST, addr, net_addr_len(family));
	if (!ret)
		ret = net_msg_put(&m, SKL_NDA_LLADDR, mac, 6);
	if (!ret)
		ret = net_talk(&m, NULL, NULL, &reply);
	if (ret)
		return net_fail(err, errlen, ret, &reply,
				"add neighbour %s lladdr %s on ifindex %d", a,
				macs, ifindex);
	return 0;
}

int skl_net_add_neigh_str(int ifindex, const char *addr, const char *mac,
			  char *err, size_t errlen)
{
	unsigned char a[16], hw[6];
	int family;

	if (!addr || !mac) {
		net_errf(err, errlen, "add neighbour: no %s",
			 addr ? "MAC address" : "address");
		return -EINVAL;
	}
	family = net_pton(addr, a);
	if (family < 0) {
		net_errf(err, errlen, "add neighbour \"%s\": %s", addr,
			 net_not_ip);
		return -EINVAL;
	}
	if (net_parse_mac(mac, hw)) {
		net_errf(err, errlen, "add neighbour %s lladdr \"%s\": %s",
			 addr, mac, net_not_mac);
		return -EINVAL;
	}
	return skl_net_add_neigh(ifindex, family, a, hw, err, errlen);
}
