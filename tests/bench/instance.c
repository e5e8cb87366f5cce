// SPDX-License-Identifier: GPL-2.0
/*
 * Starting, watching and stopping one measured instance (see instance.h).
 * The parent is single-threaded, so the child may do ordinary work between
 * fork() and exec(); it still keeps to plain system calls there.
 */
#include "tests/bench/instance.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/cgroup.h"

volatile sig_atomic_t bench_interrupted;

/* Live instances, for bench_instance_kill_all() on the way out: boot-bench
 * runs one at a time, or up to --density (capped at LIVE_MAX) at once. */
#define LIVE_MAX 64 /* more than boot-bench ever keeps alive (--density is at most this) */
static struct bench_instance *live[LIVE_MAX];

int64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int bench_sleep_ms(int ms)
{
	int64_t deadline = bench_now_ns() + (int64_t)ms * 1000000;

	for (;;) {
		int64_t left = deadline - bench_now_ns();
		struct timespec ts;

		if (bench_interrupted)
			return -EINTR;
		if (left <= 0)
			return 0;
		ts.tv_sec = left / 1000000000;
		ts.tv_nsec = left % 1000000000;
		nanosleep(&ts, NULL);
	}
}

/* Milliseconds until @deadline (ns), at least 0, for poll(). */
static int ms_until(int64_t deadline)
{
	int64_t left = deadline - bench_now_ns();

	if (left <= 0)
		return 0;
	return (int)((left + 999999) / 1000000);
}

static void live_add(struct bench_instance *inst)
{
	int i;

	for (i = 0; i < LIVE_MAX; i++) {
		if (!live[i]) {
			live[i] = inst;
			return;
		}
	}
}

static void live_remove(struct bench_instance *inst)
{
	int i;

	for (i = 0; i < LIVE_MAX; i++)
		if (live[i] == inst)
			live[i] = NULL;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * The child between fork() and exec(): its own process group (so a timeout
 * can kill the whole group by its id), death with the parent, the pipes as
 * stdio, the cgroup, then an ack and a wait for the go. Messages to the
 * parent on @ctl: 'a' (ready to exec) or 'j' + errno (cannot join the cgroup).
 */
__attribute__((noreturn)) static void child_run(int ctl, int in, int out, const char *cgroup,
						char *const argv[], pid_t parent)
{
	sigset_t none;
	char go;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(out, STDERR_FILENO) < 0)
		_exit(127);
	/* exec keeps ignored signals ignored and the mask as it is: give the
	 * command the defaults it would get from a shell. */
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (cgroup[0]) {
		int ret = bench_cgroup_join_self(cgroup);

		if (ret) {
			char msg[1 + sizeof(int)] = { 'j' };

			memcpy(msg + 1, &ret, sizeof(ret));
			if (write(ctl, msg, sizeof(msg)) < 0)
				_exit(127);
			_exit(127);
		}
	}
	if (write(ctl, "a", 1) != 1 || read(ctl, &go, 1) != 1)
		_exit(127);
	execvp(argv[0], argv);
	dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int bench_instance_spawn(struct bench_instance *inst, char *const argv[], const char *cgroup_parent,
			 const char *name, int timeout_ms, struct shoal_error *err)
{
	int ctl[2] = { -1, -1 }, in[2] = { -1, -1 }, out[2] = { -1, -1 };
	struct pollfd pfd;
	char msg[1 + sizeof(int)];
	ssize_t n;
	pid_t parent = getpid();
	int ret;

	memset(inst, 0, sizeof(*inst));
	inst->pid = -1;
	inst->pidfd = inst->ctl_fd = inst->in_fd = inst->out_fd = -1;
	if (cgroup_parent) {
		ret = bench_cgroup_create(cgroup_parent, name, inst->cgroup, sizeof(inst->cgroup),
					  err);
		if (ret) {
			inst->cgroup[0] = '\0';
			return ret;
		}
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) || pipe2(in, O_CLOEXEC) ||
	    pipe2(out, O_CLOEXEC)) {
		ret = shoal_error_set(err, errno, "pipes for %s", argv[0]);
		goto fail;
	}
	inst->pid = fork();
	if (inst->pid < 0) {
		ret = shoal_error_set(err, errno, "fork for %s", argv[0]);
		goto fail;
	}
	if (inst->pid == 0)
		child_run(ctl[1], in[0], out[1], inst->cgroup, argv, parent);
	live_add(inst);
	/* Both sides set the group, so it exists whichever runs first. */
	setpgid(inst->pid, inst->pid);
	inst->ctl_fd = ctl[0];
	inst->in_fd = in[1];
	inst->out_fd = out[0];
	ctl[0] = in[1] = out[0] = -1;
	close_fd(&ctl[1]);
	close_fd(&in[0]);
	close_fd(&out[1]);
	fcntl(inst->out_fd, F_SETFL, O_NONBLOCK);
	inst->pidfd = pidfd_open(inst->pid, 0);
	if (inst->pidfd < 0) {
		ret = shoal_error_set(err, errno, "pidfd_open %d", (int)inst->pid);
		goto fail;
	}

	pfd = (struct pollfd){ .fd = inst->ctl_fd, .events = POLLIN };
	do {
		ret = poll(&pfd, 1, timeout_ms);
	} while (ret < 0 && errno == EINTR && !bench_interrupted);
	if (ret <= 0) {
		ret = shoal_error_set(err, ret == 0 ? ETIMEDOUT : EINTR,
				      "child for %s not ready after %d ms", argv[0], timeout_ms);
		goto fail;
	}
	n = read(inst->ctl_fd, msg, sizeof(msg));
	if (n == sizeof(msg) && msg[0] == 'j') {
		memcpy(&ret, msg + 1, sizeof(ret));
		ret = shoal_error_set(err, ret, "join cgroup %s", inst->cgroup);
		goto fail;
	}
	if (n != 1 || msg[0] != 'a') {
		ret = shoal_error_set(err, EPIPE, "child for %s ended before exec", argv[0]);
		goto fail;
	}
	return 0;

fail:
	close_fd(&ctl[0]);
	close_fd(&ctl[1]);
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&out[0]);
	close_fd(&out[1]);
	bench_instance_destroy(inst, NULL);
	return ret;
}

