/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Strict base64 (RFC 4648, standard alphabet, '=' padding), the encoding of
 * every byte payload in the control protocol: file chunks, job stdin and job
 * output. The decoder accepts only the canonical encoding of some byte string
 * (length a multiple of four, padding only at the end, zero pad bits, no
 * whitespace), so each payload has exactly one spelling and a peer cannot hide
 * bytes in places the other side would ignore.
 */
#ifndef SHOAL_API_BASE64_H
#define SHOAL_API_BASE64_H

#include <stddef.h>

/* Characters base64_encode() writes for @n bytes, without the NUL. */
static inline size_t base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/* Most bytes base64_decode() can produce from @n characters. */
static inline size_t base64_decoded_max(size_t n)
{
	return n / 4 * 3;
}

/*
 * base64_encode() - write the encoding of @src[0..@n) and a NUL to @dst, which
 * must hold base64_encoded_len(@n) + 1 bytes. Returns the characters written.
 */
size_t base64_encode(const unsigned char *src, size_t n, char *dst);

/*
 * base64_decode() - decode @n characters of @src into @dst, which must hold
 * base64_decoded_max(@n) bytes. Returns the number of bytes, or -EINVAL for
 * anything but a canonical encoding (then @dst holds garbage).
 */
long base64_decode(const char *src, size_t n, unsigned char *dst);

#endif /* SHOAL_API_BASE64_H */
