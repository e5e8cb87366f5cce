/* SPDX-License-Identifier: GPL-2.0 */
/* loader.h: the shim's own ELF and `#!` loader (see loader.c). */
#ifndef SHOAL_JOBSHIM_LOADER_H
#define SHOAL_JOBSHIM_LOADER_H

#include <stddef.h>

/*
 * Replace the shim's view of the process with the program at @path: map it
 * (and its PT_INTERP), build a fresh stack with @argv (NULL-terminated,
 * argv[0] included), @envp and an auxiliary vector, and jump to its entry.
 * Returns only on failure, with -errno (-ENOEXEC: not ELF x86-64 nor `#!`),
 * possibly after having mapped part of it: the caller must exit then.
 * Single-threaded: called once, at start-up.
 */
long loader_exec(const char *path, char *const *argv, char *const *envp);

/*
 * Read the first @len bytes of @path into @buf; returns the count or
 * -errno, and sets *@host to 1 when the file is a host file, 0 when it lives
 * in the instance. Provided by exec.c, which knows where paths lead.
 */
long loader_read_head(const char *path, char *buf, size_t len, int *host);

/* A file the loader reads and maps: a host fd, or a kernel fd of the
 * instance (whose pages the job cannot map: copies are made). */
struct loader_file {
	int fd;
	int kernel;
};

/*
 * File access for the loader, provided by exec.c: open @path read-only
 * where it leads (host or instance), pread, mmap (MAP_PRIVATE | MAP_FIXED of
 * a segment; for a kernel fd an anonymous mapping filled by reads), close.
 * All return 0 / a count / an address, or -errno.
 */
long loader_open(const char *path, struct loader_file *f);
long loader_pread(const struct loader_file *f, void *buf, size_t len, long off);
long loader_map(const struct loader_file *f, unsigned long addr, size_t len, int prot, int flags,
		long off);
void loader_close(const struct loader_file *f);

/*
 * Check that @path could be executed: an executable regular file (host or
 * instance) that starts with an ELF header or "#!".
 * Returns 0, or the -errno execve would give (-ENOEXEC for other contents).
 * Provided by exec.c.
 */
long loader_check(const char *path);

#endif
