// SPDX-License-Identifier: GPL-2.0
/*
 * An instance's network, end to end: a veth pair in a namespace the test
 * makes (a guardian removes it), the host end with an address, the other end
 * handed to the instance as a packet socket (by descriptor, or by name when
 * the instance starts inside the namespace). The host pings the locked-down
 * instance over IPv4 and IPv6, also at MTU 9000 without offloads, and the
 * instance's stats count the frames. Two instances on the two ends of one
 * veth pair ping each other and exchange data over TCP (the test-only
 * --selfcheck-peer of instance/selfcheck.c), and the namespace is gone after.
 * Addresses are from 198.18.0.0/16 and fd53::/16; no traffic leaves the
 * namespace.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/instance/tinst.h"
#include "tests/kernel/knetns.h"

static const unsigned char instance_mac[6] = { 0x02, 0x53, 0x48, 0x00, 0x07, 0x02 };

static void parse_cidr(struct proto_cidr *c, int family, const char *addr, unsigned int prefix)
{
	c->family = family;
	c->prefix = prefix;
	CHECK(inet_pton(family, addr, c->addr) == 1);
}

static void parse_ip(struct proto_ip *ip, int family, const char *addr)
{
	ip->family = family;
	CHECK(inet_pton(family, addr, ip->addr) == 1);
}

/* The namespace with h0 (host side, addressed) and i0 (the instance's). */
static void net_setup(struct knetns *ns, int mtu)
{
	knetns_create(ns);
	knetns_veth(ns, "h0", "i0", mtu);
	if (knetns_exec(ns, "ip addr add 198.18.7.1/24 dev h0") ||
	    knetns_exec(ns, "ip -6 addr add fd53:7::1/64 dev h0 nodad"))
		FAIL("address h0");
}

static void net_configure(struct tinst *t, struct proto_msg *cfg, int mtu, bool offloads)
{
	tinst_configure_init(t, cfg);
	cfg->configure.has_network = true;
	memcpy(cfg->configure.network.mac, instance_mac, 6);
	parse_cidr(&cfg->configure.network.ipv4, AF_INET, "198.18.7.2", 24);
	parse_cidr(&cfg->configure.network.ipv6, AF_INET6, "fd53:7::2", 64);
	parse_ip(&cfg->configure.network.gateway4, AF_INET, "198.18.7.1");
	parse_ip(&cfg->configure.network.gateway6, AF_INET6, "fd53:7::1");
	parse_ip(&cfg->configure.network.dns[0], AF_INET, "198.18.7.1");
	cfg->configure.network.ndns = 1;
	cfg->configure.network.mtu = (uint32_t)mtu;
	cfg->configure.network.offloads = offloads;
}

static const struct proto_iface_stats *find_iface(const struct proto_stats_result *s,
						  const char *name)
{
	size_t i;

	for (i = 0; i < s->ninterfaces; i++)
		if (!strcmp(s->interfaces[i].name, name))
			return &s->interfaces[i];
	return NULL;
}

static void ping_and_count(struct tinst *t, struct knetns *ns, const char *extra)
{
	const struct proto_iface_stats *eth;
	struct proto_msg msg;

	if (knetns_exec(ns, "ping -c 3 -i 0.2 -W 2 %s 198.18.7.2", extra))
		FAIL("the host could not ping the instance at 198.18.7.2");
	if (knetns_exec(ns, "ping -6 -c 3 -i 0.2 -W 2 %s fd53:7::2", extra))
		FAIL("the host could not ping the instance at fd53:7::2");
	tinst_stats(t, &msg);
	eth = find_iface(&msg.ok.stats, "eth0");
	CHECK(eth != NULL);
	printf("eth0: rx %llu packets %llu bytes, tx %llu packets %llu bytes\n",
	       (unsigned long long)eth->rx_packets, (unsigned long long)eth->rx_bytes,
	       (unsigned long long)eth->tx_packets, (unsigned long long)eth->tx_bytes);
	CHECK(eth->rx_packets >= 6 && eth->tx_packets >= 6);
	proto_msg_free(&msg);
}

static char *get_text(struct tinst *t, const char *path)
{
	enum proto_error_code code;
	size_t len;
	char *p = tinst_get(t, path, &len, NULL, &code);

	CHECK(p != NULL);
	p = realloc(p, len + 1);
	p[len] = 0;
	return p;
}

