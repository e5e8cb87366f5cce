/* SPDX-License-Identifier: GPL-2.0 */
/* Checksum completion and TCP segmentation in software (net_soft.c). */
#ifndef SKL_HOST_NET_SOFT_H
#define SKL_HOST_NET_SOFT_H

#include <stddef.h>
#include <stdint.h>

/* Finish a NEEDS_CSUM frame: the checksum of [start, len) goes at
 * start + offset. 0, or -1 if the offsets do not fit the frame. */
int net_soft_csum(unsigned char *frame, size_t len, uint16_t start,
		  uint16_t offset);

/* Called for each segment; non-zero stops. */
typedef int (*net_soft_emit_fn)(void *ctx, const unsigned char *frame,
				size_t len);

/* Cut a TCP GSO frame (IPv4 or IPv6) into gso_size segments with their
 * headers and checksums fixed. 0, or -1 for a frame it cannot cut. */
int net_soft_segment(const unsigned char *frame, size_t len, uint8_t gso_type,
		     uint16_t gso_size, net_soft_emit_fn emit, void *ctx);

#endif
