// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net on a veth: a library kernel against the host kernel's stack
 * (host ping, host TCP peer: the wire format checked by a real Linux), and
 * two library kernels in two processes joined by a veth pair (ARP, ICMP,
 * 256 MiB of TCP, UDP both ways), at MTU 1500 and 9000, offloads on and
 * off. Everything happens in a network namespace the case makes and a
 * guardian removes; addresses are 198.18.0.0/16.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel-lib/include/skl_net.h"
#include "tests/kernel/kboot.h"
#include "tests/kernel/knetns.h"

#define MIB (1024UL * 1024UL)

static uint32_t fnv1a(const unsigned char *p, size_t n, uint32_t h)
{
	while (n--) {
		h ^= *p++;
		h *= 16777619u;
	}
	return h;
}

/* The byte stream every sender sends: position-dependent, so a lost,
 * duplicated or reordered chunk changes the hash. */
static void fill_pattern(unsigned char *buf, size_t len, uint64_t pos)
{
	size_t i;

	for (i = 0; i < len; i++) {
		uint64_t x = pos + i;

		buf[i] = (unsigned char)(x * 2654435761u >> 13);
	}
}

static uint32_t pattern_hash(uint64_t total)
{
	static unsigned char buf[64 * 1024];
	uint32_t h = 2166136261u;
	uint64_t pos = 0;

	while (pos < total) {
		size_t n = total - pos < sizeof(buf) ? (size_t)(total - pos) : sizeof(buf);

		fill_pattern(buf, n, pos);
		h = fnv1a(buf, n, h);
		pos += n;
	}
	return h;
}

/* Boot a kernel on a packet socket and give eth its address; its ifindex. */
static int node_boot(int packet_fd, const char *cidr, unsigned int mtu, int offloads)
{
	struct skl_netdev_params p = { .packet_fd = packet_fd, .mtu = mtu, .offloads = offloads };
	unsigned char mac[6];
	char err[256];
	int dev, ifindex;

	dev = skl_netdev_add(&p, err, sizeof(err));
	if (dev < 0)
		harness_fail(__FILE__, __LINE__, "%s", err);
	close(packet_fd);
	kboot();
	CHECK_EQ_INT(skl_netdev_mac(dev, mac), 0);
	ifindex = skl_net_ifindex_by_mac(mac, err, sizeof(err));
	if (ifindex < 0)
		harness_fail(__FILE__, __LINE__, "%s", err);
	if (skl_net_set_mtu(ifindex, mtu, err, sizeof(err)) ||
	    skl_net_link_up(ifindex, err, sizeof(err)) ||
	    skl_net_add_addr_str(ifindex, cidr, err, sizeof(err)))
		harness_fail(__FILE__, __LINE__, "%s", err);
	return ifindex;
}

