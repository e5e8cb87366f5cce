// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's console log, kept in a ring so that the supervisor can read it
 * incrementally with a cursor (`console` request): a cursor is a byte offset
 * in everything the kernel logged since boot, so a reader that fell behind
 * learns how much the ring overwrote (`lost`) instead of reading garbage.
 *
 * The kernel writes its console through the host print operation, which
 * kernel.c points here: the text goes straight into the ring under a mutex,
 * with no pipe, no extra thread and no host system call (the POSIX host's
 * default would write() to a descriptor, which the seccomp filter would then
 * have to allow). print runs on whichever host thread holds the kernel's CPU
 * and must not block for long; copying a line into memory does not.
 *
 * Replies carry valid UTF-8 only: the protocol's strings are text. Invalid
 * bytes and NULs become '?' one for one, so offsets stay byte offsets, and a
 * reply never ends inside a multi-byte character.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "instance/instance.h"

#define CONSOLE_RING (256 * 1024) /* bytes of log kept */

static char console_ring[CONSOLE_RING];
static uint64_t console_total; /* bytes logged since boot: the end cursor */
static pthread_mutex_t console_lock = PTHREAD_MUTEX_INITIALIZER;

void console_print_cb(const char *str, int len)
{
	size_t n = len > 0 ? (size_t)len : 0;

	pthread_mutex_lock(&console_lock);
	if (n > CONSOLE_RING) {
		console_total += n - CONSOLE_RING;
		str += n - CONSOLE_RING;
		n = CONSOLE_RING;
	}
	while (n) {
		size_t at = (size_t)(console_total % CONSOLE_RING);
		size_t room = CONSOLE_RING - at, take = n < room ? n : room;

		memcpy(console_ring + at, str, take);
		console_total += take;
		str += take;
		n -= take;
	}
	pthread_mutex_unlock(&console_lock);
}

/* Copy ring bytes [from, from + n) to @out; the caller holds the lock. */
static void console_copy(uint64_t from, size_t n, char *out)
{
	while (n) {
		size_t at = (size_t)(from % CONSOLE_RING);
		size_t room = CONSOLE_RING - at, take = n < room ? n : room;

		memcpy(out, console_ring + at, take);
		out += take;
		from += take;
		n -= take;
	}
}

/* Length of the valid UTF-8 sequence at @s (1..4), or 0 if it is not one or is cut. */
static size_t console_utf8_len(const unsigned char *s, size_t avail)
{
	size_t need, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return s[0] ? 1 : 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (avail < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return need;
}

int console_read(uint64_t cursor, uint32_t max_bytes, char *text, struct proto_console_result *res,
		 struct shoal_error *err)
{
	uint64_t total, oldest;
	size_t n, i;

	pthread_mutex_lock(&console_lock);
	total = console_total;
	if (cursor > total) {
		pthread_mutex_unlock(&console_lock);
		return shoal_error_set(
			err, 0, "console.cursor: %llu is past the end of the log (%llu bytes)",
			(unsigned long long)cursor, (unsigned long long)total);
	}
	oldest = total > CONSOLE_RING ? total - CONSOLE_RING : 0;
	res->lost = cursor < oldest ? oldest - cursor : 0;
	if (cursor < oldest)
		cursor = oldest;
	n = (size_t)(total - cursor);
	if (n > max_bytes)
		n = max_bytes;
	console_copy(cursor, n, text);
	pthread_mutex_unlock(&console_lock);

	/* Make it valid UTF-8 without changing its length, and end on a whole character. */
	for (i = 0; i < n;) {
		size_t len = console_utf8_len((unsigned char *)text + i, n - i);

		if (len) {
			i += len;
			continue;
		}
		if (i > 0 && (unsigned char)text[i] >= 0xc2 && n - i < 4 && cursor + n < total) {
			/* Possibly a character cut by max_bytes: leave it for the next read. */
			n = i;
			break;
		}
		text[i++] = '?';
	}
	text[n] = 0;
	res->text = text;
	res->cursor = cursor + n;
	return 0;
}

size_t console_last_line(const char *needle, char *buf, size_t size)
{
	static char tail[8192];
	uint64_t total, from;
	size_t n, i, start = 0, end, len;
	char *hit = NULL;

	if (!size)
		return 0;
	/* A panic may come from a thread that holds the lock: do not wait for it. */
	if (pthread_mutex_trylock(&console_lock))
		return 0;
	total = console_total;
	n = total < sizeof(tail) - 1 ? (size_t)total : sizeof(tail) - 1;
	from = total - n;
	console_copy(from, n, tail);
	pthread_mutex_unlock(&console_lock);
	tail[n] = 0;
	for (i = 0; i < n; i++)
		if (!tail[i])
			tail[i] = '?';
	/* The last line containing @needle, else the last non-empty line. */
	for (i = 0; i + strlen(needle) <= n; i++)
		if (!memcmp(tail + i, needle, strlen(needle)))
			hit = tail + i;
	if (hit) {
		start = (size_t)(hit - tail);
		while (start > 0 && tail[start - 1] != '\n')
			start--;
	} else {
		end = n;
		while (end > 0 && tail[end - 1] == '\n')
			end--;
		start = end;
		while (start > 0 && tail[start - 1] != '\n')
			start--;
	}
	end = start;
	while (end < n && tail[end] != '\n')
		end++;
	len = end - start < size - 1 ? end - start : size - 1;
	memcpy(buf, tail + start, len);
	buf[len] = 0;
	return len;
}
