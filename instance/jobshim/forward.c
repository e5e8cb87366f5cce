// SPDX-License-Identifier: GPL-2.0
/* forward.c: placeholder while passthrough comes up. */
#include "instance/jobshim/forward.h"

long forward_init(int region_fd)
{
	(void)region_fd;
	return -ENOSYS;
}

long forward_syscall(long nr, long *a, struct shim_ucontext *uc)
{
	(void)nr;
	(void)a;
	(void)uc;
	return -ENOSYS;
}

long forward_read_head(const char *path, char *buf, size_t len)
{
	(void)path;
	(void)buf;
	(void)len;
	return -ENOSYS;
}

long forward_access(const char *path, int mode)
{
	(void)path;
	(void)mode;
	return -ENOSYS;
}