static struct skl_sockaddr_in kaddr(const char *ip, unsigned short port)
{
	struct skl_sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = SKL_AF_INET;
	a.sin_port = htons(port);
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

/* Library-kernel TCP: send total bytes of the pattern to ip:port. */
static void kernel_tcp_send(const char *ip, unsigned short port, uint64_t total)
{
	static unsigned char buf[64 * 1024];
	struct skl_sockaddr_in a = kaddr(ip, port);
	struct skl_linger linger = { .l_onoff = 1, .l_linger = 60 };
	uint64_t pos = 0;
	long fd = SYS_OK(skl_sys_socket(SKL_AF_INET, SKL_SOCK_STREAM, 0));
	int tries;

	for (tries = 0; tries < 100; tries++) {
		long r = skl_sys_connect((int)fd, (void *)&a, sizeof(a));

		if (r == 0)
			break;
		CHECK(r == -ECONNREFUSED || r == -EHOSTUNREACH || r == -ETIMEDOUT);
		usleep(50 * 1000);
		skl_sys_close((unsigned int)fd);
		fd = SYS_OK(skl_sys_socket(SKL_AF_INET, SKL_SOCK_STREAM, 0));
	}
	while (pos < total) {
		size_t n = total - pos < sizeof(buf) ? (size_t)(total - pos) : sizeof(buf);
		size_t off = 0;

		fill_pattern(buf, n, pos);
		while (off < n)
			off += (size_t)SYS_OK(
				skl_sys_write((unsigned int)fd, (char *)buf + off, n - off));
		pos += n;
	}
	/* close() returns once the peer has acknowledged everything, FIN
	 * included: the caller may halt its kernel right after. */
	SYS_OK(skl_sys_setsockopt((int)fd, SKL_SOL_SOCKET, SKL_SO_LINGER, (char *)&linger,
				  sizeof(linger)));
	SYS_OK(skl_sys_close((unsigned int)fd));
}

/* Library-kernel TCP: accept one connection on port, hash what arrives. */
static uint32_t kernel_tcp_receive(unsigned short port, uint64_t *received)
{
	static unsigned char buf[64 * 1024];
	struct skl_sockaddr_in a = kaddr("0.0.0.0", port);
	uint32_t h = 2166136261u;
	long ls, fd, n;
	int one = 1;

	ls = SYS_OK(skl_sys_socket(SKL_AF_INET, SKL_SOCK_STREAM, 0));
	SYS_OK(skl_sys_setsockopt((int)ls, SKL_SOL_SOCKET, SKL_SO_REUSEADDR, (char *)&one,
				  sizeof(one)));
	SYS_OK(skl_sys_bind((int)ls, (void *)&a, sizeof(a)));
	SYS_OK(skl_sys_listen((int)ls, 1));
	fd = SYS_OK(skl_sys_accept4((int)ls, NULL, NULL, 0));
	*received = 0;
	while ((n = SYS_OK(skl_sys_read((unsigned int)fd, (char *)buf, sizeof(buf)))) > 0) {
		h = fnv1a(buf, (size_t)n, h);
		*received += (uint64_t)n;
	}
	skl_sys_close((unsigned int)fd);
	skl_sys_close((unsigned int)ls);
	return h;
}

/* ICMP echo from the library kernel through a raw socket. */
static int kernel_ping(const char *ip)
{
	struct skl_sockaddr_in a = kaddr(ip, 0);
	unsigned char pkt[64], reply[256];
	uint32_t sum = 0;
	long fd;
	int i, tries;

	fd = SYS_OK(skl_sys_socket(SKL_AF_INET, SKL_SOCK_RAW, SKL_IPPROTO_ICMP));
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 8; /* echo request */
	pkt[4] = 0x12;
	pkt[5] = 0x34;
	for (i = 8; i < (int)sizeof(pkt); i++)
		pkt[i] = (unsigned char)i;
	for (i = 0; i < (int)sizeof(pkt); i += 2)
		sum += (uint32_t)(pkt[i] << 8 | pkt[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	pkt[2] = (unsigned char)(sum >> 8);
	pkt[3] = (unsigned char)sum;
	for (tries = 0; tries < 20; tries++) {
		struct skl_timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
		long n;

		SYS_OK(skl_sys_setsockopt((int)fd, SKL_SOL_SOCKET, SKL_SO_RCVTIMEO_OLD, (char *)&tv,
					  sizeof(tv)));
		if (skl_sys_sendto((int)fd, pkt, sizeof(pkt), 0, (void *)&a, sizeof(a)) < 0)
			break; /* no route: no answer either */
		n = skl_sys_recvfrom((int)fd, reply, sizeof(reply), 0, NULL, NULL);
		/* IP header (20 bytes), then an echo reply (type 0) with our id */
		if (n >= 28 && reply[20] == 0 && reply[24] == 0x12 && reply[25] == 0x34) {
			skl_sys_close((unsigned int)fd);
			return 0;
		}
	}
	skl_sys_close((unsigned int)fd);
	return -1;
}

/* ---- the library kernel against the host kernel ---- */

/* Host TCP server in the namespace (child process): hash what arrives. */
static pid_t host_tcp_sink(struct knetns *ns, const char *ip, unsigned short port, int result_fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		static unsigned char buf[64 * 1024];

		knetns_forked(ns);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
		uint32_t h = 2166136261u;
		uint64_t total = 0;
		int ls, fd, one = 1;
		ssize_t n;

		knetns_enter(ns);
		inet_pton(AF_INET, ip, &a.sin_addr);
		ls = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1))
			_exit(2);
		fd = accept(ls, NULL, NULL);
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			h = fnv1a(buf, (size_t)n, h);
			total += (uint64_t)n;
		}
		if (write(result_fd, &h, sizeof(h)) != sizeof(h) ||
		    write(result_fd, &total, sizeof(total)) != sizeof(total))
			_exit(3);
		_exit(0);
	}
	return pid;
}

