// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts. Any host thread may raise an IRQ with skl_trigger_irq. If the
 * CPU is free it takes it and runs the handler itself, on top of the idle
 * task, like a real interrupt; if another thread holds the CPU, or IRQs are
 * off, the IRQ stays pending in a bitmap and runs when the holder enables
 * IRQs or gives the CPU up. Enabling and disabling IRQs is a software flag.
 */
#include <linux/kernel.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/hardirq.h>
#include <linux/irqchip.h>
#include <linux/seq_file.h>
#include <asm/irq_regs.h>
#include <asm/skl.h>

unsigned long skl_irq_flags = ARCH_IRQ_DISABLED;
static unsigned long irq_pending;
static unsigned long irq_used = BIT(0) | BIT(SKL_TIMER_IRQ);

/*
 * The pending and used bitmaps are touched by host threads that do not hold
 * the CPU, so they use the host's atomic instructions, not the kernel's
 * uniprocessor atomics (which only mask our software IRQ flag).
 */

int skl_irqs_pending(void)
{
	return __atomic_load_n(&irq_pending, __ATOMIC_ACQUIRE) != 0;
}

/* Runs every pending IRQ; the caller holds the CPU. */
void skl_run_pending_irqs(void)
{
	unsigned long flags = skl_irq_flags, bits;
	/* The tick handler runs timers and the scheduler tick only when it
	 * sees interrupt registers; ours are empty but must exist. */
	struct pt_regs regs = { 0 }, *old_regs = set_irq_regs(&regs);
	int irq;

	skl_irq_flags = ARCH_IRQ_DISABLED;
	while ((bits = __atomic_exchange_n(&irq_pending, 0, __ATOMIC_ACQ_REL))) {
		for_each_set_bit(irq, &bits, NR_IRQS) {
			irq_enter();
			generic_handle_irq(irq);
			irq_exit();
		}
	}
	set_irq_regs(old_regs);
	skl_irq_flags = flags;
}

void skl_irqs_enabled_hook(void)
{
	if (skl_irqs_pending() && !in_interrupt() && skl_cpu_owned())
		skl_run_pending_irqs();
}

/*
 * Raise an IRQ from any host thread. Returns 0, or -ENODEV after halt.
 */
int skl_trigger_irq(int irq)
{
	int ret;

	if (irq <= 0 || irq >= NR_IRQS)
		return -EINVAL;
	__atomic_fetch_or(&irq_pending, BIT(irq), __ATOMIC_ACQ_REL);
	ret = skl_cpu_try_get();
	if (ret == -EBUSY)
		return 0;	/* the holder runs it when it lets go */
	if (ret)
		return ret;
	skl_cpu_put_borrowed();
	return 0;
}

/* Device models ask for a free IRQ line at setup. */
int skl_get_free_irq(const char *user)
{
	int irq;

	for (irq = 0; irq < NR_IRQS; irq++)
		if (!(__atomic_fetch_or(&irq_used, BIT(irq), __ATOMIC_ACQ_REL) &
		      BIT(irq)))
			return irq;
	return -ENOSPC;
}

void skl_put_irq(int irq)
{
	__atomic_fetch_and(&irq_used, ~BIT(irq), __ATOMIC_ACQ_REL);
}

void __init init_IRQ(void)
{
	int i;

	for (i = 0; i < NR_IRQS; i++)
		irq_set_chip_and_handler(i, &dummy_irq_chip, handle_simple_irq);
}

int arch_show_interrupts(struct seq_file *p, int prec)
{
	return 0;
}
