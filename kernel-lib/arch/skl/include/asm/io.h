/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_SKL_IO_H
#define _ASM_SKL_IO_H

/*
 * No port I/O; memory-mapped I/O goes straight to host memory (device
 * register windows are emulated later through ioremap'd host memory).
 */
#include <asm-generic/io.h>

#endif
