// SPDX-License-Identifier: GPL-2.0
/*
 * route.c: the rule that splits the file system between host and instance.
 * A job runs Debian programs from the host, so the directories that hold
 * programs, libraries and their configuration (/usr, /bin, /sbin, /lib*,
 * /etc) are the host's, read-only; everything else (/, /tmp, /home, /proc,
 * /dev, /sys, /root, /var, ...) is the instance's kernel. /etc/hosts,
 * /etc/resolv.conf and /etc/hostname describe the instance's network and
 * name, so those three belong to the instance. The decision is lexical on
 * the normalised path, which is cheap and predictable.
 */
#include "instance/jobshim/route.h"

#include "instance/jobshim/lib.h"

#include <asm/errno.h>

static const char *const route_host_dirs[] = {
	"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc",
};

static const char *const route_instance_files[] = {
	"/etc/hosts",
	"/etc/resolv.conf",
	"/etc/hostname",
};

long route_normalise(const char *in, char *out, size_t size)
{
	size_t len = 0;
	const char *p = in;

	if (*p != '/')
		return -EINVAL;
	if (size < 2)
		return -ENAMETOOLONG;
	while (*p) {
		const char *c;
		size_t n;

		while (*p == '/')
			p++;
		c = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - c);
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			/* Drop the last component with its slash. */
			while (len > 0) {
				len--;
				if (out[len] == '/')
					break;
			}
			continue;
		}
		if (len + 1 + n + 1 > size)
			return -ENAMETOOLONG;
		out[len] = '/';
		shim_memcpy(out + len + 1, c, n);
		len += 1 + n;
	}
	if (len == 0) {
		out[0] = '/';
		len = 1;
	}
	out[len] = 0;
	return (long)len;
}

/* Is @path equal to @dir or below it? */
static int under(const char *path, const char *dir)
{
	size_t n = shim_strlen(dir);

	return !shim_strncmp(path, dir, n) && (path[n] == 0 || path[n] == '/');
}

enum route route_path(const char *norm)
{
	unsigned int i;

	for (i = 0; i < sizeof(route_instance_files) / sizeof(route_instance_files[0]); i++) {
		if (!shim_strcmp(norm, route_instance_files[i]))
			return ROUTE_KERNEL;
	}
	for (i = 0; i < sizeof(route_host_dirs) / sizeof(route_host_dirs[0]); i++) {
		if (under(norm, route_host_dirs[i]))
			return ROUTE_HOST;
	}
	return ROUTE_KERNEL;
}

enum route route_at(int dirfd_is_host, const char *path, const char *norm)
{
	if (path[0] == '/')
		return route_path(norm);
	return dirfd_is_host ? ROUTE_HOST : ROUTE_KERNEL;
}
