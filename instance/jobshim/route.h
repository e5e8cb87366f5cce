/* SPDX-License-Identifier: GPL-2.0 */
/* route.h: where a path leads, host or instance (see route.c). Pure logic. */
#ifndef SHOAL_JOBSHIM_ROUTE_H
#define SHOAL_JOBSHIM_ROUTE_H

#include <stddef.h>

enum route {
	ROUTE_KERNEL = 0, /* forward: the instance's file system */
	ROUTE_HOST = 1, /* the read-only host view the jail prepared */
};

/*
 * Normalise the absolute path @in lexically into @out (@size bytes): one
 * slash between components, no "." components, ".." removes the component
 * before it (never above "/"), no trailing slash except for "/" itself.
 * Symlinks are not followed: this is the decided rule (a host symlink to an
 * instance path is resolved on the host). Returns the length, -EINVAL for a
 * relative path, -ENAMETOOLONG when @out is too small.
 */
long route_normalise(const char *in, char *out, size_t size);

/* Route of a normalised absolute path. */
enum route route_path(const char *norm);

/*
 * Route of a path argument as a call gives it: @dirfd_is_host says whether
 * @dirfd is a placeholder (a host directory). Absolute paths are routed by
 * route_path(); relative paths follow their directory: AT_FDCWD and kernel
 * fds go to the kernel (the cwd lives in the kernel task).
 */
enum route route_at(int dirfd_is_host, const char *path, const char *norm);

#endif