int bench_instance_release(struct bench_instance *inst, struct shoal_error *err)
{
	inst->t_release = bench_now_ns();
	if (write(inst->ctl_fd, "g", 1) != 1)
		return shoal_error_set(err, errno, "release child %d", (int)inst->pid);
	/* Our end is no longer needed; the child's closes when it execs. */
	close_fd(&inst->ctl_fd);
	return 0;
}

/* Take the first complete line out of the buffer, without its line end and
 * trailing white space (a UML console ends lines with "\r\n"). */
static bool take_line(struct bench_instance *inst, char *line, size_t len)
{
	char *nl = memchr(inst->buf, '\n', inst->len);
	size_t n, rest;

	if (!nl) {
		if (inst->len < sizeof(inst->buf))
			return false;
		nl = inst->buf + inst->len - 1; /* a line longer than the buffer: cut */
	}
	n = (size_t)(nl - inst->buf);
	rest = inst->len - n - 1;
	while (n > 0 && (inst->buf[n - 1] == '\r' || inst->buf[n - 1] == ' '))
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(line, inst->buf, n);
	line[n] = '\0';
	memmove(inst->buf, nl + 1, rest);
	inst->len = rest;
	snprintf(inst->last, sizeof(inst->last), "%s", line);
	return true;
}

/* Read what the command wrote. Returns bytes read, 0 at the end of its
 * output, -EAGAIN when nothing is there yet. */
