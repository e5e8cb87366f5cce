// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of api/log.c. Records are written into a memfd and read back.
 * JSON records are parsed with jansson, a real JSON parser, so the escaping is
 * judged by what a consumer of the log would see, not by our own reading of
 * it. Covered: level filtering (and that a filtered call evaluates nothing),
 * level names, the text and JSON line shapes, escaping of quotes, backslashes,
 * newlines, control bytes and invalid UTF-8, cutting of long messages, errno.
 */
#include "api/log.h"
#include "tests/harness.h"

#include <errno.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char captured[1 << 17];

/* Send records at @level and above, in @format, into a fresh memfd. */
static int capture_start(enum shoal_log_level level, enum shoal_log_format format)
{
	int fd = memfd_create("shoal-log-test", MFD_CLOEXEC);

	CHECK(fd >= 0);
	shoal_log_setup(fd, level, format, "unit");
	return fd;
}

/* Everything written to @fd so far, NUL-terminated. */
static const char *capture_read(int fd)
{
	ssize_t n = pread(fd, captured, sizeof(captured) - 1, 0);

	CHECK(n >= 0);
	captured[n] = '\0';
	return captured;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Parse one JSON record and check its fixed fields; the caller owns the result. */
static json_t *parse_record(const char *line, const char *level)
{
	json_error_t jerr;
	json_t *rec = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);

	if (!rec)
		FAIL("record is not valid JSON (%s at %d): %s", jerr.text, jerr.position, line);
	CHECK(json_is_object(rec));
	CHECK_EQ_STR(json_string_value(json_object_get(rec, "level")), level);
	CHECK_EQ_STR(json_string_value(json_object_get(rec, "component")), "unit");
	CHECK_EQ_INT(json_integer_value(json_object_get(rec, "pid")), getpid());
	CHECK(json_is_string(json_object_get(rec, "ts")));
	return rec;
}

static int calls;

static int count_call(void)
{
	return ++calls;
}

TEST(level_filter_drops_more_verbose_records)
{
	int fd = capture_start(SHOAL_LOG_WARN, SHOAL_LOG_TEXT);
	const char *out;

	shoal_log_error("e%d", 1);
	shoal_log_warn("w%d", 2);
	shoal_log_info("i%d", 3);
	shoal_log_debug("d%d", 4);
	out = capture_read(fd);
	CHECK_EQ_INT(count_lines(out), 2);
	CHECK(strstr(out, " error: e1\n") != NULL);
	CHECK(strstr(out, " warn: w2\n") != NULL);
	CHECK(strstr(out, "i3") == NULL);
	CHECK(strstr(out, "d4") == NULL);
	close(fd);
}

TEST(filtered_call_evaluates_no_argument)
{
	int fd = capture_start(SHOAL_LOG_INFO, SHOAL_LOG_TEXT);

	calls = 0;
	shoal_log_debug("%d", count_call());
	CHECK_EQ_INT(calls, 0);
	CHECK(!shoal_log_enabled(SHOAL_LOG_DEBUG));
	shoal_log_info("%d", count_call());
	CHECK_EQ_INT(calls, 1);
	CHECK_EQ_INT(count_lines(capture_read(fd)), 1);
	close(fd);
}

TEST(set_level_changes_filter)
{
	int fd = capture_start(SHOAL_LOG_ERROR, SHOAL_LOG_TEXT);

	shoal_log_info("hidden");
	shoal_log_set_level(SHOAL_LOG_DEBUG);
	shoal_log_debug("shown");
	CHECK_EQ_STR(strstr(capture_read(fd), "debug: "), "debug: shown\n");
	CHECK(strstr(captured, "hidden") == NULL);
	close(fd);
}