TEST(host_pings_the_instance_on_a_passed_packet_socket)
{
	struct proto_msg cfg, ready;
	struct knetns ns;
	struct tinst t;
	char *text;
	int fd;

	tinst_require_root();
	net_setup(&ns, 1500);
	fd = knetns_packet_socket(&ns, "i0");
	tinst_spawn(&t, NULL);
	tinst_hello(&t);
	net_configure(&t, &cfg, 1500, true);
	cfg.configure.network.fd = 0;
	tinst_boot(&t, &cfg, &fd, 1, &ready);
	close(fd);
	printf("ready: network %llu us, total %llu us\n",
	       (unsigned long long)ready.ready.timings.network_us,
	       (unsigned long long)ready.ready.timings.total_us);
	CHECK(ready.ready.timings.network_us > 0);
	proto_msg_free(&ready);
	/* The device's packet poller too is a thread without capabilities. */
	printf("%d threads locked down\n", tinst_check_threads_locked_down(tinst_inner_pid(&t)));
	ping_and_count(&t, &ns, "");
	text = get_text(&t, "/etc/resolv.conf");
	CHECK(strstr(text, "nameserver 198.18.7.1\n") != NULL);
	free(text);
	text = get_text(&t, "/etc/hosts");
	CHECK(strstr(text, "198.18.7.2\ttinst\n") && strstr(text, "fd53:7::2\ttinst\n"));
	free(text);
	/* The default routes, as the instance kernel has them. */
	text = get_text(&t, "/proc/net/route");
	CHECK(strstr(text, "eth0\t00000000\t010712C6") != NULL);
	free(text);
	text = get_text(&t, "/proc/net/ipv6_route");
	CHECK(strstr(text,
		     "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
		     "fd530007000000000000000000000001") != NULL);
	free(text);
	tinst_shutdown(&t);
}

TEST(host_pings_the_instance_on_an_interface_it_opened_by_name)
{
	struct proto_msg cfg, ready;
	struct knetns ns;
	struct tinst t;

	tinst_require_root();
	net_setup(&ns, 1500);
	tinst_spawn_netns(&t, &ns, NULL);
	tinst_hello(&t);
	net_configure(&t, &cfg, 1500, true);
	cfg.configure.network.interface = "i0";
	tinst_boot(&t, &cfg, NULL, 0, &ready);
	proto_msg_free(&ready);
	ping_and_count(&t, &ns, "");
	tinst_shutdown(&t);
}

TEST(jumbo_frames_without_offloads)
{
	struct proto_msg cfg, ready;
	struct knetns ns;
	struct tinst t;
	int fd;

	tinst_require_root();
	net_setup(&ns, 9000);
	fd = knetns_packet_socket(&ns, "i0");
	tinst_spawn(&t, NULL);
	tinst_hello(&t);
	net_configure(&t, &cfg, 9000, false);
	cfg.configure.network.fd = 0;
	tinst_boot(&t, &cfg, &fd, 1, &ready);
	close(fd);
	proto_msg_free(&ready);
	ping_and_count(&t, &ns, "-s 8000 -M do");
	tinst_shutdown(&t);
}

TEST(an_interface_that_does_not_exist_is_refused_at_configure)
{
	struct proto_msg cfg, ready;
	struct knetns ns;
	struct tinst t;
	uint64_t id;

	tinst_require_root();
	net_setup(&ns, 1500);
	tinst_spawn_netns(&t, &ns, NULL);
	tinst_hello(&t);
	net_configure(&t, &cfg, 1500, true);
	cfg.configure.network.interface = "nope0";
	id = tinst_send(&t, &cfg, NULL, 0);
	tinst_expect_error(&t, id, PROTO_ERR_NOT_FOUND, 5000);
	/* Nothing changed: it still takes a configure. */
	net_configure(&t, &cfg, 1500, true);
	cfg.configure.network.interface = "i0";
	tinst_boot(&t, &cfg, NULL, 0, &ready);
	proto_msg_free(&ready);
	tinst_shutdown(&t);
}

/* What the peer check's sender hashes: see instance/selfcheck.c. */
static uint64_t peer_pattern_fnv(uint64_t total, unsigned char seed)
{
	uint64_t h = 0xcbf29ce484222325ull, pos;

	for (pos = 0; pos < total; pos++)
		h = (h ^ (unsigned char)((pos * 2654435761u >> 13) ^ seed)) * 0x100000001b3ull;
	return h;
}

/* The report line of check @name, which must have passed; returns it (in @report). */
static const char *peer_line(const char *report, const char *name)
{
	char want[64];
	const char *p;

	snprintf(want, sizeof(want), "PASS %s: ", name);
	p = strstr(report, want);
	if (!p)
		FAIL("no \"%s\" in the report:\n%s", want, report);
	return p + strlen(want);
}

static void peer_configure(struct tinst *t, struct proto_msg *cfg, const char *addr,
			   unsigned char last)
{
	static const unsigned char mac[6] = { 0x02, 0x53, 0x48, 0x00, 0x09, 0x00 };

	tinst_configure_init(t, cfg);
	cfg->configure.has_network = true;
	memcpy(cfg->configure.network.mac, mac, 6);
	cfg->configure.network.mac[5] = last;
	parse_cidr(&cfg->configure.network.ipv4, AF_INET, addr, 24);
	cfg->configure.network.mtu = 1500;
	cfg->configure.network.offloads = true;
	cfg->configure.network.fd = 0;
}