/* Host TCP client in the namespace (child process): send the pattern. The
 * host's stack uses TSO and checksum offload on the veth, so a kernel with
 * offloads off gets frames the device must finish and cut (net_soft.c). */
static pid_t host_tcp_source(struct knetns *ns, const char *ip, unsigned short port, uint64_t total)
{
	pid_t pid = fork();

	if (pid == 0) {
		static unsigned char buf[64 * 1024];
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
		uint64_t pos = 0;
		int fd, tries;

		knetns_forked(ns);
		knetns_enter(ns);
		inet_pton(AF_INET, ip, &a.sin_addr);
		for (tries = 0; tries < 100; tries++) {
			fd = socket(AF_INET, SOCK_STREAM, 0);
			if (!connect(fd, (struct sockaddr *)&a, sizeof(a)))
				break;
			close(fd);
			fd = -1;
			usleep(50 * 1000);
		}
		if (fd < 0)
			_exit(2);
		while (pos < total) {
			size_t n = total - pos < sizeof(buf) ? (size_t)(total - pos) : sizeof(buf);
			size_t off = 0;

			fill_pattern(buf, n, pos);
			while (off < n) {
				ssize_t w = write(fd, buf + off, n - off);

				if (w <= 0)
					_exit(3);
				off += (size_t)w;
			}
			pos += n;
		}
		close(fd);
		_exit(0);
	}
	return pid;
}

/* Read a file of the library kernel's /proc into buf. */
static void kread_proc(const char *path, char *buf, size_t size)
{
	long r = skl_sys_mkdirat(SKL_AT_FDCWD, "/proc", 0555), fd, n;

	if (r == 0)
		SYS_OK(skl_sys_mount((char *)"proc", (char *)"/proc", (char *)"proc", 0, NULL));
	fd = SYS_OK(skl_sys_openat(SKL_AT_FDCWD, path, SKL_O_RDONLY, 0));
	n = SYS_OK(skl_sys_read((unsigned int)fd, buf, size - 1));
	buf[n] = 0;
	skl_sys_close((unsigned int)fd);
}

/* IPv6, a default gateway and a static neighbour, configured through the
 * API and checked against the host kernel. */
