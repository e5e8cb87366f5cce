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
 * -errno, and sets *@host to 1 when the file is a host file (which can be
 * mapped), 0 when it lives in the instance (only a `#!` script can run from
 * there). Provided by exec.c, which knows where paths lead.
 */
long loader_read_head(const char *path, char *buf, size_t len, int *host);

/*
 * Check that @path could be executed: a host file that is executable and
 * starts with an ELF header or "#!", or an instance file starting with "#!".
 * Returns 0, or the -errno execve would give (-ENOEXEC for other contents).
 * Provided by exec.c.
 */
long loader_check(const char *path);

#endif
