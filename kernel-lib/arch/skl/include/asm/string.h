/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_SKL_STRING_H
#define _ASM_SKL_STRING_H

/*
 * The host CPU's fast string instructions instead of lib/string.c's byte
 * loops: the network path copies every packet and boot zeroes megabytes.
 */
#define __HAVE_ARCH_MEMCPY
extern void *memcpy(void *dest, const void *src, __kernel_size_t n);
#define __HAVE_ARCH_MEMSET
extern void *memset(void *s, int c, __kernel_size_t n);
#define __HAVE_ARCH_MEMMOVE
extern void *memmove(void *dest, const void *src, __kernel_size_t n);

#endif
