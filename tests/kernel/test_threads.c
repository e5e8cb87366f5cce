// SPDX-License-Identifier: GPL-2.0
/*
 * Many host threads in one library kernel: each gets its own task, they run
 * system calls concurrently without errors or deadlock, tasks of exited
 * threads go away, and a halt does not hang on a thread blocked in accept.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/kernel/knet.h"

enum { THREADS = 8, CALLS = 10000 };

struct worker {
	int index;
	long errors;
	long tid;
	int fds[2];
};

/* Each thread: its own pipe, then CALLS system calls of a few kinds. */
static void *worker_run(void *arg)
{
	struct worker *w = arg;
	char out[32], in[32];
	int i;

	w->tid = skl_sys_gettid();
	if (skl_sys_pipe2(w->fds, 0) < 0) {
		w->errors++;
		return NULL;
	}
	for (i = 0; i < CALLS; i += 3) {
		int len = snprintf(out, sizeof(out), "%d:%d", w->index, i);

		if (skl_sys_write((unsigned int)w->fds[1], out, (size_t)len) != len)
			w->errors++;
		if (skl_sys_read((unsigned int)w->fds[0], in, sizeof(in)) != len ||
		    memcmp(in, out, (size_t)len))
			w->errors++;
		if (skl_sys_gettid() != w->tid)
			w->errors++;
	}
	skl_sys_close((unsigned int)w->fds[0]);
	skl_sys_close((unsigned int)w->fds[1]);
	return NULL;
}

/* Entries in /proc/1/task: the tasks of process 1 alive in the kernel. */
static int count_tasks(void)
{
	char buf[4096];
	long fd = SYS_OK(skl_sys_openat(SKL_AT_FDCWD, "/proc/1/task", SKL_O_RDONLY, 0));
	int count = 0;
	long n;

	while ((n = SYS_OK(skl_sys_getdents64((unsigned int)fd, (void *)buf, sizeof(buf)))) > 0) {
		long off = 0;

		while (off < n) {
			struct skl_linux_dirent64 *d = (void *)(buf + off);

			if (d->d_name[0] != '.')
				count++;
			off += d->d_reclen;
		}
	}
	skl_sys_close((unsigned int)fd);
	return count;
}

TEST_TIMEOUT(eight_threads_ten_thousand_calls, 180)
{
	struct worker w[THREADS];
	pthread_t t[THREADS];
	int i, j, before, after;

	kboot();
	SYS_OK(skl_sys_mkdirat(SKL_AT_FDCWD, "/proc", 0555));
	SYS_OK(skl_sys_mount((char *)"proc", (char *)"/proc", (char *)"proc", 0, NULL));
	before = count_tasks();

	memset(w, 0, sizeof(w));
	for (i = 0; i < THREADS; i++) {
		w[i].index = i;
		CHECK_EQ_INT(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		CHECK_EQ_INT(pthread_join(t[i], NULL), 0);
	for (i = 0; i < THREADS; i++) {
		CHECK_EQ_INT(w[i].errors, 0);
		CHECK(w[i].tid > 1);
		for (j = 0; j < i; j++)
			CHECK(w[i].tid != w[j].tid); /* a task of its own each */
	}
	/* The threads exited: their tasks are gone too. */
	after = count_tasks();
	CHECK_EQ_INT(after, before);
	CHECK_EQ_INT(skl_halt(), 0);
}

TEST(new_process_task_has_own_fd_table)
{
	long pid, fd;
	int fds[2];

	kboot();
	SYS_OK(skl_sys_pipe2(fds, 0));
	/* This thread already has a task: asking again is refused. */
	CHECK_EQ_INT(skl_thread_new_task(0), -EBUSY);
	CHECK_EQ_INT(skl_thread_exit_task(), 0);
	pid = SYS_OK(skl_thread_new_task(SKL_TASK_NEW_PROCESS));
	CHECK(pid > 1);
	CHECK_EQ_INT(skl_sys_getpid(), pid);
	/* A copy of host0's fd table: the pipe is there, and closing it here
	 * leaves host0's copy alone. */
	fd = fds[0];
	SYS_OK(skl_sys_close((unsigned int)fd));
	CHECK_EQ_INT(skl_sys_close((unsigned int)fd), -EBADF);
	CHECK_EQ_INT(skl_thread_exit_task(), 0);
	CHECK_EQ_INT(skl_thread_exit_task(), -ENOENT);
	/* Back to a thread of process 1, which still has the pipe. */
	CHECK_EQ_INT(skl_sys_getpid(), 1);
	SYS_OK(skl_sys_close((unsigned int)fd));
	CHECK_EQ_INT(skl_thread_new_task(7), -EINVAL);
	CHECK_EQ_INT(skl_halt(), 0);
}

struct acceptor {
	long listen_fd;
	long result;
	int entered;
};

static void *acceptor_run(void *arg)
{
	struct acceptor *a = arg;

	__atomic_store_n(&a->entered, 1, __ATOMIC_RELEASE);
	a->result = skl_sys_accept4((int)a->listen_fd, NULL, NULL, 0);
	return NULL;
}

TEST(halt_with_thread_blocked_in_accept)
{
	struct acceptor a = { .result = 1 };
	struct skl_sockaddr_in addr;
	pthread_t t;

	kboot();
	knet_lo_up();
	a.listen_fd = SYS_OK(skl_sys_socket(SKL_AF_INET, SKL_SOCK_STREAM, 0));
	addr = knet_addr(5010);
	SYS_OK(skl_sys_bind((int)a.listen_fd, (void *)&addr, sizeof(addr)));
	SYS_OK(skl_sys_listen((int)a.listen_fd, 1));
	CHECK_EQ_INT(pthread_create(&t, NULL, acceptor_run, &a), 0);
	while (!__atomic_load_n(&a.entered, __ATOMIC_ACQUIRE))
		ksleep_ms(1);
	ksleep_ms(50);
	/* The runner's timeout bounds this: a hang fails the case. */
	CHECK_EQ_INT(skl_halt(), 0);
	CHECK_EQ_INT(pthread_join(t, NULL), 0);
	CHECK_EQ_INT(a.result, -ENODEV);
}