static void routing_checks(struct knetns *ns, int ifindex)
{
	char err[256], mac[32] = "", arp[4096];
	FILE *f;

	/* IPv6: the host pings the library kernel's address. */
	if (skl_net_add_addr_str(ifindex, "fd00:5ee::2/64", err, sizeof(err)))
		harness_fail(__FILE__, __LINE__, "%s", err);
	CHECK_EQ_INT(knetns_exec(ns, "ip -6 addr add fd00:5ee::1/64 dev vh nodad"), 0);
	CHECK_EQ_INT(knetns_exec(ns, "ping -6 -q -c 2 -i 0.2 -W 2 fd00:5ee::2 >&2"), 0);

	/* A default route: 198.18.9.1 is outside eth's /24 and lives on the
	 * host, reachable only through the gateway 198.18.0.1. */
	CHECK_EQ_INT(knetns_exec(ns, "ip addr add 198.18.9.1/32 dev vh"), 0);
	CHECK(kernel_ping("198.18.9.1") != 0);
	if (skl_net_add_default_route_str("198.18.0.1", err, sizeof(err)))
		harness_fail(__FILE__, __LINE__, "%s", err);
	CHECK_EQ_INT(kernel_ping("198.18.9.1"), 0);

	/* A static neighbour: the host's MAC for 198.18.0.1, permanent. */
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "ip netns exec %s cat /sys/class/net/vh/address",
			 ns->name);
		f = popen(cmd, "r");
		CHECK(f != NULL);
		CHECK(fgets(mac, sizeof(mac), f) != NULL);
		pclose(f);
		mac[strcspn(mac, "\n")] = 0;
	}
	if (skl_net_add_neigh_str(ifindex, "198.18.0.1", mac, err, sizeof(err)))
		harness_fail(__FILE__, __LINE__, "%s", err);
	kread_proc("/proc/net/arp", arp, sizeof(arp));
	CHECK(strstr(arp, "198.18.0.1") != NULL);
	CHECK(strstr(arp, mac) != NULL);
	CHECK(strstr(arp, "0x6") != NULL); /* ATF_COM | ATF_PERM */
}

static void host_peer_case(int offloads, unsigned int mtu)
{
	struct knetns ns;
	int ifindex;
	uint32_t h = 0;
	uint64_t total = 0, want = 64 * MIB;
	int result[2], status;
	pid_t sink;

	knetns_create(&ns);
	knetns_veth(&ns, "vk", "vh", (int)mtu);
	CHECK_EQ_INT(knetns_exec(&ns, "ip addr add 198.18.0.1/24 dev vh"), 0);
	ifindex = node_boot(knetns_packet_socket(&ns, "vk"), "198.18.0.2/24", mtu, offloads);
	if (mtu == 1500 && offloads)
		routing_checks(&ns, ifindex);

	/* ARP and ICMP answered by the library kernel, asked by Linux. */
	CHECK_EQ_INT(knetns_exec(&ns, "ping -q -c 3 -i 0.2 -W 2 198.18.0.2 >&2"), 0);
	/* and the other way round */
	CHECK_EQ_INT(kernel_ping("198.18.0.1"), 0);

	CHECK_EQ_INT(pipe(result), 0);
	sink = host_tcp_sink(&ns, "198.18.0.1", 7001, result[1]);
	kernel_tcp_send("198.18.0.1", 7001, want);
	CHECK_EQ_INT(read(result[0], &h, sizeof(h)), sizeof(h));
	CHECK_EQ_INT(read(result[0], &total, sizeof(total)), sizeof(total));
	CHECK_EQ_INT(waitpid(sink, &status, 0), sink);
	CHECK_EQ_INT(total, want);
	CHECK_EQ_INT(h, pattern_hash(want));

	/* and from the host into the library kernel */
	sink = host_tcp_source(&ns, "198.18.0.2", 7002, 16 * MIB);
	h = kernel_tcp_receive(7002, &total);
	CHECK_EQ_INT(waitpid(sink, &status, 0), sink);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ_INT(total, 16 * MIB);
	CHECK_EQ_INT(h, pattern_hash(16 * MIB));
	CHECK_EQ_INT(skl_halt(), 0);
}

TEST_TIMEOUT(host_peer_offloads_mtu1500, 120)
{
	host_peer_case(1, 1500);
}

TEST_TIMEOUT(host_peer_no_offloads_mtu1500, 120)
{
	host_peer_case(0, 1500);
}

TEST_TIMEOUT(host_peer_offloads_mtu9000, 120)
{
	host_peer_case(1, 9000);
}

/* ---- two library kernels, two processes ---- */

struct node_result {
	uint32_t hash;
	uint64_t bytes;
	int ping_ok;
	int udp_ok;
};

