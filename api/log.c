// SPDX-License-Identifier: GPL-2.0
/*
 * The logger declared in log.h. A record is assembled in a buffer on the stack
 * and handed to the kernel in one write(2): no lock is needed between threads,
 * and a line is never split by another process's line. Messages are escaped for
 * the chosen format, so a message that contains a newline, a quote or invalid
 * UTF-8 still yields exactly one well-formed line; an over-long message is cut
 * at an escape boundary and the record says it was cut.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Worst case is every message byte escaped to six ("\u0001"); bigger records are cut. */
#define LOG_LINE_MAX (4 * SHOAL_LOG_MSG_MAX)
/* Room kept back for the record's end: closing quote, truncation mark, brace, newline. */
#define LOG_TAIL_RESERVE 32

struct log_config {
	int fd;
	int level; /* read and written with __atomic builtins: any thread may change it */
	enum shoal_log_format format;
	char component[64];
};

static struct log_config log_config = {
	.fd = 2,
	.level = SHOAL_LOG_INFO,
	.format = SHOAL_LOG_TEXT,
	.component = "shoal",
};

static const char *const log_level_names[] = {
	[SHOAL_LOG_ERROR] = "error",
	[SHOAL_LOG_WARN] = "warn",
	[SHOAL_LOG_INFO] = "info",
	[SHOAL_LOG_DEBUG] = "debug",
};

struct log_line {
	char buf[LOG_LINE_MAX];
	size_t len;
	bool cut; /* something did not fit; nothing more is added to the body */
};

void shoal_log_setup(int fd, enum shoal_log_level level, enum shoal_log_format format,
		     const char *component)
{
	log_config.fd = fd;
	log_config.format = format;
	if (component)
		snprintf(log_config.component, sizeof(log_config.component), "%s", component);
	shoal_log_set_level(level);
}

void shoal_log_set_level(enum shoal_log_level level)
{
	__atomic_store_n(&log_config.level, (int)level, __ATOMIC_RELAXED);
}

bool shoal_log_enabled(enum shoal_log_level level)
{
	return (int)level <= __atomic_load_n(&log_config.level, __ATOMIC_RELAXED);
}

