/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_SKL_IRQFLAGS_H
#define _ASM_SKL_IRQFLAGS_H

/*
 * Interrupts are a software flag. Host threads that raise an IRQ while it is
 * clear (or while another thread owns the CPU) leave it pending; enabling
 * runs what is pending, as a real CPU would take it on sti.
 */
#define ARCH_IRQ_ENABLED	1
#define ARCH_IRQ_DISABLED	0

extern unsigned long skl_irq_flags;
void skl_irqs_enabled_hook(void);

#define arch_local_save_flags arch_local_save_flags
static inline unsigned long arch_local_save_flags(void)
{
	return skl_irq_flags;
}

#define arch_local_irq_restore arch_local_irq_restore
static inline void arch_local_irq_restore(unsigned long flags)
{
	skl_irq_flags = flags;
	if (flags == ARCH_IRQ_ENABLED)
		skl_irqs_enabled_hook();
}

#include <asm-generic/irqflags.h>

#endif
