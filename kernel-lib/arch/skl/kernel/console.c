// SPDX-License-Identifier: GPL-2.0
/* The kernel console: log text goes to the host's print operation. */
#include <linux/kernel.h>
#include <linux/console.h>
#include <linux/init.h>
#include <asm/skl.h>

static void console_write(struct console *con, const char *str, unsigned int len)
{
	skl_ops->print(str, len);
}

static struct console host_console = {
	.name	= "skl",
	.write	= console_write,
	.flags	= CON_PRINTBUFFER | CON_ENABLED,
	.index	= -1,
};

static int __init host_console_init(void)
{
	register_console(&host_console);
	return 0;
}
console_initcall(host_console_init);
