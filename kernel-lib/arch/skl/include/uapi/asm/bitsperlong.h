/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
#ifndef _ASM_SKL_BITSPERLONG_H
#define _ASM_SKL_BITSPERLONG_H

/* The library kernel only builds for 64-bit hosts. */
#define __BITS_PER_LONG 64

#include <asm-generic/bitsperlong.h>

#endif
