// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of api/base64.c: the RFC 4648 test vectors, round trips of every
 * length around the block boundaries, and refusal of everything that is not
 * the one canonical spelling of some bytes (bad length, characters outside the
 * alphabet, whitespace, misplaced padding, non-zero pad bits), since the
 * protocol relies on the decoder to be that strict.
 */
#include "api/base64.h"
#include "tests/harness.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static long decode_str(const char *s, unsigned char *out)
{
	return base64_decode(s, strlen(s), out);
}

TEST(rfc4648_vectors)
{
	static const char *const vec[][2] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	char enc[32];
	unsigned char dec[32];
	size_t i;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		size_t n = strlen(vec[i][0]);

		CHECK_EQ_INT(base64_encode((const unsigned char *)vec[i][0], n, enc),
			     strlen(vec[i][1]));
		CHECK_EQ_STR(enc, vec[i][1]);
		CHECK_EQ_INT(base64_encoded_len(n), strlen(vec[i][1]));
		CHECK_EQ_INT(decode_str(vec[i][1], dec), n);
		CHECK(memcmp(dec, vec[i][0], n) == 0);
	}
}

TEST(round_trips_every_byte_and_length)
{
	unsigned char src[1030], dec[1030];
	char enc[1400];
	size_t n, i;

	for (i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)(i * 7 + (i >> 8));
	for (n = 0; n <= sizeof(src); n++) {
		size_t len = base64_encode(src, n, enc);

		CHECK_EQ_INT(len, base64_encoded_len(n));
		CHECK_EQ_INT(strlen(enc), len);
		CHECK(base64_decoded_max(len) >= n);
		CHECK_EQ_INT(base64_decode(enc, len, dec), n);
		if (memcmp(dec, src, n) != 0)
			FAIL("round trip of %zu bytes differs", n);
	}
}

TEST(rejects_non_canonical_input)
{
	static const char *const bad[] = {
		"Z",	    "Zg",      "Zg=",	   "Zm9vY", /* length not a multiple of 4 */
		"Zg==Zm8=", /* padding inside */
		"Z===",	    "====",    "=Zg=",	   "Zm=v",
		"A=A=",	    "Zh==", /* pad bits set: the canonical spelling of "f" is Zg== */
		"Zm9=", /* the canonical spelling of "fo" is Zm8= */
		"Zm9v\n",   "Zm 9v",   "Zm9v    ", /* whitespace */
		"Zm-v",	    "Zm_v", /* the URL-safe alphabet */
		"Zm\x80v",  "Zm9\xff",
	};
	unsigned char out[16];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (decode_str(bad[i], out) != -EINVAL)
			FAIL("'%s' was accepted", bad[i]);
	/* A NUL byte is just another character outside the alphabet. */
	CHECK_EQ_INT(base64_decode("Zm\0v", 4, out), -EINVAL);
}
