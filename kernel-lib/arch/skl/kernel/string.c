// SPDX-License-Identifier: GPL-2.0
/*
 * memcpy, memset and memmove on x86-64's string instructions (fast on every
 * CPU with ERMS, i.e. anything from the last decade). The kernel object is
 * linked with its own copies; objcopy hides them from the host.
 */
#include <linux/types.h>
#include <linux/export.h>
#include <asm/string.h>

void *memcpy(void *dest, const void *src, size_t n)
{
	void *d = dest;

	asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dest;
}
EXPORT_SYMBOL(memcpy);

void *memset(void *s, int c, size_t n)
{
	void *d = s;

	asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return s;
}
EXPORT_SYMBOL(memset);

void *memmove(void *dest, const void *src, size_t n)
{
	if (dest <= src || (const char *)src + n <= (char *)dest)
		return memcpy(dest, src, n);
	/* Overlapping with dest above src: copy from the end down. */
	{
		char *d = (char *)dest + n - 1;
		const char *s = (const char *)src + n - 1;

		asm volatile("std; rep movsb; cld"
			     : "+D"(d), "+S"(s), "+c"(n)
			     :
			     : "memory");
	}
	return dest;
}
EXPORT_SYMBOL(memmove);
