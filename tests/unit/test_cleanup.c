// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of api/cleanup.h: descriptors, FILE streams and heap memory are
 * released when their scope ends, stolen values survive the scope, and the
 * cleanups keep errno, so a function can set errno and then return. Memory is
 * measured with the allocator's own counters (ASan's when it is in use).
 */
#include "api/cleanup.h"
#include "tests/harness.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <string.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
/* Exported by ASan's runtime; GCC ships no header for it (LLVM's allocator_interface.h). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

/* Bytes currently allocated from the heap by this process. */
static size_t heap_in_use(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return __sanitizer_get_current_allocated_bytes();
#else
	return mallinfo2().uordblks;
#endif
}

static int fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

TEST(close_runs_at_scope_exit)
{
	int seen;

	{
		_cleanup_close_ int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		CHECK(fd >= 0);
		CHECK(fd_is_open(fd));
		seen = fd;
	}
	errno = 0;
	CHECK(!fd_is_open(seen));
	CHECK_EQ_INT(errno, EBADF);
}

TEST(steal_fd_keeps_descriptor_open)
{
	int kept;

	{
		_cleanup_close_ int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		CHECK(fd >= 0);
		kept = steal_fd(&fd);
		CHECK_EQ_INT(fd, -1);
	}
	CHECK(fd_is_open(kept));
	CHECK_EQ_INT(close(kept), 0);
}

TEST(fclose_flushes_and_closes_at_scope_exit)
{
	char buf[16];
	int p[2];

	CHECK_EQ_INT(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	{
		_cleanup_fclose_ FILE *f = fdopen(p[1], "w");

		CHECK(f != NULL);
		/* Stays in stdio's buffer until fclose flushes it. */
		CHECK(fputs("hello", f) >= 0);
	}
	CHECK_EQ_INT(read(p[0], buf, sizeof(buf)), 5);
	CHECK_EQ_INT(memcmp(buf, "hello", 5), 0);
	/* EOF, not EAGAIN: the write end really is closed. */
	CHECK_EQ_INT(read(p[0], buf, sizeof(buf)), 0);
	close(p[0]);
}

TEST(free_runs_at_scope_exit)
{
	size_t before = heap_in_use();

	{
		_cleanup_free_ char *p = malloc(100000);

		CHECK(p != NULL);
		memset(p, 1, 100000);
		CHECK(heap_in_use() >= before + 100000);
	}
	CHECK(heap_in_use() < before + 100000);
}

TEST(steal_pointer_transfers_ownership)
{
	size_t before = heap_in_use();
	char *kept;

	{
		_cleanup_free_ char *p = malloc(100000);

		CHECK(p != NULL);
		strcpy(p, "still here");
		kept = steal_pointer(&p);
		CHECK(p == NULL);
	}
	CHECK(heap_in_use() >= before + 100000);
	CHECK_EQ_STR(kept, "still here");
	free(kept);
}

TEST(null_and_negative_values_are_left_alone)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	CHECK(fd >= 0);
	{
		_cleanup_free_ char *p = NULL;
		_cleanup_close_ int none = -1;
		_cleanup_fclose_ FILE *f = NULL;

		(void)p;
		(void)none;
		(void)f;
	}
	CHECK(fd_is_open(fd));
	close(fd);
}

/* Sets errno and returns while a failing close (EBADF) runs in its cleanup. */
static int fail_with_enoent(void)
{
	_cleanup_close_ int bad = 1000;
	_cleanup_free_ char *p = malloc(16);
	_cleanup_fclose_ FILE *f = fopen("/dev/null", "r");

	(void)bad;
	(void)p;
	(void)f;
	errno = ENOENT;
	return -1;
}

TEST(cleanups_preserve_errno)
{
	CHECK(!fd_is_open(1000));
	CHECK_EQ_INT(fail_with_enoent(), -1);
	CHECK_EQ_INT(errno, ENOENT);
}
