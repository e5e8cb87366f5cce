/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Scope-bound cleanup for function-local resources, with GCC/Clang's cleanup
 * attribute: a local declared `_cleanup_free_ char *buf = NULL;` is freed on
 * every return path, so error paths cannot leak it. Ownership leaves the scope
 * only explicitly, through steal_pointer() / steal_fd(), which hand the value
 * over and leave NULL / -1 behind for the cleanup to ignore. Never put these on
 * anything holding a libuv handle: its close is asynchronous and its memory may
 * only go in the close callback. The cleanups preserve errno, so a function can
 * set errno and return while its locals are released.
 */
#ifndef SHOAL_API_CLEANUP_H
#define SHOAL_API_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void shoal_cleanup_free(void *p)
{
	int saved_errno = errno;

	free(*(void **)p);
	errno = saved_errno;
}

static inline void shoal_cleanup_close(int *fd)
{
	int saved_errno = errno;

	if (*fd >= 0)
		close(*fd);
	errno = saved_errno;
}

static inline void shoal_cleanup_fclose(FILE **f)
{
	int saved_errno = errno;

	if (*f)
		fclose(*f);
	errno = saved_errno;
}

/* Any pointer from malloc() and friends; must be initialised (NULL is fine). */
#define _cleanup_free_ __attribute__((cleanup(shoal_cleanup_free)))
/* An int file descriptor; -1 (any negative value) means "nothing to close". */
#define _cleanup_close_ __attribute__((cleanup(shoal_cleanup_close)))
/* A FILE *; NULL means "nothing to close". Unflushed data is flushed by fclose. */
#define _cleanup_fclose_ __attribute__((cleanup(shoal_cleanup_fclose)))

/* Take the pointer out of *@pp, leaving NULL, so the cleanup will not free it. */
#define steal_pointer(pp)                                \
	({                                               \
		__typeof__(*(pp)) shoal__stolen = *(pp); \
		*(pp) = NULL;                            \
		shoal__stolen;                           \
	})

/* Take the descriptor out of *@fdp, leaving -1, so the cleanup will not close it. */
#define steal_fd(fdp)                          \
	({                                     \
		int shoal__stolen_fd = *(fdp); \
		*(fdp) = -1;                   \
		shoal__stolen_fd;              \
	})

#endif /* SHOAL_API_CLEANUP_H */
