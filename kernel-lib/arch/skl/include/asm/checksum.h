/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_SKL_CHECKSUM_H
#define _ASM_SKL_CHECKSUM_H

/*
 * The generic checksum code with a faster core: lib/checksum.c's do_csum
 * adds 32-bit words one at a time with a carry; ours (kernel/checksum.c)
 * adds 64-bit loads into a wide accumulator. Packets without checksum
 * offload (fragmented UDP, devices with offloads off) spend their time here.
 */
#define do_csum do_csum
unsigned int do_csum(const unsigned char *buff, int len);

#include <asm-generic/checksum.h>

#endif
