// SPDX-License-Identifier: GPL-2.0
/*
 * Pipes, epoll and eventfd inside the library kernel, including a reader
 * blocked in one host thread woken by a writer in another.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "tests/kernel/kboot.h"

TEST(pipe_round_trip)
{
	int fds[2];
	char buf[16];

	kboot();
	SYS_OK(skl_sys_pipe2(fds, 0));
	CHECK_EQ_INT(skl_sys_write((unsigned int)fds[1], "ping", 4), 4);
	CHECK_EQ_INT(skl_sys_read((unsigned int)fds[0], buf, sizeof(buf)), 4);
	CHECK(memcmp(buf, "ping", 4) == 0);
	/* A non-blocking read of an empty pipe says so. */
	SYS_OK(skl_sys_close((unsigned int)fds[0]));
	SYS_OK(skl_sys_close((unsigned int)fds[1]));
	SYS_OK(skl_sys_pipe2(fds, SKL_O_NONBLOCK));
	CHECK_EQ_INT(skl_sys_read((unsigned int)fds[0], buf, sizeof(buf)), -EAGAIN);
	/* Writing after the reader closed is EPIPE (and no signal escapes). */
	SYS_OK(skl_sys_close((unsigned int)fds[0]));
	CHECK_EQ_INT(skl_sys_write((unsigned int)fds[1], "x", 1), -EPIPE);
	CHECK_EQ_INT(skl_halt(), 0);
}

struct pipe_peer {
	int fd;
	long result;
	char buf[64];
};

static void *blocked_reader(void *arg)
{
	struct pipe_peer *p = arg;

	p->result = skl_sys_read((unsigned int)p->fd, p->buf, sizeof(p->buf));
	return NULL;
}

TEST(blocked_read_woken_by_other_thread)
{
	struct pipe_peer peer = { 0 };
	pthread_t t;
	int fds[2];

	kboot();
	SYS_OK(skl_sys_pipe2(fds, 0));
	peer.fd = fds[0];
	CHECK_EQ_INT(pthread_create(&t, NULL, blocked_reader, &peer), 0);
	ksleep_ms(50); /* let it block; the test holds either way */
	CHECK_EQ_INT(skl_sys_write((unsigned int)fds[1], "wake up", 7), 7);
	CHECK_EQ_INT(pthread_join(t, NULL), 0);
	CHECK_EQ_INT(peer.result, 7);
	CHECK(memcmp(peer.buf, "wake up", 7) == 0);
	CHECK_EQ_INT(skl_halt(), 0);
}

TEST(epoll_and_eventfd)
{
	struct skl_epoll_event ev, out[4];
	unsigned long long value = 0;
	long ep, efd;
	int fds[2];

	kboot();
	ep = SYS_OK(skl_sys_epoll_create1(0));
	efd = SYS_OK(skl_sys_eventfd2(0, SKL_EFD_NONBLOCK));
	SYS_OK(skl_sys_pipe2(fds, 0));

	memset(&ev, 0, sizeof(ev));
	ev.events = SKL_EPOLLIN;
	ev.data = 1;
	SYS_OK(skl_sys_epoll_ctl((int)ep, SKL_EPOLL_CTL_ADD, (int)efd, &ev));
	ev.data = 2;
	SYS_OK(skl_sys_epoll_ctl((int)ep, SKL_EPOLL_CTL_ADD, fds[0], &ev));

	/* Nothing ready: a zero timeout returns 0 at once. */
	CHECK_EQ_INT(skl_sys_epoll_pwait((int)ep, out, 4, 0, NULL, 0), 0);

	value = 5;
	CHECK_EQ_INT(skl_sys_write((unsigned int)efd, (char *)&value, 8), 8);
	CHECK_EQ_INT(skl_sys_epoll_pwait((int)ep, out, 4, 1000, NULL, 0), 1);
	CHECK_EQ_INT(out[0].data, 1);
	CHECK(out[0].events & SKL_EPOLLIN);

	CHECK_EQ_INT(skl_sys_write((unsigned int)fds[1], "z", 1), 1);
	CHECK_EQ_INT(skl_sys_epoll_pwait((int)ep, out, 4, 1000, NULL, 0), 2);

	value = 0;
	CHECK_EQ_INT(skl_sys_read((unsigned int)efd, (char *)&value, 8), 8);
	CHECK_EQ_INT(value, 5);
	CHECK_EQ_INT(skl_sys_read((unsigned int)efd, (char *)&value, 8), -EAGAIN);
	CHECK_EQ_INT(skl_sys_epoll_pwait((int)ep, out, 4, 0, NULL, 0), 1);
	CHECK_EQ_INT(out[0].data, 2);

	/* Bad input: a write of less than 8 bytes to an eventfd. */
	CHECK_EQ_INT(skl_sys_write((unsigned int)efd, "abc", 3), -EINVAL);
	CHECK_EQ_INT(skl_halt(), 0);
}

/* epoll_wait with a timeout sleeps on the kernel's own timer. */
TEST(epoll_timeout_uses_kernel_timer)
{
	struct skl_epoll_event out[1];
	struct __skl__kernel_timespec a, b;
	long ep, ms;

	kboot();
	ep = SYS_OK(skl_sys_epoll_create1(0));
	SYS_OK(skl_sys_clock_gettime(SKL_CLOCK_MONOTONIC, &a));
	CHECK_EQ_INT(skl_sys_epoll_pwait((int)ep, out, 1, 30, NULL, 0), 0);
	SYS_OK(skl_sys_clock_gettime(SKL_CLOCK_MONOTONIC, &b));
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	CHECK(ms >= 29); /* never early: a lower bound, not a timing assertion */
	CHECK_EQ_INT(skl_halt(), 0);
}