/*
 * UDP both ways: the initiator sends count datagrams of 1 KiB, each until its
 * echo comes back (the peer may not have bound its socket yet, and UDP may
 * drop); the responder echoes whatever arrives until it has seen every
 * index, then lingers a little for repeats whose echo was lost.
 */
static int kernel_udp_exchange(const char *self_ip, const char *peer_ip, unsigned short port,
			       int count, int initiator)
{
	struct skl_sockaddr_in me = kaddr(self_ip, port), peer = kaddr(peer_ip, port);
	struct skl_timeval tv = { .tv_sec = 0, .tv_usec = 200 * 1000 };
	unsigned char seen[256] = { 0 };
	char buf[1024];
	long fd = SYS_OK(skl_sys_socket(SKL_AF_INET, SKL_SOCK_DGRAM, 0));
	int i, distinct = 0, idle = 0, ok = 0;

	SYS_OK(skl_sys_bind((int)fd, (void *)&me, sizeof(me)));
	SYS_OK(skl_sys_setsockopt((int)fd, SKL_SOL_SOCKET, SKL_SO_RCVTIMEO_OLD, (char *)&tv,
				  sizeof(tv)));
	if (initiator) {
		for (i = 0; i < count; i++) {
			int tries;

			for (tries = 0; tries < 50; tries++) {
				long n;

				memset(buf, i, sizeof(buf));
				SYS_OK(skl_sys_sendto((int)fd, buf, sizeof(buf), 0, (void *)&peer,
						      sizeof(peer)));
				n = skl_sys_recvfrom((int)fd, buf, sizeof(buf), 0, NULL, NULL);
				if (n == sizeof(buf) && (unsigned char)buf[0] == (unsigned char)i &&
				    (unsigned char)buf[sizeof(buf) - 1] == (unsigned char)i)
					break;
			}
			if (tries == 50)
				goto out;
		}
		ok = 1;
	} else {
		while (idle < 25 && (distinct < count || idle < 5)) {
			long n = skl_sys_recvfrom((int)fd, buf, sizeof(buf), 0, NULL, NULL);

			if (n < 0) {
				idle++;
				continue;
			}
			idle = 0;
			if (n != sizeof(buf) || buf[0] != buf[sizeof(buf) - 1])
				goto out;
			if (!seen[(unsigned char)buf[0]]++)
				distinct++;
			SYS_OK(skl_sys_sendto((int)fd, buf, (size_t)n, 0, (void *)&peer,
					      sizeof(peer)));
		}
		ok = distinct == count;
	}
out:
	skl_sys_close((unsigned int)fd);
	return ok ? 0 : -1;
}

/* One node of the pair, in its own process: boot, then its role. */
static void node_run(struct knetns *ns, const char *ifname, int is_a, unsigned int mtu,
		     int offloads, uint64_t bytes, int result_fd)
{
	struct node_result r = { 0 };
	const char *me = is_a ? "198.18.1.1" : "198.18.1.2";
	const char *peer = is_a ? "198.18.1.2" : "198.18.1.1";
	char cidr[32];

	snprintf(cidr, sizeof(cidr), "%s/24", me);
	node_boot(knetns_packet_socket(ns, ifname), cidr, mtu, offloads);
	/* Progress on stderr: the runner shows it if the case fails. */
	fprintf(stderr, "%s: booted\n", me);
	r.ping_ok = kernel_ping(peer) == 0;
	fprintf(stderr, "%s: ping %s\n", me, r.ping_ok ? "ok" : "FAILED");
	r.udp_ok = kernel_udp_exchange(me, peer, 7100, 50, is_a) == 0;
	fprintf(stderr, "%s: udp %s\n", me, r.udp_ok ? "ok" : "FAILED");
	if (is_a)
		r.hash = kernel_tcp_receive(7200, &r.bytes);
	else
		kernel_tcp_send(peer, 7200, bytes);
	fprintf(stderr, "%s: tcp done\n", me);
	if (write(result_fd, &r, sizeof(r)) != sizeof(r))
		_exit(3);
	CHECK_EQ_INT(skl_halt(), 0);
	_exit(0);
}

