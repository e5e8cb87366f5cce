// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of api/error.c: the negative-errno return, the set-once rule that
 * keeps the root cause, the "what: strerror" message shape, cutting at the
 * buffer size (never overrunning it) and the promise not to touch errno.
 */
#include "api/error.h"
#include "tests/harness.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* "@prefix: strerror(@errnum)", as the error object should hold it. */
static const char *expected_msg(char *buf, size_t size, const char *prefix, int errnum)
{
	snprintf(buf, size, "%s: %s", prefix, strerror(errnum));
	return buf;
}

TEST(returns_negative_errno_and_formats_message)
{
	struct shoal_error e = { 0 };
	char want[SHOAL_ERROR_MSG_MAX];

	CHECK(!shoal_error_is_set(&e));
	CHECK_EQ_INT(shoal_error_set(&e, ENOENT, "open %s", "/etc/shoal.conf"), -ENOENT);
	CHECK(shoal_error_is_set(&e));
	CHECK_EQ_INT(e.err, ENOENT);
	CHECK_EQ_STR(e.msg, expected_msg(want, sizeof(want), "open /etc/shoal.conf", ENOENT));
}

TEST(negative_errnum_is_taken_as_its_value)
{
	struct shoal_error e = { 0 };
	char want[SHOAL_ERROR_MSG_MAX];

	CHECK_EQ_INT(shoal_error_set(&e, -EACCES, "bind %s", "/run/x.sock"), -EACCES);
	CHECK_EQ_INT(e.err, EACCES);
	CHECK_EQ_STR(e.msg, expected_msg(want, sizeof(want), "bind /run/x.sock", EACCES));
}

TEST(first_setter_wins)
{
	struct shoal_error e = { 0 };
	char want[SHOAL_ERROR_MSG_MAX];

	shoal_error_set(&e, ENOENT, "open %s", "disk.img");
	/* A caller further up must neither replace the root cause nor its code. */
	CHECK_EQ_INT(shoal_error_set(&e, EIO, "create instance %d", 7), -ENOENT);
	CHECK_EQ_INT(shoal_error_set(&e, 0, "request failed"), -ENOENT);
	CHECK_EQ_INT(e.err, ENOENT);
	CHECK_EQ_STR(e.msg, expected_msg(want, sizeof(want), "open disk.img", ENOENT));
}

TEST(zero_errnum_records_einval_without_errno_text)
{
	struct shoal_error e = { 0 };

	CHECK_EQ_INT(shoal_error_set(&e, 0, "unknown field '%s'", "colour"), -EINVAL);
	CHECK_EQ_INT(e.err, EINVAL);
	CHECK_EQ_STR(e.msg, "unknown field 'colour'");
}

TEST(null_error_object_still_returns_the_code)
{
	CHECK_EQ_INT(shoal_error_set(NULL, EIO, "write %d bytes", 10), -EIO);
	CHECK_EQ_INT(shoal_error_set(NULL, -EPIPE, "send"), -EPIPE);
	CHECK_EQ_INT(shoal_error_set(NULL, 0, "bad input"), -EINVAL);
	CHECK(!shoal_error_is_set(NULL));
}

TEST(message_that_exactly_fits_is_kept_whole)
{
	struct shoal_error e = { 0 };
	char text[SHOAL_ERROR_MSG_MAX];

	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	shoal_error_set(&e, 0, "%s", text);
	CHECK_EQ_STR(e.msg, text);
}

TEST(long_message_is_cut_at_buffer_size)
{
	struct shoal_error e = { 0 };
	char text[3 * SHOAL_ERROR_MSG_MAX];
	size_t i;

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	CHECK_EQ_INT(shoal_error_set(&e, E2BIG, "%s", text), -E2BIG);
	CHECK_EQ_INT(strlen(e.msg), SHOAL_ERROR_MSG_MAX - 1);
	for (i = 0; i < SHOAL_ERROR_MSG_MAX - 1; i++) {
		if (e.msg[i] != 'x')
			FAIL("byte %zu is 0x%02x, want 'x'", i, (unsigned char)e.msg[i]);
	}
	CHECK_EQ_INT(e.err, E2BIG);
}

TEST(errno_text_is_cut_when_message_is_near_the_end)
{
	struct shoal_error e = { 0 };
	char text[SHOAL_ERROR_MSG_MAX - 5];
	char tail[64];
	size_t len;

	memset(text, 'y', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	shoal_error_set(&e, ENOENT, "%s", text);
	len = strlen(e.msg);
	CHECK_EQ_INT(len, SHOAL_ERROR_MSG_MAX - 1);
	CHECK_EQ_INT(memcmp(e.msg, text, sizeof(text) - 1), 0);
	/* What follows the message is the start of ": <strerror>", cut to fit. */
	snprintf(tail, sizeof(tail), ": %s", strerror(ENOENT));
	CHECK_EQ_INT(memcmp(e.msg + sizeof(text) - 1, tail, len - (sizeof(text) - 1)), 0);
}

TEST(errno_is_preserved)
{
	struct shoal_error e = { 0 };

	errno = EAGAIN;
	shoal_error_set(&e, ENOENT, "open");
	CHECK_EQ_INT(errno, EAGAIN);
	errno = ERANGE;
	shoal_error_set(&e, EIO, "ignored, already set");
	CHECK_EQ_INT(errno, ERANGE);
}

TEST(clear_allows_reuse)
{
	struct shoal_error e = { 0 };

	shoal_error_set(&e, ENOENT, "first");
	shoal_error_clear(&e);
	CHECK(!shoal_error_is_set(&e));
	CHECK_EQ_STR(e.msg, "");
	CHECK_EQ_INT(shoal_error_set(&e, 0, "second"), -EINVAL);
	CHECK_EQ_STR(e.msg, "second");
	shoal_error_clear(NULL);
}
