// SPDX-License-Identifier: GPL-2.0
/*
 * Boot and halt. skl_start_kernel starts start_kernel() on a new host
 * thread, which becomes the idle task's thread once boot is done, and
 * waits until pid 1 has turned into host0 (threads.c). Halt is the reboot
 * system call: machine_power_off tears every thread down and returns the
 * halting thread to its caller.
 */
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/start_kernel.h>
#include <linux/string.h>
#include <linux/reboot.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/syscalls.h>
#include <linux/random.h>
#include <linux/panic_notifier.h>
#include <linux/notifier.h>
#include <asm/setup.h>
#include <asm/skl.h>

struct skl_host_ops *skl_ops;
static struct skl_thread *idle_thread;
static bool halted;

/* A kernel panic ends the kernel; the host decides what that does to the
 * process (the POSIX host aborts it). */
static int panic_to_host(struct notifier_block *nb, unsigned long event,
			 void *msg)
{
	skl_ops->panic();
	return NOTIFY_DONE;
}

static struct notifier_block panic_notifier = {
	.notifier_call = panic_to_host,
	.priority = INT_MIN,
};

void __init setup_arch(char **cmdline_p)
{
	u8 seed[64];

	/* First: a panic in the very first steps (no RAM from the host)
	 * must reach the host too. */
	atomic_notifier_chain_register(&panic_notifier_list, &panic_notifier);
	*cmdline_p = boot_command_line;
	parse_early_param();
	skl_bootmem_init();

	/* Seed the entropy pool from the host so getrandom never blocks. */
	if (!skl_ops->getrandom(seed, sizeof(seed)))
		add_bootloader_randomness(seed, sizeof(seed));
	memzero_explicit(seed, sizeof(seed));
}

/* The runner: boots the kernel, then runs every kernel thread and idle. */
static void __ref boot_thread(void *unused)
{
	skl_threads_runner_start();
	if (skl_cpu_get())
		skl_ops->thread_exit();
	start_kernel();
}

/**
 * skl_start_kernel - boot the library kernel
 * @ops: host operations; must stay valid until the process ends
 * @cmdline: kernel command line ("mem=64M loglevel=4 ...")
 *
 * Returns 0 once the kernel is up and ready for system calls, -EALREADY if
 * a kernel was ever started in this process (one kernel per process), or
 * another -errno.
 */
long __ref skl_start_kernel(struct skl_host_ops *ops, const char *cmdline)
{
	int ret;

	if (skl_ops)
		return -EALREADY;
	if (!ops || !cmdline)
		return -EINVAL;
	if (strlen(cmdline) >= COMMAND_LINE_SIZE)
		return -E2BIG;
	skl_ops = ops;
	strscpy(boot_command_line, cmdline, COMMAND_LINE_SIZE);

	ret = skl_cpu_init();
	if (!ret)
		ret = skl_threads_init();
	if (ret)
		return ret;
	idle_thread = skl_ops->thread_create(boot_thread, NULL);
	if (!idle_thread)
		return -ENOMEM;
	skl_threads_wait_boot();
	return 0;
}

int skl_is_running(void)
{
	return skl_ops && !halted && !skl_cpu_is_shutdown();
}

/*
 * The last act of the reboot system call. The calling host thread holds the
 * CPU as its host task: every other thread the kernel made is told to end
 * and joined, and the caller escapes back to skl_syscall.
 */
static void __noreturn skl_machine_stop(void)
{
	struct skl_jmp_buf *abort = current->thread.abort;

	skl_cpu_shutdown();
	skl_time_shutdown();
	skl_threads_shutdown(idle_thread);
	idle_thread = NULL;
	halted = true;
	skl_ops->jmp_buf_longjmp(abort);
}

void machine_halt(void)
{
	skl_machine_stop();
}

void machine_power_off(void)
{
	skl_machine_stop();
}

void machine_restart(char *cmd)
{
	skl_machine_stop();
}

/**
 * skl_halt - stop the kernel; every thread it created is gone afterwards
 *
 * Threads blocked in system calls return -ENODEV; later system calls fail
 * with -ENODEV. Returns 0, or -errno if the kernel was not running.
 */
long skl_halt(void)
{
	long params[6] = { LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
			   LINUX_REBOOT_CMD_POWER_OFF, 0, 0, 0 };

	if (!skl_is_running())
		return -ENODEV;
	skl_syscall(__NR_reboot, params);
	if (!halted)
		return -EIO;
	if (skl_ops->halted)
		skl_ops->halted();
	skl_bootmem_exit();
	return 0;
}
