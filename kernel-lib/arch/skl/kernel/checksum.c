// SPDX-License-Identifier: GPL-2.0
/*
 * The Internet checksum's core for lib/checksum.c (see asm/checksum.h): a
 * one's complement sum is the same whatever the word size it is computed
 * in, so sum the 32-bit halves of 64-bit loads into a 64-bit accumulator
 * (no carry to track for up to 2^32 words) and fold at the end. Same
 * contract as the generic do_csum: 16-bit result, bytes swapped back when
 * the buffer started at an odd address.
 */
#include <linux/types.h>
#include <linux/string.h>
#include <asm/checksum.h>

static inline unsigned int fold64to16(u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (unsigned int)sum;
}

unsigned int do_csum(const unsigned char *buff, int len)
{
	unsigned int result;
	bool odd;
	u64 sum = 0;

	if (len <= 0)
		return 0;
	odd = 1 & (unsigned long)buff;
	if (odd) {
		sum += (u64)*buff << 8; /* little endian */
		len--;
		buff++;
	}
	while (len >= 32) {
		u64 w[4];

		memcpy(w, buff, sizeof(w));
		sum += (w[0] & 0xffffffff) + (w[0] >> 32);
		sum += (w[1] & 0xffffffff) + (w[1] >> 32);
		sum += (w[2] & 0xffffffff) + (w[2] >> 32);
		sum += (w[3] & 0xffffffff) + (w[3] >> 32);
		buff += 32;
		len -= 32;
	}
	while (len >= 4) {
		u32 w;

		memcpy(&w, buff, sizeof(w));
		sum += w;
		buff += 4;
		len -= 4;
	}
	if (len >= 2) {
		u16 w;

		memcpy(&w, buff, sizeof(w));
		sum += w;
		buff += 2;
		len -= 2;
	}
	if (len)
		sum += *buff; /* little endian: the low byte of a last half word */
	result = fold64to16(sum);
	if (odd)
		result = ((result >> 8) & 0xff) | ((result & 0xff) << 8);
	return result;
}