static void two_kernels_case(unsigned int mtu, int offloads, uint64_t bytes)
{
	struct node_result ra, rb;
	struct knetns ns;
	int pa[2], pb[2], sa, sb;
	pid_t a, b;

	knetns_create(&ns);
	knetns_veth(&ns, "va", "vb", (int)mtu);
	CHECK_EQ_INT(pipe(pa), 0);
	CHECK_EQ_INT(pipe(pb), 0);
	a = fork();
	if (a == 0) {
		knetns_forked(&ns);
		node_run(&ns, "va", 1, mtu, offloads, bytes, pa[1]);
	}
	b = fork();
	if (b == 0) {
		knetns_forked(&ns);
		node_run(&ns, "vb", 0, mtu, offloads, bytes, pb[1]);
	}
	close(pa[1]);
	close(pb[1]);
	CHECK_EQ_INT(read(pa[0], &ra, sizeof(ra)), sizeof(ra));
	CHECK_EQ_INT(read(pb[0], &rb, sizeof(rb)), sizeof(rb));
	CHECK_EQ_INT(waitpid(a, &sa, 0), a);
	CHECK_EQ_INT(waitpid(b, &sb, 0), b);
	CHECK(WIFEXITED(sa) && WEXITSTATUS(sa) == 0);
	CHECK(WIFEXITED(sb) && WEXITSTATUS(sb) == 0);
	CHECK(ra.ping_ok && rb.ping_ok);
	CHECK(ra.udp_ok && rb.udp_ok);
	CHECK_EQ_INT(ra.bytes, bytes);
	CHECK_EQ_INT(ra.hash, pattern_hash(bytes));
}

TEST_TIMEOUT(two_kernels_256mib_mtu1500_offloads, 300)
{
	two_kernels_case(1500, 1, 256 * MIB);
}

TEST_TIMEOUT(two_kernels_mtu1500_no_offloads, 300)
{
	two_kernels_case(1500, 0, 32 * MIB);
}

TEST_TIMEOUT(two_kernels_mtu9000_offloads, 300)
{
	two_kernels_case(9000, 1, 64 * MIB);
}

TEST_TIMEOUT(two_kernels_mtu9000_no_offloads, 300)
{
	two_kernels_case(9000, 0, 32 * MIB);
}

/* ---- bad backend input ---- */

TEST(bad_backend_input_is_refused_at_setup)
{
	struct skl_netdev_params missing = { .ifname = "shoal-nope0", .packet_fd = -1 };
	struct skl_netdev_params none = { .packet_fd = -1 };
	struct skl_netdev_params mtu = { .ifname = "lo", .packet_fd = -1, .mtu = 20 };
	struct skl_netdev_params notpacket = { .packet_fd = -1 };
	char err[256];
	int fds[2];

	CHECK_EQ_INT(skl_netdev_add(&missing, err, sizeof(err)), -ENODEV);
	CHECK(strstr(err, "shoal-nope0") != NULL);
	CHECK_EQ_INT(skl_netdev_add(&none, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(skl_netdev_add(&mtu, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "MTU") != NULL);
	CHECK_EQ_INT(pipe(fds), 0);
	notpacket.packet_fd = fds[0];
	CHECK_EQ_INT(skl_netdev_add(&notpacket, err, sizeof(err)), -ENOTSOCK);
	CHECK(strstr(err, "not a raw AF_PACKET socket") != NULL);
	notpacket.packet_fd = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK_EQ_INT(skl_netdev_add(&notpacket, err, sizeof(err)), -ENOTSOCK);
	/* Nothing was added: the kernel boots with no network device. */
	kboot();
	CHECK_EQ_INT(skl_net_ifindex("eth0", NULL, 0), -ENODEV);
	CHECK_EQ_INT(skl_halt(), 0);
}