/*
 * Two instances on the two ends of one veth pair (198.18.9.2 and .3), each
 * run with --selfcheck-peer naming the other: their kernels ping each other
 * and exchange 8 MiB each way over TCP before `ready`, so both are configured
 * before either ready is awaited. The reports, read back with file_get, must
 * show 3 echo replies each and, for each direction, the sender's and the
 * receiver's FNV-1a hash equal to ours of the pattern. Afterwards the
 * namespace (with the veth pair) is deleted and must be gone.
 */
TEST(two_instances_on_a_veth_pair_ping_each_other_and_move_data_over_tcp)
{
	static const char *const addrs[2] = { "198.18.9.2", "198.18.9.3" };
	static const unsigned char last[2] = { 2, 3 };
	const uint64_t total = 8u << 20;
	const char *args[2][3] = { { "--selfcheck", "--selfcheck-peer=198.18.9.3,8", NULL },
				   { "--selfcheck", "--selfcheck-peer=198.18.9.2,8", NULL } };
	uint64_t want[2], ids[2], sent_hash[2], got_hash[2];
	unsigned long long sent[2], got[2];
	struct proto_msg cfg, msg;
	struct tinst t[2];
	struct knetns ns;
	char path[64];
	int fd[2], i;

	tinst_require_root();
	knetns_create(&ns);
	knetns_veth(&ns, "p0", "p1", 1500);
	fd[0] = knetns_packet_socket(&ns, "p0");
	fd[1] = knetns_packet_socket(&ns, "p1");
	for (i = 0; i < 2; i++) {
		tinst_spawn(&t[i], args[i]);
		tinst_hello(&t[i]);
	}
	for (i = 0; i < 2; i++) {
		peer_configure(&t[i], &cfg, addrs[i], last[i]);
		ids[i] = tinst_send(&t[i], &cfg, &fd[i], 1);
		close(fd[i]);
	}
	for (i = 0; i < 2; i++) {
		tinst_expect_ok(&t[i], &msg, ids[i], PROTO_CONFIGURE, 10000);
		proto_msg_free(&msg);
		tinst_expect(&t[i], &msg, PROTO_READY, 30000);
		proto_msg_free(&msg);
	}
	for (i = 0; i < 2; i++) {
		enum proto_error_code code;
		char *report, peer[16];
		const char *line;
		size_t len;
		int ns_sent, ns_replies;

		report = tinst_get(&t[i], "/run/shoal/selfcheck", &len, NULL, &code);
		CHECK(report != NULL);
		report = realloc(report, len + 1);
		report[len] = 0;
		printf("instance %s:\n%s", addrs[i], report);
		line = peer_line(report, "net_peer_ping");
		CHECK(sscanf(line, "%15s %d sent %d replies", peer, &ns_sent, &ns_replies) == 3);
		CHECK(!strcmp(peer, addrs[!i]) && ns_replies >= 3);
		line = peer_line(report, "net_peer_tcp");
		CHECK(sscanf(line, "%15s sent %llu fnv1a %" SCNx64 " received %llu fnv1a %" SCNx64,
			     peer, &sent[i], &sent_hash[i], &got[i], &got_hash[i]) == 5);
		CHECK(strstr(report, "selfcheck: 8 passed, 0 failed\n") != NULL);
		free(report);
	}
	/* Instance i sends the pattern seeded with its peer's last octet. */
	for (i = 0; i < 2; i++) {
		want[i] = peer_pattern_fnv(total, last[!i]);
		CHECK(sent[i] == total && got[!i] == total);
		CHECK(sent_hash[i] == want[i]);
		CHECK(got_hash[!i] == want[i]);
	}
	printf("%s -> %s: %llu bytes, fnv1a %016llx both ends\n", addrs[0], addrs[1], sent[0],
	       (unsigned long long)want[0]);
	printf("%s -> %s: %llu bytes, fnv1a %016llx both ends\n", addrs[1], addrs[0], sent[1],
	       (unsigned long long)want[1]);
	for (i = 0; i < 2; i++)
		tinst_shutdown(&t[i]);

	/* Let the guardian delete the namespace now, and see it go. */
	snprintf(path, sizeof(path), "/run/netns/%s", ns.name);
	close(ns.fd);
	close(ns.guard_fd);
	for (i = 0; i < 500 && access(path, F_OK) == 0; i++)
		usleep(10000);
	CHECK(access(path, F_OK) != 0);
	CHECK(knetns_sh("ip netns list | grep -qw %s", ns.name) != 0);
}
