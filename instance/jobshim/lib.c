// SPDX-License-Identifier: GPL-2.0
/*
 * lib.c: string, memory and number helpers without libc (see lib.h). Plain
 * byte loops: the shim copies little outside the forwarded data paths, and
 * simple code is easier to trust inside a signal handler.
 */
#include "instance/jobshim/lib.h"

#include <asm/errno.h>

size_t shim_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int shim_strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int shim_strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

void shim_memcpy(void *dst, const void *src, size_t n)
{
	/* rep movsb: fast on current CPUs, and not a loop the compiler could
	 * turn back into a call to memcpy. */
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

void shim_memset(void *dst, int c, size_t n)
{
	__asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(c) : "memory");
}

int shim_memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++) {
		if (*x != *y)
			return *x - *y;
	}
	return 0;
}

int shim_parse_ulong(const char **s, unsigned long max, unsigned long *out)
{
	const char *p = *s;
	unsigned long v = 0;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	while (*p >= '0' && *p <= '9') {
		unsigned long d = (unsigned long)(*p - '0');

		if (v > (max - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
		p++;
	}
	*s = p;
	*out = v;
	return 0;
}

size_t shim_format_ulong(char *buf, unsigned long v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

const char *shim_getenv(char *const *envp, const char *name)
{
	size_t len = shim_strlen(name);

	for (; envp && *envp; envp++) {
		if (!shim_strncmp(*envp, name, len) && (*envp)[len] == '=')
			return *envp + len + 1;
	}
	return NULL;
}
