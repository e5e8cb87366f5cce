/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_SKL_IRQ_H
#define _ASM_SKL_IRQ_H

/* Two-level pending bitmap: 64 words of 64 bits. */
#define NR_IRQS		64
#define SKL_TIMER_IRQ	1

static inline int irq_canonicalize(int irq)
{
	return irq;
}

#endif
