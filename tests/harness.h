/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small C test harness that speaks the protocol of tests/run-tests (see
 * tests/README.md): `BIN --list` prints one case per line, `BIN CASE` runs that
 * one case in this process and exits 0 (pass), 77 (skip: something it needs is
 * missing) or 1 (fail). Isolation and timeouts are the runner's job: every case
 * gets a fresh process, so a case may crash, leak or leave state behind without
 * touching the next one, and a failed check simply ends the process.
 *
 * Usage: include this header, link tests/harness.c ($(HARNESS_OBJ)), write
 * cases, and do not write main():
 *
 *	TEST(parses_empty_object)
 *	{
 *		CHECK_EQ_INT(codec_parse("{}", &msg, &err), 0);
 *		CHECK_EQ_STR(msg.kind, "none");
 *	}
 *
 *	TEST_TIMEOUT(boots_hundred_times, 300) { ... }   // asks the runner for 300 s
 *
 * Case names are C identifiers, unique within one executable; --list prints
 * them in the order they are defined.
 */
#ifndef SHOAL_TESTS_HARNESS_H
#define SHOAL_TESTS_HARNESS_H

#include <stddef.h>

struct harness_case {
	const char *name;
	void (*fn)(void);
	unsigned int timeout; /* seconds the case may need; 0: the runner's default */
	const char *file;
	int line;
	struct harness_case *next;
};

/* Called by the constructors TEST() generates; not for direct use. */
void harness_register(struct harness_case *c);

/*
 * End the running case. harness_fail() prints "file:line: message" to stderr
 * and exits 1; harness_skip() prints the reason alone (the runner shows the last
 * line of output as the skip reason) and exits 77. Both flush stdio first and
 * exit with _exit(), so no atexit handler or leak check reports on a case that
 * already failed.
 */
void harness_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
void harness_skip(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));

/* Failure message of CHECK_EQ_STR: both values shown C-escaped, NULL as NULL. */
void harness_fail_str(const char *file, int line, const char *expr_a, const char *expr_b,
		      const char *a, const char *b) __attribute__((noreturn));

/* Define a case that the runner gives @secs seconds instead of its default. */
#define TEST_TIMEOUT(id, secs)                                               \
	static void harness_fn_##id(void);                                   \
	static struct harness_case harness_case_##id = {                     \
		.name = #id,                                                 \
		.fn = harness_fn_##id,                                       \
		.timeout = (secs),                                           \
		.file = __FILE__,                                            \
		.line = __LINE__,                                            \
	};                                                                   \
	__attribute__((constructor)) static void harness_register_##id(void) \
	{                                                                    \
		harness_register(&harness_case_##id);                        \
	}                                                                    \
	static void harness_fn_##id(void)

/* Define a case with the runner's default timeout. */
#define TEST(id) TEST_TIMEOUT(id, 0)

/* Fail the case unless @cond holds; the message shows the condition's text. */
#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond))                                                         \
			harness_fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond); \
	} while (0)

/* Fail unless the integers @a and @b (compared as long long) are equal; shows both. */
#define CHECK_EQ_INT(a, b)                                                                \
	do {                                                                              \
		long long harness_a_ = (long long)(a);                                    \
		long long harness_b_ = (long long)(b);                                    \
		if (harness_a_ != harness_b_)                                             \
			harness_fail(__FILE__, __LINE__,                                  \
				     "CHECK_EQ_INT(%s, %s) failed: %lld != %lld", #a, #b, \
				     harness_a_, harness_b_);                             \
	} while (0)

/* Fail if the integers @a and @b (compared as long long) are equal. */
#define CHECK_NE_INT(a, b)                                                                         \
	do {                                                                                       \
		long long harness_a_ = (long long)(a);                                             \
		long long harness_b_ = (long long)(b);                                             \
		if (harness_a_ == harness_b_)                                                      \
			harness_fail(__FILE__, __LINE__, "CHECK_NE_INT(%s, %s) failed: both %lld", \
				     #a, #b, harness_a_);                                          \
	} while (0)

/* Fail unless the strings @a and @b are equal (two NULLs are equal); shows both. */
#define CHECK_EQ_STR(a, b)                                                                      \
	do {                                                                                    \
		const char *harness_sa_ = (a);                                                  \
		const char *harness_sb_ = (b);                                                  \
		if (!harness_str_equal(harness_sa_, harness_sb_))                               \
			harness_fail_str(__FILE__, __LINE__, #a, #b, harness_sa_, harness_sb_); \
	} while (0)

/* Fail the case with a printf-style message. */
#define FAIL(...) harness_fail(__FILE__, __LINE__, __VA_ARGS__)

/* Skip the case (exit 77), saying in a printf-style message what is missing. */
#define SKIP(...) harness_skip(__FILE__, __LINE__, __VA_ARGS__)

/* String equality where NULL equals only NULL; used by CHECK_EQ_STR. */
int harness_str_equal(const char *a, const char *b);

#endif /* SHOAL_TESTS_HARNESS_H */
