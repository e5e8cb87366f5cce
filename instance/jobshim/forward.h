/* SPDX-License-Identifier: GPL-2.0 */
/* forward.h: calls the instance's kernel runs for the job (forward.c). */
#ifndef SHOAL_JOBSHIM_FORWARD_H
#define SHOAL_JOBSHIM_FORWARD_H

#include <stddef.h>

#include "instance/jobshim/sys.h"

/*
 * Map the region (@region_fd) at SHOAL_REGION_JOB_ADDR and check its
 * header. Returns 0 or -errno. Start-up only.
 */
long forward_init(int region_fd);

/*
 * Run the program's call @nr (arguments @a, which may be rewritten) in
 * forwarding mode: on the host, in the kernel, or split, per sysclass.c.
 * Returns the call's result.
 */
long forward_syscall(long nr, long *a, struct shim_ucontext *uc);

/* The first @len bytes of the instance file @path, or -errno. */
long forward_read_head(const char *path, char *buf, size_t len);

/* faccessat(AT_FDCWD, @path, @mode) in the kernel. */
long forward_access(const char *path, int mode);

/* For the loader: open @path read-only (close-on-exec) in the kernel,
 * pread from a kernel fd (at most one slot's worth), close it. */
long forward_open_read(const char *path);
long forward_pread(int fd, void *buf, size_t len, long off);
/* The kernel task's cwd into @buf (@size bytes, NUL included); its length or -errno. */
long forward_getcwd(char *buf, size_t size);
long forward_close(int fd);

/*
 * A private copy of @len bytes of kernel fd @fd from @off, mapped like
 * mmap(@addr, @len, @prot, @flags) would: anonymous memory filled by reads
 * (zeros past the end of the file). Returns the address or -errno.
 */
long forward_map_copy(unsigned long addr, size_t len, int prot, int flags, int fd, long off);

#endif
