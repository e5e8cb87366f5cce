/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shoal's error convention, shared by the daemon, the instance and the clients.
 * A fallible function returns 0 on success or a negative errno value on failure,
 * and takes a `struct shoal_error *` as its last parameter. The first function
 * that sees the failure fills the error object with the errno value and a
 * message saying what failed and with which value; callers further up only pass
 * the negative value on, so the message a user finally sees names the root
 * cause instead of the last wrapper. Only the edges (an HTTP answer, a log line,
 * a CLI exit) read the object, which they create zeroed:
 * `struct shoal_error err = { 0 };`.
 */
#ifndef SHOAL_API_ERROR_H
#define SHOAL_API_ERROR_H

#include <stdbool.h>

/* Room for one message, including its NUL; longer messages are cut. */
#define SHOAL_ERROR_MSG_MAX 512

struct shoal_error {
	int err; /* positive errno value; 0 while unset */
	char msg[SHOAL_ERROR_MSG_MAX]; /* "what failed: strerror(err)", NUL-terminated */
};

/*
 * shoal_error_set() - record a failure in @e unless @e already holds one.
 * @e:      error object owned by the caller; may be NULL (the caller does not
 *          want the message, only the return value).
 * @errnum: the errno value of the failure, positive or negative (so a callee's
 *          -errno return can be passed straight in). 0 means "no system cause"
 *          (bad input, protocol violation): the message gets no errno text and
 *          the error is recorded as EINVAL.
 * @fmt:    printf format of the message; ": <strerror(errnum)>" is appended
 *          when @errnum is not 0. The result is cut to SHOAL_ERROR_MSG_MAX - 1
 *          bytes.
 *
 * The first setter wins: once @e holds an error, later calls change nothing.
 * Returns the negative errno value now held by @e (the earlier one if @e was
 * already set), so `return shoal_error_set(e, errno, "open %s", path);` keeps
 * the returned code and the kept message in agreement. errno is preserved.
 * Thread-safe as long as each thread uses its own @e.
 */
int shoal_error_set(struct shoal_error *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* shoal_error_is_set() - true once @e holds an error. */
bool shoal_error_is_set(const struct shoal_error *e);

/* shoal_error_clear() - forget the error in @e so it can be reused. */
void shoal_error_clear(struct shoal_error *e);

#endif /* SHOAL_API_ERROR_H */