TEST(level_names_parse_and_print)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	enum shoal_log_level level;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		CHECK_EQ_INT(shoal_log_level_parse(names[i], &level), 0);
		CHECK_EQ_INT(level, i);
		CHECK_EQ_STR(shoal_log_level_name(level), names[i]);
	}
	level = SHOAL_LOG_WARN;
	CHECK_EQ_INT(shoal_log_level_parse("INFO", &level), -EINVAL);
	CHECK_EQ_INT(shoal_log_level_parse("", &level), -EINVAL);
	CHECK_EQ_INT(shoal_log_level_parse("debugging", &level), -EINVAL);
	CHECK_EQ_INT(shoal_log_level_parse(NULL, &level), -EINVAL);
	CHECK_EQ_INT(level, SHOAL_LOG_WARN);
	CHECK_EQ_STR(shoal_log_level_name((enum shoal_log_level)42), "?");
}

TEST(text_record_shape)
{
	int fd = capture_start(SHOAL_LOG_INFO, SHOAL_LOG_TEXT);
	char pattern[256];
	regex_t re;

	shoal_log_info("hello %s %d", "world", 42);
	snprintf(pattern, sizeof(pattern),
		 "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
		 "unit\\[%d\\] info: hello world 42\n$",
		 (int)getpid());
	CHECK_EQ_INT(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	if (regexec(&re, capture_read(fd), 0, NULL, 0) != 0)
		FAIL("text record %s does not match %s", captured, pattern);
	regfree(&re);
	close(fd);
}

TEST(text_record_keeps_control_characters_on_one_line)
{
	int fd = capture_start(SHOAL_LOG_INFO, SHOAL_LOG_TEXT);
	const char *out;

	shoal_log_warn("a\nb\tc\rd%ce", 1);
	out = capture_read(fd);
	CHECK_EQ_INT(count_lines(out), 1);
	CHECK_EQ_STR(strstr(out, "warn: "), "warn: a\\nb\\tc\\rd\\x01e\n");
	close(fd);
}

TEST(json_escapes_quotes_and_backslashes)
{
	int fd = capture_start(SHOAL_LOG_INFO, SHOAL_LOG_JSON);
	const char *out;

	shoal_log_info("say \"hi\" \\ bye");
	out = capture_read(fd);
	CHECK_EQ_STR(strstr(out, "\"msg\""), "\"msg\":\"say \\\"hi\\\" \\\\ bye\"}\n");
	json_decref(parse_record(out, "info"));
	close(fd);
}

TEST(json_escapes_newlines_and_control_bytes)
{
	int fd = capture_start(SHOAL_LOG_INFO, SHOAL_LOG_JSON);
	const char *out;

	shoal_log_error("l1\nl2\r\t\b\f%c%c%c|", 0x01, 0x1f, 0x7f);
	out = capture_read(fd);
	CHECK_EQ_INT(count_lines(out), 1);
	CHECK_EQ_STR(strstr(out, "\"msg\""),
		     "\"msg\":\"l1\\nl2\\r\\t\\b\\f\\u0001\\u001f\\u007f|\"}\n");
	json_decref(parse_record(out, "error"));
	close(fd);
}

TEST(json_round_trips_every_ascii_byte_and_utf8)
{
	int fd = capture_start(SHOAL_LOG_DEBUG, SHOAL_LOG_JSON);
	char msg[256];
	json_t *rec;
	size_t n = 0;
	int c;

	for (c = 1; c < 0x80; c++)
		msg[n++] = (char)c;
	/* U+00E9, U+20AC and U+1F600: two-, three- and four-byte sequences. */
	strcpy(msg + n, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	shoal_log_debug("%s", msg);
	rec = parse_record(capture_read(fd), "debug");
	CHECK_EQ_STR(json_string_value(json_object_get(rec, "msg")), msg);
	CHECK(json_object_get(rec, "truncated") == NULL);
	json_decref(rec);
	close(fd);
}

TEST(json_replaces_invalid_utf8)
{
	int fd = capture_start(SHOAL_LOG_INFO, SHOAL_LOG_JSON);
	const char *out;
	json_t *rec;

	/* Stray byte, truncated sequence, overlong '/', UTF-16 surrogate. */
	shoal_log_info("a\xff"
		       "b\xc3"
		       "c\xc0\xaf"
		       "d\xed\xa0\x80"
		       "e");
	out = capture_read(fd);
	CHECK_EQ_STR(strstr(out, "\"msg\""), "\"msg\":\"a\\ufffdb\\ufffdc\\ufffd\\ufffd"
					     "d\\ufffd\\ufffd\\ufffde\"}\n");
	rec = parse_record(out, "info");
	json_decref(rec);
	close(fd);
}

TEST(json_escapes_component)
{
	int fd = memfd_create("shoal-log-test", MFD_CLOEXEC);
	json_error_t jerr;
	json_t *rec;

	CHECK(fd >= 0);
	shoal_log_setup(fd, SHOAL_LOG_INFO, SHOAL_LOG_JSON, "we\"ird\n");
	shoal_log_info("x");
	rec = json_loads(capture_read(fd), 0, &jerr);
	CHECK(rec != NULL);
	CHECK_EQ_STR(json_string_value(json_object_get(rec, "component")), "we\"ird\n");
	json_decref(rec);
	close(fd);
}

TEST(long_message_is_cut_and_marked)
{
	int fd = capture_start(SHOAL_LOG_INFO, SHOAL_LOG_JSON);
	char *big = malloc(3 * SHOAL_LOG_MSG_MAX);
	const char *msg;
	json_t *rec;

	CHECK(big != NULL);
	memset(big, 'x', 3 * SHOAL_LOG_MSG_MAX - 1);
	big[3 * SHOAL_LOG_MSG_MAX - 1] = '\0';
	shoal_log_info("%s", big);
	free(big);
	CHECK_EQ_INT(count_lines(capture_read(fd)), 1);
	rec = parse_record(captured, "info");
	msg = json_string_value(json_object_get(rec, "msg"));
	CHECK(msg != NULL);
	CHECK_EQ_INT(strlen(msg), SHOAL_LOG_MSG_MAX - 1);
	CHECK(json_is_true(json_object_get(rec, "truncated")));
	json_decref(rec);
	close(fd);
}

TEST(escape_heavy_message_is_cut_between_escapes)
{
	int fd = capture_start(SHOAL_LOG_INFO, SHOAL_LOG_JSON);
	char msg[SHOAL_LOG_MSG_MAX];
	const char *text;
	json_t *rec;
	size_t i;

	/* Every byte becomes a six-byte escape: more than a record can hold. */
	memset(msg, 0x01, sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	shoal_log_info("%s", msg);
	rec = parse_record(capture_read(fd), "info");
	text = json_string_value(json_object_get(rec, "msg"));
	CHECK(text != NULL);
	CHECK(strlen(text) > 1000);
	CHECK(strlen(text) < sizeof(msg) - 1);
	for (i = 0; text[i]; i++)
		CHECK_EQ_INT(text[i], 0x01);
	CHECK(json_is_true(json_object_get(rec, "truncated")));
	json_decref(rec);
	close(fd);
}

TEST(text_long_message_is_marked)
{
	int fd = capture_start(SHOAL_LOG_INFO, SHOAL_LOG_TEXT);
	char msg[2 * SHOAL_LOG_MSG_MAX];
	const char *out;

	memset(msg, 'z', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	shoal_log_info("%s", msg);
	out = capture_read(fd);
	CHECK_EQ_INT(count_lines(out), 1);
	CHECK(strstr(out, " [truncated]\n") != NULL);
	close(fd);
}

TEST(errno_is_preserved_and_seen_by_percent_m)
{
	int fd = capture_start(SHOAL_LOG_INFO, SHOAL_LOG_TEXT);
	char want[128];

	errno = EACCES;
	shoal_log_error("open: %m");
	CHECK_EQ_INT(errno, EACCES);
	snprintf(want, sizeof(want), "error: open: %s\n", strerror(EACCES));
	CHECK_EQ_STR(strstr(capture_read(fd), "error: "), want);
	close(fd);
}
