// SPDX-License-Identifier: GPL-2.0
/*
 * The set-once error object described in error.h. Formatting happens here and
 * nowhere else so that every message in Shoal has the same shape, "what failed:
 * why", and so that truncation and errno handling are decided in one place.
 */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Append ": <strerror(errnum)>" after the first @len bytes of @e->msg, cut to fit. */
static void error_append_errno(struct shoal_error *e, size_t len, int errnum)
{
	char buf[128];
	/* GNU strerror_r: returns a pointer to the text, which may not be @buf. */
	const char *text = strerror_r(errnum, buf, sizeof(buf));

	if (len >= sizeof(e->msg) - 1)
		return;
	snprintf(e->msg + len, sizeof(e->msg) - len, ": %s", text);
}

int shoal_error_set(struct shoal_error *e, int errnum, const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;
	int n;

	if (errnum < 0)
		errnum = -errnum;
	if (!e)
		return errnum ? -errnum : -EINVAL;
	if (e->err)
		return -e->err;

	va_start(ap, fmt);
	n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (n < 0) {
		/* Only an invalid format gets here; keep the failure, lose the text. */
		snprintf(e->msg, sizeof(e->msg), "(unformattable error message)");
		n = (int)strlen(e->msg);
	}
	if (errnum)
		error_append_errno(e, (size_t)n, errnum);
	e->err = errnum ? errnum : EINVAL;

	errno = saved_errno;
	return -e->err;
}

bool shoal_error_is_set(const struct shoal_error *e)
{
	return e && e->err != 0;
}

void shoal_error_clear(struct shoal_error *e)
{
	if (!e)
		return;
	e->err = 0;
	e->msg[0] = '\0';
}