int shoal_log_level_parse(const char *name, enum shoal_log_level *level)
{
	size_t i;

	if (!name)
		return -EINVAL;
	for (i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]); i++) {
		if (strcmp(name, log_level_names[i]) == 0) {
			*level = (enum shoal_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *shoal_log_level_name(enum shoal_log_level level)
{
	if ((unsigned int)level >= sizeof(log_level_names) / sizeof(log_level_names[0]))
		return "?";
	return log_level_names[level];
}

/* Add @n bytes to the body, all or nothing, keeping LOG_TAIL_RESERVE free. */
static void log_line_add(struct log_line *l, const char *s, size_t n)
{
	if (l->cut || n > sizeof(l->buf) - LOG_TAIL_RESERVE - l->len) {
		l->cut = true;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void log_line_add_str(struct log_line *l, const char *s)
{
	log_line_add(l, s, strlen(s));
}

/* Add the record's end into the reserved room; only called with short constants. */
static void log_line_end(struct log_line *l, const char *s)
{
	size_t n = strlen(s);

	if (n > sizeof(l->buf) - l->len)
		n = sizeof(l->buf) - l->len;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/* Length of the well-formed UTF-8 sequence starting at @s, or 0 if it is not one. */
static size_t log_utf8_len(const unsigned char *s, size_t avail)
{
	uint32_t cp, min;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len > avail)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and code points past Unicode are invalid. */
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Add @s as the inside of a JSON string: quote, backslash and control
 * characters escaped, valid UTF-8 copied, each invalid byte replaced by U+FFFD
 * so that the line always parses.
 */
static void log_line_add_json(struct log_line *l, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + n;
	char esc[8];

	while (p < end && !l->cut) {
		size_t len;

		switch (*p) {
		case '"':
			log_line_add_str(l, "\\\"");
			break;
		case '\\':
			log_line_add_str(l, "\\\\");
			break;
		case '\b':
			log_line_add_str(l, "\\b");
			break;
		case '\f':
			log_line_add_str(l, "\\f");
			break;
		case '\n':
			log_line_add_str(l, "\\n");
			break;
		case '\r':
			log_line_add_str(l, "\\r");
			break;
		case '\t':
			log_line_add_str(l, "\\t");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				snprintf(esc, sizeof(esc), "\\u%04x", *p);
				log_line_add_str(l, esc);
				break;
			}
			len = log_utf8_len(p, (size_t)(end - p));
			if (len == 0) {
				log_line_add_str(l, "\\ufffd");
				break;
			}
			log_line_add(l, (const char *)p, len);
			p += len;
			continue;
		}
		p++;
	}
}

/*
 * Add @s for a text record: control characters become visible escapes so the
 * record stays on one line; everything else is copied as is.
 */
static void log_line_add_text(struct log_line *l, const char *s, size_t n)
{
	char esc[8];
	size_t i;

	for (i = 0; i < n && !l->cut; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			log_line_add_str(l, "\\n");
		else if (c == '\r')
			log_line_add_str(l, "\\r");
		else if (c == '\t')
			log_line_add_str(l, "\\t");
		else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			log_line_add_str(l, esc);
		} else {
			log_line_add(l, (const char *)&s[i], 1);
		}
	}
}

/* UTC wall-clock time with milliseconds, ISO 8601: 2025-01-31T12:00:00.123Z. */
static void log_format_time(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%03dZ", (int)(ts.tv_nsec / 1000000));
}

static void log_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

void shoal_log_write(enum shoal_log_level level, const char *fmt, ...)
{
	int saved_errno = errno;
	char msg[SHOAL_LOG_MSG_MAX];
	char ts[64], num[24];
	struct log_line line;
	bool msg_cut = false;
	va_list ap;
	int n;

	/* Format first: a %m in @fmt must see the caller's errno. */
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0) {
		snprintf(msg, sizeof(msg), "(unformattable log message)");
		n = (int)strlen(msg);
	} else if ((size_t)n >= sizeof(msg)) {
		msg_cut = true;
		n = (int)sizeof(msg) - 1;
	}

	log_format_time(ts, sizeof(ts));
	snprintf(num, sizeof(num), "%d", (int)getpid());
	line.len = 0;
	line.cut = false;

	if (log_config.format == SHOAL_LOG_JSON) {
		log_line_add_str(&line, "{\"ts\":\"");
		log_line_add_str(&line, ts);
		log_line_add_str(&line, "\",\"level\":\"");
		log_line_add_str(&line, shoal_log_level_name(level));
		log_line_add_str(&line, "\",\"component\":\"");
		log_line_add_json(&line, log_config.component, strlen(log_config.component));
		log_line_add_str(&line, "\",\"pid\":");
		log_line_add_str(&line, num);
		log_line_add_str(&line, ",\"msg\":\"");
		log_line_add_json(&line, msg, (size_t)n);
		log_line_end(&line, "\"");
		if (msg_cut || line.cut)
			log_line_end(&line, ",\"truncated\":true");
		log_line_end(&line, "}\n");
	} else {
		log_line_add_str(&line, ts);
		log_line_add_str(&line, " ");
		log_line_add_text(&line, log_config.component, strlen(log_config.component));
		log_line_add_str(&line, "[");
		log_line_add_str(&line, num);
		log_line_add_str(&line, "] ");
		log_line_add_str(&line, shoal_log_level_name(level));
		log_line_add_str(&line, ": ");
		log_line_add_text(&line, msg, (size_t)n);
		if (msg_cut || line.cut)
			log_line_end(&line, " [truncated]");
		log_line_end(&line, "\n");
	}

	log_write_all(log_config.fd, line.buf, line.len);
	errno = saved_errno;
}
