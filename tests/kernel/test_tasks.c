// SPDX-License-Identifier: GPL-2.0
/*
 * The task API a job server needs: a task cloned from another host task
 * (fork: copies of its fd table and cwd; thread: shared), the close-on-exec
 * step of an execve, a user-memory window that confines a task's pointers,
 * and a task blocked in a call ended by SIGKILL from another thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/kernel/kboot.h"

/* A booted kernel with /tmp. */
static void kboot_tmp(void)
{
	kboot();
	SYS_OK(skl_sys_mkdirat(SKL_AT_FDCWD, "/tmp", 01777));
}

/* A thread that owns a task and runs steps it is handed, one at a time. */
struct driver {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	long (*step)(struct driver *d);
	long result;
	bool busy, quit;
	long tid;
	unsigned long flags;
	long parent;
	long fd;
};

static void *driver_run(void *arg)
{
	struct driver *d = arg;

	d->tid = d->parent ? skl_thread_new_task_from(d->flags, d->parent)
			   : skl_thread_new_task(d->flags);
	pthread_mutex_lock(&d->lock);
	d->busy = false;
	pthread_cond_broadcast(&d->cond);
	while (!d->quit) {
		if (!d->step) {
			pthread_cond_wait(&d->cond, &d->lock);
			continue;
		}
		pthread_mutex_unlock(&d->lock);
		d->result = d->step(d);
		pthread_mutex_lock(&d->lock);
		d->step = NULL;
		d->busy = false;
		pthread_cond_broadcast(&d->cond);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

static void driver_start(struct driver *d, unsigned long flags, long parent)
{
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	d->flags = flags;
	d->parent = parent;
	d->busy = true;
	CHECK_EQ_INT(pthread_create(&d->thread, NULL, driver_run, d), 0);
	pthread_mutex_lock(&d->lock);
	while (d->busy)
		pthread_cond_wait(&d->cond, &d->lock);
	pthread_mutex_unlock(&d->lock);
	if (d->tid <= 0)
		FAIL("new task: %ld", d->tid);
}

static long driver_do(struct driver *d, long (*step)(struct driver *d))
{
	pthread_mutex_lock(&d->lock);
	d->step = step;
	d->busy = true;
	pthread_cond_broadcast(&d->cond);
	while (d->busy)
		pthread_cond_wait(&d->cond, &d->lock);
	pthread_mutex_unlock(&d->lock);
	return d->result;
}

static void driver_stop(struct driver *d)
{
	pthread_mutex_lock(&d->lock);
	d->quit = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
}

static long open_passwd(struct driver *d)
{
	long fd = skl_sys_openat(SKL_AT_FDCWD, "/tmp/a", SKL_O_CREAT | SKL_O_RDWR, 0600);

	d->fd = fd;
	return fd;
}

static long open_cloexec(struct driver *d)
{
	(void)d;
	return skl_sys_openat(SKL_AT_FDCWD, "/tmp/b", SKL_O_CREAT | SKL_O_RDWR | SKL_O_CLOEXEC,
			      0600);
}

static long chdir_tmp(struct driver *d)
{
	(void)d;
	return skl_sys_chdir("/tmp");
}

static long cwd_is_tmp(struct driver *d)
{
	(void)d;
	char buf[64];
	long n = skl_sys_getcwd(buf, sizeof(buf));

	return n > 0 && strcmp(buf, "/tmp") == 0;
}

/* 1 if fd d->fd is open in the calling task, 0 if not. */
static long fd_open(struct driver *d)
{
	return skl_sys_fcntl((unsigned int)d->fd, SKL_F_GETFD, 0) >= 0;
}

static long close_fd(struct driver *d)
{
	return skl_sys_close((unsigned int)d->fd);
}

static long exec_step(struct driver *d)
{
	(void)d;
	return skl_task_exec();
}

static long getpid_step(struct driver *d)
{
	(void)d;
	return skl_sys_getpid();
}

static long gettid_step(struct driver *d)
{
	(void)d;
	return skl_sys_gettid();
}

/* fork: the child sees the parent's fds and cwd as they were, then they part. */
TEST(new_task_from_is_a_fork)
{
	struct driver parent, child;
	long fd;

	kboot_tmp();
	driver_start(&parent, SKL_TASK_NEW_PROCESS, 0);
	fd = driver_do(&parent, open_passwd);
	CHECK(fd >= 0);
	CHECK_EQ_INT(driver_do(&parent, chdir_tmp), 0);

	driver_start(&child, SKL_TASK_NEW_PROCESS, parent.tid);
	child.fd = fd;
	CHECK(driver_do(&child, getpid_step) != driver_do(&parent, getpid_step));
	CHECK_EQ_INT(driver_do(&child, fd_open), 1);
	CHECK_EQ_INT(driver_do(&child, cwd_is_tmp), 1);
	CHECK_EQ_INT(driver_do(&child, close_fd), 0);
	CHECK_EQ_INT(driver_do(&child, fd_open), 0);
	CHECK_EQ_INT(driver_do(&parent, fd_open), 1);
	driver_stop(&child);
	driver_stop(&parent);
	CHECK_EQ_INT(skl_halt(), 0);
}

/* thread: same process, one fd table. */
TEST(new_task_from_thread_shares_files)
{
	struct driver parent, thread;

	kboot_tmp();
	driver_start(&parent, SKL_TASK_NEW_PROCESS, 0);
	driver_start(&thread, 0, parent.tid);
	CHECK_EQ_INT(driver_do(&thread, getpid_step), driver_do(&parent, getpid_step));
	CHECK(driver_do(&thread, gettid_step) != driver_do(&parent, gettid_step));
	CHECK(driver_do(&thread, open_passwd) >= 0);
	parent.fd = thread.fd;
	CHECK_EQ_INT(driver_do(&parent, fd_open), 1);
	driver_stop(&thread);
	driver_stop(&parent);
	CHECK_EQ_INT(skl_halt(), 0);
}

static void *refusals(void *arg)
{
	long *r = arg;

	r[0] = skl_thread_new_task_from(SKL_TASK_NEW_PROCESS, 999999);
	r[1] = skl_thread_new_task_from(SKL_TASK_NEW_PROCESS, 0);
	r[2] = skl_thread_new_task_from(4, 1);
	/* a kernel thread (kthreadd, pid 2) is no host task */
	r[3] = skl_thread_new_task_from(SKL_TASK_NEW_PROCESS, 2);
	/* a thread that has a task cannot take another */
	r[4] = skl_sys_getpid();
	r[5] = skl_thread_new_task_from(SKL_TASK_NEW_PROCESS, 1);
	return NULL;
}

TEST(new_task_from_refuses_bad_parents)
{
	long r[6];
	pthread_t t;

	kboot();
	CHECK_EQ_INT(pthread_create(&t, NULL, refusals, r), 0);
	pthread_join(t, NULL);
	CHECK_EQ_INT(r[0], -ESRCH);
	CHECK_EQ_INT(r[1], -ESRCH);
	CHECK_EQ_INT(r[2], -EINVAL);
	CHECK_EQ_INT(r[3], -EINVAL);
	CHECK_EQ_INT(r[4], 1);
	CHECK_EQ_INT(r[5], -EBUSY);
	CHECK_EQ_INT(skl_halt(), 0);
}

/* exec: close-on-exec fds go, the others stay. */
TEST(task_exec_closes_cloexec_fds)
{
	struct driver d;
	long keep, gone;

	kboot_tmp();
	driver_start(&d, SKL_TASK_NEW_PROCESS, 0);
	keep = driver_do(&d, open_passwd);
	gone = driver_do(&d, open_cloexec);
	CHECK(keep >= 0 && gone >= 0);
	CHECK_EQ_INT(driver_do(&d, exec_step), 0);
	d.fd = keep;
	CHECK_EQ_INT(driver_do(&d, fd_open), 1);
	d.fd = gone;
	CHECK_EQ_INT(driver_do(&d, fd_open), 0);
	driver_stop(&d);
	CHECK_EQ_INT(skl_halt(), 0);
}

static char window[8192] __attribute__((aligned(4096)));
static char outside[64];

/* A confined task: pointers inside its window work, others are -EFAULT. */
static long window_step(struct driver *d)
{
	(void)d;
	long fd, ok = 1;

	if (skl_task_set_user_window((unsigned long)window, (unsigned long)window + 4096))
		return -1;
	strcpy(window, "/tmp/w");
	fd = skl_sys_openat(SKL_AT_FDCWD, window, SKL_O_CREAT | SKL_O_RDWR, 0600);
	if (fd < 0)
		return -2;
	ok &= skl_sys_write((unsigned int)fd, window + 100, 10) == 10;
	ok &= skl_sys_write((unsigned int)fd, outside, 10) == -EFAULT;
	/* a buffer that starts inside and ends outside */
	ok &= skl_sys_write((unsigned int)fd, window + 4090, 10) == -EFAULT;
	ok &= skl_sys_pread64((unsigned int)fd, outside, 10, 0) == -EFAULT;
	ok &= skl_sys_pread64((unsigned int)fd, window + 200, 10, 0) == 10;
	ok &= skl_sys_openat(SKL_AT_FDCWD, "/tmp/w", SKL_O_RDONLY, 0) == -EFAULT;
	ok &= skl_sys_openat(SKL_AT_FDCWD, NULL, SKL_O_RDONLY, 0) == -EFAULT;
	/* a path running past the window's end is no path */
	memset(window + 4000, 'a', 96);
	ok &= skl_sys_openat(SKL_AT_FDCWD, window + 4000, SKL_O_RDONLY, 0) == -EFAULT;
	skl_sys_close((unsigned int)fd);
	return ok;
}

TEST(user_window_confines_pointers)
{
	struct driver d, other;

	kboot_tmp();
	driver_start(&d, SKL_TASK_NEW_PROCESS, 0);
	CHECK_EQ_INT(driver_do(&d, window_step), 1);
	/* another task is not confined by it */
	driver_start(&other, SKL_TASK_NEW_PROCESS, 0);
	CHECK(driver_do(&other, open_passwd) >= 0);
	driver_stop(&other);
	/* a task cloned from a confined one starts confined the same way */
	driver_start(&other, SKL_TASK_NEW_PROCESS, d.tid);
	CHECK_EQ_INT(driver_do(&other, open_passwd), -EFAULT);
	driver_stop(&other);
	driver_stop(&d);
	CHECK_EQ_INT(skl_halt(), 0);
	CHECK_EQ_INT(skl_task_set_user_window(2, 1), -EINVAL);
}

static int pipe_fds[2];

static long read_blocks(struct driver *d)
{
	(void)d;
	char c;

	return skl_sys_read((unsigned int)pipe_fds[0], &c, 1);
}

static long exit_step(struct driver *d)
{
	(void)d;
	return skl_thread_exit_task();
}

/* A task blocked in read is ended by SIGKILL sent from a host0 thread. */
TEST_TIMEOUT(sigkill_ends_a_blocked_task, 30)
{
	struct driver d;
	long tid;
	int i;

	kboot_tmp();
	SYS_OK(skl_sys_pipe2(pipe_fds, 0));
	driver_start(&d, SKL_TASK_NEW_PROCESS, 0);
	tid = d.tid;
	pthread_mutex_lock(&d.lock);
	d.step = read_blocks;
	d.busy = true;
	pthread_cond_broadcast(&d.cond);
	pthread_mutex_unlock(&d.lock);
	ksleep_ms(50);
	CHECK(d.busy);
	SYS_OK(skl_sys_kill((int)tid, SKL_SIGKILL));
	pthread_mutex_lock(&d.lock);
	while (d.busy)
		pthread_cond_wait(&d.cond, &d.lock);
	pthread_mutex_unlock(&d.lock);
	CHECK(d.result == -SKL_EINTR || d.result < 0);
	CHECK_EQ_INT(driver_do(&d, exit_step), 0);
	driver_stop(&d);
	/* the task is gone */
	for (i = 0; i < 100 && skl_sys_kill((int)tid, 0) == 0; i++)
		ksleep_ms(1);
	CHECK_EQ_INT(skl_sys_kill((int)tid, 0), -SKL_ESRCH);
	CHECK_EQ_INT(skl_halt(), 0);
}

static long pipe_step(struct driver *d)
{
	(void)d;
	return skl_sys_pipe2(pipe_fds, 0);
}

static long close_write_end_and_poll(struct driver *d)
{
	struct skl_pollfd p = { .fd = pipe_fds[0], .events = SKL_POLLIN };

	(void)d;
	skl_sys_close((unsigned int)pipe_fds[1]);
	return skl_sys_ppoll(&p, 1, NULL, NULL, 0);
}

/*
 * A child's exit wakes its parent, blocked in a call (the child held the
 * last write end of a pipe the parent polls); the parent then forks again.
 */
TEST_TIMEOUT(exit_that_wakes_a_task_then_fork_again, 30)
{
	struct driver a, b;
	int round;

	kboot_tmp();
	driver_start(&a, SKL_TASK_NEW_PROCESS, 0);
	for (round = 0; round < 3; round++) {
		CHECK_EQ_INT(driver_do(&a, pipe_step), 0);
		driver_start(&b, SKL_TASK_NEW_PROCESS, a.tid);
		/* a waits for b's copy of the write end to go */
		pthread_mutex_lock(&a.lock);
		a.step = close_write_end_and_poll;
		a.busy = true;
		pthread_cond_broadcast(&a.cond);
		pthread_mutex_unlock(&a.lock);
		ksleep_ms(20);
		CHECK_EQ_INT(driver_do(&b, exit_step), 0);
		driver_stop(&b);
		pthread_mutex_lock(&a.lock);
		while (a.busy)
			pthread_cond_wait(&a.cond, &a.lock);
		pthread_mutex_unlock(&a.lock);
		CHECK_EQ_INT(a.result, 1);
		a.fd = pipe_fds[0];
		CHECK_EQ_INT(driver_do(&a, close_fd), 0);
	}
	driver_stop(&a);
	CHECK_EQ_INT(skl_halt(), 0);
}
