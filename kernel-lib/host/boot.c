// SPDX-License-Identifier: GPL-2.0
/*
 * skl_boot: the usual way to start the library kernel, with the POSIX host
 * operations and a command line built from a few named parameters.
 */
#include <errno.h>
#include <stdio.h>

#include <skl.h>

#include "kernel-lib/host/virtio.h"

#define MIB (1024UL * 1024UL)

long skl_boot_ops(struct skl_host_ops *ops,
		  const struct skl_boot_params *params)
{
	static const struct skl_boot_params defaults = { 0 };
	unsigned long mem;
	int loglevel, n;
	char cmdline[4096], devices[2048];

	if (!params)
		params = &defaults;
	mem = params->mem_bytes ? params->mem_bytes : 64 * MIB;
	loglevel = params->loglevel ? params->loglevel : 4;
	if (mem < 16 * MIB || mem % MIB || loglevel < 0 || loglevel > 8)
		return -EINVAL;
	/* Devices added with skl_netdev_add / skl_blkdev_add. */
	if (virtio_cmdline(devices, sizeof(devices)))
		return -E2BIG;
	n = snprintf(cmdline, sizeof(cmdline), "mem=%luM loglevel=%d%s %s",
		     mem / MIB, loglevel, devices,
		     params->extra ? params->extra : "");
	if (n < 0 || (size_t)n >= sizeof(cmdline))
		return -E2BIG;
	return skl_start_kernel(ops, cmdline);
}

long skl_boot(const struct skl_boot_params *params)
{
	return skl_boot_ops(&skl_host_posix_ops, params);
}
