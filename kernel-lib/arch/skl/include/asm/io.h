/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_SKL_IO_H
#define _ASM_SKL_IO_H

#include <linux/types.h>
#include <skl/host_ops.h>

/*
 * No port I/O. Memory-mapped I/O to a device window (SKL_IOMEM_*) goes to
 * the host's device models; any other address is plain memory. ioremap is
 * the identity (asm-generic, !MMU), so drivers pass window addresses here.
 */
int skl_iomem_access(const volatile void __iomem *addr, void *val, int size,
		     int write);

static inline bool skl_is_iomem(const volatile void __iomem *addr)
{
	return (unsigned long)addr - SKL_IOMEM_BASE < SKL_IOMEM_SIZE;
}

#define SKL_RAW_IO(bwlq, type)						\
static inline type __raw_read##bwlq(const volatile void __iomem *addr)	\
{									\
	type val;							\
									\
	if (!skl_is_iomem(addr))					\
		return *(const volatile type __force *)addr;		\
	skl_iomem_access(addr, &val, sizeof(val), 0);			\
	return val;							\
}									\
static inline void __raw_write##bwlq(type val,				\
				     volatile void __iomem *addr)	\
{									\
	if (!skl_is_iomem(addr)) {					\
		*(volatile type __force *)addr = val;			\
		return;							\
	}								\
	skl_iomem_access(addr, &val, sizeof(val), 1);			\
}

SKL_RAW_IO(b, u8)
SKL_RAW_IO(w, u16)
SKL_RAW_IO(l, u32)
SKL_RAW_IO(q, u64)

#define __raw_readb __raw_readb
#define __raw_readw __raw_readw
#define __raw_readl __raw_readl
#define __raw_readq __raw_readq
#define __raw_writeb __raw_writeb
#define __raw_writew __raw_writew
#define __raw_writel __raw_writel
#define __raw_writeq __raw_writeq

#include <asm-generic/io.h>

#endif
