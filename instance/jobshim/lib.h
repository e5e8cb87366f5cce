/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib.h: the few string, memory and number helpers the shim needs, written
 * without libc. They are pure functions (no system calls), so the logic
 * files built on them (state.c, route.c, fdtable.c, sysclass.c) also build
 * as ordinary hosted objects for the unit tests in tests/jobs/.
 */
#ifndef SHOAL_JOBSHIM_LIB_H
#define SHOAL_JOBSHIM_LIB_H

#include <stddef.h>
#include <stdint.h>

size_t shim_strlen(const char *s);
int shim_strcmp(const char *a, const char *b);
int shim_strncmp(const char *a, const char *b, size_t n);
void shim_memcpy(void *dst, const void *src, size_t n);
void shim_memset(void *dst, int c, size_t n);
int shim_memcmp(const void *a, const void *b, size_t n);

/*
 * Parse a decimal number at *s (no sign) and advance *s past it. Returns 0,
 * or -EINVAL when no digit is there or the value exceeds @max.
 */
int shim_parse_ulong(const char **s, unsigned long max, unsigned long *out);

/* Write @v in decimal at @buf (no NUL); returns the number of digits. */
size_t shim_format_ulong(char *buf, unsigned long v);

/* Find "NAME=" in a NULL-terminated environment; the value or NULL. */
const char *shim_getenv(char *const *envp, const char *name);

#endif
