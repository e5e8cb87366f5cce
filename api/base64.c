// SPDX-License-Identifier: GPL-2.0
/*
 * The base64 codec declared in base64.h. It is table-driven and branch-light
 * because 64 MiB file transfers pass every byte through it, and it is strict
 * because its input comes from the other side of a trust boundary: one table
 * lookup decides whether a character is in the alphabet at all.
 */
#include "base64.h"

#include <errno.h>
#include <stdint.h>

static const char base64_alphabet[64] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
 * Value + 1 of each character of the alphabet; 0 for every other byte, '=' included,
 * so that the zero-initialised rest of the table means "not base64".
 */
static const uint8_t base64_values[256] = {
	['A'] = 1,  ['B'] = 2,	['C'] = 3,  ['D'] = 4,	['E'] = 5,  ['F'] = 6,	['G'] = 7,
	['H'] = 8,  ['I'] = 9,	['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14,
	['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21,
	['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28,
	['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35,
	['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49,
	['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
	['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63,
	['/'] = 64,
};

size_t base64_encode(const unsigned char *src, size_t n, char *dst)
{
	char *p = dst;
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];

		*p++ = base64_alphabet[v >> 18];
		*p++ = base64_alphabet[(v >> 12) & 63];
		*p++ = base64_alphabet[(v >> 6) & 63];
		*p++ = base64_alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)src[i] << 16;

		*p++ = base64_alphabet[v >> 18];
		*p++ = base64_alphabet[(v >> 12) & 63];
		*p++ = '=';
		*p++ = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8;

		*p++ = base64_alphabet[v >> 18];
		*p++ = base64_alphabet[(v >> 12) & 63];
		*p++ = base64_alphabet[(v >> 6) & 63];
		*p++ = '=';
	}
	*p = '\0';
	return (size_t)(p - dst);
}

long base64_decode(const char *src, size_t n, unsigned char *dst)
{
	const uint8_t *s = (const uint8_t *)src;
	unsigned char *p = dst;
	size_t pad = 0;
	size_t i;

	if (n % 4)
		return -EINVAL;
	if (n && s[n - 1] == '=')
		pad = (n >= 2 && s[n - 2] == '=') ? 2 : 1;

	/* Whole quads; the last one is handled below when it carries padding. */
	for (i = 0; i + 4 <= n - (pad ? 4 : 0); i += 4) {
		uint8_t a = base64_values[s[i]], b = base64_values[s[i + 1]];
		uint8_t c = base64_values[s[i + 2]], d = base64_values[s[i + 3]];

		if (!a || !b || !c || !d)
			return -EINVAL;
		a--, b--, c--, d--;
		*p++ = (unsigned char)(a << 2 | b >> 4);
		*p++ = (unsigned char)(b << 4 | c >> 2);
		*p++ = (unsigned char)(c << 6 | d);
	}
	if (pad) {
		uint8_t a = base64_values[s[i]], b = base64_values[s[i + 1]];
		uint8_t c = pad == 1 ? base64_values[s[i + 2]] : 1;

		if (!a || !b || !c)
			return -EINVAL;
		a--, b--, c--;
		/* Canonical form: the bits the padding stands for must be zero. */
		if (pad == 2 && (b & 0x0f))
			return -EINVAL;
		if (pad == 1 && (c & 0x03))
			return -EINVAL;
		*p++ = (unsigned char)(a << 2 | b >> 4);
		if (pad == 1)
			*p++ = (unsigned char)(b << 4 | c >> 2);
	}
	return (long)(p - dst);
}
