// SPDX-License-Identifier: GPL-2.0
/*
 * Software fallbacks for a virtio-net device whose offloads are off. The
 * packet socket still carries the virtio-net header, because frames from a
 * local sender on the other side of the veth (the host's own stack, or an
 * instance with offloads on) arrive with the checksum left to the NIC
 * (NEEDS_CSUM) or as one TSO/GSO frame of up to 64 KiB. A driver that
 * negotiated no offloads can take neither, so the device finishes the
 * checksum and cuts TCP GSO frames into MTU-sized segments itself.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "kernel-lib/host/net_soft.h"

#define ETH_HLEN 14
#define GSO_TCPV4 1
#define GSO_TCPV6 4
#define GSO_ECN 0x80
#define F_NEEDS_CSUM 1

static uint32_t csum_add(uint32_t sum, const unsigned char *p, size_t len)
{
	while (len > 1) {
		sum += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)(p[0] << 8);
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int net_soft_csum(unsigned char *frame, size_t len, uint16_t start,
		  uint16_t offset)
{
	uint16_t sum;

	if ((size_t)start + offset + 2 > len)
		return -1;
	/* The stack left the pseudo-header sum in the field: add the rest. */
	sum = csum_fold(csum_add(0, frame + start, len - start));
	if (sum == 0)
		sum = 0xffff;
	put16(frame + start + offset, sum);
	return 0;
}

/* Pseudo-header sum for TCP over IPv4 or IPv6 at l3. */
static uint32_t pseudo_sum(const unsigned char *l3, int v6, size_t l4_len)
{
	uint32_t sum;

	if (v6)
		sum = csum_add(0, l3 + 8, 32);
	else
		sum = csum_add(0, l3 + 12, 8);
	sum += 6; /* TCP */
	sum += (uint32_t)(l4_len >> 16) + (uint32_t)(l4_len & 0xffff);
	return sum;
}

int net_soft_segment(const unsigned char *frame, size_t len, uint8_t gso_type,
		     uint16_t gso_size, net_soft_emit_fn emit, void *ctx)
{
	int v6 = (gso_type & ~GSO_ECN) == GSO_TCPV6;
	size_t l3 = ETH_HLEN, l4, hlen, payload, off;
	unsigned char seg[ETH_HLEN + 60 + 60 + 65536];
	uint32_t seq;
	uint16_t id = 0;
	unsigned int flags;

	if ((gso_type & ~GSO_ECN) != GSO_TCPV4 && !v6)
		return -1;
	if (len < ETH_HLEN + 40 || !gso_size)
		return -1;
	if (v6) {
		if (frame[l3 + 6] != 6) /* extension headers: not handled */
			return -1;
		l4 = l3 + 40;
	} else {
		l4 = l3 + (size_t)(frame[l3] & 0x0f) * 4;
		id = get16(frame + l3 + 4);
	}
	if (l4 + 20 > len)
		return -1;
	hlen = l4 + (size_t)(frame[l4 + 12] >> 4) * 4;
	if (hlen > len || hlen > ETH_HLEN + 120)
		return -1;
	payload = len - hlen;
	seq = (uint32_t)get16(frame + l4 + 4) << 16 | get16(frame + l4 + 6);
	flags = frame[l4 + 13];

	for (off = 0; off < payload; off += gso_size) {
		size_t n = payload - off < gso_size ? payload - off : gso_size;
		size_t tcp_len = hlen - l4 + n;
		unsigned int f = flags;
		uint32_t s = seq + (uint32_t)off;

		memcpy(seg, frame, hlen);
		memcpy(seg + hlen, frame + hlen + off, n);
		/* FIN and PSH on the last segment only, CWR on the first. */
		if (off + n < payload)
			f &= ~0x09u;
		if (off)
			f &= ~0x80u;
		seg[l4 + 13] = (unsigned char)f;
		put16(seg + l4 + 4, (uint16_t)(s >> 16));
		put16(seg + l4 + 6, (uint16_t)s);
		if (v6) {
			put16(seg + l3 + 4, (uint16_t)tcp_len);
		} else {
			put16(seg + l3 + 2, (uint16_t)(l4 - l3 + tcp_len));
			put16(seg + l3 + 4, (uint16_t)(id + off / gso_size));
			put16(seg + l3 + 10, 0);
			put16(seg + l3 + 10,
			      csum_fold(csum_add(0, seg + l3, l4 - l3)));
		}
		put16(seg + l4 + 16, 0);
		put16(seg + l4 + 16,
		      csum_fold(csum_add(pseudo_sum(seg + l3, v6, tcp_len),
					 seg + l4, tcp_len)));
		if (emit(ctx, seg, hlen + n))
			return -1;
	}
	return 0;
}
