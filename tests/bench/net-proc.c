// SPDX-License-Identifier: GPL-2.0
/*
 * Children of net-bench (see net-proc.h): a small registry of pids, bounded
 * waits on pidfds, and the kill-by-pid on the way out. net-bench is
 * single-threaded, so a child may do ordinary work between fork() and exec().
 */
#include "tests/bench/net-proc.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/net-stream.h"

volatile sig_atomic_t net_interrupted;

/* Nodes (up to 6) plus iperf3's two ends plus a command: room to spare. */
#define CHILDREN_MAX 32
static pid_t children[CHILDREN_MAX];
#define CLOSE_MAX 4
static int close_in_children[CLOSE_MAX] = { -1, -1, -1, -1 };

void net_proc_close_in_children(int fd)
{
	int i;

	for (i = 0; i < CLOSE_MAX; i++) {
		if (close_in_children[i] < 0) {
			close_in_children[i] = fd;
			return;
		}
	}
}

static void child_add(pid_t pid)
{
	int i;

	for (i = 0; i < CHILDREN_MAX; i++) {
		if (!children[i]) {
			children[i] = pid;
			return;
		}
	}
}

static void child_forget(pid_t pid)
{
	int i;

	for (i = 0; i < CHILDREN_MAX; i++)
		if (children[i] == pid)
			children[i] = 0;
}

pid_t net_proc_fork(struct shoal_error *err)
{
	pid_t parent = getpid(), pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return shoal_error_set(err, errno, "fork");
	if (pid == 0) {
		int i;

		for (i = 0; i < CLOSE_MAX; i++)
			if (close_in_children[i] >= 0)
				close(close_in_children[i]);
		memset(children, 0, sizeof(children));
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		return 0;
	}
	/* Both sides set the group: whichever runs first wins the race. */
	setpgid(pid, pid);
	child_add(pid);
	return pid;
}

int net_proc_poll_in(int fd, int timeout_ms)
{
	int64_t deadline = net_now_ns() + (int64_t)timeout_ms * 1000000;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - net_now_ns();
		int r;

		if (net_interrupted)
			return -EINTR;
		if (left < 0)
			left = 0;
		r = poll(&pfd, 1, (int)((left + 999999) / 1000000));
		if (r > 0)
			return 1;
		if (r == 0 && left == 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

int net_proc_sleep_ms(int ms)
{
	int64_t deadline = net_now_ns() + (int64_t)ms * 1000000;

	for (;;) {
		int64_t left = deadline - net_now_ns();
		struct timespec ts;

		if (net_interrupted)
			return -EINTR;
		if (left <= 0)
			return 0;
		ts.tv_sec = left / 1000000000;
		ts.tv_nsec = left % 1000000000;
		nanosleep(&ts, NULL);
	}
}

int net_proc_pin(int cpu, struct shoal_error *err)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return shoal_error_set(err, errno, "pin to CPU %d", cpu);
	return 0;
}

void net_proc_kill(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	/* SIGKILL cannot be caught: this wait ends. */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	child_forget(pid);
}

void net_proc_kill_all(void)
{
	int i;

	for (i = 0; i < CHILDREN_MAX; i++)
		if (children[i])
			net_proc_kill(children[i]);
}

int net_proc_wait(pid_t pid, int timeout_ms, int *status, struct shoal_error *err)
{
	int fd = pidfd_open(pid, 0), r, st = 0;

	if (fd < 0) {
		/* Already reaped, or not ours: nothing to wait for. */
		net_proc_kill(pid);
		return shoal_error_set(err, errno, "pidfd_open %d", (int)pid);
	}
	r = net_proc_poll_in(fd, timeout_ms);
	close(fd);
	if (r <= 0) {
		net_proc_kill(pid);
		return r ? shoal_error_set(err, r, "waiting for pid %d", (int)pid)
			 : shoal_error_set(err, ETIMEDOUT, "pid %d still running after %d ms",
					   (int)pid, timeout_ms);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	child_forget(pid);
	if (status)
		*status = st;
	return 0;
}

int net_proc_run(int timeout_ms, struct shoal_error *err, const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	pid_t pid;
	int st, r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	pid = net_proc_fork(err);
	if (pid < 0)
		return pid;
	if (pid == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	r = net_proc_wait(pid, timeout_ms, &st, err);
	if (r)
		return r;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return shoal_error_set(err, EIO, "`%s` failed (wait status 0x%x)", cmd, st);
	return 0;
}
