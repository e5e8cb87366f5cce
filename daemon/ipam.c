// SPDX-License-Identifier: GPL-2.0
/*
 * The address pool (IPAM): one IPv4 subnet (--subnet, 198.18.0.0/16 by
 * default, a range reserved for benchmarks and never routed). Its first host
 * address is the gateway, held by the daemon's bridge; the others, up to the
 * one before the broadcast address, are leased one per instance with
 * networking. The lease table in SQLite is the truth (a restarted daemon
 * reads it back); a bitmap in memory answers "which is free" without a
 * query. Leases are handed out next-fit, after the last one given, so a
 * released address is not reused at once while a neighbour may still have it
 * in its ARP cache.
 *
 * The MAC of an instance follows from its address (02:53:48 and the low 24
 * bits): locally administered, unicast, unique within the pool, and the same
 * again after a restart. So does its IPv6 address, in the unique local prefix
 * fd53:6f61:6c00::/64 (the bridge has ::1): the IPv4 address in the last 32
 * bits, so that one lease gives both.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/log.h"
#include "daemon/shoald.h"

static uint32_t ipam_net; /* host byte order */
static unsigned int ipam_bits; /* prefix length */
static uint32_t ipam_size; /* addresses in the subnet */
static unsigned char *ipam_used; /* one bit per address of the subnet */
static uint32_t ipam_next; /* offset where the next search starts */
static uint32_t ipam_nused;

int ipam_parse(const char *s, uint32_t *addr)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1)
		return -EINVAL;
	*addr = ntohl(in.s_addr);
	return 0;
}

void ipam_format(uint32_t addr, char *buf, size_t size)
{
	struct in_addr in = { .s_addr = htonl(addr) };

	if (!inet_ntop(AF_INET, &in, buf, (socklen_t)size) && size)
		buf[0] = '\0';
}

int ipam_init(const char *cidr, struct shoal_error *err)
{
	char addr[INET_ADDRSTRLEN + 1];
	const char *slash = strchr(cidr, '/');
	unsigned long bits;
	char *end;

	if (!slash || (size_t)(slash - cidr) >= sizeof(addr))
		return shoal_error_set(err, 0, "--subnet %s: not A.B.C.D/N", cidr);
	memcpy(addr, cidr, (size_t)(slash - cidr));
	addr[slash - cidr] = '\0';
	errno = 0;
	bits = strtoul(slash + 1, &end, 10);
	/*
	 * At least /8, so that the MAC (24 bits of the address) is unique; at most
	 * /30, so that there is a gateway and one instance.
	 */
	if (ipam_parse(addr, &ipam_net) || errno || end == slash + 1 || *end || bits < 8 ||
	    bits > 30)
		return shoal_error_set(err, 0, "--subnet %s: not A.B.C.D/N with N in 8..30", cidr);
	ipam_bits = (unsigned int)bits;
	ipam_net &= ~(uint32_t)0 << (32 - ipam_bits);
	ipam_size = (uint32_t)1 << (32 - ipam_bits);
	ipam_used = calloc(ipam_size / 8 + 1, 1);
	if (!ipam_used)
		return shoal_error_set(err, ENOMEM, "address pool of %u", ipam_size);
	ipam_next = 2;
	return 0;
}

void ipam_fini(void)
{
	free(ipam_used);
	ipam_used = NULL;
}

uint32_t ipam_gateway(void)
{
	return ipam_net + 1;
}

unsigned int ipam_prefix(void)
{
	return ipam_bits;
}

static bool ipam_test(uint32_t off)
{
	return ipam_used[off / 8] & (1u << (off % 8));
}

static void ipam_mark(uint32_t off, bool used)
{
	if (used == ipam_test(off))
		return;
	if (used) {
		ipam_used[off / 8] |= (unsigned char)(1u << (off % 8));
		ipam_nused++;
	} else {
		ipam_used[off / 8] &= (unsigned char)~(1u << (off % 8));
		ipam_nused--;
	}
}

static bool ipam_in_pool(uint32_t addr)
{
	return addr - ipam_net >= 2 && addr - ipam_net < ipam_size - 1;
}

static void ipam_load_cb(void *arg, uint32_t addr, const char *id)
{
	(void)arg;
	if (ipam_in_pool(addr))
		ipam_mark(addr - ipam_net, true);
	else
		/* A lease from another --subnet: it stays in the table, outside the pool. */
		shoal_log_warn("lease of %s is outside the pool", id);
}

int ipam_load(struct shoal_error *err)
{
	return store_list_leases(ipam_load_cb, NULL, err);
}

int ipam_alloc(const char *id, uint32_t *addr, struct shoal_error *err)
{
	uint32_t hosts = ipam_size - 3, i, off;
	int r;

	for (i = 0; i < hosts; i++) {
		off = 2 + (ipam_next - 2 + i) % hosts;
		if (ipam_test(off))
			continue;
		r = store_put_lease(ipam_net + off, id, shoald_now_ms(), err);
		if (r)
			return r;
		ipam_mark(off, true);
		ipam_next = off + 1;
		*addr = ipam_net + off;
		return 0;
	}
	return shoal_error_set(err, ENOSPC, "every address of the pool is leased (%u)", hosts);
}

void ipam_release(uint32_t addr)
{
	struct shoal_error err = { 0 };

	if (store_delete_lease(addr, &err))
		shoal_log_error("%s", err.msg);
	if (ipam_in_pool(addr))
		ipam_mark(addr - ipam_net, false);
}

void ipam_mac(uint32_t addr, unsigned char mac[6])
{
	mac[0] = 0x02; /* locally administered, unicast */
	mac[1] = 0x53;
	mac[2] = 0x48;
	mac[3] = (unsigned char)(addr >> 16);
	mac[4] = (unsigned char)(addr >> 8);
	mac[5] = (unsigned char)addr;
}

void ipam_counts(uint32_t *used, uint32_t *total)
{
	*used = ipam_nused;
	*total = ipam_size - 3;
}

static const unsigned char ipam_v6_prefix[8] = { 0xfd, 0x53, 0x6f, 0x61, 0x6c, 0x00, 0, 0 };

void ipam_v6(uint32_t addr, unsigned char out[16])
{
	memset(out, 0, 16);
	memcpy(out, ipam_v6_prefix, sizeof(ipam_v6_prefix));
	out[12] = (unsigned char)(addr >> 24);
	out[13] = (unsigned char)(addr >> 16);
	out[14] = (unsigned char)(addr >> 8);
	out[15] = (unsigned char)addr;
}

void ipam_v6_gateway(unsigned char out[16])
{
	memset(out, 0, 16);
	memcpy(out, ipam_v6_prefix, sizeof(ipam_v6_prefix));
	out[15] = 1;
}

void ipam_format6(const unsigned char a[16], char *buf, size_t size)
{
	if (!inet_ntop(AF_INET6, a, buf, (socklen_t)size) && size)
		buf[0] = '\0';
}
