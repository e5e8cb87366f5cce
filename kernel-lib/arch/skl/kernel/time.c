// SPDX-License-Identifier: GPL-2.0
/*
 * Time. The clocksource and sched_clock read the host's monotonic clock in
 * nanoseconds; the one clockevent is one-shot only and backed by one host
 * timer whose expiry raises the timer IRQ from the timer's host thread. With
 * NO_HZ_IDLE an idle kernel programs no timer at all, so it costs the host
 * no wake-ups. Wall time comes from the host clock once, at boot.
 */
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/clocksource.h>
#include <linux/clockchips.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/delay.h>
#include <linux/sched/clock.h>
#include <linux/timekeeping.h>
#include <asm/skl.h>

static struct skl_timer *host_timer;

unsigned long long sched_clock(void)
{
	return skl_ops->time_ns();
}

static u64 clock_read(struct clocksource *cs)
{
	return skl_ops->time_ns();
}

static struct clocksource host_clock = {
	.name	= "skl-host",
	.rating	= 499,
	.read	= clock_read,
	.flags	= CLOCK_SOURCE_IS_CONTINUOUS,
	.mask	= CLOCKSOURCE_MASK(64),
};

static int event_shutdown(struct clock_event_device *evt)
{
	return skl_ops->timer_set(host_timer, 0);
}

static int event_next(unsigned long delta, struct clock_event_device *evt)
{
	return skl_ops->timer_set(host_timer, delta ? delta : 1);
}

static struct clock_event_device host_event = {
	.name			= "skl-timer",
	.features		= CLOCK_EVT_FEAT_ONESHOT,
	.set_state_shutdown	= event_shutdown,
	.set_state_oneshot	= event_shutdown,
	.set_next_event		= event_next,
	.rating			= 499,
	.irq			= SKL_TIMER_IRQ,
};

static irqreturn_t timer_irq(int irq, void *dev_id)
{
	struct clock_event_device *evt = dev_id;

	evt->event_handler(evt);
	/* A host task parked as current keeps the tick going: switch it out
	 * so that an idle kernel goes NO_HZ idle. */
	if (current->thread.detached)
		set_tsk_need_resched(current);
	return IRQ_HANDLED;
}

/* Runs on the host timer's thread. */
static void timer_expired(void *unused)
{
	skl_trigger_irq(SKL_TIMER_IRQ);
}

void read_persistent_clock64(struct timespec64 *ts)
{
	*ts = ns_to_timespec64(skl_ops->wall_ns());
}

void __init time_init(void)
{
	int ret;

	host_timer = skl_ops->timer_alloc(timer_expired, NULL);
	if (!host_timer)
		panic("skl: no host timer\n");
	ret = request_irq(SKL_TIMER_IRQ, timer_irq, IRQF_TIMER, "timer",
			  &host_event);
	if (ret)
		panic("skl: timer irq: %d\n", ret);
	ret = clocksource_register_hz(&host_clock, NSEC_PER_SEC);
	if (ret)
		panic("skl: clocksource: %d\n", ret);
	host_event.cpumask = cpumask_of(0);
	clockevents_config_and_register(&host_event, NSEC_PER_SEC, 1,
					ULONG_MAX);
}

void skl_time_shutdown(void)
{
	if (host_timer)
		skl_ops->timer_free(host_timer);
	host_timer = NULL;
}

void skl_ndelay(unsigned long ns)
{
	unsigned long long end = skl_ops->time_ns() + ns;

	while (skl_ops->time_ns() < end)
		cpu_relax();
}

void calibrate_delay(void)
{
	/* Delays are measured on the host clock; nothing to calibrate. */
	loops_per_jiffy = 1000000000 / HZ;
}
