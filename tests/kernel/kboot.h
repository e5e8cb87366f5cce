/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the kernel tests: boot the real library kernel quietly
 * (SKL_CONSOLE=1 in the environment shows its console), and check system
 * call results with the failing call's -errno in the message.
 */
#ifndef SHOAL_TESTS_KERNEL_KBOOT_H
#define SHOAL_TESTS_KERNEL_KBOOT_H

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <skl.h>

#include "tests/harness.h"
#include "tests/kernel/klockdown.h"

static inline void kboot(void)
{
	struct skl_boot_params params = { .loglevel = 4 };
	const char *console = getenv("SKL_CONSOLE");
	long ret;

	/* SKL_CONSOLE=1 shows warnings, SKL_CONSOLE=8 everything. */
	if (!console)
		skl_posix_set_console_fd(-1);
	else if (atoi(console) > 1)
		params.loglevel = atoi(console);
	if (klockdown_wanted())
		klockdown_before_boot();
	ret = skl_boot(&params);
	if (ret)
		harness_fail(__FILE__, __LINE__, "skl_boot: %ld (%s)", ret, strerror((int)-ret));
	if (klockdown_wanted())
		klockdown_after_boot();
}

/*
 * Sleep on the host without nanosleep: poll is on the instance's allow-list
 * and nanosleep is not, so the cases also run under its lock-down.
 */
static inline void ksleep_ms(int ms)
{
	poll(NULL, 0, ms);
}

/* Fail unless a system call returned >= 0; evaluates to its result. */
#define SYS_OK(call)                                                                  \
	({                                                                            \
		long __r = (call);                                                    \
		if (__r < 0)                                                          \
			harness_fail(__FILE__, __LINE__, "%s = %ld (%s)", #call, __r, \
				     strerror((int)-__r));                            \
		__r;                                                                  \
	})

/* Mount a fresh tmpfs on /tmp-like dir (created if missing). */
static inline void kmount_tmpfs(const char *dir)
{
	long r = skl_sys_mkdirat(SKL_AT_FDCWD, dir, 0755);

	if (r < 0 && r != -SKL_EEXIST)
		harness_fail(__FILE__, __LINE__, "mkdir %s: %ld", dir, r);
	SYS_OK(skl_sys_mount((char *)"tmpfs", (char *)dir, (char *)"tmpfs", 0, NULL));
}

#endif
