// SPDX-License-Identifier: GPL-2.0
/*
 * The runtime half of tests/harness.h: the registry that TEST() fills through
 * constructors, the failure and skip exits, and main(), which implements the
 * runner protocol (--list, or one case by name). Kept free of any Shoal code so
 * that unit, kernel and end-to-end tests can all link it.
 */
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Cases in definition order: constructors run in .init_array order, we append. */
static struct harness_case *harness_first;
static struct harness_case **harness_tail = &harness_first;

void harness_register(struct harness_case *c)
{
	c->next = NULL;
	*harness_tail = c;
	harness_tail = &c->next;
}

__attribute__((noreturn)) static void harness_exit(int status)
{
	fflush(NULL);
	_exit(status);
}

void harness_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	harness_exit(1);
}

void harness_skip(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (%s:%d)\n", file, line);
	harness_exit(77);
}

int harness_str_equal(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Print @s as a C string literal, so that newlines and control bytes show. */
static void harness_print_quoted(FILE *out, const char *s)
{
	if (!s) {
		fputs("NULL", out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void harness_fail_str(const char *file, int line, const char *expr_a, const char *expr_b,
		      const char *a, const char *b)
{
	fflush(stdout);
	fprintf(stderr, "%s:%d: CHECK_EQ_STR(%s, %s) failed:\n  left:  ", file, line, expr_a,
		expr_b);
	harness_print_quoted(stderr, a);
	fputs("\n  right: ", stderr);
	harness_print_quoted(stderr, b);
	fputc('\n', stderr);
	harness_exit(1);
}

static struct harness_case *harness_find(const char *name)
{
	struct harness_case *c;

	for (c = harness_first; c; c = c->next) {
		if (strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

/* Two cases with one name (possible across files) would make one unreachable. */
static int harness_check_unique(void)
{
	struct harness_case *c, *d;

	for (c = harness_first; c; c = c->next) {
		for (d = c->next; d; d = d->next) {
			if (strcmp(c->name, d->name) == 0) {
				fprintf(stderr, "duplicate test case '%s' (%s:%d and %s:%d)\n",
					c->name, c->file, c->line, d->file, d->line);
				return -1;
			}
		}
	}
	return 0;
}

static int harness_list(void)
{
	struct harness_case *c;

	for (c = harness_first; c; c = c->next) {
		if (c->timeout)
			printf("%s timeout=%u\n", c->name, c->timeout);
		else
			printf("%s\n", c->name);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct harness_case *c;

	/* Line-buffered even into a file: a crash must not eat earlier output. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (harness_check_unique() < 0)
		return 2;
	if (argc == 2 && strcmp(argv[1], "--list") == 0)
		return harness_list();
	if (argc == 2 && argv[1][0] != '-') {
		c = harness_find(argv[1]);
		if (!c) {
			fprintf(stderr, "%s: no test case '%s' (see --list)\n", argv[0], argv[1]);
			return 2;
		}
		c->fn();
		fflush(NULL);
		return 0;
	}
	fprintf(stderr,
		"usage: %s --list | CASE\n"
		"Runs one test case; exit 0 pass, 77 skip, other fail. tests/run-tests runs them "
		"all.\n",
		argv[0]);
	return 2;
}