static ssize_t read_output(struct bench_instance *inst)
{
	ssize_t n;

	if (inst->out_fd < 0)
		return 0;
	if (inst->len == sizeof(inst->buf))
		return -EAGAIN; /* take_line() first */
	n = read(inst->out_fd, inst->buf + inst->len, sizeof(inst->buf) - inst->len);
	if (n > 0) {
		inst->len += (size_t)n;
		return n;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -EAGAIN;
	close_fd(&inst->out_fd);
	return 0;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int bench_instance_wait_line(struct bench_instance *inst, const char *prefix, char *line,
			     size_t len, int timeout_ms, struct shoal_error *err)
{
	int64_t deadline = bench_now_ns() + (int64_t)timeout_ms * 1000000;
	int64_t t_read = 0;

	for (;;) {
		struct pollfd pfd;
		ssize_t n;

		while (take_line(inst, line, len)) {
			if (starts_with(line, prefix)) {
				if (!inst->t_ready)
					inst->t_ready = t_read ? t_read : bench_now_ns();
				return 0;
			}
		}
		if (inst->out_fd < 0)
			return shoal_error_set(
				err, EPIPE, "pid %d ended its output before '%s' (last line: '%s')",
				(int)inst->pid, prefix, inst->last);
		if (bench_interrupted)
			return shoal_error_set(err, EINTR, "interrupted");
		if (bench_now_ns() >= deadline)
			return shoal_error_set(err, ETIMEDOUT,
					       "pid %d, %d ms waiting for '%s' (last line: '%s')",
					       (int)inst->pid, timeout_ms, prefix, inst->last);
		pfd = (struct pollfd){ .fd = inst->out_fd, .events = POLLIN };
		if (poll(&pfd, 1, ms_until(deadline)) <= 0)
			continue;
		n = read_output(inst);
		if (n > 0)
			t_read = bench_now_ns();
	}
}

/* The command has exited (its pidfd is readable): reap it. */
static void reap(struct bench_instance *inst)
{
	if (inst->reaped || inst->pid <= 0)
		return;
	if (waitpid(inst->pid, &inst->status, WNOHANG) == inst->pid)
		inst->reaped = true;
}

int bench_instance_stop(struct bench_instance *inst, const char *prefix, char *line, size_t len,
			int timeout_ms, struct shoal_error *err)
{
	int64_t deadline;
	char scratch[256];

	if (line && len)
		line[0] = '\0';
	inst->t_stop = bench_now_ns();
	deadline = inst->t_stop + (int64_t)timeout_ms * 1000000;
	/* EPIPE here means it already went away; the wait below sorts it out. */
	if (write(inst->in_fd, "go\n", 3) < 0 && errno != EPIPE)
		return shoal_error_set(err, errno, "write to pid %d", (int)inst->pid);

	while (!inst->reaped) {
		struct pollfd pfd[2] = {
			{ .fd = inst->pidfd, .events = POLLIN },
			{ .fd = inst->out_fd, .events = POLLIN },
		};

		if (bench_interrupted)
			return shoal_error_set(err, EINTR, "interrupted");
		if (bench_now_ns() >= deadline)
			return shoal_error_set(err, ETIMEDOUT, "pid %d, %d ms waiting for its exit",
					       (int)inst->pid, timeout_ms);
		if (poll(pfd, inst->out_fd >= 0 ? 2 : 1, ms_until(deadline)) <= 0)
			continue;
		if (pfd[0].revents) {
			inst->t_exit = bench_now_ns();
			reap(inst);
		}
		/* Keep the pipe drained so the command never blocks writing;
		 * after the exit this reads its last lines. */
		do {
			while (take_line(inst, scratch, sizeof(scratch)))
				if (prefix && line && starts_with(scratch, prefix))
					snprintf(line, len, "%s", scratch);
		} while (read_output(inst) > 0);
	}
	return 0;
}

int bench_instance_pids(struct bench_instance *inst, pid_t *pids, int max)
{
	if (inst->cgroup[0])
		return bench_cgroup_pids(inst->cgroup, pids, max, NULL);
	if (max < 1 || inst->reaped)
		return 0;
	pids[0] = inst->pid;
	return 1;
}

void bench_instance_kill(struct bench_instance *inst)
{
	struct pollfd pfd;

	if (inst->pid > 0 && !inst->reaped) {
		kill(-inst->pid, SIGKILL);
		kill(inst->pid, SIGKILL);
	}
	if (inst->cgroup[0])
		bench_cgroup_kill(inst->cgroup);
	if (inst->pid <= 0 || inst->reaped)
		return;
	/* SIGKILL cannot be ignored, but a process in the middle of an
	 * uninterruptible wait takes its time: bounded, like every wait. */
	pfd = (struct pollfd){ .fd = inst->pidfd, .events = POLLIN };
	if (inst->pidfd < 0 || poll(&pfd, 1, 5000) > 0)
		waitpid(inst->pid, &inst->status, 0);
	else
		fprintf(stderr, "boot-bench: pid %d did not die within 5 s of SIGKILL\n",
			(int)inst->pid);
	inst->reaped = true;
}

int bench_instance_destroy(struct bench_instance *inst, struct shoal_error *err)
{
	int ret = 0;

	if (inst->pid > 0 && !inst->reaped)
		bench_instance_kill(inst);
	close_fd(&inst->pidfd);
	close_fd(&inst->ctl_fd);
	close_fd(&inst->in_fd);
	close_fd(&inst->out_fd);
	live_remove(inst);
	if (inst->cgroup[0]) {
		ret = bench_cgroup_remove(inst->cgroup, 2000, err);
		inst->cgroup[0] = '\0';
	}
	inst->pid = -1;
	return ret;
}

void bench_instance_kill_all(void)
{
	int i;

	for (i = 0; i < LIVE_MAX; i++)
		if (live[i])
			bench_instance_destroy(live[i], NULL);
}
