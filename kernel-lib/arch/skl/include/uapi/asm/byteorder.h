/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
#ifndef _ASM_SKL_BYTEORDER_H
#define _ASM_SKL_BYTEORDER_H

#include <linux/byteorder/little_endian.h>

#endif
