/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Leveled logging for Shoal's processes. Each record is one line written with a
 * single write(2) to a file descriptor, so records from the daemon and from its
 * instances never interleave mid-line even when they share a log file. Lines are
 * either human-readable text or one JSON object per line for machines. The
 * level test happens in the macros, before any argument is evaluated or
 * formatted, so a disabled debug call costs a call and a comparison.
 */
#ifndef SHOAL_API_LOG_H
#define SHOAL_API_LOG_H

#include <stdbool.h>

enum shoal_log_level {
	SHOAL_LOG_ERROR,
	SHOAL_LOG_WARN,
	SHOAL_LOG_INFO,
	SHOAL_LOG_DEBUG,
};

enum shoal_log_format {
	SHOAL_LOG_TEXT, /* 2025-01-31T12:00:00.123Z shoald[42] info: message */
	SHOAL_LOG_JSON, /* {"ts":"...","level":"info","component":"shoald","pid":42,"msg":"..."} */
};

/* Longest message kept (bytes, before escaping); longer ones are cut. */
#define SHOAL_LOG_MSG_MAX 4096

/*
 * shoal_log_setup() - choose where and how records go.
 * @fd:        file descriptor the records are written to; not owned (never
 *             closed here). Default: 2.
 * @level:     most verbose level written. Default: SHOAL_LOG_INFO.
 * @format:    text or JSON lines. Default: SHOAL_LOG_TEXT.
 * @component: name shown in each record ("shoald", "instance"); copied, cut
 *             to 63 bytes. NULL keeps the current one (default "shoal").
 *
 * Call it before starting threads; the level alone may be changed later with
 * shoal_log_set_level() from any thread.
 */
void shoal_log_setup(int fd, enum shoal_log_level level, enum shoal_log_format format,
		     const char *component);

/* shoal_log_set_level() - change the level; safe from any thread at any time. */
void shoal_log_set_level(enum shoal_log_level level);

/*
 * shoal_log_level_parse() - "error", "warn", "info" or "debug" to a level.
 * Returns 0 and sets @level, or -EINVAL (leaving @level alone) for any other
 * string, including NULL.
 */
int shoal_log_level_parse(const char *name, enum shoal_log_level *level);

/* shoal_log_level_name() - the name of @level as parse accepts it, or "?". */
const char *shoal_log_level_name(enum shoal_log_level level);

/* shoal_log_enabled() - whether a record at @level would be written now. */
bool shoal_log_enabled(enum shoal_log_level level);

/*
 * shoal_log_write() - format and write one record, without the level test (the
 * macros below make it). Failures to write are ignored: logging must never turn
 * into the error. errno is preserved.
 */
void shoal_log_write(enum shoal_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define shoal_log(level, ...)                                \
	do {                                                 \
		if (shoal_log_enabled(level))                \
			shoal_log_write(level, __VA_ARGS__); \
	} while (0)

#define shoal_log_error(...) shoal_log(SHOAL_LOG_ERROR, __VA_ARGS__)
#define shoal_log_warn(...) shoal_log(SHOAL_LOG_WARN, __VA_ARGS__)
#define shoal_log_info(...) shoal_log(SHOAL_LOG_INFO, __VA_ARGS__)
#define shoal_log_debug(...) shoal_log(SHOAL_LOG_DEBUG, __VA_ARGS__)

#endif /* SHOAL_API_LOG_H */
